"""Using all of a CPU: several JAX CPU devices and a memory allocator that keeps pages.

Two things limit these models on a CPU, both measured in `benchmarks/README.md`:

- **One core per program.** The matmuls of one step are small (batch x 100 x 100), so
  XLA runs each on one thread: a training step uses one core however many the machine
  has. JAX can expose the cores as separate CPU devices (`jax_num_cpu_devices`); work
  split across them (the batch with `simulate(..., devices=...)`, the members of an
  ensemble with `fit_ensemble`, the points of a `sweep`) then runs on all cores at once.
- **Page faults.** XLA allocates its large temporary buffers (the states of every step,
  kept for the backward pass) afresh at each call; glibc serves allocations over 128 KiB
  with `mmap` and returns them at `free`, so every call faults in every page again
  (about 12 MB per buffer at batch 64, 500 steps, 100 units). Keeping freed memory in the
  heap for reuse made a CTRNN training step 20-25 % faster.
"""

import ctypes
import ctypes.util
import os
import sys
import warnings

import jax
import numpy as np

from ._errors import InputError

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _backends_initialised() -> bool:
    from jax._src import xla_bridge

    return bool(xla_bridge.backends_are_initialized())


def retain_freed_memory(trim_threshold: int = 1 << 30) -> bool:
    """Makes glibc keep freed memory for reuse instead of returning it to the system.

    Sets `M_MMAP_MAX = 0` (large blocks come from the heap, not from fresh `mmap`s) and
    `M_TRIM_THRESHOLD = trim_threshold` (up to that many free bytes stay mapped). The
    process's resident memory then stays near its peak: do not use it where memory is
    tighter than time.

    **Returns:** `True` if set; `False` where the C library is not glibc (macOS,
    Windows, musl), where it does nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))


def configure_cpu(devices: int | None = None, *, retain_memory: bool = True) -> dict:
    """Sets up JAX to use every core of a CPU. Call it right after `import jax`, before
    any computation.

    **Arguments:**

    - `devices`: the number of JAX CPU devices (default: the cores this process may run
        on). Work is spread over them only where it is split explicitly: `simulate(...,
        devices=jax.devices())` splits a batch, `fit_ensemble` and `sweep` split their
        members and points. A single un-split program still runs on one device.
    - `retain_memory`: keep freed memory for reuse (`retain_freed_memory`); saves the
        page faults of XLA's large temporary buffers at every call.

    **Returns:** a dict: `devices` (the number now configured), `retain_memory` (whether
    the allocator setting took effect).

    **Raises:** `InputError` for a non-positive `devices`; `RuntimeError` if JAX has
    already run a computation with a different number of CPU devices (the number
    cannot change after that).
    """
    n = _cores() if devices is None else devices
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"devices: got {devices!r}, expected a positive number of CPU devices")
    if _backends_initialised():
        current = len(jax.devices("cpu"))
        if current != n:
            raise RuntimeError(
                f"configure_cpu: JAX has already started with {current} CPU device(s); "
                f"expected to set {n} before any JAX computation. Call "
                f"adaptive_rnn.configure_cpu() right after `import jax`."
            )
    else:
        jax.config.update("jax_num_cpu_devices", n)
    kept = retain_freed_memory() if retain_memory else False
    if retain_memory and not kept:
        warnings.warn(
            "configure_cpu: retain_memory has no effect outside glibc (Linux)", stacklevel=2
        )
    return {"devices": n, "retain_memory": kept}


def resolve_devices(devices, n_items: int | None = None, what: str = "") -> list:
    """`devices` as a list of devices: `None` for all of `jax.devices()`, a number n for
    the first n, or a list. With `n_items`, the list must split `n_items` evenly.

    **Raises:** `InputError` naming what was received and what was expected.
    """
    available = jax.devices()
    if devices is None:
        devices = available
    elif isinstance(devices, bool):
        raise InputError(
            f"devices: got {devices!r}, expected a number of devices or a list of devices"
        )
    elif isinstance(devices, int):
        if not 1 <= devices <= len(available):
            raise InputError(
                f"devices: got {devices}, expected 1..{len(available)} (the devices JAX has: "
                f"{len(available)}; on a CPU, adaptive_rnn.configure_cpu() adds more)"
            )
        devices = available[:devices]
    devices = list(devices)
    if not devices or not all(isinstance(d, jax.Device) for d in devices):
        raise InputError(
            f"devices: got {devices!r}, expected a number or a non-empty list of jax devices"
        )
    if n_items is not None and n_items % len(devices):
        raise InputError(
            f"devices: {what} of {n_items} does not split evenly over {len(devices)} devices; "
            f"expected a multiple of {len(devices)}"
        )
    return devices


def split_leading_axis(tree, devices: list, name: str):
    """Places every array of `tree` split along its leading axis over `devices`
    (`NamedSharding` on a one-axis mesh called `name`)."""
    mesh = jax.sharding.Mesh(np.asarray(devices), (name,))
    return jax.device_put(tree, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(name)))


def fetch_global(tree):
    """Copies every array of `tree` to host memory, whole, as NumPy arrays.

    An array sharded over the devices of several processes (under
    `jax.distributed`) is first gathered across processes, so that every process
    receives the full value; `jax.device_get` alone refuses such an array. The gather
    is a collective: every process must call this with the same structure, in the
    same order. Single-process arrays are simply copied.
    """

    def one(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(x, tiled=True))
        return jax.device_get(x)

    return jax.tree_util.tree_map(one, tree)
