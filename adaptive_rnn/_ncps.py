r"""Migration from `ncps` (PyTorch): a saved liquid time-constant network -> an
adaptive_rnn `LTC` with the same dynamics.

`ncps.torch.LTCCell` (and `ncps.torch.LTC`, which steps one `rnn_cell` over a sequence)
is saved with `torch.save(model.state_dict(), path)`. Keys read (under an optional
prefix such as `rnn_cell.`), `n` units, `n_in` inputs, matrices `[pre, post]` (they are
transposed to our `[post, pre]`):

    gleak, vleak, cm (n,)           sigma, mu, w, erev, sparsity_mask (n, n)
    sensory_sigma, sensory_mu, sensory_w, sensory_erev, sensory_sparsity_mask (n_in, n)
    input_w, input_b (n_in,)        output_w, output_b (n_motor,)

The mappings follow from the keys present (`input_w` and `input_b`: affine; `input_w`:
linear; neither: none; the same for the output, whose width is that of `output_w`).
What the state dict does not hold is an argument: the elapsed time per step (`dt`,
ncps's `elapsed_time`/`timespans`, default 1), `ode_unfolds` (6), `epsilon` (1e-8) and
`implicit_param_constraints` (softplus on `gleak`, `cm`, `w`, `sensory_w`: ncps's `LTC`
default, True; its `LTCCell` default, False; by default the one of the class the keys
show). The values are taken as saved, so the imported model computes what ncps
computes (ncps's update is `adaptive_rnn._fields.ltc_unfold`). Not imported: the LSTM
of `mixed_memory=True` (refused), the wiring's graph (its masks are imported).

Files are read as `import_nn4n` reads them: `torch.load(weights_only=True)` with torch,
else a tensor-only reader of the zip format that checks every size, stride, offset and
record against its storage; a malformed file is a `CheckpointError`.
"""

from collections.abc import Mapping
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._checks import (
    check_nonnegative,
    check_optional,
    check_positive,
    check_positive_int,
    check_type,
)
from ._errors import CheckpointError, InputError
from ._nn4n import _short, load_torch_file
from .models import LTC

REQUIRED = (
    "gleak",
    "vleak",
    "cm",
    "sigma",
    "mu",
    "w",
    "erev",
    "sensory_sigma",
    "sensory_mu",
    "sensory_w",
    "sensory_erev",
)
OPTIONAL = ("sparsity_mask", "sensory_sparsity_mask", "input_w", "input_b", "output_w", "output_b")
SEQUENCE_PREFIX = "rnn_cell."  # an ncps.torch.LTC holds its LTCCell as `rnn_cell`


def read_ncps_checkpoint(path) -> dict[str, np.ndarray]:
    """Reads a state dict saved from an `ncps` LTC (`torch.save(model.state_dict(), path)`;
    also a dict holding it under `"state_dict"` or `"model_state_dict"`).

    **Returns:** key -> NumPy array, keys as saved.

    **Raises:** `CheckpointError` for a missing, unreadable or malformed file, or one that
    does not hold a dict of string keys and numeric tensors.
    """
    path = Path(path)
    what = f"ncps checkpoint {path}"
    obj = load_torch_file(path, what)
    if isinstance(obj, Mapping):
        for name in ("state_dict", "model_state_dict"):
            if isinstance(obj.get(name), Mapping):
                obj = obj[name]
                break
    if not isinstance(obj, Mapping):
        raise CheckpointError(
            f"{what}: got {type(obj).__name__}, expected a state dict (a dict of tensors)"
        )
    sd = {}
    for k, v in obj.items():
        try:
            arr = v.detach().cpu().numpy() if hasattr(v, "detach") else v
        except Exception as e:  # a torch dtype NumPy lacks (bfloat16, ...)
            raise CheckpointError(f"{what}: [{_short(k)}] cannot become a NumPy array ({e})") from e
        if (
            not isinstance(k, str)
            or not isinstance(arr, np.ndarray)
            or arr.dtype.kind not in "biuf"
        ):
            raise CheckpointError(
                f"{what}: [{_short(k)}] is {_short(arr)}; expected string keys and numeric tensors"
            )
        sd[k] = arr
    return sd


