"""Construction shared by the model families: the three weight matrices with their Dale
signs, masks and frozen entries (`build_weights`, every family), biases and the initial
state (CTRNN, shunting), the structure of the weights in a file; and the abstract classes
of the families built from them (`AbstractWeightedRNN`, `AbstractVoltageRNN`).

Why one file of over 400 lines: every piece is what two or more families share and none
is a family's own; the builders and the abstract classes that read what they build
change together (a new connectivity option touches `build_weights` and nothing else), and
much of the length is docstrings.
"""

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._activations import get_activation
from .._checks import as_float_array
from .._connectivity import Connectivity, Weight, ei_signs, make_weight, weight_from_structure
from .._errors import InputError
from .._params import Frozen
from ._base import AbstractRNN

MASK_NAMES = ("in", "rec", "out")
M = TypeVar("M", bound=AbstractRNN)


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


def connectivity_options(family: type, options: Mapping[str, Any], **defaults: Any) -> Connectivity:
    """The `Connectivity` of the keyword arguments that a family's constructor collected
    in its `**connectivity`: the one place where every family reads them.

    **Arguments:**

    - `family`: the model class (its name and its constructor's own keyword arguments
        are named in the error for an unknown keyword).
    - `options`: the collected keyword arguments.
    - `**defaults`: the family's defaults (e.g. `dale="abs"`).

    **Returns:** the `Connectivity`.

    **Raises:** `InputError` for an unknown keyword (naming it, the nearest accepted name
    and all of them) or an invalid option.
    """
    return Connectivity.from_options(
        family.__name__, options, others=_own_keywords(family), **defaults
    )


@functools.cache
def _own_keywords(family: type) -> tuple[str, ...]:
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = inspect.signature(family.__init__).parameters.values()
    return tuple(p.name for p in params if p.kind in kinds and p.name != "self")


