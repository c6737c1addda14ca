"""A month's folder: reading and archiving every file, when each arrived, which file of a unit counts.

These are the first two steps of a month's load (dxreport.monthload): `read_month` reads and
archives the files, `resolve_submissions` decides what each one becomes. Nothing here writes the
warehouse; `history_issues` checks a month against earlier months the caller has read.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import os
import re
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dxreport import forms, received
from dxreport.catalog import Matcher
from dxreport.intake.cache import CACHE_DIR, parse_cache, read_submission_cached
from dxreport.intake.records import (
    ERROR,
    FACT_COLUMNS,
    LOCAL_TZ,
    WARNING,
    Submission,
    _file_label,
    _fmt,
    _issue,
)
from dxreport.params import check_month_format
from dxreport.textnorm import format_month, nfc
from dxreport.units import Registry, load_registry
from dxreport.hashcache import file_sha256


@dataclass
class MonthFiles:
    """The files of a month's folder once read and archived, one Submission per distinct content."""

    month: str
    inbox: Path
    files: int  # files found in the folder, duplicates included
    submissions: list[Submission]  # in order of arrival
    issues: list[dict] = field(default_factory=list)  # received.csv, arrival records, duplicate files


@dataclass
class MonthResolution:
    """What each file of a month became: rows of the submissions, facts and issues tables."""

    month: str
    submissions: list[dict]
    facts: pd.DataFrame
    issues: list[dict]
    names: dict[str, str]  # submission_id -> file name
    accepted: int
    rejected: int


def _now() -> dt.datetime:
    return dt.datetime.now(LOCAL_TZ).replace(tzinfo=None)


def _modified(path: Path) -> dt.datetime:
    """File modification time as Asia/Ho_Chi_Minh wall time (naive); now when it cannot be read."""
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, LOCAL_TZ).replace(tzinfo=None)
    except OSError:
        return _now()


def _arrive(sub: Submission, modified: dt.datetime, now: dt.datetime, listing: received.Listing) -> list[dict]:
    """Set the file's received time and its source (see dxreport.received); issues about its record."""
    got, repaired = received.first_sight(
        sub.archived_path, file_name=sub.file_name, month=sub.month, modified=modified, now=now
    )
    got = listing.entries.get(sub.path.name, got)
    sub.received_at, sub.received_source, sub.received_channel = got.at, got.source, got.channel
    if not repaired:
        return []
    return [
        {
            **_issue(
                sub.file_name,
                None,
                None,
                "received.record_replaced",
                WARNING,
                f"Bản ghi thời điểm nhận của tệp “{nfc(sub.file_name)}” trong kho lưu trữ bị hỏng nên "
                "được lập lại theo thời điểm tệp.",
            ),
            "submission_id": sub.submission_id,
            "unit": sub.unit,
        }
    ]


def _listing_issues(listing: received.Listing) -> list[dict]:
    """Warnings about rows of received.csv that were not used; they belong to no submission."""
    return [
        {
            **_issue(
                received.LIST_NAME,
                None,
                p.cell,
                p.rule,
                WARNING,
                f"{received.LIST_NAME}{', ô ' + p.cell if p.cell else ''}: {p.message}",
            ),
            "submission_id": None,
            "unit": None,
        }
        for p in listing.problems
    ]


def _received_text(sub: Submission) -> str:
    return (
        f"{sub.received_at.strftime('%H:%M %d/%m/%Y')} "
        f"(theo {received.source_label(sub.received_source, sub.received_channel)})"
    )


def deadline(month: str, deadline_day: int) -> dt.date:
    """The last day a submission for `month` is on time: `deadline_day` of the next month."""
    year, mm = map(int, check_month_format(month).split("-"))
    year, mm = (year + 1, 1) if mm == 12 else (year, mm + 1)
    return dt.date(year, mm, min(int(deadline_day), calendar.monthrange(year, mm)[1]))


