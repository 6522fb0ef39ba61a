"""Construction shared by the model families: the three weight matrices with their Dale
signs, masks and frozen entries (`build_weights`, every family), biases and the initial
state (CTRNN, shunting), the structure of the weights in a file."""

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._activations import get_activation
from .._checks import as_float_array
from .._connectivity import Connectivity, Weight, ei_signs, make_weight, weight_from_structure
from .._errors import InputError
from .._params import Frozen
from ._base import AbstractRNN

MASK_NAMES = ("in", "rec", "out")


def _triple(name, value, default):
    if value is None:
        return (default,) * 3
    if isinstance(value, str):
        return (value,) * 3
    if isinstance(value, (list, tuple)) and len(value) == 3:
        return tuple(default if v is None else v for v in value)
    raise InputError(f"{name}: got {value!r}, expected a string or a sequence of 3 (in, rec, out)")


def _named(name: str, value, allowed=MASK_NAMES) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or any(k not in allowed for k in value):
        got = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise InputError(f"{name}: got {got}, expected a dict with keys among {allowed}")
    return dict(value)


def build_weights(
    *,
    n_in: int,
    n: int,
    n_out: int,
    weights,
    dtype,
    key,
    rec_scale: float = 1.0,
    connectivity: Connectivity | None = None,
    **options,
) -> tuple[Weight, Weight, Weight, np.ndarray | None]:
    """The input, recurrent and readout `Weight`s of a one-layer network: the one place
    where the connectivity options of every family become weights.

    **Arguments:**

    - `n_in`, `n`, `n_out`: sizes.
    - `weights`: initialisation of `(W_in, W_hid, W_out)` (see `make_weight`): one
        value for all three or a sequence of three (strings or arrays).
    - `dtype`, `key`: parameter dtype and the key of the random initialisations.
    - `rec_scale`: scale of a random initial recurrent matrix.
    - `connectivity`: a `Connectivity`, or its options as keyword arguments.

    **Returns:** `(W_in, W_hid, W_out, signs)`, `signs` the E/I sign per unit (or `None`).

    **Raises:** `InputError` for bad options, masks or arrays.
    """
    c = Connectivity.from_options("connectivity", options) if connectivity is None else connectivity
    inits = _triple("weights", weights, "uniform")
    masks = _named("masks", c.masks)
    fixed = _named("fixed", c.fixed)
    signs = ei_signs(n, c.e_fraction, ei=c.ei) if c.dale is not None else None
    k_in, k_rec, k_out = jax.random.split(key, 3)
    W_in = make_weight(
        "W_in",
        (n, n_in),
        init=inits[0],
        key=k_in,
        dtype=dtype,
        dale=None,
        nonneg=c.nonneg_input,
        mask=masks.get("in"),
        fixed=fixed.get("in", False),
    )
    rec_init = inits[1]
    if isinstance(rec_init, str) and rec_scale != 1.0:
        rec_init = (
            np.asarray(
                make_weight("W_hid", (n, n), init=rec_init, key=k_rec, dtype=dtype).effective()
            )
            * rec_scale
        )
    W_hid = make_weight(
        "W_hid",
        (n, n),
        init=rec_init,
        key=k_rec,
        dtype=dtype,
        dale=c.dale,
        signs=signs,
        mask=masks.get("rec"),
        fixed=fixed.get("rec", False),
        no_self=not c.self_connections,
        radius=c.spectral_radius,
        balance=c.balance,
    )
    out_mask = masks.get("out")
    if c.readout_excitatory_only:
        assert signs is not None  # `Connectivity` refuses readout_excitatory_only without dale
        exc = np.broadcast_to((signs > 0)[None, :].astype(np.float64), (n_out, n))
        out_mask = exc if out_mask is None else np.asarray(out_mask) * exc
    W_out = make_weight(
        "W_out",
        (n_out, n),
        init=inits[2],
        key=k_out,
        dtype=dtype,
        dale=None,
        mask=out_mask,
        fixed=fixed.get("out", False),
    )
    return W_in, W_hid, W_out, signs


@dataclasses.dataclass(frozen=True)
class SavedLayout:
    """What a family's `from_config` returns for a file whose arrays are laid out as an
    earlier version of the family held them: `like`, a pytree of placeholders in the
    file's order, and `convert`, which builds the model from `like` filled with the saved
    values (`adaptive_rnn._io.model_from_files` does both)."""

    like: Any
    convert: Callable[[Any], AbstractRNN]


