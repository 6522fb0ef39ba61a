"""The run's fingerprint and the resume guard.

The run's configuration recorded in a checkpoint names everything that determines the
run: the model, the training options, SHA-256 digests of the training and validation
arrays (content, not path) and of the model's fixed arrays, a description of the
optimiser and of the loss (`describe`), the key, and the user's configuration. A resume
compares it with the resumed call's (`check_resume`)."""

import dataclasses
import functools
import hashlib
import json
import math
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import jax
import numpy as np

from .._errors import CheckpointError

# Entries of the run configuration that may differ on resume: a run may be continued
# for more (or fewer) epochs.
RESUMABLE = ("training.epochs",)
# Two sections can never change on resume, even when changes are allowed: the model
# structure (the saved arrays would not fit) and the key (the resumed run continues the
# data order of the checkpoint's key; a new key could be neither applied nor recorded
# truthfully). See `check_resume`.
_SECTIONS = ("model", "key", "data", "training", "optimiser", "fixed_arrays", "user")
_HOW_TO_ALLOW = "pass resume_changes='allow' to fit (CLI: --allow-changes) to resume anyway"


def array_digest(*arrays) -> str:
    """SHA-256 of the contents of arrays: dtype, shape and bytes of each, in order."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(jax.device_get(a)))
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


_MAX_DEPTH = 40
_MAX_ENTRIES = 2000
_TRANSPARENT = ("with_extra_args_support",)  # optax wrappers that add no setting


def describe(obj: Any) -> dict[str, Any]:
    """A JSON-serialisable description of a function or an optax transformation: every
    setting it holds, as a flat `{path: value}` dict.

    It walks what determines the behaviour: the values captured by closures (optax's
    transformations keep their hyper-parameters there, e.g.
    `chain[2].chain[1].scale.step_size = -0.001` for Adam's learning rate 1e-3), default
    arguments, `functools.partial` arguments, dataclass and named-tuple fields and
    object attributes; functions are named by module and qualified name (decorated ones
    by the function they wrap), arrays by
    dtype, shape and (when larger than 8 entries) a SHA-256 of their bytes. Objects that
    offer nothing else are named by type (and `repr` when it holds no address). Module
    globals a function reads are not seen.

    **Arguments:**

    - `obj`: an `optax.GradientTransformation`, a loss function, any callable.

    **Returns:** the `{path: value}` dict (equal for equal settings across processes).
    """
    out: dict[str, Any] = {}
    _walk(obj, "", out, 0, ())
    return out


def _join(path: str, seg: str) -> str:
    if not path:
        return seg
    return f"{path}{seg}" if seg.startswith("[") else f"{path}.{seg}"


def _put(out: dict, path: str, value: Any) -> None:
    path = path or "value"
    key, i = path, 2
    while key in out:
        key, i = f"{path}#{i}", i + 1
    out[key] = value


def _is_transformation(x) -> bool:
    return hasattr(x, "_fields") and set(x._fields) == {"init", "update"}


def _structural(v) -> bool:
    fn = (types.FunctionType, functools.partial, types.MethodType)
    if isinstance(v, fn) or _is_transformation(v):
        return True
    items = (
        list(v.values())
        if isinstance(v, Mapping)
        else (v if isinstance(v, (list, tuple)) else None)
    )
    return bool(items) and all(isinstance(x, fn) or _is_transformation(x) for x in items)


def _outer_name(f) -> str:
    return getattr(f, "__qualname__", type(f).__qualname__).split(".<locals>")[0]


def _walk(obj: Any, path: str, out: dict, depth: int, stack: tuple) -> None:  # noqa: C901
    if len(out) >= _MAX_ENTRIES:
        out.setdefault("...", "description truncated")
        return
    if obj is None or isinstance(obj, (bool, int, str)):
        _put(out, path, obj)
        return
    if isinstance(obj, float):
        _put(out, path, obj if math.isfinite(obj) else repr(obj))
        return
    if isinstance(obj, np.generic) or (
        hasattr(obj, "shape") and hasattr(obj, "dtype") and hasattr(obj, "__array__")
    ):
        try:
            a = np.asarray(jax.device_get(obj))
        except Exception:  # pragma: no cover - exotic arrays (e.g. typed keys)
            _put(out, path, f"{type(obj).__qualname__}{list(getattr(obj, 'shape', ()))}")
            return
        if a.size <= 8 and a.dtype.kind in "biuf":
            v = a.tolist()
            _put(
                out,
                path,
                [x if not isinstance(x, float) or math.isfinite(x) else repr(x) for x in v]
                if isinstance(v, list)
                else (v if not isinstance(v, float) or math.isfinite(v) else repr(v)),
            )
        else:
            _put(out, path, f"{a.dtype}{list(a.shape)} sha256 {array_digest(a)[:16]}")
        return
    if isinstance(obj, (types.ModuleType, type)):
        _put(
            out,
            path,
            f"{getattr(obj, '__module__', '')}.{obj.__qualname__}"
            if isinstance(obj, type)
            else obj.__name__,
        )
        return
    if depth > _MAX_DEPTH or id(obj) in stack:
        _put(out, path, "<recursive>")
        return
    stack = stack + (id(obj),)
    nxt = depth + 1
    if _is_transformation(obj):
        # An optax transformation: its `update` holds every setting that acts on resume.
        _walk(obj.update, path, out, nxt, stack)
        return
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        if not obj:
            _put(out, path, [])
        for i, v in enumerate(obj):
            _walk(v, f"{path}[{i}]", out, nxt, stack)
        return
    if isinstance(obj, Mapping):
        if not obj:
            _put(out, path, {})
        for k in sorted(obj, key=str):
            _walk(obj[k], _join(path, str(k)), out, nxt, stack)
        return
    if isinstance(obj, functools.partial):
        _walk(obj.func, path, out, nxt, stack)
        _walk(obj.args, _join(path, "args"), out, nxt, stack)
        _walk(obj.keywords, _join(path, "keywords"), out, nxt, stack)
        return
    if isinstance(obj, types.MethodType):
        _walk(obj.__func__, path, out, nxt, stack)
        _walk(obj.__self__, _join(path, "self"), out, nxt, stack)
        return
    if isinstance(obj, types.FunctionType) and hasattr(obj, "__wrapped__"):
        # A decorated function (functools.wraps): described by the function it wraps, so
        # that instrumentation (e.g. jaxtyping's import hook) does not change it.
        _walk(obj.__wrapped__, path, out, nxt, stack)
        return
    if isinstance(obj, types.FunctionType):
        name = _outer_name(obj)
        cells = [(n, c) for n, c in zip(obj.__code__.co_freevars, obj.__closure__ or ())]
        if name in _TRANSPARENT:
            p = path
        else:
            p = _join(path, name)
            _put(out, p, f"{obj.__module__}.{obj.__qualname__}")
        for n, c in cells:
            try:
                v = c.cell_contents
            except ValueError:  # an empty cell
                continue
            # Functions and transformations need no variable name (their own names say
            # what they are): `chain[2].chain[1].scale.step_size`, not
            # `chain.update_fns[2]...`.
            _walk(v, p if _structural(v) else _join(p, n), out, nxt, stack)
        if obj.__defaults__ and any(d is not None for d in obj.__defaults__):
            _walk(obj.__defaults__, _join(p, "defaults"), out, nxt, stack)
        if obj.__kwdefaults__:
            _walk(obj.__kwdefaults__, _join(p, "kwdefaults"), out, nxt, stack)
        return
    if dataclasses.is_dataclass(obj) or hasattr(obj, "_fields"):
        p = _join(path, type(obj).__qualname__)
        # A named tuple, else a dataclass (the checker loses `is_dataclass` through the `or`).
        names = (
            cast(Any, obj)._fields
            if hasattr(obj, "_fields")
            else [f.name for f in dataclasses.fields(cast(Any, obj))]
        )
        for n in names:
            _walk(getattr(obj, n), _join(p, n), out, nxt, stack)
        return
    if hasattr(obj, "__wrapped__"):  # jitted or functools.wraps-decorated functions
        _walk(cast(Any, obj).__wrapped__, path, out, nxt, stack)
        return
    r = repr(obj)
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict) and attrs and " at 0x" in r:
        p = _join(path, type(obj).__qualname__)
        _put(out, p, f"{type(obj).__module__}.{type(obj).__qualname__}")
        for k in sorted(attrs):
            if not k.startswith("__"):
                _walk(attrs[k], _join(p, k), out, nxt, stack)
        return
    _put(out, path, type(obj).__qualname__ if " at 0x" in r or len(r) > 200 else r)


def _flatten(cfg: Any, prefix: str, out: dict) -> dict:
    if isinstance(cfg, Mapping):  # an empty mapping records nothing
        for k in cfg:
            _flatten(cfg[k], f"{prefix}.{k}" if prefix else str(k), out)
    else:
        out[prefix] = cfg
    return out


_ABSENT = object()


def _show(v: Any) -> str:
    if v is _ABSENT:
        return "(not recorded)"
    if isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v):
        return f"sha256 {v[:12]}..."
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= 80 else s[:77] + "..."


def run_changes(saved: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Every difference between two run configurations, as `"name: old -> new"`
    (ignoring `training.epochs`), grouped by section: model, key, data, training,
    optimiser, fixed arrays, user."""
    a = _flatten(json.loads(json.dumps(saved)), "", {})
    b = _flatten(json.loads(json.dumps(config)), "", {})
    names = [n for n in dict.fromkeys([*a, *b]) if n not in RESUMABLE]
    rank = {s: i for i, s in enumerate(_SECTIONS)}
    names.sort(key=lambda n: rank.get(n.split(".")[0], len(_SECTIONS)))
    return [
        f"{n}: {_show(a.get(n, _ABSENT))} -> {_show(b.get(n, _ABSENT))}"
        for n in names
        if a.get(n, _ABSENT) != b.get(n, _ABSENT)
    ]


def check_resume(
    path, saved: Mapping[str, Any], config: Mapping[str, Any], *, allow_changes: bool = False
) -> list[str]:
    """Compares the run configuration saved in a checkpoint with the one it is resumed
    with.

    **Arguments:**

    - `path`: the checkpoint (for messages).
    - `saved`, `config`: the two configurations (as `fit` records them).
    - `allow_changes`: accept differences other than in the model and the key.

    **Returns:** the accepted differences (`"name: old -> new"`; empty when equal).

    **Raises:** `CheckpointError` listing every difference if the model or the key
    differ, or if anything differs and `allow_changes` is false.
    """
    what = f"checkpoint {Path(path)}"
    changes = run_changes(saved, config)
    if "model" in config and saved.get("model") != config["model"]:
        model = [c for c in changes if c.startswith("model.")] or [
            f"model: {_show(saved.get('model', _ABSENT))} -> {_show(config['model'])}"
        ]
        raise CheckpointError(
            f"{what}: saved for another model: {'; '.join(model)}; expected the same model structure "
            f"(the saved arrays fit only it)"
        )
    if not changes:
        return []
    key_changed = "key" in saved and saved.get("key") != config.get("key")
    if key_changed:
        how = (
            "the key cannot change on resume (the run continues the checkpoint's data order): pass "
            "the original run's key (CLI: its --seed)"
        )
    elif allow_changes:
        return changes
    else:
        how = _HOW_TO_ALLOW
    raise CheckpointError(
        f"{what}: resumed with another run than the checkpoint's: {'; '.join(changes)}; expected the "
        f"same data, key, optimiser and configuration (only epochs may change); {how}"
    )
