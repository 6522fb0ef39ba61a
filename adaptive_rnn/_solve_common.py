"""What both integration paths share: the step that defines the discrete models
(`SequentialEuler`), the input drive of one step, and the `Trajectory` they return.

The discrete path (`adaptive_rnn._solve_discrete`) scans these steps; the continuous
path (`adaptive_rnn._solve_continuous`) hands the same solver to diffrax, so that with
the default grid the two give the same numbers.
"""

from collections.abc import Callable
from typing import ClassVar

import diffrax
import equinox as eqx
from equinox.internal import ω
from jaxtyping import Array, Bool, Float, PyTree

from ._fields import InputDrive
from .models import AbstractRNN

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

    **Arguments:**

    - `increment`: maps the current state tuple to the increment of every block.
    - `y`: the state, a tuple of blocks.

    **Returns:** the updated state tuple.
    """
    blocks = list(y)
    for j in range(len(blocks)):
        blocks[j] = (ω(blocks[j]) + ω(increment(tuple(blocks))[j])).ω
    return tuple(blocks)


def input_drive(
    model: AbstractRNN,
    resolved: PyTree,
    x: Float[Array, " n_in"],
    noise: Float[Array, " n"] | None = None,
) -> PyTree:
    """The drive of one step from the input sample `x` (plus drive noise).

    **Arguments:**

    - `model`, `resolved`: the model and `model.resolve()`.
    - `x`: one input sample; `noise`: drive noise of the step, or `None`.

    **Returns:** an `InputDrive` (multiplied out inside the field, fused with the
    recurrent matmul) when the model's drive is linear, else the array
    `model.drive(resolved, x)` (plus `noise`).
    """
    U = model.drive_weights(resolved)
    if U is None:
        d = model.drive(resolved, x)
        return d if noise is None else d + noise
    return InputDrive(U, x, noise)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


class Trajectory(eqx.Module):
    """What `simulate` and `solve` return.

    **Fields:**

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


def trajectory_states(model: AbstractRNN, ys: tuple | None) -> dict | None:
    """The saved state blocks `ys` as the dict a `Trajectory` holds: one entry per
    state variable (named `"<name>_<layer>"` for stacked layers), plus the quantities
    the model derives from them (`model.derived_states`, e.g. the shunting model's 1/z).

    **Arguments:**

    - `model`: the model; `ys`: the saved state blocks (time first), or `None`.

    **Returns:** the dict, or `None` when no states were saved.
    """
    if ys is None:
        return None
    names = model.state_names
    if len(ys) == len(names):
        states = dict(zip(names, ys))
    else:  # stacked layers: names repeat per layer
        per = len(names)
        states = {f"{names[j % per]}_{j // per}": y for j, y in enumerate(ys)}
    return {**states, **model.derived_states(states)}
