"""`adaptive-rnn fit`: train a fresh model on arrays from an .npz file."""

import argparse
from typing import Any

from ._common import (
    activation_name,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    seed_int,
)


def add_parser(sub) -> None:
    from .._params import MODES, PARAMETRISATIONS

    p = sub.add_parser(
        "fit",
        help="train a model on inputs/targets from an .npz file",
        description=(
            "Train a fresh ARU on DATA.npz (`inputs` (S, T, n_in), `targets` (S, T, n_out), "
            "optionally `mask`; files from `adaptive-rnn teacher` also carry the split, the "
            "training steps and the readout convention). The paper's protocol by default: "
            "one Adam update per sequence, lr 1e-3, clipping to norm 2, weight decay 1e-5, "
            "best-validation model. Writes DIR/fit.json, DIR/history.json, DIR/history.png "
            "and the best model in DIR (loadable by `adaptive-rnn simulate DIR`)."
        ),
    )
    p.add_argument("data", help="an .npz file with inputs and targets (and optionally mask)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--hidden", type=positive_int, default=10, help="hidden units (default 10)")
    p.add_argument(
        "--time-constants",
        choices=MODES,
        default="global",
        help="time-constant mode (default global)",
    )
    p.add_argument(
        "--parametrisation",
        choices=PARAMETRISATIONS,
        default="sigmoid",
        help="time-constant parametrisation (default sigmoid, the paper's)",
    )
    p.add_argument(
        "--activation", type=activation_name, default="sigmoid", help="activation (default sigmoid)"
    )
    p.add_argument("--alpha-s", type=float, default=0.5, help="initial alpha_s (default 0.5)")
    p.add_argument("--alpha-r", type=float, default=0.5, help="initial alpha_r (default 0.5)")
    p.add_argument(
        "--readout",
        choices=("lagged", "current"),
        help="readout convention (default: the data file's `readout`, else current)",
    )
    p.add_argument("--epochs", type=nonnegative_int, default=100, help="epochs (default 100)")
    p.add_argument(
        "--seed",
        type=seed_int,
        default=0,
        help="seed of the initial weights and data order (default 0)",
    )
    p.add_argument(
        "--lr", type=positive_float, default=1e-3, help="Adam learning rate (default 1e-3)"
    )
    p.add_argument(
        "--tau-lr", type=positive_float, help="learning rate of the time constants (default: --lr)"
    )
    p.add_argument(
        "--clip",
        type=nonnegative_float,
        default=2.0,
        help="clip gradients to this global norm (default 2; 0: off)",
    )
    p.add_argument(
        "--weight-decay",
        type=nonnegative_float,
        default=1e-5,
        help="L2 weight decay (default 1e-5)",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=1,
        help="sequences per update (default 1, the paper)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        help="hold out this last fraction for validation (default: the file's n_train, else 0.2)",
    )
    p.add_argument(
        "--steps",
        type=positive_int,
        help="train on the first N steps (default: the file's train_steps, else all)",
    )
    p.add_argument(
        "--patience", type=positive_int, help="early stopping after N epochs without improvement"
    )
    p.add_argument(
        "--checkpoint-every",
        type=positive_int,
        help="write a checkpoint to DIR/checkpoint every N epochs",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from DIR/checkpoint; refused if the data (content), the seed, the "
        "optimiser or any option other than --epochs differs from the checkpoint's",
    )
    p.add_argument(
        "--allow-changes",
        action="store_true",
        help="with --resume: continue even if the data, optimiser or options changed (the "
        "changes are recorded in fit.json; the model and --seed can never change)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import jax
    import numpy as np

    from .. import ARU, save_model
    from .._errors import InputError
    from .._io import atomic_write_json
    from ..analysis import plot_history
    from ..train import CHECKPOINT_JSON, fit, make_train_data, paper_optimiser
    from ._common import check_output_dir, check_output_file, load_npz, save_figure

    # Every output is checked before the data is read or anything trains.
    if args.allow_changes and not args.resume:
        raise InputError("--allow-changes: given without --resume; expected it only with --resume")
    out = check_output_dir("--out", args.out)
    for name in ("model.json", "model.eqx", "fit.json", "history.json", "history.png"):
        check_output_file("--out", str(out / name), inputs=(args.data,))
    ckpt = out / "checkpoint"
    if args.checkpoint_every or args.resume:
        check_output_dir("--out", str(ckpt))
        check_output_file("--out", str(ckpt / CHECKPOINT_JSON), inputs=(args.data,))

    raw = load_npz(args.data, ("inputs", "targets"))
    x, y, mask = raw["inputs"], raw["targets"], raw.get("mask")
    readout = args.readout or (str(raw["readout"]) if "readout" in raw else "current")
    n_steps = (
        args.steps
        if args.steps is not None
        else (int(raw["train_steps"]) if "train_steps" in raw else None)
    )
    shape_x = getattr(x, "shape", ())
    n_in = int(shape_x[-1]) if len(shape_x) == 3 else 0
    n_out = int(y.shape[-1]) if y.ndim == 3 else 0
    if args.val_fraction is None and "n_train" in raw and len(shape_x) == 3:
        n_train = int(raw["n_train"])
        m_tr = None if mask is None else mask[:n_train]
        m_va = None if mask is None else mask[n_train:]
        data = make_train_data(
            x[:n_train],
            y[:n_train],
            m_tr,
            validation=(x[n_train:], y[n_train:]) + ((m_va,) if m_va is not None else ()),
            n_steps=n_steps,
            n_in=n_in,
            n_out=n_out,
        )
    else:
        data = make_train_data(
            x,
            y,
            mask,
            val_fraction=0.2 if args.val_fraction is None else args.val_fraction,
            n_steps=n_steps,
        )
    k_model, k_fit = jax.random.split(jax.random.key(args.seed))
    try:
        model = ARU(
            int(data.x.shape[-1]),
            args.hidden,
            int(data.y.shape[-1]),
            activation=args.activation,
            time_constants=args.time_constants,
            parametrisation=args.parametrisation,
            alpha_s=args.alpha_s,
            alpha_r=args.alpha_r,
            readout=readout,
            key=k_model,
        )
    except ValueError as e:
        raise InputError(str(e)) from e
    opt = paper_optimiser(
        args.lr,
        tau_learning_rate=args.tau_lr,
        clip_norm=args.clip or None,
        weight_decay=args.weight_decay,
    )
    # The options that determine the run (compared on --resume); not the data path (its
    # content is compared), the output, the epochs or how the run is shown.
    volatile = {
        "data",
        "out",
        "epochs",
        "checkpoint_every",
        "resume",
        "allow_changes",
        "quiet",
        "func",
        "command",
        "cpu_devices",
    }
    run_options = {k: v for k, v in vars(args).items() if k not in volatile}
    result = fit(
        model,
        data,
        key=k_fit,
        epochs=args.epochs,
        optimiser=opt,
        batch_size=args.batch_size,
        patience=args.patience,
        progress=False if args.quiet else None,
        checkpoint_dir=ckpt if (args.checkpoint_every or args.resume) else None,
        checkpoint_every=args.checkpoint_every,
        resume_from=ckpt if args.resume else None,
        resume_changes="allow" if args.allow_changes else "refuse",
        config={"cli": run_options},
    )
    best = result.model
    save_model(out, best)
    tcs = {
        k: np.asarray(v).ravel().tolist() for k, v in jax.device_get(best.time_constants()).items()
    }
    summary: dict[str, Any] = dict(tcs)
    summary.update(
        best_val_loss=result.best_val_loss,
        best_epoch=result.best_epoch,
        epochs_run=result.epochs_run,
        stop_reason=result.stop_reason,
        final_train_loss=float(result.history.train_loss[-1]) if result.epochs_run else None,
        time_constants_mode=args.time_constants,
        readout=readout,
        # A resume with another seed is refused, so this is also the checkpoint's seed.
        seed=args.seed,
        n_train=data.n_train,
        n_val=data.n_val,
        n_steps=int(data.x.shape[-2]),
    )
    history = result.history.to_json()
    if result.resumed_with_changes:
        summary["resumed_with_changes"] = history["resumed_with_changes"] = (
            result.resumed_with_changes
        )
    if not np.isfinite(summary["best_val_loss"]):
        summary["best_val_loss"] = None
    atomic_write_json(out / "fit.json", summary)
    atomic_write_json(out / "history.json", history)
    save_figure(
        plot_history(result.history, title=f"fit {Path(args.data).name}"), str(out / "history.png")
    )
    al = {k: [round(v, 4) for v in tcs[k]] for k in tcs if k.startswith("alpha")}
    print(
        f"wrote {out}: best epoch {result.best_epoch}, validation loss {result.best_val_loss:.6g}, {al}"
    )
    return 0
