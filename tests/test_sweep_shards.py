"""Sharded sweeps (job arrays): the parts merge into the unsharded result; merging refuses
missing, duplicated, foreign and corrupt parts; a folder refuses a second writer."""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adaptive_rnn import InputError
from adaptive_rnn._errors import CheckpointError
from adaptive_rnn.cli import main
from adaptive_rnn.recipes import load_config, merge_config_sweep, run_config
from adaptive_rnn.train import load_sweep, merge_sweep, sweep

KEY = jax.random.key(7)
GRID = {"alpha_s": [0.2, 0.5, 1.1], "alpha_r": [0.3, 0.9], "seed": [0, 1]}
GROUPED = {
    "activation": ["tanh", "sigmoid"],
    "alpha_s": [0.2, 0.5, 1.1],
    "alpha_r": [0.3],
    "seed": [0, 1, 2],
}


def _point(point, key):
    # A small recurrent network with weights and state from the point's key, its rates
    # from the (traced) coordinates, its activation from the (static) one.
    k1, k2 = jax.random.split(key)
    w = jax.random.normal(k1, (4, 4)) / 2
    act = jax.nn.sigmoid if point.get("activation") == "sigmoid" else jnp.tanh
    a, b = point["alpha_s"], point["alpha_r"]

    def step(x, _):
        x = (1 - a) * x + a * act(w @ x + b)
        return x, x[0]

    _, ys = jax.lax.scan(step, jax.random.normal(k2, (4,)), None, length=10)
    return {"y": ys[-3:], "u": jax.random.uniform(key, (2,))}


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize(
    "grid, run_point, n, chunk",
    [(GRID, _point, 3, 2), (GROUPED, _point, 4, 5)],
    ids=["one group", "two static groups"],
)
def test_shards_merge_to_the_unsharded_sweep(tmp_path, grid, run_point, n, chunk):
    full = sweep(grid, run_point, key=KEY, progress=False)
    parts = [
        sweep(
            grid,
            run_point,
            key=KEY,
            progress=False,
            chunk_size=chunk,
            shard=(i, n),
            directory=tmp_path,
        )
        for i in range(n)
    ]
    # The shards partition the grid (contiguous, balanced) and label their points.
    index = np.concatenate([p["point_index"].values for p in parts])
    assert sorted(index.tolist()) == list(range(full["success"].size))
    sizes = [p.sizes["point"] for p in parts]
    assert max(sizes) - min(sizes) <= 1
    for p in parts:
        for k in grid:
            expect = full[k].values[
                np.unravel_index(p["point_index"].values, full["success"].shape)[
                    list(grid).index(k)
                ]
            ]
            assert np.array_equal(p[k].values, expect)
    assert sorted(os.listdir(tmp_path)) == sorted(
        f"part-{i:05d}-of-{n:05d}.{ext}" for i in range(n) for ext in ("json", "npz")
    )  # chunks and lock removed
    merged = merge_sweep(tmp_path)
    assert merged["y"].dims == full["y"].dims and list(merged.coords) == list(full.coords)
    for k in grid:
        assert merged[k].values.tolist() == full[k].values.tolist()
    # float64; chunks of other widths compile other programs: equal to rounding.
    for k in full.data_vars:
        np.testing.assert_allclose(merged[k].values, full[k].values, rtol=1e-12, atol=1e-14)
    assert (
        merged.attrs["n_shards"] == n
        and merged.attrs["config_hash"] == parts[0].attrs["config_hash"]
    )


def _three_parts(folder, key=KEY):
    for i in range(3):
        sweep(GRID, _point, key=key, progress=False, shard=(i, 3), directory=folder)


