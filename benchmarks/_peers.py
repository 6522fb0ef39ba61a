"""Peer frameworks timed in their own interpreters: each peer runs in a subprocess with
the Python of a virtual environment that holds it (so its torch or jax never meets
ours), once per thread count in `THREADS`; the faster run of each operation is kept
and both are recorded with the peer's package versions. Before its times count, the
peer's outputs on the same weights and inputs must equal adaptive_rnn's.

Creating the peer environments (outside the repository; any folder will do):

    python3.11 -m venv ~/peers/torch
    ~/peers/torch/bin/pip install torch==2.13.0 nn4n      # pin torch: a plain `torch` pulls CUDA
    python3.11 -m venv ~/peers/brainpy
    ~/peers/brainpy/bin/pip install brainpy brainstate braintools

and pointing the benchmarks at them:

    python benchmarks/run.py --nn4n-python ~/peers/torch/bin/python --brainpy-python ~/peers/brainpy/bin/python

(or `ADAPTIVE_RNN_BENCH_NN4N_PYTHON` / `ADAPTIVE_RNN_BENCH_BRAINPY_PYTHON`). Without
either, the interpreter running the benchmark is tried, and a peer it cannot import is
skipped with the reason recorded in `results.json`.
"""

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
THREADS = (1, 2)
# Equal outputs: max |y_peer - y_ours| <= RTOL * max(1, max |y_ours|), both float32.
RTOL = 1e-4
# Timing of one operation stops after this long once 3 runs are in: a thread count that
# makes a peer very slow (torch with 2 threads on a loaded 2-core machine: seconds per
# call) would otherwise hold the benchmark for many minutes. The runs made are recorded.
BUDGET_S = 60.0

PEERS = {
    "nn4n": {
        "script": "peer_nn4n.py",
        "env": "ADAPTIVE_RNN_BENCH_NN4N_PYTHON",
        "modules": "torch, nn4n",
        "install": "pip install torch==2.13.0 nn4n (in its own virtual environment)",
    },
    "brainpy": {
        "script": "peer_brainstate.py",
        "env": "ADAPTIVE_RNN_BENCH_BRAINPY_PYTHON",
        "modules": "brainstate, braintools",
        "install": "pip install brainpy brainstate braintools (in its own virtual environment)",
    },
}


