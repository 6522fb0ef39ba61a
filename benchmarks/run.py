"""All of adaptive_rnn's benchmarks in one run: a table of medians and ratios, and
`benchmarks/results.json`.

    python benchmarks/run.py            # full: 9 repeats, all sections (~10-15 min on 2 cores)
    python benchmarks/run.py --quick    # 5 repeats, smaller sweeps (a few minutes)
    python benchmarks/run.py --paper    # also time `adaptive-rnn reproduce fig2/all --scale paper`

Sections: NN4N (PyTorch) and BrainPy/brainstate (JAX) vs adaptive_rnn; diffrax vs scan;
roofline against a measured matmul peak; per-model ensemble epoch cost; compile time
with the persistent cache; peak memory of a long gradient with and without
checkpointing; accuracy per cost of the continuous solvers (a plot, written beside
`--out`); GPU throughput when a GPU is present. Ratios are measured in the same run. `results.json`'s `ratios` holds `forward_vs_nn4n`, `train_step_vs_nn4n`,
`forward_vs_brainpy` and `train_step_vs_brainpy` (peer time / our time, larger is better;
`..._one_device` against adaptive_rnn on one device) and `diffrax_euler_vs_scan`
(diffrax / scan).

Each peer runs in its own interpreter (`--nn4n-python`, `--brainpy-python`; `_peers.py`
says how to create their virtual environments), with 1 thread and with 2; the faster
run of each operation is kept, and both, with the peer's versions, are in
`results.json` (`nn4n.nn4n`, `brainpy.brainpy`). A peer it cannot run is skipped with
the reason recorded.
"""

import argparse
import datetime
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import diffrax  # noqa: E402
import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from _util import enable_compilation_cache, machine, time_fn, write_json  # noqa: E402

import adaptive_rnn as ar  # noqa: E402
from adaptive_rnn import split_leading_axis  # noqa: E402


def matmul_peak(repeats) -> dict:
    """GFLOP/s of a large float32 `jnp.dot` (the machine's practical peak): the best of
    a dot on one device and, with several devices, the same dot with its rows split
    over all of them, so that the peak is not understated when the cores are devices."""
    out = {}
    devices = jax.devices()
    for n in (1024, 2048):
        a = jax.random.normal(jax.random.key(0), (n, n), dtype=jnp.float32)
        f = jax.jit(jnp.dot)
        t = time_fn(f, a, a, repeats=repeats)["median_s"]
        out[str(n)] = 2 * n**3 / t / 1e9
        if len(devices) > 1:
            t = time_fn(f, split_leading_axis(a, devices, "rows"), a, repeats=repeats)["median_s"]
            out[f"{n}_split"] = 2 * n**3 / t / 1e9
    return {"gflops": max(out.values()), "by_size": out}


def _fractions(flops, tf, tg, peak_gflops) -> dict:
    return {
        "forward_gflops": flops / tf / 1e9,
        "gradient_gflops": 3 * flops / tg / 1e9,  # forward + two transposed matmuls
        "forward_fraction_of_peak": flops / tf / 1e9 / peak_gflops,
        "gradient_fraction_of_peak": 3 * flops / tg / 1e9 / peak_gflops,
        "forward_s": tf,
        "gradient_s": tg,
    }


def roofline(repeats, peak_gflops, quick, shape=None) -> dict:
    """Achieved GFLOP/s of the recurrent matmuls of a model sweep (models x batch >= 2048,
    N = 100): M models, each with its own W, simulated (forward) and differentiated,
    the models spread over all devices (`configure_cpu` makes one per core)."""
    N, T, n_in = 100, 100, 4
    M, B = shape or ((32, 64) if not quick else (16, 128))
    keys = jax.random.split(jax.random.key(0), M)
    models = eqx.filter_vmap(
        lambda k: ar.ARU(
            n_in, N, 2, time_constants="static", alpha_s=0.3, alpha_r=0.6, dtype=jnp.float32, key=k
        )
    )(keys)
    devices = jax.devices()
    if M % len(devices) == 0 and len(devices) > 1:
        models = eqx.combine(
            split_leading_axis(eqx.filter(models, eqx.is_array), devices, "models"), models
        )
    x = jax.random.uniform(jax.random.key(1), (B, T, n_in), dtype=jnp.float32)

    @eqx.filter_jit
    def fwd(ms, x):
        return eqx.filter_vmap(lambda m: ar.simulate(m, x).outputs)(ms)

    @eqx.filter_jit
    def grad(ms, x):
        return eqx.filter_vmap(eqx.filter_grad(lambda m: jnp.sum(ar.simulate(m, x).outputs ** 2)))(
            ms
        )

    flops = 2 * M * B * N * N * T  # recurrent matmuls of the forward pass
    tf = time_fn(fwd, models, x, repeats=repeats)["median_s"]
    tg = time_fn(grad, models, x, repeats=repeats)["median_s"]
    return {
        "config": {"models": M, "batch": B, "n_hidden": N, "steps": T, "devices": len(devices)},
        **_fractions(flops, tf, tg, peak_gflops),
    }


