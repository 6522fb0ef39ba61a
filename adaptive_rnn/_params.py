"""Parametrisations: time constants that stay positive, frozen leaves.

Parameters are stored as raw, unconstrained leaves and resolved once at the top of a
forward pass (the "unwrap" pattern). A leaf that must not be trained (a fixed time
constant, a mask, a sign matrix) lives inside an `AbstractFrozen` module: the trainer
partitions the model with `trainable_filter` so that neither gradients nor weight decay
ever touch it.

Why one file of over 400 lines: it is the one home of time-constant maths. The
parametrisations (`FixedTau`, `SigmoidRate`, `SoftplusTau`), their forward and inverse
conversions between raw values, tau and alpha, the stability limit of explicit Euler and
`make_time_constant` must agree with each other, and every family, the sweeps and the
analyses read them here rather than keeping copies.
"""

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer
from jaxtyping import Array, ArrayLike, Float, PyTree

from ._checks import as_float_array, check_choice, check_positive
from ._errors import InputError


class AbstractFrozen(eqx.Module):
    """Base for modules whose array leaves are never trained.

    `trainable_filter` marks every leaf inside such a module as not trainable.
    """


class Frozen(AbstractFrozen):
    """A constant array carried by a model (a mask, a sign vector) that is never trained.

    **Fields:**

    - `value`: the array.
    """

    value: Array


def is_frozen(x: Any) -> bool:
    """Whether `x` is a frozen module (an `AbstractFrozen`: `Frozen`, `FixedTau`).

    **Arguments:**

    - `x`: anything (a pytree node).

    **Returns:** `True` for an `AbstractFrozen`.
    """
    return isinstance(x, AbstractFrozen)


def trainable_filter(tree: PyTree) -> PyTree[bool]:
    """A filter spec: `True` for floating-point array leaves that training may change.

    Leaves inside an `AbstractFrozen` module (fixed time constants, masks, Dale signs) and
    non-float leaves are `False`. Use with `eqx.partition(model, trainable_filter(model))`.

    **Arguments:**

    - `tree`: a model or any pytree.

    **Returns:** a pytree of booleans of the structure of `tree`.
    """

    def leaf(x):
        if is_frozen(x):
            return jax.tree_util.tree_map(lambda _: False, x)
        return eqx.is_inexact_array(x)

    return jax.tree_util.tree_map(leaf, tree, is_leaf=is_frozen)


# --------------------------------------------------------------------------------------
# Time constants
# --------------------------------------------------------------------------------------
#
# The one home of the time-constant maths: each parametrisation converts its raw leaf to
# tau (`tau()`, `alpha(dt)`) and back (`raw_from_tau`, `raw_from_alpha`), and
# `with_tau` / `with_alpha` give a time constant new values in its own parametrisation.
# `check_stable_alpha` is the one check of the values a time constant may take.

SIGMOID_SLOPE = 1.5  # the paper's alpha = sigmoid(1.5 w)
EULER_ALPHA_LIMIT = 2.0  # explicit Euler diverges at alpha = dt/tau >= 2
PARAMETRISATIONS = ("sigmoid", "softplus")
MODES = ("static", "global", "local")
FIXED_MODE = "static"
LEARNABLE_MODES = ("global", "local")


def _xp(x):
    """NumPy for concrete NumPy or Python values (float64 maths), `jax.numpy` for JAX
    arrays and tracers (traceable, in their own dtype)."""
    return jnp if isinstance(x, jax.Array) else np


def _as_values(x):
    return x if isinstance(x, jax.Array) else np.asarray(x, dtype=np.float64)


def _concrete(x) -> np.ndarray | None:
    """`x` as a float64 NumPy array, or `None` under tracing (no value to check)."""
    return None if isinstance(x, Tracer) else np.asarray(x, dtype=np.float64)


def _fmt(x: np.ndarray) -> str:
    x = np.asarray(x)
    if x.size == 1:
        return f"{float(x.reshape(())):.4g}"
    return np.array2string(x, precision=4, threshold=8)


