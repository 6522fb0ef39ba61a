"""`sweep`: labelled results, grouping by shape, chunking, failures, sharding, TOML/CLI."""

import json
import os
import subprocess
import sys
import textwrap

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adaptive_rnn import ARU, InputError, simulate, solve
from adaptive_rnn.cli import main
from adaptive_rnn.recipes._sweep_config import set_alpha
from adaptive_rnn.tasks import smoothed_uniform_inputs, teacher_data
from adaptive_rnn.train import fit, load_sweep, paper_optimiser, save_sweep, sweep

X = smoothed_uniform_inputs(jax.random.key(0), 3, 10, 2)


def _build(point, key):
    with jax.ensure_compile_time_eval():  # ARU's constructor checks concrete time constants
        model = ARU(
            2,
            int(point.get("n_hidden", 4)),
            2,
            time_constants="static",
            activation=point.get("activation", "sigmoid"),
            key=key,
        )
    layer = model.layers[0]
    model = eqx.tree_at(
        lambda m: m.layers[0].tau_s, model, set_alpha(layer.tau_s, point["alpha_s"], 1.0)
    )
    return eqx.tree_at(
        lambda m: m.layers[0].tau_r, model, set_alpha(layer.tau_r, point["alpha_r"], 1.0)
    )


def _simulate_point(point, key):
    return {"y": simulate(_build(point, key), X).outputs[:, -1, 0]}


GRID = {"alpha_s": [0.2, 0.5, 1.1], "alpha_r": [0.3, 0.9], "seed": [0, 1]}


def test_simulation_sweep_is_labelled_and_exact(tmp_path):
    key = jax.random.key(7)
    ds = sweep(GRID, _simulate_point, key=key, progress=False)
    assert ds["y"].dims == ("alpha_s", "alpha_r", "seed", "y_dim0")
    assert ds["y"].shape == (3, 2, 2, 3)
    assert list(ds["alpha_s"].values) == [0.2, 0.5, 1.1] and bool(ds["success"].all())
    # each point equals the model built and simulated alone
    for a_s in GRID["alpha_s"]:
        for s in GRID["seed"]:
            m = ARU(
                2,
                4,
                2,
                time_constants="static",
                alpha_s=a_s,
                alpha_r=0.9,
                key=jax.random.fold_in(key, s),
            )
            ref = np.asarray(simulate(m, X).outputs[:, -1, 0])
            assert np.allclose(
                ds["y"].sel(alpha_s=a_s, alpha_r=0.9, seed=s).values, ref, rtol=1e-12, atol=1e-14
            )
    # Chunks of 5 points compile a vmap of another width: equal to rounding, not bitwise.
    chunked = sweep(GRID, _simulate_point, key=key, chunk_size=5, progress=False)
    np.testing.assert_allclose(chunked["y"].values, ds["y"].values, rtol=1e-12, atol=1e-14)
    save_sweep(ds, tmp_path / "s.nc")
    back = load_sweep(tmp_path / "s.nc")
    assert np.array_equal(back["y"].values, ds["y"].values) and back["success"].dtype == bool
    assert list(back["seed"].values) == [0, 1]


def test_shapes_are_grouped_and_failures_marked():
    grid = {"n_hidden": [3, 5], "activation": ["tanh", "relu"], "alpha_s": [0.5], "alpha_r": [0.5]}
    ds = sweep(
        grid,
        lambda p, k: {
            "n": jnp.asarray(_build(p, k).layers[0].W.shape[0], jnp.int32),
            "y": simulate(_build(p, k), X).outputs[0, -1],
        },
        key=jax.random.key(0),
        progress=False,
    )
    assert ds["n"].sel(n_hidden=5, activation="relu").item() == 5
    assert ds["n"].sel(n_hidden=3, activation="tanh").item() == 3
    assert list(ds["activation"].values) == ["tanh", "relu"]

    def stiff(point, key):
        with jax.ensure_compile_time_eval():
            m = ARU(2, 3, 2, time_constants="static", key=key)
        m = eqx.tree_at(
            lambda m: m.layers[0].tau_s, m, set_alpha(m.layers[0].tau_s, 1.0 / point["tau_s"], 1.0)
        )
        tr = solve(
            m,
            X[:1],
            solver=diffrax.Tsit5(),
            throw=False,
            max_steps=300,
            stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-8),
        )
        return {"y": tr.outputs[..., -1, 0], "success": jnp.all(tr.success)}

    ds = sweep({"tau_s": [0.0005, 5.0]}, stiff, key=jax.random.key(1), progress=False)
    assert ds["success"].values.tolist() == [False, True]
    with pytest.raises(InputError, match=r"grid\['alpha_s'\]: no values"):
        sweep({"alpha_s": []}, _simulate_point, key=jax.random.key(0))


