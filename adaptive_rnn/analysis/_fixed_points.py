"""Fixed and slow points of any model under a constant input: the search (Adam, then
Levenberg-Marquardt, from many starts at once) and its result, each point classified by
its linearisation (`adaptive_rnn.analysis._linearise`).
"""

import dataclasses
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float, PRNGKeyArray

from .._errors import InputError
from .._solve import model_dtype
from ._linearise import (
    Linearisation as Linearisation,
    _check_input,
    _check_model,
    _flat_field,
    _spectrum,
    effective_time_constants as effective_time_constants,
    flatten_states as flatten_states,
    linearise as linearise,
)

__all__ = [
    "FixedPoints",
    "Linearisation",
    "effective_time_constants",
    "find_fixed_points",
    "flatten_states",
    "linearise",
]


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FixedPoints:
    r"""Fixed and slow points found by `find_fixed_points`, sorted by increasing `q`.

    **Fields:** with $k$ distinct points and $m$ = `n_state`,

    - `points`: flattened states, shape `(k, m)`; `states` gives them as the model's state
        tuple (each entry of shape `(k, ...)`).
    - `q`: $q = |F(y)|^2 / 2$ at each point, shape `(k,)` (in 1/time^2 of the model).
    - `is_fixed`: `True` where the point is a fixed point to solver precision; the others
        are slow points (local minima of q above the fixed-point tolerance).
    - `jacobians`: shape `(k, m, m)`.
    - `eigenvalues`: shape `(k, m)`, complex, each row sorted by decreasing real part.
    - `stable`: shape `(k,)`, `True` if all eigenvalues have negative real part.
    - `n_unstable`: number of eigenvalues with positive real part, shape `(k,)`.
    - `time_constants`: $-1/\mathrm{Re}\,\lambda$, shape `(k, m)` (negative: a growing mode).
    - `periods`: $2\pi/|\mathrm{Im}\,\lambda|$, shape `(k, m)`.
    - `input`: the constant input, shape `(n_in,)`.
    - `candidates_q`: q at the end of the optimisation for every start, shape `(n_init,)`.
    - `unravel`: the function turning one flattened state back into the state tuple.
    """

    points: np.ndarray
    q: np.ndarray
    is_fixed: np.ndarray
    jacobians: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    n_unstable: np.ndarray
    time_constants: np.ndarray
    periods: np.ndarray
    input: np.ndarray
    candidates_q: np.ndarray
    unravel: Callable = dataclasses.field(repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def states(self) -> tuple[np.ndarray, ...]:
        """The points as the model's state tuple, each entry with a leading axis `k`."""
        if len(self) == 0:
            return ()
        per = [self.unravel(jnp.asarray(p)) for p in self.points]
        return tuple(np.stack([np.asarray(s[j]) for s in per]) for j in range(len(per[0])))

    def summary(self) -> list[dict]:
        """A JSON-ready list, one dict per point: state, q, stability, the five slowest
        time constants and the periods of their modes."""
        out = []
        for i in range(len(self)):
            order = np.argsort(-np.abs(self.time_constants[i]))[:5]
            out.append(
                {
                    "state": [float(v) for v in self.points[i]],
                    "q": float(self.q[i]),
                    "fixed": bool(self.is_fixed[i]),
                    "stable": bool(self.stable[i]),
                    "n_unstable": int(self.n_unstable[i]),
                    "max_real_eigenvalue": float(self.eigenvalues[i].real.max()),
                    "slowest_time_constants": [
                        _json_float(v) for v in self.time_constants[i][order]
                    ],
                    "periods": [_json_float(v) for v in self.periods[i][order]],
                }
            )
        return out


def _json_float(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _candidate_starts(model, xv, key, n_init, inputs, initial_states, noise, n_steps, unravel, m):
    """Starting states, shape `(n_init, m)`."""
    from .._solve import simulate

    if initial_states is not None:
        if isinstance(initial_states, (tuple, list, dict)):
            flat = flatten_states(initial_states)
            flat = flat.reshape(-1, m) if flat.shape[-1] == m else flat
        else:
            flat = np.asarray(initial_states)
        if flat.ndim != 2 or flat.shape[1] != m:
            raise InputError(
                f"initial_states: got shape {flat.shape}, expected (k, {m}) flattened states "
                f"or a tuple/dict of state arrays"
            )
        return jnp.asarray(flat, dtype=xv.dtype)
    k_pick, k_noise = jax.random.split(key)
    if inputs is None:
        inputs = jnp.broadcast_to(xv, (n_steps, model.n_in))
    traj = simulate(model, inputs, return_states=True)
    pool = flatten_states(traj.states).reshape(-1, m)
    pool = jnp.asarray(pool, dtype=xv.dtype)
    idx = jax.random.randint(k_pick, (n_init,), 0, pool.shape[0])
    starts = pool[idx]
    scale = jnp.std(pool, axis=0) + jnp.asarray(1e-3, dtype=xv.dtype)
    return starts + noise * scale * jax.random.normal(k_noise, starts.shape, dtype=xv.dtype)


@eqx.filter_jit
def _optimise(model, xv, t, starts, adam_steps: int, learning_rate: float, newton_steps: int):
    """Adam on q, then damped Gauss-Newton (Levenberg-Marquardt), vmapped over starts."""
    F = _flat_field(model, xv, t)[0]

    def q_of(y):
        f = F(y)
        return 0.5 * jnp.sum(f * f)

    b1, b2, eps = 0.9, 0.999, 1e-8

    def adam_one(y):
        # Adam (Kingma & Ba), written out: optax's bias correction mixes integer and
        # float dtypes, which strict dtype promotion refuses.
        def body(carry, k):
            y, mom, var = carry
            g = jax.grad(q_of)(y)
            mom = b1 * mom + (1 - b1) * g
            var = b2 * var + (1 - b2) * g * g
            kf = k.astype(y.dtype)
            m_hat = mom / (1 - b1**kf)
            v_hat = var / (1 - b2**kf)
            return (y - learning_rate * m_hat / (jnp.sqrt(v_hat) + eps), mom, var), None

        zeros = jnp.zeros_like(y)
        steps = jnp.arange(1, adam_steps + 1)
        (y, _, _), _ = jax.lax.scan(body, (y, zeros, zeros), steps)
        return y

    def lm_one(y):
        m = y.shape[0]
        eye = jnp.eye(m, dtype=y.dtype)

        def body(carry, _):
            y, mu, q = carry
            f = F(y)
            J = jax.jacfwd(F)(y)
            A = J.T @ J
            g = J.T @ f
            scale = jnp.mean(jnp.diag(A)) + jnp.finfo(y.dtype).tiny
            step = jnp.linalg.solve(A + (mu * scale) * eye, g)
            y_new = y - step
            q_new = q_of(y_new)
            better = jnp.isfinite(q_new) & (q_new <= q)
            y = jnp.where(better, y_new, y)
            q = jnp.where(better, q_new, q)
            mu = jnp.clip(jnp.where(better, mu / 3, mu * 4), 1e-14, 1e10)
            return (y, mu, q), None

        init = (y, jnp.asarray(1e-3, dtype=y.dtype), q_of(y))
        (y, _, q), _ = jax.lax.scan(body, init, None, length=newton_steps)
        return y, q

    ys = jax.vmap(adam_one)(starts) if adam_steps > 0 else starts
    ys, qs = jax.vmap(lm_one)(ys)
    return ys, qs


def find_fixed_points(
    model,
    x: Float[ArrayLike, " n_in"] | None = None,
    *,
    key: PRNGKeyArray,
    n_init: int = 64,
    inputs: Float[ArrayLike, "*batch T n_in"] | None = None,
    initial_states=None,
    n_steps: int = 200,
    noise: float = 0.5,
    adam_steps: int = 200,
    learning_rate: float = 1e-2,
    newton_steps: int = 50,
    tol: float = 1e-6,
    fixed_tol: float | None = None,
    unique_tol: float = 1e-3,
    t: float = 0.0,
) -> FixedPoints:
    r"""Finds fixed and slow points of a model under a constant input.

    Minimises $q(y) = \tfrac12 |F(y)|^2$, with $F$ the model's continuous-time field
    driven by the constant input `x`, from many starting states at once (`vmap`): first
    `adam_steps` of Adam, then `newton_steps` of damped Gauss-Newton
    (Levenberg-Marquardt), which converges quadratically at a fixed point. Candidates
    whose q is small are kept, near-duplicates removed, and each point is classified
    from the eigenvalues of the Jacobian of $F$ (see `linearise`).

    Tolerances are measured per step of the model: a candidate is kept when
    $q\,dt^2 <$ `tol`, i.e. the state would move by less than $\sqrt{2\,\mathrm{tol}}$
    in one step `dt` (slow points); it is a fixed point when $q\,dt^2 <$ `fixed_tol`.

    Starting states are drawn (with `key`) from a trajectory of the model, under `inputs`
    if given, else under the constant input `x` for `n_steps` steps from its initial
    state, plus Gaussian noise of `noise` times the per-coordinate spread of the
    trajectory; or given directly as `initial_states`.

    **Arguments:**

    - `model`: any adaptive_rnn model (ARU, CTRNN, Shunting, ...).
    - `x`: the constant input, shape `(n_in,)`; default zeros.
    - `key`: a `jax.random` key for the starting states.
    - `n_init`: number of starting states.
    - `inputs`: a trajectory's inputs `(T, n_in)` or `(B, T, n_in)` to sample starts from
        (e.g. the task trials the model was trained on).
    - `initial_states`: instead, the starting states: flattened `(k, n_state)`, or a
        tuple/dict of state arrays with a common leading axis.
    - `n_steps`: length of the default trajectory.
    - `noise`: relative noise added to the sampled states.
    - `adam_steps`, `learning_rate`: the first stage (0 to skip it).
    - `newton_steps`: the Gauss-Newton stage.
    - `tol`: keep candidates with $q\,dt^2 <$ `tol`.
    - `fixed_tol`: fixed-point threshold on $q\,dt^2$; default $(100\,\epsilon)^2/2$
        times the squared scale of the state, with $\epsilon$ the dtype's machine
        epsilon (set it larger for float32 models with large states).
    - `unique_tol`: two points closer than this (Euclidean, flattened state) are one.
    - `t`: the time passed to the (autonomous) field.

    **Returns:** a `FixedPoints`, sorted by increasing q (possibly empty).

    **Raises:** `InputError` if `model` is not an adaptive_rnn model, for an input of the
    wrong shape, bad starting states or non-positive counts and tolerances.
    """
    _check_model(model)
    for name, v in (("n_init", n_init), ("n_steps", n_steps)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"{name}: got {v!r}, expected a positive integer")
    for name, v in (("adam_steps", adam_steps), ("newton_steps", newton_steps)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InputError(f"{name}: got {v!r}, expected a non-negative integer")
    for name, v in (("tol", tol), ("unique_tol", unique_tol), ("learning_rate", learning_rate)):
        if not (isinstance(v, (int, float)) and v > 0 and math.isfinite(v)):
            raise InputError(f"{name}: got {v!r}, expected a positive finite number")
    dtype = model_dtype(model)
    xv = _check_input(model, x, dtype)
    F, unravel, y0_flat = _flat_field(model, xv, t)
    m = int(y0_flat.shape[0])
    starts = _candidate_starts(
        model, xv, key, n_init, inputs, initial_states, noise, n_steps, unravel, m
    )
    ys, qs = _optimise(model, xv, float(t), starts, adam_steps, float(learning_rate), newton_steps)
    ys = np.asarray(ys, dtype=np.float64)
    qs = np.asarray(qs, dtype=np.float64)
    dt2 = float(model.dt) ** 2
    if fixed_tol is None:
        eps = float(jnp.finfo(dtype).eps)
        scale = max(1.0, float(np.nanmax(np.abs(ys))) if np.isfinite(ys).any() else 1.0)
        fixed_tol = 0.5 * (100 * eps * scale) ** 2
    ok = np.isfinite(qs) & np.all(np.isfinite(ys), axis=1) & (qs * dt2 < tol)
    order = np.argsort(np.where(ok, qs, np.inf))
    kept: list[int] = []
    for i in order:
        if not ok[i]:
            break
        if all(np.linalg.norm(ys[i] - ys[j]) > unique_tol for j in kept):
            kept.append(int(i))
    pts = ys[kept].reshape(len(kept), m)
    if kept:
        Jf = jax.vmap(jax.jacfwd(F))
        Js = np.asarray(Jf(jnp.asarray(pts, dtype=y0_flat.dtype)), dtype=np.float64)
        spectra = [_spectrum(J) for J in Js]
        lam = np.stack([s[0] for s in spectra])
        tau = np.stack([s[1] for s in spectra])
        period = np.stack([s[2] for s in spectra])
    else:
        Js = np.zeros((0, m, m))
        lam = np.zeros((0, m), dtype=np.complex128)
        tau = np.zeros((0, m))
        period = np.zeros((0, m))
    return FixedPoints(
        points=pts,
        q=qs[kept],
        is_fixed=qs[kept] * dt2 < fixed_tol,
        jacobians=Js,
        eigenvalues=lam,
        stable=np.all(lam.real < 0, axis=1),
        n_unstable=np.sum(lam.real > 0, axis=1),
        time_constants=tau,
        periods=period,
        input=np.asarray(xv),
        candidates_q=qs,
        unravel=unravel,
    )