def _inverse_softplus(x):
    """`log(exp(x) - 1)`, the inverse of softplus, stable for large `x` (NumPy or JAX)."""
    xp = _xp(x)
    return x + xp.log(-xp.expm1(-x))


def alpha_limit(mode: str, parametrisation: str, *, dt: float, tau_min: float) -> float:
    """The bound that a rate constant `alpha = dt / tau` must stay below.

    **Arguments:**

    - `mode`: `"static"` (fixed), `"global"` or `"local"` (learnable).
    - `parametrisation`: `"sigmoid"` or `"softplus"` (ignored for `"static"`).
    - `dt`: the model's time step; `tau_min`: the softplus floor.

    **Returns:** 2 for a fixed time constant (explicit Euler diverges at `alpha >= 2`);
    1 for a learnable sigmoid one (`alpha = sigmoid(1.5 w) < 1`); `min(2, dt / tau_min)`
    for a learnable softplus one (`tau > tau_min`).
    """
    if mode == FIXED_MODE:
        return EULER_ALPHA_LIMIT
    if parametrisation == "sigmoid":
        return 1.0
    return min(EULER_ALPHA_LIMIT, dt / tau_min)


def check_stable_alpha(
    name: str,
    *,
    alpha: ArrayLike | None = None,
    tau: ArrayLike | None = None,
    dt: float,
    mode: str = FIXED_MODE,
    parametrisation: str = "sigmoid",
    tau_min: float | None = None,
    initial: bool = False,
) -> None:
    """Refuses time constants whose rate constant `alpha = dt / tau` reaches
    `alpha_limit`: values a learnable parametrisation cannot hold, or a step at which
    explicit Euler diverges. The one check of the values a time constant may take.

    **Arguments:**

    - `name`: the time constant, for the message (`"tau_s"`, ...).
    - `alpha` or `tau` (or both, the same values): concrete values.
    - `dt`: the step `alpha` refers to; `mode`, `parametrisation`, `tau_min`: as
        `alpha_limit` (`tau_min` defaults to `dt`).
    - `initial`: the message calls them initial values.

    **Returns:** `None`; it only raises.

    **Raises:** `InputError` naming the time constant, the values and the bound.
    """
    tau_min = dt if tau_min is None else tau_min
    a = np.asarray(dt / np.asarray(tau, np.float64) if alpha is None else alpha, dtype=np.float64)
    t = np.asarray(dt / a if tau is None else tau, dtype=np.float64)
    if not np.any(a >= alpha_limit(mode, parametrisation, dt=dt, tau_min=tau_min)):
        return
    got = "got initial" if initial else "got"
    if mode != FIXED_MODE and parametrisation == "sigmoid":
        raise InputError(
            f"{name}: the sigmoid parametrisation keeps alpha = dt/tau in (0, 1), {got} alpha "
            f"{_fmt(a)} (expected tau > dt = {dt:g}); use mode 'static' for alpha >= 1"
        )
    if mode != FIXED_MODE and np.any(t <= tau_min):
        raise InputError(
            f"{name}: the softplus parametrisation keeps tau > tau_min = {tau_min}, {got} tau "
            f"{_fmt(t)}"
        )
    raise InputError(
        f"{name}: alpha = dt/tau reaches {float(np.max(a)):.4g} >= 2 at dt = {dt}; explicit "
        f"Euler diverges there. Expected alpha < 2 (tau > dt/2)."
    )


