"""Plots of training histories: losses and time constants over epochs."""

import numpy as np
from matplotlib.figure import Figure

from ._plots import log_ticks, outside_legend

# Axis labels of common grid dimensions and variables (others are shown as they are).
_DIM_LABELS = {
    "alpha_s": r"$\alpha_s$ (= dt / $\tau_s$)",
    "alpha_r": r"$\alpha_r$ (= dt / $\tau_r$)",
    "tau_s": r"$\tau_s$ (steps of dt)",
    "tau_r": r"$\tau_r$ (steps of dt)",
    "tau": r"$\tau$ (steps of dt)",
}
_VAR_LABELS = {
    "best_val_loss": "best validation loss",
    "val_loss": "validation loss",
    "train_loss": "training loss",
    "final_train_loss": "final training loss",
}
_BEST = "selected model (best validation)"


def _tc_label(name: str) -> str:
    if name.startswith("alpha_"):
        k = name[len("alpha_") :]
        return rf"$\alpha_{{{k}}}$ (= dt / $\tau_{{{k}}}$)"
    if name.startswith("tau"):
        return f"{name} (model time units)"
    return name


def _cells(n: int) -> str:
    return f"{n} cell" if n == 1 else f"{n} cells"


def _positive(values) -> bool:
    v = np.asarray(values, dtype=float)
    return bool(np.any(np.isfinite(v) & (v > 0)))


