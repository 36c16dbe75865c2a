"""The measured speed-ups keep behaviour: the shared socket of `serve --workers N` answers without
Nagle's delay, Piccolo builds the same SQL with its faster attribute check, and the kept figures
follow every change to the record, including a change made by another process."""

import asyncio
import socket

from core.oversight import figures as figures_module, tally
from core.oversight.figures import tenant_figures
from tests.cases_helpers import Api
from tests.helpers import in_tenant


async def test_connections_on_the_shared_socket_of_several_workers_have_tcp_nodelay():
    from web.serving import TcpConfig

    config = TcpConfig("web.app:create_app", factory=True, host="127.0.0.1", port=0, workers=2)
    sock = config.bind_socket()
    seen = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            accepted = transport.get_extra_info("socket")
            seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname())
        assert await asyncio.wait_for(seen, 5) == 1
        writer.close()
        server.close()
        await server.wait_closed()
    finally:
        sock.close()


def test_foreign_key_attribute_check_answers_as_dir_did():
    from piccolo.columns import column_types

    from core.cases import queries
    from core.cases.tables import Case
    from core.piccolo_speedups import _Names

    column = Case.company  # a foreign key whose proxy columns are instance attributes
    names = ["name", "credit_code", "township", "copy", "get_select_string", "value_type", "no_such_name", "_meta"]
    assert [n in _Names(column) for n in names] == [n in dir(column) for n in names]

    def sql():
        query = Case.select(*queries.LIST_COLUMNS, Case.company.credit_code).where(
            (Case.id == 5) & (Case.department.name_zh == "x"))
        return query.querystrings[0].compile_string(engine_type="postgres")

    fast = sql()
    column_types.dir = dir  # Piccolo as shipped
    try:
        assert sql() == fast
    finally:
        column_types.dir = _Names


async def test_kept_figures_follow_changes_made_by_another_process(app, monkeypatch):
    async with in_tenant("jiaojiang"):
        first = await tenant_figures()
        assert await tenant_figures() is first  # kept while the record stands still
    # Another web process or the worker changes a case: this process's cache is not told.
    monkeypatch.setattr(tally, "clear_cache", lambda: None)
    await Api(app, "jiaojiang").submit(title="另一个进程提交的诉求")
    async with in_tenant("jiaojiang"):
        after = await tenant_figures()
    assert after.total["reported"] == first.total["reported"] + 1


async def test_a_bulk_rebuild_of_the_tally_is_seen_at_once(app, behind_the_record):
    from core.cases.tables import Case
    from core.scope import scoped

    async with in_tenant("jiaojiang"):
        before = (await tenant_figures()).total["completed"]
        some = await scoped(Case).select(Case.id).where(Case.status != "closed").first()
        await behind_the_record(some["id"], {Case.status: "closed"})  # no event: a bulk load
        await tally.rebuild()
        assert (await tenant_figures()).total["completed"] == before + 1
        assert figures_module._kept  # kept again


async def test_a_prepared_query_keeps_its_sql_per_tenant_and_refuses_what_it_cannot_keep(app):
    import pytest

    from core.cases.tables import Case
    from core.prepared import Prepared, PreparedQueryError
    from core.scope import scoped

    numbers = Prepared(lambda status: scoped(Case).select(Case.number).where(Case.status == status))
    seen = {}
    for slug in ("luqiao", "jiaojiang", "luqiao"):
        async with in_tenant(slug):
            rows = await numbers("closed")
            direct = await scoped(Case).select(Case.number).where(Case.status == "closed")
        assert rows == direct and rows, slug  # never the other tenant's kept SQL
        seen.setdefault(slug, rows)
    assert not set(r["number"] for r in seen["luqiao"]) & set(r["number"] for r in seen["jiaojiang"])

    captured = {"status": "closed"}  # a value from outside the parameters would be kept with the SQL
    leaky = Prepared(lambda: scoped(Case).select(Case.id).where(Case.status == captured["status"]))
    async with in_tenant("luqiao"):
        await leaky()
        captured["status"] = "submitted"
        with pytest.raises(PreparedQueryError, match="differs"):
            await leaky()  # the test suite builds every prepared query afresh and compares
        with pytest.raises(PreparedQueryError, match="None"):
            await numbers(None)


