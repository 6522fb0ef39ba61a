"""`adaptive-rnn train-task` with its defaults, for every model family on the two
coherence tasks: held-out accuracy, the ideal observer's accuracy on the same trials,
accuracy by coherence and wall time, seeds 0-2.

    python benchmarks/train_task_defaults.py                 # the whole grid (30 runs)
    python benchmarks/train_task_defaults.py --seeds 0 --tasks context_decision --out /tmp/x.json
    python benchmarks/train_task_defaults.py --resume         # finish an interrupted grid

Each run is a fresh process, `adaptive-rnn train-task TASK --model M [--dale
--time-constants local] --seed S --out DIR`, with no other option: the command line's
defaults. Its wall time is from start to exit (imports, compiling, training, fixed
points, plots, writing), with the load average before and after (the machine may be
shared). The variants are the default invocation of each family, and the ARU and the
CTRNN with Dale's law (the shunting model always has it).

A run passes when its accuracy is at least `MIN_ACCURACY`, or, where the ideal observer
itself does not reach that on these trials (0 % coherence trials are a guess), when it
is within `MAX_GAP_TO_IDEAL` of the ideal observer.

Writes `results/train_task_defaults.json` (the parser's defaults, the criterion, every
run) and, beside it, `train_task_defaults.png` (accuracy against coherence, mean over
seeds, per family and task).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("perceptual_decision", "context_decision")
# (name, extra command-line options)
VARIANTS = (
    ("aru", ["--model", "aru"]),
    (
        "aru --dale --time-constants local",
        ["--model", "aru", "--dale", "--time-constants", "local"],
    ),
    ("ctrnn", ["--model", "ctrnn"]),
    ("ctrnn --dale", ["--model", "ctrnn", "--dale"]),
    ("shunting", ["--model", "shunting"]),
)
SEEDS = (0, 1, 2)
MIN_ACCURACY = 0.85
MAX_GAP_TO_IDEAL = 0.02


def cli_defaults() -> dict:
    """The defaults of `adaptive-rnn train-task`, read from its parser."""
    from adaptive_rnn.cli import build_parser

    ns = build_parser().parse_args(["train-task", "perceptual_decision", "--out", "unused"])
    d = {k: v for k, v in vars(ns).items() if k not in ("func", "command", "task", "out")}
    return json.loads(json.dumps(d))


def passes(accuracy: float, ideal: float) -> bool:
    """The criterion: `MIN_ACCURACY`, or within `MAX_GAP_TO_IDEAL` of the ideal observer
    where the ideal observer itself is below `MIN_ACCURACY + MAX_GAP_TO_IDEAL`."""
    return accuracy >= min(MIN_ACCURACY, ideal - MAX_GAP_TO_IDEAL)


def run_one(task: str, variant: list, seed: int, out: Path) -> dict:
    cmd = ["adaptive-rnn", "train-task", task, *variant, "--seed", str(seed), "--out", str(out)]
    exe = Path(sys.executable).parent / "adaptive-rnn"
    argv = (
        [str(exe), *cmd[1:]]
        if exe.exists()
        else [sys.executable, "-m", "adaptive_rnn.cli", *cmd[1:]]
    )
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    load1 = os.getloadavg()[0]
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    s = json.loads((out / "task.json").read_text())
    by = s["accuracy_by_coherence"]
    return {
        "command": " ".join(cmd[:-2] + ["--out", "DIR"]),
        "task": task,
        "model": s["model"],
        "dale": s["dale"],
        "time_constant_mode": s["time_constant_mode"],
        "seed": seed,
        "accuracy": s["accuracy"],
        "ideal_observer_accuracy": s["ideal_observer_accuracy"],
        "passes": passes(s["accuracy"], s["ideal_observer_accuracy"]),
        "accuracy_by_coherence": {
            k: by[k]
            for k in ("coherence_percent", "accuracy", "ideal_observer_accuracy", "n_trials")
        },
        "n_test": s["n_test"],
        "best_epoch": s["best_epoch"],
        "epochs": s["epochs"],
        "wall_s": round(wall, 2),
        "load_average_1min": [round(load0, 2), round(load1, 2)],
        "stdout": proc.stdout.strip(),
    }


def plot(result: dict, path: Path) -> None:
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    axes = fig.subplots(1, len(result["tasks"]), squeeze=False)[0]
    for ax, task in zip(axes, result["tasks"]):
        ideal = None
        for name in result["variants"]:
            runs = [r for r in result["runs"] if r["task"] == task and r["variant"] == name]
            if not runs:
                continue
            x = np.asarray(runs[0]["accuracy_by_coherence"]["coherence_percent"])
            a = np.mean([r["accuracy_by_coherence"]["accuracy"] for r in runs], axis=0)
            ideal = np.mean(
                [r["accuracy_by_coherence"]["ideal_observer_accuracy"] for r in runs], axis=0
            )
            acc = np.mean([r["accuracy"] for r in runs])
            ax.plot(x, a, "o-", ms=3, label=f"{name} ({acc:.3f})")
        if ideal is not None:
            ax.plot(x, ideal, "k--", lw=1, label="ideal observer")
        ax.axhline(0.5, color="0.6", lw=0.8, ls=":", label="chance")
        ax.set_xlabel("coherence of the relevant stimulus (%)")
        ax.set_ylabel("accuracy (fraction correct)")
        ax.set_ylim(0.45, 1.02)
        ax.set_title(f"{task} (mean over seeds {result['seeds']})", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle("adaptive-rnn train-task with its defaults: held-out accuracy by coherence")
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    ap.add_argument(
        "--variants", nargs="+", default=[v for v, _ in VARIANTS], choices=[v for v, _ in VARIANTS]
    )
    ap.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    ap.add_argument("--out", default=str(ROOT / "results" / "train_task_defaults.json"))
    ap.add_argument("--keep", default=None, help="keep each run's output folder under this folder")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in --out (made with the same defaults) and run the rest",
    )
    args = ap.parse_args(argv)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    import jax

    result = {
        "what": "adaptive-rnn train-task with its defaults on the coherence tasks, every family and seed",
        "command": " ".join(
            [
                "python",
                "benchmarks/train_task_defaults.py",
                *(argv if argv is not None else sys.argv[1:]),
            ]
        ),
        "date": datetime.date.today().isoformat(),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "jax": jax.__version__,
            "python": platform.python_version(),
        },
        "defaults": cli_defaults(),
        "criterion": {
            "min_accuracy": MIN_ACCURACY,
            "max_gap_to_ideal": MAX_GAP_TO_IDEAL,
            "rule": "accuracy >= min(min_accuracy, ideal_observer_accuracy - max_gap_to_ideal)",
        },
        "tasks": args.tasks,
        "variants": args.variants,
        "seeds": args.seeds,
        "runs": [],
    }
    done = {}
    if args.resume and out.exists():
        old = json.loads(out.read_text())
        if old.get("defaults") == result["defaults"]:
            done = {(r["task"], r["variant"], r["seed"]): r for r in old["runs"]}
            result["command"] = old["command"]
    options = dict(VARIANTS)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        for task in args.tasks:
            for name in args.variants:
                for seed in args.seeds:
                    if (task, name, seed) in done:
                        result["runs"].append(done[(task, name, seed)])
                        continue
                    run_dir = base / f"{task}-{name.replace(' ', '').replace('--', '-')}-{seed}"
                    r = {"variant": name, **run_one(task, options[name], seed, run_dir)}
                    result["runs"].append(r)
                    print(
                        f"{task:20s} {name:34s} seed {seed}: accuracy {r['accuracy']:.3f} "
                        f"(ideal {r['ideal_observer_accuracy']:.3f}) {'ok' if r['passes'] else 'FAIL'} "
                        f"{r['wall_s']:.0f} s (load {r['load_average_1min'][0]:.1f})",
                        flush=True,
                    )
                    out.write_text(json.dumps(result, indent=1) + "\n")
    walls = [r["wall_s"] for r in result["runs"]]
    result["summary"] = {
        "all_pass": all(r["passes"] for r in result["runs"]),
        "n_runs": len(walls),
        "n_at_least_min_accuracy": sum(r["accuracy"] >= MIN_ACCURACY for r in result["runs"]),
        "wall_s_median": sorted(walls)[len(walls) // 2] if walls else None,
        "wall_s_max": max(walls) if walls else None,
    }
    out.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, out.with_suffix(".png"))
    print(json.dumps(result["summary"]))
    return 0 if result["summary"]["all_pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
