"""Static index page listing every generated monthly report.

``write_index(outputs_dir)`` scans ``outputs_dir/<YYYY-MM>/manifest.json``
(written by the runner) and writes ``outputs_dir/index.html``: one section per
month, newest first, with one row per report linking its HTML, PDF, Excel annex
and KPI files. A report the runner skipped because its inputs had not changed
counts as done. Each month also links its validation results, its run log, the
feedback copies sent back to the units (``feedback/*.xlsx``) and the notebooks
of failed steps (``failed/*.ipynb``), and lists the units that have not
submitted, read from the warehouse (read-only) when it has the month.

Only ``YYYY-MM`` folders are listed (``_scratch`` and anything else is
ignored); the page comes from templates/pages/index.html.j2 (dxreport.pages), which
HTML-escapes every piece of text taken from a manifest or a file name, and a month that cannot be read is listed as such instead of
breaking the page. The outputs folder must exist: it is never created here.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from dxreport import pages
from dxreport.fileio import write_atomic
from dxreport.labels import RUN_STATUSES, SUBMISSION_STATUSES
from dxreport.params import PROVINCE, WAREHOUSE_NAME

__all__ = ["INDEX_TITLE", "STATUS_LABELS", "OutputsFolderError", "write_index"]

log = logging.getLogger(__name__)

INDEX_TITLE = "Báo cáo mức độ sử dụng nền tảng số – danh mục báo cáo"

MONTH_DIR_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

MANIFEST_NAME = "manifest.json"
FEEDBACK_DIR = "feedback"
FAILED_DIR = "failed"
ANNEX_NAME = "annex.xlsx"

# Statuses of a report that count as done: "skipped" is a report left as it was because
# nothing it depends on changed since the run that made it.
DONE_STATUSES = ("ok", "skipped")

STATUS_LABELS = RUN_STATUSES

# (manifest key, link text) for the files of a unit, in display order.
UNIT_FILES = (("html", "HTML"), ("pdf", "PDF"), ("annex", "Phụ lục (Excel)"), ("kpis", "KPI (CSV)"))


class OutputsFolderError(Exception):
    """The outputs folder does not exist or is not a folder."""


@dataclass
class _Tracker:
    """Who has submitted a month's report, from the warehouse."""

    expected: int
    submitted: int
    missing: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Month:
    month: str
    directory: Path
    manifest: dict[str, Any] | None
    problem: str | None
    tracker: _Tracker | None = None


def _nfc(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value))


def _month_label(month: str) -> str:
    year, mm = month.split("-")
    return f"Tháng {mm}/{year}"


def _format_created(value: Any) -> str:
    """ISO timestamp → "08:00 ngày 28/11/2026"; anything else is shown as is."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return _nfc(value)
        return f"{moment:%H:%M} ngày {moment:%d/%m/%Y}"
    return _nfc(value)


def _load_manifest(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        if not path.exists():
            return None, "chưa có tệp manifest.json (lần chạy chưa hoàn tất hoặc đã bị dừng)"
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, "tệp không phải văn bản UTF-8"
    except OSError as exc:
        return None, f"không đọc được tệp ({exc.strerror or exc})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"nội dung JSON không hợp lệ (dòng {exc.lineno}, cột {exc.colno})"
    except RecursionError:
        return None, "nội dung JSON lồng nhau quá sâu"
    if not isinstance(data, dict):
        return None, "nội dung không phải một đối tượng JSON"
    return data, None


def _scan(outputs_dir: Path) -> list[_Month]:
    months = []
    try:
        children = list(outputs_dir.iterdir())
    except OSError as exc:
        log.info("cannot list %s: %s", outputs_dir, exc)
        children = []
    for child in children:
        if not MONTH_DIR_RE.match(child.name):
            continue
        try:
            if not child.is_dir():
                continue
        except OSError:
            continue
        manifest, problem = _load_manifest(child / MANIFEST_NAME)
        months.append(_Month(child.name, child, manifest, problem))
    months.sort(key=lambda m: m.month, reverse=True)
    return months


def _trackers(outputs_dir: Path, months: list[str]) -> dict[str, _Tracker]:
    """Who has submitted each month, from the warehouse of `outputs_dir` (read-only).

    Months the warehouse has not loaded get no entry; so does every month when the
    warehouse is missing, locked by a writer or unreadable.
    """
    path = outputs_dir / WAREHOUSE_NAME
    try:
        if not months or not path.is_file():
            return {}
        from dxreport import warehouse
        from dxreport.units import load_registry

        registry = load_registry()
        marks = ", ".join("?" for _ in months)
        with warehouse.connect_read_only(path) as con:
            loaded = set(warehouse.months_loaded(con)) & set(months)
            rows = con.execute(
                f"SELECT month, unit, status FROM submissions WHERE month IN ({marks})", months
            ).fetchall()
    except Exception as exc:  # noqa: BLE001 - the index is written without the tracker
        log.info("submission tracker not read from %s: %s: %s", path, type(exc).__name__, exc)
        return {}
    statuses: dict[tuple[str, str], set[str]] = {}
    for month, unit, status in rows:
        statuses.setdefault((month, str(unit)), set()).add(str(status))
    trackers = {}
    for month in sorted(loaded):
        tracker = _Tracker(expected=0, submitted=0)
        for unit in registry.reporting_units(month):
            tracker.expected += 1
            seen = statuses.get((month, unit.code), set())
            if "accepted" in seen:
                tracker.submitted += 1
            elif "rejected" in seen:
                tracker.rejected.append((unit.code, unit.name))
            else:
                tracker.missing.append((unit.code, unit.name))
        trackers[month] = tracker
    return trackers


def _href(month: _Month, pure: PurePosixPath) -> str:
    return quote(f"{month.month}/{pure.as_posix()}", safe="/")


def _file_href(month: _Month, rel: Any) -> str | None:
    """Relative link from index.html to a file of the month, if it exists."""
    if not isinstance(rel, str) or not rel.strip():
        return None
    pure = PurePosixPath(rel.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        return None
    target = month.directory.joinpath(*pure.parts)
    try:
        if not target.is_file():
            return None
    except (OSError, ValueError):
        return None
    return _href(month, pure)


def _files_in(month: _Month, folder: str, suffix: str) -> list[str]:
    """Names of the month's files `folder/*suffix`, sorted; hidden and Office lock files left out."""
    try:
        names = [
            p.name
            for p in (month.directory / folder).iterdir()
            if p.name.lower().endswith(suffix) and not p.name.startswith((".", "~$")) and p.is_file()
        ]
    except OSError:
        return []
    return sorted(names)