class AbstractTimeConstant(eqx.Module):
    """A time constant (one per layer, shape `(1,)`, or one per neuron, shape `(n,)`).

    A subclass stores one raw leaf (`raw()`) and converts it both ways: `tau()` (the
    positive values in the model's time units) and `raw_from_tau` (back). The rate
    constant for a step `dt` is `alpha = dt / tau`. `with_tau` / `with_alpha` give it
    new values in its own parametrisation. `tau`, `raw`, `raw_from_tau` and `kind` are
    abstract; the others have defaults.
    """

    @abc.abstractmethod
    def tau(self) -> Float[Array, " k"]:
        """The time constants, positive, in the model's time units.

        **Returns:** shape `(k,)`: `(1,)` for one per layer, `(n,)` for one per neuron.
        """

    def alpha(self, dt: float) -> Float[Array, " k"]:
        """The rate constants `dt / tau` for a step `dt`.

        **Arguments:**

        - `dt`: the step.

        **Returns:** shape `(k,)`, as `tau()`.
        """
        return dt / self.tau()

    @property
    def learnable(self) -> bool:
        """Whether training may change it (`False` for a frozen one)."""
        return not is_frozen(self)

    @property
    @abc.abstractmethod
    def kind(self) -> str:
        """The parametrisation's name: `"fixed"`, `"sigmoid"` or `"softplus"`."""

    @abc.abstractmethod
    def raw(self) -> Any:
        """The stored (raw) leaf, shape `(k,)`.

        **Returns:** the leaf. Not annotated as an array: `with_tau` also calls it as an
        `equinox.tree_at` selector, where it returns a placeholder.
        """

    @abc.abstractmethod
    def raw_from_tau(self, tau: Float[ArrayLike, "*k"]) -> Float[ArrayLike, "*k"]:
        """The raw values that represent the time constants `tau`.

        **Arguments:**

        - `tau`: positive values, NumPy (converted in float64) or JAX (traceable).

        **Returns:** the raw values, NumPy for NumPy values, JAX for JAX values.
        """

    def raw_from_alpha(self, alpha: Float[ArrayLike, "*k"], dt: float) -> Float[ArrayLike, "*k"]:
        """The raw values that represent the rate constants `alpha = dt / tau`.

        **Arguments:**

        - `alpha`: rate constants in (0, 2), NumPy or JAX; `dt`: the step they refer to.

        **Returns:** the raw values (NumPy or JAX, as `alpha`).
        """
        return self.raw_from_tau(dt / alpha)

    def limits(self) -> dict | None:
        """The `check_stable_alpha` arguments (`dt`, `mode`, `parametrisation`, `tau_min`)
        of the values this parametrisation can hold.

        **Returns:** the dict, or `None` (any positive value).
        """
        return None

    def with_tau(self, tau: ArrayLike, *, name: str = "tau") -> "AbstractTimeConstant":
        """This time constant (same parametrisation, shape and dtype) holding `tau`.

        Traceable: under `jit`/`vmap` the values are converted but not checked.

        **Arguments:**

        - `tau`: a scalar or one value per element (a time constant of shape `(1,)` also
            takes `n` equal values).
        - `name`: for error messages.

        **Returns:** the new time constant.

        **Raises:** `InputError` for concrete values that are not positive and finite,
        that this parametrisation cannot hold (`limits`), or that differ across neurons
        for a time constant of shape `(1,)`.
        """
        return self._with(_as_values(tau), None, name)

    def with_alpha(
        self, alpha: ArrayLike, dt: float, *, name: str = "tau"
    ) -> "AbstractTimeConstant":
        """This time constant holding the rate constants `alpha = dt / tau`.

        **Arguments:**

        - `alpha`: as `tau` of `with_tau`; `dt`: the step they refer to.
        - `name`: for error messages.

        **Returns:** the new time constant.

        **Raises:** as `with_tau`.
        """
        return self._with(_as_values(alpha), dt, name)

    def _with(self, values, dt, name):
        leaf = self.raw()
        given = "tau" if dt is None else "alpha"
        v = _concrete(values)
        if v is not None:
            if not np.all(np.isfinite(v)) or np.any(v <= 0):
                raise InputError(f"{name}: {given} must be positive and finite, got {_fmt(v)}")
            if leaf.shape[0] == 1 and v.size > 1:
                if np.any(v != v.reshape(-1)[0]):
                    raise InputError(
                        f"{name}: holds one value for the layer, got {given} {_fmt(v)}, which "
                        f"differ across neurons; expected one value (or a 'local' time constant)"
                    )
                values = values.reshape(-1)[:1]
            lim = self.limits()
            if lim is not None:
                if dt is None:
                    check_stable_alpha(name, tau=v, alpha=lim["dt"] / v, **lim)
                else:  # alpha at the step of the limits (exact when it is dt)
                    a = v if dt == lim["dt"] else v * (lim["dt"] / dt)
                    check_stable_alpha(name, tau=dt / v, alpha=a, **lim)
        raw = self.raw_from_tau(values) if dt is None else self.raw_from_alpha(values, dt)
        new = jnp.asarray(_xp(raw).broadcast_to(raw, leaf.shape), dtype=leaf.dtype)
        return eqx.tree_at(lambda t: t.raw(), self, new)


