"""The public side of publicity (公示) under ``/t/<slug>/cadre/publicity/``: no login.

Anyone reads a publicity shown on the public page and lodges an objection (异议) with a contact
through a CSRF-protected form; one address may lodge a few per hour (429 beyond).  Only the
publicity's public snapshot is ever shown here (see :mod:`plugins.cadre.publicity`)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from core.sdk import UserError, page
from plugins.cadre import labels, publicity

PUBLIC_LABELS = dict(kinds=labels.PUBLICITY_KINDS, decisions=labels.DECISIONS, outcomes=labels.OUTCOMES)


class PublicityPages(Controller):
    path = "/publicity"
    opt = {"public": True}  # no login, by design: what it shows is the publicity's public snapshot

    @get("/{publicity_id:int}", name="cadre_publicity")
    async def show(self, request: Request, publicity_id: FromPath[int]) -> object:
        rows = await publicity.on_show(publicity_id)
        if not rows:
            raise UserError(404, "Not found.")
        return page(request, "cadre/publicity.html", p=rows[0], lodged=request.query_params.get("lodged") == "1",
                    **PUBLIC_LABELS)

    @post("/{publicity_id:int}/objections", name="cadre_objection_lodge")
    async def lodge(self, request: Request, publicity_id: FromPath[int]) -> Redirect:
        form = await request.form()
        data = {k: v for k, v in form.items() if k != "_csrf_token"}
        await publicity.lodge(publicity_id, data, request.client.host if request.client else None)
        return Redirect(path=f"{request.scope['state']['tenant_root']}cadre/publicity/{publicity_id}?lodged=1",
                        status_code=303)
