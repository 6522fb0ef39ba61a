"""`adaptive-rnn simulate`: run a saved or fresh model on inputs from an .npz file."""

import argparse
from pathlib import Path

import diffrax
import jax
import numpy as np

from .._checks import check_int, check_memory
from .._errors import InputError
from ._common import (
    add_model_options,
    build_fresh_model,
    check_output_dir,
    check_output_file,
    fresh_model_kwargs,
    load_npz,
    nonnegative_float,
    positive_float,
    save_figure,
    save_npz,
    seed_key,
)

SOLVERS = {
    "discrete": None,
    "euler": diffrax.Euler,
    "heun": diffrax.Heun,
    "tsit5": diffrax.Tsit5,
    "dopri5": diffrax.Dopri5,
    "kvaerno5": diffrax.Kvaerno5,
}
# Solvers with an error estimate (adaptive steps with --rtol); kvaerno5 is implicit and
# always adaptive (its root finder takes the controller's tolerances).
ADAPTIVE = ("heun", "tsit5", "dopri5", "kvaerno5")
DEFAULT_IMPLICIT_RTOL = 1e-5
# The smoothing window of --random-inputs (adaptive_rnn.tasks.smoothed_uniform_inputs).
MIN_RANDOM_STEPS = 7


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
        "--random-inputs",
        metavar="B,T",
        help=f"instead of --inputs: B smoothed random sequences of T >= {MIN_RANDOM_STEPS} steps (seeded by --seed)",
    )
    p.add_argument(
        "--out", required=True, help="output .npz (outputs, ts, states); not the --inputs file"
    )
    p.add_argument("--plot", help="write a plot of states and outputs (PNG/PDF)")
    p.add_argument(
        "--plot-index", type=int, default=0, help="which sequence to plot, in [-B, B-1] (default 0)"
    )
    p.add_argument(
        "--solver",
        choices=sorted(SOLVERS),
        default="discrete",
        help="discrete: the exact recurrence (default); others: diffrax in continuous time, on "
        "the input grid unless --rtol is given; kvaerno5 (implicit) always takes adaptive "
        f"steps, with --rtol {DEFAULT_IMPLICIT_RTOL:g} unless given",
    )
    p.add_argument(
        "--rtol",
        type=positive_float,
        help=f"adaptive steps with this rtol (solvers {', '.join(ADAPTIVE)})",
    )
    p.add_argument(
        "--atol",
        type=nonnegative_float,
        default=1e-6,
        help="atol for adaptive steps (default 1e-6)",
    )
    p.add_argument("--save-model", help="also save the (fresh) model to this folder")
    add_model_options(p)
    p.set_defaults(func=run)


def _parse_random_inputs(spec: str) -> tuple[int, int]:
    try:
        B, T = (int(v) for v in spec.split(","))
    except ValueError as e:
        raise InputError(f"--random-inputs: got {spec!r}, expected B,T (two integers)") from e
    if B < 1 or T < MIN_RANDOM_STEPS:
        raise InputError(
            f"--random-inputs: got {spec!r}, expected B >= 1 sequences of T >= {MIN_RANDOM_STEPS} "
            f"steps (the smoothing window)"
        )
    return B, T


def _random_inputs(B: int, T: int, n_in: int, seed: int) -> np.ndarray:
    from ..tasks import smoothed_uniform_inputs

    return np.asarray(smoothed_uniform_inputs(jax.random.key(seed + 1), B, T, n_in))


def _check_trajectory_memory(model, B: int, T: int, option: str, got) -> None:
    """Refuses, before the run, a trajectory too large for memory: the outputs and every
    recorded state (the model's `derived_states` included) of `B` sequences of `T` steps,
    twice (the result, and its copy written to the .npz). The sizes per step come from
    `jax.eval_shape` of a one-step simulation (nothing is computed)."""
    from .. import simulate

    spec = jax.ShapeDtypeStruct((1, 1, model.n_in), np.float32)  # cast to the model's dtype inside
    traj = jax.eval_shape(
        lambda x: simulate(model, x, return_states=True, key=jax.random.key(0)), spec
    )
    per_step = int(np.prod(traj.outputs.shape[2:])) + sum(
        int(np.prod(v.shape[2:])) for v in traj.states.values()
    )
    itemsize = np.dtype(traj.outputs.dtype).itemsize
    check_memory(
        option,
        got,
        2.0 * B * T * per_step * itemsize,
        f"the trajectory of the {type(model).__name__} ({B} x {T} steps, {per_step} values per step) "
        f"and its copy in the .npz",
    )


