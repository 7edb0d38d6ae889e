"""The demo's people: one account per role, each logging in with the password the
banner printed; a new start gives new passwords and the old ones stop working."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from hub.demo.accounts import DEMO_ACCOUNTS, demo_accounts
from tests.hub.security.login_form import login


async def test_one_account_per_role_with_a_new_password_at_each_start(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    first = await demo_accounts(app.state.database)
    assert sorted(a.role.value for a, _ in first) == ["ministry", "province-admin", "regency"]
    for account, password in first:
        http.cookies.clear()
        answer = await login(http, account.login, password)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/dashboard"
    # The ministry's analyst reads every region's figures; the coordinator does not.
    stats = "/export/statistics.csv?from=2026-01-01&to=2026-02-01"
    assert (await http.get(stats)).status_code == 403  # the last one: Palembang's
    http.cookies.clear()
    await login(http, "kemenpan", dict(first)[DEMO_ACCOUNTS[0]])
    assert (await http.get(stats)).status_code == 200

    second = await demo_accounts(app.state.database)
    assert [a for a, _ in second] == list(DEMO_ACCOUNTS)
    assert (await http.get(stats)).status_code == 403  # a new password ends old sessions
    old, new = dict(first), dict(second)
    for account in DEMO_ACCOUNTS:
        assert old[account] != new[account]
        http.cookies.clear()
        assert (await login(http, account.login, old[account])).status_code == 401
        assert (await login(http, account.login, new[account])).status_code == 303
