"""Recordings with a known answer: an ARU of known time constants, driven by a random
stimulus, emits Poisson spikes or noisy signals (ground truth for `fit_recording`)."""

from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_choice, check_int, check_nonnegative, check_positive, check_type
from .._errors import InputError
from ..models import ARU
from ..recordings import KINDS, Recording
from ._observed import ObservedARU


class SyntheticRecording(NamedTuple):
    """What `synthetic_recording` returns.

    **Fields:**

    - `recording`: the `Recording` (counts or signals, with the stimulus
        `(trials, time, n_in)` as inputs; the burn-in is not recorded).
    - `teacher`: the `ObservedARU` that produced it (data-constrained: neuron i is hidden
        unit i), with `dt = bin_ms`.
    - `tau_s_ms`: the teacher's `tau_s` in milliseconds.
    - `tau_r_ms`: the teacher's `tau_r` in milliseconds.
    - `truth`: `(trials, time, neurons)` the rates in Hz behind the counts, or the
        noiseless signals.
    - `trial_drive`: `(trials, neurons)` each trial's kick to the current on the last
        burn-in bin (`initial_sd > 0`), else `None`.
    """

    recording: Recording
    teacher: ObservedARU
    tau_s_ms: float
    tau_r_ms: float
    truth: np.ndarray
    trial_drive: np.ndarray | None = None


