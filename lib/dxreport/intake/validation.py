"""What goes back with the month's validation: validation.csv and its HTML page with the tracker."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pandas as pd

from dxreport import pages, received
from dxreport.intake.records import ERROR, ISSUE_COLUMNS, SEVERITY_LABELS, WARNING, _fmt, _missing
from dxreport.intake.tracker import STATUS_LABELS
from dxreport.labels import FILE_STATUSES
from dxreport.params import check_month_format
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
        out[sub["submission_id"]] = (
            when,
            received.source_label(sub.get("received_source"), sub.get("received_channel")),
        )
    return out


def _receipt_rows(submissions: pd.DataFrame | None) -> pd.DataFrame:
    """One info line per received file, in order of arrival: when it was received and by which source."""
    if submissions is None or not len(submissions):
        return pd.DataFrame(columns=["file", "rule", "severity", "message", "unit", "submission_id"])
    subs = submissions.sort_values(["received_at", "file_name"], na_position="last")
    rows = [
        {
            "file": sub["file_name"],
            "rule": RECEIVED_RULE,
            "severity": INFO,
            "unit": sub["unit"],
            "submission_id": sub["submission_id"],
            "message": f"Nhận lúc {_when(sub['received_at']) or '–'}; nguồn: "
            f"{received.source_label(sub.get('received_source'), sub.get('received_channel')) or '–'}.",
        }
        for sub in subs.to_dict("records")
    ]
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


def _unit_order(issues: pd.DataFrame, registry: Registry, month: str | None = None) -> list[str | None]:
    """The units of the issues: the month's reporting units in their order, then the others."""
    codes = [c for c in dict.fromkeys(issues["unit"].tolist())]
    order: dict[str, int] = {}
    for unit in (registry.reporting_units(month) if month else []) + list(registry.units):
        order.setdefault(unit.code, len(order))
    known = sorted((c for c in codes if isinstance(c, str) and c), key=lambda c: (order.get(c, len(order)), c))
    unknown = [c for c in codes if not (isinstance(c, str) and c)]
    return known + ([None] if unknown else [])


def _cell(value: object) -> str:
    return "" if _missing(value) else str(value)


def _feedback_links(sids, feedback: dict[str, str]) -> list[dict[str, str]]:
    """The feedback copies of the submissions `sids`: each a percent-encoded relative link and a file name."""
    return [
        {"href": urllib.parse.quote(feedback[s], safe="/"), "name": Path(feedback[s]).name}
        for s in dict.fromkeys(sids)
        if isinstance(s, str) and s in feedback
    ]


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


def _tracker_part(track: pd.DataFrame, issues: pd.DataFrame, feedback: dict[str, str]) -> dict:
    """The tracker of the validation page: the counts per status and one row per unit."""
    rows = []
    for row in track.itertuples(index=False):
        mine = issues[issues["unit"] == row.unit] if len(issues) else issues
        sids = mine["submission_id"].tolist() if len(mine) else []
        cells = [
            row.unit,
            row.unit_name,
            row.status_label,
            row.file_name,
            _when(row.received_at),
            getattr(row, "received_source_label", ""),
            row.sections_not_reported,
            _fmt(int((mine["severity"] == ERROR).sum())) if len(mine) else "0",
            _fmt(int((mine["severity"] == WARNING).sum())) if len(mine) else "0",
        ]
        rows.append(
            {
                "status": str(row.status),
                "cells": [_cell(v) for v in cells],
                "links": _feedback_links([row.submission_id] + sids, feedback),
            }
        )
    return {"counts": _tracker_counts(track), "rows": rows}


def _files_part(submissions: pd.DataFrame) -> list[list[str]]:
    """Every received file: what became of it, when it was received and where that time comes from."""
    rows = []
    for sub in submissions.sort_values(["received_at", "file_name"], na_position="last").to_dict("records"):
        due = (
            ""
            if sub.get("status") == "rejected" or _missing(sub.get("late"))
            else ("Sau hạn" if bool(sub["late"]) else "Đúng hạn")
        )
        cells = [
            sub["file_name"],
            sub["unit"],
            FILE_STATUS_LABELS.get(sub.get("status"), sub.get("status")),
            _when(sub["received_at"]),
            received.source_label(sub.get("received_source"), sub.get("received_channel")),
            due,
        ]
        rows.append([_cell(v) for v in cells])
    return rows


_LIST_GROUP = object()


def _month_of(rows: pd.DataFrame) -> str | None:
    """The month of a group of issues, when they say it."""
    if "month" in rows.columns and rows["month"].notna().any():
        return str(rows["month"].dropna().iloc[0])
    return None


