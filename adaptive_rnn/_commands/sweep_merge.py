"""`adaptive-rnn sweep-merge`: assemble the parts of a sharded sweep into one result."""

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep-merge",
        help="assemble the parts written by `adaptive-rnn sweep --shard I/N` into one result",
        description=(
            "Verify every part in DIR (part-I-of-N.json/.npz: sealed, one configuration, each "
            "shard once, none missing) and write the whole grid's result to FILE (netCDF, as "
            "`adaptive-rnn sweep` writes sweep.nc). Nothing is written when a part is missing, "
            "duplicated, foreign or corrupt: the error lists them. See docs/sweeps.md."
        ),
    )
    p.add_argument("dir", metavar="DIR", help="the folder the shards wrote their parts to")
    p.add_argument("--out", required=True, metavar="FILE", help="the merged result (.nc)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..recipes import failure_summary, merge_config_sweep
    from ..train import save_sweep
    from ._common import check_output_file

    out = check_output_file("--out", args.out)
    ds = merge_config_sweep(args.dir)
    save_sweep(ds, out)
    n_ok = int(np.asarray(ds["success"]).sum())
    print(
        f"wrote {out}: {ds.attrs['n_shards']} parts merged, {n_ok}/{ds['success'].size} "
        f"points succeeded"
    )
    summary = failure_summary(ds)
    if summary:
        print(summary)
    return 0
