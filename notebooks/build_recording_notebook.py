"""Builds notebooks/recording_grasshopper.ipynb: time constants of a real neuron (the
grasshopper auditory receptor bundled with nitime), fitted end to end; `--execute` runs
it in place and saves its outputs (the committed fit's scale: a few minutes).

    python notebooks/build_recording_notebook.py --execute

The data and fit settings are those of `examples/fit_grasshopper.py` (read from it, so
the two cannot drift apart), which writes the committed `results/grasshopper/fit.json`.
The notebook reads ADAPTIVE_RNN_NOTEBOOK_SCALE: `tiny` runs the script's `--quick`
settings (the tests), anything else the committed fit's.
"""

import argparse
import importlib.util
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PATH = HERE / "recording_grasshopper.ipynb"


def _script():
    spec = importlib.util.spec_from_file_location(
        "fit_grasshopper", ROOT / "examples" / "fit_grasshopper.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def notebook() -> nbformat.NotebookNode:
    s = _script()
    cells = [
        new_markdown_cell("""# Time constants of a real neuron: a grasshopper auditory receptor

The recording ships inside nitime (BSD-3-Clause), so nothing is downloaded: one auditory
receptor neuron of the locust *Locusta migratoria*, recorded intracellularly while a
pure tone at the cell's preferred frequency was played, its amplitude modulated by
Gaussian white noise (Rokem, Watzl, Gollisch, Stemmler, Herz & Samengo 2006, *J
Neurophysiol* 95:2541-2552; nitime's example "Auditory processing in grasshoppers").
Two continuous recordings of the same cell, one per stimulus (noise cut off at 200 Hz
and at 800 Hz), each with the stimulus envelope sampled at 20 kHz.

There are no repeated trials. `load_grasshopper` cuts each recording into consecutive
windows; each window is preceded by a lead-in whose sound the model hears but whose
spikes are not scored (masked), so that no trial starts from silence. The input is the
sound level in dB, standardised (zero = the mean level).

`fit_recording` then fits an ARU with a Poisson loss, holds out a fifth of the trials,
and refits on bootstrap resamples for intervals; the same fit is `python
examples/fit_grasshopper.py`, which wrote `results/grasshopper/fit.json` (quoted in
`docs/recordings.md`)."""),
        new_code_cell(f"""%matplotlib inline
import json
import os
from pathlib import Path

import jax
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

from adaptive_rnn.recipes import fit_recording, plot_recording_fit
from adaptive_rnn.recordings import GRASSHOPPER_SOURCE, load_grasshopper

# The settings of examples/fit_grasshopper.py (the committed fit)
DATA = {s.DATA!r}
FIT = {s.FIT!r}
QUICK = {s.QUICK!r}
scale = os.environ.get("ADAPTIVE_RNN_NOTEBOOK_SCALE", "full")  # "tiny": a seconds-scale check
settings = {{**FIT, **(QUICK if scale == "tiny" else {{}})}}
print(GRASSHOPPER_SOURCE)
settings"""),
        new_markdown_cell("## The recording"),
        new_code_cell("""rec = load_grasshopper(**DATA)
n_lead = int(round(DATA["lead_in_ms"] / DATA["bin_ms"]))
spikes = rec.data[rec.mask]
print(f"{rec.n_trials} trials x {rec.n_time} bins of {rec.bin_ms:g} ms ({n_lead} lead-in bins masked), "
      f"{int(spikes.sum())} scored spikes, mean rate {spikes.mean() * 1000 / rec.bin_ms:.1f} Hz, "
      f"at most {int(spikes.max())} spike per bin; {rec.spikes_outside[0]} spikes outside every scored window")
fig = Figure(figsize=(9, 3.2), layout="constrained")
ax = fig.subplots()
t = rec.times_ms - DATA["lead_in_ms"]
ax.plot(t, rec.inputs[0, :, 0], lw=0.8, label="sound level (standardised)")
ax.vlines(t[rec.data[0, :, 0] > 0], 2.6, 3.2, color="k", lw=1, label="spikes")
ax.axvspan(t[0], 0, color="0.9", label="lead-in (not scored)")
ax.set_xlabel("time in trial 0 (ms)")
ax.legend(fontsize=8, loc="lower right", ncol=3)
display(fig)"""),
        new_markdown_cell("""The stimulus-response cross-correlation (scored bins, both recordings) shows what the
model has to capture: spikes follow loud moments after a latency of a few milliseconds,
and a trough follows (the cell's refractoriness and adaptation). A one-filter LN model
(an exponential filter, which peaks at lag zero) cannot place that delay."""),
        new_code_cell("""lags = np.arange(16)
x, y = rec.inputs[:, :, 0], rec.data[:, :, 0]
xc = [np.corrcoef(y[:, n_lead:].ravel(), x[:, n_lead - L : rec.n_time - L].ravel())[0, 1] for L in lags]
fig = Figure(figsize=(5, 3), layout="constrained")
ax = fig.subplots()
ax.bar(lags * rec.bin_ms, xc, width=0.8 * rec.bin_ms)
ax.axhline(0, color="k", lw=0.5)
ax.set_xlabel("lag of the spikes after the sound (ms)")
ax.set_ylabel("correlation")
display(fig)"""),
        new_markdown_cell("## The fit"),
        new_code_cell("""fit = fit_recording(rec, key=jax.random.key(0), progress=False, **settings)
print("\\n".join(fit.summary_lines()))"""),
        new_code_cell("""rows = [(name, fit.heldout[name]) for name in ("model", "ln", "constant")]
for name, h in rows:
    print(f"{name:9s} held-out log-likelihood {h['loglik_per_bin']:.5f} nats/bin, {h['bits_per_spike']:.4f} bits/spike")
for name in ("tau_s_ms", "tau_r_ms", "tau_sum_ms", "tau_prod_ms2"):
    lo, hi = fit.ci[name][0]
    print(f"{name:13s} {getattr(fit, name)[0]:8.3g}  95 % interval [{lo:.3g}, {hi:.3g}]")
print("LN filter time constant (ms):", np.round(fit.ln_tau_ms, 2))"""),
        new_code_cell(
            "display(plot_recording_fit(fit, rec, title='grasshopper auditory receptor (nitime)'))"
        ),
        new_markdown_cell("""## Beside the autocorrelation timescale

The intrinsic timescale of Murray et al. (2014) fits an exponential to the correlation
of spike counts across trials. Here the correlation is negative at the shortest lags
(refractoriness) and near zero beyond: there is no slow decay for an exponential to
describe: the peak that would start the fit is within the noise of independent bins,
and `intrinsic_timescale` says so instead of returning a number. The ARU's time
constants instead describe how the sound drives the spikes."""),
        new_code_cell("""ac = fit.autocorr
fig = Figure(figsize=(6, 3), layout="constrained")
ax = fig.subplots()
ax.plot(ac.lags_ms[:40], ac.autocorr[0, :40], "o-", ms=3)
ax.axhline(0, color="k", lw=0.5)
ax.set_xlabel("lag (ms)")
ax.set_ylabel("autocorrelation across trials")
ax.set_title(f"Murray et al. fit: tau = {ac.tau_ms[0]:.3g} ms, from lag {ac.fit_start_ms[0]:.3g} ms")
display(fig)
print("why no timescale:" if ac.reasons[0] else "fit succeeded", ac.reasons[0] or "")"""),
        new_markdown_cell("""## The committed fit

`results/grasshopper/fit.json` was written by `examples/fit_grasshopper.py` with the
settings above; at the full scale, this notebook's numbers are the same run's."""),
        new_code_cell("""path = Path("..") / "results" / "grasshopper" / "fit.json"
if path.is_file():
    d = json.loads(path.read_text())
    print("committed:", {k: d[k] for k in ("tau_s_ms", "tau_s_ms_ci", "tau_r_ms", "tau_r_ms_ci", "autocorr_tau_ms")})
    print("held-out bits/spike:", {k: (v or {}).get("bits_per_spike") for k, v in d["heldout"].items()})
    print(f"wall time of the committed fit: {d['wall_s']:.0f} s")"""),
    ]
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    return nb


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--execute", action="store_true", help="execute and save with outputs")
    a = p.parse_args(argv)
    nb = notebook()
    if a.execute:
        from nbclient import NotebookClient

        NotebookClient(
            nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
        ).execute()
    nbformat.write(nb, PATH)
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
