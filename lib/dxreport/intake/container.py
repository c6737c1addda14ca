"""Container safety: what is checked before any reader sees a file.

Size caps, zip bombs, XML bombs (a DOCTYPE or ENTITY, which Excel never writes), files that are
not workbooks or are password-protected; and formulas without a stored value.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from defusedxml import DefusedXmlException

from dxreport.intake.records import _fmt, _file_label, _Reject
from dxreport.textnorm import nfc

# Container limits, checked before openpyxl sees the file.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200  # for entries larger than RATIO_CHECK_BYTES
RATIO_CHECK_BYTES = 2 * 1024 * 1024
MAX_ZIP_ENTRIES = 5000

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_MARKERS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))

# Excel never writes a document type declaration; entity expansion is how XML bombs work.
_XML_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
XML_PROLOG_BYTES = 64 * 1024
_XML_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_XML_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_XML_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>(.+?)</(?:\w+:)?v>", re.S)
_XML_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_XML_TYPE = re.compile(rb'\bt="([a-zA-Z]+)"')


def _check_container(data: bytes, name: str) -> None:
    """Refuse what is not a safe .xlsx zip before openpyxl reads it."""
    who = _file_label(name)
    if data.startswith(OLE_SIGNATURE):
        encrypted = any(marker in data for marker in ENCRYPTED_MARKERS)
        if encrypted or Path(name).suffix.lower() in (".xlsx", ".xlsm"):
            raise _Reject(
                "file.encrypted",
                f"{who} được đặt mật khẩu (mã hóa) nên không đọc được; "
                "đề nghị đơn vị gỡ mật khẩu, lưu lại dạng .xlsx và gửi lại.",
            )
        raise _Reject(
            "file.not_workbook",
            f"{who} là tệp Office định dạng cũ (như Excel 97–2003 .xls), "
            "không phải .xlsx; đề nghị lưu lại dạng .xlsx theo biểu mẫu và gửi lại.",
        )
    if not data.startswith(b"PK"):
        raise _Reject(
            "file.not_workbook", f"{who} không phải là tệp Excel .xlsx; đề nghị gửi báo cáo bằng biểu mẫu .xlsx."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _Reject("file.not_workbook", f"{who} bị hỏng, không mở được như tệp .xlsx ({exc}).") from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _Reject(
            "file.zip_bomb", f"{who} chứa {len(infos)} thành phần nén, quá nhiều cho một bảng tính; tệp không được mở."
        )
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > RATIO_CHECK_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise _Reject(
                "file.zip_bomb",
                f"{who} có thành phần nén bất thường ({nfc(info.filename)}: "
                f"{_fmt(info.file_size)} byte khi giải nén từ {_fmt(info.compress_size)} byte); "
                "tệp không được mở.",
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _Reject(
            "file.zip_bomb",
            f"{who} khi giải nén lên tới {_fmt(total)} byte, vượt giới hạn "
            f"{_fmt(MAX_UNCOMPRESSED_BYTES)} byte; tệp không được mở.",
        )
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        raise _Reject("file.not_workbook", f"{who} là tệp nén nhưng không phải bảng tính .xlsx.")
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels", ".vml")) and info.file_size:
            try:
                with archive.open(info) as part:
                    head = part.read(XML_PROLOG_BYTES)
            except Exception as exc:  # noqa: BLE001 - a part that does not inflate is a broken file
                raise _Reject(
                    "file.not_workbook", f"{who} bị hỏng, không mở được như tệp .xlsx ({type(exc).__name__})."
                ) from exc
            if _XML_DTD.search(head):
                raise _xml_bomb(name, info.filename)


def _defused(exc: BaseException | None) -> bool:
    """True if defusedxml refused the XML somewhere in this exception's chain (openpyxl wraps it)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DefusedXmlException):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _xml_bomb(name: str, part: str = "") -> _Reject:
    where = f" (thành phần {nfc(part)})" if part else ""
    return _Reject(
        "file.xml_bomb",
        f"{_file_label(name)} có khai báo DOCTYPE/ENTITY trong XML{where}, điều mà "
        "Excel không bao giờ ghi (dấu hiệu tệp độc hại, “bom XML”); tệp không được mở.",
    )


def _uncached_in(matches) -> list[str]:
    """Cells among _XML_CELL matches that hold a formula without a stored value."""
    found = []
    for m in matches:
        inner = m.group(2) or b""
        if not _XML_FORMULA.search(inner):
            continue
        value = _XML_VALUE.search(inner)
        kind = _XML_TYPE.search(m.group(1))
        if value is None and not (kind and kind.group(1) == b"str" and re.search(rb"<(?:\w+:)?v\b", inner)):
            ref = _XML_REF.search(m.group(1))
            found.append(ref.group(1).decode() if ref else "?")
    return found


def _uncached_formulas(data: bytes, part: str) -> list[str]:
    """Cells of a worksheet XML part that hold a formula without a stored value."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            xml = archive.read(part)
        except KeyError:
            return []
    if not _has_formula(xml):
        return []
    return _uncached_in(_XML_CELL.finditer(xml))


def _has_formula(xml: bytes) -> bool:
    """Whether a worksheet XML part holds any formula (`<f>`, maybe namespaced); fast on big parts."""
    if b"<f" not in xml and b":f" not in xml:
        return False
    return _XML_FORMULA.search(xml) is not None
