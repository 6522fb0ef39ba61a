"""A hierarchy of time scales (E8 in REPRODUCTION.md): do learned time constants order
themselves along a stacked network?

The paper's abstract claims that "a hierarchy of time scales emerges when adapting to
data with multiple underlying time scales", without a published protocol. **Our
design** (`adaptive_rnn.tasks.hierarchy_data`): a stacked two-layer teacher ARU (10 + 10
sigmoid units, random weights) whose first layer is fast (alpha_s = alpha_r = 0.9) and
whose second layer is slow (0.1), driven by the paper's smoothed random inputs: the
target is a slow function of a fast nonlinear transform of the input. A student of the
same architecture, every alpha starting at 0.5 (global learnable alphas per layer),
learns it. Control: the teacher's layers swapped (slow, then fast).

Statistic: per run, the effective time constant of layer k, tau_k = tau_s + tau_r (in
units of dt; the sum is invariant under the exchange of tau_s and tau_r, docs/model.md, "Exchange symmetry"),
and d = log(tau_2 / tau_1). The hierarchy claim predicts d > 0 in the fast->slow
condition (and d < 0 in the control if the ordering follows the data rather than the
architecture). Test: the fraction of runs with the predicted sign, one-sided sign test
(binomial, p = 1/2).
"""

import dataclasses
import math

import numpy as np

from . import _common as C

CONDITIONS = {"fast->slow": ((0.9, 0.9), (0.1, 0.1)), "slow->fast": ((0.1, 0.1), (0.9, 0.9))}


@dataclasses.dataclass(frozen=True)
class Config(C.ExperimentConfig):
    """Configuration of E8.

    - `conditions`: names of `CONDITIONS` to run (teacher alphas per layer).
    - `repetitions`: teachers (and students) per condition; `epochs`: training epochs.
    - `n_hidden`: layer sizes of teacher and student; `time_constants`: the student's
        mode (`"global"`: one pair per layer; `"local"`: per neuron).
    - `init`: every initial alpha of the student.
    - `n_sequences`, `n_train`, `train_steps`: data (500 / 400, all 40 steps).
    - `learning_rate`, `tau_learning_rate`, `seed`: as `fig3.Config`.
    """

    conditions: tuple = ("fast->slow", "slow->fast")
    repetitions: int = 20
    epochs: int = 150
    n_hidden: tuple = (10, 10)
    time_constants: str = "global"
    init: float = 0.5
    train_steps: int = 40

    QUICK = {"repetitions": 4, "epochs": 30, "tau_learning_rate": 3e-3}
    TINY = {"repetitions": 2, "epochs": 2, "n_sequences": 30, "n_train": 20, "train_steps": 20}


