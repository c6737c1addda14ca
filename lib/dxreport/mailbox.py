"""Fetching units' workbooks from the department's mailbox over IMAP (`dxreport mail fetch`).

Every `.xlsx` attachment of a message not fetched before is saved into the inbox folder of the
month its `Thông tin` sheet names, under a safe file name; the message's arrival time
(INTERNALDATE, Asia/Ho_Chi_Minh wall time) goes into that folder's received.csv with the channel
"thư điện tử", so that the time deciding "nộp muộn" is when the mail server received it. Then
the message is marked fetched (an IMAP keyword, or moved to another folder), only once all its
files are written, so that a fetch cut short takes the message again and recognises the bytes
already saved as duplicates.

Attachments that are not workbooks, larger than submission.max_file_bytes, or sent by an
address that params/contacts.csv does not know are listed, never dropped silently. A message
from an unknown sender is not marked: once the clerk adds the address, the next fetch takes it.

Every attachment seen is recorded in data/mail/fetched.csv (beside the inbox, not in it), which
`last_fetch` reads back. The password comes from the environment variable named by
mail.password_env (or the file mail.password_file, outside the project); it is never logged.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import email
import email.header
import email.policy
import email.utils
import hashlib
import imaplib
import io
import itertools
import logging
import os
import quopri
import re
import ssl
import unicodedata
import uuid
from urllib.parse import unquote
from dataclasses import dataclass, field
from pathlib import Path

from dxreport import forms, intake
from dxreport.contacts import Contacts, load_contacts
from dxreport.fileio import write_atomic
from dxreport.intake.records import LOCAL_TZ
from dxreport.months import is_month
from dxreport.params import load_settings
from dxreport.paths import PROJECT_ROOT
from dxreport.received import CHANNEL_LABELS, LIST_NAME, _columns, _decode, _rows
from dxreport.textnorm import fold, format_month, nfc

log = logging.getLogger("dxreport.mailbox")

DEFAULT_PASSWORD_ENV = "DXREPORT_MAIL_PASSWORD"
DEFAULT_FLAG = "$DxreportFetched"
#: Seconds a connection, a read or a write may wait on the server.
TIMEOUT = 60
RECORD_NAME = "fetched.csv"
RECORD_FIELDS = ("fetch", "time", "message_id", "uid", "sender", "subject", "attachment", "result", "file")

NOT_XLSX = "không phải tệp .xlsx"
UNKNOWN_SENDER = "người gửi không có trong params/contacts.csv"
SHARED_SENDER = "địa chỉ người gửi thuộc nhiều đơn vị trong params/contacts.csv"
DUPLICATE = "trùng tệp đã nhận"
SAVED = "đã lưu"
NO_ATTACHMENT = "thư không có tệp đính kèm"


class MailError(Exception):
    """The mailbox cannot be read; the message is Vietnamese and names what to do."""

    def __init__(self, message: str, result: FetchResult | None = None):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class SavedFile:
    """An attachment saved into a month's inbox folder."""

    path: Path
    month: str
    unit: str | None
    sender: str
    subject: str
    received_at: dt.datetime
    message_id: str
    uid: str
    #: False when the period could not be read from `Thông tin`: the file went to the fetch's month.
    period_read: bool = True


@dataclass(frozen=True)
class SkippedAttachment:
    """An attachment not saved, and why (Vietnamese)."""

    attachment: str
    reason: str
    sender: str
    subject: str
    received_at: dt.datetime
    message_id: str
    uid: str


@dataclass(frozen=True)
class MessageInfo:
    """A message as the fetch saw it."""

    uid: str
    message_id: str
    sender: str
    subject: str
    received_at: dt.datetime