def _link(href: str, text: str) -> dict[str, str]:
    return {"href": href, "text": text}


def _unit_links(month: _Month, code: Any, unit: dict[str, Any], failed_notebooks: list[str]) -> list[dict[str, str]]:
    links = []
    for key, text in UNIT_FILES:
        rel = unit.get(key)
        if key == "annex" and rel is None and isinstance(code, str):
            rel = f"{code}/{ANNEX_NAME}"
        href = _file_href(month, rel)
        if href:
            links.append(_link(href, text))
    if isinstance(code, str) and unit.get("status") not in DONE_STATUSES:
        for name in failed_notebooks:
            if name.startswith(f"{code}-"):
                links.append(_link(_href(month, PurePosixPath(FAILED_DIR, name)), "Sổ tay lỗi"))
    return links


def _unit_row(month: _Month, number: int, code: Any, unit: Any, failed_notebooks: list[str]) -> dict[str, Any]:
    """One row of the month's table: the unit, its status, the links to its files and its error."""
    if not isinstance(unit, dict):
        return {"number": number, "code": _nfc(code), "invalid": True}
    status = unit.get("status")
    key = status if isinstance(status, str) else None
    label = STATUS_LABELS.get(key) if key else None
    if label is None:
        label = f"Không rõ ({_nfc(status)})" if status not in (None, "") else "Không rõ"
    error = unit.get("error")
    return {
        "number": number,
        "code": _nfc(code),
        "invalid": False,
        "name": _nfc(unit.get("name") or code),
        "status": STATUS_LABELS["ok"] if key == "skipped" else label,
        "unchanged": key == "skipped",
        "failed": key in ("failed", "error"),
        "links": _unit_links(month, code, unit, failed_notebooks),
        "note": _nfc(error) if error else "",
    }


def _done_summary(units: dict[str, Any]) -> str:
    statuses = [u.get("status") if isinstance(u, dict) else None for u in units.values()]
    done = sum(1 for s in statuses if s in DONE_STATUSES)
    unchanged = statuses.count("skipped")
    failed = sum(1 for s in statuses if s in ("failed", "error"))
    details = []
    if unchanged:
        details.append(f"{unchanged} không đổi so với lần chạy trước")
    if failed:
        details.append(f"{failed} bị lỗi")
    extra = f" ({'; '.join(details)})" if details else ""
    return f"Báo cáo đã lập: {done}/{len(units)}{extra}."


def _steps_summary(steps: Any) -> dict[str, Any] | None:
    if not isinstance(steps, list) or not steps:
        return None
    valid = [s for s in steps if isinstance(s, dict)]
    failed = []
    for step in valid:
        if step.get("status") not in ("failed", "error"):
            continue
        label = _nfc(step.get("name") or "(không tên)")
        if step.get("unit"):
            label += f" – đơn vị {_nfc(step['unit'])}"
        if step.get("error"):
            label += f": {_nfc(step['error'])}"
        failed.append(label)
    return {"done": sum(1 for s in valid if s.get("status") in DONE_STATUSES), "total": len(steps), "failed": failed}


