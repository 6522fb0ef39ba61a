"""Example recordings that ship inside PyPI packages: real data, nothing downloaded.

`load_grasshopper`: one auditory receptor neuron of the locust *Locusta migratoria*,
recorded intracellularly while a tone amplitude-modulated by Gaussian white noise was
played (Rokem et al. 2006), as bundled with nitime (BSD-3-Clause;
`nitime/data/grasshopper_*.txt`, the data of nitime's "Auditory processing in
grasshoppers" example). Two continuous recordings of the same cell, 10 s each, one per
stimulus (noise cut off at 200 Hz and at 800 Hz): spike times in microseconds, and the
stimulus envelope sampled at 20 kHz (relative amplitude, 1 at its loudest).

Host-side NumPy, run once before anything compiles.
"""

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_choice, check_number, check_type
from .._errors import InputError
from ._binning import _check_bin_ms, bin_spike_times
from ._recording import Recording

GRASSHOPPER_SOURCE = (
    "One auditory receptor neuron of the locust Locusta migratoria, recorded intracellularly "
    "(Rokem, Watzl, Gollisch, Stemmler, Herz & Samengo 2006, J Neurophysiol 95:2541-2552); "
    "the data files of nitime (nitime/data/grasshopper_spike_times{1,2}.txt and "
    "grasshopper_stimulus{1,2}.txt), BSD-3-Clause, Copyright (c) 2006-2011 NIPY Developers."
)
# The stimulus files' sampling interval: 50 us (20 kHz).
_STIMULUS_STEP_US = 50.0
_STIMULUS_STEP_MS = _STIMULUS_STEP_US / 1000.0
STIMULUS_UNITS = ("zscore", "db")
_INSTALL_NITIME = "pip install nitime  (or: pip install 'adaptive_rnn[test]')"


def _grasshopper_files() -> dict[int, tuple[Path, Path]]:
    """The bundled files of the grasshopper recording.

    **Returns:** `{1: (spike_times, stimulus), 2: (spike_times, stimulus)}`: the paths
    of nitime's `grasshopper_spike_times{i}.txt` and `grasshopper_stimulus{i}.txt`
    (stimulus `i` is white noise cut off at 200 Hz for `i = 1`, at 800 Hz for `i = 2`).

    **Raises:** `InputError` saying how to install nitime when it is missing, or naming
    a file missing from its installation.
    """
    try:
        nitime = importlib.import_module("nitime")
    except ImportError:
        raise InputError(
            f"nitime is not installed; the grasshopper recording ships inside it: {_INSTALL_NITIME}"
        ) from None
    data = Path(str(nitime.__file__)).parent / "data"
    out = {}
    for i in (1, 2):
        pair = (data / f"grasshopper_spike_times{i}.txt", data / f"grasshopper_stimulus{i}.txt")
        for p in pair:
            if not p.is_file():
                raise InputError(
                    f"nitime {getattr(nitime, '__version__', '?')}: {p} is missing; expected "
                    f"nitime's bundled grasshopper data (nitime >= 0.10: {_INSTALL_NITIME})"
                )
        out[i] = pair
    return out


def _read_stimulus(path: Path) -> np.ndarray:
    """The stimulus envelope (relative amplitude), checked to be sampled every 50 us from 0."""
    arr = np.loadtxt(path, ndmin=2)
    t = arr[:, 0]
    if arr.shape[1] != 2 or t[0] != 0 or np.any(np.diff(t) != _STIMULUS_STEP_US):
        raise InputError(
            f"{path}: expected two columns, time in us from 0 in steps of "
            f"{_STIMULUS_STEP_US:g}, and the amplitude; the file holds another layout"
        )
    amp = arr[:, 1]
    if np.any(amp <= 0) or not np.all(np.isfinite(amp)):
        raise InputError(f"{path}: the amplitude holds non-positive or non-finite values")
    return amp


def _multiple(name: str, value: float, unit: float, unit_name: str) -> int:
    n = value / unit
    if abs(n - round(n)) > 1e-9 * max(1.0, n) or round(n) < 1:
        raise InputError(
            f"{name}: got {value:g} ms, expected a whole number (>= 1) of {unit_name} = {unit:g} ms"
        )
    return int(round(n))


