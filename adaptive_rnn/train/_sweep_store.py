"""The files of a sweep run into a folder: one part per shard, chunk files while a shard
runs (what `resume` reads back), the lock that keeps a second process out, and the merge
of the parts into one labelled result.

Layout of a sweep folder `DIR` (shard `i` of `n`, names zero-padded to five digits):

- `part-0000i-of-0000n.npz` + `.json`: the finished part (the points of shard `i`, in
  order: `point_index`, `success` and every output). The JSON is sealed (`_io.seal`): it
  records the SHA-256 of the arrays file and a digest of its own fields, among them the
  configuration hash, the shard index and the number of shards.
- `part-0000i-of-0000n.chunks/chunk-0000j.npz` + `.json`: the finished chunks of a shard
  still running, sealed the same way; removed once the part is written.
- `part-0000i-of-0000n.lock`: created with `O_EXCL` while a process writes the shard;
  holds its pid, host and start time.

Arrays are NumPy `.npz` files read with `allow_pickle=False`; nothing is unpickled.
"""

import io
import json
import os
import re
import shutil
import socket
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import CheckpointError, InputError
from .._io import (
    atomic_write_bytes,
    atomic_write_json,
    canonical_json,
    read_json,
    read_sealed,
    seal,
    sha256,
)

PART_FORMAT = "adaptive_rnn.sweep_part"
CHUNK_FORMAT = "adaptive_rnn.sweep_chunk"
_PART_RE = re.compile(r"^part-(\d+)-of-(\d+)\.json$")
_CHUNK_RE = re.compile(r"^chunk-(\d+)\.json$")


def part_stem(index: int, n_shards: int) -> str:
    """`part-0000i-of-0000n`: the file name (without suffix) of shard `index` of `n_shards`."""
    return f"part-{index:05d}-of-{n_shards:05d}"


def jsonable(obj: Any) -> Any:
    """`obj` with NumPy scalars and arrays as Python numbers and lists, tuples as lists,
    anything else not JSON-serialisable as its `str`."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return str(obj)


def config_hash(spec: dict) -> str:
    """SHA-256 of the canonical JSON of a sweep's configuration (see `sweep`)."""
    return sha256(canonical_json(jsonable(spec)))


# --------------------------------------------------------------------------------------
# Sealed arrays files
# --------------------------------------------------------------------------------------


