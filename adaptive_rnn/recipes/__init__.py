"""Recipes: complete analyses composed from the library's layers (models, training,
recordings, analysis). `fit_recording` fits time constants in milliseconds, with
bootstrap confidence intervals and baselines, to a recording."""

from ._fit_recording import (
    LOSSES as LOSSES,
)
from ._fit_recording import (
    TIME_CONSTANT_MODES as TIME_CONSTANT_MODES,
)
from ._fit_recording import (
    FitSettings as FitSettings,
)
from ._fit_recording import (
    RecordingFit as RecordingFit,
)
from ._fit_recording import (
    bootstrap_intervals as bootstrap_intervals,
)
from ._fit_recording import (
    check_settings as check_settings,
)
from ._fit_recording import (
    fit_recording as fit_recording,
)
from ._fit_recording import (
    fit_recordings as fit_recordings,
)
from ._fit_recording import (
    predict as predict,
)
from ._cluster import run_shard as run_shard
from ._cluster import submit_sweep as submit_sweep
from ._observed import OBSERVED as OBSERVED
from ._observed import ObservedARU as ObservedARU
from ._report import plot_recording_fit as plot_recording_fit
from ._sweep_config import (
    SCHEMA as SCHEMA,
)
from ._sweep_config import (
    check_config as check_config,
)
from ._sweep_config import (
    failure_summary as failure_summary,
)
from ._sweep_config import (
    load_config as load_config,
)
from ._sweep_config import (
    merge_config_sweep as merge_config_sweep,
)
from ._sweep_config import (
    point_problem as point_problem,
)
from ._sweep_config import (
    run_config as run_config,
)
from ._synthetic import (
    SyntheticRecording as SyntheticRecording,
)
from ._synthetic import (
    synthetic_recording as synthetic_recording,
)
from ._train_task import (
    MODEL_KINDS as MODEL_KINDS,
)
from ._train_task import (
    TRAIN_TASK_DEFAULTS as TRAIN_TASK_DEFAULTS,
)
from ._train_task import (
    TaskRun as TaskRun,
)
from ._train_task import (
    build_task_model as build_task_model,
)
from ._train_task import (
    time_constants_by_group as time_constants_by_group,
)
from ._train_task import (
    train_on_task as train_on_task,
)
from ._train_task import (
    unit_signs as unit_signs,
)
