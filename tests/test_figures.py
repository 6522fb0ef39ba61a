"""Every figure the library draws reads without the code: labelled axes (time with its
unit), colour bars with labels for colour-mapped images, a legend for every line and
marker where an axes holds more than one, at least two tick labels per axis and none
overlapping, no bars on a log axis, failed sweep points drawn and counted."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer

RESULTS = Path(__file__).resolve().parents[1] / "results" / "paper_scale"

# A label about time must say in what unit (steps of dt, ms, model time units, epochs).
TIME_WORDS = re.compile(r"\btime\b|delay|duration|\\tau|\btau|τ", re.I)
TIME_UNITS = re.compile(r"step|\bms\b|\bdt\b|time unit|epoch", re.I)


def _legend_texts(fig) -> set[str]:
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return {t.get_text() for leg in legends if leg is not None for t in leg.get_texts()}


def _colorbar_axes(fig) -> set:
    out = set()
    for ax in fig.axes:
        for m in list(ax.images) + list(ax.collections):
            cb = getattr(m, "colorbar", None)
            if cb is not None:
                out.add(cb.ax)
    return out


def _tick_boxes(axis, renderer) -> list:
    """Window extents of the non-empty tick labels drawn within the axis' view."""
    lo, hi = sorted(axis.get_view_interval())
    span = hi - lo
    boxes = []
    for locs, ticks in (
        (axis.get_majorticklocs(), axis.get_major_ticks()),
        (axis.get_minorticklocs(), axis.get_minor_ticks()),
    ):
        for loc, tick in zip(locs, ticks):
            if not (lo - 1e-9 * span <= loc <= hi + 1e-9 * span):
                continue
            for lab in (tick.label1, tick.label2):
                if lab.get_visible() and lab.get_text().strip():
                    boxes.append((lab.get_text(), lab.get_window_extent(renderer)))
    return boxes


def _shared_siblings(ax, which: str) -> list:
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    return [a for a in group.get_siblings(ax) if a is not ax]


