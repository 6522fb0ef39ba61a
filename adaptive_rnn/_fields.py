"""Pure vector fields, one per model family.

Each field has the diffrax signature `field(t, y, args) -> dy/dt`, where `y` is the
model's state (a tuple of arrays, one per state variable) and `args = (params, drive)`:
`params` holds the *resolved* parameters (positive time constants, effective weights) and
`drive` is the external input current at time `t`, already projected into the hidden
layer (e.g. `U x(t)`).

No classes with state, no randomness, no side effects. The discrete recurrences of the
models are not written anywhere: they are the `SequentialEuler` step of these fields
(see `adaptive_rnn._solve`), so the discrete and continuous paths cannot drift apart.
"""

from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._activations import get_activation

# A time or a step: a Python number or a scalar array (traced under jit).
FloatScalarLike = float | int | Float[ArrayLike, ""]


class InputDrive(NamedTuple):
    """The input drive `U x (+ offset)`, not yet multiplied out (public as
    `adaptive_rnn.InputDrive`).

    The integrators pass it as the `drive` of a field when the model's drive is linear
    (`AbstractRNN.drive_weights` returns `U`), so that `recurrent_input` computes the
    recurrent and the input current of a step as one matmul. A field that adds its drive
    with `recurrent_input` sees the same value either way; a field must never use an
    `InputDrive` as an array directly.

    **Fields:**

    - `U`: the input weights `(n, n_in)`.
    - `x`: the input sample `(n_in,)`.
    - `offset`: an extra current `(n,)` (e.g. drive noise), or `None`.
    """

    U: Float[Array, "n n_in"]
    x: Float[Array, " n_in"]
    offset: Float[Array, " n"] | None = None


def recurrent_input(
    W: Float[Array, "n m"], r: Float[Array, " m"], drive: "Float[Array, ' n'] | InputDrive"
) -> Float[Array, " n"]:
    r"""The total input current $W r + d$ of a layer (public as
    `adaptive_rnn.recurrent_input`).

    With an `InputDrive` $d = U x + o$, this is one matmul $[W\;U]\,[r; x] + o$: at the
    sizes of these models a step's cost is dominated by the number of kernels it
    launches, and two matmuls cost about twice one (measured in `benchmarks/README.md`).
    Every field of a model whose `drive_weights` returns a matrix adds its drive with it.

    **Arguments:**

    - `W`: the recurrent weights `(n, m)` (square in a recurrent layer).
    - `r`: the presynaptic rates `(m,)`.
    - `drive`: an array `(n,)` or an `InputDrive`.

    **Returns:** the current, shape `(n,)`.
    """
    if isinstance(drive, InputDrive):
        out = jnp.concatenate([W, drive.U], axis=-1) @ jnp.concatenate([r, drive.x], axis=-1)
        return out if drive.offset is None else out + drive.offset
    return W @ r + drive


class ARUFieldParams(NamedTuple):
    """Resolved parameters of one ARU layer.

    **Fields:**

    - `W`: recurrent weights, shape `(n, n)`, `W[i, j]` from unit `j` to unit `i`.
    - `tau_s`, `tau_r`: synaptic and rate time constants, shape `(n,)` or `(1,)`, > 0.
    - `activation`: name of f.
    """

    W: Float[Array, "n n"]
    tau_s: Float[Array, " n"]
    tau_r: Float[Array, " n"]
    activation: str


def aru_field(
    t: FloatScalarLike, y: tuple[Float[Array, " n"], Float[Array, " n"]], args: tuple
) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
    r"""The adaptive-time-scale unit (ARU) of Quax, D'Asaro & van Gerven (2020).

    $$\tau_s \frac{dI}{dt} = -I + W r + d(t), \qquad \tau_r \frac{dr}{dt} = -r + f(I)$$

    with $d(t) = U x(t)$ the input drive.

    **Arguments:**

    - `t`: time (unused: the field is autonomous apart from the drive).
    - `y`: the state `(I, r)`, each of shape `(n,)`.
    - `args`: `(params, drive)` with `params` an `ARUFieldParams` and `drive` of shape
        `(n,)`.

    **Returns:** `(dI/dt, dr/dt)`.
    """
    del t
    I, r = y
    params, drive = args
    f = get_activation(params.activation)
    dI = (-I + recurrent_input(params.W, r, drive)) / params.tau_s
    dr = (-r + f(I)) / params.tau_r
    return (dI, dr)


