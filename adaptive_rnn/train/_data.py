"""Training data: validated at the edge, before anything compiles."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._errors import InputError
from .._io import load_npz as load_npz  # the one safe .npz reader (re-exported here)


class TrainData(eqx.Module):
    """Training and validation arrays, validated and cast to one dtype.

    **Fields:**

    - `x`, `y`, `m`: training inputs `(S, T, n_in)`, targets `(S, T, n_out)` and loss
        mask `(S, T, n_out)` (ones where the loss counts).
    - `xv`, `yv`, `mv`: the same for the validation sequences.

    Build it with `make_train_data`, which checks every array. A `TrainData` may carry a
    leading model axis `(M, S, ...)` when each model of an ensemble has its own data.
    """

    x: Float[Array, "*M S T n_in"]
    y: Float[Array, "*M S T n_out"]
    m: Float[Array, "*M S T n_out"]
    xv: Float[Array, "*M Sv T n_in"]
    yv: Float[Array, "*M Sv T n_out"]
    mv: Float[Array, "*M Sv T n_out"]

    @property
    def n_train(self) -> int:
        return int(self.x.shape[-3])

    @property
    def n_val(self) -> int:
        return int(self.xv.shape[-3])


def _as_array(name: str, value, rank: int, what: str) -> np.ndarray:
    if value is None:
        raise InputError(f"{name}: missing; expected an array of shape {what}")
    try:
        arr = np.asarray(value)
    except Exception as e:  # pragma: no cover - exotic inputs
        raise InputError(
            f"{name}: could not be read as an array ({e}); expected shape {what}"
        ) from e
    if not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == np.bool_
    ):
        raise InputError(
            f"{name}: got dtype {arr.dtype}, expected a real numeric array of shape {what}"
        )
    if arr.ndim != rank:
        raise InputError(
            f"{name}: got shape {arr.shape} (rank {arr.ndim}), expected rank {rank}, {what}"
        )
    if arr.size and not np.all(np.isfinite(arr)):
        bad = ~np.isfinite(arr)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(
            f"{name}: shape {arr.shape} holds {int(bad.sum())} non-finite values (first at "
            f"index {first}); expected finite values"
        )
    return arr


def check_arrays(
    inputs,
    targets,
    mask=None,
    *,
    prefix: str = "",
    n_in: int | None = None,
    n_out: int | None = None,
    batched: bool = False,
):
    """Validates one set of inputs/targets/mask; returns NumPy arrays.

    **Raises:** `InputError` naming the array, its shape or problem, and what was expected.
    """
    lead = "(M, S, T, " if batched else "(S, T, "
    rank = 4 if batched else 3
    x = _as_array(f"{prefix}inputs", inputs, rank, lead + "n_in)")
    y = _as_array(f"{prefix}targets", targets, rank, lead + "n_out)")
    if x.shape[:-1] != y.shape[:-1]:
        raise InputError(
            f"{prefix}targets: got shape {y.shape}, but {prefix}inputs have shape {x.shape}; "
            f"expected the same {'models, ' if batched else ''}sequences S and time steps T "
            f"(shape {x.shape[:-1] + ('n_out',)})"
        )
    if x.shape[-2] < 1:
        raise InputError(
            f"{prefix}inputs: got shape {x.shape}, an empty time axis; expected T >= 1"
        )
    if n_in is not None and x.shape[-1] != n_in:
        raise InputError(
            f"{prefix}inputs: got shape {x.shape}, last axis {x.shape[-1]}; the model expects n_in = {n_in}"
        )
    if n_out is not None and y.shape[-1] != n_out:
        raise InputError(
            f"{prefix}targets: got shape {y.shape}, last axis {y.shape[-1]}; the model expects n_out = {n_out}"
        )
    if mask is None:
        m = np.ones(y.shape, dtype=np.float64)
    else:
        m = _as_array(f"{prefix}mask", mask, rank, lead + "n_out)")
        if m.shape != y.shape:
            raise InputError(
                f"{prefix}mask: got shape {m.shape}, expected the shape of the targets {y.shape}"
            )
        if np.any(m < 0):
            raise InputError(
                f"{prefix}mask: got negative values, expected weights >= 0 (1 where the loss counts)"
            )
    return x, y, m


def make_train_data(
    inputs,
    targets,
    mask=None,
    *,
    validation=None,
    val_fraction: float = 0.2,
    n_steps: int | None = None,
    n_in: int | None = None,
    n_out: int | None = None,
    dtype=None,
    batched: bool = False,
) -> TrainData:
    """Validates arrays and splits them into training and validation sequences.

    **Arguments:**

    - `inputs`: `(S, T, n_in)`; `targets`: `(S, T, n_out)`; `mask`: optional
        `(S, T, n_out)` weights of the loss (default all ones).
    - `validation`: an explicit validation set `(inputs, targets)` or
        `(inputs, targets, mask)`; then all of `inputs` is used for training.
    - `val_fraction`: otherwise, the last `round(S * val_fraction)` sequences are held
        out for validation (deterministic: for the paper's 500 teacher sequences, 400
        train / 100 validation).
    - `n_steps`: use only the first `n_steps` time steps (the paper trains on 20 of 40).
    - `n_in`, `n_out`: expected widths (the model's), checked when given.
    - `dtype`: dtype of the arrays (default: JAX's default float).
    - `batched`: arrays carry a leading model axis `(M, S, T, ...)` (one dataset per
        model of an ensemble).

    **Returns:** a `TrainData`.

    **Raises:** `InputError` for a wrong rank, inputs and targets that disagree in S or T,
    widths that do not match the model, non-finite values, or an empty training or
    validation split. Each message names the array, its shape or problem, and what was
    expected.
    """
    x, y, m = check_arrays(inputs, targets, mask, n_in=n_in, n_out=n_out, batched=batched)
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) not in (2, 3):
            raise InputError(
                f"validation: got {type(validation).__name__}, expected a tuple (inputs, "
                f"targets) or (inputs, targets, mask)"
            )
        xv, yv, mv = check_arrays(
            *validation, prefix="validation ", n_in=x.shape[-1], n_out=y.shape[-1], batched=batched
        )
        if xv.shape[-2] != x.shape[-2]:
            raise InputError(
                f"validation inputs: got shape {xv.shape} with T = {xv.shape[-2]}, expected "
                f"T = {x.shape[-2]} as the training inputs"
            )
    else:
        if not (isinstance(val_fraction, (int, float)) and 0 <= val_fraction < 1):
            raise InputError(f"val_fraction: got {val_fraction!r}, expected a number in [0, 1)")
        S = x.shape[-3]
        n_val = int(round(S * val_fraction))
        sl_t, sl_v = slice(0, S - n_val), slice(S - n_val, S)
        idx = (slice(None),) if batched else ()
        xv, yv, mv = (a[idx + (sl_v,)] for a in (x, y, m))
        x, y, m = (a[idx + (sl_t,)] for a in (x, y, m))
    if x.shape[-3] == 0:
        raise InputError(
            f"training split: empty (inputs shape {x.shape}); expected at least one "
            f"training sequence. Lower val_fraction or pass more sequences."
        )
    if xv.shape[-3] == 0:
        raise InputError(
            f"validation split: empty (inputs shape {x.shape}, val_fraction {val_fraction}); "
            f"expected at least one validation sequence (validation selects the best model)"
        )
    if n_steps is not None:
        if (
            isinstance(n_steps, bool)
            or not isinstance(n_steps, (int, np.integer))
            or not 1 <= n_steps <= x.shape[-2]
        ):
            raise InputError(
                f"n_steps: got {n_steps!r}, expected an integer in [1, T = {x.shape[-2]}]"
            )
        x, y, m, xv, yv, mv = (a[..., :n_steps, :] for a in (x, y, m, xv, yv, mv))
    dtype = jnp.result_type(float) if dtype is None else dtype
    return TrainData(*(jnp.asarray(a, dtype=dtype) for a in (x, y, m, xv, yv, mv)))
