"""Dale's law, masks, frozen weights, multi-area masks: constraints hold through training."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import adaptive_rnn as ar
from adaptive_rnn._errors import InputError


def _adam_steps(model, loss, n_steps=15, lr=0.2, project=False):
    params, static = eqx.partition(model, ar.trainable_filter(model))
    opt = optax.adam(lr)
    state = opt.init(params)

    @jax.jit
    def step(params, state):
        g = jax.grad(lambda p: loss(eqx.combine(p, static)))(params)
        upd, state = opt.update(g, state, params)
        return optax.apply_updates(params, upd), state

    for _ in range(n_steps):
        params, state = step(params, state)
        if project:
            params, _ = eqx.partition(
                ar.project(eqx.combine(params, static)), ar.trainable_filter(model)
            )
    return eqx.combine(params, static)


def _W(m):
    if isinstance(m, ar.ARU):
        return m.resolve().layers[0][0].W
    return m.resolve().params.W


@pytest.mark.parametrize("family", ["ctrnn", "aru", "shunting"])
@pytest.mark.parametrize("mode", ["abs", "rectify", "project"])
def test_signs_hold_after_optimiser_steps(getkey, family, mode):
    n = 5
    kw = dict(dale=mode, ei=[1, 1, 1, -1, -1], self_connections=False, key=getkey())
    if family == "ctrnn":
        m = ar.CTRNN(2, n, 1, **kw)
    elif family == "aru":
        m = ar.ARU(2, n, 1, **kw)
    else:
        m = ar.Shunting(2, n, 1, **kw)
    s = np.array([1, 1, 1, -1, -1.0])
    loss = lambda mm: jnp.sum(s[None, :] * _W(mm)) - jnp.trace(_W(mm))  # noqa: E731
    m2 = _adam_steps(m, loss, project=(mode == "project"))
    W0, W = np.asarray(_W(m)), np.asarray(_W(m2))
    assert np.all(W[:, s > 0] >= 0) and np.all(W[:, s < 0] <= 0)
    assert np.all(np.diag(W) == 0)
    assert np.abs(W).sum() < np.abs(W0).sum()  # training did push the weights
    assert float(loss(m2)) < float(loss(m))


def test_project_mode_needs_projection(getkey):
    m = ar.CTRNN(2, 4, 1, dale="project", ei=[1, 1, -1, -1], key=getkey())
    s = np.array([1, 1, -1, -1.0])
    m2 = _adam_steps(m, lambda mm: jnp.sum(s[None, :] * _W(mm)), project=False)
    assert np.any(np.asarray(_W(m2))[:, :2] < 0)  # without project() the signs break (NN4N)
    m3 = ar.project(m2)
    W = np.asarray(_W(m3))
    assert np.all(W[:, :2] >= 0) and np.all(W[:, 2:] <= 0)


def test_masks_and_frozen_weights_survive_training(getkey):
    n, n_in, n_out = 6, 3, 2
    mask_rec = (np.asarray(jax.random.uniform(getkey(), (n, n))) < 0.5).astype(float)
    mask_in = np.ones((n, n_in))
    mask_in[:, 0] = 0
    fixed_out = np.zeros((n_out, n))
    fixed_out[0] = 1
    m = ar.CTRNN(
        n_in,
        n,
        n_out,
        masks={"rec": mask_rec, "in": mask_in},
        fixed={"out": fixed_out, "in": True},
        biases=("zero", "zero"),
        key=getkey(),
    )
    x = jax.random.normal(getkey(), (6, n_in))
    loss = lambda mm: jnp.sum((ar.simulate(mm, x).outputs - 1.0) ** 2)  # noqa: E731
    m2 = _adam_steps(m, loss, n_steps=10, lr=0.1)
    W = np.asarray(m2.W_hid.effective())
    assert np.all(W[mask_rec == 0] == 0) and np.any(W != np.asarray(m.W_hid.effective()))
    assert np.array_equal(m2.W_in.effective(), m.W_in.effective())  # wholly frozen
    Wo, Wo0 = np.asarray(m2.W_out.effective()), np.asarray(m.W_out.effective())
    assert np.array_equal(Wo[0], Wo0[0]) and not np.array_equal(Wo[1], Wo0[1])


def test_options_no_self_readout_e_nonneg_balanced(getkey):
    m = ar.CTRNN(
        3,
        10,
        2,
        dale="abs",
        e_fraction=0.7,
        self_connections=False,
        readout_excitatory_only=True,
        nonneg_input=True,
        balance=True,
        key=getkey(),
    )
    W = np.asarray(m.W_hid.effective())
    s = ar.ei_signs(10, 0.7)
    assert list(s) == [1] * 7 + [-1] * 3
    assert np.all(np.diag(W) == 0)
    assert np.allclose(W.sum(axis=1), 0, atol=1e-12)  # E/I balanced: each row sums to 0
    assert np.all(np.asarray(m.W_out.effective())[:, s < 0] == 0)
    assert np.all(np.asarray(m.W_in.effective()) >= 0)


@pytest.mark.parametrize("frac", [0.0, 1.0, 1.5, -0.2])
def test_e_fraction_outside_unit_interval(getkey, frac):
    with pytest.raises(
        InputError,
        match=rf"e_fraction: got {frac!r}, expected a number in the open interval \(0, 1\)",
    ):
        ar.CTRNN(2, 5, 1, dale="abs", e_fraction=frac, key=getkey())


def test_bad_masks(getkey):
    with pytest.raises(
        InputError, match=r"W_hid mask: got a mask of shape \(4, 4\), expected shape \(5, 5\)"
    ):
        ar.CTRNN(2, 5, 1, masks={"rec": np.ones((4, 4))}, key=getkey())
    bad = np.ones((5, 2))
    bad[0, 0] = 0.5
    with pytest.raises(
        InputError, match=r"W_in mask: got non-binary values \[0.5\].*expected only 0 and 1"
    ):
        ar.CTRNN(2, 5, 1, masks={"in": bad}, key=getkey())
    with pytest.raises(InputError, match="masks: got"):
        ar.CTRNN(2, 5, 1, masks={"hidden": np.ones((5, 5))}, key=getkey())


def test_multi_area(getkey):
    C = np.array([[1.0, 0.0], [0.5, 1.0]])  # area 0 -> area 1 only (feedforward)
    ma = ar.multi_area(
        2,
        [6, 4],
        3,
        connectivity=C,
        e_fraction=0.5,
        input_areas=[0],
        readout_areas=[1],
        readout_inhibitory=False,
        key=getkey(),
    )
    a = ma.areas
    assert ma.mask_rec[np.ix_(a == 0, a == 1)].sum() == 0  # no feedback
    assert np.all(ma.mask_rec[np.ix_(a == 0, a == 0)] == 1)
    assert 0 < ma.mask_rec[np.ix_(a == 1, a == 0)].mean() < 1
    assert np.all(ma.mask_in[a == 1] == 0) and np.all(ma.mask_in[a == 0] == 1)
    assert list(ma.signs) == [1, 1, 1, -1, -1, -1, 1, 1, -1, -1]
    assert np.all(ma.mask_out[:, (a == 0) | (ma.signs < 0)] == 0)
    m = ar.CTRNN(2, 10, 3, **ma.model_kwargs(), key=getkey())
    W = np.asarray(m.W_hid.effective())
    assert np.all(W[ma.mask_rec == 0] == 0) and np.all(W[:, ma.signs > 0] >= 0)
    ff = ar.multi_area(1, [3, 3, 3], 1, connectivity=(1.0, 0.0), key=getkey())
    assert np.array_equal(ff.mask_rec, np.kron(np.tril(np.ones((3, 3))), np.ones((3, 3))))
    with pytest.raises(InputError, match=r"connectivity: got shape \(3, 3\), expected \(2, 2\)"):
        ar.multi_area(1, [2, 2], 1, connectivity=np.ones((3, 3)), key=getkey())
    with pytest.raises(InputError, match="e_fraction"):
        ar.multi_area(1, [2, 2], 1, e_fraction=1.0, key=getkey())


def test_aru_defaults_unchanged_and_dale_round_trip(getkey, tmp_path):
    k = getkey()
    m = ar.ARU(2, 4, 1, key=k)
    assert m.dale_signs() is None and m.W_hid.signs is None and "connectivity" not in m.config()
    md = ar.ARU(2, 4, 1, dale="abs", ei=[1, 1, 1, -1], self_connections=False, key=k)
    ar.save_model(tmp_path / "a", md)
    m2 = ar.load_model(tmp_path / "a")
    x = jax.random.normal(getkey(), (5, 2))
    assert np.array_equal(ar.simulate(m2, x).outputs, ar.simulate(md, x).outputs)


def test_connectivity_plots(getkey):
    from adaptive_rnn.analysis import plot_connectivity, plot_eigenvalues, plot_weight_histograms

    ma = ar.multi_area(2, [4, 4], 1, e_fraction=0.75, key=getkey())
    m = ar.CTRNN(2, 8, 1, **ma.model_kwargs(), key=getkey())
    fig = plot_connectivity(m, areas=ma.areas, signs=ma.signs)
    img = fig.axes[0].images[0].get_array()
    assert np.allclose(img, np.asarray(m.W_hid.effective()))  # already ordered by area, E first
    assert plot_weight_histograms(m).axes[1].get_title() == "recurrent weights (non-zero)"
    ev = np.linalg.eigvals(np.asarray(m.W_hid.effective()))
    assert plot_eigenvalues(m).axes[0].get_title() == f"spectral radius {np.max(np.abs(ev)):.3g}"


def test_aru_takes_the_connectivity_options_of_every_family(getkey, tmp_path):
    # The ARU's weights are `Weight`s built by the same `build_weights` as the CTRNN's:
    # masks, frozen weights, non-negative inputs and a spectral radius work as there.
    n, n_in, n_out = 6, 3, 2
    mask_rec = (np.asarray(jax.random.uniform(getkey(), (n, n))) < 0.6).astype(float)
    kw = dict(
        masks={"rec": mask_rec},
        fixed={"in": True},
        nonneg_input=True,
        spectral_radius=0.9,
        dale="rectify",
        ei=[1, 1, 1, 1, -1, -1],
        readout_excitatory_only=True,
    )
    m = ar.ARU(n_in, n, n_out, key=getkey(), **kw)
    c = ar.CTRNN(n_in, n, n_out, key=getkey(), **kw)
    s = ar.Shunting(n_in, n, n_out, key=getkey(), **kw)
    for model in (m, c, s):
        assert model.dale == "rectify"
        W = np.asarray(model.W_hid.effective())
        assert np.all(W[mask_rec == 0] == 0) and np.all(W[:, :4] >= 0) and np.all(W[:, 4:] <= 0)
        # eigvals of a 6 x 6 float64 matrix: the radius to 1e-12.
        assert abs(ar.spectral_radius(W) - 0.9) < 1e-12
        assert isinstance(model.W_in.raw, ar.Frozen) and np.all(
            np.asarray(model.W_in.effective()) >= 0
        )
        assert np.all(np.asarray(model.W_out.effective())[:, 4:] == 0)
        np.testing.assert_array_equal(model.dale_signs(), [1, 1, 1, 1, -1, -1])
    # The effective weights are what the ARU's dynamics use.
    r = m.resolve()
    np.testing.assert_array_equal(r.layers[0][0].W, m.W_hid.effective())
    np.testing.assert_array_equal(r.U0, m.W_in.effective())
    # Saved and loaded with the same structure and values (bit for bit: same program).
    m2 = ar.load_model(ar.save_model(tmp_path / "m", m))
    assert jax.tree_util.tree_structure(m2) == jax.tree_util.tree_structure(m)
    x = jax.random.normal(getkey(), (5, n_in))
    np.testing.assert_array_equal(ar.simulate(m2, x).outputs, ar.simulate(m, x).outputs)


@pytest.mark.parametrize("family", ["aru", "ctrnn", "shunting"])
def test_an_unknown_keyword_is_named_with_every_accepted_name(getkey, family):
    # The connectivity options arrive through `**connectivity`: a misspelt keyword (of
    # the constructor's own or of the options) is refused by name, with the accepted
    # names of both, not swallowed.
    cls = {"aru": ar.ARU, "ctrnn": ar.CTRNN, "shunting": ar.Shunting}[family]
    for bad, near in (("dal", "dale"), ("activaton", "activation"), ("maskss", "masks")):
        with pytest.raises(InputError) as info:
            cls(2, 4, 1, key=getkey(), **{bad: "abs"})
        msg = str(info.value)
        assert msg.startswith(f"{cls.__name__}: unknown keyword argument '{bad}'; ")
        assert f"did you mean '{near}'?" in msg
        for name in ("'n_hidden'", "'dtype'", "'activation'", "'dale'", "'e_fraction'", "'fixed'"):
            assert name in msg
    with pytest.raises(InputError, match=r"unknown keyword arguments 'x', 'y'"):
        cls(2, 4, 1, key=getkey(), x=1, y=2)


@pytest.mark.parametrize("family", ["aru", "ctrnn", "shunting"])
def test_e_fraction_self_connections_and_balance_reach_every_family(getkey, family):
    # The options the other tests of this file do not pass to every family. Each check
    # fails if its option were dropped on the way to `build_weights`: the default
    # e_fraction (0.8) gives 4 E units of 5, autapses give a non-zero diagonal, and
    # without balance the rows of a random signed matrix do not sum to 0.
    cls = {"aru": ar.ARU, "ctrnn": ar.CTRNN, "shunting": ar.Shunting}[family]
    m = cls(2, 5, 1, dale="abs", e_fraction=0.6, self_connections=False, balance=True, key=getkey())
    np.testing.assert_array_equal(m.dale_signs(), [1, 1, 1, -1, -1])
    W = np.asarray(m.W_hid.effective())
    assert np.all(np.diag(W) == 0)
    # float64: each row's inhibitory input cancels its excitatory one to rounding
    # (entries ~0.5, so 1e-12 leaves a margin of 10^3 over float64 rounding).
    np.testing.assert_allclose(W.sum(axis=1), 0.0, rtol=0, atol=1e-12)
    assert np.all(np.abs(W[:, :3]).sum(axis=1) > 0)  # not balanced by being all zero


def test_shunting_keeps_dale_by_default_and_lifts_it_with_none(getkey):
    assert ar.Shunting(2, 4, 1, key=getkey()).dale == "abs"
    assert ar.Shunting(2, 4, 1, dale=None, key=getkey()).dale is None
    assert ar.CTRNN(2, 4, 1, key=getkey()).dale is None


def test_aru_connectivity_option_errors(getkey):
    with pytest.raises(
        InputError,
        match=r"dale: connectivity options are for a single-layer ARU, got n_hidden = \(4, 3\)",
    ):
        ar.ARU(2, (4, 3), 1, dale="abs", key=getkey())
    with pytest.raises(InputError, match=r"masks: connectivity options are for a single-layer ARU"):
        ar.ARU(2, (4, 3), 1, masks={"rec": np.ones((4, 4))}, key=getkey())
    with pytest.raises(InputError, match="readout_excitatory_only: needs Dale's law"):
        ar.ARU(2, 4, 1, readout_excitatory_only=True, key=getkey())


@pytest.mark.parametrize("family", ["aru", "ctrnn", "shunting"])
def test_every_dale_mode_starts_from_the_same_signed_weights(getkey, family):
    # The initial effective recurrent weights are |W| D in each mode; "rectify" stores
    # their magnitudes (relu of a negative raw weight would zero the inhibitory columns).
    cls = {"aru": ar.ARU, "ctrnn": ar.CTRNN, "shunting": ar.Shunting}[family]
    k = getkey()
    W = {
        mode: np.asarray(cls(2, 5, 1, dale=mode, ei=[1, 1, 1, -1, -1], key=k).W_hid.effective())
        for mode in ("abs", "rectify", "project")
    }
    assert np.all(W["abs"][:, :3] > 0) and np.all(W["abs"][:, 3:] < 0)
    np.testing.assert_array_equal(W["rectify"], W["abs"])
    np.testing.assert_array_equal(W["project"], W["abs"])
