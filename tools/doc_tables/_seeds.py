"""Renderers of the seed studies: the quick scale's claims over seeds 0-2 on 1 and 2 CPU
devices (`results/quick_seeds/devicesN/NAME_seeds.json`, written by
`adaptive-rnn --cpu-devices N reproduce NAME --scale quick --seeds 3`), and the paper
scale over seeds 0-4 (`results/paper_seeds/NAME_seeds.json`, written by
`adaptive-rnn reproduce all --scale paper --seeds 5`)."""

from __future__ import annotations

from ._format import secs, setting, sig, table
from ._sources import PAPER_DIR, renderer

QUICK_DIR = "results/quick_seeds"
PAPER_SEEDS_DIR = "results/paper_seeds"
DEVICES = (1, 2)
EXPERIMENT_NAMES = ("fig2", "fig3", "size", "relu", "local", "memory", "hierarchy")


def _summary(S, name: str, devices: int) -> dict:
    return S.json(f"{QUICK_DIR}/devices{devices}/{name}_seeds.json")


def _value(x) -> str:
    return "n/a" if x is None else sig(x, 3)


def _interval(iv) -> str:
    if iv["mean"] is None:
        return "n/a"
    if iv["low"] is None:
        return _value(iv["mean"])
    return f"{_value(iv['mean'])} [{_value(iv['low'])}, {_value(iv['high'])}]"


@renderer("quick_seeds_table")
def _quick_seeds_table(S):
    rows = []
    for name in EXPERIMENT_NAMES:
        sums = {d: _summary(S, name, d) for d in DEVICES}
        for k, c in enumerate(sums[DEVICES[0]]["summary"]["claims"]):
            per = {d: sums[d]["summary"]["claims"][k] for d in DEVICES}
            assert all(p["name"] == c["name"] for p in per.values()), (name, c["name"])
            seeds = sums[DEVICES[0]]["seeds"]
            rows.append(
                [
                    f"`{name}`",
                    c["statement"],
                    f"{c['unit']} {c['comparison']} {c['threshold']:g}",
                    *[f"{per[d]['holds']}/{per[d]['n']}" for d in DEVICES],
                    " / ".join(_value(per[d]["min_margin"]) for d in DEVICES),
                    " / ".join(_interval(per[d]["interval"]) for d in DEVICES),
                ]
            )
    seeds = ", ".join(str(s) for s in seeds)
    return table(
        [
            "experiment",
            "claim",
            "decided on",
            f"holds, 1 device (seeds {seeds})",
            "holds, 2 devices",
            "smallest margin, 1 / 2 devices",
            "value: mean [95 % interval], 1 / 2 devices",
        ],
        rows,
    )


@renderer("quick_seeds_settings")
def _quick_seeds_settings(S):
    parts = []
    for name in EXPERIMENT_NAMES:
        c = _summary(S, name, DEVICES[-1])["config"]
        tau = c.get("tau_learning_rate")
        text = f"`{name}` {c['epochs']} epochs, learning rate {setting(c['learning_rate'])}"
        text += "" if tau is None else f", time constants {setting(tau)}"
        parts.append(text)
    return "Quick-scale settings of the committed runs: " + "; ".join(parts) + "."


def _paper_seeds(S, name: str) -> dict:
    return S.json(f"{PAPER_SEEDS_DIR}/{name}_seeds.json")


@renderer("quick_seeds_runtime")
def _quick_seeds_runtime(S):
    quick = {d: sum(sum(_summary(S, n, d)["runtime_s"]) for n in EXPERIMENT_NAMES) for d in DEVICES}
    return (
        "The quick-scale runs over seeds 0-2 took "
        + " and ".join(f"{secs(quick[d])} on {d} device{'s' if d > 1 else ''}" for d in DEVICES)
        + " (sum of the `run` times; on a 2-core CPU shared with other jobs)."
    )


@renderer("paper_seeds_table")
def _paper_seeds_table(S):
    rows = []
    for name in EXPERIMENT_NAMES:
        summ = _paper_seeds(S, name)
        seeds = summ["seeds"]
        for c in summ["summary"]["claims"]:
            per_seed = " / ".join(_value(v) for v in c["values"])
            rows.append(
                [
                    f"`{name}`",
                    c["statement"],
                    f"{c['unit']} {c['comparison']} {c['threshold']:g}",
                    f"**{c['holds']}/{c['n']}**",
                    per_seed,
                    _value(c["min_margin"]),
                    _interval(c["interval"]),
                ]
            )
    return table(
        [
            "experiment",
            "claim",
            "decided on",
            "seeds where it holds",
            f"value per seed ({', '.join(str(s) for s in seeds)})",
            "smallest margin",
            "mean [95 % interval]",
        ],
        rows,
    )


# measures reported beside the claims (the per-start epochs of fig3 are in its own
# section; its Welch p in the E3 table)
_SKIP_MEASURES = ("a_epochs_", "welch_p_")


@renderer("paper_seeds_measures")
def _paper_seeds_measures(S):
    from ._format import pval

    rows = []
    seeds = None
    for name in EXPERIMENT_NAMES:
        summ = _paper_seeds(S, name)
        seeds = summ["seeds"]
        keys = [k for k in summ["per_seed"][0]["measures"] if not k.startswith(_SKIP_MEASURES)]
        for k in keys:
            vals = [p["measures"][k] for p in summ["per_seed"]]
            rows.append(
                [
                    f"`{name}`",
                    f"`{k}`",
                    " / ".join(_value(v) for v in vals),
                    _value(sum(vals) / len(vals) if all(v is not None for v in vals) else None),
                ]
            )
        if name == "fig3":
            for t in range(2):
                vals = [p["measures"][f"welch_p_{t}"] for p in summ["per_seed"]]
                rows.append([f"`{name}`", f"`welch_p_{t}`", " / ".join(pval(v) for v in vals), ""])
    assert seeds is not None
    return table(
        ["experiment", "measure", f"per seed ({', '.join(str(s) for s in seeds)})", "mean"],
        rows,
    )