def figure_problems(fig) -> list[str]:
    """Everything that makes `fig` unreadable without the code (empty list: none)."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    page = fig.bbox.padded(1.0)
    texts = [fig._suptitle] + [leg for leg in fig.legends]
    for ax in fig.axes:
        texts += [
            ax.title,
            ax._left_title,
            ax._right_title,
            ax.xaxis.label,
            ax.yaxis.label,
            ax.get_legend(),
        ]
    for t in texts:
        if t is not None and t.get_visible() and (not hasattr(t, "get_text") or t.get_text()):
            bb = t.get_window_extent(renderer)
            if not (
                page.x0 <= bb.x0 and bb.x1 <= page.x1 and page.y0 <= bb.y0 and bb.y1 <= page.y1
            ):
                what = t.get_text() if hasattr(t, "get_text") else type(t).__name__
                problems.append(f"{what!r} runs off the figure")
    cbar_axes = _colorbar_axes(fig)
    legend = _legend_texts(fig)
    for i, ax in enumerate(fig.axes):
        if not ax.axison:
            continue
        name = f"axes {i} ({ax.get_title()!r})"
        axes_to_check = {"x": ax.xaxis, "y": ax.yaxis}
        if ax in cbar_axes:
            if not (ax.get_ylabel() or ax.get_xlabel()):
                problems.append(f"{name}: colour bar without a label")
            axes_to_check = {"y": ax.yaxis} if ax.get_ylabel() else {"x": ax.xaxis}
        for which, axis in axes_to_check.items():
            label = axis.get_label_text()
            sibs = _shared_siblings(ax, which)
            if (
                ax not in cbar_axes
                and not label
                and not any((s.xaxis if which == "x" else s.yaxis).get_label_text() for s in sibs)
            ):
                problems.append(f"{name}: no {which} label")
            if TIME_WORDS.search(label) and not TIME_UNITS.search(label):
                problems.append(f"{name}: {which} label {label!r} about time without its unit")
            boxes = _tick_boxes(axis, renderer)
            if len(boxes) < 2 and not (sibs and ax.get_visible()):
                problems.append(
                    f"{name}: {which} axis has {len(boxes)} tick label(s), expected >= 2"
                )
            for a in range(len(boxes)):
                for b in range(a + 1, len(boxes)):
                    if boxes[a][1].overlaps(boxes[b][1]):
                        problems.append(
                            f"{name}: {which} tick labels {boxes[a][0]!r} and "
                            f"{boxes[b][0]!r} overlap"
                        )
        if ax in cbar_axes:
            continue
        for m in list(ax.images) + [c for c in ax.collections if c.get_array() is not None]:
            if getattr(m, "colorbar", None) is None:
                problems.append(f"{name}: colour-mapped {type(m).__name__} without a colour bar")
        # Colour-mapped collections are explained by their colour bar, the rest by a legend.
        artists = [
            a
            for a in list(ax.lines) + [c for c in ax.collections if c.get_array() is None]
            if a.get_label() != "_nolegend_"
        ]
        artists += [c for c in ax.containers if c.get_label() != "_nolegend_"]
        if len(artists) > 1:
            for a in artists:
                lab = a.get_label()
                if lab.startswith("_"):
                    problems.append(f"{name}: a {type(a).__name__} without a legend entry")
                elif lab not in legend:
                    problems.append(f"{name}: {lab!r} is not in any legend")
        if ax.get_yscale() == "log" and any(isinstance(c, BarContainer) for c in ax.containers):
            problems.append(f"{name}: bars on a log axis (their baseline is arbitrary)")
    return problems


def assert_readable(fig):
    problems = figure_problems(fig)
    assert not problems, "\n".join(dict.fromkeys(problems))


# --------------------------------------------------------------------------------------
# The paper's figures, from the committed paper-scale results
# --------------------------------------------------------------------------------------


def _results(name):
    return json.loads((RESULTS / f"{name}.json").read_text())


@pytest.mark.parametrize("name", ["fig2", "size", "relu", "local", "memory", "hierarchy"])
def test_paper_figure_readable(name):
    from adaptive_rnn.paper import EXPERIMENTS

    assert_readable(EXPERIMENTS[name].plot(_results(name)))


def test_fig3_readable_with_and_without_maps():
    from adaptive_rnn.paper import fig3

    res = _results("fig3")
    assert_readable(fig3.plot(res))
    assert_readable(fig3.plot(res, _results("fig2")))


def test_fig3_no_bars_and_missing_statistics():
    """Panel B draws points with error bars (no bars from an arbitrary log baseline) and
    stays readable when a statistic is missing (a single repetition: no SEM, no p)."""
    from adaptive_rnn.paper import fig3

    res = _results("fig3")
    c = res["comparison"][0]
    c.update(aru_loss=[c["aru_loss"][0]], aru_sem=None, welch_p=None)
    fig = fig3.plot(res)
    assert_readable(fig)
    assert not any(isinstance(k, BarContainer) for ax in fig.axes for k in ax.containers)


@pytest.mark.parametrize("name", ["fig3_rates", "hierarchy_protocols", "memory_protocols"])
def test_study_figure_readable(name):
    """The studies beside the experiments, from their committed quick-scale results
    (`fig3_rates` drawn over the paper-scale Fig. 2 maps, as its committed figure)."""
    from adaptive_rnn.paper import STUDIES

    stem = name if name == "fig3_rates" else f"{name}_seed0"
    res = json.loads((RESULTS.parent / "quick_seeds" / "studies" / f"{stem}.json").read_text())
    if name == "fig3_rates":
        assert_readable(STUDIES[name].plot(res, _results("fig2")))
    assert_readable(STUDIES[name].plot(res))


# --------------------------------------------------------------------------------------
# Analysis plots
# --------------------------------------------------------------------------------------


def test_plot_trajectory_readable(getkey):
    from adaptive_rnn import ARU, simulate
    from adaptive_rnn.analysis import plot_trajectory

    model = ARU(2, 12, 2, key=getkey())
    traj = simulate(model, 0.5 * np.ones((2, 15, 2)), return_states=True)
    fig = plot_trajectory(traj, index=1, title="ARU")
    assert_readable(fig)
    assert "dt = 1" in fig.axes[-1].get_xlabel()
    assert plot_trajectory(traj, time_unit="ms").axes[-1].get_xlabel() == "time (ms)"


def _history(n_units: int, *, narrow: bool):
    from adaptive_rnn.train import History

    E = 6
    loss = np.linspace(1.0e-3, 0.6e-3, E) if narrow else np.geomspace(1.0, 1e-3, E)
    a = 0.5 + 0.01 * np.arange(E)[:, None] * np.arange(n_units)[None]
    return History(
        train_loss=loss * 1.1,
        val_loss=loss,
        time_constants={"alpha_s": a, "alpha_r": a[::-1].copy(), "tau_s": 1 / a, "tau_r": 1 / a},
        initial_val_loss=float(loss[0] * 1.2),
        initial_time_constants={"alpha_s": np.full(n_units, 0.5), "alpha_r": np.full(n_units, 0.5)},
        best_epoch=4,
        best_val_loss=float(loss[3]),
    )


@pytest.mark.parametrize("n_units", [1, 10])
@pytest.mark.parametrize("narrow", [False, True])
def test_plot_history_readable(n_units, narrow):
    """Global and local time constants; a loss within less than a decade still gets
    tick labels."""
    from adaptive_rnn.analysis import plot_history

    assert_readable(plot_history(_history(n_units, narrow=narrow), title="fit"))


def _sweep_dataset(grid: dict, failed=(), *, narrow=False):
    import xarray as xr

    names = list(grid)
    shape = tuple(len(v) for v in grid.values())
    rng = np.random.default_rng(0)
    # narrow: all values within 1.2e-2 .. 1.32e-2, between two integer multiples of 1e-2
    loss = (
        1.2e-2 * (1.0 + 0.1 * rng.random(shape))
        if narrow
        else (1.0 + 0.3 * rng.random(shape)) * 10.0 ** -rng.uniform(0, 3, shape)
    )
    success = np.ones(shape, dtype=bool)
    for idx in failed:
        success[idx] = False
        loss[idx] = np.nan
    return xr.Dataset(
        {"best_val_loss": (names, loss), "success": (names, success)},
        coords={k: list(v) for k, v in grid.items()},
    )


def _failed_markers(fig) -> int:
    """Number of points drawn by artists whose label says 'failed'."""
    n = 0
    for ax in fig.axes:
        for a in list(ax.lines) + list(ax.collections):
            if "failed" in a.get_label():
                n += len(a.get_xdata()) if hasattr(a, "get_xdata") else len(a.get_offsets())
    return n


@pytest.mark.parametrize("narrow", [False, True])
def test_plot_sweep_1d_readable_and_failed_points_drawn(narrow):
    from adaptive_rnn.analysis import plot_sweep

    ds = _sweep_dataset({"alpha_s": [0.1, 0.3, 0.5, 0.7, 0.9]}, failed=[(1,), (3,)], narrow=narrow)
    fig = plot_sweep(ds, title="sweep")
    assert_readable(fig)
    assert _failed_markers(fig) == 2
    assert any("2 failed" in t for t in _legend_texts(fig))


def test_plot_sweep_2d_readable_and_failed_points_drawn():
    from adaptive_rnn.analysis import plot_sweep

    ds = _sweep_dataset(
        {"alpha_s": [0.1, 0.5, 1.2], "alpha_r": [0.1, 0.7, 1.0], "seed": [0, 1]},
        failed=[(0, 1, 0), (0, 1, 1), (2, 2, 1)],
    )
    fig = plot_sweep(ds, title="sweep")
    assert_readable(fig)
    # A cell is failed when every seed failed; one failed seed of two is still counted.
    assert _failed_markers(fig) == 2
    assert any("failed" in t for t in _legend_texts(fig))


def test_plot_sweep_all_succeeded_has_no_failed_entry():
    from adaptive_rnn.analysis import plot_sweep

    fig = plot_sweep(_sweep_dataset({"tau_s": [1.0, 2.0, 4.0]}))
    assert_readable(fig)
    assert _failed_markers(fig) == 0
    assert "step" in fig.axes[0].get_xlabel()


def test_connectivity_plots_readable(getkey):
    from adaptive_rnn import CTRNN
    from adaptive_rnn.analysis import plot_connectivity, plot_eigenvalues, plot_weight_histograms

    model = CTRNN(3, 8, 2, key=getkey())
    areas = np.repeat([0, 1], 4)
    signs = np.tile([1, 1, 1, -1], 2)
    assert_readable(plot_connectivity(model, areas=areas, signs=signs))
    assert_readable(plot_weight_histograms(model))
    assert_readable(plot_eigenvalues(model))


def _fixed_points(k: int, m: int):
    from adaptive_rnn.analysis import FixedPoints

    rng = np.random.default_rng(1)
    lam = -rng.random((k, m)) + 1j * rng.normal(size=(k, m))
    lam[0, 0] = 0.3 + 0.2j
    stable = np.all(lam.real < 0, axis=1)
    return FixedPoints(
        points=rng.normal(size=(k, m)),
        q=np.zeros(k),
        is_fixed=np.arange(k) < k - 1,
        jacobians=np.zeros((k, m, m)),
        eigenvalues=lam,
        stable=stable,
        n_unstable=np.sum(lam.real > 0, axis=1),
        time_constants=-1 / lam.real,
        periods=2 * np.pi / np.abs(lam.imag),
        input=np.zeros(2),
        candidates_q=np.zeros(k),
        unravel=lambda y: (y,),
    )


@pytest.mark.parametrize("k", [3, 9])
def test_dynamics_plots_readable(k):
    from adaptive_rnn.analysis import plot_eigenvalue_spectrum, plot_fixed_points

    fp = _fixed_points(k, 4)
    states = np.random.default_rng(2).normal(size=(3, 10, 4))
    assert_readable(plot_fixed_points(fp, states))
    assert_readable(plot_eigenvalue_spectrum(fp))
    assert_readable(plot_eigenvalue_spectrum(fp, index=0, time_unit="ms"))


# --------------------------------------------------------------------------------------
# The checker itself catches what it is for
# --------------------------------------------------------------------------------------


def test_checker_catches_defects():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.imshow(np.arange(4.0).reshape(2, 2))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("time")
    problems = "\n".join(figure_problems(fig))
    assert "no y label" in problems
    assert "without its unit" in problems
    assert "without a colour bar" in problems
    fig = Figure()
    ax = fig.subplots()
    ax.bar([0, 1], [1e-4, 2e-4])
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlim(2, 20)
    assert "bars on a log axis" in "\n".join(figure_problems(fig))
    fig = Figure(figsize=(2, 2))
    ax = fig.subplots()
    ax.plot([1, 2], [3, 4], label="a")
    ax.plot([1, 2], [4, 3])
    ax.set_xticks([1.0, 1.01], ["one long label", "another long label"])
    ax.set_title("a title far too long for its figure " * 4)
    problems = "\n".join(figure_problems(fig))
    assert "overlap" in problems and "without a legend entry" in problems
    assert "runs off the figure" in problems
