r"""The bootstrap of `fit_recording`: the refits' datasets and the confidence intervals.

Two ways to make the B datasets the refits are trained on (`resample`):

- `"parametric"` (default): B new sets of responses simulated from the point estimate
    (the fitted member 0) on the fitting trials' own inputs, with fresh keys (Poisson
    counts from its rates; Gaussian signals around its prediction with each channel's
    residual noise scale). The refits' spread and bias around the *known* value they
    were simulated from calibrate the interval: they are fits of the same estimator, on
    datasets of the same size and design, so they share its finite-sample bias and the
    optimiser's spread.
- `"trials"`: B resamples of the fitting trials with replacement. A resample holds
    about 63 % distinct trials, so the refits are biased further than the point estimate
    (the recurrent weights overfit the duplicates) and the intervals come out too narrow
    or off-centre; kept for comparison and for models one does not want to simulate
    from.

Intervals (`bootstrap_intervals`), on the log scale (time constants are positive and
their errors roughly proportional):

- `"normal"` (default): bias-corrected, Student-t: with $u_b = \log\theta^*_b$ the refits
    and $\hat u = \log\hat\theta$ the point estimate,
    $2\hat u - \bar u \pm t_{B-1}\, s_u \sqrt{1 + 1/B}$. It needs only the refits' mean and
    standard deviation, so it stays calibrated with few refits (B = 10-20), where the
    extreme quantiles of the other methods are the extreme refits themselves;
- `"basic"`: $[\hat\theta^2/q_\text{hi}, \hat\theta^2/q_\text{lo}]$ (quantiles $q$ of the refits);
- `"percentile"`: $[q_\text{lo}, q_\text{hi}]$ (no bias correction).
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats
from jaxtyping import ArrayLike, Float

from .._checks import check_choice, check_number
from .._errors import InputError
from ..train import PoissonObservation

INTERVALS = ("normal", "basic", "percentile")
RESAMPLE = ("parametric", "trials")
NAMES = ("tau_s_ms", "tau_r_ms", "tau_sum_ms", "tau_prod_ms2")


def bootstrap_intervals(
    tau_s: Any, tau_r: Any, confidence: float = 0.95, *, point: Any = None, method: str = "normal"
) -> tuple[dict, dict, np.ndarray]:
    r"""Bootstrap confidence intervals of time constants and of their exchange
    invariants, and where the pair is exchangeable.

    With $\hat\theta$ the point estimate, $\theta^*_b$ the B refits, $u = \log\theta$,
    $q_\text{lo}, q_\text{hi}$ the refits' `(1 - confidence) / 2` and
    `(1 + confidence) / 2` quantiles (linearly interpolated):

    - `"normal"` (default): $\exp(2\hat u - \bar u^* \pm t\, s^*_u \sqrt{1 + 1/B})$, with
        $\bar u^*$, $s^*_u$ the mean and standard deviation of the refits' logs and $t$
        the Student-t quantile with B - 1 degrees of freedom: the refits' bias around
        the value they were fitted from, removed, and their spread, widened for its own
        estimation from B values;
    - `"basic"`: $[\hat\theta^2 / q_\text{hi}, \hat\theta^2 / q_\text{lo}]$;
    - `"percentile"`: $[q_\text{lo}, q_\text{hi}]$.

    The pair is `exchangeable` where the refits' own ranges (percentile intervals) of
    `tau_s` and `tau_r` overlap, or the reported intervals do: the data do not say which
    is which.

    **Arguments:**

    - `tau_s`, `tau_r`: `(B, k)` the refits' values (k = 1 global, or one per unit).
    - `confidence`: the level, in (0, 1).
    - `point`: `(tau_s, tau_r)` point estimates, each `(k,)` or a scalar; required for
        `"normal"` and `"basic"`.
    - `method`: `"normal"`, `"basic"` or `"percentile"`.

    **Returns:** `(samples, intervals, exchangeable)`: `samples` and `intervals` map
    `"tau_s_ms"`, `"tau_r_ms"`, `"tau_sum_ms"`, `"tau_prod_ms2"` to the `(B, k)` values
    and to `(k, 2)` intervals `[low, high]`; `exchangeable` is `(k,)` booleans.

    **Raises:** `InputError` for mismatched shapes, fewer than 2 refits, non-positive
    refits, a bad level or method, or a bias-corrected method without a positive point
    estimate.
    """
    confidence = check_number("confidence", confidence, 0, 1, low_open=True, high_open=True)
    check_choice("method", method, INTERVALS)
    ts = np.asarray(tau_s, dtype=np.float64)
    tr = np.asarray(tau_r, dtype=np.float64)
    if ts.ndim != 2 or ts.shape != tr.shape or ts.shape[0] < 2:
        raise InputError(
            f"tau_s, tau_r: got shapes {ts.shape} and {tr.shape}, expected equal (B, k) with B >= 2"
        )
    if not (np.all(ts > 0) and np.all(tr > 0)):
        raise InputError("tau_s, tau_r: got a non-positive refit, expected positive time constants")
    samples = {"tau_s_ms": ts, "tau_r_ms": tr, "tau_sum_ms": ts + tr, "tau_prod_ms2": ts * tr}
    a = (1 - confidence) / 2
    spread = {
        k: np.stack(list(np.nanquantile(v, [a, 1 - a], axis=0)), axis=-1)
        for k, v in samples.items()
    }
    if method == "percentile":
        intervals = spread
    else:
        if point is None:
            raise InputError(
                f"point: missing; the {method} interval needs the point estimates (tau_s, tau_r)"
            )
        ps, pr = (np.broadcast_to(np.asarray(v, dtype=np.float64), ts.shape[1:]) for v in point)
        if not (np.all(ps > 0) and np.all(pr > 0)):
            raise InputError(f"point: got {point!r}, expected positive time constants")
        est = {"tau_s_ms": ps, "tau_r_ms": pr, "tau_sum_ms": ps + pr, "tau_prod_ms2": ps * pr}
        if method == "basic":
            intervals = {
                k: np.stack([est[k] ** 2 / spread[k][:, 1], est[k] ** 2 / spread[k][:, 0]], -1)
                for k in samples
            }
        else:
            B = ts.shape[0]
            t = float(scipy.stats.t.ppf(1 - a, B - 1)) * np.sqrt(1 + 1 / B)
            intervals = {}
            for k, v in samples.items():
                u = np.log(v)
                mid = 2 * np.log(est[k]) - u.mean(axis=0)
                half = t * u.std(axis=0, ddof=1)
                intervals[k] = np.exp(np.stack([mid - half, mid + half], axis=-1))

    def overlap(ci):
        cs, cr = ci["tau_s_ms"], ci["tau_r_ms"]
        return np.maximum(cs[:, 0], cr[:, 0]) <= np.minimum(cs[:, 1], cr[:, 1])

    return samples, intervals, overlap(spread) | overlap(intervals)


def simulate_responses(
    key: Any,
    outputs: Float[ArrayLike, "trials time units"],
    observed: Float[ArrayLike, "trials time units"],
    mask: Float[ArrayLike, "trials time units"],
    n: int,
    *,
    loss: str,
    link: str = "softplus",
    bin_ms: float | None = None,
) -> jax.Array:
    """`n` datasets of responses simulated from a fitted model's `outputs` (its readout on
    the fitting trials, in the units it is trained in).

    **Arguments:**

    - `key`: a `jax.random` key.
    - `outputs`: the model's readout; `observed`: the data it was fitted to (same units);
        `mask`: 1 where a bin is observed (entries outside it come out zero).
    - `n`: the number of datasets.
    - `loss`: `"poisson"` (counts drawn at `rate_hz = link(outputs)`, `bin_ms` wide) or
        `"gaussian"` (the outputs plus Gaussian noise whose scale per unit is the root
        mean square of the observed residuals).
    - `bin_ms`: the bin width in ms (needed by the Poisson loss).
    - `link`: the Poisson rate link, `"softplus"` or `"exp"` (ignored for Gaussian).

    **Returns:** `(n, trials, time, units)` simulated targets.

    **Raises:** `InputError` for the Poisson loss without `bin_ms`.
    """
    outputs = jnp.asarray(outputs)
    m = jnp.asarray(mask, outputs.dtype)
    shape = (n,) + outputs.shape
    if loss == "poisson":
        if bin_ms is None:
            raise InputError("bin_ms: missing; the Poisson draws need the bin width in ms")
        mu = PoissonObservation(link).rate_hz(outputs) * (bin_ms / 1000.0)
        y = jax.random.poisson(key, mu, shape).astype(outputs.dtype)
    else:
        resid = (jnp.asarray(observed, outputs.dtype) - outputs) * m
        n_obs = jnp.maximum(jnp.sum(m, axis=(0, 1)), 1.0)
        sigma = jnp.sqrt(jnp.sum(resid**2, axis=(0, 1)) / n_obs)
        y = outputs + sigma * jax.random.normal(key, shape, outputs.dtype)
    return y * m
