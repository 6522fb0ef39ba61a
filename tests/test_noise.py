"""Noise: the Ornstein-Uhlenbeck closed form at three dt on both paths, Song's and
NN4N's per-step scalings, keys, post-activation noise."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import adaptive_rnn as ar
from adaptive_rnn._errors import InputError

SIGMA, TAU = 0.5, 1.0


def _ou_model(key, dt, n=8, **noise):
    # Isolated linear units: tau dv = -v dt + sigma sqrt(2 tau) dB.
    return ar.CTRNN(
        1,
        n,
        1,
        activation="linear",
        tau=TAU,
        dt=dt,
        weights="zero",
        noise={"sigma_pre": SIGMA, **noise},
        key=key,
    )


# Stationary variance of an isolated linear unit stepped with gamma = dt / tau.
# Euler-Maruyama, v_{k+1} = (1 - gamma) v_k + sqrt(2 gamma) sigma xi_k, has the stationary
# variance sigma^2 / (1 - gamma / 2); the continuous OU process has sigma^2. The sample
# variance of N independent Gaussian samples has SE var sqrt(2 / N), so the two laws are
# (gamma / 2) sqrt(N / 2) SE apart: with N = B * n = 250 * 64 = 16000 that is 8.9 SE at
# gamma = 0.2, 18 SE at 0.4 and 36 SE at 0.8. Each path must land within 4 SE of the
# Euler-Maruyama value and more than 4 SE from the continuous one.
B_OU, N_OU = 250, 64


def _check_variance(v, gamma):
    N = v.size
    assert N == B_OU * N_OU
    var = float(np.var(v))
    em = SIGMA**2 / (1 - gamma / 2)
    se = em * np.sqrt(2 / N)
    assert abs(em - SIGMA**2) >= 8 * se  # the test can tell the two laws apart
    assert abs(var - em) < 4 * se, (var, em, se)
    assert abs(var - SIGMA**2) > 4 * se, (var, SIGMA**2, se)
    return var


@pytest.mark.parametrize("dt", [0.2, 0.4, 0.8])
def test_ou_stationary_variance_discrete(getkey, dt):
    gamma = dt / TAU
    T = int(np.ceil(6 / gamma))  # (1 - gamma)^(2T) < e^-12: the zero start is forgotten
    m = _ou_model(getkey(), dt, n=N_OU)
    tr = ar.simulate(m, jnp.zeros((B_OU, T, 1)), return_states=True, key=getkey())
    _check_variance(np.asarray(tr.states["v"][:, -1]).ravel(), gamma)


@pytest.mark.parametrize("dt", [0.2, 0.4, 0.8])
def test_ou_stationary_variance_sde(getkey, dt):
    gamma = dt / TAU
    T = int(np.ceil(6 / gamma))
    m = _ou_model(getkey(), dt, n=N_OU)
    tr = ar.solve(
        m,
        jnp.zeros((B_OU, T, 1)),
        solver=diffrax.Euler(),
        saveat=jnp.array([T * dt]),
        return_states=True,
        key=getkey(),
    )
    _check_variance(np.asarray(tr.states["v"][:, -1]).ravel(), gamma)


def test_per_step_scalings_song_and_nn4n(getkey):
    # One step from v = 0: the increment is sqrt(2 gamma) sigma xi (Song et al.) or
    # gamma sigma xi (NN4N), with gamma = dt/tau = 0.2.
    B, n, dt = 4000, 4, 0.2
    x = jnp.zeros((B, 1, 1))
    for conv, expect in (("continuous", np.sqrt(2 * dt) * SIGMA), ("nn4n", dt * SIGMA)):
        m = _ou_model(getkey(), dt, n=n, convention=conv)
        v = np.asarray(ar.simulate(m, x, return_states=True, key=getkey()).states["v"]).ravel()
        assert np.std(v) == pytest.approx(expect, rel=4 / np.sqrt(2 * v.size))


def test_keys(getkey):
    m = _ou_model(getkey(), 0.1)
    x = jnp.zeros((5, 1))
    with pytest.raises(InputError, match="key: got None for a CTRNN with noise"):
        ar.simulate(m, x)
    with pytest.raises(InputError, match="key: got None"):
        ar.solve(m, x)
    k = getkey()
    assert np.array_equal(ar.simulate(m, x, key=k).outputs, ar.simulate(m, x, key=k).outputs)
    aru = ar.ARU(1, 3, 1, key=getkey())  # no noise: the key is ignored
    # simulate drops the key of a noiseless model: the same call, so bit for bit.
    assert np.array_equal(ar.simulate(aru, x, key=k).outputs, ar.simulate(aru, x).outputs)
    nn = _ou_model(getkey(), 0.1, convention="nn4n")
    with pytest.raises(InputError, match="noise convention: got 'nn4n'"):
        ar.solve(nn, x, key=k)


def test_post_activation_noise_feedback_choice(getkey):
    k_model, k = getkey(), getkey()
    x = jax.random.normal(getkey(), (20, 2))
    base = dict(activation="tanh", weights="normal", key=k_model)
    clean = ar.simulate(ar.CTRNN(2, 4, 3, **base), x, return_states=True)
    post = ar.CTRNN(2, 4, 3, noise={"sigma_post": 0.3}, **base)
    noisy = ar.simulate(post, x, return_states=True, key=k)
    # Default: the dynamics are untouched; the readout sees W_out (f(v) + sigma xi). The
    # noisy model compiles another program (a zero drive noise is added), so: to rounding.
    np.testing.assert_allclose(noisy.states["v"], clean.states["v"], rtol=1e-13, atol=1e-14)
    diff = np.asarray(noisy.outputs - clean.outputs)
    Wout = np.asarray(post.W_out.effective())
    xi = np.linalg.lstsq(Wout, diff.T, rcond=None)[0].T / 0.3  # W_out is 3x4: recover xi
    assert np.allclose(Wout @ xi.T * 0.3, diff.T, atol=1e-12)
    fb = ar.CTRNN(2, 4, 3, noise={"sigma_post": 0.3, "feedback": True}, **base)
    assert not np.allclose(
        ar.simulate(fb, x, return_states=True, key=k).states["v"], clean.states["v"]
    )


def test_bad_noise():
    with pytest.raises(InputError, match=r"sigma_pre: got -0.1, expected a finite number >= 0"):
        ar.Noise(sigma_pre=-0.1)
    with pytest.raises(InputError, match="noise convention"):
        ar.Noise(convention="euler")
