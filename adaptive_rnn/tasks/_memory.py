"""A delayed-recall memory task (our protocol for E7 in REPRODUCTION.md)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray

from .._errors import InputError


@dataclasses.dataclass
class MemoryTask:
    """Sequences of the delayed-recall task, with a loss mask and the chance level.

    - `inputs`: `(S, T, 1)`: the value `v` at step `onset`, zero elsewhere.
    - `targets`: `(S, T, 1)`: `v` at step `onset + delay`, zero elsewhere.
    - `mask`: `(S, T, 1)`: one at the report step only (the loss counts there alone).
    - `values`: the remembered values `v`, shape `(S,)`.
    - `delay`, `onset`, `n_train`: as `memory_task`.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    values: np.ndarray
    delay: int
    onset: int
    n_train: int

    def train_data(self, dtype=None):
        """The `TrainData`: the first `n_train` sequences train, the rest validate."""
        from ..train import make_train_data

        n = self.n_train
        return make_train_data(
            self.inputs[:n],
            self.targets[:n],
            self.mask[:n],
            validation=(self.inputs[n:], self.targets[n:], self.mask[n:]),
            dtype=dtype,
        )

    @property
    def chance_loss(self) -> float:
        """The validation loss of the best input-blind predictor: at every step, the
        training average of the target at that step (here: the mean of `v` at the
        report step, zero elsewhere), in the units of `mse_loss` (summed over time)."""
        n = self.n_train
        mean = self.targets[:n].mean(axis=0, keepdims=True)
        err = self.mask[n:] * (self.targets[n:] - mean) ** 2
        return float(err.sum(axis=(1, 2)).mean() / self.targets.shape[-1])


def memory_task(
    key: PRNGKeyArray,
    delay: int,
    *,
    n_sequences: int = 300,
    n_train: int = 200,
    n_steps: int | None = None,
    onset: int = 2,
    low: float = -1.0,
    high: float = 1.0,
    dtype=None,
) -> MemoryTask:
    r"""A value shown once, to be reported `delay` steps later (fixed delay, no go cue).

    Each sequence carries one value $v \sim U[\text{low}, \text{high})$ on its single
    input channel at step `onset` (zero elsewhere); the target is $v$ at step
    `onset + delay` and the loss counts there only. With the paper's lagged readout
    ($y_t = V r_{t-1} + b$) the report at step `onset + delay` is read from the rates of
    step `onset + delay - 1`, so `delay >= 1`.

    **Arguments:**

    - `key`: a `jax.random` key (draws the values).
    - `delay`: steps between the value and its report (>= 1).
    - `n_sequences`, `n_train`: sequences, of which the first `n_train` train.
    - `n_steps`: sequence length (default `onset + delay + 1`); give one value for a set
        of delays to train them in one ensemble.
    - `onset`: the step of the value; `low`, `high`: its range.

    **Returns:** a `MemoryTask`.

    **Raises:** `InputError` for a delay < 1, a report step beyond `n_steps`, or a split
    with no training or validation sequences.
    """
    if isinstance(delay, bool) or not isinstance(delay, (int, np.integer)) or delay < 1:
        raise InputError(f"delay: got {delay!r}, expected an integer >= 1")
    if not isinstance(onset, (int, np.integer)) or onset < 0:
        raise InputError(f"onset: got {onset!r}, expected an integer >= 0")
    T = onset + delay + 1 if n_steps is None else int(n_steps)
    if onset + delay >= T:
        raise InputError(f"n_steps: got {T}, expected > onset + delay = {onset + delay}")
    if not 0 < n_train < n_sequences:
        raise InputError(
            f"n_train: got {n_train}, expected 0 < n_train < n_sequences = {n_sequences}"
        )
    if not high > low:
        raise InputError(f"high: got {high}, expected > low = {low}")
    dtype = jnp.result_type(float) if dtype is None else dtype
    v = np.asarray(
        jax.random.uniform(key, (n_sequences,), dtype=dtype, minval=low, maxval=high),
        dtype=np.float64,
    )
    x = np.zeros((n_sequences, T, 1))
    y = np.zeros((n_sequences, T, 1))
    m = np.zeros((n_sequences, T, 1))
    x[:, onset, 0] = v
    y[:, onset + delay, 0] = v
    m[:, onset + delay, 0] = 1.0
    return MemoryTask(
        inputs=x,
        targets=y,
        mask=m,
        values=v,
        delay=int(delay),
        onset=int(onset),
        n_train=int(n_train),
    )
