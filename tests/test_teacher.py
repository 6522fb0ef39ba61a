"""Teacher data of the paper (E1), from Python and from the CLI."""

import jax
import numpy as np
import pytest

from adaptive_rnn import InputError, simulate
from adaptive_rnn.cli import main
from adaptive_rnn.tasks import teacher_data


def test_global_teacher(getkey):
    key = getkey()
    td = teacher_data(key, alpha_s=0.342, alpha_r=0.684, n_sequences=50, n_train=40)
    assert td.inputs.shape == (50, 40, 2) and td.targets.shape == (50, 40, 2)
    assert np.allclose(td.alpha_s, [0.342]) and np.allclose(td.alpha_r, [0.684])
    assert td.model.readout == "lagged" and td.model.activation == "sigmoid"
    assert td.model.n_hidden == 10
    assert np.array_equal(np.asarray(simulate(td.model, td.inputs).outputs), td.targets)
    # the paper's smoothed inputs: Uniform[0,1) x 10, smoothed (stays roughly in range)
    assert 4.0 < td.inputs.mean() < 6.0 and td.inputs.min() > -3 and td.inputs.max() < 13
    # lagged readout: the first output ignores the input
    assert np.allclose(td.targets[:, 0], td.targets[0, 0])
    again = teacher_data(key, alpha_s=0.342, alpha_r=0.684, n_sequences=50, n_train=40)
    assert np.array_equal(again.targets, td.targets)
    data = td.train_data()
    assert data.x.shape == (40, 20, 2) and data.xv.shape == (10, 20, 2)
    assert np.array_equal(np.asarray(data.xv), td.inputs[40:, :20])


def test_heterogeneous_teacher(getkey):
    td = teacher_data(
        getkey(), alpha_s=0.5, alpha_r=0.5, local_sd=0.2, n_sequences=20, n_train=10, n_hidden=200
    )
    for a in (td.alpha_s, td.alpha_r):
        assert a.shape == (200,) and np.all((a > 0) & (a < 1))
        assert abs(a.mean() - 0.5) < 0.05 and 0.15 < a.std() < 0.22
    assert not np.allclose(td.alpha_s, td.alpha_r)
    with pytest.raises(InputError, match="local_sd"):
        teacher_data(getkey(), local_sd=-1.0)
    with pytest.raises(InputError, match="alpha_s: got 2.5"):
        teacher_data(getkey(), alpha_s=2.5)


def test_teacher_cli(tmp_path):
    out = tmp_path / "d.npz"
    rc = main(
        [
            "teacher",
            "--alpha-s",
            "0.3",
            "--alpha-r",
            "0.6",
            "--local-sd",
            "0.1",
            "--seed",
            "3",
            "--sequences",
            "30",
            "--n-train",
            "20",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    with np.load(out, allow_pickle=False) as z:
        assert z["inputs"].shape == (30, 40, 2) and z["targets"].shape == (30, 40, 2)
        assert z["alpha_s"].shape == (10,) and abs(z["alpha_s"].mean() - 0.3) < 0.1
        assert (
            int(z["n_train"]) == 20
            and int(z["train_steps"]) == 20
            and str(z["readout"]) == "lagged"
        )
        td = teacher_data(
            jax.random.key(3), alpha_s=0.3, alpha_r=0.6, local_sd=0.1, n_sequences=30, n_train=20
        )
        assert np.array_equal(z["targets"], td.targets)
