"""Section I: the general assessment (the month's figures, submissions, the key figures, the
validation summary) and the progress against the year's targets."""

from __future__ import annotations

import pandas as pd

from dxreport import kpis, narrative
from dxreport.pages import render_fragment
from dxreport.report.context import Context, _scope
from dxreport.report.document import department
from dxreport.report.markup import _fmt, _missing, _note, _p, cell, num, row
from dxreport.report.markup import table as html_table
from dxreport.report.rejected import _rejected_place, rejected_rows
from dxreport.report.tables import indicator_table
from dxreport.textnorm import format_month, format_number, format_percent


# The figures of the general assessment's table, in this order.
KEY_INDICATORS = (
    "coverage_rate",
    "platforms_in_use",
    "lgsp_rate",
    "platform_mau",
    "platform_uses",
    "hues_downloads",
    "hues_penetration",
    "reports_received",
    "processed_rate",
    "satisfaction",
    "teams",
    "households",
    "sme_reached",
    "sme_using",
)


def general(ctx: Context) -> str:
    """I. General assessment: what the month's figures say, submissions, the key figures."""
    if ctx.is_province:
        names = set(ctx.lagging_units["unit"]) if not ctx.lagging_units.empty else set()
        sentences = narrative.summary(
            ctx.view, ctx.month, ctx.within, lagging_units=len(names), targets=ctx.progress, places=ctx.places
        )
    else:
        sentences = narrative.summary(ctx.view, ctx.month, ctx.unit_name, targets=ctx.progress, places=ctx.places)
        sentences[0] = submission_sentence(ctx)
        own = ctx.lagging_units[ctx.lagging_units["unit"] == ctx.unit] if not ctx.lagging_units.empty else None
        count = 0 if own is None else len(own)
        sentences.append(
            f"Đơn vị thuộc diện chậm triển khai theo {format_number(count)} tiêu chí (mục VII)."
            if count
            else "Đơn vị không thuộc diện chậm triển khai theo các tiêu chí ở mục VII."
        )
    # the opening sentence, the key figures' table (kept whole on a page), then the text, which
    # may run on over a page break: the month's figures, then targets and lagging units
    tail = 2 if ctx.progress is not None and not ctx.progress.empty else 1
    names = [n for n in KEY_INDICATORS if n in set(ctx.view["indicator"])]
    parts = [
        partial_notice(ctx),
        _p(sentences[0]),
        indicator_table(ctx, names=names),
        _p(*sentences[1:-tail]),
        _p(*sentences[-tail:]),
        _p(validation_summary(ctx), cls="dx-small"),
    ]
    return "\n".join(p for p in parts if p)


def partial_notice(ctx: Context) -> str:
    """A box on page 1 when too few units reported for the month's totals to stand for the province."""
    if not ctx.is_province:
        return ""
    view = ctx.view.set_index("indicator")["value"] if not ctx.view.empty else pd.Series(dtype=float)
    rate, got, expected = (view.get(k) for k in ("coverage_rate", "submissions_received", "submissions_expected"))
    if _missing(rate) or rate >= _scope(ctx).min_unit_coverage:
        return ""
    return render_fragment(
        "partial_notice.html.j2",
        month=format_month(ctx.month),
        whole=ctx.whole,
        got=format_number(got),
        expected=format_number(expected),
        rate=format_percent(rate),
    )


def submission_sentence(ctx: Context) -> str:
    """When the unit's accepted report arrived, and whether it was on time."""
    subs = ctx.submissions[(ctx.submissions["unit"] == ctx.unit) & (ctx.submissions["status"] == "accepted")]
    if subs.empty:
        return (
            f"{ctx.unit_name} chưa có báo cáo tháng {format_month(ctx.month)} được chấp nhận; các số liệu "
            "dưới đây để trống (–)."
        )
    r = subs.iloc[-1]
    when = pd.Timestamp(r["received_at"]).strftime("%d/%m/%Y") if not _missing(r["received_at"]) else "–"
    late = "sau hạn" if bool(r.get("late")) else "đúng hạn"
    return f"{ctx.unit_name} đã gửi báo cáo tháng {format_month(ctx.month)} ngày {when} ({late})."


