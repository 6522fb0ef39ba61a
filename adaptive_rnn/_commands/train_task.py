"""`adaptive-rnn train-task`: train a model on a cognitive task, write task.json and plots."""

import argparse
import json

from .._errors import InputError
from ._common import nonnegative_int, positive_float, positive_int, seed_int


def add_parser(sub) -> None:
    from ..recipes import TRAIN_TASK_DEFAULTS as D
    from ..tasks import TASKS

    p = sub.add_parser(
        "train-task",
        help="train a model on a cognitive task and analyse it",
        description=(
            "Train a fresh ARU, CTRNN or shunting network on a cognitive task (dt in ms), "
            "then write DIR/task.json (held-out accuracy, learned time constants per E/I "
            "group, fixed points; for perceptual_decision and context_decision the "
            "psychometric curve: accuracy against coherence, with the ideal observer's "
            "accuracy on the same trials, and P(right) against signed coherence), the "
            "trained model (DIR/model) and plots (DIR/psychometric.png where the task has "
            "one, time-constant distributions, fixed points). The defaults train every "
            "model family close to the ideal observer on the two decision tasks."
        ),
    )
    p.add_argument("task", help=f"one of {', '.join(sorted(TASKS))}")
    p.add_argument(
        "--model",
        choices=("aru", "ctrnn", "shunting"),
        default=D["model"],
        help="model family (default %(default)s)",
    )
    p.add_argument(
        "--dale", action="store_true", help="Dale's law: 80%% excitatory, 20%% inhibitory units"
    )
    p.add_argument(
        "--time-constants",
        choices=("static", "global", "local"),
        default=D["time_constants"],
        help="fixed, one learnable per layer, or one per neuron (default %(default)s)",
    )
    p.add_argument(
        "--epochs",
        type=nonnegative_int,
        default=D["epochs"],
        help="training epochs (default %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=seed_int,
        default=D["seed"],
        help="random seed of data, model and training (default %(default)s)",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--hidden",
        type=positive_int,
        default=D["n_hidden"],
        help="hidden units (default %(default)s)",
    )
    p.add_argument(
        "--n-train",
        type=positive_int,
        default=D["n_train"],
        help="training trials (default %(default)s)",
    )
    p.add_argument(
        "--n-val",
        type=positive_int,
        default=D["n_val"],
        help="validation trials (default %(default)s)",
    )
    p.add_argument(
        "--n-test",
        type=positive_int,
        default=D["n_test"],
        help="held-out test trials, also those of the psychometric curve (default %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=D["batch_size"],
        help="trials per update, at most --n-train (default %(default)s)",
    )
    p.add_argument(
        "--learning-rate",
        type=positive_float,
        default=D["learning_rate"],
        help="Adam step (default %(default)s)",
    )
    p.add_argument(
        "--tau",
        type=positive_float,
        default=D["tau"],
        help="initial time constant in ms (default %(default)s)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a task parameter, VALUE in JSON (e.g. --param dt=10 --param 'coherences=[6.4,25.6]'); repeatable",
    )
    p.add_argument("--no-fixed-points", action="store_true", help="skip the fixed-point search")
    p.add_argument(
        "--fixed-point-inits",
        type=positive_int,
        default=D["n_fixed_point_inits"],
        help="starting states of the fixed-point search (default %(default)s)",
    )
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


def _check_args(args) -> dict:
    """Every check that needs no model and no compiling; returns the task parameters."""
    from .._checks import check_int, check_keys
    from ..tasks import get_task
    from ._common import check_output_dir

    check_output_dir("--out", args.out)
    task = get_task(args.task)  # the registry: an unknown name lists the registered ones
    check_int("--batch-size", args.batch_size, 1, args.n_train)
    params = _parse_params(args.param)
    check_keys(f"--param ({args.task})", params, task.parameters)
    return params


def run(args: argparse.Namespace) -> int:
    from ..recipes import train_on_task

    params = _check_args(args)
    res = train_on_task(
        args.task,
        model=args.model,
        dale=args.dale,
        time_constants=args.time_constants,
        n_hidden=args.hidden,
        epochs=args.epochs,
        seed=args.seed,
        n_train=args.n_train,
        n_val=args.n_val,
        n_test=args.n_test,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        tau=args.tau,
        task_params=params,
        fixed_points=not args.no_fixed_points,
        n_fixed_point_inits=args.fixed_point_inits,
        out=args.out,
    )
    s = res.summary
    fp = s.get("fixed_points")
    extra = f", {fp['count']} fixed/slow points ({fp['n_stable']} stable)" if fp else ""
    if "ideal_observer_accuracy" in s:
        extra = (
            f" (ideal observer {s['ideal_observer_accuracy']:.3f}){extra}; psychometric curve "
            f"(accuracy by coherence) in task.json and {args.out}/psychometric.png"
        )
    print(f"{args.task}: held-out accuracy {s['accuracy']:.3f}{extra}; wrote {args.out}/task.json")
    return 0
