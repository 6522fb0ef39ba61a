r"""Baselines for a model of a recording, fitted on training trials and scored on the
same held-out trials as the model.

- `ConstantBaseline`: each unit at its mean over the training trials (a constant rate
    for spike counts; a constant mean, with its own noise scale, for signals).
- `LNBaseline`: a linear-nonlinear model. The stimulus passes through one exponential
    filter per unit, with the unit's own fitted time constant $\tau$,

    $$f_t = e^{-\Delta/\tau} f_{t-1} + (1 - e^{-\Delta/\tau})\,x_t, \qquad f_0 = 0,$$

    then a linear map and the observation model's link:
    $\text{rate}_\text{Hz} = \text{softplus}(b + w^\top f_t)$ (or `exp`) for counts, the
    signal $b + w^\top f_t$ for signals. For each $\tau$ on a grid (log-spaced from one
    bin to the trial length) $w, b$ are fitted exactly (damped Newton for Poisson, the
    likelihood being convex in them; least squares for Gaussian), and each unit keeps
    the $\tau$ of highest training likelihood.

`score_heldout` turns a predictor's readout into the held-out log-likelihood per
observed bin and bits per spike (counts) or explained variance (signals).
"""

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_choice, check_int
from .._errors import InputError
from ..recordings import Recording
from ..train import (
    LINKS,
    PoissonObservation,
    bits_per_spike,
    explained_variance,
    poisson_baseline_nll,
)

__all__ = [
    "ConstantBaseline",
    "LNBaseline",
    "fit_constant_baseline",
    "fit_ln_baseline",
    "gaussian_loglik_per_bin",
    "noise_scale",
    "score_heldout",
]


def _softplus_inv(x: np.ndarray) -> np.ndarray:
    x = np.maximum(np.asarray(x, dtype=np.float64), 1e-9)
    return x + np.log(-np.expm1(-x))


def _unit_means(rec: Recording) -> np.ndarray:
    n = rec.mask.sum(axis=(0, 1))
    return (rec.data * rec.mask).sum(axis=(0, 1)) / np.maximum(n, 1)


def noise_scale(rec: Recording, prediction: np.ndarray) -> np.ndarray:
    """Each unit's root mean squared residual over its observed entries: the maximum
    likelihood Gaussian noise scale of a prediction (floored at a tiny positive value).

    **Arguments:** `rec`: a `Recording`; `prediction`: `(trials, time, units)`.

    **Returns:** `(units,)`.
    """
    n = rec.mask.sum(axis=(0, 1))
    ss = (((rec.data - prediction) ** 2) * rec.mask).sum(axis=(0, 1))
    sd = np.sqrt(ss / np.maximum(n, 1))
    return np.maximum(sd, 1e-12 * np.maximum(np.abs(_unit_means(rec)), 1.0))


class ConstantBaseline(NamedTuple):
    """Each unit at its training mean.

    **Fields:**

    - `mean`: `(units,)` each unit's mean over its observed training entries: the mean
        count per bin (counts) or the mean signal (signals).
    - `sigma`: `(units,)` the root mean squared residual around `mean` on the training
        trials, the Gaussian noise scale (signals); `None` for counts.
    """

    mean: np.ndarray
    sigma: np.ndarray | None

    def readout(self, rec: Recording, link: str = "softplus") -> np.ndarray:
        """The readout on `rec`'s trials `(trials, time, units)`: for counts, the rate
        in Hz before the link (so that `link(readout)` is the constant rate)."""
        if rec.kind == "counts":
            rate_hz = self.mean * 1000.0 / rec.bin_ms
            value = (
                _softplus_inv(rate_hz)
                if link == "softplus"
                else np.log(np.maximum(rate_hz, 1e-300))
            )
        else:
            value = self.mean
        return np.broadcast_to(value, rec.data.shape).copy()


def fit_constant_baseline(train: Recording) -> ConstantBaseline:
    """The constant predictor of `train`: each unit's mean over its observed bins.

    **Arguments:** `train`: a `Recording` (the training trials).

    **Returns:** a `ConstantBaseline`.
    """
    if not isinstance(train, Recording):
        raise InputError(f"train: got {type(train).__name__}, expected a Recording")
    mean = _unit_means(train)
    sigma = (
        None
        if train.kind == "counts"
        else noise_scale(train, np.broadcast_to(mean, train.data.shape))
    )
    return ConstantBaseline(mean, sigma)


