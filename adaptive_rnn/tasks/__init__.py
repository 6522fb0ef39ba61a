"""Data and tasks: the paper's input signals and teacher data, memory and hierarchy
tasks, cognitive tasks."""

from ._cognitive import (
    TASKS as TASKS,
)
from ._cognitive import (
    TaskBatch as TaskBatch,
)
from ._cognitive import (
    accuracy_by_coherence as accuracy_by_coherence,
)
from ._cognitive import (
    context_decision as context_decision,
)
from ._cognitive import (
    delayed_match_to_sample as delayed_match_to_sample,
)
from ._cognitive import (
    ideal_observer_accuracy as ideal_observer_accuracy,
)
from ._cognitive import (
    make_task as make_task,
)
from ._cognitive import (
    perceptual_decision as perceptual_decision,
)
from ._cognitive import (
    psychometric_curve as psychometric_curve,
)
from ._cognitive import (
    ready_set_go as ready_set_go,
)
from ._cognitive import (
    task_accuracy as task_accuracy,
)
from ._cognitive import (
    task_choices as task_choices,
)
from ._cognitive import (
    working_memory as working_memory,
)
from ._hierarchy import hierarchy_data as hierarchy_data
from ._inputs import (
    savgol_smooth as savgol_smooth,
)
from ._inputs import (
    smoothed_uniform_inputs as smoothed_uniform_inputs,
)
from ._memory import MemoryTask as MemoryTask
from ._memory import memory_task as memory_task
from ._neurogym import from_neurogym as from_neurogym
from ._teacher import TeacherData as TeacherData
from ._teacher import teacher_data as teacher_data
