"""`adaptive-rnn fit-recording`: time constants in milliseconds, with bootstrap
confidence intervals, fitted to a recording of spike counts or signals."""

import argparse

from ._common import nonnegative_float, positive_float, positive_int, seed_int

FORMATS = ("npz", "hdf5", "nwb")
# The default number of refits, that of `fit_recording` (16 split evenly over 2, 4 or 8
# CPU devices).
BOOTSTRAP = 16
# Options that only one format reads.
_HDF5_OPTIONS = ("counts", "signals", "inputs", "mask")
_NWB_OPTIONS = ("units", "intervals", "timeseries", "window_ms")
# Settings of fit_recording named in its messages, and the options that set them.
_SETTING_OPTIONS = {
    "loss": "--loss",
    "hidden": "--hidden",
    "time_constants": "--time-constants",
    "observed": "--observed",
    "bootstrap": "--bootstrap",
    "confidence": "--confidence",
    "heldout_fraction": "--heldout-fraction",
    "burn_in_ms": "--burn-in-ms",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "learning_rate": "--lr",
    "link": "--link",
    "bin_ms": "--bin-ms",
    "interval": "--interval",
    "resample": "--resample",
    "initial_state": "--initial-state",
    "self_connections": "--self-connections",
}


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a number in (0, 1)")
    return v


