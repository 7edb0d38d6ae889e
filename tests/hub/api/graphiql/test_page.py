"""GraphiQL in a real headless Chromium that can reach nothing but the hub.

The hub runs under uvicorn on a loopback port; Chromium resolves every other
host to NOTFOUND, as in a data centre without internet, and its DevTools log
records every request the page makes. Selenium blocks, so each browser step
runs in a thread while the hub keeps serving on the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait
from starlette.applications import Starlette

from hub.api.graphiql.page import HERE
from hub.app import create_app
from hub.domain.commands import Actor, Submit
from hub.domain.service import ReportService
from hub.settings import AuthSettings, Profile, Secret, Settings, SyncMode
from schema.report import ActorRole, Channel, ComplaintSubKind, ReportKind
from tests.fixtures.app import KEY_DIR, token_for
from tests.hub.sync.conftest import wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# GraphiQL's fonts are data: URIs; chrome:// is the browser's own start page,
# loading its resources from the binary.
LOCAL_SCHEMES = {"data", "chrome", "chrome-untrusted"}
# Of the two editor tools (variables, headers) only the chosen one is shown.
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
T = TypeVar("T")


def _loaded_assets() -> list[str]:
    """The URLs of the vendored files the page loads, from the manifest."""
    rows = json.loads((HERE / "manifest.json").read_text("utf-8"))
    return [f"/graphiql-assets/{row['path']}" for row in rows if row["load"]]


@dataclass(frozen=True, slots=True)
class Served:
    app: Starlette
    url: str


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    """The development hub (GraphiQL on, sync in memory) under uvicorn on a free port."""
    app = create_app(replace(settings, sync=SyncMode.MEMORY))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started or task.done(), what="uvicorn to start")
        assert server.started, task.exception() if task.done() else "not started"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield Served(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await task


def _chromium(user_data: Path, downloads: Path | None = None) -> WebDriver:
    """Debian's headless Chromium that reaches nothing but 127.0.0.1 and logs every
    request; with ``downloads``, files it is sent land there without asking."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    assert not missing, f"{missing} missing: `make browser` installs Debian's chromium"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-domain-reliability",
        "--no-proxy-server",
        # Offline, explicitly: every host but the hub's fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--user-data-dir={user_data}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    if downloads is not None:
        options.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    if downloads is not None:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
    return driver


