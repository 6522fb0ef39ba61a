"""Data with several time scales along a hierarchy (our design for E8 in REPRODUCTION.md)."""

import jax
from jaxtyping import PRNGKeyArray

from .._errors import InputError
from ._inputs import smoothed_uniform_inputs
from ._teacher import TeacherData


def hierarchy_data(
    key: PRNGKeyArray,
    *,
    layer_alphas=((0.9, 0.9), (0.1, 0.1)),
    n_hidden=(10, 10),
    n_sequences: int = 500,
    n_steps: int = 40,
    n_train: int = 400,
    train_steps: int = 40,
    n_in: int = 2,
    n_out: int = 2,
    activation: str = "sigmoid",
    readout: str = "lagged",
    dtype=None,
) -> TeacherData:
    """Teacher data from a stacked ARU whose layers run on different time scales.

    The teacher is a stacked `ARU` (`n_hidden=(n_1, n_2, ...)`, fixed alphas per layer,
    random weights as the paper; docs/model.md, "Initialisation and training protocol"), driven by the paper's smoothed random inputs (E1). With
    the default `layer_alphas` the first layer is fast (alpha 0.9) and the second slow
    (alpha 0.1): the target is a slow function of a fast nonlinear transform of the
    input. Swapping the layers gives the control condition.

    **Arguments:**

    - `key`: a `jax.random` key (teacher and inputs).
    - `layer_alphas`: one `(alpha_s, alpha_r)` per layer, each in (0, 2).
    - `n_hidden`: the teacher's layer sizes (as many as `layer_alphas`).
    - `n_sequences`: the number of input sequences (500).
    - `n_steps`: the length of each sequence in steps (40).
    - `n_train`: the first `n_train` sequences train, the rest validate (400; between 1
        and `n_sequences - 1`).
    - `train_steps`: training and validation use the first `train_steps` steps (40, all
        of them by default: the slow layer needs them; between 1 and `n_steps`).
    - `n_in`: the number of input channels (2).
    - `n_out`: the number of teacher outputs (2).
    - `activation`: the teacher's activation (`"sigmoid"`).
    - `readout`: the teacher's readout convention (`"lagged"`, the paper's,
        `y_t = V r_{t-1} + b`; or `"current"`); pass the same to the student.
    - `dtype`: the dtype of the teacher and of the arrays (default: JAX's default float).

    **Returns:** a `TeacherData` (its `alpha_s`, `alpha_r` have one row per layer).

    **Raises:** `InputError` for mismatched layers or alphas outside (0, 2).
    """
    layer_alphas = tuple(tuple(float(a) for a in p) for p in layer_alphas)
    n_hidden = tuple(int(n) for n in n_hidden)
    if len(layer_alphas) != len(n_hidden) or any(len(p) != 2 for p in layer_alphas):
        raise InputError(
            f"layer_alphas: got {layer_alphas!r}, expected one (alpha_s, alpha_r) pair per "
            f"layer of n_hidden = {n_hidden!r}"
        )
    if any(not 0 < a < 2 for p in layer_alphas for a in p):
        raise InputError(f"layer_alphas: got {layer_alphas!r}, expected values in (0, 2)")
    if not 0 < n_train < n_sequences:
        raise InputError(
            f"n_train: got {n_train}, expected 0 < n_train < n_sequences = {n_sequences}"
        )
    if not 1 <= train_steps <= n_steps:
        raise InputError(
            f"train_steps: got {train_steps}, expected 1 <= train_steps <= n_steps = {n_steps}"
        )
    import numpy as np

    from .._solve import model_dtype, simulate
    from ..models import ARU

    k_model, k_in = jax.random.split(key)
    teacher = ARU(
        n_in,
        n_hidden,
        n_out,
        activation=activation,
        time_constants="static",
        alpha_s=tuple(p[0] for p in layer_alphas),
        alpha_r=tuple(p[1] for p in layer_alphas),
        readout=readout,
        dtype=dtype,
        key=k_model,
    )
    inputs = smoothed_uniform_inputs(k_in, n_sequences, n_steps, n_in, dtype=model_dtype(teacher))
    targets = simulate(teacher, inputs).outputs
    return TeacherData(
        inputs=np.asarray(inputs),
        targets=np.asarray(targets),
        model=teacher,
        alpha_s=np.asarray([p[0] for p in layer_alphas]),
        alpha_r=np.asarray([p[1] for p in layer_alphas]),
        n_train=int(n_train),
        train_steps=int(train_steps),
    )
