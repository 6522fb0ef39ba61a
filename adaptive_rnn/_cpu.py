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

    **Arguments:**

    - `trim_threshold`: the number of free bytes glibc keeps mapped at the top of the
        heap before returning memory to the system (default 1 GiB, `1 << 30`).

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

    Under `jax.distributed` (several processes), `jax.devices()` lists the devices of
    every process; the list must then hold devices of every process (one program over
    all of them) or only this process's own (`jax.local_devices()`: each process
    computes on its own).

    **Arguments:**

    - `devices`: `None`, a positive number, or a non-empty list of `jax.Device`.
    - `n_items`: when given, the number of items (batch entries, members) to split.
    - `what`: the items, for the error message (e.g. `"a batch"`).

    **Returns:** a list of `jax.Device`.

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
    _check_processes(devices)
    if n_items is not None and n_items % len(devices):
        raise InputError(
            f"devices: {what} of {n_items} does not split evenly over {len(devices)} devices; "
            f"expected a multiple of {len(devices)}"
        )
    return devices


def _check_processes(devices: list) -> None:
    """Refuses a device list that holds some processes' devices but not all (under
    `jax.distributed`): a process without a device in it could not take part."""
    if jax.process_count() == 1:
        return
    have = {d.process_index for d in devices}
    if have == {jax.process_index()} or len(have) == jax.process_count():
        return
    raise InputError(
        f"devices: got devices of processes {sorted(have)} (this is process "
        f"{jax.process_index()} of {jax.process_count()}), expected devices of every process "
        f"(None: all of jax.devices()) or only this process's own (jax.local_devices())"
    )


def split_leading_axis(tree, devices: list, name: str, *, split: bool = True):
    """Places every array of `tree` over `devices` (`NamedSharding` on a one-axis mesh
    called `name`): split along its leading axis, or, with `split=False`, replicated.

    Under `jax.distributed` the devices may belong to several processes. Every process
    must then hold the same full `tree` (the same inputs, the same keys): each builds
    the shards of its own devices from it (`jax.make_array_from_callback`), and the
    result is one global array that no process holds whole.

    **Arguments:**

    - `tree`: a pytree of arrays, each with a leading axis divisible by `len(devices)`
        when split.
    - `devices`: a list of devices (see `resolve_devices`).
    - `name`: the mesh axis name (e.g. `"members"`).
    - `split`: split along the leading axis (`PartitionSpec(name)`) or replicate.

    **Returns:** `tree` with every array placed.
    """
    mesh = jax.sharding.Mesh(np.asarray(devices), (name,))
    spec = jax.sharding.PartitionSpec(name) if split else jax.sharding.PartitionSpec()
    sharding = jax.sharding.NamedSharding(mesh, spec)
    if sharding.is_fully_addressable:
        return jax.device_put(tree, sharding)

    def one(x):
        if not isinstance(x, (jax.Array, np.ndarray, np.generic)):
            return x
        host = np.asarray(x)  # this process's full copy
        return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])

    return jax.tree_util.tree_map(one, tree)


def fetch_global(tree):
    """Copies every array of `tree` to host memory, whole, as NumPy arrays.

    An array sharded over the devices of several processes (under
    `jax.distributed`) is first gathered across processes, so that every process
    receives the full value; `jax.device_get` alone refuses such an array. The gather
    is a collective: every process must call this with the same structure, in the
    same order. Single-process arrays are simply copied.

    **Arguments:**

    - `tree`: a pytree of arrays (JAX arrays, local or global; anything else passes
        through `jax.device_get`).

    **Returns:** `tree` with every array a NumPy array holding its whole value.
    """

    def one(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(x, tiled=True))
        return jax.device_get(x)

    return jax.tree_util.tree_map(one, tree)
