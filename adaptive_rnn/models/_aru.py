"""The adaptive-time-scale recurrent network (ARU) of Quax, D'Asaro & van Gerven (2020).

Why one file of over 400 lines: it is one family, and a family lives in one file (see
`docs/extending.md`): its layer, its constructor (stacked layers, a pair of time
constants per layer), its special cases (Elman, current and rate RNNs), the contract's
methods and the reading of files written by earlier versions all describe the same
model, and most of the length is their docstrings.
"""

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._activations import canonical_activation, get_activation
from .._checks import check_choice
from .._connectivity import Weight, make_weight
from .._errors import InputError
from .._fields import ARUFieldParams, FloatScalarLike, stacked_aru_field
from .._params import MODES, PARAMETRISATIONS, AbstractTimeConstant, make_time_constant
from ._base import (
    _check_dt,
    _check_param_memory,
    _check_readout,
    _check_size,
    as_tuple,
    default_dtype,
    normal_init,
)
from ._common import (
    AbstractWeightedRNN,
    SavedLayout,
    build_weights,
    connectivity_options,
    layout_with_leaves_last,
    restore_structure,
    weights_structure,
)


class ARULayer(eqx.Module):
    """One recurrent layer of adaptive-time-scale units.

    **Fields:**

    - `W_in`: input weights `U`, `(n, n_prev)` (from the network input, or from the rates
        of the layer below in a stack), a `Weight`.
    - `W_hid`: recurrent weights `W`, `(n, n)`, a `Weight` (Dale signs and masks).
    - `c`: learnable initial current `(n,)`; the initial rate is `f(c)`.
    - `tau_s`, `tau_r`: the synaptic and rate time constants.

    `U` and `W` read the raw (trainable) arrays of `W_in` and `W_hid`.
    """

    W_in: Weight
    W_hid: Weight
    c: Float[Array, " n"]
    tau_s: AbstractTimeConstant
    tau_r: AbstractTimeConstant

    @property
    def U(self) -> Any:
        """The raw input weights (`W_in.raw`), `(n, n_prev)`; a `Frozen` if frozen. (Not
        annotated as an array: `equinox.tree_at` selects through it.)"""
        return self.W_in.raw

    @property
    def W(self) -> Any:
        """The raw recurrent weights (`W_hid.raw`), `(n, n)`; a `Frozen` if frozen. (Not
        annotated as an array: `equinox.tree_at` selects through it.)"""
        return self.W_hid.raw

    @property
    def n(self) -> int:
        """The number of units of the layer."""
        return self.W_hid.shape[0]


class ARUResolved(eqx.Module):
    layers: tuple  # ((ARUFieldParams, U_k), ...)
    U0: Array
    c: tuple
    V: Array
    b: Array


def _per_layer(name: str, value, n_layers: int) -> list:
    if n_layers == 1:
        return [value]
    if isinstance(value, (list, tuple)) and len(value) == n_layers:
        return list(value)
    if np.ndim(value) == 0:
        return [value] * n_layers
    raise InputError(
        f"{name}: got {value!r}, expected for {n_layers} stacked layers a scalar or a "
        f"sequence of {n_layers} values"
    )


def _initial(name: str, alpha, tau) -> tuple[str, Any]:
    if alpha is not None and tau is not None:
        raise InputError(
            f"alpha_{name}, tau_{name}: got both (alpha_{name}={alpha!r}, tau_{name}={tau!r}), "
            f"expected one of them"
        )
    if alpha is None and tau is None:
        alpha = 0.5
    return ("alpha", alpha) if tau is None else ("tau", tau)


