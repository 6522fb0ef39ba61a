"""The intrinsic timescale (Murray et al. 2014) recovers the time constant of simulated
Ornstein-Uhlenbeck processes, and says why when a fit fails."""

import numpy as np
import pytest
from scipy.signal import lfilter

from adaptive_rnn import InputError
from adaptive_rnn.analysis._autocorr import intrinsic_timescale
from adaptive_rnn.recordings import Recording

TAU_MS, DT_MS, BIN_MS = 50.0, 1.0, 10.0
N_TRIALS, N_STEPS, N_UNITS = 2000, 1000, 3


def _ou(rng):
    """Stationary unit-variance OU paths `(trials, steps, units)`, by the exact AR(1)
    update x <- a x + sqrt(1 - a^2) eps, a = exp(-dt / tau), at a 1 ms step."""
    a = np.exp(-DT_MS / TAU_MS)
    x0 = rng.normal(size=(N_TRIALS, 1, N_UNITS))
    eps = rng.normal(size=(N_TRIALS, N_STEPS - 1, N_UNITS))
    rest = lfilter([np.sqrt(1 - a**2)], [1.0, -a], eps, axis=1, zi=a * x0)[0]
    return np.concatenate([x0, rest], axis=1)


@pytest.fixture(scope="module")
def ou():
    return _ou(np.random.default_rng(20140901))


def _bins(x):
    """Sums of `(trials, steps, units)` over consecutive 10 ms bins."""
    k = int(BIN_MS / DT_MS)
    return x.reshape(x.shape[0], x.shape[1] // k, k, x.shape[2]).sum(2)


def test_ou_signal_timescale_within_10_percent(ou):
    # Bin means of an OU process: for lags >= 1 bin their correlation is exactly
    # proportional to exp(-lag / tau), so only sampling error (2000 trials: about 2 %
    # standard deviation) separates the fit from tau.
    res = intrinsic_timescale(_bins(ou) / BIN_MS, BIN_MS, max_lag_ms=5 * TAU_MS)
    assert res.reasons == (None,) * N_UNITS
    np.testing.assert_allclose(res.tau_ms, TAU_MS, rtol=0.10)
    np.testing.assert_allclose(res.lags_ms, np.arange(1, 26) * BIN_MS)
    assert np.all(res.fit_start_ms == BIN_MS)  # no short-lag dip: the peak is the first lag


def test_poisson_counts_with_ou_rate(ou):
    # A rate linear in the OU process (clipped at 0, which 0.3 x < -1 makes rare: 4e-4 of
    # samples) keeps the exponential autocorrelation; Poisson noise lowers A, not tau.
    # At 200 Hz and 2000 trials one unit's estimate scatters by about 6 % (20 simulated
    # seeds): each unit within 20 %, their mean within 10 %.
    rate_hz = np.maximum(200.0 * (1.0 + 0.3 * ou), 0.0)
    counts = np.random.default_rng(1).poisson(_bins(rate_hz) * DT_MS / 1000)
    rec = Recording.from_arrays(counts=counts, bin_ms=BIN_MS)
    res = intrinsic_timescale(rec, max_lag_ms=5 * TAU_MS)
    assert res.reasons == (None,) * N_UNITS
    np.testing.assert_allclose(res.tau_ms, TAU_MS, rtol=0.20)
    np.testing.assert_allclose(res.tau_ms.mean(), TAU_MS, rtol=0.10)
    assert np.all(res.autocorr[:, 0] < 0.5)  # Poisson noise lowers A far below the rate's own


def test_failed_fits_say_why():
    rng = np.random.default_rng(0)
    x = rng.poisson(3.0, size=(50, 20, 3)).astype(float)
    x[:, :, 0] += rng.poisson(3.0, size=(50, 1))  # a trial-wide offset: positive correlation
    x[:, :, 1] = 4.0  # no variance across trials
    res = intrinsic_timescale(x, BIN_MS, max_lag_ms=30, start_lag_ms=10)
    assert np.isnan(res.tau_ms[1]) and "no bin pair varies across trials" in res.reasons[1]
    assert np.isnan(res.tau_ms[0]) and "only 3 finite autocorrelation values" in res.reasons[0]


def test_bad_input():
    x = np.ones((5, 10, 2))
    with pytest.raises(InputError, match="bin_ms: missing"):
        intrinsic_timescale(x)
    with pytest.raises(InputError, match=r"bin_ms: got 0"):
        intrinsic_timescale(x, 0)
    with pytest.raises(
        InputError, match=r"counts: got 2 trials .* expected at least min_trials = 3"
    ):
        intrinsic_timescale(x[:2], 10)
    with pytest.raises(
        InputError,
        match=r"max_lag_ms: got 100, expected .* at most the trial length minus one bin \(90 ms\)",
    ):
        intrinsic_timescale(x, 10, max_lag_ms=100)
    with pytest.raises(InputError, match=r"counts: got shape \(5, 10\) \(rank 2\)"):
        intrinsic_timescale(x[..., 0], 10)
    x[0, 0, 0] = np.inf
    with pytest.raises(
        InputError, match="counts: holds non-finite values that the mask does not cover"
    ):
        intrinsic_timescale(x, 10)


def test_null_standard_error_matches_monte_carlo():
    # Independent Gaussian bins: each pair's Pearson r over n trials has variance exactly
    # 1/(n - 1) and pairs sharing a bin are uncorrelated, so the stated standard error of
    # the lag average is exact. 4000 replicates estimate the SD to about 1.1 % (one
    # standard deviation); 5 % is 4.4 of them.
    from adaptive_rnn.analysis._autocorr import across_trial_autocorrelation

    rng = np.random.default_rng(7)
    n_trials, n_bins, n_lags = 40, 30, 20
    observed = np.ones((n_trials, n_bins), bool)
    observed[:5, 10:] = False  # some pairs with fewer trials
    reps = np.array(
        [
            across_trial_autocorrelation(
                np.where(observed, rng.normal(size=(n_trials, n_bins)), 0.0), observed, n_lags, 3
            )[0]
            for _ in range(4000)
        ]
    )
    # the standard error depends on the observed pairs only, not on the values
    _, se = across_trial_autocorrelation(
        np.where(observed, rng.normal(size=(n_trials, n_bins)), 0.0), observed, n_lags, 3
    )
    np.testing.assert_allclose(reps.std(axis=0), se, rtol=0.05)
    assert np.all(np.abs(reps.mean(axis=0)) < 4 * se / np.sqrt(4000)), reps.mean(axis=0)


def test_noise_is_not_a_timescale():
    # Independent Poisson counts: no unit may report a timescale by chance more often than
    # the test's 5 % (at most 4 of 80 units; these seeded draws give none).
    found = 0
    for seed in range(20):
        x = np.random.default_rng(seed).poisson(0.5, size=(100, 100, 4))
        res = intrinsic_timescale(x, 2.0)
        found += int(np.isfinite(res.tau_ms).sum())
        assert all(r is not None for r, t in zip(res.reasons, res.tau_ms) if np.isnan(t))
    assert found <= 4, found


def test_grasshopper_peak_of_noise_is_refused():
    # The real recording of the recordings guide: its autocorrelation peaks at 490 ms in
    # noise; the old fit reported a "timescale" of one bin (2 ms) with an amplitude of
    # 5e105. Now it says why there is none.
    pytest.importorskip("nitime")
    from adaptive_rnn.recordings import load_grasshopper

    res = intrinsic_timescale(load_grasshopper())
    assert np.isnan(res.tau_ms[0]) and "within the noise of independent bins" in res.reasons[0]
