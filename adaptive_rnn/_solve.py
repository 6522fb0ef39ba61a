"""Two ways to run any model, with one call signature.

- `simulate`: the exact discrete recurrence, a `jax.lax.scan` of `SequentialEuler`
  steps of the model's vector field (the paper's model; the fast path for training).
- `solve`: the continuous-time equations through `diffrax.diffeqsolve`, with any
  solver, constant or adaptive steps, interpolated inputs and a choice of adjoint.

Time convention. Input sample `x_k` (k = 0..T-1) is applied at time `t_k = t0 + k dt`,
during the step from `t_k` to `t_{k+1}`; outputs are read at `t_1..t_T` (or, with the
lagged readout, from the rates at `t_0..t_{T-1}`). Under this convention the fixed-grid
`SequentialEuler` solve through diffrax reproduces `simulate` exactly.
"""

from collections.abc import Callable
from typing import ClassVar, Literal

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from equinox.internal import ω
from jaxtyping import Array, ArrayLike, Bool, Float, PyTree, Real

from . import _checks
from ._checks import (
    check_choice,
    check_memory,
    check_nonnegative,
    check_number,
    check_optional,
    check_positive,
    check_positive_int,
    check_type,
)
from ._cpu import resolve_devices
from ._errors import InputError, SolverError, UnstableStepError
from ._fields import InputDrive
from ._noise import discrete_noise, noise_term, observation_noise, require_key
from .models._base import AbstractRNN

# --------------------------------------------------------------------------------------
# The solver that defines the discrete models
# --------------------------------------------------------------------------------------


class SequentialEuler(diffrax.AbstractItoSolver):
    r"""Forward Euler applied block by block, each block seeing the blocks already
    updated in the same step.

    For a state $y = (y^1, \dots, y^m)$ with vector field $F$ and step $h$:

    $$y^j_{n+1} = y^j_n + h\,F^j(t_n, (y^1_{n+1}, \dots, y^{j-1}_{n+1}, y^j_n, \dots, y^m_n)).$$

    For the ARU state $(I, r)$ this is exactly the paper's recurrence (the rate update
    uses the new current $I_t$). For a one-block state it is plain `diffrax.Euler`.
    First order, explicit; fixed steps only. With a noise term (a `diffrax.MultiTerm`
    with a Brownian control) it is Euler-Maruyama, which converges to the Itô solution.
    """

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., diffrax.LocalLinearInterpolation]] = (
        diffrax.LocalLinearInterpolation
    )

    def order(self, terms):
        return 1

    def strong_order(self, terms):
        return 0.5

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del solver_state, made_jump
        control = terms.contr(t0, t1)
        y1 = sequential_update(lambda y: terms.vf_prod(t0, y, args, control), y0)
        return y1, None, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


def sequential_update(increment: Callable, y: tuple) -> tuple:
    """`y^j += increment(y_current)[j]` for each block j in order (see `SequentialEuler`).

    Evaluating the whole increment per block costs nothing extra under `jit`: the blocks
    not used are dead code that XLA removes.
    """
    y = list(y)
    for j in range(len(y)):
        y[j] = (ω(y[j]) + ω(increment(tuple(y))[j])).ω
    return tuple(y)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


class Trajectory(eqx.Module):
    """What `simulate` and `solve` return.

    - `ts`: the output times, shape `(T_out,)`.
    - `outputs`: the readout, shape `(T_out, n_out)` (`(B, T_out, n_out)` for a batch).
    - `states`: a dict of state variables over time (e.g. `{"I": (T_out, n), "r": ...}`),
        or `None` unless `return_states=True`.
    - `success`: `True` where the solve reached its end time (always `True` for
        `simulate`); shape `()` or `(B,)`.
    - `num_steps`: number of solver steps taken (`T` for `simulate`).
    """

    ts: Float[Array, " T_out"]
    outputs: Float[Array, "*batch T_out n_out"]
    states: dict | None
    success: Bool[Array, "*batch"]
    num_steps: Array


# --------------------------------------------------------------------------------------
# Checks at the edge
# --------------------------------------------------------------------------------------


def input_drive(model: AbstractRNN, resolved, x, noise=None):
    """The drive of one step from the input sample `x` (plus drive noise): an
    `InputDrive` (multiplied out inside the field, fused with the recurrent matmul) when
    the model's drive is linear, else the array `model.drive(resolved, x)`."""
    U = model.drive_weights(resolved)
    if U is None:
        d = model.drive(resolved, x)
        return d if noise is None else d + noise
    return InputDrive(U, x, noise)


