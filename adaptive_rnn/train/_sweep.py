"""`sweep`: run a simulation or a whole training at every point of a grid, vmapped,
chunked and sharded across devices; a labelled `xarray.Dataset` as the result."""

import io
import itertools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import CheckpointError, InputError
from .._io import atomic_write_bytes

SHAPE_PARAMETERS = (
    "n_hidden",
    "hidden",
    "activation",
    "time_constants",
    "readout",
    "family",
    "parametrisation",
)


def _is_numeric(values) -> bool:
    return all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        for v in values
    )


def sweep(
    grid: Mapping[str, Sequence],
    run_point: Callable,
    *,
    key,
    static: Sequence[str] | None = None,
    chunk_size: int | None = None,
    devices: Sequence | None = None,
    progress: bool | None = None,
    attrs: Mapping | None = None,
):
    """Runs `run_point` at every point of a grid (the Cartesian product of `grid`).

    Points are grouped by their *static* parameters (those that change shapes or code:
    hidden size, activation, time-constant mode, any non-numeric value); within a group
    the numeric parameters are traced, the points are `vmap`ped, cut into chunks of
    `chunk_size` (to bound memory) and each chunk is sharded along the point axis over
    `devices` (a `jax.sharding.Mesh` with `NamedSharding`). The numbers do not depend on
    the number of devices or the chunk size.

    Multi-host clusters: call `jax.distributed.initialize()` in every process first;
    `jax.devices()` then lists the devices of all hosts and the same call shards the
    points over all of them (see docs/training.md).

    **Arguments:**

    - `grid`: name -> sequence of values, e.g. `{"alpha_s": [...], "alpha_r": [...],
        "seed": [0, 1]}`. The order of the names is the order of the result's dimensions.
    - `run_point`: `run_point(point, key) -> dict[str, array]`, where `point` maps each
        name to its value (static ones as Python values, numeric ones as traced scalars:
        integers as int32, the rest in the default float dtype). It must be pure and
        jittable: it builds a model from the point and simulates or trains it (e.g. with
        `fit_scan`). An output `"success"` (bool) marks failed points (e.g. a diffrax
        solve with `throw=False`); points with non-finite outputs are marked failed too.
        A failing point never stops the sweep.
    - `key`: the base key. A point's key is `fold_in(key, seed)` when the grid has a
        `"seed"` dimension, else `key` itself (common random numbers across the grid).
    - `static`: names of static parameters (default: those of `SHAPE_PARAMETERS` in the
        grid, and every parameter with a non-numeric value).
    - `chunk_size`: at most this many points per compiled call (default: all of a group).
    - `devices`: devices to shard over (default `jax.devices()`).
    - `progress`: progress bar over chunks (default: when stderr is a terminal).
    - `attrs`: metadata stored in the dataset.

    **Returns:** an `xarray.Dataset` with one dimension per grid name (coordinates: the
    values), one variable per output (extra output axes named `<name>_dim<i>`) and a
    boolean `success` variable. Save it with `save_sweep` (netCDF).

    **Raises:** `InputError` for an empty grid or empty value list, or an unknown static
    name.
    """
    import xarray as xr

    if not grid:
        raise InputError("grid: empty; expected at least one parameter with values")
    names = list(grid)
    values = {
        k: list(np.asarray(v).tolist()) if not isinstance(v, (list, tuple)) else list(v)
        for k, v in grid.items()
    }
    for k, v in values.items():
        if len(v) == 0:
            raise InputError(f"grid[{k!r}]: no values; expected a non-empty sequence")
    if static is None:
        static = [k for k in names if k in SHAPE_PARAMETERS or not _is_numeric(values[k])]
    else:
        static = list(static)
        for k in static:
            if k not in grid:
                raise InputError(f"static: {k!r} is not a grid parameter; expected one of {names}")
        static += [k for k in names if k not in static and not _is_numeric(values[k])]
    traced = [k for k in names if k not in static]
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise InputError(f"chunk_size: got {chunk_size!r}, expected a positive integer")
    devices = list(jax.devices() if devices is None else devices)
    mesh = jax.sharding.Mesh(np.asarray(devices), ("points",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("points"))
    n_dev = len(devices)
    fdtype = jnp.result_type(float)

    def col(k):
        v = values[k]
        return np.asarray(
            v, dtype=np.int32 if all(isinstance(x, (int, np.integer)) for x in v) else fdtype
        )

    shape = tuple(len(values[k]) for k in names)
    index_grid = list(itertools.product(*(range(n) for n in shape)))
    results: dict[str, np.ndarray] = {}
    success = np.zeros(shape, dtype=bool)
    groups: dict = {}
    for idx in index_grid:
        skey = tuple(values[k][idx[names.index(k)]] for k in static)
        groups.setdefault(skey, []).append(idx)
    chunks = []
    for skey, idxs in groups.items():
        cs = len(idxs) if chunk_size is None else chunk_size
        for s in range(0, len(idxs), cs):
            chunks.append((skey, idxs[s : s + cs]))
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm

    compiled: dict = {}
    cols = {k: col(k) for k in traced}
    for skey, idxs in tqdm(chunks, disable=not progress, desc="sweep", leave=False):
        if skey not in compiled:
            st = dict(zip(static, skey))

            def one(vals, st=st):
                point = dict(st)
                point.update(vals)
                k = jax.random.fold_in(key, point["seed"]) if "seed" in point else key
                return run_point(point, k)

            compiled[skey] = jax.jit(jax.vmap(one))
        n = len(idxs)
        pad = (-n) % n_dev
        idx_arr = np.asarray(idxs + [idxs[-1]] * pad)
        vals = {k: cols[k][idx_arr[:, names.index(k)]] for k in traced}
        vals = jax.device_put(vals, sharding)
        out = jax.device_get(compiled[skey](vals))
        if not isinstance(out, Mapping):
            raise InputError(f"run_point: returned {type(out).__name__}, expected a dict of arrays")
        clash = sorted(set(out) & set(names))
        if clash:
            raise InputError(
                f"run_point: outputs {clash} have the names of grid parameters; expected other names"
            )
        out = {k: np.asarray(v)[:n] for k, v in out.items()}
        ok = np.ones(n, dtype=bool)
        if "success" in out:
            ok &= out.pop("success").reshape(n, -1).all(axis=1)
        for k, v in out.items():
            if np.issubdtype(v.dtype, np.inexact):
                ok &= np.isfinite(v.reshape(n, -1)).all(axis=1)
            if k not in results:
                fill = np.nan if np.issubdtype(v.dtype, np.inexact) else 0
                results[k] = np.full(shape + v.shape[1:], fill, dtype=v.dtype)
            results[k][tuple(idx_arr[:n].T)] = v
        success[tuple(idx_arr[:n].T)] = ok
    coords = {k: values[k] for k in names}
    data_vars = {}
    for k, v in results.items():
        extra = [f"{k}_dim{i}" for i in range(v.ndim - len(names))]
        data_vars[k] = (names + extra, v)
    data_vars["success"] = (names, success)
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs.update({"static": ",".join(static), "n_devices": n_dev, **(attrs or {})})
    return ds


def save_sweep(ds, path: str | os.PathLike) -> Path:
    """Writes a sweep result as netCDF (scipy backend, no extra dependency), atomically.

    Booleans are stored as int8 with the attribute `dtype="bool"` and restored by
    `load_sweep`.
    """
    ds = ds.copy()
    for k in list(ds.data_vars):
        if ds[k].dtype == bool:
            ds[k] = ds[k].astype(np.int8)
            ds[k].attrs["dtype"] = "bool"
    data = ds.to_netcdf(None, engine="scipy")
    atomic_write_bytes(path, bytes(data))
    return Path(path)


def load_sweep(path: str | os.PathLike):
    """Reads a sweep result written by `save_sweep`.

    **Raises:** `CheckpointError` if the file is missing or not a readable netCDF file.
    """
    import xarray as xr

    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"sweep {p}: not found")
    try:
        ds = xr.load_dataset(io.BytesIO(p.read_bytes()), engine="scipy")
    except Exception as e:
        raise CheckpointError(
            f"sweep {p}: not a readable netCDF file ({type(e).__name__}: {e})"
        ) from e
    for k in list(ds.data_vars):
        if ds[k].attrs.get("dtype") == "bool":
            attrs = {a: v for a, v in ds[k].attrs.items() if a != "dtype"}
            ds[k] = ds[k].astype(bool)
            ds[k].attrs = attrs
    return ds
