"""`adaptive-rnn teacher`: the paper's teacher-network data (E1) as an .npz file."""

import argparse

from ._common import activation_name, positive_float, positive_int, seed_int

MIN_STEPS = 7  # the smoothing window of the inputs


def add_parser(sub) -> None:
    p = sub.add_parser(
        "teacher",
        help="generate the paper's teacher-network data (E1)",
        description=(
            "A teacher ARU (2 inputs, 10 hidden, 2 outputs, sigmoid, random weights) with "
            "fixed rate constants, run on 500 smoothed random sequences of 40 steps. Writes "
            "inputs (S, T, n_in), targets (S, T, n_out), the teacher's alphas, n_train and "
            "train_steps (the paper's split: 400/100, first 20 steps)."
        ),
    )
    p.add_argument(
        "--alpha-s",
        type=positive_float,
        required=True,
        help="teacher alpha_s in (0, 2) (or mean of the local draws)",
    )
    p.add_argument(
        "--alpha-r",
        type=positive_float,
        required=True,
        help="teacher alpha_r in (0, 2) (or mean of the local draws)",
    )
    p.add_argument(
        "--local-sd",
        type=positive_float,
        help="heterogeneous: per-neuron alphas ~ Normal(alpha, SD) in (0, 1)",
    )
    p.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--activation",
        type=activation_name,
        default="sigmoid",
        help="teacher activation (default sigmoid)",
    )
    p.add_argument(
        "--readout",
        choices=("lagged", "current"),
        default="lagged",
        help="readout convention (default lagged, the paper's); the student must use the same",
    )
    p.add_argument(
        "--hidden", type=positive_int, default=10, help="teacher hidden units (default 10)"
    )
    p.add_argument(
        "--sequences", type=positive_int, default=500, help="number of sequences (default 500)"
    )
    p.add_argument(
        "--steps",
        type=positive_int,
        default=40,
        help=f"steps per sequence, >= {MIN_STEPS} (default 40)",
    )
    p.add_argument(
        "--n-train",
        type=positive_int,
        default=400,
        help="training sequences, fewer than --sequences (default 400)",
    )
    p.add_argument(
        "--train-steps",
        type=positive_int,
        default=20,
        help="steps used in training, at most --steps (default 20)",
    )
    p.add_argument("--out", required=True, help="output .npz")
    p.set_defaults(func=run)


def _check_args(args) -> None:
    """Every check that needs no model and no compiling."""
    import numpy as np

    from .._checks import check_int, check_memory, check_number
    from ._common import check_output_file

    check_output_file("--out", args.out)
    high = 2 if args.local_sd is None else 1  # per-neuron draws are kept inside (0, 1)
    for name in ("--alpha-s", "--alpha-r"):
        check_number(
            name if high == 2 else f"{name} (with --local-sd)",
            getattr(args, name[2:].replace("-", "_")),
            0,
            high,
            low_open=True,
            high_open=True,
        )
    check_int("--steps", args.steps, MIN_STEPS)
    check_int("--n-train", args.n_train, 1, args.sequences - 1)
    check_int("--train-steps", args.train_steps, 1, args.steps)
    # inputs (2 channels) and targets (2 outputs), float32/64, plus the teacher's states
    itemsize = np.dtype(np.result_type(float)).itemsize
    nbytes = (
        float(args.sequences) * args.steps * (4 + 2 * args.hidden) * itemsize
        + 2.0 * args.hidden**2 * itemsize
    )
    check_memory(
        "--sequences", args.sequences, nbytes, f"{args.sequences} sequences of {args.steps} steps"
    )


def run(args: argparse.Namespace) -> int:
    import jax

    from ..tasks import teacher_data

    _check_args(args)
    td = teacher_data(
        jax.random.key(args.seed),
        alpha_s=args.alpha_s,
        alpha_r=args.alpha_r,
        local_sd=args.local_sd,
        n_sequences=args.sequences,
        n_steps=args.steps,
        n_train=args.n_train,
        train_steps=args.train_steps,
        n_hidden=args.hidden,
        activation=args.activation,
        readout=args.readout,
    )
    td.save(args.out)
    print(f"wrote {args.out}: inputs {td.inputs.shape}, targets {td.targets.shape}")
    return 0
