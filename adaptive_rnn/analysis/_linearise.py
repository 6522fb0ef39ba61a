"""The linearisation of any model around one state, and the pieces the fixed-point
search shares with it: the model and input checks and the flattened field.

Works on the flattened state of any `AbstractRNN` (ARU `(I, r)`, stacked ARU
`(I_1, r_1, ...)`, CTRNN `(v,)`, shunting `(V,)`), through the model interface only:
`resolve()`, `drive(resolved, x)` and the continuous-time `field(t, y, (resolved, drive))`.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, ArrayLike, Float

from .._errors import InputError
from .._solve import model_dtype
from ..models import AbstractRNN

__all__ = [
    "Linearisation",
    "effective_time_constants",
    "flatten_states",
    "linearise",
]


# --------------------------------------------------------------------------------------
# Checks and the flattened field
# --------------------------------------------------------------------------------------


def _check_model(model, what: str = "model") -> AbstractRNN:
    if not isinstance(model, AbstractRNN):
        raise InputError(
            f"{what}: got {type(model).__name__}, expected an adaptive_rnn model (a subclass "
            f"of AbstractRNN with a continuous-time field, e.g. ARU, CTRNN, Shunting)"
        )
    return model


def _check_input(model: AbstractRNN, x, dtype) -> Array:
    if x is None:
        return jnp.zeros((model.n_in,), dtype=dtype)
    arr = np.asarray(x)
    if arr.shape != (model.n_in,):
        raise InputError(
            f"x: got shape {arr.shape}, expected a constant input of shape ({model.n_in},) "
            f"(n_in of the model)"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError(f"x: got non-finite values {arr}, expected finite values")
    return jnp.asarray(arr, dtype=dtype)


def _flat_field(model: AbstractRNN, x: Array, t: float):
    """`(F, unravel, y0_flat)` with `F(y_flat) = ravel(model.field(t, unravel(y), args))`."""
    resolved = model.resolve()
    y0 = model.initial_state(resolved)
    y0_flat, unravel = ravel_pytree(tuple(y0))
    drive = model.drive(resolved, x)

    def F(y_flat):
        dy = model.field(t, unravel(y_flat), (resolved, drive))
        return ravel_pytree(tuple(dy))[0]

    return F, unravel, y0_flat


def flatten_states(states) -> np.ndarray:
    """Concatenates state variables along their last axis, in the order of the model's
    state tuple (the order of `jax.flatten_util.ravel_pytree` on one state).

    **Arguments:**

    - `states`: a `Trajectory.states` dict (e.g. `{"I": (..., n), "r": (..., n)}`), or a
        tuple of arrays with the same leading axes.

    **Returns:** a NumPy array of shape `(..., n_state)`.
    """
    if isinstance(states, dict):
        states = tuple(states.values())
    if not isinstance(states, (tuple, list)) or not states:
        raise InputError(
            f"states: got {type(states).__name__}, expected a dict or tuple of state arrays"
        )
    return np.concatenate([np.asarray(s) for s in states], axis=-1)


# --------------------------------------------------------------------------------------
# Linearisation
# --------------------------------------------------------------------------------------


def effective_time_constants(eigenvalues: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Time constants and oscillation periods of linear modes.

    A mode $e^{\lambda t}$ decays with time constant $\tau = -1/\mathrm{Re}\,\lambda$ and
    oscillates with period $2\pi/|\mathrm{Im}\,\lambda|$.

    **Arguments:**

    - `eigenvalues`: complex eigenvalues of a Jacobian (in 1 / the model's time units).

    **Returns:** `(time_constants, periods)`, same shape as `eigenvalues`. A growing mode
    (Re > 0) has a negative time constant (its e-folding growth time, negated); a mode
    with Re = 0 has an infinite one; a real eigenvalue has an infinite period.
    """
    lam = np.asarray(eigenvalues).astype(np.complex128)
    with np.errstate(divide="ignore"):
        tau = np.where(lam.real == 0, np.inf, -1.0 / np.where(lam.real == 0, 1.0, lam.real))
        period = np.where(
            lam.imag == 0, np.inf, 2 * np.pi / np.where(lam.imag == 0, 1.0, np.abs(lam.imag))
        )
    return tau, period


@dataclasses.dataclass(frozen=True)
class Linearisation:
    """The linearisation `dy/dt ~ J (y - y*)` of a model's field around one state.

    **Fields:**

    - `state`: the flattened state `y*`, shape `(n_state,)`.
    - `jacobian`: `J = dF/dy` at `y*`, shape `(n_state, n_state)`.
    - `eigenvalues`: eigenvalues of `J`, sorted by decreasing real part.
    - `time_constants`: `-1/Re(lambda)` per eigenvalue (see `effective_time_constants`).
    - `periods`: `2 pi / |Im(lambda)|` per eigenvalue (infinite for real ones).
    - `stable`: `True` if every eigenvalue has a negative real part.
    """

    state: np.ndarray
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    time_constants: np.ndarray
    periods: np.ndarray
    stable: bool


def _spectrum(J: np.ndarray):
    lam = np.linalg.eigvals(np.asarray(J, dtype=np.float64))
    order = np.lexsort((-lam.imag, -lam.real))
    lam = lam[order]
    tau, period = effective_time_constants(lam)
    return lam, tau, period


def linearise(
    model,
    state,
    x: Float[ArrayLike, " n_in"] | None = None,
    *,
    t: float = 0.0,
) -> Linearisation:
    r"""Linearises a model's continuous-time field around one state under a constant input.

    $J = \partial F / \partial y$ with $F(y) = $ `model.field(t, y, (resolved, drive(x)))`
    on the flattened state (for the ARU, $y = (I, r)$ and
    $J = \begin{pmatrix} -1/\tau_s & W/\tau_s \\ f'(I)/\tau_r & -1/\tau_r\end{pmatrix}$).
    Eigenvalues are computed in float64 with NumPy (works on every backend).

    **Arguments:**

    - `model`: any adaptive_rnn model.
    - `state`: the state, as the model's state tuple or flattened, shape `(n_state,)`.
    - `x`: the constant input, shape `(n_in,)`; default zeros.
    - `t`: the time passed to the field (the fields are autonomous; default 0).

    **Returns:** a `Linearisation`.

    **Raises:** `InputError` for a model that is not an adaptive_rnn model, or a state or
    input of the wrong shape. (`model` is checked by hand rather than annotated, so that
    the error is the same with and without runtime type checking.)
    """
    _check_model(model)
    dtype = model_dtype(model)
    xv = _check_input(model, x, dtype)
    F, unravel, y0_flat = _flat_field(model, xv, t)
    y = state if not isinstance(state, (tuple, list)) else ravel_pytree(tuple(state))[0]
    y = np.asarray(y)
    if y.shape != y0_flat.shape:
        raise InputError(
            f"state: got shape {y.shape}, expected the flattened state of shape "
            f"{tuple(y0_flat.shape)} or the model's state tuple"
        )
    J = np.asarray(jax.jacfwd(F)(jnp.asarray(y, dtype=y0_flat.dtype)))
    lam, tau, period = _spectrum(J)
    return Linearisation(
        state=y,
        jacobian=J,
        eigenvalues=lam,
        time_constants=tau,
        periods=period,
        stable=bool(np.all(lam.real < 0)),
    )
