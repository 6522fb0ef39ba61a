r"""Identifiability of the two time constants of the ARU (docs/model.md, "Exchange symmetry").

With a linear activation the ARU obeys one second-order equation for the rates,

$$\tau_s\tau_r\,\ddot r + (\tau_s + \tau_r)\,\dot r + r = W r + U x,$$

which depends on the pair only through $\tau_1 = \tau_s + \tau_r$ and
$\tau_2 = \tau_s\tau_r$: the fitted pair and its swap $(\tau_r, \tau_s)$ give the same
outputs. A nonlinear activation (sigmoid) breaks the symmetry. This module reports the
invariants and measures the loss at the swapped pair and along paths joining the two.
"""

import dataclasses
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._errors import InputError
from .._params import AbstractTimeConstant, FixedTau
from ..models import ARU

__all__ = [
    "ExchangeProfile",
    "exchange_profile",
    "masked_mse",
    "plot_exchange_profile",
    "swap_time_constants",
    "tau_invariants",
]


def _check_aru(model, what: str) -> ARU:
    if not isinstance(model, ARU):
        raise InputError(
            f"{what}: got a {type(model).__name__}, expected an ARU (a model with two time "
            f"constants per unit, tau_s and tau_r)"
        )
    return model


def _pairs(model: ARU) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for layer in model.layers:
        ts, tr = np.asarray(layer.tau_s.tau()), np.asarray(layer.tau_r.tau())
        ts, tr = np.broadcast_arrays(ts, tr)
        out.append((ts.astype(np.float64), tr.astype(np.float64)))
    return out


def tau_invariants(model):
    r"""The exchange-invariant combinations of an ARU's time constants.

    $\tau_1 = \tau_s + \tau_r$ and $\tau_2 = \tau_s\,\tau_r$: with a linear activation the
    model's outputs depend on the pair only through these.

    **Arguments:**

    - `model`: an `ARU`.

    **Returns:** `(tau_1, tau_2)` as NumPy arrays of shape `(1,)` (global time constants)
    or `(n,)` (local, or one global and one local); for stacked layers, a tuple of such
    pairs, one per layer.

    **Raises:** `InputError` for a model that is not an ARU.
    """
    _check_aru(model, "model")
    pairs = [(ts + tr, ts * tr) for ts, tr in _pairs(model)]
    return pairs[0] if len(pairs) == 1 else tuple(pairs)


def _same_kind(a: AbstractTimeConstant, b: AbstractTimeConstant) -> bool:
    la, lb = a.raw(), b.raw()
    return (
        type(a) is type(b)
        and la.shape == lb.shape
        and la.dtype == lb.dtype
        and jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    )


def swap_time_constants(model):
    """The same ARU with tau_s and tau_r exchanged in every layer (and every neuron).

    When the two time constants have the same parametrisation and shape (the usual case)
    their parameter leaves are exchanged as they are, so the swap is exact. Otherwise new
    leaves are computed that represent the exchanged values in each one's own
    parametrisation (static, `sigmoid` or `softplus`).

    **Arguments:**

    - `model`: an `ARU`.

    **Returns:** the swapped `ARU`.

    **Raises:** `InputError` for a model that is not an ARU, or when a value cannot be
    represented after the exchange (a global time constant receiving per-neuron values
    that differ; a sigmoid-parametrised tau <= dt; a softplus one <= tau_min).
    """
    _check_aru(model, "model")
    for k, layer in enumerate(model.layers):
        suffix = "" if len(model.layers) == 1 else f" (layer {k})"
        if _same_kind(layer.tau_s, layer.tau_r):
            new_s, new_r = layer.tau_r, layer.tau_s
        else:
            new_s = layer.tau_s.with_tau(np.asarray(layer.tau_r.tau()), name=f"tau_s{suffix}")
            new_r = layer.tau_r.with_tau(np.asarray(layer.tau_s.tau()), name=f"tau_r{suffix}")
        model = eqx.tree_at(
            lambda m, k=k: (m.layers[k].tau_s, m.layers[k].tau_r), model, (new_s, new_r)
        )
    return model


def masked_mse(outputs: Array, targets: Array, mask: Array | None = None) -> Array:
    """The per-step squared error, mean over outputs, summed over time, mean over
    sequences (the paper's loss), with an optional 0/1 (or weight) mask of the same shape
    as `targets`.

    **Returns:** a scalar.
    """
    err = (outputs - targets) ** 2
    if mask is not None:
        err = err * mask
    return jnp.mean(jnp.sum(jnp.mean(err, axis=-1), axis=-2))


