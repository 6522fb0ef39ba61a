"""Plots of connectivity: the weight matrix ordered by area and E/I, weight histograms,
the eigenvalue spectrum (matplotlib, no pyplot state kept)."""

import numpy as np
from matplotlib.figure import Figure

from ..models import AbstractRNN


def _effective(model_or_W, which="rec"):
    if isinstance(model_or_W, AbstractRNN):
        return np.asarray(model_or_W.weight_matrices()[which])
    return np.asarray(model_or_W)


def plot_connectivity(model_or_W, *, areas=None, signs=None, title: str | None = None) -> Figure:
    """Plots the recurrent matrix `W[post, pre]`, units ordered by area then E before I.

    **Arguments:**

    - `model_or_W`: a CTRNN/Shunting model, or a square matrix.
    - `areas`: area index per unit (e.g. `MultiArea.areas`); `signs`: +1/-1 per unit.
    - `title`: the axes' title (default: none).

    **Returns:** a matplotlib `Figure` (lines mark area and E/I boundaries).
    """
    W = _effective(model_or_W)
    n = W.shape[0]
    areas = np.zeros(n, int) if areas is None else np.asarray(areas)
    signs = np.ones(n) if signs is None else np.asarray(signs)
    order = np.lexsort((-signs, areas))
    Wo = W[np.ix_(order, order)]
    lim = np.max(np.abs(Wo)) or 1.0
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(Wo, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    fig.colorbar(im, ax=ax, label="effective weight W[post, pre]")
    a, s = areas[order], signs[order]
    seen = set()

    def boundary(k, kind, **style):
        label = kind if kind not in seen else "_nolegend_"
        seen.add(kind)
        ax.axhline(k - 0.5, label=label, **style)
        ax.axvline(k - 0.5, label="_nolegend_", **style)

    for k in range(1, n):
        if a[k] != a[k - 1]:
            boundary(k, "area boundary", color="k", lw=1)
        elif s[k] != s[k - 1]:
            boundary(k, "E / I boundary", color="grey", lw=0.5, ls="--")
    ax.set_xlabel("presynaptic unit (by area, E before I)")
    ax.set_ylabel("postsynaptic unit (by area, E before I)")
    if seen:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, fontsize=8)
    if title:
        ax.set_title(title)
    return fig


_NAMES = {"in": "input weights", "rec": "recurrent weights", "out": "readout weights"}


def plot_weight_histograms(model, *, bins: int = 40) -> Figure:
    """Histograms of the non-zero effective input, recurrent and readout weights.

    **Arguments:**

    - `model`: any adaptive_rnn model (its `weight_matrices()` are read).
    - `bins`: the number of bins of each histogram.

    **Returns:** a matplotlib `Figure` with three panels (input, recurrent, readout).
    """
    fig = Figure(figsize=(9, 2.8), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, which in zip(axes, ("in", "rec", "out")):
        w = _effective(model, which).ravel()
        ax.hist(w[w != 0], bins=bins)
        ax.set_title(f"{_NAMES[which]} (non-zero)", fontsize=9)
        ax.set_xlabel(f"effective weight W_{which}")
        ax.set_ylabel("number of weights")
    return fig


def plot_eigenvalues(model_or_W, *, title: str | None = None) -> Figure:
    """The eigenvalues of the recurrent matrix in the complex plane, with the unit circle.

    **Arguments:**

    - `model_or_W`: a model (its effective recurrent weights are used), or a square
        matrix.
    - `title`: the axes' title (default: the spectral radius).

    **Returns:** a matplotlib `Figure`.
    """
    ev = np.linalg.eigvals(_effective(model_or_W))
    fig = Figure(figsize=(4.5, 4.5), layout="constrained")
    ax = fig.subplots()
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(th), np.sin(th), color="grey", lw=0.8, label="unit circle")
    ax.scatter(ev.real, ev.imag, s=10, label="eigenvalues of W")
    ax.set_aspect("equal")
    ax.set_xlabel("real part")
    ax.set_ylabel("imaginary part")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, fontsize=8)
    ax.set_title(title or f"spectral radius {np.max(np.abs(ev)):.3g}")
    return fig
