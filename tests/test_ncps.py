"""Migration from ncps: state dicts written by ncps itself (`tests/data/ncps_*.pt`, made by
`tests/data/make_ncps_fixture.py`) imported without torch, against the outputs ncps
computed on the same inputs; malformed files give a `CheckpointError` (one line and exit
2 from the command line)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from adaptive_rnn import load_model, simulate
from adaptive_rnn._errors import CheckpointError, InputError
from adaptive_rnn._ncps import import_ncps, ncps_to_ltc, read_ncps_checkpoint
from adaptive_rnn.cli import main
from adaptive_rnn.models import LTC

DATA = Path(__file__).resolve().parent / "data"
FILES = {"cell": DATA / "ncps_ltc_cell.pt", "seq": DATA / "ncps_ltc.pt"}


@pytest.fixture
def no_torch(monkeypatch):
    """Reads with the torch-free reader even where torch is installed (`import torch`
    then raises ImportError); where it is not, there is nothing to hide."""
    if importlib.util.find_spec("torch") is not None:
        monkeypatch.setitem(sys.modules, "torch", None)


@pytest.fixture(scope="module")
def expected():
    return dict(np.load(DATA / "ncps_expected.npz"))


@pytest.mark.parametrize("which", ["cell", "seq"])
def test_outputs_equal_those_of_ncps(which, expected, no_torch):
    """An LTCCell (clipped parameters, sparse wiring, dt 0.5) and an LTC (softplus, fully
    connected, under rnn_cell.): our float64 simulation equals ncps's float32 run to 1e-5
    (float32 rounding) and ncps's float64 run of the same weights to 1e-12."""
    e = {k.removeprefix(f"{which}_"): v for k, v in expected.items() if k.startswith(f"{which}_")}
    model = import_ncps(FILES[which], dt=float(e["dt"]), ode_unfolds=int(e["unfolds"]))
    assert model.positivity == ("clip" if which == "cell" else "softplus")
    tr = simulate(model, e["x"].astype(np.float64), return_states=True)
    y, h = np.asarray(tr.outputs), np.asarray(tr.states["v"][:, -1])
    assert y.shape == e["y32"].shape
    np.testing.assert_allclose(y, e["y32"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(h, e["h32"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(y, e["y64"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(h, e["h64"], rtol=0, atol=1e-12)


def test_command_line_import_then_simulate(tmp_path, expected, no_torch):
    out = tmp_path / "ltc"
    assert main(["import-ncps", str(FILES["cell"]), "--out", str(out), "--dt", "0.5"]) == 0
    assert isinstance(load_model(out), LTC)
    np.savez(tmp_path / "x.npz", inputs=expected["cell_x"].astype(np.float64))
    assert (
        main(
            [
                "simulate",
                str(out),
                "--inputs",
                str(tmp_path / "x.npz"),
                "--out",
                str(tmp_path / "y.npz"),
            ]
        )
        == 0
    )
    np.testing.assert_allclose(
        np.load(tmp_path / "y.npz")["outputs"], expected["cell_y64"], rtol=0, atol=1e-12
    )


def test_settings_the_file_does_not_hold_change_the_dynamics(expected, no_torch):
    """Wrong elapsed time or constraints: the outputs differ (the options are read)."""
    e_x, ref = expected["cell_x"].astype(np.float64), expected["cell_y64"]
    for kw in (
        {"dt": 1.0},
        {"dt": 0.5, "implicit_param_constraints": True},
        {"dt": 0.5, "ode_unfolds": 2},
    ):
        y = np.asarray(simulate(import_ncps(FILES["cell"], **kw), e_x).outputs)
        assert np.max(np.abs(y - ref)) > 1e-4, kw


def _state_dict():
    return read_ncps_checkpoint(FILES["cell"])


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda sd: sd.pop("cm"), r"missing keys \['cm'\]"),
        (
            lambda sd: sd.update({"lstm.input_map.weight": np.zeros((4, 3), np.float32)}),
            r"unexpected keys.*mixed_memory",
        ),
        (
            lambda sd: sd.update({"w": np.zeros((6, 5), np.float32)}),
            r"w has shape \(6, 5\), expected \(6, 6\)",
        ),
        (
            lambda sd: sd.update({"sparsity_mask": np.full((6, 6), 0.5, np.float32)}),
            r"non-binary values",
        ),
        (
            lambda sd: sd.update({"vleak": np.full(6, np.nan, np.float32)}),
            r"vleak has non-finite values",
        ),
        (lambda sd: sd.pop("input_w"), r"input_b without input_w"),
        (
            lambda sd: sd.update({"rnn_cell.gleak": sd["gleak"]}),
            r"2 \(\['', 'rnn_cell.'\]\) LTC cells",
        ),
    ],
)
def test_bad_state_dicts(edit, match):
    sd = _state_dict()
    edit(sd)
    with pytest.raises(CheckpointError, match=match):
        ncps_to_ltc(sd)


def test_bad_arguments():
    with pytest.raises(InputError, match="ode_unfolds"):
        ncps_to_ltc(_state_dict(), ode_unfolds=0)
    with pytest.raises(InputError, match="dt"):
        ncps_to_ltc(_state_dict(), dt=-1.0)


def test_malformed_files(tmp_path, no_torch, capsys):
    """Truncated and corrupted copies of a real file: a `CheckpointError` or (a flip in
    the tensor bytes) a model; never another exception. The command line says one line."""
    data = FILES["seq"].read_bytes()
    rng = np.random.default_rng(0)
    outcomes = {"error": 0, "model": 0}
    cases = [data[:n] for n in (0, 10, len(data) // 3, len(data) - 30)]
    for _ in range(12):
        b = bytearray(data)
        for i in rng.integers(0, len(b), size=3):
            b[i] ^= 1 << int(rng.integers(8))
        cases.append(bytes(b))
    for i, blob in enumerate(cases):
        path = tmp_path / f"bad{i}.pt"
        path.write_bytes(blob)
        try:
            import_ncps(path)
        except CheckpointError:
            outcomes["error"] += 1
        else:
            outcomes["model"] += 1
    assert outcomes["error"] >= 4  # every truncated file at least
    path = tmp_path / "bad0.pt"
    assert main(["import-ncps", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ncps checkpoint" in err[0] and "Traceback" not in err[0]
    assert main(["import-ncps", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err


def test_parity_with_ncps_live(tmp_path):
    """Where torch and ncps are installed: a fresh ncps LTC, saved and imported."""
    torch = pytest.importorskip("torch")
    ncps_torch = pytest.importorskip("ncps.torch")
    torch.manual_seed(3)
    net = ncps_torch.LTC(2, 7, ode_unfolds=5).double()
    torch.save(net.state_dict(), tmp_path / "m.pt")
    x = torch.rand(3, 9, 2, dtype=torch.float64)
    with torch.no_grad():
        ref, _ = net(x)
    model = import_ncps(tmp_path / "m.pt", ode_unfolds=5)
    np.testing.assert_allclose(
        np.asarray(simulate(model, x.numpy()).outputs), ref.numpy(), rtol=0, atol=1e-12
    )
