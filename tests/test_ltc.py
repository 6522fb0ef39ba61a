"""The liquid time-constant network (LTC): its ODE against SciPy, its discrete model
against a NumPy loop of ncps's semi-implicit update, and the library around it (fit,
sweeps, fixed points, files, the command line) with no code of its own."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import adaptive_rnn as ar
from adaptive_rnn import InputError, load_model, save_model, simulate, solve
from adaptive_rnn.models import FAMILIES, LTC
from adaptive_rnn.models._common import unwrap
from adaptive_rnn.tasks import smoothed_uniform_inputs


def _model(key, **kw):
    n = 5
    mask = np.ones((n, n))
    mask[0, 3] = mask[2, 2] = mask[4, 1] = 0
    sensory_mask = np.ones((n, 3))
    sensory_mask[1, 0] = 0
    dense = kw.get("output_mapping") == "dense"
    kw = {
        "dt": 0.5,
        "ode_unfolds": 3,
        "input_w": [1.2, 0.8, -0.5],
        "input_b": [0.1, -0.2, 0.05],
        "output_w": np.linspace(-1, 1, 2 * n).reshape(2, n) if dense else [1.5, -0.7],
        "output_b": [0.3, -0.1],
        **kw,
    }
    if kw.get("input_mapping") == "none":
        kw["input_w"] = kw["input_b"] = None
    return LTC(
        3,
        n,
        2,
        mask=mask,
        sensory_mask=sensory_mask,
        initial_state=np.linspace(-0.2, 0.3, n),
        key=key,
        **kw,
    )


def _numpy_params(m):
    """The model's parameters as plain NumPy arrays (`[post, pre]`, masks applied)."""
    f = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    return dict(
        gl=f(m.gleak),
        vl=f(m.vleak),
        cm=f(m.cm),
        w=f(m.w),
        s=f(m.sigma),
        mu=f(m.mu),
        E=f(m.erev),
        sw=f(m.sensory_w),
        ss=f(m.sensory_sigma),
        smu=f(m.sensory_mu),
        sE=f(m.sensory_erev),
        iw=f(unwrap(m.input_w)),
        ib=f(unwrap(m.input_b)),
        Wo=f(m.W_out.effective()),
        bo=f(unwrap(m.b_out)),
        v0=f(unwrap(m.v0)),
    )


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _conductances(P, v, x):
    """Recurrent and sensory conductances g[i, j], written out from the equations."""
    g = P["w"] * _sig(P["s"] * (v[None, :] - P["mu"]))
    xt = P["iw"] * x + P["ib"]
    gs = P["sw"] * _sig(P["ss"] * (xt[None, :] - P["smu"]))
    return g, gs


def _rhs(P, v, x):
    g, gs = _conductances(P, v, x)
    I = (
        P["gl"] * (P["vl"] - v)
        + np.sum(g * (P["E"] - v[:, None]), 1)
        + np.sum(gs * (P["sE"] - v[:, None]), 1)
    )
    return I / P["cm"]


def test_continuous_path_matches_scipy(getkey):
    """`solve` (Tsit5, rtol 1e-12) = SciPy's DOP853 (rtol 1e-12) on the ODE written
    independently, interval by interval of the piecewise-linear input, to 1e-8."""
    m = _model(getkey())
    T, dt = 8, m.dt
    x = np.asarray(smoothed_uniform_inputs(getkey(), 1, T, 3))[0]
    tr = solve(
        m,
        x,
        solver=diffrax.Tsit5(),
        return_states=True,
        max_steps=20000,
        stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-13),
    )
    P = _numpy_params(m)
    ts = dt * np.arange(T + 1)
    xs = np.concatenate([x, x[-1:]])  # the last sample is held over the last step
    v = P["v0"]
    ref = []
    for k in range(T):

        def f(t, v, k=k):
            a = (t - ts[k]) / dt
            return _rhs(P, v, (1 - a) * xs[k] + a * xs[k + 1])

        v = solve_ivp(f, (ts[k], ts[k + 1]), v, method="DOP853", rtol=1e-12, atol=1e-13).y[:, -1]
        ref.append(v)
    ref = np.array(ref)
    np.testing.assert_allclose(np.asarray(tr.states["v"]), ref, rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.asarray(tr.outputs), ref @ P["Wo"].T + P["bo"], rtol=0, atol=1e-8)


