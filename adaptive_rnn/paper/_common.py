"""Shared pieces of the paper reproductions: keys, teachers, ensembles, JSON helpers.

One room (over 400 lines): the configuration base class, the seeds machinery, the claim
summaries and the JSON helpers that every experiment module of the reproduction uses.
"""

import contextlib
import dataclasses
import math
import sys
import time
from collections.abc import Sequence
from typing import ClassVar

import jax
import numpy as np

from ..models import ARU
from ..tasks import TeacherData, teacher_data
from ..train import EnsembleResult, fit_ensemble, paper_optimiser

# The grid of Fig. 2 (E2 in REPRODUCTION.md): 10 values per axis.
GRID = (0.001, 0.1377, 0.2745, 0.4112, 0.5479, 0.6847, 0.8214, 0.9582, 1.0949, 1.2316)
# The six targets (alpha_s, alpha_r) of Fig. 2.
FIG2_TARGETS = (
    (0.137, 0.137),
    (0.342, 0.684),
    (0.684, 0.342),
    (0.342, 1.0),
    (0.684, 0.684),
    (0.889, 0.889),
)
# The targets of Fig. 3 and E4/E5.
FIG3_TARGETS = ((0.684, 0.342), (0.342, 0.684))
# The random initial alphas of the paper: uniform over the first 15 points of
# linspace(0.001, 1.3, 20). All 15 lie below 1 (the largest is 0.958), so the sigmoid
# parametrisation alpha = sigmoid(1.5 w) represents them without clipping.
INIT_POINTS = tuple(float(x) for x in np.linspace(0.001, 1.3, 20)[:15])


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Fields and scale constructors shared by every experiment's `Config`.

    - `learning_rate`: Adam's step for all parameters (the paper's is not recorded;
        ours 1e-3).
    - `tau_learning_rate`: a separate Adam step for the time constants (`None`: the same
        as the weights, as at paper scale). Quick scales either give the time constants
        3e-3 (weights 1e-3) or, for `fig3`, `size`, `relu` and `local`, every parameter 3e-3
        (`learning_rate`), so that the time constants converge within their fewer epochs;
        each `Config` says which.
    - `n_sequences`, `n_train`: sequences of data and the training split (500 / 400).
    - `seed`: base seed (teachers and students derive their keys from it).

    `paper()` is the paper's protocol; `quick()` and `tiny()` apply the subclass's
    `QUICK` and `TINY` overrides (keyword arguments override those in turn).
    """

    learning_rate: float = 1e-3
    tau_learning_rate: float | None = None
    n_sequences: int = 500
    n_train: int = 400
    seed: int = 0

    QUICK: ClassVar[dict] = {}
    TINY: ClassVar[dict] = {}

    @classmethod
    def paper(cls, **kw):
        """The paper's protocol (grid, seeds, epochs, repetitions)."""
        return cls(**kw)

    @classmethod
    def quick(cls, **kw):
        """Reduced seeds and epochs (`reproduce all --scale quick` in minutes)."""
        return cls(**{**cls.QUICK, **kw})

    @classmethod
    def tiny(cls, **kw):
        """Seconds: for tests."""
        return cls(**{**cls.TINY, **kw})


def progress_mode(progress: bool | None) -> str:
    """How an experiment reports its progress: `"bars"` (tqdm bars on stderr), `"lines"`
    (one line per stage on stdout) or `"off"`. `None`: bars when stderr is a terminal,
    else lines (a log file, a pipe, a notebook); `True`: bars; `False`: nothing."""
    if progress is None:
        return "bars" if sys.stderr.isatty() else "lines"
    return "bars" if progress else "off"


class Stages:
    """The stages of one experiment (e.g. one training ensemble each), reported as a tqdm
    bar on a terminal, or as one flushed line per stage on stdout elsewhere:
    `fig2: target (0.342, 0.684): 9 students, 2 epochs (stage 1/2)... done in 12.3 s`.

    Call `start(what)` at the beginning of each stage (it ends the previous one) and
    `done()` after the last (or `with stages.stage(what):`); used as a context manager,
    a stage left open by an exception is reported as failed. `bars` says whether inner
    progress bars (of `fit_ensemble`) should show. `total=None`: stages are not
    numbered.
    """

    def __init__(self, name: str, total: int | None, progress: bool | None):
        self.name = name
        self.total = None if total is None else int(total)
        self.mode = progress_mode(progress)
        self.count = 0
        self._bar = None
        self._t0 = None

    @property
    def bars(self) -> bool:
        """Whether progress bars are shown (inner bars follow the outer one)."""
        return self.mode == "bars"

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._t0 is not None:  # a stage left open by an exception
            self._end(" failed")
        self._close()
        return False

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def start(self, what: str) -> None:
        """Begins the next stage, described by `what`."""
        if self._t0 is not None:
            self.done()
        self.count += 1
        self._t0 = time.perf_counter()
        if self.bars and self.total is not None and self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=f"{self.name} stages", leave=False)
        if self.mode == "lines":
            number = "" if self.total is None else f" (stage {self.count}/{self.total})"
            print(f"{self.name}: {what}{number}...", end="", flush=True)
        if self._bar is not None:
            self._bar.set_postfix_str(what, refresh=True)

    def done(self) -> None:
        """Ends the current stage (its line says how long it took)."""
        assert self._t0 is not None, "done() needs a stage begun by start()"
        self._end(f" done in {time.perf_counter() - self._t0:.1f} s")
        if self._bar is not None:
            self._bar.update(1)
            if self.count == self.total:
                self._close()

    def _end(self, tail: str) -> None:
        if self.mode == "lines":
            print(tail, flush=True)
        self._t0 = None

    @contextlib.contextmanager
    def stage(self, what: str):
        """`start(what)` on entry, `done()` on a normal exit."""
        self.start(what)
        yield self
        self.done()


