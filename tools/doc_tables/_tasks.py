"""Renderers of the task-trained experiments E7 (`memory`) and E8 (`hierarchy`)."""

from __future__ import annotations

import numpy as np

from ._format import a3, pair, pval, rng, run_line, sig, table
from ._sources import renderer

MODEL_NAMES = {"elman": "Elman", "global": "global alphas", "local": "local alphas"}
PAPER_MEMORY_MAX = {"elman": 10, "global": 30, "local": 30}  # the paper's reported capacities
SOLVED = 0.01  # "solved almost perfectly": mean loss below 0.01 x chance (our wording's threshold)


def _lc(x) -> str:
    return "n/a" if x is None else (sig(x, 2) if x < 0.01 else f"{x:.3f}")


def _mean_alpha(m, key) -> float:
    return float(np.mean([np.mean(a) for a in m[key]]))


@renderer("e7_run")
def _e7_run(S):
    d = S.paper("memory")
    c = d["config"]
    return run_line(
        d,
        f"delays {', '.join(str(x) for x in c['delays'])}, {c['repetitions']} repetitions "
        f"per delay and model, {c['n_hidden']} units, adaptive alphas starting at "
        f"{c['init']:g}, {c['epochs']} epochs",
    )


@renderer("e7_table")
def _e7_table(S):
    d = S.paper("memory")
    rows = []
    for e in d["results"]:
        m = e["models"]
        cells = []
        for k in d["models"]:
            v = _lc(m[k]["normalised_mean"])
            cells.append(f"**{v}**" if m[k]["above_chance"] else v)
        al = [
            f"({a3(_mean_alpha(m[k], 'alpha_s'))}, {a3(_mean_alpha(m[k], 'alpha_r'))})"
            for k in d["models"]
            if k != "elman"
        ]
        rows.append([e["delay"], f"{e['chance']:.3f}", *cells, *al])
    name = lambda k: MODEL_NAMES.get(k, k)  # noqa: E731
    return table(
        [
            "delay (steps)",
            "chance (MSE)",
            *[f"{name(k)}: loss / chance" for k in d["models"]],
            *[f"{name(k)}: mean learned (a_s, a_r)" for k in d["models"] if k != "elman"],
        ],
        rows,
    )


@renderer("e7_facts")
def _e7_facts(S):
    d = S.paper("memory")
    mx = d["max_delay_above_chance"]
    res = d["results"]
    name = lambda k: MODEL_NAMES.get(k, k)  # noqa: E731
    lines = [
        "- Largest delay above chance: "
        + ", ".join(f"{name(k)} {mx[k]}" for k in d["models"])
        + " (paper: "
        + ", ".join(
            f"{name(k)} {PAPER_MEMORY_MAX[k]}" for k in d["models"] if k in PAPER_MEMORY_MAX
        )
        + ")."
    ]
    for k in d["models"]:
        if k == "elman":
            continue
        solved = [e["delay"] for e in res if (e["models"][k]["normalised_mean"] or 1) < SOLVED]
        if not solved:
            continue
        upto = max(solved)
        es = [e for e in res if e["delay"] <= upto]
        s_ = [_mean_alpha(e["models"][k], "alpha_s") for e in es]
        r_ = [_mean_alpha(e["models"][k], "alpha_r") for e in es]

        def trend(v):
            drops = sum(y < x for x, y in zip(v, v[1:]))
            return (
                "falling at every step"
                if drops == len(v) - 1
                else f"falling at {drops} of {len(v) - 1} steps"
            )

        lines.append(
            f"- {name(k)}: mean loss below {SOLVED:g} x chance at every delay up to {upto}; from delay "
            f"{es[0]['delay']} to {upto} the mean learned alpha_s goes {a3(s_[0])} -> {a3(s_[-1])} "
            f"({trend(s_)}) and alpha_r {a3(r_[0])} -> {a3(r_[-1])} ({trend(r_)})."
        )
    el = [e for e in res if not e["models"]["elman"]["above_chance"]]
    if el:
        ps = [e["models"]["elman"]["p_value"] for e in el]
        thr = d["config"]["p_threshold"]
        below = sum(p is not None and p < thr for p in ps)
        lines.append(
            f"- Elman at delays {el[0]['delay']}-{el[-1]['delay']}: mean loss "
            f"{rng([e['models']['elman']['normalised_mean'] for e in el], lambda x: f'{x:.3f}')} x chance; the "
            f"t-test puts it below chance (p < {thr:g}) at "
            f"{'all' if below == len(el) else below} of these {len(el)} delays, but the mean misses the "
            f"{d['config']['margin']:g} x chance margin."
        )
    return "\n".join(lines)


