"""Writes the result tables and result sentences of the documentation from the committed
result files, so that no measured number in the docs is typed by hand.

    python tools/make_tables.py            # rewrite every generated region in place
    python tools/make_tables.py --check    # exit 1 listing the regions that differ and
                                           # any hand-typed measurement outside them

A generated region of a markdown file is delimited by two HTML comments,

    <!-- BEGIN GENERATED: name -->
    ...
    <!-- END GENERATED: name -->

and filled by the renderer `name`: a function from the result files
(`results/paper_scale/*.json`, `benchmarks/results.json`) to markdown, registered in the
sibling package `doc_tables` (one module per group of regions; this file is the engine,
the lint and the command line). A region whose
BEGIN comment ends its line is a block (the text sits on lines of its own, between blank
lines); otherwise it is inline. Every region must have a renderer and every renderer must fill a region.

Outside the regions, `lint` flags numbers that look like measurements (a time, a size in
bytes, a percentage, a ratio such as `5x`, or `~0.1`) unless they state a target or a
threshold (preceded by `<`, `>`, `<=` or `>=`) or appear in `ALLOWED` (settings such as a
task's 100 ms grace period). Parameters, settings and the paper's own reported values
may be typed by hand; results may not.

Only the standard library and NumPy are used (no JAX): the check takes well under a
second.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# The renderers live in the sibling package `doc_tables`; this folder is on the path when
# the file runs as a script, not when it is loaded by its path (as the tests do).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from doc_tables import (  # noqa: E402  (re-exported for the tests)
    BENCH,
    PAPER_DIR,
    RENDERERS,
    Sources,
    a3,
    renderer,
    setting,
    sig,
)

__all__ = ["BENCH", "PAPER_DIR", "RENDERERS", "Sources", "a3", "renderer", "setting", "sig"]

ROOT = Path(__file__).resolve().parent.parent

# The markdown files that may hold generated regions (and that `lint` checks).
DOCS = ("README.md", "REPRODUCTION.md", "benchmarks/README.md", "docs/*.md")

_MARKER = re.compile(r"<!-- (BEGIN|END) GENERATED: ([\w-]+) -->")


# ----------------------------------------------------------------------------- the engine


def doc_files(root: Path) -> list[Path]:
    out = []
    for pattern in DOCS:
        out += sorted(p for p in root.glob(pattern) if p.is_file())
    return out


def regions(text: str, where: str = "") -> list[tuple[str, int, int]]:
    """The generated regions of `text`: (name, start, end) of each region's contents.

    **Raises:** `ValueError` for an unbalanced or mismatched marker."""
    out, stack = [], None
    for m in _MARKER.finditer(text):
        kind, name = m.groups()
        if kind == "BEGIN":
            if stack is not None:
                raise ValueError(
                    f"{where}: region {stack[0]!r} is not closed before {name!r} begins"
                )
            stack = (name, m.end())
        else:
            if stack is None or stack[0] != name:
                raise ValueError(f"{where}: END of {name!r} without its BEGIN")
            out.append((name, stack[1], m.start()))
            stack = None
    if stack is not None:
        raise ValueError(f"{where}: region {stack[0]!r} is not closed")
    return out


def render_text(text: str, sources: Sources, where: str = "") -> tuple[str, list[str]]:
    """`text` with every region refilled. **Returns:** the new text and the names of
    the regions whose contents changed."""
    changed, pieces, pos = [], [], 0
    for name, start, end in regions(text, where):
        if name not in RENDERERS:
            raise ValueError(f"{where}: no renderer for region {name!r}")
        body = RENDERERS[name](sources).strip("\n")
        old = text[start:end]
        # A block keeps blank lines around its text, so that markdown sees the table or
        # paragraph as its own block between the two comments.
        new = f"\n\n{body}\n\n" if old.startswith("\n") else body.strip()
        if new != old:
            changed.append(name)
        pieces += [text[pos:start], new]
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), changed


def generate(root: Path = ROOT, *, write: bool) -> dict[str, list[str]]:
    """Refills every region of every doc under `root` (writing only when `write`).

    **Returns:** per file (relative path), the regions that differ(ed).

    **Raises:** `ValueError` when a region has no renderer, a renderer fills no region,
    or markers are unbalanced; `FileNotFoundError` when a result file is missing."""
    root = Path(root)
    sources = Sources(root)
    diffs, used, pending = {}, set(), []
    for path in doc_files(root):
        rel = str(path.relative_to(root))
        text = path.read_text()
        used |= {n for n, _, _ in regions(text, rel)}
        new, changed = render_text(text, sources, rel)
        if changed:
            diffs[rel] = changed
            pending.append((path, new))
    unused = sorted(set(RENDERERS) - used)
    if unused:
        raise ValueError(f"renderers that fill no region of the docs: {unused}")
    if write:
        for path, new in pending:
            path.write_text(new)
    return diffs


# ----------------------------------------------------------------------------- lint

# Measurement-like numbers: a time, a size in bytes, a rate, a percentage, a ratio (5x,
# 10-100x), or an approximation sign before a number.
_UNIT = r"(?:ms|s|sec|seconds?|min|minutes?|h|hours?|MiB|MB|KiB|kB|GiB|GB|GF/s|GFLOP/s|%)"
_NUM = r"\d+(?:\.\d+)?(?:e-?\d+)?"
_MEASURE = re.compile(
    rf"(?<![\w.]){_NUM}(?:\s*-\s*{_NUM})?\s*{_UNIT}(?![\w/])"  # a time, size, rate or percentage
    rf"|(?<![\w.]){_NUM}(?:\s*-\s*{_NUM})?x(?!\w)"  # a ratio: 5x, 10-100x
    rf"|~\s*\(?\s*\d"  # an approximate value
)
_THRESHOLD = re.compile(r"(?:<=|>=|<|>|≤|≥)\s*$")

# Settings with units that may be typed by hand (task timings, allocator thresholds).
ALLOWED = (
    "grace period is 100 ms",
    "tau = 100 ms",
    "tau_r = 100 ms",
    "per 100 ms",
    "1 GiB trim threshold",
    "default margin 1 %",
)


def _blank(text: str, spans) -> str:
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def lint_text(text: str, where: str = "") -> list[str]:
    """Measurement-like numbers of `text` outside generated regions, HTML comments and
    `ALLOWED` phrases: one `file:line: match` string each."""
    spans = [(s, e) for _, s, e in regions(text, where)]
    spans += [m.span() for m in re.finditer(r"<!--.*?-->", text, re.S)]
    for phrase in ALLOWED:
        spans += [m.span() for m in re.finditer(re.escape(phrase), text)]
    clean = _blank(text, spans)
    out = []
    for m in _MEASURE.finditer(clean):
        if _THRESHOLD.search(clean[max(0, m.start() - 4) : m.start()]):
            continue
        line = clean.count("\n", 0, m.start()) + 1
        out.append(f"{where}:{line}: {m.group(0).strip()!r}")
    return out


def lint(root: Path = ROOT) -> list[str]:
    """`lint_text` over every doc under `root`."""
    root = Path(root)
    out = []
    for path in doc_files(root):
        out += lint_text(path.read_text(), str(path.relative_to(root)))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 on any difference or stray number",
    )
    p.add_argument("--root", default=str(ROOT), help="repository root (default: this checkout)")
    a = p.parse_args(argv)
    root = Path(a.root)
    try:
        diffs = generate(root, write=not a.check)
        stray = lint(root)
    except (ValueError, FileNotFoundError) as e:
        print(f"make_tables: {e}", file=sys.stderr)
        return 2
    for rel, names in diffs.items():
        print(f"{rel}: {'differs' if a.check else 'rewritten'}: {', '.join(names)}")
    for s in stray:
        print(f"hand-typed measurement outside a generated region: {s}")
    if a.check and diffs:
        print("run `python tools/make_tables.py` to regenerate", file=sys.stderr)
    return 1 if (a.check and diffs) or stray else 0


if __name__ == "__main__":
    sys.exit(main())
