"""Multi-process, one program: `sweep`, `fit_ensemble` and `simulate(devices=...)` under
`jax.distributed`, two processes on 127.0.0.1 with 2 CPU devices each (gloo
collectives), equal to the one-process run.

Both processes run `tests/_multiprocess_worker.py` (a simulation sweep, a training
sweep, a noisy `simulate` over the 4 devices with a jitted gradient, two small
ensembles) and each saves what it received; meanwhile this process computes the same
on its one device. Every process must receive the whole result, equal to the
one-process run to 1e-12 (float64): the programs differ (4 devices over 2 processes
against 1 device, other `vmap` widths per device), so equal to rounding, not bit for
bit.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

WORKER = Path(__file__).resolve().parent / "_multiprocess_worker.py"
N_PROCESSES = 2
# Each process imports JAX and compiles its programs (about 30 s on an idle 2-core
# machine with a cold compilation cache); the limit is for a loaded machine.
TIMEOUT_S = 900
RTOL = ATOL = 1e-12  # float64; measured differences are ~1e-14


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(folder: Path) -> list:
    """Starts the processes of one distributed program; stdout and stderr go to files
    (no pipe to fill while the other process is waited for)."""
    port = _free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)  # the worker sets its own device count
    procs = []
    for i in range(N_PROCESSES):
        log = open(folder / f"process{i}.log", "w")  # closed by _wait
        cmd = [sys.executable, str(WORKER), str(i), str(N_PROCESSES), str(port)]
        cmd.append(str(folder / f"process{i}.npz"))
        procs.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log))
    return procs


def _wait(procs: list, folder: Path, deadline: float) -> str | None:
    """Waits for every process; kills all at the deadline or when one fails (the other
    would wait for it in a collective). **Returns:** `None` on success, else a report
    with every process's exit status and the end of its output."""
    failed = False
    while any(p.poll() is None for p, _ in procs):
        if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p, _ in procs):
            failed = True
            break
        time.sleep(0.2)
    for p, log in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        log.close()
    if not failed and all(p.returncode == 0 for p, _ in procs):
        return None
    report = []
    for i, (p, _) in enumerate(procs):
        text = (folder / f"process{i}.log").read_text()
        report.append(f"--- process {i}: exit status {p.returncode} ---\n{text[-4000:]}")
    reason = f"ran past its {TIMEOUT_S} s limit" if time.monotonic() > deadline else "failed"
    return f"the distributed program {reason}\n" + "\n".join(report)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """`(reference, [what process 0 received, what process 1 received])`, and the
    wall time of the distributed program."""
    import _multiprocess_worker as worker

    folder = tmp_path_factory.mktemp("multiprocess")
    start = time.monotonic()
    procs = _start(folder)
    reference = worker.run_all()  # here, on one device, while the processes run
    error = _wait(procs, folder, start + TIMEOUT_S)
    if error is not None and "address already in use" in error.lower():
        # another program took the free port before the coordinator bound it: once more
        folder = tmp_path_factory.mktemp("multiprocess")
        start = time.monotonic()
        error = _wait(_start(folder), folder, start + TIMEOUT_S)
    if error is not None:
        pytest.fail(error, pytrace=False)
    wall = time.monotonic() - start
    got = [dict(np.load(folder / f"process{i}.npz")) for i in range(N_PROCESSES)]
    print(f"distributed program ({N_PROCESSES} processes): {wall:.1f} s wall")
    return reference, got


def _compare(runs, prefix: str) -> float:
    reference, got = runs
    names = sorted(k for k in reference if k.startswith(prefix))
    assert names, prefix
    worst = 0.0
    for i, out in enumerate(got):
        assert int(out["process_index"]) == i and int(out["n_devices"]) == 4, (i, out["n_devices"])
        for k in names:
            assert out[k].shape == reference[k].shape, (i, k, out[k].shape, reference[k].shape)
            np.testing.assert_allclose(
                out[k], reference[k], rtol=RTOL, atol=ATOL, err_msg=f"process {i}: {k}"
            )
            if out[k].dtype.kind == "f":
                worst = max(worst, float(np.max(np.abs(out[k] - reference[k]), initial=0.0)))
            else:
                assert np.array_equal(out[k], reference[k]), (i, k)
    print(f"{prefix}: max |difference| to one process = {worst:.3g}")
    return worst


def test_simulation_sweep_across_processes(runs):
    """12 points in chunks of 6 (padded to 8) over 4 devices of 2 processes."""
    _compare(runs, "sim_sweep_")
    assert runs[0]["sim_sweep_success"].all()


def test_training_sweep_across_processes(runs):
    """4 points, each a whole training run, one point per device."""
    _compare(runs, "train_sweep_")


def test_simulate_across_processes(runs):
    """A noisy CTRNN batch of 8 over 4 devices (one key per sequence): every process
    receives the whole trajectory outside jit; the jitted gradient, gathered with
    `fetch_global`, equals one device's."""
    _compare(runs, "simulate_")
    assert all(bool(out["simulate_addressable"]) for out in runs[1])


def test_fit_ensemble_across_processes(runs):
    """Groups of 4 (split over the 4 devices) and 2 (replicated) with shared data, and 4
    stacked members with their own data (split with them)."""
    _compare(runs, "ensemble_")
    _compare(runs, "stacked_")
