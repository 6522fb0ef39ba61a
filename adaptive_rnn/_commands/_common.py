"""Helpers shared by the subcommands: argument types, reading .npz files safely,
checking and writing outputs."""

import argparse
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np

from .._checks import check_int, check_nonnegative, check_number, check_positive, check_positive_int
from .._errors import InputError
from .._io import atomic_write_bytes, check_writable_dir, check_writable_file

# --------------------------------------------------------------------------------------
# Argument types: a bad value is an argparse error (one line, exit status 2)
# --------------------------------------------------------------------------------------


def _arg_type(convert, check, expected: str):
    def parse(text: str):
        try:
            value = convert(text)
            return check("value", value)
        except (ValueError, OverflowError) as e:  # InputError is a ValueError
            raise argparse.ArgumentTypeError(f"got {text!r}, expected {expected}") from e

    parse.__name__ = expected
    return parse


positive_int = _arg_type(int, check_positive_int, "a positive integer")
nonnegative_int = _arg_type(int, lambda n, v: check_int(n, v, 0), "an integer >= 0")
seed_int = _arg_type(
    int, lambda n, v: check_int(n, v, 0, 2**32 - 1), "an integer in [0, 2**32 - 1]"
)
positive_float = _arg_type(float, check_positive, "a positive finite number")
nonnegative_float = _arg_type(float, check_nonnegative, "a finite number >= 0")


def seed_key(seed: int):
    """`jax.random.key(seed)` without running a JAX program (the default threefry key
    of a seed in [0, 2**32) is the key data `[0, seed]`), so that a command can refuse
    its arguments before anything compiles. Other PRNG implementations use
    `jax.random.key`."""
    import jax

    # jax's Config declares its flags dynamically, so its stubs do not list them.
    if jax.config.jax_default_prng_impl == "threefry2x32" and 0 <= seed < 2**32:  # pyright: ignore[reportAttributeAccessIssue]
        # A NumPy array, not jnp.asarray: converting it would run a program. The stubs
        # ask for a jax.Array; wrap_key_data accepts any array.
        data = np.array([0, seed], dtype=np.uint32)
        return jax.random.wrap_key_data(data)  # pyright: ignore[reportArgumentType]
    return jax.random.key(seed)


def activation_name(text: str) -> str:
    """An argparse type: an activation name (any case; see `canonical_activation`)."""
    from .._activations import canonical_activation

    try:
        return canonical_activation(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("activation: ")) from e


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def load_npz(
    path: str, required: tuple[str, ...], option: str | None = None
) -> dict[str, np.ndarray]:
    """`adaptive_rnn._io.load_npz` (imported when first used: the parsers stay
    quick to build)."""
    from .._io import load_npz as _load

    return _load(path, required, option)


def check_output_file(option: str, path: str, *, inputs: tuple[str | None, ...] = ()) -> Path:
    """Checks, before any work starts, that `path` can receive an output file
    (`adaptive_rnn._io.check_writable_file`) and is not the same file as any of `inputs`
    (which the output would overwrite). An existing regular file is replaced."""
    p = check_writable_file(path, name=option)
    for src in inputs:
        if src is not None and p.resolve() == Path(src).resolve():
            raise InputError(
                f"{option}: got {path!r}, the same file as the input {src!r}; expected another "
                f"path (the input would be overwritten)"
            )
    return p


def check_output_dir(option: str, path: str) -> Path:
    """Checks, before any work starts, that `path` is an existing folder or can become
    one (`adaptive_rnn._io.check_writable_dir`)."""
    return check_writable_dir(path, name=option)


def save_npz(path: str, **arrays) -> None:
    buf = io.BytesIO()
    # numpy's stub matches `**kwds` against `allow_pickle: bool` (arrays are accepted at run time).
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})  # pyright: ignore[reportArgumentType]
    atomic_write_bytes(path, buf.getvalue())


def save_figure(fig, path: str) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=120)


#: The options a fresh model (`--random FAMILY`) of each family takes beyond the common
#: ones (`--hidden`, `--n-in`, `--n-out`, `--seed`, `--activation`, `--dt`); a registered
#: family not listed here takes only those: `cls(n_in, n_hidden, n_out, activation=...,
#: [dt=...,] key=...)`.
FAMILY_OPTIONS = {
    "aru": ("--time-constants", "--alpha-s", "--alpha-r"),
    "ctrnn": ("--time-constants", "--alpha"),
}
DEFAULT_ALPHA = 0.5
DEFAULT_TIME_CONSTANTS = "global"


