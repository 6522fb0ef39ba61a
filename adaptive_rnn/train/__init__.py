"""Training: `fit` one model, `fit_ensemble` many in one compiled program, `sweep` over
grids of hyper-parameters; checkpoints and histories."""

from ._checkpoint import (
    CHECKPOINT_JSON as CHECKPOINT_JSON,
    load_checkpoint as load_checkpoint,
    save_checkpoint as save_checkpoint,
)
from ._core import (
    TrainState as TrainState,
    fit_scan as fit_scan,
    mse_loss as mse_loss,
    paper_optimiser as paper_optimiser,
    split_model as split_model,
    time_constant_labels as time_constant_labels,
)
from ._data import TrainData as TrainData, make_train_data as make_train_data
from ._ensemble import EnsembleResult as EnsembleResult, fit_ensemble as fit_ensemble
from ._fit import FitResult as FitResult, fit as fit
from ._history import History as History
from ._observation import (
    LINKS as LINKS,
    GaussianObservation as GaussianObservation,
    PoissonObservation as PoissonObservation,
    bits_per_spike as bits_per_spike,
    explained_variance as explained_variance,
    poisson_baseline_nll as poisson_baseline_nll,
)
from ._sweep import (
    load_sweep as load_sweep,
    merge_sweep as merge_sweep,
    save_sweep as save_sweep,
    sweep as sweep,
)
