"""The notification inbox (消息): the top bar's unread count, marking one notice read (only one's
own) and marking all read."""

from core.tables import Notification, User
from tenants.scope import scoped
from tests.helpers import Browser, in_tenant

T = "/t/luqiao"


async def _notice_for(username: str, title: str) -> int:
    async with in_tenant("luqiao"):
        user = await User.select(User.id).where(User.username == username).first()
        row = await scoped(Notification).add(user=user["id"], kind="test", title=title, source=f"test-{title}")
        return row.id


async def test_marking_read_lowers_the_badge_and_reaches_only_ones_own_notices(app):
    mine = await _notice_for("leader@luqiao", "收件箱测试一")
    await _notice_for("leader@luqiao", "收件箱测试二")
    theirs = await _notice_for("handler@luqiao", "收件箱测试三")
    leader = Browser(app)
    await leader.login("leader@luqiao", "luqiao")
    await leader.get(f"{T}/notifications/")
    before = (await leader.client.get(f"{T}/notifications/unread")).json()["unread"]
    assert before >= 2
    read = await leader.post(f"{T}/notifications/{mine}/read", htmx=True)
    assert read.status_code == 200 and "收件箱测试一" in read.text
    assert (await leader.client.get(f"{T}/notifications/unread")).json()["unread"] == before - 1
    assert (await leader.post(f"{T}/notifications/{theirs}/read", htmx=True)).status_code == 404
    async with in_tenant("luqiao"):
        other = await scoped(Notification).select(Notification.read_at).where(Notification.id == theirs).first()
    assert other["read_at"] is None
    assert (await leader.post(f"{T}/notifications/read-all")).status_code == 303
    assert (await leader.client.get(f"{T}/notifications/unread")).json()["unread"] == 0
