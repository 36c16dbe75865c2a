"""A test plugin implementing every hook of the contract (the meta-test checks that it does)."""

from pathlib import Path

from litestar import Request, get

from core.sdk import (
    CaseAction,
    NavItem,
    PluginInfo,
    RoleDef,
    ScheduledJob,
    SettingDef,
    Widget,
    WorkQueue,
    actor,
    hookimpl,
    login_required,
    page,
)

HERE = Path(__file__).resolve().parent / "contract_assets"
EVENTS: list = []
JOB_RUNS: list = []
DEMO_RUNS: list = []


@hookimpl
def qinqing_plugin_info():
    return PluginInfo("contract", "Contract", "A plugin used by the tests.")


@get("/", name="contract_home", guards=[login_required])
async def contract_home(request: Request) -> object:
    return page(request, "contract/index.html")


@hookimpl
def qinqing_routes():
    return [contract_home]


@get("/ping", name="contract_api_ping")
async def contract_api_ping(request: Request) -> dict:
    return {"plugin": "contract", "user": request.scope["state"]["user"].username}


@hookimpl
def qinqing_api_routes():
    return [contract_api_ping]


@hookimpl
def qinqing_navigation(tenant, user):
    return [NavItem("Contract", "contract/", permission="contract.view", order=5)]


@hookimpl
def qinqing_roles():
    return [RoleDef("contract_viewer", "Contract viewer", frozenset({"contract.view"}))]


@hookimpl
def qinqing_piccolo_apps():
    return []


@hookimpl
def qinqing_template_dirs():
    return [HERE / "templates"]


@hookimpl
def qinqing_static_dirs():
    return [("contract", HERE / "static")]


async def _load_widget(tenant, user):
    return {"greeting": f"hello {tenant.slug}"}


@hookimpl
def qinqing_dashboard_widgets(tenant, user):
    return [Widget("contract_widget", "Contract", "contract/widget.html", _load_widget)]


async def _load_public(tenant, user):
    return {"notice": f"public notice of {tenant.slug}"}


@hookimpl
def qinqing_public_sections(tenant):
    return [Widget("contract_public", "Contract", "contract/public.html", _load_public)]


async def _load_screen(tenant, user):
    return {"shown": f"{tenant.slug} figures"}


@hookimpl
def qinqing_screen_widgets(tenant):
    return [Widget("contract_screen", "Contract", "contract/screen.html", _load_screen)]


@hookimpl
def qinqing_case_event(tenant, event):
    EVENTS.append((tenant.slug, event.action))


@hookimpl
def qinqing_case_actions(tenant, user, case):
    return [CaseAction("contract.look", "Contract", f"contract/?case={case.id}", permission="contract.view")]


@hookimpl
def qinqing_event_labels():
    return {"contract_step": "Contract step"}


@actor("contract_actor")
async def contract_actor(value: str) -> None:
    EVENTS.append(("actor", value))


@hookimpl
def qinqing_actors():
    return [contract_actor]


async def _job():
    JOB_RUNS.append(1)


@hookimpl
def qinqing_scheduled_jobs():
    return [ScheduledJob("contract_job", 3600, _job)]


async def _demo():
    DEMO_RUNS.append(1)


@hookimpl
def qinqing_demo_data(tenant):
    return [_demo]


@hookimpl
def qinqing_tenant_settings():
    return [SettingDef("contract_limit", "Contract limit", int, 7)]


async def _pending() -> int:
    return 3


@hookimpl
def qinqing_work_queue(tenant, user):
    return [WorkQueue("contract.pending", "Contract items", "contract/", _pending)]


def _register_command(subparsers) -> None:
    p = subparsers.add_parser("contract", help="the contract plugin's command")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=lambda args: print(f"contract {args.tenant}"))


@hookimpl
def qinqing_commands():
    return [_register_command]
