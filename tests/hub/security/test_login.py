"""People log in: the login form, the session cookie and what it may do, throttling,
CSRF refusals, a disabled account, TOTP, logout, and every step in the audit log.

Each test drives the hub over HTTP as a browser would: it reads the login page,
posts its form with the CSRF token the page gave, and follows the cookies."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.security.credentials import Passwords
from hub.security.login.page import local_path
from hub.security.sessions import CookiePolicy, is_loopback
from hub.security.users import Added, Role, UserStore
from hub.settings import Settings
from tests.hub.security.login_form import PASSWORD, csrf_of, login

STATS = "/export/statistics.csv?from=2026-01-01&to=2026-02-01"
WRONG = "Nama pengguna atau kata sandi salah"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Waits long enough that no test's attempts outrun them, however slow the machine.
    auth = replace(
        settings.auth,
        throttle_after=5,
        throttle_source_after=10,
        throttle_first_seconds=30.0,
        throttle_longest_seconds=60.0,
    )
    return replace(settings, auth=auth)


WHOAMI = "/test-whoami"


def _whoami(request: Request) -> Response:
    """What a page behind the login (the dashboard) reads: the request's principal."""
    principal = request.state.principal
    return JSONResponse(
        {
            "client_id": principal.client_id,
            "node": principal.node_code,
            "scopes": sorted(principal.scopes),
        }
    )


@pytest.fixture
def users(app: Starlette) -> UserStore:
    # A page of the test's own shows what a page behind the login (the dashboard) sees.
    app.router.routes.append(Route(WHOAMI, _whoami))
    return UserStore(app.state.database, app.state.audit, Passwords())


async def _audit(app: Starlette, login: str) -> list[tuple[str, str]]:
    rows = await app.state.database.pool.fetch(
        "SELECT action, outcome FROM audit_log WHERE client_id = $1 ORDER BY id", f"user:{login}"
    )
    return [(r["action"], r["outcome"]) for r in rows]


async def test_a_person_logs_in_and_their_requests_act_with_their_roles_scopes(
    app: Starlette, http: httpx.AsyncClient, users: UserStore
) -> None:
    await users.add("analis", "Analis KemenPAN-RB", Role.MINISTRY, None, PASSWORD)
    await users.add("admin-prov", "Admin Diskominfo", Role.PROVINCE_ADMIN, None, PASSWORD)
    await users.add("koord-plg", "Koordinator Palembang", Role.REGENCY, "16.71", PASSWORD)
    assert (await http.get(STATS)).status_code == 403  # the public may not

    answer = await login(http, "analis")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard"
    cookie = answer.headers["set-cookie"]
    assert "sp4n_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # the hub is served on loopback here
    seen = (await http.get(WHOAMI)).json()
    assert seen == {"client_id": "user:analis", "node": None, "scopes": ["ministry:read"]}
    assert (await http.get(STATS)).status_code == 200  # the ministry's figures

    http.cookies.clear()
    assert (await login(http, "admin-prov")).status_code == 303
    seen = (await http.get(WHOAMI)).json()
    assert seen == {"client_id": "user:admin-prov", "node": "16", "scopes": ["province:admin"]}

    http.cookies.clear()
    # The login name is not case-sensitive; next= is followed when it is a local path.
    answer = await login(http, "Koord-PLG", next="/dashboard/region/16.71")
    assert answer.headers["location"] == "/dashboard/region/16.71"
    seen = (await http.get(WHOAMI)).json()
    assert seen == {"client_id": "user:koord-plg", "node": "16.71", "scopes": ["node:16.71:read"]}
    assert (await http.get(STATS)).status_code == 403  # not every region's figures
    assert ("LOGIN", "ok (from 127.0.0.1)") in await _audit(app, "koord-plg")


