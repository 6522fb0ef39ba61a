"""The adaptive-time-scale recurrent network (ARU) of Quax, D'Asaro & van Gerven (2020)."""

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
from .._connectivity import Weight, _check_dale, balance_ei, ei_signs, project_weights
from .._errors import InputError
from .._fields import ARUFieldParams, stacked_aru_field
from .._params import (
    MODES,
    PARAMETRISATIONS,
    AbstractTimeConstant,
    Frozen,
    make_time_constant,
)
from ._base import (
    AbstractRNN,
    _check_dt,
    _check_param_memory,
    _check_readout,
    _check_size,
    as_tuple,
    default_dtype,
    normal_init,
)


class ARULayer(eqx.Module):
    """One recurrent layer of adaptive-time-scale units.

    - `U`: input weights `(n, n_prev)` (from the network input, or from the rates of the
        layer below in a stack).
    - `W`: recurrent weights `(n, n)`.
    - `c`: learnable initial current `(n,)`; the initial rate is `f(c)`.
    - `tau_s`, `tau_r`: the synaptic and rate time constants.
    """

    U: Float[Array, "n n_prev"]
    W: Float[Array, "n n"]
    c: Float[Array, " n"]
    tau_s: AbstractTimeConstant
    tau_r: AbstractTimeConstant

    @property
    def n(self) -> int:
        return self.W.shape[0]


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


