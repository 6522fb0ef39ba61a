"""Timing helpers shared by the benchmark scripts: warm up, block, report medians."""

import json
import os
import platform
import statistics
import time
from pathlib import Path

import jax


def enable_compilation_cache() -> None:
    cache = Path(
        os.environ.get(
            "ADAPTIVE_RNN_BENCH_CACHE", Path.home() / ".cache" / "adaptive_rnn_bench_jax"
        )
    )
    cache.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)


def block(x):
    return jax.tree_util.tree_map(
        lambda v: v.block_until_ready() if hasattr(v, "block_until_ready") else v, x
    )


def time_fn(fn, *args, repeats: int = 7, warmup: int = 2) -> dict:
    """Median wall time (s) of `fn(*args)` over `repeats` runs after `warmup` calls.
    The first warm-up call's time (compile included) is reported as `first_call_s`."""
    t = time.perf_counter()
    block(fn(*args))
    first = time.perf_counter() - t
    for _ in range(warmup - 1):
        block(fn(*args))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        block(fn(*args))
        times.append(time.perf_counter() - t)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "first_call_s": first,
        "repeats": repeats,
    }


def machine() -> dict:
    dev = jax.devices()[0]
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
    }


def write_json(path, obj) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
