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
    with pytest.raises(ar.InputError, match=r"inputs: got shape \(10,\) \(rank 1\), expected \(T, n_in\)"):
        run(model, np.zeros(10))
    with pytest.raises(ar.InputError, match="rank 4"):
        run(model, np.zeros((1, 2, 10, 2)))


@pytest.mark.parametrize("run", [ar.simulate, ar.solve])
def test_wrong_width(model, run):
    with pytest.raises(ar.InputError, match=r"got shape \(10, 3\), last axis 3, expected .* n_in = 2"):
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
        (dict(alpha_s=1.5), r"sigmoid parametrisation keeps alpha = dt/tau in \(0, 1\), got initial alpha 1.5"),
        (dict(tau_s=0.5, parametrisation="softplus"), r"tau > tau_min = 1.0, got initial tau 0.5"),
        (dict(time_constants="static", alpha_s=2.5), r"alpha = dt/tau reaches 2.5 >= 2"),
        (dict(time_constants="sometimes"), "time_constants: got 'sometimes'"),
        (dict(activation="swish"), "activation: got 'swish', expected one of"),
        (dict(readout="early"), "readout: got 'early'"),
        (dict(dt=0.0), "dt: got 0.0, expected a positive finite number"),
        (dict(alpha_s=np.ones(3), time_constants="local"), r"initial alpha has shape \(3,\), expected a scalar or shape \(4,\)"),
    ],
)
def test_bad_model_options(getkey, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ar.ARU(2, 4, 1, key=getkey(), **kwargs)


def test_bad_sizes(getkey):
    with pytest.raises(ValueError, match="n_hidden: got 0, expected a positive integer"):
        ar.ARU(2, 0, 1, key=getkey())
    with pytest.raises(ValueError, match="n_in: got -1, expected a positive integer"):
        ar.ARU(-1, 3, 1, key=getkey())


def test_unstable_euler_step(getkey):
    model = ar.ARU(2, 4, 1, time_constants="static", alpha_s=1.2, alpha_r=0.5, key=getkey())
    x = np.zeros((5, 2))
    ar.simulate(model, x)  # alpha 1.2 < 2 is allowed (the paper's grid)
    too_big = model.with_dt(2.0)  # alpha_s = 2.4
    with pytest.raises(ar.UnstableStepError, match=r"dt: an explicit-Euler step of 2 is 2.4 times .* expected a step < 2 tau = 1.667"):
        ar.simulate(too_big, x)
    with pytest.raises(ar.UnstableStepError, match="dt0: an explicit-Euler step of 1.8"):
        ar.solve(model, x, solver=diffrax.Euler(), dt0=1.8)
    # An adaptive (here implicit) solve chooses its own steps: no check.
    traj = ar.solve(model, x, solver=diffrax.Kvaerno5(), dt0=1.8,
                    stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-6))
    assert bool(jnp.all(jnp.isfinite(traj.outputs)))


def test_solver_out_of_steps(getkey):
    model = ar.ARU(2, 4, 1, time_constants="static", tau_s=2.0, tau_r=3.0, key=getkey())
    x = np.asarray(jax.random.uniform(getkey(), (20, 2)))
    ctrl = diffrax.PIDController(rtol=1e-8, atol=1e-8)
    with pytest.raises(ar.SolverError, match=r"did not reach t1 = 20.0 within max_steps = 10"):
        ar.solve(model, x, solver=diffrax.Tsit5(), stepsize_controller=ctrl, max_steps=10)
    traj = ar.solve(model, x, solver=diffrax.Tsit5(), stepsize_controller=ctrl, max_steps=10, throw=False)
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
