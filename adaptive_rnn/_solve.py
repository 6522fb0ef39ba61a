"""Two ways to run any model, with one call signature: the public entry of the
integration layer, composing the rooms that do the work.

- `simulate`: the exact discrete recurrence, a `jax.lax.scan` of `SequentialEuler`
  steps of the model's vector field (the paper's model; the fast path for training).
- `solve`: the continuous-time equations through `diffrax.diffeqsolve`, with any
  solver, constant or adaptive steps, interpolated inputs and a choice of adjoint.

Time convention. Input sample `x_k` (k = 0..T-1) is applied at time `t_k = t0 + k dt`,
during the step from `t_k` to `t_{k+1}`; outputs are read at `t_1..t_T` (or, with the
lagged readout, from the rates at `t_0..t_{T-1}`). Under this convention the fixed-grid
`SequentialEuler` solve through diffrax reproduces `simulate` exactly.

The rooms: `_solve_common` (the `SequentialEuler` step, the input drive, `Trajectory`),
`_solve_checks` (checks at the edge), `_solve_discrete` (the scan), `_solve_continuous`
(diffrax), `_solve_parallel` (a batch split over devices). Each call resolves the
model's parameters once (`model.resolve()`) and hands them to the compiled path.
"""

import diffrax
import jax.numpy as jnp
from jaxtyping import ArrayLike, Real

from ._checks import check_number, check_optional, check_positive_int
from ._noise import require_key
from ._solve_checks import (
    IMPLICIT,
    INTERPOLATIONS as INTERPOLATIONS,
    check_inputs as check_inputs,
    check_solve_numbers,
    check_step as check_step,
    check_trajectory_memory as check_trajectory_memory,
    is_traced,
    model_dtype as model_dtype,
)
from ._solve_common import (
    SequentialEuler as SequentialEuler,
    Trajectory as Trajectory,
    input_drive as input_drive,
    sequential_update as sequential_update,
    trajectory_states,
)
from ._solve_continuous import (
    HoldInterpolation as HoldInterpolation,
    check_reached_end,
    plan_steps,
    run_continuous,
    time_grid,
)
from ._solve_discrete import run_discrete
from ._solve_parallel import data_parallel as data_parallel

__all__ = [
    "INTERPOLATIONS",
    "HoldInterpolation",
    "SequentialEuler",
    "Trajectory",
    "check_inputs",
    "check_step",
    "check_trajectory_memory",
    "data_parallel",
    "input_drive",
    "model_dtype",
    "sequential_update",
    "simulate",
    "solve",
]


def _noise_key(model, key):
    """The key the run uses: `key` for a model with active noise (required then), else
    `None`, so that a model without noise compiles and runs the noiseless program.

    **Raises:** `InputError` for a model with noise and no key.
    """
    return key if require_key(model, key) is not None else None


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
        Under `jax.distributed`, pass the devices of every process (e.g. `jax.devices()`):
        outside `jit` every process receives the whole trajectory; inside `jit` the
        outputs are global arrays (`fetch_global` gathers them); see docs/distributed.md.
        Default: one device. Ignored for a single sequence.

    **Returns:** a `Trajectory` with outputs at `t0 + dt * (1..T)`.

    **Raises:** `InputError` for inputs of the wrong rank or width or with non-finite
    values, a batch that does not split evenly over `devices`, a bad `t0` or `remat`, or a
    trajectory too large for the memory available; `UnstableStepError` if
    `dt >= 2 * min(tau)` (checked when the time constants are concrete, i.e. outside
    `jit`/`grad`).
    """
    # 1. Check the arguments (before anything compiles).
    xs = check_inputs(model, inputs)
    check_optional(check_positive_int, "remat", remat)
    if not is_traced(t0):
        check_number("t0", t0)
    check_trajectory_memory(model, xs, xs.shape[-2], return_states)
    # 2. Resolve the parameters once; refuse an unstable step.
    resolved = model.resolve()
    if not model.stable_discrete_step:
        check_step(model, resolved, model.dt, "dt")
    # 3. Run the scan (vmapped over a batch, split over devices when asked).
    outs, ys, success = run_discrete(
        model,
        resolved,
        xs,
        t0=t0,
        return_states=return_states,
        key=_noise_key(model, key),
        remat=remat,
        devices=devices,
    )
    # 4. Package the trajectory.
    T = xs.shape[-2]
    ts = t0 + model.dt * jnp.arange(1, T + 1, dtype=xs.dtype)
    return Trajectory(
        ts=ts,
        outputs=outs,
        states=trajectory_states(model, ys),
        success=success,
        num_steps=jnp.asarray(T),
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
    # 1. Check the arguments and fix the times (before anything compiles).
    xs = check_inputs(model, inputs)
    t0, dt0, max_steps = check_solve_numbers(interpolation, t0, t1, dt0, max_steps)
    times = time_grid(model, xs, ts=ts, saveat=saveat, t0=t0, t1=t1)
    # 2. Choose the solver, step-size controller, step budget, adjoint and saves.
    plan = plan_steps(
        model,
        xs.shape[-2],
        times,
        solver=solver,
        stepsize_controller=stepsize_controller,
        dt0=dt0,
        max_steps=max_steps,
        adjoint=adjoint,
    )
    n_saved = int(times.save_ts.shape[0]) + (model.readout == "lagged")
    check_trajectory_memory(model, xs, n_saved, return_states)
    # 3. Resolve the parameters once; refuse an unstable explicit fixed step.
    resolved = model.resolve()
    _check_fixed_step(model, resolved, plan, "dt0" if dt0 is not None else "dt")
    # 4. Run diffrax (the terms are built inside the compiled solve); refuse an
    #    unfinished solve when `throw`.
    outs, ys, success, nsteps = run_continuous(
        model, resolved, xs, _noise_key(model, key), plan, interpolation, return_states
    )
    outs = check_reached_end(outs, success, nsteps, plan, throw)
    # 5. Package the trajectory.
    return Trajectory(
        ts=times.save_ts,
        outputs=outs,
        states=trajectory_states(model, ys),
        success=success,
        num_steps=nsteps,
    )


def _check_fixed_step(model, resolved, plan, what: str) -> None:
    """`check_step` for an explicit solver on fixed steps (adaptive and implicit
    solvers choose or survive their own steps).

    **Raises:** `UnstableStepError` for a step `>= 2 * min(tau)`.
    """
    if not plan.adaptive and not isinstance(plan.solver, IMPLICIT):
        check_step(model, resolved, plan.h, what)
