"""The checks at the edge of `simulate` and `solve`: inputs, the explicit step, the
memory the trajectory needs, and the solver options (scalars, solver, step-size
controller and tolerances).

Each check runs before anything compiles and raises `InputError` (or
`UnstableStepError`) naming the argument; checks of values that are traced (under
`jit` or `grad`) are skipped.
"""

from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer
from jaxtyping import Array, Float, PyTree

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
from ._errors import InputError, UnstableStepError
from ._solve_common import SequentialEuler
from .models import AbstractRNN

INTERPOLATIONS = ("linear", "cubic", "hold")

IMPLICIT = (diffrax.AbstractImplicitSolver,)
# Solvers that give no error estimate, so no adaptive steps (diffrax would fail at run time).
NO_ERROR_ESTIMATE = (
    SequentialEuler,
    diffrax.Euler,
    diffrax.SemiImplicitEuler,
    diffrax.EulerHeun,
    diffrax.ItoMilstein,
    diffrax.StratonovichMilstein,
    diffrax.LeapfrogMidpoint,
)


def is_traced(*xs: Any) -> bool:
    """Whether any leaf of `xs` is a JAX tracer (its value unknown until run time).

    **Arguments:**

    - `*xs`: any pytrees.

    **Returns:** `True` if any leaf is a tracer.
    """
    return any(isinstance(x, Tracer) for x in jax.tree_util.tree_leaves(xs))


def model_dtype(model: AbstractRNN) -> np.dtype:
    """The dtype of the model's first floating-point array (default float if none).

    **Arguments:**

    - `model`: any model.

    **Returns:** the dtype.
    """
    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    return leaves[0].dtype if leaves else jnp.result_type(float)


# --------------------------------------------------------------------------------------
# Both paths
# --------------------------------------------------------------------------------------


def check_inputs(model: Any, inputs: Any, name: str = "inputs") -> Float[Array, "*batch T n_in"]:
    """Validates and casts inputs of shape `(T, n_in)` or `(B, T, n_in)`.

    **Arguments:**

    - `model`: the model the inputs drive (gives `n_in` and the dtype).
    - `inputs`: an array-like of shape `(T, n_in)` or `(B, T, n_in)`.
    - `name`: the argument's name in error messages.

    **Returns:** the inputs as a JAX array in the model's dtype.

    **Raises:** `InputError` for a model that is not an adaptive_rnn model, a wrong
    rank or width, an empty time axis, a non-numeric dtype or (when the values are
    concrete) non-finite values.
    """
    if not isinstance(model, AbstractRNN):
        raise InputError(f"model: got {type(model).__name__}, expected an adaptive_rnn model")
    if not hasattr(inputs, "shape"):
        try:
            inputs = np.asarray(inputs)
        except Exception as e:  # pragma: no cover - exotic objects
            raise InputError(
                f"{name}: could not convert {type(inputs).__name__} to an array"
            ) from e
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
    if not is_traced(inputs):
        arr = np.asarray(inputs)
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(
                f"{name}: got {int(bad.sum())} non-finite values (first at index {first}), "
                f"expected finite values"
            )
    return jnp.asarray(inputs, dtype=model_dtype(model))


def check_step(model: AbstractRNN, resolved: PyTree, h: float, what: str = "dt") -> None:
    """Refuses an explicit-Euler step `h >= 2 * min(tau)` (when the values are concrete).

    At `h / tau >= 2` the leak term alone makes explicit Euler diverge. Under `jit` or
    `grad` the time constants are traced and the check is skipped.

    **Arguments:**

    - `model`, `resolved`: the model and `model.resolve()`.
    - `h`: the step; `what`: its name in the message (`"dt"`, `"dt0"`).

    **Returns:** `None`; it only raises.

    **Raises:** `InputError` for non-positive or non-finite time constants,
    `UnstableStepError` for a step too large.
    """
    tau_min = model.min_time_constant(resolved)
    if is_traced(tau_min):
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


def check_trajectory_memory(
    model: AbstractRNN, xs: Float[Array, "*batch T n_in"], n_out_times: int, return_states: bool
) -> None:
    """Refuses, before anything compiles, a simulation whose saved trajectory (outputs,
    and the states with `return_states`) would not fit in the memory available.

    The estimate is `B * n_out_times * (n_out + state size) * itemsize` bytes, from the
    shapes alone (`jax.eval_shape`; nothing is computed).

    **Arguments:**

    - `model`: the model; `xs`: the checked inputs.
    - `n_out_times`: the number of output times; `return_states`: whether the states
        are saved too.

    **Returns:** `None`; it only raises.

    **Raises:** `InputError` naming the inputs' shape when it would not fit.
    """
    B = xs.shape[0] if xs.ndim == 3 else 1
    per_value = float(B) * n_out_times * np.dtype(xs.dtype).itemsize
    per_step = model.n_out
    if return_states:
        # The states (and the quantities derived from them) per step: at most twice the
        # number of parameters, a bound that costs nothing; traced only when it would not fit.
        n_params = sum(
            int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(model) if hasattr(v, "shape")
        )
        limit = _checks.available_memory()
        if limit is not None and per_value * (per_step + 2 * n_params) <= limit:
            return
        y0 = jax.eval_shape(lambda m: m.initial_state(m.resolve()), model)
        per_step += 2 * sum(int(np.prod(v.shape)) for v in jax.tree_util.tree_leaves(y0))
    check_memory("inputs", f"shape {tuple(xs.shape)}", per_value * per_step, "the trajectory")


