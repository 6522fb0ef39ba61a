"""Memory capacity (E7 in REPRODUCTION.md, the paper's Fig. 7): Elman vs global vs local alphas.

The paper's protocol is not published. **Ours** (`adaptive_rnn.tasks.memory_task`): one
input channel carries a value v ~ U[-1, 1) at step 2 and zero elsewhere; the output must
report v exactly `delay` steps later (fixed delay, no go cue); the loss counts at the
report step only. All delays share one sequence length (2 + max delay + 1), so every
delay, model and repetition trains in one `fit_ensemble` (each member with its delay's
data). Models (10 sigmoid units, lagged readout): the Elman network (alphas fixed at 1),
an ARU with global learnable alphas and one with local (per-neuron) learnable alphas,
both starting at alpha = 0.5.

Chance: the validation loss of predicting, at the report step, the training average of
v (the best predictor blind to the input; `MemoryTask.chance_loss`). A model is **above
chance** at a delay when its repetitions' best validation losses are below chance by a
one-sided one-sample t-test at p < 0.01 *and* their mean is below 0.9 x chance (it
explains at least 10 % of the variance of v).

Paper: Elman above chance only up to 10 steps, adaptive models up to 30; the adaptive
models learn slower rate constants as the delay grows.
"""

import dataclasses
import math
from typing import Any

import numpy as np

from . import _common as C

MODELS = ("elman", "global", "local")


@dataclasses.dataclass(frozen=True)
class Config(C.ExperimentConfig):
    """Configuration of E7.

    - `delays`: the delays (steps); `repetitions`: per delay and model (the paper: 20).
    - `epochs`: training epochs (not published; ours 100).
    - `n_sequences`, `n_train`: sequences per delay and training split (ours 300 / 200).
    - `onset`: step of the value; `init`: initial alpha of the adaptive models.
    - `p_threshold`, `margin`: the above-chance rule (p < 0.01, mean < 0.9 x chance).
        Every result also reports the rule without the margin (p only).
    - `go_cue`: a second input channel with a 1 at the step before the report (ours:
        `False`).
    - `random_delays`: each sequence's delay drawn uniformly from `delay // 2 ...
        delay` (ours: `False`, a fixed delay); a delay's capacity is then its longest.
    - `learning_rate`, `tau_learning_rate`, `n_hidden`, `seed`: as `fig3.Config`.
    """

    delays: tuple = (5, 10, 15, 20, 25, 30, 35, 40)
    repetitions: int = 20
    epochs: int = 100
    n_sequences: int = 300
    n_train: int = 200
    onset: int = 2
    init: float = 0.5
    p_threshold: float = 0.01
    margin: float = 0.9
    go_cue: bool = False
    random_delays: bool = False
    n_hidden: int = 10

    QUICK = {
        "delays": (5, 10, 20, 30, 40),
        "repetitions": 3,
        "epochs": 30,
        "tau_learning_rate": 3e-3,
    }
    TINY = {"delays": (2, 4), "repetitions": 2, "epochs": 2, "n_sequences": 30, "n_train": 20}


