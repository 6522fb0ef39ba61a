"""One process of `tests/test_multiprocess.py`: a simulation sweep, a training sweep,
`simulate(devices=...)` (values and a jitted gradient) and two small `fit_ensemble`
runs, each over all the devices JAX has.

    python tests/_multiprocess_worker.py PROCESS_ID NUM_PROCESSES PORT OUT.npz

With NUM_PROCESSES > 1 the process joins a `jax.distributed` program (coordinator on
127.0.0.1:PORT, gloo CPU collectives, 2 CPU devices per process) and writes what it
received to OUT.npz: every process must receive the whole result. The test imports
`run_all` to compute the same results in its own process (one process, one device).
"""

import sys
import time

import numpy as np

DEVICES_PER_PROCESS = 2


def join(process_id: int, num_processes: int, port: int) -> None:
    """Configures JAX (float64, CPU devices, gloo) and joins the distributed program.
    Called before any other JAX use."""
    import jax

    jax.config.update("jax_platforms", "cpu")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_num_cpu_devices", DEVICES_PER_PROCESS)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if num_processes > 1:
        jax.distributed.initialize(
            coordinator_address=f"127.0.0.1:{port}",
            num_processes=num_processes,
            process_id=process_id,
            initialization_timeout=300,
        )
        # XLA's gloo collectives give the processes 30 s to meet at the first collective
        # of each group of devices (later ones wait as long as it takes): meet now, while
        # in step, rather than after compiling at different speeds on a loaded machine.
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("joined")
        mesh = jax.sharding.Mesh(np.asarray(jax.devices()), ("all",))
        spread = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("all"))
        multihost_utils.process_allgather(jax.device_put(np.zeros(mesh.size), spread), tiled=True)


def _leaves(tree) -> list:
    import equinox as eqx
    import jax

    return [np.asarray(x) for x in jax.tree_util.tree_leaves(eqx.filter(tree, eqx.is_array))]