def _is_traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(xs))


def model_dtype(model: AbstractRNN):
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    return leaves[0].dtype if leaves else jnp.result_type(float)


def check_inputs(model, inputs, name: str = "inputs") -> Array:
    """Validates and casts inputs of shape `(T, n_in)` or `(B, T, n_in)`.

    **Raises:** `InputError` for a wrong rank or width, an empty time axis, a
    non-numeric dtype or (when the values are concrete) non-finite values.
    """
    if not isinstance(model, AbstractRNN):
        raise InputError(f"model: got {type(model).__name__}, expected an adaptive_rnn model")
    if not hasattr(inputs, "shape"):
        try:
            inputs = np.asarray(inputs)
        except Exception as e:  # pragma: no cover - exotic objects
            raise InputError(f"{name}: could not convert {type(inputs).__name__} to an array") from e
    shape = tuple(inputs.shape)
    expected = f"(T, n_in) or (B, T, n_in) with n_in = {model.n_in}"
    if len(shape) not in (2, 3):
        raise InputError(f"{name}: got shape {shape} (rank {len(shape)}), expected {expected}")
    if shape[-1] != model.n_in:
        raise InputError(f"{name}: got shape {shape}, last axis {shape[-1]}, expected {expected}")
    if shape[-2] < 1:
        raise InputError(f"{name}: got shape {shape}, an empty time axis; expected T >= 1")
    dt = np.dtype(inputs.dtype)
    if not (np.issubdtype(dt, np.floating) or np.issubdtype(dt, np.integer) or dt == np.bool_):
        raise InputError(f"{name}: got dtype {dt}, expected a real numeric dtype")
    if not _is_traced(inputs):
        arr = np.asarray(inputs)
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(
                f"{name}: got {int(bad.sum())} non-finite values (first at index {first}), "
                f"expected finite values"
            )
    return jnp.asarray(inputs, dtype=model_dtype(model))


def check_step(model: AbstractRNN, resolved, h: float, what: str = "dt") -> None:
    """Refuses an explicit-Euler step `h >= 2 * min(tau)` (when the values are concrete).

    At `h / tau >= 2` the leak term alone makes explicit Euler diverge. Under `jit` or
    `grad` the time constants are traced and the check is skipped.
    """
    tau_min = model.min_time_constant(resolved)
    if _is_traced(tau_min):
        return
    tau_min = float(tau_min)
    if not tau_min > 0 or not np.isfinite(tau_min):
        raise InputError(
            f"time constants: smallest tau is {tau_min!r}, expected positive finite values"
        )
    if h >= 2 * tau_min:
        raise UnstableStepError(
            f"{what}: an explicit-Euler step of {h:g} is {h / tau_min:.3g} times the "
            f"smallest time constant tau = {tau_min:.4g}; expected a step < 2 tau = "
            f"{2 * tau_min:.4g} (alpha = dt/tau < 2), where the recurrence is stable. "
            f"Use a smaller step, or an adaptive or implicit solver through `solve`."
        )


def check_trajectory_memory(model: AbstractRNN, xs, n_out_times: int, return_states: bool) -> None:
    """Refuses, before anything compiles, a simulation whose saved trajectory (outputs,
    and the states with `return_states`) would not fit in the memory available.

    The estimate is `B * n_out_times * (n_out + state size) * itemsize` bytes, from the
    shapes alone (`jax.eval_shape`; nothing is computed).
    """
    B = xs.shape[0] if xs.ndim == 3 else 1
    per_value = float(B) * n_out_times * np.dtype(xs.dtype).itemsize
    per_step = model.n_out
    if return_states:
        # The states (and the quantities derived from them) per step: at most twice the
        # number of parameters, a bound that costs nothing; traced only when it would not fit.
        n_params = sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(model) if hasattr(v, "shape"))
        limit = _checks.available_memory()
        if limit is not None and per_value * (per_step + 2 * n_params) <= limit:
            return
        y0 = jax.eval_shape(lambda m: m.initial_state(m.resolve()), model)
        per_step += 2 * sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(y0))
    check_memory("inputs", f"shape {tuple(xs.shape)}", per_value * per_step, "the trajectory")


