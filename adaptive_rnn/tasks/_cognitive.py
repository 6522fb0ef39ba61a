"""Cognitive tasks, JAX-native: batched, deterministic per key, dt in milliseconds.

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
  gives the same evidence per unit of time at any `dt`.
- **Timing**: every duration is in milliseconds and is turned into
  `round(duration / dt)` steps; `TaskBatch.epochs` gives each period's start and end
  step per trial.

Every generator takes a `jax.random` key and a batch size; the same key gives the same
batch, bit for bit. The trials are drawn by `jax.vmap` over split keys.
"""

import inspect
import math
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._errors import InputError

__all__ = [
    "TASKS",
    "TaskBatch",
    "accuracy_by_coherence",
    "context_decision",
    "delayed_match_to_sample",
    "ideal_observer_accuracy",
    "make_task",
    "perceptual_decision",
    "psychometric_curve",
    "ready_set_go",
    "task_accuracy",
    "task_choices",
    "working_memory",
]


class TaskBatch(eqx.Module):
    """A batch of trials of a cognitive task.

    - `inputs`: shape `(B, T, n_in)`.
    - `targets`: shape `(B, T, n_out)`.
    - `mask`: shape `(B, T, n_out)`, 1 where the output is scored, else 0.
    - `conditions`: per-trial variables, each of shape `(B,)` (e.g. `coherence`,
        `choice`: the index of the correct choice output, counted after the fixation
        output).
    - `epochs`: per-trial periods, `{name: (start, end)}` in steps, each of shape `(B,)`
        (`start` inclusive, `end` exclusive); the response period is `"decision"`
        (`"production"` for ready-set-go).
    - `dt`: the time step in ms.
    - `name`: the task's name in `TASKS`.
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
# Validation
# --------------------------------------------------------------------------------------


def _check_key(key):
    if not (
        isinstance(key, jax.Array)
        and (jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or key.shape == (2,))
    ):
        raise InputError(f"key: got {type(key).__name__}, expected a jax.random key")


def _check_batch(batch) -> int:
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise InputError(f"batch: got {batch!r}, expected a positive integer")
    return int(batch)


def _check_range(name: str, value, lo: float, hi: float, *, lo_open=False, hi_open=False) -> float:
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


def _check_values(name: str, values, lo: float, hi: float, *, lo_open=False) -> np.ndarray:
    vals = (
        np.atleast_1d(np.asarray(values, dtype=np.float64)) if not isinstance(values, str) else None
    )
    if vals is None or vals.ndim != 1 or vals.size == 0:
        raise InputError(f"{name}: got {values!r}, expected a non-empty sequence of numbers")
    for v in vals:
        _check_range(name, float(v), lo, hi, lo_open=lo_open)
    return vals


def _steps(name: str, ms, dt: float, *, positive: bool = False) -> np.ndarray:
    """Durations in ms (a number or a sequence of options) -> steps (int array)."""
    vals = _check_values(name, ms, 0.0, math.inf, lo_open=False)
    steps = np.rint(vals / dt).astype(np.int64)
    if positive and np.any(steps < 1):
        raise InputError(
            f"{name}: got {ms!r} ms, which is less than one step at dt = {dt:g} ms; expected "
            f"a duration >= dt"
        )
    return steps


def _dtype(dtype):
    return jnp.dtype(jnp.result_type(float) if dtype is None else dtype)


# --------------------------------------------------------------------------------------
# Building blocks (traced, per trial)
# --------------------------------------------------------------------------------------


def _epochs(order: Sequence[tuple[str, int | Array]]) -> dict:
    """Consecutive periods from per-trial durations in steps: `{name: (start, end)}`."""
    out, t = {}, jnp.asarray(0, dtype=jnp.int32)
    for name, n in order:
        n = jnp.asarray(n, dtype=jnp.int32)
        out[name] = (t, t + n)
        t = t + n
    return out


def _within(t, ep) -> Array:
    return (t >= ep[0]) & (t < ep[1])


def _choose(key, options: np.ndarray, dtype=None) -> Array:
    opts = jnp.asarray(options) if dtype is None else jnp.asarray(options, dtype=dtype)
    return opts[jax.random.randint(key, (), 0, opts.shape[0])]


def _decision_io(t, T, epochs, response, n_choices, choice, grace_steps, dtype):
    """Fixation input, fixation + choice targets, and the mask for a choice task."""
    before = t < epochs[response][0]
    in_resp = _within(t, epochs[response])
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


def _batch(name, key, batch, trial_fn, dt) -> TaskBatch:
    keys = jax.random.split(key, batch)
    inputs, targets, mask, conditions, epochs = jax.vmap(trial_fn)(keys)
    conditions = {
        k: v.astype(jnp.int32) if jnp.issubdtype(v.dtype, jnp.integer) else v
        for k, v in conditions.items()
    }
    return TaskBatch(inputs, targets, mask, conditions, epochs, float(dt), name)


def _decision_timing(coherences, fixation, stimulus, delay, n_dec, dt, sigma, dtype):
    """The checked coherences, epoch lengths (steps), trial length, dtype and per-step
    input noise std shared by the two decision tasks."""
    cohs = _check_values("coherences", coherences, 0.0, 100.0)
    n_fix = int(_steps("fixation", fixation, dt)[0])
    n_stim = int(_steps("stimulus", stimulus, dt, positive=True)[0])
    n_delay = int(_steps("delay", delay, dt)[0])
    T = n_fix + n_stim + n_delay + n_dec
    return cohs, n_fix, n_stim, n_delay, T, _dtype(dtype), sigma / math.sqrt(dt)


def _check_common(key, batch, dt, sigma, grace, decision):
    _check_key(key)
    batch = _check_batch(batch)
    dt = _check_range("dt", dt, 0.0, 1000.0, lo_open=True)
    sigma = _check_range("sigma", sigma, 0.0, 100.0)
    dec = _steps("decision", decision, dt, positive=True)
    if dec.size != 1:
        raise InputError(f"decision: got {decision!r}, expected one duration in ms")
    g = _steps("grace", grace, dt)
    if g.size != 1 or g[0] >= dec[0]:
        raise InputError(
            f"grace: got {grace!r} ms, expected a single duration in [0, decision) = "
            f"[0, {decision!r}) ms"
        )
    return batch, dt, sigma, int(dec[0]), int(g[0])


# --------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------


def perceptual_decision(
    key: PRNGKeyArray,
    batch,
    *,
    dt=20.0,
    coherences=(0.0, 3.2, 6.4, 12.8, 25.6, 51.2),
    sigma=1.0,
    fixation=100.0,
    stimulus=800.0,
    delay=0.0,
    decision=300.0,
    grace=100.0,
    dtype=None,
) -> TaskBatch:
    r"""Perceptual decision making (random-dot motion, Britten et al. 1992; neurogym's
    `PerceptualDecisionMaking`).

    Two stimulus channels carry noisy evidence for "left" and "right"; after the
    stimulus (and an optional delay) the fixation cue goes off and the network must
    report the stronger one.

    Timing (ms): fixation `fixation` | stimulus `stimulus` | delay `delay` | decision
    `decision` (the first `grace` ms unscored).

    - Inputs `(B, T, 3)`: fixation; stimulus left, stimulus right, with means
        $(1 \mp c/100)/2$ for coherence $c$ towards the correct side (and
        $(1 \pm c/100)/2$ on the correct channel), plus noise `sigma / sqrt(dt)`,
        during the stimulus period only.
    - Outputs `(B, T, 3)`: fixation; choice left (0), choice right (1).
    - Conditions: `coherence` (%, >= 0), `choice` (0 left, 1 right),
        `signed_coherence` (+ right, - left).

    **Arguments:**

    - `key`: a `jax.random` key; `batch`: number of trials.
    - `dt`: time step in ms, in (0, 1000].
    - `coherences`: the coherences (%) drawn uniformly, each in [0, 100].
    - `sigma`: input noise, in [0, 100].
    - `fixation`, `stimulus`, `delay`, `decision`, `grace`: durations in ms (>= 0;
        stimulus and decision at least one step; grace < decision).
    - `dtype`: float dtype (default JAX's default float).

    **Returns:** a `TaskBatch` with `T = (fixation + stimulus + delay + decision) / dt`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    batch, dt, sigma, n_dec, n_grace = _check_common(key, batch, dt, sigma, grace, decision)
    cohs, n_fix, n_stim, n_delay, T, dtype, std = _decision_timing(
        coherences, fixation, stimulus, delay, n_dec, dt, sigma, dtype
    )

    def trial(k):
        kc, kg, kn = jax.random.split(k, 3)
        coh = _choose(kc, cohs, dtype)
        choice = jax.random.randint(kg, (), 0, 2)
        t = jnp.arange(T, dtype=jnp.int32)
        ep = _epochs(
            [("fixation", n_fix), ("stimulus", n_stim), ("delay", n_delay), ("decision", n_dec)]
        )
        fix_in, targets, mask = _decision_io(t, T, ep, "decision", 2, choice, n_grace, dtype)
        sign = jnp.where(choice == 1, 1.0, -1.0).astype(dtype)
        means = jnp.stack([(1 - sign * coh / 100) / 2, (1 + sign * coh / 100) / 2])
        on = _within(t, ep["stimulus"]).astype(dtype)[:, None]
        stim = on * (means[None, :] + std * jax.random.normal(kn, (T, 2), dtype=dtype))
        inputs = jnp.concatenate([fix_in[:, None], stim], axis=1)
        cond = {"coherence": coh, "choice": choice, "signed_coherence": sign * coh}
        return inputs, targets, mask, cond, ep

    return _batch("perceptual_decision", key, batch, trial, dt)


def context_decision(
    key: PRNGKeyArray,
    batch,
    *,
    dt=20.0,
    coherences=(5.0, 15.0, 50.0),
    sigma=1.0,
    fixation=300.0,
    stimulus=800.0,
    delay=0.0,
    decision=300.0,
    grace=100.0,
    dtype=None,
) -> TaskBatch:
    r"""Context-dependent decision making (Mante, Sussillo, Shenoy & Newsome 2013;
    neurogym's `ContextDecisionMaking`).

    Two modalities (e.g. motion and colour) each carry evidence for left or right, with
    independent directions and coherences; a context cue says which modality to report.

    Timing (ms): fixation `fixation` | stimulus `stimulus` | delay `delay` | decision
    `decision` (first `grace` ms unscored). The context cue is on from the start of the
    trial to the end of the decision period.

    - Inputs `(B, T, 7)`: fixation; modality 1 left, right; modality 2 left, right (as in
        `perceptual_decision`, noise `sigma / sqrt(dt)`); context 1, context 2 (one-hot).
    - Outputs `(B, T, 3)`: fixation; choice left (0), right (1).
    - Conditions: `context` (0: report modality 1, 1: modality 2), `choice`,
        `coherence_1`, `coherence_2` (%), `signed_coherence_1`, `signed_coherence_2`,
        `signed_coherence` (that of the relevant modality).

    **Arguments:** as `perceptual_decision`.

    **Returns:** a `TaskBatch`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    batch, dt, sigma, n_dec, n_grace = _check_common(key, batch, dt, sigma, grace, decision)
    cohs, n_fix, n_stim, n_delay, T, dtype, std = _decision_timing(
        coherences, fixation, stimulus, delay, n_dec, dt, sigma, dtype
    )

    def trial(k):
        kc1, kc2, kg1, kg2, kx, kn = jax.random.split(k, 6)
        coh = jnp.stack([_choose(kc1, cohs, dtype), _choose(kc2, cohs, dtype)])
        sides = jnp.stack([jax.random.randint(kg1, (), 0, 2), jax.random.randint(kg2, (), 0, 2)])
        context = jax.random.randint(kx, (), 0, 2)
        choice = sides[context]
        t = jnp.arange(T, dtype=jnp.int32)
        ep = _epochs(
            [("fixation", n_fix), ("stimulus", n_stim), ("delay", n_delay), ("decision", n_dec)]
        )
        fix_in, targets, mask = _decision_io(t, T, ep, "decision", 2, choice, n_grace, dtype)
        sign = jnp.where(sides == 1, 1.0, -1.0).astype(dtype)
        means = jnp.stack([(1 - sign * coh / 100) / 2, (1 + sign * coh / 100) / 2], axis=1).reshape(
            4
        )
        on = _within(t, ep["stimulus"]).astype(dtype)[:, None]
        stim = on * (means[None, :] + std * jax.random.normal(kn, (T, 4), dtype=dtype))
        ctx_on = (t < ep["decision"][1]).astype(dtype)[:, None]
        ctx = ctx_on * jax.nn.one_hot(context, 2, dtype=dtype)[None, :]
        inputs = jnp.concatenate([fix_in[:, None], stim, ctx], axis=1)
        signed = sign * coh
        cond = {
            "context": context,
            "choice": choice,
            "coherence_1": coh[0],
            "coherence_2": coh[1],
            "signed_coherence_1": signed[0],
            "signed_coherence_2": signed[1],
            "signed_coherence": signed[context],
        }
        return inputs, targets, mask, cond, ep

    return _batch("context_decision", key, batch, trial, dt)


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

    **Arguments:** as `perceptual_decision`, and `dim_ring` (an even integer >= 2, so
    that the opposite direction is on the ring), `sample`, `delay`, `test` durations.

    **Returns:** a `TaskBatch`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    batch, dt, sigma, n_dec, n_grace = _check_common(key, batch, dt, sigma, grace, decision)
    if (
        isinstance(dim_ring, bool)
        or not isinstance(dim_ring, (int, np.integer))
        or dim_ring < 2
        or dim_ring % 2
    ):
        raise InputError(f"dim_ring: got {dim_ring!r}, expected an even integer >= 2")
    dim_ring = int(dim_ring)
    n_fix = int(_steps("fixation", fixation, dt)[0])
    n_sample = int(_steps("sample", sample, dt, positive=True)[0])
    n_delays = _steps("delay", delay, dt)
    n_test = int(_steps("test", test, dt, positive=True)[0])
    T = n_fix + n_sample + int(n_delays.max()) + n_test + n_dec
    dtype = _dtype(dtype)
    std = sigma / math.sqrt(dt)

    def trial(k):
        ks, km, kd, kn = jax.random.split(k, 4)
        idx = jax.random.randint(ks, (), 0, dim_ring)
        match = jax.random.randint(km, (), 0, 2)
        n_delay = _choose(kd, n_delays.astype(np.int32))
        th_s = idx.astype(dtype) * (2 * math.pi / dim_ring)
        th_t = jnp.where(match == 1, th_s, jnp.mod(th_s + math.pi, 2 * math.pi))
        choice = 1 - match
        t = jnp.arange(T, dtype=jnp.int32)
        ep = _epochs(
            [
                ("fixation", n_fix),
                ("sample", n_sample),
                ("delay", n_delay),
                ("test", n_test),
                ("decision", n_dec),
            ]
        )
        fix_in, targets, mask = _decision_io(t, T, ep, "decision", 2, choice, n_grace, dtype)
        on_s = _within(t, ep["sample"]).astype(dtype)[:, None]
        on_t = _within(t, ep["test"]).astype(dtype)[:, None]
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

    return _batch("delayed_match_to_sample", key, batch, trial, dt)


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

    **Arguments:** as `perceptual_decision`, and `frequency_pairs` (pairs of distinct
    positive frequencies in Hz), `f1`, `delay`, `f2` durations.

    **Returns:** a `TaskBatch`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    batch, dt, sigma, n_dec, n_grace = _check_common(key, batch, dt, sigma, grace, decision)
    pairs = np.asarray(frequency_pairs, dtype=np.float64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] < 1:
        raise InputError(
            f"frequency_pairs: got {frequency_pairs!r}, expected a sequence of (f1, f2) pairs"
        )
    for f in pairs.ravel():
        _check_range("frequency_pairs", float(f), 0.0, 1000.0, lo_open=True)
    if np.any(pairs[:, 0] == pairs[:, 1]):
        raise InputError(
            f"frequency_pairs: got {frequency_pairs!r}, expected two different frequencies in each pair"
        )
    n_fix = int(_steps("fixation", fixation, dt)[0])
    n_f1 = int(_steps("f1", f1, dt, positive=True)[0])
    n_delays = _steps("delay", delay, dt)
    n_f2 = int(_steps("f2", f2, dt, positive=True)[0])
    T = n_fix + n_f1 + int(n_delays.max()) + n_f2 + n_dec
    dtype = _dtype(dtype)
    std = sigma / math.sqrt(dt)
    centre = float(pairs.max() + pairs.min()) / 2
    half = max(float(pairs.max() - pairs.min()) / 2, 1e-12)

    def trial(k):
        kp, ko, kd, kn = jax.random.split(k, 4)
        pair = jnp.asarray(pairs, dtype=dtype)[jax.random.randint(kp, (), 0, pairs.shape[0])]
        flip = jax.random.randint(ko, (), 0, 2)
        fa = jnp.where(flip == 1, pair[1], pair[0])
        fb = jnp.where(flip == 1, pair[0], pair[1])
        choice = (fa < fb).astype(jnp.int32)
        n_delay = _choose(kd, n_delays.astype(np.int32))
        t = jnp.arange(T, dtype=jnp.int32)
        ep = _epochs(
            [
                ("fixation", n_fix),
                ("f1", n_f1),
                ("delay", n_delay),
                ("f2", n_f2),
                ("decision", n_dec),
            ]
        )
        fix_in, targets, mask = _decision_io(t, T, ep, "decision", 2, choice, n_grace, dtype)
        on1 = _within(t, ep["f1"]).astype(dtype)
        on2 = _within(t, ep["f2"]).astype(dtype)
        noise = std * jax.random.normal(kn, (T,), dtype=dtype)
        stim = on1 * ((fa - centre) / half + noise) + on2 * ((fb - centre) / half + noise)
        inputs = jnp.stack([fix_in, stim], axis=1)
        cond = {"f1": fa, "f2": fb, "choice": choice, "delay": n_delay.astype(dtype) * dt}
        return inputs, targets, mask, cond, ep

    return _batch("working_memory", key, batch, trial, dt)


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

    **Arguments:** `key`, `batch`, `dt`, `dtype` as `perceptual_decision`; `intervals`
    (ms, each > `ready`), `gain` in (0, 10], `fixation`, `ready`, `set` durations (ms),
    `tolerance` in (0, 1].

    **Returns:** a `TaskBatch` (conditions also hold the `tolerance`).

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    _check_key(key)
    batch = _check_batch(batch)
    dt = _check_range("dt", dt, 0.0, 1000.0, lo_open=True)
    gain = _check_range("gain", gain, 0.0, 10.0, lo_open=True)
    tolerance = _check_range("tolerance", tolerance, 0.0, 1.0, lo_open=True)
    n_fix = int(_steps("fixation", fixation, dt)[0])
    n_ready = int(_steps("ready", ready, dt, positive=True)[0])
    n_set = int(_steps("set", set, dt, positive=True)[0])
    ts = _check_values("intervals", intervals, float(ready), math.inf, lo_open=True)
    n_measure = np.rint(ts / dt).astype(np.int64) - n_ready
    if np.any(n_measure < 1):
        raise InputError(
            f"intervals: got {intervals!r} ms, expected intervals at least one step longer than ready = {ready} ms"
        )
    n_prod_target = np.rint(gain * ts / dt).astype(np.int64)
    T = n_fix + n_ready + int(n_measure.max()) + n_set + int(2 * n_prod_target.max())
    dtype = _dtype(dtype)

    def trial(k):
        i = jax.random.randint(k, (), 0, ts.shape[0])
        n_m = jnp.asarray(n_measure, dtype=jnp.int32)[i]
        n_p = jnp.asarray(n_prod_target, dtype=jnp.int32)[i]
        t = jnp.arange(T, dtype=jnp.int32)
        ep = _epochs(
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
            [fix, _within(t, ep["ready"]).astype(dtype), _within(t, ep["set"]).astype(dtype)],
            axis=1,
        )
        go = (_within(t, ep["production"]) & (t >= ep["production"][0] + n_p)).astype(dtype)
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

    return _batch("ready_set_go", key, batch, trial, dt)


# --------------------------------------------------------------------------------------
# Registry, accuracy, psychometric curves
# --------------------------------------------------------------------------------------

TASKS: dict[str, Callable[..., TaskBatch]] = {
    "perceptual_decision": perceptual_decision,
    "delayed_match_to_sample": delayed_match_to_sample,
    "context_decision": context_decision,
    "ready_set_go": ready_set_go,
    "working_memory": working_memory,
}


def make_task(name: str, key: PRNGKeyArray, batch: int, **params) -> TaskBatch:
    """Generates a batch of the task called `name` (a key of `TASKS`).

    **Arguments:**

    - `name`: `perceptual_decision`, `delayed_match_to_sample`, `context_decision`,
        `ready_set_go` or `working_memory`.
    - `key`: a `jax.random` key; `batch`: number of trials.
    - `params`: the task's keyword parameters (see each generator).

    **Returns:** a `TaskBatch`.

    **Raises:** `InputError` for an unknown task name, an unknown parameter (naming the
    accepted ones) or a parameter out of range (naming the parameter, the value and the
    range).
    """
    if name not in TASKS:
        raise InputError(f"task: got {name!r}, expected one of {sorted(TASKS)}")
    fn = TASKS[name]
    accepted = [p for p in inspect.signature(fn).parameters if p not in ("key", "batch")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise InputError(f"{name}: unknown parameter(s) {unknown}; expected some of {accepted}")
    return fn(key, batch, **params)


def _response_epoch(batch: TaskBatch) -> str:
    return "production" if batch.name == "ready_set_go" else "decision"


def task_choices(batch: TaskBatch, outputs) -> np.ndarray:
    """The network's choice in each trial: the choice output (after the fixation output)
    that is largest at the last step of the response period. For ready-set-go, the
    produced interval in ms (the first step of the production period where the go output
    exceeds 0.5, NaN if never).

    **Arguments:**

    - `batch`: the `TaskBatch`.
    - `outputs`: the network's outputs for it, shape `(B, T, n_out)`.

    **Returns:** a NumPy array of shape `(B,)`.
    """
    if not isinstance(batch, TaskBatch):
        raise InputError(f"batch: got {type(batch).__name__}, expected a TaskBatch")
    out = np.asarray(outputs)
    if out.shape != tuple(batch.targets.shape):
        raise InputError(f"outputs: got shape {out.shape}, expected {tuple(batch.targets.shape)}")
    start, end = (np.asarray(v) for v in batch.epochs[_response_epoch(batch)])
    B = out.shape[0]
    if batch.name == "ready_set_go":
        prod = np.full(B, np.nan)
        for b in range(B):
            seg = out[b, start[b] : end[b], 1]
            above = np.nonzero(seg > 0.5)[0]
            if above.size:
                prod[b] = above[0] * batch.dt
        return prod
    last = out[np.arange(B), end - 1, 1:]
    return np.argmax(last, axis=-1)


def task_accuracy(batch: TaskBatch, outputs) -> float:
    """Fraction of trials answered correctly: the choice at the end of the response
    period equals `conditions["choice"]`; for ready-set-go, the produced interval is
    within `tolerance` of the target production time.

    **Arguments:** as `task_choices`.

    **Returns:** a float in [0, 1].
    """
    ch = task_choices(batch, outputs)
    if batch.name == "ready_set_go":
        target = np.asarray(batch.conditions["production"])
        tol = np.asarray(batch.conditions["tolerance"])
        ok = np.abs(ch - target) <= tol * target
        return float(np.mean(np.where(np.isnan(ch), False, ok)))
    return float(np.mean(ch == np.asarray(batch.conditions["choice"])))


def psychometric_curve(
    batch: TaskBatch, outputs, *, condition: str = "signed_coherence", group: str | None = None
) -> dict:
    """P(choice = 1) (e.g. "right") as a function of a per-trial condition.

    **Arguments:**

    - `batch`, `outputs`: as `task_choices` (a choice task).
    - `condition`: the x-axis, a key of `batch.conditions` (default `signed_coherence`).
    - `group`: optionally split the curve by another condition (e.g. `context`).

    **Returns:** `{group value: (x values, P(choice = 1), number of trials)}` with the
    x values sorted; one entry keyed `None` without `group`.
    """
    if condition not in batch.conditions:
        raise InputError(
            f"condition: got {condition!r}, expected one of {sorted(batch.conditions)}"
        )
    if group is not None and group not in batch.conditions:
        raise InputError(f"group: got {group!r}, expected one of {sorted(batch.conditions)}")
    ch = task_choices(batch, outputs)
    x = np.round(np.asarray(batch.conditions[condition], dtype=np.float64), 9)
    g = np.zeros_like(x) if group is None else np.asarray(batch.conditions[group])
    out = {}
    for gv in np.unique(g):
        sel = g == gv
        xs = np.unique(x[sel])
        p = np.array([np.mean(ch[sel & (x == v)] == 1) for v in xs])
        n = np.array([np.sum(sel & (x == v)) for v in xs])
        out[None if group is None else gv.item()] = (xs, p, n)
    return out


# The decision tasks whose evidence is a coherence, and, per task, the (left, right)
# input channels of each modality (indexed by the trial's `context`; one modality for
# the perceptual task).
_EVIDENCE_CHANNELS = {
    "perceptual_decision": ((1, 2),),
    "context_decision": ((1, 2), (3, 4)),
}


def _check_coherence_task(batch) -> None:
    if not isinstance(batch, TaskBatch):
        raise InputError(f"batch: got {type(batch).__name__}, expected a TaskBatch")
    if batch.name not in _EVIDENCE_CHANNELS:
        raise InputError(
            f"batch: got a {batch.name!r} batch, expected one of {sorted(_EVIDENCE_CHANNELS)} "
            f"(a task whose evidence has a coherence)"
        )


def ideal_observer_accuracy(batch: TaskBatch) -> np.ndarray:
    r"""How often the ideal observer is right on each trial of a coherence task: no
    decision rule is right more often on average (on a finite set of trials a network
    can beat it by luck, e.g. on 0 % coherence trials).

    The stimulus channels carry the evidence plus independent Gaussian noise of equal
    variance, so the log-likelihood ratio of "right" against "left" is, for every
    coherence, proportional to the summed difference $\sum_t (x_{right} - x_{left})$ of
    the relevant modality over the stimulus period; choosing its sign is the Bayes-optimal
    decision whatever the prior over coherences. At 0 % coherence nothing beats chance.

    **Arguments:**

    - `batch`: a `perceptual_decision` or `context_decision` `TaskBatch`.

    **Returns:** a NumPy array of shape `(B,)`: 1 where the sign of the summed evidence
    gives the correct choice, 0 where it gives the wrong one, 0.5 for a tie (no evidence,
    e.g. 0 % coherence without noise: a fair guess).

    **Raises:** `InputError` for another task.
    """
    _check_coherence_task(batch)
    x = np.asarray(batch.inputs, dtype=np.float64)
    start, end = (np.asarray(v) for v in batch.epochs["stimulus"])
    t = np.arange(x.shape[1])
    on = (t[None, :] >= start[:, None]) & (t[None, :] < end[:, None])
    pairs = _EVIDENCE_CHANNELS[batch.name]
    modality = (
        np.asarray(batch.conditions["context"]) if len(pairs) > 1 else np.zeros(x.shape[0], int)
    )
    left = np.asarray([pairs[m][0] for m in modality])
    right = np.asarray([pairs[m][1] for m in modality])
    b = np.arange(x.shape[0])
    diff = x[b, :, right] - x[b, :, left]
    evidence = np.sum(np.where(on, diff, 0.0), axis=1)
    sign = np.asarray(batch.conditions["choice"]) * 2 - 1
    return np.where(evidence * sign > 0, 1.0, np.where(evidence == 0, 0.5, 0.0))


def accuracy_by_coherence(batch: TaskBatch, outputs=None, *, correct=None) -> tuple:
    """The psychometric curve of a coherence task as accuracy against coherence: the
    fraction of correct trials at each coherence of the relevant stimulus (for
    `context_decision`, the modality the context cue asks for).

    **Arguments:**

    - `batch`: a `perceptual_decision` or `context_decision` `TaskBatch`.
    - `outputs`: the network's outputs, shape `(B, T, n_out)`, scored by
        `task_choices`; or
    - `correct`: instead of `outputs`, how often each trial is right, shape `(B,)`
        (e.g. `ideal_observer_accuracy(batch)`).

    **Returns:** `(coherence, accuracy, n)`: the coherences present (%, sorted, rounded
    to 4 decimals), the mean correctness at each and the number of trials at each.

    **Raises:** `InputError` for another task, or unless exactly one of `outputs` and
    `correct` is given with the right shape.
    """
    _check_coherence_task(batch)
    B = batch.inputs.shape[0]
    if (outputs is None) == (correct is None):
        raise InputError("outputs, correct: expected exactly one of them")
    if correct is None:
        ok = (task_choices(batch, outputs) == np.asarray(batch.conditions["choice"])).astype(
            np.float64
        )
    else:
        ok = np.asarray(correct, dtype=np.float64)
        if ok.shape != (B,):
            raise InputError(f"correct: got shape {ok.shape}, expected ({B},)")
    coh = np.round(np.abs(np.asarray(batch.conditions["signed_coherence"], dtype=np.float64)), 4)
    levels = np.unique(coh)
    acc = np.array([ok[coh == c].mean() for c in levels])
    n = np.array([int(np.sum(coh == c)) for c in levels])
    return levels, acc, n
