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

    **Fields:**

    - `inputs`: `(S, T, C)`: channel 0 carries the value `v` at step `onset`, zero
        elsewhere; with a go cue (C = 2), channel 1 carries 1 at the step before the
        report.
    - `targets`: `(S, T, 1)`: `v` at the report step, zero elsewhere.
    - `mask`: `(S, T, 1)`: one at the report step only (the loss counts there alone).
    - `values`: the remembered values `v`, shape `(S,)`.
    - `delays`: each sequence's delay in steps, shape `(S,)` (all equal to `delay`
        unless `min_delay` was given).
    - `delay`: the delay of `memory_task` in steps (with `min_delay`: the longest).
    - `onset`: the step at which the value is shown.
    - `n_train`: the first `n_train` sequences train, the rest validate.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    values: np.ndarray
    delays: np.ndarray
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
        """The validation loss of the best predictor blind to the value: the training
        average of `v` at the report step (zero elsewhere; the loss counts at the report
        step only), in the units of `mse_loss` (summed over time)."""
        n = self.n_train
        mean = float(self.values[:n].mean())
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
    go_cue: bool = False,
    min_delay: int | None = None,
    dtype=None,
) -> MemoryTask:
    r"""A value shown once, to be reported `delay` steps later (by default: fixed delay,
    no go cue).

    Each sequence carries one value $v \sim U[\text{low}, \text{high})$ on its single
    input channel at step `onset` (zero elsewhere); the target is $v$ at step
    `onset + delay` and the loss counts there only. With the paper's lagged readout
    ($y_t = V r_{t-1} + b$) the report at step `onset + delay` is read from the rates of
    step `onset + delay - 1`, so `delay >= 1`.

    **Arguments:**

    - `key`: a `jax.random` key (draws the values).
    - `delay`: steps between the value and its report (>= 1).
    - `n_sequences`: the number of sequences.
    - `n_train`: the first `n_train` sequences train, the rest validate (between 1 and
        `n_sequences - 1`).
    - `n_steps`: sequence length (default `onset + delay + 1`); give one value for a set
        of delays to train them in one ensemble.
    - `onset`: the step of the value (>= 0).
    - `low`, `high`: the range `[low, high)` of the value (`high > low`).
    - `go_cue`: a second input channel carrying 1 at the step before the report (the
        step whose rates the lagged readout reads), zero elsewhere.
    - `min_delay`: random delays: each sequence's delay is drawn uniformly from
        `min_delay ... delay` (`None`: every delay is `delay`). Without a go cue the
        report time is then unknown to the network.
    - `dtype`: the dtype in which the values are drawn (default: JAX's default float);
        the arrays of the `MemoryTask` are float64 NumPy arrays either way.

    **Returns:** a `MemoryTask`.

    **Raises:** `InputError` for a delay < 1, `min_delay` outside `1 ... delay`, a report
    step beyond `n_steps`, or a split with no training or validation sequences.
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
    if min_delay is not None and (
        isinstance(min_delay, bool)
        or not isinstance(min_delay, (int, np.integer))
        or not 1 <= min_delay <= delay
    ):
        raise InputError(f"min_delay: got {min_delay!r}, expected an integer in [1, {delay}]")
    dtype = jnp.result_type(float) if dtype is None else dtype
    k_v, k_d = jax.random.split(key) if min_delay is not None else (key, None)
    v = np.asarray(
        jax.random.uniform(k_v, (n_sequences,), dtype=dtype, minval=low, maxval=high),
        dtype=np.float64,
    )
    if k_d is None:
        delays = np.full(n_sequences, int(delay))
    else:
        delays = np.asarray(
            jax.random.randint(k_d, (n_sequences,), int(min_delay), int(delay) + 1)  # type: ignore[arg-type]
        )
    rows = np.arange(n_sequences)
    x = np.zeros((n_sequences, T, 2 if go_cue else 1))
    y = np.zeros((n_sequences, T, 1))
    m = np.zeros((n_sequences, T, 1))
    x[:, onset, 0] = v
    y[rows, onset + delays, 0] = v
    m[rows, onset + delays, 0] = 1.0
    if go_cue:
        x[rows, onset + delays - 1, 1] = 1.0
    return MemoryTask(
        inputs=x,
        targets=y,
        mask=m,
        values=v,
        delay=int(delay),
        onset=int(onset),
        n_train=int(n_train),
        delays=delays,
    )
