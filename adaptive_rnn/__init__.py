"""adaptive_rnn: biologically grounded continuous-time recurrent networks in JAX.

The public face, by topic. Subpackages hold more: `adaptive_rnn.models`, `.train`,
`.tasks`, `.recordings`, `.analysis`, `.paper`, `.recipes`.
"""

import importlib.metadata

from ._activations import ACTIVATIONS as ACTIVATIONS, get_activation as get_activation
from ._connectivity import (
    Connectivity as Connectivity,
    MultiArea as MultiArea,
    Weight as Weight,
    balance_ei as balance_ei,
    ei_signs as ei_signs,
    make_weight as make_weight,
    multi_area as multi_area,
    project_weights as project_weights,
    spectral_radius as spectral_radius,
)
from ._cpu import (
    configure_cpu as configure_cpu,
    fetch_global as fetch_global,
    retain_freed_memory as retain_freed_memory,
    split_leading_axis as split_leading_axis,
)

# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
from ._errors import (
    AdaptiveRNNError as AdaptiveRNNError,
    CheckpointError as CheckpointError,
    InputError as InputError,
    SolverError as SolverError,
    TrainingError as TrainingError,
    UnstableStepError as UnstableStepError,
)
from ._fields import (
    ARUFieldParams as ARUFieldParams,
    CTRNNFieldParams as CTRNNFieldParams,
    InputDrive as InputDrive,
    ShuntingFieldParams as ShuntingFieldParams,
    aru_field as aru_field,
    ctrnn_field as ctrnn_field,
    recurrent_input as recurrent_input,
    shunting_field as shunting_field,
    stacked_aru_field as stacked_aru_field,
)
from ._io import load_model as load_model, save_model as save_model
from ._nn4n import import_nn4n as import_nn4n, nn4n_to_ctrnn as nn4n_to_ctrnn

# ---------------------------------------------------------------------------------------
# Parametrisations and connectivity
# ---------------------------------------------------------------------------------------
from ._params import (
    MODES as MODES,
    PARAMETRISATIONS as PARAMETRISATIONS,
    AbstractFrozen as AbstractFrozen,
    AbstractTimeConstant as AbstractTimeConstant,
    FixedTau as FixedTau,
    Frozen as Frozen,
    SigmoidRate as SigmoidRate,
    SoftplusTau as SoftplusTau,
    is_frozen as is_frozen,
    make_time_constant as make_time_constant,
    trainable_filter as trainable_filter,
)
from ._regularisers import (
    firing_rate_penalty as firing_rate_penalty,
    rate_l2 as rate_l2,
    weight_l1 as weight_l1,
    weight_l2 as weight_l2,
)

# ---------------------------------------------------------------------------------------
# Integration: the discrete recurrence and continuous time; using every core
# ---------------------------------------------------------------------------------------
from ._solve import (
    HoldInterpolation as HoldInterpolation,
    SequentialEuler as SequentialEuler,
    Trajectory as Trajectory,
    simulate as simulate,
    solve as solve,
)

# ---------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------
from .analysis import (
    ExchangeProfile as ExchangeProfile,
    FixedPoints as FixedPoints,
    exchange_profile as exchange_profile,
    find_fixed_points as find_fixed_points,
    linearise as linearise,
    swap_time_constants as swap_time_constants,
    tau_invariants as tau_invariants,
)

# ---------------------------------------------------------------------------------------
# Models: the families, their contract and registry (docs/model.md, docs/extending.md)
# ---------------------------------------------------------------------------------------
from .models import (
    ARU as ARU,
    CTRNN as CTRNN,
    FAMILIES as FAMILIES,
    LTC as LTC,
    AbstractNoisyRNN as AbstractNoisyRNN,
    AbstractRNN as AbstractRNN,
    ARULayer as ARULayer,
    Noise as Noise,
    Shunting as Shunting,
    family_names as family_names,
    get_family as get_family,
    project as project,
    register_family as register_family,
)

# ---------------------------------------------------------------------------------------
# Recipes: analyses composed from every layer
# ---------------------------------------------------------------------------------------
from .recipes import train_on_task as train_on_task
from .recordings import Recording as Recording, load_recording as load_recording

# ---------------------------------------------------------------------------------------
# Data and tasks: the paper's teacher, cognitive tasks, recordings
# ---------------------------------------------------------------------------------------
from .tasks import (
    TASKS as TASKS,
    TaskBatch as TaskBatch,
    TeacherData as TeacherData,
    from_neurogym as from_neurogym,
    make_task as make_task,
    task_accuracy as task_accuracy,
    teacher_data as teacher_data,
)

# ---------------------------------------------------------------------------------------
# Training and sweeps
# ---------------------------------------------------------------------------------------
from .train import (
    EnsembleResult as EnsembleResult,
    FitResult as FitResult,
    History as History,
    TrainData as TrainData,
    fit as fit,
    fit_ensemble as fit_ensemble,
    fit_scan as fit_scan,
    load_checkpoint as load_checkpoint,
    load_sweep as load_sweep,
    make_train_data as make_train_data,
    merge_sweep as merge_sweep,
    mse_loss as mse_loss,
    paper_optimiser as paper_optimiser,
    save_sweep as save_sweep,
    sweep as sweep,
)

try:
    __version__ = importlib.metadata.version("adaptive_rnn")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
    __version__ = "0.0.0+unknown"
