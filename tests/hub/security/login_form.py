"""The login form as a browser fills it in: read the page, post it with its token."""

from __future__ import annotations

import re

import httpx

PASSWORD = "kata-sandi-rahasia-1"


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found[1]


async def login(
    http: httpx.AsyncClient, login: str, password: str = PASSWORD, code: str = "", **query: str
) -> httpx.Response:
    page = await http.get("/login", params=query)
    assert page.status_code == 200
    form = {"csrf_token": csrf_of(page), "login": login, "password": password, "code": code}
    form |= dict(query.items())
    return await http.post("/login", data=form)
