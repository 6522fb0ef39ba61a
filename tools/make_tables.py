"""Writes the result tables and result sentences of the documentation from the committed
result files, so that no measured number in the docs is typed by hand.

    python tools/make_tables.py            # rewrite every generated region in place
    python tools/make_tables.py --check    # exit 1 listing the regions that differ and
                                           # any hand-typed measurement outside them

A generated region of a markdown file is delimited by two HTML comments,

    <!-- BEGIN GENERATED: name -->
    ...
    <!-- END GENERATED: name -->

and filled by the renderer `name` below: a function from the result files
(`results/paper_scale/*.json`, `benchmarks/results.json`) to markdown. A region whose
BEGIN comment ends its line is a block (the text sits on lines of its own, between blank
lines); otherwise it is inline. Every region must have a renderer and every renderer must fill a region.

Outside the regions, `lint` flags numbers that look like measurements (a time, a size in
bytes, a percentage, a ratio such as `5x`, or `~0.1`) unless they state a target or a
threshold (preceded by `<`, `>`, `<=` or `>=`) or appear in `ALLOWED` (settings such as a
task's 100 ms grace period). Parameters, settings and the paper's own reported values
may be typed by hand; results may not.

Only the standard library and NumPy are used (no JAX): the check takes well under a
second.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

# The markdown files that may hold generated regions (and that `lint` checks).
DOCS = ("README.md", "REPRODUCTION.md", "benchmarks/README.md", "docs/*.md")

PAPER_DIR = "results/paper_scale"
BENCH = "benchmarks/results.json"

_REGION = re.compile(r"<!-- BEGIN GENERATED: ([\w-]+) -->(.*?)<!-- END GENERATED: ([\w-]+) -->", re.S)
_MARKER = re.compile(r"<!-- (BEGIN|END) GENERATED: ([\w-]+) -->")


class Sources:
    """The committed result files under `root`, each read once."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._cache: dict[str, object] = {}

    def json(self, rel: str):
        if rel not in self._cache:
            path = self.root / rel
            if not path.is_file():
                raise FileNotFoundError(f"result file {rel} is missing under {self.root}")
            self._cache[rel] = json.loads(path.read_text())
        return self._cache[rel]

    def paper(self, name: str) -> dict:
        return self.json(f"{PAPER_DIR}/{name}.json")

    @property
    def bench(self) -> dict:
        return self.json(BENCH)


RENDERERS: dict[str, Callable[[Sources], str]] = {}


def renderer(name: str):
    """Registers `fn(sources) -> markdown` as the renderer of region `name`."""

    def deco(fn):
        RENDERERS[name] = fn
        return fn

    return deco


# ----------------------------------------------------------------------------- formatting


