"""A fresh machine gets what the code imports: the requirements files name every package used.

CI runs the README's commands in a new virtualenv (``.ci/run``); these tests catch a missing
requirement without that virtualenv, on any machine that happens to have the package installed.
"""
from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = sorted(ROOT.glob("requirements*.txt"))
SKIP_DIRS = {".git", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis", "instance"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def listed_distributions() -> set[str]:
    """Every distribution named in requirements*.txt (normalised, extras and versions dropped)."""
    names = set()
    for path in REQUIREMENTS:
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                names.add(_normalise(re.split(r"[\[<>=!~;@ ]", line, maxsplit=1)[0]))
    return names


def python_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts)]


def _is_local(top: str, source: Path) -> bool:
    """A module of this repository: at the top level, or beside the importing script (bench/)."""
    return any((folder / f"{top}.py").exists() or (folder / top).is_dir()
               for folder in (ROOT, source.parent))


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module name -> files importing it, for every import that is neither stdlib nor ours."""
    found: dict[str, set[str]] = {}
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top != "__future__" and not _is_local(top, path):
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_in_a_requirements_file():
    providers = importlib.metadata.packages_distributions()
    listed = listed_distributions()
    problems = []
    for module, files in sorted(third_party_imports().items()):
        where = ", ".join(sorted(files)[:3])
        dists = providers.get(module)
        if not dists:
            problems.append(f"{module} (imported by {where}) is not installed: which package provides it?")
        elif not listed.intersection(_normalise(d) for d in dists):
            problems.append(f"{module} (imported by {where}) comes from {' or '.join(sorted(set(dists)))}, "
                            f"which no requirements*.txt lists")
    assert not problems, "\n".join(problems)


def test_the_scan_sees_imports_of_every_kind():
    """The scanner is not blind: it finds imports in tests, benchmarks, the app and inside functions."""
    imports = third_party_imports()
    assert "tests/test_openapi.py" in imports["jsonschema"]
    assert any(f.startswith("bench/") for f in imports["psutil"])
    assert "blueprints/cli.py" in imports["click"]
    assert "yaml" in imports and "flask" in imports
    assert "pg_schema" not in imports  # bench/pg_schema.py, imported by its neighbour
    assert not {"database", "services", "tests", "os", "json"} & set(imports)


def test_every_requirement_is_pinned():
    """A fresh machine must get the versions that were tested, not whatever is newest that day."""
    loose = [f"{path.name}: {line}" for path in REQUIREMENTS for line in path.read_text().splitlines()
             if line.strip() and not line.startswith(("#", "-")) and "==" not in line]
    assert not loose


README_COMMANDS = [sys.executable, str(ROOT / ".ci" / "readme_commands.py")]


def test_ci_reads_the_readme_test_command():
    out = subprocess.run([*README_COMMANDS, str(ROOT / "README.md"), "Test it"], capture_output=True,
                         text=True, timeout=30, check=True).stdout.strip()
    assert "pip install" in out and "requirements-dev.txt" in out and "pytest" in out


@pytest.mark.parametrize("readme", [
    "# Panel\n\nNo test section at all.\n",
    "**Test it**\n\nJust run the tests.\n\n## Next section\n\n```bash\nrm -rf /\n```\n",
    "**Test it**\n\n```bash\n# only a comment\n```\n",
])
def test_ci_fails_loudly_when_the_readme_lost_its_test_command(tmp_path, readme):
    path = tmp_path / "README.md"
    path.write_text(readme)
    proc = subprocess.run([*README_COMMANDS, str(path), "Test it"], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "error:" in proc.stderr and "Test it" in proc.stderr
