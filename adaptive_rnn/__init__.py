"""adaptive_rnn: biologically grounded continuous-time recurrent networks in JAX."""

import importlib.metadata

from ._activations import ACTIVATIONS as ACTIVATIONS, get_activation as get_activation
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
    aru_field as aru_field,
    stacked_aru_field as stacked_aru_field,
)
from ._params import (
    AbstractFrozen as AbstractFrozen,
    AbstractTimeConstant as AbstractTimeConstant,
    FixedTau as FixedTau,
    Frozen as Frozen,
    SigmoidRate as SigmoidRate,
    SoftplusTau as SoftplusTau,
    make_time_constant as make_time_constant,
    trainable_filter as trainable_filter,
)
from ._solve import (
    HoldInterpolation as HoldInterpolation,
    SequentialEuler as SequentialEuler,
    Trajectory as Trajectory,
    simulate as simulate,
    solve as solve,
)
from ._io import load_model as load_model, save_model as save_model
from ._cpu import (
    configure_cpu as configure_cpu,
    retain_freed_memory as retain_freed_memory,
    split_leading_axis as split_leading_axis,
)
from .models import AbstractRNN as AbstractRNN, ARU as ARU, ARULayer as ARULayer

# --- seed models: CTRNN, shunting, Dale's law, masks, noise, regularisers (issue 3) ---
from ._fields import (
    CTRNNFieldParams as CTRNNFieldParams,
    ShuntingFieldParams as ShuntingFieldParams,
    ctrnn_field as ctrnn_field,
    shunting_field as shunting_field,
)
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
from ._noise import Noise as Noise
from .models import CTRNN as CTRNN, Shunting as Shunting
from ._regularisers import (
    firing_rate_penalty as firing_rate_penalty,
    rate_l2 as rate_l2,
    weight_l1 as weight_l1,
    weight_l2 as weight_l2,
)
from ._nn4n import import_nn4n as import_nn4n, nn4n_to_ctrnn as nn4n_to_ctrnn
# --- end seed models ---

# --- training, ensembles, sweeps, teacher data (issue 4) ---
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
    mse_loss as mse_loss,
    paper_optimiser as paper_optimiser,
    save_sweep as save_sweep,
    sweep as sweep,
)
from .tasks import TeacherData as TeacherData, teacher_data as teacher_data
# --- end training ---

# --- analysis and cognitive tasks (issue 7) ---
from .analysis import (
    FixedPoints as FixedPoints,
    ExchangeProfile as ExchangeProfile,
    exchange_profile as exchange_profile,
    find_fixed_points as find_fixed_points,
    linearise as linearise,
    swap_time_constants as swap_time_constants,
    tau_invariants as tau_invariants,
)
from .recipes import train_on_task as train_on_task
from .tasks import (
    TASKS as TASKS,
    TaskBatch as TaskBatch,
    from_neurogym as from_neurogym,
    make_task as make_task,
    task_accuracy as task_accuracy,
)
# --- end analysis ---

# --- the model contract and its extension surface: what a new family uses (docs/extending.md) ---
from ._fields import InputDrive as InputDrive, recurrent_input as recurrent_input
from ._params import (
    MODES as MODES,
    PARAMETRISATIONS as PARAMETRISATIONS,
    is_frozen as is_frozen,
)
from .models import (
    FAMILIES as FAMILIES,
    AbstractNoisyRNN as AbstractNoisyRNN,
    family_names as family_names,
    get_family as get_family,
    project as project,
    register_family as register_family,
)
# --- end model contract ---

try:
    __version__ = importlib.metadata.version("adaptive_rnn")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
    __version__ = "0.0.0+unknown"
