"""The optimiser's options are validated at the edge: a non-positive or non-finite
learning rate, time-constant learning rate or clipping threshold, or a negative weight
decay, is refused with an `InputError` (and by the CLI with one line, exit status 2)
instead of silently training nothing, or training away from the optimum."""

import numpy as np
import optax
import pytest

from adaptive_rnn import InputError
from adaptive_rnn.cli import main
from adaptive_rnn.train import paper_optimiser

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(learning_rate=-1.0), r"learning_rate: got -1.0, expected a finite number > 0"),
        (dict(learning_rate=0.0), r"learning_rate: got 0.0, expected a finite number > 0"),
        (dict(learning_rate=NAN), r"learning_rate: got nan, expected a finite number > 0"),
        (dict(learning_rate=INF), r"learning_rate: got inf, expected a finite number > 0"),
        (dict(tau_learning_rate=0.0), r"tau_learning_rate: got 0.0, expected a finite number > 0"),
        (
            dict(tau_learning_rate=-1e-3),
            r"tau_learning_rate: got -0.001, expected a finite number > 0",
        ),
        (dict(clip_norm=0.0), r"clip_norm: got 0.0, expected a finite number > 0"),
        (dict(clip_norm=-2.0), r"clip_norm: got -2.0, expected a finite number > 0"),
        (dict(clip_norm=INF), r"clip_norm: got inf, expected a finite number > 0"),
        (dict(weight_decay=-1e-5), r"weight_decay: got -1e-05, expected a finite number >= 0"),
        (dict(weight_decay=NAN), r"weight_decay: got nan, expected a finite number >= 0"),
    ],
)
def test_paper_optimiser_refuses_bad_options(kwargs, match):
    with pytest.raises(InputError, match=match):
        paper_optimiser(**kwargs)


def test_paper_optimiser_accepts_its_edge_values():
    # No clipping, no decay, a separate time-constant rate, an optax schedule.
    for opt in (
        paper_optimiser(1e-3, clip_norm=None, weight_decay=0.0),
        paper_optimiser(1e-3, tau_learning_rate=3e-2),
        paper_optimiser(
            optax.constant_schedule(1e-3), tau_learning_rate=optax.constant_schedule(0.0)
        ),
    ):
        assert isinstance(opt, optax.GradientTransformation)


@pytest.mark.parametrize(
    "option, name",
    [
        ("--lr=-1", "--lr: got '-1'"),
        ("--lr=0", "--lr: got '0'"),
        ("--lr=nan", "--lr: got 'nan'"),
        ("--tau-lr=0", "--tau-lr: got '0'"),
        ("--clip=-1", "--clip: got '-1'"),
        ("--weight-decay=-1e-5", "--weight-decay: got '-1e-5'"),
    ],
)
def test_cli_fit_refuses_bad_optimiser_options(tmp_path, capsys, option, name):
    rng = np.random.default_rng(0)
    data = tmp_path / "data.npz"
    np.savez(data, inputs=rng.normal(size=(5, 4, 1)), targets=rng.normal(size=(5, 4, 1)))
    out = tmp_path / "out"
    rc = main(
        ["fit", str(data), "--out", str(out), "--hidden", "2", "--epochs", "1", "--quiet", option]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert "\n" not in err and err.startswith("adaptive-rnn fit: error: ") and name in err
    assert not (out / "fit.json").exists()  # refused before training
