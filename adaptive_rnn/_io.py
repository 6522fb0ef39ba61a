"""Saving and loading models and other library files: JSON metadata + equinox leaf
serialisation, written atomically, read without pickle, checked by SHA-256."""

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import equinox as eqx
import jax

from ._errors import CheckpointError
from .models import MODEL_FAMILIES
from .models._base import AbstractRNN

FORMAT = "adaptive_rnn.model"
FORMAT_VERSION = 1
MODEL_JSON = "model.json"
MODEL_LEAVES = "model.eqx"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically: a temporary file in the same folder, flushed
    and fsynced, then renamed over `path`. A crash leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def tree_to_bytes(tree) -> bytes:
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, tree)
    return buf.getvalue()


def tree_from_bytes(like, data: bytes, *, what: str):
    try:
        return eqx.tree_deserialise_leaves(io.BytesIO(data), like)
    except Exception as e:
        raise CheckpointError(
            f"{what}: could not read the saved arrays ({type(e).__name__}: {e}); expected "
            f"a file written by adaptive_rnn for this model structure"
        ) from e


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_json(path: Path, *, what: str) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{what}: {path} not found")
    try:
        obj = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{what}: {path} is not valid JSON ({e}); the file is truncated or corrupt") from e
    if not isinstance(obj, dict):
        raise CheckpointError(f"{what}: {path} holds a {type(obj).__name__}, expected a JSON object")
    return obj


def read_verified(path: Path, digest: str | None, *, what: str) -> bytes:
    if not path.is_file():
        raise CheckpointError(f"{what}: {path} not found")
    data = path.read_bytes()
    if digest is not None and sha256(data) != digest:
        raise CheckpointError(
            f"{what}: {path} has SHA-256 {sha256(data)[:16]}..., expected {digest[:16]}... "
            f"as recorded in its metadata; the file is truncated or was modified"
        )
    return data


def model_skeleton(config: dict) -> AbstractRNN:
    """A model of the structure described by `config` (random values)."""
    family = config.get("family")
    if family not in MODEL_FAMILIES:
        raise CheckpointError(
            f"model family: got {family!r}, expected one of {sorted(MODEL_FAMILIES)}"
        )
    try:
        return MODEL_FAMILIES[family].from_config(config, key=jax.random.key(0))
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(f"model config: could not build a {family!r} model from it ({e})") from e


def model_to_files(model: AbstractRNN) -> tuple[dict, bytes]:
    leaves = tree_to_bytes(model)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config(),
        "leaves_sha256": sha256(leaves),
    }
    return meta, leaves


def model_from_files(meta: dict, leaves: bytes, *, what: str) -> AbstractRNN:
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{what}: format {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{what}: format version {meta.get('format_version')!r}, expected {FORMAT_VERSION}"
        )
    if not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{what}: no model config in the metadata")
    skeleton = model_skeleton(meta["config"])
    return tree_from_bytes(skeleton, leaves, what=what)


def save_model(path: str | os.PathLike, model: AbstractRNN) -> Path:
    """Saves a model into the folder `path` (`model.json` + `model.eqx`).

    The arrays are written with `equinox.tree_serialise_leaves` (NumPy format, no
    pickle); the JSON holds the constructor configuration and a SHA-256 of the arrays.
    Both files are written atomically, arrays first, so a crash never leaves a readable
    but inconsistent pair.

    **Returns:** the folder.
    """
    if not isinstance(model, AbstractRNN):
        raise TypeError(f"model: got {type(model).__name__}, expected an adaptive_rnn model")
    path = Path(path)
    meta, leaves = model_to_files(model)
    atomic_write_bytes(path / MODEL_LEAVES, leaves)
    atomic_write_json(path / MODEL_JSON, meta)
    return path


def load_model(path: str | os.PathLike) -> AbstractRNN:
    """Loads a model saved by `save_model` (a folder, or its `model.json`).

    **Raises:** `CheckpointError` if a file is missing, truncated, modified (hash
    mismatch) or does not describe an adaptive_rnn model.
    """
    path = Path(path)
    if path.is_file() and path.name == MODEL_JSON:
        path = path.parent
    what = f"model {path}"
    if not path.is_dir():
        raise CheckpointError(f"{what}: not found; expected a folder written by save_model")
    meta = read_json(path / MODEL_JSON, what=what)
    leaves = read_verified(path / MODEL_LEAVES, meta.get("leaves_sha256"), what=what)
    return model_from_files(meta, leaves, what=what)
