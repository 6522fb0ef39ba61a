"""Writes `task_reference.npz`, the trials and scores of every cognitive task at fixed keys,
read by `tests/test_task_rooms.py`:

    python tests/data/make_task_reference.py [OUT.npz]

It uses the public API only (`adaptive_rnn.tasks`), in float64 (`jax_enable_x64`, as the
tests), so the same script run on two versions of the code tells whether they draw the
same trials and give the same scores. The committed file was written by the code before
the cognitive tasks were split into trial machinery, generators and scoring (one module
`adaptive_rnn/tasks/_cognitive.py`); the split keeps every array of it.

For each case `<c>` of `CASES` (a task, a key, a batch size and parameters), the file
holds the batch (`<c>/inputs`, `targets`, `mask`, `conditions/<k>`, `epochs/<k>/start`,
`epochs/<k>/end`, `dt`, `name`) and its scores on the synthetic outputs of `outputs_for`
(`<c>/choices`, `<c>/accuracy`; for the coherence tasks also `<c>/ideal`, the
`accuracy_by_coherence` of the outputs and of the ideal observer (`<c>/by_coh/...`,
`<c>/by_coh_ideal/...`) and the psychometric curve (`<c>/psy/<group>/x`, `p`, `n`)).
"""

import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from adaptive_rnn.tasks import (  # noqa: E402
    accuracy_by_coherence,
    ideal_observer_accuracy,
    make_task,
    psychometric_curve,
    task_accuracy,
    task_choices,
)

HERE = Path(__file__).resolve().parent
B = 12
# name -> (task, seed of jax.random.key, parameters, psychometric (condition, group) or None)
CASES = {
    "pd": ("perceptual_decision", 11, {}, ("signed_coherence", None)),
    "pd32": (
        "perceptual_decision",
        12,
        {"dt": 10.0, "dtype": jnp.float32, "stimulus": 200.0},
        ("signed_coherence", None),
    ),
    "cd": ("context_decision", 13, {}, ("signed_coherence_1", "context")),
    "dms": ("delayed_match_to_sample", 14, {}, None),
    "dms4": ("delayed_match_to_sample", 15, {"dim_ring": 4, "delay": (200.0, 600.0)}, None),
    "wm": ("working_memory", 16, {"delay": (500.0, 1000.0)}, None),
    "rsg": ("ready_set_go", 17, {}, None),
    "rsg15": ("ready_set_go", 18, {"gain": 1.5, "tolerance": 0.1}, None),
}
COHERENCE = ("perceptual_decision", "context_decision")


def outputs_for(name: str, targets: np.ndarray, seed: int) -> np.ndarray:
    """Synthetic outputs that some trials answer right and some wrong: for a choice task
    the targets plus Gaussian noise (s.d. 1); for ready-set-go the targets of each trial
    shifted in time by -12..12 steps."""
    rng = np.random.default_rng(seed)
    t = np.asarray(targets, dtype=np.float64)
    if name != "ready_set_go":
        return t + rng.standard_normal(t.shape)
    shifts = rng.integers(-12, 13, size=t.shape[0])
    return np.stack([np.roll(t[b], s, axis=0) for b, s in zip(range(t.shape[0]), shifts)])


def reference_case(case: str) -> dict[str, np.ndarray]:
    """The arrays of one case of `CASES`, keyed `<case>/...`."""
    name, seed, params, psy = CASES[case]
    out: dict[str, np.ndarray] = {}
    b = make_task(name, jax.random.key(seed), B, **params)
    out[f"{case}/inputs"] = np.asarray(b.inputs)
    out[f"{case}/targets"] = np.asarray(b.targets)
    out[f"{case}/mask"] = np.asarray(b.mask)
    for k, v in b.conditions.items():
        out[f"{case}/conditions/{k}"] = np.asarray(v)
    for k, (s, e) in b.epochs.items():
        out[f"{case}/epochs/{k}/start"] = np.asarray(s)
        out[f"{case}/epochs/{k}/end"] = np.asarray(e)
    out[f"{case}/dt"] = np.asarray(b.dt)
    out[f"{case}/name"] = np.asarray(b.name)
    y = outputs_for(name, np.asarray(b.targets), seed)
    out[f"{case}/choices"] = task_choices(b, y)
    out[f"{case}/accuracy"] = np.asarray(task_accuracy(b, y))
    if name in COHERENCE:
        ideal = ideal_observer_accuracy(b)
        out[f"{case}/ideal"] = ideal
        for tag, kw in (("by_coh", {"outputs": y}), ("by_coh_ideal", {"correct": ideal})):
            levels, acc, n = accuracy_by_coherence(b, **kw)
            out[f"{case}/{tag}/levels"] = levels
            out[f"{case}/{tag}/accuracy"] = acc
            out[f"{case}/{tag}/n"] = n
    if psy is not None:
        condition, group = psy
        for g, (x, p, n) in psychometric_curve(b, y, condition=condition, group=group).items():
            out[f"{case}/psy/{g}/x"] = x
            out[f"{case}/psy/{g}/p"] = p
            out[f"{case}/psy/{g}/n"] = n
    return out


def reference() -> dict[str, np.ndarray]:
    """Every case of `CASES`."""
    out: dict[str, np.ndarray] = {}
    for case in CASES:
        out.update(reference_case(case))
    return out


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "task_reference.npz"
    arrays = reference()
    np.savez_compressed(path, **arrays)  # pyright: ignore[reportArgumentType]  # NumPy's stub types **kwds as the allow_pickle flag
    print(f"wrote {path} ({path.stat().st_size} bytes)")
