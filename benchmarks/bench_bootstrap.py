"""The bootstrap of `fit_recording` as one program: 100 refits against a single fit.

The workload of the recording recipe's bootstrap: an ARU observed through its units
(`ObservedARU`, data-constrained), 20 recorded units, 100 trials of 200 bins at 5 ms
(80 fitting trials, 40 burn-in bins), Poisson counts, batches of a quarter of the
fitting trials, Adam with a cosine decay and clipping - `fit_recording`'s defaults. It
times, per epoch:

- a **single fit** (`fit_ensemble` with one member, as the point estimate is fitted);
- the **100 refits as one program** (`fit_ensemble` with 100 members, each on its own
    dataset, spread over the CPU devices as `fit_recording` spreads them);
- **one by one**: the single fit's compiled program run for several fits in turn, each
    from a fresh initialisation, and the time per fit extrapolated to 100 fits.

Per-epoch times are the difference of a run of `--epochs` epochs and one of a single
epoch, divided by the difference (both after a warm-up that compiles), so compilation
and setup cancel; the full fit of `fit_recording` (300 epochs by default) costs about
300 times this. The ratio `ensemble / single` must be at most 10 (a target of the
recordings guide). Writes `results/bench_bootstrap.json`.

Run: python benchmarks/bench_bootstrap.py [--epochs 3] [--devices N]
"""

import argparse
import datetime
import functools
import json
import os
import platform
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from adaptive_rnn import ARU, configure_cpu, simulate
from adaptive_rnn.recipes import ObservedARU, synthetic_recording
from adaptive_rnn.train import PoissonObservation, fit_ensemble, make_train_data, paper_optimiser

UNITS, TRIALS, BINS, BIN_MS, BURN_IN = 20, 100, 200, 5.0, 40
N_FIT = 80
REFITS = 100
TARGET = 10.0


class Loss(eqx.Module):
    """The Poisson NLL of one trial over its observed bins, per bin and unit (the
    recipe's loss)."""

    norm: float = eqx.field(static=True)

    def __call__(self, outputs, targets, mask):
        nll = PoissonObservation("softplus").nll(
            outputs, targets, mask > 0, bin_ms=BIN_MS, reduction="sum"
        )
        return nll / self.norm


