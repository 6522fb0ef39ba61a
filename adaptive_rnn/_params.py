"""Parametrisations: time constants that stay positive, frozen leaves.

Parameters are stored as raw, unconstrained leaves and resolved once at the top of a
forward pass (the "unwrap" pattern). A leaf that must not be trained (a fixed time
constant, a mask, a sign matrix) lives inside an `AbstractFrozen` module: the trainer
partitions the model with `trainable_filter` so that neither gradients nor weight decay
ever touch it.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PyTree

from ._checks import as_float_array, check_choice, check_positive
from ._errors import InputError


class AbstractFrozen(eqx.Module):
    """Base for modules whose array leaves are never trained.

    `trainable_filter` marks every leaf inside such a module as not trainable.
    """


class Frozen(AbstractFrozen):
    """A constant array carried by a model (a mask, a sign vector) that is never trained."""

    value: Array


def is_frozen(x) -> bool:
    return isinstance(x, AbstractFrozen)


def trainable_filter(tree: PyTree) -> PyTree[bool]:
    """A filter spec: `True` for floating-point array leaves that training may change.

    Leaves inside an `AbstractFrozen` module (fixed time constants, masks, Dale signs) and
    non-float leaves are `False`. Use with `eqx.partition(model, trainable_filter(model))`.
    """

    def leaf(x):
        if is_frozen(x):
            return jax.tree_util.tree_map(lambda _: False, x)
        return eqx.is_inexact_array(x)

    return jax.tree_util.tree_map(leaf, tree, is_leaf=is_frozen)


# --------------------------------------------------------------------------------------
# Time constants
# --------------------------------------------------------------------------------------

SIGMOID_SLOPE = 1.5  # the paper's alpha = sigmoid(1.5 w)


class AbstractTimeConstant(eqx.Module):
    """A time constant (one per layer, shape `(1,)`, or one per neuron, shape `(n,)`).

    Subclasses implement `tau()`, which returns a positive array in the model's time
    units. The rate constant for a step `dt` is `alpha = dt / tau`.
    """

    def tau(self) -> Float[Array, " k"]:
        raise NotImplementedError

    def alpha(self, dt: float) -> Float[Array, " k"]:
        return dt / self.tau()

    @property
    def learnable(self) -> bool:
        return not is_frozen(self)

    @property
    def kind(self) -> str:
        raise NotImplementedError


class FixedTau(AbstractTimeConstant, AbstractFrozen):
    """A fixed (static) time constant: any positive value, never trained.

    A fixed rate constant `alpha = dt / tau` may exceed 1 (the paper's grid searches use
    alphas up to 1.23); `ARU` refuses `alpha >= 2`, where explicit Euler is unstable.
    """

    value: Float[Array, " k"]

    def tau(self):
        return self.value

    @property
    def kind(self) -> str:
        return "fixed"


class SigmoidRate(AbstractTimeConstant):
    r"""The paper's parametrisation: $\alpha = \sigma(1.5\,w)$, so $0 < \alpha < 1$.

    `tau = dt_ref / alpha`, with `dt_ref` the step at which the rate constant is defined
    (the model's `dt` at construction). Keeps `tau > dt_ref`: the discrete recurrence is a
    convex combination at every step. Not suited to continuous-time use with a step
    different from `dt_ref`: prefer `SoftplusTau` there.
    """

    w: Float[Array, " k"]
    dt_ref: float = eqx.field(static=True)

    def tau(self):
        return self.dt_ref / jax.nn.sigmoid(SIGMOID_SLOPE * self.w)

    def alpha(self, dt: float):
        a = jax.nn.sigmoid(SIGMOID_SLOPE * self.w)
        # Exact when dt == dt_ref (avoids the round trip through tau).
        return a if dt == self.dt_ref else dt / (self.dt_ref / a)

    @property
    def kind(self) -> str:
        return "sigmoid"


class SoftplusTau(AbstractTimeConstant):
    r"""Continuous-time parametrisation: $\tau = \tau_{min} + \mathrm{softplus}(\theta)$.

    Positive and above the floor `tau_min` for any `theta`, so an explicit Euler step
    `dt <= tau_min` can never overshoot the leak (alpha <= 1) whatever training does.
    """

    theta: Float[Array, " k"]
    tau_min: float = eqx.field(static=True)

    def tau(self):
        return self.tau_min + jax.nn.softplus(self.theta)

    @property
    def kind(self) -> str:
        return "softplus"


PARAMETRISATIONS = ("sigmoid", "softplus")
MODES = ("static", "global", "local")


def _fmt(x: np.ndarray) -> str:
    x = np.asarray(x)
    if x.size == 1:
        return f"{float(x.reshape(())):.4g}"
    return np.array2string(x, precision=4, threshold=8)


def _inverse_softplus(x: np.ndarray) -> np.ndarray:
    # log(exp(x) - 1), stable for large x.
    return x + np.log(-np.expm1(-x))


def make_time_constant(
    *,
    name: str,
    mode: str,
    parametrisation: str,
    n: int,
    dt: float,
    tau_min: float,
    tau: ArrayLike | None = None,
    alpha: ArrayLike | None = None,
    dtype=None,
) -> AbstractTimeConstant:
    """Builds a time constant from an initial value given as `tau` or as `alpha = dt/tau`.

    **Arguments:**

    - `name`: used in error messages (`"tau_s"`, `"tau_r"`, ...).
    - `mode`: `"static"` (fixed), `"global"` (one learnable value for the layer) or
        `"local"` (one learnable value per neuron).
    - `parametrisation`: `"sigmoid"` (the paper's) or `"softplus"` (continuous time).
        Ignored for `"static"`.
    - `n`: number of neurons.
    - `dt`: the model's time step.
    - `tau_min`: the floor of the softplus parametrisation.
    - `tau` / `alpha`: initial value (exactly one of them), a scalar or an array of shape
        `(n,)` (or `(1,)`).

    **Raises:** `InputError` (a `ValueError`) for an unknown mode or parametrisation, a
    non-positive or non-finite value, a value the parametrisation cannot represent, or a
    wrong shape.
    """
    check_choice(f"{name} mode", mode, MODES)
    check_choice(f"{name} parametrisation", parametrisation, PARAMETRISATIONS)
    if (tau is None) == (alpha is None):
        raise InputError(
            f"{name}: got {'both tau and alpha' if tau is not None else 'neither tau nor alpha'}, "
            f"expected exactly one of them"
        )
    check_positive("dt", dt)
    given = "alpha" if tau is None else "tau"
    value = as_float_array(f"{name} (initial {given})", alpha if tau is None else tau)
    if value.ndim > 1 or (value.ndim == 1 and value.shape[0] not in (1, n)):
        raise InputError(
            f"{name}: initial {given} has shape {value.shape}, expected a scalar or "
            f"shape ({n},)"
        )
    if not np.all(np.isfinite(value)) or np.any(value <= 0):
        raise InputError(
            f"{name}: initial {given} must be positive and finite, got "
            f"{_fmt(value)}"
        )
    tau_v = value if given == "tau" else dt / value
    # Local: one per neuron. Static: one per neuron if given per neuron, else shared.
    per_neuron_given = tau_v.ndim == 1 and tau_v.shape[0] == n and n > 1
    size = n if (mode == "local" or (mode == "static" and per_neuron_given)) else 1
    if tau_v.ndim == 1 and tau_v.shape[0] == n and n != size:
        if not np.allclose(tau_v, tau_v[0]):
            raise InputError(
                f"{name}: per-neuron initial {given} given for a {mode!r} time constant; "
                f"use mode 'local' or a scalar"
            )
        tau_v = tau_v[:1]
    tau_v = np.broadcast_to(tau_v, (size,)).copy()
    dtype = jnp.result_type(float) if dtype is None else dtype

    if mode == "static":
        return FixedTau(jnp.asarray(tau_v, dtype=dtype))
    if parametrisation == "sigmoid":
        a = dt / tau_v
        if np.any(a >= 1):
            raise InputError(
                f"{name}: the sigmoid parametrisation keeps alpha = dt/tau in (0, 1), got "
                f"initial alpha {_fmt(a)}; use "
                f"mode 'static' for alpha >= 1"
            )
        w = np.log(a / (1 - a)) / SIGMOID_SLOPE
        return SigmoidRate(jnp.asarray(w, dtype=dtype), float(dt))
    if np.any(tau_v <= tau_min):
        raise InputError(
            f"{name}: the softplus parametrisation keeps tau > tau_min = {tau_min}, got "
            f"initial tau {_fmt(tau_v)}"
        )
    theta = _inverse_softplus(tau_v - tau_min)
    return SoftplusTau(jnp.asarray(theta, dtype=dtype), float(tau_min))
