"""Trial machinery of the cognitive tasks: the batch container, periods, input noise,
targets and masks, and the checks of the parameters every generator shares.

Conventions follow neurogym (Molano-Mazon et al.):

- **Inputs**: channel 0 is the fixation cue (1 until the response period, then 0);
  the other channels carry the stimuli.
- **Outputs**: channel 0 is the fixation output (target 1 until the response period,
  then 0); the other channels are the choices (target 1 for the correct one during the
  response period, 0 otherwise). Ready-set-go has one "go" output instead of choices.
- **Mask**: 1 where the output is scored, 0 during a grace period at the start of the
  response (the network needs time to commit) and after the end of a trial (trials with
  a shorter random timing are padded to the batch length).
- **Noise**: stimulus channels receive Gaussian noise of standard deviation
  `sigma / sqrt(dt)` per sample (dt in ms), neurogym's convention: the same `sigma`
  gives the same evidence per unit of time at any `dt` (`noise_std`).
- **Timing**: every duration is in milliseconds and is turned into
  `round(duration / dt)` steps (`steps`); `TaskBatch.epochs` gives each period's start
  and end step per trial (`periods`).

A generator writes one trial as a function of a key (`trial(key) -> (inputs, targets,
mask, conditions, epochs)`, traced) and hands it to `make_batch`, which draws the batch
by `jax.vmap` over split keys: the same key gives the same batch, bit for bit.
"""

import math
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from .._checks import check_positive_int
from .._errors import InputError

__all__ = [
    "TaskBatch",
    "check_common",
    "check_key",
    "check_range",
    "check_values",
    "choose",
    "decision_io",
    "float_dtype",
    "make_batch",
    "noise_std",
    "periods",
    "steps",
    "within",
]


class TaskBatch(eqx.Module):
    """A batch of trials of a cognitive task.

    **Fields:**

    - `inputs`: shape `(B, T, n_in)`.
    - `targets`: shape `(B, T, n_out)`.
    - `mask`: shape `(B, T, n_out)`, 1 where the output is scored, else 0.
    - `conditions`: per-trial variables, each of shape `(B,)` (e.g. `coherence`,
        `choice`: the index of the correct choice output, counted after the fixation
        output).
    - `epochs`: per-trial periods, `{name: (start, end)}` in steps, each of shape `(B,)`
        (`start` inclusive, `end` exclusive); the response period is the task's
        `response_epoch` (`"decision"`; `"production"` for ready-set-go).
    - `dt`: the time step in ms.
    - `name`: the task's name in `TASKS` (its scoring rule is found by it).
    """

    inputs: Float[Array, "B T n_in"]
    targets: Float[Array, "B T n_out"]
    mask: Float[Array, "B T n_out"]
    conditions: dict
    epochs: dict
    dt: float = eqx.field(static=True)
    name: str = eqx.field(static=True)

    @property
    def n_in(self) -> int:
        return self.inputs.shape[-1]

    @property
    def n_out(self) -> int:
        return self.targets.shape[-1]

    @property
    def n_steps(self) -> int:
        return self.inputs.shape[1]

    @property
    def times(self) -> np.ndarray:
        """Start time of each step in ms, shape `(T,)`."""
        return self.dt * np.arange(self.n_steps)


# --------------------------------------------------------------------------------------
# Checks (on the host, before tracing)
# --------------------------------------------------------------------------------------


def check_key(key: Any) -> None:
    """Refuses anything but a `jax.random` key (typed, or a raw `uint32[2]`)."""
    if not (
        isinstance(key, jax.Array)
        and (jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or key.shape == (2,))
    ):
        raise InputError(f"key: got {type(key).__name__}, expected a jax.random key")


