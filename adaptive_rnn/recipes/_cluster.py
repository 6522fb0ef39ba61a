"""A sweep config run as a Slurm job array through `submitit` (the optional extra
`adaptive_rnn[cluster]`): one array task per shard, each writing its part into one
folder, merged afterwards by `merge_config_sweep` (docs/sweeps.md)."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._checks import check_int, check_type
from .._errors import InputError
from .._io import check_writable_dir


def _submitit():
    try:
        import submitit
    except ImportError:
        raise InputError(
            "submit_sweep: needs the package submitit, which is not installed; expected it "
            "installed: pip install 'adaptive_rnn[cluster]' (or pip install 'submitit>=1.5')"
        ) from None
    return submitit


def run_shard(config: str, out: str, index: int, n_shards: int, resume: bool = True) -> dict:
    """Runs shard `index` of `n_shards` of the sweep `config` into the folder `out`: what
    one task of the job array does (`adaptive-rnn sweep CONFIG --out OUT --shard I/N`).

    Every core of the task's allocation becomes a JAX CPU device (`configure_cpu`)
    when JAX has not started yet in this process.

    **Arguments:**

    - `config`: the sweep's TOML file.
    - `out`: the folder of the parts.
    - `index`, `n_shards`: the shard.
    - `resume`: continue from the chunks a previous attempt of this task wrote (a
        requeued or preempted task then loses no finished chunk).

    **Returns:** a summary dict: `shard`, `points`, `succeeded`, `chunks_computed`,
    `chunks_skipped`.

    **Raises:** what `run_config` raises (the job then fails with that error).
    """
    import numpy as np

    from .._cpu import _backends_initialised, configure_cpu
    from ._sweep_config import load_config, run_config

    if not _backends_initialised():
        configure_cpu()
    ds = run_config(
        load_config(config), progress=False, shard=(index, n_shards), directory=out, resume=resume
    )
    return {
        "shard": f"{index}/{n_shards}",
        "points": int(ds["success"].size),
        "succeeded": int(np.asarray(ds["success"]).sum()),
        "chunks_computed": int(ds.attrs["chunks_computed"]),
        "chunks_skipped": int(ds.attrs["chunks_skipped"]),
    }


def submit_sweep(
    config: str | os.PathLike,
    out: str | os.PathLike,
    n_shards: int,
    *,
    executor: Any = None,
    logs: str | os.PathLike | None = None,
    slurm: Mapping[str, Any] | None = None,
    resume: bool = True,
) -> list:
    """Submits the shards of a sweep config as one Slurm job array through `submitit`.

    Task `i` of the array runs `run_shard(config, out, i, n_shards)`; when every task
    has finished (`[job.result() for job in jobs]`), `merge_config_sweep(out)`
    assembles the parts. A failed task loses only its shard: submit it again (with
    `resume`, it continues from its finished chunks).

    The config is checked here, before anything is submitted.

    **Arguments:**

    - `config`: the sweep's TOML file (on a file system the nodes share).
    - `out`: the folder of the parts (shared too).
    - `n_shards`: the number of array tasks (at most the number of grid points).
    - `executor`: a submitit executor (default: `submitit.AutoExecutor(folder=logs)`,
        which submits to Slurm where `sbatch` exists and runs locally otherwise; tests
        pass `submitit.LocalExecutor`).
    - `logs`: submitit's folder for job scripts, pickles and logs (default
        `out/submitit`); used when `executor` is not given.
    - `slurm`: parameters for `executor.update_parameters`, e.g. `{"timeout_min": 120,
        "cpus_per_task": 16, "slurm_partition": "cpu", "slurm_array_parallelism": 50}`.
    - `resume`: passed to `run_shard`.

    **Returns:** the submitit jobs, one per shard, in shard order.

    **Raises:** `InputError` when submitit is missing (the message says how to install
    it), for a bad config, `n_shards` or `out`.
    """
    import numpy as np

    from ._sweep_config import load_config

    submitit = _submitit()
    cfg = load_config(config)  # refuse a bad config before submitting anything
    n_points = int(np.prod([len(v) for v in cfg["grid"].values()]))
    check_int("n_shards", n_shards, 1, n_points)
    out = check_writable_dir(out, name="out")
    if slurm is not None:
        check_type("slurm", slurm, Mapping, "a dict of submitit parameters")
    if executor is None:
        executor = submitit.AutoExecutor(folder=str(logs if logs is not None else out / "submitit"))
    if slurm:
        executor.update_parameters(**dict(slurm))
    config, out_s = str(Path(config).resolve()), str(Path(out).resolve())
    return executor.map_array(
        run_shard,
        [config] * n_shards,
        [out_s] * n_shards,
        list(range(n_shards)),
        [n_shards] * n_shards,
        [resume] * n_shards,
    )