def plot_history(history, *, title: str | None = None, max_units: int = 10) -> Figure:
    """Plots the training and validation losses (log scale) and every time constant over
    epochs, with the selected (best-validation) epoch marked and a legend per panel.

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
    fig = Figure(figsize=(7.5, 2.4 * (1 + len(names))), layout="constrained")
    axes = fig.subplots(1 + len(names), 1, sharex=True, squeeze=False)[:, 0]
    epochs = np.arange(0, history.epochs_run + 1)
    ax = axes[0]
    ax.plot(epochs[1:], history.train_loss, label="training loss")
    val = np.concatenate([[history.initial_val_loss], history.val_loss])
    ax.plot(epochs, val, label="validation loss")
    if _positive(np.concatenate([val, history.train_loss])):
        ax.set_yscale("log")
        log_ticks(ax)
    ax.set_ylabel("loss")
    if history.best_epoch is not None:
        for a in axes:  # explained once, in the loss panel's legend
            a.axvline(
                history.best_epoch,
                color="0.6",
                ls=":",
                lw=1,
                label=_BEST if a is ax else "_nolegend_",
            )
    if history.stop_reason:
        ax.set_title(f"stopped: {history.stop_reason} (epoch {history.stop_epoch})", fontsize=9)
    outside_legend(ax)
    for ax, name in zip(axes[1:], names):
        init = np.asarray(
            history.initial_time_constants.get(name, np.full(tcs[name].shape[1:], np.nan))
        )
        v = np.concatenate([init[None], tcs[name]], axis=0).reshape(len(epochs), -1)
        n = v.shape[1]
        if n == 1:
            ax.plot(epochs, v[:, 0], lw=1.2, label="global (all neurons)")
        else:
            for k in range(min(n, max_units)):
                ax.plot(epochs, v[:, k], lw=0.8, label=f"neuron {k}")
        ax.set_ylabel(_tc_label(name))
        head = f"first {max_units} of {n}" if n > max_units else None
        outside_legend(ax, title=head, title_fontsize=7)
    axes[-1].set_xlabel("epoch")
    if title:
        fig.suptitle(title)
    return fig


def plot_sweep(
    ds, variable: str | None = None, *, log: bool = True, title: str | None = None
) -> Figure:
    """Plots a sweep result: a heat map over (alpha_r, alpha_s) when the grid has both
    (the paper's Fig. 2: x = alpha_r, y = alpha_s, dashed lines at alpha = 1, the Elman
    network (1, 1) starred, mean over the other dimensions), else the variable against
    the first grid dimension (mean over the others).

    Failed points (`success` false) never enter a mean, and are drawn: a red x where
    every point of a cell (or x value) failed, an orange circle where some did; the
    legend counts them.

    **Arguments:**

    - `ds`: the `xarray.Dataset` of `sweep`.
    - `variable`: which variable (default `best_val_loss` if present, else the first).
    - `log`: plot log10 of the (mean) value (a log axis in 1-D).
    - `title`: optional title.

    **Returns:** a matplotlib `Figure`.
    """
    if variable is None:
        variable = (
            "best_val_loss"
            if "best_val_loss" in ds
            else [k for k in ds.data_vars if k != "success"][0]
        )
    da = ds[variable]
    grid_dims = list(ds["success"].dims) if "success" in ds else list(da.dims)
    extra = [d for d in da.dims if d not in grid_dims]
    if extra:
        da = da.mean(extra)
    ok = ds["success"].astype(bool) if "success" in ds else da.notnull()
    da = da.where(ok)
    n_points, n_failed = int(ok.size), int((~ok).sum())
    vlabel = _VAR_LABELS.get(variable, variable.replace("_", " "))
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    if "alpha_s" in grid_dims and "alpha_r" in grid_dims:
        shown = ["alpha_s", "alpha_r"]
    else:
        shown = [grid_dims[0]]
    other = [d for d in grid_dims if d not in shown]
    m = da.mean(other) if other else da
    n_ok = ok.sum(other) if other else ok.astype(int)
    per_cell = int(np.prod([ds.sizes[d] for d in other])) if other else 1
    if len(shown) == 2:
        m, n_ok = m.transpose(*shown), n_ok.transpose(*shown)
        v = np.log10(np.asarray(m, dtype=float)) if log else np.asarray(m, dtype=float)
        xs, ys = np.asarray(m["alpha_r"]), np.asarray(m["alpha_s"])
        im = ax.pcolormesh(xs, ys, v, shading="nearest")
        fig.colorbar(
            im,
            ax=ax,
            label=("log10 " if log else "")
            + vlabel
            + (f" (mean over {', '.join(other)})" if other else ""),
        )
        ax.axvline(1.0, ls="--", color="w", lw=1, label=r"$\alpha$ = 1 ($\tau$ = dt)")
        ax.axhline(1.0, ls="--", color="w", lw=1, label="_nolegend_")
        ax.plot(
            [1.0],
            [1.0],
            "*",
            color="w",
            mec="k",
            ms=12,
            ls="none",
            label=r"Elman ($\alpha_s$ = $\alpha_r$ = 1)",
        )
        cnt = np.asarray(n_ok)
        ii, jj = np.nonzero(cnt == 0)
        if ii.size:
            ax.plot(
                xs[jj],
                ys[ii],
                "x",
                color="red",
                ms=12,
                mew=2.5,
                ls="none",
                label=f"all points failed ({_cells(ii.size)})",
            )
        ii, jj = np.nonzero((cnt > 0) & (cnt < per_cell))
        if ii.size:
            ax.plot(
                xs[jj],
                ys[ii],
                "o",
                mfc="none",
                mec="orange",
                ms=12,
                mew=2,
                ls="none",
                label=f"some points failed ({_cells(ii.size)}; mean of the rest)",
            )
        ax.set_xlabel(_DIM_LABELS["alpha_r"])
        ax.set_ylabel(_DIM_LABELS["alpha_s"])
        # A grey legend background: the white dashed line and star stay visible.
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.13),
            ncols=2,
            fontsize=8,
            facecolor="0.75",
            title=f"{n_failed} failed of {n_points} points",
            title_fontsize=8,
        )
    else:
        d0 = shown[0]
        x = np.asarray(m[d0])
        y = np.asarray(m, dtype=float)
        cnt = np.asarray(n_ok)
        ax.plot(x, y, "o-", label=vlabel + (f" (mean over {', '.join(other)})" if other else ""))
        if log and _positive(y):
            ax.set_yscale("log")
        ax.set_xlabel(_DIM_LABELS.get(d0, d0))
        ax.set_ylabel(vlabel)
        gone = cnt == 0
        if gone.any():
            ax.plot(
                x[gone],
                np.full(int(gone.sum()), 0.04),
                "x",
                color="red",
                ms=10,
                mew=2.5,
                ls="none",
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                label=f"all points failed (no value; {n_failed} failed of {n_points} points)",
            )
        some = (cnt > 0) & (cnt < per_cell)
        if some.any():
            ax.plot(
                x[some],
                y[some],
                "o",
                mfc="none",
                mec="orange",
                ms=12,
                mew=2,
                ls="none",
                label=f"some points failed (mean of the rest; {n_failed} failed of {n_points} points)",
            )
        if log and ax.get_yscale() == "log":
            log_ticks(ax)
        if gone.any() or some.any():
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8)
    if title:
        ax.set_title(title)
    return fig
