"""The conductance-based shunting RNN: against scipy, the A = 0 limit, 1/z, switches."""

import diffrax
import jax
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import adaptive_rnn as ar
from adaptive_rnn._errors import InputError


def _sig(x):
    return 1 / (1 + np.exp(-x))


def test_against_solve_ivp(getkey):
    n, n_in, T, dt = 4, 2, 12, 0.25
    m = ar.Shunting(
        n_in,
        n,
        2,
        G_b=np.array([0.5, 1.0, 1.5, 2.0]),
        A=0.7,
        ei=[1, 1, 1, -1],
        weights="normal",
        initial_state=np.array([0.2, -0.1, 0.0, 0.3]),
        dt=dt,
        key=getkey(),
    )
    x = np.asarray(jax.random.normal(getkey(), (T, n_in)))
    tr = ar.solve(
        m,
        x,
        solver=diffrax.Tsit5(),
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
        return_states=True,
    )
    W = np.asarray(m.W)
    P = np.asarray(m.P)
    G = np.asarray(m.G_b)
    K = np.asarray(m.A) * np.abs(W)
    ts = dt * np.arange(T + 1)
    xs = np.concatenate([x, x[-1:]], axis=0)

    def rhs(t, V):
        u = np.array([np.interp(t, ts, xs[:, i]) for i in range(n_in)])
        r = _sig(V)
        return -(G + K @ r) * V + W @ r + P @ u

    ref = solve_ivp(
        rhs,
        (0, T * dt),
        np.asarray(m.resolve().v0),
        t_eval=np.asarray(tr.ts),
        rtol=1e-11,
        atol=1e-13,
        max_step=dt / 4,
        method="DOP853",
    )
    err = np.max(np.abs(np.asarray(tr.states["V"]) - ref.y.T))
    assert err < 1e-7, err
    # 1/z recorded as a state, by hand.
    V = np.asarray(tr.states["V"])
    assert np.allclose(tr.states["tau_eff"], 1 / (G + _sig(V) @ K.T), rtol=1e-12)
    assert np.all(np.asarray(W)[:, :3] >= 0) and np.all(np.asarray(W)[:, 3] <= 0)


def test_A_zero_is_ctrnn_with_tau_one_over_Gb(getkey):
    n, n_in, n_out = 5, 3, 2
    G = np.array([0.5, 0.8, 1.0, 2.0, 4.0])
    s = ar.Shunting(
        n_in,
        n,
        n_out,
        G_b=G,
        A=0.0,
        dt=0.1,
        bias_out="normal",
        initial_state=np.linspace(-0.5, 0.5, n),
        key=getkey(),
    )
    c = ar.CTRNN(
        n_in,
        n,
        n_out,
        activation="sigmoid",
        tau=1 / G,
        dt=0.1,
        weights=(
            np.asarray(s.P) / G[:, None],
            np.asarray(s.W) / G[:, None],
            np.asarray(s.W_out.effective()),
        ),
        biases=(None, np.asarray(s.b_out)),
        initial_state=np.linspace(-0.5, 0.5, n),
        key=getkey(),
    )
    x = jax.random.normal(getkey(), (15, n_in))
    a, b = ar.simulate(s, x, return_states=True), ar.simulate(c, x, return_states=True)
    assert np.max(np.abs(a.outputs - b.outputs)) < 1e-12
    assert np.max(np.abs(a.states["V"] - b.states["v"])) < 1e-12
    # state_dependent_leak=False is the same model whatever A.
    s2 = ar.Shunting(n_in, n, n_out, G_b=G, A=3.0, state_dependent_leak=False, dt=0.1, key=getkey())
    assert s2.resolve().params.K is None


def test_switches(getkey):
    m = ar.Shunting(2, 4, 1, dale=None, positive_A=False, A=-0.5, A_shape="global", key=getkey())
    assert float(m.A.squeeze()) == -0.5
    assert np.any(np.asarray(m.W) < 0) and np.any(np.asarray(m.W) > 0)
    m = ar.Shunting(2, 4, 1, A=np.array([0.1, 0.2, 0.3, 0.4]), A_shape="neuron", key=getkey())
    assert np.allclose(np.asarray(m.A)[:, 0], [0.1, 0.2, 0.3, 0.4])
    spec = ar.trainable_filter(m)
    assert spec.g_raw is True and spec.a_raw is True  # G_b and A are learnable


def test_bad_parameters(getkey):
    with pytest.raises(InputError, match=r"G_b: got \[-1.0\], expected positive finite values"):
        ar.Shunting(2, 3, 1, G_b=-1.0, key=getkey())
    with pytest.raises(InputError, match=r"A: got \[-0.2\], expected non-negative finite values"):
        ar.Shunting(2, 3, 1, A=np.array([[0.1, -0.2, 0.1]] * 3), key=getkey())
    with pytest.raises(
        InputError, match=r"G_b: got shape \(2,\), expected a scalar or shape \(3,\)"
    ):
        ar.Shunting(2, 3, 1, G_b=np.ones(2), key=getkey())


def test_save_load(getkey, tmp_path):
    m = ar.Shunting(2, 4, 2, A_shape="neuron", learn_initial_state=True, key=getkey())
    ar.save_model(tmp_path / "s", m)
    m2 = ar.load_model(tmp_path / "s")
    x = jax.random.normal(getkey(), (6, 2))
    assert np.array_equal(ar.simulate(m, x).outputs, ar.simulate(m2, x).outputs)
