"""`adaptive-rnn reproduce`: the experiments of Quax et al. (2020), one command each."""

import argparse

from ._common import positive_int, seed_int

NAMES = (
    "fig2",
    "fig3",
    "size",
    "relu",
    "local",
    "memory",
    "hierarchy",
    "all",
    "fig3_rates",
    "hierarchy_protocols",
    "memory_protocols",
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "reproduce",
        help="reproduce an experiment of Quax et al. (2020) (fig2, fig3, size, relu, local, memory, hierarchy, all)",
        description=(
            "Runs one experiment of Quax, D'Asaro & van Gerven (2020) (E2-E8 of REPRODUCTION.md) and writes "
            "DIR/NAME.json (the plotted numbers, runtime and config), DIR/NAME.png and DIR/NAME.pdf. "
            "Scales: paper (the paper's protocol), quick (reduced seeds and epochs; `all` within "
            "minutes on a 2-core CPU), tiny (seconds; for tests). With --seeds N, one run per "
            "seed (DIR/NAME_seedS.json) and a summary of the claims across seeds "
            "(DIR/NAME_seeds.json). See REPRODUCTION.md."
        ),
    )
    p.add_argument(
        "name",
        choices=NAMES,
        help="experiment, or all (the seven experiments); fig3_rates: Fig. 3 from every "
        "start at several time-constant learning rates; hierarchy_protocols: E8 within one "
        "layer and across stacked layers; memory_protocols: E7 with a go cue and random "
        "delays (studies, not part of all)",
    )
    p.add_argument(
        "--scale",
        choices=("quick", "paper", "tiny"),
        default="quick",
        help="quick (default), paper, or tiny (a smoke test)",
    )
    p.add_argument("--seed", type=seed_int, default=0, help="base random seed (default 0)")
    p.add_argument(
        "--seeds",
        type=positive_int,
        default=None,
        help="run N seeds (SEED, SEED+1, ...; teachers and students drawn anew for each): "
        "DIR/NAME_seedS.json per seed and DIR/NAME_seeds.json with the claims per seed "
        "and their summary (counts, smallest margins, means with 95%% intervals)",
    )
    p.add_argument("--out", default="results", help="output folder (default ./results)")
    prog = p.add_mutually_exclusive_group()
    prog.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show progress bars (default: bars when stderr is a terminal, "
        "else one line per stage on stdout)",
    )
    prog.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bars and no stage lines",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..paper import EXPERIMENTS, reproduce
    from ._common import check_output_dir

    check_output_dir("--out", args.out)
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    for name in names:
        res = reproduce(name, args.scale, args.seed, args.out, args.progress, seeds=args.seeds)
        if args.seeds is None:
            print(f"{name}: wrote {args.out}/{name}.json, .png, .pdf ({res['runtime_s']:.1f} s)")
            continue
        print(
            f"{name}: wrote {args.out}/{name}_seed{{{res['seeds'][0]}..{res['seeds'][-1]}}}"
            f".json, .png, .pdf and {name}_seeds.json ({sum(res['runtime_s']):.1f} s)"
        )
        for c in res["summary"]["claims"]:
            m = "n/a" if c["min_margin"] is None else f"{c['min_margin']:.3g}"
            print(
                f"  {c['name']}: holds for {c['holds']}/{c['n']} seeds "
                f"(smallest margin {m}; {c['unit']})"
            )
    return 0