def add_model_options(parser) -> None:
    """Options that describe a fresh model (`--random` and friends); the family choices
    and the time-constant modes come from the registries (`adaptive_rnn.models.FAMILIES`,
    `adaptive_rnn._params.MODES`)."""
    from .._params import MODES
    from ..models import family_names

    g = parser.add_argument_group("a fresh random model (instead of MODEL)")
    g.add_argument(
        "--random",
        choices=family_names(),
        help="build a fresh model of this family (ctrnn: alpha = --alpha; shunting: G_b = 1, A = 1, Dale's law)",
    )
    g.add_argument("--hidden", type=positive_int, default=10, help="hidden units (default 10)")
    g.add_argument("--n-in", type=positive_int, help="input width (default: from the inputs)")
    g.add_argument("--n-out", type=positive_int, default=2, help="output width (default 2)")
    g.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")
    g.add_argument(
        "--activation",
        type=activation_name,
        default="sigmoid",
        help="activation: sigmoid (default), tanh, relu, linear, softplus, retanh",
    )
    g.add_argument(
        "--dt",
        type=positive_float,
        help="time step (default: the family's; aru and ctrnn 1, shunting 0.1)",
    )
    g.add_argument(
        "--alpha",
        type=positive_float,
        help=f"ctrnn: alpha = dt/tau (default {DEFAULT_ALPHA:g}): below 1, or below 2 with "
        f"--time-constants static",
    )
    g.add_argument(
        "--alpha-s",
        type=positive_float,
        help=f"aru: alpha_s = dt/tau_s (default {DEFAULT_ALPHA:g}), as --alpha (for a ctrnn: a "
        f"deprecated spelling of --alpha)",
    )
    g.add_argument(
        "--alpha-r",
        type=positive_float,
        help=f"aru: alpha_r = dt/tau_r (default {DEFAULT_ALPHA:g}), as --alpha",
    )
    g.add_argument(
        "--time-constants",
        choices=MODES,
        help=f"time-constant mode of an aru or ctrnn (default {DEFAULT_TIME_CONSTANTS})",
    )


def fresh_model_kwargs(args) -> dict:
    """The keyword arguments of a fresh `--random` model's constructor (without `key`),
    checked before anything is built.

    For a ctrnn, `--alpha-s` is read as `--alpha` (its spelling in earlier versions), with
    a deprecation note on stderr.

    **Raises:** `InputError` for an option the family does not take, `--alpha` together
    with `--alpha-s` for a ctrnn, or a rate constant outside `(0, 1)` (`(0, 2)` with
    `--time-constants static`).
    """
    import sys

    family = args.random
    given = {
        "--time-constants": args.time_constants,
        "--alpha": args.alpha,
        "--alpha-s": args.alpha_s,
        "--alpha-r": args.alpha_r,
    }
    names = {"--alpha": "--alpha"}  # the option name a value came from (for messages)
    if family == "ctrnn" and args.alpha_s is not None:
        if args.alpha is not None:
            raise InputError(
                f"--alpha-s: got {args.alpha_s:g} together with --alpha {args.alpha:g} for a ctrnn; "
                f"expected --alpha alone (--alpha-s is its deprecated spelling)"
            )
        print("adaptive-rnn: --alpha-s for a ctrnn is deprecated; use --alpha", file=sys.stderr)
        given["--alpha"], given["--alpha-s"], names["--alpha"] = args.alpha_s, None, "--alpha-s"
    takes = FAMILY_OPTIONS.get(family, ())
    for option, value in given.items():
        if value is not None and option not in takes:
            users = [f for f, opts in FAMILY_OPTIONS.items() if option in opts]
            raise InputError(
                f"{option}: given for --random {family}, which does not take it; expected it only "
                f"with --random {' or '.join(users)}"
            )
    kwargs = {"activation": args.activation}
    if args.dt is not None:
        kwargs["dt"] = args.dt
    if "--time-constants" in takes:
        mode = args.time_constants or DEFAULT_TIME_CONSTANTS
        kwargs["time_constants"] = mode
        for option in takes:
            if option.startswith("--alpha"):
                value = DEFAULT_ALPHA if given[option] is None else given[option]
                check_number(
                    f"{names.get(option, option)} (with --time-constants {mode})",
                    value,
                    0,
                    2 if mode == "static" else 1,
                    low_open=True,
                    high_open=True,
                )
                kwargs[option[2:].replace("-", "_")] = value
    return kwargs


def build_fresh_model(args, n_in: int, kwargs: dict, key):
    """A fresh model of the family `args.random` (`fresh_model_kwargs` gives `kwargs`).

    **Raises:** `InputError` from the constructor; its memory check (named `n_hidden`
    there) is reported as `--hidden`.
    """
    from ..models import get_family

    # Every family's constructor is (n_in, n_hidden, n_out, *, key, ...); the abstract
    # base's dataclass __init__ does not show that to the type checker.
    cls = cast(Callable[..., Any], get_family(args.random))
    try:
        return cls(n_in, args.hidden, args.n_out, key=key, **kwargs)
    except InputError as e:
        message = str(e)
        if message.startswith("n_hidden:"):
            raise InputError("--hidden:" + message.removeprefix("n_hidden:")) from e
        raise