def _check_args(args, B: int, T: int, n_in_data: int | None) -> dict | None:
    """Every check that needs no model and no compiling.

    **Returns:** the constructor arguments of the fresh model (`--random`), else `None`.
    """
    if args.n_in is not None and n_in_data is not None and args.n_in != n_in_data:
        raise InputError(
            f"--n-in: got {args.n_in}, but --inputs {args.inputs} has width {n_in_data}; expected the same"
        )
    kwargs = None if args.random is None else fresh_model_kwargs(args)
    if args.plot:
        check_int("--plot-index", args.plot_index, -B, B - 1)
    if args.rtol is not None and args.solver not in ADAPTIVE:
        raise InputError(
            f"--rtol: got {args.rtol:g} with --solver {args.solver}, which takes fixed steps; expected "
            f"--solver {', '.join(ADAPTIVE)} for adaptive steps, or no --rtol"
        )
    return kwargs


def _check_outputs(args) -> None:
    """The output paths, before any work: none overwrites an input or another output."""
    check_output_file("--out", args.out, inputs=(args.inputs,))
    if args.plot:
        check_output_file("--plot", args.plot, inputs=(args.inputs,))
        if Path(args.plot).resolve() == Path(args.out).resolve():
            raise InputError(
                f"--plot: got {args.plot!r}, the same file as --out; expected another path"
            )
    if args.save_model:
        check_output_dir("--save-model", args.save_model)
        if args.model is not None and Path(args.save_model).resolve() == Path(args.model).resolve():
            raise InputError(
                f"--save-model: got {args.save_model!r}, the folder of the MODEL being read; "
                f"expected another folder"
            )
        for option, path in (("--out", args.out), ("--plot", args.plot)):
            if path and Path(path).resolve() == Path(args.save_model).resolve():
                raise InputError(
                    f"--save-model: got {args.save_model!r}, the same path as {option}; expected another folder"
                )


def run(args: argparse.Namespace) -> int:
    from .. import load_model, save_model, simulate, solve
    from ..analysis import plot_trajectory
    from ..models import family_names

    if (args.model is None) == (args.random is None):
        raise InputError(
            f"simulate: give either MODEL (a saved model folder) or --random {'|'.join(family_names())}"
        )
    if (args.inputs is None) == (args.random_inputs is None):
        raise InputError("simulate: give either --inputs X.npz or --random-inputs B,T")
    _check_outputs(args)
    if args.inputs is not None:
        inputs = load_npz(args.inputs, ("inputs",), "--inputs")["inputs"]
        if inputs.ndim != 3:
            raise InputError(
                f"--inputs: {args.inputs}: `inputs` has shape {inputs.shape}, expected (B, T, n_in)"
            )
        B, T, n_in_data = inputs.shape
    else:
        B, T = _parse_random_inputs(args.random_inputs)
        inputs, n_in_data = None, None
    kwargs = _check_args(args, B, T, n_in_data)
    if args.model is not None:
        model = load_model(args.model)
    else:
        n_in = args.n_in or n_in_data or 2
        assert kwargs is not None  # `_check_args` returns them whenever no --model is given
        model = build_fresh_model(args, n_in, kwargs, seed_key(args.seed))
    if args.inputs is not None:
        assert inputs is not None  # loaded from --inputs above
        _check_trajectory_memory(model, B, T, "--inputs", f"{args.inputs} of shape {inputs.shape}")
    else:
        _check_trajectory_memory(model, B, T, "--random-inputs", args.random_inputs)
    if inputs is None:
        inputs = _random_inputs(B, T, model.n_in, args.seed)
    # Models with noise need a key (seeded by --seed); others ignore it.
    key = jax.random.key(args.seed + 2)
    if args.solver == "discrete":
        traj = simulate(model, inputs, return_states=True, key=key)
    else:
        kw = {}
        rtol = args.rtol
        if rtol is None and args.solver == "kvaerno5":
            rtol = DEFAULT_IMPLICIT_RTOL
        if rtol is not None:
            kw["stepsize_controller"] = diffrax.PIDController(rtol=rtol, atol=args.atol)
        traj = solve(
            model, inputs, solver=SOLVERS[args.solver](), return_states=True, key=key, **kw
        )
    assert traj.states is not None  # return_states=True
    save_npz(
        args.out,
        outputs=traj.outputs,
        ts=traj.ts,
        **{f"state_{k}": v for k, v in traj.states.items()},
    )
    print(f"wrote {args.out}: outputs {tuple(traj.outputs.shape)}")
    if args.save_model:
        save_model(args.save_model, model)
        print(f"saved model to {args.save_model}")
    if args.plot:
        fig = plot_trajectory(
            traj, index=args.plot_index, title=f"{type(model).__name__} ({args.solver})"
        )
        save_figure(fig, args.plot)
        print(f"wrote {args.plot}")
    return 0
