"""ARU files written before the ARU kept its weights as `Weight`s still load.

`tests/data/legacy_aru/` holds model folders written by that version (see its README):
the Dale signs, the recurrent mask and the readout mask were then the fields `ARU.ei`,
`ARU.rec_mask` and `ARU.out_mask`, after all other leaves of `model.eqx`; now they are
`Weight.signs` / `Weight.mask` of `W_hid` and `W_out`. Each folder must load (format 2,
and format 1 when asked for) to a model whose outputs and states on the saved inputs are
those the old code computed, also saved there.
"""

import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import adaptive_rnn as ar

DATA = Path(__file__).parent / "data" / "legacy_aru"
EXPECTED = np.load(DATA / "legacy_aru_expected.npz")
FOLDERS = ["aru_dale_local_v2", "aru_dale_local_v1", "aru_stacked_v2", "aru_project_f32_v2"]


def _load(name):
    return ar.load_model(DATA / name, allow_unverified_metadata=name.endswith("_v1"))


@pytest.mark.parametrize("name", FOLDERS)
def test_old_files_load_with_the_old_outputs(name):
    model = _load(name)
    stem = name.rsplit("_", 1)[0]
    dtype = model.b.dtype
    tr = ar.simulate(model, jnp.asarray(EXPECTED["inputs"], dtype), return_states=True)
    # The same arrays through the same equations, but a different program (the weights
    # are now resolved through `Weight.effective`): equal to float rounding, a few ulps of
    # the saved dtype.
    rtol = 1e-12 if dtype == jnp.float64 else 1e-6
    np.testing.assert_allclose(tr.outputs, EXPECTED[f"{stem}_outputs"], rtol=rtol, atol=rtol)
    for state, values in tr.states.items():
        np.testing.assert_allclose(values, EXPECTED[f"{stem}_state_{state}"], rtol=rtol, atol=rtol)


def test_old_dale_file_puts_signs_and_masks_in_the_weights():
    model = _load("aru_dale_local_v2")
    config = json.loads((DATA / "aru_dale_local_v2" / "model.json").read_text())["config"]
    assert "weights" not in config and config["connectivity"]["dale"] == "abs"
    # ei_signs(5, 0.8): four excitatory units, then one inhibitory.
    np.testing.assert_array_equal(model.W_hid.signs.value, [[1, 1, 1, 1, -1]])
    np.testing.assert_array_equal(model.dale_signs(), [1, 1, 1, 1, -1])
    np.testing.assert_array_equal(model.W_hid.mask.value, 1 - np.eye(5))
    np.testing.assert_array_equal(model.W_out.mask.value, np.tile([1.0, 1, 1, 1, 0], (2, 1)))
    assert model.dale == "abs" and model.W_in.signs is None and model.W_in.mask is None
    # The saved raw weights have entries of both signs: the file's W went into W_hid.raw
    # (not a sign or mask array), and the effective weights obey Dale's law.
    assert np.any(model.layers[0].W < 0) and np.any(model.layers[0].W > 0)
    W = np.asarray(model.resolve().layers[0][0].W)
    assert np.all(W[:, :4] >= 0) and np.all(W[:, 4] <= 0) and np.all(np.diag(W) == 0)


def test_old_files_saved_again_use_the_new_layout(tmp_path):
    for name in FOLDERS:
        model = _load(name)
        folder = ar.save_model(tmp_path / name, model)
        assert "weights" in json.loads((folder / "model.json").read_text())["config"]
        again = ar.load_model(folder)
        x = jnp.asarray(EXPECTED["inputs"], model.b.dtype)
        # The same program on the same arrays: bit for bit.
        np.testing.assert_array_equal(ar.simulate(again, x).outputs, ar.simulate(model, x).outputs)
