"""The summary of all experiments: the paper's claims, our verdicts computed from the
result files, and the total run time."""

from __future__ import annotations

from ._format import a3, dist, pct_range, pval, rng, secs, table
from ._sources import BENCH, renderer
from ._tasks import MODEL_NAMES, PAPER_MEMORY_MAX
from ._teacher import PAPER_FIG3_P, TOL, _fig2_rows, _relu_outcome


def _verdicts(S) -> dict:
    """Per experiment: (what we found, in a few words computed from the data; verdict)."""
    out = {}
    rows = _fig2_rows(S.paper("fig2"))
    near = sum(r["steps"] <= 1 for r in rows)
    out["fig2"] = (
        f"argmin on or next to the target cell for {near}/{len(rows)} targets "
        f"(distance <= {a3(max(r['distance'] for r in rows))})",
        "reproduced" if near == len(rows) else "not reproduced",
    )
    d = S.paper("fig3")
    runs = [(L["target"], r) for L in d["learning"] for r in L["runs"]]
    k = sum(dist(r["final"], t) < TOL for t, r in runs)
    out["fig3 A"] = (
        f"{k}/{len(runs)} starts end within {TOL:g} of the target after "
        f"{d['config']['epochs']} epochs",
        "reproduced" if k == len(runs) else f"reproduced from {k} of {len(runs)} starts",
    )
    cmp_ = d["comparison"]
    better = all(c["aru_mean"] < c["elman_mean"] for c in cmp_)
    sig05 = sum(c["welch_p"] is not None and c["welch_p"] < 0.05 for c in cmp_)
    paper_thr = [float(PAPER_FIG3_P.get(tuple(c["target"]), "< 0").lstrip("< ")) for c in cmp_]
    as_paper = sum(
        c["welch_p"] is not None and c["welch_p"] < thr for c, thr in zip(cmp_, paper_thr)
    )
    out["fig3 B"] = (
        "ARU "
        + ("better for every target" if better else "not better for every target")
        + "; p = "
        + " and ".join(pval(c["welch_p"]) for c in cmp_),
        "reproduced"
        if better and as_paper == len(cmp_)
        else (
            f"partially reproduced (paper's significance for {as_paper} of {len(cmp_)} targets)"
            if better and sig05
            else "not reproduced"
        ),
    )
    s = S.paper("size")["summary"]
    n, k = sum(x["n"] for x in s), sum(round(x["within_tol"] * x["n"]) for x in s)
    out["size"] = (
        f"{k}/{n} runs within {TOL:g} of the target",
        "reproduced" if k == n else "not reproduced",
    )
    d = S.paper("relu")
    cnt = {}
    for r in d["runs"]:
        cnt.setdefault(r["activation"], []).append(_relu_outcome(r))
    sg, re_ = cnt.get("sigmoid", []), cnt.get("relu", [])
    out["relu"] = (
        f"sigmoid {sg.count('recovered')}/{len(sg)} recovered; ReLU "
        f"{re_.count('recovered')}/{len(re_)} recovered, {re_.count('swapped')}/{len(re_)} swapped",
        "reproduced"
        if sg.count("recovered") == len(sg) and re_.count("swapped") > 0
        else "not reproduced",
    )
    s = S.paper("local")["summary"]
    red = [1 - x[f"w1_{q}"] / x[f"w1_{q}_init"] for x in s for q in "sr"]
    sdr = [x[f"learned_sd_{q}"] / x[f"target_sd_{q}"] for x in s for q in "sr"]
    out["local"] = (
        f"W1 to the teacher reduced by {pct_range(red)}; learned SD "
        f"{rng(sdr, lambda x: f'{100 * x:.1f}')} % of the teacher's",
        "reproduced as distributions" if min(red) > 0 else "not reproduced",
    )
    d = S.paper("memory")
    mx = d["max_delay_above_chance"]
    adaptive_better = all((mx[k] or 0) > (mx["elman"] or 0) for k in ("global", "local"))
    out["memory"] = (
        "largest delay above chance: "
        + ", ".join(f"{MODEL_NAMES.get(k, k)} {mx[k]}" for k in d["models"]),
        "ordering reproduced; capacities differ"
        if adaptive_better and any(mx[k] != PAPER_MEMORY_MAX[k] for k in PAPER_MEMORY_MAX)
        else ("reproduced" if adaptive_better else "not reproduced"),
    )
    d = S.paper("hierarchy")
    tests = {t["condition"]: t for t in d["tests"]}
    fs, sf = tests.get("fast->slow"), tests.get("slow->fast")
    out["hierarchy"] = (
        f"fast->slow {fs['k']}/{fs['n']} with the predicted sign (p = {pval(fs['p_value'])}); "
        f"control {sf['k']}/{sf['n']} (p = {pval(sf['p_value'])})",
        "reproduced" if fs["p_value"] < 0.01 else "not reproduced across layers",
    )
    return out


# The paper's claims, in its words (quoted; not our results).
CLAIMS = {
    "fig2": ("E2 `fig2`", "the low-loss region centres on the target"),
    "fig3 A": ("E3 `fig3` A", "the alphas converge to the target from every start"),
    "fig3 B": ("E3 `fig3` B", "ARU beats Elman, p < 1e-11 and p < 1e-6"),
    "size": ("E4 `size`", "the alphas are recovered at every size"),
    "relu": ("E5 `relu`", "sigmoid networks recover the pair, ReLU networks may swap it"),
    "local": ("E6 `local`", "local alphas are recovered from a heterogeneous teacher"),
    "memory": (
        "E7 `memory`",
        "Elman up to 10 steps, adaptive up to 30; slower alphas for longer delays",
    ),
    "hierarchy": ("E8 `hierarchy`", "a hierarchy of time scales emerges"),
}


@renderer("summary_table")
def _summary_table(S):
    v = _verdicts(S)
    rows = []
    for key, (label, claim) in CLAIMS.items():
        name = key.split()[0]
        rt = secs(S.paper(name)["runtime_s"])
        if key == "fig3 B":
            rt = "(with A)"
        rows.append([label, claim, v[key][0], f"**{v[key][1]}**", rt])
    return table(
        ["experiment", "paper's claim", "ours (paper scale, seed 0)", "verdict", "`run` time"], rows
    )


EXPERIMENT_NAMES = ("fig2", "fig3", "size", "relu", "local", "memory", "hierarchy")


@renderer("paper_runtime")
def _paper_runtime(S):
    total = sum(S.paper(n)["runtime_s"] for n in EXPERIMENT_NAMES)
    text = (
        f"The seven `run` calls of the committed results took {secs(total)} together (`runtime_s` of "
        f"each JSON file: the experiment's computation, without process start and plotting)."
    )
    b = S.bench
    if "paper" in b:
        p = b["paper"]
        parts = [
            f"`reproduce {k} --scale paper` {secs(p[k]['wall_s'])}"
            for k in ("fig2", "all")
            if k in p
        ]
        text += (
            f" In the benchmark run of {b['date'][:10]} (`{BENCH}`, {b['cpu']['devices']} JAX CPU devices on "
            f"a {b['machine']['cpu_count']}-core CPU), wall times of the whole command: "
            + ", ".join(parts)
            + "."
        )
    return text
