"""A recording: trials of binned spike counts or continuous signals, with the bin width
in milliseconds, a mask of observed samples, and optional inputs.

Validated once, on the host, before anything compiles: every later step (observation
models, fitting, bootstrap) may assume finite observed values, integer counts and a
positive bin width.

Binning spike times into trials (`bin_spike_times`, used by
`Recording.from_spike_times`) is in `adaptive_rnn.recordings._binning`.


One room (over 400 lines): the `Recording` class and its validation, splitting and
resampling, which all rely on the invariants its constructor checks.
"""

import warnings
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_array, check_choice, check_int
from .._errors import InputError
from ._binning import _check_bin_ms, bin_spike_times

KINDS = ("counts", "signals")


def _check_key(key: Any) -> None:
    if not (
        isinstance(key, jax.Array)
        and (jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or key.shape == (2,))
    ):
        raise InputError(f"key: got {type(key).__name__}, expected a jax.random key")


def _where(index) -> str:
    return "(trial, bin, unit) = " + str(tuple(int(i) for i in index))


def _first_bad(name: str, bad: np.ndarray, values: np.ndarray, problem: str, expected: str) -> None:
    if bad.any():
        first = np.argwhere(bad)[0]
        raise InputError(
            f"{name}: holds {int(bad.sum())} {problem} (first {values[tuple(first)].item()!r} at "
            f"{_where(first)}); expected {expected}"
        )


