"""Saving and loading models and other library files: JSON metadata + equinox leaf
serialisation, written atomically, read without pickle, sealed by one SHA-256 digest
over the metadata and the arrays together.

One room (over 400 lines): every file the library writes or reads goes through the same
atomic write, the same sealing and the same verified read; keeping them together keeps
one definition of what a verified file is.
"""

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import numpy as np

from ._errors import CheckpointError, InputError
from .models import FAMILIES, AbstractRNN, SavedLayout

FORMAT = "adaptive_rnn.model"
FORMAT_VERSION = 2
MODEL_JSON = "model.json"
MODEL_LEAVES = "model.eqx"

# Sealed metadata (format version 2): "files" maps each arrays file to its SHA-256 and
# size; "digest" is the SHA-256 of the canonical JSON of every other field (so of the
# file hashes too). Format version 1 (adaptive_rnn 0.1.0) hashed the arrays only.
DIGEST = "digest"
FILES = "files"
LEGACY_VERSION = 1


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically: a temporary file in the same folder, flushed
    and fsynced, then renamed over `path`. A crash leaves the old file intact.

    **Raises:** `InputError` if `path` is an existing folder or lies under an existing
    file (checked before anything is written).
    """
    path = Path(path)
    check_writable_file(path)
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


def check_writable_file(path: str | os.PathLike, *, name: str = "path") -> Path:
    """Checks that a file can be written at `path`: it is not an existing folder and no
    folder above it is an existing file.

    **Arguments:**

    - `path`: the file to be written.
    - `name`: the argument the path came from (for the message).

    **Returns:** `path` as a `Path`.

    **Raises:** `InputError` naming the argument, the path and the obstacle.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(
            f"{name}: got {str(path)!r}, an existing folder; expected a path where a file can be written"
        )
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise InputError(
                f"{name}: got {str(path)!r}, but {str(parent)!r} is an existing file; expected a folder there"
            )
    return path


def check_writable_dir(path: str | os.PathLike, *, name: str = "path") -> Path:
    """Checks that `path` is an existing folder or can become one: neither it nor a
    folder above it is an existing file.

    **Raises:** `InputError` naming the argument, the path and the obstacle.
    """
    path = Path(path)
    for q in (path, *path.parents):
        if q.exists() and not q.is_dir():
            where = "an existing file" if q == path else f"under {str(q)!r}, an existing file"
            raise InputError(f"{name}: got {str(path)!r}, {where}; expected a folder")
    return path


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


def canonical_json(obj: Any) -> bytes:
    """The canonical JSON encoding of `obj` (sorted keys, no spaces, ASCII): equal
    content, equal bytes, however the file was formatted."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def metadata_digest(meta: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of `meta` without its `"digest"` field."""
    return sha256(canonical_json({k: v for k, v in meta.items() if k != DIGEST}))


def seal(meta: Mapping[str, Any], files: Mapping[str, bytes]) -> dict:
    """Metadata sealed together with its arrays files.

    **Arguments:**

    - `meta`: JSON-serialisable metadata (without `"files"` and `"digest"`).
    - `files`: file name (in the same folder) -> the bytes that will be written there.

    **Returns:** a copy of `meta` (as it will read back from JSON) with `"files"`
    (name -> SHA-256 and size of each file) and `"digest"` (SHA-256 of the canonical
    JSON of every other field). Editing any field, any file, or deleting the digest is
    detected by `read_sealed`. (A digest, not a signature: it detects corruption and
    edits, not a forger who recomputes it.)
    """
    out = json.loads(json.dumps(dict(meta)))  # exactly what will be read back
    out[FILES] = {
        name: {"sha256": sha256(data), "bytes": len(data)} for name, data in files.items()
    }
    out[DIGEST] = metadata_digest(out)
    return out


def read_json(path: Path, *, what: str) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{what}: {path} not found")
    try:
        obj = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(
            f"{what}: {path} is not valid JSON ({e}); the file is truncated or corrupt"
        ) from e
    if not isinstance(obj, dict):
        raise CheckpointError(
            f"{what}: {path} holds a {type(obj).__name__}, expected a JSON object"
        )
    return obj


def read_verified(path: Path, digest: str | None, *, what: str) -> bytes:
    if not path.is_file():
        raise CheckpointError(f"{what}: {path} not found")
    data = path.read_bytes()
    if not isinstance(digest, str) or sha256(data) != digest:
        raise CheckpointError(
            f"{what}: {path} has SHA-256 {sha256(data)[:16]}..., expected {str(digest)[:16]}... "
            f"as recorded in its metadata; the file is truncated or was modified"
        )
    return data


