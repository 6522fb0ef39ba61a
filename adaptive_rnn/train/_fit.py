"""`fit`: train one model on data, with validation, best-model selection, early stopping,
checkpoints, progress and callbacks around one compiled epoch."""

import dataclasses
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
import optax

from .._checks import check_choice
from .._errors import InputError, TrainingError
from .._io import check_writable_dir, check_writable_file
from .._solve import model_dtype
from ..models import AbstractRNN
from ._checkpoint import (
    CHECKPOINT_JSON,
    array_digest,
    check_resume,
    describe,
    read_checkpoint,
    restore_checkpoint,
    save_checkpoint,
)
from ._core import (
    EARLY_STOP,
    NONFINITE_TRAIN,
    RUNNING,
    STOP_REASONS,
    Spec,
    _epoch_jit,
    _init_jit,
    _model,
    as_key_data,
    mse_loss,
    paper_optimiser,
    split_model,
)
from ._data import TrainData, make_train_data
from ._history import History


@dataclasses.dataclass
class FitResult:
    """What `fit` returns.

    **Fields:**

    - `model`: the best model (lowest validation loss; the initial model if no epoch
        improved on it).
    - `final_model`: the model after the last epoch run.
    - `history`: a `History` (losses and time constants per epoch, stop reason).
    - `state`: the final `TrainState` (for checkpoints and resuming).
    - `resumed_with_changes`: one record `{"epoch": e, "changes": ["name: old -> new",
        ...]}` per resume that accepted a changed run (`resume_changes="allow"`), oldest
        first (carried over from the checkpoint); empty otherwise.
    """

    model: AbstractRNN
    final_model: AbstractRNN
    history: History
    state: Any = None
    resumed_with_changes: list = dataclasses.field(default_factory=list)

    @property
    def best_val_loss(self) -> float:
        return self.history.best_val_loss

    @property
    def best_epoch(self) -> int:
        return self.history.best_epoch

    @property
    def epochs_run(self) -> int:
        return self.history.epochs_run

    @property
    def stop_reason(self) -> str | None:
        return self.history.stop_reason


def _check_int(name, value, low, high=None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < low
        or (high is not None and value > high)
    ):
        rng = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise InputError(f"{name}: got {value!r}, expected an integer {rng}")
    return int(value)


def prepare(
    model, inputs, targets, mask, *, validation, val_fraction, n_steps, batch_size, batched=False
) -> TrainData:
    """Validates the model and the data (before anything compiles)."""
    if isinstance(inputs, TrainData):
        data = inputs
        if targets is not None or mask is not None:
            raise InputError("targets/mask: give them inside the TrainData, not separately")
        if data.x.shape[-1] != model.n_in or data.y.shape[-1] != model.n_out:
            raise InputError(
                f"data: inputs {tuple(data.x.shape)} / targets {tuple(data.y.shape)}; the model "
                f"expects n_in = {model.n_in}, n_out = {model.n_out}"
            )
    elif hasattr(inputs, "train_data") and targets is None:
        data = inputs.train_data(dtype=model_dtype(model))
    else:
        data = make_train_data(
            inputs,
            targets,
            mask,
            validation=validation,
            val_fraction=val_fraction,
            n_steps=n_steps,
            n_in=model.n_in,
            n_out=model.n_out,
            dtype=model_dtype(model),
            batched=batched,
        )
    _check_int("batch_size", batch_size, 1, data.n_train)
    return data


def _postfix(train_loss, val_loss, tcs: dict) -> dict:
    out = {"loss": f"{float(train_loss):.4g}", "val": f"{float(val_loss):.4g}"}
    names = [k for k in tcs if k.startswith("alpha")] or list(tcs)
    for k in names:
        v = np.asarray(tcs[k])
        out[k] = f"{float(v.ravel()[0]):.3f}" if v.size == 1 else f"{float(v.mean()):.3f}(mean)"
    return out


@jax.jit
def _advance_key(key_data, n):
    """The key data after `n` epochs (each epoch splits the key once, keeping the first)."""

    def body(_, k):
        return jax.random.key_data(jax.random.split(jax.random.wrap_key_data(k))[0])

    return jax.lax.fori_loop(0, n, body, key_data)


def run_config(
    model,
    data: TrainData,
    *,
    key_data,
    epochs,
    loss,
    optimiser,
    batch_size,
    patience,
    frozen,
    config,
) -> dict:
    """Everything that determines a training run, as `fit` records it in checkpoints
    and compares it on resume (JSON-serialisable)."""
    return {
        "model": model.config(),
        "key": np.asarray(jax.device_get(key_data)).astype(np.int64).tolist(),
        "data": {
            "train": array_digest(data.x, data.y, data.m),
            "validation": array_digest(data.xv, data.yv, data.mv),
        },
        "training": {
            "epochs": epochs,
            "batch_size": int(batch_size),
            "patience": patience,
            "loss": describe(loss),
            "n_train": data.n_train,
            "n_val": data.n_val,
            "n_steps": int(data.x.shape[-2]),
        },
        "optimiser": describe(optimiser),
        "fixed_arrays": array_digest(*jax.tree_util.tree_leaves(frozen)),
        "user": config or {},
    }