class Recording(eqx.Module):
    """Trials of a recording, binned at `bin_ms` milliseconds.

    **Fields:**

    - `data`: `(trials, time, units)` float64 NumPy array; spike counts (`kind="counts"`,
        non-negative integers) or continuous signals (`kind="signals"`). Entries outside
        the mask hold 0.
    - `mask`: `(trials, time, units)` bool, `True` where a sample was observed.
    - `kind`: `"counts"` or `"signals"`.
    - `bin_ms`: the bin width (sampling interval) in milliseconds.
    - `unit_names`: one name per unit.
    - `inputs`: optional `(trials, time, n_in)` float64 inputs (stimuli) aligned with
        the bins.
    - `trial_starts_ms`: optional `(trials,)` absolute time of each trial's first bin, ms.
    - `spikes_outside`: for counts binned from spike times, per unit the number of spikes
        that fell outside every trial window (kept as a record, never silently dropped);
        `None` otherwise.

    Build it with `Recording.from_arrays`, `Recording.from_spike_times` or
    `load_recording`, which check every array; the fields are then trusted.
    """

    data: np.ndarray
    mask: np.ndarray
    kind: str = eqx.field(static=True)
    bin_ms: float = eqx.field(static=True)
    unit_names: tuple[str, ...] = eqx.field(static=True)
    inputs: np.ndarray | None = None
    trial_starts_ms: np.ndarray | None = None
    spikes_outside: tuple[int, ...] | None = eqx.field(static=True, default=None)

    # ---------------------------------------------------------------- constructors

    @classmethod
    def from_arrays(
        cls,
        counts: Any = None,
        signals: Any = None,
        *,
        bin_ms: Any = None,
        inputs: Any = None,
        mask: Any = None,
        unit_names: Any = None,
        trial_starts_ms: Any = None,
        spikes_outside: Any = None,
    ) -> "Recording":
        """A recording from arrays, checked.

        **Arguments:**

        - `counts`: `(trials, time, units)` spike counts (non-negative integers), or
        - `signals`: `(trials, time, units)` continuous signals. Exactly one of the two.
            NaN marks a missing sample.
        - `bin_ms`: the bin width in milliseconds (required).
        - `inputs`: optional `(trials, time, n_in)` inputs, finite everywhere.
        - `mask`: optional `(trials, time, units)` booleans (or 0/1), `True` where a
            sample was observed. Default: the entries that are not NaN. An infinite
            value is never taken as missing: a mask must cover it explicitly.
        - `unit_names`: optional names (strings or integers), one per unit, distinct.
            Default `"0"`, `"1"`, ...
        - `trial_starts_ms`: optional `(trials,)` absolute start of each trial, ms.
        - `spikes_outside`: optional per-unit counts of spikes outside every trial.

        **Returns:** a `Recording`.

        **Raises:** `InputError` naming the array and the first offending entry: both or
        neither of `counts`/`signals`; a wrong rank or shape; a missing or non-positive
        `bin_ms`; non-finite values that no mask covers; negative or non-integer counts;
        a unit with no observed sample; bad names or trial starts.
        """
        if (counts is None) == (signals is None):
            got = "both" if counts is not None else "neither"
            raise InputError(
                f"counts, signals: got {got}; expected exactly one (counts for binned spike "
                f"counts, signals for continuous signals)"
            )
        kind = "counts" if counts is not None else "signals"
        bin_ms = _check_bin_ms(bin_ms)
        data = check_array(
            kind, counts if kind == "counts" else signals, 3, "(trials, time, units)"
        )
        if min(data.shape) < 1:
            raise InputError(
                f"{kind}: got shape {data.shape}; expected at least one trial, one time bin "
                f"and one unit"
            )
        data = data.astype(np.float64)
        if mask is None:
            mask = ~np.isnan(data)
        else:
            m = check_array("mask", mask, 3, "(trials, time, units)")
            if m.shape != data.shape:
                raise InputError(
                    f"mask: got shape {m.shape}, expected the shape of {kind} {data.shape}"
                )
            if m.dtype != np.bool_:
                bad = ~np.isin(m, (0, 1))
                _first_bad(
                    "mask", bad, m, "values other than 0 and 1", "booleans (True where observed)"
                )
            mask = m.astype(bool)
        _first_bad(
            kind,
            mask & ~np.isfinite(data),
            data,
            "non-finite values not covered by the mask",
            "finite values, or NaN / mask False where a sample is missing",
        )
        if kind == "counts":
            _first_bad(
                "counts",
                mask & (data < 0),
                data,
                "negative values",
                "non-negative integer spike counts",
            )
            _first_bad(
                "counts",
                mask & (data != np.round(data)),
                data,
                "non-integer values",
                "integer spike counts (pass signals= for continuous signals)",
            )
        seen = mask.any(axis=(0, 1))
        names = _unit_names(unit_names, data.shape[2])
        if not seen.all():
            u = int(np.argmin(seen))
            raise InputError(
                f"mask: unit {u} ({names[u]!r}) has no observed sample in {kind} of shape "
                f"{data.shape}; expected at least one observed sample per unit"
            )
        data = np.where(mask, data, 0.0)
        if inputs is not None:
            inputs = check_array("inputs", inputs, 3, "(trials, time, n_in)").astype(np.float64)
            if inputs.shape[:2] != data.shape[:2]:
                raise InputError(
                    f"inputs: got shape {inputs.shape}, expected (trials, time) = "
                    f"{data.shape[:2]} as {kind}, then n_in"
                )
            _first_bad(
                "inputs",
                ~np.isfinite(inputs),
                inputs,
                "non-finite values",
                "finite inputs (inputs have no mask)",
            )
        if trial_starts_ms is not None:
            trial_starts_ms = check_array(
                "trial_starts_ms", trial_starts_ms, 1, "(trials,)"
            ).astype(np.float64)
            if trial_starts_ms.shape != (data.shape[0],):
                raise InputError(
                    f"trial_starts_ms: got shape {trial_starts_ms.shape}, expected "
                    f"({data.shape[0]},), one start per trial"
                )
            if not np.all(np.isfinite(trial_starts_ms)):
                raise InputError(
                    "trial_starts_ms: holds non-finite values; expected finite times in ms"
                )
        if spikes_outside is not None:
            out = check_array("spikes_outside", spikes_outside, 1, "(units,)")
            if out.shape != (data.shape[2],) or np.any(out < 0) or np.any(out != np.round(out)):
                raise InputError(
                    f"spikes_outside: got {out!r}, expected {data.shape[2]} non-negative integers"
                )
            spikes_outside = tuple(int(v) for v in out)
        return cls(
            data=data,
            mask=mask,
            kind=kind,
            bin_ms=bin_ms,
            unit_names=names,
            inputs=inputs,
            trial_starts_ms=trial_starts_ms,
            spikes_outside=spikes_outside,
        )

    @classmethod
    def from_spike_times(
        cls,
        spike_times: Any,
        trial_starts: Any,
        trial_stops: Any = None,
        *,
        bin_ms: Any = None,
        time_unit: Any = None,
        window_ms: Any = None,
        unit_names: Any = None,
        on_outside: str = "warn",
    ) -> "Recording":
        """Spike counts binned from spike times (see `bin_spike_times`).

        **Arguments:** as `bin_spike_times`, plus

        - `unit_names`: optional names, one per unit.
        - `on_outside`: what to do when spikes fall outside every trial window: `"warn"`
            (default), `"error"` or `"record"` (only record). The counts are always
            kept in `Recording.spikes_outside`.

        **Returns:** a `Recording` of kind `"counts"`; bins past a trial's end are
        masked.

        **Raises:** `InputError` as `bin_spike_times`, and for spikes outside every trial
        when `on_outside="error"`.
        """
        check_choice("on_outside", on_outside, ("warn", "error", "record"))
        binned = bin_spike_times(
            spike_times,
            trial_starts,
            trial_stops,
            bin_ms=bin_ms,
            time_unit=time_unit,
            window_ms=window_ms,
        )
        n_out, n_all = int(binned.n_outside.sum()), int(binned.n_spikes.sum())
        if n_out and on_outside != "record":
            msg = (
                f"spike_times: {n_out} of {n_all} spikes ({100 * n_out / max(n_all, 1):.3g} %) "
                f"fall outside every trial window"
            )
            if on_outside == "error":
                raise InputError(
                    msg + "; expected every spike inside a trial (pass "
                    "on_outside='warn' or 'record' to accept)"
                )
            warnings.warn(
                msg + "; they are not in the counts (counted per unit in Recording.spikes_outside)",
                stacklevel=2,
            )
        mask = np.broadcast_to(binned.mask[:, :, None], binned.counts.shape)
        return cls.from_arrays(
            counts=binned.counts,
            bin_ms=bin_ms,
            mask=mask,
            unit_names=unit_names,
            trial_starts_ms=binned.starts_ms,
            spikes_outside=binned.n_outside,
        )

    # ---------------------------------------------------------------- sizes

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return int(self.data.shape[0])

    @property
    def n_time(self) -> int:
        """Number of time bins per trial."""
        return int(self.data.shape[1])

    @property
    def n_units(self) -> int:
        """Number of units (neurons, channels)."""
        return int(self.data.shape[2])

    @property
    def n_in(self) -> int:
        """Number of input channels (0 without inputs)."""
        return 0 if self.inputs is None else int(self.inputs.shape[2])

    @property
    def duration_ms(self) -> float:
        """Length of a trial in milliseconds, `n_time * bin_ms`."""
        return self.n_time * self.bin_ms

    @property
    def times_ms(self) -> np.ndarray:
        """Start of each bin relative to the trial's first bin, in milliseconds."""
        return np.arange(self.n_time) * self.bin_ms

    # ---------------------------------------------------------------- trials

    def check_trials(self, n_heldout: int = 0, resample: bool = False) -> None:
        """Checks that there are enough trials to hold out `n_heldout` and fit on the
        rest (resampling the rest with replacement when `resample`: at least 2).

        **Raises:** `InputError` saying how many trials are needed.
        """
        n_heldout = check_int("n_heldout", n_heldout, 0)
        n_fit = 2 if resample else 1
        needed = n_heldout + n_fit
        if self.n_trials < needed:
            parts = ([f"{n_heldout} held out"] if n_heldout else []) + [
                f"{n_fit} to {'resample' if resample else 'fit'}"
            ]
            raise InputError(
                f"{self.kind}: holds {self.n_trials} trial{'s' if self.n_trials != 1 else ''}; "
                f"expected at least {needed} ({' + '.join(parts)})"
            )

    def take(self, trials: Any) -> "Recording":
        """The recording restricted to (or resampled at) the given trial indices.

        **Arguments:** `trials`: 1-D integer indices in `[0, n_trials)`, repeats allowed.

        **Returns:** a `Recording` with `len(trials)` trials.
        """
        idx = check_array("trials", trials, 1, "(k,)")
        if (
            not np.issubdtype(idx.dtype, np.integer)
            or idx.size == 0
            or idx.min() < 0
            or idx.max() >= self.n_trials
        ):
            raise InputError(
                f"trials: got {idx!r}, expected a non-empty 1-D array of integer indices in "
                f"[0, {self.n_trials})"
            )

        def pick(a):
            return None if a is None else a[idx]

        return Recording(
            data=self.data[idx],
            mask=self.mask[idx],
            kind=self.kind,
            bin_ms=self.bin_ms,
            unit_names=self.unit_names,
            inputs=pick(self.inputs),
            trial_starts_ms=pick(self.trial_starts_ms),
            spikes_outside=self.spikes_outside,
        )

    def split(self, n_heldout: int, key: Any) -> tuple["Recording", "Recording"]:
        """Holds out `n_heldout` trials chosen at random.

        **Arguments:**

        - `n_heldout`: trials to hold out, at least 1, leaving at least 1.
        - `key`: a `jax.random` key.

        **Returns:** `(kept, heldout)`, each with its trials in their original order.

        **Raises:** `InputError` for a bad count or too few trials.
        """
        n_heldout = check_int("n_heldout", n_heldout, 1)
        self.check_trials(n_heldout)
        _check_key(key)
        perm = np.asarray(jax.random.permutation(key, self.n_trials))
        return self.take(np.sort(perm[n_heldout:])), self.take(np.sort(perm[:n_heldout]))

    def resample(self, key: Any) -> "Recording":
        """A bootstrap resample: `n_trials` trials drawn with replacement.

        **Arguments:** `key`: a `jax.random` key.

        **Returns:** a `Recording` of the same size.

        **Raises:** `InputError` with fewer than 2 trials.
        """
        self.check_trials(0, resample=True)
        _check_key(key)
        return self.take(np.asarray(bootstrap_indices(key, self.n_trials)))


