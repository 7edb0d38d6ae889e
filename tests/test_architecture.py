"""The dependency direction ``schema <- connectors <- hub`` and no import-time I/O
(``test_importing_every_module_does_no_io``)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
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


def _hub_imports(path: Path) -> set[str]:
    """The rooms of ``hub`` (``hub.domain``, ``hub.app``...) that a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            if node.module == "hub":
                modules |= {f"hub.{alias.name}" for alias in node.names}
    return {".".join(m.split(".")[:2]) for m in modules if m.startswith("hub.")}


_FEATURES = {
    "hub.api", "hub.sync", "hub.ingest", "hub.ministry", "hub.security", "hub.open311",
    "hub.dashboard", "hub.cli",
}  # fmt: skip
_ROOTS = {"hub.app", "hub.wiring", "hub.cli", "hub.demo"}
_WAYS_IN = {"hub.open311", "hub.dashboard"}
"""Rooms that serve people or other systems beside GraphQL; nothing below them imports them."""
HUB_FORBIDDEN = {
    # The domain decides and writes; it knows no way in (API, pulls) or out (sync).
    "domain": {"hub.api", "hub.sync", "hub.ingest", "hub.ministry", "hub.cli"} | _WAYS_IN | _ROOTS,
    # The store runs SQL for everyone and serves no feature in particular.
    "store": _FEATURES | _ROOTS,
    "sync": {"hub.api", "hub.ingest", "hub.ministry", "hub.cli"} | _WAYS_IN | _ROOTS,
    "ingest": {"hub.api", "hub.ministry", "hub.cli"} | _WAYS_IN | _ROOTS,
    "ministry": {"hub.sync", "hub.ingest", "hub.cli"} | _WAYS_IN | _ROOTS,
    "security": {"hub.sync", "hub.ingest", "hub.ministry", "hub.cli"} | _WAYS_IN | _ROOTS,
    "api": {"hub.ingest", "hub.cli"} | _WAYS_IN | _ROOTS,
    # Open311 is another way in beside GraphQL: it reads the index, writes through the
    # domain, and knows nothing of the GraphQL room, the pulls or the sync loops.
    "open311": {"hub.api", "hub.sync", "hub.ingest", "hub.cli", "hub.dashboard"} | _ROOTS,
    # The dashboard shows what the ministry's queries and the index's reads answer.
    "dashboard": {"hub.sync", "hub.ingest", "hub.cli", "hub.open311"} | _ROOTS,
    # The demo is apart from the hub proper: only the command line starts it.
    "demo": {"hub.api", "hub.sync", "hub.ingest", "hub.cli"} | _WAYS_IN | _ROOTS - {"hub.demo"},
}
"""Inside ``hub``: which rooms each room may not import. Only the command line (and the
composition root it calls) knows every room."""


@pytest.mark.parametrize("room", sorted(HUB_FORBIDDEN))
def test_rooms_inside_hub_point_one_way(room: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_hub_imports(path) & HUB_FORBIDDEN[room])
        for path in (ROOT / "hub" / room).rglob("*.py")
    }
    assert {p: bad for p, bad in offenders.items() if bad} == {}


def test_only_the_command_line_starts_the_demo() -> None:
    """Nothing on the hub's serving path imports the demo's sample data or sandboxes."""
    users = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "hub").rglob("*.py")
        if "hub.demo" in _hub_imports(path)
    }
    assert {u for u in users if not u.startswith(("hub/cli/", "hub/demo/"))} == set()


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
    allowed = {"__future__", "uuid", "dataclasses", "datetime", "collections.abc"}
    allowed.add("hub.domain.commands")
    allowed.add("hub.errors")
    assert {m for m in modules if m not in allowed and not m.startswith("schema.")} == set()
    # ``datetime`` for its types only: the caller says when a change happens.
    assert clocks == []


# What importing a module may not do: open a socket, write a file, start a process.
_IMPORT_WATCH = r"""
import importlib, json, os, sys

WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
PROCESS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork",
           "os.spawn", "pty.spawn"}
SOCKET = {"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
          "socket.sendto"}
seen = []
names = json.loads(sys.argv[1])
ours = set(names)

def culprit():
    # The innermost of the modules watched that is running: the one doing the I/O.
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__") in ours:
            return frame.f_globals["__name__"]
        frame = frame.f_back
    return "?"

def watch(event, args):
    if event == "open":
        path, mode, flags = args
        writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & WRITE)
        if writes and path is not None:
            seen.append((culprit(), "open for writing", str(path)))
    elif event in PROCESS or event in SOCKET:
        seen.append((culprit(), event, repr(args)[:200]))

sys.addaudithook(watch)
for name in names:
    importlib.import_module(name)
print(json.dumps(seen))
"""