def _group(
    frame: pd.DataFrame, code: object, listed: pd.Series, registry: Registry, month: str | None = None
) -> tuple[pd.DataFrame, str]:
    """The issues of one heading of the validation page, and its title."""
    if code is _LIST_GROUP:
        return frame[listed], f"Danh sách ngày nhận tệp ({received.LIST_NAME})"
    if code is None:
        return frame[frame["unit"].isna() & ~listed], "Chưa xác định được đơn vị"
    rows = frame[frame["unit"] == code]
    return rows, f"{registry.name_of(code, month or _month_of(rows))} ({code})" if code in registry else code


def _section_context(
    issues: pd.DataFrame | None,
    registry: Registry,
    tracker: pd.DataFrame | None,
    feedback: dict[str, str] | None,
    submissions: pd.DataFrame | None,
    month: str | None = None,
) -> dict:
    """What validation_section.html.j2 shows: the tracker, the received files and the issues by
    heading; units under their names of `month` (else of the month their issues carry)."""
    feedback = feedback or {}
    frame = issues.copy() if issues is not None else pd.DataFrame(columns=ISSUE_COLUMNS)
    if "unit" not in frame.columns:
        frame["unit"] = None
    frame["unit"] = frame["unit"].where(frame["unit"].notna() & (frame["unit"].astype(str) != ""), None)
    context = {
        "tracker": _tracker_part(tracker, frame, feedback) if tracker is not None else None,
        "files": _files_part(submissions) if submissions is not None and len(submissions) else [],
        "groups": [],
        "errors": "0",
        "warnings": "0",
    }
    if frame.empty:
        return context
    status = dict(zip(tracker["unit"], tracker["status_label"])) if tracker is not None else {}
    context["errors"] = _fmt(int((frame["severity"] == ERROR).sum()))
    context["warnings"] = _fmt(int((frame["severity"] == WARNING).sum()))
    listed = frame["unit"].isna() & (frame["file_name"] == received.LIST_NAME)
    if month is None and "month" in frame.columns and frame["month"].notna().any():
        month = str(frame["month"].dropna().iloc[0])
    for code in _unit_order(frame[~listed], registry, month) + ([_LIST_GROUP] if listed.any() else []):
        rows, title = _group(frame, code, listed, registry, month)
        n_err = int((rows["severity"] == ERROR).sum())
        n_warn = int((rows["severity"] == WARNING).sum())
        summary = f"{_fmt(n_err)} lỗi, {_fmt(n_warn)} cảnh báo."
        if code in status:
            summary = f"Tình trạng: {status[code]}. " + summary
        context["groups"].append(
            {
                "title": title,
                "summary": summary,
                "links": _feedback_links(rows["submission_id"].tolist() if "submission_id" in rows else [], feedback),
                "rows": [
                    {
                        "severity": str(row.severity),
                        "cells": [
                            _cell(v)
                            for v in (
                                row.file_name,
                                row.sheet,
                                row.cell,
                                row.rule,
                                SEVERITY_LABELS.get(row.severity, row.severity),
                                row.message,
                            )
                        ],
                    }
                    for row in rows.itertuples(index=False)
                ],
            }
        )
    return context


def validation_html(
    issues: pd.DataFrame,
    registry: Registry,
    tracker: pd.DataFrame | None = None,
    feedback: dict[str, str] | None = None,
    submissions: pd.DataFrame | None = None,
    month: str | None = None,
) -> str:
    """The validation report as a Vietnamese HTML fragment, grouped by unit (named as in `month`).

    With `tracker` (see tracker()) it starts with who has reported (the labels of
    dxreport.labels.SUBMISSION_STATUSES); `feedback` maps submission ids to the relative links of
    their feedback copies, shown beside each unit. With the month's `submissions` it lists every
    received file with its received time and the source of that time. The template
    (templates/pages/validation_section.html.j2) escapes every value.
    """
    return pages.render(
        "validation_section.html.j2", **_section_context(issues, registry, tracker, feedback, submissions, month)
    )


def validation_page(
    issues: pd.DataFrame,
    registry: Registry,
    month: str,
    tracker: pd.DataFrame | None = None,
    feedback: dict[str, str] | None = None,
    submissions: pd.DataFrame | None = None,
) -> str:
    """The validation report of `month` as a standalone Vietnamese HTML page (see validation_html)."""
    title = f"Kết quả kiểm tra báo cáo tháng {format_month(check_month_format(month))}"
    return pages.render(
        "validation.html.j2",
        title=title,
        **_section_context(issues, registry, tracker, feedback, submissions, month),
    )
