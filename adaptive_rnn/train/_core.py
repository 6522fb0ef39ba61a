"""The pure, compiled core of training: one epoch as one `lax.scan` over updates.

Everything here is a pure function of arrays, so `jax.vmap` over models (own parameters,
own optimiser state, own key, own data order, even own data) turns it into the ensemble
trainer, and `lax.scan` over epochs into a whole training run inside a sweep.
"""

import functools
from collections.abc import Callable
from typing import Any, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, PyTree

from .._checks import check_nonnegative, check_optional, check_positive
from .._params import AbstractTimeConstant, trainable_filter
from .._solve import simulate
from ._data import TrainData

# Stop codes carried in the training state.
RUNNING, NONFINITE_TRAIN, NONFINITE_VAL, EARLY_STOP = 0, 1, 2, 3
STOP_REASONS = {
    NONFINITE_TRAIN: "non-finite training loss",
    NONFINITE_VAL: "non-finite validation loss",
    EARLY_STOP: "early stopping",
}


def mse_loss(outputs, targets, mask):
    r"""The paper's loss for one sequence: per-step MSE (mean over outputs) summed over time.

    $$L = \sum_t \frac{1}{n_{out}} \sum_k m_{tk} (y_{tk} - \hat y_{tk})^2 .$$

    Masked entries (`m = 0`) contribute nothing; the divisor stays `n_out`, so a mask of
    ones gives exactly the paper's loss.

    **Arguments:**

    - `outputs`: the model's outputs $y$, shape `(T, n_out)`.
    - `targets`: the targets $\hat y$, the same shape.
    - `mask`: weights $m$ (0 or 1) of the same shape (or one that broadcasts to it).

    **Returns:** the scalar loss $L$.
    """
    return jnp.sum(mask * (outputs - targets) ** 2) / outputs.shape[-1]


def time_constant_labels(params: PyTree) -> PyTree[str]:
    """Labels for `optax.multi_transform`: `"tau"` for leaves inside an
    `AbstractTimeConstant`, `"weights"` for every other leaf.

    **Arguments:**

    - `params`: a pytree (a model or its trainable part).

    **Returns:** a pytree of the same structure with a string label per leaf.
    """

    def label(x):
        if isinstance(x, AbstractTimeConstant):
            return jax.tree_util.tree_map(lambda _: "tau", x)
        return "weights"

    return jax.tree_util.tree_map(
        label, params, is_leaf=lambda x: isinstance(x, AbstractTimeConstant)
    )


@functools.cache
def paper_optimiser(
    learning_rate: float | optax.Schedule = 1e-3,
    *,
    tau_learning_rate: float | optax.Schedule | None = None,
    clip_norm: float | None = 2.0,
    weight_decay: float = 1e-5,
) -> optax.GradientTransformation:
    r"""The optimiser of the paper: Adam, gradient clipping, weight decay.

    `optax.chain(clip_by_global_norm(2), add_decayed_weights(1e-5), adam(1e-3))`:
    Chainer's `GradientClipping` and `WeightDecay` hooks act on the gradient before the
    update rule, so the decay is the coupled (L2) kind, $g \leftarrow g + \lambda\theta$,
    rescaled by Adam like any gradient - not the decoupled decay of `optax.adamw`, which
    would not reproduce the authors' code. The clipping sees the raw gradient of all
    parameters together.

    The trainer only ever hands the *trainable* leaves to the optimiser
    (`trainable_filter`), so fixed time constants and masks are never decayed.

    **Arguments:**

    - `learning_rate`: Adam's step for the weights, a positive finite number (the
        paper's is not recorded; ours 1e-3), or an optax schedule (a callable).
    - `tau_learning_rate`: a separate Adam step for the time constants (leaves inside an
        `AbstractTimeConstant`), as `learning_rate`; default: the same as the weights.
    - `clip_norm`: global-norm clipping threshold, a positive finite number (`None`: no
        clipping).
    - `weight_decay`: coefficient of the L2 decay on all trainable parameters, a finite
        number >= 0 (0: no decay).

    **Returns:** an `optax.GradientTransformation`. Calls with equal arguments return the
    same object, so repeated fits share one compiled epoch.

    **Raises:** `InputError` for a learning rate or clipping threshold that is not a
    positive finite number, or a negative or non-finite weight decay.
    """
    learning_rate = _check_rate("learning_rate", learning_rate)
    tau_learning_rate = check_optional(_check_rate, "tau_learning_rate", tau_learning_rate)
    clip_norm = check_optional(check_positive, "clip_norm", clip_norm)
    weight_decay = check_nonnegative("weight_decay", weight_decay)
    parts = []
    if clip_norm is not None:
        parts.append(optax.clip_by_global_norm(clip_norm))
    if weight_decay:
        parts.append(optax.add_decayed_weights(weight_decay))
    if tau_learning_rate is None or tau_learning_rate == learning_rate:
        parts.append(optax.adam(learning_rate))
    else:
        parts.append(
            optax.multi_transform(
                {"weights": optax.adam(learning_rate), "tau": optax.adam(tau_learning_rate)},
                time_constant_labels,
            )
        )
    return optax.chain(*parts)