class ARU(AbstractWeightedRNN):
    r"""A network of adaptive-time-scale units (ARU), Quax, D'Asaro & van Gerven (2020).

    Each unit has a synaptic current $I$ and a firing rate $r$, each with its own time
    constant:

    $$\tau_s \frac{dI}{dt} = -I + W r + U x(t), \qquad
      \tau_r \frac{dr}{dt} = -r + f(I), \qquad y = V r + b.$$

    With $\alpha_s = dt/\tau_s$, $\alpha_r = dt/\tau_r$ the discrete model of the paper is

    $$I_t = (1-\alpha_s) I_{t-1} + \alpha_s (U x_t + W r_{t-1}), \qquad
      r_t = (1-\alpha_r) r_{t-1} + \alpha_r f(I_t),$$

    from $I_0 = c$ (learnable), $r_0 = f(c)$, with no hidden bias.
    `adaptive_rnn.simulate` runs this recurrence; `adaptive_rnn.solve` integrates the
    continuous equations with diffrax.

    Special cases: `ARU.elman` ($\alpha_s = \alpha_r = 1$, the Elman network
    $r_t = f(U x_t + W r_{t-1})$), `ARU.current_rnn` ($\alpha_r = 1$: the usual leaky
    "current" RNN) and `ARU.rate_rnn` ($\alpha_s = 1$: a leaky "rate" RNN).

    `n_hidden` may be a sequence of sizes: the layers are then stacked, layer k driven by
    the rates of layer k - 1 through its own `U`, and the readout sees the last layer.

    The weights `U`, `W` (in each layer, `W_in`, `W_hid`) and `V` (`W_out`) are `Weight`s
    built by `build_weights`, as those of every family: Dale's law, masks and frozen
    entries are `Frozen` leaves applied in `resolve()`.
    """

    layers: tuple[ARULayer, ...]
    W_out: Weight
    b: Float[Array, " n_out"]
    activation: str = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    readout: str = eqx.field(static=True)
    modes: tuple[str, str] = eqx.field(static=True)
    parametrisation: str = eqx.field(static=True)
    tau_min: float = eqx.field(static=True)

    family: ClassVar[str] = "aru"
    state_names: ClassVar[tuple[str, ...]] = ("I", "r")

    def __init__(
        self,
        n_in: int,
        n_hidden: int | Sequence[int],
        n_out: int,
        *,
        activation: str = "sigmoid",
        time_constants: str | tuple[str, str] = "global",
        parametrisation: str = "sigmoid",
        alpha_s: ArrayLike | Sequence | None = None,
        alpha_r: ArrayLike | Sequence | None = None,
        tau_s: ArrayLike | Sequence | None = None,
        tau_r: ArrayLike | Sequence | None = None,
        dt: float = 1.0,
        tau_min: float | None = None,
        readout: str = "current",
        dtype: Any = None,
        key: PRNGKeyArray,
        **connectivity: Any,
    ):
        """**Arguments:**

        - `n_in`, `n_hidden`, `n_out`: sizes; `n_hidden` an int, or a sequence of ints for
            stacked layers.
        - `activation`: `sigmoid` (default, as the paper), `tanh`, `relu`, `linear`,
            `softplus`, `retanh`.
        - `time_constants`: `"static"` (fixed, any positive value), `"global"` (one
            learnable pair per layer) or `"local"` (one learnable pair per neuron); or a
            pair `(mode_s, mode_r)` to treat tau_s and tau_r differently.
        - `parametrisation`: `"sigmoid"`, the paper's `alpha = sigmoid(1.5 w)`, which
            keeps `0 < alpha < 1`; or `"softplus"`, `tau = tau_min + softplus(theta)`,
            for continuous-time use.
        - `alpha_s`, `alpha_r` or `tau_s`, `tau_r`: initial values (default alpha 0.5),
            a scalar or one value per neuron (static and local modes); for stacked
            layers, a scalar or a sequence with one entry per layer.
        - `dt`: the time step of the discrete model (time units of tau). Default 1.
        - `tau_min`: floor of the softplus parametrisation (default `dt`).
        - `readout`: `"current"` (default), `y_t = V r_t + b`; or `"lagged"`,
            `y_t = V r_{t-1} + b`, the convention of the authors' code.
        - `dtype`: floating dtype of all parameters (default: JAX's default float).
        - `key`: a `jax.random` key for the initialisation of docs/model.md ("Initialisation and training protocol"): `U`, `W`, `V`
            normal with std `sqrt(1/fan_in)`, `b = 0`, `c` normal with std
            `sqrt(2/n)`.
        - `**connectivity`: the options of `adaptive_rnn.Connectivity`, as for every
            family (single layer only): `dale` (`None`, `"abs"`, `"rectify"` or
            `"project"`), `e_fraction` or `ei`, `self_connections`,
            `readout_excitatory_only`, `nonneg_input`, `balance`, `spectral_radius`,
            `masks`, `fixed`.

        **Raises:** `InputError` (a `ValueError`) for non-positive sizes, unknown
        options, non-positive time constants, a fixed rate constant `alpha >= 2`
        (explicit Euler would diverge), connectivity options on stacked layers, or
        parameters too large for the memory available.
        """
        n_in = _check_size("n_in", n_in)
        n_out = _check_size("n_out", n_out)
        sizes = tuple(_check_size("n_hidden", n) for n in as_tuple(n_hidden))
        if not sizes:
            raise InputError(
                f"n_hidden: got {n_hidden!r}, expected a positive integer or a non-empty list of them"
            )
        n_last = sizes[-1]
        self.dt = _check_dt(dt)
        self.readout = _check_readout(readout)
        self.activation = canonical_activation(activation)
        if isinstance(time_constants, str):
            modes = (check_choice("time_constants", time_constants, MODES),) * 2
        else:
            modes = tuple(time_constants) if isinstance(time_constants, (list, tuple)) else ()
            if len(modes) != 2 or not all(isinstance(m, str) and m in MODES for m in modes):
                raise InputError(
                    f"time_constants: got {time_constants!r}, expected one of {MODES} or a "
                    f"pair of them"
                )
        self.modes = modes
        self.parametrisation = check_choice("parametrisation", parametrisation, PARAMETRISATIONS)
        self.tau_min = self.dt if tau_min is None else _check_dt(tau_min, "tau_min")
        options = connectivity_options(ARU, connectivity)
        if len(sizes) > 1 and options.changed():
            raise InputError(
                f"{options.changed()[0]}: connectivity options are for a single-layer ARU, got "
                f"n_hidden = {n_hidden!r}"
            )
        dtype = default_dtype(dtype)
        inits = [
            _initial(name, a, t) for name, a, t in (("s", alpha_s, tau_s), ("r", alpha_r, tau_r))
        ]
        values = [
            _per_layer(f"{kind}_{name}", v, len(sizes)) for name, (kind, v) in zip("sr", inits)
        ]
        n_params, n_prev = n_out * (n_last + 1), n_in
        for n in sizes:
            n_params += n * (n_prev + n + 3)
            n_prev = n
        _check_param_memory("n_hidden", n_hidden, n_params, dtype)

        keys = jax.random.split(key, 3 * len(sizes) + 1)
        arrays, n_prev = [], n_in
        for k, n in enumerate(sizes):
            kU, kW, kc = keys[3 * k : 3 * k + 3]
            tcs = tuple(
                make_time_constant(
                    name=name if len(sizes) == 1 else f"{name} (layer {k})",
                    mode=mode,
                    parametrisation=parametrisation,
                    n=n,
                    dt=self.dt,
                    tau_min=self.tau_min,
                    dtype=dtype,
                    **{kind: vals[k]},
                )
                for name, mode, (kind, _), vals in zip(("tau_s", "tau_r"), modes, inits, values)
            )
            U = normal_init(kU, (n, n_prev), math.sqrt(1 / n_prev), dtype)
            W = normal_init(kW, (n, n), math.sqrt(1 / n), dtype)
            arrays.append((U, W, normal_init(kc, (n,), math.sqrt(2 / n), dtype), tcs))
            n_prev = n
        V = normal_init(keys[-1], (n_out, n_prev), math.sqrt(1 / n_prev), dtype)
        if len(sizes) == 1:
            ((U, W, c, tcs),) = arrays
            W_in, W_hid, self.W_out = build_weights(
                (n_in, sizes[0], n_out), (U, W, V), options, dtype=dtype, key=keys[-1]
            )
            layers = [ARULayer(W_in, W_hid, c, *tcs)]
        else:

            def plain(name, w):
                return make_weight(name, w.shape, init=w, key=keys[-1], dtype=dtype)

            layers = [
                ARULayer(plain("W_in", U), plain("W_hid", W), c, *tcs) for U, W, c, tcs in arrays
            ]
            self.W_out = plain("W_out", V)
        self.layers = tuple(layers)
        self.b = jnp.zeros((n_out,), dtype=dtype)

    # ---- special cases ---------------------------------------------------------------

    @classmethod
    def elman(cls, n_in: int, n_hidden: int | Sequence[int], n_out: int, **kwargs: Any) -> "ARU":
        """The Elman network, `r_t = f(U x_t + W r_{t-1})`: alpha_s = alpha_r = 1, fixed.

        **Arguments:**

        - `n_in`, `n_hidden`, `n_out`: sizes, as `ARU`.
        - `**kwargs`: any other argument of `ARU` but the time constants (`key`, ...).

        **Returns:** the `ARU`.
        """
        return cls(
            n_in, n_hidden, n_out, time_constants="static", alpha_s=1.0, alpha_r=1.0, **kwargs
        )

    @classmethod
    def current_rnn(
        cls,
        n_in: int,
        n_hidden: int | Sequence[int],
        n_out: int,
        *,
        time_constants: str = "global",
        **kwargs: Any,
    ) -> "ARU":
        """The leaky "current" RNN of computational neuroscience: alpha_r = 1 (fixed),
        `I_t = (1 - alpha_s) I_{t-1} + alpha_s (U x_t + W f(I_{t-1}))`.

        **Arguments:**

        - `n_in`, `n_hidden`, `n_out`: sizes, as `ARU`.
        - `time_constants`: the mode of tau_s (`"static"`, `"global"` or `"local"`).
        - `**kwargs`: any other argument of `ARU` (`alpha_s`, `key`, ...).

        **Returns:** the `ARU`.
        """
        return cls(
            n_in, n_hidden, n_out, time_constants=(time_constants, "static"), alpha_r=1.0, **kwargs
        )

    @classmethod
    def rate_rnn(
        cls,
        n_in: int,
        n_hidden: int | Sequence[int],
        n_out: int,
        *,
        time_constants: str = "global",
        **kwargs: Any,
    ) -> "ARU":
        """A leaky "rate" RNN: alpha_s = 1 (fixed),
        `r_t = (1 - alpha_r) r_{t-1} + alpha_r f(U x_t + W r_{t-1})`.

        **Arguments:** as `current_rnn`, with `time_constants` the mode of tau_r (and
        `alpha_r` the initial value one may give).

        **Returns:** the `ARU`.
        """
        return cls(
            n_in, n_hidden, n_out, time_constants=("static", time_constants), alpha_s=1.0, **kwargs
        )

    @classmethod
    def example(cls, *, key: PRNGKeyArray, dtype: Any = None) -> "ARU":
        """A 2-4-2 sigmoid ARU with local learnable time constants (alpha_s from 0.2 to
        0.8, alpha_r 0.5)."""
        return cls(
            2,
            4,
            2,
            time_constants="local",
            alpha_s=np.linspace(0.2, 0.8, 4),
            alpha_r=0.5,
            dtype=dtype,
            key=key,
        )

    # ---- sizes and weights -----------------------------------------------------------

    @property
    def n_in(self) -> int:
        return self.layers[0].W_in.shape[1]

    @property
    def n_hidden(self) -> int | tuple[int, ...]:
        sizes = tuple(layer.n for layer in self.layers)
        return sizes[0] if len(sizes) == 1 else sizes

    @property
    def n_out(self) -> int:
        return self.W_out.shape[0]

    @property
    def W_in(self) -> Weight:
        """The input weights of the first layer (a `Weight`)."""
        return self.layers[0].W_in

    @property
    def W_hid(self) -> Weight:
        """The recurrent weights of the first layer (the only one unless stacked): a
        `Weight`, with the Dale signs and masks."""
        return self.layers[0].W_hid

    @property
    def V(self) -> Any:
        """The raw readout weights (`W_out.raw`), `(n_out, n)`; a `Frozen` if frozen. (Not
        annotated as an array: `equinox.tree_at` selects through it.)"""
        return self.W_out.raw

    # ---- effective time constants ----------------------------------------------------

    def _per_layer_values(self, fn):
        vals = tuple(fn(layer) for layer in self.layers)
        return vals[0] if len(vals) == 1 else vals

    @property
    def tau_s(self) -> Float[Array, " k"] | tuple[Float[Array, " _k"], ...]:
        """Synaptic time constant(s): shape (1,) global or (n,) local; a tuple per layer
        for stacked layers."""
        return self._per_layer_values(lambda l: l.tau_s.tau())

    @property
    def tau_r(self) -> Float[Array, " k"] | tuple[Float[Array, " _k"], ...]:
        """Rate time constant(s), as `tau_s`."""
        return self._per_layer_values(lambda l: l.tau_r.tau())

    @property
    def alpha_s(self) -> Float[Array, " k"] | tuple[Float[Array, " _k"], ...]:
        """Synaptic rate constant(s) dt / tau_s, as `tau_s`."""
        return self._per_layer_values(lambda l: l.tau_s.alpha(self.dt))

    @property
    def alpha_r(self) -> Float[Array, " k"] | tuple[Float[Array, " _k"], ...]:
        """Rate rate constant(s) dt / tau_r, as `tau_s`."""
        return self._per_layer_values(lambda l: l.tau_r.alpha(self.dt))

    def time_constants(self) -> dict[str, Array]:
        out = {}
        for k, layer in enumerate(self.layers):
            suffix = "" if len(self.layers) == 1 else f"_{k}"
            out[f"tau_s{suffix}"] = layer.tau_s.tau()
            out[f"tau_r{suffix}"] = layer.tau_r.tau()
            out[f"alpha_s{suffix}"] = layer.tau_s.alpha(self.dt)
            out[f"alpha_r{suffix}"] = layer.tau_r.alpha(self.dt)
        return out

    # ---- the interface used by the integrators ----------------------------------------

    def resolve(self) -> ARUResolved:
        layers = tuple(
            (
                ARUFieldParams(
                    W=layer.W_hid.effective(),
                    tau_s=layer.tau_s.tau(),
                    tau_r=layer.tau_r.tau(),
                    activation=self.activation,
                ),
                layer.W_in.effective(),
            )
            for layer in self.layers
        )
        return ARUResolved(
            layers=layers,
            U0=layers[0][1],
            c=tuple(layer.c for layer in self.layers),
            V=self.W_out.effective(),
            b=self.b,
        )

    def field(
        self, t: FloatScalarLike, y: tuple[Float[Array, " _n"], ...], args: tuple
    ) -> tuple[Float[Array, " _n"], ...]:
        resolved, drive = args
        return stacked_aru_field(t, y, (resolved.layers, drive))

    def initial_state(self, resolved: ARUResolved) -> tuple[Float[Array, " _n"], ...]:
        f = get_activation(self.activation)
        state = []
        for c in resolved.c:
            state.extend((c, f(c)))
        return tuple(state)

    def drive(
        self, resolved: ARUResolved, x: Float[Array, "*batch n_in"]
    ) -> Float[Array, "*batch n"]:
        return x @ resolved.U0.T

    def drive_weights(self, resolved: ARUResolved) -> Float[Array, "n n_in"]:
        return resolved.U0

    def rate(self, y: tuple[Float[Array, " _n"], ...]) -> Float[Array, " n"]:
        """The rates of the read-out (last) layer.

        **Arguments:**

        - `y`: the state `(I_1, r_1, ...)` of one network.

        **Returns:** the last `r`, shape `(n,)`.
        """
        return y[-1]

    def output(
        self, resolved: ARUResolved, y: tuple[Float[Array, " _n"], ...]
    ) -> Float[Array, " n_out"]:
        return resolved.V @ y[-1] + resolved.b

    def min_time_constant(self, resolved: ARUResolved) -> Float[Array, ""]:
        return jnp.min(
            jnp.stack([jnp.min(jnp.minimum(p.tau_s, p.tau_r)) for p, _ in resolved.layers])
        )

    # ---- optional hooks of AbstractRNN ----------------------------------------------

    def weight_matrices(self) -> dict[str, Float[Array, "n_post n_pre"]]:
        """The effective weights as `"in"` (`U` of the first layer), `"rec"` (`W` of the
        last layer, Dale signs and mask applied) and `"out"` (`V`, masked).

        **Returns:** role -> matrix `(n_post, n_pre)`.
        """
        return {**super().weight_matrices(), "rec": self.layers[-1].W_hid.effective()}

    # ---- metadata --------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "n_in": self.n_in,
            "n_hidden": list(as_tuple(self.n_hidden)),
            "n_out": self.n_out,
            "activation": self.activation,
            "time_constants": list(self.modes),
            "parametrisation": self.parametrisation,
            "dt": self.dt,
            "tau_min": self.tau_min,
            "readout": self.readout,
            "dtype": str(self.b.dtype),
            "tau_sizes": [
                [int(layer.tau_s.tau().shape[0]), int(layer.tau_r.tau().shape[0])]
                for layer in self.layers
            ],
            "weights": weights_structure(self),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], *, key: PRNGKeyArray) -> "ARU | SavedLayout":
        """A model with the structure described by `config` (values from `key`); the
        saved leaves are then loaded into it by `adaptive_rnn.load_model`.

        A config without `"weights"` was written when the ARU kept its weights as plain
        arrays, with the Dale signs and masks in `"connectivity"`: its file holds the
        same leaves, those three last (`_MOVED`).
        """
        sizes = config["n_hidden"]
        modes = tuple(config["time_constants"])
        tau_sizes = config.get("tau_sizes", [[1, 1]] * len(sizes))

        def init(mode_i):
            # A structurally valid initial value for each layer (overwritten on load).
            vals = []
            for n, ts in zip(sizes, tau_sizes):
                k = ts[mode_i]
                vals.append(
                    np.full((k,), 0.5) if (modes[mode_i] == "static" and k == n and n > 1) else 0.5
                )
            return vals[0] if len(sizes) == 1 else vals

        legacy = config.get("connectivity", {})
        model = cls(
            config["n_in"],
            sizes[0] if len(sizes) == 1 else tuple(sizes),
            config["n_out"],
            activation=config["activation"],
            time_constants=modes,
            parametrisation=config["parametrisation"],
            alpha_s=init(0),
            alpha_r=init(1),
            dt=config["dt"],
            tau_min=config["tau_min"],
            readout=config["readout"],
            dtype=config.get("dtype"),
            key=key,
            **legacy,
        )
        if "weights" in config:
            return restore_structure(model, config)
        return layout_with_leaves_last(model, _MOVED) if legacy else model


# The files written before the ARU's weights were `Weight`s held the Dale signs, the
# recurrent mask and the readout mask (then `ARU.ei`, `ARU.rec_mask`, `ARU.out_mask`)
# after all other leaves.
_MOVED = (
    lambda m: m.layers[0].W_hid.signs,
    lambda m: m.layers[0].W_hid.mask,
    lambda m: m.W_out.mask,
)