def test_kept_template_translations_render_as_jinjas_own_gettext():
    from jinja2 import Environment

    from core.i18n import current_locale, gettext, ngettext
    from web.filters import template_gettext

    ours = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    ours.install_gettext_callables(lambda s: gettext(s), lambda s, p, n: ngettext(s, p, n), newstyle=True)
    jinjas = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    jinjas.install_gettext_callables(lambda s: gettext(s), lambda s, p, n: ngettext(s, p, n), newstyle=True)
    ours.globals["gettext"] = ours.globals["_"] = template_gettext()
    source = ('{{ _("Not found.") }}|{{ gettext("Case %(number)s is overdue.", number=n) }}|'
              '{% trans %}Not found.{% endtrans %}')
    for locale in ("zh_CN", "en", "zh_CN"):
        token = current_locale.set(locale)
        try:
            for n in ("LU2026000001", "<script>alert(1)</script>"):
                assert ours.from_string(source).render(n=n) == jinjas.from_string(source).render(n=n)
            rendered = ours.from_string(source).render(n="<b>")
        finally:
            current_locale.reset(token)
        assert "&lt;b&gt;" in rendered and "<b>" not in rendered
    token = current_locale.set("en")
    try:
        assert ours.from_string('{{ _("Not found.") }}').render() == "Not found."
    finally:
        current_locale.reset(token)


async def test_a_kept_search_count_moves_with_the_record(app):
    api = Api(app, "jiaojiang")

    async def total(q: str) -> int:
        response = await api.call("dispatcher", "GET", f"cases?q={q}")
        assert response.status_code == 200
        return response.json()["total"]

    before = await total("排水")
    assert await total("排水") == before  # the kept count
    await api.submit(title="园区排水沟堵塞", description="请尽快清理。")
    assert await total("排水") == before + 1
    assert await total("园区排水沟") >= 1


async def test_reads_run_together_answer_as_each_alone_in_one_round_trip(app, monkeypatch):
    from core.cases import attachments, queries
    from core.cases.tables import Case
    from core.db import current_engine, is_postgres
    from core.open311 import intake
    from core.prepared import Read, together
    from core.scope import scoped

    await Api(app, "luqiao").anonymous()  # a case with an Open311 intake
    for slug in ("luqiao", "jiaojiang"):
        async with in_tenant(slug):
            refused = await scoped(Case).select(Case.id).where(Case.refused_count > 0).first()
            newest = await scoped(Case).select(Case.id).order_by(Case.id, ascending=False).first()
            assert refused and newest, slug

            def reads():
                case_ids = (refused["id"], newest["id"])
                return [read for case_id in case_ids for read in (
                    queries.case_page_row(case_id), queries.timeline(case_id), queries.timeline(case_id, True),
                    queries.refusals_of(case_id, final_only=False), queries.refusals_of(case_id, final_only=True),
                    queries.reviews_of(case_id), attachments.list_for(case_id), intake(case_id))] + [
                    queries.choices(), queries.case_page_row(10**9), Read.value("left out")]

            alone = [await read for read in reads()]
            engine = current_engine()
            calls = []
            run = type(engine).run_querystring

            async def counted(self, querystring, *args, **kwargs):
                calls.append(querystring)
                return await run(self, querystring, *args, **kwargs)

            monkeypatch.setattr(type(engine), "run_querystring", counted)
            answers = await together(*reads())
            monkeypatch.undo()

        assert answers == alone, slug
        timeline = answers[1]
        assert [e["seq"] for e in timeline] == sorted(e["seq"] for e in timeline) and len(timeline) > 1
        assert answers[3] and answers[3][0]["signoffs"], "the refused case shows its refusal and sign-offs"
        assert answers[-2] is None and answers[-1] == "left out"
        asked = sum(len(read.parts) for read in reads())
        assert len(calls) == (1 if is_postgres() else asked), (slug, len(calls), asked)
    assert alone[-3]["departments"] != [] and alone[-3] == answers[-3]  # jiaojiang's own catalogue


