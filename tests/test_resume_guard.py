"""Resuming refuses another run: any change of data content, key, optimiser, training
options, fixed arrays or configuration is named (`name: old -> new`), unless asked for;
only the number of epochs may change."""

import json

import equinox as eqx
import jax
import numpy as np
import pytest

import adaptive_rnn as ar
from adaptive_rnn import CheckpointError, InputError
from adaptive_rnn.train import fit, mse_loss, paper_optimiser
from adaptive_rnn.train._checkpoint import describe, run_changes

OPT = paper_optimiser(1e-2)


@pytest.fixture
def run(tmp_path, getkey):
    """A 2-epoch run with its checkpoint, and the arguments that resume it unchanged."""
    k1, k2, k3 = jax.random.split(getkey(), 3)
    x = np.asarray(jax.random.uniform(k1, (8, 6, 2)))
    y = np.asarray(jax.random.uniform(k2, (8, 6, 2)))
    model = ar.ARU(2, 3, 2, time_constants=("global", "static"), alpha_r=0.4, key=k3)
    key = getkey()
    ck = tmp_path / "ck"
    kw = dict(key=key, epochs=2, optimiser=OPT, progress=False, config={"note": "a"})
    fit(model, x, y, checkpoint_dir=ck, **kw)
    return model, x, y, kw | dict(epochs=3, resume_from=ck)


def _refused(match, *args, **kwargs):
    with pytest.raises(CheckpointError, match=match) as e:
        fit(*args, **kwargs)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_changed_data_content_is_refused(run):
    model, x, y, kw = run
    x2 = x.copy()
    x2[0, 0, 0] += 1e-3  # same shape, same "file", other content
    msg = _refused(r"data\.train: sha256 \w{12}\.\.\. -> sha256 \w{12}\.\.\.", model, x2, y, **kw)
    assert "data.validation" not in msg and "resume_changes='allow'" in msg
    y2 = y.copy()
    y2[-1, -1, -1] += 1e-3  # the last sequence is validation data
    msg = _refused(r"data\.validation: ", model, x, y2, **kw)
    assert "data.train" not in msg


def test_changed_optimiser_is_refused(run):
    model, x, y, kw = run
    _refused(
        r"optimiser\.chain\[2\]\.chain\[1\]\.scale\.step_size: -0\.01 -> -0\.02",
        model,
        x,
        y,
        **kw | dict(optimiser=paper_optimiser(2e-2)),
    )
    _refused(
        r"optimiser\.chain\[0\]\.clip_by_global_norm\.max_norm: 2\.0 -> 1\.0",
        model,
        x,
        y,
        **kw | dict(optimiser=paper_optimiser(1e-2, clip_norm=1.0)),
    )
    msg = _refused(
        "optimiser",
        model,
        x,
        y,
        **kw | dict(optimiser=paper_optimiser(1e-2, tau_learning_rate=3e-2)),
    )
    assert "partition" in msg


def test_changed_key_is_refused_even_when_changes_are_allowed(run, getkey):
    model, x, y, kw = run
    for allow in ("refuse", "allow"):
        _refused(
            r"key: \[\d+, \d+\] -> \[\d+, \d+\].* the key cannot change on resume",
            model,
            x,
            y,
            **kw | dict(key=getkey(), resume_changes=allow),
        )


def test_changed_options_and_config_are_refused(run):
    model, x, y, kw = run
    _refused(r'user\.note: "a" -> "b"', model, x, y, **kw | dict(config={"note": "b"}))
    _refused(r"training\.batch_size: 1 -> 2", model, x, y, **kw | dict(batch_size=2))
    _refused(r"training\.patience: null -> 5", model, x, y, **kw | dict(patience=5))
    _refused(
        r"training\.loss\.", model, x, y, **kw | dict(loss=lambda o, t, m: mse_loss(o, t, m) * 2)
    )
    # The fixed (static) alpha_r is not in the model config and not in the checkpoint's
    # arrays: only its digest tells a resumed run that it changed.
    other = eqx.tree_at(lambda m: m.layers[0].tau_r.value, model, model.layers[0].tau_r.value * 1.5)
    _refused(r"fixed_arrays: ", other, x, y, **kw)
    with pytest.raises(
        InputError, match="resume_changes: got 'yes', expected one of 'refuse', 'allow'"
    ):
        fit(model, x, y, **kw | dict(resume_changes="yes"))


def test_allowed_changes_are_applied_and_recorded(run, tmp_path):
    model, x, y, kw = run
    opt = paper_optimiser(2e-2)
    ck2 = tmp_path / "ck2"
    res = fit(model, x, y, **kw | dict(optimiser=opt, resume_changes="allow", checkpoint_dir=ck2))
    assert res.epochs_run == 3
    assert res.resumed_with_changes == [
        {"epoch": 2, "changes": ["optimiser.chain[2].chain[1].scale.step_size: -0.01 -> -0.02"]}
    ]
    meta = json.loads((ck2 / "checkpoint.json").read_text())
    assert meta["resumed_with_changes"] == res.resumed_with_changes
    # The checkpoint now records the changed run: resuming it with the new optimiser needs
    # no permission, and the record is carried on.
    res2 = fit(model, x, y, **kw | dict(optimiser=opt, epochs=4, resume_from=ck2))
    assert res2.epochs_run == 4 and res2.resumed_with_changes == res.resumed_with_changes
    _refused("step_size: -0.02 -> -0.01", model, x, y, **kw | dict(epochs=4, resume_from=ck2))


def test_describe_and_run_changes():
    a = describe(paper_optimiser(1e-3))
    assert a["chain[2].chain[1].scale.step_size"] == -1e-3
    assert a["chain[0].clip_by_global_norm.max_norm"] == 2.0
    assert a["chain[1].add_decayed_weights.weight_decay"] == 1e-5
    assert describe(paper_optimiser(1e-3)) == json.loads(json.dumps(a))  # stable, JSON-ready
    assert describe(mse_loss) == {"mse_loss": "adaptive_rnn.train._core.mse_loss"}
    saved = {"training": {"epochs": 3, "batch_size": 1}, "user": {"a": 1}}
    assert run_changes(saved, {"training": {"epochs": 9, "batch_size": 1}, "user": {"a": 1}}) == []
    assert run_changes(saved, {"training": {"epochs": 3, "batch_size": 2}, "user": {}}) == [
        "training.batch_size: 1 -> 2",
        "user.a: 1 -> (not recorded)",
    ]
