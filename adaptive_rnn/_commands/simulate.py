"""`adaptive-rnn simulate`: run a saved or fresh model on inputs from an .npz file."""

import argparse

import diffrax
import jax
import numpy as np

from .._errors import InputError
from ._common import add_model_options, load_npz, save_figure, save_npz

SOLVERS = {
    "discrete": None,
    "euler": diffrax.Euler,
    "heun": diffrax.Heun,
    "tsit5": diffrax.Tsit5,
    "dopri5": diffrax.Dopri5,
    "kvaerno5": diffrax.Kvaerno5,
}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="run a model on inputs and save outputs and states",
        description=(
            "Run a saved model (a folder written by the library) or a fresh random one on "
            "inputs of shape (B, T, n_in) from an .npz file; write outputs (B, T, n_out), "
            "times and states to an .npz file, and optionally a plot of I, r and y."
        ),
    )
    p.add_argument("model", nargs="?", help="folder of a saved model (omit with --random)")
    p.add_argument("--inputs", help="an .npz file with `inputs` of shape (B, T, n_in)")
    p.add_argument(
        "--random-inputs", metavar="B,T",
        help="instead of --inputs: B smoothed random sequences of T steps (seeded by --seed)",
    )
    p.add_argument("--out", required=True, help="output .npz (outputs, ts, states)")
    p.add_argument("--plot", help="write a plot of states and outputs (PNG/PDF)")
    p.add_argument("--plot-index", type=int, default=0, help="which sequence to plot (default 0)")
    p.add_argument(
        "--solver", choices=sorted(SOLVERS), default="discrete",
        help="discrete: the exact recurrence (default); others: diffrax in continuous time",
    )
    p.add_argument("--rtol", type=float, help="adaptive steps with this rtol (diffrax solvers)")
    p.add_argument("--atol", type=float, default=1e-6, help="atol for adaptive steps (default 1e-6)")
    p.add_argument("--save-model", help="also save the (fresh) model to this folder")
    add_model_options(p)
    p.set_defaults(func=run)


def _random_inputs(spec: str, n_in: int, seed: int) -> np.ndarray:
    from ..tasks import smoothed_uniform_inputs

    try:
        B, T = (int(v) for v in spec.split(","))
    except ValueError as e:
        raise InputError(f"--random-inputs: got {spec!r}, expected B,T (two integers)") from e
    return np.asarray(smoothed_uniform_inputs(jax.random.key(seed + 1), B, T, n_in))


def run(args: argparse.Namespace) -> int:
    from .. import ARU, load_model, save_model, simulate, solve
    from ..analysis import plot_trajectory

    if (args.model is None) == (args.random is None):
        raise InputError("simulate: give either MODEL (a saved model folder) or --random aru|ctrnn|shunting")
    if (args.inputs is None) == (args.random_inputs is None):
        raise InputError("simulate: give either --inputs X.npz or --random-inputs B,T")
    if args.model is not None:
        model = load_model(args.model)
    else:
        if args.inputs is not None:
            n_in = args.n_in or int(load_npz(args.inputs, ("inputs",))["inputs"].shape[-1])
        else:
            n_in = args.n_in or 2
        key = jax.random.key(args.seed)
        if args.random == "ctrnn":
            from .. import CTRNN

            model = CTRNN(
                n_in, args.hidden, args.n_out, activation=args.activation,
                time_constants=args.time_constants, alpha=args.alpha_s,
                dt=args.dt or 1.0, key=key,
            )
        elif args.random == "shunting":
            from .. import Shunting

            model = Shunting(
                n_in, args.hidden, args.n_out, activation=args.activation,
                dt=args.dt or 0.1, key=key,
            )
        else:
            model = ARU(
                n_in, args.hidden, args.n_out, activation=args.activation,
                time_constants=args.time_constants, alpha_s=args.alpha_s, alpha_r=args.alpha_r,
                key=key,
            )
    if args.inputs is not None:
        inputs = load_npz(args.inputs, ("inputs",))["inputs"]
        if inputs.ndim != 3:
            raise InputError(f"{args.inputs}: `inputs` has shape {inputs.shape}, expected (B, T, n_in)")
    else:
        inputs = _random_inputs(args.random_inputs, model.n_in, args.seed)
    # Models with noise need a key (seeded by --seed); others ignore it.
    key = jax.random.key(args.seed + 2)
    if args.solver == "discrete":
        traj = simulate(model, inputs, return_states=True, key=key)
    else:
        kw = {}
        if args.rtol is not None:
            kw["stepsize_controller"] = diffrax.PIDController(rtol=args.rtol, atol=args.atol)
        traj = solve(model, inputs, solver=SOLVERS[args.solver](), return_states=True, key=key, **kw)
    save_npz(
        args.out, outputs=traj.outputs, ts=traj.ts,
        **{f"state_{k}": v for k, v in traj.states.items()},
    )
    print(f"wrote {args.out}: outputs {tuple(traj.outputs.shape)}")
    if args.save_model:
        save_model(args.save_model, model)
        print(f"saved model to {args.save_model}")
    if args.plot:
        fig = plot_trajectory(traj, index=args.plot_index, title=f"{type(model).__name__} ({args.solver})")
        save_figure(fig, args.plot)
        print(f"wrote {args.plot}")
    return 0
