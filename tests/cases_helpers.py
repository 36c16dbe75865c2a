"""Driving cases through the JSON API as the demo accounts, for the lifecycle tests."""

from __future__ import annotations

import httpx

from tests.helpers import token_for

ROLES = ("company", "handler", "section_head", "leader", "dept_head", "dispatcher", "reviewer", "inspector",
         "tenant_admin", "system_admin")


class Api:
    """One bearer token per demo role of a tenant."""

    def __init__(self, app, slug: str = "luqiao"):
        self.slug = slug
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self.tokens: dict[str, str] = {}

    async def token(self, role: str) -> str:
        if role not in self.tokens:
            self.tokens[role] = await token_for(f"{role}@{self.slug}", self.slug)
        return self.tokens[role]

    async def call(self, role: str, method: str, path: str, json: dict | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self.token(role)}"}
        return await self.client.request(method, f"/t/{self.slug}/api/v1/{path}", json=json, headers=headers)

    async def submit(self, title: str = "厂区附近排水管淤积", description: str = "雨天积水倒灌进车间，请尽快疏通。",
                     category: str = "municipal") -> dict:
        response = await self.call("company", "POST", "cases",
                                   {"category": category, "title": title, "description": description})
        assert response.status_code == 201, response.text
        return response.json()

    async def anonymous(self) -> dict:
        """A case filed through Open311 naming no company: the dispatcher attaches one."""
        response = await self.client.post(f"/t/{self.slug}/open311/v2/requests.json", data={
            "api_key": await self.token("dispatcher"), "service_code": "municipal", "address_string": "路桥街道",
            "description": "路灯不亮"})
        assert response.status_code == 200, response.text
        return await self.get("dispatcher", response.json()[0]["service_request_id"])

    async def step(self, role: str, case_id: int, action: str, body: dict | None = None,
                   expect: int = 200) -> dict:
        response = await self.call(role, "POST", f"cases/{case_id}/{action}", body or {})
        assert response.status_code == expect, (role, action, response.status_code, response.text)
        return response.json()

    async def get(self, role: str, case_id: int) -> dict:
        response = await self.call(role, "GET", f"cases/{case_id}")
        assert response.status_code == 200, response.text
        return response.json()

    # -- reaching a state ---------------------------------------------------------------------
    async def in_progress(self, **kwargs) -> dict:
        case = await self.submit(**kwargs)
        await self.step("dispatcher", case["id"], "dispatch")
        return await self.step("handler", case["id"], "accept")

    async def refusal_pending(self) -> dict:
        case = await self.in_progress()
        return await self.step("handler", case["id"], "refuse", {"reason": "不符合现行政策", "basis": "某某条例第五条"})

    async def refused(self) -> dict:
        case = await self.refusal_pending()
        for level in ("section_head", "leader", "dept_head"):
            case = await self.step(level, case["id"], "sign", {"comment": "同意"})
        return case

    async def under_review(self, hearing: bool = False) -> dict:
        case = await self.refused()
        case = await self.step("company", case["id"], "request-review", {"reason": "不认可"})
        if hearing:
            case = await self.step("reviewer", case["id"], "schedule-hearing",
                                   {"hearing_at": "2026-12-01T09:30:00+08:00", "place": "区人大会议室"})
        return case

    async def resolved(self) -> dict:
        case = await self.in_progress()
        return await self.step("handler", case["id"], "resolve", {"reply": "已处理"})
