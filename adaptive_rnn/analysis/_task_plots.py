"""Plots for trained cognitive-task networks: psychometric curves (choice and accuracy
against coherence) and time-constant distributions per E/I group (matplotlib, no pyplot
state kept)."""

import numpy as np
from matplotlib.figure import Figure


def plot_psychometric(
    curves: dict, *, xlabel: str = "signed coherence (%)", title: str | None = None, ax=None
) -> Figure:
    """P(choice = 1) against a signed stimulus strength, one line per group.

    **Arguments:**

    - `curves`: the output of `adaptive_rnn.tasks.psychometric_curve`,
        `{group: (x, p, n)}` (group `None` for a single curve).
    - `xlabel`, `title`: labels.
    - `ax`: draw into this axes (else a new figure).

    **Returns:** the matplotlib `Figure`.
    """
    if ax is None:
        fig = Figure(figsize=(4.5, 3.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for group, (x, p, _n) in curves.items():
        ax.plot(x, p, "o-", ms=4, label=None if group is None else f"{group}")
    ax.axhline(0.5, color="0.7", lw=0.8)
    ax.axvline(0.0, color="0.7", lw=0.8)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("P(choice 1 = right) (fraction)")
    if any(g is not None for g in curves):
        ax.legend(fontsize=8, title="group")
    if title:
        ax.set_title(title)
    return fig


def plot_accuracy_by_coherence(
    curve: dict, *, xlabel: str = "coherence (%)", title: str | None = None, ax=None
) -> Figure:
    """Accuracy against coherence: the network's, with binomial standard errors, the
    ideal observer's on the same trials (when given) and chance (0.5).

    **Arguments:**

    - `curve`: `{"coherence_percent": x, "accuracy": a, "n_trials": n}` and optionally
        `"ideal_observer_accuracy"` (as `train_on_task` writes to
        `summary["accuracy_by_coherence"]`; from `adaptive_rnn.tasks.
        accuracy_by_coherence`).
    - `xlabel`, `title`: labels.
    - `ax`: draw into this axes (else a new figure).

    **Returns:** the matplotlib `Figure`.
    """
    if ax is None:
        fig = Figure(figsize=(4.5, 3.5), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    x = np.asarray(curve["coherence_percent"], dtype=np.float64)
    a = np.asarray(curve["accuracy"], dtype=np.float64)
    n = np.asarray(curve["n_trials"], dtype=np.float64)
    se = np.sqrt(a * (1 - a) / np.maximum(n, 1))
    ax.errorbar(x, a, yerr=se, fmt="o-", ms=4, capsize=2, label="network (+- s.e.)")
    ideal = curve.get("ideal_observer_accuracy")
    if ideal is not None:
        ax.plot(x, np.asarray(ideal, dtype=np.float64), "k--", lw=1, label="ideal observer")
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":", label="chance")
    low = np.nanmin(np.concatenate([a - se, [0.45]]))
    ax.set_ylim(max(min(0.4, low - 0.05), -0.02), 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (fraction correct)")
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
    return fig


def plot_time_constant_groups(
    groups: dict, *, unit: str = "ms", title: str | None = None
) -> Figure:
    """Histograms of learned time constants, one panel per time constant, one colour per
    E/I group.

    **Arguments:**

    - `groups`: `{group: {name: values}}`, e.g. from `time_constants_by_group`
        (`{"E": {"tau_s": [...], ...}, "I": {...}}` or `{"all": {...}}`).
    - `unit`: label of the values' unit, shown on the x axis of the `tau*` panels
        (squared for a name starting with `tau_2`).
    - `title`: the figure's title; `None` (default) or `""` for none.

    **Returns:** the matplotlib `Figure`.
    """
    names = []
    for g in groups.values():
        for k in g:
            if k not in names:
                names.append(k)
    names = names or ["(none)"]
    fig = Figure(figsize=(3.2 * len(names), 3), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    colours = {"E": "tab:red", "I": "tab:blue", "all": "0.3"}
    for ax, name in zip(axes, names):
        vals = [np.asarray(g.get(name, []), dtype=np.float64).ravel() for g in groups.values()]
        finite = np.concatenate([v[np.isfinite(v)] for v in vals]) if vals else np.zeros(0)
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 0.5 * max(abs(lo), 1e-6), hi + 0.5 * max(abs(hi), 1e-6)
        bins = np.linspace(lo, hi, 16)
        for (gname, _), v in zip(groups.items(), vals):
            ax.hist(
                v, bins=bins, alpha=0.6, color=colours.get(gname), label=f"{gname} (n={v.size})"
            )
        u = f" ({unit}" + ("^2)" if name.startswith("tau_2") else ")")
        ax.set_xlabel(name + (u if name.startswith("tau") else ""))
        ax.set_ylabel("count")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return fig
