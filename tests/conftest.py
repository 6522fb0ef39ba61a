"""Test configuration: float64, the persistent compilation cache,
explicit keys, one `tree_allclose` helper."""

import os
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
# Strict promotion is not global: optax's Adam mixes Python floats and int32 counters.
# tests/test_dtypes.py runs the numerical core under `jax.numpy_dtype_promotion("strict")`.
_CACHE = Path(os.environ.get("ADAPTIVE_RNN_TEST_CACHE", Path.home() / ".cache" / "adaptive_rnn_test_jax"))
_CACHE.mkdir(parents=True, exist_ok=True)
jax.config.update("jax_compilation_cache_dir", str(_CACHE))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


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

    Defaults are for float64; pass looser tolerances for float32 (e.g. 1e-6).
    """
    x_leaves, x_def = jax.tree_util.tree_flatten(eqx.filter(x, eqx.is_array))
    y_leaves, y_def = jax.tree_util.tree_flatten(eqx.filter(y, eqx.is_array))
    if x_def != y_def:
        return False
    return all(
        a.shape == b.shape and bool(jnp.allclose(a, b, rtol=rtol, atol=atol))
        for a, b in zip(x_leaves, y_leaves)
    )
