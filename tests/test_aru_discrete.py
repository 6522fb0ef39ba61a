"""The discrete ARU against hand-written recurrences (PAPER.md §1.2) and special cases."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adaptive_rnn as ar
from adaptive_rnn.tasks import smoothed_uniform_inputs


def _np_params(model):
    layer = model.layers[0]
    return {k: np.asarray(getattr(layer, k)) for k in ("U", "W", "c")} | {
        "V": np.asarray(model.V),
        "b": np.asarray(model.b),
    }


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def paper_recurrence(p, xs, a_s, a_r, f, lagged=False):
    """PAPER.md §1.2, written in the paper's form, in NumPy."""
    I = p["c"].copy()
    r = f(I)
    ys = []
    for x in xs:
        r_prev = r
        I = (1 - a_s) * I + a_s * (p["U"] @ x + p["W"] @ r)
        r = (1 - a_r) * r + a_r * f(I)
        ys.append(p["V"] @ (r_prev if lagged else r) + p["b"])
    return np.stack(ys)


@pytest.mark.parametrize("mode", ["static", "global", "local"])
@pytest.mark.parametrize("lagged", [False, True])
def test_paper_recurrence(getkey, mode, lagged):
    n = 7
    a_s = np.linspace(0.2, 0.9, n) if mode != "global" else 0.342
    a_r = np.linspace(0.95, 0.3, n) if mode != "global" else 0.684
    model = ar.ARU(
        3,
        n,
        2,
        time_constants=mode,
        alpha_s=a_s,
        alpha_r=a_r,
        readout="lagged" if lagged else "current",
        key=getkey(),
    )
    xs = np.asarray(jax.random.normal(getkey(), (25, 3)))
    expected = paper_recurrence(_np_params(model), xs, a_s, a_r, _sigmoid, lagged)
    got = ar.simulate(model, xs).outputs
    assert np.max(np.abs(np.asarray(got) - expected)) < 1e-12


def test_elman_special_case(getkey):
    model = ar.ARU.elman(2, 6, 3, activation="tanh", key=getkey())
    np.testing.assert_array_equal(np.asarray(model.alpha_s), [1.0])
    np.testing.assert_array_equal(np.asarray(model.alpha_r), [1.0])
    p = _np_params(model)
    xs = np.asarray(jax.random.normal(getkey(), (30, 2)))
    # A plain Elman network, r_t = f(U x_t + W r_{t-1}), from r_0 = f(c).
    r = np.tanh(p["c"])
    ys = []
    for x in xs:
        r = np.tanh(p["U"] @ x + p["W"] @ r)
        ys.append(p["V"] @ r + p["b"])
    assert np.max(np.abs(np.asarray(ar.simulate(model, xs).outputs) - np.stack(ys))) < 1e-12


def test_current_and_rate_special_cases(getkey):
    xs = np.asarray(jax.random.normal(getkey(), (20, 2)))
    cur = ar.ARU.current_rnn(2, 5, 1, alpha_s=0.3, activation="relu", key=getkey())
    assert not cur.layers[0].tau_r.learnable and cur.layers[0].tau_s.learnable
    p = _np_params(cur)
    I = p["c"].copy()
    ys = []
    for x in xs:  # I_t = (1 - a) I_{t-1} + a (U x_t + W f(I_{t-1}))
        I = 0.7 * I + 0.3 * (p["U"] @ x + p["W"] @ np.maximum(I, 0))
        ys.append(p["V"] @ np.maximum(I, 0) + p["b"])
    assert np.max(np.abs(np.asarray(ar.simulate(cur, xs).outputs) - np.stack(ys))) < 1e-12

    rate = ar.ARU.rate_rnn(2, 5, 1, alpha_r=0.4, activation="tanh", key=getkey())
    assert rate.layers[0].tau_r.learnable and not rate.layers[0].tau_s.learnable
    p = _np_params(rate)
    r = np.tanh(p["c"])
    ys = []
    for x in xs:  # r_t = (1 - a) r_{t-1} + a f(U x_t + W r_{t-1})
        r = 0.6 * r + 0.4 * np.tanh(p["U"] @ x + p["W"] @ r)
        ys.append(p["V"] @ r + p["b"])
    assert np.max(np.abs(np.asarray(ar.simulate(rate, xs).outputs) - np.stack(ys))) < 1e-12


