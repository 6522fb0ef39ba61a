"""Train a model on a cognitive task and analyse it: the library side of
`adaptive-rnn train-task`.

Composes the layers below: tasks (`make_task`), models, training (`adaptive_rnn.train.fit`)
and analysis (accuracy, psychometric curve, time constants per E/I group, fixed points).
What depends on the task (its trials, response period, accuracy and, for a task scored by
`CoherenceScoring`, the ideal observer and psychometric curves) comes from the task's
registered rule (`adaptive_rnn.tasks.get_task`), never from its name.

Why this file is over 400 lines: it holds the whole of one recipe, the defaults shared with
the command line, the model built for a task (`build_task_model`, one branch per family),
the run (`train_on_task`: checks, data, training, analysis, files) and its figures
(`make_task_figures`). Each piece is short and used only here; split, they would pass the
held-out batch, its outputs and the summary between modules without making any of them
reusable elsewhere.
"""

import dataclasses
import math
import os
from pathlib import Path
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import InputError
from ..analysis import FixedPoints, find_fixed_points, tau_invariants
from ..models import AbstractRNN
from ..tasks import (
    CoherenceScoring,
    TaskBatch,
    accuracy_by_coherence,
    get_task,
    task_accuracy,
)

MODEL_KINDS = ("aru", "ctrnn", "shunting")
TC_MODES = ("static", "global", "local")
# Shunting: its field has no time constant on the drive, so it runs in time units of
# SHUNTING_UNIT_MS (the baseline leak G_b = 1 is tau_b = 100 ms).
SHUNTING_UNIT_MS = 100.0

#: The defaults of `train_on_task`, which are also those of `adaptive-rnn train-task`:
#: one source, so that the library and the command line cannot drift apart. Chosen so
#: that a first run comes close to the ideal observer's accuracy on
#: `perceptual_decision` and `context_decision` for every model family within about a
#: minute or two on a small CPU; `results/train_task_defaults.json` records the accuracy
#: and wall time of every family and seed (made by `benchmarks/train_task_defaults.py`).
TRAIN_TASK_DEFAULTS: dict[str, Any] = {
    "model": "aru",
    "time_constants": "local",
    "n_hidden": 32,
    "epochs": 150,
    "seed": 0,
    "n_train": 1024,
    "n_val": 256,
    "n_test": 2000,
    "batch_size": 32,
    "learning_rate": 1e-2,
    "tau": 100.0,
    "n_fixed_point_inits": 32,
}


def unit_signs(model) -> np.ndarray | None:
    """The Dale sign (+1 excitatory, -1 inhibitory) of each hidden unit, or `None` for a
    model without Dale's law (`AbstractRNN.dale_signs`).

    **Arguments:**

    - `model`: any adaptive_rnn model (an `AbstractRNN`).

    **Returns:** the signs as a flat NumPy array of shape `(n_hidden,)`, or `None`.
    """
    s = model.dale_signs()
    return None if s is None else np.asarray(s).reshape(-1)


def time_constants_by_group(model, *, ms_per_unit: float = 1.0) -> dict[str, dict[str, list]]:
    """The model's time constants (entries of `time_constants()` whose name starts with
    `tau`, plus the ARU's `tau_1 = tau_s + tau_r` and `tau_2 = tau_s tau_r`), split by
    E/I group.

    **Arguments:**

    - `model`: any adaptive_rnn model.
    - `ms_per_unit`: milliseconds per time unit of the model (taus are multiplied by it,
        `tau_2` by its square).

    **Returns:** `{"E": {name: values}, "I": {...}}` for a model with Dale's law, else
    `{"all": {...}}`. A global time constant (one value) appears once in each group.
    """
    tcs = {
        k: np.asarray(v, dtype=np.float64).reshape(-1) * ms_per_unit
        for k, v in model.time_constants().items()
        if k.startswith("tau")
    }
    try:
        inv = tau_invariants(model)
    except InputError:
        inv = None
    if inv is not None:
        # One pair, or one pair per layer (`tau_invariants`): its first entry tells which.
        pairs = cast(
            list[tuple[np.ndarray, np.ndarray]],
            [inv] if isinstance(inv[0], np.ndarray) else list(inv),
        )
        for k, (t1, t2) in enumerate(pairs):
            sfx = "" if len(pairs) == 1 else f"_{k}"
            tcs[f"tau_1{sfx}"] = t1 * ms_per_unit
            tcs[f"tau_2{sfx}"] = t2 * ms_per_unit**2
    signs = unit_signs(model)
    if signs is None:
        return {"all": {k: v.tolist() for k, v in tcs.items()}}
    out = {}
    for name, sel in (("E", signs > 0), ("I", signs < 0)):
        out[name] = {k: (v[sel] if v.size == signs.size else v).tolist() for k, v in tcs.items()}
    return out


