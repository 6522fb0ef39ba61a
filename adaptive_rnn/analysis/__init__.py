"""Analysis: plots, and (later) fixed points, linearisation, identifiability."""

from ._autocorr import (
    IntrinsicTimescale as IntrinsicTimescale,
    intrinsic_timescale as intrinsic_timescale,
)
from ._baselines import (
    ConstantBaseline as ConstantBaseline,
    LNBaseline as LNBaseline,
    fit_constant_baseline as fit_constant_baseline,
    fit_ln_baseline as fit_ln_baseline,
    gaussian_loglik_per_bin as gaussian_loglik_per_bin,
    noise_scale as noise_scale,
    score_heldout as score_heldout,
)
from ._connectivity_plots import (
    plot_connectivity as plot_connectivity,
    plot_eigenvalues as plot_eigenvalues,
    plot_weight_histograms as plot_weight_histograms,
)
from ._dynamics_plots import (
    plot_eigenvalue_spectrum as plot_eigenvalue_spectrum,
    plot_fixed_points as plot_fixed_points,
    principal_components as principal_components,
)
from ._fixed_points import (
    FixedPoints as FixedPoints,
    Linearisation as Linearisation,
    effective_time_constants as effective_time_constants,
    find_fixed_points as find_fixed_points,
    flatten_states as flatten_states,
    linearise as linearise,
)
from ._history_plots import plot_history as plot_history, plot_sweep as plot_sweep
from ._identifiability import (
    ExchangeProfile as ExchangeProfile,
    exchange_profile as exchange_profile,
    plot_exchange_profile as plot_exchange_profile,
    swap_time_constants as swap_time_constants,
    tau_invariants as tau_invariants,
)
from ._plots import log_ticks as log_ticks, plot_trajectory as plot_trajectory
from ._task_plots import (
    plot_accuracy_by_coherence as plot_accuracy_by_coherence,
    plot_psychometric as plot_psychometric,
    plot_time_constant_groups as plot_time_constant_groups,
)