@dataclass
class FetchResult:
    """What one fetch did."""

    month: str
    #: Identifies this fetch's rows in data/mail/fetched.csv.
    fetch_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    saved: list[SavedFile] = field(default_factory=list)
    skipped: list[SkippedAttachment] = field(default_factory=list)
    no_attachment: list[MessageInfo] = field(default_factory=list)
    #: Messages left unmarked because their sender is unknown (fetched again next time).
    unmarked: list[MessageInfo] = field(default_factory=list)
    marked: int = 0
    messages: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> list[SkippedAttachment]:
        return [s for s in self.skipped if s.reason == DUPLICATE]

    def table(self) -> str:
        """A short Vietnamese summary: counts, the saved files, the skipped attachments."""
        lines = [
            f"Nhận thư tháng {format_month(self.month)}: {self.messages} thư mới, "
            f"{len(self.saved)} tệp đã lưu, {len(self.skipped)} tệp đính kèm không lưu "
            f"({len(self.duplicates)} trùng tệp đã nhận), {len(self.no_attachment)} thư không có tệp đính kèm, "
            f"{self.marked} thư đã đánh dấu đã nhận."
        ]
        if self.saved:
            lines += ["", "Tệp đã lưu:", _grid(("Tệp", "Tháng", "Đơn vị", "Người gửi", "Nhận lúc"), self._saved_rows())]
        if self.skipped:
            rows = [(s.attachment, s.sender, _show_time(s.received_at), s.reason) for s in self.skipped]
            lines += ["", "Tệp đính kèm không lưu:", _grid(("Tệp đính kèm", "Người gửi", "Nhận lúc", "Lý do"), rows)]
        if self.no_attachment:
            rows = [(m.sender, _show_time(m.received_at), m.subject) for m in self.no_attachment]
            lines += ["", "Thư không có tệp đính kèm:", _grid(("Người gửi", "Nhận lúc", "Tiêu đề"), rows)]
        unread = [s for s in self.saved if not s.period_read]
        if unread:
            lines += [
                "",
                f"Không đọc được Kỳ báo cáo ở trang “{forms.THONG_TIN.name}” của "
                + ", ".join(s.path.name for s in unread)
                + f"; các tệp này được đặt vào thư mục tháng {format_month(self.month)}.",
            ]
        if self.unmarked:
            senders = ", ".join(dict.fromkeys(m.sender for m in self.unmarked))
            lines += [
                "",
                f"{len(self.unmarked)} thư của người gửi không xác định được đơn vị theo params/contacts.csv "
                f"({senders}) chưa được đánh dấu đã nhận: thêm hoặc sửa địa chỉ trong params/contacts.csv rồi "
                "chạy lại lệnh để nhận.",
            ]
        lines += [f"Lưu ý: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _saved_rows(self) -> list[tuple[str, ...]]:
        return [
            (s.path.name, format_month(s.month), s.unit or "?", s.sender, _show_time(s.received_at)) for s in self.saved
        ]


def _show_time(at: dt.datetime) -> str:
    return at.strftime("%d/%m/%Y %H:%M:%S")


def _grid(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


# --------------------------------------------------------------------------- settings and password


def _imap_settings(settings: dict) -> dict:
    imap = (settings.get("mail") or {}).get("imap")
    if not isinstance(imap, dict) or not imap.get("host") or not imap.get("user"):
        raise MailError(
            "thiếu mục mail.imap (host, user, …) trong params/settings.yaml: chưa biết hộp thư nào để nhận tệp."
        )
    return imap


def _password(settings: dict, given: str | None) -> str:
    if given:
        return given
    mail = settings.get("mail") or {}
    name = mail.get("password_env") or DEFAULT_PASSWORD_ENV
    value = os.environ.get(name)
    if value:
        return value
    file = mail.get("password_file")
    if file:
        path = Path(file).expanduser().resolve()
        if path.is_relative_to(PROJECT_ROOT):
            raise MailError(
                f"mail.password_file ({file}) nằm trong thư mục dự án; mật khẩu phải để ngoài dự án "
                f"hoặc trong biến môi trường {name}."
            )
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            log.info("password file %s unreadable: %s", path, exc)
            raise MailError(f"không đọc được tệp mật khẩu mail.password_file ({file}).") from None
        if value:
            return value
    raise MailError(
        f"chưa có mật khẩu hộp thư: đặt biến môi trường {name} (hoặc mail.password_file, một tệp ngoài thư mục dự án)."
    )


# --------------------------------------------------------------------------- connection


def _connect(imap: dict, password: str, password_env: str) -> imaplib.IMAP4:
    host, user = str(imap["host"]), str(imap["user"])
    tls = imap.get("tls") or "ssl"
    port = int(imap.get("port") or (993 if tls == "ssl" else 143))
    context = ssl.create_default_context(cafile=imap.get("cafile") or None)
    where = f"{host}:{port}"
    try:
        if tls == "ssl":
            conn = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT)
        else:
            conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
            conn.starttls(context)
    except ssl.SSLError as exc:
        log.warning("TLS with %s failed: %s", where, exc)
        raise MailError(
            f"không thiết lập được kết nối an toàn (TLS) với máy chủ thư {where}: chứng chỉ không hợp lệ "
            "hoặc máy chủ không hỗ trợ TLS; kiểm tra mail.imap.tls và mail.imap.cafile."
        ) from None
    except (OSError, imaplib.IMAP4.error) as exc:
        log.warning("cannot reach %s: %s", where, exc)
        raise MailError(
            f"không kết nối được máy chủ thư {where}: kiểm tra mạng và mail.imap.host, mail.imap.port."
        ) from None
    try:
        conn.login(user, password)
    except imaplib.IMAP4.error as exc:
        log.warning("login of %s at %s refused: %s", user, where, exc)
        _close(conn)
        raise MailError(
            f"đăng nhập hộp thư {user} tại {host} không được: sai tên đăng nhập hoặc mật khẩu "
            f"(biến môi trường {password_env})"
        ) from None
    except (OSError, EOFError) as exc:
        log.warning("connection to %s lost at login: %s", where, exc)
        raise MailError(f"mất kết nối với máy chủ thư {where} khi đăng nhập; chạy lại lệnh.") from None
    return conn


def _close(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except Exception as exc:  # the connection is gone already
        log.debug("logout: %s", exc)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(typ: str, data, what: str) -> list:
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what}: {typ} {data!r}")
    return data


# --------------------------------------------------------------------------- IMAP responses


_ATOM = re.compile(rb"(?:[^\s()\[]|\[[^\]]*\])+")


def _tokens(data: bytes):
    """Parse an IMAP parenthesised list: nested lists of bytes, ints and None."""
    pos = 0

    def value():
        nonlocal pos
        while data[pos : pos + 1] == b" ":
            pos += 1
        ch = data[pos : pos + 1]
        if ch == b"(":
            pos += 1
            items = []
            while True:
                while data[pos : pos + 1] == b" ":
                    pos += 1
                if data[pos : pos + 1] == b")":
                    pos += 1
                    return items
                if pos >= len(data):
                    raise ValueError("unterminated list")
                items.append(value())
        if ch == b'"':
            pos += 1
            out = bytearray()
            while data[pos : pos + 1] != b'"':
                if pos >= len(data):
                    raise ValueError("unterminated string")
                if data[pos : pos + 1] == b"\\":
                    pos += 1
                out += data[pos : pos + 1]
                pos += 1
            pos += 1
            return bytes(out)
        if ch == b"{":
            end = data.index(b"}", pos)
            size = int(data[pos + 1 : end])
            start = end + 1
            pos = start + size
            return data[start:pos]
        m = _ATOM.match(data, pos)
        if m is None:
            raise ValueError(f"unexpected {ch!r}")
        pos = m.end()
        word = m.group()
        if word.upper() == b"NIL":
            return None
        return int(word) if word.isdigit() else word

    return value()


_RESPONSE_START = re.compile(rb"^\d+ \(")


def _responses(data: list) -> list[bytes]:
    """The FETCH responses of a command, each as one byte string with its literals in place
    after their {n}."""
    out: list[bytes] = []
    for item in data:
        piece = item[0] + item[1] if isinstance(item, tuple) else item if isinstance(item, bytes) else b""
        if _RESPONSE_START.match(piece) or not out:
            out.append(piece)
        else:
            out[-1] += piece
    return out


def _fetch_items(data: list, uid: str) -> dict[bytes, object]:
    """The items of the FETCH response of message `uid` (name -> value); other responses the
    server sent along (flag changes of other messages) are left out."""
    found: dict[bytes, object] = {}
    for raw in _responses(data):
        items = _tokens(raw[raw.index(b"(") :])
        pairs = {
            items[i].upper() if isinstance(items[i], bytes) else items[i]: items[i + 1]
            for i in range(0, len(items) - 1, 2)
        }
        if str(pairs.get(b"UID")) == uid:
            found.update(pairs)
    if not found:
        raise imaplib.IMAP4.error(f"no FETCH response for UID {uid}")
    return found


_INTERNALDATE = re.compile(rb"(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})")
_MONTHS = {m: i for i, m in enumerate(("jan feb mar apr may jun jul aug sep oct nov dec").split(), start=1)}


def _internaldate(value: bytes) -> dt.datetime:
    """INTERNALDATE as Asia/Ho_Chi_Minh wall time, without a zone."""
    m = _INTERNALDATE.search(value.strip())
    if m is None:
        raise ValueError(value)
    day, mon, year, hh, mm, ss, sign, zh, zm = m.groups()
    offset = dt.timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == b"-" else 1)
    at = dt.datetime(
        int(year), _MONTHS[mon.decode().lower()], int(day), int(hh), int(mm), int(ss), tzinfo=dt.timezone(offset)
    )
    return at.astimezone(LOCAL_TZ).replace(tzinfo=None)


