"""The numbers of the docs come from the committed result files.

`tools/make_tables.py` regenerates every table and result sentence of REPRODUCTION.md,
benchmarks/README.md and the other docs from `results/paper_scale/*.json` and
`benchmarks/results.json`; these tests fail when a doc differs from what the files say,
or when a measurement is typed by hand outside a generated region. No JAX compute: the
generator reads JSON only.
"""

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("make_tables", ROOT / "tools" / "make_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mt = _load()


@pytest.fixture
def repo(tmp_path):
    """A copy of the docs and the committed result files (all of `results/`)."""
    files = [p for pattern in mt.DOCS for p in ROOT.glob(pattern)]
    # every committed result file (the paper scale, the quick-scale seed studies, ...)
    files += list((ROOT / "results").rglob("*.json")) + [ROOT / mt.BENCH]
    for p in files:
        dst = tmp_path / p.relative_to(ROOT)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dst)
    return tmp_path


def test_docs_match_committed_results():
    diffs = mt.generate(ROOT, write=False)
    assert not diffs, (
        f"docs differ from the result files in {diffs}: run `python tools/make_tables.py`"
    )


def test_no_hand_typed_measurements():
    stray = mt.lint(ROOT)
    assert not stray, "measurements outside generated regions:\n" + "\n".join(stray)


def _bump_first_digit(text: str, start: int) -> str:
    i = start + next(k for k, c in enumerate(text[start:]) if c.isdigit())
    return text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1 :]


def test_altered_number_in_a_doc_is_caught(repo):
    path = repo / "REPRODUCTION.md"
    text = path.read_text()
    ((name, start, _),) = [r for r in mt.regions(text) if r[0] == "e7_table"]
    path.write_text(_bump_first_digit(text, text.index("| 5 |", start) + 4))
    assert mt.generate(repo, write=False) == {"REPRODUCTION.md": ["e7_table"]}
    assert mt.main(["--check", "--root", str(repo)]) == 1
    # Regenerating restores the committed text exactly.
    assert mt.main(["--root", str(repo)]) == 0
    assert path.read_text() == text
    assert mt.main(["--check", "--root", str(repo)]) == 0


def test_altered_result_is_caught(repo):
    """A changed result file (E7, global alphas, delay 25: learned alpha_r 0.2004) makes
    the table and the bullets that quote it differ, and regenerating prints it."""
    path = repo / mt.PAPER_DIR / "memory.json"
    d = json.loads(path.read_text())
    (entry,) = [e for e in d["results"] if e["delay"] == 25]
    n = len(entry["models"]["global"]["alpha_r"])
    entry["models"]["global"]["alpha_r"] = [0.2004] * n
    path.write_text(json.dumps(d))
    assert mt.generate(repo, write=False) == {"REPRODUCTION.md": ["e7_table", "e7_facts"]}
    mt.generate(repo, write=True)
    text = (repo / "REPRODUCTION.md").read_text()
    assert "| 25 |" in text and ", 0.200) |" in text and "alpha_r 0.616 -> 0.200" in text


def test_hand_typed_measurements_are_flagged(repo):
    path = repo / "README.md"
    path.write_text(
        path.read_text()
        + "\nIt takes about 2 minutes; 1.07 ms per member; 10-100x higher; ~1e-2.\n"
        "Settings pass: lr 1e-3, 100 epochs, a 10 x 10 grid, target <= 2 ms, >= 50 %.\n"
    )
    stray = mt.lint(repo)
    assert [s.split(": ", 1)[1] for s in stray] == ["'2 minutes'", "'1.07 ms'", "'10-100x'", "'~1'"]


