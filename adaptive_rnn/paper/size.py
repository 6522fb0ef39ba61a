"""Network size (E4 in REPRODUCTION.md): learned alphas for 5, 10, 30, 50 and 100 hidden units.

Students of each size, with global learnable alphas from random initial values (uniform
over the first 15 points of linspace(0.001, 1.3, 20), as Fig. 3B), learn the teacher
data of target (0.342, 0.684) (teacher: 10 sigmoid units). The figure scatters the
learned (alpha_s, alpha_r) per size. All sizes and seeds train as one `fit_ensemble`
(one vmapped group per size).
"""

import dataclasses

import numpy as np

from . import _common as C


@dataclasses.dataclass(frozen=True)
class Config(C.ExperimentConfig):
    """Configuration of E4.

    - `sizes`: student hidden sizes; `seeds`: runs per size (the paper: 20);
        `epochs`: the paper's 300.
    - `target`: teacher `(alpha_s, alpha_r)`; `teacher_hidden`: the teacher's size (10).
    - `learning_rate`, `tau_learning_rate`, `n_sequences`, `n_train`, `seed`: as
        `fig3.Config`.

    **Quick scale: 3 seeds per size, 100 epochs, Adam step 3e-3 for every parameter**
    (as `fig3`): at 40 epochs with only the time constants at 3e-3, runs starting at the
    smallest initial alpha (0.001) had not left it.
    """

    sizes: tuple = (5, 10, 30, 50, 100)
    seeds: int = 20
    epochs: int = 300
    target: tuple = (0.342, 0.684)
    teacher_hidden: int = 10

    QUICK = {"seeds": 3, "epochs": 100, "learning_rate": 3e-3}
    TINY = {"sizes": (5, 10), "seeds": 2, "epochs": 2, "n_sequences": 30, "n_train": 20}


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Trains all sizes and seeds.

    **Returns:** a JSON-serialisable dict: `target`, `runs` (one per run:
    `n_hidden`, `seed`, `init`, `alpha_s`, `alpha_r`, `best_val_loss`, `target`),
    `summary` (per size: mean and SD of the learned alphas, mean distance to the target,
    fraction of runs within 0.1 of it) and `config`.
    """
    stages = C.Stages("size", 2, progress)
    stages.start(f"teacher data and {len(config.sizes) * config.seeds} students")
    data = C.make_teacher(
        config.seed,
        0,
        config.target,
        n_sequences=config.n_sequences,
        n_train=config.n_train,
        n_hidden=config.teacher_hidden,
    )
    rng = np.random.default_rng(config.seed + 4)
    models, conds = [], []
    for n in config.sizes:
        for s in range(config.seeds):
            a_s, a_r = (float(x) for x in rng.choice(C.INIT_POINTS, size=2))
            models.append(
                C.student(C.subkey(config.seed, 7, n, s), n_hidden=n, alpha_s=a_s, alpha_r=a_r)
            )
            conds.append((int(n), s, [a_s, a_r]))
    stages.start(f"training {len(models)} students, {config.epochs} epochs")
    res = C.train(
        models,
        data.train_data(),
        key=C.subkey(config.seed, 8),
        epochs=config.epochs,
        learning_rate=config.learning_rate,
        tau_learning_rate=config.tau_learning_rate,
        progress=stages.bars,
    )
    stages.done()
    target = [float(x) for x in config.target]
    runs = []
    for (n, s, init), model, best in zip(conds, res.models, res.best_val_loss):
        a_s, a_r = C.alphas(model)
        runs.append(
            dict(
                n_hidden=n,
                seed=s,
                init=init,
                alpha_s=a_s[0],
                alpha_r=a_r[0],
                best_val_loss=C.fnum(best),
                target=target,
            )
        )
    return dict(
        target=target,
        runs=runs,
        summary=summarise(runs, "n_hidden", target),
        config=C.config_dict(config),
    )


def claims(results: dict, *, tol: float = 0.1) -> dict:
    """E4's claim on one run: every run of every size ends within `tol` (Euclidean) of the
    target. **Returns:** `{claims, measures}` (see `_common.claim`); measures: the mean
    distance per size (`distance_N`)."""
    t = results["target"]
    d = [float(np.hypot(r["alpha_s"] - t[0], r["alpha_r"] - t[1])) for r in results["runs"]]
    return dict(
        claims=[
            C.claim(
                "recovered",
                f"every run of every size ends within {tol:g} of the target",
                max(d),
                tol,
                unit="largest Euclidean distance to the target",
            )
        ],
        measures={f"distance_{s['n_hidden']}": s["distance_mean"] for s in results["summary"]},
    )


def summarise(runs: list, by: str, target, *, tol: float = 0.1) -> list:
    """Per value of the condition `by`: mean/SD of the learned alphas, mean distance to
    the target and to the swapped target, fraction of runs within `tol` of each."""
    out = []
    for v in dict.fromkeys(r[by] for r in runs):
        rs = [r for r in runs if r[by] == v and r.get("target", target) == target]
        a = np.asarray([[r["alpha_s"], r["alpha_r"]] for r in rs], dtype=float)
        d = np.hypot(a[:, 0] - target[0], a[:, 1] - target[1])
        dsw = np.hypot(a[:, 0] - target[1], a[:, 1] - target[0])
        out.append(
            {
                by: v,
                "n": len(rs),
                "alpha_s_mean": float(a[:, 0].mean()),
                "alpha_s_sd": float(a[:, 0].std(ddof=1)) if len(rs) > 1 else 0.0,
                "alpha_r_mean": float(a[:, 1].mean()),
                "alpha_r_sd": float(a[:, 1].std(ddof=1)) if len(rs) > 1 else 0.0,
                "distance_mean": float(d.mean()),
                "within_tol": float((d < tol).mean()),
                "within_tol_swapped": float((dsw < tol).mean()),
                "tol": tol,
            }
        )
    return out


_BY_NAMES = {"n_hidden": "hidden units", "activation": "activation"}


def scatter(ax, runs: list, by: str, target, *, title: str = ""):
    """Scatter of learned (alpha_r, alpha_s), one colour per value of `by`."""
    vals = list(dict.fromkeys(r[by] for r in runs))
    cmap = __import__("matplotlib").colormaps["viridis"]
    for k, v in enumerate(vals):
        a = np.asarray([[r["alpha_s"], r["alpha_r"]] for r in runs if r[by] == v], dtype=float)
        ax.scatter(
            a[:, 1],
            a[:, 0],
            s=14,
            color=cmap(k / max(1, len(vals) - 1)),
            alpha=0.8,
            label=f"{_BY_NAMES.get(by, by)}: {v}",
        )
    ax.plot([target[1]], [target[0]], "*", color="red", ms=14, label="target")
    ax.plot(
        [target[0]],
        [target[1]],
        "*",
        color="none",
        mec="red",
        ms=12,
        label=r"swapped target ($\alpha_s \leftrightarrow \alpha_r$)",
    )
    ax.plot([0, 1], [0, 1], ":", color="gray", lw=0.8, label=r"$\alpha_s$ = $\alpha_r$")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(r"learned $\alpha_r$ (= dt / $\tau_r$)")
    ax.set_ylabel(r"learned $\alpha_s$ (= dt / $\tau_s$)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6)


def plot(results: dict):
    """Scatter of the learned alphas per network size, and the mean distance to the
    target per size. **Returns:** a `matplotlib.figure.Figure`."""
    from ..analysis import log_ticks

    fig, axes = C.figure(1, 2)
    scatter(
        axes[0, 0], results["runs"], "n_hidden", results["target"], title="learned alphas per size"
    )
    summ = results["summary"]
    ax = axes[0, 1]
    ax.plot([s["n_hidden"] for s in summ], [s["distance_mean"] for s in summ], "o-")
    ax.set_xscale("log")
    log_ticks(ax, "x")
    ax.set_xlabel("hidden units (log scale)")
    ax.set_ylabel(r"mean distance of learned ($\alpha_s$, $\alpha_r$) to target")
    t = tuple(results["target"])
    fig.suptitle(rf"E4: network size, target ($\alpha_s$, $\alpha_r$) = {t}")
    return fig
