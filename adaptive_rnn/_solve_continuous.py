"""The continuous path: the model's equations through `diffrax.diffeqsolve`.

`solve` (in `adaptive_rnn._solve`) is made of the steps here: `time_grid` (input,
end and output times), `plan_steps` (solver, step-size controller, step, adjoint and
what to save), `run_continuous` (one sequence, a batch as one state, or a vmapped
batch) around the compiled `solve_one`, which builds the terms (`build_terms`) and
interpolates the inputs, and `check_reached_end`.

Why one file of over 400 lines: it is one job, the continuous path, in the order `solve`
calls its steps; the time grid, the step plan and the compiled solve share the
`TimeGrid` and `StepPlan` they pass along, and most of the length is docstrings.
"""

from typing import Any, NamedTuple

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int, PRNGKeyArray, PyTree

from ._errors import InputError, SolverError
from ._fields import FloatScalarLike
from ._noise import noise_term, observation_noise
from ._solve_checks import INTERPOLATIONS, check_solver, is_traced
from ._solve_common import SequentialEuler, input_drive
from .models import AbstractRNN

# --------------------------------------------------------------------------------------
# Inputs as functions of time, and the vector field that reads them
# --------------------------------------------------------------------------------------


class HoldInterpolation(eqx.Module):
    """Piecewise-constant input: `x(t) = x_k` for `t_k <= t < t_{k+1}` (zero-order hold,
    the input the discrete model sees).

    **Fields:**

    - `ts`: the sample times `(T,)`, increasing.
    - `ys`: the samples, time first `(T, ...)`.
    """

    ts: Array
    ys: Array

    def evaluate(self, t: FloatScalarLike) -> Float[Array, "*rest"]:
        """The sample held at `t`.

        **Arguments:**

        - `t`: a time (clipped to the first and last sample).

        **Returns:** `ys[k]` with `ts[k] <= t < ts[k + 1]`.
        """
        idx = jnp.clip(jnp.searchsorted(self.ts, t, side="right") - 1, 0, self.ts.shape[0] - 1)
        return self.ys[idx]


def interpolate(
    ts: Float[Array, " T"], ys: Float[Array, "T ..."], kind: str
) -> diffrax.AbstractPath | HoldInterpolation:
    """The samples `ys` at times `ts` as a function of time.

    **Arguments:**

    - `ts`: the sample times, increasing.
    - `ys`: the samples, time first.
    - `kind`: `"linear"`, `"cubic"` (Hermite, backward differences) or `"hold"`
        (`HoldInterpolation`).

    **Returns:** an object with `evaluate(t)`.

    **Raises:** `InputError` for another `kind`.
    """
    if kind == "linear":
        return diffrax.LinearInterpolation(ts=ts, ys=ys)
    if kind == "cubic":
        return diffrax.CubicInterpolation(ts, diffrax.backward_hermite_coefficients(ts, ys))
    if kind == "hold":
        return HoldInterpolation(ts, ys)
    raise InputError(f"interpolation: got {kind!r}, expected one of {INTERPOLATIONS}")


def vector_field(t: FloatScalarLike, y: tuple[Array, ...], args: tuple) -> tuple[Array, ...]:
    """The model's field at `t`, its drive computed from the interpolated input.

    **Arguments:**

    - `t`, `y`: time and state of one sequence.
    - `args`: `(model, resolved, interpolation)`.

    **Returns:** `dy/dt`.
    """
    model, resolved, interp = args
    return model.field(t, y, (resolved, input_drive(model, resolved, interp.evaluate(t))))


def batched_vector_field(
    t: FloatScalarLike, y: tuple[Array, ...], args: tuple
) -> tuple[Array, ...]:
    """`vector_field` for a batch of states `(B, ...)` and inputs `(B, n_in)`.

    **Arguments:** as `vector_field`, every state block with a leading batch axis.

    **Returns:** `dy/dt`, batch first.
    """
    model, resolved, interp = args
    xs = interp.evaluate(t)  # (B, n_in)
    return jax.vmap(
        lambda yb, xb: model.field(t, yb, (resolved, input_drive(model, resolved, xb)))
    )(y, xs)


def build_terms(
    model: AbstractRNN,
    batched: bool,
    key: PRNGKeyArray | None,
    t0: float,
    t1: float,
    h: float,
    dtype: Any,
) -> diffrax.AbstractTerm:
    """The diffrax terms: the ODE term of the (batched) field, plus the model's noise
    term (a Brownian tree from `key`) when `key` is not `None`.

    **Arguments:**

    - `model`: the model; `batched`: whether the state has a leading batch axis.
    - `key`: the Brownian tree's key, or `None` for no noise.
    - `t0`, `t1`, `h`: the interval and the step (the tree's tolerance is `h / 16`).
    - `dtype`: of the Brownian increments.

    **Returns:** the terms, a `diffrax.ODETerm` or a `diffrax.MultiTerm`.
    """
    terms = diffrax.ODETerm(batched_vector_field if batched else vector_field)
    if key is not None:
        terms = diffrax.MultiTerm(terms, noise_term(model, t0, t1, h, key, dtype))
    return terms


