"""Renderers of the teacher-student experiments E2-E6 (`fig2`, `fig3`, `size`, `relu`,
`local`): run lines, tables and result sentences from `results/paper_scale/*.json`."""

from __future__ import annotations

import numpy as np

from ._format import a3, dist, pair, pct, pct_range, pval, ratio, rng, run_line, sig, table, target
from ._sources import renderer


def _fig2_rows(d):
    grid = np.asarray(d["grid"], float)
    out = []
    for t, tg in enumerate(d["targets"]):
        loss = np.asarray(d["loss"][t], float)
        i, j = int(np.argmin(abs(grid - tg[0]))), int(np.argmin(abs(grid - tg[1])))
        mi, mj = np.unravel_index(np.nanargmin(loss), loss.shape)
        lmin, lmax = float(np.nanmin(loss)), float(np.nanmax(loss))
        out.append(
            dict(
                target=tg,
                argmin=d["argmin"][t],
                distance=d["argmin_distance"][t],
                min=lmin,
                max=lmax,
                near=float(loss[i, j]),
                rank=int((loss < loss[i, j]).sum()) + 1,
                cells=loss.size,
                steps=max(abs(int(mi) - i), abs(int(mj) - j)),
            )
        )
    return out


@renderer("e2_run")
def _e2_run(S):
    d = S.paper("fig2")
    c = d["config"]
    n = len(c["grid"])
    return run_line(
        d,
        f"{len(c['targets'])} targets, {n} x {n} grid of fixed alphas, {c['seeds']} seeds "
        f"per cell, {c['epochs']} epochs",
    )


@renderer("e2_table")
def _e2_table(S):
    fig2 = _fig2_rows(S.paper("fig2"))
    rows = [
        [
            target(r["target"]),
            pair(r["argmin"]),
            a3(r["distance"]),
            sig(r["min"]),
            f"{sig(r['near'])} ({r['rank']})",
            sig(r["max"]),
            f"{sig(r['max'] / r['min'], 3)}x",
        ]
        for r in fig2
    ]
    return table(
        [
            "target (a_s, a_r)",
            "argmin (a_s, a_r)",
            "argmin's distance to the target",
            "min loss (MSE)",
            f"loss at the cell nearest the target (rank of {fig2[0]['cells']})",
            "worst cell's loss",
            "worst / min",
        ],
        rows,
    )


@renderer("e2_facts")
def _e2_facts(S):
    d = S.paper("fig2")
    rows = _fig2_rows(d)
    n = len(rows)
    on = sum(r["steps"] == 0 for r in rows)
    near = sum(r["steps"] <= 1 for r in rows)
    step = float(np.mean(np.diff(d["grid"])))
    worst = [r["max"] / r["min"] for r in rows]
    return "\n".join(
        [
            f"- The minimum of the mean loss lies on the grid cell nearest the target for {on}/{n} targets "
            f"and on that cell or a neighbouring one for {near}/{n} (grid step {a3(step)}).",
            f"- The worst cell of each map is {rng(worst, lambda x: sig(x, 3))} times its minimum "
            f"(worst mean loss {rng([r['max'] for r in rows], sig)}).",
        ]
    )


# ----------------------------------------------------------------------------- E3: fig3

# The paper's reported p-values of Fig. 3B (quoted, not ours), by target.
PAPER_FIG3_P = {(0.684, 0.342): "< 1e-11", (0.342, 0.684): "< 1e-6"}
TOL = 0.1  # "recovered": within 0.1 (Euclidean) of the target, as adaptive_rnn.paper.size


@renderer("e3_run")
def _e3_run(S):
    d = S.paper("fig3")
    c = d["config"]
    return run_line(
        d,
        f"{len(c['targets'])} targets, {len(c['inits'])} panel-A starts per target, "
        f"{c['repetitions']} panel-B repetitions per model, {c['epochs']} epochs",
    )


