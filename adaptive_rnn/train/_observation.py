r"""Observation models: exact negative log-likelihoods of recorded data given a model's
readout, with masks for missing samples.

They take arrays only (readout, data, mask; last axis = units), so any model's readout
fits. Units: the readout of a `PoissonObservation` is mapped to a firing rate in spikes
per second (Hz), and the bin width is given in milliseconds like everywhere else in the
library, so the expected count of a bin is

$$\mu = \text{rate}_\text{Hz} \cdot \text{bin\_ms} / 1000 .$$

Reductions: `"mean"` (per observed entry, the default; comparable across data sizes),
`"sum"` (the total NLL, for likelihood-ratio statistics and bits per spike) or `"none"`
(per entry, zero where masked). Masked entries contribute nothing and their values (NaN
included) never reach a gradient.
"""

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.core import Tracer
from jax.scipy.special import gammaln
from jaxtyping import Array

from .._checks import check_choice, check_positive, check_positive_int
from .._errors import InputError
from .._params import Frozen

REDUCTIONS = ("mean", "sum", "none")
LINKS = ("softplus", "exp")
_LOG_2PI = math.log(2.0 * math.pi)


def _check_shapes(readout: Any, data: Any, mask: Any, data_name: str):
    readout, data = jnp.asarray(readout), jnp.asarray(data)
    if readout.shape != data.shape:
        raise InputError(
            f"readout: got shape {readout.shape}, expected the shape of the {data_name} {data.shape}"
        )
    if mask is None:
        mask = jnp.ones(data.shape, dtype=bool)
    else:
        mask = jnp.asarray(mask)
        if mask.shape != data.shape:
            raise InputError(
                f"mask: got shape {mask.shape}, expected the shape of the {data_name} {data.shape}"
            )
        mask = mask.astype(bool)
    return readout, data, mask


def _check_bin_ms(bin_ms: Any):
    if bin_ms is None:
        raise InputError(
            "bin_ms: missing; expected the bin width in milliseconds (a positive number)"
        )
    if isinstance(bin_ms, Tracer):
        return bin_ms
    return check_positive("bin_ms", bin_ms)


def _reduce(values: Array, mask: Array, reduction: str) -> Array:
    if reduction == "none":
        return values
    total = jnp.sum(values)
    if reduction == "sum":
        return total
    return total / jnp.maximum(jnp.sum(mask), 1)


class PoissonObservation(eqx.Module):
    """Spike counts drawn from a Poisson distribution whose rate is the readout passed
    through a link.

    `rate_hz = softplus(readout)` (default) or `exp(readout)`, in spikes per second; the
    expected count of a bin is `rate_hz * bin_ms / 1000`. The NLL is exact,
    `mu - k log(mu) + log(k!)`, so it equals `-scipy.stats.poisson.logpmf(k, mu)`.

    **Arguments:** `link`: `"softplus"` or `"exp"`.

    **Raises:** `InputError` for an unknown link.
    """

    link: str = eqx.field(static=True)

    def __init__(self, link: str = "softplus"):
        self.link = check_choice("link", link, LINKS)

    def rate_hz(self, readout: Any) -> Array:
        """The firing rate in spikes per second for a readout."""
        readout = jnp.asarray(readout)
        return jax.nn.softplus(readout) if self.link == "softplus" else jnp.exp(readout)

    def expected_counts(self, readout: Any, bin_ms: Any) -> Array:
        """The expected count of each bin, `rate_hz * bin_ms / 1000`."""
        return self.rate_hz(readout) * (_check_bin_ms(bin_ms) / 1000.0)

    def nll(
        self,
        readout: Any,
        counts: Any,
        mask: Any = None,
        *,
        bin_ms: Any = None,
        reduction: str = "mean",
    ) -> Array:
        """The negative log-likelihood of `counts` given `readout`.

        **Arguments:**

        - `readout`: the model's output, any shape; `counts`: the same shape.
        - `mask`: optional booleans of the same shape, `True` where observed.
        - `bin_ms`: the bin width in milliseconds.
        - `reduction`: `"mean"` per observed bin, `"sum"` or `"none"`.

        **Returns:** the NLL in nats (a scalar, or per entry for `"none"`).

        **Raises:** `InputError` for mismatched shapes, a missing or non-positive
        `bin_ms`, or an unknown reduction. Count values are not checked here (a
        `Recording` checks them once, on the host).
        """
        check_choice("reduction", reduction, REDUCTIONS)
        readout, counts, mask = _check_shapes(readout, counts, mask, "counts")
        bin_s = _check_bin_ms(bin_ms) / 1000.0
        k = jnp.where(mask, counts, 0).astype(readout.dtype)
        x = jnp.where(mask, readout, 0)
        if self.link == "exp":
            log_mu = x + jnp.log(bin_s)
            mu = jnp.exp(log_mu)
            k_log_mu = k * log_mu
        else:
            mu = jax.nn.softplus(x) * bin_s
            # k log mu, with 0 log 0 = 0 and a finite gradient where k = 0.
            k_log_mu = jnp.where(k > 0, k * jnp.log(jnp.where(k > 0, mu, 1.0)), 0.0)
        values = jnp.where(mask, mu - k_log_mu + gammaln(k + 1.0), 0.0)
        return _reduce(values, mask, reduction)


