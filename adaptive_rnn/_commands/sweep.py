"""`adaptive-rnn sweep`: run a sweep declared in a TOML file (whole, or one shard of it)."""

import argparse
import re


def shard_spec(text: str) -> tuple[int, int]:
    """`I/N` (shard I of N, 0 <= I < N) as `(I, N)`; anything else an argparse error."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if m is None or not 0 <= int(m[1]) < int(m[2]):
        why = ""
        if m is not None:
            i, n = int(m[1]), int(m[2])
            why = " (N must be >= 1)" if n == 0 else f" (shard {i} does not exist: 0..{n - 1})"
        raise argparse.ArgumentTypeError(
            f"got {text!r}{why}, expected I/N with integers 0 <= I < N (shard I of N, e.g. 0/4)"
        )
    return int(m[1]), int(m[2])


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="simulate or train ARU models over a grid of hyper-parameters",
        description=(
            "Run the sweep described by CONFIG.toml (format: docs/training.md; example: "
            "examples/sweep_fig2.toml). Writes DIR/sweep.nc (netCDF, labelled dimensions, "
            "per-point success flag) and DIR/sweep.png. With --shard I/N, runs only shard I "
            "of N and writes its part DIR/part-I-of-N.json/.npz; `adaptive-rnn sweep-merge "
            "DIR` assembles the parts (docs/sweeps.md). Finished chunks are written to DIR "
            "as they come; --resume reads them back after a crash."
        ),
    )
    p.add_argument(
        "config", help="a TOML file with [sweep], [grid], [model], [data], [train]/[simulate]"
    )
    p.add_argument("--out", required=True, help="output folder (not a file)")
    p.add_argument(
        "--shard",
        type=shard_spec,
        default=None,
        metavar="I/N",
        help="run only shard I of N (0 <= I < N), e.g. --shard $SLURM_ARRAY_TASK_ID/100",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run in --out: chunks (or the part) already written "
        "there by the same configuration are read back, not computed again",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from ..analysis import plot_sweep
    from ..recipes import failure_summary, load_config, run_config
    from ..train import save_sweep
    from ._common import check_output_dir, check_output_file, save_figure

    out = check_output_dir("--out", args.out)
    if args.shard is None:
        for name in ("sweep.nc", "sweep.png"):
            check_output_file("--out", str(out / name), inputs=(args.config,))
    cfg = load_config(args.config)
    ds = run_config(
        cfg,
        progress=False if args.quiet else None,
        shard=args.shard,
        directory=out,
        resume=args.resume,
    )
    n_ok = int(np.asarray(ds["success"]).sum())
    chunks = (
        f"{ds.attrs['chunks_computed']} chunks computed, {ds.attrs['chunks_skipped']} read back"
    )
    if args.shard is not None:
        i, n = args.shard
        print(
            f"wrote {ds.attrs['part']} and its .npz (shard {i}/{n}): "
            f"{n_ok}/{ds['success'].size} points succeeded; {chunks}"
        )
    else:
        save_sweep(ds, out / "sweep.nc")
        save_figure(plot_sweep(ds, title=Path(args.config).stem), str(out / "sweep.png"))
        print(
            f"wrote {out / 'sweep.nc'} and {out / 'sweep.png'}: {n_ok}/{ds['success'].size} "
            f"points succeeded; {chunks}"
        )
    summary = failure_summary(ds)
    if summary:
        print(summary)
    return 0
