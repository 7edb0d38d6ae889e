"""The dashboard in a real headless Chromium that can reach nothing but the hub.

The hub runs under uvicorn on a loopback port over a seeded index; Chromium resolves
every other host to NOTFOUND, and its DevTools log records every request the pages
make. Selenium blocks, so each browser step runs in a thread while the hub keeps
serving on the test's event loop. Screenshots of each view land in
``.sp4n/test-artefacts/dashboard/``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait
from starlette.applications import Starlette

from hub.app import create_app
from hub.demo.seed import seed_reports
from hub.domain.commands import Actor, Submit
from hub.domain.service import ReportService
from hub.security.credentials import Passwords
from hub.security.users import Role, UserStore
from hub.settings import Settings, SyncMode
from schema.report import ActorRole, Channel, ComplaintSubKind, PrivacyFlags, ReportKind
from tests.fixtures.app import token_for
from tests.fixtures.postgres import ROOT

# The GraphiQL test's browser: Debian's Chromium, every host but 127.0.0.1 unresolvable.
from tests.hub.api.graphiql.test_page import LOCAL_SCHEMES, _chromium
from tests.hub.security.login_form import PASSWORD
from tests.hub.sync.conftest import wait_until

ARTEFACTS = ROOT / ".sp4n" / "test-artefacts" / "dashboard"
CANARY = "KANARI-RAHASIA-7f3a"
SEEDED = 400

ROLES: dict[str, tuple[str | None, list[str]]] = {
    "ministry": (None, ["ministry:read"]),
    "province": ("16", ["province:admin"]),
    "palembang": ("16.71", ["node:16.71:read"]),
}
"""Each role a dashboard reader may have: its node and scopes."""
ACCOUNTS = {"ministry": Role.MINISTRY, "province": Role.PROVINCE_ADMIN, "palembang": Role.REGENCY}
"""The account each role's person logs in with."""


@dataclass(frozen=True, slots=True)
class Hub:
    app: Starlette
    url: str
    canary_id: uuid.UUID
    """A confidential report of Lahat (16.04) whose title and content carry CANARY."""


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    """The hub under uvicorn on a free port, with seeded reports and a confidential one,
    the roll-ups projected."""
    app = create_app(replace(settings, sync=SyncMode.MEMORY))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started or task.done(), what="uvicorn to start")
        assert server.started, task.exception() if task.done() else "not started"
        port = server.servers[0].sockets[0].getsockname()[1]
        async with app.state.database.pool.acquire() as conn:
            await seed_reports(conn, SEEDED, now=datetime.now(UTC))
        service: ReportService = app.state.service
        canary = await service.execute(
            Submit(
                kind=ReportKind.COMPLAINT,
                complaint_sub_kind=ComplaintSubKind.NON_SUPERVISORY,
                title=f"Pungutan liar di kantor camat {CANARY}",
                content=f"Nama pejabat ada di sini: {CANARY}",
                region_code="16.04",
                topic_id=301,
                channel=Channel.MOBILE_APP,
                privacy=PrivacyFlags(confidential=True),
            ),
            Actor("16.04", ActorRole.INSTITUTION_ADMIN),
        )
        await app.state.projection.catch_up()
        yield Hub(app, f"http://127.0.0.1:{port}", canary.id)
    finally:
        server.should_exit = True
        await task


