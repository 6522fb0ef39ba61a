"""Fig. 3 against the time-constant learning rate (a study beside E3 in REPRODUCTION.md).

Panel A of Fig. 3 from every start of a grid of initial (alpha_s, alpha_r), including
the starts across the exchange diagonal alpha_s = alpha_r from the target, and panel B
(ARU vs Elman, Welch's t-test), each trained at several Adam steps for the time
constants (`tau_learning_rate`; the weights keep `learning_rate`). Per start it reports
the epochs after which the alphas stay within 0.1 of the target (`fig3.
epochs_to_converge`), per target the Welch p, and the smallest time-constant step at
which the paper's significance (p < 1e-11 and p < 1e-6) is reached, if any.

Each step is one `fig3.run` (one `fit_ensemble` per target).
"""

import dataclasses
import math

import numpy as np

from . import _common as C, fig3

# The paper's reported significance per target (Fig. 3B).
PAPER_P = {(0.684, 0.342): 1e-11, (0.342, 0.684): 1e-6}
# Panel-A starts: a 3 x 3 grid over [0.2, 0.8]^2 (fig3's five starts and the four
# midpoints of the edges); for each target three of them lie across the diagonal.
STARTS = tuple((a, b) for a in (0.2, 0.5, 0.8) for b in (0.2, 0.5, 0.8))


@dataclasses.dataclass(frozen=True)
class Config(C.ExperimentConfig):
    """Configuration of the study.

    - `tau_learning_rates`: the Adam steps of the time constants compared (1e-3 is the
        weights' step: the paper-scale protocol).
    - `targets`, `starts`: panel-A targets and initial alphas.
    - `repetitions`: panel-B runs per model kind (the paper: 20); `epochs`: the paper's
        100.
    - `tol`: "converged" means within `tol` (Euclidean) of the target.
    - the rest as `fig3.Config`.
    """

    tau_learning_rates: tuple = (1e-3, 3e-3, 1e-2)
    targets: tuple = C.FIG3_TARGETS
    starts: tuple = STARTS
    repetitions: int = 20
    epochs: int = 100
    n_hidden: int = 10
    tol: float = 0.1

    QUICK = {"repetitions": 5}
    TINY = {
        "tau_learning_rates": (1e-3, 1e-2),
        "starts": STARTS[1:3],
        "repetitions": 2,
        "epochs": 2,
        "n_sequences": 30,
        "n_train": 20,
    }