@renderer("e3a_facts")
def _e3a_facts(S):
    d = S.paper("fig3")
    runs = [(L["target"], r) for L in d["learning"] for r in L["runs"]]
    ok = [dist(r["final"], t) for t, r in runs if dist(r["final"], t) < TOL]
    lines = [
        f"- {len(ok)} of {len(runs)} panel-A runs end within {TOL:g} of their target (Euclidean "
        f"distance of the best-validation alphas; the largest of these: {a3(max(ok)) if ok else 'n/a'})."
    ]
    epochs = d["config"]["epochs"]
    for t, r in runs:
        dd = dist(r["final"], t)
        if dd < TOL:
            continue
        side = (r["init"][0] - r["init"][1]) * (t[0] - t[1]) < 0
        tr = r["trajectory"]
        d_then, d_end = dist(tr[-11], t), dist(tr[-1], t)
        lines.append(
            f"- Target {target(t)} from {pair(r['init'], lambda v: f'{v:g}')} (a start on "
            f"{'the other side of' if side else 'the same side of'} the diagonal alpha_s = alpha_r): the "
            f"best-validation alphas (epoch {r['best_epoch']} of {epochs}) are {pair(r['final'])}, distance "
            f"{a3(dd)}; the alphas of the last epoch are {a3(d_end)} from the target, against {a3(d_then)} "
            f"ten epochs earlier."
        )
    return "\n".join(lines)


@renderer("e3b_table")
def _e3b_table(S):
    rows = []
    for c in S.paper("fig3")["comparison"]:
        t = tuple(c["target"])
        fin = c["aru_final"]
        k = sum(dist(f, t) < TOL for f in fin)
        rows.append(
            [
                target(t),
                f"{sig(c['aru_mean'])} +- {sig(c['aru_sem'])}",
                f"{sig(c['elman_mean'])} +- {sig(c['elman_sem'])}",
                ratio(c["elman_mean"] / c["aru_mean"], 2),
                f"**{pval(c['welch_p'])}**",
                PAPER_FIG3_P.get(t, "n/a"),
                f"{k}/{len(fin)}",
            ]
        )
    return table(
        [
            "target",
            "ARU (learned alphas), mean +- SEM",
            "Elman, mean +- SEM",
            "Elman mean / ARU mean",
            "Welch p",
            "paper's p",
            f"ARU runs ending within {TOL:g} of the target",
        ],
        rows,
    )


@renderer("e3b_facts")
def _e3b_facts(S):
    d3, d2 = S.paper("fig3"), S.paper("fig2")
    grid = np.asarray(d2["grid"], float)
    e = int(np.argmin(abs(grid - 1.0)))
    parts = []
    for c in d3["comparison"]:
        for t, tg in enumerate(d2["targets"]):
            if np.allclose(tg, c["target"]):
                parts.append(f"{sig(d2['loss'][t][e][e])} for target {target(tg)}")
    return (
        f"- Fig. 2 loss of the grid cell nearest the Elman network, ({a3(grid[e])}, {a3(grid[e])}): "
        + ", ".join(parts)
        + "."
    )


# ----------------------------------------------------------------------------- E4: size


@renderer("e4_run")
def _e4_run(S):
    d = S.paper("size")
    c = d["config"]
    return run_line(
        d,
        f"target {target(c['target'])}, teacher of {c['teacher_hidden']} units, student "
        f"sizes {', '.join(str(s) for s in c['sizes'])}, {c['seeds']} seeds per size, "
        f"{c['epochs']} epochs",
    )


@renderer("e4_table")
def _e4_table(S):
    rows = [
        [
            s["n_hidden"],
            f"{a3(s['alpha_s_mean'])} +- {a3(s['alpha_s_sd'])}",
            f"{a3(s['alpha_r_mean'])} +- {a3(s['alpha_r_sd'])}",
            a3(s["distance_mean"]),
            f"{round(s['within_tol'] * s['n'])}/{s['n']}",
            f"{round(s['within_tol_swapped'] * s['n'])}/{s['n']}",
        ]
        for s in S.paper("size")["summary"]
    ]
    return table(
        [
            "hidden units",
            "learned alpha_s, mean +- SD",
            "learned alpha_r, mean +- SD",
            "mean distance to target",
            f"within {TOL:g} of target",
            f"within {TOL:g} of swapped pair",
        ],
        rows,
    )


