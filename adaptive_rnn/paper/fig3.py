"""Fig. 3 of Quax et al. (2020) (E3 in REPRODUCTION.md): learning the rate constants.

(A) Global, learnable (alpha_s, alpha_r) (sigmoid parametrisation, as the paper) are
trained by BPTT together with all weights on the teacher data of targets (0.684, 0.342)
and (0.342, 0.684), from several initialisations; the alphas of each epoch form a
trajectory, drawn over the Fig. 2 maps when those results are given. Claim: from every
start they converge to the target.

(B) An ARU with learnable alphas (random initial alphas, uniform over the first 15 points
of linspace(0.001, 1.3, 20); all lie below 1, so no clipping is needed) against the Elman
network, 20 repetitions each: mean +- SEM of the best validation loss and Welch's t-test.
Paper: p < 1e-11 and p < 1e-6.

All runs of one target (the A trajectories, the B ARUs and the B Elman networks) train
as one `fit_ensemble`.
"""

import dataclasses
import math

import numpy as np

from . import _common as C

# Initial (alpha_s, alpha_r) of the trajectories of panel A (our choice: the corners of
# [0.2, 0.8]^2 and the centre).
A_INITS = ((0.2, 0.2), (0.2, 0.8), (0.8, 0.2), (0.8, 0.8), (0.5, 0.5))


@dataclasses.dataclass(frozen=True)
class Config(C.ExperimentConfig):
    """Configuration of the Fig. 3 reproduction.

    - `targets`: teacher `(alpha_s, alpha_r)` pairs.
    - `inits`: initial `(alpha_s, alpha_r)` of the panel-A trajectories.
    - `repetitions`: panel B runs per model kind (the paper: 20).
    - `epochs`: training epochs (the paper: 100).
    - `learning_rate`: Adam's step for the weights (not recorded; ours 1e-3).
    - `tau_learning_rate`: a separate Adam step for the time constants (`None`: the
        same as the weights, as at paper scale).
    - `n_sequences`, `n_train`, `n_hidden`, `seed`: as `fig2.Config`.

    **Quick scale: 100 epochs, Adam step 3e-3 for every parameter** (weights and time
    constants; 5 repetitions). The start across the exchange diagonal (0.2, 0.8) of
    target (0.684, 0.342) is the slow one: at 60 epochs with a time-constant step of
    3e-3 (weights 1e-3) it ended 0.16-0.19 away on 2 devices (float32); a larger step
    for the time constants alone (1e-2) does not speed it up (the weights must follow),
    a larger step for all parameters does. See REPRODUCTION.md, "Quick scale, seeds
    and devices".
    """

    targets: tuple = C.FIG3_TARGETS
    inits: tuple = A_INITS
    repetitions: int = 20
    epochs: int = 100
    n_hidden: int = 10

    QUICK = {"repetitions": 5, "epochs": 100, "learning_rate": 3e-3}
    TINY = {
        "inits": A_INITS[1:3],
        "repetitions": 2,
        "epochs": 2,
        "n_sequences": 30,
        "n_train": 20,
        "tau_learning_rate": 3e-3,
    }


