"""Renderers of the scale figures of `docs/sweeps.md`, from `results/sweep_scale.json`
(written by `benchmarks/bench_sweep_scale.py`)."""

from __future__ import annotations

from ._format import sig, table
from ._sources import renderer

SCALE = "results/sweep_scale.json"


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def _duration(s: float) -> str:
    if s < 120:
        return f"{sig(s, 2)} s"
    if s < 7200:
        return f"{sig(s / 60, 2)} min"
    if s < 2 * 86400:
        return f"{sig(s / 3600, 2)} h"
    return f"{sig(s / 86400, 2)} days"


@renderer("sweep_scale")
def _scale(S) -> str:
    d = S.json(SCALE)
    rows = []
    for key, what in (
        ("simulate", lambda r: f"simulate, 10 units, {r['n_steps']} steps"),
        ("train", lambda r: f"train, paper-sized, {r['epochs']} epochs"),
    ):
        r = d[key]
        rows.append(
            [
                what(r),
                f"{r['models']:,}",
                _duration(r["wall_s"]),
                sig(r["models_per_s"], 3),
                sig(r["models"] / r["cpu_s"], 3),
                _mib(r["peak_rss_bytes"]),
                f"{r['load_before'][0]:g}",
            ]
        )
    m = d["machine"]
    n_train = d["train"]["models"]
    smaller = (
        f" The training sweep ran {n_train:,} models, fewer than the 10,000 of the full "
        f"benchmark (the machine was shared with other jobs); `python "
        f"benchmarks/bench_sweep_scale.py` runs the full size."
        if n_train < 10_000
        else ""
    )
    return (
        table(
            [
                "sweep",
                "models",
                "wall time",
                "models/s",
                "models per CPU-second",
                "peak RSS",
                "load (1 min) at start",
            ],
            rows,
        )
        + f"\n\nMeasured {d['date']} on a {m['cpu_count']}-core {m['processor']} machine "
        f"({d['train']['devices']} JAX CPU devices), through `run_config` with chunks and "
        f"parts written to a folder; every peak resident memory "
        f"{'under' if d['under_memory_limit'] else 'NOT under'} {_mib(d['memory_limit_bytes'])}."
        + smaller
    )


@renderer("sweep_projection")
def _projection(S) -> str:
    d = S.json(SCALE)
    p = d["projection_1e6_training"]
    c, g = p["cpu_hosts"], p["gpu_host"]
    return (
        f"A training sweep of {p['models']:,} such models would take about "
        f"**{_duration(c['wall_s'])}** on {c['hosts']} hosts like the one measured "
        f"({c['models_per_host']:,.0f} models each; assumed: {c['assumptions']}), and at "
        f"least **{_duration(g['wall_s'])}** on one GPU host (bandwidth bound "
        f"{_duration(g['bandwidth_bound_s'])}, latency bound {_duration(g['latency_bound_s'])}; "
        f"{g['assumptions']})."
    )
