"""Data parallelism for the integrators: a batch split over devices (`jax.shard_map`)
with the model replicated, so that under `jax.grad` the model's cotangent is summed
over devices once, after the backward pass."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._cpu import fetch_global, resolve_devices
from ._solve_checks import is_traced


def data_parallel(fn, devices, model, xs, keys):
    """`fn(model, xs, keys)` with `xs` and `keys` split along their first axis over
    `devices` and `model` replicated.

    **Arguments:**

    - `fn`: the computation of one device's share, `fn(model, xs, keys)`, returning
        arrays whose first axis is the batch.
    - `devices`: a list of devices, or a number n for the first n of `jax.devices()`.
    - `model`: any pytree the same on every device (the model, and what is computed
        from it once, e.g. its resolved parameters).
    - `xs`, `keys`: the batch, and a key per sequence or `None`.

    **Returns:** `fn`'s outputs, concatenated over devices in batch order. Devices of
    several processes (`jax.distributed`; every process passes the same `model`, `xs`
    and `keys`): called outside `jit`/`grad`, every process receives the whole outputs
    as its own arrays (gathered across processes); under a transformation they stay
    global arrays split over the processes (`adaptive_rnn._cpu.fetch_global` gathers
    them).

    **Raises:** `InputError` when the batch does not split evenly over `devices`.
    """
    devices = resolve_devices(devices, xs.shape[0], "a batch")
    if len(devices) == 1:
        return fn(model, xs, keys)
    P = jax.sharding.PartitionSpec
    mesh = jax.sharding.Mesh(np.asarray(devices), ("batch",))
    arrays, static = eqx.partition(model, eqx.is_array)

    def local(arrays, xs, keys):
        # The model is the same on every device; marking it device-varying makes each
        # device's computation its own, and the transpose of this cast (under grad) is
        # the one sum of the model's cotangent over devices.
        arrays = jax.lax.pcast(arrays, ("batch",), to="varying")
        return fn(eqx.combine(arrays, static), xs, keys)

    out = jax.shard_map(
        local, mesh=mesh, in_specs=(P(), P("batch"), P("batch")), out_specs=P("batch")
    )(arrays, xs, keys)
    if not mesh.is_multi_process or is_traced(out):
        return out
    # Outside any transformation, over several processes: each process receives the
    # whole result (a collective; every process runs the same call).
    return jax.tree_util.tree_map(jnp.asarray, fetch_global(out))
