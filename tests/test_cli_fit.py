"""`adaptive-rnn fit` end to end: outputs, bad data, and recovery of the teacher's alphas."""

import json

import numpy as np
import pytest

from adaptive_rnn import load_model
from adaptive_rnn.cli import main

TARGET = (0.342, 0.684)


def _teacher(path, seed, sequences=500, n_train=400):
    rc = main(["teacher", "--alpha-s", str(TARGET[0]), "--alpha-r", str(TARGET[1]), "--seed", str(seed),
               "--sequences", str(sequences), "--n-train", str(n_train), "--out", str(path)])
    assert rc == 0


def _fit(data, out, *extra):
    rc = main(["fit", str(data), "--alpha-s", "0.8", "--alpha-r", "0.8", "--out", str(out), "--quiet", *extra])
    assert rc == 0
    return json.loads((out / "fit.json").read_text())


def test_cli_fit_outputs_and_movement_toward_target(tmp_path):
    data = tmp_path / "d.npz"
    _teacher(data, 0, sequences=100, n_train=80)
    res = _fit(data, tmp_path / "g", "--epochs", "6", "--seed", "1", "--tau-lr", "1e-2")
    for k in ("alpha_s", "alpha_r", "tau_s", "tau_r"):
        assert isinstance(res[k], list) and len(res[k]) == 1
    assert np.isclose(res["tau_s"][0], 1 / res["alpha_s"][0])
    assert res["epochs_run"] == 6 and 0 <= res["best_epoch"] <= 6 and res["best_val_loss"] > 0
    assert res["n_train"] == 80 and res["n_val"] == 20 and res["n_steps"] == 20 and res["readout"] == "lagged"
    d0 = np.hypot(0.8 - TARGET[0], 0.8 - TARGET[1])
    d1 = np.hypot(res["alpha_s"][0] - TARGET[0], res["alpha_r"][0] - TARGET[1])
    assert d1 < 0.6 * d0, (res["alpha_s"], res["alpha_r"])
    assert (tmp_path / "g" / "history.png").stat().st_size > 1000
    model = load_model(tmp_path / "g")
    assert np.allclose(np.asarray(model.alpha_s), res["alpha_s"]) and model.readout == "lagged"
    hist = json.loads((tmp_path / "g" / "history.json").read_text())
    assert len(hist["val_loss"]) == 6
    assert main(["simulate", str(tmp_path / "g"), "--random-inputs", "2,10", "--out", str(tmp_path / "s.npz")]) == 0

    res = _fit(data, tmp_path / "l", "--epochs", "1", "--time-constants", "local", "--hidden", "5",
               "--activation", "relu", "--val-fraction", "0.5", "--steps", "10")
    assert all(len(res[k]) == 5 for k in ("alpha_s", "alpha_r", "tau_s", "tau_r"))
    assert res["n_train"] == 50 and res["n_steps"] == 10


def test_cli_fit_refuses_bad_data(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, inputs=np.zeros((10, 5, 2)), targets=np.zeros((9, 5, 2)))
    assert main(["fit", str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "targets: got shape (9, 5, 2), but inputs have shape (10, 5, 2)" in err
    np.savez(bad, inputs=np.full((10, 5, 2), np.inf), targets=np.zeros((10, 5, 2)))
    assert main(["fit", str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "inputs: shape (10, 5, 2) holds 100 non-finite values" in capsys.readouterr().err
    np.savez(bad, targets=np.zeros((10, 5, 2)))
    assert main(["fit", str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "missing arrays ['inputs']" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_cli_recovers_teacher_alphas(tmp_path):
    """Acceptance: sigmoid teacher at (0.342, 0.684), global alphas from (0.8, 0.8), the
    paper's optimiser and 100 epochs; median over 3 seeds within 0.05 of the target."""
    found = []
    for seed in range(3):
        data = tmp_path / f"d{seed}.npz"
        _teacher(data, seed)
        res = _fit(data, tmp_path / f"f{seed}", "--epochs", "100", "--seed", str(seed))
        found.append((res["alpha_s"][0], res["alpha_r"][0]))
    med = np.median(np.asarray(found), axis=0)
    assert abs(med[0] - TARGET[0]) < 0.05 and abs(med[1] - TARGET[1]) < 0.05, found
