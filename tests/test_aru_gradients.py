"""Gradients against central finite differences (float64), vmap(grad), compile once."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

import adaptive_rnn as ar


def _loss_fn(path):
    def loss(model, xs, ys):
        if path == "scan":
            out = ar.simulate(model, xs).outputs
        elif path == "diffrax-seq":
            out = ar.solve(model, xs).outputs
        else:
            out = ar.solve(model, xs, solver=diffrax.Heun()).outputs
        return jnp.sum(jnp.mean((out - ys) ** 2, axis=-1))

    return loss


@pytest.mark.parametrize("path", ["scan", "diffrax-seq", "diffrax-heun"])
@pytest.mark.parametrize("mode,param", [("global", "sigmoid"), ("local", "softplus")])
def test_gradients_match_finite_differences(getkey, path, mode, param):
    kw = dict(alpha_s=0.4, alpha_r=0.7) if param == "sigmoid" else dict(tau_s=2.5, tau_r=1.7)
    model = ar.ARU(2, 4, 2, time_constants=mode, parametrisation=param, key=getkey(), **kw)
    model = eqx.tree_at(lambda m: m.b, model, jnp.asarray([0.1, -0.2]))
    xs = jax.random.uniform(getkey(), (12, 2))
    ys = jax.random.normal(getkey(), (12, 2))
    params, static = eqx.partition(model, ar.trainable_filter(model))
    flat, unravel = ravel_pytree(params)
    loss = _loss_fn(path)

    def f(v):
        return loss(eqx.combine(unravel(v), static), xs, ys)

    grad = np.asarray(jax.grad(f)(flat))
    f_jit = jax.jit(f)
    eps = 1e-6
    eye = np.eye(flat.shape[0])
    fd = np.array([(f_jit(flat + eps * e) - f_jit(flat - eps * e)) / (2 * eps) for e in eye])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)
    # Per parameter group (W, U, c, V, b and both time constants): the finite-difference
    # gradient is far above atol (so the match above is not 0 == 0 or passed by atol
    # alone) and the group's gradient matches it to 1e-6 in norm. Measured over the six
    # cases: |fd| >= 0.028 per group, relative error <= 5.4e-8 (the central differences' own).
    g, g_fd = unravel(jnp.asarray(grad)), unravel(jnp.asarray(fd))

    def groups(t):
        layer = t.layers[0]
        return [
            layer.W,
            layer.U,
            layer.c,
            t.V,
            t.b,
            *jax.tree_util.tree_leaves((layer.tau_s, layer.tau_r)),
        ]

    pairs = list(zip(groups(g), groups(g_fd)))
    assert len(pairs) == 7
    for a, b in pairs:
        a, b = np.ravel(np.asarray(a)), np.ravel(np.asarray(b))
        assert np.linalg.norm(b) > 1e-4, b
        assert np.linalg.norm(a - b) <= 1e-6 * np.linalg.norm(b), (a, b)


def test_vmap_grad_equals_per_example(getkey):
    model = ar.ARU(2, 5, 1, time_constants="local", key=getkey())
    xs = jax.random.uniform(getkey(), (6, 10, 2))
    ys = jax.random.normal(getkey(), (6, 10, 1))
    loss = _loss_fn("scan")
    grad = eqx.filter_grad(loss)
    batched = eqx.filter_vmap(grad, in_axes=(None, 0, 0))(model, xs, ys)
    for i in range(6):
        one = grad(model, xs[i], ys[i])
        a = jax.tree_util.tree_leaves(eqx.filter(one, eqx.is_inexact_array))
        b = jax.tree_util.tree_leaves(eqx.filter(batched, eqx.is_inexact_array))
        for u, v in zip(a, b):
            np.testing.assert_allclose(v[i], u, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("param", ["sigmoid", "softplus"])
def test_training_step_compiles_once(getkey, param):
    model = ar.ARU(
        2, 6, 2, time_constants="local", parametrisation=param, tau_s=3.0, tau_r=2.0, key=getkey()
    )
    opt = optax.chain(optax.clip_by_global_norm(2.0), optax.adamw(1e-3, weight_decay=1e-5))
    params, static = eqx.partition(model, ar.trainable_filter(model))
    opt_state = opt.init(params)
    loss = _loss_fn("scan")

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def step(params, opt_state, xs, ys):
        value, grads = jax.value_and_grad(lambda p: loss(eqx.combine(p, static), xs, ys))(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    losses = []
    for _ in range(4):
        xs = jax.random.uniform(getkey(), (15, 2))
        ys = jax.random.normal(getkey(), (15, 2))
        params, opt_state, value = step(params, opt_state, xs, ys)
        losses.append(float(value))
    assert eqx.debug.get_num_traces(step) == 1
    assert all(np.isfinite(losses))


def test_frozen_time_constants_are_not_trained(getkey):
    model = ar.ARU(2, 4, 1, time_constants="static", alpha_s=1.1, alpha_r=0.3, key=getkey())
    spec = ar.trainable_filter(model)
    assert spec.layers[0].tau_s.value is False and spec.layers[0].tau_r.value is False
    assert spec.layers[0].W is True and spec.V is True
    params, _ = eqx.partition(model, spec)
    assert params.layers[0].tau_s.value is None


@pytest.mark.parametrize("remat", [1, 4, 7, 30])
def test_remat_gives_same_values_and_gradients(getkey, remat):
    model = ar.ARU(2, 5, 2, time_constants="local", key=getkey())
    xs = jax.random.uniform(getkey(), (3, 30, 2))
    ys = jax.random.normal(getkey(), (3, 30, 2))

    def loss(m, remat):
        return jnp.sum((ar.simulate(m, xs, remat=remat).outputs - ys) ** 2)

    v0, g0 = eqx.filter_value_and_grad(loss)(model, None)
    v1, g1 = eqx.filter_value_and_grad(loss)(model, remat)
    assert abs(float(v0 - v1)) < 1e-12
    for a, b in zip(jax.tree_util.tree_leaves(g0), jax.tree_util.tree_leaves(g1)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    with pytest.raises(ar.InputError, match="remat: got 0"):
        ar.simulate(model, xs, remat=0)


def test_remat_reduces_memory(getkey):
    """The compiled gradient's temporary memory grows ~linearly in T without remat and
    far slower with remat = sqrt(T)."""
    model = ar.ARU(1, 32, 1, key=getkey())

    def temp_bytes(T, remat):
        xs = jnp.zeros((T, 1))
        f = jax.jit(jax.grad(lambda m: jnp.sum(ar.simulate(m, xs, remat=remat).outputs)))
        return f.lower(model).compile().memory_analysis().temp_size_in_bytes

    plain = temp_bytes(4096, None)
    ckpt = temp_bytes(4096, 64)
    assert ckpt < plain / 8, (plain, ckpt)