@dataclasses.dataclass(frozen=True)
class ExchangeProfile:
    r"""The loss of an ARU at its fitted time constants, at the swapped pair, and along
    two paths between them, from `exchange_profile`.

    Both paths run over `s` in [0, 1] from the fitted pair (s = 0) to the swapped pair
    (s = 1) through the diagonal $\tau_s = \tau_r$ (s = 1/2), element-wise for per-neuron
    time constants:

    - constant $\tau_1$: $\tau_s(s) = (1-s)\,\tau_s + s\,\tau_r$, $\tau_r(s) = \tau_1 - \tau_s(s)$
        ($\tau_2$ varies);
    - constant $\tau_2$: $\tau_s(s) = \tau_s^{1-s}\tau_r^{s}$, $\tau_r(s) = \tau_2/\tau_s(s)$
        ($\tau_1$ varies).

    **Fields:**

    - `tau_s`, `tau_r`: the fitted time constants (lists, one array per layer).
    - `tau_1`, `tau_2`: their invariants $\tau_s + \tau_r$ and $\tau_s\tau_r$ (the same).
    - `loss_fitted`, `loss_swapped`: the loss at the fitted and at the swapped pair.
    - `s`: the path parameter, an array in [0, 1].
    - `loss_constant_tau1`, `loss_constant_tau2`: the loss along each path, one per `s`.
    - `relative_gap`: (swapped - fitted) / max(|fitted|, `atol`).
    - `distinguishable`: the verdict, `loss_swapped - loss_fitted > margin * |loss_fitted|
        + atol`.
    - `margin`, `atol`: the relative and absolute thresholds that produced it.
    """

    tau_s: list
    tau_r: list
    tau_1: list
    tau_2: list
    loss_fitted: float
    loss_swapped: float
    s: np.ndarray
    loss_constant_tau1: np.ndarray
    loss_constant_tau2: np.ndarray
    relative_gap: float
    distinguishable: bool
    margin: float
    atol: float

    def to_dict(self) -> dict:
        """A JSON-ready dict."""

        def lst(v):
            return [np.asarray(a).tolist() for a in v]

        return {
            "tau_s": lst(self.tau_s),
            "tau_r": lst(self.tau_r),
            "tau_1": lst(self.tau_1),
            "tau_2": lst(self.tau_2),
            "loss_fitted": self.loss_fitted,
            "loss_swapped": self.loss_swapped,
            "s": self.s.tolist(),
            "loss_constant_tau1": self.loss_constant_tau1.tolist(),
            "loss_constant_tau2": self.loss_constant_tau2.tolist(),
            "relative_gap": self.relative_gap,
            "distinguishable": self.distinguishable,
            "margin": self.margin,
            "atol": self.atol,
        }


def _set_fixed(model: ARU, taus) -> ARU:
    """The model with every layer's time constants replaced by fixed values (traceable)."""

    def where(m):
        return tuple(x for layer in m.layers for x in (layer.tau_s, layer.tau_r))

    new = tuple(FixedTau(v) for pair in taus for v in pair)
    return eqx.tree_at(where, model, new)


