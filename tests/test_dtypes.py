"""The numerical core runs under strict dtype promotion, in float32 and float64."""

import diffrax
import jax
import jax.numpy as jnp
import pytest

import adaptive_rnn as ar


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_strict_promotion(getkey, dtype):
    with jax.numpy_dtype_promotion("strict"):
        for param in ("sigmoid", "softplus"):
            model = ar.ARU(2, 4, 1, parametrisation=param, time_constants="local",
                           tau_s=3.0, tau_r=2.0, dtype=dtype, key=getkey())
            xs = jax.random.uniform(getkey(), (3, 10, 2), dtype=dtype)
            for traj in (
                ar.simulate(model, xs, return_states=True),
                ar.solve(model, xs, return_states=True),
                ar.solve(model, xs, solver=diffrax.Tsit5(), interpolation="cubic",
                         stepsize_controller=diffrax.PIDController(rtol=1e-4, atol=1e-5)),
            ):
                assert traj.outputs.dtype == dtype
            g = jax.grad(lambda m: jnp.sum(ar.simulate(m, xs).outputs))(model)
            assert g.V.dtype == dtype


def test_integer_inputs_are_cast(getkey):
    model = ar.ARU(2, 3, 1, key=getkey())
    out = ar.simulate(model, jnp.ones((5, 2), dtype=jnp.int32)).outputs
    assert out.dtype == model.V.dtype
