"""The node table: a bad table fails at start, naming the node and the key."""

from __future__ import annotations

import textwrap

import pytest

from connectors.config import Credential, load_node_table, parse_node_table
from connectors.errors import NodeTableError, UnknownKind
from connectors.registry import default_registry
from connectors.sandbox.sandbox import LAYOUT
from schema.nodes import NODES
from tests.fixtures.sandbox import default_table_env

VOCABULARY = """
[vocabularies.v.inbound]
Baru = "SUBMITTED"
Selesai = "COMPLETED"
[vocabularies.v.outbound]
SUBMITTED = "Baru"
POSTPONED = "Baru"
VERIFIED = "Baru"
DISPOSED = "Baru"
IN_FOLLOW_UP = "Baru"
COMPLETED = "Selesai"
ARCHIVED = "Selesai"
"""
NODE = """
[nodes."16.71"]
kind = "rest"
url = "${BASE}/16.71"
credentials = "TOKEN_16_71"
status = "v"
[nodes."16.71".options.fields]
external_id = "id"
external_version = "v"
raw_state = "s"
title = "t"
content = "c"
submitted_at = "a"
occurred_at = "b"
"""
ENV = {"BASE": "http://127.0.0.1:9", "TOKEN_16_71": "rahasia-sekali"}


def parse(text: str, env: dict[str, str] | None = None) -> None:
    table = parse_node_table(textwrap.dedent(text), ENV if env is None else env, require_all=False)
    default_registry().build(table)


def test_a_sound_table_loads_and_keeps_the_secret_out_of_its_repr() -> None:
    table = parse_node_table(VOCABULARY + NODE, ENV, require_all=False)
    config = table["16.71"]
    assert config.url == "http://127.0.0.1:9/16.71"
    assert config.credentials == Credential("TOKEN_16_71", "rahasia-sekali")
    assert "rahasia-sekali" not in repr(config)
    assert config.region_code == "16.71"
    default_registry().build(table)


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("http://127.0.0.1:9/16.71", "http://127.0.0.1:9/16.71"),
        (
            "https://user:rahasia@aduan.example.id/api?token=rahasia#x",
            "https://aduan.example.id/api",
        ),
        ("postgresql://sp4n:rahasia@10.0.0.5:5432/simpel", "postgresql://10.0.0.5:5432/simpel"),
        ("http://[::1]:8080/v2", "http://[::1]:8080/v2"),
    ],
)
def test_the_endpoint_operators_see_holds_no_secret(url: str, endpoint: str) -> None:
    node = NODE.replace('url = "${BASE}/16.71"', 'url = "${URL}"')
    table = parse_node_table(VOCABULARY + node, ENV | {"URL": url}, require_all=False)
    assert table["16.71"].url == url
    assert table["16.71"].endpoint == endpoint


