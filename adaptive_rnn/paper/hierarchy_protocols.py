"""Two more protocols for E8's "a hierarchy of time scales emerges when adapting to data
with multiple underlying time scales" (a study beside `hierarchy`, REPRODUCTION.md).

The statistics below were fixed in this docstring before any run.

**(a) Within one layer** (`groups`, control `one group`). The teacher is one ARU layer of
10 sigmoid units with fixed per-neuron alphas: 5 fast units (alpha_s = alpha_r = 0.9,
tau = tau_s + tau_r = 2.2 steps of dt) and 5 slow units (0.1, tau = 20 steps)
(`adaptive_rnn.tasks.timescale_groups_data`). Control: all 10 units at
alpha 0.3 (tau = 6.7 steps, the geometric mean of the two groups' tau). The student is
one layer of 10 units with local (per-neuron) learnable alphas, all starting at 0.5.
Per run, tau_i = 1 / alpha_s,i + 1 / alpha_r,i (dt = 1) for each student unit and
s = SD (ddof 1) of log tau_i.

- Primary statistic: s is larger under `groups` than under `one group`: one-sided
  Mann-Whitney U test over runs.
- Secondary: "matching groups": the sorted log tau_i are split at their largest gap; a
  run matches when both sides hold at least 2 units and the geometric mean tau of the
  faster side is within a factor 2 of the teacher's fast tau, that of the slower side
  within a factor 2 of the teacher's slow tau. Reported: the fraction of runs that match
  (under `groups`; under `one group` the same rule with the two groups' taus, as a
  false-positive rate).

**(b) Across stacked layers** (`slow data`, control `fast data`). The teacher is one ARU
layer of 10 units with slow alphas (0.1, 0.1): the targets carry slow structure. The
student is stacked (10 + 10 units, the input enters only the first layer), global
learnable alphas per layer, all starting at 0.5. Per run d = log(tau_2 / tau_1),
tau_k = tau_s + tau_r of layer k.

- Statistic: the fraction of runs with d > 0 (the upper layer slower), one-sided
  binomial sign test. Control (`fast data`, teacher alphas 0.9): the same fraction,
  two-sided sign test (no ordering predicted).
"""

import dataclasses
import math

import numpy as np

from ..tasks import timescale_groups_data
from . import _common as C
from .hierarchy import sign_test

# name -> (protocol, teacher groups ((alpha_s, alpha_r), units), student layers, mode)
CONDITIONS = {
    "groups": ("a", (((0.9, 0.9), 5), ((0.1, 0.1), 5)), (10,), "local"),
    "one group": ("a", (((0.3, 0.3), 10),), (10,), "local"),
    "slow data": ("b", (((0.1, 0.1), 10),), (10, 10), "global"),
    "fast data": ("b", (((0.9, 0.9), 10),), (10, 10), "global"),
}
# The two time scales of protocol (a), tau = 1 / alpha_s + 1 / alpha_r in steps of dt.
TAU_FAST, TAU_SLOW = 2 / 0.9, 2 / 0.1


@dataclasses.dataclass(frozen=True)
class Config(C.ExperimentConfig):
    """Configuration of the study.

    - `conditions`: names of `CONDITIONS`.
    - `repetitions`: teachers (and students) per condition; `epochs`: as `hierarchy`.
    - `init`: every initial alpha of the students.
    - `n_sequences`, `n_train`, `train_steps`: data (500 / 400, all 40 steps).
    - `learning_rate`, `tau_learning_rate`, `seed`: as `hierarchy.Config`.
    """

    conditions: tuple = tuple(CONDITIONS)
    repetitions: int = 20
    epochs: int = 150
    init: float = 0.5
    train_steps: int = 40

    QUICK = {"repetitions": 6, "epochs": 40, "tau_learning_rate": 3e-3}
    TINY = {"repetitions": 2, "epochs": 2, "n_sequences": 30, "n_train": 20, "train_steps": 20}


def _log_taus(a_s, a_r) -> np.ndarray:
    return np.log(1.0 / np.asarray(a_s, float) + 1.0 / np.asarray(a_r, float))


def split_groups(log_tau) -> tuple[list[float], list[float]]:
    """The sorted values split at their largest gap: (lower side, upper side)."""
    x = np.sort(np.asarray(log_tau, float))
    k = int(np.argmax(np.diff(x))) + 1
    return [float(v) for v in x[:k]], [float(v) for v in x[k:]]