def _check_rate(name: str, value: Any) -> float | optax.Schedule:
    """A learning rate: an optax schedule (callable), or a positive finite number."""
    # Any callable is taken as a schedule (optax calls it with the step count).
    return cast(optax.Schedule, value) if callable(value) else check_positive(name, value)


def split_model(model) -> tuple[PyTree, PyTree, Any]:
    """Splits a model into (trainable leaves, frozen arrays, static rest).

    The trainable part is what the optimiser sees; the frozen arrays (fixed time
    constants, masks) are carried along untouched (and may differ between ensemble
    members); the static rest holds no arrays and is hashable.

    **Arguments:**

    - `model`: any adaptive_rnn model.

    **Returns:** `(params, frozen, static)`; `eqx.combine(params, frozen, static)`
    rebuilds the model.
    """
    params, rest = eqx.partition(model, trainable_filter(model))
    frozen, static = eqx.partition(rest, eqx.is_array)
    return params, frozen, static


class Spec(eqx.Module):
    """Everything static about a training run (hashable: one compile per `Spec`)."""

    static: Any = eqx.field(static=True)
    optimiser: optax.GradientTransformation = eqx.field(static=True)
    loss: Callable = eqx.field(static=True)
    batch_size: int = eqx.field(static=True)
    patience: int | None = eqx.field(static=True)


class TrainState(eqx.Module):
    """The whole mutable state of a training run: everything a checkpoint must hold.

    **Fields:**

    - `params`: the trainable leaves of the current model (`split_model`).
    - `opt_state`: the optimiser's state.
    - `best_params`, `best_val`, `best_epoch`: the trainable leaves of the model with the
        lowest validation loss so far, that loss and its epoch (0: the initial model).
    - `epoch`: the number of epochs run.
    - `key`: raw key data (`jax.random.key_data`), so the state serialises as arrays.
    - `stop`: 0 while running, else the code of the reason (`STOP_REASONS`); a stopped
        state is left unchanged by further epochs.
    - `stop_update`: the index, within its epoch, of the update whose training loss was
        not finite (-1 when none was).
    """

    params: PyTree
    opt_state: PyTree
    best_params: PyTree
    best_val: Array
    best_epoch: Array
    epoch: Array
    key: Array
    stop: Array
    stop_update: Array


def _model(params, frozen, spec: Spec):
    return eqx.combine(params, frozen, spec.static)


def _projected(params, frozen, spec: Spec):
    """The trainable leaves of the model clamped into its constraint set
    (`AbstractRNN.projected`: Dale's law in `"project"` mode, masks); frozen leaves are
    left as they are."""
    return split_model(_model(params, frozen, spec).projected())[0]


def _seq_loss(model, spec: Spec, x, y, m):
    return spec.loss(simulate(model, x).outputs, y, m)


def _mean_loss(model, spec, xs, ys, ms):
    return jnp.mean(jax.vmap(lambda x, y, m: _seq_loss(model, spec, x, y, m))(xs, ys, ms))


TRACES = {"epoch": 0}  # trace counter: tests assert one compile for all epochs


def init_state(params, frozen, key_data, data: TrainData, spec: Spec) -> TrainState:
    """The state before the first epoch (pure). The initial model is projected into
    its constraint set first (a no-op for a model built by its constructor), so every
    model of the run, the best one included, satisfies it. `best_val` is the initial
    validation loss (epoch 0), or `inf` if it is not finite."""
    params = _projected(params, frozen, spec)
    opt_state = spec.optimiser.init(params)
    val = _mean_loss(_model(params, frozen, spec), spec, data.xv, data.yv, data.mv)
    dtype = val.dtype
    val = jnp.where(jnp.isfinite(val), val, jnp.asarray(jnp.inf, dtype))
    i32 = functools.partial(jnp.asarray, dtype=jnp.int32)
    return TrainState(params, opt_state, params, val, i32(0), i32(0), key_data, i32(0), i32(-1))


