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
   at the first recorded bin is settled by the dynamics rather than set by hand
   (`initial_state="burn_in"`); with `initial_state="learned"` each fitting trial also
   gets its own learned drive on the last burn-in bin (`ObservedARU`'s per-trial
   initial states), held-out trials start from the settled state.
4. **Bootstrap** (`_bootstrap`). Member 0 is fitted on the fitting trials (the point
   estimate, the model saved). B refits, each from a fresh initialisation (new weights
   and initial time constants drawn log-uniformly between 2 and 16 bins), are trained
   as one compiled ensemble (`fit_ensemble` with one dataset per member) on B datasets:
   by default responses simulated from member 0 on the fitting trials' inputs
   (`resample="parametric"`, after member 0 is fitted), or resamples of the fitting
   trials with replacement (`resample="trials"`, all members in one ensemble). They give
   the confidence intervals (`bootstrap_intervals`, by default bias-corrected normal
   intervals on the log scale) of `tau_s`, `tau_r` and of the quantities the
   linearised dynamics pin down even when the pair is not: `tau_s + tau_r` and
   `tau_s * tau_r`. Where the intervals of `tau_s` and `tau_r` overlap, the two cannot
   be told apart (`exchangeable`).
5. **Baselines**, on the same held-out trials: the constant predictor, the LN model
   (one exponential filter, with a stimulus) and, per neuron, the intrinsic timescale
   of Murray et al. (2014) from the autocorrelation of its counts.

(This module is longer than most: the settings' checks, the plan of a recording and the
two-stage training share the private `_Plan` and its helpers, and read best together.
The result type lives in `_fit_recording_result`, the bootstrap's datasets and
intervals in `_bootstrap`.)
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
from ._bootstrap import INTERVALS, RESAMPLE, bootstrap_intervals, simulate_responses
from ._fit_recording_result import FitSettings, RecordingFit
from ._observed import OBSERVED, ObservedARU

LOSSES = ("poisson", "gaussian")
TIME_CONSTANT_MODES = ("global", "local")
INITIAL_STATES = ("burn_in", "learned")
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
def recording_optimiser(
    learning_rate: float, n_updates: int, clip_norm: float = 10.0, state_prior: float = 0.0
):
    """Adam with a cosine decay of the learning rate to 5 % over `n_updates` updates,
    gradient clipping, no weight decay (a maximum-likelihood fit) except, with
    `state_prior > 0`, the gradient `state_prior * z` of a Gaussian prior on the learned
    per-trial initial states `z` (`ObservedARU.trial_drive`). Equal arguments return the
    same object, so repeated fits share one compiled epoch."""
    schedule = optax.cosine_decay_schedule(learning_rate, max(int(n_updates), 1), alpha=0.05)
    opt = paper_optimiser(schedule, clip_norm=clip_norm, weight_decay=0.0)
    if state_prior <= 0:
        return opt
    return optax.chain(optax.masked(optax.add_decayed_weights(state_prior), _trial_drive_mask), opt)


def _trial_drive_mask(params):
    mask = jax.tree_util.tree_map(lambda _: False, params)
    return eqx.tree_at(lambda m: m.trial_drive, mask, True)


# --------------------------------------------------------------------------------------
# Settings, checked before anything compiles
# --------------------------------------------------------------------------------------


