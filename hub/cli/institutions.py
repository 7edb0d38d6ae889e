"""``sp4n-hub institutions``: the institutions directory from the command line.

    sp4n-hub institutions list [--region 16.71] [--level REGENCY_OPD] [--text dinkes]
    sp4n-hub institutions add opd-16.71-dpkp "Dinas Pangan Kota Palembang" \\
        --level REGENCY_OPD --region 16.71
    sp4n-hub institutions rename opd-16.71-dpkp "Dinas Ketahanan Pangan Kota Palembang"
    sp4n-hub institutions deactivate opd-16.71-dpkp --note "merged into opd-16.71-distan"

The same rules and audit as the admin mutations (``hub.domain.institutions``); the
audit log names the operator as ``cli:<user>``.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable

from hub.domain.institutions import DirectoryFilter, InstitutionDirectory, NewInstitution
from hub.errors import HubError
from hub.security.audit import AuditLog
from hub.store.database import Database
from hub.store.rows import InstitutionRow
from schema.institutions import InstitutionLevel

_LEVELS = [level.value for level in InstitutionLevel]


def add_institutions_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Registers ``institutions`` and its sub-commands on the hub's sub-command parser."""
    parser = commands.add_parser(
        "institutions", help="the institutions directory: list, add, rename, deactivate"
    )
    actions = parser.add_subparsers(dest="institutions_command", required=True)
    listing = actions.add_parser("list", help="institutions by code, filtered")
    listing.add_argument("--region", help="a region code, e.g. 16.71")
    listing.add_argument("--level", choices=_LEVELS)
    listing.add_argument("--text", help="a few letters of the name or the code")
    listing.add_argument("--inactive", action="store_true", help="only deactivated ones")
    add = actions.add_parser("add", help="add an institution")
    add.add_argument("code", help="e.g. opd-16.71-dpkp")
    add.add_argument("name")
    add.add_argument("--level", choices=_LEVELS, required=True)
    add.add_argument("--region", help="its kabupaten/kota or the province (not for NATIONAL)")
    add.add_argument("--node", help="the node handling its reports (default: its region's)")
    rename = actions.add_parser("rename", help="rename an institution (its code stays)")
    rename.add_argument("code")
    rename.add_argument("name")
    deactivate = actions.add_parser(
        "deactivate", help="refuse new reports for an institution; its history stays"
    )
    deactivate.add_argument("code")
    deactivate.add_argument("--note", required=True, help="why, e.g. what replaced it")


def _line(row: InstitutionRow) -> str:
    status = "" if row.active else "  [deactivated]"
    return f"{row.code:32} {row.level.value:18} {row.node_code:6} {row.name}{status}"


async def institutions_command(
    args: argparse.Namespace, database_url: str, say: Callable[[str], None] = print
) -> int:
    """Runs ``sp4n-hub institutions ...``; returns the exit status."""
    db = Database(database_url, min_size=1, max_size=2)
    await db.open()
    directory = InstitutionDirectory(db, AuditLog(db))
    operator = f"cli:{getpass.getuser()}"
    try:
        match args.institutions_command:
            case "list":
                where = DirectoryFilter(
                    args.region,
                    InstitutionLevel(args.level) if args.level else None,
                    args.text,
                    False if args.inactive else None,
                )
                after: str | None = None
                while True:
                    page = await directory.page(where, 500, after)
                    for row in page.rows:
                        say(_line(row))
                    if not page.has_next:
                        break
                    after = page.rows[-1].code
                say(f"{await directory.count(where):,} institution(s)")
            case "add":
                new = NewInstitution(
                    args.code, args.name, InstitutionLevel(args.level), args.region, args.node
                )
                say(f"added: {_line(await directory.add(new, operator))}")
            case "rename":
                say(f"renamed: {_line(await directory.rename(args.code, args.name, operator))}")
            case "deactivate":
                row = await directory.deactivate(args.code, args.note, operator)
                say(f"deactivated: {_line(row)}")
        return 0
    except HubError as error:
        say(f"refused ({error.code}): {error.message}")
        return 2
    finally:
        await db.close()
