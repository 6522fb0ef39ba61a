"""The continuous ARU: S1 kernel, exact solutions, orders of convergence, both paths."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg

import adaptive_rnn as ar


def test_s1_exponential_kernel(getkey):
    """I(t) = sum_k w_nk int_0^t exp(-(t-s)/tau_s)/tau_s r_k(s) ds solves
    tau_s dI/dt = -I + W r (I(0) = 0, r = 0 before t = 0)."""
    n, tau_s = 3, 2.5
    W = np.asarray(jax.random.normal(getkey(), (n, n)))
    freqs = np.array([0.7, 1.3, 0.4])

    def rate(t):
        return np.sin(freqs * t) ** 2

    t_end = 6.0
    # Independent: the convolution by numerical quadrature.
    conv = np.array(
        [
            scipy.integrate.quad(
                lambda s, k=k: np.exp(-(t_end - s) / tau_s) / tau_s * rate(s)[k],
                0,
                t_end,
                epsabs=1e-13,
                epsrel=1e-13,
            )[0]
            for k in range(n)
        ]
    )
    expected = W @ conv

    params = ar.ARUFieldParams(
        W=jnp.asarray(W), tau_s=jnp.full((n,), tau_s), tau_r=jnp.ones(n), activation="linear"
    )

    def dI(t, I, args):
        r = jnp.sin(jnp.asarray(freqs) * t) ** 2
        return ar.aru_field(t, (I, r), (params, jnp.zeros(n)))[0]

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(dI),
        diffrax.Tsit5(),
        0.0,
        t_end,
        0.01,
        jnp.zeros(n),
        stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
        max_steps=100_000,
    )
    np.testing.assert_allclose(np.asarray(sol.ys[-1]), expected, rtol=0, atol=1e-9)


def _linear_model(key, n=4):
    model = ar.ARU(
        1,
        n,
        1,
        activation="linear",
        time_constants="static",
        tau_s=np.linspace(2.0, 3.5, n),
        tau_r=np.linspace(4.0, 1.5, n),
        key=key,
    )
    W = 0.3 * model.layers[0].W
    return eqx.tree_at(lambda m: m.layers[0].W, model, W)


def _exact_linear(model, t):
    layer = model.layers[0]
    ts_, tr_ = np.asarray(layer.tau_s.tau()), np.asarray(layer.tau_r.tau())
    W, n = np.asarray(layer.W), layer.W.shape[0]
    M = np.block(
        [
            [-np.eye(n) / ts_[:, None], W / ts_[:, None]],
            [np.eye(n) / tr_[:, None], -np.eye(n) / tr_[:, None]],
        ]
    )
    c = np.asarray(layer.c)
    return scipy.linalg.expm(M * t) @ np.concatenate([c, c])


@pytest.mark.parametrize(
    "solver,steps,expected_order",
    [
        (ar.SequentialEuler(), (0.4, 0.2, 0.1, 0.05), 1.0),
        (diffrax.Euler(), (0.4, 0.2, 0.1, 0.05), 1.0),
        (diffrax.Heun(), (0.4, 0.2, 0.1, 0.05), 2.0),
        (diffrax.Tsit5(), (1.0, 0.5, 0.25, 0.125), 4.0),
    ],
)
def test_order_of_convergence(getkey, solver, steps, expected_order):
    """Linear ARU (f = identity, zero input) against its exact expm solution: fit the
    slope of log error against log step."""
    model = _linear_model(getkey())
    t_end = 8.0
    exact = _exact_linear(model, t_end)
    xs = jnp.zeros((8, 1))
    errors = []
    for h in steps:
        traj = ar.solve(
            model, xs, solver=solver, dt0=h, saveat=jnp.asarray([t_end]), return_states=True
        )
        y = np.concatenate([np.asarray(traj.states["I"][-1]), np.asarray(traj.states["r"][-1])])
        errors.append(np.max(np.abs(y - exact)))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    if expected_order >= 4:
        assert slope >= 3.8, (slope, errors)
    else:
        assert abs(slope - expected_order) < 0.15, (slope, errors)


@pytest.mark.parametrize("dtype,tol", [(jnp.float64, 1e-12), (jnp.float32, 1e-6)])
@pytest.mark.parametrize("readout", ["current", "lagged"])
def test_scan_equals_diffrax_fixed_grid(getkey, dtype, tol, readout):
    model = ar.ARU(
        3,
        8,
        2,
        time_constants="local",
        alpha_s=np.linspace(0.1, 0.9, 8),
        alpha_r=0.6,
        readout=readout,
        dtype=dtype,
        key=getkey(),
    )
    xs = jax.random.uniform(getkey(), (2, 50, 3), dtype=dtype)
    a = ar.simulate(model, xs, return_states=True)
    b = ar.solve(model, xs, return_states=True)
    assert b.outputs.dtype == dtype
    scale = max(1.0, float(jnp.max(jnp.abs(a.outputs))))
    assert float(jnp.max(jnp.abs(a.outputs - b.outputs))) <= tol * scale
    assert float(jnp.max(jnp.abs(a.states["I"] - b.states["I"]))) <= tol * 10 * scale
    np.testing.assert_allclose(a.ts, b.ts)
    # Also when the grid is stepped with ConstantStepSize rather than StepTo.
    c = ar.solve(model, xs, dt0=model.dt)
    assert float(jnp.max(jnp.abs(a.outputs - c.outputs))) <= tol * 10 * scale


def test_hold_interpolation_converges_to_adaptive(getkey):
    """With piecewise-constant input, sequential Euler at step h approaches the adaptive
    Tsit5 solution at rate ~h: the discrete model is a consistent discretisation."""
    model = ar.ARU(2, 6, 2, time_constants="static", tau_s=3.0, tau_r=2.0, key=getkey())
    xs = jax.random.uniform(getkey(), (20, 2))
    ref = ar.solve(
        model,
        xs,
        solver=diffrax.Tsit5(),
        interpolation="hold",
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-10, jump_ts=jnp.arange(21.0)),
    )
    errs = []
    for h in (0.5, 0.25, 0.125):
        out = ar.solve(model, xs, dt0=h, interpolation="hold").outputs
        errs.append(float(jnp.max(jnp.abs(out - ref.outputs))))
    assert errs[0] / errs[1] > 1.7 and errs[1] / errs[2] > 1.7, errs


def _exact_linear_held(model, xs):
    """Outputs at t = 1..T of the linear ARU (f = identity, dt = 1) under the held input
    x(t) = x_k on [k, k + 1): per step, the exact flow exp(A) of the affine system
    written as a linear one on (I, r, 1)."""
    layer = model.layers[0]
    ts_, tr_ = np.asarray(layer.tau_s.tau()), np.asarray(layer.tau_r.tau())
    W, U, n = np.asarray(layer.W), np.asarray(layer.U), layer.W.shape[0]
    M = np.block(
        [
            [-np.eye(n) / ts_[:, None], W / ts_[:, None]],
            [np.eye(n) / tr_[:, None], -np.eye(n) / tr_[:, None]],
        ]
    )
    c = np.asarray(layer.c)
    z, outs = np.concatenate([c, c]), []
    for x in np.asarray(xs):
        A = np.zeros((2 * n + 1, 2 * n + 1))
        A[: 2 * n, : 2 * n] = M
        A[:n, -1] = U @ x / ts_
        z = (scipy.linalg.expm(A) @ np.append(z, 1.0))[:-1]
        outs.append(np.asarray(model.V) @ z[n:] + np.asarray(model.b))
    return np.stack(outs)


@pytest.mark.parametrize("solver", [diffrax.Dopri5(), diffrax.Kvaerno5(), diffrax.Tsit5()])
def test_adaptive_solvers_match_the_exact_solution(getkey, solver):
    """Adaptive steps (rtol = atol = 1e-10, stopping at every input jump) against the
    exact piecewise-expm solution of a linear ARU driven by a held random input."""
    model = _linear_model(getkey())
    model = eqx.tree_at(lambda m: m.layers[0].U, model, jax.random.normal(getkey(), (4, 1)))
    xs = jax.random.uniform(getkey(), (15, 1), minval=-1.0, maxval=1.0)
    exact = _exact_linear_held(model, xs)
    ctrl = diffrax.PIDController(rtol=1e-10, atol=1e-10, jump_ts=jnp.arange(16.0))
    got = ar.solve(model, xs, solver=solver, interpolation="hold", stepsize_controller=ctrl)
    assert bool(got.success)
    assert np.max(np.abs(exact)) > 0.1  # the input moves the state: not a trivial match
    # measured: at most 2.3e-10 (Kvaerno5), 4.5e-11 (Dopri5), 1.1e-11 (Tsit5)
    np.testing.assert_allclose(np.asarray(got.outputs), exact, rtol=0, atol=1e-8)


def test_saveat_and_sample_times(getkey):
    model = ar.ARU(1, 3, 1, time_constants="static", tau_s=2.0, tau_r=2.0, key=getkey())
    xs = jnp.linspace(0, 1, 10)[:, None]
    ts = jnp.linspace(0.0, 4.5, 10)  # irregular dt relative to model.dt = 1
    traj = ar.solve(
        model,
        xs,
        ts=ts,
        solver=diffrax.Tsit5(),
        saveat=jnp.asarray([1.0, 2.5, 5.0]),
        stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-8),
    )
    assert traj.outputs.shape == (3, 1)
    np.testing.assert_allclose(traj.ts, [1.0, 2.5, 5.0])
