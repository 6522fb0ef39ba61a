"""NN4N (PyTorch) side of the peer benchmark; run by `_peers.py` with the peer's own
interpreter (a virtual environment with `torch==2.13.0 nn4n`), never imported.

    PEER_PYTHON peer_nn4n.py --inputs IN.npz --threads N --repeats R [--outputs OUT.npz] [--budget-s S]

Loads the CTRNN weights (NN4N's state-dict names), inputs `x` and targets `y` (both
time-first) from IN.npz into NN4N 1.x's own `CTRNN`; with `--outputs` writes its eval
forward outputs for the equality check; then times the forward pass (no grad) and one
training step (MSE, backward, Adam lr 1e-3) with `torch.set_num_threads(N)`. Prints
one line `PEER_RESULT {json}`.
"""

import argparse
import os
import sys


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--inputs", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--outputs")
    p.add_argument(
        "--budget-s",
        type=float,
        default=120.0,
        help="stop timing an operation after this long once 3 runs are in (a thread count that "
        "makes the peer very slow would otherwise hold the benchmark for minutes)",
    )
    a = p.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(a.threads)  # before torch is imported
    import json
    import statistics
    import time
    from importlib.metadata import version

    import numpy as np
    import torch
    from nn4n.model import CTRNN

    torch.set_num_threads(a.threads)
    d = np.load(a.inputs)
    n_in, n, n_out = (int(v) for v in d["dims"])
    net = CTRNN(
        dims=[n_in, n, n_out],
        dt=float(d["dt"]),
        tau=float(d["tau"]),
        activation="relu",
        init_state="zero",
        suppress_warnings=True,
    )
    state = net.state_dict()
    with torch.no_grad():
        for k, v in state.items():
            if k in d.files:
                v.copy_(torch.from_numpy(np.asarray(d[k])))
    x = torch.from_numpy(np.asarray(d["x"], dtype=np.float32))
    y = torch.from_numpy(np.asarray(d["y"], dtype=np.float32))
    if a.outputs:
        net.eval()
        with torch.no_grad():
            out, _ = net(x)
        np.savez(a.outputs, outputs=out.numpy())
        net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def forward():
        with torch.no_grad():
            return net(x)

    def step():
        opt.zero_grad()
        out, _ = net(x)
        loss = torch.mean((out - y) ** 2)
        loss.backward()
        opt.step()
        return loss

    res = {}
    for name, fn in (("forward", forward), ("train_step", step)):
        fn()
        fn()
        times = []
        while len(times) < a.repeats and (len(times) < 3 or sum(times) < a.budget_s):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        res[name] = {
            "median_s": statistics.median(times),
            "min_s": min(times),
            "repeats": len(times),
        }
    res["threads"] = torch.get_num_threads()
    res["how"] = f"torch.set_num_threads({a.threads}), OMP_NUM_THREADS={a.threads}"
    res["versions"] = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "nn4n": version("nn4n"),
        "numpy": np.__version__,
    }
    print("PEER_RESULT " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
