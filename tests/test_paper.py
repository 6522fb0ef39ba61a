"""The paper reproductions (adaptive_rnn.paper): every experiment end to end at a tiny
scale, the documented JSON shapes, the CLI, and (slow) fig3's convergence at quick scale."""

import json
import math

import jax
import numpy as np
import pytest
from matplotlib.figure import Figure

from adaptive_rnn.cli import main
from adaptive_rnn.paper import EXPERIMENTS, fig3, make_config, reproduce
from adaptive_rnn.tasks import hierarchy_data, memory_task


def _pair(x):
    return isinstance(x, list) and len(x) == 2 and all(isinstance(v, float) for v in x)


def check_fig2(res, cfg):
    G, n = len(cfg.grid), len(cfg.targets)
    assert all(_pair(t) for t in res["targets"]) and len(res["targets"]) == n
    assert res["grid"] == list(cfg.grid)
    assert np.asarray(res["loss"], dtype=float).shape == (n, G, G)
    assert np.asarray(res["loss_per_seed"], dtype=float).shape == (n, G, G, cfg.seeds)
    assert len(res["argmin"]) == n and all(_pair(a) and a[0] in cfg.grid and a[1] in cfg.grid for a in res["argmin"])
    loss = np.asarray(res["loss"], dtype=float)
    for t in range(n):  # argmin is where the mean loss is lowest
        i, j = np.unravel_index(np.nanargmin(loss[t]), loss[t].shape)
        assert res["argmin"][t] == [cfg.grid[i], cfg.grid[j]]


def check_fig3(res, cfg):
    assert len(res["learning"]) == len(cfg.targets) == len(res["comparison"])
    for L in res["learning"]:
        assert _pair(L["target"]) and len(L["runs"]) == len(cfg.inits)
        for r, init in zip(L["runs"], cfg.inits):
            assert r["init"] == list(init)
            assert len(r["trajectory"]) == cfg.epochs + 1 and all(_pair(p) for p in r["trajectory"])
            assert np.allclose(r["trajectory"][0], init, atol=1e-6)
            assert _pair(r["final"]) and r["final"] == r["trajectory"][r["best_epoch"]]
    for Cm in res["comparison"]:
        assert len(Cm["aru_loss"]) == len(Cm["elman_loss"]) == cfg.repetitions
        assert Cm["welch_p"] is None or 0 <= Cm["welch_p"] <= 1
        assert all(0 < a < 1 for pair in Cm["aru_init"] for a in pair)


def check_size(res, cfg):
    assert len(res["runs"]) == len(cfg.sizes) * cfg.seeds
    assert {r["n_hidden"] for r in res["runs"]} == set(cfg.sizes)
    for r in res["runs"]:
        assert r["target"] == list(cfg.target) and 0 < r["alpha_s"] < 1 and 0 < r["alpha_r"] < 1
    assert [s["n_hidden"] for s in res["summary"]] == list(cfg.sizes)


def check_relu(res, cfg):
    assert len(res["runs"]) == len(cfg.targets) * len(cfg.activations) * cfg.seeds
    assert {r["activation"] for r in res["runs"]} == set(cfg.activations)
    assert {tuple(r["target"]) for r in res["runs"]} == set(cfg.targets)
    assert len(res["summary"]) == len(cfg.targets) * len(cfg.activations)


def check_local(res, cfg):
    assert len(res["runs"]) == len(cfg.sds) * cfg.repetitions
    for r in res["runs"]:
        assert r["sd"] in cfg.sds
        for k in ("target_alpha_s", "target_alpha_r", "alpha_s", "alpha_r"):
            assert len(r[k]) == cfg.n_hidden and all(0 < a < 1 for a in r[k])
        assert r["w1_s"] >= 0 and r["w1_r_init"] >= 0
    assert [s["sd"] for s in res["summary"]] == list(cfg.sds)


def check_memory(res, cfg):
    assert res["delays"] == list(cfg.delays) and res["models"] == ["elman", "global", "local"]
    for e in res["results"]:
        assert e["chance"] > 0
        for kind, m in e["models"].items():
            assert len(m["loss"]) == len(m["alpha_s"]) == cfg.repetitions
            assert isinstance(m["above_chance"], bool)
            if kind == "local":
                assert all(len(a) == cfg.n_hidden for a in m["alpha_s"])
            elif kind == "elman":
                assert np.allclose(m["alpha_s"], 1.0) and np.allclose(m["alpha_r"], 1.0)
    assert set(res["max_delay_above_chance"]) == {"elman", "global", "local"}


def check_hierarchy(res, cfg):
    assert len(res["runs"]) == len(cfg.conditions) * cfg.repetitions
    for r in res["runs"]:
        assert len(r["alpha_s"]) == len(r["alpha_r"]) == len(r["tau"]) == len(cfg.n_hidden)
        assert math.isclose(r["log_ratio"], math.log(r["tau"][-1] / r["tau"][0]))
    assert [t["condition"] for t in res["tests"]] == list(cfg.conditions)
    for t in res["tests"]:
        assert 0 <= t["k"] <= t["n"] <= cfg.repetitions


