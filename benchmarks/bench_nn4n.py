"""adaptive_rnn vs NN4N (PyTorch): forward simulation and one training step.

CTRNN, N = 100 hidden units (ReLU, dt/tau = 0.1 fixed), 8 inputs, 4 outputs, batch 64,
T = 500 steps, float32, same machine, same run. Training step = MSE loss, backward, Adam.
Ratios are NN4N time / adaptive_rnn time (larger is better). Targets: forward >= 5x,
training step >= 3x.

adaptive_rnn is timed twice: on one device (JAX's default), and with the batch split
over all devices (`simulate(..., devices=n)`; `configure_cpu()` makes one device per
core, as PyTorch uses one thread per core). The headline ratios use the second; both
are reported. `configure_cpu` also keeps freed memory for reuse, which applies to the
whole process, PyTorch included.

    python benchmarks/bench_nn4n.py [--quick] [--devices N]

Needs `pip install torch==2.13.0 nn4n` (skipped with a message otherwise).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import adaptive_rnn as ar  # noqa: E402
from _util import enable_compilation_cache, time_fn  # noqa: E402

N_IN, N, N_OUT, B, T = 8, 100, 4, 64, 500


def ours(repeats, devices=None):
    model = ar.CTRNN(N_IN, N, N_OUT, activation="relu", alpha=0.1, dtype=jnp.float32, key=jax.random.key(0))
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
            return jnp.mean((ar.simulate(eqx.combine(p, static), x, devices=devices).outputs - y) ** 2)

        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return {
        "devices": 1 if devices is None else devices,
        "forward": time_fn(forward, model, x, repeats=repeats),
        "train_step": time_fn(step, params, opt_state, x, y, repeats=repeats),
    }


def nn4n(repeats):
    try:
        import torch
        from nn4n.model import CTRNN
    except ImportError as e:
        return {"skipped": f"NN4N not installed ({e}); pip install torch==2.13.0 nn4n"}
    import time
    import statistics

    torch.manual_seed(0)
    net = CTRNN(dims=[N_IN, N, N_OUT], dt=1, tau=10, activation="relu", suppress_warnings=True)
    x = torch.randn(T, B, N_IN)  # NN4N 1.1 is time-first
    y = torch.randn(T, B, N_OUT)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def forward():
        with torch.no_grad():
            return net(x)

    def step():
        opt.zero_grad()
        out, _ = net(x)
        loss = torch.mean((out - y) ** 2)
        loss.backward()
        opt.step()
        return loss

    res = {}
    for name, fn in (("forward", forward), ("train_step", step)):
        fn()
        fn()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        res[name] = {"median_s": statistics.median(times), "min_s": min(times), "repeats": repeats}
    res["torch_threads"] = torch.get_num_threads()
    return res


def run(repeats=7):
    enable_compilation_cache()
    n = len(jax.devices())
    one = ours(repeats, None)
    b = nn4n(repeats)
    a = ours(repeats, n) if n > 1 and B % n == 0 else one
    out = {"config": {"n_in": N_IN, "n_hidden": N, "n_out": N_OUT, "batch": B, "steps": T, "dtype": "float32"},
           "adaptive_rnn": a, "adaptive_rnn_one_device": one, "nn4n": b, "ratios": {}}
    if "skipped" not in b:
        for key, res in (("", a), ("_one_device", one)):
            out["ratios"][f"forward_vs_nn4n{key}"] = b["forward"]["median_s"] / res["forward"]["median_s"]
            out["ratios"][f"train_step_vs_nn4n{key}"] = b["train_step"]["median_s"] / res["train_step"]["median_s"]
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--devices", type=int, default=None, help="CPU devices (default: one per core)")
    a = p.parse_args(argv)
    print(ar.configure_cpu(a.devices))
    out = run(5 if a.quick else 9)
    for k in ("forward", "train_step"):
        ours_ms = 1e3 * out["adaptive_rnn"][k]["median_s"]
        one_ms = 1e3 * out["adaptive_rnn_one_device"][k]["median_s"]
        peer = out["nn4n"].get(k)
        peer_ms = f"{1e3 * peer['median_s']:.1f}" if peer else "n/a"
        print(f"{k:<12} adaptive_rnn {ours_ms:8.1f} ms ({out['adaptive_rnn']['devices']} devices; "
              f"{one_ms:.1f} ms on one)   NN4N {peer_ms:>8} ms")
    for k, v in out["ratios"].items():
        print(f"{k}: {v:.2f}x")
    return out


if __name__ == "__main__":
    main()
