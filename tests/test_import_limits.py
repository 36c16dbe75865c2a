"""Imports are streamed and bounded (issue 17, item 6): hostile files — a CSV with far more rows
than the cap, an .xlsx with millions of rows and no <dimension> — are read lazily with the cap
applied while reading (at most cap + 1 data rows ever parsed, memory flat), refused before a byte
is read when over the size bound, and parsed only by the background worker, never the request."""

import asyncio
import json
import math
import time
import tracemalloc

import pytest

from core import company_import as ci, spreadsheets
from core.cases import import_jobs
from core.cases.tables import ImportJob
from plugins.liaison import pairing_import
from tenants.scope import scoped
from tests.helpers import Browser, in_tenant, process_background
from tests.hostile_files import big_csv, credit_code, xlsx_without_dimension
from tests.test_case_pages import browser


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    return {
        "xlsx": xlsx_without_dimension(folder / "3m.xlsx", 3_000_000),
        "csv": big_csv(folder / "24mb.csv", 400_000, min_bytes=24 * 1024 * 1024),
        "pairs": big_csv(folder / "pairs.csv", 60_000, header=("统一社会信用代码", "助企员")),
    }


@pytest.fixture
def rows_parsed(monkeypatch):
    """How many rows (header and blank rows included) the lazy readers have produced."""
    count = {"rows": 0}

    def counting(reader):
        def wrapped(*args):
            for row in reader(*args):
                count["rows"] += 1
                yield row
        return wrapped

    monkeypatch.setattr(spreadsheets, "_xlsx_rows", counting(spreadsheets._xlsx_rows))
    monkeypatch.setattr(spreadsheets, "_csv_rows", counting(spreadsheets._csv_rows))
    return count


def test_the_hostile_files_are_what_they_claim(hostile):
    import zipfile

    assert hostile["xlsx"].stat().st_size < 2 * 1024 * 1024
    with zipfile.ZipFile(hostile["xlsx"]) as archive:
        with archive.open("xl/worksheets/sheet1.xml") as sheet:
            head = sheet.read(4096)
        assert b"<dimension" not in head and archive.getinfo("xl/worksheets/sheet1.xml").file_size > 100 * 1024 * 1024
    assert hostile["csv"].stat().st_size > 24 * 1024 * 1024


@pytest.mark.parametrize("name", ["xlsx", "csv"])
def test_the_cap_applies_while_reading_and_memory_stays_flat(hostile, rows_parsed, name):
    tracemalloc.start()
    try:
        with pytest.raises(ci.ImportFileError) as refused:
            for _ in ci.company_rows(hostile[name], max_rows=20000):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (refused.value.message, refused.value.params) == (ci.MSG_TOO_MANY, {"max": 20000})
    assert rows_parsed["rows"] <= 1 + 20001  # the header and the first row past the cap, no further
    assert peak < 50 * 1024 * 1024, peak


def test_a_false_dimension_neither_hides_nor_invents_rows(tmp_path):
    path = xlsx_without_dimension(tmp_path / "lies.xlsx", 12, dimension="A1:B2")
    assert len(list(ci.company_rows(path))) == 12  # openpyxl would have stopped at row 2
    wide = xlsx_without_dimension(tmp_path / "wide.xlsx", 3, dimension="A1:XFD1048576")
    assert [len(cells) for cells in spreadsheets.read_table(wide)] == [2, 2, 2, 2]


def test_blank_rows_end_the_table_or_count(tmp_path):
    lines = ["企业名称,统一社会信用代码", f"甲,{credit_code(1)}"] + [","] * 5000 + [f"乙,{credit_code(2)}"]
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [n for n, _, _ in ci.company_rows(path)] == [2]  # 1,000 blank rows in a row end the table
    lines = ["企业名称,统一社会信用代码"] + [f"甲{i},{credit_code(i)}\n,\n,," for i in range(20)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ci.ImportFileError):
        list(ci.company_rows(path, max_rows=30))  # 40 blank rows among 20: more than the cap


