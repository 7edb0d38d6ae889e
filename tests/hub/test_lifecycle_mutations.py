"""The eight life-cycle mutations: moves, errors that change nothing, idempotency."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from hub.errors import IN_INDONESIAN
from tests.fixtures.app import GraphQLClient
from tests.hub.operations import (
    ARCHIVE,
    COMPLETE,
    DECLINE,
    DISPOSE,
    FOLLOW_UP,
    POSTPONE,
    REOPEN,
    SUBMIT,
    VERIFY,
    error_code,
    key,
    submission,
    submit,
)


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        tables = [
            "reports",
            "report_history",
            "outbox",
            "dispositions",
            "follow_ups",
            "reporters",
            "idempotency_keys",
            "external_refs",
        ]
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
    finally:
        await conn.close()


async def test_a_report_walks_the_whole_life_cycle(gql: GraphQLClient) -> None:
    r = await submit(gql)
    assert (r["state"], r["stateLabel"], r["version"]) == ("SUBMITTED", "Belum Terverifikasi", 1)
    assert r["institutionCode"] == "pemda-16.71"

    steps: list[tuple[str, str, dict[str, Any]]] = [
        (POSTPONE, "postponeReport", {"note": "Mohon lampirkan foto lokasi"}),
        (VERIFY, "verifyReport", {}),
        (DISPOSE, "disposeReport", {"to": "opd-16-pubmtr"}),
        (DISPOSE, "disposeReport", {"to": "pemda-16.71"}),  # bukan wewenang: back again
        (FOLLOW_UP, "addFollowUp", {"content": "Tim sudah meninjau lokasi."}),
        (FOLLOW_UP, "addFollowUp", {"content": "Perbaikan dijadwalkan minggu depan."}),
        (COMPLETE, "completeReport", {}),
        (REOPEN, "reopenReport", {"note": "Pelapor: lubang muncul lagi"}),
        (FOLLOW_UP, "addFollowUp", {"content": "Ditambal ulang."}),
        (COMPLETE, "completeReport", {}),
    ]
    for operation, field, variables in steps:
        data = await gql.data(operation, id=r["id"], v=r["version"], key=key(), **variables)
        assert data[field]["version"] == r["version"] + 1
        r = data[field]
    assert r["state"] == "COMPLETED"
    assert r["institutionCode"] == "pemda-16.71"

    detail = await gql.data(
        """query($id: ID!) { report(id: $id) {
            history { version verb fromState toState actorNode note }
            dispositions { seq fromInstitutionCode toInstitutionCode toInstitution { name } }
            followUps { institutionCode content }
        } }""",
        id=r["id"],
    )
    report = detail["report"]
    assert [h["toState"] for h in report["history"]] == [
        "SUBMITTED",
        "POSTPONED",
        "VERIFIED",
        "DISPOSED",
        "DISPOSED",
        "IN_FOLLOW_UP",
        "IN_FOLLOW_UP",
        "COMPLETED",
        "IN_FOLLOW_UP",
        "IN_FOLLOW_UP",
        "COMPLETED",
    ]
    assert [h["version"] for h in report["history"]] == list(range(1, 12))
    assert report["history"][8]["verb"] == "REOPEN"
    assert report["history"][8]["note"] == "Pelapor: lubang muncul lagi"
    assert [
        (d["seq"], d["fromInstitutionCode"], d["toInstitutionCode"]) for d in report["dispositions"]
    ] == [(1, "pemda-16.71", "opd-16-pubmtr"), (2, "opd-16-pubmtr", "pemda-16.71")]
    assert report["dispositions"][0]["toInstitution"]["name"].startswith("Dinas Pekerjaan Umum")
    assert [f["institutionCode"] for f in report["followUps"]] == ["pemda-16.71"] * 3


async def test_archive_records_the_reason(gql: GraphQLClient) -> None:
    r = await submit(gql)
    data = await gql.data(ARCHIVE, id=r["id"], v=1, key=key(), reason="DUPLICATE")
    assert data["archiveReport"]["state"] == "ARCHIVED"
    assert data["archiveReport"]["archiveReason"] == "DUPLICATE"
    body = await gql.execute(VERIFY, id=r["id"], v=2, key=key())
    assert error_code(body) == "INVALID_TRANSITION"


@pytest.mark.parametrize(
    ("operation", "variables"),
    [
        (COMPLETE, {}),
        (FOLLOW_UP, {"content": "belum waktunya"}),
        (REOPEN, {"note": "tidak bisa"}),
        (DISPOSE, {"to": "opd-16-dinkes"}),
    ],
)
async def test_an_invalid_move_is_refused_and_changes_nothing(
    gql: GraphQLClient, database_url: str, operation: str, variables: dict[str, Any]
) -> None:
    r = await submit(gql)
    before = await _counts(database_url)
    body = await gql.execute(operation, id=r["id"], v=1, key=key(), **variables)
    assert error_code(body) == "INVALID_TRANSITION"
    assert "SUBMITTED" in body["errors"][0]["message"]
    detail = body["errors"][0]["extensions"]["pesanDetail"]
    assert "laporan berstatus Belum Terverifikasi (SUBMITTED)" in detail
    assert await _counts(database_url) == before


async def test_a_stale_version_is_a_conflict_and_changes_nothing(
    gql: GraphQLClient, database_url: str
) -> None:
    r = await submit(gql)
    await gql.data(VERIFY, id=r["id"], v=1, key=key())
    before = await _counts(database_url)
    body = await gql.execute(DISPOSE, id=r["id"], v=1, key=key(), to="opd-16-dinkes")
    assert error_code(body) == "VERSION_CONFLICT"
    assert "version 2" in body["errors"][0]["message"]
    # A regency's staff read what it means in Indonesian; the code and detail stay.
    assert body["errors"][0]["extensions"]["pesan"] == (
        "Laporan sudah diubah pihak lain; muat ulang laporan lalu coba lagi."
    )
    # ... and the detail too, with the same id and versions.
    assert body["errors"][0]["extensions"]["pesanDetail"] == (
        f"Laporan {r['id']} sudah di versi 2, bukan versi 1 yang Anda baca; muat ulang "
        "laporan lalu coba lagi."
    )
    assert await _counts(database_url) == before


async def test_every_refusal_says_in_indonesian_what_it_means(
    gql: GraphQLClient, public_gql: GraphQLClient
) -> None:
    r = await submit(gql)
    await gql.data(VERIFY, id=r["id"], v=1, key=key())
    refused = {
        "INVALID_TRANSITION": await gql.execute(COMPLETE, id=r["id"], v=2, key=key()),
        "FORBIDDEN": await public_gql.execute(VERIFY, id=r["id"], v=2, key=key()),
        "BAD_INPUT": await gql.execute(DISPOSE, id=r["id"], v=2, key=key(), to="tidak-ada"),
    }
    refused["UNAUTHENTICATED"] = (
        await gql.http.post(
            "/graphql", json={"query": "{ regions { code } }"},
            headers={"authorization": "Bearer bukan-token"},
        )
    ).json()  # fmt: skip
    for code, body in refused.items():
        extensions = body["errors"][0]["extensions"]
        assert extensions["code"] == code
        assert extensions["pesan"] == IN_INDONESIAN[code]
    # An unknown code is named in Indonesian too, with the code the client sent.
    assert refused["BAD_INPUT"]["errors"][0]["extensions"]["pesanDetail"] == (
        "Instansi 'tidak-ada' tidak dikenal hub; periksa kodenya."
    )
    body = await gql.execute(SUBMIT, input=submission(regionCode="31.71"), key=key())
    assert body["errors"][0]["extensions"]["pesanDetail"] == (
        "Wilayah '31.71' tidak dikenal hub; periksa kodenya."
    )


async def test_concurrent_writers_on_one_version_one_wins(gql: GraphQLClient) -> None:
    r = await submit(gql)
    bodies = await asyncio.gather(
        *(gql.execute(VERIFY, id=r["id"], v=1, key=key()) for _ in range(5))
    )
    winners = [b for b in bodies if "errors" not in b]
    assert len(winners) == 1
    assert sorted(error_code(b) for b in bodies if "errors" in b) == ["VERSION_CONFLICT"] * 4


async def test_unknown_ids_are_not_found(gql: GraphQLClient) -> None:
    body = await gql.execute(VERIFY, id="00000000-0000-4000-8000-000000000000", v=1, key=key())
    assert error_code(body) == "NOT_FOUND"
    body = await gql.execute(VERIFY, id="1916449", v=1, key=key())
    assert error_code(body) == "BAD_INPUT"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"regionCode": "31.71"}, "regionCode"),
        ({"topicId": 99999}, "topicId"),
        ({"institutionCode": "kl-atlantis"}, "institutionCode"),
        ({"complaintSubKind": None}, "complaintSubKind"),
        ({"kind": "ASPIRATION"}, "only complaints"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"latitude": -2.97}, "longitude"),
        ({"latitude": 95.0, "longitude": 104.7}, "latitude"),
        ({"reporter": {"nik": "12345"}}, "nik"),
        ({"externalRef": {"node": "atlantis", "externalId": "1"}}, "externalRef.node"),
    ],
)
async def test_bad_input_is_named_and_nothing_is_written(
    gql: GraphQLClient, database_url: str, overrides: dict[str, Any], words: str
) -> None:
    before = await _counts(database_url)
    body = await gql.execute(SUBMIT, input=submission(**overrides), key=key())
    assert error_code(body) == "BAD_INPUT"
    assert words in body["errors"][0]["message"]
    assert body["data"] is None
    assert await _counts(database_url) == before


async def test_a_replayed_key_returns_the_first_result(
    gql: GraphQLClient, database_url: str
) -> None:
    k = key()
    first = await gql.data(SUBMIT, input=submission(), key=k)
    after_first = await _counts(database_url)
    again = await gql.data(SUBMIT, input=submission(), key=k)
    assert again == first
    assert await _counts(database_url) == after_first

    rid = first["submitReport"]["id"]
    vk = key()
    verified = await gql.data(VERIFY, id=rid, v=1, key=vk)
    replay = await gql.data(VERIFY, id=rid, v=1, key=vk)
    assert replay == verified
    assert replay["verifyReport"]["version"] == 2


async def test_a_key_reused_for_another_request_is_refused(gql: GraphQLClient) -> None:
    k = key()
    await gql.data(SUBMIT, input=submission(), key=k)
    body = await gql.execute(SUBMIT, input=submission(title="Lain sama sekali"), key=k)
    assert error_code(body) == "BAD_INPUT"
    assert "idempotencyKey" in body["errors"][0]["message"]


async def test_concurrent_retries_with_one_key_create_one_report(
    gql: GraphQLClient, database_url: str
) -> None:
    k = key()
    bodies = await asyncio.gather(
        *(gql.execute(SUBMIT, input=submission(), key=k) for _ in range(4))
    )
    ids = {b["data"]["submitReport"]["id"] for b in bodies}
    assert len(ids) == 1
    assert (await _counts(database_url))["reports"] == 1


async def test_privacy_can_be_tightened_at_verification_but_never_loosened(
    gql: GraphQLClient,
) -> None:
    r = await submit(gql, privacy={"anonymous": True})
    body = await gql.execute(
        VERIFY, id=r["id"], v=1, key=key(), privacy={"anonymous": False, "confidential": True}
    )
    assert error_code(body) == "BAD_INPUT"
    assert "loosen" in body["errors"][0]["message"]
    data = await gql.data(
        VERIFY, id=r["id"], v=1, key=key(), privacy={"anonymous": True, "confidential": True}
    )
    assert (data["verifyReport"]["anonymous"], data["verifyReport"]["confidential"]) == (
        True,
        True,
    )


async def test_external_refs_are_unique_per_node(gql: GraphQLClient) -> None:
    ref = {"node": "lapor", "externalId": "1916449"}
    r = await submit(gql, externalRef=ref)
    found = await gql.data(
        '{ reportByRef(node: "lapor", externalId: "1916449") '
        "{ id externalRefs { node externalId } } }"
    )
    assert found["reportByRef"]["id"] == r["id"]
    assert found["reportByRef"]["externalRefs"] == [ref]
    body = await gql.execute(SUBMIT, input=submission(externalRef=ref), key=key())
    assert error_code(body) == "BAD_INPUT"


async def test_a_receiving_institution_declines_and_the_forwarder_forwards_again(
    gql: GraphQLClient,
) -> None:
    r = await submit(gql)
    r = (await gql.data(VERIFY, id=r["id"], v=1, key=key()))["verifyReport"]
    r = (await gql.data(DISPOSE, id=r["id"], v=2, key=key(), to="opd-16-pubmtr"))["disposeReport"]
    assert error_code(await gql.execute(DECLINE, id=r["id"], v=3, key=key(), reason=" ")) == (
        "BAD_INPUT"
    )
    reason = "Bukan wewenang kami: jalan kota, bukan jalan provinsi."
    d = (await gql.data(DECLINE, id=r["id"], v=3, key=key(), reason=reason))["declineDisposition"]
    # Back to the institution that forwarded it, waiting to be forwarded again.
    assert (d["state"], d["institutionCode"], d["version"]) == ("VERIFIED", "pemda-16.71", 4)
    assert d["dispositions"] == [
        {"seq": 1, "fromInstitutionCode": "pemda-16.71", "toInstitutionCode": "opd-16-pubmtr",
         "note": None, "declined": False},
        {"seq": 2, "fromInstitutionCode": "opd-16-pubmtr", "toInstitutionCode": "pemda-16.71",
         "note": reason, "declined": True},
    ]  # fmt: skip
    again = await gql.execute(DECLINE, id=r["id"], v=4, key=key(), reason=reason)
    assert error_code(again) == "INVALID_TRANSITION"
    f = (await gql.data(DISPOSE, id=r["id"], v=4, key=key(), to="opd-16-perkim"))["disposeReport"]
    assert (f["state"], f["institutionCode"], f["version"]) == ("DISPOSED", "opd-16-perkim", 5)