@dataclass(frozen=True)
class _Part:
    section: str
    name: str
    encoding: str
    size: int


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _params(value: object) -> dict[str, str]:
    if not isinstance(value, list):
        return {}
    return {_text(value[i]).lower(): _text(value[i + 1]) for i in range(0, len(value) - 1, 2)}


def _decoded_name(params: dict[str, str]) -> str:
    """A file name from Content-Disposition / Content-Type parameters (RFC 2231 and RFC 2047)."""
    if "filename*" in params or "name*" in params:
        raw = params.get("filename*") or params.get("name*")
        charset, _, rest = raw.partition("'")
        _, _, encoded = rest.partition("'")
        return nfc(unquote(encoded, encoding=charset or "utf-8", errors="replace"))
    pieces = sorted(k for k in params if re.fullmatch(r"(file)?name\*\d+\*?", k))
    if pieces:
        key = "filename" if pieces[0].startswith("filename") else "name"
        chunks = sorted((k for k in pieces if k.startswith(key + "*")), key=lambda k: int(re.search(r"\d+", k).group()))
        text = "".join(params[k] for k in chunks)
        if chunks and chunks[0].endswith("*"):
            charset, _, rest = text.partition("'")
            _, _, text = rest.partition("'")
            text = unquote(text, encoding=charset or "utf-8", errors="replace")
        return nfc(text)
    raw = params.get("filename") or params.get("name") or ""
    return nfc(_header_text(raw))


