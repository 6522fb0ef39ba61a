"""The renderers of the generated regions of the docs (see `tools/make_tables.py`), one
module per group: `_teacher` (E2-E6), `_tasks` (E7, E8), `_summary` (all experiments),
`_seeds` (the quick scale over seeds and devices), `_studies` (the studies beside the
experiments), `_bench` (benchmarks); `_format` writes the numbers, `_sources` reads the result files
and holds the registry. Importing this package registers every renderer in `RENDERERS`.
"""

from . import _bench, _seeds, _studies, _summary, _tasks, _teacher, grasshopper, sweeps  # noqa: F401 - each registers its renderers
from ._format import (
    a3 as a3,
)
from ._format import (
    dist as dist,
)
from ._format import (
    ms as ms,
)
from ._format import (
    pair as pair,
)
from ._format import (
    pct as pct,
)
from ._format import (
    pct_range as pct_range,
)
from ._format import (
    pval as pval,
)
from ._format import (
    ratio as ratio,
)
from ._format import (
    rng as rng,
)
from ._format import (
    run_line as run_line,
)
from ._format import (
    secs as secs,
)
from ._format import (
    setting as setting,
)
from ._format import (
    sig as sig,
)
from ._format import (
    table as table,
)
from ._format import (
    target as target,
)
from ._sources import (
    BENCH as BENCH,
)
from ._sources import (
    PAPER_DIR as PAPER_DIR,
)
from ._sources import (
    RENDERERS as RENDERERS,
)
from ._sources import (
    Sources as Sources,
)
from ._sources import (
    renderer as renderer,
)
