"""Fig. 2 of Quax et al. (2020) (E2 in REPRODUCTION.md): grid search over fixed (alpha_s, alpha_r).

For each of six teacher targets, a student ARU with *fixed* rate constants is trained at
every point of a 10 x 10 grid (2 seeds per cell); the colour of the map is the log of the
mean best validation loss. The paper's claim: the low-loss region centres on the true
values.

All grid cells and seeds of one target train as one `fit_ensemble` (one compiled program).
"""

import dataclasses
import math

import numpy as np

from . import _common as C


@dataclasses.dataclass(frozen=True)
class Config(C.ExperimentConfig):
    """Configuration of the Fig. 2 reproduction.

    - `targets`: teacher `(alpha_s, alpha_r)` pairs.
    - `grid`: values of alpha per axis (the same for alpha_s and alpha_r).
    - `seeds`: student initialisations per grid cell (the paper: 2).
    - `epochs`: training epochs per cell. The paper does not state them for Fig. 2;
        **our choice: 50 at paper scale** (the map's shape is settled well before).
    - `learning_rate`: Adam's step (the paper's is not recorded; ours 1e-3).
    - `n_sequences`, `n_train`: teacher sequences and training split (500 / 400).
    - `n_hidden`, `activation`: the student (and teacher): 10 sigmoid units.
    - `seed`: base seed (teachers and students derive their keys from it).
    """

    targets: tuple = C.FIG2_TARGETS
    grid: tuple = C.GRID
    seeds: int = 2
    epochs: int = 50
    n_hidden: int = 10
    activation: str = "sigmoid"

    QUICK = {"seeds": 1, "epochs": 8}
    TINY = {
        "targets": C.FIG2_TARGETS[1:3],
        "grid": (0.1377, 0.5479, 0.9582),
        "seeds": 1,
        "epochs": 2,
        "n_sequences": 30,
        "n_train": 20,
    }


def run(config: Config, *, progress: bool | None = None) -> dict:
    """Runs the grid search.

    **Returns:** a JSON-serialisable dict: `targets` (list of `[alpha_s, alpha_r]`),
    `grid` (values per axis), `loss` (`[target][i_s][i_r]`, mean best validation loss
    over seeds), `loss_per_seed` (`[target][i_s][i_r][seed]`), `argmin` (per target, the
    `[alpha_s, alpha_r]` of the lowest mean loss), `argmin_distance` (its Euclidean
    distance to the target) and `config`.
    """
    grid = np.asarray(config.grid, dtype=float)
    G, S = len(grid), int(config.seeds)
    cells = [(i, j, s) for i in range(G) for j in range(G) for s in range(S)]
    loss, per_seed, argmin, dist = [], [], [], []
    with C.Stages("fig2", len(config.targets), progress) as stages:
        for t, target in enumerate(config.targets):
            stages.start(f"target {tuple(target)}: {len(cells)} students, {config.epochs} epochs")
            data = C.make_teacher(
                config.seed,
                0,
                target,
                n_sequences=config.n_sequences,
                n_train=config.n_train,
                n_hidden=config.n_hidden,
                activation=config.activation,
            )
            models = [
                C.student(
                    C.subkey(config.seed, 2, t, s),
                    n_hidden=config.n_hidden,
                    activation=config.activation,
                    time_constants="static",
                    alpha_s=float(grid[i]),
                    alpha_r=float(grid[j]),
                )
                for i, j, s in cells
            ]
            res = C.train(
                models,
                data.train_data(),
                key=C.subkey(config.seed, 3, t),
                epochs=config.epochs,
                learning_rate=config.learning_rate,
                progress=stages.bars,
            )
            vals = np.asarray(res.best_val_loss, dtype=float).reshape(G, G, S)
            vals = np.where(np.isfinite(vals), vals, np.nan)
            mean = np.nanmean(vals, axis=-1) if S > 1 else vals[..., 0]
            i, j = np.unravel_index(np.nanargmin(mean), mean.shape)
            loss.append(C.flist(mean))
            per_seed.append(C.flist(vals))
            argmin.append([float(grid[i]), float(grid[j])])
            dist.append(math.hypot(grid[i] - target[0], grid[j] - target[1]))
            stages.done()
    return dict(
        targets=[[float(a) for a in t] for t in config.targets],
        grid=[float(g) for g in grid],
        loss=loss,
        loss_per_seed=per_seed,
        argmin=argmin,
        argmin_distance=[float(d) for d in dist],
        config=C.config_dict(config),
    )