@dataclass
class GraphiQLTab:
    """The hub's GraphiQL in Chromium, with every request and console error it caused."""

    driver: WebDriver
    requests: list[dict[str, Any]] = field(default_factory=list)
    console: list[dict[str, Any]] = field(default_factory=list)

    async def _do(self, step: Callable[[], T]) -> T:
        return await asyncio.to_thread(step)

    def _wait(self, what: str, check: Callable[[WebDriver], T | None], within: float = 30) -> T:
        try:
            found = WebDriverWait(self.driver, within).until(check)
        except TimeoutException:
            self._collect()
            raise AssertionError(
                f"timed out waiting for {what}; requests: {self.urls()}; "
                f"console: {self.console}; page: {self.driver.page_source[:2000]}"
            ) from None
        assert found is not None  # until() returns only once check() is truthy
        return found

    async def open(self, url: str) -> None:
        def step() -> None:
            self.driver.get(url)
            self._wait(
                "GraphiQL to render its query editor",
                lambda d: d.find_elements(By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror"),
            )
            self._collect()

        await self._do(step)

    async def explorer(self) -> str:
        """Opens the explorer plugin; its text once it lists the schema's root fields."""

        def listed(driver: WebDriver) -> str | None:
            pane = driver.find_elements(By.CSS_SELECTOR, ".graphiql-plugin")
            return pane[0].text if pane and "regions" in pane[0].text else None

        def step() -> str:
            self.driver.find_element(
                By.CSS_SELECTOR, "button[aria-label='Show GraphiQL Explorer']"
            ).click()
            return self._wait("the explorer to list the schema", listed)

        return await self._do(step)

    async def set_query(self, text: str) -> None:
        await self._set_editor(".graphiql-query-editor .CodeMirror", text)

        # GraphiQL takes in an edit a moment later (it decides then whether the
        # operation is a subscription); the page's onEditQuery puts it in the URL.
        def taken(driver: WebDriver) -> bool:
            search = driver.execute_script("return window.location.search")
            return isinstance(search, str) and parse_qs(search[1:]).get("q") == [text]

        await self._do(lambda: self._wait("GraphiQL to take the query in", taken))

    async def set_headers(self, text: str) -> None:
        def step() -> None:
            self.driver.find_element(By.XPATH, "//button[normalize-space()='Headers']").click()
            self._wait(
                "the headers editor",
                lambda d: d.find_elements(By.CSS_SELECTOR, HEADERS_EDITOR),
            )

        await self._do(step)
        await self._set_editor(HEADERS_EDITOR, text)

    async def _set_editor(self, selector: str, text: str) -> None:
        def step() -> None:
            self.driver.execute_script(
                "document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1])",
                selector,
                text,
            )

        await self._do(step)

    async def execute_script(self, script: str) -> None:
        await self._do(lambda: self.driver.execute_script(script))

    async def run(self) -> None:
        await self._do(
            lambda: self.driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
        )

    async def response_with(self, text: str, within: float = 30) -> dict[str, Any]:
        """The result pane, once it shows ``text``, parsed."""

        def shown(driver: WebDriver) -> str | None:
            value = driver.execute_script(
                "const e = document.querySelector('.graphiql-response .CodeMirror');"
                "return e ? e.CodeMirror.getValue() : null"
            )
            return value if isinstance(value, str) and text in value else None

        def step() -> dict[str, Any]:
            try:
                result: dict[str, Any] = json.loads(
                    self._wait(f"{text!r} in the result", shown, within)
                )
                return result
            finally:
                self._collect()

        return await self._do(step)

    async def logged(self, text: str) -> None:
        """Waits until a request or a console error mentions ``text``."""

        def seen(driver: WebDriver) -> bool:
            self._collect()
            return any(text in str(entry) for entry in [*self.requests, *self.console])

        await self._do(lambda: self._wait(f"{text!r} in the log", seen))

    def _log(self, kind: str) -> list[dict[str, Any]]:
        """Drains one of chromedriver's logs (``goog:loggingPrefs``)."""
        entries: list[dict[str, Any]] = self.driver.execute(Command.GET_LOG, {"type": kind})[
            "value"
        ]
        return entries

    def _collect(self) -> None:
        for entry in self._log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"])
            elif message["method"] == "Network.webSocketCreated":
                self.requests.append({"url": message["params"]["url"], "method": "WEBSOCKET"})
        self.console.extend(e for e in self._log("browser") if e["level"] == "SEVERE")

    def urls(self) -> list[str]:
        """What the browser asked the network for (data: and chrome:// need none)."""
        return [r["url"] for r in self.requests if urlsplit(r["url"]).scheme not in LOCAL_SCHEMES]


@pytest.fixture
async def tab(tmp_path: Path) -> AsyncIterator[GraphiQLTab]:
    driver = await asyncio.to_thread(_chromium, tmp_path / "chromium")
    try:
        yield GraphiQLTab(driver)
    finally:
        await asyncio.to_thread(driver.quit)


def assert_only_the_hub_was_asked(tab: GraphiQLTab, hub: str) -> None:
    """Every request the page made went to the hub, and nothing failed to load."""
    here = urlsplit(hub).netloc
    outside = [
        url
        for url in tab.urls()
        if urlsplit(url).scheme not in ("http", "ws") or urlsplit(url).netloc != here
    ]
    assert outside == []
    assert tab.console == []  # a CSP refusal or a failed load shows up here


async def test_graphiql_runs_a_query_from_the_hubs_own_assets(
    served: Served, tab: GraphiQLTab
) -> None:
    await tab.open(f"{served.url}/graphql")
    explorer = await tab.explorer()
    assert {"regions", "reports", "reviewQueue"} <= set(explorer.split())
    await tab.set_query("{ regions { code name } }")
    await tab.run()
    result = await tab.response_with("Palembang")

    regions = {r["code"]: r["name"] for r in result["data"]["regions"]}
    assert regions["16.71"] == "Palembang"
    assert len(regions) == 18
    assert_only_the_hub_was_asked(tab, served.url)
    assert set(_loaded_assets()) <= {urlsplit(u).path for u in tab.urls()}
    posted = [r for r in tab.requests if r["method"] == "POST"]
    assert posted
    assert all(urlsplit(r["url"]).path == "/graphql" for r in posted)


async def test_a_token_in_the_headers_editor_is_sent(served: Served, tab: GraphiQLTab) -> None:
    token = await token_for(served.app, "graphiql-admin", "16", ["province:admin"])
    await tab.open(f"{served.url}/graphql")
    await tab.set_query("{ reviewQueue { id } }")
    await tab.run()
    refused = await tab.response_with("FORBIDDEN")
    assert refused["data"] is None

    await tab.set_headers(json.dumps({"Authorization": f"Bearer {token}"}))
    await tab.run()
    allowed = await tab.response_with("reviewQueue")
    assert allowed == {"data": {"reviewQueue": []}}
    assert_only_the_hub_was_asked(tab, served.url)
    sent = [r["headers"] for r in tab.requests if r["method"] == "POST"]
    assert {h.get("Authorization") for h in sent} >= {f"Bearer {token}"}


async def test_a_subscription_streams_over_graphql_transport_ws(
    served: Served, tab: GraphiQLTab
) -> None:
    await tab.open(f"{served.url}/graphql")
    await tab.set_query('subscription { reportEvents(regionCode: "16.04") { reportId verb } }')
    await tab.run()
    sync = served.app.state.sync
    await wait_until(lambda: sync.broadcaster.subscriber_count == 1, what="the subscription")

    service: ReportService = served.app.state.service
    submit = Submit(
        kind=ReportKind.COMPLAINT,
        complaint_sub_kind=ComplaintSubKind.NON_SUPERVISORY,
        title="Lampu jalan mati di Lahat",
        content="Sudah dua minggu gelap.",
        region_code="16.04",
        topic_id=301,
        channel=Channel.MOBILE_APP,
    )
    report = await service.execute(submit, Actor("16.04", ActorRole.INSTITUTION_ADMIN))
    event = await tab.response_with(str(report.id))

    assert event["data"]["reportEvents"] == {"reportId": str(report.id), "verb": "SUBMIT"}
    assert f"ws://{urlsplit(served.url).netloc}/graphql" in tab.urls()
    assert_only_the_hub_was_asked(tab, served.url)


async def test_a_request_elsewhere_would_fail_these_tests(served: Served, tab: GraphiQLTab) -> None:
    await tab.open(f"{served.url}/graphql")
    await tab.execute_script(
        "const s = document.createElement('script');"
        "s.src = 'https://unpkg.com/graphiql@4.1.2/graphiql.min.js';"
        "document.head.appendChild(s);"
    )
    await tab.logged("unpkg.com")
    with pytest.raises(AssertionError):
        assert_only_the_hub_was_asked(tab, served.url)


async def test_the_page_names_only_the_hubs_assets_and_they_are_cached(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        asset = await http.get(_loaded_assets()[0])
        boot = await http.get("/graphiql-assets/boot.js")
    links = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert sorted(u for u in links if not u.startswith("data:")) == sorted(
        [*_loaded_assets(), "/graphiql-assets/boot.js"]
    )
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    # The page's own script is not versioned, so browsers revalidate it.
    assert boot.headers["cache-control"] == "no-cache"


async def test_the_production_profile_serves_neither_page_nor_assets(database_url: str) -> None:
    settings = Settings(
        database_url=Secret(database_url),
        profile=Profile.PRODUCTION,
        auth=AuthSettings(key_dir=KEY_DIR),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            page = await http.get("/graphql", headers={"accept": "text/html"})
            boot = await http.get("/graphiql-assets/boot.js")
            asset = await http.get(_loaded_assets()[0])
    assert "graphiql" not in page.text.lower()
    assert (boot.status_code, asset.status_code) == (404, 404)
