"""Sigmoid vs ReLU (E5 in REPRODUCTION.md): learned alphas and the exchange symmetry.

For targets (0.342, 0.684) and (0.684, 0.342), teacher and student share the activation
(sigmoid or ReLU); students learn global alphas from random initial values (as
Fig. 3B). Expected (docs/model.md, "Exchange symmetry"): sigmoid networks recover the pair, ReLU networks may
land on the swapped pair (for a linear unit the dynamics depend on alpha_s and alpha_r
only symmetrically). All conditions train as one `fit_ensemble` (one group per
activation).
"""

import dataclasses

import numpy as np

from . import _common as C
from .size import scatter, summarise


@dataclasses.dataclass(frozen=True)
class Config(C.ExperimentConfig):
    """Configuration of E5.

    - `targets`, `activations`; `seeds`: runs per condition (the paper: 40);
        `epochs`: the paper's 500.
    - the rest as `size.Config` (**quick scale**: 5 seeds, 100 epochs, Adam step 3e-3
        for every parameter, as `size`).
    """

    targets: tuple = C.FIG3_TARGETS[::-1]
    activations: tuple = ("sigmoid", "relu")
    seeds: int = 40
    epochs: int = 500
    n_hidden: int = 10

    QUICK = {"seeds": 5, "epochs": 100, "learning_rate": 3e-3}
    TINY = {"seeds": 2, "epochs": 2, "n_sequences": 30, "n_train": 20}


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Trains every (target, activation, seed).

    **Returns:** a JSON-serialisable dict: `runs` (one per run: `activation`, `target`,
    `seed`, `init`, `alpha_s`, `alpha_r`, `best_val_loss`), `summary` (per target and
    activation: mean/SD of the alphas, fraction within 0.1 of the target and of the
    swapped target) and `config`.
    """
    rng = np.random.default_rng(config.seed + 5)
    runs, summary = [], []
    n_models = len(config.activations) * config.seeds
    with C.Stages("relu", len(config.targets), progress) as stages:
        for t, target in enumerate(config.targets):
            stages.start(f"target {tuple(target)}: {n_models} students, {config.epochs} epochs")
            target = [float(x) for x in target]
            models, conds = [], []
            # One teacher per (target, activation); members carry their own data.
            datas = []
            for a, act in enumerate(config.activations):
                td = C.make_teacher(
                    config.seed,
                    a,
                    target,
                    n_sequences=config.n_sequences,
                    n_train=config.n_train,
                    n_hidden=config.n_hidden,
                    activation=act,
                )
                for s in range(config.seeds):
                    a_s, a_r = (float(x) for x in rng.choice(C.INIT_POINTS, size=2))
                    models.append(
                        C.student(
                            C.subkey(config.seed, 9, t, a, s),
                            n_hidden=config.n_hidden,
                            activation=act,
                            alpha_s=a_s,
                            alpha_r=a_r,
                        )
                    )
                    conds.append((act, s, [a_s, a_r]))
                    datas.append(td)
            data = _stack_data([d.train_data() for d in datas])
            res = C.train(
                models,
                data,
                key=C.subkey(config.seed, 10, t),
                epochs=config.epochs,
                learning_rate=config.learning_rate,
                tau_learning_rate=config.tau_learning_rate,
                progress=stages.bars,
            )
            these = []
            for (act, s, init), model, best in zip(conds, res.models, res.best_val_loss):
                a_s, a_r = C.alphas(model)
                these.append(
                    dict(
                        activation=act,
                        target=target,
                        seed=s,
                        init=init,
                        alpha_s=a_s[0],
                        alpha_r=a_r[0],
                        best_val_loss=C.fnum(best),
                    )
                )
            runs += these
            for s in summarise(these, "activation", target):
                summary.append({"target": target, **s})
            stages.done()
    return dict(runs=runs, summary=summary, config=C.config_dict(config))


def claims(results: dict, *, tol: float = 0.1) -> dict:
    """E5's claim on one run: every sigmoid run ends within `tol` of its target (value:
    the largest distance). Whether ReLU runs swap is a possibility, not a claim: the
    fractions of ReLU runs within `tol` of the target (`relu_recovered`) and of the
    swapped pair (`relu_swapped`) are measures. **Returns:** `{claims, measures}`."""
    d, rec, swp = [], [], []
    for r in results["runs"]:
        t = r["target"]
        dt = float(np.hypot(r["alpha_s"] - t[0], r["alpha_r"] - t[1]))
        ds = float(np.hypot(r["alpha_s"] - t[1], r["alpha_r"] - t[0]))
        if r["activation"] == "sigmoid":
            d.append(dt)
        else:
            rec.append(dt < tol)
            swp.append(ds < tol)
    out = []
    if d:
        out.append(
            C.claim(
                "sigmoid_recovered",
                f"every sigmoid run ends within {tol:g} of its target",
                max(d),
                tol,
                unit="largest Euclidean distance to the target",
            )
        )
    measures = {}
    if rec:
        measures = dict(relu_recovered=float(np.mean(rec)), relu_swapped=float(np.mean(swp)))
    return dict(claims=out, measures=measures)


def _stack_data(datas):
    import jax
    import jax.numpy as jnp

    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *datas)


def plot(results: dict):
    """One scatter per target: learned alphas, coloured by activation, with the target
    (filled star) and the swapped target (open star). **Returns:** a `Figure`."""
    targets = list(dict.fromkeys(tuple(r["target"]) for r in results["runs"]))
    fig, axes = C.figure(1, len(targets))
    for k, t in enumerate(targets):
        runs = [r for r in results["runs"] if tuple(r["target"]) == t]
        scatter(
            axes[0, k], runs, "activation", list(t), title=rf"target ($\alpha_s$, $\alpha_r$) = {t}"
        )
    fig.suptitle("E5: sigmoid vs ReLU teachers and students, learned alphas")
    return fig