def test_a_line_longer_than_the_bound_is_refused(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("企业名称,统一社会信用代码\n" + "," * (spreadsheets.MAX_LINE + 10) + "\n", encoding="utf-8")
    with pytest.raises(ci.ImportFileError) as refused:
        list(ci.company_rows(path))
    assert refused.value.message == spreadsheets.MSG_LINE


async def test_an_oversize_upload_is_refused_before_it_is_read(app, hostile):
    b = await browser(app, "tenant_admin", "jiaojiang")
    await b.get("/t/jiaojiang/companies/")
    pulled = []
    body = b"x" * (25 * 1024 * 1024)

    async def stream():
        for start in range(0, len(body), 1 << 20):
            pulled.append(start)
            yield body[start:start + (1 << 20)]

    response = await b.client.post(
        "/t/jiaojiang/companies/import", content=stream(),
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": str(len(body)),
                 "x-csrftoken": b.csrf})
    assert response.status_code == 413
    assert "20 MB" in response.text and "文件" in response.text  # the limit named, in the user's language
    assert len(pulled) <= 1  # refused on the announced length, the body left unread
    # The real 24 MB CSV, as a browser sends it, to either import.
    data = hostile["csv"].read_bytes()
    refused = await b.client.post("/t/jiaojiang/companies/import", data={"_csrf_token": b.csrf},
                                  files=[("file", ("big.csv", data, "text/csv"))])
    assert refused.status_code == 413 and "20 MB" in refused.text
    async with in_tenant("jiaojiang"):
        assert not await scoped(ImportJob).exists().where(ImportJob.filename == "big.csv")


async def test_the_three_million_row_workbook_is_queued_at_once_and_refused_by_the_worker(app, hostile, rows_parsed):
    b = await browser(app, "tenant_admin", "jiaojiang")
    await b.get("/t/jiaojiang/companies/")
    started = time.monotonic()
    response = await b.client.post("/t/jiaojiang/companies/import", data={"_csrf_token": b.csrf},
                                   files=[("file", ("3m.xlsx", hostile["xlsx"].read_bytes(), "application/octet-stream"))])
    elapsed = time.monotonic() - started
    assert response.status_code == 303, response.text[:300]
    assert rows_parsed["rows"] == 0 and elapsed < 2.0  # stored and queued; not one row read in the request
    job_url = response.headers["location"]
    assert 'data-status="queued"' in (await b.get(job_url, headers={"HX-Request": "true"})).text

    latencies = []

    async def probe():
        client = Browser(app)
        while not finished.is_set():
            t = time.monotonic()
            assert (await client.client.get("/healthz")).status_code == 200
            latencies.append(time.monotonic() - t)
            await asyncio.sleep(0.01)

    finished = asyncio.Event()
    prober = asyncio.create_task(probe())
    try:
        await process_background()
    finally:
        finished.set()
        await prober
    assert rows_parsed["rows"] <= 1 + ci.MAX_ROWS + 1
    latencies.sort()
    p95 = latencies[math.ceil(len(latencies) * 0.95) - 1]  # nearest rank
    print(f"/healthz while the worker refused the workbook: {len(latencies)} probes, p95 {p95 * 1000:.1f} ms,"
          f" max {latencies[-1] * 1000:.1f} ms")
    assert p95 < 0.1, (len(latencies), latencies[-5:])
    done = await b.get(job_url)
    assert 'data-status="failed"' in done.text and "20000" in done.text and "行" in done.text
    async with in_tenant("jiaojiang"):
        job = await scoped(ImportJob).objects().where(ImportJob.id == int(job_url.rsplit("/", 1)[1])).first()
        assert (job.message, json.loads(job.message_params), job.processed) == (ci.MSG_TOO_MANY, {"max": 20000}, 0)
        assert not (import_jobs._path(job.storage_key)).exists()  # the stored upload removed


async def test_a_pairing_file_with_too_many_rows_ends_with_a_clear_result(app, hostile, rows_parsed):
    b = Browser(app)
    assert (await b.login("liaison_coordinator@pengjie", "pengjie")).status_code == 303
    response = await b.post("/t/pengjie/liaison/pairings/import",
                            files={"file": ("pairs.csv", hostile["pairs"].read_bytes(), "text/csv")})
    assert response.status_code == 303, response.text[:300]
    assert rows_parsed["rows"] == 0
    await process_background()
    assert rows_parsed["rows"] <= 1 + pairing_import.MAX_ROWS + 1
    done = await b.get(response.headers["location"])
    assert 'data-status="failed"' in done.text and f'data-refused="{pairing_import.MSG_TOO_MANY}"' in done.text
    assert "5000" in done.text
    too_big = await b.post("/t/pengjie/liaison/pairings/import",
                           files={"file": ("big.csv", hostile["csv"].read_bytes(), "text/csv")})
    assert too_big.status_code == 413 and "5 MB" in too_big.text
