"""Cognitive task generators: determinism per key, documented shapes, masks and values."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adaptive_rnn import InputError
from adaptive_rnn.tasks import (
    TASKS,
    TaskBatch,
    context_decision,
    delayed_match_to_sample,
    get_task,
    make_task,
    perceptual_decision,
    psychometric_curve,
    ready_set_go,
    task_accuracy,
    task_choices,
    working_memory,
)

# name -> (n_in, n_out, T with the default timing at dt = 20 ms)
SHAPES = {
    "perceptual_decision": (3, 3, (100 + 800 + 0 + 300) // 20),
    "context_decision": (7, 3, (300 + 800 + 0 + 300) // 20),
    "delayed_match_to_sample": (3, 3, (300 + 500 + 1000 + 500 + 300) // 20),
    "working_memory": (2, 3, (300 + 500 + 1000 + 500 + 300) // 20),
    "ready_set_go": (3, 2, (100 + 80 + (800 - 80) + 80 + 2 * 800) // 20),
}


def _np(tree):
    return jax.tree_util.tree_map(np.asarray, tree)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_deterministic_per_key_and_shapes(getkey, name):
    key = getkey()
    # 64 trials, as the value tests below: the generator compiles once per shape.
    a, b = make_task(name, key, 64), make_task(name, key, 64)
    assert isinstance(a, TaskBatch) and a.name == name and a.dt == 20.0
    for x, y in zip(jax.tree_util.tree_leaves(_np(a)), jax.tree_util.tree_leaves(_np(b))):
        np.testing.assert_array_equal(x, y)
    c = make_task(name, getkey(), 64)
    assert not np.array_equal(np.asarray(a.inputs), np.asarray(c.inputs))
    n_in, n_out, T = SHAPES[name]
    assert a.inputs.shape == (64, T, n_in)
    assert a.targets.shape == a.mask.shape == (64, T, n_out)
    assert a.inputs.dtype == jnp.result_type(float)
    for v in a.conditions.values():
        assert v.shape == (64,)
    # The correct answer scores perfectly; the targets are 0/1.
    assert task_accuracy(a, a.targets) == 1.0
    assert set(np.unique(np.asarray(a.targets))) <= {0.0, 1.0}
    # Fixation output = fixation input = 1 exactly before the response period.
    resp = get_task(name).response_epoch
    start, end = (np.asarray(v) for v in a.epochs[resp])
    t = np.arange(T)
    for i in range(64):
        np.testing.assert_array_equal(np.asarray(a.targets[i, :, 0]), (t < start[i]).astype(float))
        np.testing.assert_array_equal(np.asarray(a.inputs[i, :, 0]), (t < start[i]).astype(float))
        assert np.all(np.asarray(a.mask[i, end[i] :]) == 0)


def test_float32_dtype(getkey):
    b = perceptual_decision(getkey(), 2, dtype=jnp.float32)
    assert b.inputs.dtype == b.targets.dtype == b.mask.dtype == jnp.float32


def test_perceptual_decision_values(getkey):
    b = perceptual_decision(getkey(), 64, sigma=0.0, coherences=(0.0, 25.6, 51.2))
    stim = np.asarray(b.inputs[:, 5:45, 1:])  # the stimulus period: steps 5..44
    coh = np.asarray(b.conditions["coherence"])
    choice = np.asarray(b.conditions["choice"])
    s = np.where(choice == 1, 1.0, -1.0)
    expected = np.stack([(1 - s * coh / 100) / 2, (1 + s * coh / 100) / 2], axis=1)
    np.testing.assert_allclose(stim, np.broadcast_to(expected[:, None], stim.shape), atol=1e-15)
    assert np.all(np.asarray(b.inputs[:, :5, 1:]) == 0) and np.all(
        np.asarray(b.inputs[:, 45:, 1:]) == 0
    )
    np.testing.assert_allclose(np.asarray(b.conditions["signed_coherence"]), s * coh)
    # Choice targets: one-hot of `choice` in the decision period (steps 45..59).
    tgt = np.asarray(b.targets[:, 45:, 1:])
    np.testing.assert_array_equal(tgt, np.broadcast_to(np.eye(2)[choice][:, None], tgt.shape))
    # Mask: the first 100 ms (5 steps) of the decision are a grace period.
    m = np.asarray(b.mask[0, :, 0])
    np.testing.assert_array_equal(m, np.r_[np.ones(45), np.zeros(5), np.ones(10)])


def test_noise_scales_with_dt(getkey):
    for dt in (10.0, 40.0):
        b = perceptual_decision(getkey(), 400, dt=dt, sigma=1.0, coherences=(0.0,))
        n0, n1 = (np.asarray(v)[0] for v in b.epochs["stimulus"])
        x = np.asarray(b.inputs[:, n0:n1, 1:]) - 0.5
        assert abs(x.std() / (1 / math.sqrt(dt)) - 1) < 0.03


def test_context_decision_follows_the_context(getkey):
    b = context_decision(getkey(), 64, sigma=0.0)
    x = np.asarray(b.inputs[:, 20])  # in the stimulus period
    ctx = np.asarray(b.conditions["context"])
    np.testing.assert_array_equal(x[:, 5:7], np.eye(2)[ctx])
    right1 = x[:, 2] > x[:, 1]
    right2 = x[:, 4] > x[:, 3]
    expected = np.where(ctx == 0, right1, right2).astype(int)
    np.testing.assert_array_equal(np.asarray(b.conditions["choice"]), expected)
    assert np.any(right1 != right2)  # the two modalities disagree on some trials


def test_delayed_match_to_sample_values(getkey):
    b = delayed_match_to_sample(getkey(), 64, sigma=0.0, dim_ring=4, delay=(200.0, 600.0))
    start_s = np.asarray(b.epochs["sample"][0])
    start_t = np.asarray(b.epochs["test"][0])
    idx = np.arange(64)
    sample = np.asarray(b.inputs[idx, start_s, 1:])
    test = np.asarray(b.inputs[idx, start_t, 1:])
    match = np.asarray(b.conditions["match"]) == 1
    np.testing.assert_allclose(sample[match], test[match], atol=1e-15)
    assert np.all(np.abs(sample[~match] - test[~match]).max(axis=1) > 0.5)
    # Ring code: (cos(theta - phi_k) + 1) / 2.
    th = np.asarray(b.conditions["sample_angle"])
    np.testing.assert_allclose(
        sample, (np.cos(th[:, None] - np.pi / 2 * np.arange(4)) + 1) / 2, atol=1e-12
    )
    delays = np.asarray(b.conditions["delay"])
    assert set(delays) == {200.0, 600.0}
    np.testing.assert_array_equal(
        np.asarray(b.epochs["delay"][1] - b.epochs["delay"][0]), delays / 20
    )
    assert b.inputs.shape[1] == (300 + 500 + 600 + 500 + 300) // 20
    # Short-delay trials are padded: mask 0 after their decision period.
    i = int(np.argmin(delays))
    assert np.all(np.asarray(b.mask[i, int(b.epochs["decision"][1][i]) :]) == 0)


def test_working_memory_values(getkey):
    b = working_memory(getkey(), 64, sigma=0.0)
    f1, f2 = np.asarray(b.conditions["f1"]), np.asarray(b.conditions["f2"])
    np.testing.assert_array_equal(np.asarray(b.conditions["choice"]), (f1 < f2).astype(int))
    np.testing.assert_allclose(np.asarray(b.inputs[:, 20, 1]), (f1 - 22) / 12)
    np.testing.assert_allclose(np.asarray(b.inputs[:, 100, 1]), (f2 - 22) / 12)
    assert np.all(np.asarray(b.inputs[:, 40:90, 1]) == 0)  # nothing during the delay


def test_ready_set_go_values(getkey):
    b = ready_set_go(getkey(), 32, gain=1.5)
    ts = np.asarray(b.conditions["interval"])
    np.testing.assert_allclose(np.asarray(b.conditions["production"]), 1.5 * ts)
    ready_on = np.asarray(b.epochs["ready"][0])
    set_on, set_end = (np.asarray(v) for v in b.epochs["set"])
    np.testing.assert_array_equal((set_on - ready_on) * 20, ts)  # pulse onsets t_s apart
    for i in range(32):
        go = np.asarray(b.targets[i, :, 1])
        onset = int(np.argmax(go > 0))
        assert (onset - set_end[i]) * 20 == 1.5 * ts[i]
    # A go output that fires 10 % late is correct at tolerance 0.2; 30 % late is not.
    for late, ok in ((0.1, 1.0), (0.3, 0.0)):
        out = np.array(b.targets)
        for i in range(32):
            s0 = set_end[i]
            n = int(round(1.5 * ts[i] * (1 + late) / 20))
            out[i, :, 1] = (np.arange(out.shape[1]) >= s0 + n).astype(float)
        assert task_accuracy(b, out) == ok


def test_choices_accuracy_and_psychometric(getkey):
    b = perceptual_decision(getkey(), 64)
    out = np.array(b.targets)
    assert task_accuracy(b, out) == 1.0
    flipped = out.copy()
    flipped[..., 1:] = flipped[..., 1:][..., ::-1]
    assert task_accuracy(b, flipped) == 0.0
    np.testing.assert_array_equal(task_choices(b, out), np.asarray(b.conditions["choice"]))
    ((xs, p, n),) = psychometric_curve(b, out).values()
    assert np.all(p[xs > 0] == 1) and np.all(p[xs < 0] == 0) and n.sum() == 64
    cb = context_decision(getkey(), 64)
    curves = psychometric_curve(
        cb, np.array(cb.targets), condition="signed_coherence_1", group="context"
    )
    assert set(curves) == {0, 1}


def test_bad_parameters(getkey):
    key = getkey()
    with pytest.raises(InputError, match=r"task: got 'nope', expected one of"):
        make_task("nope", key, 4)
    with pytest.raises(InputError, match=r"unknown parameter\(s\) \['coherence'\]"):
        make_task("perceptual_decision", key, 4, coherence=10)
    with pytest.raises(
        InputError, match=r"coherences: got 150\.0, expected a number in \[0, 100\]"
    ):
        make_task("perceptual_decision", key, 4, coherences=(10, 150))
    with pytest.raises(InputError, match=r"dt: got -1\.0, expected a number in \(0, 1000\]"):
        make_task("working_memory", key, 4, dt=-1.0)
    with pytest.raises(InputError, match="batch: got 0"):
        make_task("context_decision", key, 0)
    with pytest.raises(InputError, match="grace"):
        make_task("perceptual_decision", key, 4, grace=300.0)
    with pytest.raises(InputError, match="dim_ring: got 3"):
        make_task("delayed_match_to_sample", key, 4, dim_ring=3)
    with pytest.raises(InputError, match=r"gain: got 0\.0"):
        make_task("ready_set_go", key, 4, gain=0.0)
    with pytest.raises(InputError, match="stimulus: got 5.0 ms"):
        make_task("perceptual_decision", key, 4, stimulus=5.0)
    with pytest.raises(InputError, match="outputs: got shape"):
        task_accuracy(make_task("perceptual_decision", key, 64), np.zeros((64, 3, 3)))


def test_neurogym_adapter():
    pytest.importorskip("neurogym")
    from adaptive_rnn.tasks import from_neurogym

    a = from_neurogym("PerceptualDecisionMaking-v0", 6, seed=3, dt=20)
    b = from_neurogym("PerceptualDecisionMaking-v0", 6, seed=3, dt=20)
    c = from_neurogym("PerceptualDecisionMaking-v0", 6, seed=4, dt=20)
    np.testing.assert_array_equal(np.asarray(a.inputs), np.asarray(b.inputs))
    assert not np.array_equal(np.asarray(a.inputs), np.asarray(c.inputs))
    B, T, n_in = a.inputs.shape
    assert (B, n_in) == (6, 3) and a.targets.shape == (6, T, 3) and a.dt == 20.0
    # One-hot targets within each trial, padding masked out.
    L = np.asarray(a.conditions["length"])
    np.testing.assert_array_equal(
        np.asarray(a.targets).sum(-1), (np.arange(T)[None] < L[:, None]).astype(float)
    )
    np.testing.assert_array_equal(
        np.asarray(a.mask[..., 0]), (np.arange(T)[None] < L[:, None]).astype(float)
    )
    assert task_accuracy(a, a.targets) == 1.0
    with pytest.raises(InputError, match="seed"):
        from_neurogym("PerceptualDecisionMaking-v0", 2, seed=None)