# --------------------------------------------------------------------------------------
# The continuous path's options
# --------------------------------------------------------------------------------------


def check_solve_numbers(
    interpolation: str, t0: Any, t1: Any, dt0: Any, max_steps: Any
) -> tuple[Any, float | None, int | None]:
    """Checks the scalar options of `solve` (when concrete).

    **Arguments:** `interpolation`, `t0`, `t1`, `dt0` and `max_steps` as `solve` takes
    them (any values: this is where they are checked).

    **Returns:** `(t0, dt0, max_steps)`, `t0` as a float when concrete.

    **Raises:** `InputError` for an unknown interpolation, a non-finite `t0`/`t1`,
    `dt0 <= 0` or `max_steps < 1`.
    """
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    if not is_traced(t0):
        t0 = check_number("t0", t0)
    if t1 is not None and not is_traced(t1):
        check_number("t1", t1)
    dt0 = check_optional(check_positive, "dt0", dt0)
    max_steps = check_optional(check_positive_int, "max_steps", max_steps)
    return t0, dt0, max_steps


def check_tolerances(controller: Any) -> None:
    """Refuses negative, non-finite or all-zero `rtol`/`atol` of an adaptive step-size
    controller (read from its fields, when concrete): diffrax would take a few steps and
    report success with wrong results.

    **Arguments:**

    - `controller`: a step-size controller (one without tolerances passes).

    **Returns:** `None`; it only raises.

    **Raises:** `InputError` for bad tolerances.
    """
    if not hasattr(controller, "rtol") or not hasattr(controller, "atol"):
        return
    tols = {}
    for name in ("rtol", "atol"):
        value = getattr(controller, name)
        if is_traced(value):
            return
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise InputError(
                f"stepsize_controller.{name}: got {value!r}, expected a finite number >= 0"
            ) from e
        if arr.shape == ():
            tols[name] = check_nonnegative(f"stepsize_controller.{name}", float(arr))
        elif not (np.all(np.isfinite(arr)) and np.all(arr >= 0)):
            raise InputError(
                f"stepsize_controller.{name}: got {value!r}, expected finite values >= 0"
            )
        else:
            tols[name] = float(arr.max())
    if tols["rtol"] == 0 and tols["atol"] == 0:
        raise InputError(
            "stepsize_controller: got rtol = atol = 0, expected rtol > 0 or atol > 0 (no "
            "step could meet a zero tolerance)"
        )


def needs_controller_tols(solver: Any) -> bool:
    """Whether `solver` is an implicit solver whose root finder takes its tolerances from
    an adaptive step-size controller (diffrax's default), which fixed steps cannot give.

    **Arguments:**

    - `solver`: a diffrax solver.

    **Returns:** `True` for such a solver.
    """
    if not isinstance(solver, IMPLICIT):
        return False
    rf = getattr(solver, "root_finder", None)
    return any(
        type(getattr(rf, a, None)).__name__ == "_UseStepSizeTol" for a in ("rtol", "atol", "norm")
    )


def check_solver(solver: Any, stepsize_controller: Any) -> bool:
    """Checks a solver and an optional step-size controller, and that they go together.

    **Arguments:**

    - `solver`: a diffrax solver; `stepsize_controller`: a controller or `None`.

    **Returns:** whether the steps are adaptive (a controller other than
    `ConstantStepSize` or `StepTo`).

    **Raises:** `InputError` for a solver or controller of the wrong type, bad
    tolerances, adaptive steps with a solver without an error estimate, or an implicit
    solver on fixed steps whose root finder needs the controller's tolerances.
    """
    check_type("solver", solver, diffrax.AbstractSolver, "a diffrax solver (e.g. diffrax.Tsit5())")
    if stepsize_controller is not None:
        check_type(
            "stepsize_controller",
            stepsize_controller,
            diffrax.AbstractStepSizeController,
            "a diffrax step-size controller (e.g. diffrax.PIDController(rtol=1e-5, atol=1e-6))",
        )
        check_tolerances(stepsize_controller)
    adaptive = stepsize_controller is not None and not isinstance(
        stepsize_controller, (diffrax.ConstantStepSize, diffrax.StepTo)
    )
    if adaptive and isinstance(solver, NO_ERROR_ESTIMATE):
        raise InputError(
            f"stepsize_controller: got {type(stepsize_controller).__name__}, adaptive steps, "
            f"but solver {type(solver).__name__} has no error estimate; expected fixed steps "
            f"(stepsize_controller=None) or a solver with one (Heun, Tsit5, Dopri5, Kvaerno5)"
        )
    if not adaptive and needs_controller_tols(solver):
        raise InputError(
            f"solver: got {type(solver).__name__}, an implicit solver, with fixed steps; "
            f"expected an adaptive stepsize_controller (e.g. diffrax.PIDController(rtol=1e-5, "
            f"atol=1e-6)), whose tolerances its root finder uses, or a root_finder with "
            f"its own rtol, atol and norm"
        )
    return adaptive
