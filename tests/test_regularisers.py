"""Regularisers: closed forms on known matrices and rates, gradients by finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adaptive_rnn as ar


def test_weight_penalties_on_effective_weights(getkey):
    W = np.array([[0.0, -2.0, 1.0], [3.0, 0.5, -1.0], [1.0, 1.0, 1.0]])
    m = ar.CTRNN(2, 3, 1, weights=("normal", W, "normal"), dale="abs", ei=[1, 1, -1], key=getkey())
    We = np.abs(W) * np.array([1, 1, -1.0])
    assert float(ar.weight_l1(m, "rec")) == pytest.approx(np.abs(We).sum())
    assert float(ar.weight_l2(m, "rec")) == pytest.approx((We**2).sum())
    assert float(ar.weight_l2(m, "in")) == pytest.approx(float(jnp.sum(m.W_in.effective() ** 2)))
    aru = ar.ARU(2, 3, 1, key=getkey())
    assert float(ar.weight_l1(aru, "rec")) == pytest.approx(float(jnp.abs(aru.layers[0].W).sum()))


def test_rate_penalties_closed_form():
    r = jnp.asarray(np.array([[[1.0, 3.0], [3.0, 5.0]]]))  # (B=1, T=2, n=2): unit means 2, 4
    assert float(ar.rate_l2(r)) == pytest.approx((1 + 9 + 9 + 25) / 4)
    # mean over units 3, var over units 1.
    assert float(ar.firing_rate_penalty(r, target_mean=1.0)) == pytest.approx(4.0 + 1.0)
    assert float(ar.firing_rate_penalty(r, target_mean=3.0, target_std=0.5)) == pytest.approx(0.25)


def test_gradient_finite_differences():
    r0 = jnp.asarray(np.random.default_rng(0).random((4, 3)))
    f = lambda r: ar.firing_rate_penalty(r, target_mean=0.2, target_std=0.1) + ar.rate_l2(r)  # noqa: E731
    g = np.asarray(jax.grad(f)(r0))
    eps = 1e-6
    e = np.zeros((4, 3))
    e[1, 2] = eps
    fd = (f(r0 + e) - f(r0 - e)) / (2 * eps)
    assert g[1, 2] == pytest.approx(float(fd), rel=1e-6)
