"""Tasks that hold a stimulus across a delay: delayed match-to-sample and parametric
working memory, each registered with `ChoiceScoring` (the choice output largest at the
end of the decision period)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._errors import InputError
from ._registry import Task, register_task
from ._scoring import ChoiceScoring
from ._trials import (
    TaskBatch,
    check_common,
    check_range,
    choose,
    decision_io,
    float_dtype,
    make_batch,
    noise_std,
    periods,
    steps,
    within,
)

__all__ = ["delayed_match_to_sample", "working_memory"]


def _ring(theta, n: int, dtype):
    pref = jnp.arange(n, dtype=dtype) * (2 * math.pi / n)
    return (jnp.cos(theta - pref) + 1) / 2


def delayed_match_to_sample(
    key: PRNGKeyArray,
    batch,
    *,
    dt=20.0,
    dim_ring=2,
    sigma=1.0,
    fixation=300.0,
    sample=500.0,
    delay=1000.0,
    test=500.0,
    decision=300.0,
    grace=100.0,
    dtype=None,
) -> TaskBatch:
    r"""Delayed match-to-sample (neurogym's `DelayMatchSample`).

    A sample direction, drawn from `dim_ring` directions evenly spaced on the circle, is
    shown, then withheld over a delay; a test direction follows, equal to the sample
    (match, probability 1/2) or opposite to it (non-match, the sample + pi). The network
    reports match or non-match.

    Timing (ms): fixation `fixation` | sample `sample` | delay `delay` (one value, or
    options drawn per trial) | test `test` | decision `decision` (first `grace` ms
    unscored). Trials with shorter delays are padded (mask 0 after the decision).

    - Inputs `(B, T, 1 + dim_ring)`: fixation; a ring of `dim_ring` channels,
        $(\cos(\theta - \phi_k) + 1)/2$ for preferred directions $\phi_k$, plus noise,
        during sample and test.
    - Outputs `(B, T, 3)`: fixation; match (0), non-match (1).
    - Conditions: `sample` and `test` (direction index in 0..dim_ring-1 for the sample;
        angle in radians for both: `sample_angle`, `test_angle`), `match` (1/0),
        `choice` (0 match, 1 non-match), `delay` (ms).

    **Arguments:**

    - `key`: a `jax.random` key; `batch`: number of trials.
    - `dt`: time step in ms, in (0, 1000].
    - `dim_ring`: the number of directions, an even integer >= 2 (so that the opposite
        direction is on the ring).
    - `sigma`: input noise, in [0, 100].
    - `fixation`, `sample`, `delay`, `test`, `decision`, `grace`: durations in ms (>= 0;
        `delay` one value or options drawn per trial; sample, test and decision at least
        one step; grace < decision).
    - `dtype`: float dtype (default JAX's default float).

    **Returns:** a `TaskBatch`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    batch, dt, sigma, n_dec, n_grace = check_common(key, batch, dt, sigma, grace, decision)
    if (
        isinstance(dim_ring, bool)
        or not isinstance(dim_ring, (int, np.integer))
        or dim_ring < 2
        or dim_ring % 2
    ):
        raise InputError(f"dim_ring: got {dim_ring!r}, expected an even integer >= 2")
    dim_ring = int(dim_ring)
    n_fix = int(steps("fixation", fixation, dt)[0])
    n_sample = int(steps("sample", sample, dt, positive=True)[0])
    n_delays = steps("delay", delay, dt)
    n_test = int(steps("test", test, dt, positive=True)[0])
    T = n_fix + n_sample + int(n_delays.max()) + n_test + n_dec
    dtype = float_dtype(dtype)
    std = noise_std(sigma, dt)

    def trial(k):
        ks, km, kd, kn = jax.random.split(k, 4)
        idx = jax.random.randint(ks, (), 0, dim_ring)
        match = jax.random.randint(km, (), 0, 2)
        n_delay = choose(kd, n_delays.astype(np.int32))
        th_s = idx.astype(dtype) * (2 * math.pi / dim_ring)
        th_t = jnp.where(match == 1, th_s, jnp.mod(th_s + math.pi, 2 * math.pi))
        choice = 1 - match
        t = jnp.arange(T, dtype=jnp.int32)
        ep = periods(
            [
                ("fixation", n_fix),
                ("sample", n_sample),
                ("delay", n_delay),
                ("test", n_test),
                ("decision", n_dec),
            ]
        )
        fix_in, targets, mask = decision_io(t, ep, "decision", 2, choice, n_grace, dtype)
        on_s = within(t, ep["sample"]).astype(dtype)[:, None]
        on_t = within(t, ep["test"]).astype(dtype)[:, None]
        noise = std * jax.random.normal(kn, (T, dim_ring), dtype=dtype)
        stim = on_s * (_ring(th_s, dim_ring, dtype)[None] + noise) + on_t * (
            _ring(th_t, dim_ring, dtype)[None] + noise
        )
        inputs = jnp.concatenate([fix_in[:, None], stim], axis=1)
        cond = {
            "sample": idx,
            "sample_angle": th_s,
            "test_angle": th_t,
            "match": match,
            "choice": choice,
            "delay": n_delay.astype(dtype) * dt,
        }
        return inputs, targets, mask, cond, ep

    return make_batch("delayed_match_to_sample", key, batch, trial, dt)


def working_memory(
    key: PRNGKeyArray,
    batch,
    *,
    dt=20.0,
    frequency_pairs=((18, 10), (22, 14), (26, 18), (30, 22), (34, 26)),
    sigma=1.0,
    fixation=300.0,
    f1=500.0,
    delay=1000.0,
    f2=500.0,
    decision=300.0,
    grace=100.0,
    dtype=None,
) -> TaskBatch:
    r"""Parametric working memory across a delay (Romo et al. 1999; neurogym's
    `DelayComparison`).

    Two vibration frequencies f1 and f2 are presented, separated by a delay; the network
    reports whether f1 > f2. Each trial draws a pair from `frequency_pairs` and its
    order at random. The delay is the working-memory load: make it longer to demand
    longer memory.

    Timing (ms): fixation `fixation` | f1 `f1` | delay `delay` (one value or options per
    trial) | f2 `f2` | decision `decision` (first `grace` ms unscored).

    - Inputs `(B, T, 2)`: fixation; the stimulus, a frequency f coded as
        $(f - \bar f) / \Delta$ with $\bar f$, $\Delta$ the centre and half-range of all
        frequencies (so in [-1, 1]), plus noise, during f1 and f2.
    - Outputs `(B, T, 3)`: fixation; f1 > f2 (0), f1 < f2 (1).
    - Conditions: `f1`, `f2` (Hz), `choice`, `delay` (ms).

    **Arguments:**

    - `key`: a `jax.random` key; `batch`: number of trials.
    - `dt`: time step in ms, in (0, 1000].
    - `frequency_pairs`: the `(f1, f2)` pairs (Hz, two distinct positive frequencies in
        each) drawn uniformly.
    - `sigma`: input noise, in [0, 100].
    - `fixation`, `f1`, `delay`, `f2`, `decision`, `grace`: durations in ms (>= 0;
        `delay` one value or options drawn per trial; f1, f2 and decision at least one
        step; grace < decision).
    - `dtype`: float dtype (default JAX's default float).

    **Returns:** a `TaskBatch`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    batch, dt, sigma, n_dec, n_grace = check_common(key, batch, dt, sigma, grace, decision)
    pairs = np.asarray(frequency_pairs, dtype=np.float64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] < 1:
        raise InputError(
            f"frequency_pairs: got {frequency_pairs!r}, expected a sequence of (f1, f2) pairs"
        )
    for f in pairs.ravel():
        check_range("frequency_pairs", float(f), 0.0, 1000.0, lo_open=True)
    if np.any(pairs[:, 0] == pairs[:, 1]):
        raise InputError(
            f"frequency_pairs: got {frequency_pairs!r}, expected two different frequencies in each pair"
        )
    n_fix = int(steps("fixation", fixation, dt)[0])
    n_f1 = int(steps("f1", f1, dt, positive=True)[0])
    n_delays = steps("delay", delay, dt)
    n_f2 = int(steps("f2", f2, dt, positive=True)[0])
    T = n_fix + n_f1 + int(n_delays.max()) + n_f2 + n_dec
    dtype = float_dtype(dtype)
    std = noise_std(sigma, dt)
    centre = float(pairs.max() + pairs.min()) / 2
    half = max(float(pairs.max() - pairs.min()) / 2, 1e-12)

    def trial(k):
        kp, ko, kd, kn = jax.random.split(k, 4)
        pair = jnp.asarray(pairs, dtype=dtype)[jax.random.randint(kp, (), 0, pairs.shape[0])]
        flip = jax.random.randint(ko, (), 0, 2)
        fa = jnp.where(flip == 1, pair[1], pair[0])
        fb = jnp.where(flip == 1, pair[0], pair[1])
        choice = (fa < fb).astype(jnp.int32)
        n_delay = choose(kd, n_delays.astype(np.int32))
        t = jnp.arange(T, dtype=jnp.int32)
        ep = periods(
            [
                ("fixation", n_fix),
                ("f1", n_f1),
                ("delay", n_delay),
                ("f2", n_f2),
                ("decision", n_dec),
            ]
        )
        fix_in, targets, mask = decision_io(t, ep, "decision", 2, choice, n_grace, dtype)
        on1 = within(t, ep["f1"]).astype(dtype)
        on2 = within(t, ep["f2"]).astype(dtype)
        noise = std * jax.random.normal(kn, (T,), dtype=dtype)
        stim = on1 * ((fa - centre) / half + noise) + on2 * ((fb - centre) / half + noise)
        inputs = jnp.stack([fix_in, stim], axis=1)
        cond = {"f1": fa, "f2": fb, "choice": choice, "delay": n_delay.astype(dtype) * dt}
        return inputs, targets, mask, cond, ep

    return make_batch("working_memory", key, batch, trial, dt)


register_task(Task("delayed_match_to_sample", delayed_match_to_sample, ChoiceScoring()))
register_task(Task("working_memory", working_memory, ChoiceScoring()))
