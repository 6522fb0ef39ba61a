"""The time-constant maths in one place (`adaptive_rnn._params`): forward and inverse
conversions of each parametrisation, `with_tau` / `with_alpha` (also traced), the one
bound check `check_stable_alpha`, and an initial alpha that reaches its parameter through
one conversion."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adaptive_rnn as ar
from adaptive_rnn._params import (
    SIGMOID_SLOPE,
    FixedTau,
    SigmoidRate,
    SoftplusTau,
    alpha_limit,
    check_stable_alpha,
    make_time_constant,
)
from adaptive_rnn.analysis._identifiability import swap_time_constants
from adaptive_rnn.recipes._sweep_config import set_alpha


def _tc(mode, parametrisation, n=4, dt=1.0, tau_min=1.0, **init):
    return make_time_constant(
        name="tau",
        mode=mode,
        parametrisation=parametrisation,
        n=n,
        dt=dt,
        tau_min=tau_min,
        dtype=jnp.float64,
        **init or {"alpha": 0.5},
    )


def test_inverse_conversions_invert_the_forward_ones():
    w = np.linspace(-12.0, 12.0, 49)
    alpha = np.asarray(jax.nn.sigmoid(SIGMOID_SLOPE * w))
    # logit(sigmoid(x)) loses digits as sigmoid(x) nears 1 (1 - alpha cancels): relative
    # error ~ eps / (1 - alpha), at most ~1e-8 here, so 1e-7 absolute on w.
    np.testing.assert_allclose(SigmoidRate.w_from_alpha(alpha), w, rtol=0, atol=1e-7)
    theta = np.linspace(-20.0, 60.0, 81)
    tau = 0.5 + np.asarray(jax.nn.softplus(theta))
    # Stable for large theta (tau - tau_min = theta there), to a few ulps of tau.
    np.testing.assert_allclose(SoftplusTau.theta_from_tau(tau, 0.5), theta, rtol=1e-9, atol=1e-9)
    assert FixedTau(jnp.ones(1)).raw_from_tau(3.0) == 3.0


@pytest.mark.parametrize("mode", ["static", "global", "local"])
@pytest.mark.parametrize("parametrisation", ["sigmoid", "softplus"])
def test_with_tau_and_with_alpha_round_trip(mode, parametrisation):
    dt = 0.5
    tc = _tc(mode, parametrisation, dt=dt, tau_min=dt, alpha=0.3)
    k = tc.raw().shape[0]
    tau = np.linspace(0.7, 3.0, k)
    new = tc.with_tau(tau, name="tau_s")
    assert (
        type(new) is type(tc)
        and new.raw().shape == tc.raw().shape
        and new.raw().dtype == jnp.float64
    )
    # Two conversions (raw from tau, tau from raw) in float64: a few ulps.
    np.testing.assert_allclose(new.tau(), tau, rtol=1e-14)
    alpha = dt / tau
    np.testing.assert_allclose(tc.with_alpha(alpha, dt).alpha(dt), alpha, rtol=1e-14)
    # A rate constant given for another step (dt = 0.25): the same time constants.
    np.testing.assert_allclose(tc.with_alpha(0.25 / tau, 0.25).tau(), tau, rtol=1e-14)


def test_with_alpha_is_traceable_and_matches_numpy():
    tc = _tc("local", "sigmoid", n=3)
    alphas = jnp.asarray([[0.1, 0.5, 0.9], [0.2, 0.3, 0.4]])
    traced = jax.jit(jax.vmap(lambda a: tc.with_alpha(a, 1.0).raw()))(alphas)
    concrete = np.stack([np.asarray(tc.with_alpha(np.asarray(a), 1.0).raw()) for a in alphas])
    # jnp vs NumPy logit of the same float64 values (different programs): 1e-14.
    np.testing.assert_allclose(traced, concrete, rtol=1e-14, atol=1e-15)
    # set_alpha (sweeps) is with_alpha.
    np.testing.assert_array_equal(set_alpha(tc, np.asarray(alphas[0]), 1.0).raw(), concrete[0])


def test_initial_alpha_reaches_its_parameter_in_one_conversion(getkey):
    # 0.45 is one of the alphas for which the old path alpha -> tau = dt/alpha -> alpha =
    # dt/tau gave 0.44999999999999996, and so a w one ulp or two off logit(0.45)/1.5.
    model = ar.ARU(2, 3, 1, alpha_s=0.45, alpha_r=0.38, dtype=jnp.float64, key=getkey())
    assert float(model.layers[0].tau_s.w[0]) == np.log(0.45 / 0.55) / SIGMOID_SLOPE
    assert float(model.layers[0].tau_r.w[0]) == np.log(0.38 / 0.62) / SIGMOID_SLOPE
    # A fixed time constant stores tau = dt / alpha (its one conversion).
    fixed = ar.ARU(2, 3, 1, time_constants="static", alpha_s=0.45, dtype=jnp.float64, key=getkey())
    assert float(fixed.layers[0].tau_s.value[0]) == 1 / 0.45


def test_alpha_limit():
    assert alpha_limit("static", "sigmoid", dt=1.0, tau_min=1.0) == 2.0
    assert alpha_limit("global", "sigmoid", dt=1.0, tau_min=0.1) == 1.0
    assert alpha_limit("local", "softplus", dt=1.0, tau_min=1.0) == 1.0
    assert alpha_limit("local", "softplus", dt=1.0, tau_min=0.8) == 1.25
    assert alpha_limit("global", "softplus", dt=1.0, tau_min=0.1) == 2.0


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (
            dict(alpha=2.0),
            r"tau: alpha = dt/tau reaches 2 >= 2 at dt = 1.0; explicit Euler diverges",
        ),
        (
            dict(alpha=1.0, mode="global"),
            r"sigmoid parametrisation keeps alpha = dt/tau in \(0, 1\), got alpha 1 "
            r"\(expected tau > dt = 1\)",
        ),
        (
            dict(tau=1.0, mode="local", parametrisation="softplus"),
            r"softplus .* tau > tau_min = 1.0, got tau 1$",
        ),
        (
            dict(tau=0.4, mode="global", parametrisation="softplus", tau_min=0.1),
            r"alpha = dt/tau reaches 2.5 >= 2",
        ),
    ],
)
def test_check_stable_alpha_refuses(kwargs, match):
    with pytest.raises(ar.InputError, match=match):
        check_stable_alpha("tau", dt=1.0, **kwargs)


def test_check_stable_alpha_accepts_just_below_the_bound():
    below = np.nextafter(2.0, 0.0)
    check_stable_alpha("tau", alpha=below, dt=1.0)
    check_stable_alpha("tau", alpha=np.nextafter(1.0, 0.0), dt=1.0, mode="global")
    check_stable_alpha(
        "tau", tau=np.nextafter(1.0, 2.0), dt=1.0, mode="local", parametrisation="softplus"
    )


def test_every_family_refuses_alpha_2_with_the_same_message(getkey):
    msg = r"alpha = dt/tau reaches 2 >= 2 at dt = 1.0; explicit Euler diverges there"
    with pytest.raises(ar.InputError, match="tau_s: " + msg):
        ar.ARU(2, 3, 1, time_constants="static", alpha_s=2.0, key=getkey())
    with pytest.raises(ar.InputError, match="tau: " + msg):
        ar.CTRNN(2, 3, 1, alpha=2.0, key=getkey())


def test_with_tau_refuses_what_the_parametrisation_cannot_hold():
    with pytest.raises(
        ar.InputError, match=r"tau_r: the sigmoid parametrisation .* got alpha 1.25"
    ):
        _tc("global", "sigmoid").with_tau(0.8, name="tau_r")
    with pytest.raises(
        ar.InputError, match=r"tau_s: the softplus parametrisation keeps tau > tau_min = 1.0"
    ):
        _tc("global", "softplus").with_tau(1.0, name="tau_s")
    with pytest.raises(ar.InputError, match=r"tau_s: tau must be positive and finite, got -1"):
        _tc("static", "sigmoid").with_tau(-1.0, name="tau_s")
    with pytest.raises(ar.InputError, match="differ across neurons"):
        _tc("global", "sigmoid").with_tau(np.array([2.0, 3.0, 2.0, 2.0]))
    # n equal values into a time constant of shape (1,) are one value.
    assert _tc("global", "sigmoid").with_tau(np.full(4, 2.0)).raw().shape == (1,)


def test_swap_uses_the_same_conversions(getkey):
    # Static tau_s, softplus tau_r: the swap converts each value into the other's leaf.
    model = ar.ARU(
        2,
        3,
        1,
        time_constants=("static", "local"),
        parametrisation="softplus",
        tau_s=np.array([2.0, 3.0, 4.0]),
        tau_r=np.array([1.5, 2.5, 3.5]),
        dtype=jnp.float64,
        key=getkey(),
    )
    sw = swap_time_constants(model)
    np.testing.assert_array_equal(sw.layers[0].tau_s.value, model.tau_r)
    np.testing.assert_array_equal(
        sw.layers[0].tau_r.raw(), SoftplusTau.theta_from_tau(np.asarray(model.tau_s), 1.0)
    )
