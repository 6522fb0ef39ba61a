"""Checkpoints: a folder with `checkpoint.json` (epoch, the run's configuration and
fingerprint, RNG key data, history) and one equinox-serialised arrays file holding the
model and the optimiser state, sealed together by one digest (see `adaptive_rnn._io`).
Written atomically; read without pickle.

What the recorded configuration holds, and how a resume compares it, is in
`adaptive_rnn.train._fingerprint` (`describe`, `array_digest`, `check_resume`)."""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from .._errors import CheckpointError
from .._io import (
    atomic_write_bytes,
    atomic_write_json,
    check_writable_dir,
    check_writable_file,
    read_sealed,
    seal,
    tree_from_bytes,
    tree_to_bytes,
)
from ._fingerprint import (  # noqa: F401 - re-exported: the fingerprint is recorded in every checkpoint
    RESUMABLE as RESUMABLE,
    array_digest as array_digest,
    check_resume as check_resume,
    describe as describe,
    run_changes as run_changes,
)
from ._history import History

FORMAT = "adaptive_rnn.checkpoint"
FORMAT_VERSION = 2
CHECKPOINT_JSON = "checkpoint.json"


def save_checkpoint(
    path: str | os.PathLike,
    state,
    *,
    history: History,
    config: dict[str, Any],
    resumed_with_changes: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Writes a checkpoint of a training state into the folder `path`.

    The arrays (the whole `TrainState`: model parameters, best parameters, optimiser
    state, epoch, key) go to `state-<epoch>.eqx` (equinox serialisation, NumPy format),
    then `checkpoint.json` is replaced atomically; older arrays files are removed after.
    A crash at any point leaves a consistent checkpoint (the old or the new one).
    `checkpoint.json` carries the SHA-256 of the arrays file and a digest of all its own
    fields, so `load_checkpoint` detects an edit of either.

    **Arguments:**

    - `path`: the checkpoint folder.
    - `state`: a `TrainState`.
    - `history`: the history so far.
    - `config`: JSON-serialisable configuration of the run (see `fit`).
    - `resumed_with_changes`: records `{"epoch": e, "changes": [...]}` of the resumes
        that accepted changes (`fit(..., resume_changes="allow")`).

    **Returns:** the folder.

    **Raises:** `InputError` if `path` is an existing file or lies under one.
    """
    path = Path(path)
    epoch = int(state.epoch)
    data = tree_to_bytes(state)
    name = f"state-{epoch:06d}.eqx"
    check_writable_dir(path, name="path")
    check_writable_file(path / CHECKPOINT_JSON, name="path")
    atomic_write_bytes(path / name, data)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "epoch": epoch,
        "key_data": np.asarray(jax.device_get(state.key)).astype(np.int64).tolist(),
        "config": config,
        "history": history.to_json(),
        "state_file": name,
        "resumed_with_changes": [dict(r) for r in resumed_with_changes],
    }
    atomic_write_json(path / CHECKPOINT_JSON, seal(meta, {name: data}))
    for old in path.glob("state-*.eqx"):
        if old.name != name:
            try:
                old.unlink()
            except FileNotFoundError:  # pragma: no cover
                pass
    return path


def read_checkpoint(
    path: str | os.PathLike, *, allow_unverified_metadata: bool = False
) -> tuple[dict, bytes]:
    """Reads and verifies a checkpoint's metadata and arrays file, without deserialising
    the arrays (so without knowing the model).

    **Arguments:** as `load_checkpoint`.

    **Returns:** `(meta, state_bytes)`.

    **Raises:** `CheckpointError` as `load_checkpoint`.
    """
    path = Path(path)
    if path.is_file() and path.name == CHECKPOINT_JSON:
        path = path.parent
    what = f"checkpoint {path}"
    meta, files = read_sealed(
        path,
        CHECKPOINT_JSON,
        fmt=FORMAT,
        version=FORMAT_VERSION,
        what=what,
        required=lambda m: [m.get("state_file")],
        legacy_hashes=lambda m: {m.get("state_file"): m.get("state_sha256")},
        allow_unverified_metadata=allow_unverified_metadata,
        how_to_allow="pass allow_unverified_metadata=True to load_checkpoint (fit: resume_changes='allow'; "
        "CLI: --allow-changes)",
    )
    for field in ("epoch", "state_file", "history", "config"):
        if field not in meta:
            raise CheckpointError(
                f"{what}: {CHECKPOINT_JSON} lacks the field {field!r}; the file is incomplete"
            )
    if not isinstance(meta["config"], dict):
        raise CheckpointError(f"{what}: the config in {CHECKPOINT_JSON} is not a JSON object")
    return meta, files[meta["state_file"]]


def restore_checkpoint(path: str | os.PathLike, meta: dict, data: bytes, like_state):
    """The `(state, history)` of verified checkpoint contents (`read_checkpoint`).

    **Raises:** `CheckpointError` if the arrays do not fit `like_state` or disagree with
    the metadata.
    """
    what = f"checkpoint {Path(path)}"
    name = meta["state_file"]
    state = tree_from_bytes(like_state, data, what=f"{what} ({name})")
    if int(state.epoch) != int(meta["epoch"]):
        raise CheckpointError(
            f"{what}: {name} holds epoch {int(state.epoch)}, but {CHECKPOINT_JSON} says "
            f"{meta['epoch']}; the files do not belong together"
        )
    try:
        history = History.from_json(meta["history"])
    except Exception as e:
        raise CheckpointError(f"{what}: the history in {CHECKPOINT_JSON} is malformed ({e})") from e
    if history.epochs_run != int(meta["epoch"]):
        raise CheckpointError(
            f"{what}: the history has {history.epochs_run} epochs, expected {meta['epoch']}"
        )
    return state, history


def load_checkpoint(
    path: str | os.PathLike,
    like_state,
    *,
    config: dict[str, Any] | None = None,
    allow_changes: bool = False,
    allow_unverified_metadata: bool = False,
):
    """Reads a checkpoint written by `save_checkpoint`.

    The digest in `checkpoint.json` must match its content and the SHA-256 of the
    arrays file; a file without a digest is refused.

    **Arguments:**

    - `path`: the checkpoint folder (or its `checkpoint.json`).
    - `like_state`: a `TrainState` of the same structure (the fresh state of the same
        model and optimiser), into which the saved arrays are loaded.
    - `config`: if given, the run configuration it will be resumed with: it must equal
        the saved one except for `training.epochs` (see `check_resume`).
    - `allow_changes`: accept a `config` that differs in its data, training options,
        optimiser, fixed arrays or user entries (never in its model or key).
    - `allow_unverified_metadata`: also accept format version 1 (adaptive_rnn 0.1.0),
        whose metadata carries no digest (its arrays are still checked).

    **Returns:** `(state, history, meta)`.

    **Raises:** `CheckpointError` naming the file and the problem if a file is missing,
    truncated, modified (digest or SHA-256 mismatch), unsealed, of another format, for
    another model, or for another run (each difference as `name: old -> new`).
    """
    meta, data = read_checkpoint(path, allow_unverified_metadata=allow_unverified_metadata)
    if config is not None:
        check_resume(path, meta["config"], config, allow_changes=allow_changes)
    state, history = restore_checkpoint(path, meta, data, like_state)
    return state, history, meta
