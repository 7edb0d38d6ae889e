"""People log in: the login form, the session cookie and what it may do, lock-out,
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
    # A short lock-out, so that a test can see one end.
    return replace(settings, auth=replace(settings.auth, lockout_after=5, lockout_seconds=3))


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
    assert ("LOGIN", "ok") in await _audit(app, "koord-plg")


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
        ("LOGIN_FAILED", "wrong login or password"),
        ("LOGIN_FAILED", "wrong login or password"),
    ]
    assert await _audit(app, "tidak-ada") == [("LOGIN_FAILED", "unknown login")]


async def test_five_failures_in_a_row_lock_the_account_for_a_while(
    app: Starlette, http: httpx.AsyncClient, users: UserStore
) -> None:
    await users.add("koord", "Koordinator", Role.REGENCY, "16.02", PASSWORD)
    statuses = [(await login(http, "koord", f"salah-{i}")).status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    locked = await login(http, "koord", PASSWORD)  # even the right password, while locked
    assert locked.status_code == 423
    assert "Akun dikunci sementara" in locked.text
    assert re.search(r"Coba lagi setelah pukul \d\d:\d\d WIB", locked.text)
    assert "sp4n_session" not in http.cookies
    entries = await _audit(app, "koord")
    assert [a for a, _ in entries].count("LOCKED_OUT") == 1
    assert entries[-1][0] == "LOGIN_FAILED"
    assert entries[-1][1].startswith("locked until")
    await asyncio.sleep(3.2)  # the lock-out of this module's settings ends
    assert (await login(http, "koord", PASSWORD)).status_code == 303


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
    assert (await _audit(app, "analis"))[-1] == ("LOGOUT", "ok")


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
        ("LOGIN_FAILED", "account disabled"),
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
    assert ("LOGIN_FAILED", "wrong or reused TOTP code") in entries
    assert ("LOGIN_FAILED", "reused TOTP code") in entries


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
