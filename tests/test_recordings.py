"""Recordings: arrays, .npz, HDF5 and NWB in; spike times binned in milliseconds; every
bad input refused with the array or field named."""

import sys
from datetime import UTC, datetime

import numpy as np
import pytest

from adaptive_rnn import InputError
from adaptive_rnn.recordings import (
    Recording,
    bin_spike_times,
    bootstrap_indices,
    load_hdf5_recording,
    load_npz_recording,
    load_nwb_recording,
    load_recording,
    save_recording,
)


def _counts(shape=(6, 20, 3), seed=0):
    return np.random.default_rng(seed).poisson(2.0, size=shape)


def _hand_bin(spikes_ms, lo_ms, n_bins, bin_ms):
    """Counts of one unit by np.histogram, trial by trial (the reference binning)."""
    out = np.zeros((len(lo_ms), max(n_bins)), dtype=np.int64)
    for i, (lo, n) in enumerate(zip(lo_ms, n_bins)):
        out[i, :n] = np.histogram(spikes_ms, lo + np.arange(n + 1) * bin_ms)[0]
    return out


def _hand_outside(spikes_ms, lo_ms, hi_ms):
    inside = np.zeros(spikes_ms.shape, bool)
    for lo, hi in zip(lo_ms, hi_ms):
        inside |= (spikes_ms >= lo) & (spikes_ms < hi)
    return int((~inside).sum())


# ------------------------------------------------------------------ arrays


def test_from_arrays_mask_and_sizes():
    x = _counts().astype(float)
    x[1, 3, 2] = np.nan  # a missing sample
    rec = Recording.from_arrays(counts=x, bin_ms=25)
    assert (rec.n_trials, rec.n_time, rec.n_units, rec.n_in) == (6, 20, 3, 0)
    assert rec.duration_ms == 500.0 and rec.bin_ms == 25.0 and rec.kind == "counts"
    assert not rec.mask[1, 3, 2] and rec.mask.sum() == x.size - 1
    assert rec.data[1, 3, 2] == 0.0  # masked entries hold 0, never NaN
    np.testing.assert_array_equal(rec.data[rec.mask], x[~np.isnan(x)])
    assert rec.unit_names == ("0", "1", "2")
    np.testing.assert_array_equal(rec.times_ms, np.arange(20) * 25.0)


def test_split_and_resample(getkey):
    rec = Recording.from_arrays(
        signals=np.arange(8 * 4 * 2, dtype=float).reshape(8, 4, 2),
        bin_ms=1.0,
        inputs=np.ones((8, 4, 1)),
        trial_starts_ms=np.arange(8) * 100.0,
    )
    key = getkey()
    kept, held = rec.split(3, key)
    assert (kept.n_trials, held.n_trials) == (5, 3)
    got = np.sort(np.r_[kept.trial_starts_ms, held.trial_starts_ms])
    np.testing.assert_array_equal(got, rec.trial_starts_ms)  # a partition of the trials
    kept2, _ = rec.split(3, key)
    np.testing.assert_array_equal(kept.data, kept2.data)  # the key decides
    boot = rec.resample(getkey())
    assert boot.n_trials == 8 and boot.inputs.shape == (8, 4, 1)
    idx = (boot.trial_starts_ms / 100.0).astype(int)
    np.testing.assert_array_equal(boot.data, rec.data[idx])
    assert len(np.unique(idx)) < 8  # with replacement (this key draws repeats)
    many = bootstrap_indices(getkey(), 8, 5)
    assert many.shape == (5, 8) and int(many.min()) >= 0 and int(many.max()) < 8


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            dict(counts=-_counts()),
            r"counts: holds \d+ negative values \(first -\d.* at \(trial, bin, unit\)",
        ),
        (dict(counts=_counts() + 0.5), r"counts: holds \d+ non-integer values .*pass signals="),
        (
            dict(counts=np.where(np.arange(3) == 1, np.inf, _counts())),
            r"counts: holds 120 non-finite values not covered by the mask",
        ),
        (
            dict(signals=np.full((2, 3, 1), np.inf), mask=np.ones((2, 3, 1), bool)),
            r"signals: holds 6 non-finite values not covered by the mask",
        ),
        (
            dict(counts=_counts(), bin_ms=None),
            r"bin_ms: missing; expected the bin width in milliseconds",
        ),
        (dict(counts=_counts(), bin_ms=0), r"bin_ms: got 0, expected a finite number > 0"),
        (dict(counts=_counts(), bin_ms=-5.0), r"bin_ms: got -5.0"),
        (dict(counts=_counts(), signals=_counts().astype(float)), r"counts, signals: got both"),
        (dict(), r"counts, signals: got neither"),
        (
            dict(counts=np.zeros((4, 5))),
            r"counts: got shape \(4, 5\) \(rank 2\), expected rank 3, \(trials, time, units\)",
        ),
        (
            dict(counts=_counts(), inputs=np.zeros((6, 19, 1))),
            r"inputs: got shape \(6, 19, 1\), expected \(trials, time\) = \(6, 20\)",
        ),
        (
            dict(counts=_counts(), inputs=np.full((6, 20, 1), np.nan)),
            r"inputs: holds 120 non-finite values",
        ),
        (
            dict(counts=_counts(), mask=np.ones((6, 20, 2), bool)),
            r"mask: got shape \(6, 20, 2\), expected the shape of counts",
        ),
        (
            dict(counts=_counts(), mask=np.full((6, 20, 3), 2)),
            r"mask: holds 360 values other than 0 and 1",
        ),
        (
            dict(counts=_counts(), mask=np.zeros((6, 20, 3), bool)),
            r"mask: unit 0 \('0'\) has no observed sample",
        ),
        (dict(counts=_counts(), unit_names=["a", "b"]), r"unit_names: got 2 names, expected 3"),
        (
            dict(counts=_counts(), unit_names=["a", "b", "a"]),
            r"unit_names: 'a' appears more than once",
        ),
        (dict(counts=np.array([[["1"]]])), r"counts: got dtype <U1, expected an array of shape"),
    ],
)
def test_bad_arrays(kwargs, match):
    with pytest.raises(InputError, match=match):
        Recording.from_arrays(**{"bin_ms": 10.0, **kwargs})


