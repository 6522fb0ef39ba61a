"""Fixed points, linearisation and their plots, against independent computations."""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adaptive_rnn import ARU, AbstractRNN, InputError
from adaptive_rnn.analysis._dynamics_plots import plot_eigenvalue_spectrum, plot_fixed_points
from adaptive_rnn.analysis._fixed_points import (
    effective_time_constants,
    find_fixed_points,
    flatten_states,
    linearise,
)

FAST = dict(adam_steps=20, newton_steps=30, n_steps=30)


def _linear_aru(key, n=5, n_in=2):
    tau_s = np.linspace(1.5, 3.0, n)
    tau_r = np.linspace(2.0, 5.0, n)
    model = ARU(
        n_in,
        n,
        1,
        activation="linear",
        time_constants="local",
        tau_s=tau_s,
        tau_r=tau_r,
        dtype=jnp.float64,
        key=key,
    )
    # Contract W so that I - W is safely invertible and the fixed point is stable.
    return eqx.tree_at(lambda m: m.layers[0].W, model, 0.5 * model.layers[0].W), tau_s, tau_r


def test_linear_aru_fixed_point_is_the_linear_solution(getkey):
    model, tau_s, tau_r = _linear_aru(getkey())
    x = np.array([0.3, -0.7])
    fp = find_fixed_points(model, x, key=getkey(), n_init=8, **FAST)
    W = np.asarray(model.layers[0].W)
    U = np.asarray(model.layers[0].U)
    # I* = W r* + U x, r* = I*  =>  (1 - W) r* = U x.
    r_star = np.linalg.solve(np.eye(5) - W, U @ x)
    assert len(fp) == 1
    assert fp.is_fixed[0]
    np.testing.assert_allclose(fp.points[0], np.concatenate([r_star, r_star]), rtol=0, atol=1e-12)
    I, r = fp.states
    np.testing.assert_allclose(I[0], r_star, atol=1e-12)
    np.testing.assert_allclose(r[0], r_star, atol=1e-12)
    assert fp.q[0] < 1e-24


def test_linear_aru_time_constants_are_those_of_the_block_matrix(getkey):
    model, tau_s, tau_r = _linear_aru(getkey())
    x = np.array([1.0, 0.5])
    fp = find_fixed_points(model, x, key=getkey(), n_init=4, **FAST)
    W = np.asarray(model.layers[0].W)
    n = W.shape[0]
    # dI/dt = (-I + W r + U x) / tau_s, dr/dt = (-r + I) / tau_r.
    A = np.block(
        [
            [-np.diag(1 / tau_s), np.diag(1 / tau_s) @ W],
            [np.diag(1 / tau_r), -np.diag(1 / tau_r)],
        ]
    )
    lam = np.linalg.eigvals(A)
    expected = np.sort(-1 / lam.real)
    np.testing.assert_allclose(np.sort(fp.time_constants[0]), expected, rtol=1e-10)
    np.testing.assert_allclose(fp.jacobians[0], A, atol=1e-13)
    assert fp.stable[0] == bool(np.all(lam.real < 0))
    # Periods of the complex modes.
    expected_periods = np.sort(
        np.where(lam.imag == 0, np.inf, 2 * np.pi / np.abs(np.where(lam.imag == 0, 1, lam.imag)))
    )
    np.testing.assert_allclose(np.sort(fp.periods[0]), expected_periods, rtol=1e-10)
    # The same from `linearise` at the state tuple.
    lin = linearise(model, fp.states and tuple(s[0] for s in fp.states), x)
    np.testing.assert_allclose(np.sort(lin.time_constants), expected, rtol=1e-10)
    assert lin.jacobian.shape == (2 * n, 2 * n)


def test_bistable_unit_three_fixed_points(getkey):
    # One tanh unit with self-excitation w = 2: I* = 2 tanh(I*) has three solutions.
    model = ARU(
        1,
        1,
        1,
        activation="tanh",
        time_constants="static",
        tau_s=2.0,
        tau_r=3.0,
        dtype=jnp.float64,
        key=getkey(),
    )
    model = eqx.tree_at(lambda m: m.layers[0].W, model, jnp.array([[2.0]]))
    starts = np.array([[x, np.tanh(x)] for x in np.linspace(-3, 3, 13)])
    fp = find_fixed_points(
        model, key=getkey(), initial_states=starts, adam_steps=0, newton_steps=40
    )
    # Independent root of I = 2 tanh(I) on (1, 3) by bisection.
    lo, hi = 1.0, 3.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mid - 2 * np.tanh(mid) < 0 else (lo, mid)
    root = 0.5 * (lo + hi)
    I_found = np.sort(fp.points[:, 0])
    np.testing.assert_allclose(I_found, [-root, 0.0, root], atol=1e-10)
    by_I = {round(float(p[0]), 6): bool(s) for p, s in zip(fp.points, fp.stable)}
    assert by_I[0.0] is False and by_I[round(root, 6)] is True and by_I[round(-root, 6)] is True
    # At I = 0: J = [[-1/2, 2/2], [1/3, -1/3]], eigenvalues of the textbook 2x2 formula.
    i0 = int(np.argmin(np.abs(fp.points[:, 0])))
    J = np.array([[-0.5, 1.0], [1 / 3, -1 / 3]])
    tr, det = np.trace(J), np.linalg.det(J)
    lam = np.array([(tr + np.sqrt(tr**2 - 4 * det)) / 2, (tr - np.sqrt(tr**2 - 4 * det)) / 2])
    np.testing.assert_allclose(np.sort(fp.eigenvalues[i0].real), np.sort(lam), rtol=1e-10)
    assert fp.n_unstable[i0] == 1


