"""Per-model cost of one paper-sized epoch when M models train together.

A paper epoch: 10 hidden units, 20 steps, 400 per-sequence Adam updates (plus the
validation pass over 100 sequences that `fit_ensemble` does every epoch). Prints the
median per-model epoch time for M in {1, 200, 400} and the ratio against a plain
`vmap` of `lax.scan` + Adam written below (no clipping, decay, validation or
bookkeeping). The members are spread over all devices as `fit_ensemble` spreads them
(`configure_cpu()` makes one device per core; `--devices 1` for one).

Run: python benchmarks/bench_ensemble.py   (float32, CPU)
"""

import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from adaptive_rnn import ARU, fit_ensemble, split_leading_axis
from adaptive_rnn.tasks import teacher_data

REPEATS = 5


def median_time(fn, *args):
    out = fn(*args)
    jax.block_until_ready(out)  # warm-up (compile)
    ts = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def ours(M, data, epochs=(1, 3)):
    """Per-epoch cost of `fit_ensemble` (public API): the median time of a run of
    `epochs[1]` epochs minus one of `epochs[0]`, divided by the difference. Both runs
    share one compiled epoch (compiled by a warm-up), so setup and compilation cancel."""
    keys = jax.random.split(jax.random.key(0), M)
    models = eqx.filter_vmap(
        lambda k: ARU(2, 10, 2, alpha_s=0.8, alpha_r=0.8, readout="lagged", key=k)
    )(keys)

    def run(E):
        res = fit_ensemble(models, data, key=jax.random.key(1), epochs=E, progress=False)
        return jax.tree_util.tree_leaves(eqx.filter(res.models, eqx.is_array))

    short, long_ = (median_time(run, E) for E in epochs)
    return max(long_ - short, 0.0) / (epochs[1] - epochs[0])


def baseline(M, data):
    """A plain vmap of (scan over 400 updates of (scan over 20 steps) + Adam)."""
    n = 10
    opt = optax.adam(1e-3)

    def init(k):
        k1, k2, k3, k4 = jax.random.split(k, 4)
        p = dict(
            U=jax.random.normal(k1, (n, 2)) * 0.7,
            W=jax.random.normal(k2, (n, n)) * 0.3,
            V=jax.random.normal(k3, (2, n)) * 0.3,
            b=jnp.zeros(2),
            c=jax.random.normal(k4, (n,)) * 0.4,
            ws=jnp.ones(1),
            wr=jnp.ones(1),
        )
        return p, opt.init(p)

    def loss(p, x, y):
        a_s, a_r = jax.nn.sigmoid(1.5 * p["ws"]), jax.nn.sigmoid(1.5 * p["wr"])

        def step(carry, xt):
            I, r = carry
            I = (1 - a_s) * I + a_s * (p["U"] @ xt + p["W"] @ r)
            r2 = (1 - a_r) * r + a_r * jax.nn.sigmoid(I)
            return (I, r2), p["V"] @ r + p["b"]

        _, out = jax.lax.scan(step, (p["c"], jax.nn.sigmoid(p["c"])), x)
        return jnp.sum(jnp.mean((out - y) ** 2, axis=-1))

    def epoch(p, o, key):
        perm = jax.random.permutation(key, data.x.shape[0])

        def upd(c, i):
            p, o = c
            l, g = jax.value_and_grad(loss)(p, data.x[i], data.y[i])
            u, o = opt.update(g, o, p)
            return (optax.apply_updates(p, u), o), l

        (p, o), ls = jax.lax.scan(upd, (p, o), perm)
        return p, o, ls.mean()

    p, o = jax.vmap(init)(jax.random.split(jax.random.key(0), M))
    keys = jax.random.split(jax.random.key(1), M)
    devices = jax.devices()
    if len(devices) > 1 and M % len(devices) == 0:  # spread over devices as ours is
        p, o, keys = split_leading_axis((p, o, keys), devices, "members")
    f = jax.jit(jax.vmap(epoch))
    return median_time(f, p, o, keys)


def run(Ms=(1, 200, 400)) -> dict:
    """Per-model epoch cost (s) of `fit_ensemble` and of the plain baseline, per M."""
    data = teacher_data(jax.random.key(0)).train_data()
    out = {}
    for M in Ms:
        t_ours = ours(M, data)
        t_base = baseline(M, data)
        out[str(M)] = {
            "ours_per_model_s": t_ours / M,
            "baseline_per_model_s": t_base / M,
            "ratio_vs_baseline": t_ours / t_base,
        }
    return out


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--devices", type=int, default=None, help="CPU devices (default: one per core)")
    from adaptive_rnn import configure_cpu

    print(configure_cpu(p.parse_args(argv).devices))
    print(f"jax {jax.__version__}, devices {jax.devices()}, dtype {jnp.result_type(float)}")
    for M, r in run().items():
        print(
            f"M={int(M):4d}: fit_ensemble epoch {1e3 * r['ours_per_model_s']:8.3f} ms/model; "
            f"plain vmap scan+Adam {1e3 * r['baseline_per_model_s']:8.3f} ms/model; "
            f"ratio {r['ratio_vs_baseline']:.2f}"
        )


if __name__ == "__main__":
    main()
