"""Reading and writing recordings: `.npz`, HDF5 (h5py) and NWB (pynwb).

One room (over 400 lines): one job, recording files, behind one `load_recording`; a
section per format, all sharing the path, optional-import and bin-width checks at the top.

h5py and pynwb are optional (`pip install adaptive_rnn[recordings]`); they are imported
only by the functions that need them.
"""

import inspect
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_choice, check_keys, check_type, suggest
from .._errors import InputError
from .._io import load_npz
from ._binning import _check_bin_ms, bin_spike_times
from ._recording import Recording

FORMATS = ("npz", "hdf5", "nwb")
_SUFFIXES = {".npz": "npz", ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5", ".nwb": "nwb"}
# Arrays of a recording file (.npz keys; default HDF5 dataset names).
_KEYS = (
    "counts",
    "signals",
    "inputs",
    "mask",
    "bin_ms",
    "unit_names",
    "trial_starts_ms",
    "spikes_outside",
)
_INSTALL = "pip install 'adaptive_rnn[recordings]'"


def _file(path: Any, name: str = "path") -> Path:
    check_type(name, path, (str, Path), "a file path (str or pathlib.Path)")
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{name}: {path}: file not found" + (" (a folder)" if p.is_dir() else ""))
    return p


def _require(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            f"{module} is not installed; reading this format needs it: {_INSTALL}"
        ) from None


def _merge_bin_ms(given: Any, stored: Any, where: str) -> float:
    if stored is not None:
        stored = np.asarray(stored)
        if stored.shape != () or not np.issubdtype(stored.dtype, np.number):
            raise InputError(f"{where}: 'bin_ms' holds {stored!r}, expected one number (ms)")
        stored = float(stored)
    if given is None:
        if stored is None:
            raise InputError(
                f"bin_ms: missing; {where} stores no 'bin_ms', expected the bin width in "
                f"milliseconds (a positive number) as an argument"
            )
        return _check_bin_ms(stored)
    given = _check_bin_ms(given)
    if stored is not None and not np.isclose(given, stored, rtol=1e-12, atol=0.0):
        raise InputError(
            f"bin_ms: got {given:g} ms, but {where} stores bin_ms = {stored:g} ms; expected "
            f"them to agree (leave bin_ms out to use the stored value)"
        )
    return given


def load_recording(path: Any, format: str | None = None, **options: Any) -> Recording:
    """Reads a recording from a file.

    **Arguments:**

    - `path`: the file.
    - `format`: `"npz"`, `"hdf5"` or `"nwb"`; default from the suffix (`.npz`;
        `.h5`/`.hdf5`/`.hdf`; `.nwb`).
    - `options`: passed on to `load_npz_recording`, `load_hdf5_recording` or
        `load_nwb_recording` (`bin_ms`, dataset or table names, ...).

    **Returns:** a `Recording`.

    **Raises:** `InputError` for an unknown format or suffix, an option the loader does
    not take (naming the nearest one), and whatever the loader refuses.
    """
    p = _file(path)
    if format is None:
        format = _SUFFIXES.get(p.suffix.lower())
        if format is None:
            raise InputError(
                f"format: cannot tell from the suffix of {path} ({p.suffix!r}); expected one of "
                f"{', '.join(repr(f) for f in FORMATS)} (or a file ending in "
                f"{', '.join(_SUFFIXES)})"
            )
    check_choice("format", format, FORMATS)
    loader = {"npz": load_npz_recording, "hdf5": load_hdf5_recording, "nwb": load_nwb_recording}[
        format
    ]
    allowed = [n for n in inspect.signature(loader).parameters if n != "path"]
    check_keys(f"options of load_recording(format={format!r})", options, allowed)
    return loader(p, **options)


# --------------------------------------------------------------------------------------
# .npz
# --------------------------------------------------------------------------------------


def load_npz_recording(path: Any, *, bin_ms: Any = None) -> Recording:
    """Reads a recording from an `.npz` archive (as written by `save_recording`).

    Arrays: `counts` or `signals` `(trials, time, units)`; optional `inputs`, `mask`,
    `bin_ms`, `unit_names` (strings), `trial_starts_ms`, `spikes_outside`. Read without
    pickle: an array of Python objects is refused, never loaded.

    **Arguments:** `path`; `bin_ms`: the bin width in ms, when the file stores none (if
    both are given they must agree).

    **Returns:** a `Recording`.

    **Raises:** `InputError` for a missing file, a file that is not an `.npz` archive,
    an object array, an unknown array name (naming the nearest valid one), and every
    check of `Recording.from_arrays`.
    """
    where = f"path: {path}"
    data = load_npz(_file(path), (), option="path")  # the library's one safe .npz reader
    check_keys(f"{where}: arrays", data, _KEYS)
    return _from_dict(data, bin_ms, where)


def _from_dict(data: dict, bin_ms: Any, where: str) -> Recording:
    if ("counts" in data) == ("signals" in data):
        raise InputError(
            f"{where}: holds {'both' if 'counts' in data else 'neither of'} 'counts' and "
            f"'signals' (found {sorted(data)}); expected exactly one"
        )
    bin_ms = _merge_bin_ms(bin_ms, data.get("bin_ms"), where)
    names = data.get("unit_names")
    return Recording.from_arrays(
        counts=data.get("counts"),
        signals=data.get("signals"),
        bin_ms=bin_ms,
        inputs=data.get("inputs"),
        mask=data.get("mask"),
        unit_names=None if names is None else [str(n) for n in np.asarray(names).tolist()],
        trial_starts_ms=data.get("trial_starts_ms"),
        spikes_outside=data.get("spikes_outside"),
    )


def _arrays(rec: Recording) -> dict[str, np.ndarray]:
    out = {
        rec.kind: rec.data.astype(np.int64) if rec.kind == "counts" else rec.data,
        "mask": rec.mask,
        "bin_ms": np.float64(rec.bin_ms),
        "unit_names": np.array(rec.unit_names, dtype=str),
    }
    for k in ("inputs", "trial_starts_ms"):
        if getattr(rec, k) is not None:
            out[k] = getattr(rec, k)
    if rec.spikes_outside is not None:
        out["spikes_outside"] = np.array(rec.spikes_outside, dtype=np.int64)
    return out


def save_recording(recording: Recording, path: Any, format: str | None = None) -> Path:
    """Writes a recording to `.npz` or HDF5, readable by `load_recording`.

    **Arguments:** `recording`; `path`; `format`: `"npz"` or `"hdf5"` (default from the
    suffix).

    **Returns:** the path written.

    **Raises:** `InputError` for something that is not a `Recording`, an unknown format,
    or a folder that does not exist.
    """
    check_type("recording", recording, Recording, "a Recording")
    check_type("path", path, (str, Path), "a file path (str or pathlib.Path)")
    p = Path(path)
    if format is None:
        format = _SUFFIXES.get(p.suffix.lower())
    check_choice("format", format, ("npz", "hdf5"))
    if not p.parent.is_dir():
        raise InputError(f"path: {path}: folder {p.parent} does not exist")
    arrays = _arrays(recording)
    if format == "npz":
        with open(p, "wb") as f:  # an open file: numpy.savez would append '.npz' to a name
            # numpy's stub matches `**kwds` against `allow_pickle: bool` (arrays are accepted at run time).
            np.savez(f, **arrays)  # pyright: ignore[reportArgumentType]
    else:
        h5py = _require("h5py")
        with h5py.File(p, "w") as f:
            for k, v in arrays.items():
                f.create_dataset(k, data=v if k != "unit_names" else v.astype(h5py.string_dtype()))
    return p


# --------------------------------------------------------------------------------------
# HDF5
# --------------------------------------------------------------------------------------


def load_hdf5_recording(
    path: Any,
    *,
    counts: str | None = None,
    signals: str | None = None,
    inputs: str | None = None,
    mask: str | None = None,
    unit_names: str | None = None,
    trial_starts_ms: str | None = None,
    spikes_outside: str | None = None,
    bin_ms: Any = None,
) -> Recording:
    """Reads a recording from named datasets of an HDF5 file (h5py).

    **Arguments:**

    - `path`: the file.
    - `counts` or `signals`: the dataset (path inside the file) holding `(trials, time,
        units)` spike counts or signals. Default: whichever of `counts` / `signals`
        the file holds.
    - `inputs`, `mask`, `unit_names`, `trial_starts_ms`, `spikes_outside`: optional
        dataset names; each defaults to the dataset of that name when the file holds one.
    - `bin_ms`: the bin width in ms. Default: the attribute `bin_ms` of the data
        dataset or of the file, or a scalar dataset `bin_ms` (if both are given they
        must agree).

    **Returns:** a `Recording`.

    **Raises:** `InputError` when h5py is missing, for a file that is not HDF5, a named
    dataset the file lacks (listing those it has, naming the nearest), and every check
    of `Recording.from_arrays`.
    """
    h5py = _require("h5py")
    p = _file(path)
    where = f"path: {path}"
    named = {
        "counts": counts,
        "signals": signals,
        "inputs": inputs,
        "mask": mask,
        "unit_names": unit_names,
        "trial_starts_ms": trial_starts_ms,
        "spikes_outside": spikes_outside,
    }
    for k, v in named.items():
        if v is not None:
            check_type(k, v, str, "a dataset name (str)")
    if counts is not None and signals is not None:
        raise InputError(
            f"counts, signals: got both ({counts!r}, {signals!r}); expected one dataset name"
        )
    try:
        f = h5py.File(p, "r")
    except OSError as e:
        raise InputError(
            f"{where}: not a readable HDF5 file ({e}); expected an HDF5 file"
        ) from None
    with f:
        found: list[str] = []
        f.visititems(lambda n, o: found.append(n) if isinstance(o, h5py.Dataset) else None)

        def read(key: str, name: str | None):
            target = key if name is None else name
            if target not in f or not isinstance(f[target], h5py.Dataset):
                if name is None:  # an optional dataset under its default name
                    return None
                raise InputError(
                    f"{key}: {where} has no dataset {name!r}{suggest(name, found)}; it holds "
                    f"{found}"
                )
            ds = f[target]
            if ds.dtype.kind in "OSU":  # strings (unit names)
                return np.array(
                    [v.decode() if isinstance(v, bytes) else str(v) for v in ds[()].ravel()]
                )
            return ds[()]

        if counts is None and signals is None:
            if ("counts" in f) == ("signals" in f):
                raise InputError(
                    f"counts, signals: {where} holds {'both' if 'counts' in f else 'neither of'} "
                    f"'counts' and 'signals' (datasets: {found}); name the data with counts= or "
                    f"signals="
                )
            kind = "counts" if "counts" in f else "signals"
            named[kind] = kind
        data = {
            k: read(k, v)
            for k, v in named.items()
            if v is not None or k not in ("counts", "signals")
        }
        source = named["counts"] or named["signals"]
        stored = f[source].attrs.get("bin_ms", f.attrs.get("bin_ms"))
        if stored is None and "bin_ms" in f and isinstance(f["bin_ms"], h5py.Dataset):
            stored = f["bin_ms"][()]
    data = {k: v for k, v in data.items() if v is not None}
    if stored is not None:
        data["bin_ms"] = stored
    return _from_dict(data, bin_ms, where)


# --------------------------------------------------------------------------------------
# NWB
# --------------------------------------------------------------------------------------


def _nwb_object(nwb, name: str, cls, what: str, option: str, path) -> Any:
    found = [o for o in nwb.objects.values() if isinstance(o, cls)]
    hits = [o for o in found if o.name == name]
    names = sorted({o.name for o in found})
    if not hits:
        raise InputError(
            f"{option}: the NWB file {path} has no {what} named {name!r}{suggest(name, names)}; "
            f"it holds {names if names else 'none'}"
        )
    if len(hits) > 1:
        raise InputError(
            f"{option}: the NWB file {path} holds {len(hits)} {what}s named {name!r}; expected one"
        )
    return hits[0]


def load_nwb_recording(
    path: Any,
    *,
    bin_ms: Any = None,
    units: str = "units",
    intervals: str = "trials",
    timeseries: str | None = None,
    window_ms: Any = None,
    align_to: str = "start_time",
    on_outside: str = "warn",
) -> Recording:
    """Reads trials of a recording from an NWB file (pynwb).

    Spike counts: the spike times of a `Units` table, binned into the trials of a
    `TimeIntervals` table (`bin_spike_times`). Continuous signals: when `timeseries`
    names a `TimeSeries`, its samples (times `conversion` plus `offset`) are averaged
    within each bin; a bin without a sample is masked. NWB times are in seconds; bins,
    windows and `Recording.trial_starts_ms` are in milliseconds.

    **Arguments:**

    - `path`: the `.nwb` file.
    - `bin_ms`: the bin width in milliseconds (required).
    - `units`: name of the `Units` table (default `"units"`).
    - `intervals`: name of the `TimeIntervals` table of trials (default `"trials"`).
    - `timeseries`: name of a `TimeSeries` to read instead of spikes (`kind="signals"`).
    - `window_ms`: `(begin, end)` in ms relative to each trial's `align_to` time, a
        whole number of bins long; default: each trial's own `[start_time, stop_time)`.
    - `align_to`: the column of the intervals table that `window_ms` is relative to
        (default `"start_time"`; another column needs `window_ms`).
    - `on_outside`: spikes outside every trial window: `"warn"` (default), `"error"`
        or `"record"`; their count per unit is kept in `Recording.spikes_outside`.

    **Returns:** a `Recording` (`unit_names`: the unit ids, or the series' channels).

    **Raises:** `InputError` when pynwb is missing (with the command that installs it),
    for a file pynwb cannot read, a table, column or series the file lacks (listing
    those it has), and every check of `bin_spike_times` and `Recording.from_arrays`.
    """
    pynwb = _require("pynwb")
    p = _file(path)
    bin_ms = _check_bin_ms(bin_ms)
    check_type("intervals", intervals, str, "the name of a TimeIntervals table (str)")
    check_type("align_to", align_to, str, "a column name of the intervals table (str)")
    check_choice("on_outside", on_outside, ("warn", "error", "record"))
    if align_to != "start_time" and window_ms is None:
        raise InputError(
            f"window_ms: missing; aligning to {align_to!r} needs a window (begin, end) in ms "
            f"relative to it"
        )
    try:
        io = pynwb.NWBHDF5IO(str(p), "r")
    except Exception as e:
        raise InputError(
            f"path: {path}: not a readable NWB file ({type(e).__name__}: {e})"
        ) from None
    with io:
        try:
            nwb = io.read()
        except Exception as e:
            raise InputError(
                f"path: {path}: not a readable NWB file ({type(e).__name__}: {e})"
            ) from None
        table = _nwb_object(
            nwb, intervals, pynwb.epoch.TimeIntervals, "TimeIntervals table", "intervals", path
        )
        cols = list(table.colnames)
        if align_to not in cols:
            raise InputError(
                f"align_to: the intervals table {intervals!r} has no column {align_to!r}"
                f"{suggest(align_to, cols)}; it has {cols}"
            )
        starts = np.asarray(table[align_to].data[:], dtype=np.float64)
        stops = (
            None
            if window_ms is not None
            else np.asarray(table["stop_time"].data[:], dtype=np.float64)
        )
        if timeseries is not None:
            check_type("timeseries", timeseries, str, "the name of a TimeSeries (str)")
            ts = _nwb_object(
                nwb, timeseries, pynwb.base.TimeSeries, "TimeSeries", "timeseries", path
            )
            return _bin_timeseries(ts, timeseries, starts, stops, bin_ms, window_ms)
        check_type("units", units, str, "the name of a Units table (str)")
        table_u = _nwb_object(nwb, units, pynwb.misc.Units, "Units table", "units", path)
        if "spike_times" not in table_u.colnames:
            raise InputError(
                f"units: the Units table {units!r} in {path} has no spike_times column"
            )
        col = table_u["spike_times"]
        flat = np.asarray(col.target.data[:], dtype=np.float64)
        ends = np.asarray(col.data[:], dtype=np.int64)
        spike_times = np.split(flat, ends[:-1]) if ends.size else []
        ids = [int(i) for i in table_u.id.data[:]]
    return Recording.from_spike_times(
        spike_times,
        starts,
        stops,
        bin_ms=bin_ms,
        time_unit="s",
        window_ms=window_ms,
        unit_names=ids,
        on_outside=on_outside,
    )


def _bin_timeseries(
    ts, name: str, starts: np.ndarray, stops, bin_ms: float, window_ms
) -> Recording:
    if ts.data is None or len(ts.data.shape) not in (1, 2):
        raise InputError(
            f"timeseries: {name!r} holds data of shape {getattr(ts.data, 'shape', None)}; "
            f"expected (time,) or (time, channels)"
        )
    n = ts.data.shape[0]
    if ts.timestamps is not None:
        t = np.asarray(ts.timestamps[:], dtype=np.float64) * 1000.0
    else:
        t = (float(ts.starting_time) + np.arange(n) / float(ts.rate)) * 1000.0
    # Bin edges of every trial, from the same rule as for spikes (no spikes: times only).
    binned = bin_spike_times(
        [np.zeros(0)], starts, stops, bin_ms=bin_ms, time_unit="s", window_ms=window_ms
    )
    lo, n_bins = binned.starts_ms, binned.mask.sum(axis=1)
    n_max = binned.mask.shape[1]
    width = ts.data.shape[1] if len(ts.data.shape) == 2 else 1
    scale, offset = float(getattr(ts, "conversion", 1.0)), float(getattr(ts, "offset", 0.0) or 0.0)
    out = np.full((lo.size, n_max, width), np.nan)
    for i in range(lo.size):  # host-side, once per trial: reads only the trial's samples
        i0, i1 = np.searchsorted(t, [lo[i], lo[i] + n_bins[i] * bin_ms], side="left")
        if i1 <= i0:
            continue
        x = np.asarray(ts.data[i0:i1], dtype=np.float64).reshape(i1 - i0, width) * scale + offset
        k = np.floor((t[i0:i1] - lo[i]) / bin_ms).astype(np.int64).clip(0, n_bins[i] - 1)
        total = np.zeros((n_max, width))
        np.add.at(total, k, x)
        hits = np.bincount(k, minlength=n_max)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i] = np.where(hits > 0, total / np.maximum(hits, 1), np.nan)
    names = [f"{name}[{j}]" for j in range(width)]
    return Recording.from_arrays(signals=out, bin_ms=bin_ms, unit_names=names, trial_starts_ms=lo)
