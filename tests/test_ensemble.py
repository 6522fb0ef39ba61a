"""`fit_ensemble`: each member ends where its own `fit` ends (float64)."""

import equinox as eqx
import jax
import numpy as np
import pytest

from adaptive_rnn import ARU, InputError, simulate
from adaptive_rnn.tasks import smoothed_uniform_inputs
from adaptive_rnn.train import fit, fit_ensemble, paper_optimiser
from adaptive_rnn.train._core import TRACES

OPT = paper_optimiser(1e-2, tau_learning_rate=3e-2)


def _data(key, S=10, T=8):
    k1, k2 = jax.random.split(key)
    teacher = ARU(2, 4, 2, time_constants="static", alpha_s=0.3, alpha_r=0.7, key=k1)
    x = smoothed_uniform_inputs(k2, S, T, 2)
    return np.asarray(x), np.asarray(simulate(teacher, x).outputs)


def _maxdiff(a, b):
    la = jax.tree_util.tree_leaves(eqx.filter(a, eqx.is_array))
    lb = jax.tree_util.tree_leaves(eqx.filter(b, eqx.is_array))
    assert len(la) == len(lb)
    return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(la, lb))


def test_ensemble_of_8_equals_8_separate_fits(getkey):
    """Different seeds, fixed alpha pairs, time-constant modes and activations."""
    x, y = _data(getkey())
    mk = [getkey() for _ in range(8)]
    models = [
        ARU(2, 4, 2, alpha_s=0.8, alpha_r=0.8, key=mk[0]),
        ARU(2, 4, 2, alpha_s=0.6, alpha_r=0.4, key=mk[1]),
        ARU(2, 4, 2, alpha_s=0.5, alpha_r=0.5, key=mk[2]),
        ARU(2, 4, 2, time_constants="static", alpha_s=0.2, alpha_r=1.1, key=mk[3]),
        ARU(2, 4, 2, time_constants="static", alpha_s=0.9, alpha_r=0.3, key=mk[4]),
        ARU(2, 4, 2, time_constants="local", activation="relu", key=mk[5]),
        ARU(2, 4, 2, time_constants="local", activation="relu", alpha_s=0.3, key=mk[6]),
        ARU(2, 4, 2, alpha_s=0.7, alpha_r=0.2, key=mk[7]),
    ]
    keys = jax.random.split(getkey(), 8)
    before = TRACES["epoch"]
    ens = fit_ensemble(models, x, y, keys=keys, epochs=3, optimiser=OPT, progress=False)
    assert TRACES["epoch"] - before == 3  # three structure groups, each traced once for all epochs
    worst = 0.0
    for i, m in enumerate(models):
        alone = fit(m, x, y, key=keys[i], epochs=3, optimiser=OPT, progress=False)
        worst = max(worst, _maxdiff(ens.models[i], alone.model))
        assert ens.best_epoch[i] == alone.best_epoch
        assert np.allclose(ens.histories[i].val_loss, alone.history.val_loss, rtol=1e-10, atol=0)
        assert np.allclose(
            ens.histories[i].time_constants["alpha_s"],
            alone.history.time_constants["alpha_s"],
            rtol=0,
            atol=1e-12,
        )
    print(f"ensemble vs separate fits: max |difference| = {worst:.3g}")
    assert worst < 1e-11
    # fixed alpha pairs untouched
    assert np.array_equal(np.asarray(ens.models[3].alpha_r), np.asarray(models[3].alpha_r))


def test_stacked_models_and_per_model_data(getkey):
    mkeys = jax.random.split(getkey(), 3)
    stacked = eqx.filter_vmap(lambda k: ARU(2, 3, 2, alpha_s=0.7, alpha_r=0.6, key=k))(mkeys)
    xs, ys = zip(*[_data(getkey(), S=6) for _ in range(3)])
    xs, ys = np.stack(xs), np.stack(ys)
    keys = jax.random.split(getkey(), 3)
    ens = fit_ensemble(
        stacked, xs, ys, keys=keys, epochs=2, optimiser=OPT, progress=False, patience=1
    )
    assert ens.stacked_model is not None and ens.stacked_model.V.shape == (3, 2, 3)
    for i in range(3):
        m = ARU(2, 3, 2, alpha_s=0.7, alpha_r=0.6, key=mkeys[i])
        alone = fit(
            m, xs[i], ys[i], key=keys[i], epochs=2, optimiser=OPT, progress=False, patience=1
        )
        assert _maxdiff(ens.models[i], alone.model) < 1e-12
        assert ens.epochs_run[i] == alone.epochs_run
        assert ens.histories[i].stop_reason == alone.stop_reason
    with pytest.raises(InputError, match="per-model data with 3 datasets, expected M = 2"):
        fit_ensemble([ARU(2, 3, 2, key=k) for k in mkeys[:2]], xs, ys, key=getkey(), epochs=1)
    with pytest.raises(InputError, match=r"targets: got shape \(3, 5, 8, 2\)"):
        fit_ensemble(stacked, xs, ys[:, :5], key=getkey(), epochs=1)
