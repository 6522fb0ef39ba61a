"""The figure of a recording fit: recorded against predicted activity on held-out
trials, the bootstrap distributions of the time constants beside the autocorrelation
timescale, and the held-out scores beside the baselines'."""

import numpy as np
from matplotlib.figure import Figure

from ..recordings import Recording

_SMOOTH_BINS = 2.0  # standard deviation of the Gaussian smoothing of recorded counts, bins


def _smooth(x: np.ndarray, sd_bins: float) -> np.ndarray:
    half = int(np.ceil(3 * sd_bins))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sd_bins) ** 2)
    k /= k.sum()
    # "full" then the centred slice: the length of x even for a trial shorter than the
    # kernel (where mode="same" would return the kernel's length)
    n = len(x)
    num = np.convolve(x, k, mode="full")[half : half + n]
    den = np.convolve(np.ones_like(x), k, mode="full")[half : half + n]
    return num / den


def plot_recording_fit(
    fit, recording: Recording, *, n_neurons: int = 3, title: str | None = None
) -> Figure:
    """The report of `fit_recording`.

    Top: for the `n_neurons` most active recorded neurons, the first held-out trial:
    recorded activity (counts smoothed with a Gaussian of 2 bins, in Hz; or the signal)
    and the model's prediction. Bottom: the bootstrap distributions of `tau_s` and
    `tau_r` (global: histograms with the point estimate; local: each unit's interval),
    the median autocorrelation timescale of the recorded neurons marked; the held-out
    score of the model and of the baselines.

    **Arguments:** `fit`: a `RecordingFit`; `recording`: the recording it was fitted to;
    `n_neurons`: neurons shown; `title`: optional figure title.

    **Returns:** a matplotlib `Figure`.
    """
    held = recording.take(fit.heldout_trials)
    counts = recording.kind == "counts"
    n_show = min(n_neurons, recording.n_units)
    activity = (held.data * held.mask).sum(axis=(0, 1)) / np.maximum(held.mask.sum(axis=(0, 1)), 1)
    order = np.argsort(-activity if counts else -np.std(held.data, axis=(0, 1)))[:n_show]
    fig = Figure(figsize=(4.2 * max(n_show, 3), 7.6), layout="constrained")
    grid = fig.add_gridspec(2, max(n_show, 3))
    # the neurons share the top row between them (one or two neurons: wider panels, no
    # empty ones)
    top = grid[0, :].subgridspec(1, n_show)
    t = held.times_ms
    for j, u in enumerate(order):
        ax = fig.add_subplot(top[0, j])
        obs = held.mask[0, :, u]
        if counts:
            rec = _smooth(held.data[0, :, u] * 1000.0 / held.bin_ms, _SMOOTH_BINS)
            label, ylab = "recorded (smoothed)", "rate (Hz)"
        else:
            rec, label, ylab = held.data[0, :, u], "recorded", "signal"
        ax.plot(t[obs], rec[obs], color="0.5", lw=1, label=label)
        ax.plot(t, fit.prediction[0, :, u], color="C3", lw=1.5, label="model")
        ax.set_xlabel("time in trial (ms)")
        ax.set_ylabel(ylab)
        ax.set_title(
            f"neuron {recording.unit_names[u]}, held-out trial {int(fit.heldout_trials[0])}",
            fontsize=9,
        )
        if j == 0:
            ax.legend(fontsize=8, loc="upper right")

    ac = fit.autocorr.tau_ms
    ac_med = float(np.nanmedian(ac)) if np.isfinite(ac).any() else None
    lvl = f"{100 * fit.settings.confidence:g} %"
    for j, (name, sym) in enumerate((("tau_s_ms", r"$\tau_s$"), ("tau_r_ms", r"$\tau_r$"))):
        ax = fig.add_subplot(grid[1, j])
        boot, ci, point = fit.boot[name], fit.ci[name], getattr(fit, name)
        if boot.shape[1] == 1:
            ax.hist(
                boot[:, 0],
                bins=max(5, min(30, boot.shape[0] // 2)),
                color="C0",
                alpha=0.7,
                label=f"bootstrap ({boot.shape[0]} refits)",
            )
            ax.axvline(point[0], color="C3", lw=2, label="point estimate")
            ax.axvspan(ci[0, 0], ci[0, 1], color="C0", alpha=0.12, label=f"{lvl} interval")
            if ac_med is not None:
                ax.axvline(ac_med, color="k", ls="--", label="autocorrelation tau (median)")
            ax.set_xlabel(f"{sym} (ms)")
            ax.set_ylabel("refits")
        else:
            k = boot.shape[1]
            idx = np.arange(k)
            ax.errorbar(
                idx,
                point,
                yerr=np.abs(np.stack([point - ci[:, 0], ci[:, 1] - point])),
                fmt="o",
                ms=3,
                color="C0",
                label=f"point estimate, {lvl} interval",
            )
            if ac_med is not None:
                ax.axhline(ac_med, color="k", ls="--", label="autocorrelation tau (median)")
            ax.set_xlabel("hidden unit")
            ax.set_ylabel(f"{sym} (ms)")
            ax.set_yscale("log")
        ax.set_title(
            f"{sym}" + (" (exchangeable with the other)" if fit.exchangeable.any() else ""),
            fontsize=9,
        )
        ax.legend(fontsize=7)

    ax = fig.add_subplot(grid[1, 2])
    metric = "bits_per_spike" if counts else "explained_variance"
    names = [n for n in ("model", "ln", "constant") if fit.heldout.get(n) is not None]
    labels = {"model": "ARU", "ln": "LN (one filter)", "constant": "constant"}
    vals = [fit.heldout[n][metric] for n in names]
    ax.bar(range(len(names)), vals, color=["C3", "C1", "0.6"][: len(names)])
    for i, v in enumerate(vals):
        ax.annotate(f"{v:.3g}", (i, v), ha="center", va="bottom" if v >= 0 else "top", fontsize=8)
    ax.set_xticks(range(len(names)), [labels[n] for n in names])
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel("held-out bits per spike" if counts else "held-out explained variance")
    ax.set_title(f"held-out scores ({len(fit.heldout_trials)} trials)", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig
