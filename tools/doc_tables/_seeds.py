"""Renderers of the seed studies: the quick scale's claims over seeds 0-2 on 1 and 2 CPU
devices (`results/quick_seeds/devicesN/NAME_seeds.json`, written by
`adaptive-rnn --cpu-devices N reproduce NAME --scale quick --seeds 3`), and the time
estimate of `reproduce all --scale paper --seeds 5`."""

from __future__ import annotations

from ._format import secs, setting, sig, table
from ._sources import PAPER_DIR, renderer

QUICK_DIR = "results/quick_seeds"
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


@renderer("quick_seeds_runtime")
def _quick_seeds_runtime(S):
    quick = {d: sum(sum(_summary(S, n, d)["runtime_s"]) for n in EXPERIMENT_NAMES) for d in DEVICES}
    paper = sum(S.paper(n)["runtime_s"] for n in EXPERIMENT_NAMES)
    return (
        "The quick-scale runs over seeds 0-2 took "
        + " and ".join(f"{secs(quick[d])} on {d} device{'s' if d > 1 else ''}" for d in DEVICES)
        + " (sum of the `run` times; on a 2-core CPU shared with other jobs). The seven "
        f"paper-scale `run` calls of `{PAPER_DIR}` took {secs(paper)} for seed 0; five seeds "
        f"would take about {secs(5 * paper)} ({5 * paper / 60:.0f} min) on the same idle "
        "machine, each seed costing what seed 0 did (every seed runs the same program)."
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