def _plain_name(name: Any, *, what: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise CheckpointError(
            f"{what}: the file name {name!r} in its metadata is not a plain file name"
        )
    return name


def read_sealed(
    folder: Path,
    meta_name: str,
    *,
    fmt: str,
    version: int = FORMAT_VERSION,
    what: str,
    # Names as the metadata records them: possibly missing (`None`); checked here.
    required: Callable[[dict], list[Any]],
    legacy_hashes: Callable[[dict], dict[Any, Any]],
    allow_unverified_metadata: bool,
    how_to_allow: str,
) -> tuple[dict, dict[str, bytes]]:
    """Reads `folder/meta_name` and the arrays files it seals, and verifies them.

    **Arguments:**

    - `folder`, `meta_name`: where the metadata lies.
    - `fmt`, `version`: the expected `"format"` and `"format_version"` fields.
    - `what`: how errors name the file (e.g. `"model path"`).
    - `required`: `meta -> names of the files that must be sealed`.
    - `legacy_hashes`: `meta -> {file name: SHA-256}` for format version 1.
    - `allow_unverified_metadata`: accept format version 1 (whose metadata carries no
        digest); its arrays are still checked against their recorded SHA-256.
    - `how_to_allow`: the words that tell the user how to pass the previous option.

    **Returns:** `(meta, {file name: bytes})`.

    **Raises:** `CheckpointError` naming the file and the problem: missing, not JSON,
    another format, format version 1 without `allow_unverified_metadata`, no digest,
    a digest that does not match the metadata, an arrays file missing or not matching.
    """
    meta = read_json(folder / meta_name, what=what)
    if meta.get("format") != fmt:
        raise CheckpointError(
            f"{what}: {meta_name} has format {meta.get('format')!r}, expected {fmt!r}"
        )
    got_version = meta.get("format_version")
    if got_version == LEGACY_VERSION:
        if not allow_unverified_metadata:
            raise CheckpointError(
                f"{what}: {meta_name} has format version 1 (adaptive_rnn 0.1.0), whose SHA-256 covers "
                f"the arrays only, so an edit of {meta_name} would go unnoticed; expected format "
                f"version {version}. To accept it, {how_to_allow} (the arrays are still checked), "
                f"then save it again"
            )
        hashes = legacy_hashes(meta)
        files = {}
        for name, digest in hashes.items():
            name = _plain_name(name, what=what)
            if digest is None:
                raise CheckpointError(
                    f"{what}: {meta_name} records no SHA-256 of {name}; nothing can be verified"
                )
            files[name] = read_verified(folder / name, digest, what=what)
        return meta, files
    if got_version != version:
        raise CheckpointError(
            f"{what}: {meta_name} has format version {got_version!r}, expected {version} "
            f"(or 1 with allow_unverified_metadata=True)"
        )
    if DIGEST not in meta:
        raise CheckpointError(
            f"{what}: {meta_name} lacks the field {DIGEST!r} (the SHA-256 of the metadata and the "
            f"arrays); the file is incomplete or was edited, and the check cannot be switched off"
        )
    got = metadata_digest(meta)
    if got != meta[DIGEST]:
        raise CheckpointError(
            f"{what}: {meta_name} has content digest {got[:16]}..., expected {str(meta[DIGEST])[:16]}... "
            f"as recorded in it; the metadata was modified or is corrupt"
        )
    listed = meta.get(FILES)
    if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
        raise CheckpointError(
            f"{what}: {meta_name} has no valid {FILES!r} field; expected name -> SHA-256"
        )
    for name in required(meta):
        if name not in listed:
            raise CheckpointError(
                f"{what}: {meta_name} does not seal the file {name!r}; the metadata is malformed"
            )
    files = {}
    for name, rec in listed.items():
        name = _plain_name(name, what=what)
        files[name] = read_verified(folder / name, rec.get("sha256"), what=what)
    return meta, files


def model_skeleton(config: dict) -> AbstractRNN | SavedLayout:
    """A model of the structure described by `config` (random values), built by the
    `from_config` of the registered family `config["family"]` (`adaptive_rnn.models.FAMILIES`)."""
    family = config.get("family")
    if not isinstance(family, str) or family not in FAMILIES:
        raise CheckpointError(
            f"model family: got {family!r}, expected one of the registered families {sorted(FAMILIES)}"
        )
    try:
        return FAMILIES[family].from_config(config, key=jax.random.key(0))
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(
            f"model config: could not build a {family!r} model from it ({e})"
        ) from e


def model_to_files(model: AbstractRNN) -> tuple[dict, bytes]:
    """The sealed metadata and the arrays bytes of a model."""
    leaves = tree_to_bytes(model)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": model.config()}
    return seal(meta, {MODEL_LEAVES: leaves}), leaves


def model_from_files(meta: dict, leaves: bytes, *, what: str) -> AbstractRNN:
    """The model described by verified metadata `meta` and its arrays `leaves`."""
    if not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{what}: no model config in the metadata")
    skeleton = model_skeleton(meta["config"])
    if isinstance(skeleton, SavedLayout):  # arrays laid out as an earlier version held them
        return skeleton.convert(tree_from_bytes(skeleton.like, leaves, what=what))
    return tree_from_bytes(skeleton, leaves, what=what)


def save_model(path: str | os.PathLike, model: AbstractRNN) -> Path:
    """Saves a model into the folder `path` (`model.json` + `model.eqx`).

    The arrays are written with `equinox.tree_serialise_leaves` (NumPy format, no
    pickle); the JSON holds the constructor configuration, the SHA-256 of the arrays
    file and a digest (SHA-256) of all its own fields, so `load_model` detects an edit
    of either file. Both files are written atomically, arrays first, so a crash never
    leaves a readable but inconsistent pair.

    **Arguments:**

    - `path`: the folder (created if needed).
    - `model`: any adaptive_rnn model.

    **Returns:** the folder.

    **Raises:** `InputError` if `model` is not an adaptive_rnn model, or `path` is an
    existing file (or lies under one), or `model.json`/`model.eqx` in it are folders.
    """
    if not isinstance(model, AbstractRNN):
        raise InputError(f"model: got {type(model).__name__}, expected an adaptive_rnn model")
    path = check_writable_dir(path, name="path")
    for name in (MODEL_LEAVES, MODEL_JSON):
        check_writable_file(path / name, name="path")
    meta, leaves = model_to_files(model)
    atomic_write_bytes(path / MODEL_LEAVES, leaves)
    atomic_write_json(path / MODEL_JSON, meta)
    return path


def load_model(path: str | os.PathLike, *, allow_unverified_metadata: bool = False) -> AbstractRNN:
    """Loads a model saved by `save_model` (a folder, or its `model.json`).

    The digest in `model.json` must match its content and the SHA-256 of `model.eqx`;
    a file without a digest is refused (the check cannot be switched off by deleting a
    field).

    **Arguments:**

    - `path`: the folder (or its `model.json`).
    - `allow_unverified_metadata`: also accept format version 1 (adaptive_rnn 0.1.0),
        whose `model.json` carries no digest: its arrays are still checked against
        their SHA-256, but an edit of `model.json` would go unnoticed. Save the model
        again to seal it.

    **Returns:** the model.

    **Raises:** `CheckpointError` if a file is missing, truncated, modified (digest or
    hash mismatch), unsealed, or does not describe an adaptive_rnn model.
    """
    path = Path(path)
    if path.is_file() and path.name == MODEL_JSON:
        path = path.parent
    what = f"model {path}"
    if not path.is_dir():
        raise CheckpointError(f"{what}: not found; expected a folder written by save_model")
    meta, files = read_sealed(
        path,
        MODEL_JSON,
        fmt=FORMAT,
        what=what,
        required=lambda m: [MODEL_LEAVES],
        legacy_hashes=lambda m: {MODEL_LEAVES: m.get("leaves_sha256")},
        allow_unverified_metadata=allow_unverified_metadata,
        how_to_allow="load it with load_model(path, allow_unverified_metadata=True)",
    )
    return model_from_files(meta, files[MODEL_LEAVES], what=what)


# --------------------------------------------------------------------------------------
# .npz arrays (read without pickle)
# --------------------------------------------------------------------------------------

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive (an empty one)


def load_npz(
    path: str | os.PathLike, required: tuple[str, ...] = (), option: str | None = None
) -> dict[str, np.ndarray]:
    """Reads an .npz file without pickle, checking that `required` keys are present.

    **Arguments:**

    - `path`: the file.
    - `required`: names of arrays that must be present.
    - `option`: the option or key that named the file, for the messages.

    **Returns:** a dict of NumPy arrays.

    **Raises:** `InputError` (messages start with `option` when given) for a missing
    file, a file that is not an .npz (zip) archive, an array of Python objects (pickled
    data, never loaded) or a missing array.
    """
    where = f"{option}: {path}" if option else str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{where}: file not found" + (" (a folder)" if p.is_dir() else ""))
    try:
        with open(p, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise InputError(f"{where}: cannot be read ({e.strerror})") from e
    if head not in _ZIP_MAGIC:
        raise InputError(
            f"{where}: not an .npz (zip) archive (it starts with {head!r}); expected a file "
            f"written by numpy.savez"
        )
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {}
            for k in z.files:
                try:
                    data[k] = z[k]
                except ValueError as e:
                    if "pickle" not in str(e):
                        raise
                    raise InputError(
                        f"{where}: array {k!r} holds Python objects; expected numeric arrays "
                        f"(pickled data is never loaded)"
                    ) from None
    except InputError:
        raise
    except Exception as e:  # a damaged archive: zipfile, zlib, format errors
        raise InputError(f"{where}: not a readable .npz archive ({type(e).__name__}: {e})") from e
    missing = [k for k in required if k not in data]
    if missing:
        raise InputError(
            f"{where}: missing arrays {missing}; found {sorted(data)}, expected {list(required)}"
        )
    return data