def test_the_default_table_names_all_19_nodes_as_the_sandbox_serves_them() -> None:
    table = load_node_table(default_table_env())
    assert len(table) == 19 == len(NODES)
    assert {c.code: c.kind for c in table} == dict(LAYOUT)
    federation = default_registry().build(table)
    assert {c.node_code for c in federation} == {n.code for n in NODES}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "rest"', ""), "node 16.71: kind is missing"),
        (('kind = "rest"', 'kind = "rest"\nurll = "x"'),
         "node 16.71: nodes.16.71 has unknown keys ['urll']"),
        (('status = "v"', 'status = "w"'), "node 16.71: status: no vocabulary named 'w'"),
        (("${BASE}", "${NOWHERE}"), "node 16.71: url: ${NOWHERE} is not set in the environment"),
        (('credentials = "TOKEN_16_71"', 'credentials = "TOKEN_UNSET"'),
         "node 16.71: credentials: environment variable TOKEN_UNSET is not set"),
        (('credentials = "TOKEN_16_71"', 'credentials = "s3cr3t-value"'),
         "node 16.71: credentials must name an environment variable"),
        (('status = "v"', 'status = "v"\npoll_interval_seconds = 0'),
         "node 16.71: poll_interval_seconds must be 0 < s <= 86400"),
        (('status = "v"', 'status = "v"\nresilience = { attempts = 0 }'),
         "node 16.71: resilience.attempts must be a int from 1 to 10"),
        (('status = "v"', 'status = "v"\nresilience = { timout_seconds = 1 }'),
         "node 16.71: resilience.timout_seconds is unknown"),
        (('kind = "rest"', 'kind = "soap"'), "node 16.71: kind: unknown connector kind 'soap'"),
        (('title = "t"', 'title = "t"\nsubject = "x"'),
         "node 16.71: options.fields has unknown fields ['subject']"),
        (('title = "t"\n', ""), "node 16.71: options.fields does not map title"),
        (("[nodes.\"16.71\".options.fields]",
          "[nodes.\"16.71\".options]\npagesize = 5\n[nodes.\"16.71\".options.fields]"),
         "node 16.71: options has unknown keys ['pagesize']"),
        (('"16.71"', '"16.99"'), "node 16.99: nodes.16.99: not one of the federation's nodes"),
    ],
)  # fmt: skip
def test_a_bad_node_fails_naming_the_node_and_the_key(
    change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in NODE
    with pytest.raises(NodeTableError) as caught:
        parse(VOCABULARY + NODE.replace(old, new))
    assert message in str(caught.value)


def test_an_unknown_kind_names_the_kind_and_the_known_ones() -> None:
    with pytest.raises(
        UnknownKind, match=r"unknown connector kind 'soap' \(known: graphql, lapor,"
    ):
        parse(VOCABULARY + NODE.replace('kind = "rest"', 'kind = "soap"'))


@pytest.mark.parametrize(
    ("vocabulary", "message"),
    [
        (VOCABULARY.replace('Selesai = "COMPLETED"', 'Selesai = "DONE"'),
         "vocabularies.v.inbound.Selesai: 'DONE' is not a canonical state"),
        (VOCABULARY.replace('ARCHIVED = "Selesai"', ""),
         "vocabularies.v.outbound has no label for ARCHIVED"),
        (VOCABULARY.replace('ARCHIVED = "Selesai"', 'ARCHIVED = "Ditolak"'),
         "vocabularies.v.outbound.ARCHIVED = 'Ditolak' is not one of the inbound labels"),
        (VOCABULARY.replace("IN_FOLLOW_UP =", "FOLLOWED_UP ="),
         "(key 'FOLLOWED_UP'): 'FOLLOWED_UP' is not a canonical state"),
        (VOCABULARY + "\n[vocabularies.w]\ninbound = {}\noutbound = {}\n",
         "vocabularies.w.inbound must be a non-empty table"),
        (VOCABULARY + "\n[topic_maps.t]\nJALAN = 999\n",
         "topic_maps.t.JALAN: 999 is not a hub topic id"),
    ],
)  # fmt: skip
def test_a_bad_mapping_table_fails_naming_the_table_and_the_key(
    vocabulary: str, message: str
) -> None:
    with pytest.raises(NodeTableError) as caught:
        parse(vocabulary + NODE)
    assert message in str(caught.value)


def test_a_table_missing_nodes_names_them_when_all_are_required() -> None:
    with pytest.raises(NodeTableError, match=r"no entry for node\(s\) 16.01, 16.02, .* lapor"):
        parse_node_table(VOCABULARY + NODE, ENV)


def test_broken_toml_names_the_file_and_the_line() -> None:
    with pytest.raises(NodeTableError, match=r"nodes.toml is not valid TOML: .*line 2"):
        parse_node_table('[nodes]\nkind = "rest\n', ENV, source="nodes.toml")


def test_a_profile_supplies_keys_and_a_node_overrides_one_option() -> None:
    text = VOCABULARY + textwrap.dedent(
        """
        [profiles.p]
        kind = "push"
        status = "v"
        options = { record_limit = 10 }
        [nodes."16.72"]
        profile = "p"
        options = { record_limit = 20 }
        """
    )
    table = parse_node_table(text, ENV, require_all=False)
    assert (table["16.72"].kind, table["16.72"].options) == ("push", {"record_limit": 20})
    with pytest.raises(NodeTableError, match=r"node 16\.72: profile: no profile named 'q'"):
        parse_node_table(text.replace('profile = "p"', 'profile = "q"'), ENV, require_all=False)
