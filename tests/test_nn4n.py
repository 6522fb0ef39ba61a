"""Migration from NN4N 1.x: reference values from its update equations (no torch), and
parity with nn4n itself (when torch and nn4n are installed)."""

import jax
import numpy as np
import pytest

import adaptive_rnn as ar
from adaptive_rnn._errors import CheckpointError
from adaptive_rnn._nn4n import nn4n_to_ctrnn


def _state_dict(rng, n_in, n, n_out):
    f = lambda *s: rng.standard_normal(s).astype(np.float32) / np.sqrt(s[-1])  # noqa: E731
    return {
        "recurrent_layer.hidden_state": f(n),
        "recurrent_layer.input_layer.weight": f(n, n_in),
        "recurrent_layer.input_layer.bias": f(n),
        "recurrent_layer.hidden_layer.weight": f(n, n),
        "recurrent_layer.hidden_layer.bias": f(n),
        "readout_layer.weight": f(n_out, n),
        "readout_layer.bias": f(n_out),
    }


def test_reference_values_from_the_equations():
    rng = np.random.default_rng(0)
    n_in, n, n_out, T, B = 3, 6, 2, 12, 2
    sd = _state_dict(rng, n_in, n, n_out)
    kw = {
        "dims": [n_in, n, n_out],
        "dt": 10,
        "tau": 50,
        "activation": "tanh",
        "init_state": "learn",
    }
    m = nn4n_to_ctrnn(sd, kw)
    x_tf = rng.standard_normal((T, B, n_in))  # NN4N: time-first
    # NN4N 1.1's loop (recurrent_layer._recurrence), written out:
    a = 10 / 50
    v = np.tile(sd["recurrent_layer.hidden_state"], (B, 1)).astype(np.float64)
    fr = np.tanh(v)
    outs = []
    for t in range(T):
        v = (1 - a) * v + a * (
            fr @ sd["recurrent_layer.hidden_layer.weight"].T
            + sd["recurrent_layer.hidden_layer.bias"]
            + x_tf[t] @ sd["recurrent_layer.input_layer.weight"].T
            + sd["recurrent_layer.input_layer.bias"]
        )
        fr = np.tanh(v)
        outs.append(fr @ sd["readout_layer.weight"].T + sd["readout_layer.bias"])
    ref = np.swapaxes(np.array(outs), 0, 1)
    out = np.asarray(ar.simulate(m, np.swapaxes(x_tf, 0, 1)).outputs)
    assert np.max(np.abs(out - ref)) < 1e-12


def test_bad_checkpoints():
    rng = np.random.default_rng(1)
    sd = _state_dict(rng, 2, 4, 1)
    del sd["readout_layer.bias"]
    with pytest.raises(CheckpointError, match=r"missing keys \['readout_layer.bias'\]"):
        nn4n_to_ctrnn(sd, {"dims": [2, 4, 1]})
    sd = _state_dict(rng, 2, 4, 1)
    sd["recurrent_layer.input_layer.weight"] = np.zeros((4, 3), np.float32)
    with pytest.raises(
        CheckpointError, match=r"input_layer.weight has shape \(4, 3\), expected \(4, 2\)"
    ):
        nn4n_to_ctrnn(sd, {"dims": [2, 4, 1]})
    with pytest.raises(CheckpointError, match="not found"):
        ar.import_nn4n("/nonexistent/model.pth")


def test_parity_with_nn4n(tmp_path):
    torch = pytest.importorskip("torch")
    nn4n_model = pytest.importorskip("nn4n.model")
    torch.manual_seed(0)
    net = nn4n_model.CTRNN(
        dims=[3, 16, 2],
        dt=10,
        tau=40,
        activation="retanh",
        biases=["uniform", "normal", "uniform"],
        weights="normal",
        init_state="learn",
        suppress_warnings=True,
    )
    with torch.no_grad():
        net.recurrent_layer.hidden_state.copy_(torch.randn(16) * 0.5)
    net.eval()
    path = tmp_path / "model.pth"
    net.save(str(path))
    x_tf = torch.randn(25, 4, 3)
    with torch.no_grad():
        ref, _ = net(x_tf)
    out_dir = tmp_path / "imported"
    from adaptive_rnn.cli import main

    assert main(["import-nn4n", str(path), "--out", str(out_dir)]) == 0
    np.savez(tmp_path / "x.npz", inputs=np.swapaxes(x_tf.numpy(), 0, 1))
    assert (
        main(
            [
                "simulate",
                str(out_dir),
                "--inputs",
                str(tmp_path / "x.npz"),
                "--out",
                str(tmp_path / "y.npz"),
            ]
        )
        == 0
    )
    y = np.load(tmp_path / "y.npz")["outputs"]
    err = np.max(np.abs(y - np.swapaxes(ref.numpy(), 0, 1)))
    assert err < 1e-5 * max(1.0, float(np.abs(y).max())), err
    # The torch-free reader gives the same arrays as torch.load(weights_only=True).
    from adaptive_rnn._nn4n import _read_without_torch

    sd = _read_without_torch(path, "test")["model_state_dict"]
    for k, v in net.state_dict().items():
        assert np.array_equal(sd[k], v.numpy())


def test_nn4n_noise_convention_matches_its_scaling():
    # NN4N: v += alpha * preact_noise * xi per step (gamma-scaled, not dt-consistent).
    rng = np.random.default_rng(2)
    sd = _state_dict(rng, 1, 4, 1)
    for k in sd:
        sd[k] = np.zeros_like(sd[k])
    m = nn4n_to_ctrnn(
        sd, {"dims": [1, 4, 1], "dt": 10, "tau": 100, "activation": "relu", "preact_noise": 0.5}
    )
    assert m.noise.convention == "nn4n" and m.noise.feedback
    v = np.asarray(
        ar.simulate(m, np.zeros((3000, 1, 1)), return_states=True, key=jax.random.key(0)).states[
            "v"
        ]
    ).ravel()
    assert np.std(v) == pytest.approx(0.1 * 0.5, rel=0.05)


def test_cli_checks_out_before_reading(tmp_path, capsys):
    from adaptive_rnn.cli import main

    (tmp_path / "file").write_text("x")
    assert (
        main(["import-nn4n", str(tmp_path / "missing.pth"), "--out", str(tmp_path / "file")]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out: got" in err[0] and "existing file" in err[0]
