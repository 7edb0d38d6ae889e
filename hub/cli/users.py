"""``sp4n-hub users``: the people who log in to the hub's pages.

    sp4n-hub users add siti --role regency --node 16.71 --name "Siti Aminah" [--totp]
    sp4n-hub users list
    sp4n-hub users disable siti

The password is read from a prompt (asked twice) or, when standard input is not a
terminal, from its first line: never from the command line, where ``ps`` and the
shell's history would show it. ``--totp`` prints the ``otpauth://`` URI of the
account's second factor once, for an authenticator app.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from rich.console import Console
from rich.table import Table

from hub.errors import BadInput
from hub.security.audit import AuditLog
from hub.security.credentials import Passwords
from hub.security.users import Role, User, UserStore
from hub.store.database import Database
from schema.nodes import NODES, NodeLevel


def add_users_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers ``users`` and its sub-commands on the hub's sub-command parser."""
    users = commands.add_parser(
        "users", help="people who log in to the hub's pages (needs DATABASE_URL)"
    )
    actions = users.add_subparsers(dest="users_command", required=True)
    add = actions.add_parser(
        "add", help="add an account; the password is read from a prompt or standard input"
    )
    add.add_argument("login")
    add.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role],
        help="ministry (ministry:read), province-admin (province:admin), "
        "regency (node:<code>:read, with --node)",
    )
    add.add_argument(
        "--node",
        choices=[n.code for n in NODES if n.level is NodeLevel.REGENCY],
        help="the kabupaten/kota a regency coordinator works for",
    )
    add.add_argument("--name", help="the display name (default: the login)")
    add.add_argument(
        "--totp", action="store_true", help="require a TOTP code too; prints its otpauth URI once"
    )
    actions.add_parser("list", help="every account, disabled ones included")
    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("login")


def read_password(console: Console) -> str | None:
    """The new password from a prompt (twice) or standard input's first line."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        console.print("[red]refused:[/] the two passwords differ")
        return None
    return first


async def users_command(args: argparse.Namespace, url: str, console: Console) -> int:
    password = read_password(console) if args.users_command == "add" else ""
    if password is None:
        return 1
    db = Database(url, min_size=1, max_size=2)
    await db.open()
    try:
        await db.migrate()
        store = UserStore(db, AuditLog(db), Passwords())
        match args.users_command:
            case "add":
                return await _add(console, store, args, password)
            case "list":
                _list(console, await store.list())
                return 0
            case _:
                if not await store.disable(args.login):
                    console.print(f"[red]no enabled account {args.login!r}[/]")
                    return 1
                console.print(f"account {args.login} disabled; its sessions ended")
                return 0
    finally:
        await db.close()


async def _add(console: Console, store: UserStore, args: argparse.Namespace, password: str) -> int:
    try:
        added = await store.add(
            args.login,
            args.name or args.login,
            Role(args.role),
            args.node,
            password,
            totp=args.totp,
        )
    except BadInput as error:
        console.print(f"[red]refused:[/] {error.message}")
        return 1
    scopes = " ".join(sorted(added.user.principal.scopes))
    console.print(f"account [bold]{added.user.login}[/] added ({args.role}: {scopes})")
    if added.totp_uri is not None:
        console.print("its authenticator's otpauth URI, shown this once:")
        print(added.totp_uri)
    return 0


def _list(console: Console, users: list[User]) -> None:
    table = Table("login", "name", "role", "node", "totp", "created", "disabled")
    for u in users:
        table.add_row(
            u.login,
            u.display_name,
            u.role.value,
            u.node_code or "-",
            "yes" if u.has_totp else "no",
            f"{u.created_at:%Y-%m-%d %H:%M}",
            f"{u.disabled_at:%Y-%m-%d %H:%M}" if u.disabled_at else "",
        )
    console.print(table)
