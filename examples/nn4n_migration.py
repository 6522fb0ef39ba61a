"""Migrating a CTRNN trained with NN4N 1.x to adaptive_rnn (needs `pip install torch nn4n`).

    python examples/nn4n_migration.py

Trains nothing: builds an NN4N CTRNN, saves it with NN4N's `save()`, imports it with
`adaptive_rnn.import_nn4n` (the CLI equivalent is `adaptive-rnn import-nn4n model.pth
--out imported/`), runs both on the same inputs and prints the largest difference.
"""

import tempfile
from pathlib import Path

import numpy as np
import torch
from nn4n.model import CTRNN as NN4NCTRNN

import adaptive_rnn as ar

with tempfile.TemporaryDirectory() as tmp:
    torch.manual_seed(0)
    net = NN4NCTRNN(dims=[3, 50, 2], dt=10, tau=100, activation="relu", suppress_warnings=True)
    net.eval()  # NN4N switches its noise off in eval mode
    path = str(Path(tmp) / "model.pth")
    net.save(path)

    model = ar.import_nn4n(path, Path(tmp) / "imported", noise=False)
    x_time_first = torch.randn(100, 8, 3)  # NN4N 1.1: (T, B, n_in)
    with torch.no_grad():
        y_nn4n, _ = net(x_time_first)
    x = np.swapaxes(x_time_first.numpy(), 0, 1)  # adaptive_rnn: (B, T, n_in)
    y = ar.simulate(model, x).outputs
    err = np.max(np.abs(np.asarray(y) - np.swapaxes(y_nn4n.numpy(), 0, 1)))
    print(f"max |adaptive_rnn - NN4N| = {err:.2e}")
