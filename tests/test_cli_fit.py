"""`adaptive-rnn fit` end to end: outputs, bad data, and recovery of the teacher's alphas."""

import json

import numpy as np
import pytest

from adaptive_rnn import load_model
from adaptive_rnn.cli import main

TARGET = (0.342, 0.684)


def _teacher(path, seed, sequences=500, n_train=400):
    rc = main(
        [
            "teacher",
            "--alpha-s",
            str(TARGET[0]),
            "--alpha-r",
            str(TARGET[1]),
            "--seed",
            str(seed),
            "--sequences",
            str(sequences),
            "--n-train",
            str(n_train),
            "--out",
            str(path),
        ]
    )
    assert rc == 0


def _fit(data, out, *extra):
    rc = main(
        [
            "fit",
            str(data),
            "--alpha-s",
            "0.8",
            "--alpha-r",
            "0.8",
            "--out",
            str(out),
            "--quiet",
            *extra,
        ]
    )
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
    assert (
        res["n_train"] == 80
        and res["n_val"] == 20
        and res["n_steps"] == 20
        and res["readout"] == "lagged"
    )
    d0 = np.hypot(0.8 - TARGET[0], 0.8 - TARGET[1])
    d1 = np.hypot(res["alpha_s"][0] - TARGET[0], res["alpha_r"][0] - TARGET[1])
    assert d1 < 0.6 * d0, (res["alpha_s"], res["alpha_r"])
    assert (tmp_path / "g" / "history.png").stat().st_size > 1000
    model = load_model(tmp_path / "g")
    assert np.allclose(np.asarray(model.alpha_s), res["alpha_s"]) and model.readout == "lagged"
    hist = json.loads((tmp_path / "g" / "history.json").read_text())
    assert len(hist["val_loss"]) == 6
    assert (
        main(
            [
                "simulate",
                str(tmp_path / "g"),
                "--random-inputs",
                "2,10",
                "--out",
                str(tmp_path / "s.npz"),
            ]
        )
        == 0
    )

    res = _fit(
        data,
        tmp_path / "l",
        "--epochs",
        "1",
        "--time-constants",
        "local",
        "--hidden",
        "5",
        "--activation",
        "relu",
        "--val-fraction",
        "0.5",
        "--steps",
        "10",
    )
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


def test_cli_fit_checks_outputs_before_any_work(tmp_path, capsys, monkeypatch):
    """`--out` naming an existing file used to train fully, then crash with
    FileExistsError; now every output is checked before the data is read."""
    import adaptive_rnn.train

    def no_training(*args, **kwargs):
        raise AssertionError("fit was called")

    monkeypatch.setattr(adaptive_rnn.train, "fit", no_training)
    data = tmp_path / "d.npz"
    np.savez(data, inputs=np.zeros((10, 5, 2)), targets=np.zeros((10, 5, 2)))
    existing = tmp_path / "existing"
    existing.write_text("not a folder")
    # The output is checked before the data: a missing data file is not reached.
    assert main(["fit", str(tmp_path / "missing.npz"), "--out", str(existing), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        "--out: got" in err and "existing file; expected a folder" in err and err.count("\n") == 1
    )
    for out in (existing, existing / "sub"):
        assert main(["fit", str(data), "--out", str(out), "--quiet"]) == 2
        assert "existing file" in capsys.readouterr().err
    (tmp_path / "o" / "model.json").mkdir(parents=True)
    assert main(["fit", str(data), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert (
        "model.json', an existing folder; expected a path where a file can be written"
        in capsys.readouterr().err
    )
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "checkpoint").write_text("")
    assert (
        main(["fit", str(data), "--out", str(tmp_path / "c"), "--checkpoint-every", "1", "--quiet"])
        == 2
    )
    assert "checkpoint'" in capsys.readouterr().err
    assert main(["fit", str(data), "--out", str(tmp_path / "n"), "--allow-changes", "--quiet"]) == 2
    assert "--allow-changes: given without --resume" in capsys.readouterr().err
    assert not (tmp_path / "o" / "fit.json").exists() and not (tmp_path / "n").exists()


def test_cli_fit_resume_refuses_another_run(tmp_path, capsys):
    """A resume with another data file content (same path), --lr or --seed used to run
    silently; it exits 2 with one line naming the change. The same arguments (and more
    epochs) resume bit for bit; --allow-changes proceeds and records the changes."""
    import jax

    data = tmp_path / "d.npz"
    _teacher(data, 0, sequences=20, n_train=16)
    small = ("--hidden", "3", "--seed", "0")
    _fit(data, tmp_path / "full", "--epochs", "3", *small)
    _fit(data, tmp_path / "r", "--epochs", "2", "--checkpoint-every", "1", *small)

    def refused(*extra):
        rc = main(
            [
                "fit",
                str(data),
                "--alpha-s",
                "0.8",
                "--alpha-r",
                "0.8",
                "--out",
                str(tmp_path / "r"),
                "--quiet",
                "--resume",
                "--epochs",
                "3",
                *small,
                *extra,
            ]
        )
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1, err
        return err

    assert "cli.lr: 0.001 -> 0.01" in refused("--lr", "0.01")
    assert "user.cli.seed: 0 -> 1" in refused("--seed", "1")
    assert "training.batch_size: 1 -> 2" in refused("--batch-size", "2")
    err = refused("--activation", "tanh")
    assert (
        'model.activation: "sigmoid" -> "tanh"' in err
        and "expected the same model structure" in err
    )

    # Identical arguments, more epochs: bit for bit the uninterrupted run.
    res = _fit(data, tmp_path / "r", "--epochs", "3", "--resume", *small)
    full = json.loads((tmp_path / "full" / "fit.json").read_text())
    assert res == full and res["seed"] == 0 and "resumed_with_changes" not in res
    a, b = load_model(tmp_path / "r"), load_model(tmp_path / "full")
    assert all(
        np.array_equal(u, v)
        for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))
    )

    # Another file content under the same path.
    _teacher(data, 1, sequences=20, n_train=16)
    err = refused("--epochs", "4")
    assert (
        "data.train: sha256" in err
        and "data.validation: sha256" in err
        and "--allow-changes" in err
    )
    res = _fit(
        data, tmp_path / "r", "--epochs", "4", "--resume", "--allow-changes", "--lr", "0.01", *small
    )
    assert res["epochs_run"] == 4 and res["seed"] == 0
    [record] = res["resumed_with_changes"]
    assert record["epoch"] == 3 and "user.cli.lr: 0.001 -> 0.01" in record["changes"]
    assert any(c.startswith("data.train: ") for c in record["changes"])
    hist = json.loads((tmp_path / "r" / "history.json").read_text())
    assert hist["resumed_with_changes"] == [record] and len(hist["val_loss"]) == 4
