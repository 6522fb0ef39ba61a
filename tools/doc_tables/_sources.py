"""The result files the tables are written from (`Sources`), and the registry of
renderers (`RENDERERS`, filled by `@renderer(name)`, one per generated region)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

PAPER_DIR = "results/paper_scale"
BENCH = "benchmarks/results.json"


class Sources:
    """The committed result files under `root`, each read once."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._cache: dict[str, object] = {}

    def json(self, rel: str):
        if rel not in self._cache:
            path = self.root / rel
            if not path.is_file():
                raise FileNotFoundError(f"result file {rel} is missing under {self.root}")
            self._cache[rel] = json.loads(path.read_text())
        return self._cache[rel]

    def paper(self, name: str) -> dict:
        return self.json(f"{PAPER_DIR}/{name}.json")

    @property
    def bench(self) -> dict:
        return self.json(BENCH)


RENDERERS: dict[str, Callable[[Sources], str]] = {}


def renderer(name: str):
    """Registers `fn(sources) -> markdown` as the renderer of region `name`."""

    def deco(fn):
        RENDERERS[name] = fn
        return fn

    return deco