def test_sigmoid_aru_points_are_zeros_of_the_field(getkey):
    model = ARU(2, 6, 1, dtype=jnp.float64, key=getkey())
    x = np.array([0.5, 0.2])
    fp = find_fixed_points(model, x, key=getkey(), n_init=16, **FAST)
    assert len(fp) >= 1
    W, U = np.asarray(model.layers[0].W), np.asarray(model.layers[0].U)
    tau_s, tau_r = float(model.tau_s[0]), float(model.tau_r[0])
    for p in fp.points[fp.is_fixed]:
        I, r = p[:6], p[6:]
        dI = (-I + W @ r + U @ x) / tau_s
        dr = (-r + 1 / (1 + np.exp(-I))) / tau_r
        assert np.max(np.abs(np.concatenate([dI, dr]))) < 1e-12


class _LinearToy(AbstractRNN):
    """A one-variable-state model dv/dt = A v + B x (not an ARU), to check genericity."""

    A: jax.Array
    B: jax.Array
    dt: float = 1.0
    readout: str = "current"
    state_names: ClassVar[tuple[str, ...]] = ("v",)

    @property
    def n_in(self):
        return self.B.shape[1]

    @property
    def n_out(self):
        return 1

    def resolve(self):
        return (self.A, self.B)

    def field(self, t, y, args):
        (A, _), drive = args
        (v,) = y
        return (A @ v + drive,)

    def initial_state(self, resolved):
        return (jnp.zeros(resolved[0].shape[0], dtype=resolved[0].dtype),)

    def drive(self, resolved, x):
        return x @ resolved[1].T

    def output(self, resolved, y):
        return y[0][:1]

    def min_time_constant(self, resolved):
        return jnp.asarray(1.0)

    # The rest of the contract, minimal: this toy is never saved or registered.
    @property
    def n_hidden(self):
        return self.A.shape[0]

    def time_constants(self):
        return {}

    def config(self):
        return {}

    @classmethod
    def from_config(cls, config, *, key):
        raise NotImplementedError

    @classmethod
    def example(cls, *, key, dtype=None):
        raise NotImplementedError


def test_generic_model_with_one_state_variable(getkey):
    rng = np.random.default_rng(0)
    A = -2 * np.eye(4) + 0.3 * rng.normal(size=(4, 4))
    B = rng.normal(size=(4, 3))
    model = _LinearToy(jnp.asarray(A), jnp.asarray(B))
    x = np.array([1.0, -1.0, 0.5])
    fp = find_fixed_points(model, x, key=getkey(), n_init=4, **FAST)
    np.testing.assert_allclose(fp.points[0], np.linalg.solve(A, -B @ x), atol=1e-12)
    np.testing.assert_allclose(
        np.sort_complex(fp.eigenvalues[0]), np.sort_complex(np.linalg.eigvals(A)), atol=1e-12
    )


def test_effective_time_constants_edge_cases():
    tau, period = effective_time_constants(np.array([-2.0 + 0j, 0.5 + 0j, -1 + 2j, 0j]))
    np.testing.assert_allclose(tau[:3], [0.5, -2.0, 1.0])
    assert np.isinf(tau[3])
    assert np.isinf(period[0]) and period[2] == pytest.approx(np.pi)


def test_plots(getkey):
    from adaptive_rnn import simulate

    model = ARU(2, 4, 1, dtype=jnp.float64, key=getkey())
    xs = jnp.ones((3, 10, 2), dtype=jnp.float64)
    fp = find_fixed_points(model, np.ones(2), key=getkey(), inputs=xs, n_init=8, **FAST)
    traj = simulate(model, xs, return_states=True)
    assert flatten_states(traj.states).shape == (3, 10, 8)
    fig = plot_fixed_points(fp, traj.states, title="pc")
    assert fig.axes[0].get_xlabel().startswith("PC 1")
    fig = plot_eigenvalue_spectrum(fp)
    lines = [l for l in fig.axes[0].get_lines() if l.get_label().startswith("stability boundary")]
    assert lines and np.allclose(lines[0].get_xdata(), 0.0)


def test_bad_input_is_refused(getkey):
    with pytest.raises(InputError, match="expected an adaptive_rnn model"):
        find_fixed_points(eqx.nn.Linear(2, 2, key=getkey()), key=getkey())
    with pytest.raises(InputError, match="expected an adaptive_rnn model"):
        linearise("aru", np.zeros(2))
    model = ARU(2, 3, 1, dtype=jnp.float64, key=getkey())
    with pytest.raises(InputError, match=r"x: got shape \(3,\), expected"):
        find_fixed_points(model, np.zeros(3), key=getkey())
    with pytest.raises(InputError, match="n_init"):
        find_fixed_points(model, key=getkey(), n_init=0)
    with pytest.raises(InputError, match="initial_states"):
        find_fixed_points(model, key=getkey(), initial_states=np.zeros((4, 5)))
    with pytest.raises(InputError, match="state: got shape"):
        linearise(model, np.zeros(5))