CHECKS = dict(fig2=check_fig2, fig3=check_fig3, size=check_size, relu=check_relu, local=check_local,
              memory=check_memory, hierarchy=check_hierarchy)


@pytest.mark.parametrize("name", [n for n in EXPERIMENTS if n != "fig2"])
def test_experiment_tiny(name, tmp_path):
    res = reproduce(name, "tiny", 0, tmp_path, progress=False)
    for ext in ("json", "png", "pdf"):
        assert (tmp_path / f"{name}.{ext}").stat().st_size > 0
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert saved["name"] == name and saved["scale"] == "tiny" and saved["runtime_s"] > 0
    assert saved["config"] == json.loads(json.dumps(res["config"]))
    json.dumps(res, allow_nan=False)  # strictly JSON (no NaN)
    CHECKS[name](saved, make_config(name, "tiny"))
    assert isinstance(EXPERIMENTS[name].plot(saved), Figure)


def test_cli_reproduce_fig2_tiny(tmp_path, capsys):
    """`adaptive-rnn reproduce fig2 --scale tiny` end to end, then fig3 drawn over its maps."""
    assert main(["reproduce", "fig2", "--scale", "tiny", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "fig2: wrote" in capsys.readouterr().out
    res = json.loads((tmp_path / "fig2.json").read_text())
    check_fig2(res, make_config("fig2", "tiny"))
    assert (tmp_path / "fig2.png").stat().st_size > 0 and (tmp_path / "fig2.pdf").stat().st_size > 0
    assert isinstance(fig3.plot(_fake_fig3(res), res), Figure)


def _fake_fig3(fig2_res):
    t = fig2_res["targets"][0]
    run = dict(init=[0.2, 0.8], trajectory=[[0.2, 0.8], [0.3, 0.7]], final=[0.3, 0.7], best_epoch=1, best_val_loss=0.1)
    comp = dict(target=t, aru_loss=[0.1, 0.2], elman_loss=[0.3, 0.4], aru_mean=0.15, aru_sem=0.05,
                elman_mean=0.35, elman_sem=0.05, welch_p=0.1, aru_init=[], aru_final=[])
    return dict(learning=[dict(target=t, runs=[run])], comparison=[comp])


def test_cli_rejects_unknown_names():
    with pytest.raises(SystemExit):
        main(["reproduce", "fig9"])
    with pytest.raises(SystemExit):
        main(["reproduce", "fig2", "--scale", "huge"])


def test_same_seed_same_numbers(tmp_path):
    cfg = fig3.Config.tiny(inits=((0.3, 0.6),), repetitions=2, epochs=1, targets=((0.342, 0.684),))
    a, b = fig3.run(cfg, progress=False), fig3.run(cfg, progress=False)
    assert a["learning"] == b["learning"] and a["comparison"] == b["comparison"]


def test_memory_task(getkey):
    t = memory_task(getkey(), 5, n_sequences=40, n_train=30, n_steps=12, onset=2)
    assert t.inputs.shape == t.targets.shape == t.mask.shape == (40, 12, 1)
    np.testing.assert_array_equal(t.inputs[:, 2, 0], t.values)
    np.testing.assert_array_equal(t.targets[:, 7, 0], t.values)
    assert t.mask.sum() == 40 and np.all(t.mask[:, 7, 0] == 1)
    assert np.all(t.inputs[:, [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11]] == 0)
    # chance: MSE of predicting the training mean of v on the validation set
    v = t.values
    assert math.isclose(t.chance_loss, float(np.mean((v[30:] - v[:30].mean()) ** 2)))
    d = t.train_data()
    assert d.x.shape == (30, 12, 1) and d.xv.shape == (10, 12, 1)
    from adaptive_rnn._errors import InputError

    with pytest.raises(InputError, match="n_steps"):
        memory_task(getkey(), 10, n_steps=12, onset=2)
    with pytest.raises(InputError, match="delay"):
        memory_task(getkey(), 0)


def test_hierarchy_data(getkey):
    from adaptive_rnn import simulate

    h = hierarchy_data(getkey(), n_sequences=20, n_train=15, n_steps=25, train_steps=25)
    assert h.inputs.shape == (20, 25, 2) and h.targets.shape == (20, 25, 2)
    assert h.model.n_hidden == (10, 10)
    assert np.allclose(np.ravel(h.model.alpha_s[0]), 0.9) and np.allclose(np.ravel(h.model.alpha_r[1]), 0.1)
    np.testing.assert_allclose(np.asarray(simulate(h.model, h.inputs).outputs), h.targets)
    assert h.train_data().x.shape == (15, 25, 2)


def test_fig3_quick_converges():
    """At quick scale, every panel-A run's learned alphas end within 0.1 of the target."""
    res = fig3.run(fig3.Config.quick(), progress=False)
    for L in res["learning"]:
        for r in L["runs"]:
            assert abs(r["final"][0] - L["target"][0]) < 0.1, (L["target"], r)
            assert abs(r["final"][1] - L["target"][1]) < 0.1, (L["target"], r)
