"""GraphQL operations and small helpers the hub tests share."""

from __future__ import annotations

import itertools
from typing import Any

from tests.fixtures.app import GraphQLClient

REPORT_FIELDS = """
    id version state stateLabel kind complaintSubKind title institutionCode regionCode
    anonymous confidential archiveReason
"""

SUBMIT = f"""
mutation Submit($input: SubmitReportInput!, $key: String!) {{
  submitReport(input: $input, idempotencyKey: $key) {{ {REPORT_FIELDS} }}
}}
"""

VERIFY = f"""
mutation Verify($id: ID!, $v: Int!, $key: String!, $privacy: PrivacyInput) {{
  verifyReport(id: $id, expectedVersion: $v, idempotencyKey: $key, privacy: $privacy) {{
    {REPORT_FIELDS}
  }}
}}
"""

POSTPONE = f"""
mutation Postpone($id: ID!, $v: Int!, $key: String!, $note: String!) {{
  postponeReport(id: $id, expectedVersion: $v, idempotencyKey: $key, note: $note) {{
    {REPORT_FIELDS}
  }}
}}
"""

DISPOSE = f"""
mutation Dispose($id: ID!, $v: Int!, $key: String!, $to: String!) {{
  disposeReport(id: $id, expectedVersion: $v, idempotencyKey: $key, institutionCode: $to) {{
    {REPORT_FIELDS}
  }}
}}
"""

FOLLOW_UP = f"""
mutation FollowUp($id: ID!, $v: Int!, $key: String!, $content: String!) {{
  addFollowUp(id: $id, expectedVersion: $v, idempotencyKey: $key, content: $content) {{
    {REPORT_FIELDS}
  }}
}}
"""

COMPLETE = f"""
mutation Complete($id: ID!, $v: Int!, $key: String!) {{
  completeReport(id: $id, expectedVersion: $v, idempotencyKey: $key) {{ {REPORT_FIELDS} }}
}}
"""

REOPEN = f"""
mutation Reopen($id: ID!, $v: Int!, $key: String!, $note: String!) {{
  reopenReport(id: $id, expectedVersion: $v, idempotencyKey: $key, note: $note) {{
    {REPORT_FIELDS}
  }}
}}
"""

ARCHIVE = f"""
mutation Archive($id: ID!, $v: Int!, $key: String!, $reason: ArchiveReason!) {{
  archiveReport(id: $id, expectedVersion: $v, idempotencyKey: $key, reason: $reason) {{
    {REPORT_FIELDS}
  }}
}}
"""

DECLINE = f"""
mutation Decline($id: ID!, $v: Int!, $key: String!, $reason: String!) {{
  declineDisposition(id: $id, expectedVersion: $v, idempotencyKey: $key, reason: $reason) {{
    {REPORT_FIELDS}
    dispositions {{ seq fromInstitutionCode toInstitutionCode note declined }}
  }}
}}
"""

_keys = itertools.count()


def key() -> str:
    """A fresh idempotency key."""
    return f"test-key-{next(_keys):08d}"


def submission(**overrides: Any) -> dict[str, Any]:
    """A valid SubmitReportInput; override any field."""
    base: dict[str, Any] = {
        "kind": "COMPLAINT",
        "complaintSubKind": "NON_SUPERVISORY",
        "title": "Jalan berlubang di Jalan Sudirman",
        "content": "Lubang besar di depan pasar sudah tiga bulan tidak diperbaiki.",
        "regionCode": "16.71",
        "topicId": 301,
        "channel": "MOBILE_APP",
        "tags": ["jalan"],
        "reporter": {"name": "Siti Aminah", "nik": "1671014101900001", "email": "siti@example.id"},
    }
    base.update(overrides)
    return base


async def submit(gql: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    data = await gql.data(SUBMIT, input=submission(**overrides), key=key())
    report: dict[str, Any] = data["submitReport"]
    return report


def error_code(body: dict[str, Any]) -> str:
    """The extensions.code of the single error of a response."""
    errors = body.get("errors")
    assert errors, body
    assert len(errors) == 1, body
    code: str = errors[0]["extensions"]["code"]
    return code
