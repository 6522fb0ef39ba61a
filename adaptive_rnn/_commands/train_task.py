"""`adaptive-rnn train-task`: train a model on a cognitive task, write task.json and plots."""

import argparse
import json

from .._errors import InputError


def add_parser(sub) -> None:
    from ..tasks import TASKS

    p = sub.add_parser(
        "train-task",
        help="train a model on a cognitive task and analyse it",
        description=(
            "Train a fresh ARU, CTRNN or shunting network on a cognitive task (dt in ms), "
            "then write DIR/task.json (held-out accuracy, learned time constants per E/I "
            "group, fixed points), the trained model (DIR/model) and plots "
            "(psychometric curve where the task has one, time-constant distributions, "
            "fixed points)."
        ),
    )
    p.add_argument("task", help=f"one of {', '.join(sorted(TASKS))}")
    p.add_argument("--model", choices=("aru", "ctrnn", "shunting"), default="aru", help="model family (default aru)")
    p.add_argument("--dale", action="store_true", help="Dale's law: 80%% excitatory, 20%% inhibitory units")
    p.add_argument(
        "--time-constants", choices=("static", "global", "local"), default="local",
        help="fixed, one learnable per layer, or one per neuron (default local)",
    )
    p.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed of data, model and training (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    p.add_argument("--n-train", type=int, default=256, help="training trials (default 256)")
    p.add_argument("--n-val", type=int, default=64, help="validation trials (default 64)")
    p.add_argument("--n-test", type=int, default=200, help="held-out test trials (default 200)")
    p.add_argument("--batch-size", type=int, default=16, help="trials per update (default 16)")
    p.add_argument("--learning-rate", type=float, default=1e-2, help="Adam step (default 1e-2)")
    p.add_argument("--tau", type=float, default=100.0, help="initial time constant in ms (default 100)")
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="a task parameter, VALUE in JSON (e.g. --param dt=10 --param 'coherences=[6.4,25.6]'); repeatable",
    )
    p.add_argument("--no-fixed-points", action="store_true", help="skip the fixed-point search")
    p.add_argument("--fixed-point-inits", type=int, default=32, help="starting states of the fixed-point search (default 32)")
    p.set_defaults(func=run)


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"--param: got {item!r}, expected NAME=VALUE")
        try:
            v = json.loads(value)
        except json.JSONDecodeError:
            v = value
        params[name.strip()] = tuple(v) if isinstance(v, list) else v
    return params


def run(args: argparse.Namespace) -> int:
    from ..analysis import train_on_task

    res = train_on_task(
        args.task, model=args.model, dale=args.dale, time_constants=args.time_constants,
        n_hidden=args.hidden, epochs=args.epochs, seed=args.seed, n_train=args.n_train,
        n_val=args.n_val, n_test=args.n_test, batch_size=args.batch_size,
        learning_rate=args.learning_rate, tau=args.tau, task_params=_parse_params(args.param),
        fixed_points=not args.no_fixed_points, n_fixed_point_inits=args.fixed_point_inits,
        out=args.out,
    )
    s = res.summary
    fp = s.get("fixed_points")
    extra = f", {fp['count']} fixed/slow points ({fp['n_stable']} stable)" if fp else ""
    print(f"{args.task}: held-out accuracy {s['accuracy']:.3f}{extra}; wrote {args.out}/task.json")
    return 0
