"""Builds (and optionally executes) one notebook per experiment of adaptive_rnn.paper.

    python notebooks/build_notebooks.py            # write the notebooks, unexecuted
    python notebooks/build_notebooks.py --execute  # and run them (quick scale) in place

Each notebook only calls the package (`run`, `plot` of one experiment module). It reads
the scale from the environment variable ADAPTIVE_RNN_NOTEBOOK_SCALE (tiny, quick or
paper; default quick), so the test suite can run it at tiny scale.
"""

import argparse
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

INTRO = {
    "fig2": "Fig. 2 (E2): grid search over fixed (alpha_s, alpha_r); colour = log10 mean best validation loss.",
    "fig3": "Fig. 3 (E3): (A) learned alphas from several initialisations; (B) ARU with learned alphas vs Elman (Welch t-test).",
    "size": "E4: learned alphas for 5, 10, 30, 50 and 100 hidden units, target (0.342, 0.684).",
    "relu": "E5: sigmoid vs ReLU, learned alphas for targets (0.342, 0.684) and (0.684, 0.342); the exchange symmetry of PAPER §1.3.",
    "local": "E6: per-neuron alphas learned from a heterogeneous teacher (sd 0.1 and 0.2), compared as distributions.",
    "memory": "E7 (Fig. 7): memory capacity of Elman vs global vs local alphas on our delayed-recall protocol.",
    "hierarchy": "E8: do learned time constants order themselves along a two-layer hierarchy?",
}

SUMMARY = {
    "fig2": 'results["argmin"], results["argmin_distance"]',
    "fig3": '[(c["target"], c["aru_mean"], c["elman_mean"], c["welch_p"]) for c in results["comparison"]]',
    "size": 'results["summary"]',
    "relu": 'results["summary"]',
    "local": 'results["summary"]',
    "memory": 'results["max_delay_above_chance"]',
    "hierarchy": 'results["tests"]',
}


def notebook(name: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell(
            f"# Quax et al. (2020): `{name}`\n\n{INTRO[name]}\n\n"
            "This notebook only calls the package (`adaptive_rnn.paper`); the same run is "
            f"`adaptive-rnn reproduce {name} --scale quick`. See REPRODUCTION.md for the "
            "protocol, our choices and the paper-scale numbers."
        ),
        new_code_cell(
            "%matplotlib inline\n"
            "import os\n"
            f"from adaptive_rnn.paper import {name}\n\n"
            'scale = os.environ.get("ADAPTIVE_RNN_NOTEBOOK_SCALE", "quick")  # tiny, quick or paper\n'
            f"config = getattr({name}.Config, scale)()\n"
            "config"
        ),
        new_code_cell(f"results = {name}.run(config, progress=False)\n{SUMMARY[name]}"),
        new_code_cell(f"{name}.plot(results)"),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--execute", action="store_true", help="execute each notebook and save it with its outputs"
    )
    p.add_argument("names", nargs="*", default=list(INTRO), help="experiments (default: all)")
    args = p.parse_args(argv)
    for name in args.names:
        nb = notebook(name)
        path = HERE / f"{name}.ipynb"
        if args.execute:
            from nbclient import NotebookClient

            NotebookClient(
                nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
            ).execute()
        nbformat.write(nb, path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
