"""Argument checks shared by every layer: each raises `InputError` naming the argument,
the value received and what was expected.

This module sits on the ground floor (it imports only `_errors`, the standard library
and NumPy), so vector fields, parametrisations, models, integrators, trainers, tasks,
analysis and the command line all refuse bad input with the same words.
"""

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ._errors import InputError

_INTEGERS = (int, np.integer)
_NUMBERS = (int, float, np.integer, np.floating)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBERS) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """An integer in `[low, high]` (either bound may be `None`); returns it as `int`."""
    ok = isinstance(value, _INTEGERS) and not isinstance(value, (bool, np.bool_))
    if ok:
        ok = (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        if low is not None and high is not None:
            rng = f" in [{low}, {high}]"
        elif low is not None:
            rng = " >= 0" if low == 0 else (" >= 1 (a positive integer)" if low == 1 else f" >= {low}")
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
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the interval given by `low`/`high` (closed unless
    `low_open`/`high_open`); returns it as `float`."""
    ok = _is_number(value)
    if ok:
        v = float(value)
        ok = math.isfinite(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
    if not ok:
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
    return float(value)


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
        raise InputError(f"{name}: got {value!r}, expected one of {listed}{suggest(value, choices)}")
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


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
