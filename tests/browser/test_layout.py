"""The one layout (top bar, side navigation, content) as four Luqiao roles see it, in Chinese and
English, on a desk (1440×900) and a phone (390×844): no page wider than the window, no navigation
item, button, badge or table header whose label wraps, no axe-core violation of impact serious or
critical (axe vendored in tests/browser/vendor, never shipped to users), the current item marked,
the menu behind a button on the phone.

With QQ_DOCS_SCREENSHOTS=1 it also writes the README's screenshots to docs/screenshots/."""

from __future__ import annotations

import os
import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SHOTS
from tests.conftest import ROOT
from tests.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
ROLES = ("dispatcher", "handler", "company", "tenant_admin", "section_head", "reviewer", "inspector",
         "mediation_court@luqiao-court", "liaison_coordinator", "cadre_org")  # <role>[@<tenant>], Luqiao by default
# Which of the walked pages go into the README (role, page, locale).
FOR_DOCS = {("company", "home", "zh"): "company-home", ("dispatcher", "console", "zh"): "console",
            ("dispatcher", "case", "zh"): "case", ("dispatcher", "console", "en"): "console-en"}

# A label wraps when its text lies on more than one line.
WRAPPED = """(selector) => {
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.offsetParent && getComputedStyle(el).position !== "fixed") continue;
    const rects = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) if (r.width > 1 && r.height > 1) rects.push(r);
    }
    if (rects.some(a => rects.some(b => b.top >= a.bottom - 1))) out.push(el.textContent.trim().replace(/\\s+/g, " ").slice(0, 40));
  }
  return out;
}"""
AXE = (ROOT / "tests" / "browser" / "vendor" / "axe-core-4.14.1" / "axe.min.js").read_text()
# axe-core on the given parts of the page: violations of impact serious or critical.
AXE_RUN = """async (include) => {
  const result = await axe.run(include ? {include: include} : document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`);
}"""
LABELS = ".app-sidenav .nav-link, .app-topbar .btn, .app-main .btn, .status-badge, .badge, .flag, th, .app-main button"


async def check(page, where: str) -> list[str]:
    problems = []
    # axe-core, evaluated through the debugging protocol (the page's CSP does not apply to it).
    if not await page.evaluate("() => typeof axe !== 'undefined'"):
        await page.evaluate(AXE)
    found = await page.evaluate(AXE_RUN, None)
    if found:
        problems.append(f"{where}: axe {found}")
    width = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1] + 1:
        problems.append(f"{where}: page {width[0]} px wide in a {width[1]} px window")
    wrapped = await page.evaluate(WRAPPED, LABELS)
    if wrapped:
        problems.append(f"{where}: wrapped labels {wrapped}")
    return problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("locale", ("zh", "en"))
async def test_the_layout_fits_every_role(server, chromium, viewport, locale):
    folder = SHOTS / f"layout-{locale}-{viewport}"
    folder.mkdir(parents=True, exist_ok=True)
    docs = os.environ.get("QQ_DOCS_SCREENSHOTS") == "1"
    problems: list[str] = []
    for account in ROLES:
        role, _, slug = account.partition("@")
        slug = slug or "luqiao"
        context = await chromium.new_context(locale="zh-CN", viewport=VIEWPORTS[viewport])
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on("console", lambda m: problems.append(f"blocked: {m.text}")
                if m.type == "error" and "Content Security Policy" in m.text else None)
        base = f"{server}/t/{slug}/"
        try:
            await page.goto(base + "login")
            await page.locator('input[name="username"]').fill(f"{role}@{slug}")
            await page.locator('input[name="password"]').fill(DEMO_PASSWORD)
            await page.locator('form[action$="/login"] button[type="submit"]').click()
            await page.wait_for_url(re.compile(rf"/t/{slug}/(?!login)"))
            if locale == "en":
                await page.goto(base + f"lang/en?next=/t/{slug}/")
            await expect(page.locator("[data-user-menu]")).to_be_visible()
            walk = [("home", ""), ("console", "cases/"), ("notifications", "notifications/")]
            # Then every other page of this role's side navigation (modules included).
            await page.goto(base)
            for href in await page.locator("#sidenav a[data-nav]").evaluate_all(
                    "links => links.map(a => a.getAttribute('data-nav'))"):
                if href not in {path for _, path in walk} and not href.startswith("screen/"):
                    walk.append((re.sub(r"\W+", "-", href).strip("-"), href))
            for name, path in walk:
                await page.goto(base + path)
                await page.wait_for_load_state("networkidle")  # the unread count comes after the page
                problems += await check(page, f"{role} {name}")
                if name == "home":  # the work queue's first count is in view without scrolling
                    card = page.locator("[data-queue]").first
                    box = await card.bounding_box() if await card.count() else None
                    if box is None or box["y"] + box["height"] > VIEWPORTS[viewport]["height"]:
                        problems.append(f"{role} home: the work queue is not in view ({box})")
                await page.screenshot(path=str(folder / f"{role}-{name}.png"), full_page=True)
                if docs and (role, name, locale) in FOR_DOCS:
                    await page.screenshot(path=str(DOCS / f"{FOR_DOCS[role, name, locale]}-{viewport}.png"))
                if name == "console":
                    first = page.locator("#case-list tr[data-case] a").first
                    if await first.count():
                        await first.click()
                        await page.wait_for_url(re.compile(r"/cases/\d+$"))
                        problems += await check(page, f"{role} case")
                        await page.screenshot(path=str(folder / f"{role}-case.png"), full_page=True)
                        if docs and (role, "case", locale) in FOR_DOCS:
                            await page.screenshot(path=str(DOCS / f"{FOR_DOCS[role, 'case', locale]}-{viewport}.png"))
            # The current page is marked in the navigation, and on a phone the menu opens from its button.
            links = await page.locator("#sidenav a[data-nav]").evaluate_all(
                "links => links.map(a => a.getAttribute('data-nav'))")
            await page.goto(base + next((h for h in links if h and not h.startswith("screen/")), ""))
            current = page.locator('#sidenav [aria-current="page"]')
            await expect(current).to_have_count(1)
            if viewport == "phone":
                await expect(current).to_be_hidden()
                await page.locator(".menu-button").click()
                await expect(current).to_be_visible()
                await expect(page.locator("#sidenav.show:not(.showing)")).to_be_visible()
                await page.wait_for_timeout(400)  # the slide-in transition
                await page.screenshot(path=str(folder / f"{role}-menu.png"))
                if docs and role == "dispatcher" and locale == "zh":
                    await page.screenshot(path=str(DOCS / "menu-phone.png"))
            else:
                await expect(current).to_be_visible()
        finally:
            await context.close()
    assert problems == [], "\n".join(problems)
