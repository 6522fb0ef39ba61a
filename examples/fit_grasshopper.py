"""Time constants of a real neuron: the grasshopper auditory receptor bundled with nitime.

    python examples/fit_grasshopper.py                 # the committed fit (a few minutes)
    python examples/fit_grasshopper.py --quick --out /tmp/gh   # seconds-scale check

Loads the recording (`adaptive_rnn.recordings.load_grasshopper`: one locust auditory
receptor neuron, two 10 s recordings under white-noise amplitude-modulated tones, cut
into consecutive trials, each with a masked lead-in), fits an ARU to its spike counts
with a Poisson loss and bootstrap intervals (`adaptive_rnn.recipes.fit_recording`), and
writes to `--out` (default `results/grasshopper/`):

- `fit.json`: `fit_recording`'s summary (time constants in ms with intervals, the
    autocorrelation timescale, held-out scores of the model and of the constant-rate
    and LN baselines), plus `data` (source, licence, how the trials were cut), `seed`,
    `wall_s` (the fit's wall time) and `command`;
- `report.png`: `plot_recording_fit`'s report.

`docs/recordings.md` ("A real recording") quotes `results/grasshopper/fit.json` through
`tools/make_tables.py`.
"""

import argparse
import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from adaptive_rnn._io import atomic_write_json
from adaptive_rnn.recipes import fit_recording, plot_recording_fit
from adaptive_rnn.recordings import GRASSHOPPER_SOURCE, load_grasshopper

ROOT = Path(__file__).resolve().parent.parent

# The committed fit's settings (the notebook and the test use the same ones, smaller).
DATA: dict[str, Any] = dict(bin_ms=2.0, trial_ms=500.0, lead_in_ms=100.0, stimuli=(1, 2))
FIT: dict[str, Any] = dict(
    hidden=16,
    time_constants="global",
    observed="readout",
    bootstrap=23,
    epochs=300,
    burn_in_ms=50.0,
    learning_rate=3e-2,
)
QUICK: dict[str, Any] = dict(hidden=8, bootstrap=2, epochs=100)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "results" / "grasshopper"), help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a tiny fit (a check, not a result)")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    rec = load_grasshopper(**DATA)
    settings = {**FIT, **(QUICK if a.quick else {})}
    scored = rec.mask[..., 0]
    print(
        f"grasshopper receptor: {rec.n_trials} trials x {rec.n_time} bins of {rec.bin_ms:g} ms, "
        f"{int(rec.data[rec.mask].sum())} scored spikes; fitting {settings}"
    )
    t0 = time.perf_counter()
    fit = fit_recording(rec, key=jax.random.key(a.seed), progress=None, **settings)
    wall = time.perf_counter() - t0

    summary = fit.to_json()
    summary["data"] = {
        "name": "grasshopper",
        "loader": "adaptive_rnn.recordings.load_grasshopper",
        "package": f"nitime {importlib.metadata.version('nitime')}",
        "source": GRASSHOPPER_SOURCE,
        "licence": "BSD-3-Clause",
        **{k: (list(v) if isinstance(v, tuple) else v) for k, v in DATA.items()},
        "cutoff_hz": [{1: 200, 2: 800}[s] for s in DATA["stimuli"]],
        "n_trials": rec.n_trials,
        "n_bins": rec.n_time,
        "scored_spikes": int(rec.data[rec.mask].sum()),
        "scored_ms": float(scored.sum() * rec.bin_ms),
        "spikes_outside": list(rec.spikes_outside or ()),
    }
    ac = fit.autocorr
    summary["autocorr"] = {  # the curve behind autocorr_tau_ms, first lags
        "lags_ms": [float(v) for v in ac.lags_ms[:10]],
        "autocorr": [None if not np.isfinite(v) else float(v) for v in ac.autocorr[0, :10]],
        "fit_start_ms": [float(v) for v in ac.fit_start_ms],
        "amplitude": [float(v) for v in ac.amplitude],
    }
    summary["seed"] = a.seed
    summary["quick"] = a.quick
    summary["wall_s"] = wall
    summary["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "jax": jax.__version__,
        "devices": [str(d) for d in jax.devices()],
    }
    summary["command"] = "python examples/fit_grasshopper.py" + (" --quick" if a.quick else "")
    atomic_write_json(out / "fit.json", summary)
    fig = plot_recording_fit(fit, rec, title="grasshopper auditory receptor (nitime)")
    fig.savefig(out / "report.png", dpi=110)
    for line in fit.summary_lines():
        print(line)
    ln = summary["heldout"]["ln"]
    print(
        f"held-out bits/spike: model {summary['heldout']['model']['bits_per_spike']:.4f}, "
        f"LN {ln['bits_per_spike']:.4f}, constant 0; fit wall time {wall:.0f} s"
    )
    print(f"wrote {out / 'fit.json'} and {out / 'report.png'}")
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    sys.exit(main())
