"""Checkpoints: resuming is bit for bit; damaged files give clear errors."""

import json

import equinox as eqx
import jax
import numpy as np
import pytest

from adaptive_rnn import ARU, CheckpointError, simulate
from adaptive_rnn.tasks import smoothed_uniform_inputs
from adaptive_rnn.train import fit, paper_optimiser


def _setup(key):
    k1, k2, k3 = jax.random.split(key, 3)
    teacher = ARU(2, 4, 2, time_constants="static", alpha_s=0.3, alpha_r=0.7, key=k1)
    x = smoothed_uniform_inputs(k2, 10, 8, 2)
    y = simulate(teacher, x).outputs
    model = ARU(2, 4, 2, time_constants="local", alpha_s=0.6, alpha_r=0.5, key=k3)
    return model, np.asarray(x), np.asarray(y)


def _same(a, b):
    la = jax.tree_util.tree_leaves(eqx.filter(a, eqx.is_array))
    lb = jax.tree_util.tree_leaves(eqx.filter(b, eqx.is_array))
    return len(la) == len(lb) and all(
        np.array_equal(np.asarray(u), np.asarray(v)) for u, v in zip(la, lb)
    )


OPT = paper_optimiser(1e-2, tau_learning_rate=3e-2)


def test_resume_is_bit_for_bit(getkey, tmp_path):
    model, x, y = _setup(getkey())
    key = getkey()
    full = fit(
        model,
        x,
        y,
        key=key,
        epochs=5,
        optimiser=OPT,
        progress=False,
        checkpoint_dir=tmp_path / "full",
        checkpoint_every=2,
    )
    part = fit(
        model,
        x,
        y,
        key=key,
        epochs=3,
        optimiser=OPT,
        progress=False,
        checkpoint_dir=tmp_path / "part",
    )
    meta = json.loads((tmp_path / "part" / "checkpoint.json").read_text())
    assert meta["epoch"] == 3
    assert meta["key_data"] == np.asarray(part.state.key).tolist()
    assert meta["config"]["model"] == model.config()
    resumed = fit(
        model, x, y, key=key, epochs=5, optimiser=OPT, progress=False, resume_from=tmp_path / "part"
    )
    assert _same(resumed.final_model, full.final_model)
    assert _same(resumed.model, full.model)
    assert _same(resumed.state.opt_state, full.state.opt_state)
    assert np.array_equal(resumed.history.val_loss, full.history.val_loss)
    assert np.array_equal(
        resumed.history.time_constants["alpha_s"], full.history.time_constants["alpha_s"]
    )
    assert resumed.best_epoch == full.best_epoch
    # atomic writes: one arrays file, no temporary files left behind
    names = sorted(p.name for p in (tmp_path / "full").iterdir())
    assert names == ["checkpoint.json", "state-000005.eqx"]


def test_damaged_checkpoints_are_refused(getkey, tmp_path):
    model, x, y = _setup(getkey())
    key = getkey()
    ck = tmp_path / "ck"
    fit(model, x, y, key=key, epochs=1, optimiser=OPT, progress=False, checkpoint_dir=ck)
    state_file = ck / "state-000001.eqx"
    good = state_file.read_bytes()
    kw = dict(key=key, epochs=2, optimiser=OPT, progress=False, resume_from=ck)

    state_file.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(
        CheckpointError, match=r"state-000001\.eqx has SHA-256 .* truncated or was modified"
    ):
        fit(model, x, y, **kw)
    tampered = bytearray(good)
    tampered[-3] ^= 0xFF
    state_file.write_bytes(bytes(tampered))
    with pytest.raises(CheckpointError, match="SHA-256"):
        fit(model, x, y, **kw)
    state_file.write_bytes(good)
    fit(model, x, y, **kw)  # intact again: resumes

    js = ck / "checkpoint.json"
    text = js.read_text()
    js.write_text(text[: len(text) // 2])
    with pytest.raises(CheckpointError, match="checkpoint.json is not valid JSON"):
        fit(model, x, y, **kw)
    js.write_text(text)
    other = ARU(2, 5, 2, key=getkey())
    with pytest.raises(CheckpointError, match="expected the same model structure"):
        fit(other, x, y, **kw)
    state_file.unlink()
    with pytest.raises(CheckpointError, match="not found"):
        fit(model, x, y, **kw)
    with pytest.raises(CheckpointError, match="not found"):
        fit(model, x, y, key=key, epochs=2, progress=False, resume_from=tmp_path / "nothing")


def test_output_paths_are_checked_before_training(getkey, tmp_path):
    """A checkpoint folder or model folder that is an existing file used to surface as
    FileExistsError after all the training; now an InputError before compiling."""
    from adaptive_rnn import InputError, save_model

    model, x, y = _setup(getkey())
    existing = tmp_path / "file"
    existing.write_text("")
    calls = []
    with pytest.raises(
        InputError, match=r"checkpoint_dir: got '.*/file', an existing file; expected a folder"
    ):
        fit(
            model,
            x,
            y,
            key=getkey(),
            epochs=3,
            progress=False,
            checkpoint_dir=existing,
            callbacks=[lambda *a: calls.append(a)],
        )
    assert calls == []  # not one epoch ran
    with pytest.raises(InputError, match="path: got .*an existing file; expected a folder"):
        save_model(existing, model)
    (tmp_path / "m" / "model.json").mkdir(parents=True)
    with pytest.raises(InputError, match="model.json', an existing folder"):
        save_model(tmp_path / "m", model)
