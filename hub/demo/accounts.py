"""The demo's people: one account per role, with a fresh password at every start.

The passwords are made anew and printed in the start-up banner each time the demo
starts (an account kept from an earlier run gets a new one), so no demo password is
ever fixed in the code or the README.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hub.security.audit import AuditLog
from hub.security.credentials import Passwords
from hub.security.users import Role, UserStore
from hub.store.database import Database


@dataclass(frozen=True, slots=True)
class DemoAccount:
    login: str
    display_name: str
    role: Role
    node_code: str | None


DEMO_ACCOUNTS = (
    DemoAccount("kemenpan", "Analis KemenPAN-RB", Role.MINISTRY, None),
    DemoAccount("diskominfo", "Tim SP4N-LAPOR! Diskominfo Sumsel", Role.PROVINCE_ADMIN, None),
    DemoAccount("koordinator-plg", "Koordinator Pengaduan Kota Palembang", Role.REGENCY, "16.71"),
)


async def demo_accounts(db: Database) -> list[tuple[DemoAccount, str]]:
    """Adds the demo accounts that are missing and gives each a new password; each with
    its password."""
    store = UserStore(db, AuditLog(db), Passwords())
    existing = {u.login for u in await store.list()}
    given = []
    for account in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        if account.login in existing:
            await store.set_password(account.login, password)
        else:
            await store.add(
                account.login, account.display_name, account.role, account.node_code, password
            )
        given.append((account, password))
    return given
