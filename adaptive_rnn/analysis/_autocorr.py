r"""The intrinsic timescale of a neuron from the autocorrelation of its binned counts
across trials (Murray et al., 2014, Nature Neuroscience 17:1661).

For each unit, the correlation across trials between the counts of bins $i$ and $i + k$,
averaged over $i$, gives the autocorrelation $R(k\Delta)$ at lag $k\Delta$ ($\Delta$ the
bin width). From the lag of its peak on, it is fitted by

$$R(k\Delta) = A \left[ \exp(-k\Delta / \tau) + B \right] ,$$

and $\tau$, in milliseconds, is the intrinsic timescale. Across-trial correlation
removes the trial-averaged time course (the stimulus-locked mean) and leaves the
fluctuations that persist within a trial.

A fit is attempted only where there is something to fit: the autocorrelation at the
first fitted lag must exceed what independent bins give by chance (one-sided 5 %,
Bonferroni-corrected over the lags searched for the peak; the standard error under
independence is `sqrt(sum_i 1/(n_i - 1)) / m` over the `m` bin pairs of the lag, `n_i`
trials each), and the fitted decay must be at least one bin long. Otherwise the unit's
timescale is NaN and the reason says which test failed: a peak of noise in a flat
autocorrelation, fitted by an exponential that falls within one bin, is not a timescale.
"""

import math
import warnings
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.stats import norm

from .._checks import check_array, check_int, check_positive
from .._errors import InputError
from ..recordings import Recording


class IntrinsicTimescale(NamedTuple):
    """Result of `intrinsic_timescale`, one entry per unit.

    **Fields:**

    - `tau_ms`: `(units,)` the timescale `tau` in milliseconds; NaN where the fit failed.
    - `amplitude`: `(units,)` the fitted amplitude `A` (dimensionless); NaN where the fit
        failed.
    - `offset`: `(units,)` the fitted offset `B`, relative to `A` (so the autocorrelation
        tends to `A B` at long lags); NaN where the fit failed.
    - `lags_ms`: `(n_lags,)` the lags in milliseconds, `bin_ms, 2 bin_ms, ...`.
    - `autocorr`: `(units, n_lags)` the autocorrelation at each lag (NaN where no bin
        pair had variance across trials).
    - `fit_start_ms`: `(units,)` the first lag of the fit in milliseconds (the peak, or
        `start_lag_ms`); NaN where no lag had a finite autocorrelation.
    - `reasons`: a tuple with one entry per unit: `None` where the fit succeeded, else a
        string saying why it failed.
    """

    tau_ms: np.ndarray
    amplitude: np.ndarray
    offset: np.ndarray
    lags_ms: np.ndarray
    autocorr: np.ndarray
    fit_start_ms: np.ndarray
    reasons: tuple


def _exp_offset(lag, a, tau, b):
    return a * (np.exp(-lag / tau) + b)


def across_trial_autocorrelation(
    x: np.ndarray, observed: np.ndarray, n_lags: int, min_trials: int
) -> tuple[np.ndarray, np.ndarray]:
    """The autocorrelation of one unit and its standard error under independence.

    For lag `k`, the Pearson correlation across trials of bins `i` and `i + k` (trials
    observed in both), averaged over `i`. Where bins are independent, each pair's
    correlation over `n` trials has variance `1 / (n - 1)` and the pairs are
    uncorrelated, so the average over the `m` pairs of a lag has the standard error
    `sqrt(sum_i 1 / (n_i - 1)) / m`.

    **Arguments:** `x`: `(trials, time)` counts (0 where not observed); `observed`:
    `(trials, time)` bool; `n_lags`; `min_trials`: fewer trials in a pair gives NaN.

    **Returns:** `(autocorr, null_se)`, each `(n_lags,)` (NaN where no pair is defined).
    """
    m = observed.astype(np.float64)
    xm = x * m
    n = m.T @ m  # trials observed in both bins i and j
    s_i = xm.T @ m  # sum over those trials of x_i
    s_j = s_i.T
    s_ij = xm.T @ xm
    q_i = (xm * x).T @ m
    q_j = q_i.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = s_ij / n - s_i * s_j / n**2
        var_i = q_i / n - (s_i / n) ** 2
        var_j = q_j / n - (s_j / n) ** 2
        denom = np.sqrt(var_i * var_j)
        ok = (
            (n >= min_trials)
            & (var_i > 1e-12 * np.maximum(q_i / n, 1e-300))
            & (var_j > 1e-12 * np.maximum(q_j / n, 1e-300))
        )
        corr = np.where(ok, cov / np.where(ok, denom, 1.0), np.nan)
    out = np.full(n_lags, np.nan)
    se = np.full(n_lags, np.nan)
    for k in range(1, n_lags + 1):  # host-side, once per lag
        d = np.diagonal(corr, offset=k)
        ok_k = np.isfinite(d)
        if ok_k.any():
            out[k - 1] = np.mean(d[ok_k])
            n_k = np.diagonal(n, offset=k)[ok_k]
            se[k - 1] = np.sqrt(np.sum(1.0 / (n_k - 1.0))) / ok_k.sum()
    return out, se


