"""The paper's teacher-network data (E1 in REPRODUCTION.md)."""

import dataclasses
import io
import os
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._errors import InputError
from .._io import atomic_write_bytes
from ._inputs import smoothed_uniform_inputs

if TYPE_CHECKING:  # imported lazily at run time (see `teacher_data`)
    from ..models import ARU


@dataclasses.dataclass
class TeacherData:
    """Sequences produced by a teacher network, with the paper's split.

    **Fields:**

    - `inputs`: `(S, T, n_in)`; `targets`: the teacher's outputs `(S, T, n_out)`.
    - `model`: the teacher (an `ARU` with fixed time constants).
    - `alpha_s`, `alpha_r`: the teacher's rate constants (shape `(1,)` global, `(n,)`
        heterogeneous).
    - `n_train`: the first `n_train` sequences train, the rest validate.
    - `train_steps`: training (and validation) use the first `train_steps` steps.
    """

    inputs: np.ndarray
    targets: np.ndarray
    model: "ARU"
    alpha_s: np.ndarray
    alpha_r: np.ndarray
    n_train: int
    train_steps: int

    def train_data(self, dtype=None):
        """The `TrainData` of the paper's protocol (first `n_train` sequences train,
        the rest validate; first `train_steps` steps)."""
        from ..train import make_train_data

        x, y = self.inputs, self.targets
        return make_train_data(
            x[: self.n_train],
            y[: self.n_train],
            validation=(x[self.n_train :], y[self.n_train :]),
            n_steps=self.train_steps,
            dtype=dtype,
        )

    def save(self, path: str | os.PathLike) -> None:
        """Writes an .npz (atomically) with `inputs`, `targets`, `alpha_s`, `alpha_r`,
        `n_train`, `train_steps`, `readout`, `activation` - the format `adaptive-rnn fit` reads."""
        buf = io.BytesIO()
        np.savez(
            buf,
            inputs=self.inputs,
            targets=self.targets,
            alpha_s=self.alpha_s,
            alpha_r=self.alpha_r,
            n_train=np.asarray(self.n_train),
            train_steps=np.asarray(self.train_steps),
            readout=np.asarray(self.model.readout),
            activation=np.asarray(self.model.activation),
        )
        atomic_write_bytes(path, buf.getvalue())


def truncated_normal_alphas(
    key: PRNGKeyArray, n: int, mean: float, sd: float, *, max_rounds: int = 1000
) -> np.ndarray:
    """`n` draws from Normal(mean, sd), each redrawn until it lies inside (0, 1)."""
    out = np.full((n,), np.nan)
    for _ in range(max_rounds):
        bad = ~((out > 0) & (out < 1))
        if not bad.any():
            return out
        key, sub = jax.random.split(key)
        # jax's Config declares its flags dynamically, so its stubs do not list them.
        x64 = jax.config.jax_enable_x64  # pyright: ignore[reportAttributeAccessIssue]
        draw = mean + sd * np.asarray(
            jax.random.normal(sub, (n,), dtype=jnp.float64 if x64 else jnp.float32),
            dtype=np.float64,
        )
        out = np.where(bad, draw, out)
    raise InputError(
        f"local_sd: Normal({mean}, {sd}) gave no value inside (0, 1) after {max_rounds} "
        f"rounds; expected a mean inside (0, 1) and a moderate sd"
    )


def check_split(n_sequences: int, n_steps: int, n_train: int, train_steps: int) -> None:
    """Refuses a train/validation split with no training or validation sequences, or a
    training window outside the sequences (`InputError` naming the value)."""
    if not 0 < n_train < n_sequences:
        raise InputError(
            f"n_train: got {n_train}, expected 0 < n_train < n_sequences = {n_sequences}"
        )
    if not 1 <= train_steps <= n_steps:
        raise InputError(
            f"train_steps: got {train_steps}, expected 1 <= train_steps <= n_steps = {n_steps}"
        )