def matches(log_tau, tau_fast: float = TAU_FAST, tau_slow: float = TAU_SLOW) -> bool:
    """The secondary statistic of protocol (a): both sides of the largest gap hold at
    least 2 units and their geometric mean taus are within a factor 2 of `tau_fast` and
    `tau_slow`."""
    lo, hi = split_groups(log_tau)
    if len(lo) < 2 or len(hi) < 2:
        return False
    return bool(
        abs(np.mean(lo) - math.log(tau_fast)) < math.log(2)
        and abs(np.mean(hi) - math.log(tau_slow)) < math.log(2)
    )


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Trains every (condition, repetition) in one ensemble.

    **Returns:** a JSON-serialisable dict: `runs` (per run: `condition`, `protocol`,
    `repetition`, `alpha_s`, `alpha_r` (per layer: a number, or a list per neuron),
    `log_tau` (protocol a: per neuron), `log_tau_sd`, `matches` (protocol a), `tau` and
    `log_ratio` (protocol b), `best_val_loss`), `tests` (protocol a: the Mann-Whitney
    test and the matching fractions; protocol b: the sign tests), `statistics` (the
    sentences fixed before running) and `config`.
    """
    import jax
    import jax.numpy as jnp
    from scipy import stats

    stages = C.Stages("hierarchy_protocols", 2, progress)
    stages.start(f"{len(config.conditions) * config.repetitions} teachers' data and students")
    models, conds, datas = [], [], []
    for c, name in enumerate(config.conditions):
        protocol, groups, layers, mode = CONDITIONS[name]
        for k in range(config.repetitions):
            td = timescale_groups_data(
                C.subkey(config.seed, 700, c, k),
                group_alphas=tuple(g[0] for g in groups),
                group_sizes=tuple(g[1] for g in groups),
                n_sequences=config.n_sequences,
                n_train=config.n_train,
                train_steps=config.train_steps,
            )
            datas.append(td.train_data())
            models.append(
                C.student(
                    C.subkey(config.seed, 17, c, k),
                    n_hidden=layers if len(layers) > 1 else layers[0],
                    time_constants=mode,
                    alpha_s=config.init,
                    alpha_r=config.init,
                )
            )
            conds.append((name, protocol, k))
    data = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *datas)
    stages.start(f"training {len(models)} students, {config.epochs} epochs")
    res = C.train(
        models,
        data,
        key=C.subkey(config.seed, 18),
        epochs=config.epochs,
        learning_rate=config.learning_rate,
        tau_learning_rate=config.tau_learning_rate,
        progress=stages.bars,
    )
    stages.done()
    runs = []
    for (name, protocol, k), model, best in zip(conds, res.models, res.best_val_loss):
        a_s = model.alpha_s if isinstance(model.alpha_s, tuple) else (model.alpha_s,)
        a_r = model.alpha_r if isinstance(model.alpha_r, tuple) else (model.alpha_r,)
        a_s = [np.ravel(np.asarray(a, float)) for a in a_s]
        a_r = [np.ravel(np.asarray(a, float)) for a in a_r]
        r: dict = dict(
            condition=name,
            protocol=protocol,
            repetition=k,
            alpha_s=[[float(x) for x in a] if a.size > 1 else float(a[0]) for a in a_s],
            alpha_r=[[float(x) for x in a] if a.size > 1 else float(a[0]) for a in a_r],
            best_val_loss=C.fnum(best),
        )
        if protocol == "a":
            lt = _log_taus(a_s[0], a_r[0])
            r.update(
                log_tau=[float(x) for x in lt],
                log_tau_sd=float(np.std(lt, ddof=1)),
                matches=matches(lt),
            )
        else:
            tau = [float(np.mean(np.exp(_log_taus(s, q)))) for s, q in zip(a_s, a_r)]
            r.update(tau=tau, log_ratio=float(math.log(tau[-1] / tau[0])))
        runs.append(r)
    tests = {}
    by = {n: [r for r in runs if r["condition"] == n] for n in config.conditions}
    if "groups" in by and "one group" in by:
        g = [r["log_tau_sd"] for r in by["groups"]]
        o = [r["log_tau_sd"] for r in by["one group"]]
        mw = stats.mannwhitneyu(g, o, alternative="greater")
        tests["a"] = dict(
            median_sd_groups=float(np.median(g)),
            median_sd_one_group=float(np.median(o)),
            mann_whitney_p=float(mw.pvalue),  # pyright: ignore[reportAttributeAccessIssue]
            matching_groups=float(np.mean([r["matches"] for r in by["groups"]])),
            matching_one_group=float(np.mean([r["matches"] for r in by["one group"]])),
        )
    for name, greater in (("slow data", True), ("fast data", None)):
        if name not in by:
            continue
        d = [r["log_ratio"] for r in by[name]]
        t = sign_test(d, greater=True)
        if greater is None:  # no prediction: two-sided
            n, k = t["n"], t["k"]
            t["p_value"] = float(stats.binomtest(k, n, 0.5).pvalue) if n else None
            t["predicted_sign"] = "none"
        tests[name] = dict(condition=name, median_log_ratio=float(np.median(d)), **t)
    statistics = dict(
        a=(
            "per run s = SD of log tau_i over the student's units; primary: one-sided "
            "Mann-Whitney U, s(groups) > s(one group); secondary: fraction of runs whose "
            "units, split at the largest gap of sorted log tau, form two sides of >= 2 "
            "units with geometric mean tau within a factor 2 of the teacher's fast and slow tau"
        ),
        b=(
            "per run d = log(tau_2 / tau_1), tau_k = tau_s + tau_r of layer k; fraction of "
            "runs with d > 0, one-sided binomial sign test (slow data); two-sided (fast data)"
        ),
    )
    return dict(runs=runs, tests=tests, statistics=statistics, config=C.config_dict(config))


def claims(results: dict) -> dict:
    """Measures only: the study tests the abstract's sentence and reports what it finds
    (`claims` is empty). Measures: the Mann-Whitney p and matching fraction of (a), the
    fraction of runs with d > 0 and its p for each condition of (b)."""
    t = results["tests"]
    measures = {}
    if "a" in t:
        measures.update(
            a_mann_whitney_p=t["a"]["mann_whitney_p"],
            a_matching_groups=t["a"]["matching_groups"],
            a_matching_one_group=t["a"]["matching_one_group"],
        )
    for name in ("slow data", "fast data"):
        if name in t:
            measures[f"b_fraction_{name}"] = t[name]["fraction"]
            measures[f"b_p_{name}"] = t[name]["p_value"]
    return dict(claims=[], measures=measures)


def plot(results: dict):
    """Left (protocol a): each run's learned log tau per unit, sorted, per condition, with
    the teacher's two time scales. Right (protocol b): d = log(tau_2 / tau_1) per run and
    condition, with the medians. **Returns:** a `matplotlib.figure.Figure`."""
    from ..analysis import log_ticks

    fig, axes = C.figure(1, 2, size=(4.6, 3.8))
    ax = axes[0, 0]
    colours = {"groups": "tab:purple", "one group": "tab:gray"}
    for name, colour in colours.items():
        rs = [r for r in results["runs"] if r["condition"] == name]
        for i, r in enumerate(rs):
            y = np.exp(np.sort(r["log_tau"]))
            ax.plot(
                np.arange(1, len(y) + 1),
                y,
                ".-",
                color=colour,
                alpha=0.6,
                lw=0.8,
                label=f"learned, teacher '{name}'" if i == 0 else "_nolegend_",
            )
    ax.axhline(TAU_FAST, ls="--", color="tab:red", lw=1, label="teacher's fast / slow tau")
    ax.axhline(TAU_SLOW, ls="--", color="tab:red", lw=1, label="_nolegend_")
    ax.set_yscale("log")
    log_ticks(ax, "y")
    ax.set_xlabel(r"student unit, by rank of its learned $\tau$ (in steps of dt)")
    ax.set_ylabel(r"learned $\tau_s + \tau_r$ (steps of dt)")
    a = results["tests"].get("a")
    if a:
        ax.set_title(
            f"(a) one layer: Mann-Whitney p = {a['mann_whitney_p']:.2g}; matching groups "
            f"{a['matching_groups']:.2f} (control {a['matching_one_group']:.2f})",
            fontsize=8,
        )
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    names = [n for n in ("slow data", "fast data") if n in results["tests"]]
    for c, name in enumerate(names):
        d = [r["log_ratio"] for r in results["runs"] if r["condition"] == name]
        ax.scatter(
            np.full(len(d), c) + np.linspace(-0.1, 0.1, len(d)),
            d,
            s=14,
            color=["tab:blue", "tab:orange"][c],
            label=f"learned, teacher '{name}'",
        )
        ax.plot(
            [c - 0.2, c + 0.2],
            [np.median(d)] * 2,
            color="black",
            lw=2,
            label="median" if c == 0 else "_nolegend_",
        )
    ax.axhline(0, color="gray", ls=":", lw=1, label=r"no order ($\tau_2$ = $\tau_1$)")
    ax.set_xticks(range(len(names)), names)
    ax.set_xlim(-0.6, max(len(names), 1) - 0.4)
    ax.set_xlabel("teacher (one layer)")
    ax.set_ylabel(r"stacked student: log($\tau_2$ / $\tau_1$), $\tau$ in steps of dt")
    ax.set_title(
        "\n".join(
            f"(b) {results['tests'][n]['condition']}: {results['tests'][n]['k']}/"
            f"{results['tests'][n]['n']} runs with d > 0, p = {results['tests'][n]['p_value']:.2g}"
            for n in names
            if results["tests"][n]["p_value"] is not None
        ),
        fontsize=8,
    )
    ax.legend(fontsize=7)
    fig.suptitle("E8, two more protocols: time scales within one layer (a), across layers (b)")
    return fig
