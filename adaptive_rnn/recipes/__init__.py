"""Recipes: complete analyses composed from the library's layers (models, training,
recordings, analysis). `fit_recording` fits time constants in milliseconds, with
bootstrap confidence intervals and baselines, to a recording."""

from ._bootstrap import (
    INTERVALS as INTERVALS,
    RESAMPLE as RESAMPLE,
    simulate_responses as simulate_responses,
)
from ._cluster import run_shard as run_shard, submit_sweep as submit_sweep
from ._fit_recording import (
    INITIAL_STATES as INITIAL_STATES,
    LOSSES as LOSSES,
    TIME_CONSTANT_MODES as TIME_CONSTANT_MODES,
    FitSettings as FitSettings,
    RecordingFit as RecordingFit,
    bootstrap_intervals as bootstrap_intervals,
    check_settings as check_settings,
    fit_recording as fit_recording,
    fit_recordings as fit_recordings,
    predict as predict,
)
from ._observed import OBSERVED as OBSERVED, ObservedARU as ObservedARU
from ._report import plot_recording_fit as plot_recording_fit
from ._sweep_config import (
    SCHEMA as SCHEMA,
    check_config as check_config,
    failure_summary as failure_summary,
    load_config as load_config,
    merge_config_sweep as merge_config_sweep,
    point_problem as point_problem,
    run_config as run_config,
)
from ._synthetic import (
    SyntheticRecording as SyntheticRecording,
    synthetic_recording as synthetic_recording,
)
from ._train_task import (
    MODEL_KINDS as MODEL_KINDS,
    TRAIN_TASK_DEFAULTS as TRAIN_TASK_DEFAULTS,
    TaskRun as TaskRun,
    build_task_model as build_task_model,
    time_constants_by_group as time_constants_by_group,
    train_on_task as train_on_task,
    unit_signs as unit_signs,
)
