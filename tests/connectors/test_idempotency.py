"""Write-backs applied once: the sandboxes honour the keys connectors send, and a
connector reconciling a write-back whose outcome was lost sends only what is missing,
even to a system that honours no keys."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest

from connectors.base import BaseConnector, creation_key
from connectors.sandbox.sandbox import LAYOUT, Sandbox, url_variable
from schema.lifecycle import ReportState, Verb
from tests.connectors.conftest import KIND_NODES, Connect, Directory, content_for, event_for

CREATING = sorted(KIND_NODES)


class Crash(BaseException):
    """The hub process dying: no ``except Exception`` stops it."""


@dataclasses.dataclass
class CrashingDirectory(Directory):
    """The hub's directory, dying once at the next link (after the node created the report)."""

    crash_at_link: bool = False

    async def link(self, report_id: str, node_code: str, external_id: str) -> None:
        if self.crash_at_link:
            self.crash_at_link = False
            raise Crash
        await super().link(report_id, node_code, external_id)


@pytest.fixture(params=CREATING)
def node(request: pytest.FixtureRequest) -> str:
    code: str = KIND_NODES[request.param]
    return code


def _made_for(held: dict[str, tuple[str | None, list[str]]], report_id: str) -> list[str]:
    return sorted(external for external, (hub_id, _) in held.items() if hub_id == report_id)


async def _writes_of(sandbox: Sandbox, node: str, event_id: str) -> int:
    return sum(ids.count(event_id) for ids in (await sandbox.writes(node)).values())


async def test_a_repeated_creation_and_write_take_effect_once(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    report_id = str(uuid.uuid4())
    event = event_for(None, None, ReportState.VERIFIED, report_id=report_id)
    async with connect(node) as connector:
        assert isinstance(connector, BaseConnector)
        first, again = [await connector.create(content_for(report_id), event) for _ in range(2)]
        for _ in range(2):
            await connector.write_state(first, event)
    assert first == again
    assert _made_for(await sandbox.inventory(node), report_id) == [first]
    assert await _writes_of(sandbox, node, event.event_id) == 1


async def test_a_system_honouring_no_keys_doubles_them(sandbox: Sandbox, connect: Connect) -> None:
    # The same calls as above against a system that honours no keys: the checks the
    # crash tests rely on do see a doubled creation and a doubled write.
    node = KIND_NODES["rest-cursor"]
    sandbox.honour_keys(node, False)
    report_id = str(uuid.uuid4())
    event = event_for(None, None, ReportState.VERIFIED, report_id=report_id)
    async with connect(node) as connector:
        assert isinstance(connector, BaseConnector)
        made = [await connector.create(content_for(report_id), event) for _ in range(2)]
        for _ in range(2):
            await connector.write_state(made[0], event)
    assert _made_for(await sandbox.inventory(node), report_id) == sorted(made)
    # Each creation carries the event's write too (one call, creates_with_state).
    assert await _writes_of(sandbox, node, event.event_id) == 4


@pytest.mark.parametrize("code", ["16.01", "16.07"])
async def test_a_sandbox_answers_a_repeated_idempotency_key_with_its_first_answer(
    sandbox: Sandbox, code: str
) -> None:
    # Keyed on the header alone: the two requests name different event ids.
    target = sorted(await sandbox.inventory(code))[0]
    token = {"authorization": f"Bearer {sandbox.tokens[code]}"}
    base = sandbox.env()[url_variable(LAYOUT[code])]
    key = {"idempotency-key": str(uuid.uuid4())}
    answers = []
    async with httpx.AsyncClient(base_url=f"{base}/{code}", headers=token) as http:
        for _ in range(2):
            event_id = str(uuid.uuid4())
            if LAYOUT[code] == "rest":
                body = {"status": "Proses", "id_peristiwa": event_id}
                response = await http.put(f"/aduan/{target}/status", json=body, headers=key)
            else:
                query = (
                    "mutation($id: ID!, $e: ID!) { ubahStatusAduan(id: $id, status: DITANGANI,"
                    " idPeristiwa: $e, versiHub: 2) { id versi } }"
                )
                variables = {"id": target, "e": event_id}
                response = await http.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=key
                )
            assert response.status_code == 200, response.text
            answers.append(response.json())
    assert answers[0] == answers[1]
    assert len((await sandbox.writes(code))[target]) == 1


async def test_a_creation_key_names_the_report_not_the_event(
    sandbox: Sandbox, connect: Connect
) -> None:
    # Two events of one report may both find the node without it: one creation.
    report_id = str(uuid.uuid4())
    assert creation_key(report_id) == creation_key(report_id)
    node = KIND_NODES["graphql"]
    async with connect(node) as connector:
        assert isinstance(connector, BaseConnector)
        for state in (ReportState.SUBMITTED, ReportState.VERIFIED):
            event = event_for(None, None, state, report_id=report_id)
            await connector.create(content_for(report_id), event)
    assert len(_made_for(await sandbox.inventory(node), report_id)) == 1


async def test_reconciling_after_a_crash_sends_only_what_the_node_lacks(
    sandbox: Sandbox, connect: Connect, node: str
) -> None:
    if node in sandbox.systems:
        sandbox.honour_keys(node, False)  # only the connector's reconciling protects it
    report_id = str(uuid.uuid4())
    directory = CrashingDirectory({report_id: content_for(report_id)})
    submitted = event_for(None, None, ReportState.SUBMITTED, version=1, report_id=report_id)
    submitted = dataclasses.replace(submitted, verb=Verb.SUBMIT, previous_state=None)
    async with connect(node, directory=directory) as connector:
        # 1. Created at the node, then the hub died before linking it.
        directory.crash_at_link = True
        with pytest.raises(Crash):
            await connector.apply(submitted)
        created = _made_for(await sandbox.inventory(node), report_id)
        assert len(created) == 1
        held = await connector.reconcile(submitted)
        assert _made_for(await sandbox.inventory(node), report_id) == created  # not again
        assert directory.links == [(report_id, node, created[0])]
        assert await _writes_of(sandbox, node, submitted.event_id) == 1
        assert held is True

        # 2. Written, then the hub died before recording it.
        verified = event_for(node, created[0], ReportState.VERIFIED, report_id=report_id)
        await connector.apply(verified)
        held = await connector.reconcile(verified)
        assert await _writes_of(sandbox, node, verified.event_id) == 1
        assert held is True

        # 3. A follow-up keeps the state: noted, never sent, then reconciled: sent once.
        followed = [
            dataclasses.replace(
                event_for(node, created[0], ReportState.IN_FOLLOW_UP, version=v,
                          report_id=report_id),
                verb=Verb.FOLLOW_UP, previous_state=ReportState.IN_FOLLOW_UP,
            )
            for v in (3, 4)
        ]  # fmt: skip
        await connector.apply(followed[0])
        assert await connector.reconcile(followed[1]) is False
        assert await connector.reconcile(followed[1]) is True
    assert _made_for(await sandbox.inventory(node), report_id) == created
    written = (await sandbox.writes(node))[created[0]]
    events = [submitted, verified, *followed]
    assert written == [e.event_id for e in events]
    label = connector.config.status.to_external(ReportState.IN_FOLLOW_UP)
    assert await sandbox.status_of(node, created[0]) == label