@dataclass
class Tab:
    """The dashboard in Chromium, with every request the pages made."""

    driver: WebDriver
    downloads: Path
    shots: Path
    requests: list[dict[str, Any]] = field(default_factory=list)
    console: list[dict[str, Any]] = field(default_factory=list)

    async def do(self, step: Callable[[], Any]) -> Any:
        return await asyncio.to_thread(step)

    async def open(self, url: str) -> str:
        """Loads a page; its text."""

        def step() -> str:
            self.driver.get(url)
            self._collect()
            return str(self.driver.find_element(By.TAG_NAME, "body").text)

        text: str = await self.do(step)
        return text

    async def click(self, css: str) -> str:
        def step() -> str:
            self.driver.find_element(By.CSS_SELECTOR, css).click()
            self._collect()
            return str(self.driver.find_element(By.TAG_NAME, "body").text)

        text: str = await self.do(step)
        return text

    async def source(self) -> str:
        source: str = await self.do(lambda: self.driver.page_source)
        return source

    async def texts(self, css: str) -> list[str]:
        found: list[str] = await self.do(
            lambda: [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]
        )
        return found

    async def attribute(self, css: str, name: str) -> list[str]:
        found: list[str] = await self.do(
            lambda: [
                str(e.get_attribute(name)) for e in self.driver.find_elements(By.CSS_SELECTOR, css)
            ]
        )
        return found

    async def screenshot(self, name: str) -> Path:
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        await self.do(lambda: self.driver.save_screenshot(str(path)))
        assert path.stat().st_size > 0
        return path

    async def download(self, css: str, suffix: str) -> Path:
        """Clicks a download link; the file once it is complete."""
        before = set(self.downloads.glob(f"*{suffix}"))
        await self.do(lambda: self.driver.find_element(By.CSS_SELECTOR, css).click())

        def done() -> bool:
            return bool(set(self.downloads.glob(f"*{suffix}")) - before) and not list(
                self.downloads.glob("*.crdownload")
            )

        await wait_until(done, within=30, what=f"a {suffix} download")
        await self.do(self._collect)
        [found] = set(self.downloads.glob(f"*{suffix}")) - before
        return found

    def _log(self, kind: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.driver.execute(Command.GET_LOG, {"type": kind})[
            "value"
        ]
        return entries

    def _collect(self) -> None:
        for entry in self._log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"])
        self.console.extend(e for e in self._log("browser") if e["level"] == "SEVERE")

    def outside(self, hub: str) -> list[str]:
        """Every URL asked of anything but the hub (data: needs no network; chrome:// is
        the browser's own start page, loaded from its binary)."""
        here = urlsplit(hub).netloc
        return [
            r["url"]
            for r in self.requests
            if urlsplit(r["url"]).scheme not in LOCAL_SCHEMES and urlsplit(r["url"]).netloc != here
        ]


@pytest.fixture
async def tab(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Tab]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = await asyncio.to_thread(_chromium, tmp_path / "chromium", downloads)
    try:
        yield Tab(driver, downloads, ARTEFACTS / request.node.name)
    finally:
        await asyncio.to_thread(driver.quit)


DashboardAs = Callable[[str], Awaitable[str]]


@pytest.fixture
def dashboard_as(hub: Hub, tab: Tab) -> DashboardAs:
    """Logs the browser in as a person of a role, through the login form as people do
    (an account made for the role first). Returns a token with the role's scopes, for
    the same role's GraphQL calls."""

    async def sign_in(role: str) -> str:
        node, scopes = ROLES[role]
        login = f"dashboard-{role}"
        users = UserStore(hub.app.state.database, hub.app.state.audit, Passwords())
        account = ACCOUNTS[role]
        await users.add(
            login, f"Pembaca {role}", account, node if account is Role.REGENCY else None, PASSWORD
        )

        def step() -> None:
            wait = WebDriverWait(tab.driver, 30)
            tab.driver.get(f"{hub.url}/login?next=/dashboard")
            tab.driver.find_element(By.ID, "login").send_keys(login)
            tab.driver.find_element(By.ID, "password").send_keys(PASSWORD)
            tab.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait.until(lambda d: urlsplit(d.current_url).path == "/dashboard")
            tab._collect()

        await tab.do(step)
        token: str = await token_for(hub.app, f"graphql-{role}", node, scopes)
        return token

    return sign_in


async def graphql(hub: Hub, token: str, query: str, **variables: Any) -> dict[str, Any]:
    """The same figures over GraphQL, as the role's own client would ask them."""
    async with httpx.AsyncClient(base_url=hub.url) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data