def exchange_profile(
    model,
    inputs,
    targets,
    *,
    mask=None,
    n: int = 11,
    margin: float = 0.01,
    atol: float = 1e-10,
    loss_fn: Callable | None = None,
) -> ExchangeProfile:
    r"""Tests whether an ARU's fitted time-constant pair is distinguishable from its swap.

    Evaluates the loss on `(inputs, targets)` at the fitted pair, at the swapped pair
    $(\tau_r, \tau_s)$ (which has the same $\tau_1$, $\tau_2$) and along the two paths
    between them described in `ExchangeProfile`. The pair is *distinguishable* when the
    swapped loss exceeds the fitted one by more than `margin` relative to the fitted loss
    (and by more than `atol` in absolute terms):
    `loss_swapped - loss_fitted > margin * loss_fitted + atol`.

    With a linear activation the two losses agree to rounding (docs/model.md, "Exchange symmetry"; tested); with
    a sigmoid they differ. All path points are evaluated in one compiled, vmapped program
    with the time constants held fixed (`FixedTau`), so any parametrisation works.

    **Arguments:**

    - `model`: a (fitted) `ARU`.
    - `inputs`: `(B, T, n_in)` or `(T, n_in)`.
    - `targets`: the outputs to match, shape `(B, T, n_out)` or `(T, n_out)`.
    - `mask`: optional weights of the same shape as `targets` (e.g. a task's output mask).
    - `n`: number of points on each path (>= 3, so that the midpoint is included when odd).
    - `margin`, `atol`: the verdict's relative and absolute thresholds.
    - `loss_fn`: `loss_fn(outputs, targets, mask) -> scalar`; default `masked_mse`.

    **Returns:** an `ExchangeProfile`.

    **Raises:** `InputError` for a model that is not an ARU, `targets`/`mask` shapes that
    do not match the outputs, or `n < 3`.
    """
    from .._solve import check_inputs, model_dtype, simulate

    _check_aru(model, "model")
    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise InputError(f"n: got {n!r}, expected an integer >= 3")
    if not (margin >= 0 and atol >= 0):
        raise InputError(f"margin, atol: got {margin!r}, {atol!r}, expected non-negative numbers")
    xs = check_inputs(model, inputs)
    dtype = model_dtype(model)
    out_shape = xs.shape[:-1] + (model.n_out,)
    ys = jnp.asarray(targets, dtype=dtype)
    if ys.shape != out_shape:
        raise InputError(f"targets: got shape {tuple(ys.shape)}, expected {out_shape}")
    mk = None
    if mask is not None:
        mk = jnp.asarray(mask, dtype=dtype)
        if mk.shape != out_shape:
            raise InputError(f"mask: got shape {tuple(mk.shape)}, expected {out_shape}")
    loss_fn = masked_mse if loss_fn is None else loss_fn
    pairs = _pairs(model)

    def loss_at(taus):
        m = _set_fixed(model, taus)
        return loss_fn(simulate(m, xs).outputs, ys, mk)

    s = np.linspace(0.0, 1.0, n)
    path1, path2 = [], []
    for ts, tr in pairs:
        t1, t2 = ts + tr, ts * tr
        a = (1 - s)[:, None] * ts[None] + s[:, None] * tr[None]
        path1.append((a, t1[None] - a))
        g = ts[None] ** (1 - s)[:, None] * tr[None] ** s[:, None]
        path2.append((g, t2[None] / g))
    fitted = [(ts, tr) for ts, tr in pairs]
    swapped = [(tr, ts) for ts, tr in pairs]

    def stack(points):
        # points: list over path positions of list over layers of (ts, tr)
        return [
            (
                jnp.asarray(np.stack([p[k][0] for p in points]), dtype=dtype),
                jnp.asarray(np.stack([p[k][1] for p in points]), dtype=dtype),
            )
            for k in range(len(pairs))
        ]

    all_points = (
        [fitted, swapped]
        + [[(p[0][i], p[1][i]) for p in path1] for i in range(n)]
        + [[(p[0][i], p[1][i]) for p in path2] for i in range(n)]
    )
    losses = np.asarray(jax.jit(jax.vmap(loss_at))(stack(all_points)), dtype=np.float64)
    loss_fitted, loss_swapped = float(losses[0]), float(losses[1])
    gap = loss_swapped - loss_fitted
    denom = max(abs(loss_fitted), atol)
    rel = gap / denom if denom > 0 else (0.0 if gap == 0 else math.copysign(math.inf, gap))
    return ExchangeProfile(
        tau_s=[p[0] for p in pairs],
        tau_r=[p[1] for p in pairs],
        tau_1=[p[0] + p[1] for p in pairs],
        tau_2=[p[0] * p[1] for p in pairs],
        loss_fitted=loss_fitted,
        loss_swapped=loss_swapped,
        s=s,
        loss_constant_tau1=losses[2 : 2 + n],
        loss_constant_tau2=losses[2 + n :],
        relative_gap=float(rel),
        distinguishable=bool(gap > margin * abs(loss_fitted) + atol),
        margin=float(margin),
        atol=float(atol),
    )


def plot_exchange_profile(profile: ExchangeProfile, *, title: str | None = None, ax=None):
    """The loss along the two exchange paths (constant tau_1, constant tau_2), from the
    fitted pair (s = 0) to the swapped pair (s = 1), the diagonal tau_s = tau_r at s = 1/2.

    **Arguments:**

    - `profile`: an `ExchangeProfile` from `exchange_profile`.
    - `title`: the axes' title (default: the verdict).
    - `ax`: draw into this axes (else a new figure).

    **Returns:** the matplotlib `Figure`.
    """
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(5, 3.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.plot(profile.s, profile.loss_constant_tau1, "o-", ms=3, label=r"constant $\tau_1$")
    ax.plot(profile.s, profile.loss_constant_tau2, "s--", ms=3, label=r"constant $\tau_2$")
    ax.axvline(0.5, color="0.7", lw=0.8, label=r"$\tau_s = \tau_r$")
    ax.set_xticks([0, 0.5, 1], ["fitted", "diagonal", "swapped"])
    ax.set_ylabel("loss")
    verdict = "distinguishable" if profile.distinguishable else "not distinguishable"
    ax.set_title(title or f"exchange profile: {verdict}")
    ax.legend(fontsize=8)
    return fig
