"""Plots of training histories: losses and time constants over epochs."""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter


def plot_history(history, *, title: str | None = None, max_units: int = 10) -> Figure:
    """Plots the training and validation losses (log scale) and every time constant over
    epochs, with the selected (best) epoch marked.

    **Arguments:**

    - `history`: a `adaptive_rnn.train.History` (or a dict from its `to_json`).
    - `title`: optional figure title.
    - `max_units`: at most this many per-neuron curves per time constant.

    **Returns:** a matplotlib `Figure` (one loss panel, one panel per rate constant
    `alpha_*`, or per `tau_*` for models without rate constants).
    """
    if isinstance(history, dict):
        from ..train import History

        history = History.from_json(history)
    tcs = history.time_constants
    names = [k for k in tcs if k.startswith("alpha")] or list(tcs)
    fig = Figure(figsize=(7, 2.4 * (1 + len(names))), layout="constrained")
    axes = fig.subplots(1 + len(names), 1, sharex=True, squeeze=False)[:, 0]
    epochs = np.arange(0, history.epochs_run + 1)
    ax = axes[0]
    ax.plot(epochs[1:], history.train_loss, label="train")
    val = np.concatenate([[history.initial_val_loss], history.val_loss])
    ax.plot(epochs, val, label="validation")
    ax.set_yscale("log")
    # Plain-text tick labels: no mathtext, so no dependency on extra fonts.
    ax.yaxis.set_major_formatter(LogFormatter())
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=True))
    ax.set_ylabel("loss")
    if history.best_epoch is not None:
        for a in axes:
            a.axvline(history.best_epoch, color="0.6", ls=":", lw=1)
    if history.stop_reason:
        ax.set_title(f"stopped: {history.stop_reason} (epoch {history.stop_epoch})", fontsize=9)
    ax.legend(fontsize=8)
    for ax, name in zip(axes[1:], names):
        init = np.asarray(history.initial_time_constants.get(name, np.full(tcs[name].shape[1:], np.nan)))
        v = np.concatenate([init[None], tcs[name]], axis=0).reshape(len(epochs), -1)
        ax.plot(epochs, v[:, :max_units], lw=1.2 if v.shape[1] == 1 else 0.8)
        ax.set_ylabel(name)
    axes[-1].set_xlabel("epoch")
    if title:
        fig.suptitle(title)
    return fig


def plot_sweep(ds, variable: str | None = None, *, log: bool = True, title: str | None = None) -> Figure:
    """Plots a sweep result: a heat map over (alpha_r, alpha_s) when the grid has both
    (the paper's Fig. 2: x = alpha_r, y = alpha_s, dashed lines at alpha = 1, mean over
    the other dimensions), else the variable against the first grid dimension.

    **Arguments:**

    - `ds`: the `xarray.Dataset` of `sweep`.
    - `variable`: which variable (default `best_val_loss` if present, else the first).
    - `log`: plot log10 of the (mean) value.

    **Returns:** a matplotlib `Figure`. Failed points (`success` false) are left blank.
    """
    if variable is None:
        variable = "best_val_loss" if "best_val_loss" in ds else [k for k in ds.data_vars if k != "success"][0]
    da = ds[variable].where(ds["success"]) if "success" in ds else ds[variable]
    grid_dims = [d for d in ds["success"].dims] if "success" in ds else list(da.dims)
    extra = [d for d in da.dims if d not in grid_dims]
    if extra:
        da = da.mean(extra)
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    if "alpha_s" in grid_dims and "alpha_r" in grid_dims:
        m = da.mean([d for d in grid_dims if d not in ("alpha_s", "alpha_r")]).transpose("alpha_s", "alpha_r")
        v = np.log10(np.asarray(m)) if log else np.asarray(m)
        xs, ys = np.asarray(m["alpha_r"]), np.asarray(m["alpha_s"])
        im = ax.pcolormesh(xs, ys, v, shading="nearest")
        fig.colorbar(im, ax=ax, label=("log10 " if log else "") + variable)
        ax.axvline(1.0, ls="--", color="w", lw=1)
        ax.axhline(1.0, ls="--", color="w", lw=1)
        ax.plot([1.0], [1.0], "w*", ms=10)
        ax.set_xlabel("alpha_r")
        ax.set_ylabel("alpha_s")
    else:
        d0 = grid_dims[0]
        m = da.mean([d for d in grid_dims if d != d0])
        ax.plot(np.asarray(m[d0]), np.asarray(m), "o-")
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(LogFormatter())
            ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=True))
        ax.set_xlabel(d0)
        ax.set_ylabel(variable)
    if title:
        ax.set_title(title)
    return fig