class ARU(AbstractRNN):
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
    """

    layers: tuple[ARULayer, ...]
    V: Float[Array, "n_out n_last"]
    b: Float[Array, " n_out"]
    activation: str = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    readout: str = eqx.field(static=True)
    modes: tuple[str, str] = eqx.field(static=True)
    parametrisation: str = eqx.field(static=True)
    tau_min: float = eqx.field(static=True)
    dale: str | None = eqx.field(static=True)
    ei: Frozen | None
    rec_mask: Frozen | None
    out_mask: Frozen | None

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
        dtype=None,
        dale: str | None = None,
        e_fraction: float = 0.8,
        ei: Sequence | None = None,
        self_connections: bool = True,
        readout_excitatory_only: bool = False,
        balance: bool = False,
        key: PRNGKeyArray,
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
        - `key`: a `jax.random` key for the initialisation of PAPER §1.4: `U`, `W`, `V`
            normal with std `sqrt(1/fan_in)`, `b = 0`, `c` normal with std
            `sqrt(2/n)`.
        - `dale`: Dale's law on the recurrent weights (single layer only): `None`
            (default), `"abs"` (W = |W_raw| D), `"rectify"` (W = [W_raw]_+ D) or
            `"project"` (clamp with `adaptive_rnn.project` after each optimiser step).
            The initial W is |W| D.
        - `e_fraction` (in (0, 1), default 0.8) or `ei` (explicit list): the E/I units.
        - `self_connections`: `False` zeroes (and keeps zero) the diagonal of W.
        - `readout_excitatory_only`: V reads out excitatory units only.
        - `balance`: E/I-balanced initial W (`adaptive_rnn.balance_ei`).

        **Raises:** `InputError` (a `ValueError`) for non-positive sizes, unknown
        options, non-positive time constants, a fixed rate constant `alpha >= 2`
        (explicit Euler would diverge), or parameters too large for the memory available.
        """
        n_in = _check_size("n_in", n_in)
        n_out = _check_size("n_out", n_out)
        sizes = tuple(_check_size("n_hidden", n) for n in as_tuple(n_hidden))
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
        dtype = default_dtype(dtype)

        def initial(name, alpha, tau):
            if alpha is not None and tau is not None:
                raise InputError(
                    f"alpha_{name}, tau_{name}: got both (alpha_{name}={alpha!r}, "
                    f"tau_{name}={tau!r}), expected one of them"
                )
            if alpha is None and tau is None:
                alpha = 0.5
            return ("alpha", alpha) if tau is None else ("tau", tau)

        init_s = initial("s", alpha_s, tau_s)
        init_r = initial("r", alpha_r, tau_r)
        vals_s = _per_layer(f"{init_s[0]}_s", init_s[1], len(sizes))
        vals_r = _per_layer(f"{init_r[0]}_r", init_r[1], len(sizes))
        n_params, n_prev = n_out * (sizes[-1] + 1), n_in
        for n in sizes:
            n_params += n * (n_prev + n + 3)
            n_prev = n
        _check_param_memory("n_hidden", n_hidden, n_params, dtype)

        keys = jax.random.split(key, 3 * len(sizes) + 1)
        layers = []
        n_prev = n_in
        for k, n in enumerate(sizes):
            kU, kW, kc = keys[3 * k : 3 * k + 3]
            tcs = []
            for name, mode, (kind, val) in (
                ("tau_s", modes[0], (init_s[0], vals_s[k])),
                ("tau_r", modes[1], (init_r[0], vals_r[k])),
            ):
                tcs.append(
                    make_time_constant(
                        name=name if len(sizes) == 1 else f"{name} (layer {k})",
                        mode=mode,
                        parametrisation=parametrisation,
                        n=n,
                        dt=self.dt,
                        tau_min=self.tau_min,
                        dtype=dtype,
                        **{kind: val},
                    )
                )
            for name, tc in zip(("tau_s", "tau_r"), tcs):
                a = np.max(self.dt / np.asarray(tc.tau()))
                if a >= 2:
                    raise InputError(
                        f"{name}: alpha = dt/tau reaches {a:.4g} >= 2 at dt = {self.dt}; "
                        f"explicit Euler diverges there. Expected alpha < 2 "
                        f"(tau > dt/2)."
                    )
            layers.append(
                ARULayer(
                    U=normal_init(kU, (n, n_prev), math.sqrt(1 / n_prev), dtype),
                    W=normal_init(kW, (n, n), math.sqrt(1 / n), dtype),
                    c=normal_init(kc, (n,), math.sqrt(2 / n), dtype),
                    tau_s=tcs[0],
                    tau_r=tcs[1],
                )
            )
            n_prev = n
        self.V = normal_init(keys[-1], (n_out, n_prev), math.sqrt(1 / n_prev), dtype)
        self.b = jnp.zeros((n_out,), dtype=dtype)
        self.dale = _check_dale(dale)
        self.ei = self.rec_mask = self.out_mask = None
        if not self_connections:
            if len(sizes) != 1:
                raise InputError(f"self_connections: only for a single layer, got n_hidden = {n_hidden!r}")
            self.rec_mask = Frozen(jnp.asarray(1 - np.eye(sizes[0]), dtype=dtype))
            layers[0] = eqx.tree_at(lambda l: l.W, layers[0], layers[0].W * self.rec_mask.value)
        if self.dale is not None or readout_excitatory_only:
            if self.dale is None:
                raise InputError("readout_excitatory_only: needs Dale's law (dale=...), got dale=None")
            if len(sizes) != 1:
                raise InputError(f"dale: Dale's law is for a single-layer ARU, got n_hidden = {n_hidden!r}")
            s = ei_signs(sizes[0], e_fraction, ei=ei)
            self.ei = Frozen(jnp.asarray(s[None, :], dtype=dtype))
            W0 = np.abs(np.asarray(layers[0].W)) * s[None, :]
            if balance:
                W0 = balance_ei(W0, s)
            layers[0] = eqx.tree_at(lambda l: l.W, layers[0], jnp.asarray(W0, dtype=dtype))
            if readout_excitatory_only:
                self.out_mask = Frozen(jnp.asarray(np.broadcast_to(s[None, :] > 0, (n_out, sizes[0])), dtype=dtype))
                self.V = self.V * self.out_mask.value
        self.layers = tuple(layers)

    # ---- special cases ---------------------------------------------------------------

    @classmethod
    def elman(cls, n_in, n_hidden, n_out, **kwargs) -> "ARU":
        """The Elman network, `r_t = f(U x_t + W r_{t-1})`: alpha_s = alpha_r = 1, fixed."""
        return cls(n_in, n_hidden, n_out, time_constants="static", alpha_s=1.0, alpha_r=1.0, **kwargs)

    @classmethod
    def current_rnn(cls, n_in, n_hidden, n_out, *, time_constants="global", **kwargs) -> "ARU":
        """The leaky "current" RNN of computational neuroscience: alpha_r = 1 (fixed),
        `I_t = (1 - alpha_s) I_{t-1} + alpha_s (U x_t + W f(I_{t-1}))`."""
        return cls(n_in, n_hidden, n_out, time_constants=(time_constants, "static"), alpha_r=1.0, **kwargs)

    @classmethod
    def rate_rnn(cls, n_in, n_hidden, n_out, *, time_constants="global", **kwargs) -> "ARU":
        """A leaky "rate" RNN: alpha_s = 1 (fixed),
        `r_t = (1 - alpha_r) r_{t-1} + alpha_r f(U x_t + W r_{t-1})`."""
        return cls(n_in, n_hidden, n_out, time_constants=("static", time_constants), alpha_s=1.0, **kwargs)

    # ---- sizes -----------------------------------------------------------------------

    @property
    def n_in(self) -> int:
        return self.layers[0].U.shape[1]

    @property
    def n_hidden(self) -> int | tuple[int, ...]:
        sizes = tuple(layer.n for layer in self.layers)
        return sizes[0] if len(sizes) == 1 else sizes

    @property
    def n_out(self) -> int:
        return self.V.shape[0]

    # ---- effective time constants ----------------------------------------------------

    def _per_layer_values(self, fn):
        vals = tuple(fn(layer) for layer in self.layers)
        return vals[0] if len(vals) == 1 else vals

    @property
    def tau_s(self):
        """Synaptic time constant(s): shape (1,) global or (n,) local; a tuple per layer
        for stacked layers."""
        return self._per_layer_values(lambda l: l.tau_s.tau())

    @property
    def tau_r(self):
        """Rate time constant(s), as `tau_s`."""
        return self._per_layer_values(lambda l: l.tau_r.tau())

    @property
    def alpha_s(self):
        """Synaptic rate constant(s) dt / tau_s, as `tau_s`."""
        return self._per_layer_values(lambda l: l.tau_s.alpha(self.dt))

    @property
    def alpha_r(self):
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

    def _effective_W(self, W):
        if self.ei is not None:
            s = self.ei.value
            if self.dale == "abs":
                W = jnp.abs(W) * s
            elif self.dale == "rectify":
                W = jax.nn.relu(W) * s
        if self.rec_mask is not None:
            W = W * self.rec_mask.value
        return W

    def projected(self) -> "ARU":
        """The model clamped into its constraint set: the first layer's `W` into Dale's
        sign cone (`dale="project"`) and masked (`self_connections=False`), `V` masked
        (`readout_excitatory_only`). The ARU keeps these as plain arrays, so it projects
        `Weight` views of them with the library's one projection
        (`adaptive_rnn._connectivity.project_weights`).

        **Returns:** the projected ARU (same structure).
        """
        def view(w, signs, mask, mode):
            return Weight(raw=w, signs=signs, mask=mask, fixed_where=None, fixed_values=None, sign_mode=mode)

        W, V = project_weights((
            view(self.layers[0].W, self.ei, self.rec_mask, self.dale if self.ei is not None else None),
            view(self.V, None, self.out_mask, None),
        ))
        return eqx.tree_at(lambda m: (m.layers[0].W, m.V), self, (W.raw, V.raw))

    def resolve(self) -> ARUResolved:
        layers = tuple(
            (
                ARUFieldParams(
                    W=self._effective_W(layer.W),
                    tau_s=layer.tau_s.tau(),
                    tau_r=layer.tau_r.tau(),
                    activation=self.activation,
                ),
                layer.U,
            )
            for layer in self.layers
        )
        return ARUResolved(
            layers=layers,
            U0=self.layers[0].U,
            c=tuple(layer.c for layer in self.layers),
            V=self.V if self.out_mask is None else self.V * self.out_mask.value,
            b=self.b,
        )

    def field(self, t, y, args):
        resolved, drive = args
        return stacked_aru_field(t, y, (resolved.layers, drive))

    def initial_state(self, resolved: ARUResolved) -> tuple[Array, ...]:
        f = get_activation(self.activation)
        state = []
        for c in resolved.c:
            state.extend((c, f(c)))
        return tuple(state)

    def drive(self, resolved: ARUResolved, x):
        return x @ resolved.U0.T

    def drive_weights(self, resolved: ARUResolved):
        return resolved.U0

    def rate(self, y) -> Array:
        """The rates of the read-out (last) layer."""
        return y[-1]

    def output(self, resolved: ARUResolved, y):
        return resolved.V @ y[-1] + resolved.b

    def min_time_constant(self, resolved: ARUResolved):
        return jnp.min(
            jnp.stack([jnp.min(jnp.minimum(p.tau_s, p.tau_r)) for p, _ in resolved.layers])
        )

    # ---- metadata --------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        extra = {}
        if self.ei is not None or self.rec_mask is not None:
            extra["connectivity"] = {
                "dale": self.dale,
                "self_connections": self.rec_mask is None,
                "readout_excitatory_only": self.out_mask is not None,
            }
        return extra | {
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
            "dtype": str(self.V.dtype),
            "tau_sizes": [
                [int(layer.tau_s.tau().shape[0]), int(layer.tau_r.tau().shape[0])]
                for layer in self.layers
            ],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], *, key) -> "ARU":
        """A model with the structure described by `config` (values from `key`); the
        saved leaves are then loaded into it by `adaptive_rnn.load_model`."""
        sizes = config["n_hidden"]
        modes = tuple(config["time_constants"])
        tau_sizes = config.get("tau_sizes", [[1, 1]] * len(sizes))

        def init(mode_i):
            # A structurally valid initial value for each layer (overwritten on load).
            vals = []
            for n, ts in zip(sizes, tau_sizes):
                k = ts[mode_i]
                vals.append(np.full((k,), 0.5) if (modes[mode_i] == "static" and k == n and n > 1) else 0.5)
            return vals[0] if len(sizes) == 1 else vals

        return cls(
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
            **config.get("connectivity", {}),
        )
