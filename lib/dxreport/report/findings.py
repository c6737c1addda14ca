"""Sections VII and VIII: the shortcomings and their causes, the units and platforms that lag, and
the proposals (those that follow from the figures, those the units wrote)."""

from __future__ import annotations

import pandas as pd

from dxreport import kpis, narrative
from dxreport.params import PROVINCE
from dxreport.report.context import AREA, Context
from dxreport.report.document import _title, department, issuing_unit
from dxreport.report.markup import _heading, _list, _lower_first, _missing, _p, cell, num, row
from dxreport.report.markup import table as html_table
from dxreport.report.platforms import platform_rows
from dxreport.textnorm import format_number


# ----------------------------------------------------------------------------- tồn tại, hạn chế và nguyên nhân

#: How many different notes of the units the causes quote at most; the rest are counted.
MAX_NOTES = 12


def _lagging_items(ctx: Context) -> list[str]:
    """One sentence per lagging rule that names units (for a unit: its own), with their figures."""
    lag = ctx.lagging_units
    if lag.empty:
        return []
    deadline = ctx.settings.get("submission", {}).get("deadline_day")
    items = []
    for rule in ctx.rules:
        if rule.kind == "platform_not_deployed":
            continue
        part = lag[lag["rule"] == rule.id]
        if not ctx.is_province:
            part = part[part["unit"] == ctx.unit]
        if part.empty:
            continue
        text = narrative.rule_text(rule, reference=_rule_reference(ctx, rule), deadline_day=deadline, places=ctx.places)
        if not ctx.is_province:
            r = part.iloc[0]
            if rule.kind in ("not_submitted", "late") or _missing(r.get("value")):
                items.append(f"{text}.")
            else:
                ind = kpis.indicator(r["indicator"])
                items.append(f"{text}: đơn vị đạt {narrative.measure(r['value'], ind.kind, ind.unit)}.")
            continue
        named = []
        for _, r in part.iterrows():
            title = _title(ctx, r["unit"])
            if r["kind"] in ("not_submitted", "late") or _missing(r.get("value")):
                named.append(title)
            elif r["kind"] == "above" and r["threshold"] == 0:
                named.append(f"{title} ({format_number(r['value'])})")  # the rule says what is counted
            else:
                ind = kpis.indicator(r["indicator"])
                named.append(f"{title} ({narrative.measure(r['value'], ind.kind, ind.unit)})")
        items.append(f"{text}: {format_number(len(part))} đơn vị – {narrative.join(named)}.")
    return items


def _platform_items(ctx: Context) -> list[str]:
    """Catalog platforms that several units have not deployed (the province), or that the unit has not."""
    if ctx.is_province:
        plats = ctx.lagging_platforms
        if plats.empty:
            return []
        named = [f"{n} ({format_number(c)} đơn vị)" for n, c in zip(plats["subject_name"], plats["not_deployed"])]
        return [f"Nền tảng trong danh mục còn nhiều đơn vị chưa triển khai: {narrative.join(named)}."]
    rows = platform_rows(ctx)
    rows = rows[rows["status"] == "chua_trien_khai"]
    if rows.empty:
        return []
    return [f"Nền tảng đơn vị chưa triển khai: {narrative.join(sorted(set(rows['subject_name'])))}."]


def _target_items(ctx: Context) -> list[str]:
    """The targets of the year not met this month, with the figure and the target."""
    prog = ctx.progress
    if prog is None or prog.empty:
        return []
    named = []
    for _, t in prog[prog["met"] == False].iterrows():  # noqa: E712 - None: not measured
        kind = kpis.indicator(t["indicator"]).kind if isinstance(t["indicator"], str) else "count"
        unit = "" if kind == "rate" else t["unit"]
        target = ("không quá " if t["comparison"] == "<=" else "") + narrative.threshold_text(t["target"], kind, unit)
        named.append(f"“{t['label']}” ({narrative.measure(t['value'], kind, unit)}, mục tiêu {target})")
    if not named:
        return []
    return [f"Chưa đạt {format_number(len(named))} chỉ tiêu năm {ctx.month[:4]}: {narrative.join(named)}."]


def unit_notes(ctx: Context) -> pd.DataFrame:
    """The notes ("Ghi chú") units wrote beside the platforms that show a shortcoming: a platform not
    in use, a unit or a platform that lags. Columns: unit, subject_name, status, note."""
    rows = platform_rows(ctx)
    rows = rows[rows["note"].notna() & (rows["note"].astype(str).str.strip() != "")]
    lag = ctx.lagging_units
    units = set(lag["unit"]) if not lag.empty else set()
    plats = ctx.lagging_platforms
    subjects = set(plats["subject"]) if not plats.empty and "subject" in plats else set()
    keep = (rows["status"] != "dang_su_dung") | rows["unit"].isin(units) | rows["subject"].isin(subjects)
    return rows.loc[keep, ["unit", "subject_name", "status", "note"]].reset_index(drop=True)


