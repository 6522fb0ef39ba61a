"""Bad input gets a clear error naming what was received and what was expected."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adaptive_rnn as ar


@pytest.fixture
def model(getkey):
    return ar.ARU(2, 4, 1, key=getkey())


@pytest.mark.parametrize("run", [ar.simulate, ar.solve])
def test_wrong_rank(model, run):
    with pytest.raises(
        ar.InputError, match=r"inputs: got shape \(10,\) \(rank 1\), expected \(T, n_in\)"
    ):
        run(model, np.zeros(10))
    with pytest.raises(ar.InputError, match="rank 4"):
        run(model, np.zeros((1, 2, 10, 2)))


@pytest.mark.parametrize("run", [ar.simulate, ar.solve])
def test_wrong_width(model, run):
    with pytest.raises(
        ar.InputError, match=r"got shape \(10, 3\), last axis 3, expected .* n_in = 2"
    ):
        run(model, np.zeros((10, 3)))


def test_empty_time_axis(model):
    with pytest.raises(ar.InputError, match="empty time axis"):
        ar.simulate(model, np.zeros((0, 2)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("run", [ar.simulate, ar.solve])
def test_non_finite_inputs(model, run, bad):
    x = np.zeros((3, 10, 2))
    x[1, 4, 1] = bad
    with pytest.raises(ar.InputError, match=r"1 non-finite values \(first at index \(1, 4, 1\)\)"):
        run(model, x)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(alpha_s=0.0), r"tau_s: initial alpha must be positive and finite, got 0"),
        (dict(alpha_r=-0.5), r"tau_r: initial alpha must be positive and finite, got -0.5"),
        (dict(tau_s=0.0), r"initial tau must be positive"),
        (dict(tau_r=np.nan), r"initial tau must be positive and finite, got nan"),
        (dict(tau_s=-1.0, time_constants="static"), "must be positive"),
        (
            dict(alpha_s=1.5),
            r"sigmoid parametrisation keeps alpha = dt/tau in \(0, 1\), got initial alpha 1.5",
        ),
        (dict(tau_s=0.5, parametrisation="softplus"), r"tau > tau_min = 1.0, got initial tau 0.5"),
        (dict(time_constants="static", alpha_s=2.5), r"alpha = dt/tau reaches 2.5 >= 2"),
        (dict(time_constants="sometimes"), "time_constants: got 'sometimes'"),
        (dict(activation="swish"), "activation: got 'swish', expected one of"),
        (dict(readout="early"), "readout: got 'early'"),
        (dict(dt=0.0), r"dt: got 0.0, expected a finite number > 0"),
        (
            dict(alpha_s=np.ones(3), time_constants="local"),
            r"initial alpha has shape \(3,\), expected a scalar or shape \(4,\)",
        ),
    ],
)
def test_bad_model_options(getkey, kwargs, match):
    with pytest.raises(ar.InputError, match=match):
        ar.ARU(2, 4, 1, key=getkey(), **kwargs)


def test_bad_sizes(getkey):
    with pytest.raises(ar.InputError, match="n_hidden: got 0, expected an integer >= 1"):
        ar.ARU(2, 0, 1, key=getkey())
    with pytest.raises(ar.InputError, match="n_in: got -1, expected an integer >= 1"):
        ar.ARU(-1, 3, 1, key=getkey())
    # An empty layer list used to fail with an IndexError.
    with pytest.raises(
        ar.InputError, match=r"n_hidden: got \[\], expected a positive integer or a non-empty list"
    ):
        ar.ARU(2, [], 1, key=getkey())


def test_unstable_euler_step(getkey):
    model = ar.ARU(2, 4, 1, time_constants="static", alpha_s=1.2, alpha_r=0.5, key=getkey())
    x = np.zeros((5, 2))
    ar.simulate(model, x)  # alpha 1.2 < 2 is allowed (the paper's grid)
    too_big = model.with_dt(2.0)  # alpha_s = 2.4
    with pytest.raises(
        ar.UnstableStepError,
        match=r"dt: an explicit-Euler step of 2 is 2.4 times .* expected a step < 2 tau = 1.667",
    ):
        ar.simulate(too_big, x)
    with pytest.raises(ar.UnstableStepError, match="dt0: an explicit-Euler step of 1.8"):
        ar.solve(model, x, solver=diffrax.Euler(), dt0=1.8)
    # An adaptive (here implicit) solve chooses its own steps: no check.
    traj = ar.solve(
        model,
        x,
        solver=diffrax.Kvaerno5(),
        dt0=1.8,
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-6),
    )
    assert bool(jnp.all(jnp.isfinite(traj.outputs)))


def test_solver_out_of_steps(getkey):
    model = ar.ARU(2, 4, 1, time_constants="static", tau_s=2.0, tau_r=3.0, key=getkey())
    x = np.asarray(jax.random.uniform(getkey(), (20, 2)))
    ctrl = diffrax.PIDController(rtol=1e-8, atol=1e-8)
    with pytest.raises(ar.SolverError, match=r"did not reach t1 = 20.0 within max_steps = 10"):
        ar.solve(model, x, solver=diffrax.Tsit5(), stepsize_controller=ctrl, max_steps=10)
    traj = ar.solve(
        model, x, solver=diffrax.Tsit5(), stepsize_controller=ctrl, max_steps=10, throw=False
    )
    assert not bool(traj.success)


def test_bad_solve_options(model):
    x = np.zeros((5, 2))
    with pytest.raises(ar.InputError, match="interpolation: got 'spline'"):
        ar.solve(model, x, interpolation="spline")
    with pytest.raises(ar.InputError, match=r"ts: got shape \(4,\), expected \(5,\)"):
        ar.solve(model, x, ts=np.arange(4.0))
    with pytest.raises(ar.InputError, match="strictly increasing"):
        ar.solve(model, x, ts=np.array([0.0, 1.0, 1.0, 2.0, 3.0]))
    # (TypeError: the test suite's runtime type checker may refuse it first.)
    with pytest.raises((ar.InputError, TypeError), match="solver"):
        ar.solve(model, x, solver="tsit5")
    lagged = ar.ARU(2, 4, 1, readout="lagged", key=jax.random.key(0))
    with pytest.raises(ar.InputError, match="lagged readout"):
        ar.solve(lagged, x, saveat=np.array([1.0, 2.0]))


def test_not_a_model():
    with pytest.raises(ar.InputError, match="model: got dict"):
        ar.simulate({}, np.zeros((3, 2)))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        # diffrax took a few steps and returned outputs off by ~1 with success=True
        (
            dict(
                solver=diffrax.Tsit5(),
                stepsize_controller=diffrax.PIDController(rtol=-1, atol=1e-6),
            ),
            r"stepsize_controller.rtol: got -1.0, expected a finite number >= 0",
        ),
        (
            dict(
                solver=diffrax.Tsit5(),
                stepsize_controller=diffrax.PIDController(rtol=1e-3, atol=np.nan),
            ),
            r"stepsize_controller.atol: got nan",
        ),
        (
            dict(solver=diffrax.Tsit5(), stepsize_controller=diffrax.PIDController(rtol=0, atol=0)),
            r"rtol = atol = 0, expected rtol > 0 or atol > 0",
        ),
        # "Must have at least one checkpoint" and a math domain error
        (dict(max_steps=0), r"max_steps: got 0, expected an integer >= 1"),
        (dict(max_steps=-1), r"max_steps: got -1, expected an integer >= 1"),
        (dict(dt0=0.0), r"dt0: got 0.0, expected a finite number > 0"),
        (dict(dt0=np.inf), r"dt0: got inf"),
        (dict(t0=np.nan), r"t0: got nan, expected a finite number"),
        (dict(t1=np.inf), r"t1: got inf, expected a finite number"),
        # a 33-line diffrax traceback
        (
            dict(solver=diffrax.Kvaerno5()),
            r"solver: got Kvaerno5, an implicit solver, with fixed steps; expected an adaptive",
        ),
        (
            dict(
                solver=diffrax.Euler(),
                stepsize_controller=diffrax.PIDController(rtol=1e-3, atol=1e-6),
            ),
            r"stepsize_controller: got PIDController, adaptive steps, but solver Euler has no error estimate",
        ),
    ],
)
def test_bad_solve_numbers(model, kwargs, match):
    with pytest.raises(ar.InputError, match=match):
        ar.solve(model, np.zeros((5, 2)), **kwargs)


def test_valid_tolerances_still_accepted(model):
    # rtol = 0 with atol > 0 is a pure absolute tolerance; an implicit solver with its
    # own root-finder tolerances may take fixed steps.
    x = np.zeros((5, 2))
    tr = ar.solve(
        model,
        x,
        solver=diffrax.Tsit5(),
        stepsize_controller=diffrax.PIDController(rtol=0.0, atol=1e-6),
    )
    assert bool(tr.success)
    import optimistix as optx

    kv = diffrax.Kvaerno5(root_finder=diffrax.VeryChord(rtol=1e-6, atol=1e-6, norm=optx.max_norm))
    assert ar.solve(model, x, solver=kv, throw=False).outputs.shape == (5, 1)


def test_simulate_bad_numbers(model):
    with pytest.raises(ar.InputError, match=r"t0: got nan"):
        ar.simulate(model, np.zeros((5, 2)), t0=np.nan)


def test_too_large_for_memory(getkey, monkeypatch):
    from adaptive_rnn import _checks

    monkeypatch.setattr(_checks, "available_memory", lambda: 10_000)
    itemsize = np.dtype(jnp.result_type(float)).itemsize
    # 2 inputs, 40 hidden, 1 output: U, W, c and the two time constants' slots, V, b
    need = _checks.format_bytes((40 * (2 + 40 + 3) + 1 * 41) * itemsize)
    with pytest.raises(
        ar.InputError,
        match=rf"n_hidden: got 40; the model's parameters would need about {need}, "
        rf"more than the 10 kB of memory available",
    ):
        ar.ARU(2, 40, 1, key=getkey())
    for family in (ar.CTRNN, ar.Shunting):
        with pytest.raises(ar.InputError, match="n_hidden: got 40; the model's parameters"):
            family(2, 40, 1, key=getkey())
    monkeypatch.undo()
    small = ar.ARU(2, 4, 1, key=getkey())
    monkeypatch.setattr(_checks, "available_memory", lambda: 10_000)
    # the trajectory of 10 x 100 steps: outputs (1) and states I, r (8) counted twice
    need = _checks.format_bytes(10 * 100 * (1 + 2 * 8) * itemsize)
    with pytest.raises(
        ar.InputError,
        match=rf"inputs: got 'shape \(10, 100, 2\)'; the trajectory would need about {need}",
    ):
        ar.simulate(small, np.zeros((10, 100, 2)), return_states=True)
    with pytest.raises(ar.InputError, match="the trajectory would need"):
        ar.solve(small, np.zeros((10, 100, 2)), return_states=True)


def test_lower_layers_raise_input_error():
    from adaptive_rnn._activations import canonical_activation
    from adaptive_rnn.tasks import smoothed_uniform_inputs
    from adaptive_rnn.tasks._inputs import savgol_coefficients

    # (A non-string is refused too; the test suite's runtime type checker refuses it first.)
    with pytest.raises(
        ar.InputError, match=r"activation: got 'sigmod', .*did you mean 'sigmoid'\?"
    ):
        canonical_activation("sigmod")
    with pytest.raises(ar.InputError, match=r"window: got 6, expected an odd integer > order = 2"):
        savgol_coefficients(6, 2)
    with pytest.raises(
        ar.InputError, match=r"n_steps: got 3, expected at least the smoothing window of 7 steps"
    ):
        smoothed_uniform_inputs(jax.random.key(0), 2, 3, 2)
    with pytest.raises(ar.InputError, match=r"alpha_s, tau_s: got both"):
        ar.ARU(2, 4, 1, alpha_s=0.5, tau_s=2.0, key=jax.random.key(0))
    with pytest.raises(ar.InputError, match=r"tau, alpha: got both"):
        ar.CTRNN(2, 4, 1, alpha=0.5, tau=2.0, key=jax.random.key(0))
    with pytest.raises(ar.InputError, match=r"tau_min: got -1.0"):
        ar.ARU(2, 4, 1, tau_min=-1.0, key=jax.random.key(0))
    with pytest.raises(ar.InputError, match=r"alpha_s: got \[0.5\], expected for 2 stacked layers"):
        ar.ARU(2, [3, 3], 1, alpha_s=[0.5], key=jax.random.key(0))


def test_load_npz_refuses_text_and_objects(tmp_path):
    from adaptive_rnn.train._data import load_npz

    text = tmp_path / "t.npz"
    text.write_text("1,2,3\n")
    with pytest.raises(ar.InputError, match=r"--inputs: .*t.npz: not an .npz \(zip\) archive") as e:
        load_npz(str(text), ("inputs",), "--inputs")
    assert "pickle" not in str(e.value)
    obj = tmp_path / "o.npz"
    np.savez(obj, inputs=np.array([None, {"a": 1}], dtype=object))
    with pytest.raises(
        ar.InputError, match=r"array 'inputs' holds Python objects; expected numeric arrays"
    ) as e:
        load_npz(str(obj), ("inputs",))
    assert "allow_pickle" not in str(e.value)
    good = tmp_path / "g.npz"
    np.savez(good, inputs=np.ones((1, 2, 3)))
    assert load_npz(str(good), ("inputs",))["inputs"].shape == (1, 2, 3)
    with pytest.raises(ar.InputError, match=r"missing arrays \['targets'\]"):
        load_npz(str(good), ("inputs", "targets"))