def subkey(seed: int, *path: int):
    """A key derived from the run's seed and an integer path (deterministic)."""
    key = jax.random.key(int(seed))
    for p in path:
        key = jax.random.fold_in(key, int(p))
    return key


def make_teacher(
    seed: int,
    index: int,
    target,
    *,
    n_sequences: int,
    n_train: int,
    n_hidden: int = 10,
    activation: str = "sigmoid",
    local_sd: float | None = None,
) -> TeacherData:
    """The teacher data of E1 for one target: a sigmoid (or other) teacher ARU with
    the paper's readout convention (`"lagged"`), 40 steps, first 20 used in training.

    The teacher's key derives from `seed`, the target itself and `index`, so experiments
    that share a target (Fig. 2, Fig. 3, E4) share its teacher when `index` is 0."""
    return teacher_data(
        subkey(seed, 1, round(1e4 * float(target[0])), round(1e4 * float(target[1])), index),
        alpha_s=float(target[0]),
        alpha_r=float(target[1]),
        local_sd=local_sd,
        n_sequences=int(n_sequences),
        n_train=int(n_train),
        n_hidden=int(n_hidden),
        activation=activation,
        readout="lagged",
    )


def student(
    key,
    *,
    n_hidden: int | Sequence[int] = 10,
    activation="sigmoid",
    time_constants="global",
    alpha_s=0.5,
    alpha_r=0.5,
    n_in=2,
    n_out=2,
) -> ARU:
    """A student ARU with the paper's conventions (lagged readout, sigmoid
    parametrisation of learnable alphas)."""
    return ARU(
        n_in,
        n_hidden,
        n_out,
        activation=activation,
        time_constants=time_constants,
        alpha_s=alpha_s,
        alpha_r=alpha_r,
        readout="lagged",
        key=key,
    )


def optimiser(learning_rate: float, tau_learning_rate: float | None = None):
    """The paper's optimiser (Adam, clip 2, L2 decay 1e-5) with our learning rate."""
    return paper_optimiser(
        float(learning_rate),
        tau_learning_rate=None if tau_learning_rate is None else float(tau_learning_rate),
    )


def train(
    models: Sequence[ARU],
    data,
    *,
    key,
    epochs: int,
    learning_rate: float,
    tau_learning_rate: float | None = None,
    progress: bool = False,
) -> EnsembleResult:
    """`fit_ensemble` with the paper's optimiser, batch size 1, best-validation selection."""
    return fit_ensemble(
        list(models),
        data,
        keys=jax.random.split(key, len(models)),
        epochs=int(epochs),
        optimiser=optimiser(learning_rate, tau_learning_rate),
        progress=progress,
    )


def alphas(model: ARU) -> tuple[list[float], list[float]]:
    """The model's alpha_s and alpha_r as lists (length 1 global, n local)."""
    return [float(a) for a in np.ravel(model.alpha_s)], [float(a) for a in np.ravel(model.alpha_r)]


def fnum(x) -> float | None:
    """A JSON-safe float (`None` for NaN or infinity)."""
    x = float(x)
    return x if math.isfinite(x) else None


def flist(xs) -> list | float | None:
    """A (nested) JSON-safe list of floats."""
    arr = np.asarray(xs, dtype=float)
    if arr.ndim == 0:
        return fnum(arr)
    return [flist(a) for a in arr]


def mean_sem(xs) -> tuple[float | None, float | None]:
    """Mean and standard error of the mean (ddof 1) of the finite values."""
    a = np.asarray([x for x in xs if x is not None and math.isfinite(x)], dtype=float)
    if a.size == 0:
        return None, None
    sem = float(a.std(ddof=1) / math.sqrt(a.size)) if a.size > 1 else 0.0
    return float(a.mean()), sem


