"""`reproduce --seeds N`: one run per seed (teachers and students drawn anew), each seed's
claims tested, and a summary across seeds; and the quick scale's claims holding with
margin on 1 and 2 CPU devices, in float32 as the command line runs them.

Several devices cannot be added to a JAX process that has already computed, so the runs
that compare device counts go to fresh Python processes (as `tests/test_cpu_parallel.py`)
and report back in JSON.
"""

import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import stats

from adaptive_rnn import InputError
from adaptive_rnn.cli import main
from adaptive_rnn.paper import EXPERIMENTS, _common as C, fig3, reproduce


def test_claim_margin_and_interval():
    """`claim` decides on the right side of its threshold with a signed margin;
    `interval` is the Student-t interval of the mean (scipy's, recomputed)."""
    c = C.claim("x", "x below 0.1", 0.07, 0.1)
    assert c["holds"] and c["comparison"] == "<" and c["margin"] == pytest.approx(0.03)
    c = C.claim("x", "x below 0.1", 0.1, 0.1)
    assert not c["holds"]  # on the threshold is not below it
    c = C.claim("y", "y above 1", 0.8, 1.0, below=False)
    assert not c["holds"] and c["margin"] == pytest.approx(-0.2)
    xs = [0.3, 0.5, 0.4, 0.9]
    iv = C.interval(xs + [None, float("nan")])
    lo, hi = stats.t.interval(0.95, 3, loc=np.mean(xs), scale=stats.sem(xs))
    assert iv["n"] == 4 and iv["mean"] == pytest.approx(np.mean(xs), rel=1e-12)
    assert (iv["low"], iv["high"]) == pytest.approx((lo, hi), rel=1e-12)
    assert (iv["min"], iv["max"]) == (0.3, 0.9)
    assert C.interval([2.0])["low"] is None and C.interval([])["mean"] is None


def test_epochs_to_converge():
    """The first epoch from which the trajectory stays within 0.1 of the target."""
    t = (0.5, 0.5)
    traj = [[0.9, 0.9], [0.55, 0.5], [0.7, 0.5], [0.55, 0.5], [0.52, 0.5]]
    assert fig3.epochs_to_converge(traj, t) == 3  # inside at 1, out at 2, inside from 3
    assert fig3.epochs_to_converge(traj[:3], t) is None  # ends outside
    assert fig3.epochs_to_converge([[0.5, 0.5]], t) == 0


def test_bad_seeds_are_refused(tmp_path):
    with pytest.raises(InputError, match="seeds: got 0"):
        reproduce("local", "tiny", 0, tmp_path, progress=False, seeds=0)
    assert main(["reproduce", "local", "--scale", "tiny", "--seeds", "0"]) == 2
    assert not list(tmp_path.iterdir())


