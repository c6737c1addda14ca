"""The administrative parts of a report (Decree 30/2020/NĐ-CP): the header with the place and
date, the summary line (trích yếu), how units are named, the closing (Nơi nhận, the signer) and
the note on the sources of the figures."""

from __future__ import annotations

from datetime import date

import pandas as pd
from markupsafe import Markup

from dxreport.pages import render_fragment
from dxreport.months import following as following_month
from dxreport.params import issuer_on, previous_month
from dxreport.params import today as params_today
from dxreport.report.context import Context
from dxreport.report.markup import _lower_first, _missing, _note
from dxreport.textnorm import format_month, format_number


#: The place and date line when the report is not dated: filled in by hand when it is signed.
BLANK_DATE = "ngày … tháng … năm 20…"


def signing_date(ctx: Context, today: date | None = None) -> date | None:
    """The date printed under the motto; None: the blank form (BLANK_DATE).

    The date given (`--report-date`, the notebook's `report_date`) when there is one. Otherwise
    the run date (`today`, default today in Huế) for a month's real data run in the month after
    it, when the report is made to be sent; the blank form for sample data and for a month run
    later than that (an earlier month made again), whose date the run cannot know.
    """
    if ctx.run.report_date:
        return ctx.run.report_date
    today = today or params_today()
    due = previous_month(f"{today:%Y-%m}") == ctx.month
    return today if due and not ctx.is_sample else None


def issuer(ctx: Context, today: date | None = None) -> dict:
    """The issuer of params/settings.yaml (report.issuers) in force on the signing date, or, with
    no date yet, on the first day of the month after the reporting month."""
    when = signing_date(ctx, today) or date.fromisoformat(following_month(ctx.month) + "-01")
    return issuer_on(ctx.settings["report"]["issuers"], when)


def place_date(ctx: Context, today: date | None = None) -> str:
    """`Thừa Thiên Huế, ngày 06 tháng 01 năm 2023`, or the blank form to fill in by hand."""
    when = signing_date(ctx, today)
    text = BLANK_DATE if when is None else f"ngày {when.day:02d} tháng {when.month:02d} năm {when.year}"
    return f"{issuer(ctx, today)['place']}, {text}"


def unit_title(ctx: Context, code: str | None = None) -> str:
    """How the department's text names a unit in the month (Decree 30/2020/NĐ-CP, Appendix II):
    the People's Committee of an area unit (`UBND huyện Phú Vang`, `UBND thành phố Huế` until
    2024, `UBND quận Thuận Hóa` in 2025 H1, `UBND phường Phú Xuân` from 2025-07), an agency by its
    name (`Sở Nội vụ`), the province by its area (`tỉnh Thừa Thiên Huế`, from 2025 `thành phố Huế`)."""
    code = code or ctx.unit
    unit = ctx.registry.get(code, ctx.month)
    if unit.type == "agency":
        return unit.name
    if unit.type == "province":
        return _lower_first(unit.name)
    return f"UBND {_lower_first(unit.name)}"


def unit_titles(ctx: Context) -> dict[str, str]:
    """The month's reporting units -> unit_title (to name units inside sentences)."""
    return {code: unit_title(ctx, code) for code in ctx.unit_types}


def issuing_unit(ctx: Context) -> str | None:
    """The registry code of the reporting unit that issues the report (report.issuing_body), if
    it is one: a proposal is never addressed to it."""
    body = issuer(ctx)["issuing_body"].casefold()
    found = [code for code in ctx.unit_types if ctx.registry.get(code, ctx.month).name.casefold() == body]
    return found[0] if found else None


def department(ctx: Context) -> str:
    """The issuing department as a sentence names it: its name in the registry (`Sở Thông tin và
    Truyền thông`, `Sở Khoa học và Công nghệ`)."""
    code = issuing_unit(ctx)
    return ctx.registry.name_of(code, ctx.month) if code else "Sở"


def trich_yeu(ctx: Context) -> str:
    """The report's summary line (trích yếu): what it reports, of whom, for which month."""
    what = f"Kết quả mức độ sử dụng các nền tảng số tháng {format_month(ctx.month)}"
    return f"{what} trên địa bàn {unit_title(ctx)}" if ctx.is_province else f"{what} của {unit_title(ctx)}"