def check_settings(
    recording: Recording,
    *,
    loss=None,
    hidden=None,
    time_constants="global",
    observed="readout",
    bootstrap=16,
    confidence=0.95,
    heldout_fraction=0.2,
    burn_in_ms=200.0,
    epochs=300,
    batch_size=None,
    learning_rate=3e-2,
    link="softplus",
    activation="sigmoid",
    self_connections=False,
    interval="normal",
    resample="parametric",
    initial_state="burn_in",
) -> FitSettings:
    """Checks every setting of `fit_recording` against the recording. The defaults are
    `fit_recording`'s; its docstring says more about each setting.

    **Arguments:**

    - `recording`: the `Recording` the settings are checked against.
    - `loss`: `"poisson"` (spike counts) or `"gaussian"` (signals), matching the
        recording's kind; `None` (default): from the recording's kind.
    - `hidden`: the number of hidden units, at least 1 (at least the number of recorded
        units with `observed="units"`); `None` (default): the number of recorded units.
    - `time_constants`: `"global"` (one pair `tau_s`, `tau_r`) or `"local"` (one pair
        per hidden unit).
    - `observed`: `"readout"` (a learned readout) or `"units"` (recorded neuron i is
        hidden unit i's rate, with a learned gain and offset).
    - `bootstrap`: the number B of bootstrap refits, at least 2.
    - `confidence`: the level of the intervals, strictly between 0 and 1.
    - `heldout_fraction`: the fraction of trials held out for scoring, strictly between
        0 and 1 (rounded to at least one trial; at least 2 trials must remain to fit and
        resample).
    - `burn_in_ms`: milliseconds of zero input run before each trial and not scored,
        non-negative.
    - `epochs`: training epochs, at least 1.
    - `batch_size`: trials per update, between 1 and the number of fitting trials;
        `None` (default): a quarter of the fitting trials.
    - `learning_rate`: Adam's initial learning rate, positive.
    - `link`: the Poisson link, `"softplus"` or `"exp"`.
    - `activation`: the ARU's activation, any name `canonical_activation` accepts.
    - `self_connections`: `True` or `False`, whether the recurrent weights may connect a
        unit to itself.
    - `interval`: the bootstrap interval, `"normal"`, `"basic"` or `"percentile"`.
    - `resample`: the refits' data, `"parametric"` or `"trials"`.
    - `initial_state`: `"burn_in"` or `"learned"`.

    **Returns:** a `FitSettings` holding the checked values (`loss`, `hidden` resolved,
    `activation` in its canonical name).

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
    check_choice("resample", resample, RESAMPLE)
    check_choice("initial_state", initial_state, INITIAL_STATES)
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
        resample,
        initial_state,
    )


def _n_heldout(n_trials: int, fraction: float) -> int:
    return max(1, int(round(fraction * n_trials)))


def _burn_in_bins(settings: FitSettings, bin_ms: float) -> int:
    n = int(math.ceil(settings.burn_in_ms / bin_ms - 1e-9))
    # learned initial states: the per-trial drive enters on the last burn-in bin
    return max(n, 1) if settings.initial_state == "learned" else n


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
    sim_key: Any  # the draws of the parametric bootstrap


def _inputs(rec: Recording, burn_in: int, dtype, trial_channel: str | None = None) -> np.ndarray:
    """The inputs after `burn_in` zero bins; with `trial_channel`, one more input: the
    trial's number (1, 2, ...) on the last burn-in bin (`"index"`, the fitting trials of
    a model with learned initial states) or zeros (`"zero"`, other trials)."""
    x = np.zeros((rec.n_trials, rec.n_time, 1)) if rec.inputs is None else rec.inputs
    pad = np.zeros((rec.n_trials, burn_in, x.shape[-1]))
    x = np.concatenate([pad, x], axis=1)
    if trial_channel is not None:
        c = np.zeros(x.shape[:2] + (1,))
        if trial_channel == "index":
            c[:, burn_in - 1, 0] = np.arange(1, rec.n_trials + 1)
        x = np.concatenate([x, c], axis=-1)
    return x.astype(dtype)


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
    key, settings: FitSettings, rec: Recording, n_members: int, center, scale, dtype, n_fit: int
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
                aru,
                rec.n_units,
                observed=settings.observed,
                center=center,
                scale=scale,
                n_trials=n_fit if settings.initial_state == "learned" else None,
                key=k_obs,
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
    if settings.resample == "trials":
        boot = np.asarray(bootstrap_indices(k_boot, fit.n_trials, B))
    else:
        boot = np.broadcast_to(np.arange(fit.n_trials), (B, fit.n_trials))
    resamples = np.concatenate([np.arange(fit.n_trials)[None], boot], axis=0)
    # Gaussian members learn in standard units (center 0, scale 1); the data's scale is
    # put back after training.
    c, s = (center, scale) if settings.loss == "poisson" else (0.0, 1.0)
    models = _members(k_init, settings, recording, B + 1, c, s, dtype, fit.n_trials)
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
        k_boot,
    )


def _loss(plan: _Plan):
    norm = float((plan.fit.n_time + plan.burn_in) * plan.fit.n_units)
    if plan.settings.loss == "poisson":
        return PoissonLoss(plan.settings.link, plan.recording.bin_ms, norm)
    return GaussianLoss(norm)


def _taus(model: ObservedARU) -> tuple[np.ndarray, np.ndarray]:
    ts = np.asarray(jax.device_get(model.aru.tau_s), dtype=np.float64).ravel()
    tr = np.asarray(jax.device_get(model.aru.tau_r), dtype=np.float64).ravel()
    ts, tr = np.broadcast_arrays(ts, tr)
    return ts, tr


def predict(
    model: ObservedARU,
    rec: Recording,
    burn_in: int,
    loss: str,
    link: str = "softplus",
    *,
    trial_states: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The model's readout and prediction on `rec`'s trials after `burn_in` zero bins.

    **Arguments:** `model`; `rec`: the trials; `burn_in`: bins; `loss`, `link`: as fitted;
    `trial_states`: for a model with learned initial states, start trial j of `rec` from
    the learned state of fitting trial j (`rec` must then be the fitting trials, in
    order); by default every trial starts from the state the burn-in settles.

    **Returns:** `(readout, prediction)`, each `(trials, time, units)`: the readout (before
    the link) and the rate in Hz (counts) or the signal (signals).

    **Raises:** `InputError` for `trial_states` with a model that has none, or a number of
    trials other than its number of learned states.
    """
    dtype = model.offset.dtype
    channel = None if model.trial_drive is None else "zero"
    if trial_states:
        n = None if model.trial_drive is None else model.trial_drive.shape[0]
        if n != rec.n_trials:
            raise InputError(
                f"trial_states: the model holds {n or 'no'} learned initial states, "
                f"expected one per trial of the recording ({rec.n_trials})"
            )
        channel = "index"
    x = jnp.asarray(_inputs(rec, burn_in, dtype, channel))
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

    **Arguments:**

    - `recordings`: a non-empty list or tuple of `Recording`s of equal
        `(trials, time, units)`, bin width, kind and input width.
    - `key`: a `jax.random` key, split into one key per recording (and one for
        training).
    - `dtype`: the parameter dtype, a floating dtype (default JAX's default float).
    - `progress`: a progress bar over the ensemble's epochs (`None`, the default: on a
        terminal).
    - `devices`: spread the members over devices (see `fit_ensemble`; default all of
        `jax.devices()`).
    - `**options`: the settings of `fit_recording` (`loss`, `hidden`, ...), the same for
        every recording and checked against each (`check_settings`).

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
    k_first, k_refits = jax.random.split(keys[0])
    arrays = []
    for p in plans:
        channel = "index" if s0.initial_state == "learned" else None
        x = _inputs(p.fit, p.burn_in, np.float64, channel)
        y, m = _targets(p.fit, p.center, p.scale, s0.loss, p.burn_in)
        arrays.append((x, y, m))
    train = functools.partial(_train, s0=s0, plan=plans[0], devices=devices, progress=progress)
    if s0.resample == "trials":
        # every member in one ensemble: member 0 on the fitting trials, the others on
        # resamples of them
        res = train(
            [m for p in plans for m in p.models],
            [tuple(a[p.resamples] for a in arr) for p, arr in zip(plans, arrays)],
            key=k_refits,
        )
        fitted = [res.models[i : i + len(p.models)] for i, p in _offsets(plans)]
        losses = [res.best_val_loss[i : i + len(p.models)] for i, p in _offsets(plans)]
        epochs_run = [res.epochs_run[i : i + len(p.models)] for i, p in _offsets(plans)]
    else:
        # parametric: the point estimates first (one ensemble, a member per recording),
        # then B refits per recording on responses simulated from its point estimate
        # (one ensemble), each from a fresh initialisation
        first = train(
            [p.models[0] for p in plans],
            [tuple(a[None] for a in arr) for arr in arrays],
            key=k_first,
        )
        sims = []
        for p, (x, y, m), m0 in zip(plans, arrays, first.models):
            out = np.asarray(jax.device_get(_simulate_jit(m0, jnp.asarray(x, dtype))))
            ysim = simulate_responses(
                p.sim_key,
                out,
                y,
                m,
                p.settings.bootstrap,
                loss=s0.loss,
                link=s0.link,
                bin_ms=p.recording.bin_ms,
            )
            n = p.settings.bootstrap
            sims.append(
                (
                    np.broadcast_to(x, (n,) + x.shape),
                    np.asarray(ysim),
                    np.broadcast_to(m, ysim.shape),
                )
            )
        res = train([m for p in plans for m in p.models[1:]], sims, key=k_refits)
        fitted, losses, epochs_run = [], [], []
        for j, (i, p) in enumerate(_offsets(plans, skip=1)):
            n = len(p.models) - 1
            fitted.append([first.models[j]] + res.models[i : i + n])
            losses.append(
                np.concatenate([first.best_val_loss[j : j + 1], res.best_val_loss[i : i + n]])
            )
            epochs_run.append(
                np.concatenate([first.epochs_run[j : j + 1], res.epochs_run[i : i + n]])
            )
    return [
        _finish(p, f, np.asarray(lo), np.asarray(e))
        for p, f, lo, e in zip(plans, fitted, losses, epochs_run)
    ]