def _parts(structure: object, section: str = "") -> list[_Part]:
    """The leaf parts of BODYSTRUCTURE that carry a file name."""
    if not isinstance(structure, list) or not structure:
        return []
    if isinstance(structure[0], list):  # multipart: children then the subtype
        found = []
        children = itertools.takewhile(lambda c: isinstance(c, list), structure)
        for i, child in enumerate(children):
            found += _parts(child, f"{section}.{i + 1}" if section else str(i + 1))
        return found
    kind = _text(structure[0]).lower()
    if kind == "message" and _text(structure[1]).lower() == "rfc822" and len(structure) > 8:
        return []  # a forwarded message: its attachments are the forwarded message's, not this one's
    params = _params(structure[2])
    size = structure[6] if isinstance(structure[6], int) else 0
    extra = 8 if kind == "text" else 7
    disposition = structure[extra + 1] if len(structure) > extra + 1 else None
    dparams = _params(disposition[1]) if isinstance(disposition, list) and len(disposition) > 1 else {}
    name = _decoded_name(dparams) or _decoded_name(params)
    if not name:
        return []
    return [_Part(section or "1", name, _text(structure[5]).lower(), size)]


def _header_text(value: object) -> str:
    """A header value decoded (RFC 2047) into NFC text on one line."""
    try:
        text = str(email.header.make_header(email.header.decode_header(_text(value))))
    except (ValueError, LookupError, UnicodeError):
        text = _text(value)
    return nfc(" ".join(text.split()))