# --------------------------------------------------------------------------------------
# The discrete path
# --------------------------------------------------------------------------------------


def _with_derived(model: AbstractRNN, states: dict) -> dict:
    # Quantities a model derives from its states (e.g. the shunting model's 1/z).
    derived = getattr(model, "derived_states", None)
    return states if derived is None else {**states, **derived(states)}


def _states_dict(model: AbstractRNN, ys: tuple) -> dict:
    names = model.state_names
    if len(ys) == len(names):
        return dict(zip(names, ys))
    # Stacked layers: names repeat per layer.
    per = len(names)
    return {f"{names[j % per]}_{j // per}": y for j, y in enumerate(ys)}


def _chunked_scan(body, carry, xs, T: int, remat: int | None, prepare=None):
    """`lax.scan(body, carry, prepare(xs))`, or with `remat = k` a scan over chunks of k
    steps whose bodies are `jax.checkpoint`ed: the backward pass keeps only the state at
    chunk boundaries and recomputes each chunk (including `prepare`, e.g. the input
    projection), so memory is O(T/k + k) states instead of O(T). The last chunk is padded
    with repeats of the last input; the extra steps come after step T and are dropped."""
    prepare = (lambda v: v) if prepare is None else prepare
    if remat is None or remat >= T:
        return jax.lax.scan(body, carry, prepare(xs))
    k = remat
    n_chunks = -(-T // k)
    pad = n_chunks * k - T

    def chunk(v):
        if pad:
            v = jnp.concatenate([v, jnp.repeat(v[-1:], pad, axis=0)], axis=0)
        return v.reshape((n_chunks, k) + v.shape[1:])

    @jax.checkpoint
    def outer(c, x_chunk):
        return jax.lax.scan(body, c, prepare(x_chunk))

    carry, saved = jax.lax.scan(outer, carry, jax.tree_util.tree_map(chunk, xs))
    saved = jax.tree_util.tree_map(lambda v: v.reshape((n_chunks * k,) + v.shape[2:])[:T], saved)
    return carry, saved


@eqx.filter_jit
def _simulate_one(model: AbstractRNN, xs, t0, return_states: bool, key=None, remat: int | None = None):
    resolved = model.resolve()
    y0 = model.initial_state(resolved)
    dt = model.dt
    T = xs.shape[0]
    readout_noise = drive_noise = None
    if key is not None:
        # Noise enters through the drive: each step stays the field's SequentialEuler
        # (Euler-Maruyama) step. See adaptive_rnn._noise.
        drive_noise, readout_noise = discrete_noise(model, resolved, key, T, xs.dtype)
        noise = model.noise
        if noise.sigma_pre == 0 and not (noise.feedback and noise.sigma_post > 0):
            drive_noise = None  # nothing enters the dynamics: keep them bit for bit
    ts_in = t0 + dt * jnp.arange(T, dtype=xs.dtype)

    def body(y, inp):
        # The input drive is computed step by step from x_t: materialising U x for all
        # steps at once (T x n, times batch and models under vmap) costs more memory
        # traffic than the small per-step matmul it saves.
        t, x, noise = inp
        d = input_drive(model, resolved, x, noise)
        y = sequential_update(lambda z: jax.tree_util.tree_map(lambda v: dt * v, model.field(t, z, (resolved, d))), y)
        return y, (y if return_states else model.output(resolved, y))

    _, saved = _chunked_scan(body, y0, (ts_in, xs, drive_noise), T, remat)
    if return_states:
        ys = saved
        outs = jax.vmap(lambda *y: model.output(resolved, y))(*ys)
    else:
        ys, outs = None, saved
    if model.readout == "lagged":
        first = model.output(resolved, y0)[None]
        outs = jnp.concatenate([first, outs[:-1]], axis=0)
    if readout_noise is not None:
        outs = outs + readout_noise
    return outs, ys


def data_parallel(fn, devices, model, xs, keys):
    """`fn(model, xs, keys)` with `xs` and `keys` split along their first axis over
    `devices` and the model replicated (`jax.shard_map`). Under `jax.grad` the model's
    cotangent is summed over devices once, at the end of the backward pass."""
    devices = resolve_devices(devices, xs.shape[0], "a batch")
    if len(devices) == 1:
        return fn(model, xs, keys)
    P = jax.sharding.PartitionSpec
    mesh = jax.sharding.Mesh(np.asarray(devices), ("batch",))
    arrays, static = eqx.partition(model, eqx.is_array)

    def local(arrays, xs, keys):
        # The model is the same on every device; marking it device-varying makes each
        # device's computation its own, and the transpose of this cast (under grad) is
        # the one sum of the model's cotangent over devices.
        arrays = jax.lax.pcast(arrays, ("batch",), to="varying")
        return fn(eqx.combine(arrays, static), xs, keys)

    return jax.shard_map(local, mesh=mesh, in_specs=(P(), P("batch"), P("batch")), out_specs=P("batch"))(
        arrays, xs, keys
    )


def simulate(
    model,
    inputs: ArrayLike,
    *,
    return_states: bool = False,
    t0: float = 0.0,
    key=None,
    remat: int | None = None,
    devices=None,
) -> Trajectory:
    r"""Runs the model's exact discrete recurrence over a sequence of inputs.

    Each step is the `SequentialEuler` step of the model's vector field with the model's
    `dt`; for the ARU this is the recurrence of the paper,
    $I_t = (1-\alpha_s) I_{t-1} + \alpha_s (U x_t + W r_{t-1})$,
    $r_t = (1-\alpha_r) r_{t-1} + \alpha_r f(I_t)$. Compiled once per input shape
    (`jax.lax.scan`; no Python loop over time).

    **Arguments:**

    - `model`: any adaptive_rnn model.
    - `inputs`: shape `(T, n_in)`, or `(B, T, n_in)` for a batch (vmapped).
    - `return_states`: also return the state variables over time.
    - `t0`: time of the initial state.
    - `key`: a `jax.random` key for models with noise (split per sequence of a batch);
        ignored by models without noise. The noise semantics are in
        `adaptive_rnn._noise` (Euler-Maruyama steps of the model's SDE).
    - `remat`: gradient checkpointing for long sequences: with `remat = k` the backward
        pass stores the state every k steps and recomputes the steps in between
        (memory O(T/k + k) instead of O(T), about one extra forward pass of compute;
        `k ~ sqrt(T)` minimises memory). Same values and gradients. Default: off.
    - `devices`: split a batch over these devices (data parallel; `jax.shard_map`): a
        list of devices, or a number n for the first n of `jax.devices()`. Each device
        simulates `B / n` sequences; under `jax.grad` the gradient of the model is
        summed across devices once, after the backward pass. Same values and gradients
        as on one device. On a CPU, `configure_cpu` first exposes the cores as devices.
        Default: one device. Ignored for a single sequence.

    **Returns:** a `Trajectory` with outputs at `t0 + dt * (1..T)`.

    **Raises:** `InputError` for inputs of the wrong rank or width or with non-finite
    values, a batch that does not split evenly over `devices`, a bad `t0` or `remat`, or a
    trajectory too large for the memory available; `UnstableStepError` if
    `dt >= 2 * min(tau)` (checked when the time constants are concrete, i.e. outside
    `jit`/`grad`).
    """
    xs = check_inputs(model, inputs)
    check_optional(check_positive_int, "remat", remat)
    if not _is_traced(t0):
        check_number("t0", t0)
    check_trajectory_memory(model, xs, xs.shape[-2], return_states)
    check_step(model, model.resolve(), model.dt, "dt")
    key = key if require_key(model, key) is not None else None
    T = xs.shape[-2]
    if xs.ndim == 3:
        keys = None if key is None else jax.random.split(key, xs.shape[0])

        def run(m, xs, keys):
            return jax.vmap(lambda x, k: _simulate_one(m, x, t0, return_states, k, remat))(xs, keys)

        if devices is None:
            outs, ys = run(model, xs, keys)
        else:
            outs, ys = data_parallel(run, devices, model, xs, keys)
        success = jnp.ones(xs.shape[0], dtype=bool)
    else:
        outs, ys = _simulate_one(model, xs, t0, return_states, key, remat)
        success = jnp.asarray(True)
    ts = t0 + model.dt * jnp.arange(1, T + 1, dtype=xs.dtype)
    states = None if ys is None else _with_derived(model, _states_dict(model, ys))
    return Trajectory(ts=ts, outputs=outs, states=states, success=success, num_steps=jnp.asarray(T))


# --------------------------------------------------------------------------------------
# The continuous path
# --------------------------------------------------------------------------------------


class HoldInterpolation(eqx.Module):
    """Piecewise-constant input: `x(t) = x_k` for `t_k <= t < t_{k+1}` (zero-order hold,
    the input the discrete model sees)."""

    ts: Array
    ys: Array

    def evaluate(self, t):
        idx = jnp.clip(jnp.searchsorted(self.ts, t, side="right") - 1, 0, self.ts.shape[0] - 1)
        return self.ys[idx]


INTERPOLATIONS = ("linear", "cubic", "hold")


def _interpolate(ts, ys, kind: str):
    # Hold the last sample over the final step so that every solver sees a defined input
    # on [t0, t1].
    if kind == "linear":
        return diffrax.LinearInterpolation(ts=ts, ys=ys)
    if kind == "cubic":
        return diffrax.CubicInterpolation(ts, diffrax.backward_hermite_coefficients(ts, ys))
    if kind == "hold":
        return HoldInterpolation(ts, ys)
    raise InputError(f"interpolation: got {kind!r}, expected one of {INTERPOLATIONS}")


def _vector_field(t, y, args):
    model, resolved, interp = args
    return model.field(t, y, (resolved, input_drive(model, resolved, interp.evaluate(t))))


def _batched_vector_field(t, y, args):
    model, resolved, interp = args
    xs = interp.evaluate(t)  # (B, n_in)
    return jax.vmap(lambda yb, xb: model.field(t, yb, (resolved, input_drive(model, resolved, xb))))(y, xs)


_IMPLICIT = (diffrax.AbstractImplicitSolver,)
# Solvers that give no error estimate, so no adaptive steps (diffrax would fail at run time).
_NO_ERROR_ESTIMATE = (
    SequentialEuler, diffrax.Euler, diffrax.SemiImplicitEuler, diffrax.EulerHeun,
    diffrax.ItoMilstein, diffrax.StratonovichMilstein, diffrax.LeapfrogMidpoint,
)


def _needs_controller_tols(solver) -> bool:
    """An implicit solver whose root finder takes its tolerances from an adaptive
    step-size controller (diffrax's default), which fixed steps cannot give it."""
    if not isinstance(solver, _IMPLICIT):
        return False
    rf = getattr(solver, "root_finder", None)
    return any(type(getattr(rf, a, None)).__name__ == "_UseStepSizeTol" for a in ("rtol", "atol", "norm"))


def _check_tolerances(controller) -> None:
    """Refuses negative, non-finite or all-zero `rtol`/`atol` of an adaptive step-size
    controller (read from its fields, when concrete): diffrax would take a few steps and
    report success with wrong results."""
    if not hasattr(controller, "rtol") or not hasattr(controller, "atol"):
        return
    tols = {}
    for name in ("rtol", "atol"):
        value = getattr(controller, name)
        if _is_traced(value):
            return
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InputError(f"stepsize_controller.{name}: got {value!r}, expected a finite number >= 0") from e
        if arr.shape == ():
            tols[name] = check_nonnegative(f"stepsize_controller.{name}", float(arr))
        elif not (np.all(np.isfinite(arr)) and np.all(arr >= 0)):
            raise InputError(f"stepsize_controller.{name}: got {value!r}, expected finite values >= 0")
        else:
            tols[name] = float(arr.max())
    if tols["rtol"] == 0 and tols["atol"] == 0:
        raise InputError(
            "stepsize_controller: got rtol = atol = 0, expected rtol > 0 or atol > 0 (no "
            "step could meet a zero tolerance)"
        )


def solve(
    model,
    inputs: ArrayLike,
    *,
    solver: diffrax.AbstractSolver | None = None,
    ts: Real[ArrayLike, " T"] | None = None,
    saveat: Real[ArrayLike, " T_out"] | None = None,
    t0: float = 0.0,
    t1: float | None = None,
    dt0: float | None = None,
    stepsize_controller: diffrax.AbstractStepSizeController | None = None,
    interpolation: str = "linear",
    adjoint: diffrax.AbstractAdjoint | None = None,
    max_steps: int | None = None,
    return_states: bool = False,
    throw: bool = True,
    key=None,
) -> Trajectory:
    r"""Integrates the model's continuous-time equations with `diffrax.diffeqsolve`.

    The inputs are samples `x_k` at times `ts` (default `t0 + dt * arange(T)`), turned
    into a function of time `x(t)` by interpolation; the drive (`U x(t)` for the ARU) is
    computed from it inside the vector field. The last sample is held until `t1`.
    A batch `(B, T, n_in)` on fixed steps without noise is integrated as one state
    (identical results, one solver loop); with adaptive steps or noise each sequence is
    solved on its own (`vmap`), with its own steps and Brownian path.

    **Arguments:**

    - `model`, `inputs`: as `simulate`.
    - `solver`: any diffrax solver; default `SequentialEuler()`, which with the default
        grid reproduces `simulate`. Tested: `Euler`, `Heun`, `Tsit5`, `Dopri5`,
        `Kvaerno5`.
    - `ts`: sample times of the inputs, increasing, shape `(T,)`.
    - `saveat`: output times (default: the grid `t0 + dt * (1..T)`).
    - `t0`, `t1`: integration interval (default `t1 = t0 + T dt`).
    - `dt0`: the (initial) step; default the model's `dt`.
    - `stepsize_controller`: default: steps exactly on the input grid
        (`diffrax.StepTo`) when `dt0` is not given, else `ConstantStepSize`. Pass
        `diffrax.PIDController(rtol, atol)` for adaptive steps (`rtol, atol >= 0`, not
        both 0); an implicit solver such as `Kvaerno5` needs one (its root finder uses
        the controller's tolerances).
    - `interpolation`: `"linear"` (default), `"cubic"` (Hermite, backward differences)
        or `"hold"` (piecewise constant, the input of the discrete model).
    - `adjoint`: default `RecursiveCheckpointAdjoint` (one checkpoint per step on a fixed
        grid). `BacksolveAdjoint` is not recommended: it re-integrates the ODE backwards,
        which is inexact and often unstable for these leaky dynamics.
    - `max_steps`: default `T` on the default grid, else enough for `dt0`, or
        `max(4096, 64 T)` for adaptive steps.
    - `return_states`: also return the state variables at the output times.
    - `throw`: raise `SolverError` if the solve does not reach `t1` (default). With
        `False`, failures are reported in `Trajectory.success` (used by sweeps).
    - `key`: a `jax.random` key for models with noise: the model's SDE is integrated
        with a `diffrax.VirtualBrownianTree` (tolerance step/16) drawn from it, so the
        noise per unit time does not depend on the step (`SequentialEuler` and `Euler`
        are then Euler-Maruyama). Ignored by models without noise.

    **Returns:** a `Trajectory`.

    **Raises:** as `simulate`; also `InputError` for bad `ts`/`saveat`/options
    (non-finite `t0`/`t1`, `t1 <= t0`, `dt0 <= 0`, `max_steps < 1`, negative tolerances,
    adaptive steps with a solver without an error estimate, an implicit solver on fixed
    steps), `UnstableStepError` for an explicit fixed step `>= 2 * min(tau)`, `SolverError`
    when the solver runs out of `max_steps` (if `throw`).
    """
    xs = check_inputs(model, inputs)
    T = xs.shape[-2]
    dtype = xs.dtype
    dt = model.dt
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    if not _is_traced(t0):
        t0 = check_number("t0", t0)
    if t1 is not None and not _is_traced(t1):
        check_number("t1", t1)
    dt0 = check_optional(check_positive, "dt0", dt0)
    max_steps = check_optional(check_positive_int, "max_steps", max_steps)
    # The default grid in NumPy: concrete even when `solve` is traced under `jit`.
    np_grid = (t0 + dt * np.arange(0, T + 1)).astype(dtype)
    if ts is None:
        ts_in = jnp.asarray(np_grid[:-1])
        default_grid = True
    else:
        ts_in = jnp.asarray(ts, dtype=dtype)
        if ts_in.shape != (T,):
            raise InputError(f"ts: got shape {ts_in.shape}, expected ({T},) to match the inputs")
        if not _is_traced(ts_in) and not np.all(np.diff(np.asarray(ts_in)) > 0):
            raise InputError("ts: expected strictly increasing sample times")
        t0 = float(ts_in[0]) if not _is_traced(ts_in) else t0
        default_grid = False
    if t1 is None:
        # The end of the default grid exactly as StepTo sees it.
        t1 = float(np_grid[-1]) if default_grid else (
            float(ts_in[-1]) + dt if not _is_traced(ts_in) else t0 + T * dt)
    else:
        t1 = float(t1)
    if not t1 > t0:
        raise InputError(f"t1: got {t1}, expected t1 > t0 = {t0}")
    ts_ext = jnp.concatenate([ts_in, jnp.asarray([t1], dtype=dtype)])

    grid = jnp.asarray(np_grid) if default_grid else None
    if saveat is None:
        if not default_grid:
            save_ts = ts_ext[1:]
        else:
            save_ts = grid[1:]
        default_save = default_grid
    else:
        save_ts = jnp.asarray(saveat, dtype=dtype)
        if save_ts.ndim != 1 or save_ts.shape[0] < 1:
            raise InputError(f"saveat: got shape {save_ts.shape}, expected (T_out,) with T_out >= 1")
        if not _is_traced(save_ts):
            s = np.asarray(save_ts)
            if np.any(np.diff(s) < 0) or s[0] < t0 or s[-1] > t1:
                raise InputError(f"saveat: expected non-decreasing times within [t0, t1] = [{t0}, {t1}]")
        default_save = False
    if model.readout == "lagged" and not default_save:
        raise InputError(
            "readout: the lagged readout y_t = V r_{t-1} + b is defined on the model's own "
            "grid only; expected saveat=None and ts=None, or a model with readout='current'"
        )

    solver = SequentialEuler() if solver is None else solver
    check_type("solver", solver, diffrax.AbstractSolver, "a diffrax solver (e.g. diffrax.Tsit5())")
    if stepsize_controller is not None:
        check_type(
            "stepsize_controller", stepsize_controller, diffrax.AbstractStepSizeController,
            "a diffrax step-size controller (e.g. diffrax.PIDController(rtol=1e-5, atol=1e-6))",
        )
        _check_tolerances(stepsize_controller)
    adaptive = stepsize_controller is not None and not isinstance(
        stepsize_controller, (diffrax.ConstantStepSize, diffrax.StepTo)
    )
    if adaptive and isinstance(solver, _NO_ERROR_ESTIMATE):
        raise InputError(
            f"stepsize_controller: got {type(stepsize_controller).__name__}, adaptive steps, "
            f"but solver {type(solver).__name__} has no error estimate; expected fixed steps "
            f"(stepsize_controller=None) or a solver with one (Heun, Tsit5, Dopri5, Kvaerno5)"
        )
    if not adaptive and _needs_controller_tols(solver):
        raise InputError(
            f"solver: got {type(solver).__name__}, an implicit solver, with fixed steps; "
            f"expected an adaptive stepsize_controller (e.g. diffrax.PIDController(rtol=1e-5, "
            f"atol=1e-6)), whose tolerances its root finder uses, or a root_finder with "
            f"its own rtol, atol and norm"
        )
    use_step_to = stepsize_controller is None and dt0 is None and default_grid
    if use_step_to:
        controller = diffrax.StepTo(ts=grid)
        h = dt
        n_steps = T
    else:
        controller = diffrax.ConstantStepSize() if stepsize_controller is None else stepsize_controller
        h = dt if dt0 is None else dt0
        n_steps = int(np.ceil((t1 - t0) / h - 1e-9)) + 1
    if max_steps is None:
        max_steps = max(4096, 64 * T) if adaptive else n_steps
    check_trajectory_memory(model, xs, int(save_ts.shape[0]) + (model.readout == "lagged"), return_states)
    resolved = model.resolve()
    if not adaptive and not isinstance(solver, _IMPLICIT):
        check_step(model, resolved, h, "dt0" if dt0 is not None else "dt")
    if adjoint is None:
        adjoint = diffrax.RecursiveCheckpointAdjoint(checkpoints=None if adaptive else max_steps)

    save_steps = use_step_to and default_save
    lagged = model.readout == "lagged"
    # With save_steps: exactly the step ends, no interpolation (the lagged readout also
    # needs t0). Otherwise at these times (lagged: the grid from t0; the rates at
    # t0..t_{T-1} give the outputs at t1..t_T).
    save = None if save_steps else (grid if lagged else save_ts)

    key = key if require_key(model, key) is not None else None

    def one(x, k):
        return _solve_one(
            model, x, ts_ext, t0, t1, h, solver, controller, interpolation, adjoint,
            max_steps, save, save_steps, return_states, k,
        )

    if xs.ndim == 3 and key is None and not adaptive:
        # Fixed steps, no noise: the batch is integrated as one state (one diffrax loop
        # whose field is vmapped over sequences), identical to solving each sequence
        # alone and much cheaper than vmapping the whole solve.
        outs, ys, success, nsteps = one(xs, None)
        success = jnp.broadcast_to(success, xs.shape[:1])
        nsteps = jnp.broadcast_to(nsteps, xs.shape[:1])
    elif xs.ndim == 3:
        keys = None if key is None else jax.random.split(key, xs.shape[0])
        outs, ys, success, nsteps = jax.vmap(one)(xs, keys)
    else:
        outs, ys, success, nsteps = one(xs, key)

    if not _is_traced(success):
        if throw and not bool(np.all(np.asarray(success))):
            raise SolverError(
                f"diffrax did not reach t1 = {t1} within max_steps = {max_steps} "
                f"(steps taken: {np.asarray(nsteps).max()}); expected the solve to finish. "
                f"Raise max_steps, loosen rtol/atol, or use a stiff solver."
            )
    elif throw:
        outs = eqx.error_if(
            outs, ~jnp.all(success),
            "adaptive_rnn.solve: diffrax did not reach t1 within max_steps; raise "
            "max_steps, loosen rtol/atol, or use a stiff solver",
        )
    out_ts = save_ts
    states = None if ys is None else _with_derived(model, _states_dict(model, ys))
    return Trajectory(ts=out_ts, outputs=outs, states=states, success=success, num_steps=nsteps)


@eqx.filter_jit
def _solve_one(model, xs, ts_ext, t0, t1, h, solver, controller, interpolation, adjoint,
               max_steps, save, save_steps, return_states, key=None):
    resolved = model.resolve()
    y0 = model.initial_state(resolved)
    # Interpolate the inputs (data, no gradient), not the drive U x: a parameter-dependent
    # interpolant would make every backward step scatter into a (T, B, n) cotangent.
    batched = xs.ndim == 3
    readout = jax.vmap(lambda *y: model.output(resolved, y)) if batched else (lambda *y: model.output(resolved, y))
    lagged = model.readout == "lagged"
    # What each save keeps: the states, or (without return_states) only the readout:
    # a few numbers per step instead of every state variable.
    fn = (lambda t, y, args: y) if return_states else (lambda t, y, args: readout(*y))
    save = diffrax.SaveAt(t0=lagged, steps=True, fn=fn) if save_steps else diffrax.SaveAt(ts=save, fn=fn)
    samples = xs
    if batched:  # (B, T, n_in) -> time first; the state gets a leading batch axis
        samples = jnp.swapaxes(xs, 0, 1)
        y0 = tuple(jnp.broadcast_to(v, (xs.shape[0],) + v.shape) for v in y0)
    samples = jnp.concatenate([samples, samples[-1:]], axis=0)
    interp = _interpolate(ts_ext, samples, interpolation)
    terms = diffrax.ODETerm(_batched_vector_field if batched else _vector_field)
    if key is not None:
        k_bm, k_obs = jax.random.split(key)
        terms = diffrax.MultiTerm(terms, noise_term(model, t0, t1, h, k_bm, xs.dtype))
    sol = diffrax.diffeqsolve(
        terms,
        solver,
        # Times in the state's dtype, so float32 models solve in float32 throughout.
        t0=jnp.asarray(t0, dtype=xs.dtype),
        t1=jnp.asarray(t1, dtype=xs.dtype),
        dt0=None if isinstance(controller, diffrax.StepTo) else jnp.asarray(h, dtype=xs.dtype),
        y0=y0,
        args=(model, resolved, interp),
        saveat=save,
        stepsize_controller=controller,
        adjoint=adjoint,
        max_steps=max_steps,
        throw=False,
    )
    over_time = jax.vmap(readout)
    if return_states:
        ys = sol.ys
        if lagged:
            # Saved at t0..t_T: outputs from the states before each step, states after it.
            outs = over_time(*(v[:-1] for v in ys))
            ys = tuple(v[1:] for v in ys)
        else:
            outs = over_time(*ys)
    else:
        ys = None
        outs = sol.ys[:-1] if lagged else sol.ys
    if batched:  # back to batch first
        outs = jnp.swapaxes(outs, 0, 1)
        ys = None if ys is None else tuple(jnp.swapaxes(v, 0, 1) for v in ys)
    if key is not None and model.noise.sigma_post > 0:
        outs = outs + observation_noise(model, resolved, k_obs, outs.shape[0], xs.dtype)
    success = sol.result == diffrax.RESULTS.successful
    return outs, ys, success, sol.stats["num_steps"]
