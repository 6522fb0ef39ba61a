"""Plots of trajectories and time constants (matplotlib, no pyplot state kept)."""

import numpy as np
from matplotlib.figure import Figure


def plot_trajectory(trajectory, *, index: int = 0, max_units: int = 10, title: str | None = None) -> Figure:
    """Plots the state variables (e.g. I and r) and the outputs y over time.

    **Arguments:**

    - `trajectory`: a `Trajectory` with states (`return_states=True`).
    - `index`: which sequence of a batch to plot.
    - `max_units`: at most this many units per state panel.

    **Returns:** a matplotlib `Figure`.
    """
    ts = np.asarray(trajectory.ts)
    outs = np.asarray(trajectory.outputs)
    if outs.ndim == 3:
        outs = outs[index]
    states = {} if trajectory.states is None else dict(trajectory.states)
    panels = list(states.items()) + [("y", None)]
    fig = Figure(figsize=(8, 2.2 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, value) in zip(axes, panels):
        if value is None:
            ax.plot(ts, outs)
            ax.set_ylabel("output y")
        else:
            v = np.asarray(value)
            if v.ndim == 3:
                v = v[index]
            ax.plot(ts, v[:, :max_units], lw=1)
            ax.set_ylabel(name)
    axes[-1].set_xlabel("time")
    if title:
        fig.suptitle(title)
    return fig