# --------------------------------------------------------------------------- files


def safe_name(name: str) -> str:
    """A file name to save under: no folder parts, Vietnamese letters folded to ASCII, only
    [A-Za-z0-9._-], a lower-case extension."""
    name = nfc(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = name.replace("đ", "d").replace("Đ", "D")
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-") or "tep"
    ext = re.sub(r"[^A-Za-z0-9]+", "", ext).lower()
    return f"{stem[:120]}.{ext}" if ext else stem[:120]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _existing_copy(folder: Path, data: bytes) -> Path | None:
    """A file of `folder` with exactly these bytes."""
    if not folder.is_dir():
        return None
    digest = _sha(data)
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.stat().st_size == len(data):
            if _file_sha(path) == digest:
                return path
    return None


def _target(folder: Path, name: str, tag: str) -> Path:
    """`folder/name`, or with the message's short hash (and a number) when that name is taken."""
    path = folder / name
    if not path.exists():
        return path
    stem, _, ext = name.rpartition(".")
    for n in range(1, 1000):
        suffix = f"_{tag}" if n == 1 else f"_{tag}_{n}"
        path = folder / f"{stem}{suffix}.{ext}"
        if not path.exists():
            return path
    raise MailError(f"không đặt được tên cho tệp {name} trong {folder}.")


# --------------------------------------------------------------------------- received.csv


def _write_received(folder: Path, name: str, at: dt.datetime) -> str | None:
    """Add `name`'s row (arrival time, channel email) to the folder's received.csv; a row the
    list already has for the file is kept. Returns a warning when the list cannot be added to."""
    path = folder / LIST_NAME
    existing = next((p for p in folder.iterdir() if p.is_file() and p.name.casefold() == LIST_NAME), None)
    row_time = at.strftime("%d/%m/%Y %H:%M:%S")
    channel = CHANNEL_LABELS["email"]
    if existing is None:
        text = "Tệp,Ngày nhận,Hình thức\n"
        write_atomic(path, "\ufeff" + text + _csv_line([name, row_time, channel], ","))
        return None
    raw = existing.read_bytes()
    text = _decode(raw)
    rows = _rows(text)
    start = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    columns = _columns(rows[start]) if start is not None else {}
    if "file" not in columns or "received" not in columns:
        return (
            f"{existing.name} của tháng không có cột “Tệp” và “Ngày nhận”; chưa ghi thời điểm nhận của {name} "
            f"({row_time}, thư điện tử) vào đó."
        )
    for r in rows[start + 1 :]:
        if columns["file"] < len(r) and fold(r[columns["file"]]) == fold(name):
            return None
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first.count)
    width = max(columns.values()) + 1
    cells = [""] * width
    cells[columns["file"]] = name
    cells[columns["received"]] = row_time
    if "channel" in columns:
        cells[columns["channel"]] = channel
    body = text if text.endswith("\n") or not text else text + "\n"
    bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
    write_atomic(existing, bom + body + _csv_line(cells, delimiter))
    return None


