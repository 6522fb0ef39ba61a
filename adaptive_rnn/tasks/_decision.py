"""Decision tasks whose evidence has a coherence: perceptual decision making and
context-dependent decision making, and their rule, `CoherenceScoring` (the choice at the
end of the decision period; the ideal observer, which reads the left/right stimulus
channels of the relevant modality; accuracy against coherence; psychometric curves)."""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float, PRNGKeyArray, Shaped

from .._checks import check_optional, check_type
from .._errors import InputError
from ._registry import TASKS, Task, find_task, get_task, register_task
from ._scoring import ChoiceScoring, accuracy_by_level, psychometric_curve
from ._trials import (
    TaskBatch,
    check_common,
    check_values,
    choose,
    decision_io,
    float_dtype,
    make_batch,
    noise_std,
    periods,
    steps,
    within,
)

__all__ = [
    "CoherenceScoring",
    "accuracy_by_coherence",
    "context_decision",
    "ideal_observer_accuracy",
    "perceptual_decision",
]


def _decision_timing(coherences, fixation, stimulus, delay, n_dec, dt, sigma, dtype):
    """The checked coherences, epoch lengths (steps), trial length, dtype and per-step
    input noise std shared by the two decision tasks."""
    cohs = check_values("coherences", coherences, 0.0, 100.0)
    n_fix = int(steps("fixation", fixation, dt)[0])
    n_stim = int(steps("stimulus", stimulus, dt, positive=True)[0])
    n_delay = int(steps("delay", delay, dt)[0])
    T = n_fix + n_stim + n_delay + n_dec
    return cohs, n_fix, n_stim, n_delay, T, float_dtype(dtype), noise_std(sigma, dt)


