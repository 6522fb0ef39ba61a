"""Data and tasks: the paper's input signals and teacher data, memory and hierarchy
tasks, cognitive tasks."""

from ._inputs import (
    savgol_smooth as savgol_smooth,
    smoothed_uniform_inputs as smoothed_uniform_inputs,
)
