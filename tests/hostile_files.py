"""Hostile import files, written to disk without holding them in memory: a CSV with far more rows
than any cap, and an .xlsx whose sheet declares no <dimension> (or a false one) with millions of
rows — a few hundred KB compressed, as in the incident of issue 17."""

from __future__ import annotations

import zipfile
from pathlib import Path

from core.uscc import check_character

HEADER = ("企业名称", "统一社会信用代码")


def credit_code(serial: int) -> str:
    first17 = f"91331004{serial % 10**9:09d}"
    return first17 + check_character(first17)


def big_csv(path: Path, rows: int, header: tuple[str, ...] = HEADER, min_bytes: int = 0) -> Path:
    """`rows` data rows (each a distinct valid company), padded with an address column until the
    file holds at least `min_bytes`."""
    pad = ""
    if min_bytes:
        pad = "x" * max(0, -(-min_bytes // max(rows, 1)) - 25)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(",".join((*header, "地址")) + "\n")
        for serial in range(rows):
            out.write(f"企业{serial},{credit_code(serial)},{pad}\n")
    return path


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '</Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def _row(*values: str) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
    return f"<row>{cells}</row>"


def xlsx_without_dimension(path: Path, rows: int, header: tuple[str, ...] = HEADER,
                           dimension: str | None = None) -> Path:
    """A workbook built by hand whose sheet has `rows` data rows (the same valid company, over and
    over) and no <dimension> element — or, given `dimension`, a false one."""
    block = _row("企业", credit_code(1)) * 1000
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>" + _row(*header).encode())
            full, rest = divmod(rows, 1000)
            encoded = block.encode()
            for _ in range(full):
                sheet.write(encoded)
            sheet.write((_row("企业", credit_code(1)) * rest).encode())
            sheet.write(b"</sheetData></worksheet>")
    return path