def _file_list(month: _Month, folder: str, names: list[str], title: str, *, open_: bool) -> dict[str, Any]:
    return {"title": title, "open": open_, "links": [_link(_href(month, PurePosixPath(folder, n)), n) for n in names]}


def _month_links(month: _Month, manifest: dict[str, Any]) -> list[dict[str, str]]:
    links = []
    validation_href = _file_href(month, manifest.get("validation", "validation.csv"))
    if validation_href:
        links.append(_link(validation_href, "Kết quả kiểm tra dữ liệu (CSV)"))
    page_href = _file_href(month, "validation.html")
    if page_href:
        links.append(_link(page_href, "Kết quả kiểm tra dữ liệu và tình hình nộp báo cáo"))
    annex_href = _file_href(month, f"{PROVINCE}/{ANNEX_NAME}")
    if annex_href:
        links.append(_link(annex_href, "Phụ lục số liệu các đơn vị (Excel)"))
    log_href = _file_href(month, manifest.get("log"))
    if log_href:
        links.append(_link(log_href, "Nhật ký lần chạy"))
    return links


def _month_files(month: _Month, failed_notebooks: list[str]) -> list[dict[str, Any]]:
    lists = []
    feedback = _files_in(month, FEEDBACK_DIR, ".xlsx")
    if feedback:
        lists.append(_file_list(month, FEEDBACK_DIR, feedback, "Bản góp ý gửi lại đơn vị", open_=False))
    if failed_notebooks:
        lists.append(_file_list(month, FAILED_DIR, failed_notebooks, "Sổ tay của các bước bị lỗi", open_=True))
    return lists


def _month_section(month: _Month) -> dict[str, Any]:
    """What index.html.j2 shows of one month."""
    manifest = month.manifest
    failed_notebooks = _files_in(month, FAILED_DIR, ".ipynb")
    section: dict[str, Any] = {
        "id": month.month,
        "heading": _month_label(month.month),
        "broken": False,
        "problem": None,
        "tracker": month.tracker,
    }
    if manifest is None:
        section.update(
            problem=_nfc(month.problem),
            manifest_path=f"{month.month}/{MANIFEST_NAME}",
            links=_month_links(month, {}),
            file_lists=_month_files(month, failed_notebooks),
        )
        return section
    declared = manifest.get("month")
    units = manifest.get("units")
    rows: list[dict[str, Any]] = []
    done = ""
    if isinstance(units, dict) and units:
        shown = "table"
        rows = [
            _unit_row(month, number, code, unit, failed_notebooks)
            for number, (code, unit) in enumerate(units.items(), start=1)
        ]
        done = _done_summary(units)
    else:
        shown = "none" if units in (None, {}) else "invalid"
    section.update(
        sample=manifest.get("sample") is True,
        created=_format_created(manifest["created"]) if manifest.get("created") else None,
        declared=_nfc(declared) if declared not in (None, month.month) else None,
        links=_month_links(month, manifest),
        units=shown,
        rows=rows,
        done=done,
        steps=_steps_summary(manifest.get("steps")),
        file_lists=_month_files(month, failed_notebooks),
    )
    return section


def _safe_section(month: _Month) -> dict[str, Any]:
    try:
        return _month_section(month)
    except Exception as exc:  # noqa: BLE001 - one odd month never breaks the page
        log.info("month %s not listed: %s: %s", month.month, type(exc).__name__, exc, exc_info=True)
        return {"id": month.month, "heading": _month_label(month.month), "broken": True}


def _page(months: list[_Month]) -> str:
    if months:
        lead = f"Danh mục {len(months)} tháng báo cáo, tháng mới nhất ở trên cùng."
    else:
        lead = "Danh mục các tháng báo cáo."
    return pages.render(
        "index.html.j2",
        title=INDEX_TITLE,
        lead=lead,
        statuses=SUBMISSION_STATUSES,
        months=[_safe_section(m) for m in months],
    )


def write_index(outputs_dir: str | os.PathLike[str]) -> Path:
    """Write ``outputs_dir/index.html`` listing every month and unit; return its path.

    Raises OutputsFolderError (a Vietnamese sentence naming the folder) when `outputs_dir`
    does not exist or is not a folder; nothing is created then.
    """
    outputs_dir = Path(outputs_dir)
    if not outputs_dir.exists():
        raise OutputsFolderError(f"không có thư mục kết quả {outputs_dir}, nên không lập được danh mục báo cáo")
    if not outputs_dir.is_dir():
        raise OutputsFolderError(
            f"{outputs_dir} không phải là thư mục kết quả mà là một tệp, nên không lập được danh mục báo cáo"
        )
    months = _scan(outputs_dir)
    trackers = _trackers(outputs_dir, [m.month for m in months])
    for month in months:
        month.tracker = trackers.get(month.month)
    page = unicodedata.normalize("NFC", _page(months))
    return write_atomic(outputs_dir / "index.html", page)
