"""The import graph of the panel's own modules, read from the source (AST), and its rules.

Every ``import`` counts, at module level or inside a function (a deferred import still runs and
still ties two modules together); only imports under ``if TYPE_CHECKING:`` are left out, as they
never run. ``tests/test_architecture.py`` runs the checks on the repository and on small made-up
graphs, so a broken checker cannot pass silently.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterable

REPO = Path(__file__).resolve().parent.parent
# What the rules cover: the application's own code (app.py, tests and bench may use the factory).
SCANNED = ("services", "blueprints", "database.py", "extensions.py", "app_factory.py")

Graph = dict[str, set[str]]


def module_name(path: Path, root: Path) -> str:
    """``services/alerts/rules.py`` -> ``services.alerts.rules``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def scanned_files(root: Path = REPO, scanned: Iterable[str] = SCANNED) -> dict[str, Path]:
    """Module name -> file, for every .py file the rules cover."""
    files: dict[str, Path] = {}
    for entry in scanned:
        path = root / entry
        for file in ([path] if path.is_file() else sorted(path.rglob("*.py"))):
            files[module_name(file, root)] = file
    return files


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement in ``tree``, in functions and classes too, except TYPE_CHECKING ones."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _resolve(name: str, known: set[str]) -> str | None:
    """The longest known module that ``name`` is or lies in (None: not one of ours)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imports_of(module: str, source: str, known: set[str], is_package: bool = False) -> set[str]:
    """The known modules that ``source`` (the text of ``module``) imports."""
    found: set[str] = set()
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: from the module's package, one level up per extra dot
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            # ``from pkg import mod`` imports the submodule when there is one, else names of pkg.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        for target in targets:
            resolved = _resolve(target, known)
            if resolved is not None and resolved != module:
                found.add(resolved)
    return found


def build_graph(sources: dict[str, str], packages: set[str] = frozenset()) -> Graph:
    """Module -> the modules it imports, from {module name: source text}."""
    known = set(sources)
    return {name: imports_of(name, text, known, name in packages) for name, text in sources.items()}


def repository_graph(root: Path = REPO) -> Graph:
    """The import graph of every scanned module of the repository."""
    files = scanned_files(root)
    packages = {name for name, path in files.items() if path.name == "__init__.py"}
    return build_graph({name: path.read_text() for name, path in files.items()}, packages)


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected group of modules that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = [0]

    def connect(start: str) -> None:
        # Tarjan's algorithm, iterative so a deep graph cannot hit the recursion limit.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1 or node in graph.get(node, ()):
                        groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            connect(name)
    return [_cycle_in(graph, set(group)) for group in groups]


def _cycle_in(graph: Graph, group: set[str]) -> list[str]:
    """A path ``start -> ... -> start`` through ``group`` (shortest back to the start, by BFS)."""
    start = min(group)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1] + [start]
                if child in group and child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return sorted(group)


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _feature(module: str) -> str | None:
    """``services.alerts.rules`` -> ``services.alerts``; None outside a services package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 2 else None


def layer_violations(graph: Graph) -> list[str]:
    """Every import that breaks the layer contract, as ``importer -> imported: rule`` lines.

    - services never import blueprints or the factory (they never see a request);
    - ``services.infra`` imports no other services package (everything builds on it);
    - ``database`` and ``extensions`` import no services, blueprints or factory;
    - nothing scanned imports ``app_factory`` (only ``app.py``, tests and bench do).
    """
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            rule = None
            if _in(target, "app_factory"):
                rule = "only app.py, tests and bench import the factory"
            elif _in(module, "services") and _in(target, "blueprints"):
                rule = "services never import blueprints"
            elif _in(module, "services.infra") and _in(target, "services") and not (
                    _in(target, "services.infra") or target == "services"):
                rule = "services.infra imports no other services package"
            elif module in ("database", "extensions") and (
                    _in(target, "services") or _in(target, "blueprints")):
                rule = f"{module} imports no services or blueprints"
            if rule:
                found.append(f"{module} -> {target}: {rule}")
    return found
