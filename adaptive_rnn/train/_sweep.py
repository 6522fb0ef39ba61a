"""`sweep`: run a simulation or a whole training at every point of a grid, vmapped,
chunked and sharded across devices; a labelled `xarray.Dataset` as the result.

One room (over 400 lines): grouping points by static parameters, cutting the groups into
shards and chunks, running and resuming chunks, and labelling the result are the steps of
one loop that share its plan; the files a sweep writes (parts, chunks, locks, merging)
live in `_sweep_store`.
"""

import io
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._cpu import fetch_global
from .._errors import CheckpointError, InputError
from .._io import FORMAT_VERSION, atomic_write_bytes, canonical_json, check_writable_dir
from . import _sweep_store as store

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


def check_shard(shard, n_points: int | None = None) -> tuple[int, int] | None:
    """`shard` as `(i, n)` (or `None`), checked: integers, `n >= 1`, `0 <= i < n`, and
    at most `n_points` shards.

    **Raises:** `InputError` naming what was received and what was expected.
    """
    if shard is None:
        return None
    ok = (
        isinstance(shard, (tuple, list))
        and len(shard) == 2
        and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in shard)
    )
    if ok:
        i, n = int(shard[0]), int(shard[1])
        ok = n >= 1 and 0 <= i < n
    if not ok:
        raise InputError(
            f"shard: got {shard!r}, expected a pair (i, n) of integers with n >= 1 and "
            f"0 <= i < n (shard i of n)"
        )
    i, n = int(shard[0]), int(shard[1])
    if n_points is not None and n > n_points:
        raise InputError(
            f"shard: got ({i}, {n}), but the grid has {n_points} points; expected at most "
            f"{n_points} shards"
        )
    return i, n


def _key_data(key) -> list:
    try:
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
            key = jax.random.key_data(key)
        return np.asarray(jax.device_get(key)).tolist()
    except AttributeError:
        raise InputError(
            f"key: got {type(key).__name__}, expected a JAX random key (jax.random.key(seed))"
        ) from None


