"""Attachments (附件) are judged by content: PDF, images, Word and Excel only."""

import base64
import io
import struct
import zipfile
import zlib

import openpyxl
import pytest

from core.filetypes import (
    MAX_ATTACHMENT_BYTES,
    REJECTION_MESSAGES,
    AttachmentRejected,
    check_attachment,
    sniff,
)

# ---- real files, made in memory -----------------------------------------------------------------


def make_pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + b"\xff\xd9"
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?><w:document '
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>企业诉求</w:t></w:r></w:p></w:body></w:document>"
)


def make_zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buf.getvalue()


def make_docx(**extra) -> bytes:
    return make_zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": DOCUMENT, **extra})


def make_xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["企业名称", "统一社会信用代码"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


NOSTREAM, ENDOFCHAIN, FATSECT, FREE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def make_ole(entries: list[tuple[str, int, int, int, int]]) -> bytes:
    """An OLE2 compound file (512-byte sectors): sector 0 the FAT, then the directory chain.

    ``entries`` are ``(name, type, left, right, child)``; entry 0 is the root (type 5).
    """
    unused = ("", 0, NOSTREAM, NOSTREAM, NOSTREAM)
    entries = entries + [unused] * (-len(entries) % 4)
    sectors = len(entries) // 4
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    struct.pack_into("<I", header, 76, 0)  # the FAT is sector 0
    header[80:512] = b"\xff" * 432
    chain = [FATSECT] + [n + 1 for n in range(1, sectors)] + [ENDOFCHAIN]
    fat = struct.pack(f"<{len(chain)}I", *chain).ljust(512, b"\xff")
    directory = bytearray()
    for name, kind, left, right, child in entries:
        entry = bytearray(128)
        raw = (name + "\0").encode("utf-16-le") if name else b""
        entry[: len(raw)] = raw
        struct.pack_into("<HBBIII", entry, 64, len(raw), kind, 1, left, right, child)
        struct.pack_into("<I", entry, 116, ENDOFCHAIN)
        directory += entry
    return bytes(header) + fat + bytes(directory)


ROOT = ("Root Entry", 5, NOSTREAM, NOSTREAM, 1)
DOC = make_ole([ROOT, ("WordDocument", 2, NOSTREAM, 2, NOSTREAM), ("1Table", 2, NOSTREAM, NOSTREAM, NOSTREAM)])
XLS = make_ole([ROOT, ("Workbook", 2, NOSTREAM, NOSTREAM, NOSTREAM)])
XLS_EXCEL5 = make_ole([ROOT, ("Book", 2, NOSTREAM, NOSTREAM, NOSTREAM)])
# a workbook with a Word document embedded in a sub-storage is still Excel, and vice versa
XLS_WITH_DOC = make_ole([ROOT, ("Workbook", 2, NOSTREAM, 2, NOSTREAM), ("MBD0001", 1, NOSTREAM, NOSTREAM, 3),
                         ("WordDocument", 2, NOSTREAM, NOSTREAM, NOSTREAM)])
DOC_WITH_XLS = make_ole([ROOT, ("ObjectPool", 1, 2, NOSTREAM, 3), ("WordDocument", 2, NOSTREAM, NOSTREAM, NOSTREAM),
                         ("Workbook", 2, NOSTREAM, NOSTREAM, NOSTREAM)])
# a directory of two sectors: the root's children are found through the FAT chain
DOC_LONG_DIRECTORY = make_ole([("Root Entry", 5, NOSTREAM, NOSTREAM, 3)]
                              + [(f"Data{i}", 2, NOSTREAM, NOSTREAM, NOSTREAM) for i in (1, 2)]
                              + [("CompObj", 2, 1, 5, NOSTREAM), ("Ole", 2, NOSTREAM, NOSTREAM, NOSTREAM),
                                 ("WordDocument", 2, 4, NOSTREAM, NOSTREAM)])
PPT = make_ole([ROOT, ("PowerPoint Document", 2, NOSTREAM, NOSTREAM, NOSTREAM)])


# ---- accepted -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind", "extension", "mime"),
    [
        (make_pdf(), "pdf", "pdf", "application/pdf"),
        (make_png(), "image", "png", "image/png"),
        (JPEG, "image", "jpg", "image/jpeg"),
        (GIF, "image", "gif", "image/gif"),
        (WEBP, "image", "webp", "image/webp"),
        (DOC, "word", "doc", "application/msword"),
        (DOC_WITH_XLS, "word", "doc", "application/msword"),
        (DOC_LONG_DIRECTORY, "word", "doc", "application/msword"),
        (XLS, "excel", "xls", "application/vnd.ms-excel"),
        (XLS_EXCEL5, "excel", "xls", "application/vnd.ms-excel"),
        (XLS_WITH_DOC, "excel", "xls", "application/vnd.ms-excel"),
        (make_docx(), "word", "docx",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (make_xlsx(), "excel", "xlsx",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
    ids=["pdf", "png", "jpeg", "gif", "webp", "doc", "doc+xls", "doc-2-sectors", "xls", "xls5", "xls+doc", "docx", "xlsx"],
)
def test_accepted_types(data, kind, extension, mime):
    found = sniff(data)
    assert (found.kind, found.extension, found.mime) == (kind, extension, mime)
    assert check_attachment(f"upload.{extension}", data) == found


def test_the_name_does_not_matter():
    assert check_attachment("photo.pdf", make_png()).extension == "png"
    assert check_attachment("no-extension", make_pdf()).kind == "pdf"
    assert check_attachment("表格.doc", make_xlsx()).kind == "excel"


# ---- refused ------------------------------------------------------------------------------------

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 46 + b"PE\x00\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>'


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("report.pdf", "这是一个改了扩展名的文本文件。\n".encode()),
        ("archive.docx", make_zip({"readme.txt": "hello"})),
        ("slides.xlsx", make_zip({"[Content_Types].xml": CONTENT_TYPES, "ppt/presentation.xml": "<p/>"})),
        ("both.docx", make_docx(**{"xl/workbook.xml": "<workbook/>"})),
        ("macro.docx", make_docx(**{"word/vbaProject.bin": b"\x00macro"})),
        ("no-types.docx", make_zip({"word/document.xml": DOCUMENT})),
        ("setup.xlsx", EXE),
        ("page.pdf", HTML),
        ("logo.png", SVG),
        ("gift.gif", b"GIFT ideas for the new year"),
        ("slides.doc", PPT),
        ("broken.doc", bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 100),
        ("broken.docx", b"PK\x03\x04" + b"\x00" * 100),
        ("image.bmp", b"BM" + b"\x00" * 100),
    ],
)
def test_refused_types(name, data):
    assert sniff(data) is None
    with pytest.raises(AttachmentRejected) as info:
        check_attachment(name, data)
    assert info.value.reason_key == "type"
    assert info.value.message == REJECTION_MESSAGES["type"]
    assert info.value.params == {"name": name}


def test_empty_file():
    with pytest.raises(AttachmentRejected) as info:
        check_attachment("empty.pdf", b"")
    assert (info.value.reason_key, info.value.params) == ("empty", {"name": "empty.pdf"})
    assert sniff(b"") is None


def test_size_limit():
    pdf = make_pdf()
    at_limit = pdf + b"\n" * (MAX_ATTACHMENT_BYTES - len(pdf))
    assert check_attachment("big.pdf", at_limit).kind == "pdf"
    with pytest.raises(AttachmentRejected) as info:
        check_attachment("C:\\fakepath\\big.pdf", at_limit + b"\n")
    assert info.value.reason_key == "too_large"
    assert info.value.params == {"name": "big.pdf", "max_mb": 20}
    assert info.value.message % info.value.params == "The file big.pdf is larger than 20 MB."


def test_every_reason_has_a_message():
    assert set(REJECTION_MESSAGES) == {"empty", "too_large", "type"}
