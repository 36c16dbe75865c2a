"""Project approvals (项目帮办) in Chromium: every page of the module as the coordinator, the
officer, the helper and the company sees it, in Chinese and English, on a desk and a phone — no
page wider than the window, no wrapped label, no serious axe-core violation (the layout check's
rules) — and one 容缺 acceptance through the officer's form."""

import re
from datetime import date, timedelta

import pytest
from playwright.async_api import expect

from tests.browser.conftest import SHOTS
from tests.browser.test_layout import VIEWPORTS, check
from tests.helpers import DEMO_PASSWORD

pytestmark = pytest.mark.browser
ROLES = ("approvals_coordinator", "approvals_officer", "approvals_helper", "company")


async def _login(chromium, server, role: str, viewport: str, locale: str):
    context = await chromium.new_context(locale="zh-CN", viewport=VIEWPORTS[viewport])
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda m: problems.append(f"blocked: {m.text}")
            if m.type == "error" and "Content Security Policy" in m.text else None)
    base = f"{server}/t/luqiao/"
    await page.goto(base + "login")
    await page.locator('input[name="username"]').fill(f"{role}@luqiao")
    await page.locator('input[name="password"]').fill(DEMO_PASSWORD)
    await page.locator('form[action$="/login"] button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/t/luqiao/(?!login)"))
    if locale == "en":
        await page.goto(base + "lang/en?next=/t/luqiao/")
    return context, page, base, problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("locale", ("zh", "en"))
async def test_every_approvals_page_fits(server, chromium, viewport, locale):
    folder = SHOTS / f"approvals-{locale}-{viewport}"
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role in ROLES:
        context, page, base, errors = await _login(chromium, server, role, viewport, locale)
        try:
            await page.goto(base + "approvals/")
            links = await page.locator("main a[href*='/approvals/']").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))")
            walk = ["approvals/", "approvals/catalogue", "approvals/bundles"]
            for pattern in (r"/approvals/projects/\d+$", r"/approvals/filings/\d+$", r"/approvals/bundle-filings/\d+$",
                            r"/approvals/projects/new$"):
                found = next((h for h in links if re.search(pattern, h)), None)
                if found:
                    walk.append(found.split("/t/luqiao/", 1)[1])
            if role != "company":
                assert len(walk) >= 6, (role, walk)
            for path in walk:
                response = await page.goto(base + path)
                assert response.ok, (role, path, response.status)
                await page.wait_for_load_state("networkidle")
                problems += await check(page, f"{role} {path}")
                name = re.sub(r"\W+", "-", path)
                await page.screenshot(path=str(folder / f"{role}-{name}.png"), full_page=True)
        finally:
            await context.close()
        problems += errors
    assert problems == [], "\n".join(problems)


async def test_an_officer_accepts_with_a_material_missing_through_the_form(server, chromium):
    context, page, base, errors = await _login(chromium, server, "approvals_coordinator", "desktop", "zh")
    try:
        await page.goto(base + "approvals/")
        await page.locator("#projects tr[data-project] a").first.click()
        await page.wait_for_url(re.compile(r"/approvals/projects/\d+$"))
        select = page.locator("main form[action$='/approvals/filings'] select[name='item']")
        await select.select_option(await select.locator("option", has_text="建筑工程施工许可").get_attribute("value"))
        await page.locator("main form[action$='/approvals/filings'] button[type='submit']").click()
        await page.wait_for_url(re.compile(r"/approvals/filings/\d+$"))
        filing = page.url.split("/t/luqiao/", 1)[1]
    finally:
        await context.close()
    context, page, base, more = await _login(chromium, server, "approvals_officer", "desktop", "zh")
    try:
        await page.goto(base + filing)
        form = page.locator("#accept")
        await form.get_by_label("建设工程监理合同").check()
        await form.locator("textarea[name='commitment']").fill("承诺五日内补交监理合同。")
        await form.locator("input[name='commitment_due']").fill(str(date.today() + timedelta(days=7)))
        await form.locator("button[type='submit']").click()
        await page.wait_for_url(re.compile(r"/approvals/filings/\d+$"))
        await expect(page.locator("#shortfalls")).to_contain_text("建设工程监理合同")
        await expect(page.locator("#commitment")).to_contain_text("承诺五日内补交监理合同")
        problems = await check(page, "officer filing")
    finally:
        await context.close()
    assert problems + errors + more == []