class _Plan:
    """The points of a grid in a fixed order: grouped by their static values (groups in
    the order of their first point), in grid order within a group; a shard is a
    contiguous slice of that order, cut into chunks of at most `chunk_size` points of one
    group. Nothing here depends on the devices."""

    def __init__(self, names, values, static, chunk_size, shard):
        self.names, self.values, self.static = names, values, static
        self.shape = tuple(len(values[k]) for k in names)
        n_points = int(np.prod(self.shape))
        self.index = np.indices(self.shape).reshape(len(names), -1)
        axes = [names.index(k) for k in static]
        if axes:
            gid = np.ravel_multi_index(
                tuple(self.index[a] for a in axes), tuple(self.shape[a] for a in axes)
            )
        else:
            gid = np.zeros(n_points, np.int64)
        uniq, first = np.unique(gid, return_index=True)
        rank = np.empty(int(uniq.max()) + 1, np.int64)
        rank[uniq[np.argsort(first)]] = np.arange(len(uniq))
        order = np.argsort(rank[gid], kind="stable")
        i, n = check_shard(shard, n_points) or (0, 1)
        mine = order[i * n_points // n : (i + 1) * n_points // n]
        g = gid[mine]
        cuts = np.flatnonzero(g[1:] != g[:-1]) + 1
        self.chunks: list[np.ndarray] = []
        for run in np.split(mine, cuts):
            cs = len(run) if chunk_size is None else chunk_size
            self.chunks += [run[s : s + cs].astype(np.int64) for s in range(0, len(run), cs)]

    def static_key(self, flat: np.ndarray) -> tuple:
        return tuple(
            self.values[k][int(self.index[self.names.index(k), flat[0]])] for k in self.static
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
    shard: tuple[int, int] | None = None,
    directory: str | os.PathLike | None = None,
    resume: bool = False,
    fingerprint=None,
):
    """Runs `run_point` at every point of a grid (the Cartesian product of `grid`).

    Points are grouped by their *static* parameters (those that change shapes or code:
    hidden size, activation, time-constant mode, any non-numeric value); within a group
    the numeric parameters are traced, the points are `vmap`ped, cut into chunks of
    `chunk_size` (to bound memory) and each chunk is sharded along the point axis over
    `devices` (a `jax.sharding.Mesh` with `NamedSharding`). The numbers do not depend on
    the number of devices, the chunk size or the shard (up to float rounding: a chunk of
    another width compiles a program of another width).

    **Job arrays** (processes that never talk): `shard=(i, n)` runs only shard `i` of `n`,
    a fixed slice of the points; with `directory`, each shard writes its part there and
    `merge_sweep(directory)` assembles the parts into the result of the whole grid. See
    docs/sweeps.md.

    **Multi-process** (`jax.distributed`): call `jax.distributed.initialize()` in every
    process first; `jax.devices()` then lists the devices of all processes, the points
    are sharded over all of them and every process receives the full result. Only
    process 0 writes files (`directory`); with `resume`, every process reads the
    folder, which must therefore be shared (see docs/sweeps.md).

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
        `"seed"` dimension, else `key` itself (common random numbers across the grid): it
        depends on the point's coordinates only, never on the shard, chunk or device.
    - `static`: names of static parameters (default: those of `SHAPE_PARAMETERS` in the
        grid, and every parameter with a non-numeric value).
    - `chunk_size`: at most this many points per compiled call (default: all of a group).
    - `devices`: devices to shard over (default `jax.devices()`).
    - `progress`: progress bar over chunks (default: when stderr is a terminal).
    - `attrs`: metadata stored in the dataset.
    - `shard`: `(i, n)`: run shard `i` of `n` only (default: the whole grid, which is
        shard `(0, 1)`).
    - `directory`: a folder where each finished chunk is written (sealed, atomically),
        then the shard's part `part-0000i-of-0000n` (the chunks are then removed). A
        lock file keeps a second process from writing the same shard there.
    - `resume`: read back the chunks (or the part) already in `directory` instead of
        computing them again; they must come from the same configuration.
    - `fingerprint`: a JSON-serialisable description of what `run_point` computes (e.g.
        the configuration it was built from). It enters the configuration hash recorded
        in every chunk and part, together with the grid, `static`, `chunk_size`, the
        key, the float dtype, `attrs` and `n`: `resume` and `merge_sweep` refuse files of
        another configuration. `run_point` itself cannot be hashed; without a
        fingerprint, a changed `run_point` goes unnoticed.

    **Returns:** without `shard`, an `xarray.Dataset` with one dimension per grid name
    (coordinates: the values), one variable per output (extra output axes named
    `<name>_dim<i>`) and a boolean `success` variable. With `shard`, the same variables
    along one dimension `point` (the shard's points), with the grid coordinates and
    `point_index` (the point's flat index in the grid) as coordinates along it. Attrs:
    `static`, `n_devices`, `config_hash`, `chunks_computed`, `chunks_skipped` (read
    back by `resume`), the shard's `shard_index`, `n_shards`, and with `directory`
    `part` (the path of the part's JSON). Save it with
    `save_sweep` (netCDF).

    **Raises:** `InputError` for an empty grid or empty value list, an unknown static
    name, a bad `shard` (or more shards than points), a folder holding files of another
    configuration (or of this shard without `resume`), or a shard another process is
    writing; `CheckpointError` for a corrupt chunk file met by `resume`.
    """
    import xarray as xr  # noqa: F401  (fail early if missing)

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
    sharded = shard is not None
    shard_i, n_shards = check_shard(shard) or (0, 1)
    if not isinstance(resume, bool):
        raise InputError(f"resume: got {resume!r}, expected True or False")
    if resume and directory is None:
        raise InputError("resume: True without a directory; expected directory= the sweep folder")
    plan = _Plan(names, values, static, chunk_size, (shard_i, n_shards))
    devices = list(jax.devices() if devices is None else devices)
    mesh = jax.sharding.Mesh(np.asarray(devices), ("points",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("points"))
    n_dev = len(devices)
    fdtype = jnp.result_type(float)
    user_attrs = dict(attrs or {})
    spec = {
        "names": names,
        "grid": [values[k] for k in names],
        "static": static,
        "chunk_size": chunk_size,
        "key": _key_data(key),
        "dtype": str(np.dtype(fdtype)),
        "n_shards": n_shards,
        "fingerprint": fingerprint,
        "attrs": user_attrs,
    }
    chash = store.config_hash(spec)
    meta = {
        "config_hash": chash,
        "shard_index": shard_i,
        "n_shards": n_shards,
        "names": names,
        "grid": store.jsonable([values[k] for k in names]),
        "static": static,
        "attrs": store.jsonable(user_attrs),
        "fingerprint": store.jsonable(fingerprint),
    }

    def col(k):
        v = values[k]
        return np.asarray(
            v, dtype=np.int32 if all(isinstance(x, (int, np.integer)) for x in v) else fdtype
        )

    cols = {k: col(k) for k in traced}
    compiled: dict = {}

    def compute(flat: np.ndarray) -> dict[str, np.ndarray]:
        skey = plan.static_key(flat)
        if skey not in compiled:
            st = dict(zip(static, skey))

            def one(vals, st=st):
                vals = dict(vals)
                vals.pop("__point__")
                point = dict(st)
                point.update(vals)
                k = jax.random.fold_in(key, point["seed"]) if "seed" in point else key
                return run_point(point, k)

            compiled[skey] = jax.jit(jax.vmap(one))
        n = len(flat)
        idx_arr = np.concatenate([flat, np.repeat(flat[-1:], (-n) % n_dev)])
        vals = {k: cols[k][plan.index[names.index(k), idx_arr]] for k in traced}
        vals["__point__"] = idx_arr.astype(np.int32)
        out = fetch_global(compiled[skey](jax.device_put(vals, sharding)))
        if not isinstance(out, Mapping):
            raise InputError(f"run_point: returned {type(out).__name__}, expected a dict of arrays")
        clash = sorted(set(out) & (set(names) | {"point_index", "point"}))
        if clash:
            raise InputError(
                f"run_point: outputs {clash} have the names of grid parameters (or "
                f"'point_index', 'point'); expected other names"
            )
        out = {k: np.asarray(v)[:n] for k, v in out.items()}
        ok = np.ones(n, dtype=bool)
        if "success" in out:
            ok &= out.pop("success").reshape(n, -1).all(axis=1)
        for v in out.values():
            if np.issubdtype(v.dtype, np.inexact):
                ok &= np.isfinite(v.reshape(n, -1)).all(axis=1)
        return {"point_index": flat, "success": ok, **out}

    folder = None if directory is None else check_writable_dir(directory, name="directory")
    writer = jax.process_index() == 0
    stem = store.part_stem(shard_i, n_shards)
    lock = None
    if folder is not None and writer:
        check_writable_dir(folder / f"{stem}.chunks", name="directory")
        lock = store.ShardLock(folder / f"{stem}.lock", f"sweep folder {folder}").acquire()
    try:
        chunks: list = [None] * len(plan.chunks)
        part_done = False
        if folder is not None:
            store.check_folder(folder, chash, shard_i, n_shards, resume=resume)
            if resume and (folder / f"{stem}.json").exists():
                _, arrays = store.read_arrays(folder, stem, fmt=store.PART_FORMAT)
                bounds = np.cumsum([0] + [len(c) for c in plan.chunks])
                if not np.array_equal(
                    arrays.get("point_index", np.zeros(0, np.int64)), np.concatenate(plan.chunks)
                ):
                    raise CheckpointError(
                        f"sweep part {folder / stem}.json: holds other points than shard "
                        f"{shard_i}/{n_shards}; delete it to compute the shard afresh"
                    )
                chunks = [
                    {k: v[bounds[j] : bounds[j + 1]] for k, v in arrays.items()}
                    for j in range(len(plan.chunks))
                ]
                part_done = True
            elif resume:
                for j, flat in enumerate(plan.chunks):
                    chunks[j] = store.load_chunk(folder / f"{stem}.chunks", j, chash, flat)
            if jax.process_count() > 1:
                from jax.experimental import multihost_utils

                multihost_utils.assert_equal(
                    np.asarray([c is not None for c in chunks]),
                    "sweep resume: the processes see different chunk files; expected a "
                    "folder shared by every process",
                )
        skipped = sum(c is not None for c in chunks)
        if progress is None:
            progress = sys.stderr.isatty()
        from tqdm.auto import tqdm

        todo = [j for j, c in enumerate(chunks) if c is None]
        for j in tqdm(todo, disable=not progress, desc="sweep", leave=False):
            chunks[j] = res = compute(plan.chunks[j])
            if folder is not None and writer:
                store.write_arrays(
                    folder / f"{stem}.chunks",
                    f"chunk-{j:05d}",
                    {
                        "format": store.CHUNK_FORMAT,
                        "format_version": FORMAT_VERSION,
                        **meta,
                        "chunk": j,
                    },
                    res,
                )
        arrays = _concatenate(chunks)
        counts = {"chunks_computed": len(todo), "chunks_skipped": skipped}
        if folder is not None and writer and not part_done:
            store.write_arrays(
                folder,
                stem,
                {"format": store.PART_FORMAT, "format_version": FORMAT_VERSION, **meta},
                arrays,
            )
            store.remove_chunks(folder / f"{stem}.chunks")
    finally:
        if lock is not None:
            lock.release()
    ds_attrs = {
        "static": ",".join(static),
        "n_devices": n_dev,
        **user_attrs,
        "config_hash": chash,
        **counts,
    }
    if folder is not None:
        ds_attrs["part"] = str(folder / f"{stem}.json")
    if sharded:
        ds_attrs.update(shard_index=shard_i, n_shards=n_shards)
        return _points_dataset(names, values, plan.shape, arrays, ds_attrs)
    return _grid_dataset(names, values, plan.shape, arrays, ds_attrs)


def _concatenate(chunks: list) -> dict[str, np.ndarray]:
    """The arrays of the chunks, one after the other (every chunk has the same outputs,
    each of one shape and dtype)."""
    first = chunks[0]
    for c in chunks[1:]:
        for k, v in first.items():
            if k not in c or c[k].shape[1:] != v.shape[1:]:
                got = c[k].shape[1:] if k in c else "no such output"
                raise InputError(
                    f"run_point: output {k!r} has shape {v.shape[1:]} at some points and {got} "
                    f"at others; expected the same outputs, of the same shape, at every point"
                )
    return {
        k: np.concatenate([np.asarray(c[k]) for c in chunks]).astype(first[k].dtype) for k in first
    }


def _output_vars(arrays, lead: list[str]) -> dict:
    out = {}
    for k, v in arrays.items():
        if k in ("point_index", "success"):
            continue
        out[k] = (lead + [f"{k}_dim{i}" for i in range(v.ndim - 1)], v)
    return out


def _grid_dataset(names, values, shape, arrays, attrs):
    """The labelled grid of the points in `arrays` (every point of the grid)."""
    import xarray as xr

    where = np.unravel_index(arrays["point_index"], shape)
    data_vars = {}
    for k, (dims, v) in _output_vars(arrays, ["_"]).items():
        fill = np.nan if np.issubdtype(v.dtype, np.inexact) else 0
        full = np.full(shape + v.shape[1:], fill, dtype=v.dtype)
        full[where] = v
        data_vars[k] = (names + dims[1:], full)
    success = np.zeros(shape, dtype=bool)
    success[where] = arrays["success"]
    data_vars["success"] = (names, success)
    ds = xr.Dataset(data_vars, coords={k: values[k] for k in names})
    ds.attrs.update(attrs)
    return ds


def _points_dataset(names, values, shape, arrays, attrs):
    """The points in `arrays` along one dimension `point`, labelled by their grid values
    and `point_index`."""
    import xarray as xr

    pi = arrays["point_index"]
    where = np.unravel_index(pi, shape)
    coords = {"point_index": ("point", pi)}
    for k, w in zip(names, where):
        coords[k] = ("point", np.asarray(values[k])[w])
    data_vars = _output_vars(arrays, ["point"])
    data_vars["success"] = (["point"], arrays["success"])
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs.update(attrs)
    return ds


def merge_sweep(directory: str | os.PathLike):
    """Assembles the parts of a sharded sweep (`sweep(..., shard=(i, n),
    directory=...)`, or `adaptive-rnn sweep CONFIG --shard i/n`) into the result of the
    whole grid: the `xarray.Dataset` that `sweep` without `shard` returns (equal up to
    float rounding).

    Every part is verified whole (its sealed JSON and the SHA-256 of its arrays) before
    anything is assembled; nothing is written.

    **Arguments:**

    - `directory`: the folder holding `part-0000i-of-0000n.json`/`.npz` for every
        shard `i` of `n`.

    **Returns:** the labelled result; attrs: `static`, the sweep's `attrs`,
    `config_hash`, `n_shards` and `fingerprint` (the canonical JSON of the fingerprint
    the parts record).

    **Raises:** `CheckpointError` listing every problem: missing shards, duplicated
    shards, parts of another configuration (foreign), parts that are truncated or
    corrupt.
    """
    meta, parts = store.read_parts(Path(directory))
    names = list(meta["names"])
    values = {k: list(v) for k, v in zip(names, meta["grid"])}
    shape = tuple(len(values[k]) for k in names)
    arrays = _concatenate(parts)
    pi = arrays["point_index"]
    if len(pi) != int(np.prod(shape)) or len(np.unique(pi)) != len(pi):
        raise CheckpointError(
            f"sweep folder {directory}: the parts hold {len(np.unique(pi))} distinct of "
            f"{int(np.prod(shape))} grid points; expected each point once"
        )
    attrs = {
        "static": ",".join(meta["static"]),
        **meta["attrs"],
        "config_hash": meta["config_hash"],
        "n_shards": int(meta["n_shards"]),
        "fingerprint": canonical_json(meta.get("fingerprint")).decode(),
    }
    return _grid_dataset(names, values, shape, arrays, attrs)


def save_sweep(ds, path: str | os.PathLike) -> Path:
    """Writes a sweep result as netCDF (scipy backend, no extra dependency), atomically.

    Booleans are stored as int8 with the attribute `dtype="bool"` and restored by
    `load_sweep`. Under `jax.distributed`, only process 0 writes (every process holds
    the same result); the others return the path without writing.

    **Arguments:**

    - `ds`: the `xarray.Dataset` of `sweep` (or `merge_sweep`, `run_config`).
    - `path`: the file to write (conventionally `.nc`); missing parent folders are made,
        an existing file is replaced.

    **Returns:** `path`, as a `Path`.

    **Raises:** `InputError` if `path` is an existing folder or lies under an existing
    file (checked before anything is written).
    """
    if jax.process_index() != 0:
        return Path(path)
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

    **Arguments:**

    - `path`: the netCDF file.

    **Returns:** the `xarray.Dataset`, loaded into memory, with its boolean variables
    restored.

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