def archive_raw(sub: Submission, raw_dir: Path) -> Path | None:
    """Keep the received file unchanged as raw_dir/<sha256>.<ext>; an existing copy is never touched."""
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    ext = sub.path.suffix.lower().lstrip(".")
    ext = ext if ext and re.fullmatch(r"[a-z0-9]{1,10}", ext) else "bin"
    target = raw_dir / f"{sub.submission_id}.{ext}"
    if target.exists():
        return target
    if sub.content is None:
        try:
            source = open(sub.path, "rb")
        except OSError:
            return None  # unreadable: the file is already reported as not readable
    else:
        source = io.BytesIO(sub.content)
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=raw_dir)
    try:
        with source, os.fdopen(fd, "wb") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                out.write(block)
        try:
            os.link(tmp, target)  # atomic, and never replaces an existing file
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system
            try:
                with open(tmp, "rb") as src, open(target, "xb") as out:
                    out.write(src.read())
            except FileExistsError:
                pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _resolve(subs: list[Submission]) -> dict[str, tuple[str, str | None]]:
    """submission_id -> (status, superseded_by): the latest `Ngày lập` of each unit wins."""
    status: dict[str, tuple[str, str | None]] = {}
    by_unit: dict[str, list[Submission]] = {}
    for sub in subs:
        if sub.rejected:
            status[sub.submission_id] = ("rejected", None)
        else:
            by_unit.setdefault(sub.unit, []).append(sub)
    for group in by_unit.values():
        group.sort(key=lambda s: (s.prepared_on or dt.date.min, s.received_at or dt.datetime.min, s.file_name))
        winner = group[-1]
        status[winner.submission_id] = ("accepted", None)
        for loser in group[:-1]:
            status[loser.submission_id] = ("superseded", winner.submission_id)
    return status


def history_issues(
    facts: pd.DataFrame, history: pd.DataFrame, month: str, names: dict[str, str], registry: Registry | None = None
) -> list[dict]:
    """Warnings from earlier months: a cumulative value going down, a monthly value jumping.

    An earlier month counts only where its unit code, and the commune code of a `Tổ công nghệ
    số` row, named the same unit with the same area as in `month` (Registry.same_unit): codes
    are reused (474 was thành phố Huế, then quận Thuận Hóa). Codes outside the registry are
    compared as they are.
    """
    out: list[dict] = []
    if facts.empty or history.empty:
        return out
    registry = registry or load_registry()
    same: dict[tuple[str, str], bool] = {}

    def continues(code: str, earlier: str) -> bool:
        known = same.get((code, earlier))
        if known is None:
            known = same[(code, earlier)] = code not in registry or registry.same_unit(code, month, earlier)
        return known

    history = history[(history["month"] < month) & history["value"].notna()]
    commune_sheets = {key for key in forms.SHEETS_BY_KEY if forms.sheet(key).subject == "commune"}
    past: dict[tuple, list[tuple[str, float]]] = {}
    columns = (history[c].tolist() for c in ("unit", "sheet", "subject", "metric", "month", "value"))
    for unit, sheet, subject, metric, earlier, value in zip(*columns):
        if not continues(str(unit), earlier):
            continue
        if sheet in commune_sheets and subject and not continues(str(subject), earlier):
            continue
        past.setdefault((unit, sheet, subject, metric), []).append((earlier, float(value)))
    for row in facts.itertuples(index=False):
        if row.value is None or pd.isna(row.value):
            continue
        spec = forms.sheet(row.sheet)
        try:
            f = spec.field(row.metric)
        except KeyError:
            continue
        series = sorted(past.get((row.unit, row.sheet, row.subject, row.metric), []))
        if not series:
            continue
        what = f"“{f.header}”" + (f" của {row.subject_name}" if row.subject_name else "")
        where = f"{spec.name}!{row.cell}"
        value = float(row.value)
        if f.cumulative:
            prev_month, prev = series[-1]
            if value < prev:
                out.append(
                    {
                        "file_name": names[row.submission_id],
                        "sheet": spec.name,
                        "cell": row.cell,
                        "rule": "history.cumulative_down",
                        "severity": WARNING,
                        "message": f"{where}: {what} giảm từ {_fmt(prev)} (tháng {format_month(prev_month)}) "
                        f"xuống {_fmt(value)}; số lũy kế không thể giảm, đề nghị kiểm tra.",
                        "submission_id": row.submission_id,
                        "unit": row.unit,
                    }
                )
        if f.monthly and len(series) >= 3:
            median = statistics.median(v for _, v in series)
            if median > 0 and (value > 10 * median or value < median / 10):
                direction = "gấp hơn 10 lần" if value > median else "chưa bằng một phần mười"
                out.append(
                    {
                        "file_name": names[row.submission_id],
                        "sheet": spec.name,
                        "cell": row.cell,
                        "rule": "history.jump",
                        "severity": WARNING,
                        "message": f"{where}: {what} = {_fmt(value)}, {direction} trung vị {len(series)} tháng "
                        f"trước ({_fmt(median)}); đề nghị kiểm tra.",
                        "submission_id": row.submission_id,
                        "unit": row.unit,
                    }
                )
    return out


