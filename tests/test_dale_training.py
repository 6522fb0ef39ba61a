"""Dale's law and connectivity masks hold through every trainer.

Every family with Dale's law (single-layer ARU, CTRNN, shunting) x every sign mode
("abs", "rectify", "project") x every trainer (`fit`, `fit_ensemble`, and `fit_scan` under
`jit` + `vmap`, as sweeps run it), at a high learning rate (0.05) for a few epochs: the
effective recurrent weights keep the sign of their presynaptic unit, masked weights stay
exactly zero, and the readout of inhibitory units stays zero. (`train_on_task` trains with
`fit`.) With `"project"` the trainers must project after every optimiser step: without
that, this training leaves excitatory weights negative and inhibitory ones positive.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adaptive_rnn as ar
from adaptive_rnn.train import make_train_data

FAMILIES = ("aru", "ctrnn", "shunting")
MODES = ("abs", "rectify", "project")
COMBOS = [(f, m) for f in FAMILIES for m in MODES]
IDS = [f"{f}-{m}" for f, m in COMBOS]
EI = [1, 1, 1, 1, -1, -1]
SIGNS = np.asarray(EI, dtype=float)
N, N_IN, N_OUT = len(EI), 2, 1
LR, EPOCHS, BATCH = 0.05, 5, 2
# A random sparsity mask for the CTRNN and shunting model (the ARU only masks its
# diagonal); self-connections are off as well.
REC_MASK = (np.asarray(jax.random.uniform(jax.random.key(5), (N, N))) < 0.7).astype(float)
OPT = ar.paper_optimiser(LR)


def _build(family, mode, key):
    kw = dict(dale=mode, ei=EI, self_connections=False, readout_excitatory_only=True, key=key)
    if family == "aru":
        return ar.ARU(N_IN, N, N_OUT, **kw)
    if family == "ctrnn":
        return ar.CTRNN(N_IN, N, N_OUT, alpha=0.5, masks={"rec": REC_MASK}, **kw)
    return ar.Shunting(N_IN, N, N_OUT, dt=0.5, masks={"rec": REC_MASK}, **kw)


def _rec_mask(family):
    no_self = 1 - np.eye(N)
    return no_self if family == "aru" else REC_MASK * no_self


def _effective(model):
    """Effective recurrent and readout matrices, as the dynamics use them."""
    if isinstance(model, ar.ARU):
        r = model.resolve()
        return np.asarray(r.layers[0][0].W), np.asarray(r.V)
    return np.asarray(model.W_hid.effective()), np.asarray(model.W_out.effective())


def _raw_recurrent(model):
    return np.asarray(model.layers[0].W if isinstance(model, ar.ARU) else model.W_hid.raw)


def _check(model, family, mode, initial):
    W, V = _effective(model)
    n_bad_e = int(np.sum(W[:, SIGNS > 0] < 0))
    n_bad_i = int(np.sum(W[:, SIGNS < 0] > 0))
    assert (n_bad_e, n_bad_i) == (0, 0), (
        f"{family}/{mode}: {n_bad_e} excitatory weights negative (min "
        f"{W[:, SIGNS > 0].min():.3g}), {n_bad_i} inhibitory weights positive"
    )
    assert np.all(W[_rec_mask(family) == 0] == 0)  # masked entries stay exactly zero
    assert np.all(V[:, SIGNS < 0] == 0)  # readout from excitatory units only
    if mode == "project":  # the trained parameters themselves lie in the sign cone
        raw = _raw_recurrent(model)
        assert np.all(raw * SIGNS[None, :] >= 0)
    # Training moved the weights, so the checks above are not about the initial model.
    assert np.max(np.abs(W - _effective(initial)[0])) > 1e-2


@pytest.fixture(scope="module")
def setup():
    kx, km, kf = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(kx, (16, 10, N_IN))
    y = 0.5 * jnp.tanh(jnp.cumsum(x[..., :1] - x[..., 1:], axis=1) / 3)
    data = make_train_data(x, y, None, val_fraction=0.25)
    models = [_build(f, m, km) for f, m in COMBOS]
    return data, models, kf


@pytest.mark.parametrize("i", range(len(COMBOS)), ids=IDS)
def test_fit_keeps_dale_and_masks(setup, i):
    data, models, key = setup
    family, mode = COMBOS[i]
    r = ar.fit(
        models[i], data, key=key, epochs=EPOCHS, optimiser=OPT, batch_size=BATCH, progress=False
    )
    assert r.best_epoch >= 1
    _check(r.model, family, mode, models[i])
    _check(r.final_model, family, mode, models[i])


@pytest.fixture(scope="module")
def ensemble(setup):
    data, models, key = setup
    # All nine structures in one call: one compiled program, one vmap per structure.
    return ar.fit_ensemble(
        models,
        data,
        keys=jax.random.split(key, len(models)),
        epochs=EPOCHS,
        optimiser=OPT,
        batch_size=BATCH,
        progress=False,
    )


@pytest.mark.parametrize("i", range(len(COMBOS)), ids=IDS)
def test_fit_ensemble_keeps_dale_and_masks(setup, ensemble, i):
    assert ensemble.best_epoch[i] >= 1
    _check(ensemble.models[i], *COMBOS[i], setup[1][i])


@pytest.fixture(scope="module")
def scanned(setup):
    data, models, key = setup
    keys = jax.random.split(key, 2)

    @eqx.filter_jit
    def run(models, keys):
        # As `sweep` runs `fit_scan`: vmapped over points (here: two data orders).
        return [
            jax.vmap(
                lambda k, m=m: ar.fit_scan(
                    m, data, k, epochs=EPOCHS, optimiser=OPT, batch_size=BATCH
                )
            )(keys)
            for m in models
        ]

    return run(models, keys)


@pytest.mark.parametrize("i", range(len(COMBOS)), ids=IDS)
def test_fit_scan_keeps_dale_and_masks(setup, scanned, i):
    best, summary = scanned[i]
    assert np.all(np.asarray(summary["best_epoch"]) >= 1)
    for j in range(2):
        _check(jax.tree_util.tree_map(lambda a, j=j: a[j], best), *COMBOS[i], setup[1][i])


def test_initial_model_outside_the_cone_is_projected(setup):
    """A model whose weights left the sign cone (edited, or trained by hand without
    `project`) starts training from its projection: even with no epoch run, the returned
    model satisfies Dale's law, and the initial validation loss is the projected model's."""
    data, models, key = setup
    i = COMBOS.index(("ctrnn", "project"))
    m = models[i]
    raw = np.asarray(m.W_hid.raw)
    bad = eqx.tree_at(lambda mm: mm.W_hid.raw, m, jnp.asarray(-raw))  # every sign flipped
    assert np.sum(_effective(bad)[0] != 0) > 0
    r = ar.fit(bad, data, key=key, epochs=0, optimiser=OPT, batch_size=BATCH, progress=False)
    W = _effective(r.model)[0]
    assert np.all(W * SIGNS[None, :] >= 0) and np.all(W == 0)  # all flipped entries clamped
    expected = ar.project(bad)
    assert np.array_equal(np.asarray(expected.W_hid.raw), np.asarray(r.model.W_hid.raw))


def test_project_refuses_what_is_not_a_model():
    with pytest.raises(
        ar.InputError, match=r"model: got dict, expected an adaptive_rnn model or a Weight"
    ):
        ar.project({"W": jnp.ones((2, 2))})
