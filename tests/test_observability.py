"""Metrics at /metrics, the request id (header, logs, background jobs) and JSON logs."""

import json
import logging

from prometheus_client.parser import text_string_to_metric_families

from core.config import ConfigError, load_settings
from tests.cases_helpers import Api
from tests.helpers import in_tenant, process_background


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def test_metrics_count_requests_per_route_and_cases_per_state(client):
    from piccolo.query.functions.aggregate import Count

    from core.cases.tables import Case
    from tenants.scope import scoped

    for _ in range(3):
        assert (await client.get("/t/luqiao/login")).status_code == 200
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    logins = [v for (name, labels), v in found.items() if name == "qinqing_http_requests_total"
              and dict(labels) == {"method": "GET", "route": "/t/{tenant}/login", "status": "200"}]
    assert logins and logins[0] >= 3
    assert any(name == "qinqing_http_request_duration_seconds_bucket" for name, _ in found)
    async with in_tenant("pengjie"):
        expected = {r["status"]: r["n"] for r in
                    await scoped(Case).select(Case.status, Count(alias="n")).group_by(Case.status)}
    shown = {dict(labels)["state"]: v for (name, labels), v in found.items()
             if name == "qinqing_cases" and dict(labels)["tenant"] == "pengjie"}
    assert shown == expected and sum(shown.values()) > 0
    assert ("qinqing_outbox_pending", ()) in found and ("qinqing_failed_messages", ()) in found


async def test_metrics_carry_no_tenant_data_beyond_slugs(client):
    from core.cases.tables import Company

    async with in_tenant("luqiao"):
        names = [r["name"] for r in await Company.select(Company.name).limit(50)]
    text = (await client.get("/metrics")).text
    assert names and not [n for n in names if n in text]
    assert "password" not in text and "@luqiao" not in text


async def test_metrics_token_when_configured(client, monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "scrape-secret-1")
    assert (await client.get("/metrics")).status_code == 403
    ok = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-1"})
    assert ok.status_code == 200 and "qinqing_cases" in ok.text


async def test_request_id_is_echoed_or_made(client):
    given = await client.get("/t/luqiao/login", headers={"X-Request-ID": "trace-0001-abcd"})
    assert given.headers["x-request-id"] == "trace-0001-abcd"
    made = await client.get("/t/luqiao/login", headers={"X-Request-ID": "bad id;<script>" + "x" * 80})
    assert len(made.headers["x-request-id"]) == 32 and made.headers["x-request-id"] != "trace-0001-abcd"
    assert (await client.get("/no-such-page")).headers["x-request-id"]


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


async def test_request_id_follows_the_case_into_its_background_jobs(app):
    api = Api(app)
    collect = Collect()
    workers_log, access_log = logging.getLogger("qinqing.workers"), logging.getLogger("qinqing.access")
    workers_log.addHandler(collect)
    access_log.addHandler(collect)
    try:
        headers = {"Authorization": f"Bearer {await api.token('company')}", "X-Request-ID": "submit-trace-42"}
        response = await api.client.post("/t/luqiao/api/v1/cases", headers=headers, json={
            "category": "municipal", "title": "路灯不亮", "description": "园区门口路灯连续三晚不亮。"})
        assert response.status_code == 201
        await process_background()
    finally:
        workers_log.removeHandler(collect)
        access_log.removeHandler(collect)
    jobs = [r for r in collect.records if r.name == "qinqing.workers" and getattr(r, "request_id", None) == "submit-trace-42"]
    assert jobs, "no background job logged under the submission's request id"
    assert all(r.tenant == "luqiao" for r in jobs)
    access = [r for r in collect.records if r.name == "qinqing.access" and r.request_id == "submit-trace-42"]
    assert access and access[0].status == 201 and access[0].tenant == "luqiao"
    await api.client.aclose()


def test_logs_are_json_lines_with_request_id():
    from core.observability import configure_logging, request_id

    configure_logging("json", "INFO", force=True)
    handler = logging.getLogger("qinqing").handlers[0]
    token = request_id.set("abc12345-trace")
    try:
        record = logging.getLogger("qinqing.web").makeRecord("qinqing.web", logging.INFO, __file__, 1,
                                                             "案件已提交", (), None)
        handler.filter(record)
        line = json.loads(handler.format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "案件已提交" and line["request_id"] == "abc12345-trace" and line["level"] == "INFO"


def test_bad_log_settings_are_named():
    for name, value in (("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")):
        try:
            load_settings({"SECRET_KEY": "x" * 32, name: value})
        except ConfigError as exc:
            assert name in str(exc)
        else:
            raise AssertionError(f"{name}={value} accepted")