def sign_test(d, *, greater: bool = True) -> dict:
    """Fraction of runs with the predicted sign and the one-sided binomial sign test."""
    from scipy import stats

    d = np.asarray([x for x in d if x is not None and math.isfinite(x)], dtype=float)
    d = d[d != 0]
    k = int((d > 0).sum() if greater else (d < 0).sum())
    n = int(d.size)
    p = float(stats.binomtest(k, n, 0.5, alternative="greater").pvalue) if n else None
    return dict(
        predicted_sign="+" if greater else "-", n=n, k=k, fraction=(k / n if n else None), p_value=p
    )


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Trains every (condition, repetition).

    **Returns:** a JSON-serialisable dict: `runs` (one per run: `condition`,
    `repetition`, `teacher_alphas` (per layer), `alpha_s`, `alpha_r` (per layer: a
    number, or a list per neuron for local), `tau` (per layer: mean of tau_s + tau_r),
    `log_ratio` (log tau_2 / tau_1), `best_val_loss`), `tests` (per condition: the sign
    test of `log_ratio`, predicted sign + for fast->slow and - for slow->fast; and the
    median log ratio), `statistic` (a sentence) and `config`.
    """
    import jax
    import jax.numpy as jnp

    from ..tasks import hierarchy_data

    stages = C.Stages("hierarchy", 2, progress)
    stages.start(f"{len(config.conditions) * config.repetitions} teachers' data and students")
    models, conds, datas = [], [], []
    for c, name in enumerate(config.conditions):
        alphas = CONDITIONS[name]
        for k in range(config.repetitions):
            td = hierarchy_data(
                C.subkey(config.seed, 600, c, k),
                layer_alphas=alphas,
                n_hidden=config.n_hidden,
                n_sequences=config.n_sequences,
                n_train=config.n_train,
                train_steps=config.train_steps,
            )
            datas.append(td.train_data())
            models.append(
                C.student(
                    C.subkey(config.seed, 15, c, k),
                    n_hidden=tuple(config.n_hidden),
                    time_constants=config.time_constants,
                    alpha_s=config.init,
                    alpha_r=config.init,
                )
            )
            conds.append((name, k, [list(p) for p in alphas]))
    data = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *datas)
    stages.start(f"training {len(models)} students, {config.epochs} epochs")
    res = C.train(
        models,
        data,
        key=C.subkey(config.seed, 16),
        epochs=config.epochs,
        learning_rate=config.learning_rate,
        tau_learning_rate=config.tau_learning_rate,
        progress=stages.bars,
    )
    stages.done()
    runs = []
    for (name, k, alphas), model, best in zip(conds, res.models, res.best_val_loss):
        a_s = [np.ravel(np.asarray(a, float)) for a in model.alpha_s]
        a_r = [np.ravel(np.asarray(a, float)) for a in model.alpha_r]
        tau = [float(np.mean(1.0 / s + 1.0 / r)) for s, r in zip(a_s, a_r)]  # dt = 1
        glob = config.time_constants == "global"
        runs.append(
            dict(
                condition=name,
                repetition=k,
                teacher_alphas=alphas,
                alpha_s=[float(s[0]) if glob else [float(x) for x in s] for s in a_s],
                alpha_r=[float(r[0]) if glob else [float(x) for x in r] for r in a_r],
                tau=tau,
                log_ratio=float(math.log(tau[-1] / tau[0])),
                best_val_loss=C.fnum(best),
            )
        )
    tests = []
    for name in config.conditions:
        d = [r["log_ratio"] for r in runs if r["condition"] == name]
        teacher = CONDITIONS[name]
        greater = (1 / teacher[-1][0] + 1 / teacher[-1][1]) > (
            1 / teacher[0][0] + 1 / teacher[0][1]
        )
        tests.append(
            dict(
                condition=name,
                median_log_ratio=float(np.median(d)),
                **sign_test(d, greater=greater),
            )
        )
    statistic = (
        "per run d = log(tau_2 / tau_1) with tau_k = tau_s + tau_r of layer k (dt = 1); "
        "fraction of runs whose d has the sign of the teacher's ordering, one-sided "
        "binomial sign test"
    )
    return dict(runs=runs, tests=tests, statistic=statistic, config=C.config_dict(config))


def claims(results: dict) -> dict:
    """E8 on one run. The only ordering we report as reproduced is the control's: in
    `slow->fast`, more than half of the runs have the teacher's sign (value: the
    fraction, claim > 0.5). The paper's `fast->slow` fraction is a measure (not
    reproduced at paper scale). **Returns:** `{claims, measures}`; measures: the fraction
    of runs with the predicted sign per condition (`fraction_CONDITION`)."""
    out, measures = [], {}
    for t in results["tests"]:
        measures[f"fraction_{t['condition']}"] = t["fraction"]
        if t["condition"] == "slow->fast" and t["fraction"] is not None:
            out.append(
                C.claim(
                    "control_follows_data",
                    "slow->fast teacher: most runs learn layer 2 faster than layer 1",
                    t["fraction"],
                    0.5,
                    below=False,
                    unit="fraction of runs with the teacher's sign",
                )
            )
    return dict(claims=out, measures=measures)


def plot(results: dict):
    """Left: learned tau (tau_s + tau_r, in steps of dt) of layer 1 vs layer 2, one point
    per run, per condition, with the teachers' values (above the diagonal: layer 2
    slower). Right: the log ratios per condition and their medians.
    **Returns:** a `matplotlib.figure.Figure`."""
    from ..analysis import log_ticks

    fig, axes = C.figure(1, 2, size=(4.4, 3.8))
    ax = axes[0, 0]
    names = list(dict.fromkeys(r["condition"] for r in results["runs"]))
    colours = ["tab:purple", "tab:olive", "tab:cyan"]
    same = r"no hierarchy ($\tau_2$ = $\tau_1$)"
    for c, name in enumerate(names):
        rs = [r for r in results["runs"] if r["condition"] == name]
        t = np.asarray([r["tau"] for r in rs], dtype=float)
        ax.scatter(t[:, 0], t[:, -1], s=16, color=colours[c % 3], label=f"learned, teacher {name}")
        teacher = [1 / a_s + 1 / a_r for a_s, a_r in rs[0]["teacher_alphas"]]
        ax.plot(
            [teacher[0]],
            [teacher[-1]],
            "*",
            ms=13,
            color=colours[c % 3],
            mec="black",
            ls="none",
            label=f"teacher {name}",
        )
    lo = min(ax.get_xlim()[0], ax.get_ylim()[0])
    hi = max(ax.get_xlim()[1], ax.get_ylim()[1])
    lo, hi = max(lo, 1.0) / 1.15, max(hi, 3.0) * 1.15  # room for the teachers' stars
    ax.plot([lo, hi], [lo, hi], ":", color="gray", label=same)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    log_ticks(ax, "x")
    log_ticks(ax, "y")
    ax.set_xlabel(r"layer 1: $\tau_s + \tau_r$ (steps of dt)")
    ax.set_ylabel(r"layer 2: $\tau_s + \tau_r$ (steps of dt)")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for c, name in enumerate(names):
        d = [r["log_ratio"] for r in results["runs"] if r["condition"] == name]
        ax.scatter(
            np.full(len(d), c) + np.linspace(-0.1, 0.1, len(d)),
            d,
            s=14,
            color=colours[c % 3],
            label=f"learned, teacher {name}",
        )
        ax.plot(
            [c - 0.2, c + 0.2],
            [np.median(d)] * 2,
            color="black",
            lw=2,
            label="median" if c == 0 else "_nolegend_",
        )
    ax.axhline(0, color="gray", ls=":", lw=1, label=same)
    ax.set_xticks(range(len(names)), names)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_xlabel("teacher (speed of layer 1 -> layer 2)")
    ax.set_ylabel(r"log($\tau_2$ / $\tau_1$), $\tau$ in steps of dt")
    ax.legend(fontsize=7)
    title = "\n".join(
        f"{t['condition']}: {t['k']}/{t['n']} runs of predicted sign, p = {t['p_value']:.2g}"
        for t in results["tests"]
        if t["p_value"] is not None
    )
    ax.set_title(title, fontsize=8)
    fig.suptitle("E8: learned time scales along a two-layer hierarchy")
    return fig
