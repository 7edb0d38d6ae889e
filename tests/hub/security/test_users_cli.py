"""``sp4n-hub users add|list|disable`` as an operator runs it: a real process, the
password on standard input (never in argv), the TOTP URI printed once."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import asyncpg

from hub.security.credentials import Passwords
from tests.fixtures.postgres import ROOT

PASSWORD = "kata-sandi-koordinator"


async def _cli(database_url: str, *argv: str, stdin: str = "") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "users",
        *argv,
        # Wide enough that the table of `users list` is not cut short.
        env={**os.environ, "DATABASE_URL": database_url, "COLUMNS": "200"},
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_add_list_and_disable_accounts(database_url: str) -> None:
    status, said = await _cli(
        database_url,
        "add",
        "siti",
        "--role",
        "regency",
        "--node",
        "16.71",
        "--name",
        "Siti Aminah",
        "--totp",
        stdin=PASSWORD + "\n",
    )
    assert status == 0, said
    assert "account siti added (regency: node:16.71:read)" in said
    uri = [line for line in said.splitlines() if line.startswith("otpauth://totp/")]
    assert len(uri) == 1
    assert "issuer=SP4N%20Sumsel" in uri[0]
    status, said = await _cli(
        database_url, "add", "analis", "--role", "ministry", stdin=PASSWORD + "\n"
    )
    assert status == 0, said
    assert "otpauth" not in said

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow("SELECT password_hash, totp_secret FROM users WHERE login='siti'")
        actions = await conn.fetch(
            "SELECT client_id, action, outcome FROM audit_log WHERE client_id LIKE 'user:%'"
            " ORDER BY id"
        )
    finally:
        await conn.close()
    assert row is not None
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]
    assert Passwords().check(row["password_hash"], PASSWORD).matched
    assert row["totp_secret"] in uri[0]

    status, listed = await _cli(database_url, "list")
    assert status == 0
    siti = next(line for line in listed.splitlines() if "siti" in line)
    assert "Siti Aminah" in siti
    assert "regency" in siti
    assert "16.71" in siti
    assert "yes" in siti

    status, said = await _cli(database_url, "disable", "siti")
    assert status == 0
    assert "disabled" in said
    status, said = await _cli(database_url, "disable", "siti")
    assert status == 1
    assert "no enabled account 'siti'" in said
    status, listed = await _cli(database_url, "list")
    siti = next(line for line in listed.splitlines() if "siti" in line)
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", siti)) == 2  # created, disabled

    assert [(r["client_id"], r["action"], r["outcome"]) for r in actions] == [
        ("user:siti", "USER_ADDED", "regency"),
        ("user:analis", "USER_ADDED", "ministry"),
    ]


async def test_bad_accounts_are_refused_and_no_password_is_taken_from_argv(
    database_url: str,
) -> None:
    status, said = await _cli(database_url, "add", "pendek", "--role", "ministry", stdin="abc\n")
    assert status == 1
    assert "refused: a password needs at least 12 characters" in said
    status, said = await _cli(
        database_url, "add", "koord", "--role", "regency", stdin=PASSWORD + "\n"
    )
    assert status == 1
    assert "needs --node" in said
    status, said = await _cli(
        database_url, "add", "koord", "--role", "ministry", "--password", PASSWORD
    )
    assert status == 2  # argparse: no such option
    assert "unrecognized arguments: --password" in said
    status, listed = await _cli(database_url, "list")
    assert status == 0
    assert "koord" not in listed
    assert "pendek" not in listed
