"""tau_1, tau_2 and the exchange symmetry of the ARU (PAPER §1.3)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adaptive_rnn import ARU, InputError, simulate
from adaptive_rnn.analysis._identifiability import (
    exchange_profile,
    masked_mse,
    plot_exchange_profile,
    swap_time_constants,
    tau_invariants,
)


def _data(key, model, B=4, T=25):
    k1, k2 = jax.random.split(key)
    xs = jax.random.normal(k1, (B, T, model.n_in), dtype=jnp.float64)
    return xs


def _teacher_targets(model, xs, key):
    # Targets from the model itself plus a little noise: the fitted loss is small but > 0.
    ys = simulate(model, xs).outputs
    return ys + 0.01 * jax.random.normal(key, ys.shape, dtype=ys.dtype)


@pytest.mark.parametrize("parametrisation", ["sigmoid", "softplus"])
def test_invariants_and_swap(getkey, parametrisation):
    model = ARU(
        2,
        4,
        1,
        time_constants="local",
        parametrisation=parametrisation,
        tau_s=np.array([2.0, 3.0, 4.0, 5.0]),
        tau_r=np.array([6.0, 1.5, 2.5, 8.0]),
        dtype=jnp.float64,
        key=getkey(),
    )
    t1, t2 = tau_invariants(model)
    np.testing.assert_allclose(t1, [8.0, 4.5, 6.5, 13.0], rtol=1e-12)
    np.testing.assert_allclose(t2, [12.0, 4.5, 10.0, 40.0], rtol=1e-12)
    sw = swap_time_constants(model)
    np.testing.assert_allclose(sw.tau_s, model.tau_r, rtol=1e-12)
    np.testing.assert_allclose(sw.tau_r, model.tau_s, rtol=1e-12)
    np.testing.assert_allclose(tau_invariants(sw)[0], t1, rtol=1e-12)
    np.testing.assert_allclose(tau_invariants(sw)[1], t2, rtol=1e-12)
    # The swapped model is structurally the same model (trainable, same parametrisation).
    assert jax.tree_util.tree_structure(sw) == jax.tree_util.tree_structure(model)


def test_swap_across_modes(getkey):
    # Static tau_s (global), learnable sigmoid tau_r (global): new leaves are constructed.
    model = ARU(
        2,
        3,
        1,
        time_constants=("static", "global"),
        tau_s=3.0,
        tau_r=1.5,
        dtype=jnp.float64,
        key=getkey(),
    )
    sw = swap_time_constants(model)
    np.testing.assert_allclose(sw.tau_s, [1.5], rtol=1e-12)
    np.testing.assert_allclose(sw.tau_r, [3.0], rtol=1e-12)
    # A sigmoid tau cannot go below dt = 1.
    model = ARU(
        2,
        3,
        1,
        time_constants=("static", "global"),
        tau_s=0.8,
        tau_r=1.5,
        dtype=jnp.float64,
        key=getkey(),
    )
    with pytest.raises(InputError, match="tau > dt"):
        swap_time_constants(model)


def test_stacked_invariants(getkey):
    model = ARU(2, (3, 2), 1, tau_s=[2.0, 4.0], tau_r=[3.0, 5.0], dtype=jnp.float64, key=getkey())
    (a1, a2), (b1, b2) = tau_invariants(model)
    np.testing.assert_allclose([a1[0], a2[0], b1[0], b2[0]], [5.0, 6.0, 9.0, 20.0], rtol=1e-12)
    sw = swap_time_constants(model)
    np.testing.assert_allclose(sw.tau_s[1], [5.0], rtol=1e-12)


def test_linear_aru_swap_is_not_identifiable(getkey):
    model = ARU(
        2,
        6,
        2,
        activation="linear",
        time_constants="local",
        tau_s=np.linspace(1.5, 3.0, 6),
        tau_r=np.linspace(4.0, 2.0, 6),
        dtype=jnp.float64,
        key=getkey(),
    )
    model = eqx.tree_at(lambda m: m.layers[0].W, model, 0.5 * model.layers[0].W)
    xs = _data(getkey(), model)
    ys = _teacher_targets(model, xs, getkey())
    # The outputs of the swapped model itself agree to rounding.
    out, out_sw = simulate(model, xs).outputs, simulate(swap_time_constants(model), xs).outputs
    assert float(jnp.max(jnp.abs(out - out_sw))) < 1e-12
    prof = exchange_profile(model, xs, ys, n=5)
    assert prof.loss_fitted > 0
    assert abs(prof.loss_swapped - prof.loss_fitted) < 1e-12
    assert not prof.distinguishable
    np.testing.assert_allclose(prof.loss_constant_tau1[0], prof.loss_fitted, rtol=1e-12)
    np.testing.assert_allclose(prof.loss_constant_tau1[-1], prof.loss_swapped, rtol=1e-10)
    # The profile along constant tau_2 passes through the same end points.
    np.testing.assert_allclose(
        prof.loss_constant_tau2[[0, -1]], prof.loss_constant_tau1[[0, -1]], rtol=1e-10
    )
    # Along constant tau_1 with tau_2 changing, the loss does change (the invariants matter).
    assert prof.loss_constant_tau1[2] > prof.loss_fitted * 1.01
    # Independent loss: the fitted value is the masked MSE of the model itself.
    np.testing.assert_allclose(prof.loss_fitted, float(masked_mse(out, ys)), rtol=1e-12)


def test_sigmoid_aru_swap_is_identifiable(getkey):
    model = ARU(
        2, 6, 2, activation="sigmoid", alpha_s=0.342, alpha_r=0.684, dtype=jnp.float64, key=getkey()
    )
    xs = 3 * _data(getkey(), model)
    ys = _teacher_targets(model, xs, getkey())
    mask = jnp.ones_like(ys).at[:, :5].set(0.0)
    prof = exchange_profile(model, xs, ys, mask=mask, n=5)
    assert prof.distinguishable
    assert prof.loss_swapped > 2 * prof.loss_fitted
    np.testing.assert_allclose(prof.tau_1[0], [1 / 0.342 + 1 / 0.684], rtol=1e-6)
    d = prof.to_dict()
    assert d["distinguishable"] is True and len(d["loss_constant_tau2"]) == 5
    fig = plot_exchange_profile(prof)
    assert "distinguishable" in fig.axes[0].get_title()


def test_wrong_model_kind(getkey):
    with pytest.raises(InputError, match="expected an ARU"):
        tau_invariants(eqx.nn.Linear(2, 2, key=getkey()))
    model = ARU(2, 3, 1, dtype=jnp.float64, key=getkey())
    xs = jnp.zeros((2, 5, 2), dtype=jnp.float64)
    with pytest.raises(InputError, match="targets: got shape"):
        exchange_profile(model, xs, jnp.zeros((2, 5, 2), dtype=jnp.float64))
    with pytest.raises(InputError, match="n: got"):
        exchange_profile(model, xs, jnp.zeros((2, 5, 1), dtype=jnp.float64), n=1)