def test_merge_refuses_missing_duplicated_foreign_and_corrupt_parts(tmp_path):
    good = tmp_path / "good"
    _three_parts(good)
    other = tmp_path / "other"
    _three_parts(other, key=jax.random.key(8))  # another configuration (seed)

    def case(name):
        d = tmp_path / name
        shutil.copytree(good, d)
        return d

    d = case("missing")
    for ext in ("json", "npz"):
        (d / f"part-00001-of-00003.{ext}").unlink()
    with pytest.raises(CheckpointError, match=r"missing shards: 1/3"):
        merge_sweep(d)

    d = case("duplicated")  # a copy of part 1 under another name
    for ext in ("json", "npz"):
        shutil.copy(d / f"part-00001-of-00003.{ext}", d / f"part-00007-of-00003.{ext}")
    with pytest.raises(
        CheckpointError,
        match=r"duplicated shards: shard 1 in part-00001-of-00003.json, part-00007-of-00003.json",
    ):
        merge_sweep(d)

    d = case("foreign")
    for ext in ("json", "npz"):
        shutil.copy(other / f"part-00002-of-00003.{ext}", d / f"part-00002-of-00003.{ext}")
    with pytest.raises(
        CheckpointError,
        match=r"2 different sweep configurations.*part-00000-of-00003.json, part-00001-of-00003.json.*: part-00002-of-00003.json",
    ):
        merge_sweep(d)

    d = case("truncated")
    npz = d / "part-00000-of-00003.npz"
    npz.write_bytes(npz.read_bytes()[:-100])
    (d / "part-00002-of-00003.json").write_text('{"format": "adaptive_rnn.sweep_part", "shard')
    with pytest.raises(CheckpointError) as e:
        merge_sweep(d)
    msg = str(e.value)  # every problem listed at once
    assert "part-00000-of-00003.npz has SHA-256" in msg and "truncated" in msg
    assert "part-00002-of-00003.json is not valid JSON" in msg
    assert "missing shards" not in msg or "2/3" in msg

    # The command line: one line, exit 2, nothing written.
    out = tmp_path / "merged.nc"
    assert main(["sweep-merge", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert not out.exists()
    assert main(["sweep-merge", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert main(["sweep-merge", str(good), "--out", str(out)]) == 0
    merged = load_sweep(out)
    np.testing.assert_allclose(merged["y"].values, merge_sweep(good)["y"].values, rtol=0, atol=0)


@pytest.mark.parametrize(
    "shard, match",
    [
        ((3, 2), r"shard: got \(3, 2\)"),
        ((0, 0), r"shard: got \(0, 0\)"),
        ((-1, 2), r"shard: got \(-1, 2\)"),
        ((True, 2), r"shard: got \(True, 2\)"),
        ((0, 13), r"the grid has 12 points; expected at most 12 shards"),
    ],
)
def test_bad_shards(shard, match):
    # (A shard that is not a pair of integers, e.g. "x", fails the type annotation; the
    # command line's cases are in tests/test_cli_bad_args.py.)
    with pytest.raises(InputError, match=match):
        sweep(GRID, _point, key=KEY, shard=shard, progress=False)


def test_a_folder_refuses_another_configuration_and_a_second_writer(tmp_path, recwarn):
    sweep(GRID, _point, key=KEY, progress=False, shard=(0, 2), directory=tmp_path)
    before = _files(tmp_path)
    # another configuration (other key, other chunk size, other number of shards)
    for key, shard in ((jax.random.key(8), (1, 2)), (KEY, (1, 3))):
        with pytest.raises(
            InputError,
            match=r"holds files of another sweep configuration.*part-00000-of-00002.json",
        ):
            sweep(GRID, _point, key=key, shard=shard, progress=False, directory=tmp_path)
    # the same shard again, without resume
    with pytest.raises(InputError, match=r"already holds shard 0/2 of this sweep.*resume=True"):
        sweep(GRID, _point, key=KEY, progress=False, shard=(0, 2), directory=tmp_path)
    # a live process holds the lock (this one, as if it were another run in it)
    lock = tmp_path / "part-00001-of-00002.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": "x"}))
    with pytest.raises(
        InputError, match=rf"process {os.getpid()} on host .* is writing this shard here"
    ):
        sweep(GRID, _point, key=KEY, progress=False, shard=(1, 2), directory=tmp_path)
    # a lock from another host cannot be checked: refused, naming the host
    lock.write_text(json.dumps({"pid": 1, "host": "node-that-is-not-here", "started": "x"}))
    with pytest.raises(InputError, match=r"process 1 on host node-that-is-not-here.*delete"):
        sweep(GRID, _point, key=KEY, progress=False, shard=(1, 2), directory=tmp_path)
    assert {k: v for k, v in _files(tmp_path).items() if not k.endswith(".lock")} == before
    # a stale lock (its process has exited) on this host is taken over, with a warning
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "x"}))
    with pytest.warns(UserWarning, match=rf"stale lock .* of process {dead.pid}"):
        sweep(GRID, _point, key=KEY, progress=False, shard=(1, 2), directory=tmp_path)
    assert not lock.exists() and (tmp_path / "part-00001-of-00002.json").is_file()
    assert merge_sweep(tmp_path)["success"].all()


