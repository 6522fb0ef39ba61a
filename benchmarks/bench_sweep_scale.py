"""How far one machine goes with `sweep`: a simulation sweep of 10^5 models (10 units,
100 steps) and a training sweep of 10^4 paper-sized models (10 hidden units, teacher data
of 500 sequences, 400 per-sequence Adam updates per epoch, 10 epochs), each through the
config path a user takes (`run_config`, chunks and the part written to a folder as
`--resume` needs them), each in its own process so that its peak resident memory
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) is its own.

From the measured training throughput, projects the wall time of a 10^6-model training
sweep on 100 hosts like this one (a job array of 100 tasks) and on one GPU host (a
memory-bandwidth roofline; the assumptions are written into the result file).

Run: python benchmarks/bench_sweep_scale.py            (writes results/sweep_scale.json)
     python benchmarks/bench_sweep_scale.py --train-models 1000   (a smaller training sweep)
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALPHAS = [round(0.05 + 0.09 * i, 4) for i in range(10)]  # 0.05 .. 0.86, static-stable

# GPU roofline assumptions (one NVIDIA H100/H200-class GPU): settings, not measurements.
GPU_BANDWIDTH_BYTES_PER_S = 4.8e12  # HBM3e peak of an H200
GPU_EFFICIENCY = 0.25  # fraction of peak bandwidth a vmapped scan of tiny matmuls reaches
GPU_STEP_LATENCY_S = 10e-6  # one iteration of a compiled loop (a few kernel launches)
BYTES = 4  # float32


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def config(mode: str, n_models: int, epochs: int, chunk_size: int) -> dict:
    if n_models % 100:
        raise SystemExit(f"--{mode}-models: got {n_models}, expected a multiple of 100")
    cfg = {
        "sweep": {"mode": mode, "seed": 0, "chunk_size": chunk_size},
        "grid": {"alpha_s": ALPHAS, "alpha_r": ALPHAS, "seed": list(range(n_models // 100))},
        "model": {"n_hidden": 10, "activation": "sigmoid", "time_constants": "static"},
    }
    if mode == "train":
        cfg["model"]["readout"] = "lagged"
        cfg["data"] = {"teacher_alpha_s": 0.342, "teacher_alpha_r": 0.684}  # 500 sequences
        cfg["train"] = {"epochs": epochs, "learning_rate": 1e-3, "batch_size": 1}
    else:
        cfg["simulate"] = {"n_sequences": 1, "n_steps": 100}
    return cfg


def phase(mode: str, n_models: int, epochs: int, chunk_size: int) -> dict:
    """One sweep in this process; returns its figures."""
    import jax

    from adaptive_rnn import configure_cpu

    cpu = configure_cpu()
    import numpy as np

    from adaptive_rnn.recipes import run_config

    cfg = config(mode, n_models, epochs, chunk_size)
    load_before = _load()
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        ds = run_config(cfg, progress=False, directory=d)
        wall = time.perf_counter() - t0
        part_bytes = sum(p.stat().st_size for p in Path(d).iterdir())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss = usage.ru_maxrss * 1024  # KiB on Linux
    out = {
        "models": n_models,
        "wall_s": wall,
        "models_per_s": n_models / wall,
        "peak_rss_bytes": rss,
        # CPU time of the whole process (import, compilation, sweep): on a shared machine,
        # models per CPU-second depends less on the load than models per second
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "succeeded": int(np.asarray(ds["success"]).sum()),
        "chunks": int(ds.attrs["chunks_computed"]),
        "chunk_size": chunk_size,
        "devices": cpu["devices"],
        "part_bytes": part_bytes,
        "load_before": load_before,
        "load_after": _load(),
        "jax": jax.__version__,
    }
    if mode == "train":
        from adaptive_rnn import ARU

        m = ARU(2, 10, 2, time_constants="static", readout="lagged", key=jax.random.key(0))
        import equinox as eqx

        out["epochs"] = epochs
        # every floating-point array of the model (the fixed time constants included: an
        # upper bound on what training reads and writes)
        out["parameters"] = int(
            sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(m, eqx.is_inexact_array)))
        )
    else:
        out["n_steps"] = 100
    return out


def projections(train: dict) -> dict:
    """The wall time of a 10^6-model training sweep (same models, same epochs)."""
    n_total, hosts = 10**6, 100
    per_host = n_total / hosts
    cpu_s = per_host / train["models_per_s"]
    # GPU roofline: every update streams each model's parameters through the forward
    # and backward pass of every time step (2 x 20 steps), plus Adam's read and write of
    # parameters, gradients and both moments (8 passes); 400 updates per epoch.
    p = train["parameters"]
    steps, updates = 20, 400
    bytes_per_model_epoch = updates * (2 * steps * p * BYTES + 8 * p * BYTES)
    bandwidth_s = (
        n_total
        * train["epochs"]
        * bytes_per_model_epoch
        / (GPU_BANDWIDTH_BYTES_PER_S * GPU_EFFICIENCY)
    )
    # the chain of dependent loop iterations every model goes through, at least once
    latency_s = train["epochs"] * updates * 2 * steps * GPU_STEP_LATENCY_S
    gpu_s = max(bandwidth_s, latency_s)
    return {
        "models": n_total,
        "cpu_hosts": {
            "hosts": hosts,
            "models_per_host": per_host,
            "wall_s": cpu_s,
            "assumptions": (
                "each host as fast as this one under the load measured, one shard of "
                "10^4 models per host, all 100 array tasks running at once, start-up and "
                "compilation included as measured here, merge time not included"
            ),
        },
        "gpu_host": {
            "wall_s": gpu_s,
            "bandwidth_bound_s": bandwidth_s,
            "latency_bound_s": latency_s,
            "step_latency_s": GPU_STEP_LATENCY_S,
            "bandwidth_bytes_per_s": GPU_BANDWIDTH_BYTES_PER_S,
            "efficiency": GPU_EFFICIENCY,
            "bytes_per_model_epoch": bytes_per_model_epoch,
            "assumptions": (
                "not measured (no GPU here): a lower bound, the larger of a "
                "memory-bandwidth bound and a latency bound (10 epochs x 400 updates x 40 "
                "dependent loop iterations of 10 microseconds each); each update "
                "reads the parameters once per forward and backward time step (20 steps) "
                "and Adam reads and writes parameters, gradients and two moments; float32; "
                "25 % of the peak HBM bandwidth of an H200; all 10^6 models in memory in "
                "chunks large enough to fill the GPU; compilation and data transfer ignored"
            ),
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--sim-models", type=int, default=100_000)
    ap.add_argument("--train-models", type=int, default=10_000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--sim-chunk", type=int, default=10_000)
    ap.add_argument("--train-chunk", type=int, default=1_000)
    ap.add_argument("--out", default=str(ROOT / "results" / "sweep_scale.json"))
    ap.add_argument("--phase", choices=("simulate", "train"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        n = args.sim_models if args.phase == "simulate" else args.train_models
        chunk = args.sim_chunk if args.phase == "simulate" else args.train_chunk
        print(json.dumps(phase(args.phase, n, args.epochs, chunk)))
        return 0
    result: dict = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "memory_limit_bytes": 2 * 1024**3,
    }
    for name in ("simulate", "train"):
        cmd = [sys.executable, __file__, "--phase", name] + [
            f"--{k.replace('_', '-')}={v}"
            for k, v in vars(args).items()
            if k not in ("phase", "out")
        ]
        print(f"running the {name} sweep ...", flush=True)
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            print(res.stderr[-3000:], file=sys.stderr)
            return 1
        result[name] = json.loads(res.stdout.strip().splitlines()[-1])
        r = result[name]
        print(
            f"  {r['models']} models in {r['wall_s']:.1f} s: {r['models_per_s']:.1f} models/s, "
            f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB, load {r['load_before']}"
        )
    result["projection_1e6_training"] = projections(result["train"])
    result["under_memory_limit"] = all(
        result[k]["peak_rss_bytes"] < result["memory_limit_bytes"] for k in ("simulate", "train")
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    p = result["projection_1e6_training"]
    print(
        f"10^6 training models: {p['cpu_hosts']['wall_s'] / 3600:.2f} h on 100 hosts like this "
        f"one; >= {p['gpu_host']['wall_s'] / 60:.1f} min on one GPU (a bound). Wrote {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
