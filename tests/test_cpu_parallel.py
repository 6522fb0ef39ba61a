"""Using every core: the fused input matmul, `configure_cpu`, data-parallel `simulate`
and member-parallel `fit_ensemble` over several CPU devices.

Several devices cannot be added to a JAX process that has already computed, so the
multi-device checks run in a fresh Python process (`configure_cpu(2)` right after
`import jax`) and report back in JSON.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import tree_allclose

import adaptive_rnn as ar
from adaptive_rnn._fields import InputDrive, recurrent_input


def test_recurrent_input_fuses_exactly(getkey):
    """[W U][r; x] + o equals W r + U x + o, for one vector and under vmap (float64)."""
    W = jax.random.normal(getkey(), (7, 7))
    U = jax.random.normal(getkey(), (7, 3))
    r = jax.random.normal(getkey(), (5, 7))
    x = jax.random.normal(getkey(), (5, 3))
    o = jax.random.normal(getkey(), (5, 7))
    fused = jax.vmap(lambda r, x, o: recurrent_input(W, r, InputDrive(U, x, o)))(r, x, o)
    plain = r @ W.T + x @ U.T + o
    np.testing.assert_allclose(fused, plain, rtol=1e-13, atol=1e-13)
    assert jnp.allclose(
        recurrent_input(W, r[0], InputDrive(U, x[0])), W @ r[0] + U @ x[0], rtol=1e-13, atol=1e-13
    )
    # An array drive takes the unfused path: the same two eager ops, so bit for bit.
    assert jnp.array_equal(recurrent_input(W, r[0], U @ x[0]), W @ r[0] + U @ x[0])


@pytest.mark.parametrize("family", ["ctrnn", "aru", "stacked", "shunting"])
def test_fields_see_the_same_drive_fused_or_not(getkey, family):
    """Each model's field gives the same derivative with the drive as an `InputDrive` and
    as the array `model.drive(resolved, x)` (1e-13, float64)."""
    if family == "ctrnn":
        m = ar.CTRNN(3, 6, 2, activation="tanh", biases=("normal", None), key=getkey())
    elif family == "aru":
        m = ar.ARU(3, 6, 2, key=getkey())
    elif family == "stacked":
        m = ar.ARU(3, (5, 4), 2, key=getkey())
    else:
        m = ar.Shunting(3, 6, 2, key=getkey())
    res = m.resolve()
    y = tuple(jax.random.normal(getkey(), v.shape) for v in m.initial_state(res))
    x = jax.random.normal(getkey(), (3,))
    U = m.drive_weights(res)
    assert U is not None and U.shape == (m.drive(res, x).shape[-1], 3)
    fused = m.field(0.0, y, (res, InputDrive(U, x)))
    plain = m.field(0.0, y, (res, m.drive(res, x)))
    assert tree_allclose(fused, plain, rtol=1e-13, atol=1e-13)


def test_configure_cpu_checks_its_arguments():
    for bad in (0, -2, True):
        with pytest.raises(ar.InputError, match="devices: got"):
            ar.configure_cpu(bad, retain_memory=False)
    # This process has computed on one CPU device: that count stays, others are refused.
    jnp.zeros(1).block_until_ready()
    assert ar.configure_cpu(1, retain_memory=False) == {"devices": 1, "retain_memory": False}
    with pytest.raises(RuntimeError, match="already started with 1 CPU device"):
        ar.configure_cpu(2, retain_memory=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_retain_freed_memory_takes_effect_on_glibc():
    assert ar.retain_freed_memory() is True


def test_simulate_devices_on_one_device_and_bad_counts(getkey):
    m = ar.ARU(2, 4, 2, key=getkey())
    x = jax.random.normal(getkey(), (4, 6, 2))
    # devices=... compiles a shard_map program, another program than the plain vmap: equal
    # to rounding (float64, 1e-13), not necessarily bit for bit.
    plain = ar.simulate(m, x).outputs
    np.testing.assert_allclose(ar.simulate(m, x, devices=1).outputs, plain, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(
        ar.simulate(m, x, devices=jax.devices()).outputs, plain, rtol=1e-13, atol=1e-14
    )
    with pytest.raises(ar.InputError, match=r"devices: got 5, expected 1\.\.1"):
        ar.simulate(m, x, devices=5)
    with pytest.raises(ar.InputError, match="devices: got"):
        ar.simulate(m, x, devices=[])


PARALLEL_SCRIPT = textwrap.dedent(
    """
    import json, jax
    from adaptive_rnn.cli import _configure
    _configure(2)                      # what `adaptive-rnn --cpu-devices 2` does first
    jax.config.update("jax_enable_x64", True)
    import equinox as eqx, jax.numpy as jnp, numpy as np
    import adaptive_rnn as ar

    out = {"devices": len(jax.devices())}
    k = jax.random.split(jax.random.key(0), 8)
    x = jax.random.normal(k[0], (6, 9, 3))
    y = jax.random.normal(k[1], (6, 9, 2))
    models = {
        "ctrnn_noise": ar.CTRNN(3, 7, 2, activation="tanh", time_constants="local",
                                noise=dict(sigma_pre=0.2, sigma_post=0.1), key=k[2]),
        "aru_stacked_lagged": ar.ARU(3, (5, 4), 2, time_constants="global", readout="lagged", key=k[3]),
        "shunting": ar.Shunting(3, 6, 2, key=k[4]),
    }

    def loss(m, x, devices):
        tr = ar.simulate(m, x, key=k[5], devices=devices, return_states=True)
        return jnp.sum((tr.outputs - y) ** 2) + sum(jnp.sum(jnp.sin(v)) for v in tr.states.values())

    def err(a, b):
        la = jax.tree_util.tree_leaves(eqx.filter(a, eqx.is_array))
        lb = jax.tree_util.tree_leaves(eqx.filter(b, eqx.is_array))
        return max(float(jnp.max(jnp.abs(u - v)) / (1 + jnp.max(jnp.abs(v)))) for u, v in zip(la, lb))

    for name, m in models.items():
        # one program each: faster to compile than eager op-by-op differentiation
        v1, g1 = eqx.filter_jit(eqx.filter_value_and_grad(loss))(m, x, None)
        v2, g2 = eqx.filter_jit(eqx.filter_value_and_grad(loss))(m, x, 2)
        gx1 = eqx.filter_jit(jax.grad(loss, argnums=1))(m, x, None)
        gx2 = eqx.filter_jit(jax.grad(loss, argnums=1))(m, x, 2)
        tr = ar.simulate(m, x, key=k[5], devices=2)
        out[name] = {"value": abs(float(v1 - v2)), "grad": err(g1, g2), "grad_x": err(gx1, gx2),
                     "spec": str(tr.outputs.sharding.spec)}
    try:
        ar.simulate(models["shunting"], x[:5], devices=2)
    except ar.InputError as e:
        out["uneven"] = str(e)

    data = ar.teacher_data(jax.random.key(3), n_sequences=20, n_train=16)
    ms = [ar.ARU(2, 5, 2, alpha_s=0.7, alpha_r=0.6, readout="lagged", key=kk)
          for kk in jax.random.split(jax.random.key(4), 4)]
    r1 = ar.fit_ensemble(ms, data, key=jax.random.key(5), epochs=2, devices=1)
    r2 = ar.fit_ensemble(ms, data, key=jax.random.key(5), epochs=2)
    # what fit_ensemble does with 4 members on 2 devices: each member's state on one device
    from adaptive_rnn.train._ensemble import _place
    four, three = jnp.zeros((4, 3)), jnp.zeros((3, 2))
    (split, odd), _, _ = _place((four, three), (four, three), (None, None), False, jax.devices())
    out["placed"] = [str(split.sharding.spec), len(split.sharding.device_set), len(odd.sharding.device_set)]
    out["ensemble"] = {"val": float(np.max(np.abs(r1.best_val_loss - r2.best_val_loss))),
                       "models": max(err(a, b) for a, b in zip(r1.models, r2.models))}
    print(json.dumps(out))
    """
)


def test_two_cpu_devices_give_the_same_numbers():
    """On 2 CPU devices: `simulate(devices=2)` (batch split, model cotangent summed once)
    gives the values and gradients of one device, for a noisy CTRNN, a stacked lagged ARU
    and a shunting RNN (1e-12, float64); a batch of 5 is refused; `fit_ensemble` spreads
    its members over both devices with the same results (1e-12)."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run(
        [sys.executable, "-c", PARALLEL_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["devices"] == 2
    for name in ("ctrnn_noise", "aru_stacked_lagged", "shunting"):
        r = out[name]
        assert r["value"] < 1e-12 and r["grad"] < 1e-12 and r["grad_x"] < 1e-12, (name, r)
        assert "'batch'" in r["spec"], (name, r)
    assert "a batch of 5 does not split evenly over 2 devices" in out["uneven"]
    assert out["ensemble"]["val"] < 1e-12 and out["ensemble"]["models"] < 1e-12, out["ensemble"]
    # members split over both devices; a group of 3 does not divide and stays on one
    assert "'members'" in out["placed"][0] and out["placed"][1:] == [2, 1], out["placed"]
    print(json.dumps(out))  # the measured differences, for the record (pytest -s)


def test_fit_ensemble_refuses_bad_devices_before_compiling(getkey, monkeypatch):
    import adaptive_rnn.train._ensemble as ens

    def compiled(*args):
        raise AssertionError("the ensemble was compiled before devices were checked")

    monkeypatch.setattr(ens, "_ensemble_init", compiled)
    m = ar.ARU(2, 4, 2, key=getkey())
    data = ar.teacher_data(getkey(), n_sequences=10, n_train=8)
    for bad, msg in ((3, r"devices: got 3, expected 1\.\.1"), ([], "devices: got")):
        with pytest.raises(ar.InputError, match=msg):
            ar.fit_ensemble([m, m], data, key=getkey(), epochs=1, devices=bad)


def test_devices_of_only_some_processes_are_refused(getkey, monkeypatch):
    """Under `jax.distributed` (faked: this is process 1 of 2, and the devices JAX lists
    are process 0's), a device list must hold devices of every process or only this
    process's own; the refusal comes before anything compiles."""
    from adaptive_rnn._cpu import resolve_devices

    m = ar.ARU(2, 4, 2, key=getkey())
    x = jax.random.normal(getkey(), (2, 5, 2))
    monkeypatch.setattr(jax, "process_count", lambda: 2)
    monkeypatch.setattr(jax, "process_index", lambda: 1)
    msg = r"devices: got devices of processes \[0\] \(this is process 1 of 2\), expected"
    with pytest.raises(ar.InputError, match=msg):
        resolve_devices(None)
    with pytest.raises(ar.InputError, match=msg):
        ar.simulate(m, x, devices=1)
    monkeypatch.setattr(jax, "process_index", lambda: 0)  # only this process's own: allowed
    assert resolve_devices(None) == jax.devices()
