"""Common problems and new policies (高频共性问题 · 新政): the groups of the latest clustering run,
with size, departments and example cases, and the policies made from them."""

from __future__ import annotations

import json

from litestar import Controller, Request, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from core.cases.queries import choices
from core.oversight.policies import POLICY_STATUSES, create_policy, latest_run, policies, start_clustering
from web.rendering import current_user, page, requires


class PolicyPages(Controller):
    path = "/t/{tenant:str}/policies"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("policy.manage")]

    @get("/", name="policies")
    async def index(self, request: Request) -> object:
        run = await latest_run()
        groups = json.loads(run["groups"]) if run and run["status"] == "done" else []
        return page(request, "oversight/policies.html", run=run, groups=groups, policies=await policies(),
                    statuses=POLICY_STATUSES, **await choices())

    @post("/runs", name="policies_run")
    async def run(self, request: Request) -> Redirect:
        await start_clustering()
        return Redirect(path=f"{request.scope['state']['tenant_root']}policies/", status_code=303)

    @post("/from-group/{run_id:int}/{label:int}", name="policies_create")
    async def create(self, request: Request, run_id: FromPath[int], label: FromPath[int],
                     data: URLEncodedBody[dict[str, str]]) -> Redirect:
        await create_policy(run_id, label, data.get("title", ""), data.get("department", ""),
                            data.get("status", "drafting"), data.get("summary", ""), current_user(request).id)
        return Redirect(path=f"{request.scope['state']['tenant_root']}policies/", status_code=303)


