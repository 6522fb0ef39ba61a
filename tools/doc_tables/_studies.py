"""Renderers of the studies beside the paper's experiments (`adaptive_rnn.paper.STUDIES`):
Fig. 3 against the time constants' learning rate (`fig3_rates`), E8's two more protocols
(`hierarchy_protocols`) and E7 under protocol variants (`memory_protocols`)."""

from __future__ import annotations

from ._format import a3, pair, pval, run_line, setting, sig, table, target
from ._sources import renderer
from ._tasks import MODEL_NAMES, PAPER_MEMORY_MAX

STUDY_FILES = {
    "fig3_rates": "results/paper_scale/fig3_rates.json",
    "hierarchy_protocols": "results/quick_seeds/studies/hierarchy_protocols_seed0.json",
    "memory_protocols": "results/quick_seeds/studies/memory_protocols_seed0.json",
}
# The summaries over seeds 0-2 (`reproduce NAME --scale quick --seeds 3`).
SEEDS_FILES = {
    "hierarchy_protocols": "results/quick_seeds/studies/hierarchy_protocols_seeds.json",
    "memory_protocols": "results/quick_seeds/studies/memory_protocols_seeds.json",
}


def _study(S, name: str) -> dict:
    return S.json(STUDY_FILES[name])


# ----------------------------------------------------------------------------- fig3_rates


@renderer("e3_rates_run")
def _e3_rates_run(S):
    d = _study(S, "fig3_rates")
    c = d["config"]
    return run_line(
        d,
        f"time-constant steps {', '.join(setting(x) for x in c['tau_learning_rates'])}, "
        f"{len(c['starts'])} panel-A starts per target, {c['repetitions']} panel-B "
        f"repetitions per model, {c['epochs']} epochs",
    ).replace("results/paper_scale/fig3_rates.json", STUDY_FILES["fig3_rates"])


@renderer("e3_rates_starts")
def _e3_rates_starts(S):
    d = _study(S, "fig3_rates")
    rates = d["rates"]
    epochs = d["config"]["epochs"]
    rows = []
    for k, s0 in enumerate(rates[0]["starts"]):
        cells = []
        for r in rates:
            s = r["starts"][k]
            e = s["epochs_to_converge"]
            cells.append(
                f"{e} ({a3(s['final_distance'])})"
                if e is not None
                else f"not within {epochs} ({a3(s['final_distance'])})"
            )
        rows.append(
            [
                target(s0["target"]),
                pair(s0["start"], lambda x: f"{x:g}"),
                "yes" if s0["across"] else "no",
                *cells,
            ]
        )
    return table(
        [
            "target",
            "start (a_s, a_r)",
            "across the diagonal",
            *[f"time constants {setting(r['tau_learning_rate'])}" for r in rates],
        ],
        rows,
    )


@renderer("e3_rates_p")
def _e3_rates_p(S):
    d = _study(S, "fig3_rates")
    rows = []
    for r in d["rates"]:
        conv = sum(s["epochs_to_converge"] is not None for s in r["starts"])
        acr = [s for s in r["starts"] if s["across"]]
        acr_ok = sum(s["epochs_to_converge"] is not None for s in acr)
        rows.append(
            [
                setting(r["tau_learning_rate"]),
                f"{conv}/{len(r['starts'])}",
                f"{acr_ok}/{len(acr)}",
                *[pval(c["welch_p"]) for c in r["comparison"]],
            ]
        )
    sig_ = d["significance"]
    rows.append(
        [
            "paper",
            "all",
            "all",
            *[f"< {sig(s['paper_threshold'], 1)}" for s in sig_],
        ]
    )
    return table(
        [
            "time-constant step",
            "starts converged (within 0.1 at the end, staying)",
            "of them across the diagonal",
            *[f"Welch p, target {target(s['target'])}" for s in sig_],
        ],
        rows,
    )


