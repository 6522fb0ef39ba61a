"""The API reference covers every public name, and every public docstring names its
arguments.

**Public names.** The public modules are `PUBLIC_MODULES`. A module's public names are its
`__all__` when it defines one; otherwise (the package is `py.typed`, so this is the rule
type checkers apply) every name its `__init__.py` binds at top level that does not start
with `_` and is either an explicit re-export (`from ._x import Name as Name`) or defined
there (`def`, `class`, assignment). Submodules are not names (the experiment modules of
`adaptive_rnn.paper` are documented through their package's functions).

**Reference entries.** An entry is a line `::: dotted.path` of a page under `docs/api/`
(a mkdocstrings directive). A public name is covered when some entry resolves to the same
Python object (so `adaptive_rnn.fit` is covered by `::: adaptive_rnn.train.fit`); a
constant (a dict, tuple or string) is covered by an entry of its exact dotted name under
any public module that exports it.

**Arguments.** For every public function and class, each parameter of its signature
(for a class: of the constructor, i.e. `inspect.signature(cls)`) except `self`, `cls` and
the catch-alls `*args` and `**kwargs` must appear in backticks (`` `name` ``) inside an
argument section of its docstring. A section starts at a line beginning with
`**Arguments:**` (for a class also `**Fields:**`, for constructors whose parameters are
the class's fields) and ends at the next line beginning with a bold heading
(`**Returns:**`, `**Raises:**`, ...) or at the end of the docstring. For a class, the class
docstring and its own `__init__` docstring are both read. A signature with no such
parameter needs no section. Methods are not checked.

`tests/data/api_docstring_todo.txt` lists names (`module.name`, one per line, `#`
comments) whose docstrings are still being written; they are reported, not failed. The
file is emptied when they are done; a listed name that now passes fails the test, so the
list only shrinks.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API_DIR = ROOT / "docs" / "api"
TODO_FILE = ROOT / "tests" / "data" / "api_docstring_todo.txt"

PUBLIC_MODULES = (
    "adaptive_rnn",
    "adaptive_rnn.models",
    "adaptive_rnn.train",
    "adaptive_rnn.tasks",
    "adaptive_rnn.recordings",
    "adaptive_rnn.analysis",
    "adaptive_rnn.recipes",
    "adaptive_rnn.paper",
)

_DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.MULTILINE)
_HEADING = re.compile(r"^\s*\*\*[A-Z][\w ]*:\*\*", re.MULTILINE)


def public_names(module_name: str) -> list[str]:
    """The public names of `module_name` under the rule of the module docstring."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text())
    names: list[str] = []

    def visit(body):
        for node in body:
            if isinstance(node, ast.ImportFrom):
                names.extend(a.asname for a in node.names if a.asname and a.asname == a.name)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.append(node.target.id)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    out = []
    for name in dict.fromkeys(names):
        if name.startswith("_"):
            continue
        if isinstance(getattr(module, name), types.ModuleType):
            continue
        out.append(name)
    return out


def all_public() -> dict[str, object]:
    """`module.name` -> object, for every public name of every public module."""
    out = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            out[f"{module_name}.{name}"] = getattr(module, name)
    return out


def reference_entries() -> dict[str, str]:
    """Dotted path -> the page (relative to docs/) of every `:::` directive."""
    entries = {}
    for page in sorted(API_DIR.glob("*.md")):
        for path in _DIRECTIVE.findall(page.read_text()):
            entries[path] = str(page.relative_to(ROOT / "docs"))
    return entries