SIM_CONFIG = textwrap.dedent(
    """
    [sweep]
    mode = "simulate"
    seed = 5
    chunk_size = 3
    [grid]
    alpha_s = [0.2, 0.6, 2.5]
    alpha_r = [0.4, 0.9]
    seed = [0, 1]
    [model]
    n_hidden = 5
    time_constants = "static"
    [simulate]
    n_sequences = 2
    n_steps = 12
    """
)


def test_cli_shards_merge_to_the_unsharded_cli_sweep(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(SIM_CONFIG)
    parts = tmp_path / "parts"
    for i in range(2):
        assert main(["sweep", str(cfg), "--out", str(parts), "--shard", f"{i}/2", "--quiet"]) == 0
    # a finished shard run again: refused without --resume; with it, nothing recomputed
    assert main(["sweep", str(cfg), "--out", str(parts), "--shard", "1/2", "--quiet"]) == 2
    assert main(["sweep", str(cfg), "--out", str(parts), "--shard", "1/2", "--resume"]) == 0
    assert main(["sweep-merge", str(parts), "--out", str(tmp_path / "m.nc")]) == 0
    whole = tmp_path / "whole"
    assert main(["sweep", str(cfg), "--out", str(whole), "--quiet"]) == 0
    a, b = load_sweep(tmp_path / "m.nc"), load_sweep(whole / "sweep.nc")
    assert (
        sorted(map(str, a.data_vars))
        == sorted(map(str, b.data_vars))
        == ["failure_reason", "outputs", "success"]
    )
    # alpha_s = 2.5 cannot be a static (explicit Euler) time constant: failed, with why
    assert not a["success"].sel(alpha_s=2.5).any() and a["success"].sel(alpha_s=0.6).all()
    assert np.array_equal(a["failure_reason"].values, b["failure_reason"].values)
    assert np.array_equal(a["success"].values, b["success"].values)
    np.testing.assert_allclose(a["outputs"].values, b["outputs"].values, rtol=1e-12, atol=1e-14)
    # the Python functions agree with the command line
    ds = merge_config_sweep(parts)
    np.testing.assert_allclose(ds["outputs"].values, a["outputs"].values, rtol=0, atol=0)
    shard = run_config(load_config(cfg), shard=(1, 2))
    assert shard.sizes["point"] == 6 and shard.attrs["shard_index"] == 1
    assert (
        "failure_reason" in shard and not shard["success"].sel(point=shard["alpha_s"] == 2.5).any()
    )


def test_the_config_hash_covers_the_data_file(tmp_path):
    x = np.asarray(jax.random.uniform(KEY, (4, 10, 2)))
    np.savez(tmp_path / "d.npz", inputs=x, targets=x)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"[sweep]\nseed = 1\n[grid]\nalpha_s = [0.5, 0.7]\n[model]\nn_hidden = 3\n"
        f'time_constants = "static"\n[data]\npath = "{tmp_path / "d.npz"}"\n[train]\nepochs = 1\n'
    )
    out = tmp_path / "o"
    assert main(["sweep", str(cfg), "--out", str(out), "--shard", "0/2", "--quiet"]) == 0
    np.savez(tmp_path / "d.npz", inputs=x, targets=jnp.flip(x, 1))  # same name, other data
    with pytest.raises(InputError, match="another sweep configuration"):
        run_config(load_config(cfg), shard=(1, 2), directory=out)
