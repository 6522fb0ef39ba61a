"""Analysis: plots, and (later) fixed points, linearisation, identifiability."""

from ._autocorr import (
    IntrinsicTimescale as IntrinsicTimescale,
)
from ._autocorr import (
    intrinsic_timescale as intrinsic_timescale,
)
from ._baselines import (
    ConstantBaseline as ConstantBaseline,
)
from ._baselines import (
    LNBaseline as LNBaseline,
)
from ._baselines import (
    fit_constant_baseline as fit_constant_baseline,
)
from ._baselines import (
    fit_ln_baseline as fit_ln_baseline,
)
from ._baselines import (
    gaussian_loglik_per_bin as gaussian_loglik_per_bin,
)
from ._baselines import (
    noise_scale as noise_scale,
)
from ._baselines import (
    score_heldout as score_heldout,
)
from ._connectivity_plots import (
    plot_connectivity as plot_connectivity,
)
from ._connectivity_plots import (
    plot_eigenvalues as plot_eigenvalues,
)
from ._connectivity_plots import (
    plot_weight_histograms as plot_weight_histograms,
)
from ._dynamics_plots import (
    plot_eigenvalue_spectrum as plot_eigenvalue_spectrum,
)
from ._dynamics_plots import (
    plot_fixed_points as plot_fixed_points,
)
from ._dynamics_plots import (
    principal_components as principal_components,
)
from ._fixed_points import (
    FixedPoints as FixedPoints,
)
from ._fixed_points import (
    Linearisation as Linearisation,
)
from ._fixed_points import (
    effective_time_constants as effective_time_constants,
)
from ._fixed_points import (
    find_fixed_points as find_fixed_points,
)
from ._fixed_points import (
    flatten_states as flatten_states,
)
from ._fixed_points import (
    linearise as linearise,
)
from ._history_plots import plot_history as plot_history
from ._history_plots import plot_sweep as plot_sweep
from ._identifiability import (
    ExchangeProfile as ExchangeProfile,
)
from ._identifiability import (
    exchange_profile as exchange_profile,
)
from ._identifiability import (
    plot_exchange_profile as plot_exchange_profile,
)
from ._identifiability import (
    swap_time_constants as swap_time_constants,
)
from ._identifiability import (
    tau_invariants as tau_invariants,
)
from ._plots import log_ticks as log_ticks
from ._plots import plot_trajectory as plot_trajectory
from ._task_plots import (
    plot_accuracy_by_coherence as plot_accuracy_by_coherence,
)
from ._task_plots import (
    plot_psychometric as plot_psychometric,
)
from ._task_plots import (
    plot_time_constant_groups as plot_time_constant_groups,
)