@renderer("e7_margin")
def _e7_margin(S):
    """The capacity curve with and without the margin: per model, the delays above chance
    by the full rule and by the t-test alone (recomputed from the stored p-values)."""
    d = S.paper("memory")
    thr, margin = d["config"]["p_threshold"], d["config"]["margin"]
    rows = []
    for k in d["models"]:
        full = [e["delay"] for e in d["results"] if e["models"][k]["above_chance"]]
        p_only = [
            e["delay"]
            for e in d["results"]
            if e["models"][k]["p_value"] is not None and e["models"][k]["p_value"] < thr
        ]
        rows.append(
            [
                MODEL_NAMES.get(k, k),
                ", ".join(str(x) for x in full) or "none",
                str(max(full)) if full else "none",
                ", ".join(str(x) for x in p_only) or "none",
                str(max(p_only)) if p_only else "none",
                str(PAPER_MEMORY_MAX.get(k, "n/a")),
            ]
        )
    return table(
        [
            "model",
            f"delays above chance (p < {thr:g} and mean < {margin:g} x chance)",
            "largest",
            f"delays with p < {thr:g} alone (no margin)",
            "largest",
            "paper's largest",
        ],
        rows,
    )


# ----------------------------------------------------------------------------- E8: hierarchy


@renderer("e8_run")
def _e8_run(S):
    d = S.paper("hierarchy")
    c = d["config"]
    return run_line(
        d,
        f"layers of {' + '.join(str(n) for n in c['n_hidden'])} units, {c['time_constants']} "
        f"alphas starting at {c['init']:g}, {c['repetitions']} repetitions per condition, "
        f"{c['epochs']} epochs",
    )


def _hier_medians(d, cond):
    rs = [r for r in d["runs"] if r["condition"] == cond]
    a = np.asarray(
        [[np.mean(r["alpha_s"][k]), np.mean(r["alpha_r"][k])] for r in rs for k in range(2)], float
    )
    a = a.reshape(len(rs), 2, 2)
    return np.median(a, axis=0), rs[0]["teacher_alphas"]


@renderer("e8_table")
def _e8_table(S):
    d = S.paper("hierarchy")
    rows = []
    for t in d["tests"]:
        med, teacher = _hier_medians(d, t["condition"])
        rows.append(
            [
                t["condition"],
                " / ".join(pair(p, lambda v: f"{v:g}") for p in teacher),
                f"d {'>' if t['predicted_sign'] == '+' else '<'} 0",
                f"{t['k']} / {t['n']}",
                pval(t["p_value"]),
                f"{t['median_log_ratio']:.2f}",
                pair(med[0], lambda v: f"{v:.2f}"),
                pair(med[1], lambda v: f"{v:.2f}"),
            ]
        )
    return table(
        [
            "condition",
            "teacher (a_s, a_r), layer 1 / layer 2",
            "prediction",
            "runs with the predicted sign",
            "sign-test p",
            "median d",
            "median learned (a_s, a_r), layer 1",
            "layer 2",
        ],
        rows,
    )


@renderer("e8_facts")
def _e8_facts(S):
    d = S.paper("hierarchy")
    lines = []
    for t in d["tests"]:
        med, _ = _hier_medians(d, t["condition"])
        lines.append(
            f"- {t['condition']}: {t['k']}/{t['n']} runs with the predicted sign "
            f"(p = {pval(t['p_value'])}); "
            f"median learned alphas, layer 1 (a_s {med[0][0]:.2f}, a_r {med[0][1]:.2f}), "
            f"layer 2 (a_s {med[1][0]:.2f}, a_r {med[1][1]:.2f})."
        )
    return "\n".join(lines)
