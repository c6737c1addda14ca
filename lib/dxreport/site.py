"""Static index page listing every generated monthly report.

``write_index(outputs_dir)`` scans ``outputs_dir/<YYYY-MM>/manifest.json``
(written by the runner) and writes ``outputs_dir/index.html``: one section per
month, newest first, with one row per unit linking its HTML, PDF and KPI
files.  Every piece of text taken from a manifest is HTML-escaped, and a
manifest that cannot be read is listed as such instead of breaking the page.
"""

from __future__ import annotations

import html
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from dxreport.fileio import write_atomic
from dxreport.render import FONT_FAMILY

__all__ = ["INDEX_TITLE", "STATUS_LABELS", "write_index"]

INDEX_TITLE = "Báo cáo mức độ sử dụng nền tảng số – danh mục báo cáo"

MONTH_DIR_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

MANIFEST_NAME = "manifest.json"

STATUS_LABELS = {
    "ok": "Hoàn thành",
    "failed": "Lỗi",
    "error": "Lỗi",
    "skipped": "Bỏ qua (không thay đổi)",
}

# (manifest key, link text) for the files of a unit, in display order.
UNIT_FILES = (("html", "HTML"), ("pdf", "PDF"), ("annex", "Phụ lục (Excel)"), ("kpis", "KPI (CSV)"))

_CSS = """
* { font-family: "%(font)s" !important; box-sizing: border-box; }
html { background: #fff; color: #000; }
body { max-width: 200mm; margin: 0 auto; padding: 12mm 10mm; font-size: 13pt; line-height: 1.4; }
h1 { font-size: 17pt; text-align: center; margin: 0 0 4pt 0; }
p.lead { text-align: center; margin: 0 0 14pt 0; }
section.month { margin: 0 0 16pt 0; padding-top: 6pt; border-top: 2px solid #000; }
h2 { font-size: 15pt; margin: 4pt 0 4pt 0; }
.sample { display: inline-block; margin-left: 8pt; padding: 0 6pt; border: 2px solid #000;
          font-size: 11pt; font-weight: bold; letter-spacing: 0.03em; vertical-align: middle; }
.meta { margin: 0 0 6pt 0; font-size: 12pt; }
table { width: 100%%; border-collapse: collapse; margin: 4pt 0 8pt 0; font-size: 12pt; }
th, td { border: 1px solid #000; padding: 3pt 5pt; text-align: left; vertical-align: top; }
thead th { background: #e6e6e6; text-align: center; }
td.num { text-align: right; white-space: nowrap; }
td.code { white-space: nowrap; }
td.status { min-width: 28mm; }
td.links a { margin-right: 8pt; white-space: nowrap; }
.status-failed { font-weight: bold; text-decoration: underline; }
.status-skipped { font-style: italic; }
.problem { border: 2px solid #000; padding: 4pt 8pt; font-weight: bold; }
.problem code, .meta code { font-weight: normal; }
.note { font-size: 11pt; }
ul.steps { margin: 2pt 0 6pt 0; }
a { color: #003a8c; }
""" % {"font": FONT_FAMILY}


@dataclass
class _Month:
    month: str
    directory: Path
    manifest: dict[str, Any] | None
    problem: str | None


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
    if not path.exists():
        return None, "chưa có tệp manifest.json (lần chạy chưa hoàn tất hoặc đã bị dừng)"
    try:
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
    except OSError:
        children = []
    for child in children:
        if not MONTH_DIR_RE.match(child.name) or not child.is_dir():
            continue
        manifest, problem = _load_manifest(child / MANIFEST_NAME)
        months.append(_Month(child.name, child, manifest, problem))
    months.sort(key=lambda m: m.month, reverse=True)
    return months


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
    except OSError:
        return None
    return quote(f"{month.month}/{pure.as_posix()}", safe="/")


def _status_cell(status: Any) -> str:
    key = status if isinstance(status, str) else None
    label = STATUS_LABELS.get(key) if key else None
    if label is None:
        label = f"Không rõ ({_nfc(status)})" if status not in (None, "") else "Không rõ"
    css = {"failed": "status-failed", "error": "status-failed", "skipped": "status-skipped"}.get(
        key or "", ""
    )
    classes = f"status {css}" if css else "status"
    return f'<td class="{classes}">{_esc(label)}</td>'