def shortcomings(ctx: Context) -> str:
    """Tồn tại, hạn chế và nguyên nhân: the shortcomings the month's figures show (lagging units
    with their figures, platforms not deployed, targets not met) and their causes as the units
    wrote them in their notes, quoted (escaped)."""
    who = "các đơn vị" if ctx.is_province else "đơn vị"
    items = _lagging_items(ctx) + _platform_items(ctx) + _target_items(ctx)
    parts = [_heading("1. Tồn tại, hạn chế")]
    if items:
        parts.append(_list(items))
    else:
        parts.append(
            _p(
                f"Trong tháng, {who} không thuộc diện chậm triển khai theo các tiêu chí đang theo dõi và "
                "không có chỉ tiêu năm chưa đạt."
            )
        )
    parts.append(_heading("2. Nguyên nhân"))
    notes = unit_notes(ctx)
    if notes.empty:
        parts.append(_p(f"Báo cáo tháng của {who} chưa nêu nguyên nhân của các tồn tại, hạn chế trên."))
        return "\n".join(parts)
    quoted = []
    for note, group in notes.groupby("note", sort=False):
        where = [
            f"{n}, {_title(ctx, u)}" if ctx.is_province else n for u, n in zip(group["unit"], group["subject_name"])
        ]
        quoted.append((len(group), f"“{note}” ({'; '.join(where)})"))
    quoted.sort(key=lambda q: -q[0])
    lead = (
        "Theo ghi chú của các đơn vị trong báo cáo tháng (nguyên văn, kèm nền tảng và đơn vị):"
        if ctx.is_province
        else "Theo ghi chú của đơn vị trong báo cáo tháng (nguyên văn, kèm nền tảng):"
    )
    parts.append(_p(lead, cls="dx-lead"))
    parts.append(_list([text for _, text in quoted[:MAX_NOTES]]))
    if len(quoted) > MAX_NOTES:
        parts.append(_p(f"Và {format_number(len(quoted) - MAX_NOTES)} ghi chú khác."))
    return "\n".join(parts)


# ----------------------------------------------------------------------------- VII. lagging


def _rule_reference(ctx: Context, rule) -> float | None:
    if rule.kind != "below_share":
        return None
    part = ctx.values[
        (ctx.values["month"] == ctx.month)
        & (ctx.values["unit"] == PROVINCE)
        & (ctx.values["indicator"] == rule.indicator)
    ]
    return None if part.empty else float(part["value"].iloc[0])


def lagging(ctx: Context) -> str:
    """VII. Units and platforms that lag, by the rules of params/lagging.yaml (stated first)."""
    intro = _p(
        f"Đơn vị, nền tảng được xác định là chậm triển khai theo các tiêu chí do {department(ctx)} "
        "đặt ra dưới đây; mỗi dòng nêu một tiêu chí và kết quả của tháng. Số liệu bị loại khi kiểm tra hoặc "
        "chưa báo cáo không được dùng để đánh giá.",
        cls="dx-lead",
    )
    deadline = ctx.settings.get("submission", {}).get("deadline_day")
    lag = ctx.lagging_units
    body = []
    if ctx.is_province:
        plats = ctx.lagging_platforms
        for rule in ctx.rules:
            text = narrative.rule_text(
                rule, reference=_rule_reference(ctx, rule), deadline_day=deadline, places=ctx.places
            )
            if rule.kind == "platform_not_deployed":
                part = plats[plats["rule"] == rule.id] if not plats.empty else plats
                found = "; ".join(
                    f"{r['subject_name']}: {format_number(r['not_deployed'])} đơn vị chưa triển khai"
                    + (
                        f", {format_number(r['in_use'])} đơn vị đang sử dụng"
                        if r["in_use"]
                        else ", chưa đơn vị nào sử dụng"
                    )
                    for _, r in part.iterrows()
                )
            else:
                text += _whom(ctx, rule)
                part = lag[lag["rule"] == rule.id] if not lag.empty else lag
                found = "; ".join(
                    f"{ctx.names.get(r['unit'], r['unit'])}: {narrative.lagging_reason(r, ctx.places)}"
                    for _, r in part.iterrows()
                )
            body.append(row([cell(text), num(len(part)), cell(found or "Không có")]))
        head = ["Tiêu chí", "Số đơn vị, nền tảng", "Đơn vị, nền tảng chậm triển khai và số liệu"]
        return intro + html_table([head], body, "dx-table dx-compact dx-lagging")
    own = lag[lag["unit"] == ctx.unit] if not lag.empty else lag
    for rule in ctx.rules:
        if rule.kind == "platform_not_deployed" or not _applies(ctx, rule):
            continue
        hit = own[own["rule"] == rule.id] if not own.empty else own
        if not hit.empty:
            result, verdict = narrative.lagging_reason(hit.iloc[0], ctx.places), "Chậm triển khai"
        else:
            result, verdict = _rule_value(ctx, rule), "Không"
        text = narrative.rule_text(rule, reference=_rule_reference(ctx, rule), deadline_day=deadline, places=ctx.places)
        body.append(row([cell(text), cell(result), cell(verdict)]))
    head = ["Tiêu chí", "Số liệu của đơn vị", "Chậm triển khai"]
    return intro + html_table([head], body, "dx-table dx-compact dx-lagging-unit")