def write_arrays(folder: Path, stem: str, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Writes `folder/stem.npz` then `folder/stem.json` (sealing it), each atomically."""
    buf = io.BytesIO()
    savez: Any = np.savez  # (its stub reads **arrays as its keyword options)
    savez(buf, **arrays)
    data = buf.getvalue()
    sealed = seal(meta, {f"{stem}.npz": data})
    atomic_write_bytes(folder / f"{stem}.npz", data)
    atomic_write_json(folder / f"{stem}.json", sealed)


def read_arrays(folder: Path, stem: str, *, fmt: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Reads and verifies `folder/stem.json` and the arrays file it seals.

    **Raises:** `CheckpointError` naming the file: missing, not JSON, another format, a
    digest that does not match (edited or truncated), an arrays file that does not match
    its SHA-256 or is not a readable `.npz` archive.
    """
    what = f"sweep file {folder / stem}.json"
    meta, files = read_sealed(
        folder,
        f"{stem}.json",
        fmt=fmt,
        what=what,
        required=lambda m: [],
        legacy_hashes=lambda m: {},
        allow_unverified_metadata=False,
        how_to_allow="",
    )
    # The arrays file the JSON seals (its own name when written; a renamed copy of a
    # part still reads, and the merge then finds its shard index twice).
    npz = [name for name in files if name.endswith(".npz")]
    if len(npz) != 1:
        raise CheckpointError(f"{what}: seals {sorted(files)}; expected one .npz arrays file")
    try:
        with np.load(io.BytesIO(files[npz[0]]), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:
        raise CheckpointError(
            f"{what}: its arrays file is not a readable .npz archive ({type(e).__name__}: {e})"
        ) from e
    return meta, arrays


# --------------------------------------------------------------------------------------
# The lock
# --------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process not yet reaped by its parent still has a pid
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class ShardLock:
    """A lock file `DIR/part-...-of-....lock`, created with `O_CREAT | O_EXCL` (atomic on
    local file systems and on NFS v3 and later), holding the pid, host and start time of
    the process writing the shard.

    A lock whose process is gone is *stale*. On the same host the pid is checked: a lock
    left by a process that no longer runs (killed, e.g. by SIGKILL or an out-of-memory
    kill) is taken over with a warning. A lock from another host cannot be checked: the
    error names its host and pid, and the user deletes the file once sure that job is
    gone (e.g. `squeue`/`sacct` on Slurm).
    """

    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = what
        self.token = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            json.dump(self.token, f)
        return True

    def acquire(self) -> "ShardLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            if self._create():
                return self
            try:
                held = json.loads(self.path.read_text())
                pid, host = int(held["pid"]), str(held["host"])
            except (OSError, ValueError, KeyError, TypeError):
                held, pid, host = None, None, None
            if (
                held is not None
                and host == self.token["host"]
                and pid is not None
                and not _alive(pid)
            ):
                warnings.warn(
                    f"{self.what}: taking over the stale lock {self.path} of process {pid}, "
                    f"which no longer runs",
                    stacklevel=3,
                )
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                continue
            who = (
                f"process {pid} on host {host} (since {held.get('started', '?')})"
                if held is not None
                else "a process (the lock file is unreadable)"
            )
            raise InputError(
                f"{self.what}: {who} is writing this shard here (lock file {self.path}); "
                f"expected one process per shard and folder. If that process is gone, delete "
                f"{self.path} and run again"
            )
        raise InputError(f"{self.what}: could not take the lock {self.path}; run again")

    def release(self) -> None:
        try:
            if json.loads(self.path.read_text()) == self.token:
                self.path.unlink()
        except (OSError, ValueError):
            pass


# --------------------------------------------------------------------------------------
# What a folder holds
# --------------------------------------------------------------------------------------


def _recorded_hash(path: Path) -> str | None:
    try:
        return str(read_json(path, what=str(path)).get("config_hash"))
    except CheckpointError:
        return None


def check_folder(directory: Path, chash: str, index: int, n_shards: int, *, resume: bool) -> None:
    """Refuses, before any work, a folder that holds files of another sweep configuration
    (any shard), or files of this shard when not resuming.

    **Raises:** `InputError` naming the files and what to do.
    """
    if not directory.is_dir():
        return
    foreign = []
    for p in sorted(directory.glob("part-*-of-*.json")):
        if _PART_RE.match(p.name) and _recorded_hash(p) != chash:
            foreign.append(p.name)
    for d in sorted(directory.glob("part-*-of-*.chunks")):
        for c in sorted(d.glob("chunk-*.json"))[:1]:
            if _recorded_hash(c) != chash:
                foreign.append(f"{d.name}/")
    if foreign:
        raise InputError(
            f"sweep folder {directory}: holds files of another sweep configuration "
            f"({', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}; their configuration "
            f"hash differs from {chash[:12]}...: another config, grid, seed, chunk size or number "
            f"of shards); expected a new folder, or the configuration those files were written "
            f"with. Nothing was written"
        )
    stem = part_stem(index, n_shards)
    chunks = directory / f"{stem}.chunks"
    mine = [p.name for p in (directory / f"{stem}.json", directory / f"{stem}.npz") if p.exists()]
    if chunks.is_dir() and any(chunks.iterdir()):
        mine.append(f"{chunks.name}/")
    if mine and not resume:
        raise InputError(
            f"sweep folder {directory}: already holds shard {index}/{n_shards} of this sweep "
            f"({', '.join(mine)}); expected resume=True (CLI: --resume) to continue it, or "
            f"another folder. Nothing was written"
        )


def load_chunk(folder: Path, j: int, chash: str, point_index: np.ndarray):
    """The arrays of chunk `j` if its files are there, sealed, of configuration `chash`
    and hold exactly `point_index`; `None` when the chunk was not finished (no JSON).

    **Raises:** `CheckpointError` for a chunk file that is corrupt, truncated or of
    another layout (nothing is written over it).
    """
    stem = f"chunk-{j:05d}"
    if not (folder / f"{stem}.json").exists():
        return None
    meta, arrays = read_arrays(folder, stem, fmt=CHUNK_FORMAT)
    if meta.get("config_hash") != chash or not np.array_equal(
        arrays.get("point_index", np.zeros(0, np.int64)), point_index
    ):
        raise CheckpointError(
            f"sweep chunk {folder / stem}.json: written by another configuration or chunk "
            f"layout (hash {str(meta.get('config_hash'))[:12]}..., expected {chash[:12]}...); "
            f"delete {folder} to compute the shard afresh"
        )
    return arrays


def remove_chunks(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------------------
# Merging parts
# --------------------------------------------------------------------------------------


def read_parts(directory: Path) -> tuple[dict, list[dict[str, np.ndarray]]]:
    """Reads and checks every part in `directory`.

    **Returns:** `(meta, parts)`: the metadata of part 0 and the arrays of every part in
    shard order.

    **Raises:** `CheckpointError` listing every problem found: no parts; parts that do
    not verify (truncated, corrupt, edited); parts from more than one configuration
    (foreign: listed by configuration hash); duplicated shards; missing shards; chunk
    folders of shards that never finished.
    """
    if not directory.is_dir():
        raise CheckpointError(f"sweep folder {directory}: not found; expected a folder of parts")
    problems: list[str] = []
    good: dict[str, list[tuple[str, dict, dict]]] = {}
    for p in sorted(directory.glob("part-*-of-*.json")):
        if not _PART_RE.match(p.name):
            continue
        stem = p.name[: -len(".json")]
        try:
            meta, arrays = read_arrays(directory, stem, fmt=PART_FORMAT)
        except CheckpointError as e:
            problems.append(f"corrupt: {e}")
            continue
        good.setdefault(str(meta.get("config_hash")), []).append((p.name, meta, arrays))
    if not good and not problems:
        raise CheckpointError(
            f"sweep folder {directory}: no parts (part-*-of-*.json); expected the output folder "
            f"of sharded sweeps"
        )
    if len(good) > 1:
        groups = "; ".join(
            f"configuration {h[:12]}...: {', '.join(name for name, _, _ in parts)}"
            for h, parts in sorted(good.items(), key=lambda kv: -len(kv[1]))
        )
        problems.append(
            f"parts of {len(good)} different sweep configurations (foreign parts): {groups}"
        )
    meta0: dict = {}
    parts: list[dict[str, np.ndarray]] = []
    if len(good) == 1:
        (entries,) = good.values()
        meta0 = entries[0][1]
        n = int(meta0["n_shards"])
        by_index: dict[int, list[str]] = {}
        for name, meta, _ in entries:
            by_index.setdefault(int(meta["shard_index"]), []).append(name)
        dup = {i: names for i, names in by_index.items() if len(names) > 1}
        if dup:
            problems.append(
                "duplicated shards: "
                + "; ".join(f"shard {i} in {', '.join(names)}" for i, names in sorted(dup.items()))
            )
        missing = [i for i in range(n) if i not in by_index]
        if missing:
            unfinished = [i for i in missing if (directory / f"{part_stem(i, n)}.chunks").is_dir()]
            shown = ", ".join(f"{i}/{n}" for i in missing[:20])
            more = f" (and {len(missing) - 20} more)" if len(missing) > 20 else ""
            note = (
                f"; unfinished (chunks only, rerun with --resume): "
                f"{', '.join(str(i) for i in unfinished[:20])}"
                if unfinished
                else ""
            )
            problems.append(f"missing shards: {shown}{more}{note}")
        order = sorted(entries, key=lambda e: int(e[1]["shard_index"]))
        parts = [arrays for _, _, arrays in order]
    if problems:
        raise CheckpointError(f"sweep folder {directory}: cannot merge: " + " | ".join(problems))
    return meta0, parts