def perceptual_decision(
    key: PRNGKeyArray,
    batch,
    *,
    dt=20.0,
    coherences=(0.0, 3.2, 6.4, 12.8, 25.6, 51.2),
    sigma=1.0,
    fixation=100.0,
    stimulus=800.0,
    delay=0.0,
    decision=300.0,
    grace=100.0,
    dtype=None,
) -> TaskBatch:
    r"""Perceptual decision making (random-dot motion, Britten et al. 1992; neurogym's
    `PerceptualDecisionMaking`).

    Two stimulus channels carry noisy evidence for "left" and "right"; after the
    stimulus (and an optional delay) the fixation cue goes off and the network must
    report the stronger one.

    Timing (ms): fixation `fixation` | stimulus `stimulus` | delay `delay` | decision
    `decision` (the first `grace` ms unscored).

    - Inputs `(B, T, 3)`: fixation; stimulus left, stimulus right, with means
        $(1 \mp c/100)/2$ for coherence $c$ towards the correct side (and
        $(1 \pm c/100)/2$ on the correct channel), plus noise `sigma / sqrt(dt)`,
        during the stimulus period only.
    - Outputs `(B, T, 3)`: fixation; choice left (0), choice right (1).
    - Conditions: `coherence` (%, >= 0), `choice` (0 left, 1 right),
        `signed_coherence` (+ right, - left).

    **Arguments:**

    - `key`: a `jax.random` key; `batch`: number of trials.
    - `dt`: time step in ms, in (0, 1000].
    - `coherences`: the coherences (%) drawn uniformly, each in [0, 100].
    - `sigma`: input noise, in [0, 100].
    - `fixation`, `stimulus`, `delay`, `decision`, `grace`: durations in ms (>= 0;
        stimulus and decision at least one step; grace < decision).
    - `dtype`: float dtype (default JAX's default float).

    **Returns:** a `TaskBatch` with `T = (fixation + stimulus + delay + decision) / dt`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    batch, dt, sigma, n_dec, n_grace = check_common(key, batch, dt, sigma, grace, decision)
    cohs, n_fix, n_stim, n_delay, T, dtype, std = _decision_timing(
        coherences, fixation, stimulus, delay, n_dec, dt, sigma, dtype
    )

    def trial(k):
        kc, kg, kn = jax.random.split(k, 3)
        coh = choose(kc, cohs, dtype)
        choice = jax.random.randint(kg, (), 0, 2)
        t = jnp.arange(T, dtype=jnp.int32)
        ep = periods(
            [("fixation", n_fix), ("stimulus", n_stim), ("delay", n_delay), ("decision", n_dec)]
        )
        fix_in, targets, mask = decision_io(t, ep, "decision", 2, choice, n_grace, dtype)
        sign = jnp.where(choice == 1, 1.0, -1.0).astype(dtype)
        means = jnp.stack([(1 - sign * coh / 100) / 2, (1 + sign * coh / 100) / 2])
        on = within(t, ep["stimulus"]).astype(dtype)[:, None]
        stim = on * (means[None, :] + std * jax.random.normal(kn, (T, 2), dtype=dtype))
        inputs = jnp.concatenate([fix_in[:, None], stim], axis=1)
        cond = {"coherence": coh, "choice": choice, "signed_coherence": sign * coh}
        return inputs, targets, mask, cond, ep

    return make_batch("perceptual_decision", key, batch, trial, dt)


def context_decision(
    key: PRNGKeyArray,
    batch,
    *,
    dt=20.0,
    coherences=(5.0, 15.0, 50.0),
    sigma=1.0,
    fixation=300.0,
    stimulus=800.0,
    delay=0.0,
    decision=300.0,
    grace=100.0,
    dtype=None,
) -> TaskBatch:
    r"""Context-dependent decision making (Mante, Sussillo, Shenoy & Newsome 2013;
    neurogym's `ContextDecisionMaking`).

    Two modalities (e.g. motion and colour) each carry evidence for left or right, with
    independent directions and coherences; a context cue says which modality to report.

    Timing (ms): fixation `fixation` | stimulus `stimulus` | delay `delay` | decision
    `decision` (first `grace` ms unscored). The context cue is on from the start of the
    trial to the end of the decision period.

    - Inputs `(B, T, 7)`: fixation; modality 1 left, right; modality 2 left, right (as in
        `perceptual_decision`, noise `sigma / sqrt(dt)`); context 1, context 2 (one-hot).
    - Outputs `(B, T, 3)`: fixation; choice left (0), right (1).
    - Conditions: `context` (0: report modality 1, 1: modality 2), `choice`,
        `coherence_1`, `coherence_2` (%), `signed_coherence_1`, `signed_coherence_2`,
        `signed_coherence` (that of the relevant modality).

    **Arguments:**

    - `key`: a `jax.random` key; `batch`: number of trials.
    - `dt`: time step in ms, in (0, 1000].
    - `coherences`: the coherences (%) drawn uniformly and independently for each
        modality, each in [0, 100].
    - `sigma`: input noise, in [0, 100].
    - `fixation`, `stimulus`, `delay`, `decision`, `grace`: durations in ms (>= 0;
        stimulus and decision at least one step; grace < decision).
    - `dtype`: float dtype (default JAX's default float).

    **Returns:** a `TaskBatch`.

    **Raises:** `InputError` naming the parameter, the value and the accepted range.
    """
    batch, dt, sigma, n_dec, n_grace = check_common(key, batch, dt, sigma, grace, decision)
    cohs, n_fix, n_stim, n_delay, T, dtype, std = _decision_timing(
        coherences, fixation, stimulus, delay, n_dec, dt, sigma, dtype
    )

    def trial(k):
        kc1, kc2, kg1, kg2, kx, kn = jax.random.split(k, 6)
        coh = jnp.stack([choose(kc1, cohs, dtype), choose(kc2, cohs, dtype)])
        sides = jnp.stack([jax.random.randint(kg1, (), 0, 2), jax.random.randint(kg2, (), 0, 2)])
        context = jax.random.randint(kx, (), 0, 2)
        choice = sides[context]
        t = jnp.arange(T, dtype=jnp.int32)
        ep = periods(
            [("fixation", n_fix), ("stimulus", n_stim), ("delay", n_delay), ("decision", n_dec)]
        )
        fix_in, targets, mask = decision_io(t, ep, "decision", 2, choice, n_grace, dtype)
        sign = jnp.where(sides == 1, 1.0, -1.0).astype(dtype)
        means = jnp.stack([(1 - sign * coh / 100) / 2, (1 + sign * coh / 100) / 2], axis=1).reshape(
            4
        )
        on = within(t, ep["stimulus"]).astype(dtype)[:, None]
        stim = on * (means[None, :] + std * jax.random.normal(kn, (T, 4), dtype=dtype))
        ctx_on = (t < ep["decision"][1]).astype(dtype)[:, None]
        ctx = ctx_on * jax.nn.one_hot(context, 2, dtype=dtype)[None, :]
        inputs = jnp.concatenate([fix_in[:, None], stim, ctx], axis=1)
        signed = sign * coh
        cond = {
            "context": context,
            "choice": choice,
            "coherence_1": coh[0],
            "coherence_2": coh[1],
            "signed_coherence_1": signed[0],
            "signed_coherence_2": signed[1],
            "signed_coherence": signed[context],
        }
        return inputs, targets, mask, cond, ep

    return make_batch("context_decision", key, batch, trial, dt)


class CoherenceScoring(ChoiceScoring):
    """The rule of a choice task whose evidence has a coherence (left and right stimulus
    channels with equal-variance Gaussian noise): `ChoiceScoring`, plus the ideal
    observer, accuracy against coherence and the psychometric curves.

    **Arguments:**

    - `evidence_channels`: per modality, the `(left, right)` input channels; with more
        than one, the trial's `conditions["context"]` selects the relevant modality.
    - `coherence_of`: what the coherence is of, in words (`"stimulus"`).
    - `label`: the axis label of the coherence (`"coherence"`).
    - `psychometric_group`: the condition the psychometric curves are split by (or
        `None`).
    - `response_epoch`: as `ChoiceScoring`.

    The batch's conditions hold `signed_coherence` (+ right, - left, of the relevant
    modality) and `choice`.
    """

    def __init__(
        self,
        evidence_channels: Any,
        *,
        coherence_of: Any = "stimulus",
        label: Any = "coherence",
        psychometric_group: Any = None,
        response_epoch: Any = "decision",
    ):
        super().__init__(response_epoch)
        try:
            raw = [tuple(int(c) for c in p) for p in evidence_channels]
        except (TypeError, ValueError):
            raw = []
        if not raw or any(len(p) != 2 or min(p) < 1 for p in raw):
            raise InputError(
                f"evidence_channels: got {evidence_channels!r}, expected (left, right) input "
                f"channel pairs (>= 1, after fixation), one per modality"
            )
        self.evidence_channels: tuple[tuple[int, int], ...] = tuple((p[0], p[1]) for p in raw)
        self.coherence_of = check_type("coherence_of", coherence_of, str, "words")
        self.label = check_type("label", label, str, "words")
        self.psychometric_group: str | None = check_optional(
            check_type, "psychometric_group", psychometric_group, str, "a condition's name"
        )

    def ideal_observer(self, batch: TaskBatch) -> Float[np.ndarray, " B"]:
        """How often the ideal observer is right on each trial (`ideal_observer_accuracy`).

        **Arguments:**

        - `batch`: a `TaskBatch` of the task.

        **Returns:** a NumPy array of shape `(B,)` of 1, 0 or 0.5 (a tie).
        """
        x = np.asarray(batch.inputs, dtype=np.float64)
        start, end = (np.asarray(v) for v in batch.epochs["stimulus"])
        t = np.arange(x.shape[1])
        on = (t[None, :] >= start[:, None]) & (t[None, :] < end[:, None])
        pairs = self.evidence_channels
        modality = (
            np.asarray(batch.conditions["context"]) if len(pairs) > 1 else np.zeros(x.shape[0], int)
        )
        left = np.asarray([pairs[int(m)][0] for m in modality])
        right = np.asarray([pairs[int(m)][1] for m in modality])
        b = np.arange(x.shape[0])
        diff = x[b, :, right] - x[b, :, left]
        evidence = np.sum(np.where(on, diff, 0.0), axis=1)
        sign = np.asarray(batch.conditions["choice"]) * 2 - 1
        return np.where(evidence * sign > 0, 1.0, np.where(evidence == 0, 0.5, 0.0))

    def psychometric_curves(self, batch: TaskBatch, outputs: Float[ArrayLike, "B T n_out"]) -> dict:
        """P(choice 1) against the signed coherence, split by `psychometric_group`.

        **Arguments:**

        - `batch`, `outputs`: as `choices`.

        **Returns:** `psychometric_curve`'s dict; with a group, keyed
        `"<group> <value>"`.
        """
        group = self.psychometric_group
        curves = psychometric_curve(batch, outputs, group=group)
        return curves if group is None else {f"{group} {g}": v for g, v in curves.items()}


def _coherence_scoring(batch: Any) -> CoherenceScoring:
    if not isinstance(batch, TaskBatch):
        raise InputError(f"batch: got {type(batch).__name__}, expected a TaskBatch")
    task = find_task(batch.name)
    if task is None or not isinstance(task.scoring, CoherenceScoring):
        names = sorted(n for n in TASKS if isinstance(get_task(n).scoring, CoherenceScoring))
        raise InputError(
            f"batch: got a {batch.name!r} batch, expected one of {names} "
            f"(a task whose evidence has a coherence)"
        )
    return task.scoring


def ideal_observer_accuracy(batch: TaskBatch) -> np.ndarray:
    r"""How often the ideal observer is right on each trial of a coherence task: no
    decision rule is right more often on average (on a finite set of trials a network
    can beat it by luck, e.g. on 0 % coherence trials).

    The stimulus channels carry the evidence plus independent Gaussian noise of equal
    variance, so the log-likelihood ratio of "right" against "left" is, for every
    coherence, proportional to the summed difference $\sum_t (x_{right} - x_{left})$ of
    the relevant modality over the stimulus period; choosing its sign is the Bayes-optimal
    decision whatever the prior over coherences. At 0 % coherence nothing beats chance.

    **Arguments:**

    - `batch`: a `TaskBatch` of a task scored by `CoherenceScoring`
        (`perceptual_decision`, `context_decision`).

    **Returns:** a NumPy array of shape `(B,)`: 1 where the sign of the summed evidence
    gives the correct choice, 0 where it gives the wrong one, 0.5 for a tie (no evidence,
    e.g. 0 % coherence without noise: a fair guess).

    **Raises:** `InputError` for another task.
    """
    return _coherence_scoring(batch).ideal_observer(batch)


def accuracy_by_coherence(
    batch: TaskBatch,
    outputs: Float[ArrayLike, "B T n_out"] | None = None,
    *,
    correct: Shaped[ArrayLike, " B"] | None = None,
) -> tuple:
    """The psychometric curve of a coherence task as accuracy against coherence: the
    fraction of correct trials at each coherence of the relevant stimulus (for
    `context_decision`, the modality the context cue asks for).

    **Arguments:**

    - `batch`: a `TaskBatch` of a task scored by `CoherenceScoring`
        (`perceptual_decision`, `context_decision`).
    - `outputs`: the network's outputs, shape `(B, T, n_out)`, scored by
        `task_choices`; or
    - `correct`: instead of `outputs`, how often each trial is right, shape `(B,)`
        (e.g. `ideal_observer_accuracy(batch)`).

    **Returns:** `(coherence, accuracy, n)`: the coherences present (%, sorted, rounded
    to 4 decimals), the mean correctness at each and the number of trials at each.

    **Raises:** `InputError` for another task, or unless exactly one of `outputs` and
    `correct` is given with the right shape.
    """
    scoring = _coherence_scoring(batch)
    B = batch.inputs.shape[0]
    if (outputs is None) == (correct is None):
        raise InputError("outputs, correct: expected exactly one of them")
    if outputs is not None:
        ok = scoring.correct(batch, scoring.choices(batch, outputs)).astype(np.float64)
    else:
        ok = np.asarray(correct, dtype=np.float64)
        if ok.shape != (B,):
            raise InputError(f"correct: got shape {ok.shape}, expected ({B},)")
    coh = np.abs(np.asarray(batch.conditions["signed_coherence"], dtype=np.float64))
    return accuracy_by_level(ok, coh, 4)


register_task(
    Task(
        "perceptual_decision",
        perceptual_decision,
        CoherenceScoring(((1, 2),), coherence_of="stimulus", label="coherence"),
    )
)
register_task(
    Task(
        "context_decision",
        context_decision,
        CoherenceScoring(
            ((1, 2), (3, 4)),
            coherence_of="the modality the context cue selects",
            label="coherence of the relevant modality",
            psychometric_group="context",
        ),
    )
)