def _numpy_discrete(P, x, dt, unfolds, eps):
    v = P["v0"].copy()
    vs = []
    h = dt / unfolds
    for xk in x:
        for _ in range(unfolds):
            g, gs = _conductances(P, v, xk)
            num = P["cm"] / h * v + P["gl"] * P["vl"] + (g * P["E"]).sum(1) + (gs * P["sE"]).sum(1)
            den = P["cm"] / h + P["gl"] + g.sum(1) + gs.sum(1) + eps
            v = num / den
        vs.append(v)
    return np.array(vs)


@pytest.mark.parametrize("positivity", ["softplus", "clip"])
def test_discrete_path_is_the_semi_implicit_update(getkey, positivity):
    """`simulate` = a NumPy loop of ncps's fused update (float64, 1e-12), at a dt where
    explicit Euler would diverge; lagged readout and batches follow the library's rules."""
    m = _model(getkey(), dt=2.0, positivity=positivity)
    assert 2.0 > 2 * float(m.min_time_constant(m.resolve()))  # explicit Euler would be unstable
    x = np.asarray(smoothed_uniform_inputs(getkey(), 2, 15, 3))
    tr = simulate(m, x, return_states=True)
    P = _numpy_params(m)
    for b in range(2):
        ref = _numpy_discrete(P, x[b], 2.0, 3, 1e-8)
        np.testing.assert_allclose(np.asarray(tr.states["v"][b]), ref, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(
            np.asarray(tr.outputs[b]), ref @ P["Wo"].T + P["bo"], rtol=1e-12, atol=1e-13
        )
    # The same step is explicit Euler's in `solve` (SequentialEuler): refused there.
    with pytest.raises(ar.UnstableStepError):
        solve(m, x[0])


def test_discrete_model_converges_to_the_ode(getkey):
    """More unfolds per step -> the ODE with the input held over each step, at first order."""
    key = getkey()
    m = _model(key, dt=0.4)
    x = np.asarray(smoothed_uniform_inputs(getkey(), 1, 10, 3))[0]
    ref = np.asarray(
        solve(
            m,
            x,
            solver=diffrax.Tsit5(),
            interpolation="hold",
            max_steps=20000,
            stepsize_controller=diffrax.PIDController(rtol=1e-11, atol=1e-12),
            return_states=True,
        ).states["v"]
    )
    errs = []
    for k in (4, 16, 64):
        mk = _model(key, dt=0.4, ode_unfolds=k)  # the same parameters (the key), k unfolds
        errs.append(
            np.max(np.abs(np.asarray(simulate(mk, x, return_states=True).states["v"]) - ref))
        )
    # first order: the slope of log(error) against log(h) is 1 (h = dt / unfolds)
    slopes = np.log(np.array(errs[:-1]) / np.array(errs[1:])) / np.log(4.0)
    assert np.all((slopes > 0.9) & (slopes < 1.1)), (errs, slopes)


def test_field_fixed_point_and_linearisation(getkey):
    """`find_fixed_points` finds the zero of the field under a constant input; the long
    discrete run settles on it; the Jacobian matches finite differences of the NumPy ODE."""
    m = _model(
        getkey(), dt=0.5, epsilon=0.0
    )  # epsilon > 0 would shift the discrete model's rest by ~epsilon
    x = np.array([0.3, 0.6, 0.2])
    fps = ar.analysis.find_fixed_points(m, x, key=getkey(), n_init=8, n_steps=50)
    assert len(fps) >= 1 and bool(fps.is_fixed[0])
    P = _numpy_params(m)
    v_star = fps.points[0]
    assert np.max(np.abs(_rhs(P, v_star, x))) < 1e-10
    settled = np.asarray(simulate(m, np.tile(x, (1000, 1)), return_states=True).states["v"][-1])
    assert np.max(np.abs(settled - v_star)) < 1e-10 and bool(fps.stable[0])
    eps = 1e-6
    J = np.stack(
        [
            (_rhs(P, v_star + eps * e, x) - _rhs(P, v_star - eps * e, x)) / (2 * eps)
            for e in np.eye(5)
        ],
        1,
    )
    np.testing.assert_allclose(fps.jacobians[0], J, rtol=1e-6, atol=1e-7)


def test_fit_lowers_the_loss_and_keeps_constraints(getkey):
    teacher = _model(getkey(), dt=0.5)
    x = np.asarray(smoothed_uniform_inputs(getkey(), 10, 12, 3))
    y = np.asarray(simulate(teacher, x).outputs)
    for positivity in ("softplus", "clip"):
        student = _model(getkey(), dt=0.5, positivity=positivity)
        res = ar.train.fit(
            student,
            x,
            y,
            key=getkey(),
            epochs=4,
            progress=False,
            optimiser=ar.train.paper_optimiser(learning_rate=3e-2),
        )
        h = res.history
        assert h.val_loss[-1] < 0.7 * h.initial_val_loss, (
            positivity,
            h.val_loss,
            h.initial_val_loss,
        )
        m = res.final_model
        for name in ("gleak", "cm", "w", "sensory_w"):
            assert float(jnp.min(getattr(m, name))) >= 0.0  # softplus or clipped after each step
        assert np.array_equal(
            np.asarray(m.mask.value), np.asarray(student.mask.value)
        )  # masks never train
        assert set(h.time_constants) == {"tau_leak", "tau_min"}


def test_sweep_over_a_parameter(getkey):
    key = getkey()
    x = smoothed_uniform_inputs(getkey(), 2, 10, 3)

    def build(point, key):
        with jax.ensure_compile_time_eval():  # the constructor checks concrete values
            m = _model(key)
        # the leak conductance as a traced sweep parameter (softplus^{-1} of it)
        raw = jnp.log(jnp.expm1(point["gleak"])) * jnp.ones_like(m.gleak_raw)
        return eqx.tree_at(lambda mm: mm.gleak_raw, m, raw)

    ds = ar.train.sweep(
        {"gleak": [0.2, 0.8, 1.6]},
        lambda p, k: {"y": simulate(build(p, k), x).outputs[:, -1, 0]},
        key=key,
        progress=False,
    )
    assert bool(ds["success"].all()) and ds["y"].shape == (3, 2)
    for g in (0.2, 1.6):
        alone = _model(key, gleak=g)
        ref = np.asarray(simulate(alone, x).outputs[:, -1, 0])
        np.testing.assert_allclose(ds["y"].sel(gleak=g).values, ref, rtol=1e-12, atol=1e-14)
    # a leakier unit forgets faster: the outputs differ across the grid
    assert not np.allclose(ds["y"].sel(gleak=0.2).values, ds["y"].sel(gleak=1.6).values)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {
            "positivity": "clip",
            "output_mapping": "dense",
            "learn_initial_state": True,
            "input_mapping": "none",
            "readout": "lagged",
        },
    ],
)
def test_save_load_round_trip(getkey, tmp_path, kw):
    m = _model(getkey(), **kw)
    save_model(tmp_path / "m", m)
    back = load_model(tmp_path / "m")
    assert type(back) is LTC and back.config() == m.config()
    assert all(
        np.array_equal(a, b)
        for a, b in zip(jax.tree_util.tree_leaves(m), jax.tree_util.tree_leaves(back))
    )
    x = np.asarray(smoothed_uniform_inputs(getkey(), 1, 8, 3))[0]
    assert np.array_equal(np.asarray(simulate(m, x).outputs), np.asarray(simulate(back, x).outputs))