@renderer("paper_seeds_runtime")
def _paper_seeds_runtime(S):
    per = {n: _paper_seeds(S, n)["runtime_s"] for n in EXPERIMENT_NAMES}
    total = sum(sum(v) for v in per.values())
    devices = {_paper_seeds(S, n)["devices"] for n in EXPERIMENT_NAMES}
    return (
        f"The seven experiments over seeds 0-4 at paper scale took {secs(total)} "
        f"({total / 60:.0f} min) in their `run` calls ("
        + ", ".join(f"`{n}` {secs(sum(v))}" for n, v in per.items())
        + f"), on {' / '.join(str(d) for d in sorted(devices))} CPU devices of a 2-core machine."
    )


@renderer("e3_welch_seeds")
def _e3_welch_seeds(S):
    from ._format import pval, target
    from ._teacher import PAPER_FIG3_P

    paper = S.paper("fig3")
    targets = [c["target"] for c in paper["comparison"]]
    rows = [
        [
            f"paper scale (`{PAPER_DIR}/fig3.json`)",
            str(paper["seed"]),
            str(paper["config"]["repetitions"]),
            *[pval(c["welch_p"]) for c in paper["comparison"]],
        ]
    ]
    ps = _paper_seeds(S, "fig3")
    for k, s in enumerate(ps["seeds"]):
        rows.append(
            [
                f"paper scale (`{PAPER_SEEDS_DIR}`)",
                str(s),
                str(ps["config"]["repetitions"]),
                *[pval(ps["per_seed"][k]["measures"][f"welch_p_{t}"]) for t in range(len(targets))],
            ]
        )
    sums = {d: _summary(S, "fig3", d) for d in DEVICES}
    reps = sums[DEVICES[0]]["config"]["repetitions"]
    for k, s in enumerate(sums[DEVICES[0]]["seeds"]):
        cells = []
        for t in range(len(targets)):
            ps = [sums[d]["per_seed"][k]["measures"][f"welch_p_{t}"] for d in DEVICES]
            cells.append(" / ".join(pval(p) for p in ps))
        rows.append([f"quick scale, 1 / 2 devices (`{QUICK_DIR}`)", str(s), str(reps), *cells])
    rows.append(
        ["paper (reported)", "", "20", *[PAPER_FIG3_P.get(tuple(t), "n/a") for t in targets]]
    )
    return table(
        [
            "run",
            "seed",
            "repetitions per model",
            *[f"Welch p, target {target(t)}" for t in targets],
        ],
        rows,
    )


@renderer("paper_seeds_facts")
def _paper_seeds_facts(S):
    import math

    from adaptive_rnn.paper.fig3_rates import PAPER_P, across

    from ._format import pair, pval, target
    from ._teacher import PAPER_FIG3_P

    summ = _paper_seeds(S, "fig3")
    tol = next(c["threshold"] for c in summ["summary"]["claims"] if c["name"] == "a_converge")
    misses = []
    for s in summ["seeds"]:
        run = S.json(f"{PAPER_SEEDS_DIR}/fig3_seed{s}.json")
        for L in run["learning"]:
            for r in L["runs"]:
                d = math.dist(r["final"], L["target"])
                if d >= tol:
                    misses.append(
                        f"seed {s}: start {pair(r['init'])} for target {target(L['target'])}, "
                        f"{sig(d, 3)} away"
                        + (
                            " (across the exchange diagonal)"
                            if across(r["init"], L["target"])
                            else ""
                        )
                    )
    a = next(c for c in summ["summary"]["claims"] if c["name"] == "a_converge")
    lines = [
        f"- Fig. 3A: every start ends within {tol:g} of its target for {a['holds']} of "
        f"{a['n']} seeds; the runs that end farther: "
        + ("; ".join(misses) if misses else "none")
        + "."
    ]
    first = S.json(f"{PAPER_SEEDS_DIR}/fig3_seed{summ['seeds'][0]}.json")
    for t, comp in enumerate(first["comparison"]):
        tgt = tuple(comp["target"])
        bound = PAPER_P.get(tgt)
        ps = [p["measures"][f"welch_p_{t}"] for p in summ["per_seed"]]
        reached = sum(1 for p in ps if bound is not None and p is not None and p < bound)
        lines.append(
            f"- Fig. 3B, target {target(tgt)}: the paper reports p {PAPER_FIG3_P[tgt]}; ours "
            f"reaches it for {reached} of {len(ps)} seeds (Welch p from {pval(min(ps))} to "
            f"{pval(max(ps))})."
        )
    h = _paper_seeds(S, "hierarchy")
    fr = [p["measures"]["fraction_fast->slow"] for p in h["per_seed"]]
    lines.append(
        f"- E8 fast->slow (the paper's protocol): the fraction of runs with the predicted "
        f"sign is above one half for {sum(1 for f in fr if f > 0.5)} of {len(fr)} seeds "
        f"(mean {sig(sum(fr) / len(fr), 3)}); the control (slow->fast) holds for every seed."
    )
    return "\n".join(lines)
