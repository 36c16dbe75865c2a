"""The plugin contract: every hookspec is typed, documented with an example and exercised by the
test plugin; a plugin is invisible where a tenant has not enabled it; every name of the SDK is
documented and used by a bundled plugin or the example plugin, which import nothing else."""

import ast
import inspect
import json
from pathlib import Path

import pytest

from core import hookspecs
from core.contrib import CaseEvent
from core.db import write_transaction
from core.plugins import PluginManager, get_plugin_manager, set_plugin_manager
from core.tables import User
from tenants.onboarding import ensure_membership
from tenants.registry import load_tenant
from tenants.scope import tenant_setting
from tenants.tables import Tenant
from tests import contract_plugin
from tests.helpers import Browser, in_tenant, token_for

ROOT = Path(__file__).resolve().parent.parent  # not tests.conftest's: importing that migrates and loads the demo
SPECS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("qinqing_")]
# Each hook, and the test below that shows its contribution taking effect.
EXERCISED = {
    "qinqing_plugin_info": "test_plugin_is_registered_by_name",
    "qinqing_routes": "test_contributions_reach_the_app",
    "qinqing_api_routes": "test_contributions_reach_the_app",
    "qinqing_navigation": "test_contributions_reach_the_app",
    "qinqing_roles": "test_contributions_reach_the_app",
    "qinqing_piccolo_apps": "test_bundled_plugins_contribute_piccolo_apps",
    "qinqing_template_dirs": "test_contributions_reach_the_app",
    "qinqing_static_dirs": "test_contributions_reach_the_app",
    "qinqing_dashboard_widgets": "test_contributions_reach_the_app",
    "qinqing_public_sections": "test_contributions_reach_the_app",
    "qinqing_screen_widgets": "test_contributions_reach_the_app",
    "qinqing_case_event": "test_case_events_reach_only_enabled_plugins",
    "qinqing_case_actions": "tests/test_courts_handover.py::test_the_case_page_offers_a_referral_only_where_one_can_be_made",
    "qinqing_actors": "test_actors_and_settings",
    "qinqing_event_labels": "test_actors_and_settings",
    "qinqing_scheduled_jobs": "tests/test_scheduler.py::test_tick_runs_the_jobs_plugins_contribute",
    "qinqing_demo_data": "test_demo_loaders_run_for_enabled_tenants",
    "qinqing_tenant_settings": "test_actors_and_settings",
    "qinqing_work_queue": "test_contributions_reach_the_app",
    "qinqing_commands": "test_plugins_add_commands_to_the_cli",
}


def test_every_hookspec_is_documented_implemented_and_tested():
    assert SPECS, "no hookspecs found"
    for name in SPECS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 40, f"{name} lacks a contract docstring"
        assert hasattr(contract_plugin, name), f"the test plugin does not implement {name}"
        assert name in EXERCISED, f"no test exercises {name}"
    assert set(EXERCISED) == set(SPECS)


def _type_checking_names() -> dict:
    """The names core.hookspecs imports for type checking only, imported here."""
    namespace: dict = {}
    for node in ast.parse(inspect.getsource(hookspecs)).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            exec(compile(ast.Module(body=node.body, type_ignores=[]), "core/hookspecs.py", "exec"), namespace)
    return namespace


def test_every_hookspec_is_typed_and_its_types_resolve():
    namespace = {**vars(hookspecs), **_type_checking_names()}
    for name in SPECS:
        signature = inspect.signature(getattr(hookspecs, name))
        annotations = {p: v.annotation for p, v in signature.parameters.items()}
        annotations["return"] = signature.return_annotation
        for part, annotation in annotations.items():
            assert annotation not in (inspect.Parameter.empty, inspect.Signature.empty), f"{name}: {part} has no type"
            eval(annotation, namespace)  # a name that does not resolve raises NameError


def test_every_hookspec_shows_one_example_implementing_it():
    for name in SPECS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert doc.count("Example::") == 1, f"{name} shows no example (or more than one)"
        example = inspect.cleandoc(doc.split("Example::", 1)[1])
        tree = ast.parse(example)  # the example is Python as written
        defined = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == name]
        assert defined and any(ast.unparse(d).startswith("hookimpl") for d in defined[0].decorator_list), \
            f"{name}'s example does not implement it with @hookimpl"


def test_readme_and_the_guide_document_every_hook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert "docs/plugins.md" in readme
    for name in SPECS:
        assert name in readme, f"README does not document {name}"
        assert f"def {name}(" in guide, f"docs/plugins.md has no example of {name}"


@pytest.fixture
def manager():
    import core.piccolo_conf  # noqa: F401  (the schema's apps are read from the installed plugins, not from this one)

    m = PluginManager(modules=[contract_plugin])
    previous = get_plugin_manager()
    set_plugin_manager(m)
    yield m
    set_plugin_manager(previous)