def test_registered_and_on_the_command_line(tmp_path):
    from adaptive_rnn.cli import main

    assert FAMILIES["ltc"] is LTC
    out, folder = tmp_path / "y.npz", tmp_path / "model"
    assert (
        main(
            [
                "simulate",
                "--random",
                "ltc",
                "--hidden",
                "4",
                "--n-out",
                "2",
                "--random-inputs",
                "2,9",
                "--out",
                str(out),
                "--save-model",
                str(folder),
            ]
        )
        == 0
    )
    y = np.load(out)
    assert (
        y["outputs"].shape == (2, 9, 2) and y["state_v"].shape == (2, 9, 4) and "state_tau_rec" in y
    )
    assert type(load_model(folder)) is LTC
    out2 = tmp_path / "y2.npz"
    assert (
        main(
            [
                "simulate",
                str(folder),
                "--random-inputs",
                "1,9",
                "--solver",
                "tsit5",
                "--rtol",
                "1e-6",
                "--out",
                str(out2),
            ]
        )
        == 0
    )
    assert np.all(np.isfinite(np.load(out2)["outputs"]))


def test_derived_time_constants(getkey):
    m = _model(getkey())
    x = np.asarray(smoothed_uniform_inputs(getkey(), 1, 10, 3))[0]
    tr = simulate(m, x, return_states=True)
    tau = np.asarray(tr.states["tau_rec"])
    tc = {k: np.asarray(v) for k, v in m.time_constants().items()}
    assert tau.shape == (10, 5)
    assert np.all(tau <= tc["tau_leak"] * (1 + 1e-12)) and np.all(tau >= tc["tau_min"])


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"gleak": 0.0}, r"gleak: got \[0.0\], expected positive finite values"),
        ({"w": -0.1}, r"w: got \[-0.1\], expected nonnegative finite values"),
        ({"cm": np.ones(4)}, r"cm: got shape \(4,\), expected a scalar or shape \(5,\)"),
        ({"mask": np.full((5, 5), 0.5)}, r"mask: got non-binary values \[0.5\]"),
        ({"positivity": "softplsu"}, r"positivity: got 'softplsu'.*softplus"),
        ({"activation": "tanh"}, r"activation: got 'tanh'.*sigmoid"),
        ({"ode_unfolds": 0}, r"ode_unfolds"),
        ({"n_out": 6}, r"n_out: got 6 with output_mapping='affine'.*n_out <= n_hidden = 5"),
    ],
)
def test_bad_arguments(kw, match):
    kw = dict(kw)
    n_out = kw.pop("n_out", 2)
    with pytest.raises(InputError, match=match):
        LTC(3, 5, n_out, key=jax.random.key(0), **kw)


def test_projection_clips_only_in_clip_mode(getkey):
    """`projected()` (the trainers' hook) clips gleak, cm, w, sensory_w at 0 with
    positivity="clip", as ncps's apply_weight_constraints; softplus needs no clipping."""
    for positivity in ("clip", "softplus"):
        m = _model(getkey(), positivity=positivity)
        neg = eqx.tree_at(lambda mm: (mm.w_raw, mm.cm_raw), m, (-jnp.abs(m.w_raw), m.cm_raw - 10.0))
        p = ar.project(neg)
        if positivity == "clip":
            assert float(jnp.min(p.w_raw)) == 0.0 and float(jnp.min(p.cm_raw)) == 0.0
            kept = np.asarray(neg.sigma)  # unconstrained parameters are untouched
            assert np.array_equal(np.asarray(p.sigma), kept)
        else:
            assert np.array_equal(np.asarray(p.w_raw), np.asarray(neg.w_raw))
        assert np.array_equal(np.asarray(ar.project(p).w_raw), np.asarray(p.w_raw))  # idempotent
