"""The liquid time-constant (LTC) network of Hasani et al. (2021), as `ncps` defines it.

Why one file of over 400 lines: it is one family, and a family lives in one file (see
`docs/extending.md`, which lists exactly what adding one touches). Eleven parameter
groups with `ncps`'s initial ranges, two positivity modes and three input and four output
mappings make its constructor long; its equations live in `adaptive_rnn._fields`.
"""

from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._activations import canonical_activation
from .._checks import as_float_array, check_choice, check_nonnegative, check_positive_int
from .._connectivity import Weight, check_mask, make_weight, project_weights
from .._errors import InputError
from .._fields import (
    FloatScalarLike,
    LTCDrive,
    LTCFieldParams,
    ltc_field,
    ltc_synapses,
    ltc_unfold,
)
from .._params import Frozen, _inverse_softplus
from ._base import (
    AbstractRNN,
    _check_dt,
    _check_param_memory,
    _check_readout,
    check_sizes,
    default_dtype,
)
from ._common import restore_structure, unwrap, vectors_structure

POSITIVITY = ("softplus", "clip")
INPUT_MAPPINGS = ("affine", "linear", "none")
OUTPUT_MAPPINGS = ("affine", "linear", "none", "dense")
# The initial ranges of `ncps` (uniform draws), per parameter.
INIT_RANGES = {
    "gleak": (0.001, 1.0),
    "vleak": (-0.2, 0.2),
    "cm": (0.4, 0.6),
    "w": (0.001, 1.0),
    "sigma": (3.0, 8.0),
    "mu": (0.3, 0.8),
    "sensory_w": (0.001, 1.0),
    "sensory_sigma": (3.0, 8.0),
    "sensory_mu": (0.3, 0.8),
}
_POSITIVE = ("gleak", "cm", "w", "sensory_w")  # kept >= 0 by `positivity`
_ZERO = 1e-30  # softplus cannot reach 0; a zero is stored as softplus^{-1}(1e-30)


_Values = ArrayLike | Sequence | None  # a scalar, an array or nested lists of numbers


class LTCResolved(eqx.Module):
    params: LTCFieldParams
    sensory: tuple[
        Array, Array, Array, Array
    ]  # (w, sigma, mu, erev), each (n, n_in), mask applied to w
    input_w: Array
    input_b: Array
    W_out: Array
    b_out: Array
    v0: Array


def _array(name: str, value, shape, *, sign: str | None = None) -> np.ndarray:
    """`value` broadcast to `shape`, finite, and `sign` (`"positive"`, `"nonnegative"`)."""
    arr = as_float_array(name, value, f"a scalar or an array of shape {shape}")
    try:
        arr = np.broadcast_to(arr, shape).copy()
    except ValueError as e:
        raise InputError(
            f"{name}: got shape {arr.shape}, expected a scalar or shape {shape}"
        ) from e
    bad = ~np.isfinite(arr)
    if sign == "positive":
        bad |= arr <= 0
    elif sign == "nonnegative":
        bad |= arr < 0
    if bad.any():
        raise InputError(
            f"{name}: got {np.unique(arr[bad])[:5].tolist()}, expected {sign + ' ' if sign else ''}finite values"
        )
    return arr