def claims(results: dict) -> dict:
    """The claim of Fig. 2 tested on one run: for every target, the lowest mean loss lies
    on the grid cell nearest the target or on a neighbouring cell (Chebyshev distance of
    at most one grid step).

    **Returns:** `{claims, measures}` (see `_common.claim`): the claim's value is the
    largest number of grid steps between the argmin and the cell nearest the target;
    measures: the argmin's Euclidean distance to each target (`argmin_distance_T`, T the
    target's index).
    """
    grid = np.asarray(results["grid"], dtype=float)
    steps = []
    for t, target in enumerate(results["targets"]):
        i = int(np.argmin(np.abs(grid - target[0])))
        j = int(np.argmin(np.abs(grid - target[1])))
        mi = int(np.argmin(np.abs(grid - results["argmin"][t][0])))
        mj = int(np.argmin(np.abs(grid - results["argmin"][t][1])))
        steps.append(max(abs(mi - i), abs(mj - j)))
    return dict(
        claims=[
            C.claim(
                "argmin_near_target",
                "for every target, the lowest mean loss is on the grid cell nearest the "
                "target or a neighbouring cell",
                max(steps),
                1.5,
                unit="grid steps (largest over targets)",
            )
        ],
        measures={
            f"argmin_distance_{t}": float(d) for t, d in enumerate(results["argmin_distance"])
        },
    )


def draw_map(ax, results: dict, index: int, *, colorbar: bool = True):
    """Draws one target's loss map on `ax` (x = model alpha_r, y = model alpha_s, colour
    log10 of the mean best validation loss; target marked by a star, Elman (1, 1) by a
    square, dashed lines at alpha = 1). Returns the image."""
    grid = np.asarray(results["grid"], dtype=float)
    loss = np.asarray(results["loss"][index], dtype=float)
    step = np.diff(grid).mean() if len(grid) > 1 else 1.0
    ext = (grid[0] - step / 2, grid[-1] + step / 2, grid[0] - step / 2, grid[-1] + step / 2)
    im = ax.imshow(np.log10(loss), origin="lower", extent=ext, aspect="auto", cmap="viridis")
    ta_s, ta_r = results["targets"][index]
    ax.plot(
        [ta_r],
        [ta_s],
        marker="*",
        color="red",
        ms=12,
        ls="none",
        label="target (the teacher's alphas)",
    )
    ax.plot(
        [1.0],
        [1.0],
        marker="s",
        color="white",
        mec="black",
        ms=6,
        ls="none",
        label=r"Elman ($\alpha_s$ = $\alpha_r$ = 1)",
    )
    ax.axhline(1.0, color="white", ls="--", lw=0.8, label=r"$\alpha$ = 1 ($\tau$ = dt)")
    ax.axvline(1.0, color="white", ls="--", lw=0.8, label="_nolegend_")
    ax.set_xlabel(r"model $\alpha_r$ (= dt / $\tau_r$)")
    ax.set_ylabel(r"model $\alpha_s$ (= dt / $\tau_s$)")
    ax.set_title(rf"target ($\alpha_s$, $\alpha_r$) = ({ta_s:g}, {ta_r:g})", fontsize=9)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=r"log$_{10}$ best validation loss")
    return im


def plot(results: dict):
    """The Fig. 2 maps, one panel per target. **Returns:** a `matplotlib.figure.Figure`."""
    n = len(results["targets"])
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = C.figure(nrows, ncols)
    for k in range(nrows * ncols):
        ax = axes.flat[k]
        if k < n:
            draw_map(ax, results, k)
        else:
            ax.set_axis_off()
    # A grey background: the white markers and lines stay visible.
    C.figure_legend(fig, facecolor="0.75")
    fig.suptitle(
        r"Fig. 2: best validation loss of students with fixed ($\alpha_s$, $\alpha_r$)"
        " (mean over seeds)"
    )
    return fig
