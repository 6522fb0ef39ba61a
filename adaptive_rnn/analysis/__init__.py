"""Analysis: plots, and (later) fixed points, linearisation, identifiability."""

from ._plots import plot_trajectory as plot_trajectory
