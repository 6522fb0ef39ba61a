"""Resume: a sweep killed with SIGKILL midway continues from the chunks it wrote, computes
none of them again, and ends equal to an uninterrupted run."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adaptive_rnn import InputError
from adaptive_rnn._errors import CheckpointError
from adaptive_rnn.train import sweep

GRID = {"alpha_s": [0.1, 0.3, 0.5, 0.7], "alpha_r": [0.2, 0.6, 1.0]}  # 12 points
KEY = jax.random.key(3)
N_CHUNKS = 12  # chunk_size = 1
SLEEP = float(os.environ.get("SWEEP_TEST_SLEEP", "0"))  # seconds per chunk
CALLS: list[tuple[float, float]] = []  # the points this process computed


def _record(a_s, a_r):
    CALLS.extend(zip(np.ravel(a_s).tolist(), np.ravel(a_r).tolist()))
    time.sleep(SLEEP)
    return np.zeros(np.shape(a_s), np.float64)


def slow_point(point, key):
    a, b = point["alpha_s"], point["alpha_r"]
    z = jax.pure_callback(
        _record, jax.ShapeDtypeStruct((), jnp.float64), a, b, vmap_method="broadcast_all"
    )
    w = jax.random.normal(key, (3, 3))

    def step(x, _):
        x = (1 - a) * x + a * jnp.tanh(w @ x + b)
        return x, x

    _, xs = jax.lax.scan(step, jnp.ones(3), None, length=20)
    return {"y": xs[-1] + z}


SCRIPT = textwrap.dedent(
    """
    import sys
    import jax
    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, {tests!r})
    import test_sweep_resume as r
    from adaptive_rnn.train import sweep
    sweep(r.GRID, r.slow_point, key=r.KEY, chunk_size=1, directory=sys.argv[1], progress=False)
    print("finished")
    """
)


def _chunk_files(folder):
    return sorted(folder.glob("part-00000-of-00001.chunks/chunk-*.json"))


def test_sigkill_midway_then_resume(tmp_path):
    d = tmp_path / "sweep"
    env = dict(os.environ, SWEEP_TEST_SLEEP="1.0", JAX_PLATFORMS="cpu")
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(tests=os.path.dirname(__file__)), str(d)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    try:
        while not _chunk_files(d):
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "no chunk written within 300 s"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    finished = _chunk_files(d)
    k = len(finished)
    # Killed midway: some chunks written, not all, no part, the lock left behind.
    assert 1 <= k < N_CHUNKS and not (d / "part-00000-of-00001.json").exists()
    assert (d / "part-00000-of-00001.lock").exists()
    done_points = set()
    for f in finished:
        with np.load(f.with_suffix(".npz")) as z:
            (i,) = z["point_index"]
        a, b = np.unravel_index(i, (4, 3))
        done_points.add((GRID["alpha_s"][a], GRID["alpha_r"][b]))
    before = {p: p.read_bytes() for p in d.rglob("chunk-*")}

    # A changed configuration is refused; nothing is written over.
    with pytest.warns(UserWarning, match="stale lock"):
        with pytest.raises(InputError, match="another sweep configuration"):
            sweep(GRID, slow_point, key=jax.random.key(4), chunk_size=1, directory=d, resume=True)
    assert {p: p.read_bytes() for p in d.rglob("chunk-*")} == before

    # A corrupt chunk (in a copy) is an error naming it, not silently recomputed.
    bad = tmp_path / "bad"
    shutil.copytree(d, bad)
    npz = finished[0].with_suffix(".npz").name
    target = bad / "part-00000-of-00001.chunks" / npz
    target.write_bytes(target.read_bytes()[:-50])
    with pytest.raises(CheckpointError, match=rf"{npz} has SHA-256 .* truncated"):
        sweep(GRID, slow_point, key=KEY, chunk_size=1, directory=bad, resume=True)

    # Resume: the finished chunks are read back, only the others computed.
    CALLS.clear()
    ds = sweep(GRID, slow_point, key=KEY, chunk_size=1, directory=d, resume=True, progress=False)
    assert ds.attrs["chunks_skipped"] == k and ds.attrs["chunks_computed"] == N_CHUNKS - k
    computed = set(CALLS)
    assert not computed & done_points, "a finished chunk was computed again"
    assert len(computed | done_points) == N_CHUNKS
    assert sorted(p.name for p in d.iterdir()) == [
        "part-00000-of-00001.json",
        "part-00000-of-00001.npz",
    ]

    # Equal to an uninterrupted run (float64; one process's chunks against another's:
    # the same program on the same CPU, compared to rounding all the same).
    CALLS.clear()
    ref = sweep(GRID, slow_point, key=KEY, chunk_size=1, progress=False)
    assert len(CALLS) == N_CHUNKS
    np.testing.assert_allclose(ds["y"].values, ref["y"].values, rtol=1e-12, atol=1e-14)
    assert bool(ds["success"].all())

    # Resumed once more, the finished part is read back whole: nothing computed.
    CALLS.clear()
    again = sweep(GRID, slow_point, key=KEY, chunk_size=1, directory=d, resume=True)
    assert again.attrs["chunks_computed"] == 0 and again.attrs["chunks_skipped"] == N_CHUNKS
    assert CALLS == []
    np.testing.assert_array_equal(again["y"].values, ds["y"].values)
