"""Company list import (企业名单导入): CSV in UTF-8 / UTF-8-BOM / GBK and .xlsx, judged by content."""

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from core import company_import as ci
from core.company_import import (
    CompanyRow,
    ImportFileError,
    RowError,
    count_data_rows,
    iter_company_file,
    parse_company_file,
)
from core.uscc import REASON_MESSAGES

ALIBABA, TENCENT, HUAWEI, SINOPEC = (
    "91330100716105852F", "9144030071526726XG", "914403001922038216", "91110000710926094P")

HEADER_ZH = ["企业名称", "统一社会信用代码", "行业", "所属镇街", "地址", "联系人", "联系电话", "邮箱", "企业联络员"]
HEADER_EN = ["name", "credit_code", "industry", "township", "address", "contact_name", "contact_phone",
             "email", "liaison"]
GOOD = [
    ["阿里巴巴（中国）有限公司", ALIBABA, "软件和信息技术服务业", "路桥街道", "杭州市余杭区文一西路969号",
     "张三", "13812345678", "zhang@example.com", "李四"],
    ["深圳市腾讯计算机系统有限公司", TENCENT, "互联网", "蓬街镇", "", "王五", "0576-82345678", "", ""],
    ["华为技术有限公司", HUAWEI, "", "", "", "", "057682345678", "", ""],
]


def csv_bytes(rows, encoding="utf-8", delimiter=",") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def assert_good_rows(report):
    assert report.errors == []
    assert [r.row_number for r in report.rows] == [2, 3, 4]
    first = report.rows[0]
    assert first == CompanyRow(
        row_number=2, name="阿里巴巴（中国）有限公司", credit_code=ALIBABA, industry="软件和信息技术服务业",
        township="路桥街道", address="杭州市余杭区文一西路969号", contact_name="张三",
        contact_phone="13812345678", email="zhang@example.com", liaison="李四")
    assert report.rows[1].contact_phone == "0576-82345678" and report.rows[1].email == ""
    assert report.rows[2].credit_code == HUAWEI and report.rows[2].industry == ""


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_csv_in_every_encoding(encoding):
    data = csv_bytes([HEADER_ZH, *GOOD], encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really GBK, not UTF-8 in disguise
    assert_good_rows(parse_company_file("企业名单.csv", data))


def test_csv_with_english_headers_and_tabs():
    data = csv_bytes([HEADER_EN, *GOOD], "utf-8", delimiter="\t")
    assert_good_rows(parse_company_file("companies.txt", data))


def test_xlsx_with_numbers_and_blank_rows():
    rows = [HEADER_ZH, GOOD[0], [None] * 9, GOOD[1], GOOD[2]]
    rows[3] = [*GOOD[1][:6], "0576-82345678", None, None]
    rows[1] = [*GOOD[0][:6], 13812345678, "zhang@example.com", "李四"]  # a phone stored as a number
    report = parse_company_file("企业名单.xlsx", xlsx_bytes(rows))
    assert report.errors == []
    assert [r.row_number for r in report.rows] == [2, 4, 5]  # the spreadsheet's row numbers
    assert report.rows[0].contact_phone == "13812345678"
    assert report.rows[1].email == ""


def test_headers_are_matched_loosely_and_extra_columns_ignored():
    header = ["序号", "*企业名称", "Credit Code", "联系电话（选填）", "E-mail", "备注"]
    data = csv_bytes([header, ["1", "华为技术有限公司", HUAWEI.lower(), "１３８ １２３４ ５６７８", "A@B.CN", "x"]])
    (row,) = parse_company_file("x.csv", data).rows
    assert (row.name, row.credit_code, row.contact_phone, row.email) == (
        "华为技术有限公司", HUAWEI, "13812345678", "A@B.CN")


def test_bad_rows_among_good_ones():
    bad_check = ALIBABA[:17] + "G"
    rows = [
        HEADER_ZH,
        GOOD[0],                                                       # 2 good
        ["坏校验码公司", bad_check, "", "", "", "", "", "", ""],          # 3 check
        ["", "91330100716105I52F", "", "", "", "", "", "", ""],        # 4 name missing, I not allowed
        ["长" * 201, SINOPEC, "", "", "", "", "12345678901", "not-an-email", ""],  # 5 three errors
        GOOD[1],                                                       # 6 good
        ["阿里巴巴重复", ALIBABA, "", "", "", "", "", "", ""],            # 7 duplicate of row 2
        ["无代码公司", "", "", "", "", "", "0576-123", "a@b", ""],        # 8
        ["中国石油化工股份有限公司", SINOPEC, "", "", "", "", "", "", ""],  # 9 duplicate of 5 (refused itself)
        ["号码太长", "9133010071610585", "", "", "", "", "", "", ""],      # 10 length
    ]
    report = parse_company_file("名单.csv", csv_bytes(rows, "gbk"))
    assert [r.row_number for r in report.rows] == [2, 6]
    found = {(e.row_number, e.field): (e.message, e.params) for e in report.errors}
    assert found == {
        (3, "credit_code"): (REASON_MESSAGES["check"], {}),
        (4, "name"): (ci.MSG_REQUIRED, {}),
        (4, "credit_code"): (REASON_MESSAGES["character"], {"char": "I"}),
        (5, "name"): (ci.MSG_TOO_LONG, {"max": 200}),
        (5, "contact_phone"): (ci.MSG_PHONE, {"value": "12345678901"}),
        (5, "email"): (ci.MSG_EMAIL, {"value": "not-an-email"}),
        (7, "credit_code"): (ci.MSG_DUPLICATE, {"code": ALIBABA, "row": 2}),
        (8, "credit_code"): (ci.MSG_REQUIRED, {}),
        (8, "contact_phone"): (ci.MSG_PHONE, {"value": "0576-123"}),
        (8, "email"): (ci.MSG_EMAIL, {"value": "a@b"}),
        (9, "credit_code"): (ci.MSG_DUPLICATE, {"code": SINOPEC, "row": 5}),
        (10, "credit_code"): (REASON_MESSAGES["length"], {}),
    }
    assert all(isinstance(e, RowError) for e in report.errors)
    assert ci.MSG_DUPLICATE % {"code": ALIBABA, "row": 2} == (
        f"The credit code {ALIBABA} already appears in row 2.")


def test_the_generator_reports_every_row_in_order():
    rows = [HEADER_EN, GOOD[0], ["", "", "", "", "", "", "", "", ""], ["坏", "123", "", "", "", "", "", "", ""],
            GOOD[2]]
    data = xlsx_bytes(rows)
    assert count_data_rows("x.xlsx", data) == 3
    seen = list(iter_company_file("x.xlsx", data))
    assert [(n, row is not None, len(errors)) for n, row, errors in seen] == [
        (2, True, 0), (4, False, 1), (5, True, 0)]
    assert seen[1][2][0].field == "credit_code"


def test_format_is_decided_by_content_not_name():
    csv_data = csv_bytes([HEADER_ZH, *GOOD], "utf-8-sig")
    assert_good_rows(parse_company_file("名单.xlsx", csv_data))
    assert_good_rows(parse_company_file("名单.csv", xlsx_bytes([HEADER_ZH, *GOOD])))


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 46 + b"PE\x00\x00" + b"\x00" * 200


def plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("企业名称.csv", "企业名称,统一社会信用代码\n")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("setup.xlsx", EXE, ci.MSG_FORMAT),
        ("list.xlsx", plain_zip(), ci.MSG_FORMAT),
        ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 64, ci.MSG_FORMAT),
        ("list.csv", bytes(range(256)) * 4, ci.MSG_FORMAT),
        ("list.csv", b"\x1b[0m\x01\x02 terminal output", ci.MSG_FORMAT),
        ("list.xls", bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 1024, ci.MSG_XLS),
        ("empty.csv", b"", ci.MSG_EMPTY),
        ("blank.csv", b" \r\n\r\n", ci.MSG_EMPTY),
        ("bom.csv", b"\xef\xbb\xbf", ci.MSG_EMPTY),
        ("header.csv", csv_bytes([HEADER_ZH, [""] * 9]), ci.MSG_NO_ROWS),
    ],
)
def test_whole_file_problems(name, data, message):
    with pytest.raises(ImportFileError) as info:
        parse_company_file(name, data)
    assert info.value.message == message
    with pytest.raises(ImportFileError):
        next(iter_company_file(name, data))  # raised before the first row