def _whom(ctx: Context, rule) -> str:
    """Whom a rule applies to, when not every unit: `; áp dụng cho huyện, thị xã, thành phố`."""
    applies = tuple(rule.applies_to)
    if applies in (("district",), ("area",)):
        return f"; áp dụng cho {ctx.area_kinds}"
    return f"; áp dụng cho {ctx.agency_kind}" if applies == ("agency",) else ""


def _applies(ctx: Context, rule) -> bool:
    """True if the rule applies to the unit (a rule written for "district" or "area" applies to
    every unit that reports for an area)."""
    roles = {ctx.unit_type, "area", "district"} if ctx.unit_type == AREA else {ctx.unit_type}
    return bool(roles & set(rule.applies_to))


def _rule_value(ctx: Context, rule) -> str:
    if rule.kind in ("not_submitted", "late"):
        subs = ctx.submissions[(ctx.submissions["unit"] == ctx.unit) & (ctx.submissions["status"] == "accepted")]
        if subs.empty:
            return "chưa có báo cáo"
        return "gửi sau hạn" if bool(subs["late"].fillna(False).any()) else "đã gửi đúng hạn"
    ind = ctx.indicator(rule.indicator)
    value = ctx.view.set_index("indicator")["value"].get(rule.indicator)
    if ind.kind == "count" and not _missing(value) and value == 0:
        return f"{_lower_first(ind.label)}: không có"
    return f"{_lower_first(ind.label)} {narrative.measure(None if _missing(value) else value, ind.kind, ind.unit)}"


# ----------------------------------------------------------------------------- VIII. proposals


def unit_proposals(ctx: Context) -> pd.DataFrame:
    """The proposals the units wrote in their `Nền tảng` sheets (unit, platform, text)."""
    rows = platform_rows(ctx)
    rows = rows[rows["proposal"].notna() & (rows["proposal"].astype(str).str.strip() != "")]
    return rows[["unit", "subject_name", "status", "proposal"]].reset_index(drop=True)


def proposals(ctx: Context) -> str:
    """VIII. Proposals: those that follow from the figures, then those the units wrote."""
    lag = ctx.lagging_units
    plats = ctx.lagging_platforms
    if not ctx.is_province:
        lag = lag[lag["unit"] == ctx.unit] if not lag.empty else lag
        plats = plats.iloc[0:0]
    own = issuing_unit(ctx)
    if own is not None and not lag.empty:
        lag = lag[lag["unit"] != own]  # never a proposal addressed to the issuing department
    communes = frozenset(c for c in ctx.unit_types if ctx.registry.get(c, ctx.month).type == "commune")
    generated = narrative.proposals_from_figures(
        lag, plats, ctx.rules, ctx.names, ctx.progress, places=ctx.places, communes=communes
    )
    parts = []
    if generated:
        parts.append(
            _p(
                f"Từ kết quả tháng, {department(ctx)} đề xuất:"
                if ctx.is_province
                else f"Từ kết quả tháng của đơn vị, {department(ctx)} đề xuất:"
            )
        )
        parts.append(_list(generated, ordered=True))
    else:
        parts.append(_p("Số liệu tháng không đặt ra đề xuất mới theo các tiêu chí và chỉ tiêu đang theo dõi."))
    props = unit_proposals(ctx)
    if props.empty:
        parts.append(_p("Không có đề xuất nào trong báo cáo của " + ("các đơn vị." if ctx.is_province else "đơn vị.")))
    else:
        if ctx.is_province:
            parts.append(
                _p(
                    f"Các đơn vị có {format_number(len(props))} đề xuất trong báo cáo tháng, theo nền tảng "
                    "(nội dung nguyên văn tại Phụ lục kèm theo):",
                    cls="dx-lead",
                )
            )
            grouped = props.groupby("subject_name", sort=True)["unit"].apply(list)
            body = [
                row([cell(name), num(len(units)), cell(narrative.join([ctx.names.get(u, u) for u in units]))])
                for name, units in grouped.items()
            ]
            head = ["Nền tảng", "Số đơn vị đề xuất", "Đơn vị đề xuất"]
        else:
            parts.append(_p("Đề xuất của đơn vị trong báo cáo tháng (nguyên văn):", cls="dx-lead"))
            body = [
                row([cell(r["subject_name"]), cell(r["proposal"])])
                for _, r in props.sort_values("subject_name").iterrows()
            ]
            head = ["Nền tảng", "Đề xuất"]
        parts.append(html_table([head], body, "dx-table dx-compact dx-proposals"))
    return "\n".join(parts)