def build_weights(
    sizes: tuple[int, int, int],
    weights: str | ArrayLike | Sequence,
    connectivity: Connectivity,
    *,
    dtype: Any,
    key: PRNGKeyArray,
) -> tuple[Weight, Weight, Weight]:
    """The input, recurrent and readout `Weight`s of a one-layer network: the one place
    where the connectivity options of every family become weights.

    **Arguments:**

    - `sizes`: `(n_in, n, n_out)`.
    - `weights`: initialisation of `(W_in, W_hid, W_out)` (see `make_weight`): one
        value for all three or a sequence of three (strings or arrays).
    - `connectivity`: the options (`connectivity_options`).
    - `dtype`, `key`: parameter dtype and the key of the random initialisations.

    **Returns:** `(W_in, W_hid, W_out)`; the Dale signs are `W_hid.signs`.

    **Raises:** `InputError` for bad masks or arrays.
    """
    c = connectivity
    n_in, n, n_out = sizes
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
    W_hid = make_weight(
        "W_hid",
        (n, n),
        init=inits[1],
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
    return W_in, W_hid, W_out


@dataclasses.dataclass(frozen=True)
class SavedLayout:
    """What a family's `from_config` returns for a file whose arrays are laid out as an
    earlier version of the family held them: `like`, a pytree of placeholders in the
    file's order, and `convert`, which builds the model from `like` filled with the saved
    values (`adaptive_rnn._io.model_from_files` does both).

    **Fields:**

    - `like`: the placeholders, in the file's order of leaves.
    - `convert`: `like` filled with the saved values -> the model.
    """

    like: Any
    convert: Callable[[Any], AbstractRNN]


def layout_with_leaves_last(model: AbstractRNN, moved: Sequence[Callable]) -> SavedLayout:
    """The `SavedLayout` of files that held the same leaves as `model`, but the nodes
    `moved` (functions `model -> node`; those that are `None` in `model` are skipped)
    after all the others, in that order.

    **Arguments:**

    - `model`: a freshly built model of the file's structure.
    - `moved`: the getters of the nodes the file held last.

    **Returns:** the `SavedLayout`.
    """
    getters = [g for g in moved if g(model) is not None]

    def where(m):
        return [g(m) for g in getters]

    def convert(loaded) -> AbstractRNN:
        rest, nodes = loaded
        return eqx.tree_at(where, rest, replace=nodes, is_leaf=lambda x: x is None)

    rest = eqx.tree_at(where, model, replace=[None] * len(getters))
    return SavedLayout(like=(rest, where(model)), convert=convert)


BIAS_INITS = (None, "zero", "normal", "uniform")


def make_bias(
    name: str, init: Any, n: int, fan_in: int, key: PRNGKeyArray, dtype: Any
) -> Float[Array, " n"] | Frozen:
    """A bias vector.

    **Arguments:**

    - `name`: for error messages.
    - `init`: `None` (no bias: frozen zeros), `"zero"`, `"normal"`, `"uniform"` (both
        scaled by `1/sqrt(fan_in)`) or an array of shape `(n,)`.
    - `n`, `fan_in`: its size and the number of inputs of each unit.
    - `key`, `dtype`: for a random initialisation; the dtype of the vector.

    **Returns:** the bias, a `Frozen` for `None`.

    **Raises:** `InputError` for another string or an array of the wrong shape.
    """
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


def make_initial_state(
    value: Any, n: int, learnable: bool, dtype: Any
) -> Float[Array, " n"] | Frozen:
    """The initial hidden state.

    **Arguments:**

    - `value`: `None` (zeros) or an array of shape `(n,)`.
    - `n`: the number of units; `learnable`: trained or not; `dtype`: its dtype.

    **Returns:** the state, a `Frozen` unless `learnable`.

    **Raises:** `InputError` for an array of the wrong shape.
    """
    if value is None:
        v = jnp.zeros((n,), dtype=dtype)
    else:
        arr = as_float_array("initial_state", value, f"an array of shape ({n},)")
        if arr.shape != (n,):
            raise InputError(f"initial_state: got shape {arr.shape}, expected ({n},)")
        v = jnp.asarray(arr, dtype=dtype)
    return v if learnable else Frozen(v)


def unwrap(x: Any) -> Any:
    """The value of a `Frozen`, or `x` itself.

    **Arguments:**

    - `x`: a `Frozen` or anything.

    **Returns:** `x.value` for a `Frozen`, else `x`.
    """
    return x.value if isinstance(x, Frozen) else x


def weights_structure(model: Any) -> dict[str, dict]:
    """The structure of the `W_in`, `W_hid` and `W_out` of a model (`Weight.structure`).

    **Arguments:**

    - `model`: a model with those three `Weight`s.

    **Returns:** `{"in": ..., "rec": ..., "out": ...}`, for `config()`.
    """
    return {
        k: getattr(model, a).structure()
        for k, a in (("in", "W_in"), ("rec", "W_hid"), ("out", "W_out"))
    }


def restore_structure(model: M, config: dict[str, Any]) -> M:
    """Replaces the weights, biases and initial state of a freshly built model by
    placeholders with the structure recorded in `config` (for `load_model`).

    **Arguments:**

    - `model`: the model `from_config` built.
    - `config`: its saved config (`"weights"`, `"vectors"`, `"dtype"`).

    **Returns:** the model with that structure (placeholder values).
    """
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


def vectors_structure(model: Any, names: Sequence[str]) -> dict[str, str]:
    """Which of the vectors `names` of `model` are frozen.

    **Arguments:**

    - `model`: a model; `names`: the names of its vector fields (`"b_out"`, ...).

    **Returns:** name -> `"frozen"` or `"trainable"`, for `config()`.
    """
    return {a: "frozen" if isinstance(getattr(model, a), Frozen) else "trainable" for a in names}


class AbstractWeightedRNN(AbstractRNN):
    """A family whose weights are the three `Weight`s `W_in`, `W_hid` and `W_out` that
    `build_weights` makes from the connectivity options (ARU, CTRNN, Shunting): it
    provides `dale`, `weight_matrices` and `dale_signs` once for all of them."""

    W_in: eqx.AbstractVar[Weight]
    W_hid: eqx.AbstractVar[Weight]
    W_out: eqx.AbstractVar[Weight]

    @property
    def dale(self) -> str | None:
        """The Dale mode of the recurrent weights (`W_hid.sign_mode`), or `None`."""
        return self.W_hid.sign_mode

    def weight_matrices(self) -> dict[str, Float[Array, "n_post n_pre"]]:
        """The effective `W_in`, `W_hid` and `W_out` as `"in"`, `"rec"`, `"out"`.

        **Returns:** role -> matrix `(n_post, n_pre)`.
        """
        return {
            "in": self.W_in.effective(),
            "rec": self.W_hid.effective(),
            "out": self.W_out.effective(),
        }

    def dale_signs(self) -> Float[Array, " n"] | None:
        """The sign of each unit under Dale's law (`dale=...`), else `None`.

        **Returns:** +1 / -1 per hidden unit, shape `(n,)`, or `None`.
        """
        return None if self.W_hid.signs is None else self.W_hid.signs.value.reshape(-1)


P = TypeVar("P")


class VoltageResolved(eqx.Module, Generic[P]):
    """The resolved parameters of a one-variable model: those of its field (`params`),
    the effective input and readout weights, the readout bias and the initial state."""

    params: P
    W_in: Array
    W_out: Array
    b_out: Array
    v0: Array


class AbstractVoltageRNN(AbstractWeightedRNN):
    """The interface shared by the one-variable models (CTRNN, Shunting): state `(v,)`,
    input drive `W_in x`, rate `f(v)`, readout `W_out f(v) + b_out`. Subclasses hold the
    weights `W_in`, `W_hid`, `W_out` (`Weight`s), the readout bias `b_out`, the initial
    state `v0` and an `activation` name; their `resolve()` is `resolved_with` their
    field's parameters."""

    b_out: eqx.AbstractVar[Array | Frozen]
    v0: eqx.AbstractVar[Array | Frozen]
    activation: eqx.AbstractVar[str]

    def resolved_with(self, params: P) -> VoltageResolved[P]:
        """The resolved model around the field's resolved `params`.

        **Arguments:**

        - `params`: the field's parameters (`CTRNNFieldParams`, ...).

        **Returns:** a `VoltageResolved`.
        """
        return VoltageResolved(
            params=params,
            W_in=self.W_in.effective(),
            W_out=self.W_out.effective(),
            b_out=unwrap(self.b_out),
            v0=unwrap(self.v0),
        )

    @property
    def n_in(self) -> int:
        """The width of the input (of `W_in`)."""
        return self.W_in.shape[1]

    @property
    def n_hidden(self) -> int:
        """The number of hidden units."""
        return self.W_hid.shape[0]

    @property
    def n_out(self) -> int:
        """The width of the output (of `W_out`)."""
        return self.W_out.shape[0]

    def initial_state(self, resolved: VoltageResolved) -> tuple[Float[Array, " n"]]:
        return (resolved.v0,)

    def drive(
        self, resolved: VoltageResolved, x: Float[Array, "*batch n_in"]
    ) -> Float[Array, "*batch n"]:
        return x @ resolved.W_in.T

    def drive_weights(self, resolved: VoltageResolved) -> Float[Array, "n n_in"]:
        return resolved.W_in

    def rate(self, y: tuple[Float[Array, " n"]]) -> Float[Array, " n"]:
        """The rates `f(v)` of one state.

        **Arguments:**

        - `y`: the state `(v,)`.

        **Returns:** `f(v)`, shape `(n,)`.
        """
        return get_activation(self.activation)(y[0])

    def output(
        self, resolved: VoltageResolved, y: tuple[Float[Array, " n"]]
    ) -> Float[Array, " n_out"]:
        return resolved.W_out @ self.rate(y) + resolved.b_out

    def rate_to_drive(self, resolved: VoltageResolved, r: Float[Array, " n"]) -> Float[Array, " n"]:
        return resolved.params.W @ r

    def output_noise(
        self, resolved: VoltageResolved, xi: Float[Array, " n"]
    ) -> Float[Array, " n_out"]:
        return resolved.W_out @ xi