def check_range(
    name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False
) -> float:
    """A finite real number in `[lo, hi]` (open ends with `lo_open`/`hi_open`), as a float;
    the error reads `expected a number in [lo, hi]`."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (
            math.isfinite(v)
            and (v > lo if lo_open else v >= lo)
            and (v < hi if hi_open else v <= hi)
        )
    if not ok:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise InputError(f"{name}: got {value!r}, expected a number in {lb}{lo:g}, {hi:g}{rb}")
    return float(value)


def check_values(name: str, values: Any, lo: float, hi: float, *, lo_open: bool = False):
    """A non-empty sequence (or one number) of values each in `[lo, hi]`, as a float64
    array of rank 1."""
    vals = (
        np.atleast_1d(np.asarray(values, dtype=np.float64)) if not isinstance(values, str) else None
    )
    if vals is None or vals.ndim != 1 or vals.size == 0:
        raise InputError(f"{name}: got {values!r}, expected a non-empty sequence of numbers")
    for v in vals:
        check_range(name, float(v), lo, hi, lo_open=lo_open)
    return vals


def steps(name: str, ms: Any, dt: float, *, positive: bool = False) -> Int[np.ndarray, " n"]:
    """Durations in ms (a number or a sequence of options drawn per trial) as steps of
    `dt` ms.

    **Arguments:**

    - `name`: the parameter's name, for the error message.
    - `ms`: a duration (>= 0) or a non-empty sequence of them, in ms.
    - `dt`: the time step in ms.
    - `positive`: whether each duration must last at least one step.

    **Returns:** an int64 NumPy array of `round(ms / dt)`, one entry per option.

    **Raises:** `InputError` naming the parameter for a negative or non-numeric duration,
    or one shorter than a step with `positive`.
    """
    vals = check_values(name, ms, 0.0, math.inf, lo_open=False)
    out = np.rint(vals / dt).astype(np.int64)
    if positive and np.any(out < 1):
        raise InputError(
            f"{name}: got {ms!r} ms, which is less than one step at dt = {dt:g} ms; expected "
            f"a duration >= dt"
        )
    return out


def float_dtype(dtype: Any) -> jnp.dtype:
    """The float dtype of a batch: `dtype`, or JAX's default float when `None`."""
    return jnp.dtype(jnp.result_type(float) if dtype is None else dtype)


