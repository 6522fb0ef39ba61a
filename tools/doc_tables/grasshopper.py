"""Renderers of the real-recording section of `docs/recordings.md`, from
`results/grasshopper/fit.json` (written by `examples/fit_grasshopper.py`)."""

from __future__ import annotations

from ._format import secs, sig, table
from ._sources import renderer

FIT = "results/grasshopper/fit.json"


def _ci(d: dict, name: str, unit: str = "ms") -> str:
    lo, hi = d[name + "_ci"][0]
    return f"{sig(d[name][0], 3)} {unit} [{sig(lo, 3)}, {sig(hi, 3)}]"


@renderer("grasshopper_data")
def _data(S) -> str:
    d = S.json(FIT)
    g = d["data"]
    cut = " and ".join(f"{c} Hz" for c in g["cutoff_hz"])
    return (
        f"With the committed settings (`{d['command']}`, {g['package']}): bins of "
        f"{g['bin_ms']:g} ms, trials of {g['trial_ms']:g} ms each after a masked lead-in of "
        f"{g['lead_in_ms']:g} ms, from the recordings under noise cut off at {cut}: "
        f"{g['n_trials']} trials, {g['scored_spikes']} scored spikes over "
        f"{secs(g['scored_ms'] / 1000.0)}; {sum(g['spikes_outside'])} spikes fall outside "
        f"every scored window (before the first, after the last whole one)."
    )


@renderer("grasshopper_fit")
def _fit(S) -> str:
    d = S.json(FIT)
    s, h = d["settings"], d["heldout"]
    n_held = len(d["heldout_trials"])
    rows = []
    for name, label in (
        ("model", "ARU (this fit)"),
        ("ln", "LN: one exponential filter"),
        ("constant", "constant rate"),
    ):
        x = h[name]
        rows.append([label, sig(x["loglik_per_bin"], 5), sig(x["bits_per_spike"], 3)])
    lines = [
        f"**Fit**: {s['hidden']} hidden units, {s['time_constants']} time constants, "
        f"{s['observed']}, Poisson ({s['link']}), {s['epochs']} epochs, {s['bootstrap']} "
        f"bootstrap refits, {n_held} of {d['data']['n_trials']} trials held out, seed "
        f"{d['seed']}; the fit (the point estimate and every refit) took "
        f"{secs(d['wall_s'])} on a {d['machine']['cpus']}-CPU machine shared with other jobs.",
        "",
        table(
            [f"held out ({n_held} trials)", "log-likelihood (nats/bin)", "bits per spike"],
            rows,
        ),
        "",
    ]
    best = h["model"]["bits_per_spike"]
    beats = best > h["ln"]["bits_per_spike"] and best > h["constant"]["bits_per_spike"]
    lines.append(
        f"The ARU {'beats' if beats else 'does not beat'} both baselines on the held-out "
        f"trials ({sig(best, 3)} bits per spike against {sig(h['ln']['bits_per_spike'], 3)} "
        f"for LN, whose filter time constant is {sig(d['ln_tau_ms'][0], 3)} ms)."
    )
    conf = f"{100 * d['confidence']:g} %"
    how = f"{s.get('resample', 'trials')} bootstrap, {s.get('interval', 'basic')} intervals"
    inv = (
        f"tau_s + tau_r = {_ci(d, 'tau_sum_ms')} and tau_s * tau_r = "
        f"{_ci(d, 'tau_prod_ms2', 'ms^2')}"
    )
    if d["exchangeable"][0]:
        a, b = d["tau_pair_ms"][0]
        (s_lo, s_hi), (r_lo, r_hi) = d["tau_s_ms_ci"][0], d["tau_r_ms_ci"][0]
        taus = (
            f"tau_s and tau_r cannot be told apart (their intervals, [{sig(s_lo, 3)}, "
            f"{sig(s_hi, 3)}] and [{sig(r_lo, 3)}, {sig(r_hi, 3)}] ms, overlap): the pair is "
            f"{{{sig(a, 3)}, {sig(b, 3)}}} ms in some order, with {inv}."
        )
    else:
        taus = f"tau_s = {_ci(d, 'tau_s_ms')}, tau_r = {_ci(d, 'tau_r_ms')}; {inv}."
    boot = d["bootstrap_samples"]
    sums = [row[0] for row in boot["tau_sum_ms"]]
    far = [v for v in sums if v > 3 * d["tau_sum_ms"][0]]
    near = [
        v
        for row_s, row_r in zip(boot["tau_s_ms"], boot["tau_r_ms"])
        for v in (row_s[0], row_r[0])
        if row_s[0] + row_r[0] <= 3 * d["tau_sum_ms"][0]
    ]
    spread = (
        f" {len(sums) - len(far)} of the {len(sums)} refits put both time constants between "
        f"{sig(min(near), 2)} and {sig(max(near), 2)} ms"
        + (
            f"; {len(far)} went far out (tau_s + tau_r up to {sig(max(far), 2)} ms), which "
            f"is what widens the intervals."
            if far
            else "."
        )
    )
    lines += ["", f"Time constants ({conf} {how}): {taus}{spread}", ""]
    ac = d["autocorr"]
    tau_ac = d["autocorr_tau_ms"][0]
    r = ac["autocorr"]
    lags = ac["lags_ms"]
    flat = max(abs(v) for v in r[2:] if v is not None)
    failure = next(iter((d.get("autocorr_failures") or {}).values()), None)
    text = (
        "Beside them, the autocorrelation timescale (Murray et al. 2014) is "
        + (f"{sig(tau_ac, 3)} ms" if tau_ac is not None else "not reported")
        + f" (the fit starts at lag {sig(ac['fit_start_ms'][0], 3)} ms, the autocorrelation's "
        f"peak"
        + (f": {failure}" if tau_ac is None and failure else "")
        + f"). The autocorrelation across trials is {sig(r[0], 2)} and {sig(r[1], 2)} at lags "
        f"{lags[0]:g} and {lags[1]:g} ms, and at most {sig(flat, 2)} in magnitude from "
        f"{lags[2]:g} to {lags[-1]:g} ms."
    )
    if tau_ac is None and r[0] < 0:
        text += (
            " Negative at the shortest lags (refractoriness) and flat beyond, it has no slow "
            "decay for an exponential to describe, while the ARU's time constants describe "
            "how the sound drives the spikes."
        )
    lines.append(text)
    return "\n".join(lines)