def roofline_batch(repeats, peak_gflops, B=2048) -> dict:
    """The same for a batch sweep: one model, B = 2048 sequences (inputs or initial
    conditions swept), so each step is one (B x N) @ (N x N) matmul; the batch is split
    over all devices (`simulate(..., devices=n)`)."""
    N, T, n_in = 100, 100, 4
    model = ar.ARU(
        n_in,
        N,
        2,
        time_constants="static",
        alpha_s=0.3,
        alpha_r=0.6,
        dtype=jnp.float32,
        key=jax.random.key(0),
    )
    x = jax.random.uniform(jax.random.key(1), (B, T, n_in), dtype=jnp.float32)
    n = len(jax.devices())
    fwd = eqx.filter_jit(lambda m, x: ar.simulate(m, x, devices=n).outputs)
    grad = eqx.filter_jit(
        eqx.filter_grad(lambda m, x: jnp.sum(ar.simulate(m, x, devices=n).outputs ** 2))
    )
    flops = 2 * B * N * N * T
    tf = time_fn(fwd, model, x, repeats=repeats)["median_s"]
    tg = time_fn(grad, model, x, repeats=repeats)["median_s"]
    return {
        "config": {"models": 1, "batch": B, "n_hidden": N, "steps": T, "devices": n},
        **_fractions(flops, tf, tg, peak_gflops),
    }


def accuracy_per_cost(plot_path) -> dict:
    """Error against a tight reference vs number of vector-field evaluations."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    jax.config.update("jax_enable_x64", True)
    model = ar.ARU(
        2,
        20,
        2,
        time_constants="static",
        tau_s=3.0,
        tau_r=2.0,
        dtype=jnp.float64,
        key=jax.random.key(0),
    )
    x = jax.random.uniform(jax.random.key(1), (40, 2), dtype=jnp.float64)
    ref = ar.solve(
        model,
        x,
        solver=diffrax.Tsit5(),
        interpolation="cubic",
        max_steps=100_000,
        stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
    ).outputs
    res = {}
    for name, solver, stages in (("euler", ar.SequentialEuler(), 1), ("heun", diffrax.Heun(), 2)):
        pts = []
        for h in (1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125):
            out = ar.solve(model, x, solver=solver, dt0=h, interpolation="cubic").outputs
            pts.append((int(round(40 / h)) * stages, float(jnp.max(jnp.abs(out - ref)))))
        res[name] = pts
    pts = []
    for tol in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8):
        tr = ar.solve(
            model,
            x,
            solver=diffrax.Tsit5(),
            interpolation="cubic",
            stepsize_controller=diffrax.PIDController(rtol=tol, atol=tol),
        )
        pts.append((int(tr.num_steps) * 6, float(jnp.max(jnp.abs(tr.outputs - ref)))))
    res["tsit5_adaptive"] = pts
    jax.config.update("jax_enable_x64", False)
    fig = Figure(figsize=(5, 4), layout="constrained")
    ax = fig.subplots()
    for name, p in res.items():
        a = np.asarray(p)
        ax.loglog(a[:, 0], a[:, 1], "o-", label=name)
    ax.set_xlabel("vector-field evaluations")
    ax.set_ylabel("max output error vs reference")
    ax.set_title("ARU (20 units), 40 time units")
    ax.legend()
    fig.savefig(plot_path, dpi=120)
    return {"points": res, "plot": str(plot_path)}


# (setup, call): the setup builds data and models; the call is what compiles.
COMPILE_SNIPPETS = {
    "simulate_aru_b64_t500": (
        """
import jax, jax.numpy as jnp, adaptive_rnn as ar
m = ar.ARU(8, 100, 4, dtype=jnp.float32, key=jax.random.key(0))
x = jnp.zeros((64, 500, 8), jnp.float32)
""",
        "ar.simulate(m, x).outputs.block_until_ready()",
    ),
    "solve_aru_tsit5": (
        """
