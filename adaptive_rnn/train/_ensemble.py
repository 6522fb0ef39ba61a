"""`fit_ensemble`: M independent models trained in one compiled program (vmap)."""

import dataclasses
import sys
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._cpu import fetch_global, resolve_devices, split_leading_axis
from .._errors import InputError
from .._solve import model_dtype
from ..models import AbstractRNN
from ._core import (
    RUNNING,
    Spec,
    _model,
    as_key_data,
    init_state,
    mse_loss,
    paper_optimiser,
    run_epoch,
    split_model,
)
from ._data import TrainData, make_train_data
from ._fit import _check_int, stop_message
from ._history import History


@dataclasses.dataclass
class EnsembleResult:
    """What `fit_ensemble` returns.

    **Fields:**

    - `models`: the best model of each member (lowest validation loss), in input order.
    - `histories`: one `History` per member (each truncated to its own epochs).
    - `best_val_loss`: `(M,)` float array, each member's lowest validation loss.
    - `best_epoch`: `(M,)` int array, the epoch of that loss (0: the initial model).
    - `epochs_run`: `(M,)` int array, the epochs each member trained before it stopped
        (early stopping, a non-finite loss) or `epochs` ran out.
    - `stacked_model`: for a stacked input, the best models stacked the same way (a
        leading axis M on every array leaf); `None` for a list.
    """

    models: list
    histories: list
    best_val_loss: np.ndarray
    best_epoch: np.ndarray
    epochs_run: np.ndarray
    stacked_model: AbstractRNN | None = None


def _group_key(model):
    params, frozen, static = split_model(model)
    shapes = tuple(
        (tuple(x.shape), str(x.dtype)) for x in jax.tree_util.tree_leaves((params, frozen))
    )
    return (jax.tree_util.tree_structure((params, frozen)), shapes, static)


def _stack(trees):
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def _take(tree, idx):
    return jax.tree_util.tree_map(lambda a: a[idx], tree)


def _unstack(tree, n):
    return [jax.tree_util.tree_map(lambda x, i=i: x[i], tree) for i in range(n)]


@eqx.filter_jit
def _ensemble_init(params_t, frozen_t, keys_t, datas, specs, data_axis):
    out = []
    for p, f, k, d, spec in zip(params_t, frozen_t, keys_t, datas, specs):

        def one(p, f, k, d, spec=spec):
            st = init_state(p, f, k, d, spec)
            return st, _model(p, f, spec).time_constants()

        out.append(jax.vmap(one, in_axes=(0, 0, 0, data_axis))(p, f, k, d))
    return tuple(out)


@eqx.filter_jit
def _ensemble_epoch(states_t, frozen_t, datas, specs, data_axis):
    return tuple(
        jax.vmap(lambda s, f, d, spec=spec: run_epoch(s, f, d, spec), in_axes=(0, 0, data_axis))(
            s, f, d
        )
        for s, f, d, spec in zip(states_t, frozen_t, datas, specs)
    )


def _place(states, frozen_t, datas, per_model: bool, devices: list):
    """Splits each group's members (leading axis) over `devices`, where the group's size
    divides evenly; shared data is replicated by the compiled epoch.

    Devices of several processes (`jax.distributed`): every array is placed explicitly
    on the global mesh, built from each process's identical copy; a group whose size
    does not divide, and shared data, are replicated on every device."""
    if len(devices) == 1:
        return states, frozen_t, datas
    spans = not all(d.process_index == jax.process_index() for d in devices)
    out = ([], [], [])
    for st, fr, d in zip(states, frozen_t, datas):
        if jax.tree_util.tree_leaves(st)[0].shape[0] % len(devices) == 0:
            st, fr = split_leading_axis((st, fr), devices, "members")
            if per_model or spans:
                d = split_leading_axis(d, devices, "members", split=per_model)
        elif spans:
            st, fr, d = split_leading_axis((st, fr, d), devices, "members", split=False)
        out[0].append(st)
        out[1].append(fr)
        out[2].append(d)
    return tuple(out[0]), tuple(out[1]), tuple(out[2])