def test_plugins_add_commands_to_the_cli(manager, capsys):
    from cli.main import build_parser

    args = build_parser().parse_args(["contract", "--tenant", "luqiao"])
    args.func(args)
    assert capsys.readouterr().out.strip() == "contract luqiao"


def test_plugin_is_registered_by_name(manager):
    assert "contract" in manager.infos and manager.infos["contract"].optional
    assert "contract" in manager.optional_names()


def test_bundled_plugins_contribute_piccolo_apps():
    apps = get_plugin_manager().piccolo_apps()
    assert {"plugins.mediation.piccolo_app", "plugins.liaison.piccolo_app", "plugins.cadre.piccolo_app"} <= set(apps)


async def _enable_contract_for_luqiao(enabled: bool):
    row = await Tenant.select(Tenant.plugins).where(Tenant.slug == "luqiao").first()
    plugins = set(json.loads(row["plugins"]))
    plugins = plugins | {"contract"} if enabled else plugins - {"contract"}
    async with write_transaction():
        await Tenant.update({Tenant.plugins: json.dumps(sorted(plugins))}).where(Tenant.slug == "luqiao")


async def test_contributions_reach_the_app(manager):
    from web.app import create_app

    app = create_app(manager=manager, embedded_worker=False)
    async with in_tenant("luqiao"):
        user = await User.select(User.id).where(User.username == "dispatcher@luqiao").first()
        await ensure_membership(user["id"], "contract_viewer", None, None)
    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    # Not enabled for luqiao yet: route 404, no navigation, no widget.
    assert (await b.get("/t/luqiao/contract/")).status_code == 404
    token = await token_for("dispatcher@luqiao", "luqiao")
    ping = "/t/luqiao/api/v1/contract/ping"
    assert (await b.client.get(ping, headers={"Authorization": f"Bearer {token}"})).status_code == 404
    home = await b.get("/t/luqiao/")
    assert 'data-nav="contract/"' not in home.text and "contract-widget" not in home.text
    assert 'data-queue="contract.pending"' not in home.text
    assert "public notice of luqiao" not in (await Browser(app).get("/t/luqiao/public/")).text
    assert "contract-screen" not in (await b.get("/t/luqiao/screen/")).text
    await _enable_contract_for_luqiao(True)
    try:
        page = await b.get("/t/luqiao/contract/")
        assert page.status_code == 200 and "contract page of luqiao" in page.text
        home = await b.get("/t/luqiao/")
        assert 'data-nav="contract/"' in home.text
        assert '<p id="contract-widget">hello luqiao</p>' in home.text
        assert 'data-queue="contract.pending" data-count="3"' in home.text
        # A public section shows on the public page, to anyone (no login).
        assert '<p id="contract-public">public notice of luqiao</p>' in (await Browser(app).get("/t/luqiao/public/")).text
        # A screen widget fills a cell of the big screen, under its translated title.
        screen = (await b.get("/t/luqiao/screen/")).text
        assert '<p id="contract-screen">luqiao figures on the screen</p>' in screen and 'data-screen-widget="contract_screen"' in screen
        pong = await b.client.get(ping, headers={"Authorization": f"Bearer {token}"})
        assert pong.status_code == 200 and pong.json() == {"plugin": "contract", "user": "dispatcher@luqiao"}
        assert (await b.client.get(ping)).status_code == 401  # the API takes tokens, not cookies
        static = await b.get("/static/contract/contract.css")
        assert static.status_code == 200 and "contract" in static.text
        # The permission on the navigation item is honoured: a user without the role sees no link.
        other = Browser(app)
        await other.login("handler@luqiao", "luqiao")
        assert 'data-nav="contract/"' not in (await other.get("/t/luqiao/")).text
    finally:
        await _enable_contract_for_luqiao(False)


async def test_case_events_reach_only_enabled_plugins(manager):
    contract_plugin.EVENTS.clear()
    luqiao = await load_tenant("luqiao")
    manager.emit_case_event(luqiao, CaseEvent(tenant_id=luqiao.id, case_id=1, action="created"))
    assert contract_plugin.EVENTS == []
    await _enable_contract_for_luqiao(True)
    try:
        luqiao = await load_tenant("luqiao")
        manager.emit_case_event(luqiao, CaseEvent(tenant_id=luqiao.id, case_id=1, action="dispatched"))
    finally:
        await _enable_contract_for_luqiao(False)
    assert contract_plugin.EVENTS == [("luqiao", "dispatched")]


