"""Binning spike times into trials: counts in bins of `bin_ms` milliseconds, trials of
any length (padded and masked), every spike outside the trials counted.

Host-side NumPy, run once before anything compiles; `Recording.from_spike_times` and the
NWB reader build recordings from it.
"""

import math
from typing import Any, NamedTuple

import numpy as np

from .._checks import check_array, check_choice, check_positive
from .._errors import InputError

TIME_UNITS = ("s", "ms")
_TO_MS = {"s": 1000.0, "ms": 1.0}


def _check_bin_ms(bin_ms: Any) -> float:
    if bin_ms is None:
        raise InputError(
            "bin_ms: missing; expected the bin width in milliseconds (a positive number)"
        )
    return check_positive("bin_ms", bin_ms)


class BinnedSpikes(NamedTuple):
    """Spike counts binned into trials (`bin_spike_times`).

    **Fields:**

    - `counts`: `(trials, bins, units)` int64; 0 in bins past a trial's end.
    - `mask`: `(trials, bins)` bool, `True` for the bins inside each trial.
    - `starts_ms`: `(trials,)` absolute time of each trial's first bin, ms.
    - `n_outside`: `(units,)` int64, spikes outside every trial's binned window.
    - `n_spikes`: `(units,)` int64, all spikes of each unit.
    """

    counts: np.ndarray
    mask: np.ndarray
    starts_ms: np.ndarray
    n_outside: np.ndarray
    n_spikes: np.ndarray


def _times(name: str, value: Any, scale: float) -> np.ndarray:
    arr = check_array(name, value, 1, "(n,)").astype(np.float64)
    if not np.all(np.isfinite(arr)):
        i = int(np.argmin(np.isfinite(arr)))
        raise InputError(
            f"{name}: holds non-finite times (first {arr[i]!r} at index {i}); expected finite times"
        )
    return arr * scale


