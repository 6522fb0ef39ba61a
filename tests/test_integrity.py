"""Saved models and checkpoints are sealed: one digest covers the metadata and the
arrays together, cannot be switched off by deleting a field, and files of format
version 1 (arrays hash only) are accepted only when asked for."""

import json

import jax
import numpy as np
import pytest

import adaptive_rnn as ar
from adaptive_rnn import CheckpointError
from adaptive_rnn._io import sha256, tree_to_bytes
from adaptive_rnn.train import fit, load_checkpoint, paper_optimiser

INTEGRITY_FIELDS = ("digest", "files", "leaves_sha256", "state_sha256")


def _outputs(model, xs):
    return np.asarray(ar.simulate(model, xs).outputs)


def _edit_json(path, edit):
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta, indent=2))


def test_model_json_edits_are_refused(tmp_path, getkey):
    model = ar.ARU(2, 4, 2, key=getkey())
    folder = ar.save_model(tmp_path / "m", model)
    js = folder / "model.json"
    good = js.read_text()
    # Formatting is not content: the same metadata laid out differently still loads.
    js.write_text(json.dumps(json.loads(good)))
    ar.load_model(folder)
    # A one-byte change of dt (1.0 -> 2.0): it changes the outputs, so it must not load.
    assert good.count('"dt": 1.0') == 1
    edited = good.replace('"dt": 1.0', '"dt": 2.0')
    assert sum(a != b for a, b in zip(good, edited)) == 1
    js.write_text(edited)
    with pytest.raises(
        CheckpointError, match=r"model\.json has content digest .* the metadata was modified"
    ):
        ar.load_model(folder)
    for field, value in (("activation", "tanh"), ("readout", "lagged")):
        js.write_text(good)
        _edit_json(js, lambda m, f=field, v=value: m["config"].__setitem__(f, v))
        with pytest.raises(CheckpointError, match="the metadata was modified"):
            ar.load_model(folder)
    js.write_text(good)
    xs = np.asarray(jax.random.uniform(getkey(), (6, 2)))
    np.testing.assert_array_equal(_outputs(ar.load_model(folder), xs), _outputs(model, xs))


def test_deleting_the_digest_does_not_switch_the_check_off(tmp_path, getkey):
    """A swapped arrays file with every integrity field deleted from the metadata (in
    format version 1, deleting `leaves_sha256` turned the check off and the swap loaded)."""
    model = ar.ARU(2, 4, 2, key=getkey())
    other = ar.ARU(2, 4, 2, key=getkey())  # same structure, other weights
    a = ar.save_model(tmp_path / "a", model)
    b = ar.save_model(tmp_path / "b", other)
    (a / "model.eqx").write_bytes((b / "model.eqx").read_bytes())
    with pytest.raises(
        CheckpointError, match=r"model\.eqx has SHA-256 .* truncated or was modified"
    ):
        ar.load_model(a)
    _edit_json(a / "model.json", lambda m: [m.pop(f) for f in INTEGRITY_FIELDS if f in m])
    with pytest.raises(CheckpointError, match="lacks the field 'digest'.*cannot be switched off"):
        ar.load_model(a)
    # Only the digest removed (the file hashes kept): still refused.
    ar.save_model(tmp_path / "c", model)
    _edit_json(tmp_path / "c" / "model.json", lambda m: m.pop("digest"))
    with pytest.raises(CheckpointError, match="lacks the field 'digest'"):
        ar.load_model(tmp_path / "c")


