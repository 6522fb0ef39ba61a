"""The docs build's link hook (tools/mkdocs_hooks.py): links from docs/ to files of the
repository become links to the site page that includes them, or the file's path; links
inside docs/, to missing files, to the web and inside code blocks are left alone."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "tools" / "mkdocs_hooks.py")
assert _spec is not None and _spec.loader is not None
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)


def test_root_documents_link_to_their_pages():
    md = "[R](../../REPRODUCTION.md#e2), [B](../../benchmarks/README.md), [C](../../CHANGELOG.md)"
    assert hooks.rewrite_links(md, "models/aru.md") == (
        "[R](../reproduction.md#e2), [B](../benchmarks.md), [C](../changelog.md)"
    )
    assert hooks.rewrite_links("[home](../README.md)", "training.md") == "[home](index.md)"


def test_other_repository_files_become_their_path():
    md = "[the config](../examples/sweep_fig2.toml) and [`tests/test_ltc.py`](../tests/test_ltc.py)"
    assert hooks.rewrite_links(md, "index.md") == (
        "the config (`examples/sweep_fig2.toml`) and `tests/test_ltc.py`"
    )


def test_left_alone():
    md = (
        "[a](training.md#sweeps) [b](../missing_file.md) [c](https://example.org/x.md) "
        "[d](#here) ![e](../results/fig.png)\n```\n[f](../REPRODUCTION.md)\n```\n"
    )
    assert hooks.rewrite_links(md, "index.md") == md