def sig(x: float, n: int = 2) -> str:
    """`x` to `n` significant digits: plain notation for 0.01 <= |x| < 1e5, otherwise
    `1.4e-5` style."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    e = math.floor(math.log10(abs(x)))
    r = round(x, n - 1 - e)
    if r != 0 and math.floor(math.log10(abs(r))) != e:  # rounding carried a digit (9.96 -> 10)
        e += 1
    if -2 <= e < 5:
        return f"{r:.{max(n - 1 - e, 0)}f}"
    m, ex = f"{x:.{n - 1}e}".split("e")
    return f"{m}e{int(ex)}"


def pval(p) -> str:
    """A p-value: two significant digits; underflow to 0 is shown as `< 1e-300`."""
    if p is None:
        return "n/a"
    return "< 1e-300" if p == 0 else sig(p, 2)


def a3(x: float) -> str:
    """An alpha or a distance: three decimals."""
    return f"{x:.3f}"


def setting(x: float) -> str:
    """A setting as the docs write it: 1e-3 rather than 0.001."""
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e") if 0 < abs(x) < 0.01 else f"{x:g}"


def pair(p, f=a3) -> str:
    return f"({f(p[0])}, {f(p[1])})"


def target(t) -> str:
    """A target pair as the paper writes it (0.342, not 0.3420; 1.0 stays 1.0)."""
    return "(" + ", ".join(f"{v:g}" if f"{v:g}" != "1" else "1.0" for v in t) + ")"


def ms(s: float, digits: int = 3) -> str:
    return f"{sig(1e3 * s, digits)} ms"


def secs(s: float) -> str:
    return f"{s:.0f} s"


def ratio(x: float, n: int = 3) -> str:
    return f"{sig(x, n)}x"


def pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def pct_range(xs) -> str:
    """`52-65 %` for fractions 0.52 ... 0.65."""
    return rng(xs, lambda x: f"{100 * x:.0f}") + " %"


def rng(xs, f) -> str:
    """`lo-hi` of the values (one value when they agree at that precision)."""
    lo, hi = f(min(xs)), f(max(xs))
    return lo if lo == hi else f"{lo}-{hi}"


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def dist(a, b) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def run_line(d: dict, what: str) -> str:
    """The provenance line of one experiment: file, scale, seed, settings, wall time."""
    cfg = d["config"]
    lr = cfg["learning_rate"]
    tau = cfg.get("tau_learning_rate")
    lr_text = f"learning rate {setting(lr)}" + ("" if tau is None else f" (time constants {setting(tau)})")
    return (f"**Run** (`{PAPER_DIR}/{d['name']}.json`): {d['scale']} scale, seed {d['seed']}, "
            f"{what}, {lr_text}; `run` took {secs(d['runtime_s'])}.")


# ----------------------------------------------------------------------------- E2: fig2


def _fig2_rows(d):
    grid = np.asarray(d["grid"], float)
    out = []
    for t, tg in enumerate(d["targets"]):
        loss = np.asarray(d["loss"][t], float)
        i, j = int(np.argmin(abs(grid - tg[0]))), int(np.argmin(abs(grid - tg[1])))
        mi, mj = np.unravel_index(np.nanargmin(loss), loss.shape)
        lmin, lmax = float(np.nanmin(loss)), float(np.nanmax(loss))
        out.append(dict(target=tg, argmin=d["argmin"][t], distance=d["argmin_distance"][t], min=lmin,
                        max=lmax, near=float(loss[i, j]), rank=int((loss < loss[i, j]).sum()) + 1,
                        cells=loss.size, steps=max(abs(int(mi) - i), abs(int(mj) - j))))
    return out


@renderer("e2_run")
def _e2_run(S):
    d = S.paper("fig2")
    c = d["config"]
    n = len(c["grid"])
    return run_line(d, f"{len(c['targets'])} targets, {n} x {n} grid of fixed alphas, {c['seeds']} seeds "
                       f"per cell, {c['epochs']} epochs")


@renderer("e2_table")
def _e2_table(S):
    fig2 = _fig2_rows(S.paper("fig2"))
    rows = [[target(r["target"]), pair(r["argmin"]), a3(r["distance"]), sig(r["min"]),
             f"{sig(r['near'])} ({r['rank']})", sig(r["max"]), f"{sig(r['max'] / r['min'], 3)}x"]
            for r in fig2]
    return table(["target (a_s, a_r)", "argmin (a_s, a_r)", "argmin's distance to the target", "min loss (MSE)",
                  f"loss at the cell nearest the target (rank of {fig2[0]['cells']})", "worst cell's loss",
                  "worst / min"], rows)


@renderer("e2_facts")
def _e2_facts(S):
    d = S.paper("fig2")
    rows = _fig2_rows(d)
    n = len(rows)
    on = sum(r["steps"] == 0 for r in rows)
    near = sum(r["steps"] <= 1 for r in rows)
    step = float(np.mean(np.diff(d["grid"])))
    worst = [r["max"] / r["min"] for r in rows]
    return "\n".join([
        f"- The minimum of the mean loss lies on the grid cell nearest the target for {on}/{n} targets "
        f"and on that cell or a neighbouring one for {near}/{n} (grid step {a3(step)}).",
        f"- The worst cell of each map is {rng(worst, lambda x: sig(x, 3))} times its minimum "
        f"(worst mean loss {rng([r['max'] for r in rows], sig)}).",
    ])


# ----------------------------------------------------------------------------- E3: fig3

# The paper's reported p-values of Fig. 3B (quoted, not ours), by target.
PAPER_FIG3_P = {(0.684, 0.342): "< 1e-11", (0.342, 0.684): "< 1e-6"}
TOL = 0.1  # "recovered": within 0.1 (Euclidean) of the target, as adaptive_rnn.paper.size


@renderer("e3_run")
def _e3_run(S):
    d = S.paper("fig3")
    c = d["config"]
    return run_line(d, f"{len(c['targets'])} targets, {len(c['inits'])} panel-A starts per target, "
                       f"{c['repetitions']} panel-B repetitions per model, {c['epochs']} epochs")


@renderer("e3a_facts")
def _e3a_facts(S):
    d = S.paper("fig3")
    runs = [(L["target"], r) for L in d["learning"] for r in L["runs"]]
    ok = [dist(r["final"], t) for t, r in runs if dist(r["final"], t) < TOL]
    lines = [f"- {len(ok)} of {len(runs)} panel-A runs end within {TOL:g} of their target (Euclidean "
             f"distance of the best-validation alphas; the largest of these: {a3(max(ok)) if ok else 'n/a'})."]
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
            f"ten epochs earlier.")
    return "\n".join(lines)


@renderer("e3b_table")
def _e3b_table(S):
    rows = []
    for c in S.paper("fig3")["comparison"]:
        t = tuple(c["target"])
        fin = c["aru_final"]
        k = sum(dist(f, t) < TOL for f in fin)
        rows.append([target(t), f"{sig(c['aru_mean'])} +- {sig(c['aru_sem'])}",
                     f"{sig(c['elman_mean'])} +- {sig(c['elman_sem'])}",
                     ratio(c["elman_mean"] / c["aru_mean"], 2), f"**{pval(c['welch_p'])}**",
                     PAPER_FIG3_P.get(t, "n/a"), f"{k}/{len(fin)}"])
    return table(["target", "ARU (learned alphas), mean +- SEM", "Elman, mean +- SEM", "Elman mean / ARU mean",
                  "Welch p", "paper's p", f"ARU runs ending within {TOL:g} of the target"], rows)


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
    return (f"- Fig. 2 loss of the grid cell nearest the Elman network, ({a3(grid[e])}, {a3(grid[e])}): "
            + ", ".join(parts) + ".")


# ----------------------------------------------------------------------------- E4: size


@renderer("e4_run")
def _e4_run(S):
    d = S.paper("size")
    c = d["config"]
    return run_line(d, f"target {target(c['target'])}, teacher of {c['teacher_hidden']} units, student "
                       f"sizes {', '.join(str(s) for s in c['sizes'])}, {c['seeds']} seeds per size, "
                       f"{c['epochs']} epochs")


@renderer("e4_table")
def _e4_table(S):
    rows = [[s["n_hidden"], f"{a3(s['alpha_s_mean'])} +- {a3(s['alpha_s_sd'])}",
             f"{a3(s['alpha_r_mean'])} +- {a3(s['alpha_r_sd'])}", a3(s["distance_mean"]),
             f"{round(s['within_tol'] * s['n'])}/{s['n']}", f"{round(s['within_tol_swapped'] * s['n'])}/{s['n']}"]
            for s in S.paper("size")["summary"]]
    return table(["hidden units", "learned alpha_s, mean +- SD", "learned alpha_r, mean +- SD",
                  "mean distance to target", f"within {TOL:g} of target", f"within {TOL:g} of swapped pair"], rows)


@renderer("e4_facts")
def _e4_facts(S):
    d = S.paper("size")
    s = d["summary"]
    n = sum(x["n"] for x in s)
    k = sum(round(x["within_tol"] * x["n"]) for x in s)
    sw = sum(round(x["within_tol_swapped"] * x["n"]) for x in s)
    m = [x["alpha_s_mean"] for x in s]
    trend = "rises with size" if all(b >= a for a, b in zip(m, m[1:])) else "changes with size"
    return "\n".join([
        f"- {k}/{n} runs end within {TOL:g} of the target, {sw}/{n} within {TOL:g} of the swapped pair.",
        f"- The mean learned alpha_s {trend}: {a3(m[0])} ({s[0]['n_hidden']} units) to {a3(m[-1])} "
        f"({s[-1]['n_hidden']} units), against the target's {d['target'][0]:g}.",
    ])


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
    return run_line(d, f"targets {' and '.join(target(t) for t in c['targets'])}, activations "
                       f"{' and '.join(c['activations'])}, {c['seeds']} seeds per condition, "
                       f"{c['epochs']} epochs")


@renderer("e5_table")
def _e5_table(S):
    names = {"sigmoid": "sigmoid", "relu": "ReLU"}
    rows = [[target(s["target"]), names.get(s["activation"], s["activation"]),
             f"{round(s['within_tol'] * s['n'])}/{s['n']}", f"{round(s['within_tol_swapped'] * s['n'])}/{s['n']}",
             f"{a3(s['alpha_s_mean'])} +- {a3(s['alpha_s_sd'])}", f"{a3(s['alpha_r_mean'])} +- {a3(s['alpha_r_sd'])}"]
            for s in S.paper("relu")["summary"]]
    return table(["target", "activation", f"recovered (within {TOL:g})", f"swapped (within {TOL:g})",
                  "alpha_s mean +- SD", "alpha_r mean +- SD"], rows)


def _relu_groups(d):
    groups: dict = {}
    for r in d["runs"]:
        groups.setdefault((tuple(r["target"]), r["activation"], _relu_outcome(r)), []).append(r["best_val_loss"])
    return groups


@renderer("e5_loss_table")
def _e5_loss_table(S):
    d = S.paper("relu")
    g = _relu_groups(d)
    names = {"sigmoid": "sigmoid", "relu": "ReLU"}
    rows = []
    for t in [tuple(x) for x in d["config"]["targets"]]:
        ref = np.median([v for (tt, act, _), vs in g.items() if tt == t and act == "sigmoid" for v in vs])
        for act in d["config"]["activations"]:
            for out in ("recovered", "swapped", "neither"):
                vs = g.get((t, act, out))
                if vs:
                    med = float(np.median(vs))
                    rows.append([target(t), names.get(act, act), out, len(vs), sig(med), f"{sig(med / ref, 2)}x"])
    return table(["target", "activation", "outcome", "runs", "median best validation loss",
                  "/ median of the sigmoid runs (same target)"], rows)


@renderer("e5_facts")
def _e5_facts(S):
    d = S.paper("relu")
    lines = []
    names = {"sigmoid": "sigmoid", "relu": "ReLU"}
    for act in d["config"]["activations"]:
        rs = [r for r in d["runs"] if r["activation"] == act]
        c = {o: sum(_relu_outcome(r) == o for r in rs) for o in ("recovered", "swapped", "neither")}
        lines.append(f"- {names.get(act, act)}: {c['recovered']}/{len(rs)} recovered, {c['swapped']}/{len(rs)} "
                     f"swapped, {c['neither']}/{len(rs)} neither.")
    g = _relu_groups(d)
    parts = []
    for t in [tuple(x) for x in d["config"]["targets"]]:
        vs = g.get((t, "relu", "neither"))
        if vs:
            ref = np.median(g.get((t, "sigmoid", "recovered"), []) + g.get((t, "sigmoid", "neither"), [])
                            + g.get((t, "sigmoid", "swapped"), []))
            parts.append(f"about {sig(np.median(vs) / ref, 2)}x for target {target(t)}")
    if parts:
        lines.append("- The median validation loss of the ReLU runs that neither recover nor swap, against the "
                     "median of the sigmoid runs: " + ", ".join(parts) + ".")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- E6: local


@renderer("e6_run")
def _e6_run(S):
    d = S.paper("local")
    c = d["config"]
    return run_line(d, f"teacher sd {' and '.join(f'{s:g}' for s in c['sds'])} around {c['mean']:g}, "
                       f"{c['repetitions']} repetitions per sd, {c['n_hidden']} units, student alphas all "
                       f"starting at {c['init']:g}, {c['epochs']} epochs")


@renderer("e6_table")
def _e6_table(S):
    rows = []
    for s in S.paper("local")["summary"]:
        rows.append([f"{s['sd']:g}",
                     f"{a3(s['w1_s'])} ({a3(s['w1_s_init'])})", f"{a3(s['w1_r'])} ({a3(s['w1_r_init'])})",
                     f"{pct(1 - s['w1_s'] / s['w1_s_init'])} / {pct(1 - s['w1_r'] / s['w1_r_init'])}",
                     f"{a3(s['target_mean_s'])} / {a3(s['learned_mean_s'])}",
                     f"{a3(s['target_mean_r'])} / {a3(s['learned_mean_r'])}",
                     *[f"{a3(s[f'target_sd_{k}'])} / {a3(s[f'learned_sd_{k}'])} "
                       f"({100 * s[f'learned_sd_{k}'] / s[f'target_sd_{k}']:.1f} %)" for k in "sr"]])
    return table(["teacher sd", "W1 alpha_s: learned (initial)", "W1 alpha_r: learned (initial)",
                  "W1 reduction, alpha_s / alpha_r", "mean alpha_s: teacher / learned",
                  "mean alpha_r: teacher / learned", "SD alpha_s: teacher / learned (learned / teacher)",
                  "SD alpha_r: teacher / learned (learned / teacher)"], rows)


@renderer("e6_facts")
def _e6_facts(S):
    s = S.paper("local")["summary"]
    red = [1 - x[f"w1_{k}"] / x[f"w1_{k}_init"] for x in s for k in "sr"]
    sdr = [x[f"learned_sd_{k}"] / x[f"target_sd_{k}"] for x in s for k in "sr"]
    lm = [x[f"learned_mean_{k}"] for x in s for k in "sr"]
    tm = [x[f"target_mean_{k}"] for x in s for k in "sr"]
    return "\n".join([
        f"- W1 distance to the teacher's values reduced by {pct_range(red)} from the homogeneous start.",
        f"- Learned means {rng(lm, a3)} (teacher {rng(tm, a3)}); learned SD "
        f"{rng(sdr, lambda x: f'{100 * x:.1f}')} % of the teacher's.",
    ])


# ----------------------------------------------------------------------------- E7: memory

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
    return run_line(d, f"delays {', '.join(str(x) for x in c['delays'])}, {c['repetitions']} repetitions "
                       f"per delay and model, {c['n_hidden']} units, adaptive alphas starting at "
                       f"{c['init']:g}, {c['epochs']} epochs")


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
        al = [f"({a3(_mean_alpha(m[k], 'alpha_s'))}, {a3(_mean_alpha(m[k], 'alpha_r'))})"
              for k in d["models"] if k != "elman"]
        rows.append([e["delay"], f"{e['chance']:.3f}", *cells, *al])
    name = lambda k: MODEL_NAMES.get(k, k)  # noqa: E731
    return table(["delay (steps)", "chance (MSE)", *[f"{name(k)}: loss / chance" for k in d["models"]],
                  *[f"{name(k)}: mean learned (a_s, a_r)" for k in d["models"] if k != "elman"]], rows)


@renderer("e7_facts")
def _e7_facts(S):
    d = S.paper("memory")
    mx = d["max_delay_above_chance"]
    res = d["results"]
    name = lambda k: MODEL_NAMES.get(k, k)  # noqa: E731
    lines = ["- Largest delay above chance: " + ", ".join(f"{name(k)} {mx[k]}" for k in d["models"])
             + " (paper: " + ", ".join(f"{name(k)} {PAPER_MEMORY_MAX[k]}" for k in d["models"]
                                       if k in PAPER_MEMORY_MAX) + ")."]
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
            return ("falling at every step" if drops == len(v) - 1 else
                    f"falling at {drops} of {len(v) - 1} steps")

        lines.append(f"- {name(k)}: mean loss below {SOLVED:g} x chance at every delay up to {upto}; from delay "
                     f"{es[0]['delay']} to {upto} the mean learned alpha_s goes {a3(s_[0])} -> {a3(s_[-1])} "
                     f"({trend(s_)}) and alpha_r {a3(r_[0])} -> {a3(r_[-1])} ({trend(r_)}).")
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
            f"{d['config']['margin']:g} x chance margin.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- E8: hierarchy


@renderer("e8_run")
def _e8_run(S):
    d = S.paper("hierarchy")
    c = d["config"]
    return run_line(d, f"layers of {' + '.join(str(n) for n in c['n_hidden'])} units, {c['time_constants']} "
                       f"alphas starting at {c['init']:g}, {c['repetitions']} repetitions per condition, "
                       f"{c['epochs']} epochs")


def _hier_medians(d, cond):
    rs = [r for r in d["runs"] if r["condition"] == cond]
    a = np.asarray([[np.mean(r["alpha_s"][k]), np.mean(r["alpha_r"][k])] for r in rs for k in range(2)], float)
    a = a.reshape(len(rs), 2, 2)
    return np.median(a, axis=0), rs[0]["teacher_alphas"]


@renderer("e8_table")
def _e8_table(S):
    d = S.paper("hierarchy")
    rows = []
    for t in d["tests"]:
        med, teacher = _hier_medians(d, t["condition"])
        rows.append([t["condition"], " / ".join(pair(p, lambda v: f"{v:g}") for p in teacher),
                     f"d {'>' if t['predicted_sign'] == '+' else '<'} 0", f"{t['k']} / {t['n']}", pval(t["p_value"]),
                     f"{t['median_log_ratio']:.2f}", pair(med[0], lambda v: f"{v:.2f}"),
                     pair(med[1], lambda v: f"{v:.2f}")])
    return table(["condition", "teacher (a_s, a_r), layer 1 / layer 2", "prediction", "runs with the predicted sign",
                  "sign-test p", "median d", "median learned (a_s, a_r), layer 1", "layer 2"], rows)


@renderer("e8_facts")
def _e8_facts(S):
    d = S.paper("hierarchy")
    lines = []
    for t in d["tests"]:
        med, _ = _hier_medians(d, t["condition"])
        lines.append(f"- {t['condition']}: {t['k']}/{t['n']} runs with the predicted sign "
                     f"(p = {pval(t['p_value'])}); "
                     f"median learned alphas, layer 1 (a_s {med[0][0]:.2f}, a_r {med[0][1]:.2f}), "
                     f"layer 2 (a_s {med[1][0]:.2f}, a_r {med[1][1]:.2f}).")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- summary


def _verdicts(S) -> dict:
    """Per experiment: (what we found, in a few words computed from the data; verdict)."""
    out = {}
    rows = _fig2_rows(S.paper("fig2"))
    near = sum(r["steps"] <= 1 for r in rows)
    out["fig2"] = (f"argmin on or next to the target cell for {near}/{len(rows)} targets "
                   f"(distance <= {a3(max(r['distance'] for r in rows))})",
                   "reproduced" if near == len(rows) else "not reproduced")
    d = S.paper("fig3")
    runs = [(L["target"], r) for L in d["learning"] for r in L["runs"]]
    k = sum(dist(r["final"], t) < TOL for t, r in runs)
    out["fig3 A"] = (f"{k}/{len(runs)} starts end within {TOL:g} of the target after "
                     f"{d['config']['epochs']} epochs",
                     "reproduced" if k == len(runs) else f"reproduced from {k} of {len(runs)} starts")
    cmp_ = d["comparison"]
    better = all(c["aru_mean"] < c["elman_mean"] for c in cmp_)
    sig05 = sum(c["welch_p"] is not None and c["welch_p"] < 0.05 for c in cmp_)
    paper_thr = [float(PAPER_FIG3_P.get(tuple(c["target"]), "< 0").lstrip("< ")) for c in cmp_]
    as_paper = sum(c["welch_p"] is not None and c["welch_p"] < thr for c, thr in zip(cmp_, paper_thr))
    out["fig3 B"] = ("ARU " + ("better for every target" if better else "not better for every target") + "; p = "
                     + " and ".join(pval(c["welch_p"]) for c in cmp_),
                     "reproduced" if better and as_paper == len(cmp_) else
                     ("partially reproduced (paper's significance for "
                      f"{as_paper} of {len(cmp_)} targets)" if better and sig05 else "not reproduced"))
    s = S.paper("size")["summary"]
    n, k = sum(x["n"] for x in s), sum(round(x["within_tol"] * x["n"]) for x in s)
    out["size"] = (f"{k}/{n} runs within {TOL:g} of the target", "reproduced" if k == n else "not reproduced")
    d = S.paper("relu")
    cnt = {}
    for r in d["runs"]:
        cnt.setdefault(r["activation"], []).append(_relu_outcome(r))
    sg, re_ = cnt.get("sigmoid", []), cnt.get("relu", [])
    out["relu"] = (f"sigmoid {sg.count('recovered')}/{len(sg)} recovered; ReLU "
                   f"{re_.count('recovered')}/{len(re_)} recovered, {re_.count('swapped')}/{len(re_)} swapped",
                   "reproduced" if sg.count("recovered") == len(sg) and re_.count("swapped") > 0
                   else "not reproduced")
    s = S.paper("local")["summary"]
    red = [1 - x[f"w1_{q}"] / x[f"w1_{q}_init"] for x in s for q in "sr"]
    sdr = [x[f"learned_sd_{q}"] / x[f"target_sd_{q}"] for x in s for q in "sr"]
    out["local"] = (f"W1 to the teacher reduced by {pct_range(red)}; learned SD "
                    f"{rng(sdr, lambda x: f'{100 * x:.1f}')} % of the teacher's",
                    "reproduced as distributions" if min(red) > 0 else "not reproduced")
    d = S.paper("memory")
    mx = d["max_delay_above_chance"]
    adaptive_better = all((mx[k] or 0) > (mx["elman"] or 0) for k in ("global", "local"))
    out["memory"] = ("largest delay above chance: " + ", ".join(f"{MODEL_NAMES.get(k, k)} {mx[k]}"
                                                                for k in d["models"]),
                     "ordering reproduced; capacities differ" if adaptive_better and any(
                         mx[k] != PAPER_MEMORY_MAX[k] for k in PAPER_MEMORY_MAX) else
                     ("reproduced" if adaptive_better else "not reproduced"))
    d = S.paper("hierarchy")
    tests = {t["condition"]: t for t in d["tests"]}
    fs, sf = tests.get("fast->slow"), tests.get("slow->fast")
    out["hierarchy"] = (f"fast->slow {fs['k']}/{fs['n']} with the predicted sign (p = {pval(fs['p_value'])}); "
                        f"control {sf['k']}/{sf['n']} (p = {pval(sf['p_value'])})",
                        "reproduced" if fs["p_value"] < 0.01 else "not reproduced across layers")
    return out


# The paper's claims, in its words (quoted; not our results).
CLAIMS = {
    "fig2": ("E2 `fig2`", "the low-loss region centres on the target"),
    "fig3 A": ("E3 `fig3` A", "the alphas converge to the target from every start"),
    "fig3 B": ("E3 `fig3` B", "ARU beats Elman, p < 1e-11 and p < 1e-6"),
    "size": ("E4 `size`", "the alphas are recovered at every size"),
    "relu": ("E5 `relu`", "sigmoid networks recover the pair, ReLU networks may swap it"),
    "local": ("E6 `local`", "local alphas are recovered from a heterogeneous teacher"),
    "memory": ("E7 `memory`", "Elman up to 10 steps, adaptive up to 30; slower alphas for longer delays"),
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
    return table(["experiment", "paper's claim", "ours (paper scale, seed 0)", "verdict", "`run` time"], rows)


EXPERIMENT_NAMES = ("fig2", "fig3", "size", "relu", "local", "memory", "hierarchy")


@renderer("paper_runtime")
def _paper_runtime(S):
    total = sum(S.paper(n)["runtime_s"] for n in EXPERIMENT_NAMES)
    text = (f"The seven `run` calls of the committed results took {secs(total)} together (`runtime_s` of "
            f"each JSON file: the experiment's computation, without process start and plotting).")
    b = S.bench
    if "paper" in b:
        p = b["paper"]
        parts = [f"`reproduce {k} --scale paper` {secs(p[k]['wall_s'])}" for k in ("fig2", "all") if k in p]
        text += (f" In the benchmark run of {b['date'][:10]} (`{BENCH}`, {b['cpu']['devices']} JAX CPU devices on "
                 f"a {b['machine']['cpu_count']}-core CPU), wall times of the whole command: "
                 + ", ".join(parts) + ".")
    return text


# ----------------------------------------------------------------------------- benchmarks

# The project's speed targets (settings, not results).
TARGETS = {
    "forward_vs_nn4n": (">=", 5.0, "x"),
    "train_step_vs_nn4n": (">=", 3.0, "x"),
    "diffrax_forward": ("<=", 1.15, "x"),
    "diffrax_grad": ("<=", 1.15, "x"),
    "roofline": (">=", 0.5, "of peak"),
    "ensemble_200": ("<=", 2e-3, "s"),
    "compile": ("<=", 2.0, "s"),
    "paper_fig2": ("<=", 300.0, "s"),
    "paper_all": ("<=", 1800.0, "s"),
}


def _target(key: str, value: float) -> str:
    op, thr, unit = TARGETS[key]
    met = value >= thr if op == ">=" else value <= thr
    if unit == "x":
        shown = f"{thr:g}x"
    elif unit == "of peak":
        shown = f"{100 * thr:g} %"
    elif key.startswith("paper"):
        shown = f"{thr / 60:g} min"
    elif thr < 1:
        shown = f"{1e3 * thr:g} ms"
    else:
        shown = f"{thr:g} s"
    return f"{op} {shown}: {'met' if met else 'not met'}"


def _timing(entry: dict, key: str):
    v = entry.get(key) if isinstance(entry, dict) else None
    return v.get("median_s") if isinstance(v, dict) else None


def peers(b: dict) -> list[tuple[str, dict]]:
    """Every peer framework measured on the CTRNN benchmark: any entry of `b` (searched
    a few levels deep) with `forward` and `train_step` medians, other than adaptive_rnn's
    own entries and entries marked `skipped`; with its path of keys (`nn4n/nn4n`)."""
    found: list[tuple[str, dict]] = []

    def walk(node, path, depth):
        if not isinstance(node, dict) or depth > 4 or "skipped" in node:
            return
        if _timing(node, "forward") is not None and _timing(node, "train_step") is not None:
            found.append(("/".join(path), node))
            return
        for k, v in node.items():
            if not str(k).startswith("adaptive_rnn"):
                walk(v, path + [str(k)], depth + 1)

    walk(b, [], 0)
    return found


PEER_NAMES = {"nn4n": "NN4N", "brainpy": "BrainPy"}


def _peer_label(key: str, v: dict) -> str:
    """`NN4N (nn4n 1.1.1, torch 2.13.0; 2 threads)` from whatever the entry records."""
    last = key.split("/")[-1]
    name = v.get("name") or PEER_NAMES.get(last.split("_")[0], key)
    vers = v.get("versions", v.get("version"))
    vtext = ", ".join(f"{k} {x}" for k, x in vers.items()) if isinstance(vers, dict) else str(vers or "")
    threads = v.get("threads", v.get("torch_threads"))
    ttext = "" if threads is None else f"{threads} thread{'' if threads == 1 else 's'}"
    bits = [b for b in (vtext, ttext) if b]
    return name + (f" ({'; '.join(bits)})" if bits else "")


@renderer("bench_setup")
def _bench_setup(S):
    b = S.bench
    m = b["machine"]
    gpu = b.get("gpu", {})
    return (f"Run of {b['date'][:10]} (`{BENCH}`): {m['platform']}, {m['cpu_count']} CPU cores "
            f"({m['processor']}), jax {m['jax']}, float32, {b['cpu']['devices']} JAX CPU "
            f"device{'' if b['cpu']['devices'] == 1 else 's'}, "
            f"{'5 repeats (`--quick`)' if b.get('quick') else '9 repeats'}; the whole run took "
            f"{secs(b['total_s'])}{' (the paper-scale commands included)' if 'paper' in b else ''}. GPU: "
            + (f"{gpu.get('device')}." if gpu.get("available") else
               "none in this run (the GPU section reports none)."))


@renderer("bench_table")
def _bench_table(S):
    b = S.bench
    rows = []
    nn = b.get("nn4n", {})
    cfg = nn.get("config", {})
    ours, one = nn.get("adaptive_rnn", {}), nn.get("adaptive_rnn_one_device", {})
    shape = f"N={cfg.get('n_hidden')}, B={cfg.get('batch')}, T={cfg.get('steps')}"
    for key, what in (("forward", "forward"), ("train_step", "train step (MSE, backward, Adam)")):
        if _timing(ours, key) is not None:
            rows.append([f"CTRNN {what}, {shape}, batch split over {ours.get('devices')} devices",
                         f"{ms(ours[key]['median_s'])} (min {ms(ours[key]['min_s'])})", ""])
        if _timing(one, key) is not None:
            rows.append([f"CTRNN {what}, one device",
                         f"{ms(one[key]['median_s'])} (min {ms(one[key]['min_s'])})", ""])
    for key, v in peers(b):
        pf, pt_ = v["forward"]["median_s"], v["train_step"]["median_s"]
        vs = []
        for what, o in (("ours", ours), ("ours on one device", one)):
            if _timing(o, "forward") is not None and _timing(o, "train_step") is not None:
                vs.append(f"{ratio(pf / o['forward']['median_s'])} / {ratio(pt_ / o['train_step']['median_s'])} "
                          f"vs {what}")
        rows.append([f"CTRNN forward / train step, {_peer_label(key, v)}; peer time / our time",
                     f"{ms(pf)} / {ms(pt_)}" + (f" ({'; '.join(vs)})" if vs else ""), ""])
    r = b.get("ratios", {})
    for key, what in (("forward_vs_nn4n", "forward"), ("train_step_vs_nn4n", "train step")):
        if key in r:
            extra = f" (one device {ratio(r[key + '_one_device'])})" if key + "_one_device" in r else ""
            rows.append([f"NN4N time / our time, {what}", f"**{ratio(r[key])}**{extra}", _target(key, r[key])])
    pt = b.get("paths", {}).get("timings", {})
    pc = b.get("paths", {}).get("config", {})
    pshape = f"N={pc.get('n_hidden')}, B={pc.get('batch')}, T={pc.get('steps')}"
    if "forward_scan" in pt and "forward_diffrax" in pt:
        rows.append([f"ARU forward, scan / diffrax fixed grid ({pshape})",
                     f"{ms(pt['forward_scan']['median_s'])} / {ms(pt['forward_diffrax']['median_s'])}", ""])
    if "grad_scan" in pt and "grad_diffrax" in pt:
        rows.append(["ARU value_and_grad, scan / diffrax",
                     f"{ms(pt['grad_scan']['median_s'])} / {ms(pt['grad_diffrax']['median_s'])}", ""])
    for key, tkey, what in (("diffrax_euler_vs_scan", "diffrax_forward", "forward"),
                            ("diffrax_euler_vs_scan_grad", "diffrax_grad", "gradient")):
        if key in r:
            rows.append([f"diffrax time / scan time, {what}", f"**{ratio(r[key])}**", _target(tkey, r[key])])
    mp = b.get("matmul_peak")
    if mp:
        sizes = ", ".join(f"{k.replace('_split', ' split')}: {v:.0f}" for k, v in mp["by_size"].items())
        rows.append(["matmul peak: best large float32 dot, GF/s (per size, one device or rows split)",
                     f"{mp['gflops']:.0f} GF/s ({sizes})", ""])
    for key, what in (("roofline", "model sweep"), ("roofline_batch", "batch sweep")):
        rf = b.get(key)
        if rf:
            c = rf["config"]
            desc = (f"{c['models']} models x {c['batch']}" if c["models"] > 1 else f"1 model x {c['batch']}")
            worst = min(rf["forward_fraction_of_peak"], rf["gradient_fraction_of_peak"])
            rows.append([f"roofline, {what} ({desc}, N={c['n_hidden']}, over {c['devices']} devices): "
                         "forward / gradient, fraction of the matmul peak",
                         f"{pct(rf['forward_fraction_of_peak'])} / {pct(rf['gradient_fraction_of_peak'])}",
                         _target("roofline", worst)])
    ens = b.get("ensemble", {})
    if ens:
        ks = sorted(ens, key=int)
        rows.append([f"fit_ensemble, one paper epoch per member, M = {' / '.join(ks)} members",
                     " / ".join(ms(ens[k]["ours_per_model_s"]) for k in ks),
                     _target("ensemble_200", ens["200"]["ours_per_model_s"]) if "200" in ens else ""])
        rows.append(["... plain vmap of scan + Adam (baseline), same M",
                     " / ".join(ms(ens[k]["baseline_per_model_s"]) for k in ks), ""])
    comp = b.get("compile", {})
    names = (("simulate_aru_b64_t500", "simulate"), ("solve_aru_tsit5", "solve Tsit5"),
             ("fit_paper_epoch", "fit epoch"), ("fit_ensemble_200", "ensemble of 200"))
    have = [(k, n) for k, n in names if k in comp]
    if have:
        vals = [comp[k]["with_cache_s"] for k, _ in have]
        rows.append(["compile, fresh process, cache filled (first call minus second): "
                     + " / ".join(n for _, n in have), " / ".join(f"{v:.2f} s" for v in vals),
                     _target("compile", max(vals))])
    mem = b.get("memory", {})
    if mem:
        lens = sorted(next(iter(mem.values())), key=int)
        mib = lambda x: sig(x / 2**20, 2)  # noqa: E731
        labels = {"scan": "scan", "diffrax_checkpoint_all": "diffrax, one checkpoint per step",
                  "diffrax_recursive_checkpoint_100": "diffrax, 100 recursive checkpoints"}
        for k, v in mem.items():
            label = labels.get(k, f"scan with `remat={k.rsplit('_', 1)[1]}`" if k.startswith("scan_remat_") else k)
            rows.append([f"gradient temporary memory, T = {' / '.join(lens)} (ARU, 64 units): {label}",
                         " / ".join(mib(v[t]) for t in lens) + " MiB", ""])
    p = b.get("paper", {})
    for k, tkey in (("fig2", "paper_fig2"), ("all", "paper_all")):
        if k in p:
            rows.append([f"`adaptive-rnn reproduce {k} --scale paper`, wall", secs(p[k]["wall_s"]),
                         _target(tkey, p[k]["wall_s"])])
    return table(["benchmark", "result (median of the repeats for times)", "target"], rows)


@renderer("bench_gpu")
def _bench_gpu(S):
    g = S.bench.get("gpu", {})
    if not g.get("available"):
        return "No GPU in this run: `run.py` fills this section where one is."
    rows = [[k, f"{v['forward_steps_per_s']:.3g}", f"{v['grad_steps_per_s']:.3g}"]
            for k, v in g.get("throughput", {}).items()]
    return f"GPU: {g.get('device')}.\n\n" + table(["size", "forward steps/s", "gradient steps/s"], rows)


@renderer("bench_paper")
def _bench_paper(S):
    rows = [[f"`{n}`", secs(S.paper(n)["runtime_s"])] for n in EXPERIMENT_NAMES]
    return (table(["experiment", "`run` time (`runtime_s`)"], rows) + "\n\n" + _paper_runtime(S))


@renderer("training_ensemble_cost")
def _training_ensemble_cost(S):
    b = S.bench
    e = b.get("ensemble", {}).get("200")
    if not e:
        return "The per-member cost is in `benchmarks/README.md`."
    return (f"In the latest benchmark run ({b['date'][:10]}, {b['cpu']['devices']} JAX CPU devices on a "
            f"{b['machine']['cpu_count']}-core CPU) a paper-sized epoch of 200 members cost "
            f"{ms(e['ours_per_model_s'])} per member (`python benchmarks/bench_ensemble.py`; "
            f"`{BENCH}`).")


# ----------------------------------------------------------------------------- the engine


def doc_files(root: Path) -> list[Path]:
    out = []
    for pattern in DOCS:
        out += sorted(p for p in root.glob(pattern) if p.is_file())
    return out


def regions(text: str, where: str = "") -> list[tuple[str, int, int]]:
    """The generated regions of `text`: (name, start, end) of each region's contents.

    **Raises:** `ValueError` for an unbalanced or mismatched marker."""
    out, stack = [], None
    for m in _MARKER.finditer(text):
        kind, name = m.groups()
        if kind == "BEGIN":
            if stack is not None:
                raise ValueError(f"{where}: region {stack[0]!r} is not closed before {name!r} begins")
            stack = (name, m.end())
        else:
            if stack is None or stack[0] != name:
                raise ValueError(f"{where}: END of {name!r} without its BEGIN")
            out.append((name, stack[1], m.start()))
            stack = None
    if stack is not None:
        raise ValueError(f"{where}: region {stack[0]!r} is not closed")
    return out


def render_text(text: str, sources: Sources, where: str = "") -> tuple[str, list[str]]:
    """`text` with every region refilled. **Returns:** the new text and the names of
    the regions whose contents changed."""
    changed, pieces, pos = [], [], 0
    for name, start, end in regions(text, where):
        if name not in RENDERERS:
            raise ValueError(f"{where}: no renderer for region {name!r}")
        body = RENDERERS[name](sources).strip("\n")
        old = text[start:end]
        # A block keeps blank lines around its text, so that markdown sees the table or
        # paragraph as its own block between the two comments.
        new = f"\n\n{body}\n\n" if old.startswith("\n") else body.strip()
        if new != old:
            changed.append(name)
        pieces += [text[pos:start], new]
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), changed


def generate(root: Path = ROOT, *, write: bool) -> dict[str, list[str]]:
    """Refills every region of every doc under `root` (writing only when `write`).

    **Returns:** per file (relative path), the regions that differ(ed).

    **Raises:** `ValueError` when a region has no renderer, a renderer fills no region,
    or markers are unbalanced; `FileNotFoundError` when a result file is missing."""
    root = Path(root)
    sources = Sources(root)
    diffs, used, pending = {}, set(), []
    for path in doc_files(root):
        rel = str(path.relative_to(root))
        text = path.read_text()
        used |= {n for n, _, _ in regions(text, rel)}
        new, changed = render_text(text, sources, rel)
        if changed:
            diffs[rel] = changed
            pending.append((path, new))
    unused = sorted(set(RENDERERS) - used)
    if unused:
        raise ValueError(f"renderers that fill no region of the docs: {unused}")
    if write:
        for path, new in pending:
            path.write_text(new)
    return diffs


# ----------------------------------------------------------------------------- lint

# Measurement-like numbers: a time, a size in bytes, a rate, a percentage, a ratio (5x,
# 10-100x), or an approximation sign before a number.
_UNIT = r"(?:ms|s|sec|seconds?|min|minutes?|h|hours?|MiB|MB|KiB|kB|GiB|GB|GF/s|GFLOP/s|%)"
_NUM = r"\d+(?:\.\d+)?(?:e-?\d+)?"
_MEASURE = re.compile(
    rf"(?<![\w.]){_NUM}(?:\s*-\s*{_NUM})?\s*{_UNIT}(?![\w/])"  # a time, size, rate or percentage
    rf"|(?<![\w.]){_NUM}(?:\s*-\s*{_NUM})?x(?!\w)"  # a ratio: 5x, 10-100x
    rf"|~\s*\(?\s*\d"  # an approximate value
)
_THRESHOLD = re.compile(r"(?:<=|>=|<|>|≤|≥)\s*$")

# Settings with units that may be typed by hand (task timings, allocator thresholds).
ALLOWED = (
    "grace period is 100 ms",
    "tau = 100 ms",
    "tau_r = 100 ms",
    "per 100 ms",
    "1 GiB trim threshold",
    "default margin 1 %",
)


def _blank(text: str, spans) -> str:
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def lint_text(text: str, where: str = "") -> list[str]:
    """Measurement-like numbers of `text` outside generated regions, HTML comments and
    `ALLOWED` phrases: one `file:line: match` string each."""
    spans = [(s, e) for _, s, e in regions(text, where)]
    spans += [m.span() for m in re.finditer(r"<!--.*?-->", text, re.S)]
    for phrase in ALLOWED:
        spans += [m.span() for m in re.finditer(re.escape(phrase), text)]
    clean = _blank(text, spans)
    out = []
    for m in _MEASURE.finditer(clean):
        if _THRESHOLD.search(clean[max(0, m.start() - 4):m.start()]):
            continue
        line = clean.count("\n", 0, m.start()) + 1
        out.append(f"{where}:{line}: {m.group(0).strip()!r}")
    return out


def lint(root: Path = ROOT) -> list[str]:
    """`lint_text` over every doc under `root`."""
    root = Path(root)
    out = []
    for path in doc_files(root):
        out += lint_text(path.read_text(), str(path.relative_to(root)))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 on any difference or stray number")
    p.add_argument("--root", default=str(ROOT), help="repository root (default: this checkout)")
    a = p.parse_args(argv)
    root = Path(a.root)
    try:
        diffs = generate(root, write=not a.check)
        stray = lint(root)
    except (ValueError, FileNotFoundError) as e:
        print(f"make_tables: {e}", file=sys.stderr)
        return 2
    for rel, names in diffs.items():
        print(f"{rel}: {'differs' if a.check else 'rewritten'}: {', '.join(names)}")
    for s in stray:
        print(f"hand-typed measurement outside a generated region: {s}")
    if a.check and diffs:
        print("run `python tools/make_tables.py` to regenerate", file=sys.stderr)
    return 1 if (a.check and diffs) or stray else 0


if __name__ == "__main__":
    sys.exit(main())
