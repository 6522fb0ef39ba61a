r"""Time constants fitted to a recording, in milliseconds, with bootstrap confidence
intervals, beside baselines scored on the same held-out trials.

The recipe (see `docs/recordings.md`):

1. **Split.** A random `heldout_fraction` of the trials is held out; the model and the
   baselines are fitted on the rest (the *fitting trials*) and scored on the held-out
   ones.
2. **Model.** An ARU with `dt = bin_ms` (so its time constants are in ms), tied to the
   recording by a learned readout or data-constrained (each recorded neuron is the rate
   of one hidden unit, with a learned gain and offset) - `ObservedARU`. Spike counts
   are Poisson with `rate_hz = softplus(readout)` (or `exp`); signals are Gaussian
   around the readout, each channel standardised on the fitting trials (so the loss is
   the mean squared error in standard units, with the noise scale profiled out:
   $\sigma_u^2$ is then each channel's mean squared residual, reported).
3. **Initial states.** Each trial starts from the model's learned initial state and is
   preceded by `burn_in_ms` of zero input that the loss does not see, so that the state
   at the first recorded bin is settled by the dynamics rather than set by hand.
4. **Bootstrap.** Member 0 is fitted on the fitting trials (the point estimate, the
   model saved); members 1..B on resamples of them with replacement, each from a fresh
   initialisation (new weights and initial time constants drawn log-uniformly between 2
   and 16 bins). All B + 1 members are trained as one compiled ensemble
   (`fit_ensemble` with one dataset per member). The B resampled fits give the
   confidence interval (basic bootstrap on the log scale, `bootstrap_intervals`) of
   `tau_s`, `tau_r` and of the
   quantities the linearised dynamics pin down even when the pair is not:
   `tau_s + tau_r` and `tau_s * tau_r`. Where the intervals of `tau_s` and `tau_r`
   overlap, the two cannot be told apart (`exchangeable`).
5. **Baselines**, on the same held-out trials: the constant predictor, the LN model
   (one exponential filter, with a stimulus) and, per neuron, the intrinsic timescale
   of Murray et al. (2014) from the autocorrelation of its counts.
"""

import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import (
    check_choice,
    check_int,
    check_memory,
    check_nonnegative,
    check_number,
    check_optional,
    check_positive,
    check_type,
)
from .._errors import InputError
from .._solve import simulate
from ..analysis import (
    fit_constant_baseline,
    fit_ln_baseline,
    intrinsic_timescale,
    noise_scale,
    score_heldout,
)
from ..models import ARU
from ..recordings import Recording, bootstrap_indices
from ..train import LINKS, PoissonObservation, fit_ensemble, make_train_data, paper_optimiser
from ._observed import OBSERVED, ObservedARU

LOSSES = ("poisson", "gaussian")
TIME_CONSTANT_MODES = ("global", "local")
INTERVALS = ("basic", "percentile")
_KIND_OF_LOSS = {"poisson": "counts", "gaussian": "signals"}
_LOSS_OF_KIND = {"counts": "poisson", "signals": "gaussian"}
# Initial time constants of each member, drawn log-uniformly in this range (bins).
INIT_TAU_BINS = (2.0, 16.0)
# The floor of a unit's mean rate when it sets the readout's scale (Hz).
_MIN_RATE_HZ = 0.1


# --------------------------------------------------------------------------------------
# Losses (equinox modules with static fields: equal settings compile once)
# --------------------------------------------------------------------------------------


class PoissonLoss(eqx.Module):
    """The Poisson negative log-likelihood of one trial, summed over its observed bins
    and divided by `norm` (the number of bins x units of a trial, a constant)."""

    link: str = eqx.field(static=True)
    bin_ms: float = eqx.field(static=True)
    norm: float = eqx.field(static=True)

    def __call__(self, outputs, targets, mask):
        nll = PoissonObservation(self.link).nll(
            outputs, targets, mask > 0, bin_ms=self.bin_ms, reduction="sum"
        )
        return nll / self.norm


class GaussianLoss(eqx.Module):
    """Half the squared error of one trial (standard units) over its observed entries,
    divided by `norm`: the Gaussian negative log-likelihood up to the noise scale,
    which is profiled out afterwards."""

    norm: float = eqx.field(static=True)

    def __call__(self, outputs, targets, mask):
        return 0.5 * jnp.sum(jnp.where(mask > 0, (outputs - targets) ** 2, 0.0)) / self.norm


@functools.lru_cache(maxsize=32)
def recording_optimiser(learning_rate: float, n_updates: int, clip_norm: float = 10.0):
    """Adam with a cosine decay of the learning rate to 5 % over `n_updates` updates,
    gradient clipping, no weight decay (a maximum-likelihood fit). Equal arguments
    return the same object, so repeated fits share one compiled epoch."""
    schedule = optax.cosine_decay_schedule(learning_rate, max(int(n_updates), 1), alpha=0.05)
    return paper_optimiser(schedule, clip_norm=clip_norm, weight_decay=0.0)