@renderer("e4_facts")
def _e4_facts(S):
    d = S.paper("size")
    s = d["summary"]
    n = sum(x["n"] for x in s)
    k = sum(round(x["within_tol"] * x["n"]) for x in s)
    sw = sum(round(x["within_tol_swapped"] * x["n"]) for x in s)
    m = [x["alpha_s_mean"] for x in s]
    trend = "rises with size" if all(b >= a for a, b in zip(m, m[1:])) else "changes with size"
    return "\n".join(
        [
            f"- {k}/{n} runs end within {TOL:g} of the target, {sw}/{n} within {TOL:g} of the swapped pair.",
            f"- The mean learned alpha_s {trend}: {a3(m[0])} ({s[0]['n_hidden']} units) to {a3(m[-1])} "
            f"({s[-1]['n_hidden']} units), against the target's {d['target'][0]:g}.",
        ]
    )


# ----------------------------------------------------------------------------- E5: relu


def _relu_outcome(r) -> str:
    t = r["target"]
    a = (r["alpha_s"], r["alpha_r"])
    if dist(a, t) < TOL:
        return "recovered"
    if dist(a, t[::-1]) < TOL:
        return "swapped"
    return "neither"


@renderer("e5_run")
def _e5_run(S):
    d = S.paper("relu")
    c = d["config"]
    return run_line(
        d,
        f"targets {' and '.join(target(t) for t in c['targets'])}, activations "
        f"{' and '.join(c['activations'])}, {c['seeds']} seeds per condition, "
        f"{c['epochs']} epochs",
    )


@renderer("e5_table")
def _e5_table(S):
    names = {"sigmoid": "sigmoid", "relu": "ReLU"}
    rows = [
        [
            target(s["target"]),
            names.get(s["activation"], s["activation"]),
            f"{round(s['within_tol'] * s['n'])}/{s['n']}",
            f"{round(s['within_tol_swapped'] * s['n'])}/{s['n']}",
            f"{a3(s['alpha_s_mean'])} +- {a3(s['alpha_s_sd'])}",
            f"{a3(s['alpha_r_mean'])} +- {a3(s['alpha_r_sd'])}",
        ]
        for s in S.paper("relu")["summary"]
    ]
    return table(
        [
            "target",
            "activation",
            f"recovered (within {TOL:g})",
            f"swapped (within {TOL:g})",
            "alpha_s mean +- SD",
            "alpha_r mean +- SD",
        ],
        rows,
    )


def _relu_groups(d):
    groups: dict = {}
    for r in d["runs"]:
        groups.setdefault((tuple(r["target"]), r["activation"], _relu_outcome(r)), []).append(
            r["best_val_loss"]
        )
    return groups


@renderer("e5_loss_table")
def _e5_loss_table(S):
    d = S.paper("relu")
    g = _relu_groups(d)
    names = {"sigmoid": "sigmoid", "relu": "ReLU"}
    rows = []
    for t in [tuple(x) for x in d["config"]["targets"]]:
        ref = np.median(
            [v for (tt, act, _), vs in g.items() if tt == t and act == "sigmoid" for v in vs]
        )
        for act in d["config"]["activations"]:
            for out in ("recovered", "swapped", "neither"):
                vs = g.get((t, act, out))
                if vs:
                    med = float(np.median(vs))
                    rows.append(
                        [
                            target(t),
                            names.get(act, act),
                            out,
                            len(vs),
                            sig(med),
                            f"{sig(med / ref, 2)}x",
                        ]
                    )
    return table(
        [
            "target",
            "activation",
            "outcome",
            "runs",
            "median best validation loss",
            "/ median of the sigmoid runs (same target)",
        ],
        rows,
    )