async def test_a_wrong_password_or_login_is_refused_in_indonesian_and_english(
    app: Starlette, http: httpx.AsyncClient, users: UserStore
) -> None:
    await users.add("analis", "Analis", Role.MINISTRY, None, PASSWORD)
    wrong = await login(http, "analis", "bukan-kata-sandinya")
    assert wrong.status_code == 401
    assert WRONG in wrong.text
    assert 'value="analis"' in wrong.text  # the login stays filled in
    unknown = await login(http, "tidak-ada", PASSWORD)
    assert unknown.status_code == 401
    assert WRONG in unknown.text
    english = await login(http, "analis", "bukan-kata-sandinya", lang="en")
    assert "Wrong user name or password" in english.text
    assert '<html lang="en">' in english.text
    assert "sp4n_session" not in http.cookies
    assert await _audit(app, "analis") == [
        ("USER_ADDED", "ministry"),
        ("LOGIN_FAILED", "wrong login or password (from 127.0.0.1)"),
        ("LOGIN_FAILED", "wrong login or password (from 127.0.0.1)"),
    ]
    assert await _audit(app, "tidak-ada") == [("LOGIN_FAILED", "unknown login (from 127.0.0.1)")]


def _from(app: Starlette, address: str) -> httpx.AsyncClient:
    """A browser at ``address`` (the hub sees it as the request's client)."""
    transport = httpx.ASGITransport(app=app, client=(address, 50_000))
    return httpx.AsyncClient(transport=transport, base_url="http://hub.test")


ATTACKER, REAL_USER = "203.0.113.7", "198.51.100.20"


