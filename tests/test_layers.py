"""The layers of the house cannot be crossed.

Reads every import of the package (top level and inside functions, with `ast`, never by
importing) and fails on

- an import from a higher layer (data flows upward only: a model never imports the
  trainer, the trainer never imports tasks, a figure never reaches the command line);
- an import into another package's private module (`from ..models._aru import ...` from
  outside `adaptive_rnn.models`): each subpackage is used through its public face.

The benchmarks are held to the public API: they import no private name of the library.
The layer map below is the one written down in `docs/extending.md`.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "adaptive_rnn"

# Bottom to top. A module may import modules of its own layer or of any layer below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("ground floor", ("_errors", "_checks", "_cpu")),
    ("vector fields", ("_activations", "_fields")),
    ("parametrisations and connectivity", ("_params", "_connectivity")),
    ("models", ("models",)),
    (
        "integration, files and regularisers",
        (
            "_solve",
            "_solve_checks",
            "_solve_common",
            "_solve_discrete",
            "_solve_continuous",
            "_solve_parallel",
            "_noise",
            "_io",
            "_regularisers",
            "_nn4n",
            "_ncps",
        ),
    ),
    ("training", ("train",)),
    ("data and tasks", ("tasks", "recordings")),
    ("analysis", ("analysis",)),
    ("reproduction", ("paper",)),
    ("recipes", ("recipes",)),
    ("faces", ("cli", "_commands")),
]
FACE = {"cli", "_commands"}
LEVEL = {name: i for i, (_, names) in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imports(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """Absolute names of every module imported by `path` (module `name`, by default
    derived from the path), with line numbers; for `from X import a`, both `X` and
    `X.a` (a may be a submodule)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = (name or _module_name(path)).split(".")
    package = here if _is_package(path) else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
            for alias in node.names:
                found.append((node.lineno, f"{mod}.{alias.name}"))
    return found


def _level_of(parts: list[str]) -> int | None:
    """The layer of `adaptive_rnn.<parts...>` (None for the top-level `__init__`)."""
    if not parts:
        return None
    return LEVEL.get(parts[0])


def _module_violations(name: str, path: Path, modules: set[str]) -> list[str]:
    parts = name.split(".")[1:]
    if not parts:  # adaptive_rnn/__init__.py: the public face re-exports every layer
        return []
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    mine = _level_of(parts)
    if mine is None:
        return [f"{where}: module not in the layer map"]
    out: dict[tuple[int, str], str] = {}  # one message per import statement and kind
    for line, target in _imports(path, name):
        tparts = target.split(".")
        if tparts[0] != "adaptive_rnn" or len(tparts) < 2:
            continue
        theirs = LEVEL.get(tparts[1])
        if theirs is None:  # `from adaptive_rnn import x`: a public name
            continue
        if theirs > mine:
            out.setdefault(
                (line, "up"),
                (
                    f"{where}:{line}: {LAYERS[mine][0]} imports {target} "
                    f"({LAYERS[theirs][0]}, a higher layer)"
                ),
            )
        # A private module of another subpackage (`cli.py` and `_commands/` are one face).
        same_face = {tparts[1], parts[0]} <= FACE
        if (
            len(tparts) >= 3
            and tparts[1] != parts[0]
            and not same_face
            and tparts[2].startswith("_")
            and ".".join(tparts[:3]) in modules
        ):
            out.setdefault(
                (line, "private"),
                (
                    f"{where}:{line}: imports {target}, a private module of "
                    f"adaptive_rnn.{tparts[1]}; expected its public face"
                ),
            )
    return list(out.values())


def _violations() -> list[str]:
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    out = []
    for name, path in sorted(modules.items()):
        out += _module_violations(name, path, set(modules))
    return sorted(set(out))


def _benchmark_violations() -> list[str]:
    out = {}
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        for line, target in _imports(path, f"benchmarks.{path.stem}"):
            tparts = target.split(".")
            if tparts[0] == "adaptive_rnn" and any(p.startswith("_") for p in tparts[1:]):
                out.setdefault(
                    (path.name, line),
                    f"{path.relative_to(ROOT)}:{line}: imports {target}, a private name",
                )
    return sorted(out.values())


def test_the_layer_map_covers_every_module():
    names = {
        p.relative_to(PKG).parts[0].removesuffix(".py")
        for p in PKG.iterdir()
        if p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists())
    }
    missing = sorted(names - set(LEVEL) - {"__init__"})
    assert not missing, f"modules without a layer: {missing}"


def test_no_import_crosses_a_layer_or_enters_a_private_module():
    violations = _violations()
    assert not violations, f"{len(violations)} layering violations:\n" + "\n".join(violations)


def test_benchmarks_use_the_public_api():
    violations = _benchmark_violations()
    assert not violations, f"{len(violations)} private imports:\n" + "\n".join(violations)


def test_the_checker_finds_upward_and_private_imports_inside_functions(tmp_path):
    src = tmp_path / "fake.py"
    src.write_text(
        "import jax\n"
        "from .._checks import check_int\n"  # ground floor: fine
        "def f():\n"
        "    from ..train import fit\n"  # models -> training: upward
        "    from ..tasks._teacher import teacher_data\n"  # upward and private
        "    from ._base import AbstractRNN\n"  # own package's private module: fine
    )
    modules = {"adaptive_rnn.tasks._teacher", "adaptive_rnn.models._base"}
    found = _module_violations("adaptive_rnn.models.fake", src, modules)
    assert sum("a higher layer" in v for v in found) == 2, found  # train; tasks._teacher
    assert sum("a private module of adaptive_rnn.tasks" in v for v in found) == 1, found
    assert not any("_checks" in v or "_base" in v for v in found), found


if __name__ == "__main__":  # pragma: no cover - prints the violations for a report
    v, b = _violations(), _benchmark_violations()
    print("\n".join(v + b))
    print(f"{len(v)} package violations, {len(b)} benchmark violations")