def layout_with_leaves_last(model: AbstractRNN, moved: Sequence[Callable]) -> SavedLayout:
    """The `SavedLayout` of files that held the same leaves as `model`, but the nodes
    `moved` (functions `model -> node`; those that are `None` in `model` are skipped)
    after all the others, in that order."""
    getters = [g for g in moved if g(model) is not None]

    def where(m):
        return [g(m) for g in getters]

    def convert(loaded) -> AbstractRNN:
        rest, nodes = loaded
        return eqx.tree_at(where, rest, replace=nodes, is_leaf=lambda x: x is None)

    rest = eqx.tree_at(where, model, replace=[None] * len(getters))
    return SavedLayout(like=(rest, where(model)), convert=convert)


BIAS_INITS = (None, "zero", "normal", "uniform")


def make_bias(name: str, init, n: int, fan_in: int, key, dtype):
    """A bias vector: `None` (no bias: frozen zeros), `"zero"`, `"normal"`, `"uniform"`
    (both scaled by `1/sqrt(fan_in)`) or an array of shape `(n,)`."""
    if init is None:
        return Frozen(jnp.zeros((n,), dtype=dtype))
    if isinstance(init, str):
        if init == "zero":
            return jnp.zeros((n,), dtype=dtype)
        if init == "normal":
            return jax.random.normal(key, (n,), dtype=dtype) / float(
                np.sqrt(fan_in)
            )  # a Python float keeps the dtype
        if init == "uniform":
            k = 1 / np.sqrt(fan_in)
            return jax.random.uniform(key, (n,), dtype=dtype, minval=-k, maxval=k)
        raise InputError(f"{name}: got {init!r}, expected one of {BIAS_INITS} or an array")
    arr = as_float_array(name, init, f"one of {BIAS_INITS} or an array of shape ({n},)")
    if arr.shape != (n,):
        raise InputError(f"{name}: got an array of shape {arr.shape}, expected ({n},)")
    return jnp.asarray(arr, dtype=dtype)


def make_initial_state(value, n: int, learnable: bool, dtype):
    """The initial hidden state: zeros or a given `(n,)` array; a `Frozen` unless learnable."""
    if value is None:
        v = jnp.zeros((n,), dtype=dtype)
    else:
        arr = as_float_array("initial_state", value, f"an array of shape ({n},)")
        if arr.shape != (n,):
            raise InputError(f"initial_state: got shape {arr.shape}, expected ({n},)")
        v = jnp.asarray(arr, dtype=dtype)
    return v if learnable else Frozen(v)


def unwrap(x):
    return x.value if isinstance(x, Frozen) else x


def weights_structure(model) -> dict:
    return {
        k: getattr(model, a).structure()
        for k, a in (("in", "W_in"), ("rec", "W_hid"), ("out", "W_out"))
    }


def restore_structure(model, config: dict):
    """Replaces the weights, biases and initial state of a freshly built model by
    placeholders with the structure recorded in `config` (for `load_model`)."""
    import equinox as eqx

    dtype = jnp.dtype(config.get("dtype") or jnp.result_type(float))
    ws = config.get("weights", {})
    for k, a in (("in", "W_in"), ("rec", "W_hid"), ("out", "W_out")):
        if k in ws:
            shape = getattr(model, a).shape
            model = eqx.tree_at(
                lambda m, a=a: getattr(m, a), model, weight_from_structure(a, shape, ws[k], dtype)
            )
    for a, kind in config.get("vectors", {}).items():
        v = unwrap(getattr(model, a))
        model = eqx.tree_at(
            lambda m, a=a: getattr(m, a), model, Frozen(v) if kind == "frozen" else v
        )
    return model


def vectors_structure(model, names) -> dict:
    return {a: "frozen" if isinstance(getattr(model, a), Frozen) else "trainable" for a in names}


class AbstractVoltageRNN(AbstractRNN):
    """The interface shared by the one-variable models (CTRNN, Shunting): state `(v,)`,
    input drive `W_in x`, rate `f(v)`, readout `W_out f(v) + b_out`. Subclasses hold the
    weights `W_in`, `W_hid`, `W_out` (`Weight`s) and an `activation` name, and their
    resolved parameters carry `W_in`, `W_out`, `b_out` and `v0`."""

    W_in: eqx.AbstractVar[Weight]
    W_hid: eqx.AbstractVar[Weight]
    W_out: eqx.AbstractVar[Weight]
    activation: eqx.AbstractVar[str]

    @property
    def n_in(self) -> int:
        return self.W_in.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.W_hid.shape[0]

    @property
    def n_out(self) -> int:
        return self.W_out.shape[0]

    def initial_state(self, resolved):
        return (resolved.v0,)

    def drive(self, resolved, x):
        return x @ resolved.W_in.T

    def drive_weights(self, resolved):
        return resolved.W_in

    def rate(self, y) -> Array:
        return get_activation(self.activation)(y[0])

    def output(self, resolved, y):
        return resolved.W_out @ self.rate(y) + resolved.b_out

    def rate_to_drive(self, resolved, r):
        return resolved.params.W @ r

    def output_noise(self, resolved, xi):
        return resolved.W_out @ xi
