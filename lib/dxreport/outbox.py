"""Mail to the units and the report's recipients: reminders, feedback copies, the finished report.

`reminders`, `feedback` and `report` build the messages of a month (`Outgoing`); `deliver`
either writes them as .eml files under outputs/<month>/mail/ (the default, a dry run) or sends
them over SMTP (send=True). Every message sent is recorded in outputs/<month>/mail/sent.csv
right after the server accepted it, so a run stopped part-way leaves the record exact and the
next run sends only what was not sent. The password comes from the environment variable named by
settings mail.password_env (or mail.password_file, a file outside the project); it is never
logged nor written anywhere.
"""

from __future__ import annotations

import csv
import email.policy
import errno
import fcntl
import hashlib
import io
import json
import logging
import mimetypes
import os
import smtplib
import ssl
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formataddr, format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from dxreport import store, template
from dxreport.contacts import Contacts, load_contacts
from dxreport.fileio import write_atomic
from dxreport.intake.feedback import _NOT_FEEDBACK, FEEDBACK_DIR, feedback_name
from dxreport.intake.month import deadline
from dxreport.intake.records import SEVERITY_LABELS
from dxreport.intake.tracker import tracker
from dxreport.params import check_month_format, issuer_on, load_settings
from dxreport.paths import PROJECT_ROOT
from dxreport.textnorm import format_month, nfc
from dxreport.units import Registry, load_registry
from dxreport.hashcache import file_sha256

log = logging.getLogger(__name__)

KINDS = ("remind", "feedback", "report")
KIND_LABELS = {"remind": "nhắc nộp", "feedback": "phản hồi", "report": "báo cáo"}
MAIL_DIR = "mail"
FORMS_DIR = "bieu-mau"
RECORD_NAME = "sent.csv"
LOCK_NAME = ".sent.lock"
RECORD_FIELDS = ("message_id", "kind", "unit", "recipients", "sent_at", "attachments_sha256", "status", "error")
#: The province's folder of outputs/<month>/ (report.pdf, annex.xlsx).
PROVINCE_DIR = "tinh"
MANIFEST_NAME = "manifest.json"
#: Statuses of the record after which a message is not sent again without resend.
DONE = ("sent", "partial")
STATUS_LABELS = {
    "dry": "sẽ gửi",
    "sent": "đã gửi",
    "partial": "đã gửi một phần",
    "refused": "bị từ chối",
    "before": "đã gửi trước đó",
    "no_address": "lỗi: thiếu địa chỉ",
    "not_sent": "chưa gửi",
    "error": "lỗi",
}
_DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
TIMEOUT = 60
#: Headers are not folded (up to RFC 5322's 998 characters): folding splits encoded Vietnamese
#: words in ways mail readers show with a space too many or too few.
POLICY = email.policy.default.clone(max_line_length=998)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class OutboxError(RuntimeError):
    """A message or a delivery that cannot go on; the text is for the user (Vietnamese)."""

    def __init__(self, message: str, delivery: Delivery | None = None) -> None:
        super().__init__(message)
        self.delivery = delivery


#: Members of a workbook that change each time it is written (the time it was made), left out of
#: its content hash so that the same form rewritten later is the same message.
_VOLATILE_MEMBERS = ("docProps/core.xml",)


