"""The leaky CTRNN: NN4N's update, the continuous solution, initialisation, save/load."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import adaptive_rnn as ar
from adaptive_rnn._errors import InputError


def _nn4n_step_reference(m, x):
    # Hand-written NN4N-style loop: v_{t+1} = v_t + g(-v_t + W f(v_t) + W_in u_t + b).
    W = np.asarray(m.W_hid.effective())
    Win = np.asarray(m.W_in.effective())
    Wout = np.asarray(m.W_out.effective())
    b = np.asarray(m.resolve().params.b)
    bo = np.asarray(m.resolve().b_out)
    g = m.dt / np.asarray(m.tau)
    v = np.asarray(m.resolve().v0).copy()
    vs, ys = [], []
    for u in np.asarray(x):
        v = v + g * (-v + W @ np.tanh(v) + Win @ u + b)
        vs.append(v.copy())
        ys.append(Wout @ np.tanh(v) + bo)
    return np.array(vs), np.array(ys)


def test_discrete_step_is_nn4n_update(getkey):
    tau = np.array([2.0, 3.0, 4.0, 5.0])
    m = ar.CTRNN(
        3,
        4,
        2,
        activation="tanh",
        tau=tau,
        dt=0.5,
        biases=("normal", "uniform"),
        initial_state=np.array([0.1, -0.2, 0.3, 0.0]),
        key=getkey(),
    )
    x = jax.random.normal(getkey(), (9, 3))
    tr = ar.simulate(m, x, return_states=True)
    vs, ys = _nn4n_step_reference(m, x)
    assert np.allclose(tr.states["v"], vs, atol=1e-13)
    assert np.allclose(tr.outputs, ys, atol=1e-13)
    # The diffrax path with SequentialEuler on the grid is the same recurrence.
    tr2 = ar.solve(m, x, return_states=True)
    assert np.allclose(tr2.outputs, ys, atol=1e-13)


def test_linear_ctrnn_matches_expm(getkey):
    # Linear f, constant input: v(t) = v* + expm(A t)(v0 - v*), A = (W - I)/tau.
    n, tau = 4, 1.5
    m = ar.CTRNN(
        2,
        n,
        1,
        activation="linear",
        tau=tau,
        weights="normal",
        biases=("normal", None),
        spectral_radius=0.8,
        initial_state=np.linspace(-1, 1, n),
        key=getkey(),
    )
    u = np.array([0.3, -0.7])
    x = jnp.tile(jnp.asarray(u), (20, 1))
    tr = ar.solve(
        m,
        x,
        solver=diffrax.Tsit5(),
        saveat=jnp.linspace(0.5, 20.0, 5),
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
        return_states=True,
    )
    r = m.resolve()
    W = np.asarray(r.params.W)
    A = (W - np.eye(n)) / tau
    drive = np.asarray(r.W_in) @ u + np.asarray(r.params.b)
    vstar = np.linalg.solve(np.eye(n) - W, drive)
    v0 = np.asarray(r.v0)
    exact = np.array([vstar + scipy.linalg.expm(A * t) @ (v0 - vstar) for t in np.asarray(tr.ts)])
    assert np.max(np.abs(np.asarray(tr.states["v"]) - exact)) < 1e-8


def test_initialisations(getkey):
    n_in, n, n_out = 50, 40, 30
    m = ar.CTRNN(n_in, n, n_out, weights="uniform", key=getkey())
    for w, fan in ((m.W_in, n_in), (m.W_hid, n), (m.W_out, n)):
        e = np.asarray(w.effective())
        assert np.max(np.abs(e)) <= 1 / np.sqrt(fan) + 1e-15
        assert np.std(e) == pytest.approx(1 / np.sqrt(3 * fan), rel=0.1)  # U(-k, k): std k/sqrt(3)
    m = ar.CTRNN(n_in, n, n_out, weights="normal", key=getkey())
    assert np.std(np.asarray(m.W_in.effective())) == pytest.approx(1 / np.sqrt(n_in), rel=0.1)
    m = ar.CTRNN(
        n_in, n, n_out, weights=("zero", "normal", "zero"), spectral_radius=1.3, key=getkey()
    )
    assert not np.any(np.asarray(m.W_in.effective()))
    assert ar.spectral_radius(m.W_hid.effective()) == pytest.approx(1.3, rel=1e-10)
    W = np.arange(n * n, dtype=float).reshape(n, n) / n**2
    m = ar.CTRNN(
        n_in, n, n_out, weights=("normal", W, "normal"), biases=(np.ones(n), "zero"), key=getkey()
    )
    assert np.array_equal(np.asarray(m.W_hid.effective()), W)
    assert np.array_equal(np.asarray(m.resolve().params.b), np.ones(n))
    with pytest.raises(
        InputError, match=r"W_hid: got an array of shape \(3, 3\), expected shape \(40, 40\)"
    ):
        ar.CTRNN(n_in, n, n_out, weights=("normal", np.ones((3, 3)), "normal"), key=getkey())


def test_trainable_leaves(getkey):
    m = ar.CTRNN(2, 3, 1, biases=(None, "zero"), key=getkey())
    spec = ar.trainable_filter(m)
    assert spec.v0.value is False and spec.b_hid.value is False and spec.b_out is True
    assert spec.tau_.value is False  # static tau
    m = ar.CTRNN(2, 3, 1, learn_initial_state=True, time_constants="local", key=getkey())
    spec = ar.trainable_filter(m)
    assert spec.v0 is True and m.tau.shape == (3,)
    assert ar.CTRNN(2, 3, 1, time_constants="global", key=getkey()).tau.shape == (1,)


def test_learnable_tau_gradient_matches_finite_differences(getkey):
    m = ar.CTRNN(
        2,
        3,
        1,
        activation="tanh",
        time_constants="local",
        parametrisation="softplus",
        tau=np.array([2.0, 3.0, 4.0]),
        dt=0.5,
        key=getkey(),
    )
    x = jax.random.normal(getkey(), (6, 2))

    def loss(theta):
        mm = eqx.tree_at(lambda q: q.tau_.theta, m, theta)
        return jnp.sum(ar.simulate(mm, x).outputs ** 2)

    th = m.tau_.theta
    g = jax.grad(loss)(th)
    eps = 1e-6
    fd = np.array(
        [(loss(th.at[i].add(eps)) - loss(th.at[i].add(-eps))) / (2 * eps) for i in range(3)]
    )
    assert np.allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_save_load_round_trip_with_constraints(getkey, tmp_path):
    mask = (np.asarray(jax.random.uniform(getkey(), (6, 6))) < 0.5).astype(float)
    m = ar.CTRNN(
        2,
        6,
        2,
        dale="rectify",
        masks={"rec": mask},
        fixed={"in": True},
        learn_initial_state=True,
        time_constants="local",
        noise={"sigma_pre": 0.1},
        key=getkey(),
    )
    ar.save_model(tmp_path / "m", m)
    m2 = ar.load_model(tmp_path / "m")
    x = jax.random.normal(getkey(), (5, 2))
    k = getkey()
    assert np.array_equal(ar.simulate(m, x, key=k).outputs, ar.simulate(m2, x, key=k).outputs)
    assert m2.noise == m.noise and m2.config() == m.config()


def test_cli_simulate_random_ctrnn_and_shunting(tmp_path):
    from adaptive_rnn.cli import main

    for fam in ("ctrnn", "shunting"):
        out = tmp_path / f"{fam}.npz"
        assert (
            main(
                [
                    "simulate",
                    "--random",
                    fam,
                    "--random-inputs",
                    "2,8",
                    "--hidden",
                    "4",
                    "--out",
                    str(out),
                    "--save-model",
                    str(tmp_path / fam),
                ]
            )
            == 0
        )
        z = np.load(out)
        m = ar.load_model(tmp_path / fam)
        assert z["outputs"].shape == (2, 8, 2) and m.family == fam
