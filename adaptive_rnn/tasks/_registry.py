"""The registry of cognitive tasks: each `Task` pairs a generator of trials with the
scoring rule it owns, under one name.

A task module defines its generator and registers it with its rule at its bottom
(`register_task(Task(name, generator, scoring))`); `adaptive_rnn/tasks/__init__.py`
imports the module, so the task is registered once the package is imported. Everything
that needs the list of tasks or a task's rule (`make_task`, `TASKS`, the scoring
functions, the `train-task` recipe and command) reads it here, never by comparing names.
"""

import abc
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, PRNGKeyArray

from .._checks import check_choice, check_type
from .._errors import InputError
from ._trials import TaskBatch

__all__ = ["TASKS", "Scoring", "Task", "find_task", "get_task", "make_task", "register_task"]


class Scoring(abc.ABC):
    """A task's scoring rule: what the network answered in each trial and whether that
    is right. Subclasses define `response_epoch`, `choices` and `correct`; `accuracy`
    follows from them.

    The rules of this package: `ChoiceScoring` (the choice output largest at the end of
    the response period), `CoherenceScoring` (the same, for tasks whose evidence has a
    coherence: ideal observer and psychometric curves) and `IntervalScoring` (the time
    an output first crosses a threshold, ready-set-go).
    """

    #: The name of the response period in `TaskBatch.epochs`.
    response_epoch: str = "decision"

    @abc.abstractmethod
    def choices(self, batch: TaskBatch, outputs: Float[ArrayLike, "B T n_out"]) -> np.ndarray:
        """The network's answer in each trial.

        **Arguments:**

        - `batch`: the `TaskBatch`.
        - `outputs`: the network's outputs for it, shape `(B, T, n_out)`.

        **Returns:** a NumPy array of shape `(B,)`.

        **Raises:** `InputError` for outputs of another shape than the targets.
        """

    @abc.abstractmethod
    def correct(self, batch: TaskBatch, choices: np.ndarray) -> Bool[np.ndarray, " B"]:
        """Whether each answer (from `choices`) is right.

        **Arguments:**

        - `batch`: the `TaskBatch`.
        - `choices`: the answers, shape `(B,)`.

        **Returns:** a boolean NumPy array of shape `(B,)`.
        """

    def accuracy(self, batch: TaskBatch, outputs: Float[ArrayLike, "B T n_out"]) -> float:
        """The fraction of trials answered right.

        **Arguments:** as `choices`.

        **Returns:** a float in [0, 1].
        """
        return float(np.mean(self.correct(batch, self.choices(batch, outputs))))


class Task:
    """A registered cognitive task: its name, the generator of its trials and the scoring
    rule it owns.

    **Arguments:**

    - `name`: the task's name, a key of `TASKS` once registered; the generator names its
        batches so (`TaskBatch.name`), which is how a batch finds its rule.
    - `generator`: `generator(key, batch, **params) -> TaskBatch`, its parameters
        keyword-only with defaults.
    - `scoring`: a `Scoring` (e.g. `ChoiceScoring()`).

    **Raises:** `InputError` for a name that is not a non-empty string, a generator that
    is not callable or a rule that is not a `Scoring`.
    """

    def __init__(self, name: Any, generator: Any, scoring: Any):
        check_type("name", name, str, "the task's name (a string)")
        if not name:
            raise InputError("name: got '', expected the task's name (a non-empty string)")
        if not callable(generator):
            raise InputError(
                f"generator: got {type(generator).__name__}, expected a function "
                f"(key, batch, **params) -> TaskBatch"
            )
        check_type("scoring", scoring, Scoring, "a Scoring (e.g. ChoiceScoring())")
        self.name: str = name
        self.generator = cast(Callable[..., TaskBatch], generator)  # checked callable
        self.scoring: Scoring = scoring

    @property
    def parameters(self) -> tuple[str, ...]:
        """The keyword parameters the generator accepts (all but `key` and `batch`)."""
        return tuple(
            p for p in inspect.signature(self.generator).parameters if p not in ("key", "batch")
        )

    @property
    def response_epoch(self) -> str:
        """The name of the response period (its scoring rule's)."""
        return self.scoring.response_epoch

    def generate(self, key: PRNGKeyArray, batch: Any, **params: Any) -> TaskBatch:
        """A batch of trials.

        **Arguments:**

        - `key`: a `jax.random` key; `batch`: the number of trials.
        - `params`: keyword parameters of the generator.

        **Returns:** a `TaskBatch`.

        **Raises:** `InputError` for an unknown parameter (naming the accepted ones) or
        one out of range.
        """
        accepted = list(self.parameters)
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise InputError(
                f"{self.name}: unknown parameter(s) {unknown}; expected some of {accepted}"
            )
        return self.generator(key, batch, **params)

    def __repr__(self) -> str:
        return f"Task({self.name!r}, {self.generator.__name__}, {type(self.scoring).__name__})"


_REGISTRY: dict[str, Task] = {}


def register_task(task: Any) -> Task:
    """Adds a task to the registry (`TASKS`, `make_task`, `get_task`, the scoring
    functions and `train-task` read it).

    **Arguments:**

    - `task`: a `Task`.

    **Returns:** `task`.

    **Raises:** `InputError` for something other than a `Task`, or a name already taken
    by another task.
    """
    check_type("task", task, Task, "a Task")
    if _REGISTRY.get(task.name, task) is not task:
        raise InputError(
            f"task: got a second task named {task.name!r}, expected a name not yet in "
            f"{sorted(_REGISTRY)}"
        )
    _REGISTRY[task.name] = task
    return task


def get_task(name: Any) -> Task:
    """The registered task called `name`.

    **Arguments:**

    - `name`: a key of `TASKS`.

    **Returns:** its `Task`.

    **Raises:** `InputError` for an unknown name (listing the registered ones).
    """
    return _REGISTRY[check_choice("task", name, sorted(_REGISTRY))]


def find_task(name: Any) -> Task | None:
    """The registered task called `name`, or `None` (a batch from outside the registry,
    e.g. `from_neurogym`)."""
    return _REGISTRY.get(name)


class _Generators(Mapping[str, Callable[..., TaskBatch]]):
    """The registry seen as `{name: generator}`, read-only and always current."""

    def __getitem__(self, name: str) -> Callable[..., TaskBatch]:
        return _REGISTRY[name].generator

    def __iter__(self) -> Iterator[str]:
        return iter(_REGISTRY)

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return repr({k: v.generator.__name__ for k, v in _REGISTRY.items()})


#: The registered cognitive tasks, `{name: generator}` (a read-only view of the registry:
#: `get_task(name)` gives the whole `Task`, with its scoring rule).
TASKS: Mapping[str, Callable[..., TaskBatch]] = _Generators()


def make_task(name: Any, key: PRNGKeyArray, batch: Any, **params: Any) -> TaskBatch:
    """Generates a batch of the task called `name` (a key of `TASKS`).

    **Arguments:**

    - `name`: `perceptual_decision`, `delayed_match_to_sample`, `context_decision`,
        `ready_set_go`, `working_memory`, or another registered task.
    - `key`: a `jax.random` key; `batch`: number of trials.
    - `params`: the task's keyword parameters (see each generator).

    **Returns:** a `TaskBatch`.

    **Raises:** `InputError` for an unknown task name, an unknown parameter (naming the
    accepted ones) or a parameter out of range (naming the parameter, the value and the
    range).
    """
    return get_task(name).generate(key, batch, **params)
