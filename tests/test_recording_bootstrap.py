"""The bootstrap of fit_recording: the bias-corrected normal interval (its formula and its
coverage where its assumptions hold exactly), and the responses simulated for the
parametric refits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from adaptive_rnn import InputError
from adaptive_rnn.recipes import bootstrap_intervals
from adaptive_rnn.recipes._bootstrap import simulate_responses


def test_normal_interval_formula():
    rng = np.random.default_rng(1)
    ts = np.exp(rng.normal(np.log(18.0), 0.05, (9, 2)))
    tr = np.exp(rng.normal(np.log(45.0), 0.08, (9, 2)))
    point = (np.array([20.0, 21.0]), np.array([50.0, 48.0]))
    _, ci, _ = bootstrap_intervals(ts, tr, 0.9, point=point, method="normal")
    # by hand: 2 log(point) - mean(log refits) -/+ t_{8, 0.95} sd sqrt(1 + 1/9)
    t = scipy.stats.t.ppf(0.95, 8) * np.sqrt(1 + 1 / 9)
    for name, v, p in (
        ("tau_s_ms", ts, point[0]),
        ("tau_r_ms", tr, point[1]),
        ("tau_prod_ms2", ts * tr, point[0] * point[1]),
    ):
        u = np.log(v)
        mid = 2 * np.log(p) - u.mean(0)
        half = t * u.std(0, ddof=1)
        np.testing.assert_allclose(ci[name][:, 0], np.exp(mid - half), rtol=1e-13)
        np.testing.assert_allclose(ci[name][:, 1], np.exp(mid + half), rtol=1e-13)
    # refits biased low by ~10 %: the interval sits above the point estimate's log
    # reflection of them, i.e. mostly above the point estimate
    assert np.all(ci["tau_s_ms"].mean(1) > point[0])
    with pytest.raises(InputError, match="point: missing; the normal interval"):
        bootstrap_intervals(ts, tr)
    with pytest.raises(InputError, match="non-positive refit"):
        bootstrap_intervals(-ts, tr, point=point)


@pytest.mark.parametrize("B", [9, 19])
def test_normal_interval_covers_a_biased_estimator(B):
    """Where the bootstrap's assumption holds exactly (the log error of the estimator has
    the same normal law around the truth as the refits' around the estimate: bias 8 %,
    spread 5 %), the normal interval covers 95 % of the time; the percentile interval,
    which ignores the bias, far less, and the basic interval (extreme quantiles of B
    values) somewhat less."""
    rng = np.random.default_rng(7)
    n, bias, sd, truth = 4000, -0.08, 0.05, 20.0
    est = truth * np.exp(bias + sd * rng.standard_normal(n))
    refits = est[:, None] * np.exp(bias + sd * rng.standard_normal((n, B)))
    covered = {}
    for method in ("normal", "basic", "percentile"):
        # the n draws side by side, as n units of one call (each unit's interval uses
        # only its own column and point)
        _, ci, _ = bootstrap_intervals(
            refits.T, 2.5 * refits.T, point=(est, 2.5 * est), method=method
        )
        lo, hi = ci["tau_s_ms"][:, 0], ci["tau_s_ms"][:, 1]
        covered[method] = float(np.mean((lo <= truth) & (truth <= hi)))
    # one draw alone gives its column's interval
    _, one, _ = bootstrap_intervals(
        refits[5, :, None], 2.5 * refits[5, :, None], point=(est[5], 2.5 * est[5])
    )
    _, all_, _ = bootstrap_intervals(refits.T, 2.5 * refits.T, point=(est, 2.5 * est))
    np.testing.assert_allclose(one["tau_s_ms"][0], all_["tau_s_ms"][5], rtol=1e-14)
    # binomial standard error of a 95 % coverage over 4000 draws: 0.0034
    assert abs(covered["normal"] - 0.95) < 0.015, covered
    assert covered["percentile"] < 0.5, covered
    assert covered["basic"] < covered["normal"] - 0.02, covered


def test_simulated_poisson_responses(getkey):
    outputs = jnp.asarray(np.linspace(-5.0, 80.0, 2 * 6 * 3).reshape(2, 6, 3))
    mask = np.ones((2, 6, 3))
    mask[0, :2] = 0.0  # unobserved bins come out zero
    y = simulate_responses(
        getkey(), outputs, np.zeros((2, 6, 3)), mask, 4000, loss="poisson", bin_ms=5.0
    )
    assert y.shape == (4000, 2, 6, 3)
    assert np.all(np.asarray(y)[:, 0, :2] == 0)
    mu = np.asarray(jax.nn.softplus(outputs)) * 5.0 / 1000.0 * mask
    got = np.asarray(y).mean(0)
    # the mean of 4000 Poisson draws: within 5 standard errors
    se = np.sqrt(np.maximum(mu, 1e-12) / 4000)
    assert np.all(np.abs(got - mu) <= 5 * se + 1e-12)
    assert np.all(np.asarray(y) == np.round(np.asarray(y))) and np.all(np.asarray(y) >= 0)


def test_simulated_gaussian_responses(getkey):
    outputs = jnp.asarray(np.random.default_rng(0).normal(size=(20, 30, 2)))
    resid = np.random.default_rng(1).normal(size=(20, 30, 2)) * np.array([0.5, 2.0])
    mask = np.ones((20, 30, 2))
    y = simulate_responses(
        getkey(), outputs, np.asarray(outputs) + resid, mask, 50, loss="gaussian"
    )
    noise = np.asarray(y) - np.asarray(outputs)
    expected = np.sqrt((resid**2).mean(axis=(0, 1)))  # each channel's rms residual
    # 50 x 600 draws per channel: relative standard error of an sd about 0.4 %
    np.testing.assert_allclose(noise.std(axis=(0, 1, 2)), expected, rtol=0.02)