def resolve(path: str):
    """The object a dotted path names (module prefix, then attributes)."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def _is_documentable_constant(obj) -> bool:
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or callable(obj))


def missing_reference(public: dict[str, object], entries: dict[str, str]) -> list[str]:
    resolved = {}
    for path in entries:
        try:
            resolved[path] = resolve(path)
        except (ImportError, AttributeError):
            pass
    ids = {id(obj) for path, obj in resolved.items() if not _is_documentable_constant(obj)}
    missing = []
    for dotted, obj in public.items():
        if _is_documentable_constant(obj):
            # Constants: the same object under any public module's exact name.
            name = dotted.rsplit(".", 1)[1]
            if not any(p.rsplit(".", 1)[-1] == name and resolved.get(p) is obj for p in resolved):
                missing.append(dotted)
        elif id(obj) not in ids:
            missing.append(dotted)
    return missing


def argument_sections(doc: str | None, headings: tuple[str, ...]) -> str:
    """The text of every section of `doc` whose heading is one of `headings`."""
    if not doc:
        return ""
    doc = inspect.cleandoc(doc)
    text = []
    starts = [m.start() for m in _HEADING.finditer(doc)] + [len(doc)]
    for start, end in zip(starts[:-1], starts[1:]):
        block = doc[start:end].lstrip()
        if any(block.startswith(f"**{h}:**") for h in headings):
            text.append(block)
    return "\n".join(text)


def checked_parameters(obj) -> list[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls")
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def undocumented_arguments(obj) -> list[str]:
    """The parameters of `obj` not named in an argument section of its docstring."""
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return []
        text = argument_sections(obj.__doc__, ("Arguments", "Fields"))
        init = obj.__dict__.get("__init__")
        if init is not None and inspect.isfunction(init):
            text += "\n" + argument_sections(init.__doc__, ("Arguments",))
    elif inspect.isroutine(obj):
        text = argument_sections(obj.__doc__, ("Arguments",))
    else:
        return []
    return [p for p in checked_parameters(obj) if f"`{p}`" not in text]


def read_todo() -> set[str]:
    if not TODO_FILE.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in TODO_FILE.read_text().splitlines())
    return {line for line in lines if line}


def docstring_problems() -> dict[str, list[str]]:
    """`module.name` -> undocumented parameters, one entry per object (its first name)."""
    problems, seen = {}, set()
    for dotted, obj in all_public().items():
        if id(obj) in seen or _is_documentable_constant(obj):
            continue
        seen.add(id(obj))
        missing = undocumented_arguments(obj)
        if missing:
            problems[dotted] = missing
    return problems


def _aliases(obj) -> set[str]:
    return {dotted for dotted, o in all_public().items() if o is obj}


# ---------------------------------------------------------------------------------------


def test_public_names_found():
    public = all_public()
    # The rule finds the re-exports: a few names every reader looks for.
    for name in ("adaptive_rnn.ARU", "adaptive_rnn.fit", "adaptive_rnn.train.sweep"):
        assert name in public
    assert "adaptive_rnn.importlib" not in public
    assert not any(name.startswith("adaptive_rnn.paper.fig") for name in public)
    assert len(public) > 150


def test_every_public_name_has_a_reference_entry():
    entries = reference_entries()
    assert entries, "no ::: directive under docs/api/"
    missing = missing_reference(all_public(), entries)
    assert not missing, "public names without an entry under docs/api/: " + ", ".join(missing)


def test_reference_entries_resolve():
    bad = []
    for path, page in reference_entries().items():
        try:
            resolve(path)
        except (ImportError, AttributeError):
            bad.append(f"{page}: {path}")
    assert not bad, "::: directives naming nothing: " + ", ".join(bad)


def test_public_docstrings_name_their_arguments():
    todo = read_todo()
    problems = docstring_problems()
    failing = {
        name: missing for name, missing in problems.items() if not (_aliases(resolve(name)) & todo)
    }
    assert not failing, "docstrings without these arguments in **Arguments:**: " + "; ".join(
        f"{name}: {', '.join(missing)}" for name, missing in sorted(failing.items())
    )


def test_todo_list_only_shrinks():
    todo = read_todo()
    public = all_public()
    unknown = sorted(todo - set(public))
    assert not unknown, f"{TODO_FILE.name} names no public name: {unknown}"
    problems = docstring_problems()
    flagged = set()
    for name in problems:
        flagged |= _aliases(resolve(name))
    done = sorted(todo - flagged)
    assert not done, f"documented now, remove from {TODO_FILE.name}: {done}"


# The checker itself, on small examples.


def _documented(a, b, *args, c=1, **kwargs):
    """Adds.

    **Arguments:**

    - `a`, `b`: numbers.
    - `c`: another.

    **Returns:** the sum, mentioning `missing` here does not count.
    """


def _undocumented(a, missing):
    """Adds.

    **Arguments:**

    - `a`: a number.

    **Returns:** `missing` named here is not an argument section.
    """


class _Fields:
    """A record.

    **Fields:**

    - `x`: one.
    """

    def __init__(self, x, y):
        """**Arguments:** `y`: two."""


@pytest.mark.parametrize(
    "obj, expected",
    [(_documented, []), (_undocumented, ["missing"]), (_Fields, [])],
)
def test_checker(obj, expected):
    assert undocumented_arguments(obj) == expected


def test_checker_sees_a_missing_entry():
    public: dict[str, object] = {"adaptive_rnn.fit": resolve("adaptive_rnn.fit")}
    assert missing_reference(public, {"adaptive_rnn.train.fit": "x.md"}) == []
    assert missing_reference(public, {"adaptive_rnn.train.sweep": "x.md"}) == ["adaptive_rnn.fit"]
