"""Data and tasks: the paper's input signals and teacher data, memory and hierarchy
tasks, cognitive tasks."""

from ._inputs import (
    savgol_smooth as savgol_smooth,
    smoothed_uniform_inputs as smoothed_uniform_inputs,
)
from ._teacher import TeacherData as TeacherData, teacher_data as teacher_data
from ._cognitive import TASKS as TASKS, accuracy_by_coherence as accuracy_by_coherence, ideal_observer_accuracy as ideal_observer_accuracy, TaskBatch as TaskBatch, context_decision as context_decision, delayed_match_to_sample as delayed_match_to_sample, make_task as make_task, perceptual_decision as perceptual_decision, psychometric_curve as psychometric_curve, ready_set_go as ready_set_go, task_accuracy as task_accuracy, task_choices as task_choices, working_memory as working_memory
from ._neurogym import from_neurogym as from_neurogym
from ._memory import MemoryTask as MemoryTask, memory_task as memory_task
from ._hierarchy import hierarchy_data as hierarchy_data
