"""Renderers of the ground-truth and performance sections of `docs/recordings.md`: the
interval coverage over independent synthetic recordings (`results/recording_coverage.json`,
written by `benchmarks/recording_coverage.py`) and the bootstrap as one program
(`results/bench_bootstrap.json`, written by `benchmarks/bench_bootstrap.py`)."""

from __future__ import annotations

from ._format import secs, sig, table
from ._sources import renderer

COVERAGE = "results/recording_coverage.json"
BOOTSTRAP = "results/bench_bootstrap.json"
_RUNS = (
    ("poisson_parametric_n30", "Poisson counts"),
    ("gaussian_parametric", "Gaussian signals"),  # channels, counted as neurons
    ("poisson_parametric", "Poisson counts"),
)


@renderer("recording_coverage")
def _coverage(S) -> str:
    d = S.json(COVERAGE)
    rows = []
    for key, label in _RUNS:
        r = d[key]
        c, s = r["config"], r["summary"]
        t = c["teacher"]
        n = s["datasets"]
        rows.append(
            [
                f"{label}, {t['n_neurons']} {'neurons' if 'Poisson' in label else 'channels'}, "
                f"{t['n_trials']} trials x {t['n_bins']} bins",
                f"{c['bootstrap']} refits ({c['resample']}), {c['epochs']} epochs",
                f"**{s['normal']['pair']}/{n}**",
                f"{s['normal']['sum']}/{n}, {s['normal']['product']}/{n}",
                f"{s['basic']['pair']}/{n}, {s['percentile']['pair']}/{n}",
                f"{s['within_15_percent']}/{n}",
                f"{sig(s['tau_s_ms_mean'], 3)}, {sig(s['tau_r_ms_mean'], 3)}",
            ]
        )
    first = d[_RUNS[0][0]]
    true = first["config"]["true_ms"]
    return (
        table(
            [
                "recordings",
                "fit",
                "pair covered (normal, default)",
                "sum, product covered (normal)",
                "pair covered (basic, percentile)",
                "point within 15 %",
                "mean tau_s, tau_r (ms)",
            ],
            rows,
        )
        + f"\n\nTruth: tau_s = {true[0]:g} ms, tau_r = {true[1]:g} ms; 95 % intervals; "
        f"`python benchmarks/recording_coverage.py` on {first['date']} "
        f"({secs(sum(d[k]['wall_s'] for k, _ in _RUNS))} for the three rows)."
    )


@renderer("bootstrap_benchmark")
def _bootstrap(S) -> str:
    b = S.json(BOOTSTRAP)
    w = b["workload"]
    text = (
        f"Workload: {w['units']} recorded units, {w['fitting_trials']} fitting trials of "
        f"{w['bins']} bins (+{w['burn_in_bins']} burn-in), Poisson, batches of "
        f"{w['batch_size']}, {w['dtype']}, {b['devices']} CPU devices ({b['machine']}, "
        f"{b['date']}). One epoch of a single fit takes {sig(b['single_fit_epoch_s'] * 1e3, 3)} "
        f"ms; one epoch of the {w['refits']} refits as one program takes "
        f"{sig(b['ensemble_epoch_s'], 3)} s, **{sig(b['ratio_ensemble_vs_single'], 3)}x** the "
        f"single fit (target {b['target_ratio']:g}x: "
        + ("met" if b["met"] else "not met")
        + f"). Against {w['refits']} fits one after another the program is "
        f"{sig(b['speedup_vs_one_by_one'], 3)}x faster in all (setup and compilation paid "
        f"once), but per epoch each member costs what a single fit does "
        f"({sig(b['speedup_per_epoch'], 3)}x)."
    )
    if b.get("ensemble_forward_floor_s") is not None:
        text += (
            f" A forward pass alone of the {w['refits']} members over their fitting trials "
            f"(no gradient, no update, no validation: less work than any epoch) takes "
            f"{sig(b['ensemble_forward_floor_s'] * 1e3, 3)} ms, "
            f"{sig(b['forward_floor_vs_single_epoch'], 3)}x a whole epoch of the single fit"
        )
        text += (
            ": on this CPU no schedule of the same arithmetic reaches the target."
            if b["forward_floor_vs_single_epoch"] > b["target_ratio"]
            else "."
        )
    return text
