"""Plots of trajectories and time constants (matplotlib, no pyplot state kept), and the
small helpers every figure of the library shares (readable log ticks, time-unit labels,
legends placed outside the data)."""

import math

import numpy as np
from matplotlib.figure import Figure

# Descriptive names of common state variables (the rest are shown as they are).
_STATE_NAMES = {"I": "synaptic current I", "r": "firing rate r", "x": "state x", "h": "state h"}


def log_ticks(ax, which: str = "y") -> None:
    """Plain-number ticks on a log axis of `ax` (`which`: `"x"` or `"y"`): powers of
    ten, else 1-2-5 per decade, else integer multiples (at least 0.08 decades apart),
    whichever first gives at least three ticks in view (two round values when even
    those do not); no minor labels.

    Call it after the data are drawn: the ticks are chosen for, and the limits fixed at,
    the current view.

    **Arguments:**

    - `ax`: a matplotlib axes with a log-scaled axis.
    - `which`: `"x"` or `"y"`, the axis to label.

    **Returns:** nothing; `ax` is changed in place.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    axis = ax.yaxis if which == "y" else ax.xaxis
    ax.autoscale_view()
    lo, hi = sorted(axis.get_view_interval())
    if not (lo > 0 and math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        return
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    ticks: list[float] = []
    for mult in ((1,), (1, 2, 5), (1, 2, 5, 3, 4, 6, 7, 8, 9)):
        cand = [m * 10.0**k for m in mult for k in range(k0, k1 + 1)]  # roundest first
        cand = [t for t in cand if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
        if len(cand) >= 3 or (len(mult) == 9 and len(cand) >= 2):
            # Every integer multiple crowds where the decade ends: keep the roundest
            # ones at least 0.08 decades apart.
            for t in cand:
                if all(abs(math.log10(t / u)) >= 0.08 for u in ticks):
                    ticks.append(t)
            ticks.sort()
            break
    if len(ticks) < 2:  # less than one integer step in view: two values, as round as distinct
        inner = np.geomspace(lo, hi, 4)[1:3]
        for digits in range(2, 8):
            ticks = sorted(t for t in {float(f"{v:.{digits}g}") for v in inner} if lo <= t <= hi)
            if len(ticks) == 2:
                break
    # Keep the limits the ticks were chosen for (a later autoscale could move them).
    (ax.set_ylim if which == "y" else ax.set_xlim)(lo, hi)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def outside_legend(ax, **kw):
    """A legend to the right of `ax`, outside its data (constrained layout makes room)."""
    kw.setdefault("fontsize", 7)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kw)


def time_label(ts=None, time_unit: str | None = None) -> str:
    """`"time (UNIT)"`; without a unit, `"time (model time units; dt = DT)"` with the step
    read off the uniformly spaced times `ts` (the unit in which the time constants are
    measured: the paper's models run in steps of dt = 1)."""
    if time_unit:
        return f"time ({time_unit})"
    ts = None if ts is None else np.asarray(ts, dtype=float)
    if ts is not None and ts.size > 1:
        d = np.diff(ts)
        if np.allclose(d, d[0], rtol=1e-6, atol=0):
            return f"time (model time units; dt = {d[0]:g})"
    return "time (model time units)"


def plot_trajectory(
    trajectory,
    *,
    index: int = 0,
    max_units: int = 10,
    title: str | None = None,
    time_unit: str | None = None,
) -> Figure:
    """Plots the state variables (e.g. I and r) and the outputs y over time, one line
    per unit, with a legend naming the units.

    **Arguments:**

    - `trajectory`: a `Trajectory` with states (`return_states=True`).
    - `index`: which sequence of a batch to plot.
    - `max_units`: at most this many units per state panel (the first ones).
    - `title`: optional figure title.
    - `time_unit`: the unit of the model's time (e.g. `"ms"`); default: model time
        units, with dt read off `trajectory.ts`.

    **Returns:** a matplotlib `Figure`.
    """
    ts = np.asarray(trajectory.ts)
    outs = np.asarray(trajectory.outputs)
    if outs.ndim == 3:
        outs = outs[index]
    states = {} if trajectory.states is None else dict(trajectory.states)
    panels = list(states.items()) + [("y", None)]
    fig = Figure(figsize=(8.5, 2.2 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, value) in zip(axes, panels):
        if value is None:
            v, what, label = outs, "output", "readout y"
        else:
            v = np.asarray(value)
            if v.ndim == 3:
                v = v[index]
            v = v.reshape(v.shape[0], -1)
            what, label = "unit", _STATE_NAMES.get(name, name)
        n = v.shape[1]
        shown = v[:, :max_units] if value is not None else v
        for k in range(shown.shape[1]):
            ax.plot(ts, shown[:, k], lw=1 if value is not None else 1.5, label=f"{what} {k}")
        ax.set_ylabel(label)
        head = f"{shown.shape[1]} of {n} {what}s" if shown.shape[1] < n else None
        outside_legend(ax, title=head, title_fontsize=7, ncols=1 if shown.shape[1] <= 10 else 2)
    axes[-1].set_xlabel(time_label(ts, time_unit))
    if title:
        fig.suptitle(title)
    return fig
