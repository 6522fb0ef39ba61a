"""`adaptive-rnn teacher`: the paper's teacher-network data (E1) as an .npz file."""

import argparse


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
    p.add_argument("--alpha-s", type=float, required=True, help="teacher alpha_s (or mean of the local draws)")
    p.add_argument("--alpha-r", type=float, required=True, help="teacher alpha_r (or mean of the local draws)")
    p.add_argument("--local-sd", type=float, help="heterogeneous: per-neuron alphas ~ Normal(alpha, SD) in (0, 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--activation", default="sigmoid", help="teacher activation (default sigmoid)")
    p.add_argument("--readout", choices=("lagged", "current"), default="lagged",
                   help="readout convention (default lagged, the paper's); the student must use the same")
    p.add_argument("--hidden", type=int, default=10, help="teacher hidden units (default 10)")
    p.add_argument("--sequences", type=int, default=500, help="number of sequences (default 500)")
    p.add_argument("--steps", type=int, default=40, help="steps per sequence (default 40)")
    p.add_argument("--n-train", type=int, default=400, help="training sequences (default 400)")
    p.add_argument("--train-steps", type=int, default=20, help="steps used in training (default 20)")
    p.add_argument("--out", required=True, help="output .npz")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import jax
    from ..tasks import teacher_data

    td = teacher_data(
        jax.random.key(args.seed), alpha_s=args.alpha_s, alpha_r=args.alpha_r,
        local_sd=args.local_sd, n_sequences=args.sequences, n_steps=args.steps,
        n_train=args.n_train, train_steps=args.train_steps, n_hidden=args.hidden,
        activation=args.activation, readout=args.readout,
    )
    td.save(args.out)
    print(f"wrote {args.out}: inputs {td.inputs.shape}, targets {td.targets.shape}")
    return 0