def build_task_model(
    kind: str,
    n_in: int,
    n_out: int,
    *,
    n_hidden: int = 32,
    dale: bool = False,
    time_constants: str = "local",
    dt: float = 20.0,
    tau: float = 100.0,
    key,
) -> tuple[AbstractRNN, float]:
    """A fresh model for a task with step `dt` ms.

    - `aru`: sigmoid ARU, tau_s = tau_r = `tau` ms initially, sigmoid parametrisation
        (tau > dt), model time in ms.
    - `ctrnn`: ReLU CTRNN, tau = `tau` ms, model time in ms.
    - `shunting`: sigmoid shunting model, baseline leak per neuron (always learnable, so
        only `time_constants="local"`), model time in units of 100 ms (G_b = 1),
        normal initial weights and one conductance scale A per neuron (`A_shape=
        "neuron"`, initially 0.1): with uniform initial weights it stays longer on the
        plateau of a constant answer, and with an A per synapse training can push the
        largest possible leak past the explicit-Euler limit of the 20 ms step
        (`simulate` then refuses the trained model).

    With `dale=True`: Dale's law (`"abs"`), 80 % excitatory units. (Shunting always uses
    Dale's law, its default.)

    **Arguments:**

    - `kind`: the model family, one of `MODEL_KINDS` (`"aru"`, `"ctrnn"`, `"shunting"`).
    - `n_in`, `n_out`: the number of input channels and of outputs (the task's).
    - `n_hidden`: the number of hidden units (default 32).
    - `dale`: Dale's law for an ARU or CTRNN (default `False`; ignored for shunting,
        which always has it).
    - `time_constants`: `"static"`, `"global"` or `"local"` (default; the only one a
        shunting model accepts).
    - `dt`: the time step in ms (default 20).
    - `tau`: the initial time constant(s) in ms (default 100); must exceed `dt` (checked
        for every kind). A shunting model does not use it: its leak starts at G_b = 1
        (100 ms).
    - `key`: a `jax.random.key` for the initial weights.

    **Returns:** `(model, ms_per_unit)`: the model and the milliseconds per unit of its
    time (1 for an ARU or CTRNN, `SHUNTING_UNIT_MS` = 100 for a shunting model).

    **Raises:** `InputError` for an unknown kind or mode, a `tau` not above `dt`, or a
    shunting model with `time_constants` other than `"local"`.
    """
    from ..models import ARU, CTRNN, Shunting

    if kind not in MODEL_KINDS:
        raise InputError(f"model: got {kind!r}, expected one of {MODEL_KINDS}")
    if time_constants not in TC_MODES:
        raise InputError(f"time_constants: got {time_constants!r}, expected one of {TC_MODES}")
    alpha = dt / tau
    if not 0 < alpha < 1:
        raise InputError(f"tau: got {tau!r} ms, expected tau > dt = {dt} ms")
    dtype = jnp.result_type(float)
    if kind == "aru":
        model = ARU(
            n_in,
            n_hidden,
            n_out,
            activation="sigmoid",
            time_constants=time_constants,
            alpha_s=alpha,
            alpha_r=alpha,
            dt=dt,
            dale="abs" if dale else None,
            dtype=dtype,
            key=key,
        )
        return model, 1.0
    if kind == "ctrnn":
        model = CTRNN(
            n_in,
            n_hidden,
            n_out,
            activation="relu",
            time_constants=time_constants,
            alpha=alpha,
            dt=dt,
            dale="abs" if dale else None,
            weights="normal",
            dtype=dtype,
            key=key,
        )
        return model, 1.0
    if time_constants != "local":
        raise InputError(
            f"time_constants: got {time_constants!r} for a shunting model, whose baseline "
            f"time constants 1/G_b are learnable per neuron; expected 'local'"
        )
    model = Shunting(
        n_in,
        n_hidden,
        n_out,
        activation="sigmoid",
        G_b=1.0,
        A=0.1,
        A_shape="neuron",
        dale="abs",
        weights="normal",
        dt=dt / SHUNTING_UNIT_MS,
        dtype=dtype,
        key=key,
    )
    return model, SHUNTING_UNIT_MS