# --------------------------------------------------------------------------------------
# Settings, checked before anything compiles
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """The checked settings of `fit_recording` (see its arguments)."""

    loss: str
    hidden: int
    time_constants: str
    observed: str
    bootstrap: int
    confidence: float
    heldout_fraction: float
    burn_in_ms: float
    epochs: int
    batch_size: int | None
    learning_rate: float
    link: str
    activation: str
    self_connections: bool
    interval: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def check_settings(
    recording: Recording,
    *,
    loss=None,
    hidden=None,
    time_constants="global",
    observed="readout",
    bootstrap=23,
    confidence=0.95,
    heldout_fraction=0.2,
    burn_in_ms=200.0,
    epochs=300,
    batch_size=None,
    learning_rate=3e-2,
    link="softplus",
    activation="sigmoid",
    self_connections=False,
    interval="basic",
) -> FitSettings:
    """Checks every setting of `fit_recording` against the recording.

    **Returns:** a `FitSettings`.

    **Raises:** `InputError` naming the setting, what it got and what was expected.
    """
    from .._activations import canonical_activation

    check_type("recording", recording, Recording, "a Recording (adaptive_rnn.recordings)")
    if loss is None:
        loss = _LOSS_OF_KIND[recording.kind]
    check_choice("loss", loss, LOSSES)
    if _KIND_OF_LOSS[loss] != recording.kind:
        raise InputError(
            f"loss: got {loss!r} for a recording of {recording.kind}; expected "
            f"{_LOSS_OF_KIND[recording.kind]!r} (Poisson needs spike counts, Gaussian continuous signals)"
        )
    check_choice("time_constants", time_constants, TIME_CONSTANT_MODES)
    check_choice("observed", observed, OBSERVED)
    hidden = recording.n_units if hidden is None else check_int("hidden", hidden, 1)
    if observed == "units" and hidden < recording.n_units:
        raise InputError(
            f"hidden: got {hidden} hidden units for {recording.n_units} recorded neurons; expected "
            f"at least {recording.n_units} with observed='units' (one hidden unit per recorded neuron)"
        )
    bootstrap = check_int("bootstrap", bootstrap, 2)
    confidence = check_number("confidence", confidence, 0, 1, low_open=True, high_open=True)
    heldout_fraction = check_number(
        "heldout_fraction", heldout_fraction, 0, 1, low_open=True, high_open=True
    )
    n_heldout = _n_heldout(recording.n_trials, heldout_fraction)
    recording.check_trials(n_heldout, resample=True)
    if recording.n_time < 2:
        raise InputError(
            f"{recording.kind}: holds {recording.n_time} time bin per trial (shape {recording.data.shape}); "
            f"expected at least 2 (time constants need a time course)"
        )
    burn_in_ms = check_nonnegative("burn_in_ms", burn_in_ms)
    epochs = check_int("epochs", epochs, 1)
    n_fit = recording.n_trials - n_heldout
    batch_size = check_optional(check_int, "batch_size", batch_size, 1, n_fit)
    learning_rate = check_positive("learning_rate", learning_rate)
    check_choice("link", link, LINKS)
    activation = canonical_activation(activation)
    check_type("self_connections", self_connections, bool, "True or False")
    check_choice("interval", interval, INTERVALS)
    return FitSettings(
        loss,
        hidden,
        time_constants,
        observed,
        bootstrap,
        confidence,
        heldout_fraction,
        burn_in_ms,
        epochs,
        batch_size,
        learning_rate,
        link,
        activation,
        self_connections,
        interval,
    )


def _n_heldout(n_trials: int, fraction: float) -> int:
    return max(1, int(round(fraction * n_trials)))


def _burn_in_bins(settings: FitSettings, bin_ms: float) -> int:
    return int(math.ceil(settings.burn_in_ms / bin_ms - 1e-9))