def _csv_line(cells: list[str], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerow(cells)
    return out.getvalue()


def _listed(folder: Path, name: str) -> bool:
    path = folder / LIST_NAME
    if not path.exists():
        return False
    rows = _rows(_decode(path.read_bytes()))
    start = next((i for i, r in enumerate(rows) if any(c.strip() for c in r)), None)
    columns = _columns(rows[start]) if start is not None else {}
    if "file" not in columns:
        return False
    return any(columns["file"] < len(r) and fold(r[columns["file"]]) == fold(name) for r in rows[start + 1 :])


# --------------------------------------------------------------------------- the fetch record


def record_path(inbox_root: Path) -> Path:
    """data/mail/fetched.csv for the inbox data/inbox."""
    return Path(inbox_root).resolve().parent / "mail" / RECORD_NAME


def _append_record(inbox_root: Path, rows: list[dict]) -> None:
    if not rows:
        return
    path = record_path(inbox_root)
    old = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RECORD_FIELDS, lineterminator="\n")
    if not old:
        writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, "\ufeff" + old + out.getvalue())


def last_fetch(inbox_root: Path):
    """The rows of the last fetch in data/mail/fetched.csv as a DataFrame (columns RECORD_FIELDS);
    None when there is none."""
    import pandas as pd

    path = record_path(inbox_root)
    if not path.exists():
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if frame.empty:
        return None
    last = frame["fetch"].iloc[-1]
    return frame[frame["fetch"] == last].reset_index(drop=True)


# --------------------------------------------------------------------------- the fetch


def _fetch_part(conn: imaplib.IMAP4, uid: str, part: _Part, limit: int) -> bytes | None:
    """The decoded bytes of one part, or None when it is larger than `limit`; never more than
    about `limit` bytes are read from the server."""
    encoded_limit = (limit + 3) // 3 * 4
    encoded_limit += encoded_limit // 38 + 4096  # line breaks of base64
    if part.encoding == "quoted-printable":
        encoded_limit = 3 * (limit + 1) + limit // 25
    elif part.encoding != "base64":
        encoded_limit = limit + 1
    typ, data = conn.uid("FETCH", uid, f"(BODY.PEEK[{part.section}]<0.{encoded_limit + 1}>)")
    _check(typ, data, "FETCH part")
    items = _fetch_items(data, uid)
    raw = next((v for k, v in items.items() if isinstance(k, bytes) and k.startswith(b"BODY[")), None)
    if raw is None:
        raw = b""
    if not isinstance(raw, bytes):
        raw = b""
    if len(raw) > encoded_limit:
        return None
    if part.encoding == "base64":
        try:
            decoded = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw))
        except (binascii.Error, ValueError):
            decoded = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/]", b"", raw) + b"===")
    elif part.encoding == "quoted-printable":
        decoded = quopri.decodestring(raw)
    else:
        decoded = raw
    return None if len(decoded) > limit else decoded


def _too_large(part: _Part, limit: int) -> bool:
    """Whether BODYSTRUCTURE's size alone shows the decoded part is larger than `limit`."""
    if part.encoding == "base64":
        lines = part.size // 60 + 1
        return (part.size - 2 * lines) * 3 // 4 - 2 > limit
    if part.encoding in ("7bit", "8bit", "binary"):
        return part.size > limit + part.size // 50 + 2
    return False