def _window(text: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"got {text!r}, expected BEGIN,END in ms (two numbers)"
        ) from None
    return a, b


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit-recording",
        help="fit time constants (ms, with confidence intervals) to a recording",
        description=(
            "Fit an ARU to a recording (spike counts with a Poisson loss, or signals with a "
            "Gaussian loss), with dt = the bin width so that the time constants are in ms. "
            "B bootstrap refits on resampled trials (one compiled ensemble) give confidence "
            "intervals for tau_s, tau_r, tau_s + tau_r and tau_s * tau_r; held-out trials score "
            "the model beside a constant-rate model, an LN model (with a stimulus) and the "
            "neurons' autocorrelation timescales. DATA.npz holds `counts` or `signals` (trials, "
            "time, neurons) and optionally `inputs` (trials, time, n_in), `mask`, `bin_ms`. "
            "Writes DIR/fit.json, DIR/report.png and the point-estimate model in DIR "
            "(model.json, model.eqx; `adaptive-rnn simulate DIR` runs it). Default scale: "
            "see docs/recordings.md."
        ),
    )
    p.add_argument(
        "data", help="the recording: .npz (default), HDF5 (--format hdf5) or NWB (--format nwb)"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--loss",
        choices=("poisson", "gaussian"),
        help="poisson for spike counts, gaussian for signals (default: from the data)",
    )
    p.add_argument(
        "--bin-ms", type=positive_float, help="bin width in ms (default: the file's bin_ms)"
    )
    p.add_argument(
        "--hidden", type=positive_int, help="hidden units (default: the number of recorded neurons)"
    )
    p.add_argument(
        "--time-constants",
        choices=("global", "local"),
        default="global",
        help="one pair of time constants (global, default) or one per hidden unit (local)",
    )
    p.add_argument(
        "--observed",
        choices=("readout", "units"),
        default="readout",
        help="readout: a learned readout (default); units: data-constrained, neuron i is hidden "
        "unit i's rate with a learned gain and offset",
    )
    p.add_argument(
        "--bootstrap",
        type=positive_int,
        default=BOOTSTRAP,
        help=f"bootstrap refits, at least 2 (default {BOOTSTRAP}; trained together after the "
        "point estimate)",
    )
    p.add_argument(
        "--confidence", type=_fraction, default=0.95, help="level of the intervals (default 0.95)"
    )
    p.add_argument(
        "--interval",
        choices=("normal", "basic", "percentile"),
        default="normal",
        help="bootstrap interval, on the log scale: normal (default; the refits' bias removed, "
        "their spread with a Student-t quantile), basic (reflected quantiles) or percentile",
    )
    p.add_argument(
        "--resample",
        choices=("parametric", "trials"),
        default="parametric",
        help="the refits' data: responses simulated from the fitted model (parametric, default) "
        "or the fitting trials drawn with replacement (trials)",
    )
    p.add_argument(
        "--initial-state",
        choices=("burn_in", "learned"),
        default="burn_in",
        help="each trial starts from the state settled by the burn-in (default), or from its "
        "own learned state (learned: one learned drive per fitting trial on the last burn-in bin)",
    )
    p.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--heldout-fraction",
        type=_fraction,
        default=0.2,
        help="fraction of trials held out for scoring (default 0.2)",
    )
    p.add_argument(
        "--burn-in-ms",
        type=nonnegative_float,
        default=200.0,
        help="zero input run before each trial, not scored (default 200 ms)",
    )
    p.add_argument("--epochs", type=positive_int, default=300, help="epochs (default 300)")
    p.add_argument(
        "--batch-size",
        type=positive_int,
        help="trials per update (default: a quarter of the fitting trials)",
    )
    p.add_argument(
        "--lr",
        type=positive_float,
        default=3e-2,
        help="Adam learning rate, cosine-decayed (default 0.03)",
    )
    p.add_argument(
        "--link",
        choices=("softplus", "exp"),
        default="softplus",
        help="Poisson link: rate_hz = softplus(readout) (default) or exp(readout)",
    )
    p.add_argument(
        "--self-connections",
        action="store_true",
        help="let a unit's recurrent weight onto itself be learned (default: held at zero, since "
        "it trades off exactly against tau_s * tau_r)",
    )
    p.add_argument("--format", choices=FORMATS, help="file format (default: from the suffix)")
    g = p.add_argument_group("HDF5 dataset names (--format hdf5)")
    g.add_argument("--counts", help="dataset of spike counts (trials, time, neurons)")
    g.add_argument("--signals", help="dataset of signals (trials, time, channels)")
    g.add_argument("--inputs", help="dataset of inputs (trials, time, n_in)")
    g.add_argument("--mask", help="dataset of the mask (trials, time, neurons)")
    g = p.add_argument_group("NWB tables (--format nwb)")
    g.add_argument("--units", help="Units table (default 'units')")
    g.add_argument("--intervals", help="TimeIntervals table of trials (default 'trials')")
    g.add_argument("--timeseries", help="a TimeSeries to read as signals instead of spikes")
    g.add_argument(
        "--window-ms",
        type=_window,
        metavar="BEGIN,END",
        help="window relative to each trial's start, ms (default: each trial's own)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _format(args) -> str:
    from pathlib import Path

    if args.format:
        return args.format
    suffix = Path(args.data).suffix.lower()
    return {".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5", ".nwb": "nwb"}.get(suffix, "npz")


def _cli_message(e: Exception) -> str:
    """The message of a library `InputError` with the setting it names written as the
    command-line option that sets it."""
    text = str(e)
    head, sep, rest = text.partition(":")
    if sep and head in _SETTING_OPTIONS:
        return f"{_SETTING_OPTIONS[head]}:{rest}"
    return text


def load(args):
    """The recording named on the command line (checked)."""
    from ..recordings import load_recording

    fmt = _format(args)
    given = {
        k: getattr(args, k) for k in _HDF5_OPTIONS + _NWB_OPTIONS if getattr(args, k) is not None
    }
    from .._errors import InputError

    wrong = [
        k
        for k in given
        if k not in (_HDF5_OPTIONS if fmt == "hdf5" else _NWB_OPTIONS if fmt == "nwb" else ())
    ]
    if wrong:
        opt = "--" + wrong[0].replace("_", "-")
        raise InputError(
            f"{opt}: given for the {fmt} format, which does not read it; expected it only with "
            f"--format {'hdf5' if wrong[0] in _HDF5_OPTIONS else 'nwb'}"
        )
    options = dict(given)
    if args.bin_ms is not None:
        options["bin_ms"] = args.bin_ms
    try:
        return load_recording(args.data, format=fmt, **options)
    except InputError as e:
        raise InputError(_cli_message(e)) from e


def run(args: argparse.Namespace) -> int:
    import jax

    from .. import save_model
    from .._errors import InputError
    from .._io import atomic_write_json
    from ..recipes import check_settings, fit_recording, plot_recording_fit
    from ._common import check_output_dir, check_output_file, save_figure

    # Every output is checked before the data is read or anything compiles.
    out = check_output_dir("--out", args.out)
    for name in ("model.json", "model.eqx", "fit.json", "report.png"):
        check_output_file("--out", str(out / name), inputs=(args.data,))
    rec = load(args)
    options = dict(
        loss=args.loss,
        hidden=args.hidden,
        time_constants=args.time_constants,
        observed=args.observed,
        bootstrap=args.bootstrap,
        confidence=args.confidence,
        heldout_fraction=args.heldout_fraction,
        burn_in_ms=args.burn_in_ms,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        link=args.link,
        self_connections=args.self_connections,
        interval=args.interval,
        resample=args.resample,
        initial_state=args.initial_state,
    )
    try:
        check_settings(rec, **options)
        fit = fit_recording(
            rec, key=jax.random.key(args.seed), progress=False if args.quiet else None, **options
        )
    except InputError as e:
        raise InputError(_cli_message(e)) from e
    save_model(out, fit.to_aru())
    summary = fit.to_json()
    summary["data"] = str(args.data)
    summary["seed"] = args.seed
    atomic_write_json(out / "fit.json", summary)
    save_figure(
        plot_recording_fit(fit, rec, title=f"fit-recording {args.data}"), str(out / "report.png")
    )
    for line in fit.summary_lines():
        print(line)
    print(f"wrote {out}: fit.json, report.png, model (adaptive-rnn simulate {out})")
    return 0