async def test_an_attacker_from_one_address_cannot_keep_the_real_user_out(
    app: Starlette, users: UserStore
) -> None:
    await users.add("koord", "Koordinator", Role.REGENCY, "16.02", PASSWORD)
    async with _from(app, ATTACKER) as attacker, _from(app, REAL_USER) as real:
        statuses = [(await login(attacker, "koord", f"salah-{i}")).status_code for i in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        # Past that, even the right password from the attacker's address is not heard.
        throttled = await login(attacker, "koord", PASSWORD)
        assert throttled.status_code == 429
        assert "Terlalu banyak percobaan gagal dari alamat Anda" in throttled.text
        assert re.search(r"Coba lagi setelah pukul \d\d:\d\d WIB", throttled.text)
        assert 25 <= int(throttled.headers["retry-after"]) <= 30
        assert "sp4n_session" not in attacker.cookies
        # The real user, from their own address, logs in at once.
        answer = await login(real, "koord")
        assert answer.status_code == 303
        assert (await real.get(WHOAMI)).json()["client_id"] == "user:koord"
        # ... and their success does not free the attacker.
        assert (await login(attacker, "koord", PASSWORD)).status_code == 429
    entries = await _audit(app, "koord")
    assert entries[1:6] == [("LOGIN_FAILED", f"wrong login or password (from {ATTACKER})")] * 5
    refused = [o for a, o in entries if a == "LOGIN_THROTTLED"]
    assert len(refused) == 5
    assert all(o.startswith("too many failures from this address until ") for o in refused)
    assert all(o.endswith(f"(from {ATTACKER})") for o in refused)
    assert ("LOGIN", f"ok (from {REAL_USER})") in entries


async def test_one_address_guessing_many_accounts_is_throttled_across_them(
    app: Starlette, users: UserStore
) -> None:
    await users.add("analis", "Analis", Role.MINISTRY, None, PASSWORD)
    async with _from(app, ATTACKER) as attacker, _from(app, REAL_USER) as real:
        # One guess at each of ten logins (the module's settings: ten per address) ...
        for i in range(10):
            assert (await login(attacker, f"pengguna-{i}", "tebakan")).status_code == 401
        # ... and the address waits, whatever login it tries next.
        assert (await login(attacker, "analis", "tebakan")).status_code == 429
        assert (await login(attacker, "pengguna-0", "tebakan")).status_code == 429
        assert (await login(real, "analis")).status_code == 303
    (throttled, why), last = (await _audit(app, "analis"))[-2:]
    assert throttled == "LOGIN_THROTTLED"
    assert why.endswith(f"(from {ATTACKER})")
    assert last == ("LOGIN", f"ok (from {REAL_USER})")


async def test_attempts_sent_at_once_are_counted_one_by_one(
    app: Starlette, users: UserStore
) -> None:
    await users.add("analis", "Analis", Role.MINISTRY, None, PASSWORD)
    async with _from(app, ATTACKER) as attacker:
        page = await attacker.get("/login")
        form = {"csrf_token": csrf_of(page), "login": "analis", "code": ""}
        answers = await asyncio.gather(
            *(attacker.post("/login", data=form | {"password": f"salah-{i}"}) for i in range(12))
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * 5 + [429] * 7  # no burst gets more guesses through


async def test_the_wait_grows_with_each_failure_and_a_success_clears_it(
    app: Starlette, users: UserStore
) -> None:
    await users.add("analis", "Analis", Role.MINISTRY, None, PASSWORD)
    rows = app.state.database.pool
    async with _from(app, ATTACKER) as attacker:
        for i in range(5):
            await login(attacker, "analis", f"salah-{i}")
        # The module's first wait is 30 s; move the latest failure back past it.
        await rows.execute(
            "UPDATE login_throttle SET last_at = last_at - interval '31 seconds' "
            "WHERE source = $1 AND login = 'analis'",
            ATTACKER,
        )
        assert (await login(attacker, "analis", "salah-6")).status_code == 401
        waits = await login(attacker, "analis", "salah-7")
        assert waits.status_code == 429
        assert 55 <= int(waits.headers["retry-after"]) <= 60  # doubled: 60 s
        await rows.execute(
            "UPDATE login_throttle SET last_at = last_at - interval '61 seconds' "
            "WHERE source = $1 AND login = 'analis'",
            ATTACKER,
        )
        assert (await login(attacker, "analis")).status_code == 303
        attacker.cookies.clear()
        # The success cleared this address's count for the account, but not the
        # address's own across accounts (6 of its 10: only its own attempt came back).
        statuses = [(await login(attacker, "analis", f"lagi-{i}")).status_code for i in range(5)]
        assert statuses == [401] * 4 + [429]
    count = await rows.fetchval(
        "SELECT failures FROM login_throttle WHERE source = $1 AND login = 'analis'", ATTACKER
    )
    assert count == 4


async def test_forms_without_their_csrf_token_are_refused(
    app: Starlette, http: httpx.AsyncClient, users: UserStore
) -> None:
    await users.add("admin-prov", "Admin", Role.PROVINCE_ADMIN, None, PASSWORD)
    # The login form posted from elsewhere: no token, or one the browser's cookie lacks.
    bare = await http.post("/login", data={"login": "admin-prov", "password": PASSWORD})
    assert bare.status_code == 403
    assert "Formulir kedaluwarsa" in bare.text
    await http.get("/login")
    forged = await http.post(
        "/login", data={"csrf_token": "tebakan", "login": "admin-prov", "password": PASSWORD}
    )
    assert forged.status_code == 403
    assert "sp4n_session" not in http.cookies
    assert await _audit(app, "admin-prov") == [("USER_ADDED", "province-admin")]

    assert (await login(http, "admin-prov")).status_code == 303
    page = await http.get("/logout")
    token = csrf_of(page)
    # A session's unsafe requests need its token: a form, or GraphQL from a script.
    refused = await http.post("/logout", data={})
    assert refused.status_code == 403
    assert refused.text.startswith("CSRF_REFUSED")
    # GraphQL from a page's script without the header (GraphiQL) is the public's.
    query = {"query": "{ reviewQueue { id } }"}
    public = (await http.post("/graphql", json=query)).json()
    assert public["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    ok = await http.post("/graphql", json=query, headers={"x-csrf-token": token})
    assert ok.status_code == 200
    assert ok.json()["data"] == {"reviewQueue": []}
    plain = await http.post(
        "/graphql",
        content='{"query": "{ reviewQueue { id } }"}',
        headers={"content-type": "text/plain"},
    )
    assert plain.status_code == 403  # what a form of another site could send
    assert (await http.get(WHOAMI)).json()["client_id"] == "user:admin-prov"  # still in
    # A bearer token is no ambient credential: it needs no CSRF token.
    assert (
        await http.post("/graphql", json=query, headers={"authorization": "Bearer x"})
    ).status_code == 401


async def test_logout_ends_the_session(
    app: Starlette, http: httpx.AsyncClient, users: UserStore
) -> None:
    await users.add("analis", "Analis", Role.MINISTRY, None, PASSWORD)
    await login(http, "analis")
    cookie = http.cookies["sp4n_session"]
    token = csrf_of(await http.get("/logout"))
    out = await http.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"].startswith("/login")
    assert "sp4n_session" not in http.cookies
    assert "Anda telah keluar" in (await http.get(out.headers["location"])).text
    # The old cookie, replayed, is nobody any more.
    http.cookies.set("sp4n_session", cookie)
    replayed = await http.get(WHOAMI)
    assert replayed.json()["client_id"] is None
    assert (await _audit(app, "analis"))[-1] == ("LOGOUT", "ok (from 127.0.0.1)")


async def test_a_disabled_accounts_sessions_stop_and_it_cannot_log_in(
    app: Starlette, http: httpx.AsyncClient, users: UserStore
) -> None:
    await users.add("analis", "Analis", Role.MINISTRY, None, PASSWORD)
    await login(http, "analis")
    assert (await http.get(STATS)).status_code == 200
    assert await users.disable("analis")
    assert (await http.get(STATS)).status_code == 403  # the live session stopped at once
    again = await login(http, "analis")
    assert again.status_code == 403
    assert "dinonaktifkan" in again.text
    assert (await _audit(app, "analis"))[-2:] == [
        ("USER_DISABLED", "1 session(s) ended"),
        ("LOGIN_FAILED", "account disabled (from 127.0.0.1)"),
    ]
    assert not await users.disable("analis")


async def test_an_account_with_totp_needs_a_fresh_code(
    app: Starlette, http: httpx.AsyncClient, users: UserStore
) -> None:
    added: Added = await users.add(
        "admin-prov", "Admin", Role.PROVINCE_ADMIN, None, PASSWORD, totp=True
    )
    assert added.totp_uri is not None
    assert added.totp_uri.startswith("otpauth://totp/")
    secret = parse_qs(urlsplit(added.totp_uri).query)["secret"][0]
    without = await login(http, "admin-prov")
    assert without.status_code == 401
    assert "Kode autentikator salah" in without.text
    code = pyotp.TOTP(secret).now()
    assert (await login(http, "admin-prov", code=code)).status_code == 303
    http.cookies.clear()
    replay = await login(http, "admin-prov", code=code)  # the same code a second time
    assert replay.status_code == 401
    assert "sp4n_session" not in http.cookies
    entries = await _audit(app, "admin-prov")
    assert ("LOGIN_FAILED", "wrong or reused TOTP code (from 127.0.0.1)") in entries
    assert ("LOGIN_FAILED", "reused TOTP code (from 127.0.0.1)") in entries


async def test_new_accounts_are_checked(users: UserStore) -> None:
    from hub.errors import BadInput

    with pytest.raises(BadInput, match="12 characters"):
        await users.add("pendek", "P", Role.MINISTRY, None, "pendek")
    with pytest.raises(BadInput, match="kabupaten/kota"):
        await users.add("koord", "K", Role.REGENCY, "16", PASSWORD)
    with pytest.raises(BadInput, match="no node"):
        await users.add("analis", "A", Role.MINISTRY, "16.71", PASSWORD)
    await users.add("analis", "A", Role.MINISTRY, None, PASSWORD)
    with pytest.raises(BadInput, match="already exists"):
        await users.add("analis", "A", Role.MINISTRY, None, PASSWORD)


def test_a_login_link_never_sends_a_person_elsewhere() -> None:
    assert (
        local_path("/dashboard/region/16.71?period=2026-01")
        == "/dashboard/region/16.71?period=2026-01"
    )
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "",
        None,
        "javascript:alert(1)",
        "/x\r\nSet-Cookie: a=b",
    ):
        assert local_path(elsewhere) == "/dashboard"


def test_the_session_cookie_is_secure_off_loopback() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("hub.sumselprov.go.id")
    response = Response()
    CookiePolicy(secure=True, max_age=60).set(response, "t")
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


async def test_check_csrf_is_the_same_check_for_a_pages_own_use() -> None:
    from hub.security.csrf import CsrfRefused, check_csrf, csrf_token
    from hub.security.scopes import PUBLIC
    from hub.security.sessions import LiveSession

    def request(method: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> Request:
        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": body, "more_body": False}

        live = LiveSession(PUBLIC, "Analis", "sesi-token")
        scope = {"type": "http", "method": method, "headers": headers, "state": {"session": live}}
        return Request(scope, receive)

    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    assert csrf_token(request("GET", b"", [])) == "sesi-token"
    await check_csrf(request("GET", b"", []))  # safe methods need none
    await check_csrf(request("POST", b"csrf_token=sesi-token&x=1", form))
    await check_csrf(request("POST", b"{}", [(b"x-csrf-token", b"sesi-token")]))
    with pytest.raises(CsrfRefused, match="missing"):
        await check_csrf(request("POST", b"x=1", form))
    with pytest.raises(CsrfRefused, match="wrong"):
        await check_csrf(request("POST", b"csrf_token=tebakan", form))


async def test_ended_sessions_and_idle_login_counts_are_pruned(
    app: Starlette, http: httpx.AsyncClient, users: UserStore
) -> None:
    names = ("analis", "keluar", "kedaluwarsa", "baru")
    cookies = {}
    for name in names:
        await users.add(name, name.title(), Role.MINISTRY, None, PASSWORD)
        http.cookies.clear()
        await login(http, name)
        cookies[name] = http.cookies["sp4n_session"]
    # "baru" logs out now; "keluar" logged out and "kedaluwarsa"'s session expired two
    # days ago (the window is a day).
    out = await http.post("/logout", data={"csrf_token": csrf_of(await http.get("/logout"))})
    assert out.status_code == 303
    pool = app.state.database.pool
    await pool.execute(
        "UPDATE user_sessions SET ended_at = now() - interval '2 days' WHERE login = 'keluar'"
    )
    await pool.execute(
        "UPDATE user_sessions SET expires_at = now() - interval '2 days' "
        "WHERE login = 'kedaluwarsa'"
    )
    # A fresh failure count and one whose latest failure is two days old.
    async with _from(app, ATTACKER) as attacker:
        await login(attacker, "analis", "salah")
        await login(attacker, "tidak-ada", "salah")
    await pool.execute(
        "UPDATE login_throttle SET last_at = now() - interval '2 days' WHERE login = 'tidak-ada'"
    )

    took = await app.state.retention.run_once()

    assert took["user_sessions"] == 2
    assert took["login_throttle"] == 1
    left = await pool.fetch("SELECT login FROM user_sessions ORDER BY login")
    assert [r["login"] for r in left] == ["analis", "baru"]
    counts = await pool.fetch(
        "SELECT login FROM login_throttle WHERE source = $1 ORDER BY login", ATTACKER
    )
    assert [r["login"] for r in counts] == ["", "analis"]
    # The live session still works; /metrics shows what the jobs did.
    http.cookies.clear()
    http.cookies.set("sp4n_session", cookies["analis"])
    assert (await http.get(WHOAMI)).json()["client_id"] == "user:analis"
    text = (await http.get("/metrics")).text
    assert 'sp4n_retention_rows_deleted_total{table="user_sessions"} 2.0' in text
    assert 'sp4n_retention_rows_deleted_total{table="login_throttle"} 1.0' in text
    assert 'sp4n_retention_errors_total{table="user_sessions"} 0.0' in text