class GaussianObservation(eqx.Module):
    """Continuous signals with Gaussian noise of scale `sigma` around the readout.

    The NLL per entry is `0.5 ((y - readout) / sigma)^2 + log(sigma) + 0.5 log(2 pi)`;
    with a fixed `sigma` it is the mean squared error up to scale and a constant. The
    noise scale is stored as `log_sigma`: a trainable leaf when `learn_sigma`, otherwise
    inside a `Frozen` that the trainer never updates.

    **Arguments:**

    - `sigma`: the noise scale (data units), or its initial value when learned; `None`
        starts a learned scale at 1.
    - `learn_sigma`: learn `sigma` by maximum likelihood with the model.
    - `n_units`: one scale per unit (the last axis of the data) instead of one shared.

    **Raises:** `InputError` for a non-positive `sigma`, `sigma=None` with
    `learn_sigma=False` (nothing to use), or a bad `n_units`.
    """

    log_sigma: Array | Frozen

    def __init__(self, sigma: Any = None, learn_sigma: bool = True, n_units: int | None = None):
        if not isinstance(learn_sigma, bool):
            raise InputError(f"learn_sigma: got {learn_sigma!r}, expected True or False")
        if sigma is None and not learn_sigma:
            raise InputError(
                "sigma: got None with learn_sigma=False; expected the noise scale (a positive "
                "number), or learn_sigma=True to learn it"
            )
        s = 1.0 if sigma is None else check_positive("sigma", sigma)
        shape = () if n_units is None else (check_positive_int("n_units", n_units),)
        log_sigma = jnp.full(shape, math.log(s), dtype=jnp.result_type(float))
        self.log_sigma = log_sigma if learn_sigma else Frozen(log_sigma)

    @property
    def learn_sigma(self) -> bool:
        """Whether `sigma` is trained."""
        return not isinstance(self.log_sigma, Frozen)

    def sigma(self) -> Array:
        """The noise scale, `()` or `(n_units,)`."""
        ls = self.log_sigma.value if isinstance(self.log_sigma, Frozen) else self.log_sigma
        return jnp.exp(ls)

    def nll(
        self, readout: Any, signals: Any, mask: Any = None, *, reduction: str = "mean"
    ) -> Array:
        """The negative log-likelihood of `signals` given `readout`.

        **Arguments:**

        - `readout`, `signals`: the same shape, units on the last axis.
        - `mask`: optional booleans of the same shape, `True` where observed.
        - `reduction`: `"mean"` per observed entry, `"sum"` or `"none"`.

        **Returns:** the NLL in nats.

        **Raises:** `InputError` for mismatched shapes, a per-unit `sigma` whose length is
        not the number of units, or an unknown reduction.
        """
        check_choice("reduction", reduction, REDUCTIONS)
        readout, signals, mask = _check_shapes(readout, signals, mask, "signals")
        ls = self.log_sigma.value if isinstance(self.log_sigma, Frozen) else self.log_sigma
        if ls.ndim == 1 and (signals.ndim == 0 or signals.shape[-1] != ls.shape[0]):
            raise InputError(
                f"signals: got shape {signals.shape}, but sigma has one value per unit for "
                f"{ls.shape[0]} units; expected the last axis to be {ls.shape[0]}"
            )
        y = jnp.where(mask, signals, 0)
        x = jnp.where(mask, readout, 0)
        z = (y - x) * jnp.exp(-ls)
        values = jnp.where(mask, 0.5 * z**2 + ls + 0.5 * _LOG_2PI, 0.0)
        return _reduce(values, mask, reduction)