def test_quick_sql_values_are_what_piccolo_would_write():
    import datetime
    import decimal
    import enum
    import uuid

    from core.cases.tables import Case, Company
    from core.inspections.tables import Inspection
    from core.piccolo_speedups import _piccolos, plain_sql_value
    from core.tables import Category

    class Colour(str, enum.Enum):
        RED = "red"

    company = Company(_ignore_missing=True, id=7, name="x")
    values = ["文本", 3, 2.5, True, None, b"raw", datetime.datetime(2026, 11, 28, 9, 30, tzinfo=datetime.timezone.utc),
              datetime.date(2026, 11, 28), decimal.Decimal("1.5"), uuid.UUID(int=5), {"a": [1, "二"]}, [1, 2],
              Colour.RED, company]
    columns = [Case.title, Case.refused_count, Inspection.params, Case.company, Case.due_date, Category.active]
    for column in columns:
        for value in values:
            try:
                expected = _piccolos(value, column)
            except ValueError as refused:  # a Table instance for a plain column: refused both ways
                import pytest

                with pytest.raises(ValueError, match=str(refused)[:30]):
                    plain_sql_value(value, column)
                continue
            assert plain_sql_value(value, column) == expected, (column, value)
    from piccolo import table

    assert table.convert_to_sql_value is plain_sql_value  # installed where inserts convert their values
    assert plain_sql_value({"a": 1}, Inspection.params) == '{"a": 1}' and plain_sql_value(company, Case.company) == 7


async def test_writes_run_together_land_as_if_in_turn_in_one_round_trip(app, monkeypatch):
    from core.cases.audit import append_events, chain_head, verify_tenant
    from core.cases.tables import Company, CompanyMember
    from core.db import current_engine, is_postgres
    from core.prepared import reserve_id, write_together
    from core.scope import scoped
    from core.tables import User

    async with in_tenant("luqiao"):
        engine, calls, run = current_engine(), [], type(current_engine()).run_querystring

        async def counted(self, querystring, *args, **kwargs):
            calls.append(querystring)
            return await run(self, querystring, *args, **kwargs)

        seq_before, _ = await chain_head()
        monkeypatch.setattr(type(engine), "run_querystring", counted)
        events = await append_events([{"action": "note", "data": {"n": 1}}, {"action": "note", "data": {"n": 2}}])
        monkeypatch.undo()
        # the chain head moves, and its hash is the last event's, written beside the events
        assert await chain_head() == (seq_before + 2, events[-1].hash)
        assert len(calls) == (2 if is_postgres() else 3)  # reserve the numbers; then events and head together
        assert (await verify_tenant()).ok

        # a row may refer to one written in the same statement (foreign keys are checked at its end)
        company_id = await reserve_id(Company) or 10**6
        user = await User.select(User.id).where(User.username == "company@luqiao").first()
        await write_together(
            scoped(Company).insert({"id": company_id, "name": "同写测试公司", "credit_code": "91331004MA2A000001"}),
            scoped(CompanyMember).insert({"company": company_id, "user": user["id"]}))
        members = await scoped(CompanyMember).select(CompanyMember.user).where(CompanyMember.company == company_id)
        assert members == [{"user": user["id"]}]


def test_rows_are_made_as_piccolos_own_constructor_makes_them():
    """Every table of the core and the modules: the same attributes from the same arguments, and
    the same refusals, as `Table.__init__` as shipped."""
    from piccolo.table import TABLE_REGISTRY

    import core.tables  # noqa: F401 - registers the core's tables
    from core.piccolo_private import PICCOLOS_TABLE_INIT
    from core.piccolo_speedups import _CALLED, _row_plan, table_init
    from core.plugins import get_plugin_manager

    get_plugin_manager()  # registers the modules' tables
    tables = [t for t in TABLE_REGISTRY if t.__module__.startswith(("core.", "plugins.", "tenants."))]
    assert len(tables) > 40

    def made(init, table, *args, **kwargs):
        row = table.__new__(table)
        try:
            init(row, *args, **kwargs)
        except ValueError as refused:
            return ("refused", str(refused))
        return row.__dict__

    for table in tables:
        plan = _row_plan(table)
        assert plan is not None, table
        called = {name for name, _, default, _, _ in plan if default is _CALLED}
        given = {name: f"v-{name}" for name, *_ in plan}  # every column named: no default is worked out
        assert made(table_init, table, **given) == made(PICCOLOS_TABLE_INIT, table, **given), table
        by_db_name = {(other or name): f"v-{name}" for name, other, *_ in plan}
        assert made(table_init, table, **by_db_name) == made(PICCOLOS_TABLE_INIT, table, **by_db_name), table
        for args in [(None, True, True), (None, False, False)]:  # defaults; refusing a missing value or not
            fast, own = made(table_init, table, *args), made(PICCOLOS_TABLE_INIT, table, *args)
            if isinstance(own, tuple):
                assert fast == own, table
                continue
            assert fast.keys() == own.keys(), table
            for name in fast:  # a called default (a new uuid, now) differs per row; its type does not
                same = type(fast[name]) is type(own[name]) if name in called else fast[name] == own[name]
                assert same, (table, name, fast[name], own[name])
        assert made(table_init, table, no_such_column=1, _ignore_missing=True) == \
            made(PICCOLOS_TABLE_INIT, table, no_such_column=1, _ignore_missing=True)


