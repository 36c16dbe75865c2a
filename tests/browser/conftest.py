"""Browser tests: Debian's Chromium, driven by Playwright, against a real `qinqing serve` on a free
loopback port and the test database that tests/conftest.py migrated and loaded with the demo tenants.

Everyone logs in through the login page with their own browser context (cookies of their own), and
a screenshot of every page and step lands in var/screenshots/<test>/<nn>-<step>.png for inspection.
Run with `make test-browser` (`make test` leaves this folder out)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.conftest import ROOT
from tests.helpers import DEMO_PASSWORD

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SHOTS = ROOT / "var" / "screenshots"
expect.set_options(timeout=15_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server() -> str:
    """`qinqing serve` in its own process (embedded worker), on a free 127.0.0.1 port; its log goes
    to var/screenshots/server-<xdist worker>.log."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = (SHOTS / f"server-{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=ROOT, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"qinqing serve did not start; see {log.name}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
async def chromium() -> Browser:
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        await browser.close()


@dataclass
class Camera:
    """Numbered full-page screenshots of one test: var/screenshots/<test>/<nn>-<step>.png."""

    folder: Path
    count: int = 0

    async def __call__(self, page: Page, step: str) -> None:
        self.count += 1
        await page.screenshot(path=str(self.folder / f"{self.count:02d}-{step}.png"), full_page=True)


@dataclass
class Person:
    """One demo user at their own browser window."""

    role: str
    page: Page
    base: str
    slug: str
    camera: Camera
    problems: list[str] = field(default_factory=list)

    def url(self, path: str = "") -> str:
        return f"{self.base}/t/{self.slug}/{path}"

    async def visit(self, path: str, step: str) -> Page:
        response = await self.page.goto(self.url(path))
        assert response is not None and response.ok, (path, response and response.status)
        await self.shot(step)
        return self.page

    async def shot(self, step: str) -> None:
        await self.camera(self.page, f"{self.role}-{step}")
        size = self.page.viewport_size
        if size and size["width"] < 500:  # on a phone no page may scroll sideways
            wide = await self.page.evaluate("document.scrollingElement.scrollWidth")
            if wide > size["width"]:
                self.problems.append(f"{step}: the page is {wide}px wide on a {size['width']}px phone")

    async def step(self, name: str, fields: dict[str, str] | None = None, selects: dict[str, str] | None = None,
                   root: str = "#case") -> None:
        """Fill and send a step form on a case (or dispute) page; htmx swaps the section in place."""
        form = self.page.locator(f'{root} form[data-step="{name}"]')
        details = form.locator("xpath=ancestor::details[1]")
        if await details.count() and await details.get_attribute("open") is None:
            await details.locator("summary").click()
        for key, value in (fields or {}).items():
            await form.locator(f'[name="{key}"]').fill(value)
        for key, value in (selects or {}).items():
            await form.locator(f'select[name="{key}"]').select_option(value)
        await self.page.evaluate("""() => { window.__swapped = new Promise(done =>
            document.addEventListener("htmx:afterSettle", done, {once: true})); }""")
        async with self.page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith(f"/{name}")) as sent:
            await form.locator('button[type="submit"]').click()
        response = await sent.value
        assert response.status == 200, (name, response.status, (await response.text())[:500])
        await self.page.evaluate("() => window.__swapped.then(() => true)")
        await self.shot(name)


@pytest.fixture
def camera(request) -> Camera:
    folder = SHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Camera(folder)


@pytest.fixture
async def people(server, chromium, camera):
    """`await people("dispatcher")` logs that demo user in through the login page, in a fresh context.
    At the end every page must have run without a script error or a CSP block and loaded every static asset."""
    contexts: list[BrowserContext] = []
    everyone: list[Person] = []

    async def login(role: str, slug: str = "luqiao", phone: bool = False) -> Person:
        """`phone=True`: a 390×844 touch screen, as a company's owner on a phone."""
        viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
        context = await chromium.new_context(locale="zh-CN", viewport=viewport, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        page = await context.new_page()
        person = Person(role, page, server, slug, camera)
        page.on("pageerror", lambda error: person.problems.append(f"script error: {error}"))
        page.on("console", lambda m: person.problems.append(f"blocked: {m.text}")
                if m.type == "error" and "Content Security Policy" in m.text else None)
        page.on("response", lambda r: person.problems.append(f"{r.status} {r.url}")
                if "/static/" in r.url and r.status >= 400 else None)
        await person.visit("login", "login")
        await page.locator('input[name="username"]').fill(f"{role}@{slug}")
        await page.locator('input[name="password"]').fill(DEMO_PASSWORD)
        await page.locator('form[action$="/login"] button[type="submit"]').click()
        await page.wait_for_url(re.compile(rf"/t/{slug}/(?!login)"))
        await expect(page.locator("[data-user-menu]")).to_be_visible()  # the user menu holds 退出登录
        await person.shot("home")
        everyone.append(person)
        return person

    yield login
    for context in contexts:
        await context.close()
    assert [p for person in everyone for p in person.problems] == []

