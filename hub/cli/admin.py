"""Administrative commands: clients, signing keys, the audit chain, demo tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hub import wiring
from hub.errors import BadInput
from hub.security.audit import AuditLog
from hub.security.clients import ClientStore
from hub.security.keys import rotate
from hub.security.scopes import MINISTRY_READ, PROVINCE_ADMIN
from hub.settings import Settings
from hub.store.database import Database


async def _open(url: str) -> Database:
    db = Database(url, min_size=1, max_size=2)
    await db.open()
    await db.migrate()
    return db


async def documents_add(console: Console, url: str, paths: list[Path]) -> int:
    """Registers the documents of ``paths`` as trusted: every file is read and checked
    against the schema first, then all are added in one transaction, or none."""
    from hub.api.documents import check_document, document_hash
    from hub.api.schema import build_schema

    schema = build_schema()._schema
    texts: list[tuple[Path, str]] = []
    for path in paths:
        try:
            # The bytes as they are: a client hashes the text it sends, line ends included.
            text = path.read_bytes().decode("utf-8")
            check_document(schema, text)
        except (OSError, UnicodeDecodeError) as error:
            console.print(f"[red]refused:[/] {path}: cannot be read ({error})")
            return 1
        except BadInput as error:
            console.print(f"[red]refused:[/] {path}: {error.message}; nothing was added")
            return 1
        texts.append((path, text))
    db = await _open(url)
    try:
        async with db.transaction() as session:
            added = [
                await session.fetchval("trusted_document_add", document_hash(t), t)
                for _, t in texts
            ]
    finally:
        await db.close()
    for (path, text), new in zip(texts, added, strict=True):
        state = "added" if new else "already registered"
        console.print(f"{document_hash(text)}  {path}  {state}")
    return 0


async def documents_list(console: Console, url: str) -> int:
    db = await _open(url)
    try:
        rows = await db.fetch("trusted_documents")
    finally:
        await db.close()
    table = Table("sha256", "added", "first line")
    for r in rows:
        first = r["body"].strip().splitlines()[0] if r["body"].strip() else ""
        table.add_row(r["sha256"], f"{r['added_at']:%Y-%m-%d %H:%M}", first[:60])
    console.print(table)
    return 0


async def clients_add(
    console: Console, url: str, client_id: str, node: str | None, scopes: list[str]
) -> int:
    db = await _open(url)
    try:
        secret = await ClientStore(db).add(client_id, node, scopes)
    except BadInput as error:
        console.print(f"[red]refused:[/] {error.message}")
        return 1
    finally:
        await db.close()
    console.print(f"client [bold]{client_id}[/] added; its secret, shown this once:")
    print(secret)
    return 0


async def clients_list(console: Console, url: str) -> int:
    db = await _open(url)
    try:
        clients = await ClientStore(db).list()
    finally:
        await db.close()
    table = Table("client", "node", "scopes", "created", "revoked")
    for c in clients:
        table.add_row(
            c.client_id,
            c.node_code or "-",
            " ".join(sorted(c.scopes)),
            f"{c.created_at:%Y-%m-%d %H:%M}",
            f"{c.revoked_at:%Y-%m-%d %H:%M}" if c.revoked_at else "",
        )
    console.print(table)
    return 0


async def clients_revoke(console: Console, url: str, client_id: str) -> int:
    db = await _open(url)
    try:
        revoked = await ClientStore(db).revoke(client_id)
    finally:
        await db.close()
    if not revoked:
        console.print(f"[red]no active client {client_id!r}[/]")
        return 1
    console.print(f"client {client_id} revoked; its tokens are refused from now on")
    return 0


def keys_rotate(console: Console, folder: Path) -> int:
    kid = rotate(folder)
    console.print(f"new signing key {kid} in {folder}; restart the hub to sign with it")
    return 0


async def audit_verify(console: Console, url: str) -> int:
    db = await _open(url)
    try:
        audit = AuditLog(db)
        count, head, problem = await audit.verify()
        unsealed, oldest = await audit.pending()
        segments, archived = await audit.archived()
    finally:
        await db.close()
    if problem:
        console.print(f"[red]audit log broken after {count} entries:[/] {problem}")
        return 1
    console.print(
        f"audit log intact: {count} sealed entries ({archived} of them in {segments} "
        f"archived segments); head hash {head}"
    )
    if unsealed:
        console.print(
            f"{unsealed} newer entries wait for the running hub's sealer "
            f"(the oldest for {oldest:.1f} s); they are checked once sealed"
        )
    return 0


@dataclass(frozen=True, slots=True)
class DemoClient:
    client_id: str
    node: str | None
    scopes: tuple[str, ...]
    who: str


DEMO_CLIENTS = (
    DemoClient("demo-palembang", "16.71", ("node:16.71:write",), "Palembang's complaint app"),
    DemoClient("demo-province", "16", (PROVINCE_ADMIN,), "Diskominfo Sumsel (verifying admin)"),
    DemoClient("demo-ministry", None, (MINISTRY_READ,), "the ministry's analysts"),
)


async def demo_tokens(settings: Settings, url: str) -> list[tuple[DemoClient, str]]:
    """Registers the demo clients (once) and mints a 12-hour token for each."""
    db = await _open(url)
    try:
        store = ClientStore(db)
        existing = {c.client_id for c in await store.list()}
        for client in DEMO_CLIENTS:
            if client.client_id not in existing:
                await store.add(client.client_id, client.node, list(client.scopes))
    finally:
        await db.close()
    tokens = wiring.tokens(settings, lifetime_seconds=12 * 3600)
    return [(c, tokens.issue(c.client_id, c.node, frozenset(c.scopes))) for c in DEMO_CLIENTS]
