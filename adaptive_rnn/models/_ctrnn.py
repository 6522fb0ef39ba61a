"""The leaky continuous-time RNN (NN4N; Song, Yang & Wang 2016)."""

from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._activations import canonical_activation
from .._checks import check_choice
from .._connectivity import Weight
from .._errors import InputError
from .._fields import CTRNNFieldParams, FloatScalarLike, ctrnn_field
from .._params import MODES, PARAMETRISATIONS, AbstractTimeConstant, Frozen, make_time_constant
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
    unwrap,
    vectors_structure,
    weights_structure,
)
from ._noise_settings import Noise, make_noise

CTRNNResolved = VoltageResolved[CTRNNFieldParams]


class CTRNN(AbstractVoltageRNN, AbstractNoisyRNN):
    r"""The leaky continuous-time RNN of NN4N and Song, Yang & Wang (2016).

    $$\tau \frac{dv}{dt} = -v + W_{hid} f(v) + W_{in} u(t) + b_{hid}, \qquad
      y = W_{out} f(v) + b_{out}.$$

    The discrete model (`adaptive_rnn.simulate`) is its Euler step with the rate
    constant $\alpha = dt/\tau$ (NN4N and Song et al. call it $\gamma$):
    $v_{t+1} = v_t + \alpha(-v_t + W_{hid} f(v_t) + W_{in} u_t + b_{hid})$,
    NN4N's update (input sample $u_t$ drives the step from $t$ to $t + dt$).
    `adaptive_rnn.solve` integrates the continuous equation with diffrax.

    Weights are `Weight`s (see `adaptive_rnn._connectivity`): Dale's law, masks and
    frozen entries are stored as `Frozen` leaves and applied in `resolve()`. The time
    constant is the `AbstractTimeConstant` in the field `time_constant` (`tau` and
    `alpha` read its values; `tau_` is an alias kept from earlier versions).
    """

    W_in: Weight
    W_hid: Weight
    W_out: Weight
    b_hid: Array | Frozen
    b_out: Array | Frozen
    v0: Array | Frozen
    time_constant: AbstractTimeConstant  # (named `tau_` before; same place in saved files)
    activation: str = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    readout: str = eqx.field(static=True)
    mode: str = eqx.field(static=True)
    parametrisation: str = eqx.field(static=True)
    tau_min: float = eqx.field(static=True)
    noise: Noise

    family: ClassVar[str] = "ctrnn"
    state_names: ClassVar[tuple[str, ...]] = ("v",)

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_out: int,
        *,
        activation: str = "relu",
        time_constants: str = "static",
        parametrisation: str = "sigmoid",
        tau: ArrayLike | None = None,
        alpha: ArrayLike | None = None,
        dt: float = 1.0,
        tau_min: float | None = None,
        weights: str | ArrayLike | Sequence = "uniform",
        biases: Sequence = (None, None),
        initial_state: ArrayLike | None = None,
        learn_initial_state: bool = False,
        noise: Noise | dict | None = None,
        readout: str = "current",
        dtype: Any = None,
        key: PRNGKeyArray,
        **connectivity: Any,
    ):
        """**Arguments:**

        - `n_in`, `n_hidden`, `n_out`: sizes.
        - `activation`: `relu` (default, as NN4N), `tanh`, `sigmoid`, `retanh`, `linear`,
            `softplus`.
        - `time_constants`: `"static"` (default, fixed as NN4N), `"global"` (one
            learnable tau) or `"local"` (one per neuron), with `parametrisation`
            `"sigmoid"` (alpha = sigmoid(1.5 w) in (0, 1)) or `"softplus"`
            (tau = tau_min + softplus(theta)), as the ARU.
        - `tau` or `alpha` (the rate constant dt/tau, NN4N's gamma): initial value,
            scalar or per neuron (default alpha 0.1, NN4N's dt = 10, tau = 100).
        - `dt`: time step of the discrete model; `tau_min`: softplus floor (default dt).
        - `weights`: initialisation of `(W_in, W_hid, W_out)`: `"uniform"` (default,
            +-1/sqrt(fan_in)), `"normal"` (std 1/sqrt(fan_in)), `"zero"`, or arrays; one
            value for all three or a sequence of three.
        - `biases`: `(b_hid, b_out)`, each `None` (no bias, default), `"zero"`,
            `"normal"`, `"uniform"` or an array.
        - `initial_state`, `learn_initial_state`: `v(t0)` (default zeros), learnable or
            not.
        - `noise`: a `Noise` (or dict of its arguments); see `adaptive_rnn._noise`.
        - `readout`: `"current"` (default) or `"lagged"`.
        - `dtype`, `key`: parameter dtype and the `jax.random` key.
        - `**connectivity`: the options of `adaptive_rnn.Connectivity`, as for every
            family: `dale` (Dale's law on `W_hid`: `None`, the default, `"abs"`,
            `"rectify"` or `"project"`), `e_fraction` or `ei`, `self_connections`,
            `readout_excitatory_only`, `nonneg_input`, `balance`, `spectral_radius`,
            `masks`, `fixed`.

        **Raises:** `InputError` (a `ValueError`) for bad sizes, an unknown keyword,
        options, masks, arrays of the wrong shape, `e_fraction` outside (0, 1),
        alpha >= 2, or parameters too large for the memory available.
        """
        n_in, n, n_out = check_sizes(n_in, n_hidden, n_out)
        self.dt = _check_dt(dt)
        self.readout = _check_readout(readout)
        self.activation = canonical_activation(activation)
        self.mode = check_choice("time_constants", time_constants, MODES)
        self.parametrisation = check_choice("parametrisation", parametrisation, PARAMETRISATIONS)
        self.tau_min = self.dt if tau_min is None else _check_dt(tau_min, "tau_min")
        options = connectivity_options(CTRNN, connectivity)
        self.noise = make_noise(noise)
        dtype = default_dtype(dtype)
        _check_param_memory("n_hidden", n_hidden, n * (n_in + n + 3) + n_out * (n + 1), dtype)
        if tau is not None and alpha is not None:
            raise InputError(
                f"tau, alpha: got both (tau={tau!r}, alpha={alpha!r}), expected one of them"
            )
        init = {"tau": tau} if tau is not None else {"alpha": 0.1 if alpha is None else alpha}
        self.time_constant = make_time_constant(
            name="tau",
            mode=time_constants,
            parametrisation=parametrisation,
            n=n,
            dt=self.dt,
            tau_min=self.tau_min,
            dtype=dtype,
            **init,
        )
        import jax

        k_w, k_bh, k_bo = jax.random.split(key, 3)
        self.W_in, self.W_hid, self.W_out = build_weights(
            (n_in, n, n_out), weights, options, dtype=dtype, key=k_w
        )
        if not isinstance(biases, (list, tuple)) or len(biases) != 2:
            raise InputError(f"biases: got {biases!r}, expected a pair (b_hid, b_out)")
        self.b_hid = make_bias("b_hid", biases[0], n, n, k_bh, dtype)
        self.b_out = make_bias("b_out", biases[1], n_out, n, k_bo, dtype)
        self.v0 = make_initial_state(initial_state, n, learn_initial_state, dtype)

    # ---- time constants -------------------------------------------------------------

    @property
    def tau(self) -> Array:
        """The time constant(s): shape (1,) global/static-scalar or (n,) per neuron."""
        return self.time_constant.tau()

    @property
    def alpha(self) -> Array:
        """The rate constant(s) alpha = dt / tau (NN4N's gamma), shaped as `tau`."""
        return self.time_constant.alpha(self.dt)

    @property
    def tau_(self) -> AbstractTimeConstant:
        """Alias of `time_constant` (the field's name in earlier versions)."""
        return self.time_constant

    def time_constants(self) -> dict[str, Array]:
        return {"tau": self.tau, "alpha": self.alpha}

    # ---- the interface used by the integrators --------------------------------------

    def resolve(self) -> CTRNNResolved:
        return self.resolved_with(
            CTRNNFieldParams(
                W=self.W_hid.effective(),
                b=unwrap(self.b_hid),
                tau=self.time_constant.tau(),
                activation=self.activation,
            ),
        )

    def field(
        self, t: FloatScalarLike, y: tuple[Float[Array, " n"]], args: tuple
    ) -> tuple[Float[Array, " n"]]:
        resolved, drive = args
        return ctrnn_field(t, y, (resolved.params, drive))

    def min_time_constant(self, resolved: CTRNNResolved) -> Float[Array, ""]:
        return jnp.min(resolved.params.tau)

    # ---- noise hooks (adaptive_rnn._noise) ------------------------------------------

    def noise_gain(self, resolved: CTRNNResolved) -> Float[Array, " n"]:
        """sqrt(2 tau): unit white noise in the drive gives an isolated linear unit a
        stationary variance of 1."""
        return jnp.broadcast_to(jnp.sqrt(2 * resolved.params.tau), resolved.v0.shape)

    # ---- example --------------------------------------------------------------------

    @classmethod
    def example(cls, *, key: PRNGKeyArray, dtype: Any = None) -> "CTRNN":
        """A 2-4-2 tanh CTRNN with local learnable time constants, biases, a learnable
        initial state and Dale's law (`"abs"`, 3 E and 1 I units)."""
        return cls(
            2,
            4,
            2,
            activation="tanh",
            time_constants="local",
            alpha=np.linspace(0.2, 0.6, 4),
            biases=("normal", "normal"),
            initial_state=np.linspace(-0.5, 0.5, 4),
            learn_initial_state=True,
            dale="abs",
            e_fraction=0.75,
            dtype=dtype,
            key=key,
        )

    # ---- metadata -------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "n_in": self.n_in,
            "n_hidden": self.n_hidden,
            "n_out": self.n_out,
            "activation": self.activation,
            "time_constants": self.mode,
            "parametrisation": self.parametrisation,
            "tau_sizes": [int(self.tau.shape[0])],
            "dt": self.dt,
            "tau_min": self.tau_min,
            "readout": self.readout,
            "dale": self.dale,
            "noise": self.noise.config(),
            "dtype": str(unwrap(self.b_out).dtype),
            "weights": weights_structure(self),
            "vectors": vectors_structure(self, ("b_hid", "b_out", "v0")),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], *, key: PRNGKeyArray) -> "CTRNN":
        """A CTRNN of the structure `config` describes (values from `key`). Also reads
        configs written before `"tau_sizes"` (`[k]`) replaced `"tau_size"` (`k`)."""
        n = config["n_hidden"]
        size = config["tau_sizes"][0] if "tau_sizes" in config else config.get("tau_size", 1)
        per = size == n and n > 1
        model = cls(
            config["n_in"],
            n,
            config["n_out"],
            activation=config["activation"],
            time_constants=config["time_constants"],
            parametrisation=config["parametrisation"],
            alpha=np.full((n,), 0.5) if per else 0.5,
            dt=config["dt"],
            tau_min=config["tau_min"],
            readout=config["readout"],
            dale=config.get("dale"),
            noise=config.get("noise"),
            dtype=config.get("dtype"),
            key=key,
        )
        return restore_structure(model, config)
