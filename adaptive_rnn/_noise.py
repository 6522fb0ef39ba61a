r"""Noise semantics: what `sigma` means, on both integration paths, at any `dt`.

A model with noise is an `AbstractNoisyRNN` (`adaptive_rnn.models`): it carries a
`Noise` (static metadata), returns it from `active_noise()` when a sigma is positive
(every model's `active_noise()` is `None` otherwise), and implements three small hooks:
`noise_gain(resolved)` (the amplitude $g$ of unit white noise in its input drive,
$g = \sqrt{2\tau}$ for the CTRNN, $\sqrt{2 G_b}$ for the shunting model),
`rate_to_drive(resolved, r)` (the recurrent current $W r$ a rate perturbation causes) and
`output_noise(resolved, xi)` (the readout of a rate perturbation, $W_{out}\xi$). The
functions below are called only for a model whose `active_noise()` is not `None`.

**Convention `"continuous"` (default; Song, Yang & Wang 2016).** The noise is a property
of the continuous-time model, an SDE driven by Brownian motion $B$:

$$\tau\,dv = (-v + W f(v) + W_{in} u + b)\,dt + \sigma_{pre}\sqrt{2\tau}\,dB_{pre}
  \;[+\; W \sigma_{post}\sqrt{2\tau}\,dB_{post}\ \text{if feedback}].$$

$\sigma_{pre}$ is the stationary standard deviation of an isolated linear unit (an
Ornstein-Uhlenbeck process, variance $\sigma_{pre}^2$), whatever `dt`. On the discrete
path the step is Euler-Maruyama, i.e. the `SequentialEuler` step of the field with the
drive $d_k + g\,\xi_k/\sqrt{dt}$, $\xi_k \sim N(0, 1)$: the increment of $v$ is
$\sqrt{2\alpha}\,\sigma_{pre}\,\xi_k$ with the rate constant $\alpha = dt/\tau$ (Song et
al.'s $\gamma$); its stationary variance is $\sigma_{pre}^2 / (1 - \alpha/2)$, which tends to $\sigma_{pre}^2$
as $dt \to 0$. `solve` integrates the same SDE with diffrax (a `VirtualBrownianTree`
from an explicit key). Post-activation noise is observation noise on the rates: the
readout sees $f(v_k) + \sigma_{post}\zeta_k$ at each output time (std $\sigma_{post}$ per
sample, independent of dt). With `feedback=True` a white rate noise of the same
intensity also enters the recurrence (the bracketed term); default: it does not.

**Convention `"nn4n"` (NN4N 1.x, discrete path only).** Per step, not dt-consistent:
$v_{k+1} = v_k + \alpha(\dots + \sigma_{pre}\xi_k)$ (pre-activation noise scaled by
$\alpha$) and $r_{k+1} = f(v_{k+1}) + \sigma_{post}\zeta_{k+1}$, read out and (with
`feedback=True`, as NN4N) fed back into the next step. Its effect changes with `dt`:
use it only to reproduce NN4N.
"""

import math
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from ._errors import InputError
from .models import (
    AbstractRNN,
    Noise as Noise,  # the settings live with the models
    make_noise as make_noise,
)


def require_key(model: AbstractRNN, key: PRNGKeyArray | None) -> Noise | None:
    """Raises if a noisy model is run without a key; returns the noise (or None).

    **Arguments:**

    - `model`: any adaptive_rnn model (its `active_noise()` is read).
    - `key`: a `jax.random` key or `None`.

    **Returns:** `model.active_noise()`.

    **Raises:** `InputError` if the model has active noise and `key` is `None`.
    """
    noise = model.active_noise()
    if noise is not None and key is None:
        raise InputError(
            f"key: got None for a {type(model).__name__} with noise (sigma_pre = "
            f"{noise.sigma_pre}, sigma_post = {noise.sigma_post}); expected a jax.random "
            f"key, e.g. simulate(model, x, key=jax.random.key(0))"
        )
    return noise


def discrete_noise(
    model: Any, resolved: PyTree, key: PRNGKeyArray, T: int, dtype: Any
) -> tuple[Float[Array, "T n"], Float[Array, "T n_out"]]:
    """Noise samples for `T` steps of the discrete path.

    **Arguments:**

    - `model`, `resolved`: a model with active noise (an `AbstractNoisyRNN`; typed
        `Any` as its callers hold an `AbstractRNN`) and `model.resolve()`.
    - `key`: the key of this sequence's noise; `T`: the number of steps; `dtype`: of
        the samples.

    **Returns:** `(drive_noise, readout_noise)`, shapes `(T, n)` and `(T, n_out)`: the
    first is added to the input drive of each step (so the step stays the
    `SequentialEuler` step of the field), the second to the outputs.
    """
    noise = model.active_noise()
    dt = model.dt
    k_pre, k_post, k_obs = jax.random.split(key, 3)
    shape = model.drive(resolved, jnp.zeros((T, model.n_in), dtype)).shape
    n = shape[-1]
    xi = jax.random.normal(k_pre, (T, n), dtype)
    zeta = jax.random.normal(k_post, (T, n), dtype)
    if noise.convention == "nn4n":
        d = noise.sigma_pre * xi
        if noise.feedback and noise.sigma_post > 0:
            prev = jnp.concatenate([jnp.zeros((1, n), dtype), zeta[:-1]], axis=0)
            d = d + jax.vmap(lambda z: model.rate_to_drive(resolved, noise.sigma_post * z))(prev)
        obs = jax.vmap(lambda z: model.output_noise(resolved, noise.sigma_post * z))(zeta)
        return d, obs
    g = model.noise_gain(resolved)
    d = noise.sigma_pre * g * xi / math.sqrt(dt)
    if noise.feedback and noise.sigma_post > 0:
        d = d + jax.vmap(
            lambda z: model.rate_to_drive(resolved, noise.sigma_post * g * z / math.sqrt(dt))
        )(zeta)
    obs_xi = jax.random.normal(k_obs, (T, n), dtype)
    obs = jax.vmap(lambda z: model.output_noise(resolved, noise.sigma_post * z))(obs_xi)
    return d, obs