def _welch(a, b) -> float | None:
    from scipy import stats

    a = np.asarray([x for x in a if x is not None and math.isfinite(x)], dtype=float)
    b = np.asarray([x for x in b if x is not None and math.isfinite(x)], dtype=float)
    if a.size < 2 or b.size < 2:
        return None
    # scipy's stub for TtestResult omits `pvalue` (present at run time).
    p = stats.ttest_ind(a, b, equal_var=False).pvalue  # pyright: ignore[reportAttributeAccessIssue]
    return C.fnum(p)


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Runs both panels.

    **Returns:** a JSON-serialisable dict:

    - `learning`: per target, `{target, runs}`, each run `{init, trajectory, final,
        best_epoch, best_val_loss}`: `trajectory` is `[alpha_s, alpha_r]` per epoch
        (epoch 0 first), `final` the alphas of the best-validation model.
    - `comparison`: per target, `{target, aru_loss, elman_loss, aru_mean, aru_sem,
        elman_mean, elman_sem, welch_p, aru_init, aru_final}` (losses: best validation
        loss of each repetition).
    - `config`.
    """
    learning, comparison = [], []
    rng = np.random.default_rng(config.seed)
    n_models = len(config.inits) + 2 * config.repetitions
    with C.Stages("fig3", len(config.targets), progress) as stages:
        for t, target in enumerate(config.targets):
            stages.start(f"target {tuple(target)}: {n_models} students, {config.epochs} epochs")
            data = C.make_teacher(
                config.seed,
                0,
                target,
                n_sequences=config.n_sequences,
                n_train=config.n_train,
                n_hidden=config.n_hidden,
            )
            models, kinds = [], []
            for k, (a_s, a_r) in enumerate(config.inits):
                models.append(
                    C.student(
                        C.subkey(config.seed, 4, t, k),
                        n_hidden=config.n_hidden,
                        alpha_s=a_s,
                        alpha_r=a_r,
                    )
                )
                kinds.append(("A", (a_s, a_r)))
            b_inits = rng.choice(C.INIT_POINTS, size=(config.repetitions, 2))
            for k in range(config.repetitions):
                a_s, a_r = (float(x) for x in b_inits[k])
                models.append(
                    C.student(
                        C.subkey(config.seed, 5, t, k),
                        n_hidden=config.n_hidden,
                        alpha_s=a_s,
                        alpha_r=a_r,
                    )
                )
                kinds.append(("aru", (a_s, a_r)))
            for k in range(config.repetitions):
                models.append(
                    C.student(
                        C.subkey(config.seed, 5, t, k),
                        n_hidden=config.n_hidden,
                        time_constants="static",
                        alpha_s=1.0,
                        alpha_r=1.0,
                    )
                )
                kinds.append(("elman", (1.0, 1.0)))
            res = C.train(
                models,
                data.train_data(),
                key=C.subkey(config.seed, 6, t),
                epochs=config.epochs,
                learning_rate=config.learning_rate,
                tau_learning_rate=config.tau_learning_rate,
                progress=stages.bars,
            )
            runs, aru_loss, elman_loss, aru_init, aru_final = [], [], [], [], []
            for (kind, init), model, hist, best in zip(
                kinds, res.models, res.histories, res.best_val_loss
            ):
                final = [C.alphas(model)[0][0], C.alphas(model)[1][0]]
                if kind == "A":
                    tc0 = hist.initial_time_constants
                    traj = [[float(tc0["alpha_s"][0]), float(tc0["alpha_r"][0])]]
                    traj += [
                        [float(a), float(b)]
                        for a, b in zip(
                            hist.time_constants["alpha_s"][:, 0],
                            hist.time_constants["alpha_r"][:, 0],
                        )
                    ]
                    runs.append(
                        dict(
                            init=[float(x) for x in init],
                            trajectory=traj,
                            final=final,
                            best_epoch=int(hist.best_epoch),
                            best_val_loss=C.fnum(best),
                        )
                    )
                elif kind == "aru":
                    aru_loss.append(C.fnum(best))
                    aru_init.append([float(x) for x in init])
                    aru_final.append(final)
                else:
                    elman_loss.append(C.fnum(best))
            am, asem = C.mean_sem(aru_loss)
            em, esem = C.mean_sem(elman_loss)
            learning.append(dict(target=[float(x) for x in target], runs=runs))
            comparison.append(
                dict(
                    target=[float(x) for x in target],
                    aru_loss=aru_loss,
                    elman_loss=elman_loss,
                    aru_mean=am,
                    aru_sem=asem,
                    elman_mean=em,
                    elman_sem=esem,
                    welch_p=_welch(aru_loss, elman_loss),
                    aru_init=aru_init,
                    aru_final=aru_final,
                )
            )
            stages.done()
    return dict(learning=learning, comparison=comparison, config=C.config_dict(config))


def final_distances(results: dict) -> list[list[float]]:
    """Per target, the Euclidean distance of each panel-A run's final alphas to the target."""
    return [
        [
            math.hypot(r["final"][0] - L["target"][0], r["final"][1] - L["target"][1])
            for r in L["runs"]
        ]
        for L in results["learning"]
    ]


def epochs_to_converge(trajectory, target, tol: float = 0.1) -> int | None:
    """The first epoch from which a panel-A trajectory stays within `tol` (Euclidean) of
    `target` until its last epoch; `None` when its last point is farther.

    **Arguments:**

    - `trajectory`: `[alpha_s, alpha_r]` per epoch, epoch 0 (the start) first.
    - `target`: the teacher's `(alpha_s, alpha_r)`; `tol`: the distance.
    """
    tr = np.asarray(trajectory, dtype=float)
    d = np.hypot(tr[:, 0] - float(target[0]), tr[:, 1] - float(target[1]))
    if d[-1] >= tol:
        return None
    outside = np.nonzero(d >= tol)[0]
    return int(outside[-1] + 1) if outside.size else 0


def claims(results: dict, *, tol: float = 0.1) -> dict:
    """The claims of Fig. 3 tested on one run.

    - `a_converge`: every panel-A run's best-validation alphas end within `tol`
        (Euclidean) of the target (value: the largest distance).
    - `b_aru_better_T` (per target T): the ARU's mean best validation loss is below the
        Elman network's (value: Elman mean / ARU mean, claim > 1).

    **Returns:** `{claims, measures}` (see `_common.claim`); measures: the Welch p per
    target (`welch_p_T`) and the panel-A epochs to convergence of each start
    (`a_epochs_T_K`, `None` if it never settles within `tol`).
    """
    dist = [d for ds in final_distances(results) for d in ds]
    out = [
        C.claim(
            "a_converge",
            f"every panel-A run ends within {tol:g} of its target",
            max(dist),
            tol,
            unit="largest Euclidean distance of the best-validation alphas to the target",
        )
    ]
    measures: dict = {}
    for t, Cm in enumerate(results["comparison"]):
        if Cm["aru_mean"] is not None and Cm["elman_mean"] is not None:
            out.append(
                C.claim(
                    f"b_aru_better_{t}",
                    f"target {tuple(Cm['target'])}: the ARU's mean best validation loss is "
                    "below the Elman network's",
                    Cm["elman_mean"] / Cm["aru_mean"],
                    1.0,
                    below=False,
                    unit="Elman mean / ARU mean",
                )
            )
        measures[f"welch_p_{t}"] = Cm["welch_p"]
    for t, L in enumerate(results["learning"]):
        for k, r in enumerate(L["runs"]):
            measures[f"a_epochs_{t}_{k}"] = epochs_to_converge(r["trajectory"], L["target"], tol)
    return dict(claims=out, measures=measures)


