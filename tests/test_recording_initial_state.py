"""Per-trial learned initial states of fit_recording: the trial channel of ObservedARU
moves the current of exactly its bin by the trial's own vector, trials without a state
are the plain model, and initial_state="learned" trains them."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adaptive_rnn import ARU, InputError, simulate
from adaptive_rnn.cli import main
from adaptive_rnn.recipes import ObservedARU, fit_recording, predict, synthetic_recording


def _model(key, n_trials=3):
    k1, k2, k3 = jax.random.split(key, 3)
    aru = ARU(2, 4, 3, tau_s=20.0, tau_r=50.0, dt=5.0, key=k1)
    m = ObservedARU(aru, 3, observed="units", n_trials=n_trials, key=k2)
    z = jax.random.normal(k3, (n_trials, 4))
    return eqx_set(m, z)


def eqx_set(m, z):
    import equinox as eqx

    return eqx.tree_at(lambda t: t.trial_drive, m, z)


def test_trial_channel_moves_the_current_of_its_bin(getkey):
    m = _model(getkey())
    assert m.n_in == 3 and m.trial_scale is not None
    assert float(m.trial_scale.value) == pytest.approx(4.0)  # tau_s / dt
    x = np.asarray(jax.random.normal(getkey(), (3, 12, 2)))
    kick_bin = 4
    channel = np.zeros((3, 12, 1))
    channel[:, kick_bin, 0] = [1, 2, 3]  # trial j starts from state j
    with_states = simulate(m, np.concatenate([x, channel], -1), return_states=True)
    plain = simulate(m, np.concatenate([x, 0 * channel], -1), return_states=True)
    # trials without a state: the wrapped ARU (the same sums in another order; float64)
    np.testing.assert_allclose(
        simulate(m.to_aru(), x).outputs, plain.outputs, rtol=1e-12, atol=1e-12
    )
    I_with, I_plain = with_states.states["I"], plain.states["I"]
    np.testing.assert_allclose(I_with[:, :kick_bin], I_plain[:, :kick_bin], rtol=0, atol=1e-15)
    # on the kick bin: alpha_s * (z_j / alpha_0) with alpha_s = alpha_0 here, i.e. z_j
    np.testing.assert_allclose(
        I_with[:, kick_bin] - I_plain[:, kick_bin],
        np.asarray(m.trial_drive),
        rtol=1e-12,
        atol=1e-12,
    )
    # after it the trials differ, each by its own state
    assert np.all(np.abs(with_states.outputs[:, kick_bin + 1] - plain.outputs[:, kick_bin + 1]) > 0)


def test_learned_initial_states_train(getkey):
    s = synthetic_recording(
        jax.random.key(5), n_neurons=3, n_trials=10, n_bins=20, initial_sd=2.0, mean_rate_hz=80.0
    )
    assert s.trial_drive.shape == (10, 3)
    fit = fit_recording(
        s.recording,
        key=getkey(),
        observed="units",
        hidden=3,
        bootstrap=2,
        epochs=3,
        burn_in_ms=0.0,  # at least one bin carries the states
        initial_state="learned",
        dtype=jnp.float64,
        progress=False,
    )
    assert fit.burn_in_bins == 1 and fit.settings.initial_state == "learned"
    n_fit = len(fit.fit_trials)
    z = np.asarray(fit.model.trial_drive)
    assert z.shape == (n_fit, 3) and np.all(np.abs(z) > 0)  # moved off zero
    assert all(np.asarray(m.trial_drive).shape == (n_fit, 3) for m in fit.members)
    fitting = s.recording.take(fit.fit_trials)
    own = predict(fit.model, fitting, fit.burn_in_bins, "poisson", trial_states=True)[1]
    settled = predict(fit.model, fitting, fit.burn_in_bins, "poisson")[1]
    assert not np.allclose(own[:, 0], settled[:, 0])  # the first bins follow each trial
    # held-out trials start from the settled state, as the saved plain ARU runs them
    held = s.recording.take(fit.heldout_trials)
    x = np.concatenate([np.zeros((held.n_trials, 1, 3)), held.inputs], axis=1)
    rate = jax.nn.softplus(simulate(fit.to_aru(), x).outputs)[:, 1:]
    np.testing.assert_allclose(rate, fit.prediction, rtol=1e-10, atol=1e-10)
    with pytest.raises(InputError, match="trial_states: the model holds"):
        predict(fit.model, held, fit.burn_in_bins, "poisson", trial_states=True)


def test_cli_learned_states_trial_resamples(tmp_path, capsys):
    s = synthetic_recording(jax.random.key(2), n_neurons=3, n_trials=8, n_bins=12)
    data = tmp_path / "rec.npz"
    rec = s.recording
    np.savez(data, counts=rec.data.astype(np.int64), inputs=rec.inputs, bin_ms=rec.bin_ms)
    out = tmp_path / "out"
    args = ["fit-recording", str(data), "--bootstrap", "2", "--epochs", "1", "--quiet"]
    args += ["--initial-state", "learned", "--resample", "trials", "--interval", "basic"]
    assert main([*args, "--burn-in-ms", "0", "--out", str(out)]) == 0, capsys.readouterr().err
    fit = json.loads((out / "fit.json").read_text())
    assert fit["settings"]["initial_state"] == "learned" and fit["burn_in_bins"] == 1
    assert fit["settings"]["resample"] == "trials" and fit["settings"]["interval"] == "basic"
    assert len(fit["bootstrap_samples"]["tau_s_ms"]) == 2


def test_members_with_other_initial_time_constants_share_one_structure(getkey):
    """The bootstrap draws every refit's initial time constants anew: members must differ
    in array values only, so that `fit_ensemble` trains them as one vmapped group (a
    static field holding a number derived from tau_s once split them into one group
    each: 100 refits ran as 100 programs side by side). Each keeps its own trial scale."""
    from adaptive_rnn.train._ensemble import _group_key

    ms = []
    for tau_s in (8.0, 20.0, 55.0):
        k1, k2 = jax.random.split(getkey())
        aru = ARU(2, 4, 3, tau_s=tau_s, tau_r=30.0, dt=5.0, key=k1)
        for n_trials in (None, 3):
            ms.append(ObservedARU(aru, 3, observed="units", n_trials=n_trials, key=k2))
    without, with_ = ms[0::2], ms[1::2]
    assert len({_group_key(m) for m in without}) == 1
    assert len({_group_key(m) for m in with_}) == 1
    assert [float(m.trial_scale.value) for m in with_] == pytest.approx([1.6, 4.0, 11.0])