def find_python(peer: str, given: str | None = None) -> tuple[str | None, str]:
    """The interpreter for `peer`: `given` (a command-line option), else the peer's
    environment variable, else this one; `(None, reason)` when it cannot import the
    peer."""
    spec = PEERS[peer]
    python = given or os.environ.get(spec["env"]) or sys.executable
    try:
        r = subprocess.run(
            [python, "-c", f"import {spec['modules']}"],
            capture_output=True,
            text=True,
            timeout=600,
            env=_peer_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"{python}: {type(e).__name__}: {e}"
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        return None, (
            f"{python} cannot import {spec['modules']} ({last}); {spec['install']}, then pass its "
            f"python with --{peer}-python or {spec['env']}"
        )
    return python, ""


def _peer_env() -> dict:
    """This environment without our JAX settings (configure_cpu's device count)."""
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_PLATFORMS")}
    env["PYTHONPATH"] = ""
    return env


@functools.cache
def problem(n_in: int, n: int, n_out: int, batch: int, steps: int, dt: float, tau: float):
    """`(path, reference)`: an .npz of CTRNN weights (NN4N's state-dict names, scaled
    1/sqrt(fan-in)), inputs `x` and targets `y` (time-first, float32), and adaptive_rnn's
    outputs on them (time-first), from `nn4n_to_ctrnn` and `simulate`."""
    import jax.numpy as jnp

    import adaptive_rnn as ar

    rng = np.random.default_rng(0)
    w = lambda *s: (rng.standard_normal(s) / np.sqrt(s[-1])).astype(np.float32)  # noqa: E731
    b = lambda *s: (0.1 * rng.standard_normal(s)).astype(np.float32)  # noqa: E731
    sd = {
        "recurrent_layer.input_layer.weight": w(n, n_in),
        "recurrent_layer.input_layer.bias": b(n),
        "recurrent_layer.hidden_layer.weight": w(n, n),
        "recurrent_layer.hidden_layer.bias": b(n),
        "readout_layer.weight": w(n_out, n),
        "readout_layer.bias": b(n_out),
    }
    kwargs = {
        "dims": [n_in, n, n_out],
        "dt": dt,
        "tau": tau,
        "activation": "relu",
        "init_state": "zero",
    }
    x = rng.standard_normal((steps, batch, n_in)).astype(np.float32)
    y = rng.standard_normal((steps, batch, n_out)).astype(np.float32)
    model = ar.nn4n_to_ctrnn(sd, kwargs, noise=False, dtype=jnp.float32)
    ref = np.swapaxes(
        np.asarray(ar.simulate(model, jnp.asarray(np.swapaxes(x, 0, 1))).outputs), 0, 1
    )
    path = Path(tempfile.mkdtemp(prefix="adaptive_rnn_peers_")) / "problem.npz"
    np.savez(path, x=x, y=y, dims=np.array([n_in, n, n_out]), dt=dt, tau=tau, **sd)
    return path, ref


def run_peer(peer: str, python: str | None, reason: str, config: dict, repeats: int) -> dict:
    """Times `peer` once per thread count in `THREADS` after checking its outputs.

    **Returns:** `{"skipped": reason}`, or `{"forward": ..., "train_step": ...}` (each
    the faster thread count's times, with its `threads`), `by_threads` (every run),
    `versions` (the peer's packages), `python`, `equal_outputs` (the check)."""
    if python is None:
        return {"skipped": reason}
    path, ref = problem(
        config["n_in"],
        config["n_hidden"],
        config["n_out"],
        config["batch"],
        config["steps"],
        config["dt"],
        config["tau"],
    )
    out_path = path.with_name(f"{peer}_outputs.npz")
    by_threads, versions, check = {}, None, None
    for threads in THREADS:
        cmd = [
            python,
            str(HERE / PEERS[peer]["script"]),
            "--inputs",
            str(path),
            "--threads",
            str(threads),
            "--repeats",
            str(repeats),
            "--budget-s",
            str(BUDGET_S),
        ]
        if check is None:
            cmd += ["--outputs", str(out_path)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=_peer_env())
        except subprocess.TimeoutExpired:
            return {"skipped": f"{peer} with {threads} threads ran past 1800 s", "python": python}
        line = [s for s in r.stdout.splitlines() if s.startswith("PEER_RESULT ")]
        if r.returncode != 0 or not line:
            tail = " | ".join(r.stderr.strip().splitlines()[-3:])
            return {
                "skipped": f"{peer} with {threads} threads failed (exit {r.returncode}): {tail}",
                "python": python,
            }
        res = json.loads(line[-1][len("PEER_RESULT ") :])
        versions = res.pop("versions")
        by_threads[str(threads)] = res
        if check is None:
            got = np.load(out_path)["outputs"]
            scale = max(1.0, float(np.max(np.abs(ref))))
            err = float(np.max(np.abs(got - ref))) if got.shape == ref.shape else float("inf")
            check = {
                "max_abs_error": err,
                "tolerance": RTOL * scale,
                "rtol": RTOL,
                "ok": err <= RTOL * scale,
            }
            if not check["ok"]:
                return {
                    "skipped": f"{peer}'s outputs differ from adaptive_rnn's on the same weights (max "
                    f"|difference| {err:.3g} > {RTOL * scale:.3g}); not timed",
                    "equal_outputs": check,
                    "versions": versions,
                    "python": python,
                }
    out = {"python": python, "versions": versions, "equal_outputs": check, "by_threads": by_threads}
    for op in ("forward", "train_step"):
        best = min(by_threads, key=lambda n: by_threads[n][op]["median_s"])
        out[op] = {**by_threads[best][op], "threads": int(best)}
    return out


def ratios(peer: str, entry: dict, ours: dict, ours_one: dict) -> dict:
    """Peer time / our time (larger is better), the peer at its faster thread count."""
    if "skipped" in entry:
        return {}
    out = {}
    for suffix, res in (("", ours), ("_one_device", ours_one)):
        for op in ("forward", "train_step"):
            out[f"{op}_vs_{peer}{suffix}"] = entry[op]["median_s"] / res[op]["median_s"]
    return out
