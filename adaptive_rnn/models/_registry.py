"""The one registry of model families: name -> class.

Every reader (the command line, `load_model`, the analyses, the sweeps and the contract
test) takes the list of families from `FAMILIES`, never from a literal list, so a family
registered with `register_family` is saved, loaded, offered on the command line and
checked by `tests/test_contract.py` without any other change (see `docs/extending.md`).
"""

import inspect
from typing import Any

from .._checks import suggest
from .._errors import InputError
from ._base import AbstractRNN

FAMILIES: dict[str, type[AbstractRNN]] = {}
"""Registered model families, name -> class, in registration order. Read it; add to it
only through `register_family`."""


def register_family(name: Any, cls: Any) -> type[AbstractRNN]:
    """Registers a model family under `name`.

    **Arguments:**

    - `name`: the family's name (a `str`), a lower-case identifier (e.g. `"ctrnn"`); it must equal
        `cls.family`, the name `cls.config()` records, so that `load_model` finds the
        class again.
    - `cls`: a concrete (final) subclass of `AbstractRNN`.

    (Both are annotated `Any` so that a wrong type reaches the check below and raises
    `InputError`, not a type checker's error.)

    **Returns:** `cls` (so it can be used as `register_family("name", Cls)` in place).

    **Raises:** `InputError` if `name` is not a lower-case identifier or is already
    registered, if `cls` is not a subclass of `AbstractRNN`, is still abstract (it lacks
    some of the methods `AbstractRNN` declares), or has `cls.family != name`.
    """
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise InputError(f"name: got {name!r}, expected a lower-case identifier such as 'ctrnn'")
    if not (isinstance(cls, type) and issubclass(cls, AbstractRNN)):
        got = cls.__name__ if isinstance(cls, type) else type(cls).__name__
        raise InputError(f"cls: got {got}, expected a subclass of adaptive_rnn.AbstractRNN")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise InputError(
            f"cls: {cls.__name__} is abstract (it does not implement {missing}); expected a "
            f"class that implements every method AbstractRNN declares"
        )
    if cls.family != name:
        raise InputError(
            f"cls: {cls.__name__}.family is {cls.family!r}, expected {name!r} (the name its "
            f"config() records, by which load_model finds it)"
        )
    if name in FAMILIES:
        raise InputError(
            f"name: got {name!r}, already registered for {FAMILIES[name].__name__}; expected "
            f"a new name"
        )
    FAMILIES[name] = cls
    return cls


def get_family(name: Any) -> type[AbstractRNN]:
    """The class of a registered family.

    **Arguments:**

    - `name`: the family's registered name (`"aru"`, `"ctrnn"`, ...).

    **Returns:** its class.

    **Raises:** `InputError` naming the registered families (with the nearest one) for
    an unknown name.
    """
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        listed = ", ".join(repr(n) for n in FAMILIES)
        raise InputError(
            f"model family: got {name!r}, expected one of {listed}{suggest(name, FAMILIES)}"
        ) from None


def family_names() -> tuple[str, ...]:
    """The registered family names, in registration order (for command-line choices).

    **Returns:** the names.
    """
    return tuple(FAMILIES)
