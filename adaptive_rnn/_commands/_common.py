"""Helpers shared by the subcommands: argument types, reading .npz files safely,
checking and writing outputs."""

import argparse
import io
from pathlib import Path

import numpy as np

from .._checks import check_int, check_nonnegative, check_positive, check_positive_int
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
seed_int = _arg_type(int, lambda n, v: check_int(n, v, 0, 2**32 - 1), "an integer in [0, 2**32 - 1]")
positive_float = _arg_type(float, check_positive, "a positive finite number")
nonnegative_float = _arg_type(float, check_nonnegative, "a finite number >= 0")


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


def load_npz(path: str, required: tuple[str, ...], option: str | None = None) -> dict[str, np.ndarray]:
    """`adaptive_rnn.train._data.load_npz` (imported when first used: the parsers stay
    quick to build)."""
    from ..train._data import load_npz as _load

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
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    atomic_write_bytes(path, buf.getvalue())


def save_figure(fig, path: str) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=120)


def add_model_options(parser) -> None:
    """Options that describe a fresh model (`--random` and friends)."""
    g = parser.add_argument_group("a fresh random model (instead of MODEL)")
    g.add_argument(
        "--random", choices=("aru", "ctrnn", "shunting"),
        help="build a fresh model of this family (ctrnn: alpha = --alpha-s; shunting: G_b = 1, A = 1, Dale's law)",
    )
    g.add_argument("--hidden", type=positive_int, default=10, help="hidden units (default 10)")
    g.add_argument("--n-in", type=positive_int, help="input width (default: from the inputs)")
    g.add_argument("--n-out", type=positive_int, default=2, help="output width (default 2)")
    g.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")
    g.add_argument("--activation", type=activation_name, default="sigmoid",
                   help="activation: sigmoid (default), tanh, relu, linear, softplus, retanh")
    g.add_argument("--dt", type=positive_float, help="time step (ctrnn default 1, shunting default 0.1)")
    g.add_argument("--alpha-s", type=positive_float, default=0.5,
                   help="alpha_s = dt/tau_s (default 0.5): below 1, or below 2 with --time-constants static")
    g.add_argument("--alpha-r", type=positive_float, default=0.5, help="alpha_r = dt/tau_r (default 0.5), as --alpha-s")
    g.add_argument(
        "--time-constants", choices=("static", "global", "local"), default="global",
        help="time-constant mode (default global)",
    )
