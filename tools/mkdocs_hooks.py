"""mkdocs hooks (`hooks:` in mkdocs.yml): links from the docs to files of the repository.

The markdown of `docs/` is read on GitHub as well as on the site, so a page may link to a
file outside `docs/` with a relative path (`[REPRODUCTION.md](../REPRODUCTION.md)`), which
mkdocs cannot resolve. Before a page is rendered, such a link is rewritten:

- to the site page that includes the file (`ROOT_PAGES`: REPRODUCTION.md, CHANGELOG.md,
  benchmarks/README.md, and README.md to the home page);
- for any other existing file of the repository (a script, a test, a configuration), to
  its path as inline code: the site does not host the repository's files.

A link to a file that does not exist is left alone, so that `mkdocs build --strict` still
fails on it. Links inside `docs/`, absolute URLs and anchors are not touched.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROOT_PAGES = {
    "README.md": "index.md",
    "REPRODUCTION.md": "reproduction.md",
    "CHANGELOG.md": "changelog.md",
    "benchmarks/README.md": "benchmarks.md",
}
_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def rewrite_links(markdown: str, page_path: str) -> str:
    """`markdown` of the page at `docs/<page_path>` with its links out of `docs/` rewritten."""
    page_dir = posixpath.dirname(posixpath.join("docs", page_path))

    def replace(m: re.Match) -> str:
        target = m.group("target")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return m.group(0)
        path, _, anchor = target.partition("#")
        repo_path = posixpath.normpath(posixpath.join(page_dir, path))
        if repo_path.startswith(("docs/", "../")) or repo_path in ("docs", ".."):
            return m.group(0)
        if not (ROOT / repo_path).exists():
            return m.group(0)
        if repo_path in ROOT_PAGES:
            site_page = posixpath.relpath(posixpath.join("docs", ROOT_PAGES[repo_path]), page_dir)
            return f"[{m.group('text')}]({site_page}{'#' + anchor if anchor else ''})"
        text = m.group("text")
        return text if text.strip("`") == repo_path else f"{text} (`{repo_path}`)"

    # Code blocks are left as they are.
    out, last = [], 0
    for fence in _FENCE.finditer(markdown):
        out.append(_LINK.sub(replace, markdown[last : fence.start()]))
        out.append(fence.group(0))
        last = fence.end()
    out.append(_LINK.sub(replace, markdown[last:]))
    return "".join(out)


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 - mkdocs' signature
    return rewrite_links(markdown, page.file.src_uri)
