"""What the response cache reads of a document, before any limit of strawberry's runs."""

from __future__ import annotations

import uuid

from graphql import OperationType

from hub.api.cache import ResponseCache, _event, plan
from hub.api.schema import build_schema
from hub.settings import Limits

SCHEMA = build_schema()._schema
LIMIT = Limits().max_tokens


def test_a_document_over_the_token_limit_is_neither_read_nor_remembered() -> None:
    huge = "{ " + " ".join(f"a{i}: regions {{ code }}" for i in range(5_000)) + " }"
    assert plan(SCHEMA, huge, None, LIMIT).operation is None
    cache = ResponseCache(1 << 20)
    cache.plan(SCHEMA, huge, None, LIMIT)
    assert cache._plans == {}
    # A document within the limit is read and remembered.
    small = "{ regions { code } }"
    assert cache.plan(SCHEMA, small, None, LIMIT).operation is OperationType.QUERY
    assert list(cache._plans) == [(small, None)]


def test_an_outbox_row_this_version_cannot_read_counts_as_any_change() -> None:
    assert _event(uuid.uuid4(), '{"reportId": "not this version"}') is None
    assert _event(uuid.uuid4(), "not json") is None
