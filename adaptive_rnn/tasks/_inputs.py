"""Input signals used by the paper's experiments."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .._checks import check_int, check_positive_int
from .._errors import InputError


def savgol_coefficients(window: int, order: int) -> np.ndarray:
    """Savitzky-Golay smoothing coefficients (value at the window centre) by least squares.

    **Raises:** `InputError` unless `order >= 0` and `window` is an odd integer > `order`.
    """
    order = check_int("order", order, 0)
    if check_int("window", window, order + 1) % 2 != 1:
        raise InputError(f"window: got {window!r}, expected an odd integer > order = {order}")
    half = window // 2
    x = np.arange(-half, half + 1, dtype=np.float64)
    A = np.vander(x, order + 1, increasing=True)
    return np.linalg.pinv(A)[0]


def savgol_smooth(x: Float[Array, "... T"], window: int = 7, order: int = 2) -> Array:
    """Savitzky-Golay filter along the last axis, with polynomial fits at the edges
    (the behaviour of `scipy.signal.savgol_filter(mode="interp")`).

    **Arguments:**

    - `x`: the signals, time on the last axis, at least `window` samples long.
    - `window`: the (odd) number of samples each local polynomial is fitted to.
    - `order`: the degree of the polynomials, less than `window`.

    **Returns:** the smoothed signals, the shape of `x`.

    **Raises:** `InputError` for a sequence shorter than `window`, or unless `order >= 0`
    and `window` is an odd integer > `order`.
    """
    T = x.shape[-1]
    if T < window:
        raise InputError(
            f"x: got a sequence of length {T}, expected at least the window {window} steps"
        )
    half = window // 2
    coef = jnp.asarray(savgol_coefficients(window, order), dtype=x.dtype)
    windows = jnp.stack([x[..., i : T - window + 1 + i] for i in range(window)], axis=-1)
    centre = windows @ coef
    # Edges: fit one polynomial to the first/last window and evaluate it there.
    pos = np.arange(window, dtype=np.float64)
    A = np.vander(pos, order + 1, increasing=True)
    P = np.linalg.pinv(A)  # (order+1, window)
    E_first = jnp.asarray(A[:half] @ P, dtype=x.dtype)  # (half, window)
    E_last = jnp.asarray(A[window - half :] @ P, dtype=x.dtype)
    first = x[..., :window] @ E_first.T
    last = x[..., T - window :] @ E_last.T
    return jnp.concatenate([first, centre, last], axis=-1)


def smoothed_uniform_inputs(
    key: PRNGKeyArray,
    n_sequences: int,
    n_steps: int,
    n_in: int,
    *,
    scale: float = 10.0,
    window: int = 7,
    order: int = 2,
    dtype=None,
) -> Float[Array, "S T n_in"]:
    """The paper's input signals (E1): i.i.d. Uniform[0, 1) samples smoothed along time
    with a Savitzky-Golay filter (window 7, order 2), times 10.

    **Arguments:**

    - `key`: a `jax.random` key for the uniform samples.
    - `n_sequences`, `n_steps`, `n_in`: the number of sequences, their length and their
        number of channels.
    - `scale`: the factor applied after smoothing (the paper's 10).
    - `window`, `order`: the Savitzky-Golay window and polynomial degree
        (`savgol_smooth`).
    - `dtype`: the dtype of the samples (default: JAX's default float).

    **Returns:** shape `(n_sequences, n_steps, n_in)`.

    **Raises:** `InputError` for non-positive sizes, or `n_steps` shorter than `window`.
    """
    check_positive_int("n_sequences", n_sequences)
    check_positive_int("n_in", n_in)
    if check_positive_int("n_steps", n_steps) < window:
        raise InputError(
            f"n_steps: got {n_steps!r}, expected at least the smoothing window of {window} steps"
        )
    dtype = jnp.result_type(float) if dtype is None else dtype
    u = jax.random.uniform(key, (n_sequences, n_in, n_steps), dtype=dtype)
    return scale * jnp.swapaxes(savgol_smooth(u, window, order), -1, -2)
