"""Coverage of the bootstrap intervals of `fit_recording` on recordings of a known ARU.

Independent ground-truth datasets (`synthetic_recording`: global tau_s = 20 ms,
tau_r = 50 ms at 5 ms bins) are fitted with `fit_recordings` (the bootstrap refits of a
group of datasets trained as one compiled ensemble); for each dataset the script
records the point estimate, every refit and, for each interval method of
`bootstrap_intervals`, whether the 95 % intervals of tau_s and tau_r together cover
the true pair (up to the exchange) and whether those of tau_s + tau_r and
tau_s * tau_r cover theirs. The summary counts them. The results are written after
each group, so an interrupted run keeps what it finished.

Run (defaults: the configuration of the slow coverage test,
tests/test_recording_coverage.py):

    python benchmarks/recording_coverage.py --loss poisson --datasets 20 \\
        --out results/recording_coverage.json

`--loss gaussian` measures signals (written under their own key of the same file).
Each entry of the file holds its configuration. The committed file holds three runs:
`poisson_parametric_n30` (the default Poisson configuration, `--tag n30`),
`gaussian_parametric` (the default signals configuration) and `poisson_parametric`
(a smaller Poisson recording: `--neurons 10 --trials 40 --bins 50`).
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from adaptive_rnn.recipes import bootstrap_intervals, fit_recordings, synthetic_recording

TRUE_MS = (20.0, 50.0)
METHODS = ("normal", "basic", "percentile")
# The configurations measured (the coverage tests of tests/test_recording_coverage.py
# use the same ones).
CONFIGS = {
    "poisson": dict(
        kind="counts",
        n_neurons=30,
        n_trials=60,
        n_bins=100,
        mean_rate_hz=40.0,
        rate_scale_hz=100.0,
        bootstrap=9,
        epochs=400,
    ),
    "gaussian": dict(
        kind="signals",
        n_neurons=10,
        n_trials=30,
        n_bins=60,
        noise_sd=0.3,
        bootstrap=9,
        epochs=400,
    ),
}
FIT = dict(observed="units", burn_in_ms=100.0, dtype=jnp.float32)


def pair_covered(ci_s, ci_r) -> bool:
    """The intervals of tau_s and tau_r cover the true pair, in either order."""
    (s0, s1), (r0, r1) = ci_s, ci_r
    return any(s0 <= a <= s1 and r0 <= b <= r1 for a, b in (TRUE_MS, TRUE_MS[::-1]))


def within(ts: float, tr: float, rel: float) -> bool:
    return any(
        abs(a / TRUE_MS[0] - 1) <= rel and abs(b / TRUE_MS[1] - 1) <= rel
        for a, b in ((ts, tr), (tr, ts))
    )


def judge(ts: float, tr: float, boot_s, boot_r) -> dict:
    """Coverage of each interval method for one dataset."""
    out = {}
    for method in METHODS:
        _, ci, exch = bootstrap_intervals(
            np.asarray(boot_s)[:, None],
            np.asarray(boot_r)[:, None],
            0.95,
            point=(ts, tr),
            method=method,
        )
        out[method] = {
            "pair": pair_covered(ci["tau_s_ms"][0], ci["tau_r_ms"][0]),
            "sum": bool(ci["tau_sum_ms"][0, 0] <= sum(TRUE_MS) <= ci["tau_sum_ms"][0, 1]),
            "product": bool(
                ci["tau_prod_ms2"][0, 0] <= TRUE_MS[0] * TRUE_MS[1] <= ci["tau_prod_ms2"][0, 1]
            ),
            "exchangeable": bool(exch[0]),
            "tau_s_ci": [float(v) for v in ci["tau_s_ms"][0]],
            "tau_r_ci": [float(v) for v in ci["tau_r_ms"][0]],
        }
    return out


def summarise(rows: list) -> dict:
    n = len(rows)
    out = {"datasets": n}
    if not n:
        return out
    out["within_15_percent"] = sum(r["within_15"] for r in rows)
    out["tau_s_ms_mean"] = float(np.mean([min(r["tau_s_ms"], r["tau_r_ms"]) for r in rows]))
    out["tau_r_ms_mean"] = float(np.mean([max(r["tau_s_ms"], r["tau_r_ms"]) for r in rows]))
    for method in METHODS:
        out[method] = {
            what: sum(r["coverage"][method][what] for r in rows)
            for what in ("pair", "sum", "product")
        }
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--loss", choices=tuple(CONFIGS), default="poisson")
    p.add_argument("--datasets", type=int, default=20)
    p.add_argument("--group", type=int, default=5, help="datasets per compiled ensemble")
    p.add_argument("--bootstrap", type=int, help="refits per dataset (default: the config's)")
    p.add_argument("--epochs", type=int, help="epochs (default: the config's)")
    p.add_argument("--neurons", type=int, help="neurons (default: the config's)")
    p.add_argument("--trials", type=int, help="trials (default: the config's)")
    p.add_argument("--bins", type=int, help="bins per trial (default: the config's)")
    p.add_argument("--resample", choices=("parametric", "trials"), default="parametric")
    p.add_argument("--seed", type=int, default=100)
    p.add_argument("--tag", default="", help="suffix of the result's key in the file")
    p.add_argument("--out", default="results/recording_coverage.json")
    args = p.parse_args(argv)
    cfg = dict(CONFIGS[args.loss])
    if args.bootstrap is not None:
        cfg["bootstrap"] = args.bootstrap
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    for opt, key in (("neurons", "n_neurons"), ("trials", "n_trials"), ("bins", "n_bins")):
        if getattr(args, opt) is not None:
            cfg[key] = getattr(args, opt)
    kind = cfg.pop("kind")
    B, epochs = cfg.pop("bootstrap"), cfg.pop("epochs")
    out_path = Path(args.out)
    name = f"{args.loss}_{args.resample}" + (f"_{args.tag}" if args.tag else "")
    rows: list = []
    t_start = time.perf_counter()
    for g0 in range(0, args.datasets, args.group):
        idx = list(range(g0, min(g0 + args.group, args.datasets)))
        recs = [
            synthetic_recording(
                jax.random.fold_in(jax.random.key(args.seed), i),
                kind=kind,
                tau_s_ms=TRUE_MS[0],
                tau_r_ms=TRUE_MS[1],
                bin_ms=5.0,
                **cfg,
            ).recording
            for i in idx
        ]
        t = time.perf_counter()
        fits = fit_recordings(
            recs,
            key=jax.random.fold_in(jax.random.key(args.seed + 1), g0),
            hidden=cfg["n_neurons"],
            bootstrap=B,
            epochs=epochs,
            resample=args.resample,
            progress=False,
            **FIT,
        )
        wall = time.perf_counter() - t
        for i, f in zip(idx, fits):
            ts, tr = float(f.tau_s_ms[0]), float(f.tau_r_ms[0])
            bs, br = f.boot["tau_s_ms"][:, 0], f.boot["tau_r_ms"][:, 0]
            rows.append(
                {
                    "dataset": i,
                    "tau_s_ms": ts,
                    "tau_r_ms": tr,
                    "within_15": within(ts, tr, 0.15),
                    "boot_tau_s_ms": [float(v) for v in bs],
                    "boot_tau_r_ms": [float(v) for v in br],
                    "coverage": judge(ts, tr, bs, br),
                }
            )
        # read again before writing: another run may have written its own key meanwhile
        store = json.loads(out_path.read_text()) if out_path.exists() else {}
        store[name] = {
            "config": {
                "loss": args.loss,
                "resample": args.resample,
                "bootstrap": B,
                "epochs": epochs,
                "teacher": cfg,
                "fit": {k: str(v) for k, v in FIT.items()},
                "true_ms": list(TRUE_MS),
                "seed": args.seed,
                "group": args.group,
            },
            "summary": summarise(rows),
            "datasets": rows,
            "wall_s": time.perf_counter() - t_start,
            "date": datetime.date.today().isoformat(),
            "machine": f"{platform.platform()}, {os.cpu_count()} CPU cores, jax {jax.__version__}",
            "note": "CPU shared with other jobs during the run: wall times are not benchmarks",
        }
        out_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(store, indent=1) + "\n")
        tmp.replace(out_path)
        print(
            f"group {g0 // args.group}: {len(idx)} datasets in {wall:.0f} s; "
            f"{json.dumps(store[name]['summary'])}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