def _batch_size(settings: FitSettings, n_fit: int) -> int:
    # Default: about four updates per epoch (whole trials; the last partial batch of
    # each shuffled epoch is dropped).
    return settings.batch_size or max(1, n_fit // 4)


# --------------------------------------------------------------------------------------
# The plan of one recording: its split, scales, arrays and members
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Plan:
    recording: Recording
    settings: FitSettings
    fit: Recording
    heldout: Recording
    fit_trials: np.ndarray
    heldout_trials: np.ndarray
    burn_in: int
    center: np.ndarray
    scale: np.ndarray
    resamples: np.ndarray  # (B + 1, n_fit): row 0 the fitting trials in order
    models: list
    dtype: Any


def _inputs(rec: Recording, burn_in: int, dtype) -> np.ndarray:
    x = np.zeros((rec.n_trials, rec.n_time, 1)) if rec.inputs is None else rec.inputs
    pad = np.zeros((rec.n_trials, burn_in, x.shape[-1]))
    return np.concatenate([pad, x], axis=1).astype(dtype)


def _scales(fit: Recording, loss: str, link: str) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the readout's fixed center and scale: the mean rate through the inverse
    link and a modulation of the order of the mean rate (Poisson), or the channel's mean
    and standard deviation (Gaussian)."""
    n = fit.mask.sum(axis=(0, 1))
    mean = (fit.data * fit.mask).sum(axis=(0, 1)) / np.maximum(n, 1)
    if loss == "poisson":
        rate = np.maximum(mean * 1000.0 / fit.bin_ms, _MIN_RATE_HZ)
        if link == "exp":
            return np.log(rate), np.ones_like(rate)
        return rate + np.log(-np.expm1(-rate)), rate  # softplus^-1(rate), rate
    var = (((fit.data - mean) ** 2) * fit.mask).sum(axis=(0, 1)) / np.maximum(n, 1)
    sd = np.sqrt(var)
    return mean, np.where(sd > 0, sd, 1.0)


def _targets(rec: Recording, plan_center, plan_scale, loss: str, burn_in: int):
    y = rec.data if loss == "poisson" else (rec.data - plan_center) / plan_scale
    y = np.where(rec.mask, y, 0.0)
    pad = np.zeros((rec.n_trials, burn_in, rec.n_units))
    return np.concatenate([pad, y], axis=1), np.concatenate(
        [pad, rec.mask.astype(np.float64)], axis=1
    )


def _members(
    key, settings: FitSettings, rec: Recording, n_members: int, center, scale, dtype
) -> list:
    n_in = max(rec.n_in, 1)
    keys = jax.random.split(key, n_members)
    lo, hi = (math.log(b * rec.bin_ms) for b in INIT_TAU_BINS)
    models = []
    for k in keys:  # host-side construction, once per member
        k_tau, k_aru, k_obs = jax.random.split(k, 3)
        taus = np.exp(np.asarray(jax.random.uniform(k_tau, (2,), minval=lo, maxval=hi)))
        aru = ARU(
            n_in,
            settings.hidden,
            rec.n_units,
            activation=settings.activation,
            time_constants=settings.time_constants,
            tau_s=float(taus[0]),
            tau_r=float(taus[1]),
            dt=rec.bin_ms,
            dtype=dtype,
            self_connections=settings.self_connections,
            key=k_aru,
        )
        models.append(
            ObservedARU(
                aru, rec.n_units, observed=settings.observed, center=center, scale=scale, key=k_obs
            )
        )
    return models


def _plan(recording: Recording, settings: FitSettings, key, dtype) -> _Plan:
    k_split, k_boot, k_init = jax.random.split(key, 3)
    n_heldout = _n_heldout(recording.n_trials, settings.heldout_fraction)
    perm = np.asarray(jax.random.permutation(k_split, recording.n_trials))
    heldout_trials, fit_trials = np.sort(perm[:n_heldout]), np.sort(perm[n_heldout:])
    fit, heldout = recording.take(fit_trials), recording.take(heldout_trials)
    center, scale = _scales(fit, settings.loss, settings.link)
    B = settings.bootstrap
    resamples = np.concatenate(
        [np.arange(fit.n_trials)[None], np.asarray(bootstrap_indices(k_boot, fit.n_trials, B))],
        axis=0,
    )
    # Gaussian members learn in standard units (center 0, scale 1); the data's scale is
    # put back after training.
    c, s = (center, scale) if settings.loss == "poisson" else (0.0, 1.0)
    models = _members(k_init, settings, recording, B + 1, c, s, dtype)
    return _Plan(
        recording,
        settings,
        fit,
        heldout,
        fit_trials,
        heldout_trials,
        _burn_in_bins(settings, recording.bin_ms),
        center,
        scale,
        resamples,
        models,
        dtype,
    )


def _loss(plan: _Plan):
    norm = float((plan.fit.n_time + plan.burn_in) * plan.fit.n_units)
    if plan.settings.loss == "poisson":
        return PoissonLoss(plan.settings.link, plan.recording.bin_ms, norm)
    return GaussianLoss(norm)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class RecordingFit:
    """What `fit_recording` returns.

    - `model`: the point estimate (`ObservedARU`, fitted on the fitting trials); its
        readout is in data units. `to_aru()` gives it as a plain `ARU`.
    - `members`: the B bootstrap refits (`ObservedARU`).
    - `tau_s_ms`, `tau_r_ms`, `tau_sum_ms`, `tau_prod_ms2`: point estimates, `(k,)`
        with k = 1 (global) or one per hidden unit (local).
    - `boot`: name -> `(B, k)` bootstrap values of the four quantities above.
    - `ci`: name -> `(k, 2)` the `confidence` intervals `[low, high]` (`bootstrap_intervals`).
    - `exchangeable`: `(k,)` `True` where the intervals of `tau_s` and `tau_r` overlap
        (the data cannot tell which is which).
    - `autocorr`: the `IntrinsicTimescale` of every recorded unit (all trials).
    - `heldout`: scores on the held-out trials: `{"model": ..., "constant": ...,
        "ln": ... or None}` (see `score_heldout`).
    - `prediction`: `(heldout trials, time, units)` the model's prediction on the
        held-out trials: rate in Hz (counts) or the signal (signals).
    - `noise_sigma`: `(units,)` each channel's noise scale (signals), else `None`.
    - `fit_trials`, `heldout_trials`: trial indices into the recording.
    - `burn_in_bins`: zero-input bins run before each trial.
    - `settings`: the `FitSettings`; `best_loss`: `(B + 1,)` each member's best
        training loss (member 0 first); `epochs_run`: `(B + 1,)`.
    - `ln_tau_ms`: `(units,)` the LN baseline's filter time constants (with a stimulus).
    - `unit_names`: the recorded units' names.
    """

    model: ObservedARU
    members: list
    tau_s_ms: np.ndarray
    tau_r_ms: np.ndarray
    tau_sum_ms: np.ndarray
    tau_prod_ms2: np.ndarray
    boot: dict
    ci: dict
    exchangeable: np.ndarray
    autocorr: Any
    heldout: dict
    prediction: np.ndarray
    noise_sigma: np.ndarray | None
    fit_trials: np.ndarray
    heldout_trials: np.ndarray
    burn_in_bins: int
    bin_ms: float
    settings: FitSettings
    best_loss: np.ndarray
    epochs_run: np.ndarray
    ln_tau_ms: np.ndarray | None = None
    unit_names: tuple = ()

    def to_aru(self) -> ARU:
        """The point estimate as a plain `ARU` (`n_out` = recorded units), for
        `save_model` and `adaptive-rnn simulate`: run it on the inputs preceded by
        `burn_in_bins` zero bins and drop those bins; its output is the readout
        (counts: `rate_hz = softplus(output)` or `exp`; signals: the signal)."""
        return self.model.to_aru()

    def pair_ms(self) -> np.ndarray:
        """`(k, 2)` the point estimate as an unordered pair `[smaller, larger]` (the two
        roots of `t^2 - sum t + product`), for units where the pair is exchangeable."""
        return np.sort(np.stack([self.tau_s_ms, self.tau_r_ms], axis=1), axis=1)

    def summary_lines(self) -> list[str]:
        """Human-readable lines: the time constants (or, where exchangeable, the
        unordered pair and its invariants) and the held-out scores."""
        lvl = f"{100 * self.settings.confidence:g} %"
        lines = []
        k = self.tau_s_ms.shape[0]
        show = range(k) if k <= 8 else list(range(4)) + [k - 1]
        for i in show:
            who = "global" if self.settings.time_constants == "global" else f"unit {i}"
            ci = {n: self.ci[n][i] for n in self.ci}
            inv = (
                f"tau_s + tau_r = {self.tau_sum_ms[i]:.4g} ms [{ci['tau_sum_ms'][0]:.4g}, {ci['tau_sum_ms'][1]:.4g}], "
                f"tau_s * tau_r = {self.tau_prod_ms2[i]:.4g} ms^2 [{ci['tau_prod_ms2'][0]:.4g}, {ci['tau_prod_ms2'][1]:.4g}]"
            )
            if self.exchangeable[i]:
                a, b = self.pair_ms()[i]
                lines.append(
                    f"{who}: tau_s and tau_r cannot be told apart ({lvl} intervals overlap): the pair is "
                    f"{{{a:.4g}, {b:.4g}}} ms in some order; {inv}"
                )
            else:
                lines.append(
                    f"{who}: tau_s = {self.tau_s_ms[i]:.4g} ms [{ci['tau_s_ms'][0]:.4g}, {ci['tau_s_ms'][1]:.4g}], "
                    f"tau_r = {self.tau_r_ms[i]:.4g} ms [{ci['tau_r_ms'][0]:.4g}, {ci['tau_r_ms'][1]:.4g}]; {inv}"
                )
        if k > len(show):
            lines.append(f"... ({k} units; all in fit.json)")
        ac = self.autocorr.tau_ms
        if np.isfinite(ac).any():
            lines.append(
                f"autocorrelation timescale (Murray et al. 2014): median {np.nanmedian(ac):.4g} ms over "
                f"{int(np.isfinite(ac).sum())} of {ac.size} neurons"
            )
        metric = "bits_per_spike" if self.settings.loss == "poisson" else "explained_variance"
        parts = []
        for name in ("model", "ln", "constant"):
            h = self.heldout.get(name)
            if h is not None:
                parts.append(
                    f"{name} {h['loglik_per_bin']:.5g} nats/bin, {metric.replace('_', ' ')} {h[metric]:.4g}"
                )
        lines.append("held-out: " + "; ".join(parts))
        return lines

    def to_json(self) -> dict:
        """The content of `fit.json` (JSON-serialisable; NaN as `None`)."""

        def lst(a):
            return [
                None if not np.isfinite(v) else float(v)
                for v in np.asarray(a, dtype=np.float64).ravel()
            ]

        out: dict[str, Any] = {"bin_ms": self.bin_ms}
        for name in ("tau_s_ms", "tau_r_ms", "tau_sum_ms", "tau_prod_ms2"):
            out[name] = lst(getattr(self, name))
            out[name + "_ci"] = [lst(row) for row in self.ci[name]]
        out["exchangeable"] = [bool(v) for v in self.exchangeable]
        out["tau_pair_ms"] = [lst(row) for row in self.pair_ms()]
        out["confidence"] = self.settings.confidence
        out["bootstrap_samples"] = {name: [lst(row) for row in v] for name, v in self.boot.items()}
        out["autocorr_tau_ms"] = lst(self.autocorr.tau_ms)
        out["autocorr_failures"] = {
            name: reason
            for name, reason in zip(self.unit_names, self.autocorr.reasons)
            if reason is not None
        }
        out["heldout"] = {
            name: None
            if h is None
            else {k: (lst(v) if isinstance(v, list) else lst([v])[0]) for k, v in h.items()}
            for name, h in self.heldout.items()
        }
        if self.ln_tau_ms is not None:
            out["ln_tau_ms"] = lst(self.ln_tau_ms)
        if self.noise_sigma is not None:
            out["noise_sigma"] = lst(self.noise_sigma)
        out["settings"] = self.settings.to_json()
        out["burn_in_bins"] = self.burn_in_bins
        out["fit_trials"] = [int(i) for i in self.fit_trials]
        out["heldout_trials"] = [int(i) for i in self.heldout_trials]
        out["final_train_loss"] = lst(self.best_loss)
        out["output"] = (
            f"the saved model's output is the readout y after {self.burn_in_bins} zero-input burn-in bins; "
            + (
                f"rate_hz = {self.settings.link}(y)"
                if self.settings.loss == "poisson"
                else "y is the predicted signal"
            )
        )
        return out


def bootstrap_intervals(
    tau_s: Any, tau_r: Any, confidence: float = 0.95, *, point: Any = None, method: str = "basic"
) -> tuple[dict, dict, np.ndarray]:
    r"""Bootstrap confidence intervals of time constants and of their exchange
    invariants, and where the pair is exchangeable.

    With $q_\text{lo}, q_\text{hi}$ the `(1 - confidence) / 2` and `(1 + confidence) / 2`
    quantiles of the B refits (linearly interpolated) and $\hat\theta$ the point
    estimate:

    - `"percentile"`: $[q_\text{lo}, q_\text{hi}]$;
    - `"basic"` (default), on the log scale: $[\hat\theta^2 / q_\text{hi},
        \hat\theta^2 / q_\text{lo}]$, the bootstrap's estimate of the distribution of
        $\log\hat\theta - \log\theta$ turned into an interval for $\theta$. Refits on
        resampled trials share the estimator's finite-sample bias (duplicated trials add
        to it), which shifts a percentile interval by about twice the bias; the basic
        interval corrects it to first order, and on the log scale stays positive.

    The pair is `exchangeable` where the refits' own ranges (percentile intervals) of
    `tau_s` and `tau_r` overlap, or the reported intervals do: the data do not say which
    is which.

    **Arguments:**

    - `tau_s`, `tau_r`: `(B, k)` the refits' values (k = 1 global, or one per unit).
    - `confidence`: the level, in (0, 1).
    - `point`: `(tau_s, tau_r)` point estimates, each `(k,)`; required for `"basic"`.
    - `method`: `"basic"` or `"percentile"`.

    **Returns:** `(samples, intervals, exchangeable)`: `samples` and `intervals` map
    `"tau_s_ms"`, `"tau_r_ms"`, `"tau_sum_ms"`, `"tau_prod_ms2"` to the `(B, k)` values
    and to `(k, 2)` intervals `[low, high]`; `exchangeable` is `(k,)` booleans.

    **Raises:** `InputError` for mismatched shapes, fewer than 2 refits, a bad level or
    method, or `"basic"` without a positive point estimate.
    """
    confidence = check_number("confidence", confidence, 0, 1, low_open=True, high_open=True)
    check_choice("method", method, INTERVALS)
    ts = np.asarray(tau_s, dtype=np.float64)
    tr = np.asarray(tau_r, dtype=np.float64)
    if ts.ndim != 2 or ts.shape != tr.shape or ts.shape[0] < 2:
        raise InputError(
            f"tau_s, tau_r: got shapes {ts.shape} and {tr.shape}, expected equal (B, k) with B >= 2"
        )
    samples = {"tau_s_ms": ts, "tau_r_ms": tr, "tau_sum_ms": ts + tr, "tau_prod_ms2": ts * tr}
    a = (1 - confidence) / 2
    spread = {
        k: np.stack(list(np.nanquantile(v, [a, 1 - a], axis=0)), axis=-1)
        for k, v in samples.items()
    }
    if method == "percentile":
        intervals = spread
    else:
        if point is None:
            raise InputError(
                "point: missing; the basic interval needs the point estimates (tau_s, tau_r)"
            )
        ps, pr = (np.broadcast_to(np.asarray(v, dtype=np.float64), ts.shape[1:]) for v in point)
        if not (np.all(ps > 0) and np.all(pr > 0)):
            raise InputError(f"point: got {point!r}, expected positive time constants")
        est = {"tau_s_ms": ps, "tau_r_ms": pr, "tau_sum_ms": ps + pr, "tau_prod_ms2": ps * pr}
        intervals = {
            k: np.stack([est[k] ** 2 / spread[k][:, 1], est[k] ** 2 / spread[k][:, 0]], axis=-1)
            for k in samples
        }

    def overlap(ci):
        cs, cr = ci["tau_s_ms"], ci["tau_r_ms"]
        return np.maximum(cs[:, 0], cr[:, 0]) <= np.minimum(cs[:, 1], cr[:, 1])

    return samples, intervals, overlap(spread) | overlap(intervals)


def _taus(model: ObservedARU) -> tuple[np.ndarray, np.ndarray]:
    ts = np.asarray(jax.device_get(model.aru.tau_s), dtype=np.float64).ravel()
    tr = np.asarray(jax.device_get(model.aru.tau_r), dtype=np.float64).ravel()
    ts, tr = np.broadcast_arrays(ts, tr)
    return ts, tr


def predict(
    model: ObservedARU, rec: Recording, burn_in: int, loss: str, link: str = "softplus"
) -> tuple[np.ndarray, np.ndarray]:
    """The model's readout and prediction on `rec`'s trials after `burn_in` zero bins.

    **Returns:** `(readout, prediction)`, each `(trials, time, units)`: the readout (before
    the link) and the rate in Hz (counts) or the signal (signals).
    """
    dtype = model.offset.dtype
    x = jnp.asarray(_inputs(rec, burn_in, dtype))
    y = np.asarray(jax.device_get(_simulate_jit(model, x)), dtype=np.float64)[:, burn_in:]
    if loss == "poisson":
        return y, np.asarray(PoissonObservation(link).rate_hz(y))
    return y, y


@eqx.filter_jit
def _simulate_jit(model, x):
    return simulate(model, x).outputs


def _autocorr(rec: Recording):
    """The intrinsic timescale of every unit over lags up to half a trial (at least 4
    bins): longer lags pair few bins and make the peak that starts the fit noisy."""
    n_lags = min(rec.n_time - 1, max(4, rec.n_time // 2))
    return intrinsic_timescale(rec, max_lag_ms=n_lags * rec.bin_ms)


def _finish(
    plan: _Plan, models: list, best_loss: np.ndarray, epochs_run: np.ndarray
) -> RecordingFit:
    s = plan.settings
    if s.loss == "gaussian":
        models = [m.with_scale(plan.center, plan.scale) for m in models]
    best, members = models[0], models[1:]
    ts0, tr0 = _taus(best)
    pairs = [_taus(m) for m in members]
    boot, ci, exch = bootstrap_intervals(
        np.stack([p[0] for p in pairs]),
        np.stack([p[1] for p in pairs]),
        s.confidence,
        point=(ts0, tr0),
        method=s.interval,
    )

    # scores on the held-out trials
    readout, prediction = predict(best, plan.heldout, plan.burn_in, s.loss, s.link)
    const = fit_constant_baseline(plan.fit)
    sigma = None
    if s.loss == "gaussian":
        _, fit_pred = predict(best, plan.fit, plan.burn_in, s.loss)
        sigma = noise_scale(plan.fit, fit_pred)
    heldout = {
        "model": score_heldout(
            readout, plan.heldout, train_mean=const.mean, link=s.link, sigma=sigma
        ),
        "constant": score_heldout(
            const.readout(plan.heldout, s.link),
            plan.heldout,
            train_mean=const.mean,
            link=s.link,
            sigma=const.sigma,
        ),
        "ln": None,
    }
    ln_tau = None
    if plan.recording.inputs is not None:
        ln = fit_ln_baseline(plan.fit, link=s.link)
        heldout["ln"] = score_heldout(
            ln.readout(plan.heldout),
            plan.heldout,
            train_mean=const.mean,
            link=s.link,
            sigma=ln.sigma,
        )
        ln_tau = ln.tau_ms
    autocorr = _autocorr(plan.recording)
    out = RecordingFit(
        model=best,
        members=members,
        tau_s_ms=ts0,
        tau_r_ms=tr0,
        tau_sum_ms=ts0 + tr0,
        tau_prod_ms2=ts0 * tr0,
        boot=boot,
        ci=ci,
        exchangeable=exch,
        autocorr=autocorr,
        heldout=heldout,
        prediction=prediction,
        noise_sigma=sigma,
        fit_trials=plan.fit_trials,
        heldout_trials=plan.heldout_trials,
        burn_in_bins=plan.burn_in,
        bin_ms=plan.recording.bin_ms,
        settings=s,
        best_loss=best_loss,
        epochs_run=epochs_run,
        ln_tau_ms=ln_tau,
        unit_names=plan.recording.unit_names,
    )
    return out


# --------------------------------------------------------------------------------------
# The entry points
# --------------------------------------------------------------------------------------


def fit_recordings(
    recordings: Sequence[Recording],
    *,
    key: Any,
    dtype: Any = None,
    progress: bool | None = None,
    devices: Any = None,
    **options: Any,
) -> list[RecordingFit]:
    """`fit_recording` for several recordings of the same shape and settings, all
    bootstrap members of all recordings trained as one compiled ensemble.

    **Arguments:** `recordings`: a non-empty sequence of `Recording`s of equal
    `(trials, time, units)`, bin width, kind and input width; `key`: split into one key
    per recording; the rest as `fit_recording`.

    **Returns:** one `RecordingFit` per recording, in order.

    **Raises:** `InputError` as `fit_recording`, and for recordings that differ in shape.
    """
    recordings = list(recordings) if isinstance(recordings, (list, tuple)) else recordings
    check_type("recordings", recordings, list, "a list of Recordings")
    if not recordings:
        raise InputError("recordings: got an empty list, expected at least one Recording")
    settings = [check_settings(r, **options) for r in recordings]
    ref = recordings[0]
    for i, r in enumerate(recordings[1:], 1):
        if (r.data.shape, r.bin_ms, r.kind, r.n_in) != (
            ref.data.shape,
            ref.bin_ms,
            ref.kind,
            ref.n_in,
        ):
            raise InputError(
                f"recordings[{i}]: shape {r.data.shape}, bin_ms {r.bin_ms:g}, {r.kind}, {r.n_in} inputs; "
                f"expected those of recordings[0]: {ref.data.shape}, {ref.bin_ms:g}, {ref.kind}, {ref.n_in} inputs"
            )
    given = dtype
    try:
        dtype = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
    except TypeError:
        dtype = None
    if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        raise InputError(f"dtype: got {given!r}, expected a floating dtype (float32 or float64)")
    _check_memory_settings(recordings, settings, dtype)
    keys = jax.random.split(key, len(recordings) + 1)
    plans = [_plan(r, s, k, dtype) for r, s, k in zip(recordings, settings, keys[1:])]
    s0 = settings[0]
    n_fit = plans[0].fit.n_trials
    batch = _batch_size(s0, n_fit)
    n_updates = s0.epochs * (n_fit // batch)
    xs, ys, ms, models = [], [], [], []
    for p in plans:
        x = _inputs(p.fit, p.burn_in, np.float64)
        y, m = _targets(p.fit, p.center, p.scale, s0.loss, p.burn_in)
        xs.append(x[p.resamples])
        ys.append(y[p.resamples])
        ms.append(m[p.resamples])
        models.extend(p.models)
    X, Y, Mk = (np.concatenate(a, axis=0) for a in (xs, ys, ms))
    data = make_train_data(X, Y, Mk, validation=(X, Y, Mk), batched=True, dtype=dtype)
    del X, Y, Mk, xs, ys, ms
    res = fit_ensemble(
        models,
        data,
        keys=jax.random.split(keys[0], len(models)),
        epochs=s0.epochs,
        loss=_loss(plans[0]),
        optimiser=recording_optimiser(s0.learning_rate, n_updates),
        batch_size=batch,
        progress=progress,
        devices=devices,
    )
    out, i = [], 0
    for p in plans:
        n = len(p.models)
        out.append(
            _finish(
                p,
                res.models[i : i + n],
                np.asarray(res.best_val_loss[i : i + n]),
                np.asarray(res.epochs_run[i : i + n]),
            )
        )
        i += n
    return out


def _check_memory_settings(recordings, settings, dtype) -> None:
    """Refuses, before anything is built, bootstrap datasets and trajectories that would
    not fit in memory: every member's training and validation copy of its trials, and
    the states of every step of one batch for the backward pass."""
    total = 0.0
    for r, s in zip(recordings, settings):
        T = r.n_time + _burn_in_bins(s, r.bin_ms)
        n_fit = r.n_trials - _n_heldout(r.n_trials, s.heldout_fraction)
        per_member = (
            2.0 * n_fit * T * (max(r.n_in, 1) + 2 * r.n_units)
            + _batch_size(s, n_fit) * T * 4 * s.hidden
        )
        total += (s.bootstrap + 1) * per_member * dtype.itemsize
    check_memory(
        "bootstrap",
        f"{settings[0].bootstrap} resamples of {len(recordings)} recording(s)",
        total,
        "the bootstrap datasets and trajectories",
    )


def fit_recording(
    recording: Recording,
    *,
    key: Any,
    loss: str | None = None,
    hidden: int | None = None,
    time_constants: str = "global",
    observed: str = "readout",
    bootstrap: int = 23,
    confidence: float = 0.95,
    heldout_fraction: float = 0.2,
    burn_in_ms: float = 200.0,
    epochs: int = 300,
    batch_size: int | None = None,
    learning_rate: float = 3e-2,
    link: str = "softplus",
    activation: str = "sigmoid",
    self_connections: bool = False,
    interval: str = "basic",
    dtype: Any = None,
    progress: bool | None = None,
    devices: Any = None,
) -> RecordingFit:
    """Fits the time constants of an ARU to a recording, with bootstrap confidence
    intervals and baselines (the recipe of the module docstring).

    **Arguments:**

    - `recording`: a `Recording` (spike counts or signals, bin width in ms, optional
        inputs).
    - `key`: a `jax.random` key: the split, the resamples, the initialisations and the
        order of the trials in training.
    - `loss`: `"poisson"` (spike counts) or `"gaussian"` (signals); default from the
        recording's kind.
    - `hidden`: hidden units (default: the number of recorded units).
    - `time_constants`: `"global"` (one pair) or `"local"` (one pair per hidden unit).
    - `observed`: `"readout"` (a learned readout) or `"units"` (data-constrained:
        recorded neuron i is hidden unit i's rate, with a learned gain and offset).
    - `bootstrap`: resamples B (at least 2; the intervals come from quantiles of B
        values, so B >= 20 for a 95 % interval).
    - `confidence`: the level of the intervals (default 0.95).
    - `interval`: `"basic"` (default, log scale) or `"percentile"` (see
        `bootstrap_intervals`).
    - `heldout_fraction`: the fraction of trials held out for scoring (at least one).
    - `burn_in_ms`: zero input run before each trial, not scored (rounded up to bins).
    - `epochs`, `batch_size` (default: a quarter of the fitting trials),
        `learning_rate` (Adam, decayed to 5 % on a cosine).
    - `link`: the Poisson link, `"softplus"` (default) or `"exp"`.
    - `activation`: the ARU's activation (default sigmoid).
    - `self_connections`: let the recurrent weights connect a unit to itself (default
        `False`: a self-connection shifts the unit's dynamics exactly as a change of
        `tau_s * tau_r` does, so it is held at zero for the time constants to be
        identifiable; see `docs/recordings.md`).
    - `dtype`: the parameter dtype (default JAX's default float).
    - `progress`: a progress bar over the ensemble's epochs (default: on a terminal).
    - `devices`: spread the members over devices (see `fit_ensemble`).

    **Returns:** a `RecordingFit`.

    **Raises:** `InputError`, before anything compiles, for a setting that does not fit
    the recording (a loss of the other kind, too few trials to hold out and resample,
    fewer hidden units than neurons with `observed="units"`, bad numbers), or data that
    would not fit in memory.
    """
    options = dict(
        loss=loss,
        hidden=hidden,
        time_constants=time_constants,
        observed=observed,
        bootstrap=bootstrap,
        confidence=confidence,
        heldout_fraction=heldout_fraction,
        burn_in_ms=burn_in_ms,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        link=link,
        activation=activation,
        self_connections=self_connections,
        interval=interval,
    )
    return fit_recordings(
        [recording], key=key, dtype=dtype, progress=progress, devices=devices, **options
    )[0]