def test_nan_covered_by_mask_is_accepted():
    x = _counts().astype(float)
    x[0, 0, 0] = np.inf
    mask = np.ones(x.shape, bool)
    mask[0, 0, 0] = False
    rec = Recording.from_arrays(counts=x, bin_ms=5, mask=mask)
    assert rec.data[0, 0, 0] == 0.0 and not rec.mask[0, 0, 0]


def test_too_few_trials(getkey):
    rec = Recording.from_arrays(counts=_counts((3, 5, 1)), bin_ms=10)
    with pytest.raises(
        InputError, match=r"counts: holds 3 trials; expected at least 4 \(3 held out \+ 1 to fit\)"
    ):
        rec.split(3, getkey())
    with pytest.raises(
        InputError, match=r"holds 3 trials; expected at least 4 \(2 held out \+ 2 to resample\)"
    ):
        rec.check_trials(2, resample=True)
    one = Recording.from_arrays(counts=_counts((1, 5, 1)), bin_ms=10)
    with pytest.raises(InputError, match=r"holds 1 trial; expected at least 2 \(2 to resample\)"):
        one.resample(getkey())
    with pytest.raises(InputError, match="key: got int"):
        rec.resample(0)


# ------------------------------------------------------------------ spike times


def test_bin_spike_times_equals_hand_binning(getkey):
    rng = np.random.default_rng(3)
    spikes = [np.sort(rng.uniform(-0.5, 6.0, size=n)) for n in (400, 0, 57)]  # seconds
    starts = np.array([0.0, 1.3, 2.9, 2.95, 4.0])  # trials 2 and 3 overlap
    stops = np.array([1.0, 2.051, 3.5, 3.6, 4.7])
    b = bin_spike_times(spikes, starts, stops, bin_ms=50, time_unit="s")
    n_bins = np.floor((stops - starts) * 1000 / 50 + 1e-9).astype(
        int
    )  # trial 1: 15 bins, 1 ms cut off
    np.testing.assert_array_equal(b.mask.sum(1), n_bins)
    for u, s in enumerate(spikes):
        np.testing.assert_array_equal(
            b.counts[:, :, u], _hand_bin(s * 1000, starts * 1000, n_bins, 50.0)
        )
        assert b.n_outside[u] == _hand_outside(
            s * 1000, starts * 1000, starts * 1000 + n_bins * 50.0
        )
    assert b.n_outside[0] > 0 and b.n_spikes.tolist() == [400, 0, 57]
    # The same in milliseconds, and with a window relative to the starts.
    b_ms = bin_spike_times(
        [s * 1000 for s in spikes], starts * 1000, stops * 1000, bin_ms=50, time_unit="ms"
    )
    np.testing.assert_array_equal(b_ms.counts, b.counts)
    w = bin_spike_times(spikes, starts, window_ms=(-200, 300), bin_ms=25, time_unit="s")
    assert w.counts.shape == (5, 20, 3) and w.mask.all()
    np.testing.assert_array_equal(
        w.counts[:, :, 2], _hand_bin(spikes[2] * 1000, starts * 1000 - 200, [20] * 5, 25.0)
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(time_unit="s"), r"bin_ms: missing"),
        (dict(bin_ms=10), r"time_unit: missing; expected 's' or 'ms'"),
        (dict(bin_ms=10, time_unit="sec"), r"time_unit: got 'sec', expected one of 's', 'ms'"),
        (
            dict(bin_ms=10, time_unit="s", trial_stops=np.array([0.005, 1.0])),
            r"trial_stops: trial 0 lasts 5 ms .* at least one bin_ms = 10 ms",
        ),
        (
            dict(bin_ms=10, time_unit="s", window_ms=(0, 105)),
            r"window_ms: spans 105 ms, expected a whole number",
        ),
        (
            dict(bin_ms=10, time_unit="s", window_ms=(0, 100), trial_stops=np.ones(2)),
            r"trial_stops, window_ms: got both",
        ),
        (
            dict(bin_ms=10, time_unit="s", spike_times=[np.array([0.1, np.nan])]),
            r"spike_times\[0\]: holds non-finite times",
        ),
        (
            dict(bin_ms=10, time_unit="s", spike_times=np.zeros((2, 5))),
            r"spike_times: got one array of shape \(2, 5\)",
        ),
    ],
)
def test_bad_spike_times(kwargs, match):
    args = {
        "spike_times": [np.array([0.1])],
        "trial_starts": np.array([0.0, 1.0]),
        "trial_stops": np.array([0.5, 1.5]),
        **kwargs,
    }
    if "window_ms" in kwargs and "trial_stops" not in kwargs:
        args["trial_stops"] = None
    with pytest.raises(InputError, match=match):
        bin_spike_times(
            args.pop("spike_times"), args.pop("trial_starts"), args.pop("trial_stops"), **args
        )