def bin_spike_times(
    spike_times: Any,
    trial_starts: Any,
    trial_stops: Any = None,
    *,
    bin_ms: Any = None,
    time_unit: Any = None,
    window_ms: Any = None,
) -> BinnedSpikes:
    """Counts spikes in bins of `bin_ms` milliseconds, trial by trial.

    Trial `i` covers `[start_i, stop_i)` (or `[start_i + window_ms[0], start_i +
    window_ms[1])`), cut to a whole number of bins; bin `k` is `[lo_i + k bin_ms, lo_i +
    (k + 1) bin_ms)`. Trials may differ in length (the shorter ones are padded with
    masked bins) and may overlap (a spike then counts in each). Spikes in no trial's
    binned window, including those in the cut-off remainder of a trial, are counted in
    `n_outside`, never silently dropped.

    **Arguments:**

    - `spike_times`: one 1-D array of spike times per unit (any order).
    - `trial_starts`: `(trials,)` start (alignment) times.
    - `trial_stops`: `(trials,)` stop times; required unless `window_ms` is given.
    - `bin_ms`: the bin width in milliseconds.
    - `time_unit`: the unit of `spike_times`, `trial_starts` and `trial_stops`: `"s"`
        (seconds, as in NWB) or `"ms"`. Required, so that no factor of 1000 goes astray.
    - `window_ms`: `(begin, end)` in ms relative to each trial's start, a whole number of
        bins long; then `trial_stops` must be `None`.

    **Returns:** a `BinnedSpikes`.

    **Raises:** `InputError` for a missing or non-positive `bin_ms`, a missing or unknown
    `time_unit`, non-finite times, stops before starts, a trial shorter than one bin, a
    window that is not a whole number of bins, or both/neither of `trial_stops` and
    `window_ms`.
    """
    bin_ms = _check_bin_ms(bin_ms)
    if time_unit is None:
        raise InputError(
            "time_unit: missing; expected 's' or 'ms', the unit of the spike and trial times"
        )
    scale = _TO_MS[check_choice("time_unit", time_unit, TIME_UNITS)]
    if isinstance(spike_times, np.ndarray) and spike_times.dtype != object:
        raise InputError(
            f"spike_times: got one array of shape {spike_times.shape}, expected a sequence of "
            f"1-D arrays, one per unit"
        )
    try:
        units = list(spike_times)
    except TypeError:
        raise InputError(
            f"spike_times: got {type(spike_times).__name__}, expected a sequence of 1-D arrays, one per unit"
        ) from None
    if not units:
        raise InputError(
            "spike_times: got no units, expected one 1-D array of spike times per unit"
        )
    spikes = [np.sort(_times(f"spike_times[{u}]", s, scale)) for u, s in enumerate(units)]
    starts = _times("trial_starts", trial_starts, scale)
    if starts.size == 0:
        raise InputError("trial_starts: got no trials, expected at least one")
    if (trial_stops is None) == (window_ms is None):
        raise InputError(
            "trial_stops, window_ms: got "
            + ("both" if window_ms is not None else "neither")
            + "; expected exactly one (each trial's own stop, or a window relative to its start)"
        )
    if window_ms is not None:
        try:
            a, b = (float(v) for v in window_ms)
        except (TypeError, ValueError):
            raise InputError(
                f"window_ms: got {window_ms!r}, expected (begin, end) in milliseconds"
            ) from None
        if not (math.isfinite(a) and math.isfinite(b) and b > a):
            raise InputError(
                f"window_ms: got {window_ms!r}, expected finite (begin, end) with end > begin"
            )
        n_win = (b - a) / bin_ms
        if abs(n_win - round(n_win)) > 1e-9 * max(1.0, n_win) or round(n_win) < 1:
            raise InputError(
                f"window_ms: spans {b - a:g} ms, expected a whole number (>= 1) of bin_ms = {bin_ms:g} ms bins"
            )
        lo = starts + a
        n_bins = np.full(starts.shape, int(round(n_win)))
    else:
        stops = _times("trial_stops", trial_stops, scale)
        if stops.shape != starts.shape:
            raise InputError(
                f"trial_stops: got shape {stops.shape}, expected {starts.shape} as trial_starts"
            )
        lo = starts
        n_bins = np.floor((stops - starts) / bin_ms + 1e-9).astype(np.int64)
        short = n_bins < 1
        if short.any():
            i = int(np.argmax(short))
            raise InputError(
                f"trial_stops: trial {i} lasts {(stops[i] - starts[i]):g} ms (stop {stops[i] / scale!r} "
                f"{time_unit}, start {starts[i] / scale!r} {time_unit}); expected trials at least one "
                f"bin_ms = {bin_ms:g} ms long"
            )
    n_max = int(n_bins.max())
    k = np.arange(n_max + 1)
    edges = lo[:, None] + k[None, :] * bin_ms  # (trials, n_max + 1)
    mask = k[None, :-1] < n_bins[:, None]
    hi = lo + n_bins * bin_ms
    # The union of the trials' binned windows, as disjoint intervals.
    order = np.argsort(lo, kind="stable")
    lo_s, reach = lo[order], np.maximum.accumulate(hi[order])
    new = np.r_[True, lo_s[1:] > reach[:-1]]
    u_lo = lo_s[new]
    u_hi = reach[np.r_[np.flatnonzero(new)[1:] - 1, len(lo_s) - 1]]
    counts = np.zeros((starts.size, n_max, len(spikes)), dtype=np.int64)
    n_outside = np.zeros(len(spikes), dtype=np.int64)
    for u, s in enumerate(spikes):  # host-side, once per unit
        counts[:, :, u] = np.diff(np.searchsorted(s, edges, side="left"), axis=1) * mask
        inside = np.searchsorted(s, u_hi, side="left") - np.searchsorted(s, u_lo, side="left")
        n_outside[u] = s.size - int(inside.sum())
    n_spikes = np.array([s.size for s in spikes], dtype=np.int64)
    return BinnedSpikes(counts, mask, lo.copy(), n_outside, n_spikes)
