"""The conductance-based (shunting) rate RNN (Cheng, 2023)."""

from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._activations import canonical_activation
from .._checks import as_float_array, check_choice
from .._connectivity import Weight
from .._errors import InputError
from .._fields import FloatScalarLike, ShuntingFieldParams, shunting_field, shunting_leak
from .._params import Frozen, _inverse_softplus
from ._base import (
    AbstractNoisyRNN,
    _check_dt,
    _check_param_memory,
    _check_readout,
    check_sizes,
    default_dtype,
)
from ._common import (
    AbstractVoltageRNN,
    VoltageResolved,
    build_weights,
    connectivity_options,
    make_bias,
    make_initial_state,
    restore_structure,
    vectors_structure,
    weights_structure,
)
from ._noise_settings import Noise, make_noise

A_SHAPES = ("matrix", "neuron", "global")
_BOUNDED = ("sigmoid", "tanh", "retanh")
_A_ZERO = 1e-30  # softplus cannot reach 0; A = 0 is stored as softplus^{-1}(1e-30)


ShuntingResolved = VoltageResolved[ShuntingFieldParams]


def _positive(name: str, value, shape, *, allow_zero: bool) -> np.ndarray:
    arr = as_float_array(name, value, f"a scalar or an array of shape {shape}")
    try:
        arr = np.broadcast_to(arr, shape).copy()
    except ValueError as e:
        raise InputError(
            f"{name}: got shape {arr.shape}, expected a scalar or shape {shape}"
        ) from e
    bad = ~np.isfinite(arr) | ((arr < 0) if allow_zero else (arr <= 0))
    if bad.any():
        raise InputError(
            f"{name}: got {np.unique(arr[bad])[:5].tolist()}, expected "
            f"{'non-negative' if allow_zero else 'positive'} finite values"
        )
    return arr


