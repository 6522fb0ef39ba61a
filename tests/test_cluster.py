"""The Slurm job-array recipe, run end to end with submitit's `LocalExecutor` (each shard a
separate local process, as each array task is a separate job on a cluster)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from adaptive_rnn import InputError
from adaptive_rnn.recipes import load_config, merge_config_sweep, run_config, submit_sweep

CONFIG = textwrap.dedent(
    """
    [sweep]
    mode = "simulate"
    seed = 11
    chunk_size = 2
    [grid]
    alpha_s = [0.2, 0.6, 0.9]
    alpha_r = [0.4, 0.8]
    [model]
    n_hidden = 4
    time_constants = "static"
    [simulate]
    n_sequences = 2
    n_steps = 10
    """
)


def test_submitit_local_executor_two_shards_merge_to_the_unsharded_sweep(tmp_path, monkeypatch):
    submitit = pytest.importorskip("submitit")
    monkeypatch.setenv("JAX_ENABLE_X64", "1")  # the tasks inherit the environment
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "parts"
    executor = submitit.LocalExecutor(folder=tmp_path / "logs", python=sys.executable)
    executor.update_parameters(timeout_min=15)
    jobs = submit_sweep(cfg, out, 2, executor=executor)
    results = [job.result() for job in jobs]  # waits; re-raises a task's error
    assert [r["shard"] for r in results] == ["0/2", "1/2"]
    assert sum(r["points"] for r in results) == 6 and all(r["chunks_skipped"] == 0 for r in results)
    merged = merge_config_sweep(out)
    ref = run_config(load_config(cfg), progress=False)
    assert merged.attrs["n_shards"] == 2 and bool(merged["success"].all())
    assert np.array_equal(merged["failure_reason"].values, ref["failure_reason"].values)
    # float64 in both; other processes, device counts and chunk widths: equal to rounding.
    np.testing.assert_allclose(
        merged["outputs"].values, ref["outputs"].values, rtol=1e-12, atol=1e-14
    )


def test_missing_submitit_and_bad_arguments_are_refused_before_submitting(tmp_path, monkeypatch):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)

    class Refuse:
        def map_array(self, *args):
            raise AssertionError("submitted")

    with pytest.raises(InputError, match=r"n_shards: got 7, expected an integer in \[1, 6\]"):
        submit_sweep(cfg, tmp_path / "o", 7, executor=Refuse())
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\nalpha_z = [1]\n")
    with pytest.raises(InputError, match="alpha_z"):
        submit_sweep(bad, tmp_path / "o", 1, executor=Refuse())
    monkeypatch.setitem(sys.modules, "submitit", None)  # as if not installed
    with pytest.raises(InputError, match=r"pip install 'adaptive_rnn\[cluster\]'"):
        submit_sweep(cfg, tmp_path / "o", 2)
    assert not (tmp_path / "o").exists()


def test_the_sbatch_array_script_runs_each_task_and_the_parts_merge(tmp_path):
    # examples/sweep_array.sbatch run as Slurm would run tasks 0 and 1 of --array=0-1.
    script = Path(__file__).resolve().parent.parent / "examples" / "sweep_array.sbatch"
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "parts"
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    for task in (0, 1):
        env = dict(
            os.environ,
            PATH=path,
            SLURM_ARRAY_TASK_ID=str(task),
            SLURM_CPUS_PER_TASK="1",
            JAX_ENABLE_X64="1",
            JAX_PLATFORMS="cpu",
        )
        res = subprocess.run(
            ["bash", str(script), str(cfg), str(out), "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert res.returncode == 0, (res.stdout[-1000:], res.stderr[-3000:])
        assert f"(shard {task}/2)" in res.stdout
    merged = merge_config_sweep(out)
    ref = run_config(load_config(cfg), progress=False)
    np.testing.assert_allclose(
        merged["outputs"].values, ref["outputs"].values, rtol=1e-12, atol=1e-14
    )