def test_missing_and_repeated_headers():
    with pytest.raises(ImportFileError) as info:
        parse_company_file("x.csv", csv_bytes([["公司", "信用代码", "地址"], ["a", ALIBABA, "b"]]))
    assert info.value.message == ci.MSG_MISSING
    assert info.value.params == {"columns": "企业名称 (name), 统一社会信用代码 (credit_code)"}
    with pytest.raises(ImportFileError) as info:
        parse_company_file("x.csv", csv_bytes([["企业名称", "name"], ["a", "b"]]))
    assert info.value.params == {"column": "name"}
    with pytest.raises(ImportFileError) as info:
        parse_company_file("x.xlsx", xlsx_bytes([["企业名称", "地址"], ["a", dt.datetime(2024, 1, 1)]]))
    assert info.value.params == {"columns": "统一社会信用代码 (credit_code)"}


def test_too_many_rows():
    data = csv_bytes([HEADER_ZH, *GOOD])
    assert len(parse_company_file("x.csv", data, max_rows=3).rows) == 3
    with pytest.raises(ImportFileError) as info:
        parse_company_file("x.csv", data, max_rows=2)
    assert (info.value.message, info.value.params) == (ci.MSG_TOO_MANY, {"max": 2})
    with pytest.raises(ImportFileError):
        next(iter_company_file("x.xlsx", xlsx_bytes([HEADER_ZH, *GOOD]), max_rows=2))


@pytest.mark.parametrize("phone", ["13812345678", "19912345678", "0576-82345678", "057682345678", "010-12345678",
                                   "0576-8234567", "138 1234 5678"])
def test_phone_numbers_accepted(phone):
    (row,) = parse_company_file("x.csv", csv_bytes([["企业名称", "统一社会信用代码", "联系电话"],
                                                    ["华为", HUAWEI, phone]])).rows
    assert row.contact_phone == phone.replace(" ", "")


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "138123456789", "576-82345678", "0576-82345",
                                   "电话", "+8613812345678"])
def test_phone_numbers_refused(phone):
    report = parse_company_file("x.csv", csv_bytes([["企业名称", "统一社会信用代码", "联系电话"],
                                                   ["华为", HUAWEI, phone]]))
    assert report.rows == [] and [e.field for e in report.errors] == ["contact_phone"]