class LTC(AbstractRNN):
    r"""The liquid time-constant network (LTC) of Hasani, Lechner et al. (2021), the cell
    of `ncps` (`ncps.torch.LTCCell`): conductance-based units with sigmoid synapses.

    $$C_{m,i}\frac{dv_i}{dt} = g_{l,i}(v_{l,i} - v_i) + \sum_j g_{ij}(v_j)(E_{ij} - v_i)
      + \sum_k g^s_{ik}(\tilde x_k)(E^s_{ik} - v_i), \qquad y = W_{out} v + b_{out},$$

    with $g_{ij}(v_j) = w_{ij}\,\mathrm{sigmoid}(\sigma_{ij}(v_j - \mu_{ij}))$, the
    sensory $g^s_{ik}$ alike, and the mapped input $\tilde x = w_{in} \odot x + b_{in}$.
    The time constant $C_{m,i}/(g_{l,i} + \sum_j g_{ij} + \sum_k g^s_{ik})$ depends on
    the state and the input. `adaptive_rnn.solve` integrates this ODE.

    The discrete model (`adaptive_rnn.simulate`) is `ncps`'s: each step of length `dt`
    (its elapsed time) is `ode_unfolds` semi-implicit steps of length
    $h = dt/\text{ode\_unfolds}$ (see `adaptive_rnn._fields.ltc_unfold`), stable at any
    `dt`; it converges to the ODE with the input held over each step as
    `ode_unfolds` grows. Matrices are indexed `[post, pre]` (the transpose of `ncps`'s).
    No noise; no Dale's law (the sign of a synapse is its reversal potential).
    See `docs/models/ltc.md`.
    """

    gleak_raw: Array
    vleak: Array
    cm_raw: Array
    w_raw: Array
    sigma: Array
    mu: Array
    erev: Array
    mask: Frozen | None
    sensory_w_raw: Array
    sensory_sigma: Array
    sensory_mu: Array
    sensory_erev: Array
    sensory_mask: Frozen | None
    input_w: Array | Frozen
    input_b: Array | Frozen
    W_out: Weight
    b_out: Array | Frozen
    v0: Array | Frozen
    dt: float = eqx.field(static=True)
    readout: str = eqx.field(static=True)
    ode_unfolds: int = eqx.field(static=True)
    epsilon: float = eqx.field(static=True)
    positivity: str = eqx.field(static=True)
    input_mapping: str = eqx.field(static=True)
    output_mapping: str = eqx.field(static=True)

    family: ClassVar[str] = "ltc"
    state_names: ClassVar[tuple[str, ...]] = ("v",)
    stable_discrete_step: ClassVar[bool] = True

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_out: int,
        *,
        activation: str = "sigmoid",
        dt: float = 1.0,
        ode_unfolds: int = 6,
        epsilon: float = 1e-8,
        positivity: str = "softplus",
        input_mapping: str = "affine",
        output_mapping: str = "affine",
        gleak: _Values = None,
        vleak: _Values = None,
        cm: _Values = None,
        w: _Values = None,
        sigma: _Values = None,
        mu: _Values = None,
        erev: _Values = None,
        mask: _Values = None,
        sensory_w: _Values = None,
        sensory_sigma: _Values = None,
        sensory_mu: _Values = None,
        sensory_erev: _Values = None,
        sensory_mask: _Values = None,
        input_w: _Values = None,
        input_b: _Values = None,
        output_w: _Values = None,
        output_b: _Values = None,
        initial_state: _Values = None,
        learn_initial_state: bool = False,
        readout: str = "current",
        dtype: Any = None,
        key: PRNGKeyArray,
    ):
        """**Arguments:**

        - `n_in`, `n_hidden`, `n_out`: sizes (`n_out <= n_hidden` unless
            `output_mapping="dense"`).
        - `activation`: the synapses' activation, `"sigmoid"` (the only one: the
            conductances must stay in `[0, w]`).
        - `dt`: the elapsed time of one step of the discrete model (`ncps`: 1).
        - `ode_unfolds`: semi-implicit steps per `dt` (`ncps`: 6); `epsilon`: added to
            their denominator (`ncps`: 1e-8).
        - `positivity`: how `gleak`, `cm`, `w` and `sensory_w` stay non-negative:
            `"softplus"` (default; stored as softplus^{-1}, `ncps`'s
            `implicit_param_constraints=True`) or `"clip"` (stored as they are and
            clipped at 0 after each optimiser step by `projected`, `ncps`'s default
            cell).
        - `input_mapping`: the input seen by the sensory synapses, `"affine"` (default,
            $w_{in} \\odot x + b_{in}$, learnable), `"linear"` (no $b_{in}$) or `"none"`.
        - `output_mapping`: `"affine"` (default, `ncps`: $y_k = w_{out,k} v_k + b_{out,k}$
            from the first `n_out` units, the motor neurons), `"linear"` (no bias),
            `"none"` ($y_k = v_k$) or `"dense"` (a full learnable `W_out` and bias).
        - `gleak` (> 0), `vleak`, `cm` (> 0): per unit, scalar or `(n,)`.
        - `w` (>= 0), `sigma`, `mu`, `erev`: recurrent synapses, scalar or `(n, n)`,
            `[post, pre]`; `mask`: a 0/1 `(n, n)` sparsity mask (default: all-to-all).
        - `sensory_w` (>= 0), `sensory_sigma`, `sensory_mu`, `sensory_erev`,
            `sensory_mask`: the same for the sensory synapses, `(n, n_in)`.
        - `input_w`, `input_b`: `(n_in,)`; `output_w`: `(n_out,)` (`(n_out, n)` for
            `"dense"`), `output_b`: `(n_out,)`.
        - Every parameter left `None` is drawn from `key` as `ncps` draws it: uniform in
            `INIT_RANGES`, reversal potentials +1 or -1 (+1 with probability 2/3), the
            mappings the identity (a dense `W_out` uniform in +-1/sqrt(n)).
        - `initial_state`, `learn_initial_state`: `v(t0)` (default zeros), learnable
            or not.
        - `readout`: `"current"` (default) or `"lagged"`; `dtype`, `key`: as `CTRNN`.

        **Raises:** `InputError` for bad sizes or options, arrays of the wrong shape,
        non-finite values, `gleak`/`cm` <= 0, `w`/`sensory_w` < 0, non-binary masks, or
        parameters too large for the memory available.
        """
        check_choice("activation", canonical_activation(activation), ("sigmoid",))
        n_in, n, n_out = check_sizes(n_in, n_hidden, n_out)
        self.dt = _check_dt(dt)
        self.readout = _check_readout(readout)
        self.ode_unfolds = check_positive_int("ode_unfolds", ode_unfolds)
        self.epsilon = check_nonnegative("epsilon", epsilon)
        self.positivity = check_choice("positivity", positivity, POSITIVITY)
        self.input_mapping = check_choice("input_mapping", input_mapping, INPUT_MAPPINGS)
        self.output_mapping = check_choice("output_mapping", output_mapping, OUTPUT_MAPPINGS)
        if self.output_mapping != "dense" and n_out > n:
            raise InputError(
                f"n_out: got {n_out} with output_mapping={output_mapping!r}, which reads the first "
                f"n_out units; expected n_out <= n_hidden = {n}, or output_mapping='dense'"
            )
        dtype = default_dtype(dtype)
        _check_param_memory(
            "n_hidden", n_hidden, 5 * n * (n + n_in) + 4 * n + 2 * n_in + n_out * (n + 1), dtype
        )
        keys = dict(
            zip(
                (*INIT_RANGES, "erev", "sensory_erev", "out"),
                jax.random.split(key, len(INIT_RANGES) + 3),
            )
        )
        shapes = {
            "gleak": (n,),
            "vleak": (n,),
            "cm": (n,),
            "w": (n, n),
            "sigma": (n, n),
            "mu": (n, n),
            "erev": (n, n),
            "sensory_w": (n, n_in),
            "sensory_sigma": (n, n_in),
            "sensory_mu": (n, n_in),
            "sensory_erev": (n, n_in),
        }
        given = {
            "gleak": gleak,
            "vleak": vleak,
            "cm": cm,
            "w": w,
            "sigma": sigma,
            "mu": mu,
            "erev": erev,
            "sensory_w": sensory_w,
            "sensory_sigma": sensory_sigma,
            "sensory_mu": sensory_mu,
            "sensory_erev": sensory_erev,
        }
        values = {}
        for name, shape in shapes.items():
            value = given[name]
            if value is None and name in INIT_RANGES:
                lo, hi = INIT_RANGES[name]
                value = np.asarray(jax.random.uniform(keys[name], shape, dtype, lo, hi))
            elif value is None:  # a reversal potential: +1 or -1
                value = np.where(
                    np.asarray(jax.random.uniform(keys[name], shape, dtype)) < 1 / 3, -1.0, 1.0
                )
            sign = (
                "positive"
                if name in ("gleak", "cm")
                else "nonnegative"
                if name in _POSITIVE
                else None
            )
            values[name] = _array(name, value, shape, sign=sign)
        as_raw = (
            (lambda a: _inverse_softplus(np.maximum(a, _ZERO)))
            if self.positivity == "softplus"
            else (lambda a: a)
        )
        leaf = lambda a: jnp.asarray(a, dtype=dtype)  # noqa: E731
        self.gleak_raw = leaf(as_raw(values["gleak"]))
        self.vleak = leaf(values["vleak"])
        self.cm_raw = leaf(as_raw(values["cm"]))
        self.w_raw = leaf(as_raw(values["w"]))
        self.sigma, self.mu, self.erev = (leaf(values[k]) for k in ("sigma", "mu", "erev"))
        self.sensory_w_raw = leaf(as_raw(values["sensory_w"]))
        self.sensory_sigma, self.sensory_mu, self.sensory_erev = (
            leaf(values[k]) for k in ("sensory_sigma", "sensory_mu", "sensory_erev")
        )
        self.mask = None if mask is None else Frozen(leaf(check_mask("mask", mask, (n, n))))
        self.sensory_mask = (
            None
            if sensory_mask is None
            else Frozen(leaf(check_mask("sensory_mask", sensory_mask, (n, n_in))))
        )

        def vector(name, value, size, default, trainable):
            arr = _array(name, default if value is None else value, (size,))
            return leaf(arr) if trainable else Frozen(leaf(arr))

        self.input_w = vector("input_w", input_w, n_in, 1.0, self.input_mapping != "none")
        self.input_b = vector("input_b", input_b, n_in, 0.0, self.input_mapping == "affine")
        self.b_out = vector(
            "output_b", output_b, n_out, 0.0, self.output_mapping in ("affine", "dense")
        )
        if self.output_mapping == "dense":
            init = "uniform" if output_w is None else _array("output_w", output_w, (n_out, n))
            self.W_out = make_weight("W_out", (n_out, n), init=init, key=keys["out"], dtype=dtype)
        else:
            motor = np.eye(n_out, n)
            gain = _array("output_w", 1.0 if output_w is None else output_w, (n_out,))
            self.W_out = make_weight(
                "W_out",
                (n_out, n),
                init=motor * gain[:, None],
                key=keys["out"],
                dtype=dtype,
                mask=motor,
                fixed=self.output_mapping == "none",
            )
        v0 = _array("initial_state", 0.0 if initial_state is None else initial_state, (n,))
        self.v0 = leaf(v0) if learn_initial_state else Frozen(leaf(v0))

    # ---- sizes, parameters ------------------------------------------------------------

    @property
    def n_in(self) -> int:
        return self.sensory_w_raw.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.w_raw.shape[0]

    @property
    def n_out(self) -> int:
        return self.W_out.shape[0]

    def _positive(self, raw: Array) -> Array:
        return jax.nn.softplus(raw) if self.positivity == "softplus" else raw

    @property
    def gleak(self) -> Array:
        """The leak conductance, shape `(n,)`."""
        return self._positive(self.gleak_raw)

    @property
    def cm(self) -> Array:
        """The membrane capacitance, shape `(n,)`."""
        return self._positive(self.cm_raw)

    @property
    def w(self) -> Array:
        """The maximal recurrent conductances, shape `(n, n)`, `[post, pre]`, masked."""
        w = self._positive(self.w_raw)
        return w if self.mask is None else w * self.mask.value

    @property
    def sensory_w(self) -> Array:
        """The maximal sensory conductances, shape `(n, n_in)`, masked."""
        w = self._positive(self.sensory_w_raw)
        return w if self.sensory_mask is None else w * self.sensory_mask.value

    def time_constants(self) -> dict[str, Array]:
        """`tau_leak` = C_m / g_l, the time constant of a unit with all synapses closed,
        and `tau_min` = C_m / (g_l + sum_j w_ij + sum_k w^s_ik), with all open (the
        state- and input-dependent time constant lies between them)."""
        return {"tau_leak": self.cm / self.gleak, "tau_min": self._tau_min(self.resolve())}

    def _tau_min(self, resolved: LTCResolved) -> Array:
        p = resolved.params
        return p.cm / (p.gleak + jnp.sum(p.w, axis=1) + jnp.sum(resolved.sensory[0], axis=1))

    # ---- the interface used by the integrators ------------------------------------------

    def resolve(self) -> LTCResolved:
        return LTCResolved(
            params=LTCFieldParams(
                gleak=self.gleak,
                vleak=self.vleak,
                cm=self.cm,
                w=self.w,
                sigma=self.sigma,
                mu=self.mu,
                erev=self.erev,
            ),
            sensory=(self.sensory_w, self.sensory_sigma, self.sensory_mu, self.sensory_erev),
            input_w=unwrap(self.input_w),
            input_b=unwrap(self.input_b),
            W_out=self.W_out.effective(),
            b_out=unwrap(self.b_out),
            v0=unwrap(self.v0),
        )

    def field(
        self, t: FloatScalarLike, y: tuple[Float[Array, " n"]], args: tuple
    ) -> tuple[Float[Array, " n"]]:
        resolved, drive = args
        return ltc_field(t, y, (resolved.params, drive))

    def discrete_step(
        self, t: FloatScalarLike, y: tuple[Float[Array, " n"]], args: tuple, dt: FloatScalarLike
    ) -> tuple[Float[Array, " n"]]:
        r"""`ode_unfolds` semi-implicit steps of length `dt / ode_unfolds`
        (`adaptive_rnn._fields.ltc_unfold`), the input held: `ncps`'s update.

        **Arguments:** `t` (unused), `y = (v,)`, `args = (resolved, drive)` as `field`;
        `dt`: the step.

        **Returns:** `(v,)` at `t + dt`.
        """
        del t
        resolved, drive = args
        h = dt / self.ode_unfolds
        (v,) = y
        v = jax.lax.fori_loop(
            0,
            self.ode_unfolds,
            lambda _, u: ltc_unfold(resolved.params, u, drive, h, self.epsilon),
            v,
        )
        return (v,)

    def initial_state(self, resolved: LTCResolved) -> tuple[Float[Array, " n"]]:
        return (resolved.v0,)

    def drive(self, resolved: LTCResolved, x: Float[Array, "*batch n_in"]) -> LTCDrive:
        """The sensory synapses at the input `x`.

        **Arguments:**

        - `resolved`: `self.resolve()`; `x`: inputs, shape `(..., n_in)`.

        **Returns:** an `LTCDrive` of arrays `(..., n)`.
        """
        return ltc_synapses(*resolved.sensory, x * resolved.input_w + resolved.input_b)

    def output(self, resolved: LTCResolved, y: tuple[Float[Array, " n"]]) -> Float[Array, " n_out"]:
        return resolved.W_out @ y[0] + resolved.b_out

    def min_time_constant(self, resolved: LTCResolved) -> Float[Array, ""]:
        """The smallest `tau_min` (all synapses open): explicit steps of `solve` must stay
        below twice it; the discrete model's semi-implicit step has no such limit."""
        return jnp.min(self._tau_min(resolved))

    # ---- optional hooks -----------------------------------------------------------------

    def derived_states(self, states: dict[str, Array]) -> dict[str, Array]:
        """`tau_rec` = C_m / (g_l + sum_j g_ij(v)), the state-dependent time constant of
        the leak and the recurrent synapses (the sensory synapses, which depend on the
        input, shorten it further).

        **Arguments:**

        - `states`: `{"v": (..., n)}`, with leading time (and batch) axes.

        **Returns:** `{"tau_rec": (..., n)}`.
        """
        p = self.resolve().params

        def one(v):
            return p.cm / (p.gleak + ltc_synapses(p.w, p.sigma, p.mu, p.erev, v).den)

        return {"tau_rec": one(jnp.asarray(states["v"]))}

    def weight_matrices(self) -> dict[str, Float[Array, "n_post n_pre"]]:
        """The maximal conductances `sensory_w` (`"in"`) and `w` (`"rec"`), and `W_out`.

        **Returns:** role -> matrix `(n_post, n_pre)`.
        """
        return {"in": self.sensory_w, "rec": self.w, "out": self.W_out.effective()}

    def projected(self) -> "LTC":
        """With `positivity="clip"`: `gleak`, `cm`, `w` and `sensory_w` clipped at 0 (as
        `ncps`'s `apply_weight_constraints`); and `W_out` masked to the motor units.

        **Returns:** the projected LTC (same structure).
        """
        model = project_weights(self)
        if self.positivity != "clip":
            return model
        return eqx.tree_at(
            lambda m: (m.gleak_raw, m.cm_raw, m.w_raw, m.sensory_w_raw),
            model,
            tuple(
                jax.nn.relu(a)
                for a in (model.gleak_raw, model.cm_raw, model.w_raw, model.sensory_w_raw)
            ),
        )

    @classmethod
    def example(cls, *, key: PRNGKeyArray, dtype: Any = None) -> "LTC":
        """A 2-4-2 LTC without autapses, a learnable initial state, 4 unfolds and
        `dt = 0.1` (so that explicit solvers on the input grid are stable too)."""
        return cls(
            2,
            4,
            2,
            dt=0.1,
            ode_unfolds=4,
            mask=1 - np.eye(4),
            initial_state=np.linspace(-0.3, 0.3, 4),
            learn_initial_state=True,
            dtype=dtype,
            key=key,
        )

    # ---- metadata -----------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "n_in": self.n_in,
            "n_hidden": self.n_hidden,
            "n_out": self.n_out,
            "dt": self.dt,
            "readout": self.readout,
            "ode_unfolds": self.ode_unfolds,
            "epsilon": self.epsilon,
            "positivity": self.positivity,
            "input_mapping": self.input_mapping,
            "output_mapping": self.output_mapping,
            "masks": {"rec": self.mask is not None, "in": self.sensory_mask is not None},
            "dtype": str(self.vleak.dtype),
            "weights": {"out": self.W_out.structure()},
            "vectors": vectors_structure(self, ("input_w", "input_b", "b_out", "v0")),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], *, key: PRNGKeyArray) -> "LTC":
        """An LTC of the structure `config` describes (values from `key`).

        **Arguments:**

        - `config`: as `config()` writes it; `key`: for the placeholder values.

        **Returns:** the model (its leaves are then overwritten by `load_model`).
        """
        n_in, n, n_out = config["n_in"], config["n_hidden"], config["n_out"]
        masks = config.get("masks", {})
        model = cls(
            n_in,
            n,
            n_out,
            dt=config["dt"],
            readout=config["readout"],
            ode_unfolds=config["ode_unfolds"],
            epsilon=config["epsilon"],
            positivity=config["positivity"],
            input_mapping=config["input_mapping"],
            output_mapping=config["output_mapping"],
            mask=np.ones((n, n)) if masks.get("rec") else None,
            sensory_mask=np.ones((n, n_in)) if masks.get("in") else None,
            dtype=config.get("dtype"),
            key=key,
        )
        return restore_structure(model, config)
