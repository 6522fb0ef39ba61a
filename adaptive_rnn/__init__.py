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
from .models import AbstractRNN as AbstractRNN, ARU as ARU, ARULayer as ARULayer

# --- seed models: CTRNN, shunting, Dale's law, masks, noise, regularisers (issue 3) ---
# --- end seed models ---

# --- training, ensembles, sweeps, teacher data (issue 4) ---
# --- end training ---

# --- analysis and cognitive tasks (issue 7) ---
# --- end analysis ---

try:
    __version__ = importlib.metadata.version("adaptive_rnn")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
    __version__ = "0.0.0+unknown"