def bootstrap_indices(key: Any, n_trials: int, n_resamples: int | None = None) -> jax.Array:
    """Trial indices drawn with replacement: `(n_trials,)`, or `(n_resamples, n_trials)`
    for many resamples at once (to gather and `vmap` inside one compiled program).

    **Arguments:** `key`: a `jax.random` key; `n_trials`; `n_resamples` (optional).

    **Returns:** an integer JAX array of indices in `[0, n_trials)`.
    """
    n_trials = check_int("n_trials", n_trials, 1)
    shape = (
        (n_trials,) if n_resamples is None else (check_int("n_resamples", n_resamples, 1), n_trials)
    )
    _check_key(key)
    return jax.random.randint(key, shape, 0, n_trials)


def _unit_names(unit_names: Any, n_units: int) -> tuple[str, ...]:
    if unit_names is None:
        return tuple(str(i) for i in range(n_units))
    if isinstance(unit_names, (str, bytes)):
        raise InputError(
            f"unit_names: got the string {unit_names!r}, expected a sequence of {n_units} names"
        )
    try:
        items = list(unit_names)
    except TypeError:
        raise InputError(
            f"unit_names: got {type(unit_names).__name__}, expected a sequence of {n_units} names"
        ) from None
    names = []
    for i, v in enumerate(items):
        if isinstance(v, bytes):
            v = v.decode()
        if isinstance(v, (str, np.str_)):
            names.append(str(v))
        elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            names.append(str(int(v)))
        else:
            raise InputError(f"unit_names[{i}]: got {v!r}, expected a string or an integer id")
    if len(names) != n_units:
        raise InputError(f"unit_names: got {len(names)} names, expected {n_units}, one per unit")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"unit_names: {dup!r} appears more than once; expected distinct names")
    return tuple(names)
