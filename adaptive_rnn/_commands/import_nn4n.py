"""`adaptive-rnn import-nn4n`: turn a CTRNN saved by NN4N 1.x into an adaptive_rnn model."""

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "import-nn4n",
        help="convert an NN4N 1.x CTRNN checkpoint (.pth) into an adaptive_rnn model folder",
        description=(
            "Read MODEL.pth written by NN4N's CTRNN.save() (safely: torch.load with "
            "weights_only=True, or a tensor-only reader without torch) and write an "
            "adaptive_rnn CTRNN with identical dynamics to --out. Run it with "
            "`adaptive-rnn simulate DIR --inputs X.npz` (batch-first inputs; NN4N is time-first)."
        ),
    )
    p.add_argument("checkpoint", help="the .pth file written by nn4n's save()")
    p.add_argument("--out", required=True, help="folder for the adaptive_rnn model")
    p.add_argument("--no-noise", action="store_true", help="drop NN4N's noise (its eval() mode)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .._nn4n import import_nn4n
    from ._common import check_output_dir

    check_output_dir("--out", args.out)
    model = import_nn4n(args.checkpoint, args.out, noise=not args.no_noise)
    print(
        f"wrote {args.out}: CTRNN {model.n_in}-{model.n_hidden}-{model.n_out}, "
        f"activation {model.activation}, dt {model.dt}, tau {float(model.tau[0]):g}"
    )
    return 0