def stacked_aru_field(
    t: FloatScalarLike, y: tuple[Float[Array, " _n"], ...], args: tuple
) -> tuple[Float[Array, " _n"], ...]:
    r"""A stack of ARU layers, layer k driven by the rates of layer k - 1.

    The state is flat, `(I_1, r_1, I_2, r_2, ...)`; `args = (layers, drive)` where
    `layers` is a tuple of `(ARUFieldParams, U_k)` pairs (`U_1` is unused: the first layer
    receives `drive`). Each layer is the single-layer `aru_field`.

    **Arguments:**

    - `t`: time (unused).
    - `y`: the flat state, `2 K` arrays for `K` layers (each layer its own size).
    - `args`: `(layers, drive)` as above; `drive` of the first layer's shape `(n_1,)`
        or an `InputDrive`.

    **Returns:** the derivatives, of the structure of `y`.
    """
    layers, drive = args
    out = []
    for k, (params, U) in enumerate(layers):
        I, r = y[2 * k], y[2 * k + 1]
        d = drive if k == 0 else InputDrive(U, y[2 * k - 1])
        out.extend(aru_field(t, (I, r), (params, d)))
    return tuple(out)


class CTRNNFieldParams(NamedTuple):
    """Resolved parameters of a leaky CTRNN.

    **Fields:**

    - `W`: effective recurrent weights `(n, n)`, `W[i, j]` from unit `j` to unit `i`
        (Dale signs and masks already applied).
    - `b`: hidden bias `(n,)`.
    - `tau`: time constant(s), shape `(n,)` or `(1,)`, > 0.
    - `activation`: name of f.
    """

    W: Float[Array, "n n"]
    b: Float[Array, " n"]
    tau: Float[Array, " n"]
    activation: str


def ctrnn_field(
    t: FloatScalarLike, y: tuple[Float[Array, " n"]], args: tuple
) -> tuple[Float[Array, " n"]]:
    r"""The leaky continuous-time RNN of NN4N and Song, Yang & Wang (2016).

    $$\tau \frac{dv}{dt} = -v + W f(v) + d(t) + b$$

    with $d(t) = W_{in} u(t)$ the input drive. Its `SequentialEuler` step with the rate
    constant $\alpha = dt/\tau$ (NN4N's $\gamma$) is NN4N's update
    $v_{t+1} = v_t + \alpha(-v_t + W f(v_t) + W_{in} u_t + b)$.

    **Arguments:**

    - `t`: time (unused).
    - `y`: the state `(v,)`, shape `(n,)`.
    - `args`: `(params, drive)` with `params` a `CTRNNFieldParams`, `drive` of shape `(n,)`.

    **Returns:** `(dv/dt,)`.
    """
    del t
    (v,) = y
    params, drive = args
    f = get_activation(params.activation)
    dv = (-v + recurrent_input(params.W, f(v), drive) + params.b) / params.tau
    return (dv,)


class ShuntingFieldParams(NamedTuple):
    """Resolved parameters of the conductance-based (shunting) RNN.

    **Fields:**

    - `W`: effective recurrent weights `(n, n)` (Dale signs applied).
    - `K`: conductance matrix `A * |W|`, shape `(n, n)`, or `None` for a fixed leak.
    - `G_b`: baseline leak conductance `(n,)`, > 0.
    - `activation`: name of f.
    """

    W: Float[Array, "n n"]
    K: Float[Array, "n n"] | None
    G_b: Float[Array, " n"]
    activation: str


def shunting_leak(params: ShuntingFieldParams, V: Float[Array, " n"]) -> Float[Array, " n"]:
    r"""The state-dependent leak $z = G_b + (A \odot |W|)\, f(V)$ (or $G_b$ if fixed).

    **Arguments:**

    - `params`: a `ShuntingFieldParams`.
    - `V`: the state of one network, shape `(n,)`.

    **Returns:** `z`, shape `(n,)`.
    """
    if params.K is None:
        return jnp.broadcast_to(params.G_b, V.shape)
    f = get_activation(params.activation)
    return params.G_b + params.K @ f(V)


def shunting_field(
    t: FloatScalarLike, y: tuple[Float[Array, " n"]], args: tuple
) -> tuple[Float[Array, " n"]]:
    r"""The conductance-based (shunting) rate RNN (Cheng, 2023).

    $$\frac{dV}{dt} = -z \odot V + W r + d(t), \qquad r = f(V), \qquad
      z_i = G_{b,i} + \sum_j A_{ij} |W_{ij}| r_j,$$

    with $d(t) = P x(t)$ the input drive. The effective time constant is $1/z(t)$.

    **Arguments:**

    - `t`: time (unused).
    - `y`: the state `(V,)`, shape `(n,)`.
    - `args`: `(params, drive)` with `params` a `ShuntingFieldParams`.

    **Returns:** `(dV/dt,)`.
    """
    del t
    (V,) = y
    params, drive = args
    f = get_activation(params.activation)
    z = shunting_leak(params, V)
    return (-z * V + recurrent_input(params.W, f(V), drive),)


# --------------------------------------------------------------------------------------
# The liquid time-constant (LTC) network
# --------------------------------------------------------------------------------------


