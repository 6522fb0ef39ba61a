"""BrainPy/brainstate (JAX) side of the peer benchmark; run by `_peers.py` with the peer's
own interpreter (a virtual environment with `brainpy brainstate braintools`), never
imported.

    PEER_PYTHON peer_brainstate.py --inputs IN.npz --threads N --repeats R [--outputs OUT.npz] [--budget-s S]

BrainPy 2.x and brainstate ship no leaky (continuous-time) rate RNN layer (their RNN
cells are the vanilla/GRU/LSTM kind, their rate models have no weight matrices), so the
CTRNN is written with brainstate's own primitives, as its tutorials write RNNs: a
`brainstate.nn.Module` holding `ParamState` weights and a `HiddenState`, one `update`
per step, `brainstate.transform.for_loop` over time, `brainstate.transform.grad` over
the `ParamState`s and `braintools.optim.Adam`, all under `brainstate.transform.jit`:

    v_{t+1} = (1 - a) v_t + a (relu(v_t) W_hid^T + u_t W_in^T + b_in + b_hid),
    y_t = relu(v_{t+1}) W_out^T + b_out,   v_0 = 0,   a = dt / tau

(NN4N 1.x's update). Threads: JAX has no per-process thread-count switch that its CPU
runtime obeys, so N threads means the process is restricted to N CPUs
(`os.sched_setaffinity`) before JAX starts; XLA then sizes its pools to them. Prints
one line `PEER_RESULT {json}`.
"""

import argparse
import os
import sys


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--inputs", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--outputs")
    p.add_argument(
        "--budget-s",
        type=float,
        default=120.0,
        help="stop timing an operation after this long once 3 runs are in (a thread count that "
        "makes the peer very slow would otherwise hold the benchmark for minutes)",
    )
    a = p.parse_args(argv)
    allowed = sorted(os.sched_getaffinity(0))
    cpus = allowed[: a.threads]
    os.sched_setaffinity(0, cpus)  # before JAX starts its thread pools
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import json
    import statistics
    import time
    from importlib.metadata import version

    import brainstate
    import braintools
    import jax
    import jax.numpy as jnp
    import numpy as np

    d = np.load(a.inputs)
    alpha = float(d["dt"]) / float(d["tau"])
    f32 = lambda k: jnp.asarray(np.asarray(d[k], dtype=np.float32))  # noqa: E731

    class CTRNN(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.w_in = brainstate.ParamState(f32("recurrent_layer.input_layer.weight").T)
            self.w_hid = brainstate.ParamState(f32("recurrent_layer.hidden_layer.weight").T)
            self.b = brainstate.ParamState(
                f32("recurrent_layer.input_layer.bias") + f32("recurrent_layer.hidden_layer.bias")
            )
            self.w_out = brainstate.ParamState(f32("readout_layer.weight").T)
            self.b_out = brainstate.ParamState(f32("readout_layer.bias"))

        def init_state(self, batch_size=None, **kwargs):
            self.v = brainstate.HiddenState(
                jnp.zeros((batch_size, self.w_hid.value.shape[0]), jnp.float32)
            )

        def update(self, u):
            v = self.v.value
            v = (1 - alpha) * v + alpha * (
                jax.nn.relu(v) @ self.w_hid.value + u @ self.w_in.value + self.b.value
            )
            self.v.value = v
            return jax.nn.relu(v) @ self.w_out.value + self.b_out.value

        def simulate(self, xs):  # time-first
            self.v.value = jnp.zeros_like(self.v.value)
            return brainstate.transform.for_loop(self.update, xs)

    x, y = f32("x"), f32("y")
    model = CTRNN()
    brainstate.nn.init_all_states(model, batch_size=x.shape[1])
    params = model.states(brainstate.ParamState)
    opt = braintools.optim.Adam(lr=1e-3)
    opt.register_trainable_weights(params)

    forward = brainstate.transform.jit(model.simulate)

    @brainstate.transform.jit
    def step(xs, ys):
        def loss():
            return jnp.mean((model.simulate(xs) - ys) ** 2)

        grads, value = brainstate.transform.grad(loss, grad_states=params, return_value=True)()
        opt.update(grads)
        return value

    if a.outputs:
        np.savez(a.outputs, outputs=np.asarray(forward(x)))

    res = {}
    for name, fn, args in (("forward", forward, (x,)), ("train_step", step, (x, y))):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        first = time.perf_counter() - t
        jax.block_until_ready(fn(*args))
        times = []
        while len(times) < a.repeats and (len(times) < 3 or sum(times) < a.budget_s):
            t = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times.append(time.perf_counter() - t)
        res[name] = {
            "median_s": statistics.median(times),
            "min_s": min(times),
            "first_call_s": first,
            "repeats": len(times),
        }
    res["threads"] = len(cpus)
    res["how"] = f"os.sched_setaffinity to CPUs {cpus} of {allowed}"
    res["versions"] = {
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "numpy": np.__version__,
    }
    for pkg in ("brainstate", "braintools", "brainpy", "jaxlib"):
        try:
            res["versions"][pkg] = version(pkg)
        except Exception:  # brainpy itself is optional: the model uses brainstate
            pass
    print("PEER_RESULT " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