def _fit(
    lags: np.ndarray, r: np.ndarray, se: np.ndarray, start: int | None, bin_ms: float, z: float
):
    finite = np.isfinite(r)
    if not finite.any():
        return None, "no bin pair varies across trials (all autocorrelations undefined)"
    p = int(np.nanargmax(r)) if start is None else start
    if not np.isfinite(r[p]) or r[p] <= 0:
        return p, f"no positive autocorrelation at the first fitted lag ({lags[p]:g} ms)"
    if r[p] < z * se[p]:
        return p, (
            f"the autocorrelation at the first fitted lag ({r[p]:.3g} at {lags[p]:g} ms) is "
            f"within the noise of independent bins ({z:.2f} standard errors = "
            f"{z * se[p]:.3g}, corrected for {len(r)} lags): no decay to fit"
        )
    sel = np.arange(len(r)) >= p
    sel &= finite
    if sel.sum() < 4:
        return p, (
            f"only {int(sel.sum())} finite autocorrelation values from lag {lags[p]:g} ms "
            f"on; at least 4 are needed (raise max_lag_ms)"
        )
    t, y = lags[sel], r[sel]
    below = np.flatnonzero(y < y[0] / math.e)
    tau0 = max(bin_ms, (t[below[0]] - t[0]) if below.size else (t[-1] - t[0]) / 2)
    tau_max = 100.0 * lags[-1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            (a, tau, b), _ = curve_fit(
                _exp_offset,
                t,
                y,
                p0=(y[0] * math.exp(t[0] / tau0), tau0, 0.0),
                bounds=([0.0, 1e-3 * bin_ms, -1.0], [np.inf, tau_max, 1.0]),
                maxfev=2000,
            )
    except (RuntimeError, ValueError) as e:
        return p, f"the exponential fit did not converge ({e})"
    if not np.all(np.isfinite((a, tau, b))):
        return p, "the exponential fit returned non-finite parameters"
    if tau >= 0.999 * tau_max:
        return p, (
            f"no decay within the lags fitted (tau reached its bound {tau_max:g} ms); "
            f"raise max_lag_ms or record longer trials"
        )
    if tau <= 1.001e-3 * bin_ms:
        return (
            p,
            "the autocorrelation falls within one bin (tau at its lower bound); use smaller bins",
        )
    if tau < bin_ms:
        # Decay faster than the bins resolve: the curve is one point (the first fitted
        # lag) above a flat tail, and A grows without bound as tau shrinks; no timescale.
        return p, (
            f"the fitted decay ({tau:.3g} ms) is shorter than one bin ({bin_ms:g} ms): from "
            f"lag {lags[p]:g} ms on the autocorrelation has no decay the bins resolve (a "
            f"noise peak, or a decay faster than the bins); use smaller bins or set start_lag_ms"
        )
    return p, (a, tau, b)


def intrinsic_timescale(
    counts: Any,
    bin_ms: Any = None,
    *,
    mask: Any = None,
    max_lag_ms: Any = None,
    start_lag_ms: Any = None,
    min_trials: int = 3,
) -> IntrinsicTimescale:
    """Each unit's intrinsic timescale from the autocorrelation of its binned counts
    across trials (Murray et al., 2014).

    **Arguments:**

    - `counts`: `(trials, time, units)` binned spike counts (or continuous signals), or a
        `Recording` (its data, mask and bin width).
    - `bin_ms`: the bin width in milliseconds (taken from a `Recording`).
    - `mask`: optional `(trials, time, units)` booleans, `True` where observed; default:
        entries that are not NaN.
    - `max_lag_ms`: the longest lag, at least one bin; default all lags up to the trial
        length minus one bin.
    - `start_lag_ms`: the first lag of the fit; default the lag where the
        autocorrelation peaks (the fit starts where it begins to decrease, as Murray et
        al. do when short-lag refractoriness lowers the first lags).
    - `min_trials`: bin pairs observed in fewer trials give no correlation.

    **Returns:** an `IntrinsicTimescale`; a unit whose fit fails has `tau_ms` NaN and its
    reason in `reasons`.

    **Raises:** `InputError` for a wrong rank, fewer than `min_trials` trials, fewer than
    2 bins, a missing or non-positive `bin_ms`, non-finite observed values, or lags that
    do not fit in a trial.
    """
    if isinstance(counts, Recording):
        if bin_ms is not None and not math.isclose(float(bin_ms), counts.bin_ms, rel_tol=1e-12):
            raise InputError(
                f"bin_ms: got {bin_ms!r}, but the recording has bin_ms = {counts.bin_ms:g}"
            )
        if mask is not None:
            raise InputError(
                "mask: got a mask with a Recording, which carries its own; expected None"
            )
        x, mask, bin_ms = counts.data, counts.mask, counts.bin_ms
    else:
        if bin_ms is None:
            raise InputError(
                "bin_ms: missing; expected the bin width in milliseconds (a positive number)"
            )
        x = check_array("counts", counts, 3, "(trials, time, units)").astype(np.float64)
    bin_ms = check_positive("bin_ms", bin_ms)
    min_trials = check_int("min_trials", min_trials, 2)
    if mask is None:
        mask = ~np.isnan(x)
    else:
        mask = check_array("mask", mask, 3, "(trials, time, units)")
        if mask.shape != x.shape:
            raise InputError(
                f"mask: got shape {mask.shape}, expected the shape of counts {x.shape}"
            )
        mask = mask.astype(bool)
    if np.any(mask & ~np.isfinite(x)):
        raise InputError(
            "counts: holds non-finite values that the mask does not cover; expected finite values"
        )
    n_trials, n_time, n_units = x.shape
    if n_trials < min_trials:
        raise InputError(
            f"counts: got {n_trials} trials (shape {x.shape}); expected at least min_trials = "
            f"{min_trials} to correlate bins across trials"
        )
    if n_time < 2:
        raise InputError(f"counts: got {n_time} time bin (shape {x.shape}); expected at least 2")
    if max_lag_ms is None:
        n_lags = n_time - 1
    else:
        max_lag_ms = check_positive("max_lag_ms", max_lag_ms)
        n_lags = int(math.floor(max_lag_ms / bin_ms + 1e-9))
        if not 1 <= n_lags <= n_time - 1:
            raise InputError(
                f"max_lag_ms: got {max_lag_ms:g}, expected at least one bin ({bin_ms:g} ms) and at "
                f"most the trial length minus one bin ({(n_time - 1) * bin_ms:g} ms)"
            )
    lags = np.arange(1, n_lags + 1) * bin_ms
    start = None
    if start_lag_ms is not None:
        start_lag_ms = check_positive("start_lag_ms", start_lag_ms)
        start = int(round(start_lag_ms / bin_ms)) - 1
        if not 0 <= start <= n_lags - 1 or abs(start_lag_ms / bin_ms - (start + 1)) > 1e-9:
            raise InputError(
                f"start_lag_ms: got {start_lag_ms:g}, expected a whole number of bins between "
                f"{bin_ms:g} and max_lag_ms = {lags[-1]:g}"
            )
    x = np.where(mask, x, 0.0)
    # The first fitted lag must hold a correlation that independent bins would reach with
    # probability below 5 % (one-sided), Bonferroni-corrected over the lags searched for
    # the peak; with `start_lag_ms` only that lag is tested.
    z = float(norm.isf(0.05 / (n_lags if start is None else 1)))
    out = {k: np.full(n_units, np.nan) for k in ("tau", "a", "b", "start")}
    r_all = np.full((n_units, n_lags), np.nan)
    reasons: list[str | None] = []
    for u in range(n_units):  # host-side analysis, once per unit
        r, se = across_trial_autocorrelation(x[:, :, u], mask[:, :, u], n_lags, min_trials)
        r_all[u] = r
        p, fit = _fit(lags, r, se, start, bin_ms, z)
        if p is not None:
            out["start"][u] = lags[p]
        if isinstance(fit, str):
            reasons.append(fit)
            continue
        out["a"][u], out["tau"][u], out["b"][u] = fit
        reasons.append(None)
    return IntrinsicTimescale(
        out["tau"], out["a"], out["b"], lags, r_all, out["start"], tuple(reasons)
    )