class DriveNoiseTerm(diffrax.AbstractTerm):
    r"""The diffusion term $G(y)\,dB$ of a model whose noise enters through its drive.

    The control is a Brownian increment of shape `(n,)` (pre-activation noise) or
    `(2n,)` (pre and fed-back post-activation noise). Because every field is affine in
    its drive, $G(y)\,dB = F(t, y, d_{noise}) - F(t, y, 0)$ exactly, with
    $d_{noise} = \sigma_{pre} g\,dB_{pre} + W \sigma_{post} g\,dB_{post}$.
    `args` is that of the ODE term, `(model, resolved, interpolation)`.
    """

    brownian: diffrax.VirtualBrownianTree  # the only path `diffusion_term` builds; it has `.shape`
    n: int = eqx.field(static=True)

    def _drive(self, model, resolved, dw):
        noise = model.active_noise()
        g = model.noise_gain(resolved)
        d = noise.sigma_pre * g * dw[: self.n]
        if noise.feedback and noise.sigma_post > 0:
            d = d + model.rate_to_drive(resolved, noise.sigma_post * g * dw[self.n :])
        return d

    def vf_prod(self, t, y, args, control):
        model, resolved, _ = args
        d = self._drive(model, resolved, control)
        f1 = model.field(t, y, (resolved, d))
        f0 = model.field(t, y, (resolved, jnp.zeros_like(d)))
        return jax.tree_util.tree_map(lambda a, b: a - b, f1, f0)

    def vf(self, t, y, args):
        m = self.brownian.shape.shape[0]
        dtype = self.brownian.shape.dtype
        return jax.jacfwd(lambda c: self.vf_prod(t, y, args, c))(jnp.zeros((m,), dtype))

    def contr(self, t0, t1, **kwargs):
        return self.brownian.evaluate(t0, t1, **kwargs)

    def prod(self, vf, control):
        return jax.tree_util.tree_map(lambda G: G @ control, vf)


def noise_term(
    model: Any,
    t0: float,
    t1: float,
    h: float,
    key: PRNGKeyArray,
    dtype: Any,
) -> DriveNoiseTerm:
    """The diffusion term of `model` over `[t0, t1]` (Brownian tree to tolerance h/16).

    **Arguments:**

    - `model`: a model with active noise of the `"continuous"` convention.
    - `t0`, `t1`, `h`: the interval and the solver's step; `key`, `dtype`: of the tree.

    **Returns:** the `DriveNoiseTerm`.

    **Raises:** `InputError` for another noise convention.
    """
    noise = model.active_noise()
    if noise.convention != "continuous":
        raise InputError(
            f"noise convention: got {noise.convention!r}, which is defined per step of the "
            f"discrete model; expected 'continuous' for `solve` (use `simulate` for 'nn4n')"
        )
    # Only the size of the drive: traced, not computed (the caller has resolved the model).
    n = jax.eval_shape(lambda m: m.drive(m.resolve(), jnp.zeros((1, m.n_in), dtype)), model).shape[
        -1
    ]
    m = 2 * n if (noise.feedback and noise.sigma_post > 0) else n
    bm = diffrax.VirtualBrownianTree(
        t0, t1, tol=h / 16, shape=jax.ShapeDtypeStruct((m,), dtype), key=key
    )
    return DriveNoiseTerm(bm, n)


def observation_noise(
    model: Any, resolved: PyTree, key: PRNGKeyArray, n_out_times: int, dtype: Any
) -> Float[Array, "T_out n_out"]:
    """Readout noise from post-activation noise on the rates.

    **Arguments:**

    - `model`, `resolved`: a model with active noise and `model.resolve()`.
    - `key`: the key; `n_out_times`: the number of output times; `dtype`: of the noise.

    **Returns:** the noise to add to the outputs, shape `(T_out, n_out)`.
    """
    noise = model.active_noise()
    n = model.drive(resolved, jnp.zeros((1, model.n_in), dtype)).shape[-1]
    zeta = jax.random.normal(key, (n_out_times, n), dtype)
    return jax.vmap(lambda z: model.output_noise(resolved, noise.sigma_post * z))(zeta)