def _modules(*packages: str) -> list[str]:
    names = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__":
                continue  # run as a program, never imported
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _io_at_import(modules: list[str], path: Path = ROOT) -> list[list[str]]:
    """(module, what, detail) of every socket, file write or process that importing
    ``modules`` (in order, in a fresh interpreter, from ``path``) caused."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(path)}
    done = subprocess.run(
        [sys.executable, "-B", "-c", _IMPORT_WATCH, json.dumps(modules)],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen: list[list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return seen


def test_importing_every_module_does_no_io() -> None:
    """No socket, no file written, no process started by importing any module of
    ``schema``, ``connectors`` or ``hub``: resources open in the lifespan only."""
    modules = _modules("schema", "connectors", "hub")
    assert len(modules) > 100
    assert _io_at_import(modules) == []


def test_the_import_watch_sees_a_socket_a_written_file_and_a_process(tmp_path: Path) -> None:
    """The watch above can fail: a module doing each kind of I/O at import is caught."""
    package = tmp_path / "noisy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "writes.py").write_text(
        f"open({str(tmp_path / 'out.txt')!r}, 'w').close()\n", encoding="utf-8"
    )
    (package / "connects.py").write_text(
        "import socket\nsocket.socket().close()\n", encoding="utf-8"
    )
    (package / "spawns.py").write_text(
        "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'])\n",
        encoding="utf-8",
    )
    (package / "quiet.py").write_text("VALUE = 1\n", encoding="utf-8")
    seen = _io_at_import(
        ["noisy.quiet", "noisy.writes", "noisy.connects", "noisy.spawns"], tmp_path
    )
    assert {(module, what) for module, what, _ in seen} == {
        ("noisy.writes", "open for writing"),
        ("noisy.connects", "socket.__new__"),
        ("noisy.spawns", "subprocess.Popen"),
    }


EFFECT_WRITERS = {
    "hub/store/sql/reports.sql": {"report_history", "outbox"},
    "hub/store/sql/initial_sync.sql": {"report_history"},
    "hub/store/effects.py": {"report_history"},
}
"""The store modules the domain core's effects feed, and what each of them writes."""
_WRITE_SQL = re.compile(r"\b(?:INSERT\s+INTO|COPY)\s+(?:\w+\.)?\"?(report_history|outbox)\b", re.I)
_COPY_CALLS = {"copy_records_to_table", "copy_to_table"}
"""asyncpg's COPY ... FROM STDIN, which takes its table as a string."""


def _tables_written(path: Path) -> set[str]:
    """``report_history`` and ``outbox`` if ``path`` holds SQL inserting or copying into
    them, or (Python) calls asyncpg's COPY and names them."""
    text = path.read_text(encoding="utf-8")
    written = {m.lower() for m in _WRITE_SQL.findall(text)}
    if path.suffix == ".py":
        nodes = list(ast.walk(ast.parse(text)))
        if any(
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in _COPY_CALLS
            for n in nodes
        ):
            written |= {
                n.value
                for n in nodes
                if isinstance(n, ast.Constant) and n.value in ("report_history", "outbox")
            }
    return written


def test_history_and_outbox_rows_come_only_from_the_cores_effects() -> None:
    """Every row of ``report_history`` and ``outbox`` is one the domain core decided: no
    module but the store's writers of its effects inserts or COPYs into them (the seed
    and the initial import included)."""
    writers = {
        str(path.relative_to(ROOT)): tables
        for package in ("schema", "connectors", "hub", "infra", "bench")
        for pattern in ("*.py", "*.sql")
        for path in (ROOT / package).rglob(pattern)
        if (tables := _tables_written(path))
    }
    assert writers == EFFECT_WRITERS


def test_the_effects_check_sees_sql_and_copy(tmp_path: Path) -> None:
    """The check above can fail: it sees each way of writing those tables."""
    probes = {
        "a.sql": "INSERT INTO\n  report_history (report_id) VALUES ($1)",
        "b.sql": "copy public.outbox FROM STDIN",
        "c.py": 'async def f(c):\n    await c.copy_records_to_table("report_history", records=[])',
        "d.py": 'T = {"outbox": ()}\nasync def f(c):\n    await c.copy_to_table(next(iter(T)))',
        "e.py": 'Q = "SELECT * FROM report_history; UPDATE outbox SET published_at = now()"',
    }
    seen = {}
    for name, text in probes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        seen[name] = _tables_written(tmp_path / name)
    assert seen == {
        "a.sql": {"report_history"},
        "b.sql": {"outbox"},
        "c.py": {"report_history"},
        "d.py": {"outbox"},
        "e.py": set(),
    }


STORE_RUNNERS = {"hub/store/connection.py", "hub/store/database.py"}
"""The two runners of named SQL: ``Session`` and ``Database``."""
SQL_READERS = {"tests/hub/domain/test_round_trips.py"}
"""Reads statements' text without running it: to recognise which ones the server saw."""


def _indexes_named_sql(path: Path) -> bool:
    """Whether a module looks a named statement up itself: ``x.sql["name"]`` or
    ``queries.load()[...]``/``queries.loaded()[...]``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Subscript):
            target = node.value
            if isinstance(target, ast.Attribute) and target.attr == "sql":
                return True
            if (
                isinstance(target, ast.Call)
                and isinstance(target.func, ast.Attribute)
                and target.func.attr in ("load", "loaded")
            ):
                return True
    return False


def test_named_sql_runs_one_way() -> None:
    """Every module runs a named statement through a ``Session`` or the ``Database`` by
    its name; none indexes the loaded statements itself."""
    lookers = {
        str(path.relative_to(ROOT))
        for package in ("hub", "bench", "tests")
        for path in (ROOT / package).rglob("*.py")
        if _indexes_named_sql(path)
    }
    assert lookers == STORE_RUNNERS | SQL_READERS


def test_the_one_way_check_sees_a_lookup(tmp_path: Path) -> None:
    """The check above can fail: it sees both spellings of a lookup, and not a name."""
    probes = {
        "a.py": 'async def f(db, conn):\n    await conn.fetch(db.sql["x"])',
        "b.py": 'from hub.store import queries\nQ = queries.load()["x"]',
        "c.py": 'async def f(db):\n    await db.fetch("x")',
    }
    seen = {}
    for name, text in probes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        seen[name] = _indexes_named_sql(tmp_path / name)
    assert seen == {"a.py": True, "b.py": True, "c.py": False}