def run_epoch(state: TrainState, frozen, data: TrainData, spec: Spec) -> tuple[TrainState, dict]:
    """One epoch (pure): a pass over the shuffled training sequences, one update per
    minibatch, then the validation loss and best-model selection. After every
    optimiser step the model is projected back into its constraint set
    (`AbstractRNN.projected`), so Dale's law in `"project"` mode and the masks hold
    throughout training, in every trainer built on this function.

    The permutation comes from the state's key (split once per epoch). With
    `batch_size > 1` the last `S mod batch_size` sequences of each permutation are
    dropped. A state already stopped is returned unchanged.

    **Returns:** the new state and the epoch's metrics: `train_loss` (mean of the
    update losses), `val_loss`, `time_constants` (of the model after the epoch),
    `active` (whether the epoch ran).
    """
    TRACES["epoch"] += 1
    key, kperm = jax.random.split(jax.random.wrap_key_data(state.key))
    S = data.x.shape[0]
    B = spec.batch_size
    nb = S // B
    perm = jax.random.permutation(kperm, S)[: nb * B].reshape(nb, B)

    def batch_loss(p, idx):
        model = _model(p, frozen, spec)
        if B == 1:
            i = idx[0]
            return _seq_loss(model, spec, data.x[i], data.y[i], data.m[i])
        return _mean_loss(model, spec, data.x[idx], data.y[idx], data.m[idx])

    def update(carry, idx):
        p, o = carry
        loss, g = jax.value_and_grad(batch_loss)(p, idx)
        updates, o = spec.optimiser.update(g, o, p)
        p = _projected(optax.apply_updates(p, updates), frozen, spec)
        return (p, o), loss

    (params, opt_state), losses = jax.lax.scan(update, (state.params, state.opt_state), perm)
    model = _model(params, frozen, spec)
    train_loss = jnp.mean(losses)
    val = _mean_loss(model, spec, data.xv, data.yv, data.mv)
    epoch = state.epoch + 1
    finite_train = jnp.all(jnp.isfinite(losses))
    finite_val = jnp.isfinite(val)
    improved = finite_train & finite_val & (val < state.best_val)
    sel = lambda a, b: jnp.where(improved, a, b)  # noqa: E731
    best_params = jax.tree_util.tree_map(sel, params, state.best_params)
    best_val = sel(val, state.best_val)
    best_epoch = sel(epoch, state.best_epoch)
    stop = jnp.where(~finite_train, NONFINITE_TRAIN, jnp.where(~finite_val, NONFINITE_VAL, RUNNING))
    if spec.patience is not None:
        stop = jnp.where(
            (stop == RUNNING) & (epoch - best_epoch >= spec.patience), EARLY_STOP, stop
        )
    stop_update = jnp.where(finite_train, -1, jnp.argmax(~jnp.isfinite(losses)))
    new = TrainState(
        params,
        opt_state,
        best_params,
        best_val,
        best_epoch,
        epoch,
        jax.random.key_data(key),
        stop.astype(jnp.int32),
        stop_update.astype(jnp.int32),
    )
    active = state.stop == RUNNING
    new = jax.tree_util.tree_map(lambda a, b: jnp.where(active, a, b), new, state)
    metrics = dict(
        train_loss=train_loss,
        val_loss=val,
        time_constants=model.time_constants(),
        active=active,
    )
    return new, metrics


_init_jit = eqx.filter_jit(init_state)
_epoch_jit = eqx.filter_jit(run_epoch)


def fit_scan(
    model,
    data: TrainData,
    key,
    *,
    epochs: int,
    optimiser: optax.GradientTransformation | None = None,
    loss: Callable | None = None,
    batch_size: int = 1,
    patience: int | None = None,
):
    """A whole training run as one pure function (`lax.scan` over epochs): jittable and
    vmappable, for sweeps that train a model at every grid point.

    Same arithmetic as `fit` (same epoch function), without progress, checkpoints or
    callbacks; non-finite losses freeze the run at its best model.

    **Arguments:**

    - `model`: any adaptive_rnn model.
    - `data`: a `TrainData` (`make_train_data`).
    - `key`: a `jax.random` key or its key data; it orders the sequences of every epoch.
    - `epochs`: the number of epochs (the length of the scan).
    - `optimiser`, `loss`, `batch_size`, `patience`: as `fit`.

    **Returns:** `(best_model, summary)` with `summary` a dict: `best_val_loss`,
    `best_epoch`, `epochs_run`, `stop` (code), `train_loss` `(epochs,)`, `val_loss`
    `(epochs,)` (entries after a stop repeat nothing: they are NaN), `time_constants`
    (dict of `(epochs, k)`).
    """
    optimiser = paper_optimiser() if optimiser is None else optimiser
    spec = Spec(
        split_model(model)[2], optimiser, mse_loss if loss is None else loss, batch_size, patience
    )
    params, frozen, _ = split_model(model)
    state = init_state(params, frozen, as_key_data(key), data, spec)

    def body(st, _):
        st, met = run_epoch(st, frozen, data, spec)
        nan = jnp.asarray(jnp.nan, met["train_loss"].dtype)
        met = dict(met)
        met["train_loss"] = jnp.where(met["active"], met["train_loss"], nan)
        met["val_loss"] = jnp.where(met["active"], met["val_loss"], nan)
        return st, met

    state, mets = jax.lax.scan(body, state, None, length=epochs)
    best = _model(state.best_params, frozen, spec)
    summary = dict(
        best_val_loss=state.best_val,
        best_epoch=state.best_epoch,
        epochs_run=state.epoch,
        stop=state.stop,
        train_loss=mets["train_loss"],
        val_loss=mets["val_loss"],
        time_constants=mets["time_constants"],
    )
    return best, summary


def as_key_data(key) -> Array:
    """Raw key data of a typed key (or the raw key itself)."""
    key = jnp.asarray(key) if not isinstance(key, jax.Array) else key
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key
