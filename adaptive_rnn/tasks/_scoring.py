"""Scoring of the cognitive tasks: the machinery rules are built from (the choice at the
end of a period, the first threshold crossing, curves by condition, accuracy by level),
the reusable rule of choice tasks (`ChoiceScoring`) and the scoring functions, which find
a batch's rule through the registry (`TaskBatch.name`). The rules of particular kinds of
task live with them (`CoherenceScoring` in `_decision`, `IntervalScoring` in `_timing`).
"""

from typing import Any

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, Shaped

from .._checks import check_type
from .._errors import InputError
from ._registry import Scoring, find_task
from ._trials import TaskBatch

__all__ = [
    "ChoiceScoring",
    "accuracy_by_level",
    "check_outputs",
    "choice_at_end",
    "curves_by_condition",
    "first_crossing",
    "psychometric_curve",
    "task_accuracy",
    "task_choices",
]


# --------------------------------------------------------------------------------------
# Machinery
# --------------------------------------------------------------------------------------


def check_outputs(batch: Any, outputs: Any) -> np.ndarray:
    """`outputs` as a NumPy array of the shape of `batch.targets`.

    **Raises:** `InputError` for something other than a `TaskBatch`, or another shape.
    """
    if not isinstance(batch, TaskBatch):
        raise InputError(f"batch: got {type(batch).__name__}, expected a TaskBatch")
    out = np.asarray(outputs)
    if out.shape != tuple(batch.targets.shape):
        raise InputError(f"outputs: got shape {out.shape}, expected {tuple(batch.targets.shape)}")
    return out


def _period(batch: TaskBatch, epoch: str) -> tuple[np.ndarray, np.ndarray]:
    if epoch not in batch.epochs:
        raise InputError(f"epoch: got {epoch!r}, expected one of {sorted(batch.epochs)}")
    start, end = (np.asarray(v) for v in batch.epochs[epoch])
    return start, end


def choice_at_end(
    batch: TaskBatch, outputs: Float[ArrayLike, "B T n_out"], epoch: str
) -> np.ndarray:
    """The choice output (counted after the fixation output 0) that is largest at the
    last step of the period `epoch` of each trial.

    **Arguments:**

    - `batch`: the `TaskBatch`; `outputs`: the network's outputs, shape `(B, T, n_out)`.
    - `epoch`: the name of the period.

    **Returns:** an integer NumPy array of shape `(B,)`.

    **Raises:** `InputError` for outputs of another shape or an unknown period.
    """
    out = check_outputs(batch, outputs)
    _, end = _period(batch, epoch)
    last = out[np.arange(out.shape[0]), end - 1, 1:]
    return np.argmax(last, axis=-1)


def first_crossing(
    batch: TaskBatch,
    outputs: Float[ArrayLike, "B T n_out"],
    epoch: str,
    *,
    channel: int = 1,
    threshold: float = 0.5,
) -> Float[np.ndarray, " B"]:
    """The time (ms, from the start of the period `epoch`) at which output `channel`
    first exceeds `threshold` within the period, per trial.

    **Arguments:**

    - `batch`: the `TaskBatch`; `outputs`: the network's outputs, shape `(B, T, n_out)`.
    - `epoch`: the name of the period.
    - `channel`: the output; `threshold`: the level to exceed.

    **Returns:** a float NumPy array of shape `(B,)`, NaN where the output never exceeds
    the threshold in the period.

    **Raises:** `InputError` for outputs of another shape or an unknown period.
    """
    out = check_outputs(batch, outputs)
    start, end = _period(batch, epoch)
    B = out.shape[0]
    times = np.full(B, np.nan)
    for b in range(B):  # host-side, over trials of unequal periods
        above = np.nonzero(out[b, start[b] : end[b], channel] > threshold)[0]
        if above.size:
            times[b] = above[0] * batch.dt
    return times


def curves_by_condition(
    choices: Shaped[np.ndarray, " B"],
    x: Shaped[np.ndarray, " B"],
    groups: Shaped[np.ndarray, " B"] | None = None,
) -> dict:
    """P(choice = 1) at each value of `x`, one curve per value of `groups`.

    **Arguments:**

    - `choices`: the choice of each trial, shape `(B,)`.
    - `x`: the condition of each trial, shape `(B,)` (rounded to 9 decimals).
    - `groups`: optionally, the group of each trial, shape `(B,)`.

    **Returns:** `{group value: (x values, P(choice = 1), number of trials)}`, the x values
    sorted; one entry keyed `None` without `groups`.
    """
    xr = np.round(np.asarray(x, dtype=np.float64), 9)
    g = np.zeros_like(xr) if groups is None else np.asarray(groups)
    out = {}
    for gv in np.unique(g):
        sel = g == gv
        xs = np.unique(xr[sel])
        p = np.array([np.mean(choices[sel & (xr == v)] == 1) for v in xs])
        n = np.array([np.sum(sel & (xr == v)) for v in xs])
        out[None if groups is None else gv.item()] = (xs, p, n)
    return out