def test_a_rows_fields_render_as_jinja_reads_them():
    """The environment reads a dict row's key at once; what a dict has as an attribute (`items`),
    an object's attribute and a missing key render as Jinja's own environment renders them."""
    from types import SimpleNamespace

    from jinja2 import Environment

    from web.rendering import RowEnvironment

    source = ("{{ row.title }}|{{ row.items()|list|length }}|{{ row.missing is undefined }}|{{ thing.title }}|"
              "{{ row['items'] }}|{{ row.get('title') }}")
    context = {"row": {"title": "排水", "items": 3}, "thing": SimpleNamespace(title="疏通")}
    ours = RowEnvironment(autoescape=True).from_string(source).render(context)
    assert ours == Environment(autoescape=True).from_string(source).render(context) == "排水|2|True|疏通|3|排水"


async def test_a_kept_console_page_follows_the_record_and_is_not_looked_up_again(app, monkeypatch):
    """A console reloaded with nothing changed shows its kept page without finding its ids again;
    a case submitted or moved by anyone is on the next reload (the head read beside the rows)."""
    import re

    from core.cases import queries
    from tests.helpers import Browser

    api = Api(app, "jiaojiang")
    b = Browser(app)
    await b.login("dispatcher@jiaojiang", "jiaojiang")
    url = "/t/jiaojiang/cases?status=submitted&sort=newest"

    async def console() -> tuple[int, str]:
        page = await b.get(url)
        assert page.status_code == 200
        return int(re.search(r'id="case-count">\D*(\d+)', page.text).group(1)), page.text

    looked_up = []
    page_ids = queries._page_ids

    async def counted(user, f):
        looked_up.append(f)
        return await page_ids(user, f)

    monkeypatch.setattr(queries, "_page_ids", counted)
    total, _ = await console()
    again, _ = await console()
    assert again == total and len(looked_up) == 1, len(looked_up)
    case = await api.submit(title="园区门口路灯不亮", description="晚上出入不安全。")
    after, text = await console()
    assert after == total + 1 and case["number"] in text and len(looked_up) == 2
    await api.step("dispatcher", case["id"], "dispatch", {"department": "zgj"})
    moved, text = await console()
    assert moved == total and case["number"] not in text and len(looked_up) == 3


def test_the_kept_navigation_follows_the_tenants_modules_and_the_users_roles():
    """The side navigation is asked once per tenant (kind, modules) and set of roles and
    permissions; a module enabled, another kind of tenant or other permissions get their own."""
    from core.plugins import get_plugin_manager
    from core.tenant_context import TenantContext
    from core.users import CurrentUser

    manager = get_plugin_manager()
    district = TenantContext(1, "d", "区", "District", "district", None, plugins=())
    with_cadre = TenantContext(1, "d", "区", "District", "district", None, plugins=("cadre",))
    leader = CurrentUser(1, "l", "L", "zh_CN", roles={"leader"}, permissions={"console.view", "cadre.view"})
    company = CurrentUser(2, "c", "C", "zh_CN", roles={"company"}, permissions={"portal.view"})

    def hrefs(tenant, user) -> set[str]:
        return {item.href for item in manager.navigation(tenant, user)}

    assert manager.navigation(district, leader) is manager.navigation(district, leader)  # kept
    assert "cadre/" not in hrefs(district, leader) and "cadre/" in hrefs(with_cadre, leader)
    assert "cases/" in hrefs(district, company) and hrefs(district, company) != hrefs(district, leader)
    assert hrefs(district, leader) == {item.href for item in manager._navigation(district, leader)}
