"""Activation functions f, looked up by name.

Names are stored in models (static metadata) and in saved files, so each activation is
referred to by its string name everywhere outside this module.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike

from ._checks import check_choice, check_type


def _retanh(x: ArrayLike) -> Array:
    # Rectified tanh: max(tanh(x), 0), the "retanh" of NN4N.
    return jnp.maximum(jnp.tanh(x), 0)


def _identity(x: ArrayLike) -> Array:
    return jnp.asarray(x)


ACTIVATIONS: dict[str, Callable[[ArrayLike], Array]] = {
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "linear": _identity,
    "softplus": jax.nn.softplus,
    "retanh": _retanh,
}
_ALIASES = {"identity": "linear"}


def canonical_activation(name: str) -> str:
    """Returns the canonical name of an activation.

    **Arguments:**

    - `name`: one of `sigmoid`, `tanh`, `relu`, `linear` (alias `identity`), `softplus`,
        `retanh` (any case).

    **Returns:** the canonical (lower-case) name.

    **Raises:** `InputError` (a `ValueError`) naming the value received and the accepted
    names, with the nearest one.
    """
    check_type("activation", name, str, "a string name")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in ACTIVATIONS:
        check_choice("activation", name, (*ACTIVATIONS, *_ALIASES))
    return key


def get_activation(name: str) -> Callable[[ArrayLike], Array]:
    """Returns the activation function called `name`.

    **Arguments:**

    - `name`: an activation name (see `canonical_activation`).

    **Returns:** the elementwise function `f`, array in, array out (same shape).

    **Raises:** `InputError` for an unknown name (see `canonical_activation`).
    """
    return ACTIVATIONS[canonical_activation(name)]
