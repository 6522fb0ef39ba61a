"""Sweep configuration files: every key is checked against the schema, and every failed
grid point records why it failed."""

import textwrap

import numpy as np
import pytest

from adaptive_rnn import InputError, load_sweep
from adaptive_rnn.cli import main
from adaptive_rnn.recipes._sweep_config import (
    SCHEMA,
    check_config,
    load_config,
    point_problem,
    run_config,
)


def _write(tmp_path, text: str):
    p = tmp_path / "c.toml"
    p.write_text(textwrap.dedent(text))
    return p


@pytest.mark.parametrize(
    "cfg,match",
    [
        (
            {"grid": {"alpha_s": [0.5]}, "train": {"epoch": 2}},
            r"\[train\]: unknown key 'epoch'; did you mean 'epochs'\?",
        ),
        (
            {"grid": {"alpha_s": [0.5]}, "train": {"learning_rat": 0.1}},
            "did you mean 'learning_rate'",
        ),
        (
            {"grid": {"alpha_s": [0.5]}, "simulat": {}},
            r"section: unknown key 'simulat'; did you mean 'simulate'\?",
        ),
        (
            {"sweep": {"mode": "simulate"}, "grid": {"alpha_s": [0.5]}, "simulate": {"n_step": 10}},
            "did you mean 'n_steps'",
        ),
        (
            {
                "sweep": {"mode": "simulate"},
                "grid": {"alpha_s": [0.5]},
                "simulate": {"solver": "bogus"},
            },
            r"\[simulate\] solver: got 'bogus', expected one of 'discrete', 'tsit5', 'dopri5', 'kvaerno5', 'heun'",
        ),
        (
            {"grid": {"alpha_s": [0.5]}, "train": {"epochs": 2.5}},
            r"\[train\] epochs: got 2.5, expected an integer >= 1",
        ),
        ({"grid": {"alpha_s": [0.5]}, "train": {"epochs": True}}, r"\[train\] epochs: got True"),
        ({"grid": {"alpha_s": [0.5]}, "model": {"activation": "sigmod"}}, "did you mean 'sigmoid'"),
        (
            {"grid": {"alpha_s": [0.5]}, "model": {"dt": 0}},
            r"\[model\] dt: got 0, expected a finite number > 0",
        ),
        (
            {"grid": {"n_hidden": [4, 0]}},
            r"\[grid\] n_hidden\[1\]: got 0, expected an integer >= 1",
        ),
        ({"grid": {"alpha_s": []}}, r"\[grid\] alpha_s: got \[\], expected a non-empty list"),
        ({"grid": {"alpha_s": [0.5]}, "sweep": {"chunk_size": 0}}, r"\[sweep\] chunk_size: got 0"),
        (
            {"grid": {"alpha_s": [0.5]}, "data": {"path": "d.npz", "teacher_seed": 1}},
            r"\[data\] teacher_seed: not used with a data file",
        ),
        (
            {"grid": {"alpha_s": [0.5]}, "data": {"val_fraction": 0.1}},
            r"\[data\] val_fraction: not used with the teacher",
        ),
        (
            {"sweep": {"mode": "simulate"}, "grid": {"alpha_s": [0.5]}, "train": {"epochs": 2}},
            r"\[train\]: given, but \[sweep\] mode is 'simulate'",
        ),
        (
            {"grid": {"alpha_s": [0.5]}, "model": 3},
            r"\[model\]: got int 3, expected a section of keys",
        ),
    ],
)
def test_schema_refuses(cfg, match):
    with pytest.raises(InputError, match=match):
        check_config(cfg)


def test_example_config_passes():
    # The documented example uses every section of a training sweep.
    cfg = load_config("examples/sweep_fig2.toml")
    assert cfg["train"]["epochs"] == 100 and cfg["model"]["time_constants"] == "static"
    assert set(cfg) <= set(SCHEMA)


def test_not_toml(tmp_path):
    p = tmp_path / "c.toml"
    p.write_bytes(b"\xff\xfe[grid")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(p)


@pytest.mark.parametrize(
    "point,model,reason",
    [
        ({"alpha_s": 0.5, "alpha_r": 0.9}, {}, ""),
        ({"alpha_s": 1.5}, {}, "alpha_s = 1.5 >= 1 cannot be a learnable ('global') time constant"),
        ({"alpha_s": 1.5}, {"time_constants": "static"}, ""),
        (
            {"alpha_r": 2.5, "time_constants": "static"},
            {},
            "alpha_r = 2.5 >= 2: explicit Euler diverges",
        ),
        ({"tau_s": 0.8}, {"time_constants": "local"}, "tau_s = 0.8 (alpha_s = 1.25) >= 1"),
        ({"alpha_s": 0.5}, {"alpha_r": 1.0}, "alpha_r = 1 >= 1"),
    ],
)
def test_point_problem(point, model, reason):
    assert point_problem(point, model).startswith(reason) and bool(reason) == bool(
        point_problem(point, model)
    )


def test_failed_points_record_why(tmp_path, capsys):
    # alpha 1.5 cannot be a learnable sigmoid time constant (its w is NaN), 2.5 makes
    # explicit Euler diverge (finite but meaningless outputs, formerly counted as a
    # success); a tiny max_steps leaves an adaptive solve unfinished.
    cfg = _write(
        tmp_path,
        """
        [sweep]
        mode = "simulate"
        [grid]
        alpha_s = [0.5, 1.5, 2.5]
        time_constants = ["global", "static"]
        [model]
        n_hidden = 3
        [simulate]
        n_sequences = 2
        n_steps = 8
        """,
    )
    out = tmp_path / "o"
    assert main(["sweep", str(cfg), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    ds = load_sweep(out / "sweep.nc")
    ok = ds["success"].transpose("alpha_s", "time_constants").values
    why = ds["failure_reason"].transpose("alpha_s", "time_constants").values
    np.testing.assert_array_equal(ok, [[True, True], [False, True], [False, False]])
    assert why[0, 0] == why[0, 1] == why[1, 1] == ""
    assert why[1, 0].startswith("alpha_s = 1.5 >= 1 cannot be a learnable ('global') time constant")
    assert why[2, 0].startswith("alpha_s = 2.5 >= 1 cannot be a learnable")
    assert why[2, 1].startswith("alpha_s = 2.5 >= 2: explicit Euler diverges")
    assert "3/6 points succeeded" in printed
    assert (
        "3 of 6 points failed: alpha_s = 1.5 >= 1 cannot be a learnable ('global') time constant"
        in printed
    )
    assert "(at alpha_s=1.5, time_constants=global)" in printed


def test_unfinished_solve_records_why():
    cfg = check_config(
        {
            "sweep": {"mode": "simulate"},
            "grid": {"alpha_s": [0.5]},
            "model": {"n_hidden": 3},
            "simulate": {"n_sequences": 2, "n_steps": 8, "solver": "tsit5", "max_steps": 2},
        }
    )
    ds = run_config(cfg, progress=False)
    assert not bool(ds["success"].item())
    assert (
        ds["failure_reason"].item() == "the tsit5 solve did not reach its end within max_steps = 2"
    )