def plot(results: dict, fig2_results: dict | None = None):
    """Panel A (trajectories of the learned alphas, over the Fig. 2 maps of the same
    targets when `fig2_results` holds them) and panel B (best validation loss of every
    repetition, and their mean +- SEM, ARU vs Elman, on a log axis; Welch's p in the
    title). **Returns:** a `matplotlib.figure.Figure`."""
    from ..analysis import log_ticks
    from .fig2 import draw_map

    n = len(results["learning"])
    fig, axes = C.figure(2, n, size=(4.4, 3.6))
    for k, L in enumerate(results["learning"]):
        ax = axes[0, k]
        idx = None
        if fig2_results is not None:
            for i, t in enumerate(fig2_results["targets"]):
                if np.allclose(t, L["target"]):
                    idx = i
        if fig2_results is not None and idx is not None:  # idx is only set from fig2_results
            draw_map(ax, fig2_results, idx, colorbar=True)
        else:
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_xlabel(r"learned $\alpha_r$ (= dt / $\tau_r$)")
            ax.set_ylabel(r"learned $\alpha_s$ (= dt / $\tau_s$)")
            ax.plot(
                [L["target"][1]],
                [L["target"][0]],
                marker="*",
                color="red",
                ms=12,
                ls="none",
                label="target (the teacher's alphas)",
            )
            ax.set_title(f"A: target ({L['target'][0]:g}, {L['target'][1]:g})", fontsize=9)
        for i, r in enumerate(L["runs"]):
            tr = np.asarray(r["trajectory"], dtype=float)
            first = i == 0
            ax.plot(
                tr[:, 1],
                tr[:, 0],
                "-",
                color="orange",
                lw=1,
                label=r"learned ($\alpha_s$, $\alpha_r$), one point per epoch"
                if first
                else "_nolegend_",
            )
            ax.plot(
                tr[0, 1],
                tr[0, 0],
                "o",
                color="orange",
                ms=4,
                label="initial alphas" if first else "_nolegend_",
            )
            ax.plot(
                r["final"][1],
                r["final"][0],
                "x",
                color="black",
                ms=6,
                label="selected model (best validation)" if first else "_nolegend_",
            )
    for k, Cm in enumerate(results["comparison"]):
        ax = axes[1, k]
        every, labels = [], {"dots": "one repetition", "mean": "mean ± SEM"}
        for x, kind in enumerate(("aru", "elman")):
            vals = np.asarray([v for v in Cm[f"{kind}_loss"] if v is not None], dtype=float)
            every += list(vals)
            jitter = np.linspace(-0.15, 0.15, len(vals)) if len(vals) > 1 else np.zeros(len(vals))
            if len(vals):
                ax.plot(
                    x - 0.1 + jitter,
                    vals,
                    "o",
                    ms=3.5,
                    color="0.55",
                    alpha=0.7,
                    ls="none",
                    label=labels.pop("dots", "_nolegend_"),
                )
            mean, sem = Cm[f"{kind}_mean"], Cm[f"{kind}_sem"]
            if mean is not None:
                ax.errorbar(
                    [x + 0.25],
                    [mean],
                    yerr=[sem or 0.0],
                    fmt="D",
                    color="black",
                    ms=5,
                    capsize=4,
                    label=labels.pop("mean", "_nolegend_"),
                )
        ax.set_xticks([0, 1], [r"ARU (learned $\alpha$)", r"Elman ($\alpha$ = 1)"])
        ax.set_xlim(-0.6, 1.6)
        ax.set_xlabel("student")
        if any(v > 0 for v in every):
            ax.set_yscale("log")
            log_ticks(ax)
        ax.set_ylabel("best validation loss")
        p = Cm["welch_p"]
        ax.set_title(
            f"B: target ({Cm['target'][0]:g}, {Cm['target'][1]:g}); Welch p = "
            f"{'n/a' if p is None else f'{p:.2g}'}",
            fontsize=9,
        )
    # A grey background: the white markers and lines of the maps stay visible.
    C.figure_legend(fig, facecolor="0.75")
    fig.suptitle("Fig. 3: learned rate constants (A) and ARU vs Elman (B)")
    return fig
