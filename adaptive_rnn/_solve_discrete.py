"""The discrete path: the model's exact recurrence, a `jax.lax.scan` of
`SequentialEuler` steps (optionally rematerialised in chunks), for one sequence, a
batch (`vmap`) or a batch split over devices.

`simulate` (in `adaptive_rnn._solve`) checks its arguments and calls `run_discrete`.
"""

from collections.abc import Callable, Sequence
from typing import Any, cast

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray, PyTree

from ._fields import FloatScalarLike
from ._noise import discrete_noise
from ._solve_common import input_drive, sequential_update
from ._solve_parallel import data_parallel
from .models import AbstractRNN


def chunked_scan(
    body: Callable,
    carry: PyTree,
    xs: PyTree,
    T: int,
    remat: int | None,
    prepare: Callable | None = None,
) -> tuple[PyTree, PyTree]:
    """`lax.scan(body, carry, prepare(xs))`, or with `remat = k` a scan over chunks of k
    steps whose bodies are `jax.checkpoint`ed.

    The backward pass then keeps only the state at chunk boundaries and recomputes each
    chunk (including `prepare`, e.g. the input projection), so memory is O(T/k + k)
    states instead of O(T). The last chunk is padded with repeats of the last input;
    the extra steps come after step T and are dropped.

    **Arguments:**

    - `body`, `carry`, `xs`: as `jax.lax.scan` (`xs` with leading axis `T`).
    - `T`: the number of steps; `remat`: the chunk length `k`, or `None` for none.
    - `prepare`: applied to each chunk of `xs` inside the checkpointed body (default:
        the identity).

    **Returns:** `(carry, saved)` as `lax.scan`, `saved` with T entries.
    """
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
def simulate_one(
    model: AbstractRNN,
    resolved: PyTree,
    xs: Float[Array, "T n_in"],
    t0: FloatScalarLike,
    return_states: bool,
    key: PRNGKeyArray | None = None,
    remat: int | None = None,
) -> tuple[Float[Array, "T n_out"], tuple | None]:
    """One sequence `xs` `(T, n_in)` through the recurrence (compiled once per shape).

    **Arguments:** the model and its resolved parameters (`model.resolve()`, computed
    once per call by the caller); `t0`, `return_states`, `key` (or `None` for no
    noise) and `remat` as `simulate`.

    **Returns:** `(outputs (T, n_out), states)`, `states` a tuple of `(T, ...)` blocks
    or `None` without `return_states`.
    """
    y0 = model.initial_state(resolved)
    dt = model.dt
    T = xs.shape[0]
    readout_noise = drive_noise = None
    if key is not None:
        # Noise enters through the drive: each step stays the field's SequentialEuler
        # (Euler-Maruyama) step. See adaptive_rnn._noise.
        drive_noise, readout_noise = discrete_noise(model, resolved, key, T, xs.dtype)
        noise = model.active_noise()
        assert noise is not None  # a key is only passed for a model with active noise
        if noise.sigma_pre == 0 and not (noise.feedback and noise.sigma_post > 0):
            drive_noise = None  # nothing enters the dynamics: keep them bit for bit
    ts_in = t0 + dt * jnp.arange(T, dtype=xs.dtype)

    def body(y, inp):
        # The input drive is computed step by step from x_t: materialising U x for all
        # steps at once (T x n, times batch and models under vmap) costs more memory
        # traffic than the small per-step matmul it saves.
        t, x, noise = inp
        d = input_drive(model, resolved, x, noise)
        y_next = model.discrete_step(t, y, (resolved, d), dt)  # a family's own step, or None
        y = (
            y_next
            if y_next is not None
            else sequential_update(
                lambda z: jax.tree_util.tree_map(
                    lambda v: dt * v, model.field(t, z, (resolved, d))
                ),
                y,
            )
        )
        # Without return_states only the readout is saved: a few numbers per step.
        return y, (y if return_states else model.output(resolved, y))

    _, saved = chunked_scan(body, y0, (ts_in, xs, drive_noise), T, remat)
    if return_states:
        ys = cast(tuple, saved)  # with return_states the scan saves the state tuple
        outs = jax.vmap(lambda *y: model.output(resolved, y))(*ys)
    else:
        # Without return_states the scan saves only the readout, one array.
        ys, outs = None, cast(Array, saved)
    if model.readout == "lagged":
        first = model.output(resolved, y0)[None]
        outs = jnp.concatenate([first, outs[:-1]], axis=0)
    if readout_noise is not None:
        outs = outs + readout_noise
    return outs, ys


def run_discrete(
    model: AbstractRNN,
    resolved: PyTree,
    xs: Float[Array, "*batch T n_in"],
    *,
    t0: FloatScalarLike,
    return_states: bool,
    key: PRNGKeyArray | None,
    remat: int | None,
    devices: int | Sequence[Any] | None,
) -> tuple[Float[Array, "*batch T n_out"], tuple | None, Bool[Array, "*batch"]]:
    """Runs one sequence `(T, n_in)` or a batch `(B, T, n_in)` (vmapped, split over
    `devices` when given; one key per sequence split from `key`).

    **Arguments:** the model, its resolved parameters, the checked inputs, and `t0`,
    `return_states`, `key` (or `None`), `remat` and `devices` as `simulate` takes them.

    **Returns:** `(outputs, states, success)`, `success` all `True` of shape `()` or
    `(B,)`.
    """
    if xs.ndim == 2:
        outs, ys = simulate_one(model, resolved, xs, t0, return_states, key, remat)
        return outs, ys, jnp.asarray(True)
    keys = None if key is None else jax.random.split(key, xs.shape[0])

    def run(shared, xs, keys):
        m, r = shared
        return jax.vmap(lambda x, k: simulate_one(m, r, x, t0, return_states, k, remat))(xs, keys)

    if devices is None:
        outs, ys = run((model, resolved), xs, keys)
    else:
        # The model and its resolved parameters are replicated: under grad, the
        # cotangents of what each device uses are summed over devices once.
        outs, ys = data_parallel(run, devices, (model, resolved), xs, keys)
    return outs, ys, jnp.ones(xs.shape[0], dtype=bool)
