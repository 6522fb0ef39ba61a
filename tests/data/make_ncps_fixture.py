"""Writes the `ncps` parity fixtures of `tests/test_ncps.py` (run it where torch and ncps
are installed; the test itself needs neither):

    python -m venv /tmp/ncps && /tmp/ncps/bin/pip install torch==2.13.0 ncps==1.0.1
    /tmp/ncps/bin/python tests/data/make_ncps_fixture.py

Two models, saved with `torch.save(model.state_dict(), ...)`, each run by ncps on the
same inputs in float32 (as saved) and in float64 (the same weights, cast exactly):

- `ncps_ltc_cell.pt`: an `LTCCell` (ncps's default: parameters clipped, not softplus)
  on a sparse `Random` wiring, 6 units of which 2 are motor units, 3 inputs, affine
  input and output mappings, 6 unfolds, stepped with an elapsed time of 0.5;
- `ncps_ltc.pt`: an `LTC` sequence model (softplus constraints, keys under `rnn_cell.`)
  of 5 fully connected units, 3 inputs, a linear input mapping, 4 unfolds, elapsed time 1.

`ncps_expected.npz` holds, per model `<m>` in (`cell`, `seq`), the inputs `<m>_x`
`(B, T, n_in)` (float32 values), the outputs `<m>_y32` and `<m>_y64` `(B, T, n_out)`
and the final states `<m>_h32`, `<m>_h64` `(B, n)`, and the settings the state dict
does not hold (`<m>_dt`, `<m>_unfolds`).
"""

from pathlib import Path

import numpy as np
import torch
from ncps.torch import LTC, LTCCell
from ncps.wirings import Random

HERE = Path(__file__).resolve().parent


def _perturb(module, names, generator):
    # The mappings start as the identity; move them so that the test sees them.
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.split(".")[-1] in names:
                p.add_(0.3 * torch.randn(p.shape, generator=generator))


def _run_cell(cell, x, dt):
    h = torch.zeros(x.shape[0], cell.state_size, dtype=x.dtype)
    ys = []
    for t in range(x.shape[1]):
        y, h = cell(x[:, t], h, dt)
        ys.append(y)
    return torch.stack(ys, dim=1), h


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    out = {}

    wiring = Random(6, output_dim=2, sparsity_level=0.4, random_seed=3)
    cell = LTCCell(wiring, in_features=3, ode_unfolds=6)
    _perturb(cell, ("input_w", "input_b", "output_w", "output_b"), gen)
    torch.save(cell.state_dict(), HERE / "ncps_ltc_cell.pt")
    x = torch.rand(2, 12, 3, generator=gen)
    with torch.no_grad():
        y32, h32 = _run_cell(cell, x, 0.5)
        y64, h64 = _run_cell(cell.double(), x.double(), 0.5)
    out.update(
        cell_x=x.numpy(),
        cell_y32=y32.numpy(),
        cell_h32=h32.numpy(),
        cell_y64=y64.numpy(),
        cell_h64=h64.numpy(),
        cell_dt=0.5,
        cell_unfolds=6,
    )

    seq = LTC(3, 5, input_mapping="linear", ode_unfolds=4)
    _perturb(seq, ("input_w", "output_w", "output_b"), gen)
    torch.save(seq.state_dict(), HERE / "ncps_ltc.pt")
    x = torch.rand(2, 10, 3, generator=gen)
    with torch.no_grad():
        y32, h32 = seq(x)
        y64, h64 = seq.double()(x.double())
    out.update(
        seq_x=x.numpy(),
        seq_y32=y32.numpy(),
        seq_h32=h32.numpy(),
        seq_y64=y64.numpy(),
        seq_h64=h64.numpy(),
        seq_dt=1.0,
        seq_unfolds=4,
    )

    np.savez(HERE / "ncps_expected.npz", **out)
    for p in ("ncps_ltc_cell.pt", "ncps_ltc.pt", "ncps_expected.npz"):
        print(p, (HERE / p).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
