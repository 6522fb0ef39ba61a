"""Helpers shared by the subcommands: reading .npz files safely, writing outputs."""

import io
from pathlib import Path

import numpy as np

from .._errors import InputError
from .._io import atomic_write_bytes


def load_npz(path: str, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Reads an .npz file without pickle, checking that `required` keys are present."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as e:
        raise InputError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from e
    missing = [k for k in required if k not in data]
    if missing:
        raise InputError(f"{path}: missing arrays {missing}; found {sorted(data)}, expected {list(required)}")
    return data


def check_output_file(option: str, path: str, *, inputs: tuple[str | None, ...] = ()) -> Path:
    """Checks, before any work starts, that `path` can receive an output file: not an
    existing folder, its parent not a file, and not the same file as any of `inputs`
    (which the output would overwrite). An existing regular file is replaced."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{option}: got {path!r}, an existing folder; expected a file path")
    for parent in p.parents:
        if parent.exists() and not parent.is_dir():
            raise InputError(f"{option}: got {path!r}, but {str(parent)!r} is a file; expected a folder there")
    for src in inputs:
        if src is not None and p.resolve() == Path(src).resolve():
            raise InputError(
                f"{option}: got {path!r}, the same file as the input {src!r}; expected another "
                f"path (the input would be overwritten)"
            )
    return p


def check_output_dir(option: str, path: str) -> Path:
    """Checks, before any work starts, that `path` is an existing folder or can become
    one (neither it nor a parent is a file)."""
    p = Path(path)
    for q in (p, *p.parents):
        if q.exists() and not q.is_dir():
            what = "is" if q == p else f"lies under {str(q)!r}, which is"
            raise InputError(f"{option}: got {path!r}, which {what} an existing file; expected a folder")
    return p


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
    g.add_argument("--hidden", type=int, default=10, help="hidden units (default 10)")
    g.add_argument("--n-in", type=int, help="input width (default: from the inputs)")
    g.add_argument("--n-out", type=int, default=2, help="output width (default 2)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--activation", default="sigmoid", help="activation (default sigmoid)")
    g.add_argument("--dt", type=float, help="time step (ctrnn default 1, shunting default 0.1)")
    g.add_argument("--alpha-s", type=float, default=0.5, help="alpha_s = dt/tau_s (default 0.5)")
    g.add_argument("--alpha-r", type=float, default=0.5, help="alpha_r = dt/tau_r (default 0.5)")
    g.add_argument(
        "--time-constants", choices=("static", "global", "local"), default="global",
        help="time-constant mode (default global)",
    )