def content_sha256(path: Path) -> str:
    """The SHA-256 of a file's content: of its bytes, or for a workbook (.xlsx) of its members'
    names and bytes without the time it was written."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx" and zipfile.is_zipfile(path):
        digest = hashlib.sha256()
        with zipfile.ZipFile(path) as archive:
            for name in sorted(archive.namelist()):
                if name not in _VOLATILE_MEMBERS:
                    digest.update(name.encode() + b"\0" + archive.read(name) + b"\0")
        return digest.hexdigest()
    return file_sha256(path)


@dataclass
class Outgoing:
    """One message: what kind, to which unit, its recipients, text and attachments."""

    kind: str
    unit: str
    to: list[str]
    cc: list[str]
    subject: str
    body: str
    attachments: list[Path] = field(default_factory=list)
    #: The reporting month (YYYY-MM), part of the Message-ID.
    month: str = field(kw_only=True)
    #: What is wrong with the message (a recipient without an address): shown, never dropped.
    problems: list[str] = field(default_factory=list, kw_only=True)

    @property
    def recipients(self) -> list[str]:
        return list(dict.fromkeys([*self.to, *self.cc]))

    def attachments_sha256(self) -> str:
        """The SHA-256 of each attachment, `;`-separated, in order."""
        return ";".join(file_sha256(Path(p)) for p in self.attachments)

    @property
    def message_id(self) -> str:
        """The same (kind, month, unit, attachments' content) always gives the same Message-ID
        (a form written again on another day included: see content_sha256)."""
        key = "\n".join([self.kind, self.month, self.unit, *(content_sha256(p) for p in self.attachments)])
        return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@dxreport>"

    @property
    def file_name(self) -> str:
        return f"{self.kind}-{self.unit}.eml"

    def message(self, from_address: str = "", from_name: str = "", when: datetime | None = None) -> EmailMessage:
        """The message as an EmailMessage (plain-text body, files attached)."""
        msg = EmailMessage(policy=POLICY)
        if from_address:
            msg["From"] = formataddr((from_name, from_address)) if from_name else from_address
        if self.to:
            msg["To"] = ", ".join(self.to)
        if self.cc:
            msg["Cc"] = ", ".join(self.cc)
        msg["Subject"] = nfc(self.subject)
        msg["Message-ID"] = self.message_id
        if when is not None:
            msg["Date"] = format_datetime(when)
        msg.set_content(nfc(self.body))
        for path in self.attachments:
            path = Path(path)
            ctype, _ = mimetypes.guess_type(path.name)
            if path.suffix.lower() == ".xlsx":
                ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            maintype, subtype = (ctype or "application/octet-stream").split("/", 1)
            msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=nfc(path.name))
        return msg


# --------------------------------------------------------------------------- building messages


def _context(month, outputs, registry, contacts, settings):
    check_month_format(month)
    registry = registry or load_registry()
    settings = settings or load_settings()
    contacts = contacts if contacts is not None else load_contacts(registry=registry)
    return Path(outputs), registry, contacts, settings


def _warehouse_month(outputs: Path, month: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """(submissions, facts, issues) of `month` from the warehouse of `outputs`; Nones when it does not hold it."""
    path = store.warehouse_path(outputs)
    if not store.holds_month(path, month):
        return None, None, None
    with store.connect(path, read_only=True) as con:
        return store.submissions_frame(con, month), store.facts_frame(con, month), store.issues_frame(con, month)


def _signature(settings: dict, day: date) -> str:
    """The closing of a message: the issuer in force on `day` as the report's header writes it,
    the sender's name and address of mail.smtp."""
    issuer = issuer_on(settings["report"]["issuers"], day)
    smtp = (settings.get("mail") or {}).get("smtp") or {}
    lines = [issuer["issuing_body_parent"], issuer["issuing_body"]]
    if smtp.get("from_name"):
        lines.append(smtp["from_name"])
    if smtp.get("from_address"):
        lines.append(f"Thư điện tử: {smtp['from_address']}")
    return "\n".join(lines)


def _department(registry: Registry, settings: dict, day: date, month: str) -> str:
    """The issuing department as a sentence names it: its name in the registry (`Sở Khoa học và
    Công nghệ`), else `Sở`."""
    body = issuer_on(settings["report"]["issuers"], day)["issuing_body"].casefold()
    for unit in registry.units:
        if unit.valid_in(month) and unit.name.casefold() == body:
            return unit.name
    return "Sở"


def _no_address(contacts: Contacts, name: str, code: str = "") -> str:
    who = f"{name} ({code})" if code else name
    return f"{who} chưa có địa chỉ thư điện tử trong {contacts.path or 'params/contacts.csv'}"


def _issue_line(issue: dict) -> str:
    where = [f"tệp {issue['file_name']}"] if _text(issue.get("file_name")) else []
    if _text(issue.get("sheet")):
        where.append(f"biểu {issue['sheet']}")
    if _text(issue.get("cell")):
        where.append(f"ô {issue['cell']}")
    label = SEVERITY_LABELS.get(issue.get("severity"), issue.get("severity") or "")
    place = ", ".join(where)
    return f"- [{label}] {place + ': ' if place else ''}{issue['message']}"


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def reminders(
    month: str,
    *,
    outputs: Path,
    registry: Registry | None = None,
    contacts: Contacts | None = None,
    settings: dict | None = None,
    today: date | None = None,
) -> list[Outgoing]:
    """One reminder per reporting unit of `month` without an accepted file (none received, or
    every file rejected), with its pre-filled form attached (written under outputs/<month>/mail/).
    After the deadline the unit's head (role lanh_dao) is copied."""
    outputs, registry, contacts, settings = _context(month, outputs, registry, contacts, settings)
    today = today or datetime.now(TZ).date()
    subs, facts, issues = _warehouse_month(outputs, month)
    track = tracker(month, registry, subs, facts)
    due = deadline(month, settings["submission"]["deadline_day"])
    period = format_month(month)
    signature = _signature(settings, today)
    department = _department(registry, settings, today, month)
    forms_dir = outputs / month / MAIL_DIR / FORMS_DIR
    warehouse = store.warehouse_path(outputs)
    out = []
    for row in track.to_dict("records"):
        if row["status"] not in ("missing", "rejected"):
            continue
        code, name = row["unit"], row["unit_name"]
        if row["status"] == "missing":
            missing = [f"Đến nay {department} chưa nhận được báo cáo tháng {period} của đơn vị."]
        else:
            missing = [f"Tệp {row['file_name']} đơn vị gửi không được tiếp nhận vì:"]
            mine = issues[(issues["submission_id"] == row["submission_id"]) & (issues["severity"] == "error")]
            missing += [_issue_line(i) for i in mine.to_dict("records")] or ["- tệp không đọc được."]
        if row["sections_not_reported"]:
            missing.append(f"Các biểu chưa có số liệu: {row['sections_not_reported']}.")
        form = forms_dir / f"bieu_mau_{month}_{code}.xlsx"
        previous = template.previous_platforms(warehouse, month, code)
        template.write_template(month, code, form, registry=registry, settings=settings, previous_platforms=previous)
        to = contacts.addresses(code, month, "gui_bao_cao")
        cc = [a for a in contacts.addresses(code, month, "lanh_dao") if a not in to] if today > due else []
        body = "\n".join(
            [
                f"Kính gửi: {name}",
                "",
                f"{department} đề nghị {name} gửi báo cáo mức độ sử dụng các nền tảng số tháng {period} "
                f"chậm nhất ngày {due:%d/%m/%Y}.",
                "",
                *missing,
                "",
                f"Biểu mẫu tháng {period} của đơn vị (đã điền sẵn thông tin đơn vị) được gửi kèm thư này. "
                "Đơn vị điền số liệu và gửi lại tệp Excel qua thư điện tử.",
                "",
                "Trân trọng./.",
                "",
                signature,
            ]
        )
        out.append(
            Outgoing(
                kind="remind",
                unit=code,
                month=month,
                to=to,
                cc=cc,
                subject=f"Đề nghị gửi báo cáo sử dụng nền tảng số tháng {period} – {name}",
                body=body,
                attachments=[form],
                problems=[] if to else [_no_address(contacts, name, code)],
            )
        )
    return out


def feedback(
    month: str,
    *,
    outputs: Path,
    registry: Registry | None = None,
    contacts: Contacts | None = None,
    settings: dict | None = None,
    today: date | None = None,
) -> list[Outgoing]:
    """One message per unit whose files of `month` have errors or warnings, with the feedback
    copies of outputs/<month>/feedback/ attached and the problems listed as on the validation page."""
    outputs, registry, contacts, settings = _context(month, outputs, registry, contacts, settings)
    today = today or datetime.now(TZ).date()
    subs, _, issues = _warehouse_month(outputs, month)
    if subs is None or issues is None or not len(issues):
        return []
    period = format_month(month)
    signature = _signature(settings, today)
    department = _department(registry, settings, today, month)
    folder = outputs / month / FEEDBACK_DIR
    mine = issues[~issues["rule"].isin(_NOT_FEEDBACK) & issues["unit"].notna()]
    live = subs[subs["status"] != "superseded"]
    out = []
    for unit in registry.reporting_units(month):
        files = live[live["unit"] == unit.code]
        found = mine[mine["submission_id"].isin(files["submission_id"])]
        if found.empty:
            continue
        attachments, problems = [], []
        for sub in files[files["submission_id"].isin(found["submission_id"])].to_dict("records"):
            copy = folder / feedback_name(unit.code, sub["file_name"])
            if copy.exists():
                attachments.append(copy)
            else:
                problems.append(f"chưa có bản phản hồi {copy.name}; chạy lại bước kiểm tra của tháng {month}")
        errors = int((found["severity"] == "error").sum())
        warnings = len(found) - errors
        to = contacts.addresses(unit.code, month, "gui_bao_cao")
        if not to:
            problems.insert(0, _no_address(contacts, unit.name, unit.code))
        body = "\n".join(
            [
                f"Kính gửi: {unit.name}",
                "",
                f"{department} đã kiểm tra báo cáo tháng {period} của đơn vị: {errors} lỗi, {warnings} cảnh báo.",
                "Bản phản hồi gửi kèm đánh dấu các ô cần xem lại (trang “Cần sửa”). Chi tiết:",
                "",
                *[_issue_line(i) for i in found.to_dict("records")],
                "",
                "Đề nghị đơn vị sửa các lỗi và gửi lại tệp Excel"
                + (" trước khi báo cáo tháng được tổng hợp." if errors else "; các cảnh báo đề nghị kiểm tra lại."),
                "",
                "Trân trọng./.",
                "",
                signature,
            ]
        )
        out.append(
            Outgoing(
                kind="feedback",
                unit=unit.code,
                month=month,
                to=to,
                cc=[],
                subject=f"Kết quả kiểm tra báo cáo tháng {period} – {unit.name}",
                body=body,
                attachments=attachments,
                problems=problems,
            )
        )
    return out


def report(
    month: str,
    *,
    outputs: Path,
    registry: Registry | None = None,
    contacts: Contacts | None = None,
    settings: dict | None = None,
    today: date | None = None,
) -> list[Outgoing]:
    """The province report of `month` (report.pdf and annex.xlsx of outputs/<month>/tinh/, as the
    month's manifest.json names them) to the "Nơi nhận" of the issuer in force on the report's
    date (the run's report_date, else the first day of the following month), at their addresses
    of that month. OutboxError when the report is not there or its run failed."""
    outputs, registry, contacts, settings = _context(month, outputs, registry, contacts, settings)
    month_dir = outputs / month
    entry, report_date = _manifest_entry(month_dir)
    whole = registry.in_sentence(registry.province(month))
    if entry.get("status") == "failed" or entry.get("error"):
        raise OutboxError(
            f"báo cáo tháng {format_month(month)} của {whole} lập không thành công "
            f"({entry.get('error') or 'xem manifest.json'}); chạy lại dxreport run --month {month}"
        )
    files = [
        month_dir / entry.get("pdf", f"{PROVINCE_DIR}/report.pdf"),
        month_dir / entry.get("annex", f"{PROVINCE_DIR}/annex.xlsx"),
    ]
    absent = [f.name for f in files if not f.exists()]
    if absent:
        raise OutboxError(
            f"chưa có báo cáo tháng {format_month(month)} của {whole} ({', '.join(absent)} không có trong "
            f"{month_dir / PROVINCE_DIR}); chạy dxreport run --month {month} trước"
        )
    year, mm = int(month[:4]), int(month[5:])
    issued = report_date or date(year + (mm == 12), mm % 12 + 1, 1)
    issuer = issuer_on(settings["report"]["issuers"], issued)
    to, problems = [], []
    for name in issuer["recipients"]:
        found = contacts.recipient(name, f"{issued:%Y-%m}")
        if not found:
            problems.append(_no_address(contacts, name))
        to += [a for a in found if a not in to]
    period = format_month(month)
    body = "\n".join(
        [
            "Kính gửi: " + "; ".join(issuer["recipients"]),
            "",
            f"{_department(registry, settings, issued, month)} gửi báo cáo mức độ sử dụng các nền tảng số "
            f"tháng {period} (tệp PDF) và phụ lục số liệu (tệp Excel) kèm theo thư này.",
            "",
            "Trân trọng./.",
            "",
            _signature(settings, issued),
        ]
    )
    return [
        Outgoing(
            kind="report",
            unit=PROVINCE_DIR,
            month=month,
            to=to,
            cc=[],
            subject=f"Báo cáo mức độ sử dụng các nền tảng số tháng {period}",
            body=body,
            attachments=files,
            problems=problems,
        )
    ]


def _manifest_entry(month_dir: Path) -> tuple[dict, date | None]:
    """The province's entry of outputs/<month>/manifest.json and the run's report date ({} and
    None without a manifest)."""
    path = month_dir / MANIFEST_NAME
    if not path.exists():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutboxError(f"không đọc được {path}: {exc}") from None
    entry = (data.get("units") or {}).get(PROVINCE_DIR) or {}
    day = str((data.get("parameters") or {}).get("report_date") or "")
    try:
        return entry, date.fromisoformat(day) if day else None
    except ValueError:
        return entry, None


# --------------------------------------------------------------------------- delivering


@dataclass
class Outcome:
    """What became of one message in a delivery."""

    outgoing: Outgoing
    status: str
    detail: str = ""
    path: Path | None = None


@dataclass
class Delivery:
    """The messages of one delivery and what became of each."""

    month: str
    sent: bool
    outcomes: list[Outcome] = field(default_factory=list)

    def table(self) -> str:
        """Who receives (or would receive) what, as a Vietnamese text table."""
        head = ("Loại", "Đơn vị", "Người nhận", "Tệp đính kèm", "Trạng thái")
        rows = [
            (
                KIND_LABELS.get(o.outgoing.kind, o.outgoing.kind),
                o.outgoing.unit,
                ", ".join(o.outgoing.recipients) or "–",
                ", ".join(Path(p).name for p in o.outgoing.attachments) or "–",
                STATUS_LABELS.get(o.status, o.status) + (f" ({o.detail})" if o.detail else ""),
            )
            for o in self.outcomes
        ]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def mail_dir(outputs: Path, month: str) -> Path:
    return Path(outputs) / month / MAIL_DIR


def read_record(outputs: Path, month: str) -> list[dict[str, str]]:
    """The rows of outputs/<month>/mail/sent.csv ([] when there is none)."""
    path = mail_dir(outputs, month) / RECORD_NAME
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_record(outputs: Path, month: str, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RECORD_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row.get(k, "") for k in RECORD_FIELDS} for row in rows)
    write_atomic(mail_dir(outputs, month) / RECORD_NAME, buf.getvalue())