def _v1_model_folder(folder, model):
    """A model folder as adaptive_rnn 0.1.0 wrote it: the SHA-256 covers the arrays only."""
    folder.mkdir()
    leaves = tree_to_bytes(model)
    (folder / "model.eqx").write_bytes(leaves)
    meta = {
        "format": "adaptive_rnn.model",
        "format_version": 1,
        "config": model.config(),
        "leaves_sha256": sha256(leaves),
    }
    (folder / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    return folder


def test_format_version_1_is_refused_unless_asked_for(tmp_path, getkey):
    model = ar.ARU(2, 4, 2, time_constants="local", key=getkey())
    folder = _v1_model_folder(tmp_path / "v1", model)
    with pytest.raises(CheckpointError, match=r"format version 1 .*allow_unverified_metadata=True"):
        ar.load_model(folder)
    loaded = ar.load_model(folder, allow_unverified_metadata=True)
    xs = np.asarray(jax.random.uniform(getkey(), (6, 2)))
    np.testing.assert_array_equal(_outputs(loaded, xs), _outputs(model, xs))
    # Saved again, it is sealed (version 2) and loads without the keyword.
    ar.save_model(tmp_path / "v2", loaded)
    assert json.loads((tmp_path / "v2" / "model.json").read_text())["format_version"] == 2
    ar.load_model(tmp_path / "v2")
    # With the keyword the arrays are still checked ...
    data = (folder / "model.eqx").read_bytes()
    (folder / "model.eqx").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(CheckpointError, match="truncated or was modified"):
        ar.load_model(folder, allow_unverified_metadata=True)
    # ... and a version 1 file without its arrays hash verifies nothing: refused.
    (folder / "model.eqx").write_bytes(data)
    _edit_json(folder / "model.json", lambda m: m.pop("leaves_sha256"))
    with pytest.raises(CheckpointError, match="records no SHA-256 of model.eqx"):
        ar.load_model(folder, allow_unverified_metadata=True)
    # A sealed file relabelled as version 1 (to skip the digest) is refused by default.
    ar.save_model(tmp_path / "relabelled", model)
    _edit_json(tmp_path / "relabelled" / "model.json", lambda m: m.__setitem__("format_version", 1))
    with pytest.raises(CheckpointError, match="format version 1"):
        ar.load_model(tmp_path / "relabelled")


def _setup(key):
    k1, k2, k3 = jax.random.split(key, 3)
    x = np.asarray(jax.random.uniform(k1, (8, 6, 2)))
    y = np.asarray(jax.random.uniform(k2, (8, 6, 2)))
    return ar.ARU(2, 3, 2, key=k3), x, y


OPT = paper_optimiser(1e-2)


def test_edited_checkpoint_is_refused(tmp_path, getkey):
    """An edited loss in checkpoint.json used to be resumed and carried into the final
    history."""
    model, x, y = _setup(getkey())
    key = getkey()
    ck = tmp_path / "ck"
    fit(model, x, y, key=key, epochs=2, optimiser=OPT, progress=False, checkpoint_dir=ck)
    js = ck / "checkpoint.json"
    good = js.read_text()
    kw = dict(key=key, epochs=3, optimiser=OPT, progress=False, resume_from=ck)
    _edit_json(js, lambda m: m["history"]["val_loss"].__setitem__(0, 1e-9))
    with pytest.raises(
        CheckpointError, match=r"checkpoint\.json has content digest .* metadata was modified"
    ):
        fit(model, x, y, **kw)
    js.write_text(good)
    _edit_json(js, lambda m: m["history"].__setitem__("best_val_loss", 0.0))
    with pytest.raises(CheckpointError, match="metadata was modified"):
        load_checkpoint(ck, None)
    js.write_text(good)
    _edit_json(js, lambda m: [m.pop(f) for f in INTEGRITY_FIELDS if f in m])
    with pytest.raises(CheckpointError, match="lacks the field 'digest'"):
        fit(model, x, y, **kw)
    js.write_text(good)
    res = fit(model, x, y, **kw)  # intact: resumes
    assert res.epochs_run == 3


def test_format_version_1_checkpoint(tmp_path, getkey):
    """A 0.1.0 checkpoint (arrays hash only, no record of the run) resumes only with
    resume_changes="allow"; its key is still checked (by advancing the given key to the
    saved epoch), and the resumed run equals the uninterrupted one."""
    model, x, y = _setup(getkey())
    key = getkey()
    full = fit(model, x, y, key=key, epochs=3, optimiser=OPT, progress=False)
    ck = tmp_path / "ck"
    fit(model, x, y, key=key, epochs=2, optimiser=OPT, progress=False, checkpoint_dir=ck)
    js = ck / "checkpoint.json"
    meta = json.loads(js.read_text())
    name = meta["state_file"]
    cfg = meta["config"]
    v1 = {
        "format": meta["format"],
        "format_version": 1,
        "epoch": meta["epoch"],
        "key_data": meta["key_data"],
        "config": {
            "model": cfg["model"],
            "training": {k: v for k, v in cfg["training"].items() if k != "loss"}
            | {"loss": "mse_loss"},
            "user": {},
        },
        "history": meta["history"],
        "state_file": name,
        "state_sha256": sha256((ck / name).read_bytes()),
    }
    js.write_text(json.dumps(v1, indent=2))
    kw = dict(epochs=3, optimiser=OPT, progress=False, resume_from=ck)
    with pytest.raises(CheckpointError, match=r"format version 1 .*resume_changes='allow'"):
        fit(model, x, y, key=key, **kw)
    with pytest.raises(CheckpointError, match="key: .* the key cannot change"):
        fit(model, x, y, key=getkey(), resume_changes="allow", **kw)
    res = fit(model, x, y, key=key, resume_changes="allow", **kw)
    assert np.array_equal(res.history.val_loss, full.history.val_loss)
    assert [r["epoch"] for r in res.resumed_with_changes] == [2]
    assert any(
        c.startswith("data.train: (not recorded) -> ")
        for c in res.resumed_with_changes[0]["changes"]
    )