def test_stacked_layers(getkey):
    model = ar.ARU(2, (4, 3), 2, alpha_s=(0.3, 0.6), alpha_r=(0.8, 0.2), key=getkey())
    assert model.n_hidden == (4, 3)
    xs = np.asarray(jax.random.normal(getkey(), (15, 2)))
    L = [{k: np.asarray(getattr(layer, k)) for k in ("U", "W", "c")} for layer in model.layers]
    a = [(0.3, 0.8), (0.6, 0.2)]
    I = [l["c"].copy() for l in L]
    r = [_sigmoid(i) for i in I]
    ys = []
    for x in xs:
        inp = x
        for k in range(2):
            I[k] = (1 - a[k][0]) * I[k] + a[k][0] * (L[k]["U"] @ inp + L[k]["W"] @ r[k])
            r[k] = (1 - a[k][1]) * r[k] + a[k][1] * _sigmoid(I[k])
            inp = r[k]
        ys.append(np.asarray(model.V) @ r[1] + np.asarray(model.b))
    traj = ar.simulate(model, xs, return_states=True)
    assert np.max(np.abs(np.asarray(traj.outputs) - np.stack(ys))) < 1e-12
    assert set(traj.states) == {"I_0", "r_0", "I_1", "r_1"}
    assert len(model.alpha_s) == 2


def test_batch_equals_loop(getkey):
    model = ar.ARU(2, 5, 2, key=getkey())
    xs = jax.random.normal(getkey(), (4, 12, 2))
    batch = ar.simulate(model, xs, return_states=True)
    for i in range(4):
        one = ar.simulate(model, xs[i], return_states=True)
        np.testing.assert_allclose(batch.outputs[i], one.outputs, rtol=0, atol=1e-14)
        np.testing.assert_allclose(batch.states["r"][i], one.states["r"], rtol=0, atol=1e-14)


# ---- S2: the exchange symmetry ------------------------------------------------------


def _s2_pair(key, activation, positive=False):
    kU, kW, kx, km = jax.random.split(key, 4)
    models = []
    for a_s, a_r in ((0.342, 0.684), (0.684, 0.342)):
        m = ar.ARU(
            2,
            10,
            2,
            activation=activation,
            time_constants="static",
            alpha_s=a_s,
            alpha_r=a_r,
            key=km,
        )
        layer = m.layers[0]
        U, W = layer.U, layer.W
        if positive:  # all units active at all times under ReLU
            U, W = jnp.abs(U), 0.1 * jnp.abs(W)
        m = eqx.tree_at(
            lambda m: (m.layers[0].U, m.layers[0].W, m.layers[0].c), m, (U, W, jnp.zeros(10))
        )  # zero initial state
        models.append(m)
    xs = smoothed_uniform_inputs(kx, 1, 40, 2)[0]
    return models, xs


@pytest.mark.parametrize("activation,positive", [("linear", False), ("relu", True)])
def test_s2_exchange_symmetry_exact(getkey, activation, positive):
    (m1, m2), xs = _s2_pair(getkey(), activation, positive)
    t1 = ar.simulate(m1, xs, return_states=True)
    if activation == "relu":
        assert bool(jnp.all(t1.states["I"] > 0))
    t2 = ar.simulate(m2, xs)
    assert float(jnp.max(jnp.abs(t1.outputs - t2.outputs))) <= 1e-12


def test_s2_exchange_symmetry_broken_by_sigmoid(getkey):
    (m1, m2), xs = _s2_pair(getkey(), "sigmoid")
    diff = jnp.max(jnp.abs(ar.simulate(m1, xs).outputs - ar.simulate(m2, xs).outputs))
    assert float(diff) > 1e-3


def test_s2_second_order_recurrence(getkey):
    """r_t = (2 - a_s - a_r) r_{t-1} - (1-a_s)(1-a_r) r_{t-2} + a_s a_r (W r_{t-1} + U x_t)."""
    (m1, _), xs = _s2_pair(getkey(), "linear")
    r = np.asarray(ar.simulate(m1, xs, return_states=True).states["r"])
    U, W = np.asarray(m1.layers[0].U), np.asarray(m1.layers[0].W)
    a_s, a_r = 0.342, 0.684
    xs = np.asarray(xs)
    for t in range(2, 40):
        pred = (
            (2 - a_s - a_r) * r[t - 1]
            - (1 - a_s) * (1 - a_r) * r[t - 2]
            + a_s * a_r * (W @ r[t - 1] + U @ xs[t])
        )
        np.testing.assert_allclose(r[t], pred, rtol=0, atol=1e-12)
