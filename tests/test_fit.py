"""`fit`: the paper's protocol step by step, frozen leaves, selection, stopping, bad data."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import tree_allclose

from adaptive_rnn import ARU, InputError, TrainingError, simulate, trainable_filter
from adaptive_rnn.tasks import smoothed_uniform_inputs
from adaptive_rnn.train import History, fit, make_train_data, mse_loss, paper_optimiser
from adaptive_rnn.train._core import TRACES


def _data(key, S=12, T=8, alpha_s=0.3, alpha_r=0.7):
    k1, k2 = jax.random.split(key)
    teacher = ARU(2, 4, 2, time_constants="static", alpha_s=alpha_s, alpha_r=alpha_r, key=k1)
    x = smoothed_uniform_inputs(k2, S, T, 2)
    return np.asarray(x), np.asarray(simulate(teacher, x).outputs)


def _student(key, **kw):
    kw.setdefault("alpha_s", 0.6)
    kw.setdefault("alpha_r", 0.5)
    return ARU(2, 4, 2, key=key, **kw)


def test_mse_loss_is_per_step_mean_summed_over_time(getkey):
    o = jax.random.normal(getkey(), (5, 3))
    t = jax.random.normal(getkey(), (5, 3))
    m = jnp.ones((5, 3))
    expected = np.sum(np.mean((np.asarray(o) - np.asarray(t)) ** 2, axis=1))
    assert np.isclose(float(mse_loss(o, t, m)), expected, rtol=1e-13)
    m2 = m.at[:, 0].set(0.0)
    expected2 = np.sum(np.sum((np.asarray(o) - np.asarray(t))[:, 1:] ** 2, axis=1) / 3)
    assert np.isclose(float(mse_loss(o, t, m2)), expected2, rtol=1e-13)


def test_one_epoch_matches_a_hand_written_loop(getkey):
    """One update per sequence, in the order of permutation(split(key)[1]), paper optimiser."""
    x, y = _data(getkey())
    model = _student(getkey())
    key = getkey()
    res = fit(model, x, y, key=key, epochs=1, val_fraction=0.25, progress=False)

    # reference: a plain Python loop over updates
    opt = optax.chain(
        optax.clip_by_global_norm(2.0), optax.add_decayed_weights(1e-5), optax.adam(1e-3)
    )
    params, rest = eqx.partition(model, trainable_filter(model))
    state = opt.init(params)
    _, kperm = jax.random.split(key)
    perm = np.asarray(jax.random.permutation(kperm, 9))

    @jax.jit  # one compiled update (the loop itself stays in Python, one step per sequence)
    def update(params, state, xi, yi):
        def loss(p):
            return mse_loss(simulate(eqx.combine(p, rest), xi).outputs, yi, jnp.ones_like(yi))

        val, g = jax.value_and_grad(loss)(params)
        upd, state = opt.update(g, state, params)
        return optax.apply_updates(params, upd), state, val

    losses = []
    for i in perm:
        params, state, val = update(params, state, x[int(i)], y[int(i)])
        losses.append(float(val))
    ref = eqx.combine(params, rest)
    assert tree_allclose(res.final_model, ref, rtol=1e-10, atol=1e-12)
    assert np.isclose(res.history.train_loss[0], np.mean(losses), rtol=1e-10)
    val_ref = np.mean(
        [float(mse_loss(simulate(ref, x[i]).outputs, y[i], 1.0)) for i in range(9, 12)]
    )
    assert np.isclose(res.history.val_loss[0], val_ref, rtol=1e-10)


def test_compiles_once_for_all_epochs(getkey):
    x, y = _data(getkey())
    model = _student(getkey(), time_constants="local")
    before = TRACES["epoch"]
    res = fit(model, x, y, key=getkey(), epochs=4, progress=False, batch_size=3)
    assert TRACES["epoch"] - before == 1
    assert res.epochs_run == 4
    # a second fit with the same structure and options reuses the compiled epoch
    fit(
        _student(getkey(), time_constants="local"),
        x,
        y,
        key=getkey(),
        epochs=2,
        progress=False,
        batch_size=3,
    )
    assert TRACES["epoch"] - before == 1


def test_frozen_time_constants_never_move(getkey):
    """Fixed alphas (even > 1) are not seen by the optimiser: weight decay does not move them."""
    x, y = _data(getkey())
    model = _student(getkey(), time_constants="static", alpha_s=1.2, alpha_r=0.4)
    opt = paper_optimiser(1e-2, weight_decay=0.5)
    res = fit(model, x, y, key=getkey(), epochs=2, optimiser=opt, progress=False)
    assert np.array_equal(np.asarray(res.final_model.alpha_s), np.asarray(model.alpha_s))
    assert np.array_equal(np.asarray(res.final_model.alpha_r), np.asarray(model.alpha_r))
    assert not np.allclose(res.final_model.layers[0].W, model.layers[0].W)
    assert np.all(res.history.time_constants["alpha_s"] == np.asarray(model.alpha_s))


def test_time_constant_learning_rate(getkey):
    x, y = _data(getkey())
    model = _student(getkey())
    frozen_tau = fit(
        model,
        x,
        y,
        key=getkey(),
        epochs=1,
        progress=False,
        optimiser=paper_optimiser(1e-2, tau_learning_rate=optax.constant_schedule(0.0)),
    )
    assert np.array_equal(np.asarray(frozen_tau.final_model.alpha_s), np.asarray(model.alpha_s))
    assert not np.allclose(frozen_tau.final_model.V, model.V)
    fast = fit(
        model,
        x,
        y,
        key=getkey(),
        epochs=1,
        progress=False,
        optimiser=paper_optimiser(
            optax.constant_schedule(0.0), tau_learning_rate=1e-2, weight_decay=0.0
        ),
    )
    assert np.array_equal(np.asarray(fast.final_model.V), np.asarray(model.V))
    assert abs(float(fast.final_model.alpha_s[0] - model.alpha_s[0])) > 1e-3


def test_best_validation_selection_and_history(getkey):
    x, y = _data(getkey(), S=16)
    model = _student(getkey(), time_constants="local")
    key = getkey()
    opt = paper_optimiser(3e-2)
    res = fit(model, x, y, key=key, epochs=6, optimiser=opt, progress=False)
    h = res.history
    assert h.train_loss.shape == (6,) and h.val_loss.shape == (6,)
    assert h.time_constants["alpha_s"].shape == (6, 4)
    b = h.best_epoch
    assert h.best_val_loss == min(h.initial_val_loss, h.val_loss.min())
    # the best model is the model after epoch b of the same run
    if b > 0:
        short = fit(model, x, y, key=key, epochs=b, optimiser=opt, progress=False)
        assert tree_allclose(short.final_model, res.model, rtol=0, atol=0)
        assert np.allclose(h.at_best()["alpha_s"], np.asarray(res.model.alpha_s), rtol=0, atol=0)
    h2 = History.from_json(h.to_json())
    assert np.array_equal(h2.val_loss, h.val_loss) and h2.best_epoch == b
    assert np.array_equal(h2.time_constants["tau_r"], h.time_constants["tau_r"])


def test_loss_decreases_toward_teacher(getkey):
    x, y = _data(getkey(), S=20)
    res = fit(
        _student(getkey()),
        x,
        y,
        key=getkey(),
        epochs=5,
        optimiser=paper_optimiser(1e-2),
        progress=False,
    )
    assert res.best_val_loss < 0.5 * res.history.initial_val_loss


def _nan_after(n):
    """An optimiser stage that turns the updates into NaN from update n on."""

    def init(params):
        return jnp.zeros((), jnp.int32)

    def update(updates, count, params=None):
        bad = count >= n
        return jax.tree_util.tree_map(lambda u: jnp.where(bad, jnp.nan, u), updates), count + 1

    return optax.GradientTransformation(init, update)


def test_nonfinite_loss_stops_and_keeps_best(getkey):
    x, y = _data(getkey())  # 10 train sequences at val_fraction 0.2 -> 10 updates per epoch
    model = _student(getkey())
    opt = optax.chain(paper_optimiser(1e-2), _nan_after(25))
    with pytest.warns(RuntimeWarning, match="non-finite training loss"):
        res = fit(model, x, y, key=getkey(), epochs=10, optimiser=opt, progress=False)
    h = res.history
    assert h.stop_epoch == 3 and res.epochs_run == 3
    assert "update 6" in h.stop_reason  # update 25 poisons the params; update 26 (index 6) sees NaN
    assert 1 <= h.best_epoch <= 2
    leaves = jax.tree_util.tree_leaves(eqx.filter(res.model, eqx.is_inexact_array))
    assert all(np.all(np.isfinite(np.asarray(v))) for v in leaves)
    with pytest.raises(TrainingError, match="epoch 3") as err:
        fit(
            model,
            x,
            y,
            key=getkey(),
            epochs=10,
            optimiser=opt,
            progress=False,
            on_nonfinite="raise",
        )
    assert err.value.result.history.stop_epoch == 3


def test_early_stopping_and_callbacks(getkey):
    x, y = _data(getkey())
    model = _student(getkey())
    res = fit(
        model,
        x,
        y,
        key=getkey(),
        epochs=10,
        patience=2,
        progress=False,
        optimiser=paper_optimiser(optax.constant_schedule(0.0), weight_decay=0.0),
    )
    assert res.stop_reason == "early stopping" and res.epochs_run == 2 and res.best_epoch == 0
    seen = []

    def cb(epoch, m, history):
        seen.append((epoch, float(m.alpha_s[0]), history.epochs_run))
        return epoch == 2

    res = fit(model, x, y, key=getkey(), epochs=10, callbacks=[cb], progress=False)
    assert [s[0] for s in seen] == [1, 2] and [s[2] for s in seen] == [1, 2]
    assert res.stop_reason == "callback" and res.epochs_run == 2
    assert np.isclose(seen[-1][1], float(res.final_model.alpha_s[0]))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda x, y: (x[0], y), r"inputs: got shape \(8, 2\) \(rank 2\), expected rank 3"),
        (
            lambda x, y: (x, y[:-1]),
            r"targets: got shape \(11, 8, 2\), but inputs have shape \(12, 8, 2\)",
        ),
        (
            lambda x, y: (x, y[:, :-1]),
            r"targets: got shape \(12, 7, 2\).*same sequences S and time steps T",
        ),
        (
            lambda x, y: (x, np.where(np.arange(12)[:, None, None] == 3, np.nan, y)),
            r"targets: shape \(12, 8, 2\) holds 16 non-finite values \(first at index \(3, 0, 0\)\)",
        ),
        (
            lambda x, y: (x[..., :1], y),
            r"inputs: got shape \(12, 8, 1\), last axis 1; the model expects n_in = 2",
        ),
        (lambda x, y: (x[:1], y[:1]), r"training split: empty|validation split: empty"),
    ],
)
def test_bad_data_refused_before_compiling(getkey, change, match):
    x, y = _data(getkey())
    before = TRACES["epoch"]
    with pytest.raises(InputError, match=match):
        fit(_student(getkey()), *change(x, y), key=getkey(), epochs=1, progress=False)
    assert TRACES["epoch"] == before


def test_bad_options_and_mask(getkey):
    x, y = _data(getkey())
    with pytest.raises(InputError, match="validation split: empty"):
        make_train_data(x, y, val_fraction=0.0)
    with pytest.raises(InputError, match=r"mask: got shape \(12, 8, 1\)"):
        make_train_data(x, y, np.ones((12, 8, 1)))
    with pytest.raises(InputError, match="batch_size: got 11"):
        fit(_student(getkey()), x, y, key=getkey(), epochs=1, batch_size=11, progress=False)
    # a mask of zeros on the second output makes the fit blind to it
    m = np.ones_like(y)
    m[..., 1] = 0
    y2 = y.copy()
    y2[..., 1] = 1e3
    model, key = _student(getkey()), getkey()
    a = fit(model, x, y, m, key=key, epochs=1, progress=False)
    b = fit(model, x, y2, m, key=key, epochs=1, progress=False)
    assert tree_allclose(a.final_model, b.final_model, rtol=0, atol=0)