def _split_prefix(sd: Mapping, what: str) -> tuple[str, dict]:
    """The prefix of the cell's keys (`""` or e.g. `"rnn_cell."`) and its entries
    without it; any other key is refused."""
    prefixes = sorted(
        k[: -len("gleak")]
        for k in sd
        if k.endswith("gleak") and (k == "gleak" or k.endswith(".gleak"))
    )
    if len(prefixes) != 1:
        found = "no" if not prefixes else f"{len(prefixes)} ({prefixes})"
        raise CheckpointError(
            f"{what}: {found} LTC cells (keys ending in 'gleak'); expected one, the state dict of an "
            f"ncps LTCCell or LTC; got keys {sorted(sd)[:12]}"
        )
    prefix = prefixes[0]
    cell = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
    other = sorted(
        k for k in sd if not k.startswith(prefix) or k[len(prefix) :] not in REQUIRED + OPTIONAL
    )
    if other:
        hint = (
            " (mixed_memory=True: its LSTM is not part of the LTC)"
            if any("lstm" in k for k in other)
            else ""
        )
        raise CheckpointError(
            f"{what}: unexpected keys {other[:8]}{hint}; expected only the LTC cell's {REQUIRED + OPTIONAL}"
        )
    missing = [prefix + k for k in REQUIRED if k not in cell]
    if missing:
        raise CheckpointError(
            f"{what}: missing keys {missing}; expected {[prefix + k for k in REQUIRED]}"
        )
    return prefix, cell


def _mapping(cell: dict, side: str, what: str) -> str:
    w, b = f"{side}_w" in cell, f"{side}_b" in cell
    if b and not w:
        raise CheckpointError(
            f"{what}: {side}_b without {side}_w; expected both (affine), {side}_w alone (linear) or neither"
        )
    return "affine" if b else "linear" if w else "none"


