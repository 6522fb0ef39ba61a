"""Reproductions of Quax, D'Asaro & van Gerven (2020), one module per experiment
(E2-E8 in REPRODUCTION.md).

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
)
from . import (
    fig3 as fig3,
)
from . import (
    hierarchy as hierarchy,
)
from . import (
    local as local,
)
from . import (
    memory as memory,
)
from . import (
    relu as relu,
)
from . import (
    size as size,
)
from ._common import Stages

EXPERIMENTS = {
    "fig2": fig2,
    "fig3": fig3,
    "size": size,
    "relu": relu,
    "local": local,
    "memory": memory,
    "hierarchy": hierarchy,
}
SCALES = ("tiny", "quick", "paper")


def make_config(name: str, scale: str = "quick", seed: int = 0):
    """The `Config` of experiment `name` at `scale` (`"tiny"`, `"quick"`, `"paper"`) with
    base seed `seed`.

    **Raises:** `InputError` for an unknown name or scale.
    """
    from .._errors import InputError

    if name not in EXPERIMENTS:
        raise InputError(f"name: got {name!r}, expected one of {sorted(EXPERIMENTS)} or 'all'")
    if scale not in SCALES:
        raise InputError(f"scale: got {scale!r}, expected one of {SCALES}")
    return getattr(EXPERIMENTS[name].Config, scale)(seed=int(seed))


def reproduce(
    name: str,
    scale: str = "quick",
    seed: int = 0,
    out_dir: str | os.PathLike = "results",
    progress: bool | None = None,
    *,
    formats=("png", "pdf"),
) -> dict:
    """Runs one experiment (or `"all"`) and writes `DIR/NAME.json`, `DIR/NAME.png` and
    `DIR/NAME.pdf`.

    The JSON holds the experiment's results plus `name`, `scale`, `seed`,
    `runtime_s` (wall time of `run`) and `config`; it is written atomically. For `fig3`,
    the trajectories are drawn over the Fig. 2 maps when `DIR/fig2.json` exists (as
    after `reproduce all`).

    **Arguments:**

    - `name`: an experiment of `EXPERIMENTS`, or `"all"` (in the order of
        `EXPERIMENTS`).
    - `scale`: `"paper"` (the paper's protocol), `"quick"` (reduced seeds and epochs:
        all experiments within minutes on a laptop CPU) or `"tiny"` (seconds; for tests).
    - `seed`: base seed; `out_dir`: the output folder (created).
    - `progress`: `True`: progress bars (on stderr); `False`: silent; `None`: bars when
        stderr is a terminal, else one flushed line per stage on stdout (e.g.
        `fig2: target (0.342, 0.684): 200 students, 50 epochs (stage 2/6)... done in
        41.2 s`), so that a log shows where a long run is.

    **Returns:** the results (for `"all"`: a dict name -> results).

    **Raises:** `InputError` for an unknown name or scale.
    """
    from .._errors import InputError
    from .._io import atomic_write_json

    if name == "all":
        if scale not in SCALES:
            raise InputError(f"scale: got {scale!r}, expected one of {SCALES}")
        return {
            n: reproduce(n, scale, seed, out_dir, progress, formats=formats) for n in EXPERIMENTS
        }
    config = make_config(name, scale, seed)
    module = EXPERIMENTS[name]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = module.run(config, progress=progress)
    runtime = time.perf_counter() - t0
    results = dict(results, name=name, scale=scale, seed=int(seed), runtime_s=runtime)
    writing = Stages(name, None, progress)
    writing.start(f"writing {name}.json" + "".join(f", .{fmt}" for fmt in formats))
    atomic_write_json(out / f"{name}.json", results)
    if name == "fig3" and (out / "fig2.json").exists():
        fig = module.plot(results, json.loads((out / "fig2.json").read_text()))
    else:
        fig = module.plot(results)
    for fmt in formats:
        fig.savefig(out / f"{name}.{fmt}", dpi=120)
    writing.done()
    return results