def load_grasshopper(
    *,
    bin_ms: Any = 2.0,
    trial_ms: Any = 500.0,
    lead_in_ms: Any = 100.0,
    stimuli: Any = (1, 2),
    stimulus_units: str = "zscore",
) -> Recording:
    r"""The grasshopper auditory receptor recording bundled with nitime, cut into trials.

    One neuron (`unit_names = ("receptor",)`), two continuous 10 s recordings, each with
    its own stimulus (white-noise amplitude modulation cut off at 200 Hz, `stimuli`
    entry 1, or at 800 Hz, entry 2). There are no repeated trials: each recording is cut
    into consecutive windows of `trial_ms`, each preceded by a *lead-in* of
    `lead_in_ms` whose stimulus is given but whose counts are masked (`mask` False), so
    that a model sees the sound that came before a trial without being scored on it
    (the lead-in overlaps the previous window; the first window starts at `lead_in_ms`
    so that its lead-in is recorded too). The windows of recording 1 come first, then
    those of recording 2; `trial_starts_ms` is each window's first bin (its lead-in
    included) in the time of its own recording.

    The input is the stimulus level $20 \log_{10} a$ (dB re the loudest sample, $a$ the
    file's relative amplitude), averaged over the 50 us samples of each bin; with
    `stimulus_units="zscore"` (default) it is standardised by the mean and standard
    deviation of the level over the chosen recordings, so that a zero input (a fit's
    burn-in) is the mean sound level.

    Source and licence: `GRASSHOPPER_SOURCE`.

    **Arguments:**

    - `bin_ms`: the bin width in ms (default 2), a whole number of the stimulus' 0.05 ms
        samples.
    - `trial_ms`: the scored length of a trial, a whole number of bins (default 500).
    - `lead_in_ms`: the masked lead-in before each trial, a whole number of bins, or 0
        (default 100).
    - `stimuli`: which recordings, a non-empty subset of `(1, 2)` (default both).
    - `stimulus_units`: `"zscore"` (default) or `"db"` (dB re the loudest sample).

    **Returns:** a `Recording` of kind `"counts"`, `(trials, (lead_in_ms + trial_ms) /
    bin_ms, 1)`, with inputs `(trials, time, 1)`; `spikes_outside` counts the spikes in
    no trial's scored window (before the first window and after the last whole one).

    **Raises:** `InputError` when nitime is not installed (saying how to install it),
    for a non-positive or misaligned `bin_ms`, `trial_ms` or `lead_in_ms`, a trial longer
    than a recording, or unknown `stimuli` or `stimulus_units`.
    """
    bin_ms = _check_bin_ms(bin_ms)
    per_bin = _multiple("bin_ms", bin_ms, _STIMULUS_STEP_MS, "stimulus samples")
    trial_ms = check_number("trial_ms", trial_ms, 0, None, low_open=True)
    lead_in_ms = check_number("lead_in_ms", lead_in_ms, 0, None)
    n_trial = _multiple("trial_ms", trial_ms, bin_ms, "bin_ms")
    n_lead = 0 if lead_in_ms == 0 else _multiple("lead_in_ms", lead_in_ms, bin_ms, "bin_ms")
    check_type("stimuli", stimuli, (list, tuple), "a list or tuple of recordings (1 and/or 2)")
    for i, s in enumerate(stimuli):
        if isinstance(s, (bool, np.bool_)) or s not in (1, 2):
            raise InputError(f"stimuli[{i}]: got {s!r}, expected 1 (200 Hz) or 2 (800 Hz)")
    chosen = [int(s) for s in stimuli]
    if not chosen or len(set(chosen)) != len(chosen):
        raise InputError(
            f"stimuli: got {stimuli!r}, expected a non-empty list of distinct recordings from (1, 2)"
        )
    check_choice("stimulus_units", stimulus_units, STIMULUS_UNITS)
    files = _grasshopper_files()

    counts, levels, starts, outside = [], [], [], 0
    for s in chosen:
        spike_path, stim_path = files[s]
        spikes_ms = np.loadtxt(spike_path, comments="#", ndmin=1) / 1000.0
        amp = _read_stimulus(stim_path)
        n_bins_all = amp.size // per_bin
        duration = n_bins_all * bin_ms
        level = (20.0 * np.log10(amp[: n_bins_all * per_bin])).reshape(n_bins_all, per_bin)
        level = level.mean(axis=1)  # dB re the loudest sample, per bin
        n_windows = (n_bins_all - n_lead) // n_trial
        if n_windows < 1:
            raise InputError(
                f"trial_ms: got {trial_ms:g} ms with lead_in_ms = {lead_in_ms:g}; expected them "
                f"to fit in recording {s} of {duration:g} ms"
            )
        first = n_lead + n_trial * np.arange(n_windows)  # first scored bin of each window
        binned = bin_spike_times(
            [spikes_ms],
            (first - n_lead) * bin_ms,
            bin_ms=bin_ms,
            time_unit="ms",
            window_ms=(0.0, (n_lead + n_trial) * bin_ms),
        )
        counts.append(binned.counts)
        starts.append((first - n_lead) * bin_ms)
        idx = (first - n_lead)[:, None] + np.arange(n_lead + n_trial)[None, :]
        levels.append(level[idx])
        outside += spikes_ms.size - int(binned.counts[:, n_lead:].sum())
    data = np.concatenate(counts, axis=0)
    x = np.concatenate(levels, axis=0)
    if stimulus_units == "zscore":
        pooled = np.concatenate([lv[:, n_lead:].ravel() for lv in levels])
        x = (x - pooled.mean()) / pooled.std()
    mask = np.ones(data.shape, dtype=bool)
    mask[:, :n_lead] = False
    return Recording.from_arrays(
        counts=data,
        bin_ms=bin_ms,
        inputs=x[:, :, None],
        mask=mask,
        unit_names=("receptor",),
        trial_starts_ms=np.concatenate(starts),
        spikes_outside=[outside],
    )
