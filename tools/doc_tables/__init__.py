"""The renderers of the generated regions of the docs (see `tools/make_tables.py`), one
module per group: `_teacher` (E2-E6), `_tasks` (E7, E8), `_summary` (all experiments),
`_seeds` (the quick scale over seeds and devices), `_studies` (the studies beside the
experiments), `_bench` (benchmarks); `_format` writes the numbers, `_sources` reads the result files
and holds the registry. Importing this package registers every renderer in `RENDERERS`.
"""

from . import (  # noqa: F401 - each registers its renderers
    _bench,
    _seeds,
    _studies,
    _summary,
    _tasks,
    _teacher,
    grasshopper,
    recordings,
    sweeps,
)
from ._format import (
    a3 as a3,
    dist as dist,
    ms as ms,
    pair as pair,
    pct as pct,
    pct_range as pct_range,
    pval as pval,
    ratio as ratio,
    rng as rng,
    run_line as run_line,
    secs as secs,
    setting as setting,
    sig as sig,
    table as table,
    target as target,
)
from ._sources import (
    BENCH as BENCH,
    PAPER_DIR as PAPER_DIR,
    RENDERERS as RENDERERS,
    Sources as Sources,
    renderer as renderer,
)
