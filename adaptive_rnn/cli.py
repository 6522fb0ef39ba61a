"""The `adaptive-rnn` command line. Each subcommand lives in `adaptive_rnn._commands` and
only parses arguments and calls the library."""

import argparse
import importlib
import importlib.util
import sys

# Subcommand modules, in the order `--help` lists them. A module registers its parser
# with `add_parser(subparsers)`; the parser's `func` runs it.
COMMANDS = (
    "simulate",
    "teacher",
    "fit",
    "sweep",
    "sweep_merge",
    "import_nn4n",
    "import_ncps",
    "train_task",
    "reproduce",
    "fit_recording",
)


class UsageError(Exception):
    """A command line that argparse refused (the one-line message is the argument)."""


class _Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are one line (`PROG: error: MESSAGE`, with a
    pointer to `--help` instead of the usage), raised as `UsageError` so that `main`
    returns 2."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    from ._commands._common import positive_int

    parser = _Parser(
        prog="adaptive-rnn",
        description="Continuous-time recurrent networks with adaptive time scales (JAX).",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"adaptive_rnn {__version__}")
    parser.add_argument(
        "--cpu-devices",
        type=positive_int,
        default=None,
        metavar="N",
        help="JAX CPU devices to spread ensembles, sweeps and batches over (default: one per "
        "core; 1 runs everything on one device). See adaptive_rnn.configure_cpu.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        modname = f"adaptive_rnn._commands.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        importlib.import_module(modname).add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Runs the command line `argv` (default `sys.argv[1:]`).

    **Returns:** the exit status: 0, or 2 for a bad command line or bad input (one line
    on stderr, naming the argument, what it got and what was expected).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        print(e, file=sys.stderr)
        return 2
    from ._errors import AdaptiveRNNError

    try:
        _configure(args.cpu_devices)
        return int(args.func(args) or 0)
    except AdaptiveRNNError as e:
        message = " ".join(str(e).split())  # one line, whatever the message holds
        print(f"adaptive-rnn {args.command}: error: {message}", file=sys.stderr)
        return 2


def _configure(devices: int | None) -> None:
    """Uses every core (`configure_cpu`) when this process has not run JAX yet; when it
    has (the command called from Python, e.g. in tests), JAX stays as it is."""
    from ._cpu import _backends_initialised, configure_cpu

    if not _backends_initialised():
        configure_cpu(devices)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
