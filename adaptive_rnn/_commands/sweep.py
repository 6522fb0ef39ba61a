"""`adaptive-rnn sweep`: run a sweep declared in a TOML file."""

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="simulate or train ARU models over a grid of hyper-parameters",
        description=(
            "Run the sweep described by CONFIG.toml (format: docs/training.md; example: "
            "examples/sweep_fig2.toml). Writes DIR/sweep.nc (netCDF, labelled dimensions, "
            "per-point success flag) and DIR/sweep.png."
        ),
    )
    p.add_argument(
        "config", help="a TOML file with [sweep], [grid], [model], [data], [train]/[simulate]"
    )
    p.add_argument("--out", required=True, help="output folder (not a file)")
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
    for name in ("sweep.nc", "sweep.png"):
        check_output_file("--out", str(out / name), inputs=(args.config,))
    cfg = load_config(args.config)
    ds = run_config(cfg, progress=False if args.quiet else None)
    save_sweep(ds, out / "sweep.nc")
    save_figure(plot_sweep(ds, title=Path(args.config).stem), str(out / "sweep.png"))
    n_ok = int(np.asarray(ds["success"]).sum())
    print(
        f"wrote {out / 'sweep.nc'} and {out / 'sweep.png'}: {n_ok}/{ds['success'].size} points succeeded"
    )
    summary = failure_summary(ds)
    if summary:
        print(summary)
    return 0