@renderer("e3_rates_facts")
def _e3_rates_facts(S):
    d = _study(S, "fig3_rates")
    reps = d["config"]["repetitions"]
    lines = []
    for s in d["significance"]:
        r = s["first_rate_reaching"]
        lines.append(
            f"- Target {target(s['target'])}, {reps} repetitions per model: the paper's "
            f"p < {sig(s['paper_threshold'], 1)} is "
            + (
                f"reached from a time-constant step of {setting(r)}"
                if r is not None
                else "reached at none of the steps tried"
            )
            + f" (Welch p {', '.join(pval(p) for p in s['welch_p'])})."
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- E8 protocols


@renderer("e8_protocols_run")
def _e8_protocols_run(S):
    d = _study(S, "hierarchy_protocols")
    c = d["config"]
    return run_line(
        d,
        f"{c['repetitions']} repetitions per condition, alphas starting at {c['init']:g}, "
        f"{c['epochs']} epochs",
    ).replace("results/paper_scale/hierarchy_protocols.json", STUDY_FILES["hierarchy_protocols"])


@renderer("e8_protocols_table")
def _e8_protocols_table(S):
    d = _study(S, "hierarchy_protocols")
    t = d["tests"]
    rows = []
    if "a" in t:
        a = t["a"]
        n_g = sum(r["condition"] == "groups" for r in d["runs"])
        n_o = sum(r["condition"] == "one group" for r in d["runs"])
        rows.append(
            [
                "(a) one layer, 5 fast + 5 slow units",
                "SD of log tau_i: two groups > one group",
                f"median {a['median_sd_groups']:.2f} vs {a['median_sd_one_group']:.2f}; "
                f"Mann-Whitney p = {pval(a['mann_whitney_p'])}",
            ]
        )
        rows.append(
            [
                "(a) one layer, 5 fast + 5 slow units",
                "runs splitting into matching groups",
                f"{round(a['matching_groups'] * n_g)}/{n_g} "
                f"(control: {round(a['matching_one_group'] * n_o)}/{n_o})",
            ]
        )
    for name in ("slow data", "fast data"):
        if name in t:
            x = t[name]
            rows.append(
                [
                    f"(b) stacked student, teacher '{name}'",
                    "runs with d > 0 (upper layer slower)",
                    f"{x['k']}/{x['n']}, sign-test p = {pval(x['p_value'])} "
                    f"({'one-sided' if x['predicted_sign'] == '+' else 'two-sided'}); "
                    f"median d = {sig(x['median_log_ratio'])}",
                ]
            )
    return table(["protocol", "statistic (fixed before running)", "result"], rows)


# ----------------------------------------------------------------------------- E7 protocols


@renderer("e7_protocols_run")
def _e7_protocols_run(S):
    d = _study(S, "memory_protocols")
    c = d["config"]
    return run_line(
        d,
        f"delays {', '.join(str(x) for x in c['delays'])}, {c['repetitions']} repetitions "
        f"per delay and model, {c['epochs']} epochs",
    ).replace("results/paper_scale/memory_protocols.json", STUDY_FILES["memory_protocols"])


@renderer("e7_protocols_table")
def _e7_protocols_table(S):
    d = _study(S, "memory_protocols")
    rows = []
    for v in d["variants"]:
        for k in v["max_delay_above_chance"]:
            w = v["max_delay_above_chance"][k]
            wo = v["max_delay_above_chance_no_margin"][k]
            rows.append(
                [
                    v["variant"],
                    MODEL_NAMES.get(k, k),
                    "none" if w is None else str(w),
                    "none" if wo is None else str(wo),
                    str(PAPER_MEMORY_MAX.get(k, "n/a")),
                ]
            )
    c = d["config"]
    return table(
        [
            "protocol",
            "model",
            f"largest delay above chance (with the {c['margin']:g} x chance margin)",
            f"without the margin (p < {c['p_threshold']:g} alone)",
            "paper",
        ],
        rows,
    )


def _seeds_file(name: str) -> str:
    return SEEDS_FILES[name]


@renderer("e8_protocols_seeds")
def _e8_protocols_seeds(S):
    d = S.json(_seeds_file("hierarchy_protocols"))
    rows = []
    for p in d["per_seed"]:
        m = p["measures"]
        rows.append(
            [
                str(p["seed"]),
                pval(m["a_mann_whitney_p"]),
                f"{m['a_matching_groups']:.2f} ({m['a_matching_one_group']:.2f})",
                f"{m['b_fraction_slow data']:.2f} (p = {pval(m['b_p_slow data'])})",
                f"{m['b_fraction_fast data']:.2f} (p = {pval(m['b_p_fast data'])})",
            ]
        )
    return table(
        [
            "seed",
            "(a) Mann-Whitney p",
            "(a) fraction of runs with matching groups (control)",
            "(b) slow data: fraction with d > 0 (one-sided p)",
            "(b) fast data: fraction with d > 0 (two-sided p)",
        ],
        rows,
    )


@renderer("e7_protocols_seeds")
def _e7_protocols_seeds(S):
    d = S.json(_seeds_file("memory_protocols"))
    first = S.json(STUDY_FILES["memory_protocols"])
    variants = [v["variant"] for v in first["variants"]]
    models = list(first["variants"][0]["max_delay_above_chance"])
    rows = []
    for v in variants:
        for k in models:
            per = [p["measures"][f"max_delay_{v}_{k}"] for p in d["per_seed"]]
            rows.append(
                [v, MODEL_NAMES.get(k, k), ", ".join("none" if x == 0 else f"{x:g}" for x in per)]
            )
    seeds = ", ".join(str(s) for s in d["seeds"])
    return table(
        [
            "protocol",
            "model",
            f"largest delay above chance with the margin, seeds {seeds}",
        ],
        rows,
    )
