"""``/login`` and ``/logout``: the pages where people start and end a session.

Indonesian first, English at ``?lang=en``; styled by the hub's own stylesheet, with a
Content-Security-Policy that lets the page load nothing from anywhere else. The
login form is protected against CSRF before any session exists by a double-submit
cookie: the page sets a random ``sp4n_login_csrf`` cookie and puts the same value in
the form, and a post whose two do not match is refused.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hub.security.csrf import CSRF_FIELD, csrf_token
from hub.security.logins import Logins, Outcome
from hub.security.sessions import SESSION_COOKIE, CookiePolicy

HERE = Path(__file__).resolve().parent
LOGIN_CSRF_COOKIE = "sp4n_login_csrf"
AFTER_LOGIN = "/dashboard"
_WIB = ZoneInfo("Asia/Jakarta")
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

_TEXT = {
    "id": {
        "title": "Masuk",
        "login": "Nama pengguna",
        "password": "Kata sandi",
        "code": "Kode autentikator",
        "code_hint": "(jika akun Anda memakainya)",
        "submit": "Masuk",
        "logout_title": "Keluar",
        "logout_ask": "Akhiri sesi Anda di hub ini?",
        "logout_submit": "Keluar",
        Outcome.WRONG.name: "Nama pengguna atau kata sandi salah.",
        Outcome.WRONG_CODE.name: "Kode autentikator salah atau sudah dipakai.",
        Outcome.THROTTLED.name: (
            "Terlalu banyak percobaan gagal dari alamat Anda. Coba lagi setelah pukul {until} WIB."
        ),
        Outcome.DISABLED.name: "Akun ini dinonaktifkan. Hubungi administrator hub.",
        "csrf": "Formulir kedaluwarsa. Silakan coba lagi.",
        "logged_out": "Anda telah keluar.",
    },
    "en": {
        "title": "Log in",
        "login": "User name",
        "password": "Password",
        "code": "Authenticator code",
        "code_hint": "(if your account uses one)",
        "submit": "Log in",
        "logout_title": "Log out",
        "logout_ask": "End your session on this hub?",
        "logout_submit": "Log out",
        Outcome.WRONG.name: "Wrong user name or password.",
        Outcome.WRONG_CODE.name: "The authenticator code is wrong or was used already.",
        Outcome.THROTTLED.name: (
            "Too many failed attempts from your address. Try again after {until} WIB (UTC+7)."
        ),
        Outcome.DISABLED.name: "This account is disabled. Ask the hub's administrator.",
        "csrf": "The form expired. Please try again.",
        "logged_out": "You have logged out.",
    },
}
_STATUS = {
    Outcome.WRONG: 401,
    Outcome.WRONG_CODE: 401,
    Outcome.THROTTLED: 429,
    Outcome.DISABLED: 403,
}


def local_path(candidate: str | None) -> str:
    """``candidate`` if it is a path on this hub, else the dashboard: a login link
    must never send a person on to another site."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return AFTER_LOGIN
    if "\\" in candidate or any(ord(c) < 0x20 or ord(c) == 0x7F for c in candidate):
        return AFTER_LOGIN
    parts = urlsplit(candidate)
    return AFTER_LOGIN if parts.scheme or parts.netloc else candidate


def _lang(value: str | None) -> str:
    return "en" if value == "en" else "id"


@dataclass(frozen=True, slots=True)
class _View:
    lang: str
    next: str

    @property
    def text(self) -> dict[str, str]:
        return _TEXT[self.lang]

    def hidden(self, csrf: str) -> str:
        fields = {CSRF_FIELD: csrf, "next": self.next, "lang": self.lang}
        return "".join(
            f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in fields.items()
        )

    def page(self, title: str, body: str, notice: str = "", kind: str = "error") -> str:
        switch = " · ".join(
            f"<strong>{label}</strong>"
            if code == self.lang
            else f'<a href="?{escape(urlencode({"lang": code, "next": self.next}))}">{label}</a>'
            for code, label in (("id", "Bahasa Indonesia"), ("en", "English"))
        )
        shown = f'<p class="notice {kind}" role="alert">{escape(notice)}</p>' if notice else ""
        template = Template((HERE / "page.html").read_text(encoding="utf-8"))
        return template.substitute(
            lang=self.lang, title=escape(title), switch=switch, notice=shown, body=body
        )

    def login_form(self, csrf: str, login: str = "") -> str:
        t = self.text
        # A refused login keeps its name: the cursor waits in the password.
        focus_login, focus_password = ("", " autofocus") if login else (" autofocus", "")
        return (
            f'<form method="post" action="/login">{self.hidden(csrf)}'
            f'<label for="login">{t["login"]}</label>'
            f'<input type="text" id="login" name="login" value="{escape(login)}" '
            f'autocomplete="username" autocapitalize="none" required{focus_login}>'
            f'<label for="password">{t["password"]}</label>'
            '<input type="password" id="password" name="password" '
            f'autocomplete="current-password" required{focus_password}>'
            f'<label for="code">{t["code"]} <small>{t["code_hint"]}</small></label>'
            '<input type="text" id="code" name="code" inputmode="numeric" '
            'autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7">'
            f'<button type="submit">{t["submit"]}</button></form>'
        )


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        body,
        status_code=status,
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "cache-control": "no-store",
            "referrer-policy": "same-origin",
            "x-content-type-options": "nosniff",
        },
    )