@dataclasses.dataclass
class TaskRun:
    """What `train_on_task` returns.

    **Fields:**

    - `summary`: the JSON-ready dict written to `task.json`.
    - `model`: the trained model; `history`: the training `History`.
    - `test`: the held-out `TaskBatch`; `outputs`: the model's outputs on it, a NumPy
        array of shape `(n_test, time, n_out)`.
    - `fixed_points`: a `FixedPoints`, or `None` when the search was not run.
    - `fixed_point_input`: the constant input the fixed points were searched under (the
        first held-out trial's input at the start of its response period), shape
        `(n_in,)`; `None` when the search was not run.
    - `states`: the model's states on the first (at most 16) held-out trials, `{state
        name: array (trials, time, n_hidden)}` (for PC plots).
    - `figures`: name -> matplotlib figure (the names of the PNG files written).
    """

    summary: dict
    model: AbstractRNN
    history: Any
    test: TaskBatch
    outputs: np.ndarray
    fixed_points: FixedPoints | None
    fixed_point_input: np.ndarray | None
    states: Any
    figures: dict


def _json_ready(x):
    if isinstance(x, dict):
        return {str(k): _json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_ready(v) for v in x]
    if isinstance(x, (np.ndarray, jax.Array)):
        return _json_ready(np.asarray(x).tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def train_on_task(
    task: str,
    *,
    model: str = TRAIN_TASK_DEFAULTS["model"],
    dale: bool = False,
    time_constants: str = TRAIN_TASK_DEFAULTS["time_constants"],
    n_hidden: int = TRAIN_TASK_DEFAULTS["n_hidden"],
    epochs: int = TRAIN_TASK_DEFAULTS["epochs"],
    seed: int = TRAIN_TASK_DEFAULTS["seed"],
    n_train: int = TRAIN_TASK_DEFAULTS["n_train"],
    n_val: int = TRAIN_TASK_DEFAULTS["n_val"],
    n_test: int = TRAIN_TASK_DEFAULTS["n_test"],
    batch_size: int = TRAIN_TASK_DEFAULTS["batch_size"],
    learning_rate: float = TRAIN_TASK_DEFAULTS["learning_rate"],
    tau: float = TRAIN_TASK_DEFAULTS["tau"],
    task_params: dict | None = None,
    fixed_points: bool = True,
    n_fixed_point_inits: int = TRAIN_TASK_DEFAULTS["n_fixed_point_inits"],
    out: str | os.PathLike | None = None,
    progress: bool = False,
) -> TaskRun:
    """Trains a fresh model on a cognitive task and analyses it.

    1. Draws training, validation and held-out test trials with `make_task` from keys
       split off `jax.random.key(seed)` (so every part is reproducible).
    2. Builds the model (`build_task_model`) and trains it with `adaptive_rnn.train.fit`
       (the task's output mask weights the loss; Adam with `learning_rate`, clipping and
       weight decay, the best validation epoch kept).
    3. Measures the accuracy on the held-out trials (`task_accuracy`: the choice at the
       end of the response period), the psychometric curve where the task has one, the
       learned time constants per E/I group (in ms), and the fixed points under the
       constant input of the response period of the first held-out trial (fixation off,
       stimuli off), searched from the states of held-out trials.
       For a task scored by `CoherenceScoring` (`perceptual_decision`,
       `context_decision`) the psychometric curve is the
       accuracy at each coherence of the relevant stimulus (`accuracy_by_coherence`,
       in `summary["accuracy_by_coherence"]`), next to that of the ideal observer on the
       same trials (`ideal_observer_accuracy`, also averaged in
       `summary["ideal_observer_accuracy"]`: no network does better on average; with
       0 % among the coherences, as in the perceptual task's defaults, it is well below
       1), and P(choice 1) against the signed coherence (the rule's
       `psychometric_curves`, in `summary["psychometric"]`).
    4. With `out`: writes `out/task.json` (the summary), `out/model/` (the trained model)
       and the plots `psychometric.png` (where the task has one), `time_constants.png`,
       `fixed_points.png`.

    The defaults are `TRAIN_TASK_DEFAULTS`.

    **Arguments:**

    - `task`: a key of `adaptive_rnn.tasks.TASKS`.
    - `model`: `"aru"`, `"ctrnn"` or `"shunting"`; `dale`: Dale's law (E/I units).
    - `time_constants`: `"static"`, `"global"` or `"local"`.
    - `n_hidden`, `epochs`, `seed`, `n_train`, `n_val`, `n_test`, `batch_size`,
        `learning_rate`: sizes and training options.
    - `tau`: initial time constant(s) in ms.
    - `task_params`: keyword parameters of the task (validated by `make_task`).
    - `fixed_points`: whether to search for fixed points; `n_fixed_point_inits` starts.
    - `out`: output folder (optional). `progress`: show a progress bar.

    **Returns:** a `TaskRun` (`summary` holds `accuracy`, `time_constants`,
    `fixed_points`, ...).

    **Raises:** `InputError` for an unknown task, model or mode, a task parameter out of
    range, or bad sizes.
    """
    from .._io import atomic_write_json, save_model
    from .._solve import simulate
    from ..train import fit, paper_optimiser

    spec = get_task(task)
    for name, v, lo in (
        ("n_hidden", n_hidden, 1),
        ("epochs", epochs, 0),
        ("n_train", n_train, 1),
        ("n_val", n_val, 1),
        ("n_test", n_test, 1),
        ("batch_size", batch_size, 1),
        ("n_fixed_point_inits", n_fixed_point_inits, 1),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InputError(f"{name}: got {v!r}, expected an integer >= {lo}")
    if batch_size > n_train:
        raise InputError(f"batch_size: got {batch_size}, expected at most n_train = {n_train}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed: got {seed!r}, expected an integer")
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise InputError(f"learning_rate: got {learning_rate!r}, expected a positive number")
    params = dict(task_params or {})
    keys = jax.random.split(jax.random.key(int(seed)), 6)
    train = spec.generate(keys[0], n_train, **params)
    val = spec.generate(keys[1], n_val, **params)
    test = spec.generate(keys[2], n_test, **params)
    net, ms_per_unit = build_task_model(
        model,
        train.n_in,
        train.n_out,
        n_hidden=int(n_hidden),
        dale=dale,
        time_constants=time_constants,
        dt=train.dt,
        tau=tau,
        key=keys[3],
    )
    result = fit(
        net,
        train.inputs,
        train.targets,
        train.mask,
        key=keys[4],
        epochs=int(epochs),
        validation=(val.inputs, val.targets, val.mask),
        batch_size=int(batch_size),
        optimiser=paper_optimiser(float(learning_rate)),
        progress=progress,
    )
    trained = result.model
    traj = simulate(trained, test.inputs, return_states=True)
    assert traj.states is not None  # return_states=True
    outputs = np.asarray(traj.outputs)
    accuracy = task_accuracy(test, outputs)
    by_coherence = None
    curves = None
    scoring = spec.scoring
    if isinstance(scoring, CoherenceScoring):
        ideal = scoring.ideal_observer(test)
        levels, acc_levels, n_levels = accuracy_by_coherence(test, outputs)
        _, ideal_levels, _ = accuracy_by_coherence(test, correct=ideal)
        by_coherence = {
            "coherence_of": scoring.coherence_of,
            "coherence_percent": levels,
            "accuracy": acc_levels,
            "ideal_observer_accuracy": ideal_levels,
            "n_trials": n_levels,
        }
        curves = scoring.psychometric_curves(test, outputs)

    summary: dict[str, Any] = {
        "task": task,
        "task_params": params,
        "dt_ms": train.dt,
        "model": model,
        "dale": bool(dale or model == "shunting"),
        "time_constant_mode": time_constants,
        "n_hidden": int(n_hidden),
        "seed": int(seed),
        "epochs": int(epochs),
        "n_train": int(n_train),
        "n_val": int(n_val),
        "n_test": int(n_test),
        "accuracy": accuracy,
        **({} if by_coherence is None else {"ideal_observer_accuracy": float(np.mean(ideal))}),
        "best_epoch": int(result.history.best_epoch),
        "best_val_loss": float(result.history.best_val_loss),
        "train_loss": result.history.train_loss,
        "val_loss": result.history.val_loss,
        "ms_per_model_time_unit": ms_per_unit,
        "time_constants": time_constants_by_group(trained, ms_per_unit=ms_per_unit),
        "model_config": trained.config(),
    }
    if by_coherence is not None:
        summary["accuracy_by_coherence"] = by_coherence
    if curves is not None:
        summary["psychometric"] = {
            str(g): {"signed_coherence": x, "p_choice_1": p, "n": n}
            for g, (x, p, n) in curves.items()
        }

    fp = None
    x_fp = None
    n_states = min(int(n_test), 16)
    # The state variables only: a model's derived quantities (the shunting model's
    # tau_eff) are no coordinates of its state space.
    states = {k: np.asarray(traj.states[k])[:n_states] for k in trained.state_names}
    if fixed_points:
        start = int(np.asarray(test.epochs[spec.response_epoch][0])[0])
        x_fp = np.asarray(test.inputs[0, start])
        fp = find_fixed_points(
            trained,
            x_fp,
            key=keys[5],
            inputs=test.inputs[:n_states],
            n_init=int(n_fixed_point_inits),
            adam_steps=200,
            newton_steps=30,
        )
        pts = fp.summary()
        for p in pts:
            p["slowest_time_constants"] = [
                None if v is None else v * ms_per_unit for v in p["slowest_time_constants"]
            ]
            p["periods"] = [None if v is None else v * ms_per_unit for v in p["periods"]]
            del p["state"]
        summary["fixed_points"] = {
            "input": x_fp,
            "count": len(fp),
            "n_fixed": int(np.sum(fp.is_fixed)),
            "n_stable": int(np.sum(fp.stable & fp.is_fixed)),
            "time_unit": "ms",
            "points": pts,
        }

    figures = make_task_figures(summary, fp, states, curves)
    summary = cast(dict[str, Any], _json_ready(summary))  # a dict stays a dict
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "task.json", summary)
        save_model(out / "model", trained)
        for name, fig in figures.items():
            fig.savefig(out / f"{name}.png", dpi=110)
    return TaskRun(
        summary=summary,
        model=trained,
        history=result.history,
        test=test,
        outputs=outputs,
        fixed_points=fp,
        fixed_point_input=x_fp,
        states=states,
        figures=figures,
    )


def make_task_figures(summary: dict, fp: FixedPoints | None, states, curves) -> dict:
    """The figures of a `train_on_task` run: `psychometric` (when `curves`: accuracy
    against coherence with the ideal observer's and chance, and P(choice 1) against the
    signed coherence), `time_constants` and `fixed_points` (PC plane and eigenvalue
    spectrum)."""
    from matplotlib.figure import Figure

    from ..analysis import (
        plot_accuracy_by_coherence,
        plot_eigenvalue_spectrum,
        plot_fixed_points,
        plot_psychometric,
        plot_time_constant_groups,
    )

    figs = {}
    title = f"{summary['model']} on {summary['task']} (accuracy {summary['accuracy']:.2f})"
    if curves is not None:
        scoring = get_task(summary["task"]).scoring
        label = scoring.label if isinstance(scoring, CoherenceScoring) else "coherence"
        fig = Figure(figsize=(9, 3.6), layout="constrained")
        a1, a2 = fig.subplots(1, 2)
        by_coh = summary.get("accuracy_by_coherence")
        if by_coh is not None:
            plot_accuracy_by_coherence(by_coh, xlabel=f"{label} (%)", ax=a1)
        plot_psychometric(curves, xlabel=f"signed {label} (%)", ax=a2)
        fig.suptitle(title)
        figs["psychometric"] = fig
    figs["time_constants"] = plot_time_constant_groups(summary["time_constants"], title=title)
    if fp is not None:
        fig = Figure(figsize=(10, 4.2), layout="constrained")
        a1, a2 = fig.subplots(1, 2)
        plot_fixed_points(fp, states, ax=a1, title="trajectories and fixed points")
        if len(fp):
            plot_eigenvalue_spectrum(
                fp, index=0, ax=a2, title="spectrum at the first point (1/model time)"
            )
        else:
            a2.text(0.5, 0.5, "no fixed point found", ha="center", transform=a2.transAxes)
        fig.suptitle(title)
        figs["fixed_points"] = fig
    return figs