def test_from_spike_times_never_drops_silently():
    spikes = [np.array([0.05, 0.15, 9.0])]
    with pytest.warns(
        UserWarning, match=r"1 of 3 spikes \(33.3 %\) fall outside every trial window"
    ):
        rec = Recording.from_spike_times(spikes, [0.0], [0.2], bin_ms=100, time_unit="s")
    assert rec.spikes_outside == (1,) and rec.data[0, :, 0].tolist() == [1, 1]
    with pytest.raises(
        InputError,
        match=r"spike_times: 1 of 3 spikes .*; expected every spike inside a trial \(pass on_outside='warn'",
    ):
        Recording.from_spike_times(
            spikes, [0.0], [0.2], bin_ms=100, time_unit="s", on_outside="error"
        )


# ------------------------------------------------------------------ files


def test_npz_round_trip_and_bad_files(tmp_path):
    x = _counts().astype(float)
    x[2, 4, 1] = np.nan
    rec = Recording.from_arrays(
        counts=x, bin_ms=12.5, inputs=np.ones((6, 20, 2)), unit_names=["a", "b", "c"]
    )
    path = save_recording(rec, tmp_path / "rec.npz")
    back = load_recording(path)
    for f in ("data", "mask", "inputs"):
        np.testing.assert_array_equal(getattr(back, f), getattr(rec, f))
    assert (back.bin_ms, back.unit_names, back.kind) == (12.5, ("a", "b", "c"), "counts")
    with pytest.raises(
        InputError, match=r"bin_ms: got 10 ms, but path: .* stores bin_ms = 12.5 ms"
    ):
        load_npz_recording(path, bin_ms=10)
    text = tmp_path / "text.npz"
    text.write_text("trial,time,count\n")
    with pytest.raises(InputError, match=r"not an .npz \(zip\) archive \(it starts with b'tria'\)"):
        load_recording(text)
    objs = tmp_path / "objs.npz"
    np.savez(objs, counts=np.array([None, 1], dtype=object))
    with pytest.raises(InputError, match=r"array 'counts' holds Python objects"):
        load_recording(objs, bin_ms=1)
    typo = tmp_path / "typo.npz"
    np.savez(typo, count=np.ones((2, 3, 1)))
    with pytest.raises(InputError, match=r"unknown key 'count'; did you mean 'counts'\?"):
        load_recording(typo, bin_ms=1)
    no_bin = tmp_path / "nobin.npz"
    np.savez(no_bin, signals=np.ones((2, 3, 1)))
    with pytest.raises(InputError, match=r"bin_ms: missing; .* stores no 'bin_ms'"):
        load_recording(no_bin)
    with pytest.raises(
        InputError, match=r"format: got 'csv', expected one of 'npz', 'hdf5', 'nwb'"
    ):
        load_recording(no_bin, format="csv")
    with pytest.raises(InputError, match=r"unknown key 'bin'; did you mean 'bin_ms'\?"):
        load_recording(no_bin, bin=1)
    with pytest.raises(InputError, match=r"path: .*missing.npz: file not found"):
        load_recording(tmp_path / "missing.npz")


