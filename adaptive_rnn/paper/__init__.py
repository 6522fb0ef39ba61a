"""Reproductions of Quax, D'Asaro & van Gerven (2020), one module per experiment
(E2-E8 in REPRODUCTION.md), and studies beside them (`STUDIES`).

Each module has a `Config` dataclass (`Config.paper()`, `Config.quick()`,
`Config.tiny()`), `run(config, *, progress=None) -> dict` (JSON-serialisable results)
and `plot(results) -> matplotlib.figure.Figure`. `reproduce` runs one by name and writes
its JSON and figures.
"""

import json
import os
import time
from pathlib import Path

from . import (
    fig2 as fig2,
    fig3 as fig3,
    fig3_rates as fig3_rates,
    hierarchy as hierarchy,
    hierarchy_protocols as hierarchy_protocols,
    local as local,
    memory as memory,
    memory_protocols as memory_protocols,
    relu as relu,
    size as size,
)
from ._common import Stages, summarise_seeds

EXPERIMENTS = {
    "fig2": fig2,
    "fig3": fig3,
    "size": size,
    "relu": relu,
    "local": local,
    "memory": memory,
    "hierarchy": hierarchy,
}
# Studies beside the paper's experiments: run by name, not by "all".
STUDIES = {
    "fig3_rates": fig3_rates,
    "hierarchy_protocols": hierarchy_protocols,
    "memory_protocols": memory_protocols,
}
SCALES = ("tiny", "quick", "paper")


def make_config(name: str, scale: str = "quick", seed: int = 0):
    """The `Config` of experiment `name` at `scale` with base seed `seed`.

    **Arguments:**

    - `name`: an experiment of `EXPERIMENTS` or a study of `STUDIES` (not `"all"`).
    - `scale`: `"paper"` (the paper's protocol, `Config.paper()`), `"quick"` (reduced
        seeds and epochs, `Config.quick()`) or `"tiny"` (seconds, for tests,
        `Config.tiny()`).
    - `seed`: the base seed from which the run derives all its random keys (an integer).

    **Returns:** the experiment module's `Config` dataclass.

    **Raises:** `InputError` for an unknown name or scale.
    """
    from .._errors import InputError

    modules = {**EXPERIMENTS, **STUDIES}
    if name not in modules:
        raise InputError(f"name: got {name!r}, expected one of {sorted(modules)} or 'all'")
    if scale not in SCALES:
        raise InputError(f"scale: got {scale!r}, expected one of {SCALES}")
    return getattr(modules[name].Config, scale)(seed=int(seed))


def _devices() -> int:
    import jax

    return len(jax.devices())


def _write_figure(module, name, results, out: Path, stem: str, fig2_stem: str, formats):
    if name in ("fig3", "fig3_rates") and (out / f"{fig2_stem}.json").exists():
        fig = module.plot(results, json.loads((out / f"{fig2_stem}.json").read_text()))
    else:
        fig = module.plot(results)
    for fmt in formats:
        fig.savefig(out / f"{stem}.{fmt}", dpi=120)


def reproduce(
    name: str,
    scale: str = "quick",
    seed: int = 0,
    out_dir: str | os.PathLike = "results",
    progress: bool | None = None,
    *,
    seeds: int | None = None,
    formats=("png", "pdf"),
) -> dict:
    """Runs one experiment (or `"all"`) and writes `DIR/NAME.json`, `DIR/NAME.png` and
    `DIR/NAME.pdf`; with `seeds`, one run per seed and a summary across them.

    The JSON holds the experiment's results plus `name`, `scale`, `seed`,
    `runtime_s` (wall time of `run`), `devices` (the number of JAX devices the process
    had), `claims` (the experiment's claims tested on this run, and its measures: the
    module's `claims(results)`) and `config`; it is written atomically. For `fig3`,
    the trajectories are drawn over the Fig. 2 maps of the same seed when they exist in
    `DIR` (as after `reproduce all`).

    With `seeds=N`, the seeds `seed, seed + 1, ..., seed + N - 1` each draw their own
    teachers and students and write `DIR/NAME_seedS.json` (and figures) as above; then
    `DIR/NAME_seeds.json` holds `name`, `scale`, `seeds`, `devices`, `runtime_s` (per
    seed), `per_seed` (each seed's `claims` and `measures`) and `summary`
    (`_common.summarise_seeds`: per claim the number of seeds where it holds, its
    smallest margin and the mean with a 95 % interval of its value; per measure the
    values and their interval).

    **Arguments:**

    - `name`: an experiment of `EXPERIMENTS` or a study of `STUDIES`, or `"all"` (the
        experiments, in the order of `EXPERIMENTS`).
    - `scale`: `"paper"` (the paper's protocol), `"quick"` (reduced seeds and epochs:
        all experiments within minutes on a laptop CPU) or `"tiny"` (seconds; for tests).
    - `seed`: base seed; `out_dir`: the output folder (created).
    - `progress`: `True`: progress bars (on stderr); `False`: silent; `None`: bars when
        stderr is a terminal, else one flushed line per stage on stdout (e.g.
        `fig2: target (0.342, 0.684): 200 students, 50 epochs (stage 2/6)... done in
        41.2 s`), so that a log shows where a long run is.
    - `seeds`: `None` (one run, `DIR/NAME.json`) or the number of seeds (>= 1).
    - `formats`: the figure formats written.

    **Returns:** the results (with `seeds`: the summary dict; for `"all"`: a dict
    name -> results).

    **Raises:** `InputError` for an unknown name or scale, or `seeds` not a positive
    integer.
    """
    from .._checks import check_int
    from .._errors import InputError
    from .._io import atomic_write_json

    if seeds is not None:
        seeds = check_int("seeds", seeds, low=1)
    if name == "all":
        if scale not in SCALES:
            raise InputError(f"scale: got {scale!r}, expected one of {SCALES}")
        return {
            n: reproduce(n, scale, seed, out_dir, progress, seeds=seeds, formats=formats)
            for n in EXPERIMENTS
        }
    make_config(name, scale, seed)  # checks name and scale before any work
    module = {**EXPERIMENTS, **STUDIES}[name]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    per_seed, runtimes = [], []
    for s in [int(seed)] if seeds is None else range(int(seed), int(seed) + seeds):
        config = make_config(name, scale, s)
        stem = name if seeds is None else f"{name}_seed{s}"
        t0 = time.perf_counter()
        results = module.run(config, progress=progress)
        runtime = time.perf_counter() - t0
        tested = module.claims(results)
        results = dict(
            results,
            name=name,
            scale=scale,
            seed=s,
            runtime_s=runtime,
            devices=_devices(),
            claims=tested,
        )
        writing = Stages(name, None, progress)
        writing.start(f"writing {stem}.json" + "".join(f", .{fmt}" for fmt in formats))
        atomic_write_json(out / f"{stem}.json", results)
        fig2_stem = "fig2" if seeds is None else f"fig2_seed{s}"
        _write_figure(module, name, results, out, stem, fig2_stem, formats)
        writing.done()
        if seeds is None:
            return results
        per_seed.append(dict(seed=s, **tested))
        runtimes.append(runtime)
    summary = dict(
        name=name,
        scale=scale,
        seeds=[p["seed"] for p in per_seed],
        devices=_devices(),
        runtime_s=runtimes,
        per_seed=per_seed,
        summary=summarise_seeds(per_seed),
        config=_config_dict(name, scale, seed),
    )
    atomic_write_json(out / f"{name}_seeds.json", summary)
    return summary


def _config_dict(name: str, scale: str, seed: int) -> dict:
    from ._common import config_dict

    return config_dict(make_config(name, scale, seed))