SHARD_SCRIPT = textwrap.dedent(
    """
    import json, sys, jax, numpy as np
    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, {tests!r})
    import test_sweep as t
    from adaptive_rnn.train import sweep
    ds = sweep(t.GRID, t._simulate_point, key=jax.random.key(7), chunk_size=7, progress=False)
    print(json.dumps({{"n": len(jax.devices()), "y": ds["y"].values.tolist()}}))
    """
)


def test_sharded_over_8_host_devices_equals_one_device():
    code = SHARD_SCRIPT.format(tests=os.path.dirname(__file__))
    res = {}
    for n in (1, 8):
        env = dict(
            os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={n}", JAX_PLATFORMS="cpu"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
        )
        assert out.returncode == 0, out.stderr[-2000:]
        res[n] = json.loads(out.stdout.strip().splitlines()[-1])
    assert res[1]["n"] == 1 and res[8]["n"] == 8
    # XLA does not promise bitwise equality across device counts (8 devices compile a
    # per-device program of another batch width): one rounding unit (~6e-17 on outputs
    # of size ~1) was seen on an AMD EPYC. float64: equal to 1e-12 relative.
    y1, y8 = np.asarray(res[1]["y"]), np.asarray(res[8]["y"])
    assert y1.shape == y8.shape == (3, 2, 2, 3)
    np.testing.assert_allclose(y8, y1, rtol=1e-12, atol=1e-14)


def test_training_sweep_from_toml_matches_fit(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        textwrap.dedent(
            """
        [sweep]
        mode = "train"
        seed = 3
        [grid]
        alpha_s = [0.3, 1.1]
        alpha_r = [0.7]
        [model]
        n_hidden = 4
        time_constants = "static"
        [data]
        teacher_alpha_s = 0.342
        teacher_alpha_r = 0.684
        n_sequences = 30
        n_train = 20
        [train]
        epochs = 2
        learning_rate = 1e-2
        """
        )
    )
    out = tmp_path / "o"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 0
    ds = load_sweep(out / "sweep.nc")
    assert (out / "sweep.png").stat().st_size > 1000
    assert ds["val_loss"].dims == ("alpha_s", "alpha_r", "val_loss_dim0") and bool(
        ds["success"].all()
    )
    assert np.allclose(ds["alpha_s"].values, [0.3, 1.1])
    # the point (1.1, 0.7) equals a plain fit of the same model with the same keys
    td = teacher_data(jax.random.key(0), n_sequences=30, n_train=20)
    k_model, k_fit = jax.random.split(jax.random.key(3))
    m = ARU(
        2, 4, 2, time_constants="static", alpha_s=1.1, alpha_r=0.7, readout="lagged", key=k_model
    )
    r = fit(m, td, key=k_fit, epochs=2, optimiser=paper_optimiser(1e-2), progress=False)
    got = ds["best_val_loss"].sel(alpha_s=1.1, alpha_r=0.7).item()
    assert np.isclose(got, r.best_val_loss, rtol=1e-9)
    assert np.allclose(
        ds["val_loss"].sel(alpha_s=1.1, alpha_r=0.7).values, r.history.val_loss, rtol=1e-9
    )
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\nbeta = [1]\n")
    assert main(["sweep", str(bad), "--out", str(out)]) == 2