class LoginPages:
    """The login and logout pages over ``Logins``; ``routes()`` for the app."""

    def __init__(self, logins: Logins, cookies: CookiePolicy) -> None:
        self._logins = logins
        self._cookies = cookies

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["GET", "POST"]),
            Mount("/login-assets", app=StaticFiles(directory=HERE / "static"), name="login-assets"),
        ]

    def _form_page(
        self,
        request: Request,
        view: _View,
        *,
        notice: str = "",
        kind: str = "error",
        login: str = "",
        status: int = 200,
    ) -> Response:
        # A logged-in person's form carries their session's token (SessionCookie checks
        # it); anyone else's the double-submit cookie's.
        session_csrf = csrf_token(request)
        csrf = session_csrf or secrets.token_urlsafe(32)
        body = view.login_form(csrf, login)
        response = _html(view.page(view.text["title"], body, notice, kind), status)
        if session_csrf is None:
            response.set_cookie(
                LOGIN_CSRF_COOKIE,
                csrf,
                max_age=3600,
                path="/login",
                secure=self._cookies.secure,
                httponly=True,
                samesite="strict",
            )
        return response

    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            view = _View(
                _lang(request.query_params.get("lang")),
                local_path(request.query_params.get("next")),
            )
            notice = view.text["logged_out"] if "logged_out" in request.query_params else ""
            return self._form_page(request, view, notice=notice, kind="info")
        form = {
            k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        view = _View(_lang(form.get("lang")), local_path(form.get("next")))
        login = form.get("login", "")
        if csrf_token(request) is None:
            # SessionCookie checked a session's form already; this is everyone else's.
            cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
            given = form.get(CSRF_FIELD, "")
            if not cookie or not secrets.compare_digest(cookie.encode(), given.encode()):
                return self._form_page(
                    request, view, notice=view.text["csrf"], login=login, status=403
                )
        attempt = await self._logins.attempt(
            login, form.get("password", ""), form.get("code", ""), source_of(request)
        )
        if attempt.outcome is not Outcome.OK:
            notice = view.text[attempt.outcome.name].format(until=_wib(attempt.retry_at))
            response = self._form_page(
                request, view, notice=notice, login=login, status=_STATUS[attempt.outcome]
            )
            if attempt.retry_at is not None:
                wait = (attempt.retry_at - datetime.now(UTC)).total_seconds()
                response.headers["retry-after"] = str(max(1, math.ceil(wait)))
            return response
        assert attempt.token is not None
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            await self._logins.logout(previous, source_of(request))
        response = RedirectResponse(view.next, status_code=303)
        self._cookies.set(response, attempt.token)
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    async def logout(self, request: Request) -> Response:
        lang = _lang(request.query_params.get("lang"))
        csrf = csrf_token(request)
        if request.method == "GET":
            if csrf is None:
                return RedirectResponse(f"/login?lang={lang}", status_code=303)
            view = _View(lang, AFTER_LOGIN)
            t = view.text
            body = (
                f'<form method="post" action="/logout?lang={lang}">{view.hidden(csrf)}'
                f"<p>{t['logout_ask']}</p>"
                f'<button type="submit">{t["logout_submit"]}</button></form>'
            )
            return _html(view.page(t["logout_title"], body))
        # A session's post got here only with its CSRF token (SessionCookie).
        token = request.cookies.get(SESSION_COOKIE)
        if csrf is not None and token:
            await self._logins.logout(token, source_of(request))
        response = RedirectResponse(f"/login?lang={lang}&logged_out=1", status_code=303)
        self._cookies.clear(response)
        return response


def source_of(request: Request) -> str:
    """The address a request came from, as the throttle and the audit log name it: the
    peer's, or the one a trusted proxy forwarded (uvicorn's ``forwarded_allow_ips``)."""
    return request.client.host if request.client is not None else "unknown"


def _wib(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(_WIB).strftime("%H:%M")