def synthetic_recording(
    key: Any,
    *,
    kind: str = "counts",
    n_neurons: int = 30,
    n_trials: int = 100,
    n_bins: int = 200,
    bin_ms: float = 5.0,
    tau_s_ms: float = 20.0,
    tau_r_ms: float = 50.0,
    n_in: int = 3,
    stimulus_bins: int = 10,
    stimulus_sd: float = 4.0,
    mean_rate_hz: float = 25.0,
    rate_scale_hz: float = 60.0,
    noise_sd: float = 0.1,
    burn_in_ms: float = 200.0,
    self_connections: bool = False,
    initial_sd: float = 0.0,
) -> SyntheticRecording:
    r"""A recording of a known ARU.

    The teacher is an `ARU(n_in, n_neurons, ...)` with global time constants `tau_s_ms`,
    `tau_r_ms`, `dt = bin_ms`, sigmoid activation and the default random weights (no
    self-connections unless `self_connections`, as `fit_recording` assumes); each
    recorded neuron is one hidden unit. Its stimulus is Gaussian white noise of standard
    deviation `stimulus_sd`, held for `stimulus_bins` bins, preceded by `burn_in_ms` of
    zero input that is not recorded. Counts are Poisson with
    $\text{rate}_\text{Hz} = \text{softplus}(\text{mean\_rate} + \text{rate\_scale}\,(r - 1/2))$;
    signals are $r - 1/2$ plus Gaussian noise of standard deviation `noise_sd`.
    With `initial_sd > 0` every trial starts from its own state: on the last burn-in bin
    (at least one) each unit's current gets a trial's own Gaussian kick of standard
    deviation `initial_sd` (`trial_drive`, `z_j` of the per-trial initial states of
    `ObservedARU`).

    **Arguments:**

    - `key`: a `jax.random` key (the teacher's weights, the stimulus, the noise and the
        trials' kicks).
    - `kind`: `"counts"` (Poisson spike counts) or `"signals"` (continuous signals).
    - `n_neurons`: recorded neurons, each one hidden unit of the teacher (at least 1).
    - `n_trials`: trials (at least 1).
    - `n_bins`: recorded bins per trial (at least 1).
    - `bin_ms`: the bin width in milliseconds, the teacher's `dt` (positive).
    - `tau_s_ms`: the teacher's `tau_s` in milliseconds, more than one bin.
    - `tau_r_ms`: the teacher's `tau_r` in milliseconds, more than one bin.
    - `n_in`: stimulus channels (at least 1).
    - `stimulus_bins`: the bins each stimulus value is held for (at least 1).
    - `stimulus_sd`: the stimulus's standard deviation (non-negative).
    - `mean_rate_hz`: counts: the rate in Hz at `r = 1/2` (positive).
    - `rate_scale_hz`: counts: the rate's gain in Hz per unit of `r` (non-negative).
    - `noise_sd`: signals: the standard deviation of the additive Gaussian noise
        (positive).
    - `burn_in_ms`: milliseconds of zero input run before each trial and not recorded,
        rounded up to bins (non-negative).
    - `self_connections`: `True` lets the teacher's recurrent weights connect a unit to
        itself (default `False`).
    - `initial_sd`: the standard deviation of each trial's kick to the current on the
        last burn-in bin (non-negative; 0, the default: every trial starts from the
        state the burn-in settles).

    **Returns:** a `SyntheticRecording`.

    **Raises:** `InputError` for bad sizes or values.
    """
    check_choice("kind", kind, KINDS)
    n_neurons, n_trials, n_bins, n_in = (
        check_int(n, v, 1)
        for n, v in (
            ("n_neurons", n_neurons),
            ("n_trials", n_trials),
            ("n_bins", n_bins),
            ("n_in", n_in),
        )
    )
    stimulus_bins = check_int("stimulus_bins", stimulus_bins, 1)
    bin_ms = check_positive("bin_ms", bin_ms)
    for name, v in (("tau_s_ms", tau_s_ms), ("tau_r_ms", tau_r_ms)):
        if check_positive(name, v) <= bin_ms:
            raise InputError(f"{name}: got {v:g}, expected more than one bin (bin_ms = {bin_ms:g})")
    stimulus_sd = check_nonnegative("stimulus_sd", stimulus_sd)
    mean_rate_hz = check_positive("mean_rate_hz", mean_rate_hz)
    rate_scale_hz = check_nonnegative("rate_scale_hz", rate_scale_hz)
    noise_sd = check_positive("noise_sd", noise_sd)
    burn_in = int(np.ceil(check_nonnegative("burn_in_ms", burn_in_ms) / bin_ms - 1e-9))
    initial_sd = check_nonnegative("initial_sd", initial_sd)
    if initial_sd > 0:
        burn_in = max(burn_in, 1)
    k_aru, k_obs, k_x, k_noise = jax.random.split(key, 4)
    check_type("self_connections", self_connections, bool, "True or False")
    aru = ARU(
        n_in,
        n_neurons,
        n_neurons,
        tau_s=tau_s_ms,
        tau_r=tau_r_ms,
        dt=bin_ms,
        self_connections=self_connections,
        key=k_aru,
    )
    if kind == "counts":
        center, scale = (
            mean_rate_hz + np.log(-np.expm1(-mean_rate_hz)),
            rate_scale_hz,
        )  # softplus^-1
    else:
        center, scale = 0.0, 1.0
    teacher = ObservedARU(
        aru,
        n_neurons,
        observed="units",
        center=center,
        scale=scale,
        n_trials=n_trials if initial_sd > 0 else None,
        key=k_obs,
    )
    n_steps = -(-n_bins // stimulus_bins)
    x = stimulus_sd * jax.random.normal(k_x, (n_trials, n_steps, n_in))
    x = jnp.repeat(x, stimulus_bins, axis=1)[:, :n_bins]
    xb = jnp.concatenate([jnp.zeros((n_trials, burn_in, n_in), x.dtype), x], axis=1)
    trial_drive = None
    if initial_sd > 0:
        k_x, k_z = jax.random.split(k_x)
        z = initial_sd * jax.random.normal(k_z, (n_trials, n_neurons), x.dtype)
        teacher = eqx.tree_at(lambda m: m.trial_drive, teacher, z)
        channel = (
            jnp.zeros(xb.shape[:2] + (1,), x.dtype)
            .at[:, burn_in - 1, 0]
            .set(jnp.arange(1, n_trials + 1, dtype=x.dtype))
        )
        xb = jnp.concatenate([xb, channel], axis=-1)
        trial_drive = np.asarray(z)
    from .._solve import simulate

    y = np.asarray(simulate(teacher, xb).outputs)[:, burn_in:]
    if kind == "counts":
        rate = np.asarray(jax.nn.softplus(y))
        counts = np.asarray(jax.random.poisson(k_noise, jnp.asarray(rate * bin_ms / 1000.0)))
        rec = Recording.from_arrays(counts=counts, bin_ms=bin_ms, inputs=np.asarray(x))
        truth = rate
    else:
        signals = y + noise_sd * np.asarray(jax.random.normal(k_noise, y.shape))
        rec = Recording.from_arrays(signals=signals, bin_ms=bin_ms, inputs=np.asarray(x))
        truth = y
    return SyntheticRecording(rec, teacher, float(tau_s_ms), float(tau_r_ms), truth, trial_drive)