# --------------------------------------------------------------------------------------
# The LN model
# --------------------------------------------------------------------------------------


@jax.jit
def _filter(x, decay):
    """`(n_tau, trials, time, n_in)` exponential filters of `x` `(trials, time, n_in)`,
    one per decay factor `(n_tau,)` (a scan over time)."""

    def step(f, xt):
        f = decay[:, None, None] * f + (1 - decay)[:, None, None] * xt[None]
        return f, f

    f0 = jnp.zeros((decay.shape[0],) + x.shape[::2], x.dtype)
    _, fs = jax.lax.scan(step, f0, jnp.swapaxes(x, 0, 1))  # (time, n_tau, trials, n_in)
    return jnp.moveaxis(fs, 0, 2)


def _design(f):
    ones = jnp.ones(f.shape[:-1] + (1,), f.dtype)
    return jnp.concatenate([ones, f], axis=-1)


def _poisson_terms(eta, k, m, bin_s, link):
    """Per entry: the NLL (without log k!), its first and second derivative in eta."""
    if link == "exp":
        mu = jnp.exp(eta) * bin_s
        return m * (mu - k * (eta + jnp.log(bin_s))), m * (mu - k), m * mu
    s = jax.nn.softplus(eta)
    sg = jax.nn.sigmoid(eta)
    s = jnp.maximum(s, 1e-30)
    nll = s * bin_s - k * jnp.log(s * bin_s)
    d1 = bin_s * sg - k * sg / s
    d2 = bin_s * sg * (1 - sg) + k * (sg**2 / s**2 - sg * (1 - sg) / s)
    return m * nll, m * d1, m * d2


def _newton_poisson(X, k, m, beta0, bin_s, link, iterations):
    """Damped Newton (Levenberg-Marquardt) on `(n_tau, p, units)` coefficients; `X`
    `(n_tau, N, p)`, `k`, `m` `(N, units)`. Returns the coefficients and the training
    NLL `(n_tau, units)`."""

    def loss(beta):
        eta = jnp.einsum("tnp,tpu->tnu", X, beta)
        return jnp.sum(_poisson_terms(eta, k, m, bin_s, link)[0], axis=1)

    def body(_, carry):
        beta, lam, cur = carry
        eta = jnp.einsum("tnp,tpu->tnu", X, beta)
        _, d1, d2 = _poisson_terms(eta, k, m, bin_s, link)
        g = jnp.einsum("tnp,tnu->tup", X, d1)
        H = jnp.einsum("tnp,tnq,tnu->tupq", X, X, d2)
        p = X.shape[-1]
        diag = jnp.diagonal(H, axis1=-2, axis2=-1)
        Hd = H + (lam[..., None, None] * (diag[..., None] + 1e-9)) * jnp.eye(p, dtype=X.dtype)
        step = jnp.linalg.solve(Hd, g[..., None])[..., 0]  # (t, u, p)
        new = beta - jnp.swapaxes(step, 1, 2)
        val = loss(new)
        better = jnp.isfinite(val) & (val <= cur)
        beta = jnp.where(better[:, None, :], new, beta)
        cur = jnp.where(better, val, cur)
        lam = jnp.where(better, lam * 0.3, lam * 10.0)
        return beta, lam, cur

    lam0 = jnp.full(beta0.shape[::2], 1e-3, X.dtype)
    beta, _, cur = jax.lax.fori_loop(0, iterations, body, (beta0, lam0, loss(beta0)))
    return beta, cur


_newton_jit = jax.jit(_newton_poisson, static_argnames=("link", "iterations"))


@jax.jit
def _least_squares(X, y, m):
    """Per tau and unit, weighted least squares: `(n_tau, p, units)` coefficients and
    the residual sum of squares `(n_tau, units)`."""
    A = jnp.einsum("tnp,tnq,nu->tupq", X, X, m)
    b = jnp.einsum("tnp,nu->tup", X, m * y)
    p = X.shape[-1]
    A = (
        A
        + 1e-10 * jnp.trace(A, axis1=-2, axis2=-1)[..., None, None] * jnp.eye(p, dtype=X.dtype) / p
    )
    beta = jnp.swapaxes(jnp.linalg.solve(A, b[..., None])[..., 0], 1, 2)
    res = y[None] - jnp.einsum("tnp,tpu->tnu", X, beta)
    return beta, jnp.sum(m * res**2, axis=1)


