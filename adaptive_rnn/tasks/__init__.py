"""Data and tasks: the paper's input signals and teacher data, memory and hierarchy
tasks, cognitive tasks.

The cognitive tasks live in rooms with one job each: `_trials` (the `TaskBatch` and the
trial machinery), `_registry` (`Task`, `register_task`, `TASKS`, `make_task`), `_scoring`
(the scoring machinery, the choice rule and the scoring functions), and one module per
kind of task (`_decision` with its `CoherenceScoring`, `_delay`, `_timing` with its
`IntervalScoring`), each registering its tasks with their rule when imported here
(docs/analysis_and_tasks.md, "Adding a task").
"""

from ._decision import (
    CoherenceScoring as CoherenceScoring,
    accuracy_by_coherence as accuracy_by_coherence,
    context_decision as context_decision,
    ideal_observer_accuracy as ideal_observer_accuracy,
    perceptual_decision as perceptual_decision,
)
from ._delay import (
    delayed_match_to_sample as delayed_match_to_sample,
    working_memory as working_memory,
)
from ._hierarchy import (
    hierarchy_data as hierarchy_data,
    timescale_groups_data as timescale_groups_data,
)
from ._inputs import (
    savgol_smooth as savgol_smooth,
    smoothed_uniform_inputs as smoothed_uniform_inputs,
)
from ._memory import MemoryTask as MemoryTask, memory_task as memory_task
from ._neurogym import from_neurogym as from_neurogym
from ._registry import (
    TASKS as TASKS,
    Scoring as Scoring,
    Task as Task,
    get_task as get_task,
    make_task as make_task,
    register_task as register_task,
)
from ._scoring import (
    ChoiceScoring as ChoiceScoring,
    psychometric_curve as psychometric_curve,
    task_accuracy as task_accuracy,
    task_choices as task_choices,
)
from ._teacher import TeacherData as TeacherData, teacher_data as teacher_data
from ._timing import IntervalScoring as IntervalScoring, ready_set_go as ready_set_go
from ._trials import TaskBatch as TaskBatch
