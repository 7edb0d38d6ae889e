"""The dependency direction ``schema <- connectors <- hub`` and no import-time I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "schema": {"connectors", "hub", "infra", "strawberry", "asyncpg", "starlette", "aiokafka"},
    "connectors": {"hub", "infra"},
    "infra": {"hub", "connectors"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {p: bad for p, bad in offenders.items() if bad} == {}


def test_the_unrelated_pypi_schema_package_is_not_a_dependency() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert (
        '"schema' not in text.split("[project.optional-dependencies]")[0].split("dependencies")[1]
    )


def test_the_domain_core_does_no_io() -> None:
    """``hub/domain/core.py`` decides; it reads no database, bus, network or clock."""
    tree = ast.parse((ROOT / "hub" / "domain" / "core.py").read_text(encoding="utf-8"))
    modules: set[str] = set()
    clocks: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
        elif isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today"}:
            clocks.append(ast.unparse(node))
    allowed = {"__future__", "uuid", "dataclasses", "datetime", "hub.domain.commands"}
    allowed.add("hub.errors")
    assert {m for m in modules if m not in allowed and not m.startswith("schema.")} == set()
    # ``datetime`` for its types only: the caller says when a change happens.
    assert clocks == []