# --------------------------------------------------------------------------------------
# Times and steps, decided (and checked) before anything compiles
# --------------------------------------------------------------------------------------


class TimeGrid(NamedTuple):
    """The times of one `solve` call (see `time_grid`)."""

    t0: float
    t1: float
    ts_ext: Array  # the input sample times, then t1 (the last sample is held until t1)
    grid: Array | None  # the default grid t0 + dt * (0..T), or None for user times
    save_ts: Array  # the output times
    default_save: bool  # whether the outputs are on the default grid


class StepPlan(NamedTuple):
    """Everything the compiled solve needs besides the model and the inputs."""

    ts_ext: Array
    t0: float
    t1: float
    h: float  # the (initial) step
    solver: diffrax.AbstractSolver
    controller: diffrax.AbstractStepSizeController
    adjoint: diffrax.AbstractAdjoint
    max_steps: int
    save: Array | None  # the save times, or None to save at the step ends
    save_steps: bool  # save exactly at the step ends (no interpolation)
    adaptive: bool


def time_grid(
    model: AbstractRNN,
    xs: Float[Array, "*batch T n_in"],
    *,
    ts: ArrayLike | None,
    saveat: ArrayLike | None,
    t0: float,
    t1: float | None,
) -> TimeGrid:
    """Checks `ts`, `t1` and `saveat` against the inputs `xs` and sets the defaults:
    `ts = t0 + dt * arange(T)`, `t1` one `dt` after the last sample, outputs on the
    grid `t0 + dt * (1..T)`.

    **Arguments:** the model, its checked inputs `xs`, and `ts`, `saveat`, `t0`, `t1` as
    `solve` takes them (`ts` and `saveat` are checked here, so their shapes are not
    annotated: a wrong one is an `InputError`, not a type-check error).

    **Returns:** a `TimeGrid`.

    **Raises:** `InputError` for `ts` of the wrong shape or not increasing, `t1 <= t0`,
    `saveat` of the wrong shape or outside `[t0, t1]`, or user times with the lagged
    readout (defined on the model's own grid only).
    """
    T = xs.shape[-2]
    dtype = xs.dtype
    dt = model.dt
    # The default grid in NumPy: concrete even when `solve` is traced under `jit`.
    np_grid = (t0 + dt * np.arange(0, T + 1)).astype(dtype)
    if ts is None:
        ts_in = jnp.asarray(np_grid[:-1])
        default_grid = True
    else:
        ts_in = jnp.asarray(ts, dtype=dtype)
        if ts_in.shape != (T,):
            raise InputError(f"ts: got shape {ts_in.shape}, expected ({T},) to match the inputs")
        if not is_traced(ts_in) and not np.all(np.diff(np.asarray(ts_in)) > 0):
            raise InputError("ts: expected strictly increasing sample times")
        t0 = float(ts_in[0]) if not is_traced(ts_in) else t0
        default_grid = False
    if t1 is None:
        # The end of the default grid exactly as StepTo sees it.
        t1 = (
            float(np_grid[-1])
            if default_grid
            else (float(ts_in[-1]) + dt if not is_traced(ts_in) else t0 + T * dt)
        )
    else:
        t1 = float(t1)
    if not t1 > t0:
        raise InputError(f"t1: got {t1}, expected t1 > t0 = {t0}")
    ts_ext = jnp.concatenate([ts_in, jnp.asarray([t1], dtype=dtype)])

    grid = jnp.asarray(np_grid) if default_grid else None
    if saveat is None:
        save_ts = grid[1:] if grid is not None else ts_ext[1:]
        default_save = default_grid
    else:
        save_ts = jnp.asarray(saveat, dtype=dtype)
        if save_ts.ndim != 1 or save_ts.shape[0] < 1:
            raise InputError(
                f"saveat: got shape {save_ts.shape}, expected (T_out,) with T_out >= 1"
            )
        if not is_traced(save_ts):
            s = np.asarray(save_ts)
            if np.any(np.diff(s) < 0) or s[0] < t0 or s[-1] > t1:
                raise InputError(
                    f"saveat: expected non-decreasing times within [t0, t1] = [{t0}, {t1}]"
                )
        default_save = False
    if model.readout == "lagged" and not default_save:
        raise InputError(
            "readout: the lagged readout y_t = V r_{t-1} + b is defined on the model's own "
            "grid only; expected saveat=None and ts=None, or a model with readout='current'"
        )
    return TimeGrid(
        t0=t0, t1=t1, ts_ext=ts_ext, grid=grid, save_ts=save_ts, default_save=default_save
    )