def test_every_region_needs_a_renderer_and_every_renderer_a_region(repo):
    path = repo / "docs" / "training.md"
    text = path.read_text()
    path.write_text(
        text + "\n<!-- BEGIN GENERATED: no_such_table -->\n<!-- END GENERATED: no_such_table -->\n"
    )
    with pytest.raises(ValueError, match="no renderer for region 'no_such_table'"):
        mt.generate(repo, write=False)
    path.write_text(text.replace("<!-- BEGIN GENERATED: training_ensemble_cost -->", ""))
    with pytest.raises(ValueError, match="training_ensemble_cost"):
        mt.generate(repo, write=False)
    path.write_text(
        text.replace("<!-- BEGIN GENERATED: training_ensemble_cost -->\n", "").replace(
            "<!-- END GENERATED: training_ensemble_cost -->\n", ""
        )
    )
    with pytest.raises(ValueError, match="fill no region.*training_ensemble_cost"):
        mt.generate(repo, write=False)


def test_peer_rows_follow_the_result_keys(tmp_path):
    """A peer appears in the benchmark table when its timings exist, and only then; a
    run without the optional sections (paper, ensemble, memory, ...) still renders."""
    t = lambda s: {"median_s": s, "min_s": s, "repeats": 9}  # noqa: E731
    b = {
        "date": "2026-01-01T00:00:00+00:00",
        "total_s": 100.0,
        "quick": True,
        "cpu": {"devices": 2},
        "machine": {"platform": "Linux", "processor": "x86_64", "cpu_count": 2, "jax": "0.0"},
        "nn4n": {
            "config": {"n_hidden": 100, "batch": 64, "steps": 500},
            "adaptive_rnn": {"devices": 2, "forward": t(0.01), "train_step": t(0.04)},
            "adaptive_rnn_one_device": {"devices": 1, "forward": t(0.02), "train_step": t(0.05)},
        },
    }
    path = tmp_path / mt.BENCH
    path.parent.mkdir(parents=True)

    def render(bench):
        path.write_text(json.dumps(bench))
        return mt.RENDERERS["bench_table"](mt.Sources(tmp_path)) + mt.RENDERERS["bench_setup"](
            mt.Sources(tmp_path)
        )

    out = render(b)
    assert "peer" not in out and "NN4N" not in out and "CTRNN forward, N=100, B=64, T=500" in out
    b["nn4n"]["nn4n"] = {"forward": t(0.03), "train_step": t(0.2), "torch_threads": 2}
    b["nn4n"]["nn4n_1_thread"] = {
        "forward": t(0.05),
        "train_step": t(0.1),
        "threads": 1,
        "versions": {"nn4n": "1.1.1", "torch": "2.13.0"},
    }
    b["peers"] = {
        "brainpy": {"forward": t(0.02), "train_step": t(0.1), "version": "2.6.0", "threads": 2},
        "other": {"skipped": "not installed"},
    }
    out = render(b)
    row = "| CTRNN forward / train step, {}; peer time / our time | {} ({} / {} vs ours; {} / {} vs ours on one device)"
    assert (
        row.format("NN4N (2 threads)", "30.0 ms / 200 ms", "3.00x", "5.00x", "1.50x", "4.00x")
        in out
    )
    assert (
        row.format(
            "NN4N (nn4n 1.1.1, torch 2.13.0; 1 thread)",
            "50.0 ms / 100 ms",
            "5.00x",
            "2.50x",
            "2.50x",
            "2.00x",
        )
        in out
    )
    assert (
        row.format(
            "BrainPy (2.6.0; 2 threads)", "20.0 ms / 100 ms", "2.00x", "2.50x", "1.00x", "2.00x"
        )
        in out
    )
    assert "other" not in out


@pytest.mark.parametrize(
    "x, n, expected",
    [
        (635.3, 2, "640"),
        (7535.0, 2, "7500"),
        (183.4, 3, "183"),
        (3842.0, 3, "3840"),
        (9.96, 2, "10"),
        (0.0258, 2, "0.026"),
        (1.0140e-9, 2, "1.0e-9"),
        (0.0016, 2, "1.6e-3"),
        (1.4e-5, 2, "1.4e-5"),
    ],
)
def test_significant_digits(x, n, expected):
    assert mt.sig(x, n) == expected


def test_alphas_keep_their_meaning():
    assert mt.a3(0.2446) == "0.245" and mt.a3(0.36453) == "0.365"
    assert mt.setting(1e-3) == "1e-3" and mt.setting(0.5) == "0.5"