def ncps_to_ltc(
    state_dict: Mapping,
    *,
    dt: float = 1.0,
    ode_unfolds: int = 6,
    epsilon: float = 1e-8,
    implicit_param_constraints: bool | None = None,
    n_out: int | None = None,
    dtype=None,
    key=None,
    what: str = "ncps state dict",
) -> LTC:
    """An adaptive_rnn `LTC` with the dynamics of an `ncps` LTC cell.

    **Arguments:**

    - `state_dict`: the cell's state dict (arrays or tensors), keys as in the module
        docstring, optionally under one prefix (`rnn_cell.` for an `ncps.torch.LTC`).
    - `dt`: the elapsed time of one step (ncps's `elapsed_time`; default 1).
    - `ode_unfolds`, `epsilon`: as the ncps cell was built (defaults 6 and 1e-8).
    - `implicit_param_constraints`: whether the cell applied softplus to `gleak`, `cm`,
        `w` and `sensory_w` (`LTC(positivity="softplus")`) or used them as they are
        (`"clip"`); default: ncps's default for the class, True under `rnn_cell.` (an
        `LTC`), else False (an `LTCCell`).
    - `n_out`: the number of motor units read out when the state dict has no
        `output_w` (default: all units, ncps's default wiring).
    - `dtype`: the parameter dtype (default JAX's default float); `key`: unused draws.
    - `what`: the name of the source in error messages.

    **Returns:** an `LTC` (matrices transposed to `[post, pre]`, masks imported).

    **Raises:** `InputError` for bad arguments; `CheckpointError` naming missing or
    unexpected keys, arrays of unexpected shapes, non-finite values or non-binary masks.
    """
    dt = check_positive("dt", dt)
    ode_unfolds = check_positive_int("ode_unfolds", ode_unfolds)
    epsilon = check_nonnegative("epsilon", epsilon)
    if implicit_param_constraints is not None:
        check_type(
            "implicit_param_constraints", implicit_param_constraints, bool, "True, False or None"
        )
    n_out = check_optional(check_positive_int, "n_out", n_out)
    sd = {
        k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
        for k, v in state_dict.items()
    }
    prefix, cell = _split_prefix(sd, what)
    if cell["gleak"].ndim != 1 or cell["sensory_w"].ndim != 2:
        raise CheckpointError(
            f"{what}: {prefix}gleak has shape {cell['gleak'].shape} and {prefix}sensory_w "
            f"{cell['sensory_w'].shape}; expected (n,) and (n_in, n)"
        )
    n, n_in = cell["gleak"].shape[0], cell["sensory_w"].shape[0]
    in_map, out_map = _mapping(cell, "input", what), _mapping(cell, "output", what)
    if "output_w" in cell:
        if cell["output_w"].ndim != 1:
            raise CheckpointError(
                f"{what}: {prefix}output_w has shape {cell['output_w'].shape}, expected (n_motor,)"
            )
        n_out = cell["output_w"].shape[0]
    n_out = n if n_out is None else n_out
    if not 1 <= n_out <= n:
        raise CheckpointError(f"{what}: {n_out} motor units; expected between 1 and the {n} units")
    expected = {
        "gleak": (n,),
        "vleak": (n,),
        "cm": (n,),
        "sigma": (n, n),
        "mu": (n, n),
        "w": (n, n),
        "erev": (n, n),
        "sparsity_mask": (n, n),
        "sensory_sigma": (n_in, n),
        "sensory_mu": (n_in, n),
        "sensory_w": (n_in, n),
        "sensory_erev": (n_in, n),
        "sensory_sparsity_mask": (n_in, n),
        "input_w": (n_in,),
        "input_b": (n_in,),
        "output_w": (n_out,),
        "output_b": (n_out,),
    }
    for k, shape in expected.items():
        if k in cell:
            if cell[k].shape != shape:
                raise CheckpointError(
                    f"{what}: {prefix}{k} has shape {cell[k].shape}, expected {shape} ({n} units, {n_in} inputs)"
                )
            if not np.all(np.isfinite(cell[k])):
                raise CheckpointError(
                    f"{what}: {prefix}{k} has non-finite values; expected finite values"
                )
    # ncps stores [pre, post]; ours is [post, pre]. Values in float64 (float32 cast exactly).
    p = {k: (v.T if v.ndim == 2 else v).astype(np.float64) for k, v in cell.items()}
    if implicit_param_constraints is None:
        implicit_param_constraints = prefix.endswith(SEQUENCE_PREFIX)
    try:
        model = LTC(
            n_in,
            n,
            n_out,
            dt=dt,
            ode_unfolds=ode_unfolds,
            epsilon=epsilon,
            positivity="softplus" if implicit_param_constraints else "clip",
            input_mapping=in_map,
            output_mapping=out_map,
            vleak=p["vleak"],
            sigma=p["sigma"],
            mu=p["mu"],
            erev=p["erev"],
            mask=p.get("sparsity_mask"),
            sensory_sigma=p["sensory_sigma"],
            sensory_mu=p["sensory_mu"],
            sensory_erev=p["sensory_erev"],
            sensory_mask=p.get("sensory_sparsity_mask"),
            input_w=p.get("input_w"),
            input_b=p.get("input_b"),
            output_w=p.get("output_w"),
            output_b=p.get("output_b"),
            dtype=dtype,
            key=jax.random.key(0) if key is None else key,
        )
    except InputError as e:  # a value our LTC refuses (a non-binary mask)
        raise CheckpointError(f"{what}: {e}") from None
    # The constrained parameters exactly as saved: ncps applies softplus (or nothing) to
    # these very values, and so does the LTC with the same `positivity`.
    dt_ = model.vleak.dtype
    return eqx.tree_at(
        lambda m: (m.gleak_raw, m.cm_raw, m.w_raw, m.sensory_w_raw),
        model,
        tuple(jnp.asarray(p[k], dtype=dt_) for k in ("gleak", "cm", "w", "sensory_w")),
    )


def import_ncps(path, out=None, **kwargs) -> LTC:
    """Reads an `ncps` LTC state dict (`read_ncps_checkpoint`) and returns (and, with
    `out`, saves with `save_model`) the equivalent adaptive_rnn `LTC`.

    Inputs: ncps's `LTC` is batch-first `(B, T, n_in)` by default, as adaptive_rnn is.

    **Arguments:** `path`; `out`: a folder to save the model to; `kwargs`: those of
    `ncps_to_ltc` (`dt`, `ode_unfolds`, `epsilon`, `implicit_param_constraints`,
    `n_out`, `dtype`).

    **Raises:** `CheckpointError` (see `read_ncps_checkpoint`, `ncps_to_ltc`), `InputError`
    for bad arguments.
    """
    sd = read_ncps_checkpoint(path)
    model = ncps_to_ltc(sd, what=f"ncps checkpoint {Path(path)}", **kwargs)
    if out is not None:
        from ._io import save_model

        save_model(out, model)
    return model