def test_hdf5_round_trip_and_named_datasets(tmp_path):
    h5py = pytest.importorskip("h5py")
    rec = Recording.from_arrays(
        signals=np.random.default_rng(1).normal(size=(4, 7, 2)),
        bin_ms=2.0,
        trial_starts_ms=np.arange(4) * 1e3,
        unit_names=["lfp", "emg"],
    )
    back = load_recording(save_recording(rec, tmp_path / "rec.h5"))
    np.testing.assert_array_equal(back.data, rec.data)
    np.testing.assert_array_equal(back.trial_starts_ms, rec.trial_starts_ms)
    assert (back.bin_ms, back.unit_names, back.kind) == (2.0, ("lfp", "emg"), "signals")
    # A file laid out by someone else: named datasets, the bin width as an attribute.
    path = tmp_path / "lab.hdf5"
    counts = _counts((5, 9, 4))
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("session1/spikes", data=counts)
        ds.attrs["bin_ms"] = 20.0
        f.create_dataset("session1/stim", data=np.zeros((5, 9, 1)))
    got = load_hdf5_recording(path, counts="session1/spikes", inputs="session1/stim")
    np.testing.assert_array_equal(got.data, counts)
    assert got.bin_ms == 20.0 and got.n_in == 1
    with pytest.raises(
        InputError,
        match=r"counts: path: .* has no dataset 'session1/spike'; did you mean 'session1/spikes'\?",
    ):
        load_hdf5_recording(path, counts="session1/spike")
    with pytest.raises(
        InputError, match=r"counts, signals: .* holds neither of 'counts' and 'signals'"
    ):
        load_hdf5_recording(path)
    not_h5 = tmp_path / "x.h5"
    not_h5.write_text("hello")
    with pytest.raises(InputError, match=r"not a readable HDF5 file"):
        load_recording(not_h5)


# ------------------------------------------------------------------ NWB


