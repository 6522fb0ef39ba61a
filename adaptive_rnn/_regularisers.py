r"""Regularisers usable in any loss: weight norms, rate norms, firing-rate statistics.

Each returns a scalar (differentiable with JAX). Weight penalties act on the
*effective* weights (after Dale signs and masks), the ones the dynamics use, as the model
gives them (`AbstractRNN.weight_matrices`).
"""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Float

from ._checks import check_choice, check_type
from ._errors import InputError
from .models import AbstractRNN

WEIGHT_ROLES = ("in", "rec", "out")


def _effective(model, which: str) -> Array:
    """The effective weight matrix `which` of `model` (`AbstractRNN.weight_matrices`)."""
    check_type("model", model, AbstractRNN, "an adaptive_rnn model")
    check_choice("weight", which, WEIGHT_ROLES)
    matrices = model.weight_matrices()
    if which not in matrices:
        raise InputError(
            f"weight: got {which!r}, but a {type(model).__name__} has no such weight matrix; "
            f"expected one of {tuple(matrices)}"
        )
    return matrices[which]


def weight_l1(model: Any, which: str = "rec") -> Float[Array, ""]:
    r"""$\sum_{ij} |W_{ij}|$ of one effective weight matrix.

    **Arguments:**

    - `model`: an adaptive_rnn model (checked: `InputError` otherwise, so not annotated).
    - `which`: `"in"`, `"rec"` (default) or `"out"` (`AbstractRNN.weight_matrices`).

    **Returns:** the penalty, a scalar.

    **Raises:** `InputError` for a non-model, an unknown role or one the model lacks.
    """
    return jnp.sum(jnp.abs(_effective(model, which)))


def weight_l2(model: Any, which: str = "rec") -> Float[Array, ""]:
    r"""$\sum_{ij} W_{ij}^2$ of one effective weight matrix.

    **Arguments:**

    - `model`: an adaptive_rnn model (checked: `InputError` otherwise).
    - `which`: `"in"`, `"rec"` (default) or `"out"` (`AbstractRNN.weight_matrices`).

    **Returns:** the penalty, a scalar.

    **Raises:** as `weight_l1`.
    """
    return jnp.sum(_effective(model, which) ** 2)


def rate_l2(rates: Float[Array, "... n"]) -> Float[Array, ""]:
    r"""$\mathrm{mean}(r^2)$ over all time steps, units and sequences.

    **Arguments:**

    - `rates`: the rates, shape `(..., n)` (e.g. `Trajectory.states["r"]`).

    **Returns:** the penalty, a scalar.
    """
    return jnp.mean(jnp.asarray(rates) ** 2)


def firing_rate_penalty(
    rates: Float[Array, "... T n"], *, target_mean: float = 0.0, target_std: float | None = None
) -> Float[Array, ""]:
    r"""A penalty on the mean and the spread of the units' firing rates.

    With $\bar r_i$ the time (and batch) average of unit $i$:

    $$\big(\mathrm{mean}_i \bar r_i - \mu^*\big)^2 + \big(\mathrm{std}_i \bar r_i - s^*\big)^2,$$

    the second term only if `target_std` is given (else the variance across units,
    $\mathrm{var}_i \bar r_i$, is penalised, pushing units to similar rates).

    **Arguments:**

    - `rates`: shape `(..., T, n)`.
    - `target_mean`, `target_std`: $\mu^*$ and $s^*$.

    **Returns:** the penalty, a scalar.

    **Raises:** `InputError` for `rates` of rank below 2.
    """
    r = jnp.asarray(rates)
    if r.ndim < 2:
        raise InputError(f"rates: got shape {r.shape}, expected (..., T, n)")
    per_unit = jnp.mean(r.reshape(-1, r.shape[-1]), axis=0)
    mean_term = (jnp.mean(per_unit) - target_mean) ** 2
    if target_std is None:
        return mean_term + jnp.var(per_unit)
    return mean_term + (jnp.std(per_unit) - target_std) ** 2
