"""adaptive_rnn vs NN4N (PyTorch): forward simulation and one training step.

CTRNN, N = 100 hidden units (ReLU, dt/tau = 0.1 fixed), 8 inputs, 4 outputs, batch 64,
T = 500 steps, float32, same machine, same run. Training step = MSE loss, backward, Adam.
Ratios are NN4N time / adaptive_rnn time (larger is better). Targets: forward >= 5x,
training step >= 3x.

adaptive_rnn is timed twice: on one device (JAX's default), and with the batch split
over all devices (`simulate(..., devices=n)`; `configure_cpu()` makes one device per
core). The headline ratios use the second; both are reported.

NN4N runs in its own interpreter (a virtual environment with `torch==2.13.0 nn4n`; see
`_peers.py` for creating it), once with `torch.set_num_threads(1)` and once with 2:
its time depends on the thread count (on a loaded machine, 2 threads can be several
times slower than 1), so each operation keeps the faster, and both are recorded. Its
outputs on the same weights must equal ours (`_peers.RTOL`) before it is timed.

    python benchmarks/bench_nn4n.py [--quick] [--devices N] [--nn4n-python PATH]

Without an interpreter that imports torch and nn4n, NN4N is skipped with the reason.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import _peers  # noqa: E402
import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from _util import enable_compilation_cache, time_fn  # noqa: E402

import adaptive_rnn as ar  # noqa: E402

N_IN, N, N_OUT, B, T = 8, 100, 4, 64, 500
DT, TAU = 1.0, 10.0  # NN4N's alpha = dt / tau = 0.1


def ours(repeats, devices=None):
    model = ar.CTRNN(
        N_IN, N, N_OUT, activation="relu", alpha=0.1, dtype=jnp.float32, key=jax.random.key(0)
    )
    x = jax.random.normal(jax.random.key(1), (B, T, N_IN), dtype=jnp.float32)
    y = jax.random.normal(jax.random.key(2), (B, T, N_OUT), dtype=jnp.float32)
    opt = optax.adam(1e-3)
    params, static = eqx.partition(model, ar.trainable_filter(model))
    opt_state = opt.init(params)

    @eqx.filter_jit
    def forward(m, x):
        return ar.simulate(m, x, devices=devices).outputs

    @eqx.filter_jit
    def step(params, opt_state, x, y):
        def loss(p):
            return jnp.mean(
                (ar.simulate(eqx.combine(p, static), x, devices=devices).outputs - y) ** 2
            )

        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return {
        "devices": 1 if devices is None else devices,
        "forward": time_fn(forward, model, x, repeats=repeats),
        "train_step": time_fn(step, params, opt_state, x, y, repeats=repeats),
    }


def config() -> dict:
    return {
        "n_in": N_IN,
        "n_hidden": N,
        "n_out": N_OUT,
        "batch": B,
        "steps": T,
        "dtype": "float32",
        "dt": DT,
        "tau": TAU,
    }


def run(repeats=7, nn4n_python=None):
    enable_compilation_cache()
    n = len(jax.devices())
    one = ours(repeats, None)
    b = _peers.run_peer("nn4n", *_peers.find_python("nn4n", nn4n_python), config(), repeats)
    a = ours(repeats, n) if n > 1 and B % n == 0 else one
    return {
        "config": config(),
        "adaptive_rnn": a,
        "adaptive_rnn_one_device": one,
        "nn4n": b,
        "ratios": _peers.ratios("nn4n", b, a, one),
    }


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true")
    p.add_argument("--devices", type=int, default=None, help="CPU devices (default: one per core)")
    p.add_argument(
        "--nn4n-python",
        help="interpreter of a virtual environment with torch and nn4n "
        "(default: $ADAPTIVE_RNN_BENCH_NN4N_PYTHON, else this one)",
    )
    a = p.parse_args(argv)
    print(ar.configure_cpu(a.devices))
    out = run(5 if a.quick else 9, a.nn4n_python)
    for k in ("forward", "train_step"):
        ours_ms = 1e3 * out["adaptive_rnn"][k]["median_s"]
        one_ms = 1e3 * out["adaptive_rnn_one_device"][k]["median_s"]
        peer = out["nn4n"].get(k)
        peer_ms = f"{1e3 * peer['median_s']:.1f} ({peer['threads']} thr)" if peer else "n/a"
        print(
            f"{k:<12} adaptive_rnn {ours_ms:8.1f} ms ({out['adaptive_rnn']['devices']} devices; "
            f"{one_ms:.1f} ms on one)   NN4N {peer_ms} ms"
        )
    if "skipped" in out["nn4n"]:
        print("NN4N skipped:", out["nn4n"]["skipped"])
    for k, v in out["ratios"].items():
        print(f"{k}: {v:.2f}x")
    return out


if __name__ == "__main__":
    main()