def run_teacher(
    teacher: "ARU",
    key: PRNGKeyArray,
    *,
    n_in: int,
    n_sequences: int,
    n_steps: int,
    n_train: int,
    train_steps: int,
    alpha_s,
    alpha_r,
) -> "TeacherData":
    """Runs a teacher on the paper's smoothed random inputs (drawn from `key`) and
    packs its inputs, outputs and recorded alphas as `TeacherData`: the one body shared
    by the teacher generators of `tasks`."""
    from .._solve import model_dtype, simulate

    inputs = smoothed_uniform_inputs(key, n_sequences, n_steps, n_in, dtype=model_dtype(teacher))
    targets = simulate(teacher, inputs).outputs
    return TeacherData(
        inputs=np.asarray(inputs),
        targets=np.asarray(targets),
        model=teacher,
        alpha_s=alpha_s,
        alpha_r=alpha_r,
        n_train=int(n_train),
        train_steps=int(train_steps),
    )


def teacher_data(
    key: PRNGKeyArray,
    *,
    alpha_s: float = 0.342,
    alpha_r: float = 0.684,
    local_sd: float | None = None,
    n_sequences: int = 500,
    n_steps: int = 40,
    n_train: int = 400,
    train_steps: int = 20,
    n_in: int = 2,
    n_hidden: int = 10,
    n_out: int = 2,
    activation: str = "sigmoid",
    readout: str = "lagged",
    dtype=None,
) -> TeacherData:
    """The teacher data of the paper (E1).

    A teacher `ARU` (2 inputs, 10 hidden units, 2 linear outputs, sigmoid, random weights
    as the paper; docs/model.md, "Initialisation and training protocol") with fixed rate
    constants `(alpha_s, alpha_r)`, run on 500 sequences of 40 steps x 2 channels from
    `smoothed_uniform_inputs`. Split 400 train / 100
    validation; training uses the first 20 steps.

    Heterogeneous variant (`local_sd`): per-neuron alphas drawn from
    Normal(alpha, local_sd) - the paper's Normal(0.5, sd) with `alpha_s = alpha_r = 0.5`
    - each redrawn until inside (0, 1).

    Teacher and student must share the readout convention: the default is `"lagged"`,
    the paper's (`y_t = V r_{t-1} + b`); pass the same to the student.

    **Arguments:**

    - `key`: a `jax.random` key; it draws the teacher, the inputs and local alphas.
    - `alpha_s`, `alpha_r`: the teacher's rate constants (global), or the means of the
        per-neuron draws.
    - `local_sd`: standard deviation of the per-neuron alphas (`None`: global).
    - `n_sequences`, `n_steps`: the number and length of the input sequences (500, 40).
    - `n_train`: the first `n_train` sequences train, the rest validate (400).
    - `train_steps`: training and validation use the first `train_steps` steps (20).
    - `n_in`, `n_hidden`, `n_out`: the teacher's sizes (2, 10, 2).
    - `activation`, `readout`: the teacher's activation (`"sigmoid"`) and readout
        convention (`"lagged"`).
    - `dtype`: the dtype of the teacher and of the arrays (default: JAX's default float).

    **Returns:** a `TeacherData`.

    **Raises:** `InputError` for alphas outside (0, 2), a non-positive `local_sd`, or a
    split with no training or validation sequences.
    """
    for name, a in (("alpha_s", alpha_s), ("alpha_r", alpha_r)):
        if not (isinstance(a, (int, float)) and 0 < a < 2):
            raise InputError(f"{name}: got {a!r}, expected a number in (0, 2)")
    if local_sd is not None and not (isinstance(local_sd, (int, float)) and local_sd > 0):
        raise InputError(f"local_sd: got {local_sd!r}, expected a positive number")
    check_split(n_sequences, n_steps, n_train, train_steps)
    from ..models import ARU

    k_model, k_in, k_s, k_r = jax.random.split(key, 4)
    if local_sd is None:
        a_s, a_r = np.asarray([float(alpha_s)]), np.asarray([float(alpha_r)])
    else:
        a_s = truncated_normal_alphas(k_s, n_hidden, float(alpha_s), float(local_sd))
        a_r = truncated_normal_alphas(k_r, n_hidden, float(alpha_r), float(local_sd))
    teacher = ARU(
        n_in,
        n_hidden,
        n_out,
        activation=activation,
        time_constants="static",
        alpha_s=a_s if local_sd is not None else float(alpha_s),
        alpha_r=a_r if local_sd is not None else float(alpha_r),
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
        alpha_s=np.asarray(teacher.alpha_s),
        alpha_r=np.asarray(teacher.alpha_r),
    )