def smtp_password(settings: dict) -> str | None:
    """The SMTP password: the environment variable named by mail.password_env, else the file
    mail.password_file (outside the project). None when neither gives one."""
    mail = settings.get("mail") or {}
    env = mail.get("password_env")
    if env and os.environ.get(env):
        return os.environ[env]
    file = mail.get("password_file")
    if file:
        path = Path(file).expanduser().resolve()
        if path.is_relative_to(PROJECT_ROOT.resolve()):
            raise OutboxError(f"tệp mật khẩu thư {file} nằm trong thư mục dự án; hãy để nó ở ngoài thư mục dự án")
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise OutboxError(f"không đọc được tệp mật khẩu thư {file}: {exc.strerror or exc}") from None
    return None


def _connect(smtp: dict, password: str | None) -> smtplib.SMTP:
    host = smtp.get("host")
    tls = smtp.get("tls", "ssl")
    port = int(smtp.get("port") or _DEFAULT_PORTS[tls])
    context = ssl.create_default_context(cafile=smtp.get("cafile") or None)
    try:
        if tls == "ssl":
            server = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT)
            if tls == "starttls":
                server.starttls(context=context)
        if smtp.get("user"):
            if not password:
                server.close()
                raise OutboxError(
                    "thiếu mật khẩu thư: đặt biến môi trường ghi trong mail.password_env của params/settings.yaml "
                    "(hoặc tệp mail.password_file ngoài thư mục dự án)"
                )
            server.login(smtp["user"], password)
    except smtplib.SMTPAuthenticationError:
        raise OutboxError(f"máy chủ thư {host} từ chối đăng nhập của {smtp.get('user')}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise OutboxError(f"không kết nối được máy chủ thư {host}:{port} ({type(exc).__name__})") from None
    return server


def deliver(
    messages: list[Outgoing],
    month: str,
    *,
    outputs: Path,
    send: bool = False,
    resend: bool = False,
    settings: dict | None = None,
    password: str | None = None,
) -> Delivery:
    """Write each message as outputs/<month>/mail/<kind>-<unit>.eml; with send=True also send the
    ones not yet recorded in sent.csv (all with resend=True) and record each right after it is sent.

    An address on a `.invalid` domain is never sent to. A recipient the server refuses is
    recorded (status partial or refused) and the others go on; a server that cannot be reached or
    drops the connection stops the delivery with OutboxError after recording what was sent.
    """
    check_month_format(month)
    outputs = Path(outputs)
    settings = settings or load_settings()
    smtp = (settings.get("mail") or {}).get("smtp") or {}
    folder = mail_dir(outputs, month)
    folder.mkdir(parents=True, exist_ok=True)
    delivery = Delivery(month, send)
    pending = []
    for out in messages:
        path = folder / out.file_name
        write_atomic(path, out.message(smtp.get("from_address", ""), smtp.get("from_name", "")).as_bytes())
        if not send:
            status = "no_address" if not out.recipients else "dry"
            notes = list(out.problems)
            invalid = [a for a in out.recipients if _placeholder(a)]
            if invalid:
                notes.append(
                    f"địa chỉ mẫu {', '.join(invalid)} sẽ không được gửi tới; cần đặt địa chỉ trong params/contacts.csv"
                )
            delivery.outcomes.append(Outcome(out, status, "; ".join(notes), path))
        else:
            pending.append((out, path))
    if not send:
        log.info("thư tháng %s: %d thư ghi ra %s (chưa gửi)", month, len(messages), folder)
        return delivery
    with _send_lock(folder):
        _send(pending, delivery, outputs, month, folder, smtp, settings, password, resend)
    return delivery


@contextmanager
def _send_lock(folder: Path):
    """Hold outputs/<month>/mail/.sent.lock while sending, so that two deliveries of a month
    never send the same message; OutboxError when another one holds it."""
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise OutboxError(
                f"một lệnh gửi thư khác đang gửi thư của {folder}; hãy đợi lệnh đó xong rồi chạy lại"
            ) from None
        yield
    finally:
        os.close(fd)


def _send(pending, delivery, outputs, month, folder, smtp, settings, password, resend) -> None:
    record = read_record(outputs, month)
    done = {r["message_id"] for r in record if r.get("status") in DONE}
    server = None
    try:
        for i, (out, path) in enumerate(pending):
            mid = out.message_id
            if mid in done and not resend:
                delivery.outcomes.append(Outcome(out, "before", "", path))
                continue
            invalid = [a for a in out.recipients if _placeholder(a)]
            targets = [a for a in out.recipients if a not in invalid]
            notes = list(out.problems)
            if invalid:
                notes.append(
                    f"địa chỉ {', '.join(invalid)} chưa phải địa chỉ thật; cần đặt địa chỉ trong params/contacts.csv"
                )
            if not targets:
                delivery.outcomes.append(Outcome(out, "no_address", "; ".join(notes), path))
                continue
            if server is None:
                try:
                    server = _connect(smtp, password if password is not None else smtp_password(settings))
                except OutboxError as exc:
                    delivery.outcomes += [Outcome(o, "not_sent", "", p) for o, p in pending[i:]]
                    raise OutboxError(str(exc), delivery) from None
            now = datetime.now(TZ)
            msg = out.message(smtp.get("from_address", ""), smtp.get("from_name", ""), when=now)
            try:
                refused = server.send_message(msg, from_addr=smtp.get("from_address"), to_addrs=targets)
            except smtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code < 500:
                    _stop(delivery, pending, i, smtp, folder, exc)
                # the server refused this message for good (sender, size, content): the others go on
                refused = dict.fromkeys(targets, (exc.smtp_code, exc.smtp_error))
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                _stop(delivery, pending, i, smtp, folder, exc)
            refused = {a: v for a, v in (refused or {}).items()}
            bad = [*invalid, *refused]
            status = "sent" if not bad else "refused" if len(refused) == len(targets) else "partial"
            error = "; ".join([*(f"{a}: {code} {_decode(text)}" for a, (code, text) in refused.items()), *notes])
            record.append(
                {
                    "message_id": mid,
                    "kind": out.kind,
                    "unit": out.unit,
                    "recipients": ";".join(a for a in targets if a not in refused),
                    "sent_at": now.isoformat(timespec="seconds"),
                    "attachments_sha256": out.attachments_sha256(),
                    "status": status,
                    "error": error,
                }
            )
            _write_record(outputs, month, record)
            log.info("thư %s gửi %s: %s", out.file_name, ", ".join(targets), status)
            delivery.outcomes.append(Outcome(out, status, error, path))
    finally:
        if server is not None:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()


def _stop(delivery: Delivery, pending: list, i: int, smtp: dict, folder: Path, exc: BaseException) -> None:
    """End a delivery whose server went away while sending pending[i]."""
    out, path = pending[i]
    delivery.outcomes.append(Outcome(out, "error", type(exc).__name__, path))
    delivery.outcomes += [Outcome(o, "not_sent", "", p) for o, p in pending[i + 1 :]]
    raise OutboxError(
        f"máy chủ thư {smtp.get('host')} ngắt kết nối khi gửi thư {out.file_name}; "
        f"các thư đã gửi được ghi trong {folder / RECORD_NAME}, chạy lại để gửi các thư còn lại",
        delivery,
    ) from None


def _placeholder(address: str) -> bool:
    """An address on a `.invalid` domain (RFC 2606): a placeholder, never sent to."""
    return address.strip().lower().rstrip(".").endswith(".invalid")


def _decode(text: object) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