def config_dict(config) -> dict:
    """A dataclass config as a JSON-safe dict (tuples become lists)."""
    import dataclasses

    def conv(v):
        if isinstance(v, (tuple, list)):
            return [conv(x) for x in v]
        return v

    return {f.name: conv(getattr(config, f.name)) for f in dataclasses.fields(config)}


def figure_legend(fig, *, ncols: int = 4, **kw):
    """One legend for the whole figure, below its panels: every distinct label drawn in
    its axes (the first artist of each label as the handle)."""
    seen = {}
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    if not seen:
        return None
    kw.setdefault("fontsize", 8)
    return fig.legend(
        list(seen.values()),
        list(seen),
        loc="outside lower center",
        ncols=min(ncols, len(seen)),
        **kw,
    )


def figure(nrows: int = 1, ncols: int = 1, *, size=(4.0, 3.4), **kw):
    """A `matplotlib.figure.Figure` (no pyplot state) and its axes array."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


# ----------------------------------------------------------------------------- seeds


def claim(
    name: str, statement: str, value, threshold: float, *, below: bool = True, unit: str = ""
) -> dict:
    """One claim of an experiment, tested on one seed's results.

    **Arguments:**

    - `name`: a short identifier (the same for every seed, so that seeds can be summed).
    - `statement`: the claim as a sentence.
    - `value`: the statistic the claim is decided on (a number).
    - `threshold`: the claim holds when `value < threshold` (`below=True`) or
        `value > threshold` (`below=False`).
    - `unit`: what `value` measures (for the docs).

    **Returns:** a JSON-safe dict: `name`, `statement`, `value`, `threshold`,
    `comparison` (`"<"` or `">"`), `holds`, `margin` (how far `value` is on the right
    side of `threshold`, in its units; negative when the claim fails) and `unit`.
    """
    value = float(value)
    margin = float(threshold) - value if below else value - float(threshold)
    return dict(
        name=str(name),
        statement=str(statement),
        value=fnum(value),
        threshold=float(threshold),
        comparison="<" if below else ">",
        holds=bool(margin > 0),
        margin=fnum(margin),
        unit=str(unit),
    )


def interval(values, level: float = 0.95) -> dict:
    """Mean, SD (ddof 1) and the Student-t interval of the mean at `level` of the finite
    `values`, with their min, max and count (`None` where undefined)."""
    from scipy import stats

    a = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    n = int(a.size)
    if n == 0:
        return dict(n=0, mean=None, sd=None, low=None, high=None, min=None, max=None, level=level)
    mean = float(a.mean())
    sd = float(a.std(ddof=1)) if n > 1 else None
    if n > 1:
        half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)  # type: ignore[operator]
        low, high = mean - half, mean + half
    else:
        low = high = None
    return dict(
        n=n,
        mean=mean,
        sd=sd,
        low=fnum(low) if low is not None else None,
        high=fnum(high) if high is not None else None,
        min=float(a.min()),
        max=float(a.max()),
        level=level,
    )


def summarise_seeds(per_seed: Sequence[dict]) -> dict:
    """Sums the claims and measures of several seeds' results.

    **Arguments:**

    - `per_seed`: one dict per seed, `{seed, claims, measures}` (`claims`: a list of
        `claim` dicts; `measures`: name -> number).

    **Returns:** `{seeds, claims, measures}`: per claim (in the order of the first seed)
    its `statement`, `holds` (count of seeds), `n`, `all_hold`, `min_margin`, the
    `value` per seed and `interval` of the values; per measure the values per seed and
    their `interval` (`interval`).
    """
    seeds = [int(p["seed"]) for p in per_seed]
    claims = []
    for c0 in per_seed[0]["claims"] if per_seed else []:
        cs = [next(c for c in p["claims"] if c["name"] == c0["name"]) for p in per_seed]
        margins = [c["margin"] for c in cs if c["margin"] is not None]
        claims.append(
            dict(
                name=c0["name"],
                statement=c0["statement"],
                threshold=c0["threshold"],
                comparison=c0["comparison"],
                unit=c0["unit"],
                holds=sum(bool(c["holds"]) for c in cs),
                n=len(cs),
                all_hold=all(bool(c["holds"]) for c in cs),
                min_margin=min(margins) if margins else None,
                values=[c["value"] for c in cs],
                interval=interval([c["value"] for c in cs]),
            )
        )
    names = list(dict.fromkeys(k for p in per_seed for k in p.get("measures", {})))
    measures = {
        k: dict(
            values=[p.get("measures", {}).get(k) for p in per_seed],
            interval=interval([p.get("measures", {}).get(k) for p in per_seed]),
        )
        for k in names
    }
    return dict(seeds=seeds, claims=claims, measures=measures)