def _nwb_file(path, spikes, starts, stops, extra=None):
    pynwb = pytest.importorskip("pynwb")
    nwb = pynwb.NWBFile(
        session_description="test",
        identifier="test",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for s in spikes:
        nwb.add_unit(spike_times=s)
    nwb.add_trial_column(name="stim_on", description="stimulus onset (s)")
    for a, b in zip(starts, stops):
        nwb.add_trial(start_time=a, stop_time=b, stim_on=a + 0.1)
    if extra is not None:
        extra(nwb)
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_nwb_units_binned_into_trials(tmp_path):
    rng = np.random.default_rng(7)
    spikes = [np.sort(rng.uniform(0.0, 5.0, size=n)) for n in (300, 120, 1)]
    starts, stops = np.array([0.2, 1.5, 3.0]), np.array([1.2, 2.43, 4.0])
    path = _nwb_file(tmp_path / "s.nwb", spikes, starts, stops)
    with pytest.warns(UserWarning, match="fall outside every trial window"):
        rec = load_recording(path, bin_ms=50)
    n_bins = np.floor((stops - starts) * 1000 / 50 + 1e-9).astype(int)
    assert (
        rec.kind == "counts" and rec.data.shape == (3, 20, 3) and rec.unit_names == ("0", "1", "2")
    )
    for u, s in enumerate(spikes):
        hand = _hand_bin(s * 1000, starts * 1000, n_bins, 50.0)
        np.testing.assert_array_equal(rec.data[:, :, u], hand)
        assert rec.spikes_outside[u] == _hand_outside(
            s * 1000, starts * 1000, starts * 1000 + n_bins * 50.0
        )
    assert sum(rec.spikes_outside) > 0
    np.testing.assert_array_equal(rec.mask[:, :, 0].sum(1), n_bins)  # trial 1: 18 bins, then masked
    np.testing.assert_allclose(rec.trial_starts_ms, starts * 1000, rtol=0, atol=1e-9)
    # Aligned to a column, in a window around it.
    rec2 = load_nwb_recording(
        path, bin_ms=10, window_ms=(-100, 200), align_to="stim_on", on_outside="record"
    )
    np.testing.assert_array_equal(
        rec2.data[:, :, 0], _hand_bin(spikes[0] * 1000, (starts + 0.1) * 1000 - 100, [30] * 3, 10.0)
    )


def test_nwb_timeseries_binned(tmp_path):
    pynwb = pytest.importorskip("pynwb")
    sig = np.random.default_rng(2).normal(size=(1000, 2))

    stamps = np.sort(np.random.default_rng(3).uniform(0.0, 3.0, size=150))  # irregular, s
    values = np.arange(150.0)

    def add(nwb):
        nwb.add_acquisition(
            pynwb.TimeSeries(
                name="lfp", data=sig, unit="V", rate=200.0, starting_time=0.0, conversion=2.0
            )
        )
        nwb.add_acquisition(
            pynwb.TimeSeries(name="pupil", data=values, unit="mm", timestamps=stamps)
        )

    path = _nwb_file(tmp_path / "ts.nwb", [np.array([0.1])], [0.5, 2.0], [1.0, 2.5], extra=add)
    rec = load_nwb_recording(path, bin_ms=20, timeseries="lfp")
    assert (
        rec.kind == "signals"
        and rec.data.shape == (2, 25, 2)
        and rec.unit_names == ("lfp[0]", "lfp[1]")
    )
    # 200 Hz: 4 samples per 20 ms bin; trial 1 starts at sample 400.
    hand = 2.0 * sig[400:500].reshape(25, 4, 2).mean(1)
    np.testing.assert_allclose(rec.data[1], hand, rtol=1e-12, atol=1e-12)
    # Irregular timestamps: the mean of the samples in each bin; a bin without one is masked.
    pupil = load_nwb_recording(path, bin_ms=20, timeseries="pupil")
    for i, lo in enumerate((500.0, 2000.0)):
        k = np.floor((stamps * 1000 - lo) / 20).astype(int)
        for b in range(25):
            hit = k == b
            assert pupil.mask[i, b, 0] == hit.any()
            if hit.any():
                np.testing.assert_allclose(pupil.data[i, b, 0], values[hit].mean(), rtol=1e-12)
    assert 0 < pupil.mask.sum() < pupil.mask.size


def test_nwb_bad_input(tmp_path, monkeypatch):
    path = _nwb_file(tmp_path / "b.nwb", [np.array([0.1, 0.3])], [0.0], [0.5])
    with pytest.raises(
        InputError,
        match=r"units: the NWB file .* has no Units table named 'unit'; did you mean 'units'\?; it holds \['units'\]",
    ):
        load_nwb_recording(path, bin_ms=10, units="unit")
    with pytest.raises(
        InputError,
        match=r"intervals: the NWB file .* has no TimeIntervals table named 'epochs'; it holds \['trials'\]",
    ):
        load_nwb_recording(path, bin_ms=10, intervals="epochs")
    with pytest.raises(
        InputError,
        match=r"align_to: the intervals table 'trials' has no column 'stim'; did you mean 'stim_on'\?",
    ):
        load_nwb_recording(path, bin_ms=10, align_to="stim", window_ms=(0, 100))
    with pytest.raises(
        InputError,
        match=r"timeseries: the NWB file .* has no TimeSeries named 'lfp'; it holds none",
    ):
        load_nwb_recording(path, bin_ms=10, timeseries="lfp")
    with pytest.raises(InputError, match=r"bin_ms: missing"):
        load_nwb_recording(path)
    monkeypatch.setitem(sys.modules, "pynwb", None)  # as if not installed
    with pytest.raises(
        InputError, match=r"pynwb is not installed.*pip install 'adaptive_rnn\[recordings\]'"
    ):
        load_nwb_recording(path, bin_ms=10)