def fetch(
    month: str,
    *,
    inbox_root: Path,
    settings: dict | None = None,
    password: str | None = None,
    registry=None,
    contacts: Contacts | None = None,
    now: dt.datetime | None = None,
) -> FetchResult:
    """Fetch the units' workbooks from the mailbox into `inbox_root`/<month>/ (see the module)."""
    if not is_month(month):
        raise MailError(f"tháng “{month}” không đúng dạng YYYY-MM.")
    settings = load_settings() if settings is None else settings
    imap = _imap_settings(settings)
    secret = _password(settings, password)
    password_env = (settings.get("mail") or {}).get("password_env") or DEFAULT_PASSWORD_ENV
    if contacts is None:
        contacts = load_contacts(registry=registry)
    limit = int(settings["submission"]["max_file_bytes"])
    now = (now or dt.datetime.now(LOCAL_TZ).replace(tzinfo=None)).replace(microsecond=0)
    inbox_root = Path(inbox_root)
    result = FetchResult(month)
    records: list[dict] = []
    where = f"{imap['host']}:{imap.get('port') or ''}".rstrip(":")
    conn = _connect(imap, secret, password_env)
    try:
        try:
            _fetch_all(conn, imap, month, inbox_root, contacts, limit, now, result, records)
        except (imaplib.IMAP4.abort, OSError, EOFError, ssl.SSLError) as exc:
            log.warning("connection to %s lost during the fetch: %s", where, exc)
            raise MailError(
                f"mất kết nối với máy chủ thư {where} trong khi nhận thư; các tệp đã lưu vẫn giữ, "
                "chạy lại lệnh để nhận tiếp các thư chưa nhận.",
                result,
            ) from None
        except imaplib.IMAP4.error as exc:
            log.warning("IMAP error at %s: %s", where, exc)
            raise MailError(
                f"máy chủ thư {where} từ chối một lệnh khi nhận thư; các thư chưa nhận xong sẽ được nhận "
                "lại ở lần chạy sau.",
                result,
            ) from None
    finally:
        _append_record(inbox_root, records)
        _close(conn)
    return result


def _fetch_all(conn, imap, month, inbox_root, contacts, limit, now, result, records) -> None:
    folder = str(imap.get("folder") or "INBOX")
    mode = imap.get("fetched") or "flag"
    flag = str(imap.get("fetched_flag") or DEFAULT_FLAG)
    typ, data = conn.select(_quote(folder))
    if typ != "OK":
        raise MailError(f"không mở được thư mục “{folder}” của hộp thư (mail.imap.folder).")
    criteria = ("UNKEYWORD", flag) if mode == "flag" else ("ALL",)
    typ, data = conn.uid("SEARCH", None, *criteria)
    uids = _check(typ, data, "SEARCH")[0].split() if data and data[0] else []
    for uid in uids:
        uid = uid.decode() if isinstance(uid, bytes) else str(uid)
        _fetch_message(conn, uid, imap, month, inbox_root, contacts, limit, now, result, records)


def _fetch_message(conn, uid, imap, month, inbox_root, contacts, limit, now, result, records) -> None:
    typ, data = conn.uid(
        "FETCH", uid, "(INTERNALDATE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT MESSAGE-ID)])"
    )
    items = _fetch_items(_check(typ, data, "FETCH"), uid)
    header = next((v for k, v in items.items() if isinstance(k, bytes) and k.startswith(b"BODY[")), b"") or b""
    message = email.message_from_bytes(header if isinstance(header, bytes) else b"", policy=email.policy.compat32)
    sender = email.utils.parseaddr(_header_text(message.get("From", "")))[1].strip()
    subject = _header_text(message.get("Subject", ""))
    message_id = _text(message.get("Message-ID", "")).strip()
    received_at = _internaldate(items[b"INTERNALDATE"])
    info = MessageInfo(uid, message_id, sender, subject, received_at)
    result.messages += 1
    tag = hashlib.sha256((message_id or f"uid:{uid}:{received_at}").encode()).hexdigest()[:8]
    base = {
        "fetch": result.fetch_id,
        "time": now.isoformat(sep=" "),
        "message_id": message_id,
        "uid": uid,
        "sender": sender,
        "subject": subject,
    }

    def skip(name: str, reason: str) -> None:
        result.skipped.append(SkippedAttachment(name, reason, sender, subject, received_at, message_id, uid))
        records.append({**base, "attachment": name, "result": reason, "file": ""})

    parts = _parts(
        _tokens(items[b"BODYSTRUCTURE"]) if isinstance(items[b"BODYSTRUCTURE"], bytes) else items[b"BODYSTRUCTURE"]
    )
    if not parts:
        result.no_attachment.append(info)
        records.append({**base, "attachment": "", "result": NO_ATTACHMENT, "file": ""})
        _mark(conn, uid, imap)
        result.marked += 1
        return
    unit = contacts.sender_unit(sender, month) if sender else None
    if unit is None:
        for part in parts:
            skip(part.name, _sender_reason(contacts, sender, month))
        result.unmarked.append(info)
        return
    for part in parts:
        if not part.name.lower().endswith(".xlsx"):
            skip(part.name, NOT_XLSX)
            continue
        too_large = f"lớn hơn giới hạn {limit:,} byte".replace(",", ".")
        if _too_large(part, limit):
            skip(part.name, too_large)
            continue
        data = _fetch_part(conn, uid, part, limit)
        if data is None:
            skip(part.name, too_large)
            continue
        _, period = intake.read_identity(data, part.name)
        target_month = period or month
        folder = inbox_root / target_month
        try:
            path, duplicate, warning = _save(folder, data, safe_name(part.name), tag, received_at)
        except OSError as exc:
            log.warning("cannot write into %s: %s", folder, exc)
            raise MailError(
                f"không ghi được tệp vào thư mục {folder} ({exc.strerror or exc}); thư chưa được đánh dấu đã "
                "nhận, chạy lại lệnh sau khi khắc phục.",
                result,
            ) from None
        if warning:
            result.warnings.append(warning)
        if duplicate:
            skip(part.name, DUPLICATE)
            continue
        result.saved.append(
            SavedFile(path, target_month, unit, sender, subject, received_at, message_id, uid, period is not None)
        )
        records.append({**base, "attachment": part.name, "result": SAVED, "file": str(path)})
    _mark(conn, uid, imap)
    result.marked += 1