class Shunting(AbstractVoltageRNN, AbstractNoisyRNN):
    r"""The conductance-based (shunting) rate RNN (Cheng, 2023).

    $$\frac{dV}{dt} = -z \odot V + W r + P x(t), \qquad r = f(V), \qquad
      z_i = G_{b,i} + \sum_j A_{ij} |W_{ij}|\, r_j, \qquad y = W_{out} r + b_{out}.$$

    From the membrane equation with excitatory and inhibitory conductances proportional
    to the presynaptic rates: the leak $z$ and the effective time constant $1/z(t)$
    depend on the state (`return_states=True` records it as `states["tau_eff"]`).
    $G_b > 0$ and $A \ge 0$ are learnable, kept positive by softplus; $W$ obeys Dale's
    law by default. Switches relax one constraint at a time, walking the
    spectrum from the biological model to an ANN:

    - `state_dependent_leak=False`: $z = G_b$ (a leaky CTRNN with $\tau = 1/G_b$);
    - `dale=None`: $W$ unconstrained;
    - `positive_A=False`: $A$ any sign (then $z$ may become negative: unstable).

    With $A = 0$ it is a CTRNN with $\tau = 1/G_b$ and weights divided by $G_b$.
    The discrete model is the Euler step of this field (`simulate`).
    """

    W_in: Weight
    W_hid: Weight
    W_out: Weight
    b_out: Array | Frozen
    v0: Array | Frozen
    g_raw: Array
    a_raw: Array
    activation: str = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    readout: str = eqx.field(static=True)
    state_dependent_leak: bool = eqx.field(static=True)
    positive_A: bool = eqx.field(static=True)
    A_shape: str = eqx.field(static=True)
    noise: Noise

    family: ClassVar[str] = "shunting"
    state_names: ClassVar[tuple[str, ...]] = ("V",)

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_out: int,
        *,
        activation: str = "sigmoid",
        G_b: ArrayLike = 1.0,
        A: ArrayLike = 1.0,
        A_shape: str = "matrix",
        state_dependent_leak: bool = True,
        positive_A: bool = True,
        weights: str | ArrayLike | Sequence = "uniform",
        bias_out: str | ArrayLike | None = None,
        initial_state: ArrayLike | None = None,
        learn_initial_state: bool = False,
        noise: Noise | dict | None = None,
        dt: float = 0.1,
        readout: str = "current",
        dtype: Any = None,
        key: PRNGKeyArray,
        **connectivity: Any,
    ):
        """**Arguments:**

        - `n_in`, `n_hidden`, `n_out`: sizes.
        - `activation`: f (default `sigmoid`: rates in (0, 1), so z >= G_b).
        - `G_b`: baseline leak conductance, > 0, scalar or `(n,)` (learnable, per neuron).
        - `A`: conductance scale, >= 0 (`positive_A`), scalar or an array of the shape
            set by `A_shape`: `"matrix"` `(n, n)` (default, $A_{ij}$), `"neuron"`
            `(n,)` (one per postsynaptic unit) or `"global"` (one value).
        - `state_dependent_leak`, `positive_A`: the switches above.
        - `weights`, `initial_state`, `learn_initial_state`, `noise`, `readout`,
            `dtype`, `key`: as `CTRNN` (`weights` are `(P, W, W_out)`).
        - `bias_out`: readout bias (default none).
        - `dt`: step of the discrete model (default 0.1, in units of 1/G_b).
        - `**connectivity`: the options of `adaptive_rnn.Connectivity`, as `CTRNN`, but
            `dale` defaults to `"abs"` here (the third switch; `None` lifts it).

        **Raises:** `InputError` for bad sizes, an unknown keyword or bad options,
        `G_b <= 0`, `A < 0` (with `positive_A`), arrays of the wrong shape, bad masks or
        `e_fraction`, or parameters too large for the memory available.
        """
        n_in, n, n_out = check_sizes(n_in, n_hidden, n_out)
        self.dt = _check_dt(dt)
        self.readout = _check_readout(readout)
        self.activation = canonical_activation(activation)
        options = connectivity_options(Shunting, connectivity, dale="abs")
        self.state_dependent_leak = bool(state_dependent_leak)
        self.positive_A = bool(positive_A)
        self.A_shape = check_choice("A_shape", A_shape, A_SHAPES)
        self.noise = make_noise(noise)
        dtype = default_dtype(dtype)
        _check_param_memory("n_hidden", n_hidden, n * (n_in + 2 * n + 3) + n_out * (n + 1), dtype)
        g = _positive("G_b", G_b, (n,), allow_zero=False)
        self.g_raw = jnp.asarray(_inverse_softplus(g), dtype=dtype)
        a_shape = {"matrix": (n, n), "neuron": (n, 1), "global": (1, 1)}[A_shape]
        A_arr = as_float_array("A", A, f"a scalar or an array of shape {a_shape}")
        if A_shape == "neuron" and A_arr.shape == (n,):
            A_arr = A_arr[:, None]
        if self.positive_A:
            a = _positive("A", A_arr, a_shape, allow_zero=True)
            self.a_raw = jnp.asarray(_inverse_softplus(np.maximum(a, _A_ZERO)), dtype=dtype)
        else:
            try:
                a = np.broadcast_to(A_arr, a_shape).copy()
            except ValueError as e:
                raise InputError(
                    f"A: got shape {A_arr.shape}, expected a scalar or shape {a_shape}"
                ) from e
            self.a_raw = jnp.asarray(a, dtype=dtype)
        k_w, k_b = jax.random.split(key)
        self.W_in, self.W_hid, self.W_out = build_weights(
            (n_in, n, n_out), weights, options, dtype=dtype, key=k_w
        )
        self.b_out = make_bias("bias_out", bias_out, n_out, n, k_b, dtype)
        self.v0 = make_initial_state(initial_state, n, learn_initial_state, dtype)

    # ---- parameters -----------------------------------------------------------------

    @property
    def G_b(self) -> Array:
        """The baseline leak conductance, shape `(n,)`."""
        return jax.nn.softplus(self.g_raw)

    @property
    def A(self) -> Array:
        """The conductance scale, broadcastable to `(n, n)`."""
        return jax.nn.softplus(self.a_raw) if self.positive_A else self.a_raw

    @property
    def P(self) -> Array:
        """Effective input weights."""
        return self.W_in.effective()

    @property
    def W(self) -> Array:
        """Effective recurrent weights."""
        return self.W_hid.effective()

    def time_constants(self) -> dict[str, Array]:
        """The baseline time constant 1/G_b (the state-dependent one is 1/z(t), recorded
        in `states["tau_eff"]`)."""
        return {"tau_b": 1 / self.G_b, "G_b": self.G_b}

    # ---- the interface used by the integrators ----------------------------------------

    def resolve(self) -> ShuntingResolved:
        W = self.W_hid.effective()
        K = self.A * jnp.abs(W) if self.state_dependent_leak else None
        return self.resolved_with(
            ShuntingFieldParams(W=W, K=K, G_b=self.G_b, activation=self.activation),
        )

    def field(
        self, t: FloatScalarLike, y: tuple[Float[Array, " n"]], args: tuple
    ) -> tuple[Float[Array, " n"]]:
        resolved, drive = args
        return shunting_field(t, y, (resolved.params, drive))

    def leak(
        self, V: Float[ArrayLike, "*batch n"], resolved: ShuntingResolved | None = None
    ) -> Float[Array, "*batch n"]:
        """The state-dependent leak z(V) = G_b + (A |W|) f(V).

        **Arguments:**

        - `V`: states, shape `(..., n)` (any leading batch and time axes).
        - `resolved`: `self.resolve()`, if already computed.

        **Returns:** `z`, of the shape of `V`.
        """
        resolved = self.resolve() if resolved is None else resolved
        fn = lambda v: shunting_leak(resolved.params, v)  # noqa: E731
        V = jnp.asarray(V)
        for _ in range(V.ndim - 1):
            fn = jax.vmap(fn)
        return fn(V)

    def effective_time_constant(self, V: Float[ArrayLike, "*batch n"]) -> Float[Array, "*batch n"]:
        """The state-dependent time constant 1 / z(V).

        **Arguments:**

        - `V`: states, shape `(..., n)`.

        **Returns:** `1 / z`, of the shape of `V`.
        """
        return 1 / self.leak(V)

    def derived_states(self, states: dict[str, Array]) -> dict[str, Array]:
        """The effective time constant `tau_eff` = 1/z(t) of the recorded states.

        **Arguments:**

        - `states`: `{"V": (..., n)}`, with leading time (and batch) axes.

        **Returns:** `{"tau_eff": (..., n)}`.
        """
        return {"tau_eff": self.effective_time_constant(states["V"])}

    def min_time_constant(self, resolved: ShuntingResolved) -> Float[Array, ""]:
        # z <= G_b + sum_j K_ij for rates bounded by 1; unbounded rates: G_b only.
        p = resolved.params
        z = p.G_b
        if p.K is not None and self.activation in _BOUNDED:
            z = z + jnp.sum(jnp.abs(p.K), axis=1)
        return 1 / jnp.max(z)

    # ---- noise hooks --------------------------------------------------------------

    def noise_gain(self, resolved: ShuntingResolved) -> Float[Array, " n"]:
        """sqrt(2 G_b): unit drive noise gives an isolated linear unit with leak G_b a
        stationary variance of 1."""
        return jnp.sqrt(2 * resolved.params.G_b)

    # ---- example --------------------------------------------------------------------

    @classmethod
    def example(cls, *, key: PRNGKeyArray, dtype: Any = None) -> "Shunting":
        """A 2-4-2 shunting model with a state-dependent leak (A per synapse), baseline
        leaks per neuron, a readout bias, a learnable initial state and Dale's law (the
        default, `"abs"`, 3 E and 1 I units)."""
        return cls(
            2,
            4,
            2,
            G_b=np.linspace(0.8, 1.4, 4),
            A=0.5,
            bias_out="normal",
            initial_state=np.linspace(-0.5, 0.5, 4),
            learn_initial_state=True,
            e_fraction=0.75,
            dtype=dtype,
            key=key,
        )

    # ---- metadata -----------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "n_in": self.n_in,
            "n_hidden": self.n_hidden,
            "n_out": self.n_out,
            "activation": self.activation,
            "A_shape": self.A_shape,
            "state_dependent_leak": self.state_dependent_leak,
            "positive_A": self.positive_A,
            "dale": self.dale,
            "dt": self.dt,
            "readout": self.readout,
            "noise": self.noise.config(),
            "dtype": str(self.g_raw.dtype),
            "weights": weights_structure(self),
            "vectors": vectors_structure(self, ("b_out", "v0")),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], *, key: PRNGKeyArray) -> "Shunting":
        """A shunting model of the structure `config` describes (values from `key`).

        **Arguments:**

        - `config`: as `config()` writes it; `key`: for the placeholder values.

        **Returns:** the model (its leaves are then overwritten by `load_model`).
        """
        model = cls(
            config["n_in"],
            config["n_hidden"],
            config["n_out"],
            activation=config["activation"],
            A_shape=config["A_shape"],
            state_dependent_leak=config["state_dependent_leak"],
            positive_A=config["positive_A"],
            dale=config.get("dale"),
            dt=config["dt"],
            readout=config["readout"],
            noise=config.get("noise"),
            dtype=config.get("dtype"),
            key=key,
        )
        return restore_structure(model, config)