def check_common(
    key: PRNGKeyArray, batch: Any, dt: Any, sigma: Any, grace: Any, decision: Any
) -> tuple[int, float, float, int, int]:
    """The checks shared by the choice tasks.

    **Arguments:**

    - `key`: a `jax.random` key; `batch`: the number of trials (>= 1).
    - `dt`: the time step in ms, in (0, 1000]; `sigma`: input noise, in [0, 100].
    - `grace`: the unscored start of the decision period in ms, in [0, `decision`).
    - `decision`: the decision period in ms, at least one step.

    **Returns:** `(batch, dt, sigma, decision steps, grace steps)`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    check_key(key)
    batch = check_positive_int("batch", batch)
    dt = check_range("dt", dt, 0.0, 1000.0, lo_open=True)
    sigma = check_range("sigma", sigma, 0.0, 100.0)
    dec = steps("decision", decision, dt, positive=True)
    if dec.size != 1:
        raise InputError(f"decision: got {decision!r}, expected one duration in ms")
    g = steps("grace", grace, dt)
    if g.size != 1 or g[0] >= dec[0]:
        raise InputError(
            f"grace: got {grace!r} ms, expected a single duration in [0, decision) = "
            f"[0, {decision!r}) ms"
        )
    return batch, dt, sigma, int(dec[0]), int(g[0])


def noise_std(sigma: float, dt: float) -> float:
    """The per-sample standard deviation of the stimulus noise, `sigma / sqrt(dt)` (dt in
    ms): the same `sigma` gives the same evidence per unit of time at any `dt`."""
    return sigma / math.sqrt(dt)


# --------------------------------------------------------------------------------------
# Building blocks of one trial (traced)
# --------------------------------------------------------------------------------------


def periods(order: Sequence[tuple[str, int | Array]]) -> dict[str, tuple[Array, Array]]:
    """Consecutive periods from their durations in steps.

    **Arguments:**

    - `order`: `(name, duration in steps)` pairs in the order of the trial; a duration
        may be traced (a per-trial draw).

    **Returns:** `{name: (start, end)}`, int32 steps, `start` inclusive, `end` exclusive.
    """
    out, t = {}, jnp.asarray(0, dtype=jnp.int32)
    for name, n in order:
        n = jnp.asarray(n, dtype=jnp.int32)
        out[name] = (t, t + n)
        t = t + n
    return out


def within(t: Int[Array, " T"], period: tuple[Array, Array]) -> Bool[Array, " T"]:
    """Whether each step of `t` lies in `period = (start, end)` (end exclusive)."""
    return (t >= period[0]) & (t < period[1])


def choose(key: PRNGKeyArray, options: np.ndarray, dtype: Any = None) -> Array:
    """One of `options` (a NumPy array), drawn uniformly with `key`, as `dtype`."""
    opts = jnp.asarray(options) if dtype is None else jnp.asarray(options, dtype=dtype)
    return opts[jax.random.randint(key, (), 0, opts.shape[0])]


def decision_io(
    t: Int[Array, " T"],
    epochs: dict,
    response: str,
    n_choices: int,
    choice: Int[Array, ""],
    grace_steps: int,
    dtype: Any,
) -> tuple[Float[Array, " T"], Float[Array, "T n_out"], Float[Array, "T n_out"]]:
    """Fixation input, targets and mask of one trial of a choice task.

    **Arguments:**

    - `t`: the steps of the trial, `arange(T)`.
    - `epochs`: the trial's periods (`periods`).
    - `response`: the name of the response period.
    - `n_choices`: the number of choice outputs; `choice`: the correct one.
    - `grace_steps`: unscored steps at the start of the response period.
    - `dtype`: the float dtype.

    **Returns:** `(fixation input (T,), targets (T, 1 + n_choices), mask (T, 1 +
    n_choices))`: fixation 1 before the response period; the correct choice 1 during it;
    the mask 0 in the grace period and after the response period.
    """
    before = t < epochs[response][0]
    in_resp = within(t, epochs[response])
    end = epochs[response][1]
    fix_in = before.astype(dtype)
    fix_out = before.astype(dtype)
    onehot = jax.nn.one_hot(choice, n_choices, dtype=dtype)
    choice_out = in_resp.astype(dtype)[:, None] * onehot[None, :]
    targets = jnp.concatenate([fix_out[:, None], choice_out], axis=1)
    grace = in_resp & (t < epochs[response][0] + grace_steps)
    m = ((t < end) & ~grace).astype(dtype)
    mask = jnp.broadcast_to(m[:, None], targets.shape)
    return fix_in, targets, mask


def make_batch(
    name: str, key: PRNGKeyArray, batch: int, trial_fn: Callable, dt: float
) -> TaskBatch:
    """A batch of `batch` trials, `jax.vmap(trial_fn)` over `jax.random.split(key, batch)`.

    **Arguments:**

    - `name`: the task's registered name.
    - `key`: a `jax.random` key; `batch`: the number of trials.
    - `trial_fn`: `key -> (inputs (T, n_in), targets (T, n_out), mask (T, n_out),
        conditions {name: scalar}, epochs {name: (start, end)})`.
    - `dt`: the time step in ms.

    **Returns:** a `TaskBatch` (integer conditions as int32).
    """
    keys = jax.random.split(key, batch)
    inputs, targets, mask, conditions, epochs = jax.vmap(trial_fn)(keys)
    conditions = {
        k: v.astype(jnp.int32) if jnp.issubdtype(v.dtype, jnp.integer) else v
        for k, v in conditions.items()
    }
    return TaskBatch(inputs, targets, mask, conditions, epochs, float(dt), name)
