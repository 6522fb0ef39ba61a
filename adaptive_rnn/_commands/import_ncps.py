"""`adaptive-rnn import-ncps`: turn a liquid time-constant network saved from ncps into an
adaptive_rnn model."""

import argparse

from ._common import nonnegative_float, positive_float, positive_int

CONSTRAINTS = {"auto": None, "softplus": True, "clip": False}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import-ncps",
        help="convert an ncps LTC / LTCCell state dict (.pt) into an adaptive_rnn model folder",
        description=(
            "Read CHECKPOINT.pt written by torch.save(model.state_dict()) for an ncps LTCCell "
            "or LTC (safely: torch.load with weights_only=True, or a tensor-only reader without "
            "torch) and write an adaptive_rnn LTC with identical dynamics to --out. The settings "
            "a state dict does not hold are options. Run it with `adaptive-rnn simulate DIR "
            "--inputs X.npz` (batch-first inputs, as ncps's LTC)."
        ),
    )
    p.add_argument("checkpoint", help="the .pt file holding the ncps state dict")
    p.add_argument("--out", required=True, help="folder for the adaptive_rnn model")
    p.add_argument(
        "--dt",
        type=positive_float,
        default=1.0,
        help="elapsed time of one step, ncps's elapsed_time (default 1)",
    )
    p.add_argument(
        "--ode-unfolds", type=positive_int, default=6, help="ncps's ode_unfolds (default 6)"
    )
    p.add_argument(
        "--epsilon", type=nonnegative_float, default=1e-8, help="ncps's epsilon (default 1e-8)"
    )
    p.add_argument(
        "--constraints",
        choices=tuple(CONSTRAINTS),
        default="auto",
        help="softplus: implicit_param_constraints=True; clip: False; auto (default): ncps's default "
        "for the saved class (LTC: softplus, LTCCell: clip)",
    )
    p.add_argument(
        "--n-out",
        type=positive_int,
        help="motor units read out when the file has no output_w (default: all)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._ncps import import_ncps
    from ._common import check_output_dir

    check_output_dir("--out", args.out)
    model = import_ncps(
        args.checkpoint,
        args.out,
        dt=args.dt,
        ode_unfolds=args.ode_unfolds,
        epsilon=args.epsilon,
        implicit_param_constraints=CONSTRAINTS[args.constraints],
        n_out=args.n_out,
    )
    print(
        f"wrote {args.out}: LTC {model.n_in}-{model.n_hidden}-{model.n_out}, {model.ode_unfolds} unfolds "
        f"per dt = {model.dt:g}, positivity {model.positivity}, input {model.input_mapping}, "
        f"output {model.output_mapping}"
    )
    return 0
