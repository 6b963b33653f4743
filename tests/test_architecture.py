"""The tree is the architecture: packages import only downwards, never in a cycle, and stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each layer may import itself and the layers below it (to its right), never those above.
SHARED_LAYERS = ["triggers", "review", "training", "predictions", "forms", "clients", "base"]
MAX_MODULES_PER_FOLDER = 10
MAX_LINES = 400


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path, modules: set[str] | None = None) -> set[str]:
    """Modules imported; `from pkg import mod` counts as mod alone when `modules` knows it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names}
            known = subs & modules if modules is not None else set()
            found.update(known or {node.module})
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _graph(package: str) -> dict[str, set[str]]:
    modules = {_module(p): p for p in (ROOT / package).rglob("*.py")}
    names = set(modules)
    return {m: {i for i in _imports(p, names) if i in modules and i != m} for m, p in modules.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else "base"


@pytest.mark.parametrize("package", ["shared", "engine", "devhost", "formloop", "formgen"])
def test_imports_have_no_cycle(package: str) -> None:
    graph = _graph(package)
    done: set[str] = set()

    def visit(m: str, path: list[str]) -> None:
        if m in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(m):], m]))
        if m in done:
            return
        for n in graph[m]:
            visit(n, [*path, m])
        done.add(m)

    for module in graph:
        visit(module, [])


def test_shared_and_engine_never_import_each_other() -> None:
    for package, other in (("shared", "engine"), ("engine", "shared")):
        for path in (ROOT / package).rglob("*.py"):
            bad = {i for i in _imports(path) if i.split(".")[0] == other}
            assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_shared_imports_only_downwards() -> None:
    for module, deps in _graph("shared").items():
        if module == "shared.runtime":  # per-process plumbing: builds the clients
            continue
        mine = SHARED_LAYERS.index(_layer(module))
        for dep in deps:
            theirs = SHARED_LAYERS.index(_layer(dep))
            assert theirs >= mine, f"{module} ({_layer(module)}) imports {dep} ({_layer(dep)}), a layer above"


@pytest.mark.parametrize("package", ["shared", "engine"])
def test_folders_stay_small(package: str) -> None:
    for folder in [ROOT / package, *[p for p in (ROOT / package).rglob("*") if p.is_dir()]]:
        modules = [p for p in folder.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
        assert len(modules) <= MAX_MODULES_PER_FOLDER, f"{folder.relative_to(ROOT)}: {len(modules)} modules"
        if (folder / "__init__.py").exists():
            doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
            assert doc, f"{folder.relative_to(ROOT)}/__init__.py says what the package is for"


@pytest.mark.parametrize("package", ["shared", "engine", "devhost", "formloop", "formgen"])
def test_long_modules_say_why(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        text = path.read_text()
        if text.count("\n") > MAX_LINES:
            doc = ast.get_docstring(ast.parse(text)) or ""
            assert "Why it is long" in doc, f"{path.relative_to(ROOT)}: over {MAX_LINES} lines, no reason"


def _closure(names: set[str]) -> set[str]:
    """The distributions named and every one they require (installed ones), by normalised name."""
    import re
    from importlib.metadata import PackageNotFoundError, requires

    norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()  # noqa: E731
    todo, seen = [norm(n) for n in names], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            for req in requires(name) or []:
                if "extra ==" in req and "crypto" not in req:
                    continue
                todo.append(norm(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0]))
        except PackageNotFoundError:
            pass
    return seen


def _listed(requirements: Path) -> set[str]:
    """Distribution names a requirements file pins, following its `-r` includes."""
    import re

    names: set[str] = set()
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= _listed(requirements.parent / line[3:].strip())
        elif line:
            names.add(re.split(r"[ ;<>=!~\[]", line, maxsplit=1)[0])
    return names


# What each install serves: the deployed app (Azure installs requirements.txt alone) and the local stack
# that `make run` installs (requirements-local.txt plus the models-only wheel installed without its deps).
INSTALLS = {
    "deployed app": (["requirements.txt"], ["function_app.py", "shared"]),
    "local stack (make run)": (["requirements-local.txt", "engine/requirements-nodeps.txt"],
                               ["function_app.py", "shared", "engine", "devhost", "formloop"]),
}


@pytest.mark.parametrize("install", sorted(INSTALLS))
def test_each_install_needs_nothing_outside_its_requirements(install: str) -> None:
    """Test tools (pytest, Playwright, reportlab...) stay in requirements-dev.txt, out of what a user runs."""
    import re
    import sys
    from importlib.metadata import packages_distributions

    files, roots = INSTALLS[install]
    allowed = _closure(set().union(*(_listed(ROOT / f) for f in files)))
    providers = packages_distributions()
    paths = [p for r in roots for p in ([ROOT / r] if r.endswith(".py") else (ROOT / r).rglob("*.py"))]
    own = {Path(r).stem for r in roots}
    missing = set()
    for path in paths:
        for module in _imports(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in own or top == "__future__":
                continue
            dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(top, [top])}
            if not dists & allowed:
                missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert not missing, f"imported by the {install} but not in {files}: {sorted(missing)}"
