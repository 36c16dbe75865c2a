"""Rendering pages: the context every template gets (the guards live in `core.http`)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from jinja2 import Environment
from litestar import Request
from litestar.response import Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup

from core.http import current_user, login_required, requires, tenant_of  # noqa: F401  (the pages' helpers)
from core.i18n import N_, current_locale
from core.plugins import get_plugin_manager

if TYPE_CHECKING:
    from core.cases.work_queue import QueueCount

# The side navigation's areas, in order (interface.md: 办理 · 监督 · 模块 · 管理).
NAV_GROUPS = (("work", N_("Work")), ("oversight", N_("Oversight")), ("modules", N_("Modules")),
              ("admin", N_("Administration")))
_GROUP_ICONS = {"work": "inbox", "oversight": "graph-up", "modules": "puzzle", "admin": "gear"}
_MODULE_ICONS = {"mediation": "bank", "liaison": "chat-dots", "cadre": "award"}


_DICT_NAMES = frozenset(dir(dict))


class RowEnvironment(Environment):
    """Jinja's environment, reading a row's field (`case.title`, rows are dicts) at once: Jinja
    tries the attribute first and takes the key only after an AttributeError, which cost a
    tenth of a page's rendering.  A name a dict has as an attribute (`items`) still reads it."""

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_NAMES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def _current_item(items: list, relative: str, query: str):
    """The navigation item of the page at `relative` (path below the tenant root): the longest
    href that is a prefix of it and whose own query (cases/?mine=1) the request carries; failing
    that, the longest that is a prefix without its query (a handler's cases/ is its workbench)."""
    asked = set(filter(None, query.split("&")))
    relative = relative.rstrip("/")  # Litestar answers cases/ at cases
    best, best_key = None, (False, -1)
    for item in items:
        if item.group == "account":
            continue
        path, _, wanted = item.href.partition("?")
        path = path.rstrip("/")
        if not (relative == path or (path != "" and relative.startswith(path + "/"))):
            continue
        key = (set(filter(None, wanted.split("&"))) <= asked, len(path))
        if key > best_key:
            best, best_key = item, key
    return best


def navigation(items: list, relative: str, query: str) -> tuple[list, list]:
    """The side navigation as [(group key, label, [(item, icon, current)])], and the account items."""
    current = _current_item(items, relative, query)
    groups = []
    for key, label in NAV_GROUPS:
        entries = []
        for item in items:
            if item.group == "account" or (item.group if item.group in _GROUP_ICONS else "modules") != key:
                continue
            icon = item.icon or _MODULE_ICONS.get(item.href.split("/", 1)[0]) or _GROUP_ICONS[key]
            entries.append((item, icon, item is current))
        if entries:
            groups.append((key, label, entries))
    return groups, [i for i in items if i.group == "account"]


def sidenav(env: Environment, locale: str, root: str, tenant_name: str, signed_in: bool, nav_groups: list) -> Markup:
    """The side navigation's HTML (_sidenav.html).  Every page shows it and it changes only with
    what it is rendered from — the language, the tenant's root and name, whether someone is signed
    in, and the items with the current one marked, which hold what the user's roles and the
    tenant's modules allow — so it is rendered once for each of those and kept.  The counts
    beside the items are fetched by the page afterwards, never part of it."""
    # Only what the template prints, as strings: a key of strings hashes and compares at once,
    # where the plugins' NavItems (new on every request) would be hashed field by field.
    groups = tuple((key, label, tuple((item.href, item.label, icon, current) for item, icon, current in entries))
                   for key, label, entries in nav_groups)
    if env.auto_reload:  # templates read afresh on each use (development): keep nothing
        return _render_sidenav(env, locale, root, tenant_name, signed_in, groups)
    return _kept_sidenav(env, locale, root, tenant_name, signed_in, groups)


def _render_sidenav(env: Environment, locale: str, root: str, tenant_name: str, signed_in: bool,
                    groups: tuple) -> Markup:
    token = current_locale.set(locale)  # the template's _() reads the locale of the key
    try:
        return Markup(env.get_template("_sidenav.html").render(
            root=root, tenant_name=tenant_name, signed_in=signed_in, nav_groups=groups))
    finally:
        current_locale.reset(token)


# Bounded: a few hundred variants (tenants × languages × role sets × current item) at ~5 KB each.
_kept_sidenav = lru_cache(maxsize=1024)(_render_sidenav)


def nav_counts(items: list, queues: list[QueueCount]) -> dict[str, QueueCount]:
    """The work waiting behind the side navigation: for each item's href, the first of the user's
    queues waiting for them (``mine``, in the home page's order) whose list that item leads to —
    the one the page at the queue's href would mark as current.  The counts are the work queue's
    (`core.cases.work_queue.work_queue`), never counted again here."""
    found: dict[str, QueueCount] = {}
    for queue in queues:
        if not queue.mine:
            continue
        path, _, query = queue.href.partition("?")
        item = _current_item(items, path, query)
        if item is not None and item.href not in found:
            found[item.href] = queue
    return found


def page_context(request: Request) -> dict:
    state = request.scope.get("state", {})
    tenant = state.get("tenant")
    user = state.get("user")
    locale = current_locale.get()
    nav = []
    if tenant is not None and user is not None:
        nav = get_plugin_manager().navigation(tenant, user)
    root = state.get("tenant_root") or "/"
    # The path and query as the scope has them: Litestar's `request.url` builds and parses a whole URL.
    path = request.scope.get("root_path", "") + request.scope["path"]
    relative = path[len(root):] if path.startswith(root) else ""
    nav_groups, account_nav = navigation(nav, relative, request.scope.get("query_string", b"").decode("latin-1"))
    csrf = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    tenant_name = tenant.name(locale) if tenant else ""
    env = request.app.template_engine.engine  # type: ignore[union-attr]
    signed_in = bool(user and tenant)
    return {
        "tenant": tenant,
        "tenant_name": tenant_name,
        "sidenav": lambda: sidenav(env, locale, root, tenant_name, signed_in, nav_groups),
        "root": root,
        "user": user,
        "nav": nav,
        "nav_groups": nav_groups,
        "account_nav": account_nav,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "csrf": csrf,
        "path": path,
    }


def page(request: Request, template: str, status_code: int = 200, **context) -> Template:
    """Render a page (or, for an htmx request with `fragment`, just that fragment)."""
    name = template
    fragment = context.pop("fragment", None)
    if fragment and request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
        name = fragment
    return Template(name, context={**page_context(request), **context}, status_code=status_code,
                    media_type="text/html")
