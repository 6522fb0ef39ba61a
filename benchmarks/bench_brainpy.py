"""adaptive_rnn vs BrainPy/brainstate (JAX): the CTRNN of `bench_nn4n.py` (N = 100, ReLU,
dt/tau = 0.1, 8 inputs, 4 outputs, batch 64, T = 500, float32; forward, and one
training step of MSE, gradient, Adam lr 1e-3), written with brainstate's primitives
(`peer_brainstate.py` says why and how) and run in its own interpreter, with 1 CPU and
with 2 (the faster kept per operation, both recorded). Its outputs on the same weights
must equal ours (`_peers.RTOL`) before it is timed. Ratios are its time / ours.

    python benchmarks/bench_brainpy.py [--quick] [--devices N] [--brainpy-python PATH]

Without an interpreter that imports brainstate and braintools (`_peers.py` says how to
make one), the peer is skipped with the reason.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import _peers  # noqa: E402
import bench_nn4n  # noqa: E402
import jax  # noqa: E402
from _util import enable_compilation_cache  # noqa: E402

import adaptive_rnn as ar  # noqa: E402


def run(repeats=7, brainpy_python=None, ours=None):
    """`ours`: the `adaptive_rnn` and `adaptive_rnn_one_device` timings of
    `bench_nn4n.run` (same model and sizes), to avoid timing them twice."""
    enable_compilation_cache()
    if ours is None:
        n = len(jax.devices())
        one = bench_nn4n.ours(repeats, None)
        a = bench_nn4n.ours(repeats, n) if n > 1 and bench_nn4n.B % n == 0 else one
    else:
        a, one = ours["adaptive_rnn"], ours["adaptive_rnn_one_device"]
    peer = _peers.run_peer(
        "brainpy", *_peers.find_python("brainpy", brainpy_python), bench_nn4n.config(), repeats
    )
    out = {
        "config": bench_nn4n.config(),
        "brainpy": peer,
        "ratios": _peers.ratios("brainpy", peer, a, one),
    }
    if ours is None:
        out["adaptive_rnn"], out["adaptive_rnn_one_device"] = a, one
    return out


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true")
    p.add_argument("--devices", type=int, default=None, help="CPU devices (default: one per core)")
    p.add_argument(
        "--brainpy-python",
        help="interpreter of a virtual environment with brainstate and braintools "
        "(default: $ADAPTIVE_RNN_BENCH_BRAINPY_PYTHON, else this one)",
    )
    a = p.parse_args(argv)
    print(ar.configure_cpu(a.devices))
    out = run(5 if a.quick else 9, a.brainpy_python)
    peer = out["brainpy"]
    if "skipped" in peer:
        print("BrainPy skipped:", peer["skipped"])
    else:
        for n, r in peer["by_threads"].items():
            print(
                f"brainstate, {n} CPU(s): forward {1e3 * r['forward']['median_s']:.1f} ms, "
                f"train step {1e3 * r['train_step']['median_s']:.1f} ms"
            )
        print(
            f"equal outputs: max |difference| {peer['equal_outputs']['max_abs_error']:.2e} "
            f"<= {peer['equal_outputs']['tolerance']:.2e}; versions {peer['versions']}"
        )
    for k, v in out["ratios"].items():
        print(f"{k}: {v:.2f}x")
    return out


if __name__ == "__main__":
    main()
