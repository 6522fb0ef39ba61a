"""Training: `fit` one model, `fit_ensemble` many in one compiled program, `sweep` over
grids of hyper-parameters; checkpoints and histories."""

from ._checkpoint import (
    CHECKPOINT_JSON as CHECKPOINT_JSON,
)
from ._checkpoint import (
    load_checkpoint as load_checkpoint,
)
from ._checkpoint import (
    save_checkpoint as save_checkpoint,
)
from ._core import (
    TrainState as TrainState,
)
from ._core import (
    fit_scan as fit_scan,
)
from ._core import (
    mse_loss as mse_loss,
)
from ._core import (
    paper_optimiser as paper_optimiser,
)
from ._core import (
    split_model as split_model,
)
from ._core import (
    time_constant_labels as time_constant_labels,
)
from ._data import TrainData as TrainData
from ._data import make_train_data as make_train_data
from ._ensemble import EnsembleResult as EnsembleResult
from ._ensemble import fit_ensemble as fit_ensemble
from ._fit import FitResult as FitResult
from ._fit import fit as fit
from ._history import History as History
from ._observation import (
    LINKS as LINKS,
)
from ._observation import (
    GaussianObservation as GaussianObservation,
)
from ._observation import (
    PoissonObservation as PoissonObservation,
)
from ._observation import (
    bits_per_spike as bits_per_spike,
)
from ._observation import (
    explained_variance as explained_variance,
)
from ._observation import (
    poisson_baseline_nll as poisson_baseline_nll,
)
from ._sweep import load_sweep as load_sweep
from ._sweep import merge_sweep as merge_sweep
from ._sweep import save_sweep as save_sweep
from ._sweep import sweep as sweep