def _save(folder: Path, data: bytes, name: str, tag: str, at: dt.datetime) -> tuple[Path, bool, str | None]:
    """Write the file (unless the folder has these bytes already) and its received.csv row.

    Returns the file, whether it was there already, and a warning about received.csv.
    """
    folder.mkdir(parents=True, exist_ok=True)
    copy = _existing_copy(folder, data)
    if copy is not None:
        warning = None if _listed(folder, copy.name) else _write_received(folder, copy.name, at)
        return copy, True, warning
    path = _target(folder, name, tag)
    write_atomic(path, data)
    return path, False, _write_received(folder, path.name, at)


def _sender_reason(contacts: Contacts, sender: str, month: str) -> str:
    """Why `sender` names no unit: not in the contacts, or the address of several units."""
    address = sender.strip().casefold()
    units = {
        c.code
        for c in contacts.rows
        if c.code and c.role != "noi_nhan" and c.valid_in(month) and address in (e.casefold() for e in c.emails)
    }
    return SHARED_SENDER if len(units) > 1 else UNKNOWN_SENDER


def _mark(conn: imaplib.IMAP4, uid: str, imap: dict) -> None:
    """Mark a message fetched: the keyword, or moved into fetched_folder."""
    if (imap.get("fetched") or "flag") == "flag":
        flag = str(imap.get("fetched_flag") or DEFAULT_FLAG)
        _check(*conn.uid("STORE", uid, "+FLAGS.SILENT", f"({flag})"), "STORE")
        return
    target = _quote(str(imap.get("fetched_folder") or "dxreport-fetched"))
    conn.create(target)  # fails harmlessly when it exists
    capabilities = {c.upper() for c in conn.capabilities}
    if "MOVE" in capabilities:
        imaplib.Commands.setdefault("MOVE", ("SELECTED",))
        _check(*conn.uid("MOVE", uid, target), "MOVE")
        return
    _check(*conn.uid("COPY", uid, target), "COPY")
    _check(*conn.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
    if "UIDPLUS" in capabilities:
        _check(*conn.uid("EXPUNGE", uid), "EXPUNGE")
    else:
        _check(*conn.expunge(), "EXPUNGE")


__all__ = [
    "DUPLICATE",
    "NOT_XLSX",
    "SHARED_SENDER",
    "UNKNOWN_SENDER",
    "FetchResult",
    "MailError",
    "MessageInfo",
    "SavedFile",
    "SkippedAttachment",
    "fetch",
    "last_fetch",
    "record_path",
    "safe_name",
]
