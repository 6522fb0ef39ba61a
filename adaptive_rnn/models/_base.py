"""The interface every model family implements, so that one integrator, one trainer and
one file format serve them all."""

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

READOUTS = ("current", "lagged")


class AbstractRNN(eqx.Module):
    """A continuous-time recurrent network with a linear input drive and a readout.

    A concrete model provides:

    - `resolve()`: the resolved parameters (positive time constants, effective weights),
        computed once per forward pass;
    - `field(t, y, args)`: its pure vector field with `args = (resolved, drive)`;
    - `initial_state(resolved)`: the state at `t0`, a tuple of arrays;
    - `drive(resolved, x)`: the input current, linear in `x` (`x` of shape `(..., n_in)`);
    - `output(resolved, y)`: the readout of one state;
    - `time_constants()`: the effective time constants a user can read;
    - `config()` / `from_config()`: JSON metadata, to save and load the model.

    The integrators in `adaptive_rnn._solve` only use this interface.
    """

    dt: eqx.AbstractVar[float]
    readout: eqx.AbstractVar[str]

    family: ClassVar[str] = "abstract"
    state_names: ClassVar[tuple[str, ...]] = ()

    @property
    def n_in(self) -> int:
        raise NotImplementedError

    @property
    def n_out(self) -> int:
        raise NotImplementedError

    def resolve(self) -> PyTree:
        raise NotImplementedError

    def field(self, t, y, args):
        raise NotImplementedError

    def initial_state(self, resolved) -> tuple[Array, ...]:
        raise NotImplementedError

    def drive(self, resolved, x: Float[Array, "... n_in"]) -> Float[Array, "... n"]:
        raise NotImplementedError

    def output(self, resolved, y) -> Float[Array, " n_out"]:
        raise NotImplementedError

    def drive_weights(self, resolved) -> Float[Array, "n n_in"] | None:
        """The matrix `U` with `drive(resolved, x) = U x`, or `None` if the drive is not
        of that form. The integrators use it to fuse the input matmul into the
        recurrent one: the field then receives an `adaptive_rnn._fields.InputDrive`
        as its drive, so a model that returns `U` here must add its drive through
        `adaptive_rnn._fields.recurrent_input` (as the built-in fields do)."""
        return None

    def time_constants(self) -> dict[str, Array]:
        """The effective time constants, by name (in the model's time units)."""
        raise NotImplementedError

    def min_time_constant(self, resolved) -> Array:
        """The smallest time constant of the resolved model (for step-size checks)."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any], *, key) -> "AbstractRNN":
        raise NotImplementedError

    def with_dt(self, dt: float) -> "AbstractRNN":
        """The same model (same time constants in time units) stepped at a new `dt`."""
        new = copy.copy(self)
        object.__setattr__(new, "dt", _check_dt(dt))  # a static field: not a pytree leaf
        return new


def _check_dt(dt) -> float:
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not dt > 0 or dt == float("inf"):
        raise ValueError(f"dt: got {dt!r}, expected a positive finite number")
    return float(dt)


def _check_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int,)) or value < 1:
        raise ValueError(f"{name}: got {value!r}, expected a positive integer")
    return int(value)


def _check_readout(readout: str) -> str:
    if readout not in READOUTS:
        raise ValueError(f"readout: got {readout!r}, expected one of {READOUTS}")
    return readout


def normal_init(key, shape, std, dtype) -> Array:
    return std * jax.random.normal(key, shape, dtype=dtype)


def as_tuple(x: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def default_dtype(dtype):
    return jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