class FixedTau(AbstractTimeConstant, AbstractFrozen):
    """A fixed (static) time constant: any positive value, never trained.

    A fixed rate constant `alpha = dt / tau` may exceed 1 (the paper's grid searches use
    alphas up to 1.23); `make_time_constant` refuses `alpha >= 2`, where explicit Euler
    is unstable (`check_stable_alpha`).

    **Fields:**

    - `value`: the time constants `tau`, shape `(k,)`.
    """

    value: Float[Array, " k"]

    def tau(self) -> Float[Array, " k"]:
        return self.value

    def raw(self) -> Any:
        return self.value

    def raw_from_tau(self, tau: Float[ArrayLike, "*k"]) -> Float[ArrayLike, "*k"]:
        return tau

    @property
    def kind(self) -> str:
        return "fixed"


class SigmoidRate(AbstractTimeConstant):
    r"""The paper's parametrisation: $\alpha = \sigma(1.5\,w)$, so $0 < \alpha < 1$.

    `tau = dt_ref / alpha`, with `dt_ref` the step at which the rate constant is defined
    (the model's `dt` at construction). Keeps `tau > dt_ref`: the discrete recurrence is a
    convex combination at every step. Not suited to continuous-time use with a step
    different from `dt_ref`: prefer `SoftplusTau` there.

    **Fields:**

    - `w`: the raw values, shape `(k,)`.
    - `dt_ref`: the step at which `alpha = sigmoid(1.5 w)` is defined.
    """

    w: Float[Array, " k"]
    dt_ref: float = eqx.field(static=True)

    def tau(self) -> Float[Array, " k"]:
        return self.dt_ref / jax.nn.sigmoid(SIGMOID_SLOPE * self.w)

    def alpha(self, dt: float) -> Float[Array, " k"]:
        a = jax.nn.sigmoid(SIGMOID_SLOPE * self.w)
        # Exact when dt == dt_ref (avoids the round trip through tau).
        return a if dt == self.dt_ref else dt / (self.dt_ref / a)

    def raw(self) -> Any:
        return self.w

    @staticmethod
    def w_from_alpha(alpha: Float[ArrayLike, "*k"]) -> Float[ArrayLike, "*k"]:
        r"""The inverse of $\alpha = \sigma(1.5\,w)$: $w = \mathrm{logit}(\alpha) / 1.5$.

        **Arguments:**

        - `alpha`: rate constants in (0, 1) at the step `dt_ref`, NumPy or JAX.

        **Returns:** `w`, NumPy or JAX as `alpha`.
        """
        xp = _xp(alpha)
        return xp.log(alpha / (1 - alpha)) / SIGMOID_SLOPE

    def raw_from_alpha(self, alpha: Float[ArrayLike, "*k"], dt: float) -> Float[ArrayLike, "*k"]:
        # From alpha directly when dt == dt_ref (no round trip through tau).
        return self.w_from_alpha(alpha if dt == self.dt_ref else alpha * (self.dt_ref / dt))

    def raw_from_tau(self, tau: Float[ArrayLike, "*k"]) -> Float[ArrayLike, "*k"]:
        return self.w_from_alpha(self.dt_ref / tau)

    def limits(self) -> dict:
        return {"dt": self.dt_ref, "mode": "global", "parametrisation": "sigmoid"}

    @property
    def kind(self) -> str:
        return "sigmoid"