@renderer("e5_facts")
def _e5_facts(S):
    d = S.paper("relu")
    lines = []
    names = {"sigmoid": "sigmoid", "relu": "ReLU"}
    for act in d["config"]["activations"]:
        rs = [r for r in d["runs"] if r["activation"] == act]
        c = {o: sum(_relu_outcome(r) == o for r in rs) for o in ("recovered", "swapped", "neither")}
        lines.append(
            f"- {names.get(act, act)}: {c['recovered']}/{len(rs)} recovered, {c['swapped']}/{len(rs)} "
            f"swapped, {c['neither']}/{len(rs)} neither."
        )
    g = _relu_groups(d)
    parts = []
    for t in [tuple(x) for x in d["config"]["targets"]]:
        vs = g.get((t, "relu", "neither"))
        if vs:
            ref = np.median(
                g.get((t, "sigmoid", "recovered"), [])
                + g.get((t, "sigmoid", "neither"), [])
                + g.get((t, "sigmoid", "swapped"), [])
            )
            parts.append(f"about {sig(np.median(vs) / ref, 2)}x for target {target(t)}")
    if parts:
        lines.append(
            "- The median validation loss of the ReLU runs that neither recover nor swap, against the "
            "median of the sigmoid runs: " + ", ".join(parts) + "."
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- E6: local


@renderer("e6_run")
def _e6_run(S):
    d = S.paper("local")
    c = d["config"]
    return run_line(
        d,
        f"teacher sd {' and '.join(f'{s:g}' for s in c['sds'])} around {c['mean']:g}, "
        f"{c['repetitions']} repetitions per sd, {c['n_hidden']} units, student alphas all "
        f"starting at {c['init']:g}, {c['epochs']} epochs",
    )


@renderer("e6_table")
def _e6_table(S):
    rows = []
    for s in S.paper("local")["summary"]:
        rows.append(
            [
                f"{s['sd']:g}",
                f"{a3(s['w1_s'])} ({a3(s['w1_s_init'])})",
                f"{a3(s['w1_r'])} ({a3(s['w1_r_init'])})",
                f"{pct(1 - s['w1_s'] / s['w1_s_init'])} / {pct(1 - s['w1_r'] / s['w1_r_init'])}",
                f"{a3(s['target_mean_s'])} / {a3(s['learned_mean_s'])}",
                f"{a3(s['target_mean_r'])} / {a3(s['learned_mean_r'])}",
                *[
                    f"{a3(s[f'target_sd_{k}'])} / {a3(s[f'learned_sd_{k}'])} "
                    f"({100 * s[f'learned_sd_{k}'] / s[f'target_sd_{k}']:.1f} %)"
                    for k in "sr"
                ],
            ]
        )
    return table(
        [
            "teacher sd",
            "W1 alpha_s: learned (initial)",
            "W1 alpha_r: learned (initial)",
            "W1 reduction, alpha_s / alpha_r",
            "mean alpha_s: teacher / learned",
            "mean alpha_r: teacher / learned",
            "SD alpha_s: teacher / learned (learned / teacher)",
            "SD alpha_r: teacher / learned (learned / teacher)",
        ],
        rows,
    )


@renderer("e6_facts")
def _e6_facts(S):
    s = S.paper("local")["summary"]
    red = [1 - x[f"w1_{k}"] / x[f"w1_{k}_init"] for x in s for k in "sr"]
    sdr = [x[f"learned_sd_{k}"] / x[f"target_sd_{k}"] for x in s for k in "sr"]
    lm = [x[f"learned_mean_{k}"] for x in s for k in "sr"]
    tm = [x[f"target_mean_{k}"] for x in s for k in "sr"]
    return "\n".join(
        [
            f"- W1 distance to the teacher's values reduced by {pct_range(red)} from the homogeneous start.",
            f"- Learned means {rng(lm, a3)} (teacher {rng(tm, a3)}); learned SD "
            f"{rng(sdr, lambda x: f'{100 * x:.1f}')} % of the teacher's.",
        ]
    )
