"""Logging in through the form in a real headless Chromium that reaches only the hub.

The person opens a page behind the login, is sent to ``/login``, mistypes the
password (and reads why, in Indonesian), then logs in and lands where they were
going. The page loads its stylesheet from the hub alone under its CSP. The
dashboard itself is another branch's: a stand-in route shows what a page there
receives, the request's principal.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from hub.security.credentials import Passwords
from hub.security.users import Role, UserStore

# The GraphiQL test's browser (Debian's chromium, every host but 127.0.0.1 unresolvable)
# and its hub under uvicorn on a free port.
from tests.hub.api.graphiql.test_page import LOCAL_SCHEMES, Served, _chromium, served
from tests.hub.security.login_form import PASSWORD

__all__ = ["served"]
ARTEFACTS = Path(__file__).resolve().parents[3] / ".sp4n" / "test-artefacts"
"""Screenshots of the login page as refused and of the page landed on, to look at."""


@pytest.fixture
async def driver(tmp_path: Path) -> AsyncIterator[WebDriver]:
    driver = await asyncio.to_thread(_chromium, tmp_path / "chromium")
    try:
        yield driver
    finally:
        await asyncio.to_thread(driver.quit)


def _requested(driver: WebDriver) -> list[str]:
    entries = driver.execute(Command.GET_LOG, {"type": "performance"})["value"]
    urls = []
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _log_in_through_the_form(driver: WebDriver, hub: str) -> dict[str, object]:
    wait = WebDriverWait(driver, 30)
    driver.get(f"{hub}/dashboard")  # not logged in: sent to the login page
    wait.until(lambda d: urlsplit(d.current_url).path == "/login")
    heading = driver.find_element(By.TAG_NAME, "h1").text
    button = driver.find_element(By.CSS_SELECTOR, "button[type=submit]")
    # The hub's own stylesheet applied (the CSP lets it load nothing else).
    colour = button.value_of_css_property("background-color")

    driver.find_element(By.ID, "login").send_keys("koordinator-plg")
    driver.find_element(By.ID, "password").send_keys("bukan-kata-sandinya")
    button.click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".notice.error"))
    refused = driver.find_element(By.CSS_SELECTOR, ".notice.error").text
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTEFACTS / "login-refused.png"))

    driver.find_element(By.ID, "password").send_keys(PASSWORD)  # the login stayed filled
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: urlsplit(d.current_url).path == "/dashboard")
    who = driver.find_element(By.ID, "who").text
    cookies = {c["name"]: c for c in driver.get_cookies()}
    driver.save_screenshot(str(ARTEFACTS / "login-landed.png"))
    # Logging out from the dashboard's header (a form with the session's CSRF token).
    driver.find_element(By.ID, "logout").click()
    wait.until(lambda d: urlsplit(d.current_url).path == "/login")
    driver.get(f"{hub}/dashboard")  # the session is over: back to the login page
    wait.until(lambda d: urlsplit(d.current_url).path == "/login")
    return {
        "heading": heading,
        "colour": colour,
        "refused": refused,
        "who": who,
        "cookie": cookies["sp4n_session"],
        "requested": _requested(driver),
        "console": [
            e
            for e in driver.execute(Command.GET_LOG, {"type": "browser"})["value"]
            if e["level"] == "SEVERE"
        ],
    }


async def test_a_coordinator_logs_in_through_the_form_and_lands_on_the_dashboard(
    served: Served, driver: WebDriver
) -> None:
    users = UserStore(served.app.state.database, served.app.state.audit, Passwords())
    await users.add("koordinator-plg", "Koordinator", Role.REGENCY, "16.71", PASSWORD)

    seen = await asyncio.to_thread(_log_in_through_the_form, driver, served.url)

    assert seen["heading"] == "Masuk"
    assert seen["colour"] == "rgba(138, 21, 56, 1)"  # --accent of login.css
    assert seen["refused"] == "Nama pengguna atau kata sandi salah."
    assert seen["who"] == "Masuk sebagai user:koordinator-plg (16.71)"
    cookie = seen["cookie"]
    assert isinstance(cookie, dict)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    here = urlsplit(served.url).netloc
    requested = seen["requested"]
    assert isinstance(requested, list)
    assert f"{served.url}/login-assets/login.css" in requested
    # chrome:// is the browser's own start page, loaded from its binary.
    asked = [u for u in requested if urlsplit(u).scheme not in LOCAL_SCHEMES]
    assert asked
    assert [u for u in asked if urlsplit(u).netloc != here] == []
    # Only the refusal of the wrong password (401), no CSP refusal, no failed load.
    console = seen["console"]
    assert isinstance(console, list)
    assert [e["message"].split("/", 3)[3] for e in console] == [
        "login - Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
