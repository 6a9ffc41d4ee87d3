"""Dependencies point one way: no import cycles, and the layer contract of ``tests/architecture.py``.

Imports inside functions count. The checker itself is tested on small made-up module graphs and
on a copy of the repository with a cycle planted in it, so a checker that finds nothing fails.
"""
from __future__ import annotations

import shutil

from tests.architecture import (
    REPO, SCANNED, build_graph, find_cycles, layer_violations, repository_graph,
)


def test_no_module_imports_itself_back():
    cycles = find_cycles(repository_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_layer_contract_holds():
    violations = layer_violations(repository_graph())
    assert not violations, "layer contract broken:\n" + "\n".join(violations)


def test_the_graph_is_the_real_one():
    graph = repository_graph()
    # What the rules lean on is really read: deferred and package-relative imports included.
    assert "services.alerts.dispatch" in graph["services.live.jobs"]
    assert "services.live.scheduler" in graph["services.live.jobs"]
    assert "services.infra.bus" in graph["services.alerts.dispatch"]
    assert "extensions" in graph["blueprints.sockets"]
    assert not any(target.startswith("services.live") for target in graph["services.alerts.dispatch"])


def test_checker_finds_a_cycle_through_an_import_inside_a_function():
    graph = build_graph({
        "services.a.one": "from services.b import two\n",
        "services.b.two": "def later():\n    from services.a.one import thing\n",
        "services.c.three": "import services.a.one\n",
    })
    assert find_cycles(graph) == [["services.a.one", "services.b.two", "services.a.one"]]


def test_checker_reports_the_path_of_a_longer_cycle_and_ignores_type_checking_imports():
    graph = build_graph({
        "m.a": "import m.b\n",
        "m.b": "from m import c\n",
        "m.c": "def f():\n    import m.a\n",
        "m.d": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import m.e\n",
        "m.e": "import m.d\n",
        "m": "",
    })
    assert find_cycles(graph) == [["m.a", "m.b", "m.c", "m.a"]]


def test_checker_resolves_relative_imports_and_self_imports():
    graph = build_graph({"p": "", "p.x": "from . import y\n", "p.y": "from .x import f\n"}, {"p"})
    assert graph["p.x"] == {"p.y"} and graph["p.y"] == {"p.x"}
    assert find_cycles(graph) == [["p.x", "p.y", "p.x"]]
    assert find_cycles({"solo": {"solo"}}) == [["solo", "solo"]]


def test_checker_reports_each_broken_layer_rule():
    graph = build_graph({
        "app_factory": "",
        "database": "def f():\n    from services.alerts import rules\n",
        "extensions": "",
        "blueprints.pages": "from app_factory import create_app\n",
        "services.alerts.rules": "from blueprints import pages\n",
        "services.infra.bus": "import services.alerts.rules\nfrom services.infra import topics\n",
        "services.infra.topics": "",
    })
    assert layer_violations(graph) == [
        "blueprints.pages -> app_factory: only app.py, tests and bench import the factory",
        "database -> services.alerts.rules: database imports no services or blueprints",
        "services.alerts.rules -> blueprints.pages: services never import blueprints",
        "services.infra.bus -> services.alerts.rules: services.infra imports no other services package",
    ]


def test_checker_fails_on_a_cycle_planted_in_a_copy_of_the_repository(tmp_path):
    for entry in SCANNED:
        source = REPO / entry
        if source.is_dir():
            shutil.copytree(source, tmp_path / entry, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / entry)
    planted = tmp_path / "services" / "alerts" / "dispatch.py"
    planted.write_text(planted.read_text() + "\n\ndef _planted():\n    from services.live import jobs\n")
    cycles = find_cycles(repository_graph(tmp_path))
    assert cycles, "a planted cycle went unnoticed"
    assert any("services.alerts.dispatch" in cycle and "services.live.jobs" in cycle for cycle in cycles)
