"""Pages gated by a permission: a user without it gets the same refusal (403 and its message), a
user with it gets the page (or, for a form, the redirect after it)."""

import pytest

from tests.helpers import Browser

T = "/t/luqiao"
NOT_ALLOWED = "您无权执行此操作。"
NOT_A_SUBMITTER = "只有企业或代办的助企员可以提交诉求。"
ONLY_COMPANIES = "只有企业可以在此举报。"


async def signed_in(app, role: str) -> Browser:
    b = Browser(app)
    response = await b.login(f"{role}@luqiao", "luqiao")
    assert response.status_code == 303, response.text
    return b


# (url, who is refused, who is let in, the refusal's message)
GETS = [
    ("exports/cases.xlsx", "handler", "dispatcher", NOT_ALLOWED),  # the console's or the screen's readers
    ("exports/cases.csv", "company", "leader", NOT_ALLOWED),
    ("exports/ranking.csv", "handler", "reviewer", NOT_ALLOWED),
    ("exports/index.csv", "section_head", "leader", NOT_ALLOWED),
    ("exports/inspections.csv", "tenant_admin", "inspector", NOT_ALLOWED),
    ("setup/", "dispatcher", "tenant_admin", NOT_ALLOWED),
    ("cases/new", "handler", "company", NOT_A_SUBMITTER),
    ("cases/new", "reviewer", "dispatcher", NOT_A_SUBMITTER),  # on a company's behalf
    ("reviews/", "handler", "reviewer", NOT_ALLOWED),
    ("inspections/report", "dispatcher", "company", ONLY_COMPANIES),  # 吃拿卡要举报
]


@pytest.mark.parametrize(("url", "refused", "allowed", "message"), GETS)
async def test_a_page_refuses_who_lacks_its_permission_and_opens_for_who_has_it(app, url, refused, allowed, message):
    denied = await (await signed_in(app, refused)).client.get(f"{T}/{url}")
    assert denied.status_code == 403 and message in denied.text, (url, refused, denied.status_code)
    granted = await (await signed_in(app, allowed)).client.get(f"{T}/{url}")
    assert granted.status_code == 200, (url, allowed, granted.status_code, granted.text[:300])


async def test_a_logged_out_visitor_is_sent_to_log_in_before_any_permission(app):
    visitor = Browser(app)
    for url in ("exports/cases.csv", "setup/", "cases/new", "reviews/", "inspections/report"):
        response = await visitor.client.get(f"{T}/{url}")
        assert response.status_code == 303 and "/login" in response.headers["location"], url


async def test_only_the_tenant_admin_changes_the_index(app):
    """The index page is the screen readers'; its weights, surveys and history are the admin's."""
    dispatcher = await signed_in(app, "dispatcher")
    assert (await dispatcher.get(f"{T}/index/")).status_code == 200
    for form, data in (("weights", {"responsiveness": "60"}), ("surveys", {"period": "2026", "value": "90"}),
                       ("history", {})):
        denied = await dispatcher.post(f"{T}/index/{form}", data)
        assert denied.status_code == 403 and NOT_ALLOWED in denied.text, form
    admin = await signed_in(app, "tenant_admin")
    assert (await admin.post(f"{T}/index/history")).status_code == 303
