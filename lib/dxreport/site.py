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
ignored); every piece of text taken from a manifest or a file name is
HTML-escaped, and a month that cannot be read is listed as such instead of
breaking the page. The outputs folder must exist: it is never created here.
"""

from __future__ import annotations

import html
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

from dxreport.fileio import write_atomic
from dxreport.labels import RUN_STATUSES
from dxreport.params import PROVINCE
from dxreport.style import FONT_FAMILY, house_css

__all__ = ["INDEX_TITLE", "STATUS_LABELS", "OutputsFolderError", "write_index"]

log = logging.getLogger(__name__)

INDEX_TITLE = "Báo cáo mức độ sử dụng nền tảng số – danh mục báo cáo"

MONTH_DIR_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

MANIFEST_NAME = "manifest.json"
FEEDBACK_DIR = "feedback"
FAILED_DIR = "failed"
ANNEX_NAME = "annex.xlsx"
WAREHOUSE_NAME = "warehouse.duckdb"

# Statuses of a report that count as done: "skipped" is a report left as it was because
# nothing it depends on changed since the run that made it.
DONE_STATUSES = ("ok", "skipped")

STATUS_LABELS = RUN_STATUSES

# (manifest key, link text) for the files of a unit, in display order.
UNIT_FILES = (("html", "HTML"), ("pdf", "PDF"), ("annex", "Phụ lục (Excel)"), ("kpis", "KPI (CSV)"))

_CSS = """
* { font-family: "%(font)s" !important; box-sizing: border-box; }
html { background: var(--dx-paper); color: var(--dx-ink); -webkit-text-size-adjust: 100%%; text-size-adjust: 100%%; }
body { max-width: 200mm; margin: 0 auto; padding: 12mm 10mm; font-size: 13pt; line-height: 1.4; }
h1 { font-size: 17pt; text-align: center; margin: 0 0 4pt 0; }
p.lead { text-align: center; margin: 0 0 14pt 0; }
section.month { margin: 0 0 16pt 0; padding-top: 6pt; border-top: 2px solid #000; }
h2 { font-size: 15pt; margin: 4pt 0 4pt 0; }
.sample { display: inline-block; margin-left: 8pt; padding: 0 6pt; border: 2px solid #000;
          font-size: 11pt; font-weight: bold; letter-spacing: 0.03em; vertical-align: middle; }
.meta { margin: 0 0 6pt 0; font-size: 12pt; overflow-wrap: anywhere; }
.meta a { margin-right: 8pt; }
.scroll { overflow-x: auto; max-width: 100%%; margin: 4pt 0 8pt 0; -webkit-overflow-scrolling: touch; }
table { width: 100%%; border-collapse: collapse; margin: 0; font-size: 12pt; }
th, td { border: 1px solid var(--dx-rule); padding: 3pt 5pt; text-align: left; vertical-align: top; }
thead th { background: var(--dx-head); text-align: center; }
td.num { text-align: right; white-space: nowrap; }
td.name { min-width: 9em; }
td.code { white-space: nowrap; }
td.status { min-width: 28mm; }
td.links a { margin-right: 8pt; white-space: nowrap; }
.status-failed { font-weight: bold; text-decoration: underline; }
.unchanged { font-style: italic; }
.problem { border: 2px solid #000; padding: 4pt 8pt; font-weight: bold; overflow-wrap: anywhere; }
.problem code, .meta code { font-weight: normal; }
.note { font-size: 11pt; }
ul.steps, ul.files { margin: 2pt 0 6pt 0; overflow-wrap: anywhere; }
details { margin: 0 0 6pt 0; font-size: 12pt; }
summary { cursor: pointer; }
a { color: var(--dx-link); }
@media (max-width: 600px) {
  body { padding: 4mm 3mm; font-size: 12pt; }
  h1 { font-size: 15pt; }
  h2 { font-size: 13pt; }
  table { font-size: 11pt; }
  ul.steps, ul.files { padding-left: 16pt; }
}
""" % {"font": FONT_FAMILY}


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


def _esc(value: Any) -> str:
    return html.escape(_nfc(value), quote=True)


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
        from dxreport import store
        from dxreport.units import load_registry

        registry = load_registry()
        marks = ", ".join("?" for _ in months)
        with store.connect(path, read_only=True) as con:
            loaded = set(store.months_loaded(con)) & set(months)
            rows = con.execute(f"SELECT month, unit, status FROM submissions WHERE month IN ({marks})",
                               months).fetchall()
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
        names = [p.name for p in (month.directory / folder).iterdir()
                 if p.name.lower().endswith(suffix) and not p.name.startswith((".", "~$")) and p.is_file()]
    except OSError:
        return []
    return sorted(names)


def _link(href: str, text: str) -> str:
    return f'<a href="{_esc(href)}">{_esc(text)}</a>'


def _status_cell(status: Any) -> str:
    key = status if isinstance(status, str) else None
    label = STATUS_LABELS.get(key) if key else None
    if label is None:
        label = f"Không rõ ({_nfc(status)})" if status not in (None, "") else "Không rõ"
    if key == "skipped":
        return (f'<td class="status">{_esc(STATUS_LABELS["ok"])} '
                f'<span class="unchanged">(không đổi)</span></td>')
    classes = "status status-failed" if key in ("failed", "error") else "status"
    return f'<td class="{classes}">{_esc(label)}</td>'


def _unit_links(month: _Month, code: Any, unit: dict[str, Any], failed_notebooks: list[str]) -> list[str]:
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


def _unit_rows(month: _Month, units: dict[str, Any], failed_notebooks: list[str]) -> list[str]:
    rows = []
    for number, (code, unit) in enumerate(units.items(), start=1):
        if not isinstance(unit, dict):
            rows.append(
                f'<tr><td class="num">{number}</td><td>{_esc(code)}</td><td class="code">{_esc(code)}</td>'
                f'<td>Không rõ</td><td class="links"></td>'
                f'<td class="note">Dữ liệu đơn vị trong manifest không hợp lệ</td></tr>'
            )
            continue
        name = unit.get("name") or code
        links = _unit_links(month, code, unit, failed_notebooks)
        error = unit.get("error")
        note = _esc(error) if error else ""
        rows.append(
            f'<tr><td class="num">{number}</td><td class="name">{_esc(name)}</td><td class="code">{_esc(code)}</td>'
            f"{_status_cell(unit.get('status'))}"
            f'<td class="links">{" ".join(links)}</td><td class="note">{note}</td></tr>'
        )
    return rows


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
    return f'<p class="meta">Báo cáo đã lập: {done}/{len(units)}{extra}.</p>'


def _steps_summary(steps: Any) -> list[str]:
    if not isinstance(steps, list) or not steps:
        return []
    valid = [s for s in steps if isinstance(s, dict)]
    done = sum(1 for s in valid if s.get("status") in DONE_STATUSES)
    failed = [s for s in valid if s.get("status") in ("failed", "error")]
    parts = [f'<p class="meta">Các bước xử lý: {done}/{len(steps)} hoàn thành.</p>']
    if failed:
        items = []
        for step in failed:
            label = _esc(step.get("name") or "(không tên)")
            if step.get("unit"):
                label += f" – đơn vị {_esc(step['unit'])}"
            if step.get("error"):
                label += f": {_esc(step['error'])}"
            items.append(f"<li>{label}</li>")
        parts.append(
            '<p class="meta"><strong>Bước bị lỗi:</strong></p><ul class="steps">'
            + "".join(items)
            + "</ul>"
        )
    return parts


def _file_list(month: _Month, folder: str, names: list[str], title: str, *, open_: bool) -> str:
    items = "".join(f"<li>{_link(_href(month, PurePosixPath(folder, n)), n)}</li>" for n in names)
    state = " open" if open_ else ""
    return (f"<details{state}><summary>{_esc(title)} ({len(names)} tệp)</summary>"
            f'<ul class="files">{items}</ul></details>')


def _names(units: list[tuple[str, str]]) -> str:
    return ", ".join(f"{_esc(name)} ({_esc(code)})" for code, name in units)


def _tracker_part(tracker: _Tracker | None) -> list[str]:
    if tracker is None:
        return []
    parts = [f'<p class="meta">Đơn vị đã nộp báo cáo: {tracker.submitted}/{tracker.expected}.</p>']
    if tracker.missing:
        parts.append(f'<p class="meta"><strong>Chưa nộp ({len(tracker.missing)}):</strong> '
                     f"{_names(tracker.missing)}.</p>")
    if tracker.rejected:
        parts.append(f'<p class="meta"><strong>Bị từ chối, chưa nộp lại ({len(tracker.rejected)}):</strong> '
                     f"{_names(tracker.rejected)}.</p>")
    return parts


def _month_links(month: _Month, manifest: dict[str, Any]) -> list[str]:
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


def _month_files(month: _Month, failed_notebooks: list[str]) -> list[str]:
    parts = []
    feedback = _files_in(month, FEEDBACK_DIR, ".xlsx")
    if feedback:
        parts.append(_file_list(month, FEEDBACK_DIR, feedback, "Bản góp ý gửi lại đơn vị", open_=False))
    if failed_notebooks:
        parts.append(_file_list(month, FAILED_DIR, failed_notebooks, "Sổ tay của các bước bị lỗi", open_=True))
    return parts


def _month_section(month: _Month) -> str:
    heading = _esc(_month_label(month.month))
    manifest = month.manifest
    failed_notebooks = _files_in(month, FAILED_DIR, ".ipynb")
    if manifest is None:
        manifest_rel = f"{month.month}/{MANIFEST_NAME}"
        parts = [
            f'<section class="month" id="thang-{_esc(month.month)}"><h2>{heading}</h2>'
            f'<p class="problem">Không đọc được tệp <code>{_esc(manifest_rel)}</code>: '
            f"{_esc(month.problem)}.</p>"
        ]
        links = _month_links(month, {})
        if links:
            parts.append(f'<p class="meta">{" ".join(links)}</p>')
        parts.extend(_tracker_part(month.tracker))
        parts.extend(_month_files(month, failed_notebooks))
        parts.append("</section>")
        return "".join(parts)

    parts = [f'<section class="month" id="thang-{_esc(month.month)}">']
    sample_mark = '<span class="sample">DỮ LIỆU MẪU</span>' if manifest.get("sample") is True else ""
    parts.append(f"<h2>{heading}{sample_mark}</h2>")

    meta = []
    if manifest.get("created"):
        meta.append(f"Tạo lúc {_esc(_format_created(manifest['created']))}.")
    declared = manifest.get("month")
    if declared not in (None, month.month):
        meta.append(
            f"Lưu ý: manifest ghi tháng <code>{_esc(declared)}</code>, "
            f"khác tên thư mục <code>{_esc(month.month)}</code>."
        )
    meta.extend(_month_links(month, manifest))
    if meta:
        parts.append(f'<p class="meta">{" ".join(meta)}</p>')

    units = manifest.get("units")
    if isinstance(units, dict) and units:
        parts.append(_done_summary(units))
        parts.append(
            '<div class="scroll"><table><thead><tr><th>STT</th><th>Đơn vị</th><th>Mã</th><th>Trạng thái</th>'
            "<th>Tệp báo cáo</th><th>Ghi chú</th></tr></thead><tbody>"
        )
        parts.extend(_unit_rows(month, units, failed_notebooks))
        parts.append("</tbody></table></div>")
    elif units in (None, {}):
        parts.append('<p class="meta">Chưa có báo cáo đơn vị nào trong tháng này.</p>')
    else:
        parts.append(
            f'<p class="problem">Mục <code>units</code> trong <code>{_esc(month.month)}/{MANIFEST_NAME}'
            "</code> không hợp lệ.</p>"
        )

    parts.extend(_tracker_part(month.tracker))
    parts.extend(_steps_summary(manifest.get("steps")))
    parts.extend(_month_files(month, failed_notebooks))
    parts.append("</section>")
    return "".join(parts)


def _safe_section(month: _Month) -> str:
    try:
        return _month_section(month)
    except Exception as exc:  # noqa: BLE001 - one odd month never breaks the page
        log.info("month %s not listed: %s: %s", month.month, type(exc).__name__, exc, exc_info=True)
        return (
            f'<section class="month" id="thang-{_esc(month.month)}"><h2>{_esc(_month_label(month.month))}</h2>'
            f'<p class="problem">Không lập được mục của tháng này từ thư mục <code>{_esc(month.month)}</code>.</p>'
            "</section>"
        )


def _page(months: list[_Month]) -> str:
    if months:
        body = "\n".join(_safe_section(m) for m in months)
        lead = f"Danh mục {len(months)} tháng báo cáo, tháng mới nhất ở trên cùng."
    else:
        body = '<p class="meta">Chưa có báo cáo nào.</p>'
        lead = "Danh mục các tháng báo cáo."
    return (
        "<!DOCTYPE html>\n"
        '<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>{_esc(INDEX_TITLE)}</title>\n<style>\n{house_css()}{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_esc(INDEX_TITLE)}</h1>\n<p class=\"lead\">{_esc(lead)}</p>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
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
        raise OutputsFolderError(f"{outputs_dir} không phải là thư mục kết quả mà là một tệp, "
                                 "nên không lập được danh mục báo cáo")
    months = _scan(outputs_dir)
    trackers = _trackers(outputs_dir, [m.month for m in months])
    for month in months:
        month.tracker = trackers.get(month.month)
    page = unicodedata.normalize("NFC", _page(months))
    return write_atomic(outputs_dir / "index.html", page)