def fit_ensemble(
    models,
    inputs,
    targets=None,
    mask=None,
    *,
    keys=None,
    key=None,
    epochs: int = 100,
    validation: tuple | None = None,
    val_fraction: float = 0.2,
    n_steps: int | None = None,
    loss: Callable | None = None,
    optimiser: optax.GradientTransformation | None = None,
    batch_size: int = 1,
    patience: int | None = None,
    progress: bool | None = None,
    devices: Sequence | int | None = None,
) -> EnsembleResult:
    """Trains M independent models together, one compiled program per epoch.

    Each member has its own parameters, optimiser state, key (hence data order) and,
    optionally, its own dataset; the epoch function of `fit` is `vmap`ped over them, so
    member i ends exactly where `fit(models[i], ..., key=keys[i])` ends (up to
    floating-point reassociation by the batched kernels; equal to ~1e-12 in float64).
    Members that stop (non-finite loss, early stopping) are frozen at that point while
    the others continue.

    Members may differ in array values (seeds, initial or fixed time constants - e.g.
    the fixed (alpha_s, alpha_r) pairs of a grid search). Members of different
    *structure* (time-constant mode, activation, hidden size) cannot share one `vmap`:
    they are grouped by structure, and each group runs vmapped inside the same compiled
    epoch (one program, one `vmap` per group).

    **Arguments:**

    - `models`: a list of models, or one stacked model whose array leaves all carry a
        leading axis M (e.g. from `eqx.filter_vmap(lambda k: ARU(..., key=k))(keys)`).
    - `inputs`, `targets`, `mask`: shared data `(S, T, ...)`, per-member data
        `(M, S, T, ...)`, or a `TrainData` (either form).
    - `keys`: M keys (an array of shape `(M,)`), one per member; or `key`, split into M.
    - `devices`: spread the members over these devices (a list, or a number n for the
        first n of `jax.devices()`; default all of `jax.devices()`). Each group of
        members of equal structure whose size divides evenly is split along its member
        axis (`NamedSharding`); the members never communicate, so each device trains
        its share on its own. Results equal one device's to floating-point rounding
        (the batched kernels run on fewer members per device). On a CPU,
        `adaptive_rnn.configure_cpu()` exposes the cores as devices. Under
        `jax.distributed` the default spreads the members over the devices of every
        process (each process must make the same call); a group that does not divide
        is replicated; every process receives the whole result (docs/distributed.md).
    - `epochs`: the most epochs each member trains (default 100).
    - `validation`, `val_fraction`, `n_steps`: the split of array data, see
        `make_train_data` (ignored for a `TrainData`).
    - `loss`: `loss(outputs (T, n_out), targets, mask) -> scalar` for one sequence
        (default `mse_loss`); minibatches average it over sequences.
    - `optimiser`: any optax transformation, one for all members (default
        `paper_optimiser()`); each member has its own optimiser state.
    - `batch_size`: sequences per update (default 1: the paper), at most the number of
        training sequences.
    - `patience`: stop a member when its validation loss has not improved for this many
        epochs (default `None`: never).
    - `progress`: show a progress bar with the best loss and the members still running
        (default: only when stderr is a terminal).

    A member whose loss turns non-finite stops there, without a warning, and keeps its
    best model; its `History` records the epoch and cause (`stop_reason`).

    **Returns:** an `EnsembleResult`.

    **Raises:** `InputError` for bad data or options (an empty list, a member that is
    not a model, neither `keys` nor `key`, the wrong number of keys or datasets, a bad
    `epochs`, `batch_size` or `patience`), before compiling.
    """
    stacked = isinstance(models, AbstractRNN)
    if stacked:
        leaves = jax.tree_util.tree_leaves(eqx.filter(models, eqx.is_array))
        M = int(leaves[0].shape[0])
        if any(x.ndim == 0 or x.shape[0] != M for x in leaves):
            raise InputError("models: a stacked model needs a leading axis M on every array leaf")
        probe = jax.tree_util.tree_map(lambda x: x[0], models)
    else:
        models = list(models)
        M = len(models)
        if M == 0:
            raise InputError("models: got an empty list, expected at least one model")
        for i, m in enumerate(models):
            if not isinstance(m, AbstractRNN):
                raise InputError(
                    f"models[{i}]: got {type(m).__name__}, expected an adaptive_rnn model"
                )
        probe = models[0]
    epochs = _check_int("epochs", epochs, 0)
    if keys is None:
        if key is None:
            raise InputError("keys: give keys (one per model) or key")
        keys = jax.random.split(key, M)
    keys = as_key_data(keys)
    if keys.shape[0] != M:
        raise InputError(f"keys: got {keys.shape[0]} keys, expected one per model (M = {M})")

    # data: shared or per member
    if isinstance(inputs, TrainData):
        data = inputs
    elif hasattr(inputs, "train_data") and targets is None:
        data = inputs.train_data(dtype=model_dtype(probe))
    else:
        batched = np.ndim(inputs) == 4
        data = make_train_data(
            inputs,
            targets,
            mask,
            validation=validation,
            val_fraction=val_fraction,
            n_steps=n_steps,
            n_in=probe.n_in,
            n_out=probe.n_out,
            dtype=model_dtype(probe),
            batched=batched,
        )
    per_model = data.x.ndim == 4
    if per_model and data.x.shape[0] != M:
        raise InputError(
            f"inputs: per-model data with {data.x.shape[0]} datasets, expected M = {M}"
        )
    _check_int("batch_size", batch_size, 1, data.n_train)
    if patience is not None:
        patience = _check_int("patience", patience, 1)
    optimiser = paper_optimiser() if optimiser is None else optimiser
    loss = mse_loss if loss is None else loss
    devices = resolve_devices(devices)

    # groups of equal structure
    if stacked:
        params, frozen, static = split_model(models)
        groups = [(list(range(M)), params, frozen, static)]
    else:
        assert isinstance(models, list)  # not stacked: made a list above
        by_key: dict = {}
        for i, m in enumerate(models):
            by_key.setdefault(_group_key(m), []).append(i)
        groups = []
        for idx in by_key.values():
            parts = [split_model(models[i]) for i in idx]
            groups.append(
                (idx, _stack([p[0] for p in parts]), _stack([p[1] for p in parts]), parts[0][2])
            )
    specs = tuple(Spec(g[3], optimiser, loss, int(batch_size), patience) for g in groups)
    data_axis = 0 if per_model else None
    datas = tuple(_take(data, np.asarray(g[0])) if per_model else data for g in groups)
    frozen_t = tuple(g[2] for g in groups)
    inits = _ensemble_init(
        tuple(g[1] for g in groups),
        frozen_t,
        tuple(keys[np.asarray(g[0])] for g in groups),
        datas,
        specs,
        data_axis,
    )
    states = tuple(s for s, _ in inits)
    states, frozen_t, datas = _place(states, frozen_t, datas, per_model, devices)
    # fetch_global: whole values on every process, also when the members are spread over
    # the devices of several processes (jax.distributed); a collective there, called by
    # every process in the same order.
    init_tcs = [jax.device_get(t) for _, t in inits]
    init_val = [np.asarray(v) for v in fetch_global([s.best_val for s in states])]

    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm

    mets_log = []
    with tqdm(total=epochs, disable=not progress, desc=f"fit_ensemble (M={M})", leave=False) as bar:
        for _ in range(epochs):
            out = _ensemble_epoch(states, frozen_t, datas, specs, data_axis)
            states = tuple(s for s, _ in out)
            mets, stops, bests = fetch_global(
                (tuple(m for _, m in out), [s.stop for s in states], [s.best_val for s in states])
            )
            mets_log.append(mets)
            bar.update(1)
            if progress:
                bar.set_postfix(
                    best=f"{min(float(np.min(b)) for b in bests):.4g}",
                    running=int(sum((st == RUNNING).sum() for st in stops)),
                )
            if all(np.all(st != RUNNING) for st in stops):
                break

    # unpack per member, in input order
    models_out: list = [None] * M
    histories: list = [None] * M
    best_val = np.zeros(M)
    best_epoch = np.zeros(M, dtype=int)
    epochs_run = np.zeros(M, dtype=int)
    stacked_best = None
    for gi, ((idx, _, frozen, _), state, spec) in enumerate(zip(groups, states, specs)):
        st = fetch_global(state)
        # the best parameters as this process's own arrays (on its default device)
        best_model = _model(jax.tree_util.tree_map(jnp.asarray, st.best_params), frozen, spec)
        if stacked:
            stacked_best = best_model
        members = _unstack(best_model, len(idx))
        for j, i in enumerate(idx):
            e_i = int(st.epoch[j])
            h = History.empty(float(init_val[gi][j]), {k: v[j] for k, v in init_tcs[gi].items()})
            for e in range(e_i):
                m = mets_log[e][gi]
                h.append(
                    m["train_loss"][j],
                    m["val_loss"][j],
                    {k: v[j] for k, v in m["time_constants"].items()},
                )
            h.best_epoch, h.best_val_loss = int(st.best_epoch[j]), float(st.best_val[j])
            code = int(st.stop[j])
            if code != RUNNING:
                h.stop_reason, h.stop_epoch = stop_message(code, int(st.stop_update[j])), e_i
            models_out[i], histories[i] = members[j], h
            best_val[i], best_epoch[i], epochs_run[i] = h.best_val_loss, h.best_epoch, e_i
    return EnsembleResult(models_out, histories, best_val, best_epoch, epochs_run, stacked_best)