def stop_message(code: int, stop_update: int) -> str:
    if code == NONFINITE_TRAIN:
        return f"{STOP_REASONS[code]} (update {stop_update} of the epoch)"
    return STOP_REASONS[code]


def fit(
    model: AbstractRNN,
    inputs,
    targets=None,
    mask=None,
    *,
    key,
    epochs: int = 100,
    validation: tuple | None = None,
    val_fraction: float = 0.2,
    n_steps: int | None = None,
    loss: Callable | None = None,
    optimiser: optax.GradientTransformation | None = None,
    batch_size: int = 1,
    patience: int | None = None,
    on_nonfinite: str = "warn",
    progress: bool | None = None,
    callbacks: Sequence[Callable] = (),
    checkpoint_dir=None,
    checkpoint_every: int | None = None,
    resume_from=None,
    resume_changes: str = "refuse",
    config: dict | None = None,
) -> FitResult:
    r"""Trains a model on sequences by backpropagation through time.

    The paper's protocol by default: loss = per-step MSE summed over time
    (`mse_loss`); one update per sequence (`batch_size=1`) over the shuffled training
    sequences in each epoch; Adam 1e-3 with clipping to global norm 2 and weight decay
    1e-5 (`paper_optimiser`); the model with the lowest validation loss is returned.

    Each epoch is one compiled call (`lax.scan` over updates, compiled once for all
    epochs); this Python loop around it reports progress, checks for non-finite losses,
    stops early, writes checkpoints and calls callbacks. Only the trainable leaves
    (`trainable_filter`) reach the optimiser: fixed time constants and masks never move.

    **Arguments:**

    - `model`: any adaptive_rnn model.
    - `inputs`, `targets`, `mask`: arrays `(S, T, n_in)`, `(S, T, n_out)`, optional
        `(S, T, n_out)`; or a `TrainData` (or teacher data) as `inputs` alone.
    - `key`: a `jax.random` key: it orders the sequences of every epoch.
    - `epochs`: total number of epochs (including those of a resumed checkpoint).
    - `validation`, `val_fraction`, `n_steps`: the split, see `make_train_data`.
    - `loss`: `loss(outputs (T, n_out), targets, mask) -> scalar` for one sequence
        (default `mse_loss`); minibatches average it over sequences.
    - `optimiser`: any optax transformation (default `paper_optimiser()`; use
        `paper_optimiser(tau_learning_rate=...)` for a separate time-constant rate).
    - `batch_size`: sequences per update (1: the paper).
    - `patience`: stop when the validation loss has not improved for this many epochs.
    - `on_nonfinite`: `"warn"` (default) or `"raise"`: what to do when a loss is NaN or
        infinite. Either way training stops, the best model is kept and the history
        records the epoch and cause; `"raise"` raises `TrainingError` with the
        `FitResult` as its `.result`.
    - `progress`: show a progress bar with the losses and time constants (default: only
        when stderr is a terminal).
    - `callbacks`: functions `callback(epoch, model, history)` called after each epoch
        with the current model; one returning `True` stops training.
    - `checkpoint_dir`, `checkpoint_every`: write a checkpoint every k epochs (and at the
        end) into this folder. A checkpoint records the run: the model configuration,
        the key, SHA-256 digests of the training and validation arrays (their content)
        and of the model's fixed arrays, the training options, a description of the
        optimiser and the loss (every setting they hold, `describe`) and `config`; it is
        sealed by a digest over its metadata and arrays together.
    - `resume_from`: a checkpoint folder to continue from. The run must be the same:
        any difference in data, key, optimiser, training options, fixed arrays or
        `config` is refused, naming each as `name: old -> new`; only `epochs` may
        change. The result is then bit-for-bit the one of an uninterrupted run.
    - `resume_changes`: `"refuse"` (default) or `"allow"`: continue even if the data,
        optimiser, training options, fixed arrays or `config` changed (the new ones
        apply from the resumed epoch on; the best-model selection goes on against the
        best validation loss so far). The changes are recorded in
        `FitResult.resumed_with_changes` and in later checkpoints. The model structure
        and the key can never change. `"allow"` also accepts a checkpoint of format
        version 1 (adaptive_rnn 0.1.0), whose metadata carries no digest.
    - `config`: extra JSON-serialisable metadata stored in checkpoints (part of the run:
        compared on resume).

    **Returns:** a `FitResult` (`model`, `final_model`, `history`, ...).

    **Raises:** `InputError` for bad data or options (before compiling);
    `CheckpointError` for a missing, truncated, tampered or unsealed checkpoint, or one
    of another run (before compiling); `TrainingError` on a non-finite loss with
    `on_nonfinite="raise"`.
    """
    if not isinstance(model, AbstractRNN):
        raise InputError(f"model: got {type(model).__name__}, expected an adaptive_rnn model")
    epochs = _check_int("epochs", epochs, 0)
    if patience is not None:
        patience = _check_int("patience", patience, 1)
    if on_nonfinite not in ("warn", "raise"):
        raise InputError(f"on_nonfinite: got {on_nonfinite!r}, expected 'warn' or 'raise'")
    if checkpoint_every is not None:
        checkpoint_every = _check_int("checkpoint_every", checkpoint_every, 1)
        if checkpoint_dir is None:
            raise InputError("checkpoint_every: given without checkpoint_dir")
    check_choice("resume_changes", resume_changes, ("refuse", "allow"))
    if checkpoint_dir is not None:
        check_writable_dir(checkpoint_dir, name="checkpoint_dir")
        check_writable_file(Path(checkpoint_dir) / CHECKPOINT_JSON, name="checkpoint_dir")
    if config is not None:
        try:
            json.dumps(config)
        except (TypeError, ValueError) as e:
            raise InputError(
                f"config: got {config!r:.80}, expected a JSON-serialisable dict ({e})"
            ) from e
    data = prepare(
        model,
        inputs,
        targets,
        mask,
        validation=validation,
        val_fraction=val_fraction,
        n_steps=n_steps,
        batch_size=batch_size,
    )
    optimiser = paper_optimiser() if optimiser is None else optimiser
    loss = mse_loss if loss is None else loss
    params, frozen, static = split_model(model)
    key_data = as_key_data(key)
    cfg = None  # the run's record: only needed (and its data digests computed) for checkpoints
    if checkpoint_dir is not None or resume_from is not None:
        cfg = run_config(
            model,
            data,
            key_data=key_data,
            epochs=epochs,
            loss=loss,
            optimiser=optimiser,
            batch_size=batch_size,
            patience=patience,
            frozen=frozen,
            config=config,
        )
    records: list = []
    if resume_from is not None:  # verify the checkpoint and compare the runs before compiling
        assert cfg is not None  # built above whenever resume_from is given
        allow = resume_changes == "allow"
        meta, blob = read_checkpoint(resume_from, allow_unverified_metadata=allow)
        saved = dict(meta["config"])
        if "key" not in saved:  # format version 1: only the key reached at its epoch
            e = int(meta["epoch"])
            reached = np.asarray(_advance_key(key_data, e)).astype(np.int64).tolist()
            saved["key"] = (
                cfg["key"]
                if reached == meta.get("key_data")
                else f"a key that reached {meta.get('key_data')} at epoch {e}"
            )
        changes = check_resume(resume_from, saved, cfg, allow_changes=allow)
        records = list(meta.get("resumed_with_changes") or [])
        if changes:
            records.append({"epoch": int(meta["epoch"]), "changes": changes})
    spec = Spec(static, optimiser, loss, int(batch_size), patience)
    state = _init_jit(params, frozen, key_data, data, spec)
    history = History.empty(float(state.best_val), jax.device_get(model.time_constants()))
    if resume_from is not None:
        state, history = restore_checkpoint(resume_from, meta, blob, state)
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm

    start = int(state.epoch)
    bar = tqdm(
        total=epochs, initial=min(start, epochs), disable=not progress, desc="fit", leave=False
    )
    try:
        while int(state.epoch) < epochs and int(state.stop) == RUNNING:
            state, met = _epoch_jit(state, frozen, data, spec)
            met = jax.device_get(met)
            history.append(met["train_loss"], met["val_loss"], met["time_constants"])
            history.best_epoch = int(state.best_epoch)
            history.best_val_loss = float(state.best_val)
            e = int(state.epoch)
            bar.update(1)
            bar.set_postfix(_postfix(met["train_loss"], met["val_loss"], met["time_constants"]))
            code = int(state.stop)
            if code != RUNNING:
                history.stop_reason = stop_message(code, int(state.stop_update))
                history.stop_epoch = e
                break
            stop = False
            for cb in callbacks:
                stop = bool(cb(e, _model(state.params, frozen, spec), history)) or stop
            if stop:
                history.stop_reason, history.stop_epoch = "callback", e
                break
            if checkpoint_every is not None and e % checkpoint_every == 0:
                # checkpoint_every needs checkpoint_dir (checked above), which builds cfg.
                assert checkpoint_dir is not None and cfg is not None
                save_checkpoint(
                    checkpoint_dir, state, history=history, config=cfg, resumed_with_changes=records
                )
    finally:
        bar.close()
    if checkpoint_dir is not None:
        assert cfg is not None  # built above whenever checkpoint_dir is given
        save_checkpoint(
            checkpoint_dir, state, history=history, config=cfg, resumed_with_changes=records
        )
    result = FitResult(
        model=_model(state.best_params, frozen, spec),
        final_model=_model(state.params, frozen, spec),
        history=history,
        state=state,
        resumed_with_changes=records,
    )
    code = int(state.stop)
    if code not in (RUNNING, EARLY_STOP) and history.stop_reason is not None:
        msg = (
            f"fit: {history.stop_reason} at epoch {history.stop_epoch}; training stopped, "
            f"keeping the best model (epoch {history.best_epoch}, validation loss "
            f"{history.best_val_loss:.6g})"
        )
        if on_nonfinite == "raise":
            err = TrainingError(msg)
            err.result = result
            raise err
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    return result