def _above(losses, chance, p_threshold, margin) -> tuple[bool, float | None]:
    from scipy import stats

    a = np.asarray([x for x in losses if x is not None and math.isfinite(x)], dtype=float)
    if a.size < 2:
        return False, None
    if np.allclose(a, a[0]):
        p = 0.0 if a[0] < chance else 1.0
    else:
        # scipy's stub for TtestResult omits `pvalue` (present at run time).
        p = float(stats.ttest_1samp(a, chance, alternative="less").pvalue)  # pyright: ignore[reportAttributeAccessIssue]
    return bool(p < p_threshold and a.mean() < margin * chance), C.fnum(p)


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Trains every (delay, model, repetition).

    **Returns:** a JSON-serialisable dict: `delays`, `models`, `results`: per delay
    `{delay, chance, models: {elman|global|local: {loss, mean, sem, normalised_mean,
    above_chance, above_chance_no_margin, p_value, alpha_s, alpha_r}}}` (`loss`: best
    validation loss per repetition; `above_chance_no_margin`: the t-test alone;
    `alpha_s`, `alpha_r`: learned values per repetition, a number (global, Elman) or a
    list per neuron (local)); `max_delay_above_chance` and
    `max_delay_above_chance_no_margin` per model; `protocol` (a sentence); `config`.
    """
    import jax
    import jax.numpy as jnp

    from ..tasks import memory_task

    stages = C.Stages("memory", 2, progress)
    stages.start(f"task data for {len(config.delays)} delays and students")
    T = config.onset + max(config.delays) + 1
    tasks = [
        memory_task(
            C.subkey(config.seed, 500, d),
            int(d),
            n_sequences=config.n_sequences,
            n_train=config.n_train,
            n_steps=T,
            onset=config.onset,
            go_cue=config.go_cue,
            min_delay=max(1, int(d) // 2) if config.random_delays else None,
        )
        for d in config.delays
    ]
    n_in = 2 if config.go_cue else 1
    datas = [t.train_data() for t in tasks]
    models, conds, member_data = [], [], []
    for i, _d in enumerate(config.delays):
        for kind in MODELS:
            for k in range(config.repetitions):
                key = C.subkey(config.seed, 13, i, k)
                if kind == "elman":
                    m = C.student(
                        key,
                        n_in=n_in,
                        n_out=1,
                        n_hidden=config.n_hidden,
                        time_constants="static",
                        alpha_s=1.0,
                        alpha_r=1.0,
                    )
                else:
                    m = C.student(
                        key,
                        n_in=n_in,
                        n_out=1,
                        n_hidden=config.n_hidden,
                        time_constants=kind,
                        alpha_s=config.init,
                        alpha_r=config.init,
                    )
                models.append(m)
                conds.append((i, kind, k))
                member_data.append(datas[i])
    data = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *member_data)
    stages.start(f"training {len(models)} students, {config.epochs} epochs")
    res = C.train(
        models,
        data,
        key=C.subkey(config.seed, 14),
        epochs=config.epochs,
        learning_rate=config.learning_rate,
        tau_learning_rate=config.tau_learning_rate,
        progress=stages.bars,
    )
    stages.done()
    results = []
    for i, d in enumerate(config.delays):
        chance = tasks[i].chance_loss
        entry: dict[str, Any] = dict(delay=int(d), chance=chance, models={})
        for kind in MODELS:
            idx = [j for j, c in enumerate(conds) if c[0] == i and c[1] == kind]
            loss = [C.fnum(res.best_val_loss[j]) for j in idx]
            mean, sem = C.mean_sem(loss)
            above, p = _above(loss, chance, config.p_threshold, config.margin)
            above_p_only, _ = _above(loss, chance, config.p_threshold, math.inf)
            al = [C.alphas(res.models[j]) for j in idx]
            glob = kind != "local"
            entry["models"][kind] = dict(
                loss=loss,
                mean=mean,
                sem=sem,
                normalised_mean=None if mean is None else mean / chance,
                above_chance=above,
                above_chance_no_margin=above_p_only,
                p_value=p,
                alpha_s=[a[0][0] if glob else a[0] for a in al],
                alpha_r=[a[1][0] if glob else a[1] for a in al],
            )
        results.append(entry)
    max_above, max_p_only = {}, {}
    for kind in MODELS:
        ds = [e["delay"] for e in results if e["models"][kind]["above_chance"]]
        max_above[kind] = max(ds) if ds else None
        ds = [e["delay"] for e in results if e["models"][kind]["above_chance_no_margin"]]
        max_p_only[kind] = max(ds) if ds else None
    delay_text = (
        "a delay drawn per sequence from delay // 2 ... delay"
        if config.random_delays
        else "a fixed delay"
    )
    cue_text = (
        "; a go cue (1 on a second input) at the step before the report"
        if config.go_cue
        else "; no go cue"
    )
    protocol = (
        f"value v ~ U[-1, 1) on the first input at step {config.onset}, to be reported "
        f"at step {config.onset} + delay (loss there only), {delay_text}{cue_text}; "
        f"sequences of {T} steps; "
        f"{config.n_train} training / {config.n_sequences - config.n_train} validation "
        f"sequences per delay; chance = validation MSE of predicting the training mean of v; "
        f"above chance: one-sided one-sample t-test p < {config.p_threshold} and mean loss "
        f"< {config.margin} x chance"
    )
    return dict(
        delays=[int(d) for d in config.delays],
        models=list(MODELS),
        results=results,
        max_delay_above_chance=max_above,
        max_delay_above_chance_no_margin=max_p_only,
        protocol=protocol,
        config=C.config_dict(config),
    )


def claims(results: dict) -> dict:
    """E7's claim on one run: each adaptive model (global, local alphas) is above chance
    at a longer delay than the Elman network (value: largest delay above chance of the
    model minus Elman's, 0 counting as none; claim > 0). **Returns:** `{claims,
    measures}`; measures: each model's largest delay above chance (`max_delay_M`, 0 for
    none)."""
    mx = {k: (v or 0) for k, v in results["max_delay_above_chance"].items()}
    out = [
        C.claim(
            f"{kind}_beyond_elman",
            f"{kind} alphas: above chance at a longer delay than the Elman network",
            mx[kind] - mx["elman"],
            0.0,
            below=False,
            unit="steps (largest delay above chance, minus Elman's)",
        )
        for kind in ("global", "local")
        if kind in mx
    ]
    measures = {f"max_delay_{k}": float(v) for k, v in mx.items()}
    for k, v in results.get("max_delay_above_chance_no_margin", {}).items():
        measures[f"max_delay_no_margin_{k}"] = float(v or 0)
    return dict(claims=out, measures=measures)


def plot(results: dict):
    """Left: best validation loss / chance per delay (mean +- SEM; 1 = chance; filled
    markers above chance). Right: learned alphas per delay (mean over repetitions and
    neurons). **Returns:** a `matplotlib.figure.Figure`."""
    fig, axes = C.figure(1, 2, size=(4.4, 3.6))
    delays = results["delays"]
    colours = {"elman": "tab:gray", "global": "tab:orange", "local": "tab:green"}
    names = {"elman": "Elman", "global": r"ARU, global $\alpha$", "local": r"ARU, local $\alpha$"}
    ax = axes[0, 0]
    for kind in results["models"]:
        ms = [e["models"][kind] for e in results["results"]]
        ch = [e["chance"] for e in results["results"]]
        y = np.asarray([np.nan if m["mean"] is None else m["mean"] / c for m, c in zip(ms, ch)])
        err = np.asarray([0.0 if m["sem"] is None else m["sem"] / c for m, c in zip(ms, ch)])
        ax.errorbar(
            delays, y, yerr=err, color=colours[kind], label=names.get(kind, kind), capsize=3
        )
        ab = np.asarray([m["above_chance"] for m in ms])
        ax.plot(np.asarray(delays)[ab], y[ab], "o", color=colours[kind], label="_nolegend_")
        ax.plot(
            np.asarray(delays)[~ab],
            y[~ab],
            "o",
            mfc="white",
            color=colours[kind],
            label="_nolegend_",
        )
    ax.axhline(1.0, ls="--", color="black", lw=0.8, label="chance")
    margin = results.get("config", {}).get("margin")
    if margin is not None:
        ax.axhline(margin, ls=":", color="black", lw=0.8, label=f"{margin:g} x chance (margin)")
    # Marker fill: explained by two entries drawn in neutral grey.
    ax.plot([], [], "o", color="0.4", ls="none", label="filled: above chance")
    ax.plot([], [], "o", mfc="white", color="0.4", ls="none", label="open: not above chance")
    ax.set_xlabel("delay (steps of dt)")
    ax.set_ylabel("best validation loss / chance")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    for kind in ("global", "local"):
        for name, ls in (("alpha_s", "-"), ("alpha_r", "--")):
            y = [
                float(np.mean([np.mean(a) for a in e["models"][kind][name]]))
                for e in results["results"]
            ]
            sym = r"$\alpha_s$" if name == "alpha_s" else r"$\alpha_r$"
            ax.plot(delays, y, ls, marker=".", color=colours[kind], label=f"{names[kind]}: {sym}")
    ax.set_xlabel("delay (steps of dt)")
    ax.set_ylabel(r"learned $\alpha$ (mean over runs, neurons)")
    ax.legend(fontsize=7)
    fig.suptitle("E7: memory capacity (our delayed-recall protocol)")
    return fig
