"""What goes back with the month's validation: validation.csv and its HTML page with the tracker."""

from __future__ import annotations

import html
import urllib.parse
from pathlib import Path

import pandas as pd

from dxreport import received
from dxreport.intake.records import ERROR, ISSUE_COLUMNS, SEVERITY_LABELS, WARNING, _fmt, _missing
from dxreport.intake.tracker import STATUS_LABELS
from dxreport.labels import FILE_STATUSES
from dxreport.params import check_month_format
from dxreport.style import house_css
from dxreport.textnorm import format_month
from dxreport.units import Registry
from dxreport.xlsx import neutralise

VALIDATION_COLUMNS = ["file", "sheet", "cell", "rule", "severity", "message", "unit", "received_at", "received_source"]
# validation.csv's one line per received file, beside the errors and warnings.
INFO, RECEIVED_RULE = "info", "file.received"
# What became of each received file.
FILE_STATUS_LABELS = FILE_STATUSES



def _when(value: object) -> str:
    return "" if _missing(value) else pd.Timestamp(value).strftime("%H:%M %d/%m/%Y")


def _receipts(submissions: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    """submission_id -> (received time as dd/mm/yyyy HH:MM, Vietnamese label of its source)."""
    if submissions is None or not len(submissions):
        return {}
    out = {}
    for sub in submissions.to_dict("records"):
        when = "" if _missing(sub.get("received_at")) else pd.Timestamp(sub["received_at"]).strftime("%d/%m/%Y %H:%M")
        out[sub["submission_id"]] = (when, received.source_label(sub.get("received_source"),
                                                                  sub.get("received_channel")))
    return out


def _receipt_rows(submissions: pd.DataFrame | None) -> pd.DataFrame:
    """One info line per received file, in order of arrival: when it was received and by which source."""
    if submissions is None or not len(submissions):
        return pd.DataFrame(columns=["file", "rule", "severity", "message", "unit", "submission_id"])
    subs = submissions.sort_values(["received_at", "file_name"], na_position="last")
    rows = [{"file": sub["file_name"], "rule": RECEIVED_RULE, "severity": INFO, "unit": sub["unit"],
             "submission_id": sub["submission_id"],
             "message": f"Nhận lúc {_when(sub['received_at']) or '–'}; nguồn: "
                        f"{received.source_label(sub.get('received_source'), sub.get('received_channel')) or '–'}."}
            for sub in subs.to_dict("records")]
    return pd.DataFrame(rows)


def write_validation(issues: pd.DataFrame, csv_path: Path | str, submissions: pd.DataFrame | None = None) -> Path:
    """The month's validation report as CSV (UTF-8 with BOM, safe to open in Excel).

    With the month's `submissions`, it starts with one `file.received` line (severity `info`)
    per received file, and every line gives its file's received time and the source of that time.
    """
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    frame = issues.rename(columns={"file_name": "file"}) if issues is not None else pd.DataFrame()
    parts = [part for part in (_receipt_rows(submissions), frame) if len(part)]
    if len(parts) == 2:
        frame = pd.concat(parts, ignore_index=True)
    elif parts:
        frame = parts[0].copy()
    if "submission_id" in frame.columns:
        receipts = _receipts(submissions)
        frame["received_at"] = [receipts.get(s, ("", ""))[0] for s in frame["submission_id"]]
        frame["received_source"] = [receipts.get(s, ("", ""))[1] for s in frame["submission_id"]]
    for c in VALIDATION_COLUMNS:
        if c not in frame.columns:
            frame[c] = None
    frame = frame[VALIDATION_COLUMNS].astype(object).where(frame[VALIDATION_COLUMNS].notna(), None)
    frame = frame.map(neutralise)
    frame.to_csv(csv_path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return csv_path


def _unit_order(issues: pd.DataFrame, registry: Registry) -> list[str | None]:
    codes = [c for c in dict.fromkeys(issues["unit"].tolist())]
    order = {u.code: i for i, u in enumerate(registry.units)}
    known = sorted((c for c in codes if isinstance(c, str) and c), key=lambda c: (order.get(c, len(order)), c))
    unknown = [c for c in codes if not (isinstance(c, str) and c)]
    return known + ([None] if unknown else [])


def _href(link: str) -> str:
    """A relative link to a file, percent-encoded and escaped for an attribute."""
    return html.escape(urllib.parse.quote(link, safe="/"), quote=True)


def _feedback_links(sids, feedback: dict[str, str]) -> str:
    links = [f'<a href="{_href(feedback[s])}">{html.escape(Path(feedback[s]).name)}</a>'
             for s in dict.fromkeys(sids) if isinstance(s, str) and s in feedback]
    return ", ".join(links)


def _tracker_counts(track: pd.DataFrame) -> str:
    """Units per status; a unit that resubmitted late counts both as late and as resubmitted."""
    counts = {key: int((track["status"] == key).sum()) for key in STATUS_LABELS}
    both = 0
    if "resubmitted" in track.columns:
        flagged = track["resubmitted"].fillna(False).astype(bool)
        both = int((flagged & (track["status"] == "late")).sum())
        counts["resubmitted"] = int(flagged.sum())
    text = "; ".join(f"{label}: {_fmt(counts[key])}" for key, label in STATUS_LABELS.items()) + "."
    if both:
        text += f" Trong đó {_fmt(both)} đơn vị vừa nộp lại vừa nộp muộn, được tính ở cả hai mục."
    return text


def _tracker_html(track: pd.DataFrame, issues: pd.DataFrame, feedback: dict[str, str]) -> list[str]:
    esc = html.escape
    parts = ["<h2>Tình hình nộp báo cáo</h2>",
             f"<p>{esc(_tracker_counts(track))}</p>",
             '<table class="dx-tracker"><thead><tr><th>Mã</th><th>Đơn vị</th><th>Tình trạng</th><th>Tệp</th>'
             "<th>Nhận lúc</th><th>Nguồn thời điểm nhận</th><th>Phần chưa báo cáo</th><th>Lỗi</th><th>Cảnh báo</th>"
             "<th>Bản góp ý</th></tr></thead><tbody>"]
    for row in track.itertuples(index=False):
        mine = issues[issues["unit"] == row.unit] if len(issues) else issues
        sids = mine["submission_id"].tolist() if len(mine) else []
        cells = [row.unit, row.unit_name, row.status_label, row.file_name, _when(row.received_at),
                 getattr(row, "received_source_label", ""), row.sections_not_reported,
                 _fmt(int((mine["severity"] == ERROR).sum())) if len(mine) else "0",
                 _fmt(int((mine["severity"] == WARNING).sum())) if len(mine) else "0"]
        text = "".join(f"<td>{esc('' if _missing(v) else str(v))}</td>" for v in cells)
        links = _feedback_links([row.submission_id] + sids, feedback)
        parts.append(f'<tr class="dx-{esc(str(row.status))}">{text}<td>{links}</td></tr>')
    parts.append("</tbody></table>")
    return parts


def _files_html(submissions: pd.DataFrame) -> list[str]:
    """Every received file: what became of it, when it was received and where that time comes from."""
    esc = html.escape
    parts = ["<h2>Các tệp đã nhận</h2>",
             '<table class="dx-files"><thead><tr><th>Tệp</th><th>Đơn vị</th><th>Kết quả</th><th>Nhận lúc</th>'
             "<th>Nguồn thời điểm nhận</th><th>Hạn nộp</th></tr></thead><tbody>"]
    for sub in submissions.sort_values(["received_at", "file_name"], na_position="last").to_dict("records"):
        due = "" if sub.get("status") == "rejected" or _missing(sub.get("late")) else (
            "Sau hạn" if bool(sub["late"]) else "Đúng hạn")
        cells = [sub["file_name"], sub["unit"], FILE_STATUS_LABELS.get(sub.get("status"), sub.get("status")),
                 _when(sub["received_at"]),
                 received.source_label(sub.get("received_source"), sub.get("received_channel")), due]
        parts.append("<tr>" + "".join(f"<td>{esc('' if _missing(v) else str(v))}</td>" for v in cells) + "</tr>")
    parts.append("</tbody></table>")
    return parts


_LIST_GROUP = object()


def _group(frame: pd.DataFrame, code: object, listed: pd.Series, registry: Registry) -> tuple[pd.DataFrame, str]:
    """The issues of one heading of the validation page, and its title."""
    if code is _LIST_GROUP:
        return frame[listed], f"Danh sách ngày nhận tệp ({received.LIST_NAME})"
    if code is None:
        return frame[frame["unit"].isna() & ~listed], "Chưa xác định được đơn vị"
    return frame[frame["unit"] == code], f"{registry.get(code).name} ({code})" if code in registry else code


def validation_html(issues: pd.DataFrame, registry: Registry, tracker: pd.DataFrame | None = None,
                    feedback: dict[str, str] | None = None, submissions: pd.DataFrame | None = None) -> str:
    """The validation report as a Vietnamese HTML fragment, grouped by unit.

    With `tracker` (see tracker()) it starts with who has reported (Đã nộp, Nộp muộn, Chưa
    nộp, Nộp lại, Bị từ chối); `feedback` maps submission ids to the relative links of their
    feedback copies, shown beside each unit. With the month's `submissions` it lists every
    received file with its received time and the source of that time. Every value is escaped.
    """
    esc = html.escape
    feedback = feedback or {}
    frame = issues.copy() if issues is not None else pd.DataFrame(columns=ISSUE_COLUMNS)
    if "unit" not in frame.columns:
        frame["unit"] = None
    frame["unit"] = frame["unit"].where(frame["unit"].notna() & (frame["unit"].astype(str) != ""), None)
    parts = ['<section class="dx-validation">']
    if tracker is not None:
        parts += _tracker_html(tracker, frame, feedback)
    if submissions is not None and len(submissions):
        parts += _files_html(submissions)
    if tracker is not None or (submissions is not None and len(submissions)):
        parts.append("<h2>Lỗi và cảnh báo theo đơn vị</h2>")
    if frame.empty:
        parts.append("<p>Không có lỗi hay cảnh báo nào.</p></section>")
        return "\n".join(parts)
    status = dict(zip(tracker["unit"], tracker["status_label"])) if tracker is not None else {}
    errors = int((frame["severity"] == ERROR).sum())
    warnings_count = int((frame["severity"] == WARNING).sum())
    parts.append(f"<p>Tổng cộng {esc(_fmt(errors))} lỗi và {esc(_fmt(warnings_count))} cảnh báo.</p>")
    listed = frame["unit"].isna() & (frame["file_name"] == received.LIST_NAME)
    for code in _unit_order(frame[~listed], registry) + ([_LIST_GROUP] if listed.any() else []):
        rows, title = _group(frame, code, listed, registry)
        n_err = int((rows["severity"] == ERROR).sum())
        n_warn = int((rows["severity"] == WARNING).sum())
        parts.append(f"<h3>{esc(title)}</h3>")
        summary = f"{_fmt(n_err)} lỗi, {_fmt(n_warn)} cảnh báo."
        if code in status:
            summary = f"Tình trạng: {status[code]}. " + summary
        links = _feedback_links(rows["submission_id"].tolist() if "submission_id" in rows else [], feedback)
        parts.append(f"<p>{esc(summary)}" + (f" Bản góp ý gửi đơn vị: {links}." if links else "") + "</p>")
        parts.append('<table class="dx-validation-table"><thead><tr><th>Tệp</th><th>Trang</th><th>Ô</th>'
                     "<th>Quy tắc</th><th>Mức độ</th><th>Nội dung</th></tr></thead><tbody>")
        for row in rows.itertuples(index=False):
            cells = [row.file_name, row.sheet, row.cell, row.rule,
                     SEVERITY_LABELS.get(row.severity, row.severity), row.message]
            text = "".join(f"<td>{esc('' if _missing(v) else str(v))}</td>" for v in cells)
            parts.append(f'<tr class="dx-{esc(str(row.severity))}">{text}</tr>')
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "\n".join(parts)


def validation_page(issues: pd.DataFrame, registry: Registry, month: str, tracker: pd.DataFrame | None = None,
                    feedback: dict[str, str] | None = None, submissions: pd.DataFrame | None = None) -> str:
    """The validation report of `month` as a standalone Vietnamese HTML page (see validation_html)."""
    title = f"Kết quả kiểm tra báo cáo tháng {format_month(check_month_format(month))}"
    body = validation_html(issues, registry, tracker, feedback, submissions)
    return ("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f"<title>{html.escape(title)}</title>\n<style>\n{house_css(page=True)}</style>\n</head>\n"
            f'<body class="dx-page">\n<h1>{html.escape(title)}</h1>\n{body}\n'
            "</body>\n</html>\n")