class LNBaseline(NamedTuple):
    """A fitted linear-nonlinear model (see the module docstring).

    **Fields:**

    - `tau_ms`: `(units,)` each unit's filter time constant in milliseconds (the point
        of `taus_ms` of highest training likelihood).
    - `weights`: `(units, n_in)` the linear map `w` from the filtered, standardised
        inputs to each unit's readout.
    - `bias`: `(units,)` the offset `b` of each unit's readout.
    - `input_mean`: `(n_in,)` the mean of each input channel over the training trials,
        subtracted before filtering.
    - `input_scale`: `(n_in,)` the standard deviation of each input channel over the
        training trials (1 for a constant channel), divided out before filtering.
    - `link`: the link of counts (`"softplus"` or `"exp"`: the rate in Hz is
        `link(readout)`), or `None` for signals.
    - `sigma`: `(units,)` the root mean squared training residual, the Gaussian noise
        scale (signals); `None` for counts.
    - `taus_ms`: `(n_taus,)` the grid of time constants searched, in milliseconds,
        log-spaced from one bin to the trial length.
    """

    tau_ms: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    input_mean: np.ndarray
    input_scale: np.ndarray
    link: str | None
    sigma: np.ndarray | None
    taus_ms: np.ndarray

    def readout(self, rec: Recording) -> np.ndarray:
        """The readout `(trials, time, units)` on `rec`'s trials (before the link for
        counts).

        **Raises:** `InputError` for a recording without inputs or of another width.
        """
        if rec.inputs is None or rec.n_in != self.weights.shape[1]:
            raise InputError(
                f"recording: has {rec.n_in} input channels, expected {self.weights.shape[1]} "
                f"as the LN model was fitted with"
            )
        x = (rec.inputs - self.input_mean) / self.input_scale
        decay = np.exp(-rec.bin_ms / self.tau_ms)  # (units,)
        uniq, inv = np.unique(decay, return_inverse=True)
        f = np.asarray(_filter(jnp.asarray(x), jnp.asarray(uniq)))  # (n_uniq, trials, time, n_in)
        f = f[inv]  # (units, trials, time, n_in)
        return np.einsum("utsi,ui->tsu", f, self.weights) + self.bias


def fit_ln_baseline(
    train: Recording,
    *,
    link: str = "softplus",
    n_taus: int = 24,
    iterations: int = 40,
) -> LNBaseline:
    """Fits the LN model (one exponential filter per unit) to the training trials.

    **Arguments:**

    - `train`: a `Recording` with inputs (the training trials).
    - `link`: for counts, `"softplus"` (default) or `"exp"`, the link of the model it is
        compared with.
    - `n_taus`: the number of filter time constants tried, log-spaced from one bin to
        the trial length.
    - `iterations`: damped Newton iterations (counts).

    **Returns:** an `LNBaseline`.

    **Raises:** `InputError` for a recording without inputs, an unknown link or bad
    counts of taus or iterations.
    """
    if not isinstance(train, Recording):
        raise InputError(f"train: got {type(train).__name__}, expected a Recording")
    if train.inputs is None:
        raise InputError(
            "train: has no inputs; the LN baseline filters the stimulus, expected a recording with inputs"
        )
    check_choice("link", link, LINKS)
    n_taus = check_int("n_taus", n_taus, 2)
    iterations = check_int("iterations", iterations, 1)
    bin_ms = train.bin_ms
    taus = np.geomspace(bin_ms, max(2.0, train.n_time) * bin_ms, n_taus)
    x = train.inputs
    mu_x = x.reshape(-1, x.shape[-1]).mean(0)
    sd_x = x.reshape(-1, x.shape[-1]).std(0)
    sd_x = np.where(sd_x > 0, sd_x, 1.0)
    xs = jnp.asarray((x - mu_x) / sd_x)
    f = _filter(xs, jnp.asarray(np.exp(-bin_ms / taus)))  # (n_tau, S, T, n_in)
    X = _design(f).reshape(n_taus, -1, train.n_in + 1)
    y = jnp.asarray(train.data.reshape(-1, train.n_units))
    m = jnp.asarray(train.mask.reshape(-1, train.n_units).astype(np.float64))
    if train.kind == "counts":
        rate = _unit_means(train) * 1000.0 / bin_ms
        b0 = _softplus_inv(rate) if link == "softplus" else np.log(np.maximum(rate, 1e-6))
        beta0 = np.zeros((n_taus, train.n_in + 1, train.n_units))
        beta0[:, 0, :] = b0
        beta, score = _newton_jit(X, y, m, jnp.asarray(beta0), bin_ms / 1000.0, link, iterations)
        fitted_link: str | None = link
    else:
        beta, score = _least_squares(X, y, m)
        fitted_link = None
    beta, score = np.asarray(beta), np.asarray(score)
    best = np.argmin(np.where(np.isfinite(score), score, np.inf), axis=0)  # (units,)
    units = np.arange(train.n_units)
    coef = beta[best, :, units]  # (units, p)
    ln = LNBaseline(taus[best], coef[:, 1:], coef[:, 0], mu_x, sd_x, fitted_link, None, taus)
    if train.kind == "signals":
        ln = ln._replace(sigma=noise_scale(train, ln.readout(train)))
    return ln