def targets_table(ctx: Context) -> str:
    """Progress against the targets of params/targets.yaml for the month's year."""
    prog = ctx.progress
    year = ctx.month[:4]
    if prog.empty:
        return _note(f"Chưa có chỉ tiêu năm {year} áp dụng cho đơn vị.")
    body, notes = [], []
    for _, t in prog.iterrows():
        measured = isinstance(t["indicator"], str)
        kind = kpis.indicator(t["indicator"]).kind if measured else "rate"
        unit = "" if kind == "rate" else t["unit"]
        target = ("≤ " if t["comparison"] == "<=" else "≥ ") + narrative.threshold_text(t["target"], kind, unit)
        value, why = _target_value(t, kind, _scope(ctx), ctx.places) if measured else ("chưa đo được", "")
        progress = "–" if _missing(t["progress"]) else format_percent(t["progress"])
        met = {True: "Đạt", False: "Chưa đạt"}.get(t["met"], "–")
        if t["met"] is None and not _missing(t.get("unknown")) and t.get("unknown", 0) > 0:
            met = "Chưa đánh giá được"
            why = f"{format_number(t['unknown'])} {ctx.commune_kinds} chưa có số liệu hợp lệ"
        label = t["label"]
        said = [x for x in (t["note"], why) if x]
        if said:
            notes.append(f"({len(notes) + 1}) {t['label']}: {'; '.join(said)}.")
            label += f" ({len(notes)})"
        source = t["source"] if t["official"] else "Chỉ tiêu của Sở"
        body.append(row([cell(label), num(target), num(value), num(progress), cell(met), cell(source)]))
    head = [
        f"Chỉ tiêu năm {year}",
        "Mục tiêu",
        f"Tháng {format_month(ctx.month)}",
        "Mức đạt so với mục tiêu",
        "Đánh giá",
        "Nguồn chỉ tiêu",
    ]
    return html_table([head], body, "dx-table dx-compact dx-targets") + _note(
        " ".join(
            [
                *notes,
                f"“Chỉ tiêu của Sở”: mức do {department(ctx)} tự đặt để theo dõi, không phải chỉ tiêu chính thức.",
            ]
        )
    )


def _target_value(
    t: pd.Series, kind: str, scope: kpis.Scope, places: narrative.Places = narrative.PLACES
) -> tuple[str, str]:
    """A target's value, and why there is none (too few people behind a per-capita figure) or ''."""
    coverage = t.get("coverage")
    if _missing(t["value"]) and not _missing(coverage):
        return narrative.NOT_ENOUGH, (
            f"số liệu của {places.areas} đã báo cáo có {format_percent(coverage)} dân số, dưới "
            f"mức {format_percent(scope.min_population_coverage)} cần có để tính trên 100 dân"
        )
    return _fmt(t["value"], kind), ""


def validation_summary(ctx: Context) -> str:
    """How many files were received, rejected, late; rows left out; where to find the detail."""
    subs = ctx.submissions
    issues = ctx.issues
    if not ctx.is_province:
        subs = subs[subs["unit"] == ctx.unit]
        issues = issues[issues["unit"] == ctx.unit]
    accepted = int((subs["status"] == "accepted").sum())
    rejected = int((subs["status"] == "rejected").sum())
    superseded = int((subs["status"] == "superseded").sum())
    late = int(subs.loc[subs["status"] == "accepted", "late"].fillna(False).astype(bool).sum())
    files = narrative.join(
        [
            f"{format_number(n)} {words}"
            for n, words in (
                (accepted, "tệp được sử dụng"),
                (superseded, "tệp được thay thế bằng bản nộp lại"),
                (rejected, "tệp bị từ chối"),
            )
            if n
        ]
    )
    text = f"Đã nhận {format_number(len(subs))} tệp báo cáo" + (f": {files}" if files else "")
    text += f"; {format_number(late)} tệp nộp sau hạn." if late else "."
    rows = rejected_rows(ctx)
    warnings = int((issues["severity"] == "warning").sum())
    if not rows.empty:
        text += (
            f" {format_number(len(rows))} dòng số liệu có lỗi đã bị loại ra khỏi tổng hợp và được ghi là chưa "
            f"có số liệu hợp lệ (không tính là số 0): {'; '.join(_rejected_place(r) for _, r in rows.iterrows())}."
        )
    if warnings:
        text += f" Có {format_number(warnings)} cảnh báo về số liệu (liệt kê trong phụ lục)."
    return text