def run_all() -> dict[str, np.ndarray]:
    """Every computation of the test, over all of `jax.devices()`; the results as host
    arrays (by name)."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import adaptive_rnn as ar
    from adaptive_rnn._cpu import fetch_global
    from adaptive_rnn.recipes._sweep_config import set_alpha
    from adaptive_rnn.tasks import smoothed_uniform_inputs
    from adaptive_rnn.train import fit_scan, paper_optimiser, sweep

    out: dict[str, np.ndarray] = {}
    start = time.perf_counter()

    def lap(what):  # progress on stderr, shown by the test when it fails
        print(
            f"[{jax.process_index()}] {what}: {time.perf_counter() - start:.1f} s", file=sys.stderr
        )

    devices = jax.devices()
    opt = paper_optimiser(1e-2, tau_learning_rate=3e-2)
    x_sim = smoothed_uniform_inputs(jax.random.key(0), 3, 10, 2)
    data = ar.teacher_data(
        jax.random.key(1), n_sequences=12, n_train=8, n_steps=10, train_steps=10, n_hidden=4
    )

    def build(point, key, mode="static"):
        with jax.ensure_compile_time_eval():  # ARU checks concrete time constants
            m = ar.ARU(2, 4, 2, time_constants=mode, key=key)
        layer = m.layers[0]
        m = eqx.tree_at(
            lambda m: m.layers[0].tau_s, m, set_alpha(layer.tau_s, point["alpha_s"], 1.0)
        )
        return eqx.tree_at(
            lambda m: m.layers[0].tau_r, m, set_alpha(layer.tau_r, point["alpha_r"], 1.0)
        )

    # 1. A simulation sweep: 12 points in chunks of 6, each padded to 8 (4 devices).
    def simulate_point(point, key):
        return {"y": ar.simulate(build(point, key), x_sim).outputs[:, -1, 0]}

    grid = {"alpha_s": [0.2, 0.5, 1.1], "alpha_r": [0.3, 0.9], "seed": [0, 1]}
    ds = sweep(grid, simulate_point, key=jax.random.key(2), chunk_size=6, progress=False)
    out["sim_sweep_y"] = ds["y"].values
    out["sim_sweep_success"] = ds["success"].values
    lap("simulation sweep")

    # 2. A training sweep: 4 points, each a whole training run (fit_scan, 2 epochs).
    def train_point(point, key):
        model, summary = fit_scan(
            build(point, key, "global"), data.train_data(), key, epochs=2, optimiser=opt
        )
        return {"best_val_loss": summary["best_val_loss"], "W": model.layers[0].W}

    grid = {"alpha_s": [0.3, 0.8], "alpha_r": [0.6], "seed": [0, 1]}
    ds = sweep(grid, train_point, key=jax.random.key(3), progress=False)
    out["train_sweep_loss"] = ds["best_val_loss"].values
    out["train_sweep_W"] = ds["W"].values
    lap("training sweep")

    # 3. simulate(devices=...): a noisy CTRNN (one key per sequence), a batch of 8.
    k = jax.random.split(jax.random.key(4), 3)
    ctrnn = ar.CTRNN(
        3,
        5,
        2,
        activation="tanh",
        time_constants="local",
        noise=dict(sigma_pre=0.2, sigma_post=0.1),
        key=k[0],
    )
    xb = jax.random.normal(k[1], (8, 9, 3))
    tr = ar.simulate(ctrnn, xb, key=k[2], devices=devices, return_states=True)
    # called outside jit, every process holds the whole trajectory
    out["simulate_addressable"] = np.asarray(tr.outputs.is_fully_addressable)
    out["simulate_outputs"] = np.asarray(tr.outputs)
    assert tr.states is not None  # return_states=True
    for name, v in tr.states.items():
        out[f"simulate_state_{name}"] = np.asarray(v)

    def loss(m, x):
        return jnp.sum(ar.simulate(m, x, key=k[2], devices=devices).outputs ** 2)

    # under jit, global arrays: fetch_global gathers them
    grad = fetch_global(eqx.filter_jit(eqx.filter_grad(loss))(ctrnn, xb))
    for i, g in enumerate(_leaves(grad)):
        out[f"simulate_grad_{i}"] = g
    lap("simulate")

    # 4. fit_ensemble: a group of 4 members (split over the 4 devices) and one of 2
    # (does not divide: replicated), shared data; then 4 stacked members with their
    # own data (split with them).
    mk = jax.random.split(jax.random.key(5), 6)
    models = [
        ar.ARU(2, 4, 2, alpha_s=a_s, alpha_r=a_r, key=kk)
        for (a_s, a_r), kk in zip([(0.8, 0.8), (0.6, 0.4), (0.5, 0.5), (0.7, 0.2)], mk)
    ] + [ar.ARU(2, 4, 2, time_constants="local", activation="relu", key=kk) for kk in mk[4:]]
    ens = ar.fit_ensemble(
        models, data, key=jax.random.key(6), epochs=3, optimiser=opt, progress=False
    )
    out["ensemble_best_val"] = ens.best_val_loss
    out["ensemble_epochs"] = ens.epochs_run
    out["ensemble_val_curve"] = np.stack([h.val_loss for h in ens.histories])
    for i, m in enumerate(ens.models):
        for j, leaf in enumerate(_leaves(m)):
            out[f"ensemble_model{i}_{j}"] = leaf
    lap("fit_ensemble, 2 groups")
    stacked = eqx.filter_vmap(lambda kk: ar.ARU(2, 3, 2, alpha_s=0.7, alpha_r=0.6, key=kk))(
        jax.random.split(jax.random.key(7), 4)
    )
    per = [
        ar.teacher_data(kk, n_sequences=6, n_train=4, n_steps=8, train_steps=8, n_hidden=3)
        for kk in mk[:4]
    ]
    xs = np.stack([np.asarray(d.inputs) for d in per])
    ys = np.stack([np.asarray(d.targets) for d in per])
    ens = ar.fit_ensemble(
        stacked, xs, ys, key=jax.random.key(8), epochs=2, optimiser=opt, progress=False
    )
    out["stacked_best_val"] = ens.best_val_loss
    for j, leaf in enumerate(_leaves(ens.stacked_model)):
        out[f"stacked_model_{j}"] = leaf
    lap("fit_ensemble, stacked")
    return out


def main(argv: list[str]) -> None:
    process_id, num_processes, port, path = int(argv[0]), int(argv[1]), int(argv[2]), argv[3]
    join(process_id, num_processes, port)
    import jax

    assert jax.process_count() == num_processes, jax.process_count()
    assert len(jax.devices()) == DEVICES_PER_PROCESS * num_processes, jax.devices()
    out = run_all()
    out["process_index"] = np.asarray(jax.process_index())
    out["n_devices"] = np.asarray(len(jax.devices()))
    # each process its own file: the test checks what each received
    np.savez(path, **out)  # pyright: ignore[reportArgumentType]
    if num_processes > 1:
        jax.distributed.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
