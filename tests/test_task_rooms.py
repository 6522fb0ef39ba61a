"""The cognitive tasks in rooms with one job: trial machinery, a registry of tasks that
each own their scoring rule, reusable scoring.

- The split changed no trial and no score: every task, at fixed keys, draws the trials
  and gives the scores recorded in `tests/data/task_reference.npz` by the code before the
  split (`tests/data/make_task_reference.py`).
- No code of the package compares a task's name: a name appears as a string only in the
  module that defines and registers the task.
- A new task needs only its generator, its rule and `register_task`.
"""

import importlib.util
import math
import re
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adaptive_rnn import InputError
from adaptive_rnn.tasks import (
    TASKS,
    ChoiceScoring,
    CoherenceScoring,
    IntervalScoring,
    Scoring,
    Task,
    TaskBatch,
    get_task,
    ideal_observer_accuracy,
    make_task,
    register_task,
    task_accuracy,
    task_choices,
)
from adaptive_rnn.tasks._registry import _REGISTRY
from adaptive_rnn.tasks._scoring import (
    accuracy_by_level,
    choice_at_end,
    curves_by_condition,
    first_crossing,
)
from adaptive_rnn.tasks._trials import make_batch, periods, steps, within

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def _reference_script():
    spec = importlib.util.spec_from_file_location(
        "make_task_reference", DATA / "make_task_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _reference_script()


@pytest.fixture(scope="module")
def reference():
    with np.load(DATA / "task_reference.npz") as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("case", sorted(REF.CASES))
def test_same_trials_and_scores_as_before_the_split(reference, case):
    expected = {k[len(case) + 1 :]: v for k, v in reference.items() if k.startswith(f"{case}/")}
    got = {k[len(case) + 1 :]: v for k, v in REF.reference_case(case).items()}
    assert sorted(got) == sorted(expected)
    # Noisy inputs come from XLA's normal sampler, elementwise with no reduction: the
    # same bits on the machine that wrote the file (checked there: all 198 arrays equal),
    # a few roundings apart on another build or optimisation level (a fused multiply-add
    # or not in the sampler and in signal + sd * noise), hence the float tolerance on
    # them: relative to the inputs' largest magnitude (1e-12 in float64, 1e-6 in
    # float32), since a sum that nearly cancels keeps the terms' absolute rounding, not
    # its own relative one (seen: 6e-8 on 0.016 in float32, at -O0 against -O3).
    # Everything else is exact: integers, 0/1 targets and
    # masks, conditions drawn from lists, choices and scores of fixed outputs (the ideal
    # observer's summed evidence is nowhere within 1e-9 of 0 in these trials).
    for k, want in expected.items():
        have = got[k]
        assert have.dtype == want.dtype and have.shape == want.shape, k
        if k == "inputs" and want.dtype.kind == "f":
            rtol = 1e-6 if want.dtype == np.float32 else 1e-12
            atol = rtol * float(np.max(np.abs(want)))
            np.testing.assert_allclose(have, want, rtol=rtol, atol=atol, err_msg=k)
        else:
            np.testing.assert_array_equal(have, want, err_msg=k)


def test_every_task_is_registered_with_its_rule():
    assert sorted(TASKS) == [
        "context_decision",
        "delayed_match_to_sample",
        "perceptual_decision",
        "ready_set_go",
        "working_memory",
    ]
    rules = {name: type(get_task(name).scoring) for name in TASKS}
    assert rules == {
        "context_decision": CoherenceScoring,
        "delayed_match_to_sample": ChoiceScoring,
        "perceptual_decision": CoherenceScoring,
        "ready_set_go": IntervalScoring,
        "working_memory": ChoiceScoring,
    }
    for name in TASKS:
        task = get_task(name)
        assert task.name == name and TASKS[name] is task.generator
        assert "key" not in task.parameters and "dt" in task.parameters
    assert get_task("ready_set_go").response_epoch == "production"
    assert get_task("working_memory").response_epoch == "decision"
    with pytest.raises(TypeError):
        TASKS["x"] = None  # type: ignore[index]  # a read-only view of the registry


def test_no_code_switches_on_a_task_name():
    """A task's name is written as a string only in the module that defines it."""
    offences = []
    for name in TASKS:
        home = Path(str(sys.modules[get_task(name).generator.__module__].__file__)).resolve()
        pattern = re.compile(rf"[\"']{name}[\"']")
        for path in sorted((ROOT / "adaptive_rnn").rglob("*.py")):
            if path.resolve() == home:
                continue
            for i, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    offences.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert offences == []
    for path in sorted((ROOT / "adaptive_rnn").rglob("*.py")):
        assert "batch.name ==" not in path.read_text(), path


def test_registry_refuses_bad_tasks():
    def gen(key, batch, *, dt=20.0):
        raise AssertionError("not called")

    with pytest.raises(InputError, match="name: got int 3"):
        Task(3, gen, ChoiceScoring())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="name: got ''"):
        Task("", gen, ChoiceScoring())
    with pytest.raises(InputError, match="generator: got int"):
        Task("x", 3, ChoiceScoring())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="scoring: got str"):
        Task("x", gen, "choice")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="task: got dict"):
        register_task({})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="second task named 'ready_set_go'"):
        register_task(Task("ready_set_go", gen, ChoiceScoring()))
    assert register_task(get_task("ready_set_go")) is get_task("ready_set_go")  # idempotent
    with pytest.raises(InputError, match="did you mean 'working_memory'"):
        get_task("working_memroy")
    with pytest.raises(InputError, match="evidence_channels"):
        CoherenceScoring(((0, 1),))
    with pytest.raises(InputError, match="channel: got 0"):
        IntervalScoring(channel=0)
    with pytest.raises(InputError, match="response_epoch: got int"):
        ChoiceScoring(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Scoring()  # type: ignore[abstract]  # abstract: choices and correct


class _SignScoring(Scoring):
    """A toy rule: the answer is the sign of output 1 at the last step; right when it
    matches the trial's `sign`."""

    response_epoch = "response"

    def choices(self, batch, outputs):
        return np.sign(np.asarray(outputs)[:, -1, 1])

    def correct(self, batch, choices):
        return choices == np.asarray(batch.conditions["sign"])


def _toy(key, batch, *, dt=10.0, wait=30.0):
    n_wait = int(steps("wait", wait, dt)[0])
    T = n_wait + 2

    def trial(k):
        sign = jnp.where(jax.random.bernoulli(k), 1.0, -1.0)
        t = jnp.arange(T, dtype=jnp.int32)
        ep = periods([("wait", n_wait), ("response", 2)])
        cue = within(t, ep["wait"]).astype(float) * sign
        inputs = cue[:, None]
        targets = jnp.stack([jnp.zeros(T), within(t, ep["response"]) * sign], axis=1)
        return inputs, targets, jnp.ones_like(targets), {"sign": sign}, ep

    return make_batch("toy_sign", key, batch, trial, dt)


def test_a_new_task_needs_only_its_generator_rule_and_registration(getkey):
    try:
        register_task(Task("toy_sign", _toy, _SignScoring()))
        assert "toy_sign" in TASKS
        b = make_task("toy_sign", getkey(), 16, wait=50.0)
        assert isinstance(b, TaskBatch) and b.inputs.shape == (16, 7, 1)
        out = np.array(b.targets)
        assert task_accuracy(b, out) == 1.0
        out[:, -1, 1] *= -1
        assert task_accuracy(b, out) == 0.0
        np.testing.assert_array_equal(task_choices(b, out), -np.asarray(b.conditions["sign"]))
        with pytest.raises(InputError, match=r"unknown parameter\(s\) \['sigma'\]"):
            make_task("toy_sign", getkey(), 4, sigma=1.0)
        with pytest.raises(InputError, match="a task whose evidence has a coherence"):
            ideal_observer_accuracy(b)
    finally:
        _REGISTRY.pop("toy_sign", None)
    assert "toy_sign" not in TASKS


def test_scoring_machinery_by_hand():
    # Two trials, dt 20 ms, a response period at steps 2..5 and 1..4.
    inputs = jnp.zeros((2, 6, 1))
    targets = jnp.zeros((2, 6, 3))
    epochs = {"resp": (jnp.asarray([2, 1]), jnp.asarray([6, 5]))}
    b = TaskBatch(inputs, targets, targets, {}, epochs, 20.0, "by_hand")
    out = np.zeros((2, 6, 3))
    out[0, 5, 1:] = (0.2, 0.9)  # trial 0: choice 1 at its last step (5)
    out[1, 4, 1:] = (0.7, 0.1)  # trial 1: choice 0 at its last step (4)
    out[1, 5, 1:] = (0.0, 5.0)  # after trial 1's period: ignored
    out[0, 1, 1] = 0.9  # before trial 0's period: ignored
    np.testing.assert_array_equal(choice_at_end(b, out, "resp"), [1, 0])
    # Output 1 first above 0.5 within the period: never in trial 0 (steps 2..5); in
    # trial 1 at step 4, 3 steps = 60 ms after the period's start (step 1).
    np.testing.assert_array_equal(first_crossing(b, out, "resp"), [np.nan, 60.0])
    np.testing.assert_array_equal(first_crossing(b, out, "resp", channel=2), [60.0, np.nan])
    with pytest.raises(InputError, match="epoch: got 'nope'"):
        choice_at_end(b, out, "nope")
    with pytest.raises(InputError, match=r"outputs: got shape \(2, 6, 2\)"):
        first_crossing(b, out[..., :2], "resp")

    choices = np.array([1, 0, 1, 1, 0, 1])
    x = np.array([-1.0, -1.0, 1.0, 1.0, 2.0, 2.0 + 1e-12])  # rounded to 9 decimals
    ((xs, p, n),) = curves_by_condition(choices, x).values()
    np.testing.assert_array_equal(xs, [-1.0, 1.0, 2.0])
    np.testing.assert_array_equal(p, [0.5, 1.0, 0.5])
    np.testing.assert_array_equal(n, [2, 2, 2])
    by_group = curves_by_condition(choices, x, np.array([0, 1, 0, 1, 0, 1]))
    assert sorted(by_group) == [0, 1]
    np.testing.assert_array_equal(by_group[1][0], [-1.0, 1.0, 2.0])
    np.testing.assert_array_equal(by_group[1][1], [0.0, 1.0, 1.0])

    levels, acc, n = accuracy_by_level(np.array([1.0, 0.0, 1.0, 0.5]), np.array([3, 3, 6.4, 6.4]))
    np.testing.assert_array_equal(levels, [3.0, 6.4])
    np.testing.assert_array_equal(acc, [0.5, 0.75])
    np.testing.assert_array_equal(n, [2, 2])


def test_interval_rule_tolerance_edges():
    # Target 500 ms, tolerance 0.2 (100 ms): 420 and 580 ms are right, 380 and 620 ms and
    # no answer (NaN) are not.
    rule = IntervalScoring()
    conditions = {"production": jnp.full(5, 500.0), "tolerance": jnp.full(5, 0.2)}
    zeros = jnp.zeros((5, 1, 2))
    b = TaskBatch(zeros[..., :1], zeros, zeros, conditions, {}, 20.0, "by_hand")
    np.testing.assert_array_equal(
        rule.correct(b, np.array([420.0, 580.0, 380.0, 620.0, math.nan])),
        [True, True, False, False, False],
    )
