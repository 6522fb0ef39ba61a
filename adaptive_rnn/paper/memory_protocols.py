"""E7's capacities under protocol variants (a study beside `memory`, REPRODUCTION.md).

The paper's memory protocol is unpublished; its Elman capacity (10 steps) is above ours
(5). This study runs `memory` under three variants that could explain the difference:
our protocol (fixed delay, no go cue), a go cue (a second input carrying 1 at the step
before the report), and a go cue with random delays (each sequence's delay drawn from
`delay // 2 ... delay`). For each variant and model it reports the largest delay above
chance with the 0.9 x chance margin and without it (the t-test alone).

Each variant is one `memory.run` (one `fit_ensemble`).
"""

import dataclasses

import numpy as np

from . import _common as C, memory

# name -> (go_cue, random_delays)
VARIANTS = {
    "fixed delay, no cue": (False, False),
    "go cue": (True, False),
    "go cue, random delays": (True, True),
}


@dataclasses.dataclass(frozen=True)
class Config(memory.Config):
    """Configuration of the study: `memory.Config` plus `variants` (names of
    `VARIANTS`); its `go_cue` and `random_delays` are set by each variant."""

    variants: tuple = tuple(VARIANTS)

    QUICK = memory.Config.QUICK
    TINY = memory.Config.TINY


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Runs `memory` under each variant.

    **Returns:** a JSON-serialisable dict: `variants` (per variant: `variant`, `go_cue`,
    `random_delays`, `results` (as `memory.run`, without its `config`),
    `max_delay_above_chance` and `max_delay_above_chance_no_margin` per model) and
    `config`.
    """
    out = []
    base = {f.name: getattr(config, f.name) for f in dataclasses.fields(memory.Config)}
    for name in config.variants:
        cue, rnd = VARIANTS[name]
        cfg = memory.Config(**{**base, "go_cue": cue, "random_delays": rnd})
        res = memory.run(cfg, progress=progress)
        res.pop("config")
        out.append(
            dict(
                variant=name,
                go_cue=cue,
                random_delays=rnd,
                results=res,
                max_delay_above_chance=res["max_delay_above_chance"],
                max_delay_above_chance_no_margin=res["max_delay_above_chance_no_margin"],
            )
        )
    return dict(variants=out, config=C.config_dict(config))


def claims(results: dict) -> dict:
    """Measures only: per variant and model, the largest delay above chance with and
    without the margin (`max_delay_V_M`, `max_delay_no_margin_V_M`; 0 for none)."""
    measures = {}
    for v in results["variants"]:
        for k, d in v["max_delay_above_chance"].items():
            measures[f"max_delay_{v['variant']}_{k}"] = float(d or 0)
        for k, d in v["max_delay_above_chance_no_margin"].items():
            measures[f"max_delay_no_margin_{v['variant']}_{k}"] = float(d or 0)
    return dict(claims=[], measures=measures)


def plot(results: dict):
    """Left: mean best validation loss / chance per delay, per variant (line style) and
    model (colour). Right: the largest delay above chance per variant and model, with
    the margin (filled) and without it (open; 0: none). **Returns:** a `Figure`."""
    fig, axes = C.figure(1, 2, size=(4.8, 3.8))
    colours = {"elman": "tab:gray", "global": "tab:orange", "local": "tab:green"}
    names = {"elman": "Elman", "global": r"ARU, global $\alpha$", "local": r"ARU, local $\alpha$"}
    styles = ["-", "--", ":"]
    ax = axes[0, 0]
    for i, v in enumerate(results["variants"]):
        res = v["results"]
        for kind in res["models"]:
            y = [
                np.nan
                if e["models"][kind]["mean"] is None
                else e["models"][kind]["mean"] / e["chance"]
                for e in res["results"]
            ]
            ax.plot(
                res["delays"],
                y,
                styles[i % 3],
                marker=".",
                color=colours[kind],
                label=f"{names[kind]}, {v['variant']}",
            )
    ax.axhline(1.0, color="black", lw=0.8, label="chance")
    ax.set_xlabel("delay (steps of dt)")
    ax.set_ylabel("best validation loss / chance (mean)")
    ax.legend(fontsize=6)
    ax = axes[0, 1]
    kinds = list(colours)
    for i, v in enumerate(results["variants"]):
        for j, kind in enumerate(kinds):
            x = i + (j - 1) * 0.22
            with_m = v["max_delay_above_chance"].get(kind) or 0
            without = v["max_delay_above_chance_no_margin"].get(kind) or 0
            first = i == 0
            ax.plot(
                [x],
                [with_m],
                "o",
                color=colours[kind],
                label=f"{names[kind]}: with margin" if first else "_nolegend_",
            )
            ax.plot(
                [x],
                [without],
                "o",
                mfc="white",
                color=colours[kind],
                ms=9,
                label=f"{names[kind]}: t-test alone" if first else "_nolegend_",
            )
    ax.set_xticks(range(len(results["variants"])), [v["variant"] for v in results["variants"]])
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlim(-0.6, len(results["variants"]) - 0.4)
    ax.set_xlabel("protocol variant")
    ax.set_ylabel("largest delay above chance (steps of dt)")
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("E7 under protocol variants: memory capacity with and without the margin")
    return fig
