"""The interface every model family implements, so that one integrator, one trainer and
one file format serve them all."""

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

from .._checks import check_choice, check_memory, check_positive, check_positive_int

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

    def projected(self) -> "AbstractRNN":
        """The model clamped back into its constraint set (Dale's law in `"project"`
        mode, sparsity masks).

        Every trainer applies it after each optimiser step, inside the compiled update,
        and to the initial model. It must be pure, jittable and vmappable, change only
        the values of trainable leaves (never the tree structure) and be idempotent.
        The default projects each `Weight` of the model
        (`adaptive_rnn._connectivity.project_weights`); a model without constrained
        weights is returned unchanged. A family that keeps constrained parameters as
        plain arrays (the ARU) overrides it.

        **Returns:** the projected model, of the same structure.
        """
        from .._connectivity import project_weights

        return project_weights(self)

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


def _check_dt(dt, name: str = "dt") -> float:
    return check_positive(name, dt)


def _check_size(name: str, value) -> int:
    return check_positive_int(name, value)


def _check_readout(readout: str) -> str:
    return check_choice("readout", readout, READOUTS)


def _check_param_memory(name: str, got, n_params: int, dtype) -> None:
    """Refuses a model whose `n_params` parameters of `dtype` would not fit in memory
    (before any array is allocated); `name`/`got` name the size that sets it."""
    check_memory(name, got, float(n_params) * default_dtype(dtype).itemsize, "the model's parameters")


def normal_init(key, shape, std, dtype) -> Array:
    return std * jax.random.normal(key, shape, dtype=dtype)


def as_tuple(x: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def default_dtype(dtype):
    return jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