def header(ctx: Context, today: date | None = None) -> str:
    """The administrative header (Decree 30/2020/NĐ-CP, Appendix I): the issuing body and the
    number, the national title and motto, place and date (signing_date), the sample-data notice,
    then "BÁO CÁO" and its summary. A báo cáo has no "Kính gửi": its recipients are listed under
    "Nơi nhận" (signature)."""
    rep = issuer(ctx, today)
    return render_fragment(
        "header.html.j2",
        parent=rep["issuing_body_parent"],
        body=rep["issuing_body"],
        number_suffix=rep["number_suffix"],
        place_date=place_date(ctx, today),
        is_sample=ctx.is_sample,
        summary=trich_yeu(ctx),
    )


def _title(ctx: Context, code: str) -> str:
    """unit_title of a registry unit, else its name in ctx.names (or the code)."""
    return unit_title(ctx, code) if code in ctx.registry else ctx.names.get(code, code)


# ----------------------------------------------------------------------------- closing: Nơi nhận, signature


def recipients(ctx: Context) -> list[str]:
    """Who receives the report (params/settings.yaml): report.recipients for the province's report,
    report.unit_recipients for a unit's, where {unit} is the unit (unit_title)."""
    rep = ctx.settings["report"]
    if ctx.is_province:
        return list(issuer(ctx)["recipients"])
    return [r.replace("{unit}", unit_title(ctx)) for r in rep["unit_recipients"]]


def recipients_block(ctx: Context) -> str:
    """ "Nơi nhận:" then one line per recipient, the last "Lưu: VT, …." (Decree 30/2020/NĐ-CP)."""
    lines = [f"- {r};" for r in recipients(ctx)]
    lines.append(f"- Lưu: {', '.join(ctx.settings['report']['archive'])}.")
    return render_fragment("recipients.html.j2", lines=lines)


def signer_block(ctx: Context) -> str:
    """The signature (Decree 30/2020/NĐ-CP): quyền hạn (KT. GIÁM ĐỐC, omitted when the head signs)
    and chức vụ in capitals, a blank space for the signature and the seal, the signer's name."""
    signer = ctx.settings["report"]["signer"]
    caps = [line.upper() for line in (signer.get("authority"), signer["title"]) if line]
    return render_fragment("signer.html.j2", caps=caps, name=signer["name"])


def signature(ctx: Context) -> str:
    """The end of the report: Nơi nhận on the left, the signature on the right, kept on one page."""
    return render_fragment(
        "signature.html.j2", recipients=Markup(recipients_block(ctx)), signer=Markup(signer_block(ctx))
    )


def sources_note(ctx: Context) -> str:
    """A short closing note, in plain words, on where the figures come from: the units' monthly
    reports (how many, or when the unit's arrived), the date of the Ministry's catalogs, the annex."""
    subs = ctx.submissions[ctx.submissions["status"] == "accepted"]
    month = format_month(ctx.month)
    if ctx.is_province:
        expected = len(ctx.unit_types)
        count = subs["unit"].nunique()
        text = (
            f"Số liệu trong báo cáo được tổng hợp từ báo cáo tháng {month} của {format_number(count)}/"
            f"{format_number(expected)} đơn vị"
        )
    else:
        own = subs[subs["unit"] == ctx.unit]
        if own.empty:
            text = f"{unit_title(ctx)} chưa có báo cáo tháng {month}; các số liệu của đơn vị để trống"
        else:
            last = own.iloc[-1]["received_at"]
            when = "" if _missing(last) else f" nhận ngày {pd.Timestamp(last):%d/%m/%Y}"
            text = f"Số liệu trong báo cáo lấy từ báo cáo tháng {month} của {unit_title(ctx)}{when}"
    if ctx.snapshot_date:
        text += f"; danh mục nền tảng số của {ctx.ministry} cập nhật ngày {ctx.snapshot_date}"
    text += ". Số liệu chi tiết của từng đơn vị tại Phụ lục kèm theo."
    if ctx.is_sample:
        text += " Đây là số liệu mẫu để minh họa, không phải số liệu chính thức."
    return _note(text)