def plan_steps(
    model: AbstractRNN,
    T: int,
    times: TimeGrid,
    *,
    solver: diffrax.AbstractSolver | None,
    stepsize_controller: diffrax.AbstractStepSizeController | None,
    dt0: float | None,
    max_steps: int | None,
    adjoint: diffrax.AbstractAdjoint | None,
) -> StepPlan:
    """Checks the solver options and chooses the step-size controller, the step, the
    step budget, the adjoint and what to save.

    Defaults: `SequentialEuler()`; steps exactly on the input grid (`diffrax.StepTo`)
    when neither `dt0` nor a controller nor user times are given, else
    `ConstantStepSize` with step `dt0` (default `dt`); `max_steps` the number of
    fixed steps or `max(4096, 64 T)` for adaptive ones; `RecursiveCheckpointAdjoint`
    with one checkpoint per fixed step.

    **Arguments:** the model, the number of samples `T`, the `TimeGrid`, and the solver
    options as `solve` takes them (`None` for the defaults).

    **Returns:** a `StepPlan`.

    **Raises:** as `adaptive_rnn._solve_checks.check_solver`.
    """
    solver = SequentialEuler() if solver is None else solver
    adaptive = check_solver(solver, stepsize_controller)
    t0, t1 = times.t0, times.t1
    use_step_to = stepsize_controller is None and dt0 is None and times.grid is not None
    if use_step_to:
        controller = diffrax.StepTo(ts=times.grid)
        h = model.dt
        n_steps = T
    else:
        controller = (
            diffrax.ConstantStepSize() if stepsize_controller is None else stepsize_controller
        )
        h = model.dt if dt0 is None else dt0
        n_steps = int(np.ceil((t1 - t0) / h - 1e-9)) + 1
    if max_steps is None:
        max_steps = max(4096, 64 * T) if adaptive else n_steps
    if adjoint is None:
        adjoint = diffrax.RecursiveCheckpointAdjoint(checkpoints=None if adaptive else max_steps)
    save_steps = use_step_to and times.default_save
    # With save_steps: exactly the step ends, no interpolation (the lagged readout also
    # needs t0). Otherwise at these times (lagged: the grid from t0; the rates at
    # t0..t_{T-1} give the outputs at t1..t_T).
    save = None if save_steps else (times.grid if model.readout == "lagged" else times.save_ts)
    return StepPlan(
        ts_ext=times.ts_ext,
        t0=t0,
        t1=t1,
        h=h,
        solver=solver,
        controller=controller,
        adjoint=adjoint,
        max_steps=max_steps,
        save=save,
        save_steps=save_steps,
        adaptive=adaptive,
    )


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


