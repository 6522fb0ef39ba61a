"""Saving and loading models (no pickle, integrity-checked) and the `simulate` CLI."""

import json
import subprocess
import sys

import jax
import numpy as np
import pytest

import adaptive_rnn as ar
from adaptive_rnn.cli import main


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(time_constants="global"),
        dict(time_constants="local", parametrisation="softplus", tau_s=3.0, tau_r=2.0),
        dict(time_constants="static", alpha_s=np.linspace(0.1, 1.2, 5), alpha_r=0.3),
        dict(time_constants=("global", "static"), alpha_r=1.0, readout="lagged", activation="relu"),
        dict(n_hidden=(5, 3), alpha_s=(0.2, 0.4)),
    ],
)
def test_save_load_round_trip(tmp_path, getkey, kwargs):
    n_hidden = kwargs.pop("n_hidden", 5)
    model = ar.ARU(2, n_hidden, 3, key=getkey(), **kwargs)
    ar.save_model(tmp_path / "m", model)
    loaded = ar.load_model(tmp_path / "m")
    assert loaded.config() == model.config()
    xs = np.asarray(jax.random.uniform(getkey(), (7, 2)))
    np.testing.assert_array_equal(ar.simulate(model, xs).outputs, ar.simulate(loaded, xs).outputs)
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["format"] == "adaptive_rnn.model"


def test_corrupt_and_tampered_files(tmp_path, getkey):
    model = ar.ARU(2, 4, 1, key=getkey())
    folder = ar.save_model(tmp_path / "m", model)
    leaves = folder / "model.eqx"
    data = leaves.read_bytes()
    leaves.write_bytes(data[: len(data) // 2])
    with pytest.raises(ar.CheckpointError, match="truncated or was modified"):
        ar.load_model(folder)
    mid = len(data) // 2
    leaves.write_bytes(data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :])
    with pytest.raises(ar.CheckpointError, match="SHA-256"):
        ar.load_model(folder)
    leaves.write_bytes(data)
    ar.load_model(folder)
    (folder / "model.json").write_text('{"format": "adaptive_rnn.model", "format_ver')
    with pytest.raises(ar.CheckpointError, match="not valid JSON"):
        ar.load_model(folder)
    with pytest.raises(ar.CheckpointError, match="not found"):
        ar.load_model(tmp_path / "nothing")
    # A sealed metadata file (digest and arrays hash match) whose config disagrees
    # with the arrays, as a faulty writer would leave it.
    from adaptive_rnn._io import seal

    meta = seal(
        {
            "format": "adaptive_rnn.model",
            "format_version": 2,
            "config": model.config() | {"n_hidden": [6]},
        },
        {"model.eqx": data},
    )
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ar.CheckpointError, match="could not read the saved arrays"):
        ar.load_model(folder)


def test_cli_help_everywhere():
    out = subprocess.run(
        [sys.executable, "-m", "adaptive_rnn.cli", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "simulate" in out.stdout
    from adaptive_rnn.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        with pytest.raises(SystemExit) as e:
            main([name, "--help"])
        assert e.value.code == 0


def test_cli_simulate_random_and_saved(tmp_path, getkey):
    xs = np.asarray(jax.random.uniform(getkey(), (3, 25, 2)))
    np.savez(tmp_path / "x.npz", inputs=xs)
    rc = main(
        [
            "simulate",
            "--random",
            "aru",
            "--hidden",
            "6",
            "--n-in",
            "2",
            "--n-out",
            "2",
            "--seed",
            "3",
            "--inputs",
            str(tmp_path / "x.npz"),
            "--out",
            str(tmp_path / "y.npz"),
            "--plot",
            str(tmp_path / "y.png"),
            "--save-model",
            str(tmp_path / "model"),
        ]
    )
    assert rc == 0
    y = np.load(tmp_path / "y.npz")
    assert y["outputs"].shape == (3, 25, 2) and y["state_I"].shape == (3, 25, 6)
    assert (tmp_path / "y.png").stat().st_size > 1000
    model = ar.load_model(tmp_path / "model")
    np.testing.assert_allclose(y["outputs"], ar.simulate(model, xs).outputs, rtol=1e-6, atol=1e-6)
    # The saved model through the CLI, on the continuous path.
    rc = main(
        [
            "simulate",
            str(tmp_path / "model"),
            "--inputs",
            str(tmp_path / "x.npz"),
            "--out",
            str(tmp_path / "y2.npz"),
            "--solver",
            "heun",
        ]
    )
    assert rc == 0
    assert np.load(tmp_path / "y2.npz")["outputs"].shape == (3, 25, 2)


def test_cli_simulate_errors(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", inputs=np.zeros((25, 2)))
    rc = main(
        [
            "simulate",
            "--random",
            "aru",
            "--inputs",
            str(tmp_path / "bad.npz"),
            "--out",
            str(tmp_path / "y.npz"),
        ]
    )
    assert rc == 2
    assert "expected (B, T, n_in)" in capsys.readouterr().err
    np.savez(tmp_path / "wrong.npz", x=np.zeros((1, 25, 2)))
    rc = main(
        [
            "simulate",
            "--random",
            "aru",
            "--inputs",
            str(tmp_path / "wrong.npz"),
            "--out",
            str(tmp_path / "y.npz"),
        ]
    )
    assert rc == 2
    assert "missing arrays ['inputs']" in capsys.readouterr().err
    rc = main(
        [
            "simulate",
            str(tmp_path / "nomodel"),
            "--random-inputs",
            "2,10",
            "--out",
            str(tmp_path / "y.npz"),
        ]
    )
    assert rc == 2
    assert "not found" in capsys.readouterr().err