def across(start, target) -> bool:
    """Whether `start` lies strictly on the other side of the diagonal alpha_s = alpha_r
    from `target` (a learner must cross the valley of the exchange symmetry)."""
    return (start[0] - start[1]) * (target[0] - target[1]) < 0


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Runs panel A from every start and panel B at each time-constant step.

    **Returns:** a JSON-serialisable dict: `rates` (one per step: `tau_learning_rate`,
    `learning` and `comparison` as `fig3.run`, and `starts`: per target and start
    `{target, start, across, epochs_to_converge, final_distance}`), `significance` (per
    target: the paper's threshold, the Welch p per step, and the smallest step reaching
    the threshold or `None`) and `config`.
    """
    rates = []
    for lr in config.tau_learning_rates:
        cfg = fig3.Config(
            targets=config.targets,
            inits=config.starts,
            repetitions=config.repetitions,
            epochs=config.epochs,
            n_hidden=config.n_hidden,
            learning_rate=config.learning_rate,
            tau_learning_rate=float(lr),
            n_sequences=config.n_sequences,
            n_train=config.n_train,
            seed=config.seed,
        )
        res = fig3.run(cfg, progress=progress)
        starts = []
        for L in res["learning"]:
            for r in L["runs"]:
                starts.append(
                    dict(
                        target=L["target"],
                        start=r["init"],
                        across=across(r["init"], L["target"]),
                        epochs_to_converge=fig3.epochs_to_converge(
                            r["trajectory"], L["target"], config.tol
                        ),
                        final_distance=math.dist(r["final"], L["target"]),
                    )
                )
        rates.append(
            dict(
                tau_learning_rate=float(lr),
                learning=res["learning"],
                comparison=res["comparison"],
                starts=starts,
            )
        )
    significance = []
    for t, target in enumerate(config.targets):
        thr = PAPER_P.get((float(target[0]), float(target[1])))
        ps = [r["comparison"][t]["welch_p"] for r in rates]
        reached = [
            r["tau_learning_rate"]
            for r, p in zip(rates, ps)
            if thr is not None and p is not None and p < thr
        ]
        significance.append(
            dict(
                target=[float(x) for x in target],
                paper_threshold=thr,
                welch_p=ps,
                first_rate_reaching=min(reached) if reached else None,
            )
        )
    return dict(rates=rates, significance=significance, config=C.config_dict(config))


def claims(results: dict) -> dict:
    """Measures only (this study tests no claim of its own beyond `fig3.claims` at each
    step): per step, the fraction of starts converged (`converged_LR`), of the starts
    across the diagonal (`converged_across_LR`), and the Welch p per target
    (`welch_p_T_LR`). The claim kept: at every step panel A converges from every start
    on the target's side of the diagonal (value: the largest final distance of those
    starts, threshold `tol`). **Returns:** `{claims, measures}`."""
    tol = results["config"]["tol"]
    measures, same_side = {}, []
    for r in results["rates"]:
        lr = f"{r['tau_learning_rate']:g}"
        conv = [s["epochs_to_converge"] is not None for s in r["starts"]]
        acr = [s["epochs_to_converge"] is not None for s in r["starts"] if s["across"]]
        measures[f"converged_{lr}"] = float(np.mean(conv))
        if acr:
            measures[f"converged_across_{lr}"] = float(np.mean(acr))
        for t, Cm in enumerate(r["comparison"]):
            measures[f"welch_p_{t}_{lr}"] = Cm["welch_p"]
        same_side += [
            s["final_distance"]
            for s in r["starts"]
            if not s["across"] and s["start"][0] != s["start"][1]
        ]
    out = []
    if same_side:
        out.append(
            C.claim(
                "same_side_converge",
                f"at every step, every start off the diagonal on the target's side ends "
                f"within {tol:g} of the target",
                max(same_side),
                tol,
                unit="largest Euclidean distance of the best-validation alphas to the target",
            )
        )
    return dict(claims=out, measures=measures)


def plot(results: dict, fig2_results: dict | None = None):
    """Top rows (one per step, one column per target): the panel-A trajectories over the
    Fig. 2 map of the target when `fig2_results` holds it (x = alpha_r, y = alpha_s),
    each start marked by whether it converged. Bottom row: the Welch p of panel B per
    step, with the paper's significance. **Returns:** a `matplotlib.figure.Figure`."""
    from ..analysis import log_ticks
    from .fig2 import draw_map

    rates = results["rates"]
    n = len(rates[0]["learning"])
    fig, axes = C.figure(len(rates) + 1, n, size=(4.4, 3.6))
    for i, r in enumerate(rates):
        for k, L in enumerate(r["learning"]):
            ax = axes[i, k]
            idx = None
            if fig2_results is not None:
                for j, t in enumerate(fig2_results["targets"]):
                    if np.allclose(t, L["target"]):
                        idx = j
            if fig2_results is not None and idx is not None:
                draw_map(ax, fig2_results, idx, colorbar=True)
            else:
                ax.set_xlim(0, 1)
                ax.set_ylim(0, 1)
                ax.plot(
                    [L["target"][1]],
                    [L["target"][0]],
                    marker="*",
                    color="red",
                    ms=12,
                    ls="none",
                    label="target (the teacher's alphas)",
                )
                ax.plot([0, 1], [0, 1], ":", color="gray", lw=0.8, label=r"$\alpha_s$ = $\alpha_r$")
                ax.set_xlabel(r"learned $\alpha_r$ (= dt / $\tau_r$)")
                ax.set_ylabel(r"learned $\alpha_s$ (= dt / $\tau_s$)")
            ss = [s for s in r["starts"] if s["target"] == L["target"]]
            for run, s in zip(L["runs"], ss):
                tr = np.asarray(run["trajectory"], dtype=float)
                ok = s["epochs_to_converge"] is not None
                colour = "orange" if ok else "magenta"
                ax.plot(tr[:, 1], tr[:, 0], "-", color=colour, lw=1, label="_nolegend_")
                ax.plot(
                    tr[0, 1],
                    tr[0, 0],
                    "o",
                    color=colour,
                    ms=4,
                    label=f"start, {'converged' if ok else 'not converged'} "
                    f"(within {results['config']['tol']:g})",
                )
            ax.set_title(
                f"target ({L['target'][0]:g}, {L['target'][1]:g}); time-constant step "
                f"{r['tau_learning_rate']:g}",
                fontsize=9,
            )
    for k, s in enumerate(results["significance"]):
        ax = axes[-1, k]
        lrs = [r["tau_learning_rate"] for r in rates]
        ps = [np.nan if p is None else max(p, 1e-300) for p in s["welch_p"]]
        ax.plot(lrs, ps, "o-", color="black", label="Welch p (ours)")
        if s["paper_threshold"] is not None:
            ax.axhline(s["paper_threshold"], ls="--", color="red", label="paper's p bound")
        ax.set_xscale("log")
        ax.set_yscale("log")
        log_ticks(ax, "x")
        log_ticks(ax, "y")
        ax.set_xlabel("Adam step of the time constants")
        ax.set_ylabel("Welch p, ARU vs Elman")
        ax.set_title(f"B: target ({s['target'][0]:g}, {s['target'][1]:g})", fontsize=9)
    C.figure_legend(fig, facecolor="0.75")
    fig.suptitle("Fig. 3 against the time constants' learning rate: every start, and Welch p")
    return fig
