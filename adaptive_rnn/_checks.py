"""Argument checks shared by every layer: each raises `InputError` naming the argument,
the value received and what was expected.

This module sits on the ground floor (it imports only `_errors`, the standard library
and NumPy), so vector fields, parametrisations, models, integrators, trainers, tasks,
analysis and the command line all refuse bad input with the same words.
"""

import difflib
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ._errors import InputError

_INTEGERS = (int, np.integer)
_NUMBERS = (int, float, np.integer, np.floating)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBERS) and not isinstance(value, (bool, np.bool_))


def _scalar_array(value: Any) -> float | None:
    # A concrete 0-d NumPy or JAX array of a real (not boolean) dtype, as a float.
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape != () or dtype is None:
        return None
    try:
        dtype = np.dtype(dtype)
        if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
            return None
        return float(value)
    except Exception:  # a tracer, or a dtype NumPy does not know
        return None


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """An integer in `[low, high]` (either bound may be `None`); returns it as `int`."""
    ok = isinstance(value, _INTEGERS) and not isinstance(value, (bool, np.bool_))
    if ok:
        ok = (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        if low is not None and high is not None:
            rng = f" in [{low}, {high}]"
        elif low is not None:
            rng = (
                " >= 0"
                if low == 0
                else (" >= 1 (a positive integer)" if low == 1 else f" >= {low}")
            )
        elif high is not None:
            rng = f" <= {high}"
        else:
            rng = ""
        raise InputError(f"{name}: got {value!r}, expected an integer{rng}")
    return int(value)


def check_positive_int(name: str, value: Any) -> int:
    """An integer >= 1."""
    return check_int(name, value, 1)


def check_number(
    name: str,
    value: Any,
    low: float | int | None = None,
    high: float | int | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the interval given by `low`/`high` (closed unless
    `low_open`/`high_open`); returns it as `float`. A concrete 0-d NumPy or JAX array of
    a real dtype counts as a number."""
    v = float(value) if _is_number(value) else _scalar_array(value)
    ok = False
    if v is not None and math.isfinite(v):
        ok = low is None or (v > low if low_open else v >= low)
        ok = ok and (high is None or (v < high if high_open else v <= high))
    if not ok or v is None:
        if low is not None and high is not None:
            lb, rb = ("(" if low_open else "["), (")" if high_open else "]")
            rng = f" in {lb}{low:g}, {high:g}{rb}"
        elif low is not None:
            rng = f" {'>' if low_open else '>='} {low:g}"
            if low == 0 and low_open:
                rng = " > 0 (a positive finite number)"
        elif high is not None:
            rng = f" {'<' if high_open else '<='} {high:g}"
        else:
            rng = ""
        raise InputError(f"{name}: got {value!r}, expected a finite number{rng}")
    return v


def check_positive(name: str, value: Any) -> float:
    """A finite number > 0."""
    return check_number(name, value, 0.0, low_open=True)


def check_nonnegative(name: str, value: Any) -> float:
    """A finite number >= 0."""
    return check_number(name, value, 0.0)


def check_optional(check, name: str, value: Any, *args, **kwargs):
    """`None`, or `check(name, value, ...)`."""
    return None if value is None else check(name, value, *args, **kwargs)


def suggest(value: Any, choices: Iterable[str]) -> str:
    """`"; did you mean 'x'?"` when a choice is close to `value`, else `""`."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """One of `choices` (compared with `==`); the error suggests the nearest name."""
    choices = tuple(choices)
    try:
        ok = value in choices
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        listed = ", ".join(repr(c) for c in choices)
        raise InputError(
            f"{name}: got {value!r}, expected one of {listed}{suggest(value, choices)}"
        )
    return value


def check_keys(where: str, mapping: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Every key of `mapping` is in `allowed`; an unknown key is an error that names it
    and suggests the nearest valid one."""
    allowed = tuple(allowed)
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        parts = [f"{k!r}{suggest(k, allowed)}" for k in unknown]
        raise InputError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(parts)}; "
            f"expected keys among {', '.join(repr(a) for a in allowed)}"
        )


def check_type(name: str, value: Any, types: type | tuple[type, ...], expected: str) -> Any:
    """An instance of `types`; `expected` says in words what was expected."""
    if not isinstance(value, types):
        raise InputError(f"{name}: got {type(value).__name__} {_short(value)}, expected {expected}")
    return value


def check_array(name: str, value: Any, rank: int | None = None, shape: str = "") -> np.ndarray:
    """`value` read as a NumPy array of real numbers (integers, floats or booleans) of rank
    `rank` (any rank when `None`); `shape` names the axes in words, `"(trials, time,
    units)"`, for the message. Non-finite values are left to the caller."""
    what = f"an array of shape {shape}" if shape else "an array"
    if value is None:
        raise InputError(f"{name}: missing; expected {what}")
    try:
        arr = np.asarray(value)
    except Exception as e:  # ragged nesting, objects that refuse conversion
        raise InputError(f"{name}: could not be read as an array ({e}); expected {what}") from e
    if not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == np.bool_
    ):
        raise InputError(f"{name}: got dtype {arr.dtype}, expected {what} of real numbers")
    if rank is not None and arr.ndim != rank:
        raise InputError(
            f"{name}: got shape {arr.shape} (rank {arr.ndim}), expected rank {rank}"
            + (f", {shape}" if shape else "")
        )
    return arr


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_float_array(
    name: str, value: Any, expected: str = "a number or an array of numbers"
) -> np.ndarray:
    """`value` as a float64 NumPy array; anything that is not numbers (strings, objects,
    ragged lists) is an `InputError` naming `expected`."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InputError(f"{name}: got {_short(value)}, expected {expected}") from e


def available_memory() -> int | None:
    """Bytes of memory this machine can still give: `MemAvailable` of /proc/meminfo, else
    the physical memory (`os.sysconf`); `None` when neither is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(n: float | int) -> str:
    """`n` bytes in words: `"1.5 GB"`, `"320 MB"` (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} TB"  # pragma: no cover


def check_memory(name: str, got: Any, nbytes: float | int, what: str) -> None:
    """Refuses, before any work, a computation estimated to need `nbytes` of memory when
    that exceeds what the machine has available (`available_memory`).

    **Arguments:**

    - `name`, `got`: the argument that sets the size and its value (for the message).
    - `nbytes`: the estimate, in bytes.
    - `what`: what needs the memory, in words (`"the model's parameters"`).

    **Raises:** `InputError` naming the argument, the estimate and the limit.
    """
    limit = available_memory()
    if limit is not None and nbytes > limit:
        raise InputError(
            f"{name}: got {got!r}; {what} would need about {format_bytes(nbytes)}, more than "
            f"the {format_bytes(limit)} of memory available; expected a size that fits"
        )
