"""Test configuration: float64, the persistent compilation cache, parallel workers,
explicit keys, one `tree_allclose` helper.

**Comparing numbers.** XLA promises the same bits only for the same program on the same
device: change the device count, the thread count, the batch width of a `vmap`, the
program around a computation (e.g. `shard_map`, chunking, another jit) or the machine,
and float results may differ in the last place. So:

- across any of those, compare with `np.testing.assert_allclose` (or `tree_allclose`)
  and a stated tolerance: `rtol=1e-12` (or tighter where the error is one rounding of a
  short computation) in float64, `1e-6` in float32, each with a comment saying why;
- exact equality only where the same program runs twice on the same device in one
  process (same key, same numbers; a model saved and loaded bit for bit; an untouched
  parameter), or for integers, booleans and values that are exact by construction.

**Compilation cache.** Every worker (pytest-xdist) and every subprocess a test starts
(through the environment) shares JAX's persistent compilation cache in `.jax_cache/` at
the repository root (or `$ADAPTIVE_RNN_TEST_CACHE`), with no minimum compile time or
size, so a program compiled once (by any worker, or by an earlier run) is loaded, not
compiled again. Entries are named by a hash of the program and the compile options
(device count included), so they are never wrong for another program. JAX writes
entries without a lock: a worker that reads an entry another is still writing fails to
decode it, warns and compiles for itself.
"""

import os
from pathlib import Path

_CACHE = Path(
    os.environ.get("ADAPTIVE_RNN_TEST_CACHE", Path(__file__).resolve().parent.parent / ".jax_cache")
)
_CACHE.mkdir(parents=True, exist_ok=True)
# Through the environment, so that subprocesses (forced host devices, the notebook kernel)
# use the same cache; set before JAX reads its configuration.
os.environ["JAX_COMPILATION_CACHE_DIR"] = str(_CACHE)
os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"

# Compile quickly, run a little slower: on a cold cache (CI) most of the suite's time is
# XLA compiling small programs, not running them. With JAX's "disable most
# optimizations" (LLVM at -O0, without its expensive passes; XLA's own HLO passes,
# fusion included, still run) a test's program compiles in about 60 % of the time and
# runs up to ~2x slower, which a test whose run time dominates undoes: those carry
# `@pytest.mark.optimized` (fully optimised; the fixture below). Numbers may differ from
# the optimised program's in the last place, which every comparison across programs
# tolerates (the rules above). Through the environment, so that subprocesses inherit it;
# `JAX_DISABLE_MOST_OPTIMIZATIONS=0` runs the whole suite fully optimised.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
# Strict promotion is not global: optax's Adam mixes Python floats and int32 counters.
# tests/test_dtypes.py runs the numerical core under `jax.numpy_dtype_promotion("strict")`.
jax.config.update("jax_compilation_cache_dir", str(_CACHE))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# At most this many xdist workers for `-n auto` (addopts): each holds 1-4 GB and the
# suite's longest modules bound the gain beyond it. PYTEST_XDIST_AUTO_NUM_WORKERS overrides.
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):
    env = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if env:
        return int(env)
    return max(
        1,
        min(
            MAX_WORKERS,
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1,
        ),
    )


@pytest.fixture
def getkey():
    """Hands out fresh, deterministic keys: `getkey()` each time."""
    state = {"key": jax.random.key(np.random.default_rng(1234).integers(2**31))}

    def _getkey():
        state["key"], sub = jax.random.split(state["key"])
        return sub

    return _getkey


def tree_allclose(x, y, *, rtol=1e-12, atol=1e-12) -> bool:
    """True if two pytrees have the same structure and all array leaves are close.

    Defaults are for float64 results of different programs (e.g. an ensemble against
    separate fits): 1e-12. Pass `rtol=0, atol=0` for the same program run twice (bit for
    bit), looser tolerances for float32 (e.g. 1e-6).
    """
    x_leaves, x_def = jax.tree_util.tree_flatten(eqx.filter(x, eqx.is_array))
    y_leaves, y_def = jax.tree_util.tree_flatten(eqx.filter(y, eqx.is_array))
    if x_def != y_def:
        return False
    return all(
        a.shape == b.shape and bool(jnp.allclose(a, b, rtol=rtol, atol=atol))
        for a, b in zip(x_leaves, y_leaves)
    )


@pytest.fixture
def compiles():
    """Counts JAX tracing and compiling events while a test runs."""
    events = []

    def listener(event, duration, **kwargs):
        if event.startswith("/jax/core/compile/"):
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield events
    jax.monitoring.unregister_event_duration_listener(listener)


@pytest.fixture(autouse=True)
def _optimised_where_marked(request):
    """Compiles a test marked `optimized` with every optimisation (see the top)."""
    if request.node.get_closest_marker("optimized") is None:
        yield
        return
    before = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", False)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", before)