class LTCFieldParams(NamedTuple):
    """Resolved parameters of the liquid time-constant network (all conductances >= 0).

    Matrices are indexed `[i, j]`, from presynaptic unit `j` to unit `i` (the transpose
    of `ncps`'s storage), sparsity masks already applied to `w`.

    - `gleak`, `vleak`, `cm`: leak conductance, leak (resting) potential and membrane
        capacitance, shape `(n,)` (`gleak`, `cm` > 0).
    - `w`, `sigma`, `mu`, `erev`: maximal conductance, slope, midpoint and reversal
        potential of each recurrent synapse, shape `(n, n)`.
    """

    gleak: Float[Array, " n"]
    vleak: Float[Array, " n"]
    cm: Float[Array, " n"]
    w: Float[Array, "n n"]
    sigma: Float[Array, "n n"]
    mu: Float[Array, "n n"]
    erev: Float[Array, "n n"]


class LTCDrive(NamedTuple):
    r"""The input of an LTC network, as its sensory synapses deliver it to each unit:
    the total conductance $G_i = \sum_k g_{ik}$ and the conductance-weighted reversal
    potential $N_i = \sum_k g_{ik} E_{ik}$, so that the sensory current is $N_i - G_i v_i$.
    """

    num: Float[Array, "... n"]
    den: Float[Array, "... n"]


def ltc_synapses(
    w: Float[Array, "n m"],
    sigma: Float[Array, "n m"],
    mu: Float[Array, "n m"],
    erev: Float[Array, "n m"],
    pre: Float[Array, "*batch m"],
) -> LTCDrive:
    r"""Conductance-based sigmoid synapses onto each unit:
    $g_{ij} = w_{ij}\,\mathrm{sigmoid}(\sigma_{ij}(u_j - \mu_{ij}))$, summed as
    $(\sum_j g_{ij} E_{ij}, \sum_j g_{ij})$.

    **Arguments:**

    - `w`, `sigma`, `mu`, `erev`: shape `(n, m)`, from presynaptic `j` to unit `i`.
    - `pre`: presynaptic potentials (or mapped inputs), shape `(..., m)`.

    **Returns:** an `LTCDrive` with arrays of shape `(..., n)`.
    """
    g = w * get_activation("sigmoid")(sigma * (pre[..., None, :] - mu))
    return LTCDrive(num=jnp.sum(g * erev, axis=-1), den=jnp.sum(g, axis=-1))


def ltc_field(
    t: FloatScalarLike, y: tuple[Float[Array, " n"]], args: tuple
) -> tuple[Float[Array, " n"]]:
    r"""The liquid time-constant (LTC) network of Hasani et al. (2021), as `ncps` defines it.

    $$C_{m,i} \frac{dv_i}{dt} = g_{l,i}(v_{l,i} - v_i)
      + \sum_j g_{ij}(v_j)\,(E_{ij} - v_i) + \sum_k g^s_{ik}(x_k)\,(E^s_{ik} - v_i),$$

    $g_{ij}(v_j) = w_{ij}\,\mathrm{sigmoid}(\sigma_{ij}(v_j - \mu_{ij}))$ (recurrent) and
    $g^s_{ik}$ the same of the mapped input (sensory; the drive). The conductances make
    the effective time constant $C_{m,i} / (g_{l,i} + \sum_j g_{ij} + \sum_k g^s_{ik})$
    depend on the state and the input.

    **Arguments:**

    - `t`: time (unused).
    - `y`: the state `(v,)`, shape `(n,)`.
    - `args`: `(params, drive)` with `params` an `LTCFieldParams` and `drive` an
        `LTCDrive` (the sensory synapses at the current input).

    **Returns:** `(dv/dt,)`.
    """
    del t
    (v,) = y
    params, drive = args
    rec = ltc_synapses(params.w, params.sigma, params.mu, params.erev, v)
    num = rec.num + drive.num
    den = rec.den + drive.den
    return ((params.gleak * (params.vleak - v) + num - den * v) / params.cm,)


def ltc_unfold(
    params: LTCFieldParams,
    v: Float[Array, " n"],
    drive: LTCDrive,
    h: FloatScalarLike,
    epsilon: float,
) -> Float[Array, " n"]:
    r"""One semi-implicit (fused Euler) step of `ltc_field` of length `h`, `ncps`'s unfold:

    $$v \leftarrow \frac{(C_m/h)\, v + g_l v_l + \sum_j g_{ij}(v) E_{ij} + N}
      {C_m/h + g_l + \sum_j g_{ij}(v) + G + \epsilon},$$

    the conductances taken at the old state, the leak and synaptic currents at the new
    one. For positive conductances the new $v_i$ is a weighted mean of $v_i$, $v_{l,i}$
    and the reversal potentials: stable at any `h`.

    **Arguments:**

    - `params`: an `LTCFieldParams`; `v`: the state, shape `(n,)`; `drive`: an `LTCDrive`.
    - `h`: the step; `epsilon`: added to the denominator (`ncps`: 1e-8).

    **Returns:** the new `v`.
    """
    rec = ltc_synapses(params.w, params.sigma, params.mu, params.erev, v)
    cm_h = params.cm / h
    num = cm_h * v + params.gleak * params.vleak + (rec.num + drive.num)
    den = cm_h + params.gleak + (rec.den + drive.den)
    return num / (den + epsilon)
