"""What an attachment (附件) really is, judged by its content, never by its file name.

Accepted: PDF, images (图片: PNG, JPEG, GIF, WebP), Word (.doc, .docx) and Excel (.xls, .xlsx).

* PDF and images by magic number (the ``filetype`` package, then the exact signature);
* .doc / .xls are OLE2 compound files (复合文档, ``D0 CF 11 E0 A1 B1 1A E1``): the directory is
  read and the streams directly under the root decide — ``WordDocument`` is Word,
  ``Workbook`` (or Excel 5's ``Book``) is Excel; anything else (PowerPoint, Outlook, encrypted
  packages) is refused;
* .docx / .xlsx are OOXML zip packages: ``[Content_Types].xml`` plus ``word/`` or ``xl/`` parts.
  A plain zip, or one with both or with macros (``vbaProject.bin``), is refused.

Executables, HTML, SVG, plain text and anything else are refused whatever they are called.
:func:`check_attachment` gives the reason as a stable key plus an English message id (``N_``).
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

import filetype

from core.i18n import N_

__all__ = [
    "AllowedType",
    "AttachmentRejected",
    "MAX_ATTACHMENT_BYTES",
    "REJECTION_MESSAGES",
    "check_attachment",
    "sniff",
]

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024

REJECTION_MESSAGES: dict[str, str] = {
    "empty": N_("The file %(name)s is empty."),
    "too_large": N_("The file %(name)s is larger than %(max_mb)s MB."),
    "type": N_(
        "The file %(name)s is not a PDF, an image (PNG, JPEG, GIF, WebP), a Word document or an "
        "Excel workbook."
    ),
}


@dataclass(frozen=True)
class AllowedType:
    """An accepted kind of file: ``kind`` is ``pdf``, ``image``, ``word`` or ``excel``."""

    kind: str
    mime: str
    extension: str


PDF = AllowedType("pdf", "application/pdf", "pdf")
PNG = AllowedType("image", "image/png", "png")
JPEG = AllowedType("image", "image/jpeg", "jpg")
GIF = AllowedType("image", "image/gif", "gif")
WEBP = AllowedType("image", "image/webp", "webp")
DOC = AllowedType("word", "application/msword", "doc")
XLS = AllowedType("excel", "application/vnd.ms-excel", "xls")
DOCX = AllowedType(
    "word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"
)
XLSX = AllowedType(
    "excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
)


class AttachmentRejected(ValueError):
    """An attachment that is refused: ``reason_key`` is ``empty``, ``too_large`` or ``type``."""

    def __init__(self, reason_key: str, message: str, params: dict | None = None) -> None:
        super().__init__(reason_key, message, params or {})
        self.reason_key = reason_key
        self.message = message
        self.params = dict(params or {})

    @property
    def reason(self) -> str:
        return self.reason_key


# ---- magic numbers ------------------------------------------------------------------------------

# filetype's mime → (accepted type, the exact signature test that must also hold)
_MAGIC = {
    "application/pdf": (PDF, lambda d: d.startswith(b"%PDF-")),
    "image/png": (PNG, lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/apng": (PNG, lambda d: d.startswith(b"\x89PNG\r\n\x1a\n")),
    "image/jpeg": (JPEG, lambda d: d.startswith(b"\xff\xd8\xff")),
    "image/gif": (GIF, lambda d: d[:6] in (b"GIF87a", b"GIF89a")),
    "image/webp": (WEBP, lambda d: d[:4] == b"RIFF" and d[8:15] == b"WEBPVP8"),
}

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ZIP_MAGIC = b"PK\x03\x04"
_END = 0xFFFFFFFA  # sector ids at or above this are markers (end of chain, free, FAT, …)
_NOSTREAM = 0xFFFFFFFF
_MAX_DIR_SECTORS = 256


def _u32(buf: bytes, offset: int) -> int:
    return int.from_bytes(buf[offset : offset + 4], "little")


def _ole_root_streams(data: bytes) -> set[str]:
    """Names of the entries directly under the root storage of an OLE2 compound file."""
    if len(data) < 1024:
        return set()
    shift = int.from_bytes(data[30:32], "little")
    if shift not in (9, 12):
        return set()
    size = 1 << shift

    def sector(sid: int) -> bytes:
        return data[(sid + 1) * size : (sid + 2) * size]

    # where the FAT sectors are: 109 in the header, the rest in a chain of DIFAT sectors
    difat = [_u32(data, 76 + 4 * i) for i in range(109)]
    sid, hops = _u32(data, 68), 0
    while sid < _END and hops < _MAX_DIR_SECTORS:
        blob, hops = sector(sid), hops + 1
        difat += [_u32(blob, o) for o in range(0, len(blob) - 4, 4)]
        sid = _u32(blob, len(blob) - 4) if len(blob) == size else _NOSTREAM

    def next_sid(sid: int) -> int:
        index, pos = divmod(sid, size // 4)
        if index >= len(difat) or difat[index] >= _END:
            return _NOSTREAM
        fat = sector(difat[index])
        return _u32(fat, pos * 4) if len(fat) >= pos * 4 + 4 else _NOSTREAM

    entries: list[bytes] = []
    sid, seen = _u32(data, 48), set[int]()  # directory sectors already read
    while sid < _END and sid not in seen and len(seen) < _MAX_DIR_SECTORS:
        seen.add(sid)
        blob = sector(sid)
        entries += [blob[o : o + 128] for o in range(0, len(blob) - 127, 128)]
        sid = next_sid(sid)
    if not entries or entries[0][66] != 5:  # entry 0 must be the root storage
        return set()
    names: set[str] = set()
    stack, visited = [_u32(entries[0], 76)], set()
    while stack:
        i = stack.pop()
        if i == _NOSTREAM or i in visited or i >= len(entries):
            continue
        visited.add(i)
        entry = entries[i]
        length = int.from_bytes(entry[64:66], "little")
        if 2 <= length <= 64 and entry[66] in (1, 2):  # a storage or a stream
            names.add(entry[: length - 2].decode("utf-16-le", "replace"))
        stack += [_u32(entry, 68), _u32(entry, 72)]  # left and right siblings
    return names


def _ole_type(data: bytes) -> AllowedType | None:
    names = _ole_root_streams(data)
    if "WordDocument" in names:
        return DOC
    if "Workbook" in names or "Book" in names:
        return XLS
    return None


def _ooxml_type(data: bytes) -> AllowedType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names or any(n.endswith("vbaProject.bin") for n in names):
        return None
    word = any(n.startswith("word/") for n in names)
    excel = any(n.startswith("xl/") for n in names)
    if word and not excel:
        return DOCX
    if excel and not word:
        return XLSX
    return None


def sniff(data: bytes) -> AllowedType | None:
    """The accepted type of ``data`` by content, or ``None`` when it is not one we take."""
    if not data:
        return None
    if data.startswith(_OLE_MAGIC):
        return _ole_type(data)
    if data.startswith(_ZIP_MAGIC):
        return _ooxml_type(data)
    guess = filetype.guess(data[:8192])
    if guess is None or guess.mime not in _MAGIC:
        return None
    allowed, exact = _MAGIC[guess.mime]
    return allowed if exact(data) else None


def check_attachment(filename: str, data: bytes) -> AllowedType:
    """Accept ``data`` as an attachment or raise :class:`AttachmentRejected`.

    ``filename`` only names the file in the message; the type comes from the content, and the
    returned :class:`AllowedType` carries the extension to store it under.
    """
    params: dict[str, object] = {"name": os.path.basename((filename or "").replace("\\", "/"))}
    if not data:
        raise AttachmentRejected("empty", REJECTION_MESSAGES["empty"], params)
    if len(data) > MAX_ATTACHMENT_BYTES:
        params["max_mb"] = MAX_ATTACHMENT_BYTES // (1024 * 1024)
        raise AttachmentRejected("too_large", REJECTION_MESSAGES["too_large"], params)
    allowed = sniff(data)
    if allowed is None:
        raise AttachmentRejected("type", REJECTION_MESSAGES["type"], params)
    return allowed
