"""The test suite's root: its fixture plugins (``tests/fixtures``) and CI's rule that
no test may be skipped."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.kafka",
    "tests.fixtures.app",
    "tests.fixtures.sandbox",
    "tests.fixtures.hangs",
]

# In CI every test must run: a skipped test turns the run red.
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and os.environ.get("CI"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped:
        print(f"\nCI forbids skipped tests; skipped: {', '.join(_skipped)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