def rows_frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """`rows` as a frame of `columns`; without rows, empty columns of dtype object."""
    return (
        pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    )


def read_month(
    month: str,
    inbox_dir: Path,
    *,
    registry: Registry,
    matcher: Matcher,
    settings: dict,
    raw_dir: Path,
    reader: str | None = None,
    cache: bool = True,
) -> MonthFiles:
    """Read every file of `inbox_dir`, keep each unchanged in `raw_dir` and decide when it arrived.

    Hidden files and received.csv are not submissions. Of two files with the same content, the
    first received is kept and the other gets a `file.duplicate` warning. With `cache`, a file
    read before with the same content, name, month, look-ups, settings and code is not read
    again: its reading is kept in raw_dir/parsed (dxreport.intake.cache).
    """
    if not inbox_dir.is_dir():
        # Loading a missing folder would silently empty the month in the warehouse.
        raise FileNotFoundError(f"không có thư mục nhận báo cáo {inbox_dir} cho tháng {format_month(month)}")
    # Hidden files (.DS_Store, ._name) are system files, not submissions; nor is received.csv.
    paths = [p for p in inbox_dir.iterdir() if p.is_file() and not p.name.startswith(".") and not received.is_list(p)]
    listing = received.read_list(inbox_dir, [p.name for p in paths])
    now = _now()
    modified = {path: _modified(path) for path in paths}
    # In order of modification, so that of two identical files the first seen writes the record.
    paths.sort(key=lambda p: (modified[p], p.name))
    arrived: list[Submission] = []
    extra_issues: list[dict] = _listing_issues(listing)
    kept = (
        parse_cache(
            Path(raw_dir) / CACHE_DIR, month=month, registry=registry, matcher=matcher, settings=settings, reader=reader
        )
        if cache
        else None
    )
    for path in paths:
        try:
            sub = read_submission_cached(
                path, kept, month=month, registry=registry, matcher=matcher, settings=settings, reader=reader
            )
        except Exception as exc:  # one bad file never stops the others
            sub = Submission(file_name=path.name, path=path, month=month, rejected=True)
            try:
                sub.submission_id = file_sha256(path)
            except OSError:
                sub.submission_id = hashlib.sha256(b"unreadable:" + path.name.encode("utf-8", "replace")).hexdigest()
            sub.issues = [
                _issue(
                    path.name,
                    None,
                    None,
                    "file.not_workbook",
                    ERROR,
                    f"{_file_label(path.name)} không đọc được ({type(exc).__name__}: {exc}).",
                )
            ]
        sub.archived_path = archive_raw(sub, raw_dir)
        sub.content = None
        extra_issues.extend(_arrive(sub, modified[path], now, listing))
        arrived.append(sub)
    # In order of arrival, so that of two identical files the first received is kept.
    arrived.sort(key=lambda s: (s.received_at, modified[s.path], s.file_name))
    subs: list[Submission] = []
    by_digest: dict[str, Submission] = {}
    for sub in arrived:
        if sub.submission_id in by_digest:
            first = by_digest[sub.submission_id]
            extra_issues.append(
                {
                    **_issue(
                        sub.file_name,
                        None,
                        None,
                        "file.duplicate",
                        WARNING,
                        f"{_file_label(sub.file_name)} giống hệt tệp “{first.file_name}” (cùng nội "
                        "dung) nên chỉ được tính một lần.",
                    ),
                    "submission_id": first.submission_id,
                    "unit": first.unit,
                }
            )
            continue
        by_digest[sub.submission_id] = sub
        subs.append(sub)
    return MonthFiles(month=month, inbox=inbox_dir, files=len(paths), submissions=subs, issues=extra_issues)


