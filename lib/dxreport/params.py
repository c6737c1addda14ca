"""Run parameters and the params/ files: loading and strict validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dxreport import units as units_mod
from dxreport.months import following, is_month, last_day, previous, span
from dxreport.paramcheck import check_mapping, read_yaml
from dxreport.paths import (  # noqa: F401 - the project's folders are also read as params.X
    DATA_DIR,
    NOTEBOOKS_DIR,
    OUTPUTS_DIR,
    PARAMS_DIR,
    PROJECT_ROOT,
    SCRATCH_DIR,
    SOURCES_FILE,
    WAREHOUSE_NAME,
    ParamError,
    shown_path,
)

PROVINCE = "tinh"
#: The department's time zone: "today" of a run (the report date's default and limit) is Huế's.
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# The only parameters a notebook accepts; anything else is refused. Every notebook declares the
# first four; 01_scrape also declares the catalog options, 04_report the report date.
RUN_PARAMETERS = ("month", "unit", "inbox", "outputs", "sources", "offline", "report_date")
COMMON_PARAMETERS = RUN_PARAMETERS[:4]
#: What a notebook may declare: the run parameters, and the staging folder the runner gives 04_report
#: (checked by report.load to lie inside outputs/<month>/.staging/).
NOTEBOOK_PARAMETERS = RUN_PARAMETERS + ("stage",)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class RunParams:
    """Validated parameters of one notebook run."""

    month: str
    unit: str
    inbox: Path | None  # the folder the user named (resolved); None: not named (data/inbox or the sample)
    outputs: Path
    sources: Path = SOURCES_FILE
    offline: bool = False
    report_date: date | None = None  # the date printed under the national motto; None: see check_report_date

    def source(self) -> "MonthSource":
        """Where this run's month comes from (resolve_month); `.describe()` says it in one line."""
        return resolve_month(self.month, self.inbox)

    def as_notebook_parameters(self) -> dict[str, object]:
        """The values papermill injects (plain strings and a bool, readable in the notebook)."""
        return {
            "month": self.month,
            "unit": self.unit,
            "inbox": str(self.inbox) if self.inbox else "",
            "outputs": str(self.outputs),
            "sources": str(self.sources),
            "offline": self.offline,
            "report_date": self.report_date.isoformat() if self.report_date else "",
        }


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _texts(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(_text(x) for x in value)


def _int_in(low: int, high: int | None = None):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low and (high is None or v <= high)


# section -> key -> (required, what it must be, test); the section catalog is catalog.thresholds's
SETTINGS_RULES: dict[str, dict[str, tuple[bool, str, object]]] = {
    "report": {
        "issuers": (
            True,
            "danh sách cơ quan ban hành theo thời kỳ, ít nhất một (from, issuing_body_parent, issuing_body, "
            "number_suffix, place, recipients)",
            lambda v: isinstance(v, list) and bool(v),
        ),
        "unit_recipients": (
            True,
            "danh sách nơi nhận báo cáo của một đơn vị, ít nhất một, mỗi nơi là chữ ({unit}: tên đơn vị)",
            _texts,
        ),
        "archive": (True, "danh sách nơi lưu, ít nhất một, mỗi nơi là chữ (ví dụ [VT, CNTT])", _texts),
        "signer": (True, "bảng người ký (authority, title, name)", lambda v: isinstance(v, dict)),
    },
    "submission": {
        "deadline_day": (True, "số nguyên 1–28", _int_in(1, 28)),
        "form_version": (False, "số nguyên ≥ 1", _int_in(1)),
        "max_file_bytes": (True, "số nguyên ≥ 1", _int_in(1)),
        "max_rows_per_sheet": (True, "số nguyên ≥ 1", _int_in(1)),
        "reader": (False, "calamine hoặc openpyxl", lambda v: v in ("calamine", "openpyxl")),
    },
    "sample": {
        "first_month": (True, 'tháng dạng "YYYY-MM"', is_month),
        "last_month": (True, 'tháng dạng "YYYY-MM"', is_month),
        "seed": (True, "số nguyên ≥ 0", _int_in(0)),
    },
    "catalog": {},
    "run": {
        "kernel_start_timeout": (False, "số giây > 0", lambda v: _number(v) and v > 0),
        "cell_timeout": (False, "số giây > 0", lambda v: _number(v) and v > 0),
        "infra_retries": (False, "số nguyên 0–10", _int_in(0, 10)),
        "retry_backoff": (False, "số giây ≥ 0", lambda v: _number(v) and v >= 0),
    },
    "mail": {
        "imap": (
            False,
            "bảng máy chủ nhận thư (host, port, tls, user, folder, fetched, …)",
            lambda v: isinstance(v, dict),
        ),
        "smtp": (
            False,
            "bảng máy chủ gửi thư (host, port, tls, user, from_address, from_name)",
            lambda v: isinstance(v, dict),
        ),
        "password_env": (False, "tên biến môi trường chứa mật khẩu thư, chữ", _text),
        "password_file": (False, "đường dẫn tệp chứa mật khẩu thư, ngoài thư mục dự án", _text),
    },
}
#: settings.yaml, mail.imap: where units' files are fetched from (dxreport mail fetch).
IMAP_RULES: dict[str, tuple[bool, str, object]] = {
    "host": (True, "tên máy chủ IMAP, chữ", _text),
    "port": (False, "số cổng 1–65535", _int_in(1, 65535)),
    "tls": (False, "ssl (IMAPS) hoặc starttls", lambda v: v in ("ssl", "starttls")),
    "user": (True, "tên đăng nhập, chữ", _text),
    "folder": (False, "thư mục thư đến, chữ (mặc định INBOX)", _text),
    "fetched": (False, "flag (gắn cờ) hoặc move (chuyển thư mục)", lambda v: v in ("flag", "move")),
    "fetched_flag": (False, "tên cờ IMAP, chữ (mặc định $DxreportFetched)", _text),
    "fetched_folder": (False, "thư mục chuyển thư đã nhận vào, chữ", _text),
    "cafile": (False, "tệp chứng chỉ CA của máy chủ, chữ", _text),
}
#: settings.yaml, mail.smtp: how reminders, feedback and the report are sent (dxreport mail …).
SMTP_RULES: dict[str, tuple[bool, str, object]] = {
    "host": (True, "tên máy chủ SMTP, chữ", _text),
    "port": (False, "số cổng 1–65535", _int_in(1, 65535)),
    "tls": (False, "ssl, starttls hoặc none", lambda v: v in ("ssl", "starttls", "none")),
    "user": (False, "tên đăng nhập, chữ (bỏ trống: không đăng nhập)", _text),
    "from_address": (True, "địa chỉ gửi, chữ", _text),
    "from_name": (False, "tên người gửi, chữ", _text),
    "cafile": (False, "tệp chứng chỉ CA của máy chủ, chữ", _text),
}
_OPTIONAL_SECTIONS = ("catalog", "run", "mail")
#: settings.yaml, report.issuers[i]: who issues the report from a date on (the merger of 2025-03-01
#: made Sở Khoa học và Công nghệ the issuer; the city of 2025-01-01 changed the parent and place).
ISSUER_RULES: dict[str, tuple[bool, str, object]] = {
    "from": (True, 'ngày bắt đầu, dạng "YYYY-MM-DD"', lambda v: _is_day(v)),
    "issuing_body_parent": (True, "chữ, không rỗng", _text),
    "issuing_body": (True, "chữ, không rỗng", _text),
    "number_suffix": (True, "chữ, không rỗng", _text),
    "place": (True, "chữ, không rỗng", _text),
    "recipients": (True, "danh sách nơi nhận, ít nhất một, mỗi nơi là chữ", _texts),
}
#: settings.yaml, report.signer: who signs the report (Nghị định 30/2020/NĐ-CP, Phụ lục I).
SIGNER_RULES: dict[str, tuple[bool, str, object]] = {
    "authority": (False, 'quyền hạn ký, chữ (ví dụ "KT. GIÁM ĐỐC"); bỏ khóa này khi người đứng đầu ký', _text),
    "title": (True, 'chức vụ người ký, chữ (ví dụ "PHÓ GIÁM ĐỐC")', _text),
    "name": (True, "họ và tên người ký, chữ", _text),
}


def _is_day(value: object) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return len(str(value)) == 10


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def load_settings(params_dir: Path = PARAMS_DIR) -> dict:
    """params/settings.yaml as a dict, checked completely (SETTINGS_RULES).

    ParamError names the file, the line and the key: "params/settings.yaml, dòng 10: thiếu khóa
    submission.deadline_day (số nguyên 1–28)". The keys of section catalog are checked by
    catalog.thresholds.
    """
    doc = read_yaml(Path(params_dir) / "settings.yaml")
    data = check_mapping(doc, (), SETTINGS_RULES)
    for section, rules in SETTINGS_RULES.items():
        if section not in data:
            if section not in _OPTIONAL_SECTIONS:
                doc.fail((), f"thiếu mục {section} (các mục: {', '.join(SETTINGS_RULES)})")
            continue
        if section in _OPTIONAL_SECTIONS and not rules:
            if data[section] is not None and not isinstance(data[section], dict):
                doc.fail((section,), f"{section} phải là một bảng khóa: giá trị")
            continue
        values = check_mapping(doc, (section,), rules)
        if not values:
            doc.fail((section,), f"mục {section} trống; cần: {', '.join(k for k, r in rules.items() if r[0])}")
        _check_keys(doc, (section,), values, rules)
        if section == "mail":
            for key, rules in (("imap", IMAP_RULES), ("smtp", SMTP_RULES)):
                if key in values:
                    _check_keys(doc, ("mail", key), check_mapping(doc, ("mail", key), rules), rules)
        if section == "report":
            _check_keys(doc, ("report", "signer"), check_mapping(doc, ("report", "signer"), SIGNER_RULES), SIGNER_RULES)
            previous = None
            for i, _ in enumerate(values["issuers"]):
                keys = ("report", "issuers", i)
                issuer = check_mapping(doc, keys, ISSUER_RULES, label=f"report.issuers[{i + 1}]")
                if not issuer:
                    doc.fail(keys, f"report.issuers[{i + 1}] phải là một bảng khóa: giá trị")
                _check_keys(doc, keys, issuer, ISSUER_RULES)
                start = str(issuer["from"])
                issuer["from"] = start
                if previous is not None and start <= previous:
                    doc.fail(
                        (*keys, "from"), f"report.issuers[{i + 1}].from {start} phải sau {previous} của dòng trước"
                    )
                previous = start
    sample = data["sample"]
    if sample["first_month"] > sample["last_month"]:
        doc.fail(
            ("sample", "last_month"),
            f"sample.last_month {sample['last_month']} trước sample.first_month {sample['first_month']}",
        )
    return data


def _check_keys(doc, keys: tuple, values: dict, rules: dict) -> None:
    name = ".".join(str(k) for k in keys if not isinstance(k, int))
    name += "".join(f"[{k + 1}]" for k in keys if isinstance(k, int))
    for key, (required, what, test) in rules.items():
        if key not in values:
            if required:
                doc.fail(keys, f"thiếu khóa {name}.{key} ({what})")
        elif not test(values[key]):
            doc.fail((*keys, key), f"{name}.{key} phải là {what}, không phải {values[key]!r}")


@dataclass(frozen=True)
class SignerSettings:
    """settings.yaml, report.signer: the signature block (quyền hạn, chức vụ, họ tên)."""

    title: str
    name: str
    authority: str | None = None


@dataclass(frozen=True)
class IssuerSettings:
    """settings.yaml, report.issuers[i]: who issues the report from `start` on."""

    start: str
    issuing_body_parent: str
    issuing_body: str
    number_suffix: str
    place: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class ReportSettings:
    """settings.yaml, section report: the heading and the closing of the report."""

    issuers: tuple[IssuerSettings, ...]
    unit_recipients: tuple[str, ...]
    archive: tuple[str, ...]
    signer: SignerSettings

    def issuer_on(self, day: date) -> IssuerSettings:
        """The issuer of a report signed on `day` (the first issuer for an earlier day)."""
        return issuer_on(self.issuers, day)


def issuer_on(issuers, day: date):
    """The entry of `issuers` (dicts with "from", or IssuerSettings) in force on `day`."""
    chosen = issuers[0]
    for issuer in issuers:
        start = issuer["from"] if isinstance(issuer, dict) else issuer.start
        if str(start) <= day.isoformat():
            chosen = issuer
    return chosen


@dataclass(frozen=True)
class SubmissionSettings:
    """settings.yaml, section submission: the deadline and the limits of a submitted file."""

    deadline_day: int
    max_file_bytes: int
    max_rows_per_sheet: int
    form_version: int | None = None
    reader: str | None = None


@dataclass(frozen=True)
class SampleSettings:
    """settings.yaml, section sample: the months of the embedded sample and its seed."""

    first_month: str
    last_month: str
    seed: int


@dataclass(frozen=True)
class Settings:
    """params/settings.yaml, checked and typed (the catalog section as written; see catalog.thresholds)."""

    report: ReportSettings
    submission: SubmissionSettings
    sample: SampleSettings
    catalog: dict[str, float]


def settings(params_dir: Path = PARAMS_DIR) -> Settings:
    """params/settings.yaml as typed values (load_settings gives the same as a dict)."""
    data = load_settings(params_dir)
    rep = data["report"]
    report = dict(
        rep,
        issuers=tuple(
            IssuerSettings(
                start=i["from"],
                **{k: (tuple(v) if k == "recipients" else v) for k, v in i.items() if k != "from"},
            )
            for i in rep["issuers"]
        ),
        unit_recipients=tuple(rep["unit_recipients"]),
        archive=tuple(rep["archive"]),
        signer=SignerSettings(**rep["signer"]),
    )
    return Settings(
        report=ReportSettings(**report),
        submission=SubmissionSettings(**data["submission"]),
        sample=SampleSettings(**data["sample"]),
        catalog=dict(data.get("catalog") or {}),
    )


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` inclusive, as YYYY-MM."""
    return span(check_month_format(first), check_month_format(last))


def previous_month(month: str) -> str:
    """The month before `month`."""
    return previous(check_month_format(month))


def check_month_format(month: object) -> str:
    """`month` if it is a YYYY-MM string, else ParamError."""
    if not is_month(month):
        raise ParamError(f"tháng {month!r} không đúng dạng YYYY-MM (ví dụ 2022-09)")
    return month


def sample_months(params_dir: Path = PARAMS_DIR) -> list[str]:
    """The months the embedded sample data covers."""
    sample = load_settings(params_dir)["sample"]
    return month_range(sample["first_month"], sample["last_month"])


def month_list(months: list[str]) -> str:
    """Months for a message, runs of three or more consecutive months shortened:
    `2022-01 đến 2026-11, 2030-02`."""
    runs: list[list[str]] = []
    for month in sorted(months):
        if runs and following(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(f"{r[0]} đến {r[-1]}" if len(r) >= 3 else ", ".join(r) for r in runs)


def inbox_months(inbox: Path | None) -> list[str]:
    """Months that have a folder of submissions in the inbox root `inbox` (None: none)."""
    if inbox is None:
        return []
    inbox = Path(inbox)
    if not inbox.is_dir():
        return []
    return sorted(p.name for p in inbox.iterdir() if p.is_dir() and is_month(p.name))


def available_months(inbox: Path | None = None, params_dir: Path = PARAMS_DIR) -> list[str]:
    """Months a run may ask for.

    With a named inbox: the months of its root (never the sample). Not named: the months of
    data/inbox and those of the sample.
    """
    if inbox:
        inbox = Path(inbox).resolve()
        if is_month(inbox.name) and not (inbox / inbox.name).is_dir():
            return inbox_months(inbox.parent)
        return inbox_months(inbox)
    return sorted(set(inbox_months(DATA_DIR / "inbox")) | set(sample_months(params_dir)))


# --------------------------------------------------------------------------- where a month's files are

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class MonthSource:
    """Where a month's submissions come from.

    `folder` holds the month's workbooks (for the sample: data/sample/<month>, generated on
    first use by steps.month_folder). `root` is the inbox root whose YYYY-MM folders hold the other
    months (history); None for the sample and for a named folder that holds the workbooks
    directly under another name. `named` says whether the user named an inbox.
    """

    month: str
    folder: Path
    is_sample: bool
    named: bool
    root: Path | None

    def describe(self) -> str:
        """One Vietnamese line saying where the month's data comes from."""
        if self.is_sample:
            return (
                f"Dữ liệu tháng {self.month}: DỮ LIỆU MẪU (không có thư mục {shown_path(DATA_DIR / 'inbox' / self.month)}/"
                " và không chỉ định --inbox)"
            )
        count = len(workbooks(self.folder))
        who = "chỉ định bằng --inbox" if self.named else "thư mục nhận báo cáo mặc định"
        return f"Dữ liệu tháng {self.month}: {count} tệp báo cáo trong {shown_path(self.folder)}/ ({who})"


def workbooks(folder: Path) -> list[Path]:
    """The workbook files (.xlsx, .xlsm) directly in `folder`, hidden and Excel lock files left out."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in WORKBOOK_SUFFIXES and not p.name.startswith((".", "~$"))
    )


def _holds_workbooks(folder: Path, month: str, named: bool) -> Path:
    if workbooks(folder):
        return folder
    others = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    found = f" (chỉ có: {', '.join(others[:5])}{', …' if len(others) > 5 else ''})" if others else ""
    flag = " (--inbox)" if named else ""
    raise ParamError(
        f"thư mục tháng {month} {shown_path(folder)}/{flag} không có tệp báo cáo .xlsx nào{found}: "
        f"đặt các tệp báo cáo tháng {month} vào đó"
    )


def resolve_month(month: str, inbox: Path | str | None = None, *, params_dir: Path = PARAMS_DIR) -> MonthSource:
    """Where `month`'s submissions are, without generating anything; ParamError if nowhere.

    `inbox` None or "": not named. The month folder data/inbox/<month>/ is used when it exists;
    otherwise the embedded sample, if it covers the month.

    A named `inbox` (never the sample) is either
      - the month folder itself: its name is the month (YYYY-MM), or it holds workbooks
        (.xlsx) directly and no YYYY-MM folder; or
      - the inbox root: it holds the folder <month>/.
    A named folder that does not exist, whose name is another month, or that holds nothing for
    the month is refused with a message naming the folder it looked in. Whichever it is, the
    month folder must hold at least one workbook.
    """
    check_month_format(month)
    if not inbox:
        root = DATA_DIR / "inbox"
        folder = root / month
        if folder.is_dir():
            return MonthSource(month, _holds_workbooks(folder, month, False), False, False, root)
        if month in sample_months(params_dir):
            return MonthSource(month, DATA_DIR / "sample" / month, True, False, None)
        known = available_months(None, params_dir)
        raise ParamError(
            f"không có dữ liệu cho tháng {month}: Tạo thư mục {shown_path(folder)}/ và đặt các tệp báo cáo "
            f"vào đó (các tháng đang có dữ liệu: {month_list(known) or 'không có'})"
        )
    named = Path(inbox).expanduser().resolve()
    if not named.exists():
        raise ParamError(
            f"không có thư mục nhận báo cáo {shown_path(named)}/ (--inbox): kiểm tra lại đường dẫn; "
            "không dùng dữ liệu mẫu khi đã chỉ định --inbox"
        )
    if not named.is_dir():
        raise ParamError(f"{shown_path(named)} (--inbox) không phải là thư mục")
    if is_month(named.name) and not (named / month).is_dir():
        if named.name != month:
            raise ParamError(
                f"thư mục {shown_path(named)}/ (--inbox) là thư mục tháng {named.name}, không phải tháng "
                f"{month}: chỉ định thư mục gốc chứa các thư mục YYYY-MM, hoặc thư mục {month}/"
            )
        return MonthSource(month, _holds_workbooks(named, month, True), False, True, named.parent)
    if (named / month).is_dir():
        return MonthSource(month, _holds_workbooks(named / month, month, True), False, True, named)
    months = inbox_months(named)
    if not months and workbooks(named):
        return MonthSource(month, named, False, True, None)
    present = f" (chỉ có các tháng: {', '.join(months)})" if months else ""
    raise ParamError(
        f"thư mục nhận báo cáo {shown_path(named)}/ (--inbox) không có dữ liệu tháng {month}{present}: "
        f"Tạo thư mục {shown_path(named / month)}/ và đặt các tệp báo cáo vào đó; "
        "không dùng dữ liệu mẫu khi đã chỉ định --inbox"
    )


def describe_source(month: str, inbox: Path | str | None = None) -> str:
    """One Vietnamese line saying where `month`'s data comes from (the sample or which folder)."""
    return resolve_month(month, inbox).describe()


def today() -> date:
    """Today in Huế (Asia/Ho_Chi_Minh), whatever the machine's time zone."""
    return datetime.now(TZ).date()


def month_end(month: str) -> date:
    """The last day of `month` (YYYY-MM)."""
    return last_day(check_month_format(month))


def check_report_date(value: object, month: str, *, now: date | None = None) -> date | None:
    """The report date (`--report-date`, the notebook's `report_date`) checked against `month`.

    None or "" (not given): None; the report then prints the blank form "ngày … tháng … năm
    20…" to be filled in by hand, unless report.signing_date gives the run date
    (a month's own data, run in the month after it). Given: a date or "YYYY-MM-DD", not before
    the last day of the reporting month and not after today (Huế time).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            pass
    if not isinstance(value, date):
        raise ParamError(f"ngày báo cáo {value!r} không phải một ngày dạng YYYY-MM-DD (ví dụ 2023-01-06)")
    end, now = month_end(month), now or today()
    if value < end:
        raise ParamError(
            f"ngày báo cáo {value:%d/%m/%Y} trước ngày cuối của tháng báo cáo ({end:%d/%m/%Y}): "
            f"báo cáo tháng {month[5:]}/{month[:4]} chỉ ký được từ ngày {end:%d/%m/%Y}"
        )
    if value > now:
        raise ParamError(f"ngày báo cáo {value:%d/%m/%Y} là ngày trong tương lai (hôm nay {now:%d/%m/%Y})")
    return value


def validate_run(params: dict, *, params_dir: Path = PARAMS_DIR) -> RunParams:
    """Check notebook parameters before any notebook starts; refuse anything unknown.

    `month` must be YYYY-MM and have data (`resolve_month`: the named inbox, else data/inbox,
    else the sample); `unit` must be a unit of the registry that reports in that month, or
    `tinh`; `report_date`, if given, as check_report_date. The messages list the valid values or
    say which folder to create.
    """
    unknown = sorted(set(params) - set(RUN_PARAMETERS))
    if unknown:
        raise ParamError(f"tham số không được hỗ trợ: {', '.join(unknown)}; chỉ nhận: {', '.join(RUN_PARAMETERS)}")
    named = params.get("inbox")
    inbox = Path(named).expanduser().resolve() if named else None
    outputs = Path(params.get("outputs") or OUTPUTS_DIR).resolve()
    month = check_month_format(params.get("month"))
    resolve_month(month, inbox, params_dir=params_dir)
    registry = units_mod.load_registry(params_dir)
    unit = params.get("unit", PROVINCE)
    unit = "" if unit is None else str(unit)
    valid_units = [PROVINCE] + [u.code for u in registry.reporting_units(month)]
    if unit not in valid_units:
        ended = registry.successors(unit, month) if unit in registry else None
        if ended:
            day, holders = ended
            now = ", ".join(f"{u.name} ({u.code})" for u in holders) or "không có đơn vị kế thừa trong danh mục"
            raise ParamError(
                f"đơn vị {unit!r} ({registry.name_of(unit)}) thôi báo cáo từ ngày "
                f"{date.fromisoformat(day):%d/%m/%Y}; nay thuộc {now}. Các mã hợp lệ tháng {month}: "
                f"{', '.join(valid_units)}"
            )
        raise ParamError(
            f"đơn vị {unit!r} không có trong danh mục đơn vị tháng {month}; các mã hợp lệ: {', '.join(valid_units)}"
        )
    sources = Path(params.get("sources") or SOURCES_FILE).resolve()
    offline = params.get("offline", False)
    if isinstance(offline, str) and offline.strip().lower() in ("", "false", "0", "true", "1"):
        offline = offline.strip().lower() in ("true", "1")
    if not isinstance(offline, bool):
        raise ParamError(f"offline phải là True hoặc False, không phải {offline!r}")
    report_date = check_report_date(params.get("report_date"), month)
    return RunParams(
        month=month, unit=unit, inbox=inbox, outputs=outputs, sources=sources, offline=offline, report_date=report_date
    )
