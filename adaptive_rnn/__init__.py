"""adaptive_rnn: biologically grounded continuous-time recurrent networks in JAX.

The public face, by topic. Subpackages hold more: `adaptive_rnn.models`, `.train`,
`.tasks`, `.recordings`, `.analysis`, `.paper`, `.recipes`.
"""

import importlib.metadata

from ._activations import ACTIVATIONS as ACTIVATIONS
from ._activations import get_activation as get_activation
from ._connectivity import (
    Connectivity as Connectivity,
)
from ._connectivity import (
    MultiArea as MultiArea,
)
from ._connectivity import (
    Weight as Weight,
)
from ._connectivity import (
    balance_ei as balance_ei,
)
from ._connectivity import (
    ei_signs as ei_signs,
)
from ._connectivity import (
    make_weight as make_weight,
)
from ._connectivity import (
    multi_area as multi_area,
)
from ._connectivity import (
    project_weights as project_weights,
)
from ._connectivity import (
    spectral_radius as spectral_radius,
)
from ._cpu import (
    configure_cpu as configure_cpu,
)
from ._cpu import (
    fetch_global as fetch_global,
)
from ._cpu import (
    retain_freed_memory as retain_freed_memory,
)
from ._cpu import (
    split_leading_axis as split_leading_axis,
)

# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
from ._errors import (
    AdaptiveRNNError as AdaptiveRNNError,
)
from ._errors import (
    CheckpointError as CheckpointError,
)
from ._errors import (
    InputError as InputError,
)
from ._errors import (
    SolverError as SolverError,
)
from ._errors import (
    TrainingError as TrainingError,
)
from ._errors import (
    UnstableStepError as UnstableStepError,
)
from ._fields import (
    ARUFieldParams as ARUFieldParams,
)
from ._fields import (
    CTRNNFieldParams as CTRNNFieldParams,
)
from ._fields import (
    InputDrive as InputDrive,
)
from ._fields import (
    ShuntingFieldParams as ShuntingFieldParams,
)
from ._fields import (
    aru_field as aru_field,
)
from ._fields import (
    ctrnn_field as ctrnn_field,
)
from ._fields import (
    recurrent_input as recurrent_input,
)
from ._fields import (
    shunting_field as shunting_field,
)
from ._fields import (
    stacked_aru_field as stacked_aru_field,
)
from ._io import load_model as load_model
from ._io import save_model as save_model
from ._nn4n import import_nn4n as import_nn4n
from ._nn4n import nn4n_to_ctrnn as nn4n_to_ctrnn

# ---------------------------------------------------------------------------------------
# Parametrisations and connectivity
# ---------------------------------------------------------------------------------------
from ._params import (
    MODES as MODES,
)
from ._params import (
    PARAMETRISATIONS as PARAMETRISATIONS,
)
from ._params import (
    AbstractFrozen as AbstractFrozen,
)
from ._params import (
    AbstractTimeConstant as AbstractTimeConstant,
)
from ._params import (
    FixedTau as FixedTau,
)
from ._params import (
    Frozen as Frozen,
)
from ._params import (
    SigmoidRate as SigmoidRate,
)
from ._params import (
    SoftplusTau as SoftplusTau,
)
from ._params import (
    is_frozen as is_frozen,
)
from ._params import (
    make_time_constant as make_time_constant,
)
from ._params import (
    trainable_filter as trainable_filter,
)
from ._regularisers import (
    firing_rate_penalty as firing_rate_penalty,
)
from ._regularisers import (
    rate_l2 as rate_l2,
)
from ._regularisers import (
    weight_l1 as weight_l1,
)
from ._regularisers import (
    weight_l2 as weight_l2,
)

# ---------------------------------------------------------------------------------------
# Integration: the discrete recurrence and continuous time; using every core
# ---------------------------------------------------------------------------------------
from ._solve import (
    HoldInterpolation as HoldInterpolation,
)
from ._solve import (
    SequentialEuler as SequentialEuler,
)
from ._solve import (
    Trajectory as Trajectory,
)
from ._solve import (
    simulate as simulate,
)
from ._solve import (
    solve as solve,
)

# ---------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------
from .analysis import (
    ExchangeProfile as ExchangeProfile,
)
from .analysis import (
    FixedPoints as FixedPoints,
)
from .analysis import (
    exchange_profile as exchange_profile,
)
from .analysis import (
    find_fixed_points as find_fixed_points,
)
from .analysis import (
    linearise as linearise,
)
from .analysis import (
    swap_time_constants as swap_time_constants,
)
from .analysis import (
    tau_invariants as tau_invariants,
)

# ---------------------------------------------------------------------------------------
# Models: the families, their contract and registry (docs/model.md, docs/extending.md)
# ---------------------------------------------------------------------------------------
from .models import (
    ARU as ARU,
)
from .models import (
    CTRNN as CTRNN,
)
from .models import (
    FAMILIES as FAMILIES,
)
from .models import (
    LTC as LTC,
)
from .models import (
    AbstractNoisyRNN as AbstractNoisyRNN,
)
from .models import (
    AbstractRNN as AbstractRNN,
)
from .models import (
    ARULayer as ARULayer,
)
from .models import (
    Noise as Noise,
)
from .models import (
    Shunting as Shunting,
)
from .models import (
    family_names as family_names,
)
from .models import (
    get_family as get_family,
)
from .models import (
    project as project,
)
from .models import (
    register_family as register_family,
)

# ---------------------------------------------------------------------------------------
# Recipes: analyses composed from every layer
# ---------------------------------------------------------------------------------------
from .recipes import train_on_task as train_on_task
from .recordings import Recording as Recording
from .recordings import load_recording as load_recording

# ---------------------------------------------------------------------------------------
# Data and tasks: the paper's teacher, cognitive tasks, recordings
# ---------------------------------------------------------------------------------------
from .tasks import (
    TASKS as TASKS,
)
from .tasks import (
    TaskBatch as TaskBatch,
)
from .tasks import (
    TeacherData as TeacherData,
)
from .tasks import (
    from_neurogym as from_neurogym,
)
from .tasks import (
    make_task as make_task,
)
from .tasks import (
    task_accuracy as task_accuracy,
)
from .tasks import (
    teacher_data as teacher_data,
)

# ---------------------------------------------------------------------------------------
# Training and sweeps
# ---------------------------------------------------------------------------------------
from .train import (
    EnsembleResult as EnsembleResult,
)
from .train import (
    FitResult as FitResult,
)
from .train import (
    History as History,
)
from .train import (
    TrainData as TrainData,
)
from .train import (
    fit as fit,
)
from .train import (
    fit_ensemble as fit_ensemble,
)
from .train import (
    fit_scan as fit_scan,
)
from .train import (
    load_checkpoint as load_checkpoint,
)
from .train import (
    load_sweep as load_sweep,
)
from .train import (
    make_train_data as make_train_data,
)
from .train import (
    mse_loss as mse_loss,
)
from .train import (
    paper_optimiser as paper_optimiser,
)
from .train import (
    save_sweep as save_sweep,
)
from .train import (
    sweep as sweep,
)
from .train import (
    merge_sweep as merge_sweep,
)

try:
    __version__ = importlib.metadata.version("adaptive_rnn")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
    __version__ = "0.0.0+unknown"
