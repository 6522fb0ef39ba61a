"""Checkpoints: a folder with `checkpoint.json` (epoch, configuration, RNG key data,
history, SHA-256 of the arrays file) and one equinox-serialised arrays file holding the
model and the optimiser state. Written atomically; read without pickle."""

import json
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np

from .._errors import CheckpointError
from .._io import atomic_write_bytes, atomic_write_json, read_json, read_verified, sha256, tree_from_bytes, tree_to_bytes
from ._history import History

FORMAT = "adaptive_rnn.checkpoint"
FORMAT_VERSION = 1
CHECKPOINT_JSON = "checkpoint.json"


def save_checkpoint(path: str | os.PathLike, state, *, history: History, config: dict[str, Any]) -> Path:
    """Writes a checkpoint of a training state into the folder `path`.

    The arrays (the whole `TrainState`: model parameters, best parameters, optimiser
    state, epoch, key) go to `state-<epoch>.eqx` (equinox serialisation, NumPy format),
    then `checkpoint.json` is replaced atomically; older arrays files are removed after.
    A crash at any point leaves a consistent checkpoint (the old or the new one).

    **Arguments:**

    - `path`: the checkpoint folder.
    - `state`: a `TrainState`.
    - `history`: the history so far.
    - `config`: JSON-serialisable configuration (model config, training options).

    **Returns:** the folder.
    """
    path = Path(path)
    epoch = int(state.epoch)
    data = tree_to_bytes(state)
    name = f"state-{epoch:06d}.eqx"
    atomic_write_bytes(path / name, data)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "epoch": epoch,
        "key_data": np.asarray(jax.device_get(state.key)).astype(np.int64).tolist(),
        "config": config,
        "history": history.to_json(),
        "state_file": name,
        "state_sha256": sha256(data),
    }
    atomic_write_json(path / CHECKPOINT_JSON, meta)
    for old in path.glob("state-*.eqx"):
        if old.name != name:
            try:
                old.unlink()
            except FileNotFoundError:  # pragma: no cover
                pass
    return path


def load_checkpoint(path: str | os.PathLike, like_state, *, config: dict[str, Any] | None = None):
    """Reads a checkpoint written by `save_checkpoint`.

    **Arguments:**

    - `path`: the checkpoint folder (or its `checkpoint.json`).
    - `like_state`: a `TrainState` of the same structure (the fresh state of the same
        model and optimiser), into which the saved arrays are loaded.
    - `config`: if given, its `"model"` entry must equal the saved one.

    **Returns:** `(state, history, meta)`.

    **Raises:** `CheckpointError` naming the file and the problem if a file is missing,
    truncated, modified (SHA-256 mismatch), of another format or for another model.
    """
    path = Path(path)
    if path.is_file() and path.name == CHECKPOINT_JSON:
        path = path.parent
    what = f"checkpoint {path}"
    meta = read_json(path / CHECKPOINT_JSON, what=what)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{what}: {CHECKPOINT_JSON} has format {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{what}: format version {meta.get('format_version')!r}, expected {FORMAT_VERSION}")
    for field in ("epoch", "state_file", "state_sha256", "history", "config"):
        if field not in meta:
            raise CheckpointError(f"{what}: {CHECKPOINT_JSON} lacks the field {field!r}; the file is incomplete")
    name = meta["state_file"]
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
        raise CheckpointError(f"{what}: state_file {name!r} is not a plain file name")
    if config is not None and "model" in config and meta["config"].get("model") != config["model"]:
        raise CheckpointError(
            f"{what}: saved for the model {json.dumps(meta['config'].get('model'))}, but resumed "
            f"with {json.dumps(config['model'])}; expected the same model structure"
        )
    data = read_verified(path / name, meta["state_sha256"], what=f"{what} ({name})")
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
    return state, history, meta
