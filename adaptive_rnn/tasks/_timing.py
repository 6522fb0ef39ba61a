"""Interval timing: ready-set-go, registered with its own rule, `IntervalScoring` (the
produced interval, when the go output first crosses 0.5, within a tolerance of the
target)."""

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Bool, Float, PRNGKeyArray

from .._checks import check_number, check_positive_int, check_type
from .._errors import InputError
from ._registry import Scoring, Task, register_task
from ._scoring import first_crossing
from ._trials import (
    TaskBatch,
    check_key,
    check_range,
    check_values,
    float_dtype,
    make_batch,
    periods,
    steps,
    within,
)

__all__ = ["IntervalScoring", "ready_set_go"]


def ready_set_go(
    key: PRNGKeyArray,
    batch,
    *,
    dt=20.0,
    intervals=(480.0, 560.0, 640.0, 720.0, 800.0),
    gain=1.0,
    fixation=100.0,
    ready=80.0,
    set=80.0,
    tolerance=0.2,
    dtype=None,
) -> TaskBatch:
    r"""Ready-set-go interval timing (Jazayeri & Shadlen 2015; neurogym's `ReadySetGo`).

    Two pulses, "ready" and "set", are separated by an interval t_s drawn from
    `intervals`; the network must produce "go" t_p = `gain` * t_s after the end of
    "set".

    Timing (ms): fixation `fixation` | ready `ready` | measure t_s - `ready` (so that the
    pulse onsets are t_s apart) | set `set` | production 2 t_p. Trials with shorter
    intervals are padded (mask 0 after the production period).

    - Inputs `(B, T, 3)`: fixation (1 until the end of set); ready pulse; set pulse.
    - Outputs `(B, T, 2)`: fixation (1 until the end of set); go (0 before t_p after set,
        1 from then to the end of production).
    - Conditions: `interval` (t_s, ms), `production` (t_p, ms).
    - Accuracy (`task_accuracy`): the produced time, the first step after set where the
        go output exceeds 0.5, is within `tolerance` * t_p of t_p.

    **Arguments:**

    - `key`: a `jax.random` key; `batch`: number of trials.
    - `dt`: time step in ms, in (0, 1000].
    - `intervals`: the intervals t_s (ms, each at least one step longer than `ready`)
        drawn uniformly.
    - `gain`: t_p / t_s, in (0, 10].
    - `fixation`, `ready`, `set`: durations in ms (ready and set at least one step).
    - `tolerance`: the relative error of the produced interval still scored right, in
        (0, 1].
    - `dtype`: float dtype (default JAX's default float).

    **Returns:** a `TaskBatch` (conditions also hold the `tolerance`).

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    check_key(key)
    batch = check_positive_int("batch", batch)
    dt = check_range("dt", dt, 0.0, 1000.0, lo_open=True)
    gain = check_range("gain", gain, 0.0, 10.0, lo_open=True)
    tolerance = check_range("tolerance", tolerance, 0.0, 1.0, lo_open=True)
    n_fix = int(steps("fixation", fixation, dt)[0])
    n_ready = int(steps("ready", ready, dt, positive=True)[0])
    n_set = int(steps("set", set, dt, positive=True)[0])
    ts = check_values("intervals", intervals, float(ready), math.inf, lo_open=True)
    n_measure = np.rint(ts / dt).astype(np.int64) - n_ready
    if np.any(n_measure < 1):
        raise InputError(
            f"intervals: got {intervals!r} ms, expected intervals at least one step longer than ready = {ready} ms"
        )
    n_prod_target = np.rint(gain * ts / dt).astype(np.int64)
    T = n_fix + n_ready + int(n_measure.max()) + n_set + int(2 * n_prod_target.max())
    dtype = float_dtype(dtype)

    def trial(k):
        i = jax.random.randint(k, (), 0, ts.shape[0])
        n_m = jnp.asarray(n_measure, dtype=jnp.int32)[i]
        n_p = jnp.asarray(n_prod_target, dtype=jnp.int32)[i]
        t = jnp.arange(T, dtype=jnp.int32)
        ep = periods(
            [
                ("fixation", n_fix),
                ("ready", n_ready),
                ("measure", n_m),
                ("set", n_set),
                ("production", 2 * n_p),
            ]
        )
        before = t < ep["production"][0]
        fix = before.astype(dtype)
        inputs = jnp.stack(
            [fix, within(t, ep["ready"]).astype(dtype), within(t, ep["set"]).astype(dtype)],
            axis=1,
        )
        go = (within(t, ep["production"]) & (t >= ep["production"][0] + n_p)).astype(dtype)
        targets = jnp.stack([fix, go], axis=1)
        m = (t < ep["production"][1]).astype(dtype)
        mask = jnp.broadcast_to(m[:, None], targets.shape)
        interval = jnp.asarray(ts, dtype=dtype)[i]
        cond = {
            "interval": interval,
            "production": n_p.astype(dtype) * dt,
            "tolerance": jnp.asarray(tolerance, dtype=dtype),
        }
        return inputs, targets, mask, cond, ep

    return make_batch("ready_set_go", key, batch, trial, dt)


# --------------------------------------------------------------------------------------
# Registry, accuracy, psychometric curves


class IntervalScoring(Scoring):
    """The rule of a timing task: the answer is the time (ms) from the start of the
    response period at which output `channel` first exceeds `threshold`
    (`first_crossing`, NaN if never); it is right when within
    `conditions["tolerance"]` times `conditions["production"]` (the target, ms) of it.

    **Arguments:**

    - `response_epoch`: the name of the response period (default `"production"`).
    - `channel`: the output that answers (default 1, "go"); `threshold`: its level
        (default 0.5).
    """

    def __init__(
        self, response_epoch: Any = "production", *, channel: Any = 1, threshold: Any = 0.5
    ):
        self.response_epoch = check_type(
            "response_epoch", response_epoch, str, "the name of a period"
        )
        self.channel = check_positive_int("channel", channel)
        self.threshold = check_number("threshold", threshold)

    def choices(self, batch: TaskBatch, outputs: Float[ArrayLike, "B T n_out"]) -> np.ndarray:
        return first_crossing(
            batch, outputs, self.response_epoch, channel=self.channel, threshold=self.threshold
        )

    def correct(self, batch: TaskBatch, choices: np.ndarray) -> Bool[np.ndarray, " B"]:
        target = np.asarray(batch.conditions["production"])
        tol = np.asarray(batch.conditions["tolerance"])
        ok = np.abs(choices - target) <= tol * target
        return np.where(np.isnan(choices), False, ok)


register_task(Task("ready_set_go", ready_set_go, IntervalScoring()))
