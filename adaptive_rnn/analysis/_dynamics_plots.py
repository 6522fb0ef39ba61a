"""Plots of the dynamics: trajectories and fixed points in principal-component space, and
eigenvalue spectra of the linearisation (matplotlib, no pyplot state kept)."""

import numpy as np
from matplotlib.figure import Figure

from .._errors import InputError
from ._fixed_points import FixedPoints, flatten_states


def principal_components(X, n_components: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal components of a cloud of states (via the SVD of the centred data).

    **Arguments:**

    - `X`: states, shape `(..., m)` (all leading axes are pooled).
    - `n_components`: how many components to return (at most `m`).

    **Returns:** `(mean, components, explained)`: the mean `(m,)`, the components as rows
    `(n_components, m)` and the fraction of variance each explains `(n_components,)`.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X.reshape(-1, X.shape[-1])
    n_components = min(n_components, X.shape[-1])
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    total = float(np.sum(s**2))
    explained = s[:n_components] ** 2 / total if total > 0 else np.zeros(n_components)
    comps = vt[:n_components]
    if comps.shape[0] < n_components:  # fewer samples than components
        comps = np.vstack([comps, np.zeros((n_components - comps.shape[0], X.shape[-1]))])
        explained = np.concatenate([explained, np.zeros(n_components - len(explained))])
    return mean, comps, explained


def plot_fixed_points(
    fixed_points: FixedPoints,
    states=None,
    *,
    max_trajectories: int = 20,
    title: str | None = None,
    ax=None,
) -> Figure:
    """Trajectories and fixed points in the plane of the first two principal components.

    The components are those of the trajectory states when given, else of the points.
    Stable fixed points are filled black circles, unstable ones open red circles, slow
    points grey crosses.

    **Arguments:**

    - `fixed_points`: a `FixedPoints` from `find_fixed_points`.
    - `states`: optional trajectory states: a `Trajectory.states` dict or a tuple of state
        arrays of shape `(B, T, ...)` or `(T, ...)`, or flattened `(B, T, m)`.
    - `max_trajectories`: at most this many trials are drawn.
    - `title`: the axes' title (default: none).
    - `ax`: draw into this axes (else a new figure).

    **Returns:** the matplotlib `Figure`.
    """
    if not isinstance(fixed_points, FixedPoints):
        raise InputError(f"fixed_points: got {type(fixed_points).__name__}, expected a FixedPoints")
    m = fixed_points.points.shape[1]
    X = None
    if states is not None:
        X = (
            flatten_states(states)
            if isinstance(states, (dict, tuple, list))
            else np.asarray(states)
        )
        if X.shape[-1] != m:
            raise InputError(
                f"states: flattened width {X.shape[-1]}, expected {m} (the model's state)"
            )
        if X.ndim == 2:
            X = X[None]
    basis = X if X is not None else fixed_points.points
    if basis.reshape(-1, m).shape[0] == 0:
        basis = np.zeros((1, m))
    mean, comps, explained = principal_components(basis, 2)
    if ax is None:
        fig = Figure(figsize=(5, 4.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    if X is not None:
        for i, traj in enumerate(X[:max_trajectories]):
            p = (traj - mean) @ comps.T
            ax.plot(
                p[:, 0],
                p[:, 1],
                lw=0.8,
                alpha=0.6,
                color="tab:blue",
                label="trajectory (one per trial)" if i == 0 else "_nolegend_",
            )
            ax.plot(
                p[:1, 0],
                p[:1, 1],
                "o",
                ms=3,
                color="0.5",
                label="trajectory start" if i == 0 else "_nolegend_",
            )
    P = (fixed_points.points - mean) @ comps.T
    fixed = fixed_points.is_fixed
    st = fixed_points.stable
    sel = fixed & st
    if sel.any():
        ax.plot(P[sel, 0], P[sel, 1], "o", color="k", ms=8, ls="none", label="stable fixed point")
    sel = fixed & ~st
    if sel.any():
        ax.plot(
            P[sel, 0],
            P[sel, 1],
            "o",
            mfc="none",
            mec="tab:red",
            mew=1.5,
            ms=8,
            ls="none",
            label="unstable fixed point",
        )
    sel = ~fixed
    if sel.any():
        ax.plot(P[sel, 0], P[sel, 1], "x", color="0.4", ms=6, ls="none", label="slow point")
    ax.set_xlabel(f"PC 1 ({100 * explained[0]:.0f} % var.)")
    ax.set_ylabel(f"PC 2 ({100 * explained[1]:.0f} % var.)")
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    return fig


def plot_eigenvalue_spectrum(
    fixed_points: FixedPoints | np.ndarray,
    *,
    index: int | None = None,
    title: str | None = None,
    ax=None,
    time_unit: str = "model time unit",
) -> Figure:
    """The eigenvalues of the linearisation in the complex plane, with the stability
    boundary Re(lambda) = 0 marked (dashed).

    **Arguments:**

    - `fixed_points`: a `FixedPoints` (all points, or the one at `index`), or an array of
        complex eigenvalues of any shape.
    - `index`: draw only this point's spectrum.
    - `title`: the axes' title (default: none).
    - `ax`: draw into this axes (else a new figure).
    - `time_unit`: the unit of the model's time (e.g. `"ms"`); eigenvalues are in
        1 / that unit.

    **Returns:** the matplotlib `Figure`.
    """
    if isinstance(fixed_points, FixedPoints):
        lam = fixed_points.eigenvalues
        if index is not None:
            lam = lam[index : index + 1]
    else:
        lam = np.asarray(fixed_points)
        if index is not None:
            lam = lam[index : index + 1]
        lam = np.atleast_2d(lam)
    if ax is None:
        fig = Figure(figsize=(5, 4), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    rows = lam.reshape(-1, lam.shape[-1]) if lam.size else []
    for i, row in enumerate(rows):
        if len(rows) <= 6:
            label = f"point {i}" if index is None else f"point {index}"
            ax.plot(np.real(row), np.imag(row), "o", ms=4, alpha=0.8, ls="none", label=label)
        else:
            ax.plot(
                np.real(row),
                np.imag(row),
                "o",
                ms=4,
                alpha=0.6,
                ls="none",
                color="tab:blue",
                label=f"eigenvalues ({len(rows)} points)" if i == 0 else "_nolegend_",
            )
    ax.axvline(0.0, color="k", ls="--", lw=1, label="stability boundary Re = 0")
    ax.axhline(0.0, color="0.7", lw=0.5, label="_nolegend_")
    ax.set_xlabel(rf"Re $\lambda$ (1 / {time_unit})")
    ax.set_ylabel(rf"Im $\lambda$ (1 / {time_unit})")
    ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    return fig