@eqx.filter_jit
def solve_one(
    model: AbstractRNN,
    resolved: PyTree,
    xs: Float[Array, "*batch T n_in"],
    key: PRNGKeyArray | None,
    plan: StepPlan,
    interpolation: str,
    return_states: bool,
) -> tuple[Float[Array, "*batch T_out n_out"], tuple | None, Bool[Array, ""], Int[Array, ""]]:
    """One sequence `(T, n_in)`, or a batch `(B, T, n_in)` integrated as one state,
    through `diffrax.diffeqsolve` (compiled once per shape and plan).

    **Arguments:** the model and its resolved parameters (`model.resolve()`, computed
    once per call by the caller), the inputs, a key (or `None` for no noise), the
    `StepPlan`, the interpolation and `return_states`.

    **Returns:** `(outputs, states or None, success, num_steps)`.
    """
    y0 = model.initial_state(resolved)
    dtype = xs.dtype
    # Interpolate the inputs (data, no gradient), not the drive U x: a parameter-dependent
    # interpolant would make every backward step scatter into a (T, B, n) cotangent.
    batched = xs.ndim == 3
    readout = (
        jax.vmap(lambda *y: model.output(resolved, y))
        if batched
        else (lambda *y: model.output(resolved, y))
    )
    lagged = model.readout == "lagged"
    # What each save keeps: the states, or (without return_states) only the readout:
    # a few numbers per step instead of every state variable.
    fn = (lambda t, y, args: y) if return_states else (lambda t, y, args: readout(*y))
    save = (
        diffrax.SaveAt(t0=lagged, steps=True, fn=fn)
        if plan.save_steps
        else diffrax.SaveAt(ts=plan.save, fn=fn)
    )
    samples = xs
    if batched:  # (B, T, n_in) -> time first; the state gets a leading batch axis
        samples = jnp.swapaxes(xs, 0, 1)
        y0 = tuple(jnp.broadcast_to(v, (xs.shape[0],) + v.shape) for v in y0)
    # Hold the last sample over the final step so that every solver sees a defined input
    # on [t0, t1].
    samples = jnp.concatenate([samples, samples[-1:]], axis=0)
    interp = interpolate(plan.ts_ext, samples, interpolation)
    k_bm = k_obs = None
    if key is not None:
        k_bm, k_obs = jax.random.split(key)
    terms = build_terms(model, batched, k_bm, plan.t0, plan.t1, plan.h, dtype)
    sol = diffrax.diffeqsolve(
        terms,
        plan.solver,
        # Times in the state's dtype, so float32 models solve in float32 throughout.
        t0=jnp.asarray(plan.t0, dtype=dtype),
        t1=jnp.asarray(plan.t1, dtype=dtype),
        dt0=None
        if isinstance(plan.controller, diffrax.StepTo)
        else jnp.asarray(plan.h, dtype=dtype),
        y0=y0,
        args=(model, resolved, interp),
        saveat=save,
        stepsize_controller=plan.controller,
        adjoint=plan.adjoint,
        max_steps=plan.max_steps,
        throw=False,
    )
    assert sol.ys is not None  # `save` always saves the states
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
    noise = model.active_noise()
    if key is not None and noise is not None and noise.sigma_post > 0:
        assert k_obs is not None  # split from `key` above
        outs = outs + observation_noise(model, resolved, k_obs, outs.shape[0], dtype)
    success = sol.result == diffrax.RESULTS.successful
    return outs, ys, success, sol.stats["num_steps"]


def run_continuous(
    model: AbstractRNN,
    resolved: PyTree,
    xs: Float[Array, "*batch T n_in"],
    key: PRNGKeyArray | None,
    plan: StepPlan,
    interpolation: str,
    return_states: bool,
) -> tuple[
    Float[Array, "*batch T_out n_out"], tuple | None, Bool[Array, "*batch"], Int[Array, "*batch"]
]:
    """Runs `solve_one` on one sequence or a batch.

    A batch on fixed steps without noise is integrated as one state (one diffrax loop
    whose field is vmapped over sequences): identical to solving each sequence alone
    and much cheaper than vmapping the whole solve. With adaptive steps or noise each
    sequence is solved on its own (`vmap`, one key per sequence split from `key`).

    **Arguments:** as `solve_one`.

    **Returns:** `(outputs, states or None, success, num_steps)`, the last two of
    shape `()` or `(B,)`.
    """

    def one(x, k):
        return solve_one(model, resolved, x, k, plan, interpolation, return_states)

    if xs.ndim == 2:
        return one(xs, key)
    if key is None and not plan.adaptive:
        outs, ys, success, nsteps = one(xs, None)
        success = jnp.broadcast_to(success, xs.shape[:1])
        nsteps = jnp.broadcast_to(nsteps, xs.shape[:1])
        return outs, ys, success, nsteps
    keys = None if key is None else jax.random.split(key, xs.shape[0])
    return jax.vmap(one)(xs, keys)


def check_reached_end(
    outs: Float[Array, "*batch T_out n_out"],
    success: Bool[Array, "*batch"],
    num_steps: Int[Array, "*batch"],
    plan: StepPlan,
    throw: bool,
) -> Float[Array, "*batch T_out n_out"]:
    """With `throw`, refuses a solve that did not reach `t1`: at once when `success` is
    concrete, else through `eqx.error_if` at run time.

    **Arguments:** `run_continuous`'s outputs, success and step counts, the `StepPlan`
    (for the message) and `throw` (`False`: no check).

    **Returns:** `outs` (wrapped in the run-time check when traced).

    **Raises:** `SolverError` when the solver ran out of `max_steps`.
    """
    if not throw:
        return outs
    if not is_traced(success):
        if not bool(np.all(np.asarray(success))):
            raise SolverError(
                f"diffrax did not reach t1 = {plan.t1} within max_steps = {plan.max_steps} "
                f"(steps taken: {np.asarray(num_steps).max()}); expected the solve to finish. "
                f"Raise max_steps, loosen rtol/atol, or use a stiff solver."
            )
        return outs
    return eqx.error_if(
        outs,
        ~jnp.all(success),
        "adaptive_rnn.solve: diffrax did not reach t1 within max_steps; raise "
        "max_steps, loosen rtol/atol, or use a stiff solver",
    )