def test_cli_seeds_tiny(tmp_path, capsys):
    """`reproduce fig3 --scale tiny --seeds 2`: a result file per seed with its own
    teacher, each seed's claims equal to `fig3.claims` of its results, and a summary
    that counts, bounds and averages them (recomputed here)."""
    argv = ["reproduce", "fig3", "--scale", "tiny", "--seeds", "2", "--seed", "3"]
    assert main(argv + ["--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "fig3: wrote" in out and "a_converge: holds for" in out
    runs = [json.loads((tmp_path / f"fig3_seed{s}.json").read_text()) for s in (3, 4)]
    assert [r["seed"] for r in runs] == [3, 4] and all(r["devices"] >= 1 for r in runs)
    assert all((tmp_path / f"fig3_seed{s}.png").stat().st_size > 0 for s in (3, 4))
    # teachers and students drawn anew: different losses
    assert runs[0]["comparison"][0]["aru_loss"] != runs[1]["comparison"][0]["aru_loss"]
    summ = json.loads((tmp_path / "fig3_seeds.json").read_text())
    assert summ["seeds"] == [3, 4] and summ["scale"] == "tiny" and len(summ["runtime_s"]) == 2
    for r, p in zip(runs, summ["per_seed"]):
        tested = fig3.claims(r)
        assert r["claims"] == json.loads(json.dumps(tested))
        assert {"claims": p["claims"], "measures": p["measures"]} == r["claims"]
        assert p["seed"] == r["seed"]
    names = [c["name"] for c in runs[0]["claims"]["claims"]]
    assert (
        [c["name"] for c in summ["summary"]["claims"]]
        == names
        == [
            "a_converge",
            "b_aru_better_0",
            "b_aru_better_1",
        ]
    )
    for k, c in enumerate(summ["summary"]["claims"]):
        each = [r["claims"]["claims"][k] for r in runs]
        assert c["holds"] == sum(e["holds"] for e in each) and c["n"] == 2
        assert c["all_hold"] == all(e["holds"] for e in each)
        assert c["min_margin"] == min(e["margin"] for e in each)
        assert c["values"] == [e["value"] for e in each]
        assert c["interval"]["mean"] == pytest.approx(np.mean(c["values"]), rel=1e-12)
    p = summ["summary"]["measures"]["welch_p_1"]
    assert p["values"] == [r["comparison"][1]["welch_p"] for r in runs]


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_claims_of_committed_paper_results(name):
    """Every experiment's `claims` reads its committed paper-scale result, and each claim
    is decided by its value and threshold."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "results" / "paper_scale" / f"{name}.json"
    tested = EXPERIMENTS[name].claims(json.loads(path.read_text()))
    assert tested["claims"]
    for c in tested["claims"]:
        sign = 1 if c["comparison"] == "<" else -1
        assert c["margin"] == pytest.approx(sign * (c["threshold"] - c["value"]), abs=1e-12)
        assert c["holds"] == (c["margin"] > 0)
    json.dumps(tested, allow_nan=False)


# --------------------------------------------------------------------------------------
# The quick scale on 1 and 2 CPU devices
# --------------------------------------------------------------------------------------

DEVICE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from adaptive_rnn.cli import _configure
    _configure(int(sys.argv[1]))       # what `adaptive-rnn --cpu-devices N` does first
    import jax
    from adaptive_rnn.paper import fig3
    # The quick scale for the target whose start (0.2, 0.8) lies across the exchange
    # diagonal (the fragile case): the same members, keys and data as in
    # `reproduce fig3 --scale quick` (its first target).
    cfg = fig3.Config.quick(targets=fig3.Config().targets[:1])
    res = fig3.run(cfg, progress=False)
    print(json.dumps({"devices": len(jax.devices()), "epochs": cfg.epochs,
                      "distances": fig3.final_distances(res)[0],
                      "finals": [r["final"] for r in res["learning"][0]["runs"]]}))
    """
)


def _run_on(devices: int) -> subprocess.Popen:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    return subprocess.Popen(
        [sys.executable, "-c", DEVICE_SCRIPT, str(devices)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_fig3_quick_panel_a_converges_on_1_and_2_devices():
    """The quick scale's panel A, target (0.684, 0.342), seed 0, in float32 as the command
    line runs it, on 1 and on 2 CPU devices: every start, the one across the exchange
    diagonal included, ends within 0.1 of the target with a margin of 0.03 (below 0.07;
    measured 0.054 on both), and the two device counts agree to 1e-3 (measured: 6e-7 for
    seeds 0-2). The former quick settings (60 epochs, weights 1e-3) ended this start
    0.16-0.19 away and fail it."""
    procs = {d: _run_on(d) for d in (1, 2)}
    out = {}
    for d, p in procs.items():
        stdout, stderr = p.communicate(timeout=1200)
        assert p.returncode == 0, stderr[-3000:]
        out[d] = json.loads(stdout.strip().splitlines()[-1])
    assert out[1]["devices"] == 1 and out[2]["devices"] == 2
    for d in (1, 2):
        assert max(out[d]["distances"]) < 0.07, out
    np.testing.assert_allclose(out[1]["finals"], out[2]["finals"], rtol=0, atol=1e-3)
    assert math.isclose(out[1]["epochs"], fig3.Config.quick().epochs)


SEEDS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from adaptive_rnn.cli import _configure
    _configure(int(sys.argv[1]))
    from adaptive_rnn.paper import reproduce
    res = reproduce("all", "quick", 0, sys.argv[2], progress=False, seeds=3, formats=("png",))
    print(json.dumps({n: r["summary"]["claims"] for n, r in res.items()}))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("devices", [1, 2])
def test_quick_scale_claims_hold_for_seeds_0_to_2(devices, tmp_path):
    """`reproduce all --scale quick --seeds 3` on 1 and on 2 CPU devices (float32, as
    the command line): every claim of every experiment holds for seeds 0, 1 and 2."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run(
        [sys.executable, "-c", SEEDS_SCRIPT, str(devices), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=7200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    claims = json.loads(proc.stdout.strip().splitlines()[-1])
    failing = {n: [c for c in cs if not c["all_hold"]] for n, cs in claims.items()}
    assert not any(failing.values()), failing


def test_fig3_rates_tiny(tmp_path):
    """The study `fig3_rates` at tiny scale: one `fig3` run per time-constant step, every
    start's epochs to convergence and distance recomputed from its trajectory, the
    across-diagonal flag, the Welch p per step and the first step reaching the paper's
    significance recomputed; drawn over the Fig. 2 maps of the same seed."""
    from adaptive_rnn.paper import fig2, fig3_rates

    cfg = fig3_rates.Config.tiny()
    res = reproduce("fig3_rates", "tiny", 0, tmp_path, progress=False, formats=("png",))
    assert [r["tau_learning_rate"] for r in res["rates"]] == list(cfg.tau_learning_rates)
    for r in res["rates"]:
        assert len(r["starts"]) == len(cfg.targets) * len(cfg.starts)
        for L in r["learning"]:
            assert [run["init"] for run in L["runs"]] == [list(s) for s in cfg.starts]
            for run, s in zip(L["runs"], [s for s in r["starts"] if s["target"] == L["target"]]):
                tr = np.asarray(run["trajectory"])
                d = np.hypot(*(tr - np.asarray(L["target"])).T)
                e = s["epochs_to_converge"]
                if e is None:
                    assert d[-1] >= cfg.tol
                else:
                    assert np.all(d[e:] < cfg.tol) and (e == 0 or d[e - 1] >= cfg.tol)
                assert s["final_distance"] == pytest.approx(
                    math.dist(run["final"], L["target"]), rel=1e-12
                )
                assert s["across"] == (
                    (s["start"][0] - s["start"][1]) * (L["target"][0] - L["target"][1]) < 0
                )
    for t, s in enumerate(res["significance"]):
        ps = [r["comparison"][t]["welch_p"] for r in res["rates"]]
        assert s["welch_p"] == ps
        thr = fig3_rates.PAPER_P[tuple(s["target"])]
        ok = [lr for lr, p in zip(cfg.tau_learning_rates, ps) if p is not None and p < thr]
        assert s["first_rate_reaching"] == (min(ok) if ok else None)
    assert (tmp_path / "fig3_rates.png").stat().st_size > 0
    f2 = fig2.run(fig2.Config.tiny(), progress=False)
    assert fig3_rates.plot(res, f2) is not None
