"""`simulate` and `solve` resolve the model's parameters once per call: the entry resolves
them (and checks the step with them) and hands them to the compiled path, which does not
resolve again."""

import diffrax
import jax
import jax.numpy as jnp
import pytest

import adaptive_rnn as ar


def _counting_ctrnn(key, **kwargs):
    calls = []

    class CountingCTRNN(ar.CTRNN):
        def resolve(self):
            calls.append(1)
            return super().resolve()

    return CountingCTRNN(2, 4, 2, key=key, **kwargs), calls


RUNS = {
    "simulate": lambda m, k: ar.simulate(m, jnp.ones((5, 2))),
    "simulate batch": lambda m, k: ar.simulate(m, jnp.ones((3, 5, 2)), return_states=True),
    "simulate batch on devices": lambda m, k: ar.simulate(m, jnp.ones((3, 5, 2)), devices=1),
    "simulate with noise": lambda m, k: ar.simulate(m, jnp.ones((5, 2)), key=k),
    "solve": lambda m, k: ar.solve(m, jnp.ones((5, 2))),
    "solve batch": lambda m, k: ar.solve(m, jnp.ones((3, 5, 2)), return_states=True),
    "solve adaptive": lambda m, k: ar.solve(
        m,
        jnp.ones((5, 2)),
        solver=diffrax.Tsit5(),
        stepsize_controller=diffrax.PIDController(rtol=1e-4, atol=1e-6),
    ),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_one_resolve_per_call(getkey, name):
    """A fresh model class, so the first call traces the compiled path: the old code
    resolved once for the step check and again inside the trace (2 calls)."""
    noise = dict(sigma_pre=0.1, sigma_post=0.05) if "noise" in name else None
    model, calls = _counting_ctrnn(getkey(), noise=noise)
    out = RUNS[name](model, getkey())
    jax.block_until_ready(out.outputs)
    assert len(calls) == 1, f"{name}: model.resolve() ran {len(calls)} times in one call"
