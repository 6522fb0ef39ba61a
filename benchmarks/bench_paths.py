"""Scan path vs diffrax fixed-grid path: forward and value_and_grad.

N = 100 hidden ARU units, batch 64, T = 500 steps, float32 .
Target: diffrax path <= 1.15x the scan path (stepping exactly on the grid, saving every
step, max_steps = T).

    python benchmarks/bench_paths.py [--quick] [--batch 64] [--hidden 100] [--steps 500]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from _util import enable_compilation_cache, machine, time_fn  # noqa: E402

import adaptive_rnn as ar  # noqa: E402


def build(n_hidden, batch, steps):
    key = jax.random.key(0)
    model = ar.ARU(
        8, n_hidden, 4, time_constants="local", alpha_s=0.3, alpha_r=0.6, dtype=jnp.float32, key=key
    )
    xs = jax.random.uniform(jax.random.key(1), (batch, steps, 8), dtype=jnp.float32)
    ys = jax.random.normal(jax.random.key(2), (batch, steps, 4), dtype=jnp.float32)
    return model, xs, ys


def run(n_hidden=100, batch=64, steps=500, repeats=7):
    model, xs, ys = build(n_hidden, batch, steps)

    @eqx.filter_jit
    def fwd_scan(m, x):
        return ar.simulate(m, x).outputs

    @eqx.filter_jit
    def fwd_diffrax(m, x):
        return ar.solve(m, x).outputs

    def loss(run_fn):
        def f(m, x, y):
            return jnp.mean((run_fn(m, x) - y) ** 2)

        return eqx.filter_jit(eqx.filter_value_and_grad(f))

    grad_scan = loss(lambda m, x: ar.simulate(m, x).outputs)
    grad_diffrax = loss(lambda m, x: ar.solve(m, x).outputs)

    res = {
        "forward_scan": time_fn(fwd_scan, model, xs, repeats=repeats),
        "forward_diffrax": time_fn(fwd_diffrax, model, xs, repeats=repeats),
        "grad_scan": time_fn(grad_scan, model, xs, ys, repeats=repeats),
        "grad_diffrax": time_fn(grad_diffrax, model, xs, ys, repeats=repeats),
    }
    ratios = {
        "forward_diffrax_vs_scan": res["forward_diffrax"]["median_s"]
        / res["forward_scan"]["median_s"],
        "grad_diffrax_vs_scan": res["grad_diffrax"]["median_s"] / res["grad_scan"]["median_s"],
    }
    return {
        "config": {"n_hidden": n_hidden, "batch": batch, "steps": steps, "dtype": "float32"},
        "timings": res,
        "ratios": ratios,
    }


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="5 repeats")
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=500)
    a = p.parse_args(argv)
    enable_compilation_cache()
    out = run(a.hidden, a.batch, a.steps, repeats=5 if a.quick else 9)
    print(f"machine: {machine()}")
    print(f"config: {out['config']}")
    print(f"{'benchmark':<18}{'median ms':>12}{'first call s':>14}")
    for k, v in out["timings"].items():
        print(f"{k:<18}{1e3 * v['median_s']:>12.2f}{v['first_call_s']:>14.2f}")
    for k, v in out["ratios"].items():
        print(f"{k}: {v:.3f}  (target <= 1.15)")
    return out


if __name__ == "__main__":
    main()
