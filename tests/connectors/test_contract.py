"""The connector contract, run against every kind's sandbox node.

Pull (full, paged, incremental), write-back shown in the node's own words and
read back, every mapped label both ways, idempotency, echo suppression, live
reads in one batch, and creating a report the node has not seen.
"""

from __future__ import annotations

import pytest

from connectors.change import ReportContent
from connectors.sandbox.sandbox import Sandbox
from schema.lifecycle import ReportState
from schema.report import ActorRole, PrivacyFlags, ReportKind
from tests.connectors.conftest import (
    KIND_NODES,
    Connect,
    Directory,
    changes_of,
    event_for,
    latest,
    pull_all,
)

PAGE = 5


@pytest.fixture(params=sorted(KIND_NODES))
def node(request: pytest.FixtureRequest) -> str:
    code: str = KIND_NODES[request.param]
    return code


async def test_a_full_pull_pages_through_every_report(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    async with connect(node, page_size=PAGE) as connector:
        pages = await pull_all(connector)
    held = await sandbox.inventory(node)
    assert set(latest(pages)) == set(held)
    assert sum(1 for p in pages if p.changes) >= len(held) // PAGE
    assert all(len(p.changes) <= PAGE for p in pages)
    assert all(c.node == node and c.occurred_at.utcoffset() is not None for c in changes_of(pages))


async def test_an_incremental_pull_from_the_watermark_brings_only_news(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    async with connect(node, page_size=PAGE) as connector:
        pages = await pull_all(connector)
        seen = {(c.external_id, c.external_version) for c in changes_of(pages)}
        watermark = pages[-1].watermark
        again = await pull_all(connector, watermark)
        # Time-based kinds may repeat the boundary record; none brings anything new.
        assert {(c.external_id, c.external_version) for c in changes_of(again)} <= seen

        target = sorted(await sandbox.inventory(node))[3]
        label = connector.config.status.to_external(ReportState.IN_FOLLOW_UP)
        await sandbox.set_status(node, target, label)
        news = latest(await pull_all(connector, watermark))
    assert news[target].raw_state == label
    assert (target, news[target].external_version) not in seen
    assert {k for k, c in news.items() if (k, c.external_version) not in seen} == {target}


async def test_write_back_shows_every_state_in_the_nodes_vocabulary_and_reads_back(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    async with connect(node) as connector:
        mapping = connector.config.status
        watermark = (await pull_all(connector))[-1].watermark
        target = sorted(await sandbox.inventory(node))[0]
        for version, state in enumerate(ReportState, start=2):
            await connector.apply(event_for(node, target, state, version=version))
            label = mapping.to_external(state)
            assert await sandbox.status_of(node, target) == label, state

            pulled = latest(await pull_all(connector, watermark))[target]
            assert pulled.raw_state == label
            assert state in pulled.agrees_with
            # Exact unless the vocabulary is coarser than ours (then the label's own state).
            assert pulled.state in (state, mapping.to_canonical(label))
            if connector.config.kind == "open311":
                assert pulled.state is state  # the status note carries it


async def test_every_label_the_node_uses_maps_to_its_state(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    async with connect(node) as connector:
        watermark = (await pull_all(connector))[-1].watermark
        target = sorted(await sandbox.inventory(node))[1]
        for label, state in connector.config.status.inbound.items():
            if node in sandbox.systems:
                # A label the table knows that this node's sandbox does not show (FixMyStreet's
                # not_councils_responsibility, beyond GeoReport's open/closed): its staff
                # start using it.
                sandbox.introduce_status(node, label)
            await sandbox.set_status(node, target, label)
            pulled = latest(await pull_all(connector, watermark))[target]
            assert (pulled.raw_state, pulled.state) == (label, state)


async def test_a_repeated_event_is_applied_once(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    async with connect(node) as connector:
        target = sorted(await sandbox.inventory(node))[2]
        event = event_for(node, target, ReportState.DISPOSED)
        await connector.apply(event)
        pages = await pull_all(connector)
        first = latest(pages)[target].external_version
        await connector.apply(event)
        again = latest(await pull_all(connector, pages[-1].watermark))
    assert again.get(target, latest(pages)[target]).external_version == first


async def test_a_change_pulled_from_the_node_is_not_written_back(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    async with connect(node) as connector:
        label = connector.config.status.to_external(ReportState.ARCHIVED)
        held = sorted(await sandbox.inventory(node))
        target = next(iter([k for k in held if await sandbox.status_of(node, k) != label]))
        before = await sandbox.status_of(node, target)
        pulled = event_for(
            node, target, ReportState.ARCHIVED, actor=node, role=ActorRole.NODE_SYSTEM
        )
        await connector.apply(pulled)
    assert await sandbox.status_of(node, target) == before


async def test_a_change_by_the_nodes_own_admins_through_the_hub_is_written_back(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    # E.g. the province's verifying admins act as node 16 in GraphQL: their
    # change is news to the province's own system.
    async with connect(node) as connector:
        label = connector.config.status.to_external(ReportState.ARCHIVED)
        held = sorted(await sandbox.inventory(node))
        target = next(iter([k for k in held if await sandbox.status_of(node, k) != label]))
        by_admin = event_for(
            node, target, ReportState.ARCHIVED, actor=node, role=ActorRole.INSTITUTION_ADMIN
        )
        await connector.apply(by_admin)
    assert await sandbox.status_of(node, target) == label


async def test_live_reads_are_batched_and_name_the_unknown(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    held = await sandbox.inventory(node)
    with_files = sorted(k for k, (_, files) in held.items() if files)[:3]
    without = next(k for k, (_, files) in sorted(held.items()) if not files)
    refs = [*with_files, without, "999999"]
    calls = sandbox.faults.calls[node]
    async with connect(node) as connector:
        result = await connector.fetch(refs)
    assert result.missing == {"999999"}
    expected = {k: held[k][1] for k in (*with_files, without)}
    if node in sandbox.systems and sandbox.systems[node].vocabulary.name == "open311":
        # GeoReport v2 carries one media_url and no attachment id: the URL is the ref.
        reports = sandbox.systems[node].reports
        expected = {k: [a.url for a in reports[k].attachments] for k in expected}
    assert {k: [a.ref for a in r.attachments] for k, r in result.records.items()} == expected
    assert all(a.url and a.media_type for r in result.records.values() for a in r.attachments)
    if node not in sandbox.databases:
        assert sandbox.faults.calls[node] - calls == 1  # one request for the whole batch


async def test_a_report_new_to_the_node_is_created_once_and_linked(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    report_id = "0b7c1d52-8a43-4e7e-9c55-3f8f2b0a9d11"
    directory = Directory(
        {
            report_id: ReportContent(
                report_id=report_id,
                title="Jalan amblas di depan SD Negeri 3",
                content="Jalan amblas sedalam setengah meter, sudah dua motor terjatuh.",
                kind=ReportKind.COMPLAINT,
                region_code="16.71",
                topic_id=301,
                institution_code="pemda-16.71",
                privacy=PrivacyFlags(anonymous=True),
                location="Jl. Merdeka, Kec. Ilir Timur I",
            )
        }
    )
    async with connect(node, directory=directory) as connector:
        for version, state in ((2, ReportState.VERIFIED), (3, ReportState.DISPOSED)):
            await connector.apply(
                event_for(None, None, state, version=version, report_id=report_id)
            )
        label = connector.config.status.to_external(ReportState.DISPOSED)
    held = await sandbox.inventory(node)
    created = [k for k, (hub_id, _) in held.items() if hub_id == report_id]
    assert len(created) == 1
    # The second event found the link the first one made: it was not created again.
    assert directory.links == [(report_id, node, created[0])]
    assert await sandbox.status_of(node, created[0]) == label
    async with connect(node) as connector:
        pulled = latest(await pull_all(connector))[created[0]]
    assert pulled.topic_id == 301
    if connector.config.kind != "open311":  # GeoReport has no title, kind or anonymity
        assert pulled.title == "Jalan amblas di depan SD Negeri 3"
        assert (pulled.kind, pulled.privacy.anonymous) == (ReportKind.COMPLAINT, True)


async def test_a_report_withheld_by_the_hub_is_not_created(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    before = await sandbox.inventory(node)
    async with connect(node, directory=Directory()) as connector:
        await connector.apply(event_for(None, None, ReportState.VERIFIED))
    assert await sandbox.inventory(node) == before
