"""Data with several time scales: along a hierarchy of layers (our design for E8 in
REPRODUCTION.md), or in groups of units within one layer (a further E8 protocol)."""

import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from .._errors import InputError
from ._teacher import TeacherData, check_split, run_teacher


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
    check_split(n_sequences, n_steps, n_train, train_steps)
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
    return run_teacher(
        teacher,
        k_in,
        n_in=n_in,
        n_sequences=n_sequences,
        n_steps=n_steps,
        n_train=n_train,
        train_steps=train_steps,
        alpha_s=np.asarray([p[0] for p in layer_alphas]),
        alpha_r=np.asarray([p[1] for p in layer_alphas]),
    )


def timescale_groups_data(
    key: PRNGKeyArray,
    *,
    group_alphas=((0.9, 0.9), (0.1, 0.1)),
    group_sizes=(5, 5),
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
    """Teacher data from one ARU layer whose units fall into groups of distinct time
    scales (protocol (a) of `adaptive_rnn.paper.hierarchy_protocols`).

    The teacher is a single-layer `ARU` with fixed per-neuron alphas: the first
    `group_sizes[0]` units have `group_alphas[0]`, the next `group_sizes[1]` units
    `group_alphas[1]`, and so on; random weights as the paper, driven by the paper's
    smoothed random inputs (E1). With one group it is a homogeneous control.

    **Arguments:**

    - `key`: a `jax.random` key (teacher and inputs).
    - `group_alphas`: one `(alpha_s, alpha_r)` per group, each in (0, 2).
    - `group_sizes`: units per group (positive integers, as many as `group_alphas`).
    - `n_sequences`, `n_steps`: the number and length of the input sequences (500, 40).
    - `n_train`: the first `n_train` sequences train, the rest validate (400).
    - `train_steps`: training and validation use the first `train_steps` steps (40).
    - `n_in`, `n_out`: the teacher's input and output sizes (2, 2).
    - `activation`, `readout`: the teacher's activation (`"sigmoid"`) and readout
        convention (`"lagged"`).
    - `dtype`: the dtype of the teacher and of the arrays (default: JAX's default float).

    **Returns:** an `adaptive_rnn.tasks.TeacherData` whose `alpha_s`, `alpha_r` are the
    per-neuron values.

    **Raises:** `InputError` for mismatched groups, alphas outside (0, 2), sizes below 1,
    or a bad split.
    """
    group_alphas = tuple(tuple(float(a) for a in p) for p in group_alphas)
    if not group_alphas or any(len(p) != 2 for p in group_alphas):
        raise InputError(
            f"group_alphas: got {group_alphas!r}, expected one (alpha_s, alpha_r) pair per group"
        )
    if any(not 0 < a < 2 for p in group_alphas for a in p):
        raise InputError(f"group_alphas: got {group_alphas!r}, expected values in (0, 2)")
    sizes = tuple(group_sizes)
    if len(sizes) != len(group_alphas) or any(
        not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in sizes
    ):
        raise InputError(
            f"group_sizes: got {group_sizes!r}, expected {len(group_alphas)} positive integers "
            "(one per group of group_alphas)"
        )
    check_split(n_sequences, n_steps, n_train, train_steps)
    from ..models import ARU

    a_s = np.concatenate([np.full(n, p[0]) for n, p in zip(sizes, group_alphas)])
    a_r = np.concatenate([np.full(n, p[1]) for n, p in zip(sizes, group_alphas)])
    k_model, k_in = jax.random.split(key)
    teacher = ARU(
        n_in,
        int(sum(sizes)),
        n_out,
        activation=activation,
        time_constants="static",
        alpha_s=a_s,
        alpha_r=a_r,
        readout=readout,
        dtype=dtype,
        key=k_model,
    )
    return run_teacher(
        teacher,
        k_in,
        n_in=n_in,
        n_sequences=n_sequences,
        n_steps=n_steps,
        n_train=n_train,
        train_steps=train_steps,
        alpha_s=a_s,
        alpha_r=a_r,
    )