def members(key, n: int, center, scale) -> list:
    out = []
    for k in jax.random.split(key, n):
        k1, k2, k3 = jax.random.split(k, 3)
        taus = np.exp(
            np.asarray(jax.random.uniform(k1, (2,), minval=np.log(10), maxval=np.log(80)))
        )
        aru = ARU(
            3,
            UNITS,
            UNITS,
            tau_s=float(taus[0]),
            tau_r=float(taus[1]),
            dt=BIN_MS,
            dtype=jnp.float32,
            self_connections=False,
            key=k2,
        )
        out.append(ObservedARU(aru, UNITS, observed="units", center=center, scale=scale, key=k3))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3, help="epochs of the long run (default 3)")
    p.add_argument("--sequential", type=int, default=3, help="fits run one by one (default 3)")
    p.add_argument("--devices", type=int, help="CPU devices (default: one per core)")
    p.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent.parent / "results" / "bench_bootstrap.json"),
    )
    args = p.parse_args(argv)
    configure_cpu(args.devices)
    t_start = time.perf_counter()
    s = synthetic_recording(
        jax.random.key(0), n_neurons=UNITS, n_trials=TRIALS, n_bins=BINS, bin_ms=BIN_MS
    )
    rec = s.recording
    x = np.concatenate([np.zeros((TRIALS, BURN_IN, 3)), rec.inputs], axis=1)[:N_FIT]
    y = np.concatenate([np.zeros((TRIALS, BURN_IN, UNITS)), rec.data], axis=1)[:N_FIT]
    m = np.concatenate([np.zeros((TRIALS, BURN_IN, UNITS)), np.ones(rec.data.shape)], axis=1)[
        :N_FIT
    ]
    rate = np.maximum(rec.data[:N_FIT].mean(axis=(0, 1)) * 1000 / BIN_MS, 0.1)
    center, scale = rate + np.log(-np.expm1(-rate)), rate
    loss = Loss(float((BINS + BURN_IN) * UNITS))
    batch = N_FIT // 4
    # resampled trials, one dataset per refit (as resample="trials"; a parametric
    # bootstrap's datasets have the same shapes)
    idx = np.asarray(jax.random.randint(jax.random.key(1), (REFITS, N_FIT), 0, N_FIT))

    def data_for(n):
        sel = idx[:n]
        return make_train_data(
            x[sel],
            y[sel],
            m[sel],
            validation=(x[sel], y[sel], m[sel]),
            batched=True,
            dtype=jnp.float32,
        )

    @functools.cache
    def optimiser(epochs):
        # one object per run length: the compiled epoch is cached on it (a new optimiser
        # object would compile the epoch again at every call)
        sched = optax.cosine_decay_schedule(3e-2, epochs * (N_FIT // batch), alpha=0.05)
        return paper_optimiser(sched, clip_norm=10.0, weight_decay=0.0)

    def run(models, data, epochs, key):
        t = time.perf_counter()
        res = fit_ensemble(
            models,
            data,
            key=key,
            epochs=epochs,
            loss=loss,
            optimiser=optimiser(args.epochs),
            batch_size=batch,
            progress=False,
        )
        jax.block_until_ready(jax.tree_util.tree_leaves(eqx.filter(res.models, eqx.is_array)))
        return time.perf_counter() - t

    def per_epoch(n):
        ms, data = members(jax.random.key(2), n, center, scale), data_for(n)
        first = run(ms, data, 1, jax.random.key(3))  # compiles
        one = run(ms, data, 1, jax.random.key(4))
        long_ = run(ms, data, args.epochs, jax.random.key(5))
        return max(long_ - one, 0.0) / (args.epochs - 1), {
            "first_call_s": first,
            "one_epoch_s": one,
            f"{args.epochs}_epochs_s": long_,
        }

    def forward_floor(n):
        """One forward pass of `n` members over their fitting trials, no gradient, no
        update, no validation: less work than any epoch, so `n` members' epoch cannot be
        faster than this on the same devices (the median of 5 timed calls after one that
        compiles)."""
        ms = members(jax.random.key(2), n, center, scale)
        static = eqx.filter(ms[0], eqx.is_array, inverse=True)
        stacked = jax.tree_util.tree_map(
            lambda *a: jnp.stack(a), *[eqx.filter(m, eqx.is_array) for m in ms]
        )
        xs = jnp.asarray(x[idx[:n]], jnp.float32)
        devs = jax.devices()
        if n % len(devs) == 0 and len(devs) > 1:  # members split over the devices
            mesh = jax.sharding.Mesh(np.array(devs), ("members",))
            spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("members"))
            stacked, xs = jax.device_put((stacked, xs), spec)

        @jax.jit
        def fwd(arrays, xs):
            one = lambda a, xx: simulate(eqx.combine(a, static), xx).outputs  # noqa: E731
            return jax.vmap(one)(arrays, xs)

        jax.block_until_ready(fwd(stacked, xs))
        times = []
        for _ in range(5):
            t = time.perf_counter()
            jax.block_until_ready(fwd(stacked, xs))
            times.append(time.perf_counter() - t)
        return float(np.median(times))

    single, single_runs = per_epoch(1)
    ensemble, ensemble_runs = per_epoch(REFITS)
    floor = forward_floor(REFITS)
    # one by one: fresh initialisations through the single fit's compiled program
    data1 = data_for(1)
    seq = []
    for i in range(args.sequential):
        ms = members(jax.random.fold_in(jax.random.key(6), i), 1, center, scale)
        seq.append(run(ms, data1, args.epochs, jax.random.fold_in(jax.random.key(7), i)))
    per_fit_seq = float(np.median(seq))
    out = {
        "workload": {
            "units": UNITS,
            "trials": TRIALS,
            "fitting_trials": N_FIT,
            "bins": BINS,
            "burn_in_bins": BURN_IN,
            "bin_ms": BIN_MS,
            "loss": "poisson",
            "observed": "units",
            "batch_size": batch,
            "refits": REFITS,
            "dtype": "float32",
        },
        "devices": len(jax.devices()),
        "single_fit_epoch_s": single,
        "ensemble_epoch_s": ensemble,
        "ratio_ensemble_vs_single": ensemble / single if single > 0 else None,
        "target_ratio": TARGET,
        "met": bool(single > 0 and ensemble / single <= TARGET),
        "ensemble_per_fit_epoch_s": ensemble / REFITS,
        "ensemble_forward_floor_s": floor,
        "forward_floor_vs_single_epoch": floor / single if single > 0 else None,
        "ensemble_epoch_vs_forward_floor": ensemble / floor if floor > 0 else None,
        "one_by_one_fit_s": seq,
        "one_by_one_epochs": args.epochs,
        "one_by_one_100_fits_extrapolated_s": per_fit_seq * REFITS,
        "ensemble_100_fits_same_epochs_s": ensemble_runs[f"{args.epochs}_epochs_s"],
        "speedup_vs_one_by_one": per_fit_seq * REFITS / ensemble_runs[f"{args.epochs}_epochs_s"],
        "speedup_per_epoch": REFITS * single / ensemble if ensemble > 0 else None,
        "runs": {"single": single_runs, "ensemble": ensemble_runs},
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPU cores, jax {jax.__version__}",
        "load_average_at_end": list(os.getloadavg()),
        "wall_s": time.perf_counter() - t_start,
        "note": "",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k not in ("runs", "workload")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
