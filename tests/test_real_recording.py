"""A real recording: the grasshopper auditory receptor bundled with nitime.

`load_grasshopper` is checked against nitime's own files read here independently (spike
counts per trial and per bin, the recordings' length, the stimulus levels), bad
arguments and a missing nitime are refused with a clear message, and the committed fit's
script (`examples/fit_grasshopper.py`) runs at a small scale, its model beating the
constant-rate baseline on held-out trials by a margin.
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from adaptive_rnn import InputError

nitime = pytest.importorskip("nitime")

from adaptive_rnn.recordings import GRASSHOPPER_SOURCE, load_grasshopper  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(nitime.__file__).parent / "data"
TOTAL_SPIKES = {1: 929, 2: 868}  # the number of lines of spike times in each file


def _spikes_us(i: int) -> np.ndarray:
    lines = (DATA / f"grasshopper_spike_times{i}.txt").read_text().splitlines()
    return np.array([float(v) for v in lines if v.strip() and not v.startswith("#")])


def _amplitude(i: int) -> tuple[np.ndarray, np.ndarray]:
    t, a = np.loadtxt(DATA / f"grasshopper_stimulus{i}.txt", unpack=True)
    return t, a


def test_the_files_hold_what_nitime_documents():
    """Two recordings of 10 s: spikes in microseconds, the stimulus every 50 us."""
    for i in (1, 2):
        s = _spikes_us(i)
        t, a = _amplitude(i)
        assert s.size == TOTAL_SPIKES[i]
        assert t.size == 200_000 and np.all(np.diff(t) == 50.0) and t[0] == 0.0
        assert 0 <= s.min() and s.max() < t[-1] + 50.0  # every spike inside the 10 s
        assert np.all(np.diff(np.sort(s)) >= 3000.0)  # refractory: no ISI under 3 ms
    assert "BSD-3-Clause" in GRASSHOPPER_SOURCE and "Rokem" in GRASSHOPPER_SOURCE


@pytest.mark.parametrize("bin_ms, trial_ms, lead_in_ms", [(2.0, 500.0, 100.0), (1.0, 250.0, 0.0)])
def test_trials_match_the_files(bin_ms, trial_ms, lead_in_ms):
    rec = load_grasshopper(bin_ms=bin_ms, trial_ms=trial_ms, lead_in_ms=lead_in_ms)
    n_lead, n_trial = round(lead_in_ms / bin_ms), round(trial_ms / bin_ms)
    per_rec = int((10_000.0 - lead_in_ms) // trial_ms)  # whole windows in a 10 s recording
    assert rec.data.shape == (2 * per_rec, n_lead + n_trial, 1)
    assert rec.inputs is not None and rec.inputs.shape == rec.data.shape
    assert rec.bin_ms == bin_ms and rec.unit_names == ("receptor",)
    assert not rec.mask[:, :n_lead].any() and rec.mask[:, n_lead:].all()
    starts = np.tile(np.arange(per_rec) * trial_ms, 2)
    np.testing.assert_array_equal(rec.trial_starts_ms, starts)

    scored = 0
    for r, i in enumerate((1, 2)):
        s = _spikes_us(i) / 1000.0  # ms
        for k in range(per_rec):
            trial = r * per_rec + k
            lo = lead_in_ms + k * trial_ms
            expected = np.sum((s >= lo) & (s < lo + trial_ms))
            assert rec.data[trial, n_lead:, 0].sum() == expected
            scored += expected
    assert rec.spikes_outside == (sum(TOTAL_SPIKES.values()) - scored,)
    # bin by bin, for one trial of recording 2
    k = per_rec + 3
    lo = 3 * trial_ms  # the window's first bin, lead-in included
    edges = lo + bin_ms * np.arange(n_lead + n_trial + 1)
    s = np.sort(_spikes_us(2) / 1000.0)
    counts = np.diff(np.searchsorted(s, edges))  # spikes in [edge_j, edge_j+1)
    np.testing.assert_array_equal(rec.data[k, n_lead:, 0], counts[n_lead:])
    assert not rec.data[:, :n_lead].any()  # masked bins hold 0 (Recording's rule)


def test_the_input_is_the_stimulus_level():
    x = load_grasshopper(bin_ms=2.0, stimulus_units="db", stimuli=(2,)).inputs
    assert x is not None
    _, a = _amplitude(2)
    level = 20 * np.log10(a)  # dB re the loudest sample (1.0)
    assert level.max() == 0.0
    # trial 5, bin 7 (inside the lead-in) and bin 120: the 40 samples of each 2 ms bin
    for j in (7, 120):
        first = int(round((5 * 500.0 + j * 2.0) / 0.05))
        np.testing.assert_allclose(x[5, j, 0], level[first : first + 40].mean(), rtol=1e-12)
    # "zscore": the level standardised over the scored bins, the same map for every bin
    z = load_grasshopper(bin_ms=2.0, stimuli=(2,)).inputs
    assert z is not None
    scored = x[:, 50:, 0]
    np.testing.assert_allclose(z, (x - scored.mean()) / scored.std(), rtol=0, atol=1e-12)
    np.testing.assert_allclose([z[:, 50:].mean(), z[:, 50:].std()], [0.0, 1.0], atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(bin_ms=0.07), "bin_ms: got 0.07 ms, expected a whole number"),
        (dict(bin_ms=0.0), "bin_ms"),
        (dict(trial_ms=501.0), "trial_ms: got 501 ms, expected a whole number"),
        (dict(lead_in_ms=3.0), "lead_in_ms: got 3 ms"),
        (dict(lead_in_ms=-2.0), "lead_in_ms"),
        (dict(trial_ms=20_000.0), "fit in recording 1"),
        (dict(stimuli=(3,)), "stimuli[0]: got 3"),
        (dict(stimuli=()), "stimuli: got ()"),
        (dict(stimuli=(1, 1)), "distinct"),
        (dict(stimuli=1), "stimuli: got int"),
        (dict(stimulus_units="pa"), "stimulus_units: got 'pa'"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(InputError) as e:
        load_grasshopper(**kwargs)
    assert message in str(e.value)


def test_without_nitime_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nitime", None)  # `import nitime` now fails
    with pytest.raises(InputError, match=r"nitime is not installed.*pip install nitime"):
        load_grasshopper()


# ----------------------------------------------------------------- the fit, small


def _script():
    spec = importlib.util.spec_from_file_location(
        "fit_grasshopper", ROOT / "examples" / "fit_grasshopper.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# Bits per spike the small fit must exceed (the constant rate scores 0 by definition).
MARGIN_BITS = 0.01


def test_the_fit_at_a_small_scale_beats_the_constant_rate(tmp_path):
    """The committed fit's script with `--quick` (4 hidden units, 2 resamples, 40
    epochs): time constants with intervals and the autocorrelation timescale beside
    them, and held-out log-likelihood above the constant rate's by a margin."""
    mod = _script()
    assert mod.main(["--quick", "--out", str(tmp_path)]) == 0
    d = json.loads((tmp_path / "fit.json").read_text())
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert d["quick"] is True and d["settings"]["bootstrap"] == mod.QUICK["bootstrap"]
    assert d["data"]["n_trials"] == 38 and d["data"]["package"].startswith("nitime ")
    h = d["heldout"]
    assert h["constant"]["bits_per_spike"] == 0.0
    assert h["model"]["bits_per_spike"] > MARGIN_BITS, h
    assert h["model"]["loglik_per_bin"] > h["constant"]["loglik_per_bin"]
    assert h["ln"] is not None and np.isfinite(h["ln"]["bits_per_spike"])
    for name in ("tau_s_ms", "tau_r_ms"):
        (lo, hi), (v,) = d[name + "_ci"][0], d[name]
        assert 0 < lo <= hi and v > d["bin_ms"], (name, v, lo, hi)
    assert len(d["autocorr_tau_ms"]) == 1


def test_the_notebook_runs_at_a_tiny_scale(tmp_path, monkeypatch):
    """notebooks/recording_grasshopper.ipynb end to end with the script's `--quick`
    settings: no error, its figures shown, the fit's summary printed."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "recording_grasshopper.ipynb", as_version=4)
    monkeypatch.setenv("ADAPTIVE_RNN_NOTEBOOK_SCALE", "tiny")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4
    text = "".join(o.get("text", "") for o in outputs)
    assert "held-out: model" in text and "bits/spike" in text
