"""The numerical core runs under strict dtype promotion, in float32 and float64."""

import diffrax
import jax
import jax.numpy as jnp
import pytest

import adaptive_rnn as ar


@pytest.mark.parametrize("dtype,param", [(jnp.float32, "sigmoid"), (jnp.float64, "softplus")])
def test_strict_promotion(getkey, dtype, param):
    with jax.numpy_dtype_promotion("strict"):
        model = ar.ARU(
            2,
            4,
            1,
            parametrisation=param,
            time_constants="local",
            tau_s=3.0,
            tau_r=2.0,
            dtype=dtype,
            key=getkey(),
        )
        xs = jax.random.uniform(getkey(), (3, 10, 2), dtype=dtype)
        runs = [ar.simulate(model, xs, return_states=True), ar.solve(model, xs, return_states=True)]
        if dtype == jnp.float32:
            runs.append(
                ar.solve(
                    model,
                    xs[0],
                    solver=diffrax.Tsit5(),
                    interpolation="cubic",
                    stepsize_controller=diffrax.PIDController(rtol=1e-4, atol=1e-5),
                )
            )
        for traj in runs:
            assert traj.outputs.dtype == dtype
        g = jax.grad(lambda m: jnp.sum(ar.simulate(m, xs).outputs))(model)
        assert g.V.dtype == dtype


def test_integer_inputs_are_cast(getkey):
    model = ar.ARU(2, 3, 1, key=getkey())
    out = ar.simulate(model, jnp.ones((5, 2), dtype=jnp.int32)).outputs
    assert out.dtype == model.V.dtype