# --------------------------------------------------------------------------------------
# Scores on held-out trials
# --------------------------------------------------------------------------------------


def score_heldout(
    readout: Any,
    heldout: Recording,
    *,
    train_mean: Any,
    link: str = "softplus",
    sigma: Any = None,
) -> dict:
    """The held-out scores of a predictor.

    **Arguments:**

    - `readout`: `(trials, time, units)` the predictor's readout on the held-out trials
        (counts: before the link; signals: the predicted signal).
    - `heldout`: the held-out `Recording`.
    - `train_mean`: `(units,)` each unit's training mean (counts per bin, or signal):
        the reference of bits per spike.
    - `link`: the Poisson link (counts).
    - `sigma`: `(units,)` the predictor's noise scale from the training trials (signals).

    **Returns:** a dict: `loglik_per_bin` (nats per observed entry, summed over
    nothing: the mean log-likelihood of one unit in one bin) and `bits_per_spike`
    (counts) or `explained_variance` (pooled) and `explained_variance_per_unit`
    (signals).

    **Raises:** `InputError` for a readout of the wrong shape or a missing `sigma` for
    signals.
    """
    readout = np.asarray(readout, dtype=np.float64)
    if readout.shape != heldout.data.shape:
        raise InputError(
            f"readout: got shape {readout.shape}, expected the held-out data's {heldout.data.shape}"
        )
    n_obs = int(heldout.mask.sum())
    mask = jnp.asarray(heldout.mask)
    data = jnp.asarray(heldout.data)
    if heldout.kind == "counts":
        nll = float(
            PoissonObservation(link).nll(
                jnp.asarray(readout), data, mask, bin_ms=heldout.bin_ms, reduction="sum"
            )
        )
        base = float(poisson_baseline_nll(data, mask, mean_counts=jnp.asarray(train_mean)))
        n_spikes = float(heldout.data[heldout.mask].sum())
        bps = float(bits_per_spike(nll, base, n_spikes)) if n_spikes > 0 else float("nan")
        return {"loglik_per_bin": -nll / n_obs, "bits_per_spike": bps}
    if sigma is None:
        raise InputError(
            "sigma: missing; expected the predictor's noise scale per unit for signals"
        )
    sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (heldout.n_units,))
    ll = gaussian_loglik_per_bin(readout, heldout, sigma)
    ev = float(explained_variance(jnp.asarray(readout), data, mask))
    ev_u = np.asarray(explained_variance(jnp.asarray(readout), data, mask, per_unit=True))
    return {
        "loglik_per_bin": ll,
        "explained_variance": ev,
        "explained_variance_per_unit": [float(v) for v in ev_u],
    }


def gaussian_loglik_per_bin(readout: np.ndarray, rec: Recording, sigma: np.ndarray) -> float:
    """The Gaussian log-likelihood per observed entry of `rec` around `readout`, in nats
    (the negative of `GaussianObservation.nll` with `reduction="mean"`).

    **Arguments:**

    - `readout`: `(trials, time, units)` the predicted signal, the mean of the Gaussian.
    - `rec`: the `Recording` scored (its data and mask, of `readout`'s shape); only
        entries where its mask is `True` count.
    - `sigma`: `(units,)` each unit's noise scale (standard deviation), positive.

    **Returns:** the mean log-likelihood of one observed entry, a float.
    """
    r = (rec.data - readout) / sigma
    ll = -0.5 * r**2 - np.log(sigma) - 0.5 * math.log(2 * math.pi)
    return float((ll * rec.mask).sum() / rec.mask.sum())