async def test_actors_and_settings(manager):
    from workers.actors import all_actors, run_actor

    assert "contract_actor" in all_actors()
    assert manager.event_labels["contract_step"] == "Contract step" and manager.event_labels["dispatch"]
    contract_plugin.EVENTS.clear()
    luqiao = await load_tenant("luqiao")
    assert await run_actor("contract_actor", "contract-msg-1", luqiao.id, {"value": "v"})
    assert contract_plugin.EVENTS == [("actor", "v")]
    async with in_tenant("luqiao"):
        assert tenant_setting("contract_limit") == 7


async def test_demo_loaders_run_for_enabled_tenants(manager):
    contract_plugin.DEMO_RUNS.clear()
    luqiao = await load_tenant("luqiao")
    assert [name for name, _ in manager.demo_loaders(luqiao)] == ["core"]
    await _enable_contract_for_luqiao(True)
    try:
        luqiao = await load_tenant("luqiao")
        for name, loader in manager.demo_loaders(luqiao):
            if name == "contract":
                await loader()
    finally:
        await _enable_contract_for_luqiao(False)
    assert contract_plugin.DEMO_RUNS == [1]


async def test_entry_point_group_registers_the_bundled_plugins():
    import importlib.metadata

    names = {ep.name for ep in importlib.metadata.entry_points(group="qinqing.plugins")}
    assert {"mediation", "liaison", "cadre"} <= names


# -- the SDK (core.sdk): the one surface a plugin imports ----------------------------------------

PROJECT_PACKAGES = ("core", "web", "tenants", "workers", "cli")
# The plugins a third party would read: the bundled ones and the example package of its own.
PLUGIN_SOURCES = ("plugins", "examples")


def _sdk_attribute_docs() -> dict[str, str]:
    """Docstrings written under module-level assignments in core/sdk.py (``NAME = …`` then a string)."""
    from core import sdk

    body = ast.parse(inspect.getsource(sdk)).body
    docs = {}
    for node, following in zip(body, body[1:]):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[node.targets[0].id] = following.value.value
    return docs


def _own_doc(obj) -> str:
    """The object's own docstring: not one a dataclass makes up, nor one inherited from its type."""
    if inspect.ismodule(obj) or inspect.isfunction(obj) or inspect.iscoroutinefunction(obj):
        return (obj.__doc__ or "").strip()
    if inspect.isclass(obj):
        doc = (vars(obj).get("__doc__") or "").strip()
        return "" if doc.startswith(f"{obj.__name__}(") else doc
    return ""


def _plugin_imports() -> list[tuple[str, str, list[str]]]:
    """(file, module, names) of every import in the code of the bundled plugins and of the example."""
    found = []
    for path in sorted(p for folder in PLUGIN_SOURCES for p in (ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append((str(path.relative_to(ROOT)), node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), a.name, []) for a in node.names]
    return found


def test_every_sdk_name_is_documented():
    from core import sdk

    attribute_docs = _sdk_attribute_docs()
    assert sdk.__doc__ and len(sdk.__all__) == len(set(sdk.__all__))
    for name in sdk.__all__:
        assert hasattr(sdk, name), f"core.sdk.__all__ names {name}, which core.sdk does not define"
        doc = attribute_docs.get(name) or _own_doc(getattr(sdk, name))
        assert len(doc) > 15, f"core.sdk.{name} has no docstring"


def test_plugins_import_only_the_sdk():
    for path, module, _ in _plugin_imports():
        top = module.split(".")[0]
        assert top not in PROJECT_PACKAGES or module == "core.sdk", f"{path} imports {module}; use core.sdk"


def test_the_example_plugin_is_among_the_sources_checked():
    files = {path for path, _, _ in _plugin_imports()}
    assert any(path.startswith("examples/qinqing-visits/qinqing_visits/") for path in files)
    assert any(path.startswith("examples/") and "piccolo_migrations" in path for path in files)


def test_every_sdk_name_is_used_by_a_bundled_plugin_or_the_example():
    from core import sdk

    used = {name for _, module, names in _plugin_imports() if module == "core.sdk" for name in names}
    assert not used - set(sdk.__all__), f"plugins import names core.sdk does not export: {used - set(sdk.__all__)}"
    unused = set(sdk.__all__) - used
    assert not unused, f"exported by core.sdk but used by no bundled plugin nor the example: {sorted(unused)}"


async def test_enabled_roles_are_those_the_tenants_kind_has():
    from core.sdk import enabled_roles
    from core.tenant_registry import load_tenant

    court, district, city = [await load_tenant(s) for s in ("luqiao-court", "luqiao", "taizhou")]
    at_court, in_district, in_city = enabled_roles(court), enabled_roles(district), enabled_roles(city)
    assert {"mediation_judge", "tenant_admin"} <= set(at_court) and "handler" not in at_court
    assert {"handler", "dispatcher", "cadre_org"} <= set(in_district) and "mediation_judge" not in in_district
    assert "city_leader" in in_city and "city_leader" not in in_district and "handler" not in in_city