class SoftplusTau(AbstractTimeConstant):
    r"""Continuous-time parametrisation: $\tau = \tau_{min} + \mathrm{softplus}(\theta)$.

    Positive and above the floor `tau_min` for any `theta`, so an explicit Euler step
    `dt <= tau_min` can never overshoot the leak (alpha <= 1) whatever training does.

    **Fields:**

    - `theta`: the raw values, shape `(k,)`.
    - `tau_min`: the floor.
    """

    theta: Float[Array, " k"]
    tau_min: float = eqx.field(static=True)

    def tau(self) -> Float[Array, " k"]:
        return self.tau_min + jax.nn.softplus(self.theta)

    def raw(self) -> Any:
        return self.theta

    @staticmethod
    def theta_from_tau(tau: Float[ArrayLike, "*k"], tau_min: float) -> Float[ArrayLike, "*k"]:
        r"""The inverse of $\tau = \tau_{min} + \mathrm{softplus}(\theta)$.

        **Arguments:**

        - `tau`: time constants above `tau_min`, NumPy or JAX; `tau_min`: the floor.

        **Returns:** `theta`, NumPy or JAX as `tau`.
        """
        return _inverse_softplus(tau - tau_min)

    def raw_from_tau(self, tau: Float[ArrayLike, "*k"]) -> Float[ArrayLike, "*k"]:
        return self.theta_from_tau(tau, self.tau_min)

    def limits(self) -> dict:
        # At dt = tau_min the bound alpha < 1 is tau > tau_min.
        return {
            "dt": self.tau_min,
            "mode": "global",
            "parametrisation": "softplus",
            "tau_min": self.tau_min,
        }

    @property
    def kind(self) -> str:
        return "softplus"


def _template(
    mode: str, parametrisation: str, size: int, dt: float, tau_min: float, dtype
) -> AbstractTimeConstant:
    """A time constant of this mode, parametrisation and size (placeholder values)."""
    zeros = jnp.zeros((size,), dtype=dtype)
    if mode == FIXED_MODE:
        return FixedTau(zeros)
    if parametrisation == "sigmoid":
        return SigmoidRate(zeros, float(dt))
    return SoftplusTau(zeros, float(tau_min))


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
    dtype: Any = None,
) -> AbstractTimeConstant:
    """Builds a time constant from an initial value given as `tau` or as `alpha = dt/tau`.

    The value is converted once, from the quantity given to the raw leaf
    (`AbstractTimeConstant.with_tau` / `with_alpha`), after `check_stable_alpha`.

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
    - `dtype`: of the stored leaf (default: JAX's default float).

    **Returns:** a `FixedTau`, `SigmoidRate` or `SoftplusTau` of shape `(1,)` or `(n,)`.

    **Raises:** `InputError` (a `ValueError`) for an unknown mode or parametrisation, a
    non-positive or non-finite value, a value the parametrisation cannot represent, a
    rate constant `alpha >= 2` (explicit Euler diverges), or a wrong shape.
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
            f"{name}: initial {given} has shape {value.shape}, expected a scalar or shape ({n},)"
        )
    if not np.all(np.isfinite(value)) or np.any(value <= 0):
        raise InputError(f"{name}: initial {given} must be positive and finite, got {_fmt(value)}")
    check_stable_alpha(
        name,
        **{given: value},
        dt=dt,
        mode=mode,
        parametrisation=parametrisation,
        tau_min=tau_min,
        initial=True,
    )
    # Local: one per neuron. Static: one per neuron if given per neuron, else shared.
    per_neuron = value.ndim == 1 and value.shape[0] == n and n > 1
    if per_neuron and mode != "local" and mode != FIXED_MODE and np.any(value != value[0]):
        raise InputError(
            f"{name}: per-neuron initial {given} given for a {mode!r} time constant; "
            f"use mode 'local' or a scalar"
        )
    size = n if (mode == "local" or (mode == FIXED_MODE and per_neuron)) else 1
    dtype = jnp.result_type(float) if dtype is None else dtype
    template = _template(mode, parametrisation, size, dt, tau_min, dtype)
    if given == "tau":
        return template.with_tau(value, name=name)
    return template.with_alpha(value, dt, name=name)
