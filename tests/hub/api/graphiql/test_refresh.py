"""The shipped GraphiQL assets are exactly what the pins and the manifest say."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from hub.api.graphiql.refresh import MANIFEST, PINS, STATIC, manifest_for


def _rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(MANIFEST.read_text("utf-8"))
    return rows


def test_every_shipped_file_matches_its_manifest_row() -> None:
    rows = _rows()
    for row in rows:
        data = (STATIC / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["path"]
    shipped = {p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file()}
    assert shipped - {"boot.js"} == {row["path"] for row in rows}


def test_the_manifest_is_what_refresh_writes_for_the_pins() -> None:
    # A pin changed without running the refresh shows up here, offline.
    shipped = {take: (STATIC / take.to).read_bytes() for take in PINS}
    assert [asdict(row) for row in manifest_for(shipped)] == _rows()


def test_every_vendored_folder_carries_a_licence() -> None:
    folders = {row["path"].split("/")[0] for row in _rows()}
    licensed = {row["path"].split("/")[0] for row in _rows() if row["path"].endswith("/LICENSE")}
    assert folders == licensed
    assert {row["licence"] for row in _rows()} == {"MIT", "Apache-2.0", "OFL-1.1"}