def poisson_baseline_nll(counts: Any, mask: Any = None, *, mean_counts: Any = None) -> Array:
    """The total NLL of a homogeneous Poisson model: each unit at a constant expected
    count per bin (the baseline of `bits_per_spike`).

    **Arguments:**

    - `counts`: spike counts, units on the last axis; `mask`: optional, same shape.
    - `mean_counts`: `(units,)` expected counts per bin; default each unit's mean over
        its observed bins (pass the training set's means to score held-out trials).

    **Returns:** the summed NLL in nats (a scalar).
    """
    counts = jnp.asarray(counts)
    _, counts, mask = _check_shapes(counts, counts, mask, "counts")
    k = jnp.where(mask, counts, 0).astype(jnp.result_type(float))
    axes = tuple(range(k.ndim - 1))
    if mean_counts is None:
        mean_counts = jnp.sum(k, axis=axes) / jnp.maximum(jnp.sum(mask, axis=axes), 1)
    mu = jnp.broadcast_to(jnp.asarray(mean_counts, dtype=k.dtype), k.shape)
    k_log_mu = jnp.where(k > 0, k * jnp.log(jnp.where(k > 0, mu, 1.0)), 0.0)
    return jnp.sum(jnp.where(mask, mu - k_log_mu + gammaln(k + 1.0), 0.0))


def bits_per_spike(nll_model: Any, nll_baseline: Any, n_spikes: Any) -> Array:
    """Information gained over a baseline, in bits per spike:
    `(nll_baseline - nll_model) / (n_spikes ln 2)`.

    **Arguments:** `nll_model`, `nll_baseline`: summed NLLs in nats on the same bins (use
    `reduction="sum"` and `poisson_baseline_nll`); `n_spikes`: the number of spikes in
    those bins.

    **Returns:** bits per spike (positive when the model beats the baseline).

    **Raises:** `InputError` for a known `n_spikes` that is not positive.
    """
    if not isinstance(n_spikes, Tracer):
        check_positive("n_spikes", n_spikes)
    return (jnp.asarray(nll_baseline) - jnp.asarray(nll_model)) / (
        jnp.asarray(n_spikes) * math.log(2.0)
    )


def explained_variance(
    prediction: Any, target: Any, mask: Any = None, *, per_unit: bool = False
) -> Array:
    """The fraction of variance explained, `1 - SS_res / SS_tot`, each unit's variance
    taken around its own mean over the observed entries (units on the last axis).

    **Arguments:** `prediction`, `target`: the same shape; `mask`: optional, `True`
    where observed; `per_unit`: one value per unit instead of one pooled value
    (`1 - sum SS_res / sum SS_tot`).

    **Returns:** a scalar, or `(units,)`; NaN for a unit with no variance.
    """
    prediction, target, mask = _check_shapes(prediction, target, mask, "target")
    y = jnp.where(mask, target, 0).astype(jnp.result_type(float))
    x = jnp.where(mask, prediction, 0).astype(y.dtype)
    axes = tuple(range(y.ndim - 1))
    n = jnp.sum(mask, axis=axes)
    mean = jnp.sum(y, axis=axes) / jnp.maximum(n, 1)
    ss_res = jnp.sum(jnp.where(mask, (y - x) ** 2, 0.0), axis=axes)
    ss_tot = jnp.sum(jnp.where(mask, (y - mean) ** 2, 0.0), axis=axes)
    if per_unit:
        return jnp.where(ss_tot > 0, 1.0 - ss_res / jnp.where(ss_tot > 0, ss_tot, 1.0), jnp.nan)
    total = jnp.sum(ss_tot)
    return jnp.where(total > 0, 1.0 - jnp.sum(ss_res) / jnp.where(total > 0, total, 1.0), jnp.nan)