def _unit_rows(month: _Month, units: dict[str, Any]) -> list[str]:
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
        links = []
        for key, text in UNIT_FILES:
            href = _file_href(month, unit.get(key))
            if href:
                links.append(f'<a href="{_esc(href)}">{_esc(text)}</a>')
        error = unit.get("error")
        note = _esc(error) if error else ""
        rows.append(
            f'<tr><td class="num">{number}</td><td>{_esc(name)}</td><td class="code">{_esc(code)}</td>'
            f"{_status_cell(unit.get('status'))}"
            f'<td class="links">{" ".join(links)}</td><td class="note">{note}</td></tr>'
        )
    return rows


def _steps_summary(steps: Any) -> list[str]:
    if not isinstance(steps, list) or not steps:
        return []
    valid = [s for s in steps if isinstance(s, dict)]
    ok = sum(1 for s in valid if s.get("status") == "ok")
    failed = [s for s in valid if s.get("status") in ("failed", "error")]
    parts = [f'<p class="meta">Các bước xử lý: {ok}/{len(steps)} hoàn thành.</p>']
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


def _month_section(month: _Month) -> str:
    heading = _esc(_month_label(month.month))
    manifest = month.manifest
    if manifest is None:
        manifest_rel = f"{month.month}/{MANIFEST_NAME}"
        return (
            f'<section class="month" id="thang-{_esc(month.month)}"><h2>{heading}</h2>'
            f'<p class="problem">Không đọc được tệp <code>{_esc(manifest_rel)}</code>: '
            f"{_esc(month.problem)}.</p></section>"
        )

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
    validation_href = _file_href(month, manifest.get("validation", "validation.csv"))
    if validation_href:
        meta.append(f'<a href="{_esc(validation_href)}">Kết quả kiểm tra dữ liệu (CSV)</a>')
    page_href = _file_href(month, "validation.html")
    if page_href:
        meta.append(f'<a href="{_esc(page_href)}">Kết quả kiểm tra dữ liệu và tình hình nộp báo cáo</a>')
    if meta:
        parts.append(f'<p class="meta">{" ".join(meta)}</p>')

    units = manifest.get("units")
    if isinstance(units, dict) and units:
        done = sum(1 for u in units.values() if isinstance(u, dict) and u.get("status") == "ok")
        parts.append(f'<p class="meta">Số đơn vị hoàn thành: {done}/{len(units)}.</p>')
        parts.append(
            '<table><thead><tr><th>STT</th><th>Đơn vị</th><th>Mã</th><th>Trạng thái</th>'
            "<th>Tệp báo cáo</th><th>Ghi chú</th></tr></thead><tbody>"
        )
        parts.extend(_unit_rows(month, units))
        parts.append("</tbody></table>")
    elif units in (None, {}):
        parts.append('<p class="meta">Chưa có báo cáo đơn vị nào trong tháng này.</p>')
    else:
        parts.append(
            f'<p class="problem">Mục <code>units</code> trong <code>{_esc(month.month)}/{MANIFEST_NAME}'
            "</code> không hợp lệ.</p>"
        )

    parts.extend(_steps_summary(manifest.get("steps")))
    parts.append("</section>")
    return "".join(parts)


def _page(months: list[_Month]) -> str:
    if months:
        body = "\n".join(_month_section(m) for m in months)
        lead = f"Danh mục {len(months)} tháng báo cáo, tháng mới nhất ở trên cùng."
    else:
        body = '<p class="meta">Chưa có báo cáo nào.</p>'
        lead = "Danh mục các tháng báo cáo."
    return (
        "<!DOCTYPE html>\n"
        '<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>{_esc(INDEX_TITLE)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_esc(INDEX_TITLE)}</h1>\n<p class=\"lead\">{_esc(lead)}</p>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def write_index(outputs_dir: str | os.PathLike[str]) -> Path:
    """Write ``outputs_dir/index.html`` listing every month and unit; return its path."""
    outputs_dir = Path(outputs_dir)
    outputs_dir.mkdir(parents=True, exist_ok=True)
    page = unicodedata.normalize("NFC", _page(_scan(outputs_dir)))
    return write_atomic(outputs_dir / "index.html", page)