import jax, jax.numpy as jnp, diffrax, adaptive_rnn as ar
m = ar.ARU(8, 100, 4, dtype=jnp.float32, key=jax.random.key(0))
x = jnp.zeros((64, 100, 8), jnp.float32)
""",
        "ar.solve(m, x, solver=diffrax.Tsit5(), stepsize_controller=diffrax.PIDController(rtol=1e-4, atol=1e-5))"
        ".outputs.block_until_ready()",
    ),
    "fit_paper_epoch": (
        """
import jax, jax.numpy as jnp, adaptive_rnn as ar
d = ar.teacher_data(jax.random.key(0))
m = ar.ARU(2, 10, 2, readout="lagged", dtype=jnp.float32, key=jax.random.key(1))
""",
        "ar.fit(m, d, key=jax.random.key(2), epochs=1, progress=False)",
    ),
    "fit_ensemble_200": (
        """
import jax, jax.numpy as jnp, equinox as eqx, adaptive_rnn as ar
d = ar.teacher_data(jax.random.key(0))
ms = eqx.filter_vmap(lambda k: ar.ARU(2, 10, 2, readout="lagged", dtype=jnp.float32, key=k))(jax.random.split(jax.random.key(1), 200))
""",
        "ar.fit_ensemble(ms, d, key=jax.random.key(2), epochs=1, progress=False)",
    ),
}


def compile_times() -> dict:
    """Compile time of each standard configuration in a fresh process (one device, as a
    user gets by default): the first call (trace, compile or load from the persistent
    cache, run) minus the second (run only), with the cache filled by an earlier run.
    Process start, imports and building data and models are excluded."""
    out = {}
    cache = Path.home() / ".cache" / "adaptive_rnn_bench_compile"
    for name, (setup, call) in COMPILE_SNIPPETS.items():
        prog = (
            "import time, jax\n"
            f"jax.config.update('jax_compilation_cache_dir', {str(cache)!r})\n"
            "jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)\n"
            "import adaptive_rnn\n"
            + setup
            + f"\nt = time.perf_counter()\n{call}\nfirst = time.perf_counter() - t\n"
            f"t = time.perf_counter()\n{call}\nsecond = time.perf_counter() - t\n"
            "print('ELAPSED', first, second)\n"
        )
        runs = []
        for _ in range(2):
            r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True)
            line = [l for l in r.stdout.splitlines() if l.startswith("ELAPSED")]
            runs.append(
                tuple(map(float, line[0].split()[1:])) if line else (float("nan"), float("nan"))
            )
            if not line:
                print(r.stderr[-2000:], file=sys.stderr)
        (cold_first, _), (first, second) = runs
        out[name] = {
            "first_process_first_call_s": cold_first,
            "first_call_s": first,
            "run_s": second,
            "with_cache_s": first - second,
        }
    return out


def memory(T=10_000) -> dict:
    """Temporary memory (bytes) of a compiled gradient through T steps (ARU, 64 units),
    on the scan path with and without `remat`, and on the diffrax path with recursive
    checkpointing."""
    model = ar.ARU(
        1,
        64,
        1,
        time_constants="static",
        alpha_s=0.3,
        alpha_r=0.6,
        dtype=jnp.float32,
        key=jax.random.key(0),
    )
    out = {}

    def temp(fn, T):
        xs = jnp.zeros((T, 1), jnp.float32)
        f = jax.jit(jax.grad(lambda m: jnp.sum(fn(m, xs) ** 2)))
        return int(f.lower(model).compile().memory_analysis().temp_size_in_bytes)

    k = int(np.sqrt(T))
    cases = {
        "scan": lambda m, x: ar.simulate(m, x).outputs,
        f"scan_remat_{k}": lambda m, x: ar.simulate(m, x, remat=k).outputs,
        "diffrax_checkpoint_all": lambda m, x: ar.solve(m, x).outputs,
        "diffrax_recursive_checkpoint_100": lambda m, x: (
            ar.solve(m, x, adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints=100)).outputs
        ),
    }
    for name, fn in cases.items():
        out[name] = {str(t): temp(fn, t) for t in (T // 4, T)}
    return out


def gpu(repeats) -> dict:
    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    if not gpus:
        return {
            "available": False,
            "note": "no GPU on this machine; run benchmarks/run.py where one is",
        }
    res = {"available": True, "device": gpus[0].device_kind, "throughput": {}}
    for N in (100, 1000, 4096):
        for B in (64, 1024):
            m = ar.ARU(8, N, 4, dtype=jnp.float32, key=jax.random.key(0))
            x = jnp.zeros((B, 200, 8), jnp.float32)
            f = eqx.filter_jit(lambda m, x: ar.simulate(m, x).outputs)
            g = eqx.filter_jit(
                eqx.filter_grad(lambda m, x: jnp.sum(ar.simulate(m, x).outputs ** 2))
            )
            tf = time_fn(f, m, x, repeats=repeats)["median_s"]
            tg = time_fn(g, m, x, repeats=repeats)["median_s"]
            res["throughput"][f"N{N}_B{B}"] = {
                "forward_steps_per_s": 200 * B / tf,
                "grad_steps_per_s": 200 * B / tg,
            }
    return res


def paper_timings() -> dict:
    out = {}
    for name in ("fig2", "all"):
        t = time.perf_counter()
        r = subprocess.run(
            ["adaptive-rnn", "reproduce", name, "--scale", "paper", "--out", "out/bench_paper"],
            capture_output=True,
            text=True,
        )
        out[name] = {"wall_s": time.perf_counter() - t, "returncode": r.returncode}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="5 repeats and smaller sweeps")
    p.add_argument(
        "--paper", action="store_true", help="also time reproduce fig2/all --scale paper"
    )
    p.add_argument("--out", default=str(HERE / "results.json"))
    p.add_argument(
        "--devices",
        type=int,
        default=None,
        help="JAX CPU devices (default: one per core; see adaptive_rnn.configure_cpu)",
    )
    p.add_argument(
        "--nn4n-python",
        help="interpreter of a virtual environment with torch==2.13.0 and nn4n "
        "(default: $ADAPTIVE_RNN_BENCH_NN4N_PYTHON, else this one)",
    )
    p.add_argument(
        "--brainpy-python",
        help="interpreter of a virtual environment with brainstate and braintools "
        "(default: $ADAPTIVE_RNN_BENCH_BRAINPY_PYTHON, else this one)",
    )
    a = p.parse_args(argv)
    cpu = ar.configure_cpu(a.devices)  # before any JAX computation
    enable_compilation_cache()
    repeats = 5 if a.quick else 9
    import bench_brainpy
    import bench_ensemble
    import bench_nn4n
    import bench_paths

    t_start = time.perf_counter()
    res = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "quick": a.quick,
        "cpu": cpu,
    }
    print(f"machine: {res['machine']}", flush=True)
    res["nn4n"] = bench_nn4n.run(repeats, a.nn4n_python)
    print("nn4n done", flush=True)
    res["brainpy"] = bench_brainpy.run(repeats, a.brainpy_python, ours=res["nn4n"])
    print("brainpy done", flush=True)
    res["paths"] = bench_paths.run(repeats=repeats)
    print("paths done", flush=True)
    res["matmul_peak"] = matmul_peak(repeats)
    res["roofline"] = roofline(repeats, res["matmul_peak"]["gflops"], a.quick)
    res["roofline_batch"] = roofline_batch(repeats, res["matmul_peak"]["gflops"])
    print("roofline done", flush=True)
    res["ensemble"] = bench_ensemble.run((200,) if a.quick else (1, 200, 400))
    print("ensemble done", flush=True)
    res["compile"] = compile_times()
    print("compile done", flush=True)
    res["memory"] = memory(2_000 if a.quick else 10_000)
    print("memory done", flush=True)
    res["gpu"] = gpu(repeats)
    res["accuracy"] = accuracy_per_cost(Path(a.out).with_name("accuracy.png"))
    if a.paper:
        res["paper"] = paper_timings()
    ratios = {**res["nn4n"].get("ratios", {}), **res["brainpy"].get("ratios", {})}
    ratios["diffrax_euler_vs_scan"] = res["paths"]["ratios"]["forward_diffrax_vs_scan"]
    ratios["diffrax_euler_vs_scan_grad"] = res["paths"]["ratios"]["grad_diffrax_vs_scan"]
    res["ratios"] = ratios
    res["total_s"] = time.perf_counter() - t_start
    write_json(a.out, res)

    ms = lambda s: f"{1e3 * s:9.2f} ms"  # noqa: E731
    print()
    print(f"{'benchmark':<46}{'median':>12}{'target':>14}")
    nn = res["nn4n"]
    rows = [
        (
            "CTRNN forward, adaptive_rnn (B64 T500 N100)",
            ms(nn["adaptive_rnn"]["forward"]["median_s"]),
            "",
        ),
        ("CTRNN train step, adaptive_rnn", ms(nn["adaptive_rnn"]["train_step"]["median_s"]), ""),
    ]
    rows += [
        ("  the same on one device", ms(nn["adaptive_rnn_one_device"]["forward"]["median_s"]), ""),
        (
            "  train step on one device",
            ms(nn["adaptive_rnn_one_device"]["train_step"]["median_s"]),
            "",
        ),
    ]
    if "forward" in nn["nn4n"]:
        rows += [
            (
                f"CTRNN forward, NN4N ({nn['nn4n']['forward']['threads']} thr)",
                ms(nn["nn4n"]["forward"]["median_s"]),
                "",
            ),
            (
                f"CTRNN train step, NN4N ({nn['nn4n']['train_step']['threads']} thr)",
                ms(nn["nn4n"]["train_step"]["median_s"]),
                "",
            ),
            ("  ratio forward_vs_nn4n", f"{ratios['forward_vs_nn4n']:9.2f} x", ">= 5 x"),
            ("  ratio train_step_vs_nn4n", f"{ratios['train_step_vs_nn4n']:9.2f} x", ">= 3 x"),
            ("  ratio forward, one device", f"{ratios['forward_vs_nn4n_one_device']:9.2f} x", ""),
            (
                "  ratio train step, one device",
                f"{ratios['train_step_vs_nn4n_one_device']:9.2f} x",
                "",
            ),
        ]
    else:
        rows.append(("CTRNN NN4N: skipped", "", ""))
    bp = res["brainpy"]["brainpy"]
    if "forward" in bp:
        rows += [
            (
                f"CTRNN forward, brainstate ({bp['forward']['threads']} cpu)",
                ms(bp["forward"]["median_s"]),
                "",
            ),
            (
                f"CTRNN train step, brainstate ({bp['train_step']['threads']} cpu)",
                ms(bp["train_step"]["median_s"]),
                "",
            ),
            ("  ratio forward_vs_brainpy", f"{ratios['forward_vs_brainpy']:9.2f} x", ""),
            ("  ratio train_step_vs_brainpy", f"{ratios['train_step_vs_brainpy']:9.2f} x", ""),
        ]
    else:
        rows.append(("CTRNN BrainPy/brainstate: skipped", "", ""))
    pt = res["paths"]["timings"]
    rows += [
        ("ARU forward scan (B64 T500 N100)", ms(pt["forward_scan"]["median_s"]), ""),
        ("ARU forward diffrax fixed-grid", ms(pt["forward_diffrax"]["median_s"]), ""),
        ("ARU value_and_grad scan", ms(pt["grad_scan"]["median_s"]), ""),
        ("ARU value_and_grad diffrax", ms(pt["grad_diffrax"]["median_s"]), ""),
        ("  ratio diffrax/scan forward", f"{ratios['diffrax_euler_vs_scan']:9.3f} x", "<= 1.15 x"),
        (
            "  ratio diffrax/scan gradient",
            f"{ratios['diffrax_euler_vs_scan_grad']:9.3f} x",
            "<= 1.15 x",
        ),
        ("matmul peak (large f32 dot)", f"{res['matmul_peak']['gflops']:7.1f} GF/s", ""),
        (
            f"roofline model sweep fwd ({res['roofline']['config']['models']} x {res['roofline']['config']['batch']})",
            f"{res['roofline']['forward_fraction_of_peak']:9.2f}",
            ">= 0.50",
        ),
        (
            "roofline model sweep gradient",
            f"{res['roofline']['gradient_fraction_of_peak']:9.2f}",
            "",
        ),
        (
            "roofline batch sweep fwd (1 x 2048)",
            f"{res['roofline_batch']['forward_fraction_of_peak']:9.2f}",
            ">= 0.50",
        ),
        (
            "roofline batch sweep gradient",
            f"{res['roofline_batch']['gradient_fraction_of_peak']:9.2f}",
            "",
        ),
    ]
    for M, r in res["ensemble"].items():
        rows.append(
            (
                f"ensemble epoch per model, M={M}",
                ms(r["ours_per_model_s"]),
                "<= 2 ms" if int(M) >= 200 else "",
            )
        )
    for k, v in res["compile"].items():
        rows.append((f"compile {k} (cache on)", f"{v['with_cache_s']:9.2f} s", "<= 2 s"))
    for k, v in res["memory"].items():
        rows.append(
            (
                f"grad temp memory {k}",
                " / ".join(f"{int(b) / 2**20:.1f}" for b in v.values()) + " MiB",
                "",
            )
        )
    rows.append(("GPU", "available" if res["gpu"]["available"] else "none", ""))
    for r in rows:
        print(f"{r[0]:<46}{r[1]:>12}{r[2]:>14}")
    for peer in ("nn4n", "brainpy"):
        if "skipped" in res[peer][peer]:
            print(f"{peer} skipped: {res[peer][peer]['skipped']}")
    print(f"\nwrote {a.out} ({res['total_s']:.0f} s)")
    return res


if __name__ == "__main__":
    main()
