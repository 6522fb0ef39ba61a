"""Observation models: exact negative log-likelihoods (against scipy.stats), masks,
learned noise scale, bits per spike, explained variance."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from adaptive_rnn import InputError
from adaptive_rnn._params import trainable_filter
from adaptive_rnn.train._observation import (
    GaussianObservation,
    PoissonObservation,
    bits_per_spike,
    explained_variance,
    poisson_baseline_nll,
)

BIN_MS = 20.0


def _data(seed=0, shape=(5, 30, 4)):
    rng = np.random.default_rng(seed)
    readout = rng.normal(0.0, 2.0, size=shape) + 3.0  # rates from ~0 to ~1000 Hz
    counts = rng.poisson(np.exp(readout) * BIN_MS / 1000).astype(np.float64)
    mask = rng.random(shape) > 0.2
    return readout, counts, mask


def _mu(readout, link):
    rate = np.logaddexp(0.0, readout) if link == "softplus" else np.exp(readout)
    return rate * BIN_MS / 1000  # Hz times seconds


@pytest.mark.parametrize("link", ["softplus", "exp"])
def test_poisson_nll_equals_scipy_logpmf(link):
    readout, counts, mask = _data()
    assert counts.max() >= 20 and (counts == 0).any()  # large counts and zeros both covered
    ref = -stats.poisson.logpmf(counts, _mu(readout, link))
    obs = PoissonObservation(link)
    # Float64 throughout: the only error is rounding in log, gammaln and softplus.
    per = np.asarray(obs.nll(readout, counts, bin_ms=BIN_MS, reduction="none"))
    np.testing.assert_allclose(per, ref, rtol=1e-10, atol=1e-12)
    with_nan = np.where(mask, counts, np.nan)  # masked samples may hold anything
    per_m = np.asarray(obs.nll(readout, with_nan, mask, bin_ms=BIN_MS, reduction="none"))
    np.testing.assert_allclose(per_m, np.where(mask, ref, 0.0), rtol=1e-10, atol=1e-12)
    total = float(obs.nll(readout, with_nan, mask, bin_ms=BIN_MS, reduction="sum"))
    np.testing.assert_allclose(total, ref[mask].sum(), rtol=1e-10)
    mean = float(jax.jit(lambda r: obs.nll(r, with_nan, mask, bin_ms=BIN_MS))(readout))
    np.testing.assert_allclose(mean, ref[mask].mean(), rtol=1e-10)
    # The expected count is rate (Hz) times the bin width (s).
    np.testing.assert_allclose(
        np.asarray(obs.expected_counts(readout, BIN_MS)), _mu(readout, link), rtol=1e-12
    )


@pytest.mark.parametrize("link", ["softplus", "exp"])
def test_poisson_gradient_finite_with_masked_nan(link):
    readout, counts, mask = _data(1)
    counts = np.where(mask, counts, np.nan)
    readout[0, 0, 0] = -800.0  # softplus underflows to rate 0; the sample is masked below
    mask[0, 0, 0] = False
    g = np.asarray(
        jax.grad(lambda r: PoissonObservation(link).nll(r, counts, mask, bin_ms=BIN_MS))(readout)
    )
    assert np.all(np.isfinite(g)) and np.all(g[~mask] == 0.0)


def test_gaussian_nll_equals_scipy_logpdf(getkey):
    rng = np.random.default_rng(2)
    readout, y = rng.normal(size=(3, 10, 2)), rng.normal(size=(3, 10, 2))
    mask = rng.random(y.shape) > 0.3
    fixed = GaussianObservation(sigma=0.7, learn_sigma=False)
    ref = -stats.norm.logpdf(y, readout, 0.7)
    np.testing.assert_allclose(
        np.asarray(fixed.nll(readout, y, reduction="none")), ref, rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(
        float(fixed.nll(readout, np.where(mask, y, np.nan), mask)), ref[mask].mean(), rtol=1e-12
    )
    per_unit = GaussianObservation(sigma=0.5, n_units=2)
    np.testing.assert_allclose(
        float(per_unit.nll(readout, y, reduction="sum")),
        -stats.norm.logpdf(y, readout, 0.5).sum(),
        rtol=1e-12,
    )
    # A fixed scale is frozen (never trained); a learned one is a trainable leaf.
    assert not any(jax.tree_util.tree_leaves(trainable_filter(fixed)))
    assert all(jax.tree_util.tree_leaves(trainable_filter(per_unit)))


def test_learned_sigma_is_the_maximum_likelihood_scale():
    rng = np.random.default_rng(3)
    readout, y = rng.normal(size=(4, 50, 3)), rng.normal(size=(4, 50, 3))
    rms = np.sqrt(((y - readout) ** 2).mean(axis=(0, 1)))
    at_mle = GaussianObservation(sigma=1.0, n_units=3)
    at_mle = jax.tree_util.tree_map(lambda _: jnp.log(jnp.asarray(rms)), at_mle)
    g = jax.grad(lambda o: o.nll(readout, y))(at_mle).log_sigma
    # d NLL / d log sigma = 1 - mean(z^2) vanishes at sigma = rms residual (float64 rounding).
    np.testing.assert_allclose(np.asarray(g), 0.0, atol=1e-13)


def test_bits_per_spike_and_explained_variance():
    rng = np.random.default_rng(4)
    rate = np.exp(rng.normal(3.0, 1.0, size=(20, 40, 3)))  # Hz
    counts = rng.poisson(rate * BIN_MS / 1000).astype(float)
    obs = PoissonObservation("exp")
    nll_true = obs.nll(np.log(rate), counts, bin_ms=BIN_MS, reduction="sum")
    base = poisson_baseline_nll(counts)
    # The baseline is the homogeneous model: the exp readout of each unit's mean rate.
    mean_rate = counts.mean(axis=(0, 1)) / (BIN_MS / 1000)
    flat = np.broadcast_to(np.log(mean_rate), counts.shape)
    np.testing.assert_allclose(
        float(base), float(obs.nll(flat, counts, bin_ms=BIN_MS, reduction="sum")), rtol=1e-12
    )
    n = counts.sum()
    bps = float(bits_per_spike(nll_true, base, n))
    np.testing.assert_allclose(bps, (float(base) - float(nll_true)) / (n * np.log(2)), rtol=1e-14)
    assert bps > 0.1  # the true rates carry information the mean rate does not
    assert float(bits_per_spike(base, base, n)) == 0.0
    with pytest.raises(InputError, match="n_spikes: got 0"):
        bits_per_spike(nll_true, base, 0)
    y = rng.normal(size=(5, 8, 2))
    mask = rng.random(y.shape) > 0.1
    assert float(explained_variance(y, y, mask)) == 1.0
    mean = np.array([y[..., u][mask[..., u]].mean() for u in range(2)])
    np.testing.assert_allclose(
        np.asarray(explained_variance(np.broadcast_to(mean, y.shape), y, mask, per_unit=True)),
        0.0,
        atol=1e-14,
    )
    noisy = y + rng.normal(size=y.shape)
    ref = 1 - ((noisy - y) ** 2)[mask].sum() / sum(
        ((y[..., u] - mean[u]) ** 2)[mask[..., u]].sum() for u in range(2)
    )
    np.testing.assert_allclose(float(explained_variance(noisy, y, mask)), ref, rtol=1e-12)


def test_bad_input():
    readout, counts, _ = _data()
    with pytest.raises(
        InputError,
        match=r"link: got 'sofplus', expected one of 'softplus', 'exp'; did you mean 'softplus'\?",
    ):
        PoissonObservation("sofplus")
    with pytest.raises(
        InputError,
        match=r"readout: got shape \(5, 30\), expected the shape of the counts \(5, 30, 4\)",
    ):
        PoissonObservation().nll(readout[..., 0], counts, bin_ms=BIN_MS)
    with pytest.raises(
        InputError, match=r"mask: got shape \(4,\), expected the shape of the counts"
    ):
        PoissonObservation().nll(readout, counts, np.ones(4, bool), bin_ms=BIN_MS)
    with pytest.raises(InputError, match="bin_ms: missing; expected the bin width in milliseconds"):
        PoissonObservation().nll(readout, counts)
    with pytest.raises(InputError, match=r"bin_ms: got -1"):
        PoissonObservation().nll(readout, counts, bin_ms=-1)
    with pytest.raises(InputError, match="reduction: got 'avg'"):
        PoissonObservation().nll(readout, counts, bin_ms=BIN_MS, reduction="avg")
    with pytest.raises(InputError, match="sigma: got None with learn_sigma=False"):
        GaussianObservation(sigma=None, learn_sigma=False)
    with pytest.raises(InputError, match=r"sigma: got 0, expected a finite number > 0"):
        GaussianObservation(sigma=0)
    with pytest.raises(
        InputError,
        match=r"signals: got shape \(5, 30, 4\), but sigma has one value per unit for 3 units",
    ):
        GaussianObservation(n_units=3).nll(readout, counts)