def accuracy_by_level(
    correct: Shaped[np.ndarray, " B"], levels: Shaped[np.ndarray, " B"], decimals: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean correctness at each level of a per-trial variable.

    **Arguments:**

    - `correct`: how right each trial is (0/1, or a probability), shape `(B,)`.
    - `levels`: the variable of each trial, shape `(B,)` (rounded to `decimals`).

    **Returns:** `(levels present (sorted), mean correctness at each, trials at each)`.
    """
    lv = np.round(np.asarray(levels, dtype=np.float64), decimals)
    present = np.unique(lv)
    acc = np.array([correct[lv == c].mean() for c in present])
    n = np.array([int(np.sum(lv == c)) for c in present])
    return present, acc, n


# --------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------


class ChoiceScoring(Scoring):
    """The rule of a choice task: the answer is the choice output (after the fixation
    output) largest at the last step of the response period (`choice_at_end`); it is
    right when it equals `conditions["choice"]`.

    **Arguments:**

    - `response_epoch`: the name of the response period (default `"decision"`).
    """

    def __init__(self, response_epoch: Any = "decision"):
        self.response_epoch = check_type(
            "response_epoch", response_epoch, str, "the name of a period"
        )

    def choices(self, batch: TaskBatch, outputs: Float[ArrayLike, "B T n_out"]) -> np.ndarray:
        return choice_at_end(batch, outputs, self.response_epoch)

    def correct(self, batch: TaskBatch, choices: np.ndarray) -> Bool[np.ndarray, " B"]:
        return choices == np.asarray(batch.conditions["choice"])


# --------------------------------------------------------------------------------------
# Scoring a batch with its task's rule
# --------------------------------------------------------------------------------------


def _scoring_of(batch: TaskBatch) -> Scoring:
    """The rule of the batch's task; a batch from outside the registry (neurogym) is
    scored as a choice task."""
    task = find_task(batch.name)
    return ChoiceScoring() if task is None else task.scoring


def task_choices(batch: TaskBatch, outputs: Float[ArrayLike, "B T n_out"]) -> np.ndarray:
    """The network's answer in each trial, by the rule of the batch's task: for a choice
    task, the choice output (after the fixation output) that is largest at the last step
    of the response period; for ready-set-go, the produced interval in ms (the first step
    of the production period where the go output exceeds 0.5, NaN if never).

    **Arguments:**

    - `batch`: the `TaskBatch`.
    - `outputs`: the network's outputs for it, shape `(B, T, n_out)`.

    **Returns:** a NumPy array of shape `(B,)`.

    **Raises:** `InputError` for something other than a `TaskBatch` or outputs of another
    shape.
    """
    check_outputs(batch, outputs)
    return _scoring_of(batch).choices(batch, outputs)


def task_accuracy(batch: TaskBatch, outputs: Float[ArrayLike, "B T n_out"]) -> float:
    """Fraction of trials answered correctly, by the rule of the batch's task: the choice
    at the end of the response period equals `conditions["choice"]`; for ready-set-go,
    the produced interval is within `tolerance` of the target production time.

    **Arguments:**

    - `batch`: the `TaskBatch`.
    - `outputs`: the network's outputs for it, shape `(B, T, n_out)`.

    **Returns:** a float in [0, 1].

    **Raises:** `InputError` for something other than a `TaskBatch` or outputs of another
    shape.
    """
    check_outputs(batch, outputs)
    return _scoring_of(batch).accuracy(batch, outputs)


def psychometric_curve(
    batch: TaskBatch,
    outputs: Float[ArrayLike, "B T n_out"],
    *,
    condition: str = "signed_coherence",
    group: str | None = None,
) -> dict:
    """P(choice = 1) (e.g. "right") as a function of a per-trial condition.

    **Arguments:**

    - `batch`, `outputs`: as `task_choices` (a choice task).
    - `condition`: the x-axis, a key of `batch.conditions` (default `signed_coherence`).
    - `group`: optionally split the curve by another condition (e.g. `context`).

    **Returns:** `{group value: (x values, P(choice = 1), number of trials)}` with the
    x values sorted; one entry keyed `None` without `group`.
    """
    if condition not in batch.conditions:
        raise InputError(
            f"condition: got {condition!r}, expected one of {sorted(batch.conditions)}"
        )
    if group is not None and group not in batch.conditions:
        raise InputError(f"group: got {group!r}, expected one of {sorted(batch.conditions)}")
    ch = task_choices(batch, outputs)
    groups = None if group is None else np.asarray(batch.conditions[group])
    return curves_by_condition(ch, np.asarray(batch.conditions[condition]), groups)
