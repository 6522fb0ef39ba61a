"""What `fit_recording` returns (`RecordingFit`) and the settings it was run with
(`FitSettings`)."""

import dataclasses
from typing import Any

import numpy as np

from ..models import ARU
from ._observed import ObservedARU


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """The checked settings of `fit_recording` (made by `check_settings`; its arguments
    and `fit_recording`'s say more about each).

    **Fields:**

    - `loss`: `"poisson"` (spike counts) or `"gaussian"` (signals).
    - `hidden`: the number of hidden units.
    - `time_constants`: `"global"` (one pair `tau_s`, `tau_r`) or `"local"` (one pair
        per hidden unit).
    - `observed`: `"readout"` (a learned readout) or `"units"` (recorded neuron i is
        hidden unit i's rate).
    - `bootstrap`: the number B of bootstrap refits.
    - `confidence`: the level of the intervals, in (0, 1).
    - `heldout_fraction`: the fraction of trials held out for scoring, in (0, 1).
    - `burn_in_ms`: milliseconds of zero input run before each trial, not scored.
    - `epochs`: training epochs.
    - `batch_size`: trials per update; `None`: a quarter of the fitting trials.
    - `learning_rate`: Adam's initial learning rate (decayed to 5 % on a cosine).
    - `link`: the Poisson link, `"softplus"` or `"exp"`.
    - `activation`: the ARU's activation (canonical name).
    - `self_connections`: whether the recurrent weights may connect a unit to itself.
    - `interval`: the bootstrap interval, `"normal"`, `"basic"` or `"percentile"`.
    - `resample`: the refits' data, `"parametric"` or `"trials"`.
    - `initial_state`: `"burn_in"` or `"learned"`.
    """

    loss: str
    hidden: int
    time_constants: str
    observed: str
    bootstrap: int
    confidence: float
    heldout_fraction: float
    burn_in_ms: float
    epochs: int
    batch_size: int | None
    learning_rate: float
    link: str
    activation: str
    self_connections: bool
    interval: str
    resample: str
    initial_state: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class RecordingFit:
    """What `fit_recording` returns.

    **Fields:**

    - `model`: the point estimate (`ObservedARU`, fitted on the fitting trials); its
        readout is in data units. `to_aru()` gives it as a plain `ARU`.
    - `members`: a list of the B bootstrap refits (`ObservedARU`).
    - `tau_s_ms`: `(k,)` the point estimate of `tau_s` in milliseconds, with k = 1
        (`time_constants="global"`) or one per hidden unit (`"local"`).
    - `tau_r_ms`: `(k,)` the point estimate of `tau_r` in milliseconds.
    - `tau_sum_ms`: `(k,)` `tau_s + tau_r` in milliseconds.
    - `tau_prod_ms2`: `(k,)` `tau_s * tau_r` in squared milliseconds.
    - `boot`: name (`"tau_s_ms"`, `"tau_r_ms"`, `"tau_sum_ms"`, `"tau_prod_ms2"`) ->
        `(B, k)` the bootstrap refits' values of that quantity.
    - `ci`: name -> `(k, 2)` the `confidence` intervals `[low, high]`
        (`bootstrap_intervals`).
    - `exchangeable`: `(k,)` `True` where the intervals of `tau_s` and `tau_r` overlap
        (the data cannot tell which is which).
    - `autocorr`: the `IntrinsicTimescale` of every recorded unit (all trials).
    - `heldout`: scores on the held-out trials: `{"model": ..., "constant": ...,
        "ln": ... or None}`, each a dict of `score_heldout` (`"ln"` is `None` for a
        recording without inputs).
    - `prediction`: `(heldout trials, time, units)` the model's prediction on the
        held-out trials: rate in Hz (counts) or the signal (signals).
    - `noise_sigma`: `(units,)` each channel's noise scale on the fitting trials, in data
        units (signals), else `None`.
    - `fit_trials`: the sorted indices into the recording of the fitting trials.
    - `heldout_trials`: the sorted indices into the recording of the held-out trials.
    - `burn_in_bins`: the number of zero-input bins run before each trial (`burn_in_ms`
        rounded up to bins).
    - `bin_ms`: the recording's bin width in milliseconds (the model's `dt`).
    - `settings`: the `FitSettings` of the fit.
    - `best_loss`: `(B + 1,)` each member's best training loss (member 0, the point
        estimate, first).
    - `epochs_run`: `(B + 1,)` the epochs each member trained, in the same order.
    - `ln_tau_ms`: `(units,)` the LN baseline's filter time constants in milliseconds
        (with a stimulus), else `None`.
    - `unit_names`: the recorded units' names (a tuple).
    """

    model: ObservedARU
    members: list
    tau_s_ms: np.ndarray
    tau_r_ms: np.ndarray
    tau_sum_ms: np.ndarray
    tau_prod_ms2: np.ndarray
    boot: dict
    ci: dict
    exchangeable: np.ndarray
    autocorr: Any
    heldout: dict
    prediction: np.ndarray
    noise_sigma: np.ndarray | None
    fit_trials: np.ndarray
    heldout_trials: np.ndarray
    burn_in_bins: int
    bin_ms: float
    settings: FitSettings
    best_loss: np.ndarray
    epochs_run: np.ndarray
    ln_tau_ms: np.ndarray | None = None
    unit_names: tuple = ()

    def to_aru(self) -> ARU:
        """The point estimate as a plain `ARU` (`n_out` = recorded units), for
        `save_model` and `adaptive-rnn simulate`: run it on the inputs preceded by
        `burn_in_bins` zero bins and drop those bins; its output is the readout
        (counts: `rate_hz = softplus(output)` or `exp`; signals: the signal)."""
        return self.model.to_aru()

    def pair_ms(self) -> np.ndarray:
        """`(k, 2)` the point estimate as an unordered pair `[smaller, larger]` (the two
        roots of `t^2 - sum t + product`), for units where the pair is exchangeable."""
        return np.sort(np.stack([self.tau_s_ms, self.tau_r_ms], axis=1), axis=1)

    def summary_lines(self) -> list[str]:
        """Human-readable lines: the time constants (or, where exchangeable, the
        unordered pair and its invariants) and the held-out scores."""
        lvl = f"{100 * self.settings.confidence:g} %"
        lines = []
        k = self.tau_s_ms.shape[0]
        show = range(k) if k <= 8 else list(range(4)) + [k - 1]
        for i in show:
            who = "global" if self.settings.time_constants == "global" else f"unit {i}"
            ci = {n: self.ci[n][i] for n in self.ci}
            inv = (
                f"tau_s + tau_r = {self.tau_sum_ms[i]:.4g} ms [{ci['tau_sum_ms'][0]:.4g}, {ci['tau_sum_ms'][1]:.4g}], "
                f"tau_s * tau_r = {self.tau_prod_ms2[i]:.4g} ms^2 [{ci['tau_prod_ms2'][0]:.4g}, {ci['tau_prod_ms2'][1]:.4g}]"
            )
            if self.exchangeable[i]:
                a, b = self.pair_ms()[i]
                lines.append(
                    f"{who}: tau_s and tau_r cannot be told apart ({lvl} intervals overlap): the pair is "
                    f"{{{a:.4g}, {b:.4g}}} ms in some order; {inv}"
                )
            else:
                lines.append(
                    f"{who}: tau_s = {self.tau_s_ms[i]:.4g} ms [{ci['tau_s_ms'][0]:.4g}, {ci['tau_s_ms'][1]:.4g}], "
                    f"tau_r = {self.tau_r_ms[i]:.4g} ms [{ci['tau_r_ms'][0]:.4g}, {ci['tau_r_ms'][1]:.4g}]; {inv}"
                )
        if k > len(show):
            lines.append(f"... ({k} units; all in fit.json)")
        ac = self.autocorr.tau_ms
        if np.isfinite(ac).any():
            lines.append(
                f"autocorrelation timescale (Murray et al. 2014): median {np.nanmedian(ac):.4g} ms over "
                f"{int(np.isfinite(ac).sum())} of {ac.size} neurons"
            )
        metric = "bits_per_spike" if self.settings.loss == "poisson" else "explained_variance"
        parts = []
        for name in ("model", "ln", "constant"):
            h = self.heldout.get(name)
            if h is not None:
                parts.append(
                    f"{name} {h['loglik_per_bin']:.5g} nats/bin, {metric.replace('_', ' ')} {h[metric]:.4g}"
                )
        lines.append("held-out: " + "; ".join(parts))
        return lines

    def to_json(self) -> dict:
        """The content of `fit.json` (JSON-serialisable; NaN as `None`)."""

        def lst(a):
            return [
                None if not np.isfinite(v) else float(v)
                for v in np.asarray(a, dtype=np.float64).ravel()
            ]

        out: dict[str, Any] = {"bin_ms": self.bin_ms}
        for name in ("tau_s_ms", "tau_r_ms", "tau_sum_ms", "tau_prod_ms2"):
            out[name] = lst(getattr(self, name))
            out[name + "_ci"] = [lst(row) for row in self.ci[name]]
        out["exchangeable"] = [bool(v) for v in self.exchangeable]
        out["tau_pair_ms"] = [lst(row) for row in self.pair_ms()]
        out["confidence"] = self.settings.confidence
        out["bootstrap_samples"] = {name: [lst(row) for row in v] for name, v in self.boot.items()}
        out["autocorr_tau_ms"] = lst(self.autocorr.tau_ms)
        out["autocorr_failures"] = {
            name: reason
            for name, reason in zip(self.unit_names, self.autocorr.reasons)
            if reason is not None
        }
        out["heldout"] = {
            name: None
            if h is None
            else {k: (lst(v) if isinstance(v, list) else lst([v])[0]) for k, v in h.items()}
            for name, h in self.heldout.items()
        }
        if self.ln_tau_ms is not None:
            out["ln_tau_ms"] = lst(self.ln_tau_ms)
        if self.noise_sigma is not None:
            out["noise_sigma"] = lst(self.noise_sigma)
        out["settings"] = self.settings.to_json()
        out["burn_in_bins"] = self.burn_in_bins
        out["fit_trials"] = [int(i) for i in self.fit_trials]
        out["heldout_trials"] = [int(i) for i in self.heldout_trials]
        out["final_train_loss"] = lst(self.best_loss)
        out["output"] = (
            f"the saved model's output is the readout y after {self.burn_in_bins} zero-input burn-in bins; "
            + (
                f"rate_hz = {self.settings.link}(y)"
                if self.settings.loss == "poisson"
                else "y is the predicted signal"
            )
        )
        return out
