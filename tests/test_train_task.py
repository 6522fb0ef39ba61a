"""`train-task` end to end at a tiny scale, and its pieces."""

import json

import jax
import numpy as np
import pytest

from adaptive_rnn import InputError, load_model, simulate
from adaptive_rnn.cli import main
from adaptive_rnn.recipes import (
    build_task_model,
    time_constants_by_group,
    train_on_task,
    unit_signs,
)
from adaptive_rnn.tasks import make_task, task_accuracy

# One trial count for training, validation and test: the task generator compiles per batch size.
TINY = [
    "--hidden",
    "10",
    "--n-train",
    "16",
    "--n-val",
    "16",
    "--n-test",
    "16",
    "--batch-size",
    "8",
    "--epochs",
    "2",
    "--fixed-point-inits",
    "8",
    "--param",
    "stimulus=200",
    "--param",
    "fixation=40",
]


def test_cli_train_task_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(
        [
            "train-task",
            "perceptual_decision",
            "--model",
            "aru",
            "--dale",
            "--time-constants",
            "local",
            "--seed",
            "3",
            "--out",
            str(out),
            *TINY,
        ]
    )
    assert rc == 0
    assert "held-out accuracy" in capsys.readouterr().out
    s = json.loads((out / "task.json").read_text())
    assert s["task_params"] == {"stimulus": 200, "fixation": 40}
    # Time constants per E/I group: 8 excitatory, 2 inhibitory units, tau_1 = tau_s + tau_r.
    tc = s["time_constants"]
    assert set(tc) == {"E", "I"}
    assert len(tc["E"]["tau_s"]) == 8 and len(tc["I"]["tau_r"]) == 2
    np.testing.assert_allclose(
        tc["E"]["tau_1"], np.add(tc["E"]["tau_s"], tc["E"]["tau_r"]), rtol=1e-6
    )
    assert all(t > 20.0 for t in tc["E"]["tau_s"] + tc["I"]["tau_s"])  # tau > dt (sigmoid)
    fp = s["fixed_points"]
    assert fp["count"] == len(fp["points"]) and fp["input"] == [0.0, 0.0, 0.0]
    assert "psychometric" in s
    for name in (
        "task.json",
        "psychometric.png",
        "time_constants.png",
        "fixed_points.png",
        "model/model.json",
    ):
        assert (out / name).is_file()
    # The accuracy is the fraction of the seeded held-out trials whose larger choice output
    # at the trial's last step (fixation 40 + stimulus 200 + decision 300 ms = 27 steps of
    # 20 ms) is the correct one, by hand from the saved model.
    model = load_model(out / "model")
    keys = jax.random.split(jax.random.key(3), 6)
    test = make_task("perceptual_decision", keys[2], 16, stimulus=200, fixation=40)
    out_ = np.asarray(simulate(model, test.inputs, return_states=True).outputs)
    assert out_.shape == (16, 27, 3)
    choice = np.argmax(out_[:, 26, 1:], axis=-1)  # 0 left, 1 right
    correct = choice == np.asarray(test.conditions["choice"])
    assert s["accuracy"] == correct.mean()
    assert task_accuracy(test, out_) == correct.mean()
    # ... and the psychometric curve is P(choice = right) per signed coherence, by hand.
    sc = np.round(np.asarray(test.conditions["signed_coherence"], dtype=float), 9)
    curve = s["psychometric"]["None"]
    assert curve["signed_coherence"] == sorted(set(sc.tolist()))
    expected = [float(np.mean(choice[sc == x] == 1)) for x in curve["signed_coherence"]]
    assert curve["p_choice_1"] == expected
    assert curve["n"] == [int(np.sum(sc == x)) for x in curve["signed_coherence"]]


def test_ctrnn_without_dale_single_group(tmp_path):
    run = train_on_task(
        "working_memory",
        model="ctrnn",
        time_constants="global",
        n_hidden=6,
        epochs=1,
        n_train=8,
        n_val=8,
        n_test=8,
        batch_size=4,
        fixed_points=False,
        task_params=dict(fixation=40.0, f1=100.0, delay=200.0, f2=100.0),
    )
    tc = run.summary["time_constants"]
    assert set(tc) == {"all"} and len(tc["all"]["tau"]) == 1
    assert "psychometric" not in run.summary and "fixed_points" not in run.summary
    assert run.outputs.shape == tuple(run.test.targets.shape)


def test_groups_and_signs(getkey):
    model, ms = build_task_model("shunting", 3, 3, n_hidden=10, key=getkey())
    assert ms == 100.0
    s = unit_signs(model)
    assert s is not None and np.sum(s > 0) == 8
    g = time_constants_by_group(model, ms_per_unit=ms)
    # Shunting: tau_b = 1 / G_b = 1 model unit = 100 ms initially.
    np.testing.assert_allclose(g["E"]["tau_b"] + g["I"]["tau_b"], 100.0, rtol=1e-5)
    aru, _ = build_task_model("aru", 3, 3, n_hidden=5, time_constants="global", key=getkey())
    g = time_constants_by_group(aru)
    assert g["all"]["tau_s"] == pytest.approx([100.0]) and g["all"]["tau_2"] == pytest.approx([1e4])


def test_bad_input(tmp_path, capsys):
    assert main(["train-task", "nope", "--out", str(tmp_path / "a")]) == 2
    assert "task: got 'nope', expected one of" in capsys.readouterr().err
    rc = main(
        [
            "train-task",
            "perceptual_decision",
            "--out",
            str(tmp_path / "b"),
            "--param",
            "coherences=[10, 150]",
        ]
    )
    assert rc == 2
    assert "coherences: got 150.0, expected a number in [0, 100]" in capsys.readouterr().err
    with pytest.raises(InputError, match="expected 'local'"):
        build_task_model("shunting", 3, 3, time_constants="static", key=jax.random.key(0))
    with pytest.raises(InputError, match="model: got 'lstm'"):
        build_task_model("lstm", 3, 3, key=jax.random.key(0))
    assert (
        main(["train-task", "perceptual_decision", "--out", str(tmp_path / "c"), "--param", "bad"])
        == 2
    )