def resolve_submissions(files: MonthFiles, due: dt.date) -> MonthResolution:
    """Accept the latest `Ngày lập` of each unit, supersede the others, flag files received after `due`."""
    month, subs = files.month, files.submissions
    status = _resolve(subs)
    names = {s.submission_id: s.file_name for s in subs}
    sub_rows, fact_rows, issue_rows = [], [], []
    for sub in subs:
        state, superseded_by = status[sub.submission_id]
        late = sub.received_at.date() > due
        issues = sub.issues
        if state == "superseded":
            winner = next(s for s in subs if s.submission_id == superseded_by)
            on = winner.prepared_on.strftime("%d/%m/%Y") if winner.prepared_on else "–"
            issues = [
                _issue(
                    sub.file_name,
                    None,
                    None,
                    "submission.superseded",
                    WARNING,
                    f"{_file_label(sub.file_name)} đã được thay bằng tệp “{winner.file_name}” "
                    f"(Ngày lập {on}); số liệu của tệp này không được tính.",
                )
            ]
        elif state == "accepted":
            fact_rows.extend(sub.facts)
            if late:
                issues = issues + [
                    _issue(
                        sub.file_name,
                        None,
                        None,
                        "file.late",
                        WARNING,
                        f"{_file_label(sub.file_name)} nhận lúc {_received_text(sub)}, "
                        f"sau hạn nộp ngày {due.strftime('%d/%m/%Y')}.",
                    )
                ]
        for issue in issues:
            issue_rows.append({**issue, "submission_id": sub.submission_id, "unit": sub.unit})
        sub_rows.append(
            {
                "submission_id": sub.submission_id,
                "month": month,
                "unit": sub.unit,
                "file_name": sub.file_name,
                "archived_path": str(sub.archived_path) if sub.archived_path else None,
                "received_at": sub.received_at,
                "received_source": sub.received_source,
                "received_channel": sub.received_channel,
                "prepared_on": sub.prepared_on,
                "preparer": sub.preparer,
                "status": state,
                "superseded_by": superseded_by,
                "is_sample": sub.is_sample,
                "late": late,
                "rows_loaded": sub.rows_loaded if state == "accepted" else 0,
                "rows_rejected": sub.rows_rejected if state == "accepted" else 0,
                "sections_loaded": ";".join(dict.fromkeys(f["sheet"] for f in sub.facts))
                if state == "accepted"
                else "",
            }
        )
    issue_rows.extend(files.issues)
    return MonthResolution(
        month=month,
        submissions=sub_rows,
        facts=rows_frame(fact_rows, FACT_COLUMNS),
        issues=issue_rows,
        names=names,
        accepted=sum(1 for s, _ in status.values() if s == "accepted"),
        rejected=sum(1 for s, _ in status.values() if s == "rejected"),
    )