def _offsets(plans, skip: int = 0):
    """`(first member index, plan)` of each plan's members in a flat list (less `skip`
    members per plan)."""
    i = 0
    for p in plans:
        yield i, p
        i += len(p.models) - skip


def _train(models, arrays, *, key, s0, plan, devices, progress):
    """One compiled ensemble: `models` trained on `arrays`, a list (one entry per
    recording) of `(inputs, targets, mask)`, each with a leading axis of one dataset per
    member, in the order of `models`."""
    X, Y, Mk = (np.concatenate([a[i] for a in arrays], axis=0) for i in range(3))
    n_fit = X.shape[1]
    batch = _batch_size(s0, n_fit)
    n_updates = s0.epochs * (n_fit // batch)
    data = make_train_data(X, Y, Mk, validation=(X, Y, Mk), batched=True, dtype=plan.dtype)
    del X, Y, Mk
    return fit_ensemble(
        models,
        data,
        keys=jax.random.split(key, len(models)),
        epochs=s0.epochs,
        loss=_loss(plan),
        optimiser=recording_optimiser(
            s0.learning_rate, n_updates, state_prior=_state_prior(plan, batch)
        ),
        batch_size=batch,
        progress=progress,
        devices=devices,
    )


def _state_prior(plan, batch: int) -> float:
    """The gradient factor of a standard normal prior on each learned initial state, on
    the scale of the loss (a batch's mean of per-trial sums divided by bins x units)."""
    if plan.settings.initial_state != "learned":
        return 0.0
    return 1.0 / (batch * float((plan.fit.n_time + plan.burn_in) * plan.fit.n_units))


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
    bootstrap: int = 16,
    confidence: float = 0.95,
    heldout_fraction: float = 0.2,
    burn_in_ms: float = 200.0,
    epochs: int = 300,
    batch_size: int | None = None,
    learning_rate: float = 3e-2,
    link: str = "softplus",
    activation: str = "sigmoid",
    self_connections: bool = False,
    interval: str = "normal",
    resample: str = "parametric",
    initial_state: str = "burn_in",
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
    - `bootstrap`: refits B (at least 2; default 16). The default `"normal"` interval
        uses the refits' mean and spread and is calibrated with B of 10-20; the quantile
        methods need B >= 20 for a 95 % interval.
    - `confidence`: the level of the intervals (default 0.95).
    - `interval`: `"normal"` (default), `"basic"` or `"percentile"`, all on the log
        scale (see `bootstrap_intervals`).
    - `resample`: the refits' data: `"parametric"` (default; responses simulated from
        the point estimate with fresh keys, on the fitting trials' inputs) or
        `"trials"` (the fitting trials drawn with replacement).
    - `initial_state`: `"burn_in"` (default: every trial starts from the state the
        burn-in settles) or `"learned"` (each fitting trial also gets its own learned
        drive on the last burn-in bin; held-out trials start from the settled state).
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
        resample=resample,
        initial_state=initial_state,
    )
    return fit_recordings(
        [recording], key=key, dtype=dtype, progress=progress, devices=devices, **options
    )[0]
