"""What a report notebook shows: the month's context from the warehouse, and HTML blocks.

The report of the province (`tinh`) and the report of a unit have the same sections:

    I.    Đánh giá chung                       general(ctx), targets_table(ctx)
    II.   Nền tảng số phục vụ chính quyền       government(ctx)
    III.  Nền tảng số phục vụ doanh nghiệp      business(ctx)
    IV.   Nền tảng số phục vụ người dân, Hue-S  citizens(ctx)
    V.    Tổ công nghệ số cộng đồng             teams(ctx)
    VI.   Thay đổi danh mục nền tảng số          catalog_changes(ctx)
    VII.  Tồn tại, hạn chế và nguyên nhân       shortcomings(ctx), lagging(ctx)
    VIII. Đề xuất, kiến nghị                    proposals(ctx)
          Nguồn số liệu, nơi nhận, chữ ký        sources_note(ctx), signature(ctx)

A section function returns HTML; every text that comes from a submission, the catalog or the
registry is escaped. Sentences come from dxreport.narrative, numbers in Vietnamese format.
The province's tables compare the districts (or the units); a unit's tables give its rank and
the average of its peers (the districts, or the provincial agencies) beside each figure.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path

import pandas as pd

from dxreport import kpis, narrative, store
from dxreport.fileio import write_atomic
from dxreport.forms import STATUS_CHOICES
from dxreport.params import (PROVINCE, SCRATCH_DIR, ParamError, RunParams, load_settings, previous_month,
                             validate_run)
from dxreport.params import today as params_today
from dxreport.publish import STAGING
from dxreport.textnorm import format_month, format_number, format_percent
from dxreport.units import Registry, load_registry

CATALOG_TITLES = {"chinh_quyen": "Nền tảng số phục vụ chính quyền",
                  "doanh_nghiep": "Nền tảng số phục vụ doanh nghiệp",
                  "nguoi_dan": "Nền tảng số phục vụ người dân",
                  kpis.OUTSIDE_CATALOG: "Nền tảng không có trong danh mục của Bộ TT&TT"}
# The figures of the general assessment's table, in this order.
KEY_INDICATORS = ("coverage_rate", "platforms_in_use", "lgsp_rate", "platform_mau", "platform_uses", "hues_downloads",
                  "hues_penetration", "reports_received", "processed_rate", "satisfaction", "teams", "households",
                  "sme_reached", "sme_using")
NO_CHANGE_INFO = "Chưa có thông tin so sánh danh mục"
# Column headers of the districts' tables, shorter than the indicators' labels (the table's
# section says what they are about).
SHORT_LABELS = {
    "hues_downloads": "Lượt tải lũy kế", "hues_penetration": "Lượt tải /100 dân", "hues_accounts": "Tài khoản đăng ký",
    "reports_received": "Phản ánh tiếp nhận", "processed_rate": "Tỷ lệ đã xử lý", "on_time_rate": "Tỷ lệ đúng hạn",
    "satisfaction": "Tỷ lệ hài lòng", "teams": "Số tổ lũy kế", "members": "Thành viên lũy kế",
    "communes_with_team": "Xã đã có tổ", "communes_without_team": "Xã chưa có tổ", "teams_per_commune": "Tổ /xã",
    "trainings": "Buổi tập huấn", "trained": "Lượt người tập huấn", "households": "Hộ được hỗ trợ",
    "sme_reached": "DN tiếp cận SMEdx (lũy kế)", "sme_using": "DN sử dụng nền tảng (lũy kế)",
    "sme_using_rate": "Tỷ lệ DN sử dụng /tiếp cận", "dbi_assessed": "DN tự đánh giá DBI (lũy kế)",
    "sme_supported": "DN được hỗ trợ trong tháng",
}


@dataclass
class Context:
    """Everything a report for one unit and month needs, read once from the warehouse."""

    run: RunParams
    registry: Registry
    settings: dict
    values: pd.DataFrame          # every indicator, unit and month, with changes and the year
    submissions: pd.DataFrame     # the month's submissions
    issues: pd.DataFrame          # the month's validation issues
    facts: pd.DataFrame           # the month's facts
    catalog: pd.DataFrame
    snapshot_date: str
    is_sample: bool
    targets: list = field(default_factory=list)
    rules: list = field(default_factory=list)
    changes: pd.DataFrame | None = None     # catalog_changes of the month; None: no such table
    fetches: pd.DataFrame | None = None     # catalog_fetches of the month; None: no such table
    extra: dict = field(default_factory=dict)
    dest: Path | None = None      # where kpis.csv and the annex are written; None: the unit's folder

    @property
    def month(self) -> str:
        return self.run.month

    @property
    def unit(self) -> str:
        return self.run.unit

    @property
    def is_province(self) -> bool:
        return self.unit == PROVINCE

    @property
    def unit_name(self) -> str:
        return self.registry.get(self.unit).name

    @property
    def area(self) -> str:
        """How the text names the unit's area: 'toàn tỉnh' or the unit's name."""
        return "toàn tỉnh" if self.is_province else self.unit_name

    @property
    def unit_type(self) -> str:
        return self.registry.get(self.unit).type

    @property
    def is_area(self) -> bool:
        """The province or a district: the units with Hue-S, teams and enterprises."""
        return self.unit_type in ("province", "district")

    @cached_property
    def peers(self) -> tuple[list[str], str]:
        """The units this unit is ranked among, and how the text names them."""
        return kpis.peers_of(self.registry, self.month, self.unit)

    @cached_property
    def view(self) -> pd.DataFrame:
        """This unit's indicators this month (with rank and peer average for a unit)."""
        return kpis.unit_view(self.values, self.month, self.unit, self.peers[0] or None)

    @cached_property
    def names(self) -> dict[str, str]:
        """Unit code -> name, the province included."""
        names = {u.code: u.name for u in self.registry.units}
        names[PROVINCE] = "Toàn tỉnh"
        return names

    @cached_property
    def unit_types(self) -> dict[str, str]:
        """The month's reporting units -> 'district' or 'agency'."""
        return {u.code: u.type for u in self.registry.reporting_units(self.month)}

    @cached_property
    def platforms(self) -> pd.DataFrame:
        """The month's platform rows of every unit (kpis.platform_rows)."""
        return kpis.platform_rows(self.facts, self.catalog)

    @cached_property
    def lagging_units(self) -> pd.DataFrame:
        return kpis.lagging_units(self.values, self.month, self.unit_types, self.rules)

    @cached_property
    def lagging_platforms(self) -> pd.DataFrame:
        summary = kpis.platform_summary(self.platforms, self.unit_types)
        return kpis.lagging_platforms(summary, self.rules)

    @cached_property
    def progress(self) -> pd.DataFrame:
        return kpis.progress(self.values, self.month, self.unit, self.targets)

    @property
    def out_dir(self) -> Path:
        return self.dest if self.dest is not None else self.run.outputs / self.month / self.unit


def load(month: str, unit: str, *, inbox: str = "", outputs: str = "", stage: str = "",
         report_date: str = "") -> Context:
    """Validate the parameters and read the month from the warehouse (read-only).

    `report_date` (YYYY-MM-DD or empty) is the date printed under the motto (see signing_date).

    Where the files go: `stage` (the runner's staging folder for this report, which must lie in
    outputs/<month>/.staging/); else the unit's folder of `outputs`. Without `outputs` (a notebook
    run by hand) nothing published is touched: the published warehouse is read when it holds the
    month (else the scratch one), and the files go to outputs/_scratch/<month>/<unit>/.
    """
    run = validate_run({"month": month, "unit": unit, "inbox": inbox or None, "outputs": outputs or None,
                        "report_date": report_date or None})
    dest = None
    if stage:
        if not outputs or not Path(stage).resolve().is_relative_to((run.outputs / run.month / STAGING).resolve()):
            raise ParamError(f"thư mục tạm {stage!r} không thuộc {run.outputs / run.month / STAGING}")
        dest = Path(stage)
    elif not outputs:
        dest = SCRATCH_DIR / run.month / run.unit
        if not _has_month(store.warehouse_path(run.outputs), run.month):
            run = replace(run, outputs=SCRATCH_DIR)
    registry = load_registry()
    with store.connect(store.warehouse_path(run.outputs), read_only=True) as con:
        values = store.indicators_frame(con)
        submissions = store.submissions_frame(con, run.month)
        issues = store.issues_frame(con, run.month)
        facts = store.facts_frame(con, [run.month])
        catalog = con.execute("SELECT * FROM catalog ORDER BY catalog, name").df()
        changes = store.month_rows(con, "catalog_changes", run.month)
        fetches = store.month_rows(con, "catalog_fetches", run.month)
    accepted = submissions[submissions["status"] == "accepted"]
    snapshot = pd.Timestamp(catalog["snapshot_date"].max()).strftime("%d/%m/%Y") if not catalog.empty else ""
    return Context(run=run, registry=registry, settings=load_settings(), values=kpis.with_year(values),
                   submissions=submissions, issues=issues, facts=facts, catalog=catalog,
                   snapshot_date=snapshot, is_sample=bool(accepted["is_sample"].any()),
                   targets=kpis.load_targets(), rules=kpis.load_rules(), changes=changes, fetches=fetches, dest=dest)


def _has_month(warehouse: Path, month: str) -> bool:
    if not warehouse.exists():
        return False
    try:
        with store.connect(warehouse, read_only=True) as con:
            return month in store.months_loaded(con)
    except Exception:  # noqa: BLE001 - a warehouse that cannot be read holds no month
        return False


# ----------------------------------------------------------------------------- small HTML helpers

def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _p(*sentences: str, cls: str = "") -> str:
    text = " ".join(s for s in sentences if s)
    if not text:
        return ""
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{_e(text)}</p>"


def _note(text: str) -> str:
    return f'<p class="dx-note">{_e(text)}</p>' if text else ""


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _fmt(value: object, kind: str) -> str:
    if _missing(value):
        return "–"
    return format_percent(value) if kind == "rate" else format_number(value, 0 if kind == "count" else 1)


def _fmt_change(row: pd.Series, column: str = "change") -> str:
    change = row.get(column)
    if _missing(change):
        return "–"
    sign = "+" if change > 0 else ""
    if row["kind"] == "rate":
        return f"{sign}{format_number(change, 1)} điểm %"
    return sign + format_number(change, 0 if row["kind"] == "count" else 1)


def _fmt_ytd(row: pd.Series, month: str) -> str:
    ytd = row.get("ytd")
    if _missing(ytd):
        return "–"
    text = _fmt(ytd, row["kind"])
    months = row.get("ytd_months")
    if not _missing(months) and int(months) < int(month[5:7]):
        text += f" ({int(months)}/{int(month[5:7])} th)"
    return text


def _num(value: object) -> str:
    return f'<td class="num">{_e(value)}</td>'


def _table(head: str, body: list[str], cls: str = "dx-table") -> str:
    return f'<table class="{cls}"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'


# ----------------------------------------------------------------------------- header

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


def place_date(ctx: Context, today: date | None = None) -> str:
    """`Thừa Thiên Huế, ngày 06 tháng 01 năm 2023`, or the blank form to fill in by hand."""
    when = signing_date(ctx, today)
    text = BLANK_DATE if when is None else f"ngày {when.day:02d} tháng {when.month:02d} năm {when.year}"
    return f"{ctx.settings['report']['place']}, {text}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def unit_title(ctx: Context, code: str | None = None) -> str:
    """How the department's text names a unit (Decree 30/2020/NĐ-CP, Appendix II): the People's
    Committee of a district (`UBND huyện Phú Vang`, `UBND thành phố Huế`), an agency by its name
    (`Sở Nội vụ`), the province by its area (`tỉnh Thừa Thiên Huế`)."""
    code = code or ctx.unit
    unit = ctx.registry.get(code)
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
    body = ctx.settings["report"]["issuing_body"].casefold()
    found = [code for code in ctx.unit_types if ctx.registry.get(code).name.casefold() == body]
    return found[0] if found else None


def trich_yeu(ctx: Context) -> str:
    """The report's summary line (trích yếu): what it reports, of whom, for which month."""
    what = f"Kết quả mức độ sử dụng các nền tảng số tháng {format_month(ctx.month)}"
    return f"{what} trên địa bàn {unit_title(ctx)}" if ctx.is_province else f"{what} của {unit_title(ctx)}"


def header(ctx: Context, today: date | None = None) -> str:
    """The administrative header (Decree 30/2020/NĐ-CP, Appendix I): the issuing body and the
    number, the national title and motto, place and date (signing_date), the sample-data notice,
    then "BÁO CÁO" and its summary. A báo cáo has no "Kính gửi": its recipients are listed under
    "Nơi nhận" (signature)."""
    rep = ctx.settings["report"]
    parts = [
        '<table class="dx-header"><tr>',
        f'<td><div class="dx-org-parent">{_e(rep["issuing_body_parent"])}</div>'
        f'<div class="dx-org">{_e(rep["issuing_body"])}</div>'
        f'<div class="dx-number">Số: &nbsp;&nbsp;&nbsp;&nbsp;/{_e(rep["number_suffix"])}</div></td>',
        '<td><div class="dx-nation">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</div>'
        '<div class="dx-motto">Độc lập - Tự do - Hạnh phúc</div>'
        f'<div class="dx-place-date">{_e(place_date(ctx, today))}</div></td>',
        "</tr></table>",
    ]
    if ctx.is_sample:
        parts.append('<div class="dx-sample-banner"><strong>DỮ LIỆU MẪU</strong> – báo cáo này được lập từ '
                     "số liệu mẫu để minh họa, không phải số liệu chính thức của các đơn vị.</div>")
    parts.append('<div class="dx-title"><div class="dx-doctype">BÁO CÁO</div></div>')
    parts.append(f'<div class="dx-subtitle">{_e(trich_yeu(ctx))}</div>')
    return "\n".join(parts)


# ----------------------------------------------------------------------------- closing: Nơi nhận, signature

def recipients(ctx: Context) -> list[str]:
    """Who receives the report (params/settings.yaml): report.recipients for the province's report,
    report.unit_recipients for a unit's, where {unit} is the unit (unit_title)."""
    rep = ctx.settings["report"]
    if ctx.is_province:
        return list(rep["recipients"])
    return [r.replace("{unit}", unit_title(ctx)) for r in rep["unit_recipients"]]


def recipients_block(ctx: Context) -> str:
    """"Nơi nhận:" then one line per recipient, the last "Lưu: VT, …." (Decree 30/2020/NĐ-CP)."""
    lines = [f"- {r};" for r in recipients(ctx)]
    lines.append(f"- Lưu: {', '.join(ctx.settings['report']['archive'])}.")
    body = "".join(f'<div style="margin:0">{_e(line)}</div>' for line in lines)
    return ('<div class="dx-recipients" style="text-align:left;font-size:11pt;line-height:1.25">'
            '<div style="font-size:12pt;font-weight:bold;font-style:italic;margin:0">Nơi nhận:</div>'
            f"{body}</div>")


def signer_block(ctx: Context) -> str:
    """The signature (Decree 30/2020/NĐ-CP): quyền hạn (KT. GIÁM ĐỐC, omitted when the head signs)
    and chức vụ in capitals, a blank space for the signature and the seal, the signer's name."""
    signer = ctx.settings["report"]["signer"]
    lines = [signer.get("authority"), signer["title"]]
    caps = "".join(f'<div style="margin:0">{_e(line.upper())}</div>' for line in lines if line)
    return ('<div class="dx-signer" style="text-align:center;font-weight:bold;font-size:13pt;line-height:1.3">'
            f'{caps}<div class="dx-signature-space" style="height:30mm"></div>'
            f'<div style="margin:0">{_e(signer["name"])}</div></div>')


def signature(ctx: Context) -> str:
    """The end of the report: Nơi nhận on the left, the signature on the right, kept on one page."""
    return ('<table class="dx-closing" style="width:100%;border:0;border-collapse:collapse;table-layout:fixed;'
            'margin:18pt 0 0 0;break-inside:avoid;page-break-inside:avoid"><tr>'
            f'<td style="width:50%;border:0;vertical-align:top;padding:0">{recipients_block(ctx)}</td>'
            f'<td style="width:50%;border:0;vertical-align:top;padding:0">{signer_block(ctx)}</td>'
            "</tr></table>")


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
        text = narrative.rule_text(rule, reference=_rule_reference(ctx, rule), deadline_day=deadline)
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
                named.append(f"{title} ({format_number(r['value'])})")     # the rule says what is counted
            else:
                ind = kpis.indicator(r["indicator"])
                named.append(f"{title} ({narrative.measure(r['value'], ind.kind, ind.unit)})")
        items.append(f"{text}: {format_number(len(part))} đơn vị – {narrative.join(named)}.")
    return items


def _title(ctx: Context, code: str) -> str:
    return unit_title(ctx, code) if code in ctx.registry else ctx.names.get(code, code)


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
    parts = ["<h3>1. Tồn tại, hạn chế</h3>"]
    if items:
        parts.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>")
    else:
        parts.append(_p(f"Trong tháng, {who} không thuộc diện chậm triển khai theo các tiêu chí đang theo dõi và "
                        "không có chỉ tiêu năm chưa đạt."))
    parts.append("<h3>2. Nguyên nhân</h3>")
    notes = unit_notes(ctx)
    if notes.empty:
        parts.append(_p(f"Báo cáo tháng của {who} chưa nêu nguyên nhân của các tồn tại, hạn chế trên."))
        return "\n".join(parts)
    quoted = []
    for note, group in notes.groupby("note", sort=False):
        where = [f"{n}, {_title(ctx, u)}" if ctx.is_province else n
                 for u, n in zip(group["unit"], group["subject_name"])]
        quoted.append((len(group), f"“{note}” ({'; '.join(where)})"))
    quoted.sort(key=lambda q: -q[0])
    lead = ("Theo ghi chú của các đơn vị trong báo cáo tháng (nguyên văn, kèm nền tảng và đơn vị):" if ctx.is_province
            else "Theo ghi chú của đơn vị trong báo cáo tháng (nguyên văn, kèm nền tảng):")
    parts.append(_p(lead, cls="dx-lead"))
    parts.append("<ul>" + "".join(f"<li>{_e(text)}</li>" for _, text in quoted[:MAX_NOTES]) + "</ul>")
    if len(quoted) > MAX_NOTES:
        parts.append(_p(f"Và {format_number(len(quoted) - MAX_NOTES)} ghi chú khác."))
    return "\n".join(parts)


# ----------------------------------------------------------------------------- indicator tables

def indicator_table(ctx: Context, sections: list[str] | None = None, names: list[str] | tuple[str, ...] | None = None,
                    *, notes: bool = True) -> str:
    """This unit's indicators: this month, the month before and the change, the same month last
    year, the year to date; for a unit also its rank and its peers' average. `notes`: explain
    the columns under the table (once per report is enough)."""
    view = ctx.view
    if names:
        view = view.set_index("indicator").reindex([n for n in names if n in set(view["indicator"])]).reset_index()
    elif sections:
        view = view[view["section"].isin(sections)]
    if view.empty:
        return _note("Không có chỉ tiêu nào cho đơn vị trong mục này.")
    prev = format_month(previous_month(ctx.month))
    last_year = format_month(kpis.same_month_last_year(ctx.month))
    unit_mode = not ctx.is_province and "rank" in view
    head = (f"<tr><th>Chỉ tiêu</th><th>Đơn vị tính</th><th>Tháng {format_month(ctx.month)}</th>"
            + (f"<th>Tháng {prev}</th>" if not unit_mode else "")
            + "<th>Tăng/giảm so với tháng trước</th>"
            + f"<th>Cùng kỳ {last_year}</th><th>Lũy kế từ đầu năm</th>"
            + (f"<th>Xếp hạng</th><th>Bình quân {_e(_peers_short(ctx))}</th>" if unit_mode else "")
            + "</tr>")
    body = []
    for _, r in view.iterrows():
        cells = [f"<td>{_e(r['label'])}</td><td>{_e(r['measure'])}</td>", _num(_fmt(r["value"], r["kind"]))]
        if not unit_mode:
            cells.append(_num(_fmt(r.get("previous"), r["kind"])))
        cells.append(_num(_fmt_change(r)))
        cells.append(_num(_fmt(r.get("last_year"), r["kind"])))
        cells.append(_num(_fmt_ytd(r, ctx.month)))
        if unit_mode:
            rank = r.get("rank")
            cells.append(_num("–" if _missing(rank) else f"{format_number(rank)}/{format_number(r['ranked_among'])}"))
            mean = _fmt(r.get("peer_mean"), r["kind"])
            if not _missing(r.get("peer_mean")) and r.get("ranked_among") == 1:
                mean += " (chỉ 1 đơn vị có số liệu)"
            cells.append(_num(mean))
        body.append(f"<tr>{''.join(cells)}</tr>")
    table = _table(head, body, "dx-table dx-compact dx-indicators")
    if not notes:
        return table
    text = []
    missing = view["last_year"].isna() if "last_year" in view else pd.Series(True, index=view.index)
    if missing.all():
        text.append(f"Cùng kỳ: kho dữ liệu chưa có số liệu tháng {last_year}, để trống (–).")
    elif missing.any():
        text.append(f"Cùng kỳ: – là chưa có số liệu tháng {last_year}.")
    text.append("Tăng/giảm so với tháng trước chỉ tính trên các đơn vị và các dòng số liệu có trong cả hai tháng.")
    text.append("Lũy kế từ đầu năm chỉ tính cho số liệu phát sinh trong tháng; (n/m th): số liệu của n trong m tháng.")
    if unit_mode:
        text.append(f"Xếp hạng: thứ tự của đơn vị trong các {ctx.peers[1]} có số liệu, 1 là tốt nhất (– khi các đơn "
                    "vị bằng nhau hoặc chỉ tiêu không dùng để xếp hạng); bình quân: trung bình cộng của các đơn vị "
                    "đó. Các bảng chỉ tiêu sau có cùng cách trình bày.")
    return table + _note(" ".join(text))


def _peers_short(ctx: Context) -> str:
    return "các huyện" if ctx.unit_type == "district" else "các cơ quan"


def district_table(ctx: Context, names: list[str], *, population: bool = False) -> str:
    """The districts side by side for these indicators, the province total last."""
    month = ctx.values[ctx.values["month"] == ctx.month]
    wide = month.pivot_table(index="unit", columns="indicator", values="value", aggfunc="first")
    units = [u.code for u in ctx.registry.districts(ctx.month)] + [PROVINCE]
    head = "<tr><th>Đơn vị</th>" + ("<th>Dân số (năm số liệu)</th>" if population else "")
    head += "".join(f"<th>{_e(SHORT_LABELS.get(n, kpis.indicator(n).label))}</th>" for n in names) + "</tr>"
    body = []
    for code in units:
        unit = ctx.registry.get(code)
        name = "Toàn tỉnh" if code == PROVINCE else unit.name
        cells = ""
        if population:
            pop = "–" if unit.population is None else f"{format_number(unit.population)} ({unit.population_year})"
            cells += _num(pop)
        cells += "".join(_num(_fmt(wide.at[code, n] if code in wide.index and n in wide else None,
                                   kpis.indicator(n).kind)) for n in names)
        cls = ' class="dx-total"' if code == PROVINCE else (' class="dx-current"' if code == ctx.unit else "")
        body.append(f"<tr{cls}><td>{_e(name)}</td>{cells}</tr>")
    return _table(head, body, "dx-table dx-compact")


# ----------------------------------------------------------------------------- platforms

def platform_rows(ctx: Context) -> pd.DataFrame:
    """The platform rows of this unit (or of every unit for the province), one row per platform."""
    rows = ctx.platforms
    return rows if ctx.is_province else rows[rows["unit"] == ctx.unit]


def platform_table(ctx: Context, catalog: str | None = None) -> str:
    """The unit's platforms (status, accounts, active users, uses, LGSP); for the province, per
    platform: how many units use it, try it or have not deployed it, with the sums."""
    rows = platform_rows(ctx)
    if catalog:
        rows = rows[rows["catalog"] == catalog]
    if rows.empty:
        # the section's sentence (narrative.catalog_platforms) already says so
        return "" if catalog else _note("Chưa có báo cáo nền tảng nào trong tháng.")
    if ctx.is_province:
        return _province_platform_table(rows, ctx)
    order = {k: i for i, k in enumerate(kpis.STATUS_KEYS)}
    rows = rows.assign(_o=rows["status"].map(order)).sort_values(["_o", "subject_name"])
    body = []
    for _, r in rows.iterrows():
        lgsp = {1.0: "Có", 0.0: "Không"}.get(r.get("lgsp"), "–")
        body.append(f"<tr><td>{_e(r['subject_name'])}</td><td>{_e(STATUS_CHOICES.get(r.get('status'), '–'))}</td>"
                    f"{_num(_fmt(r.get('accounts'), 'count'))}{_num(_fmt(r.get('mau'), 'count'))}"
                    f"{_num(_fmt(r.get('uses'), 'count'))}<td>{lgsp}</td></tr>")
    head = ("<tr><th>Nền tảng</th><th>Tình trạng</th><th>Tài khoản lũy kế</th><th>Người dùng hoạt động trong tháng</th>"
            "<th>Lượt sử dụng trong tháng</th><th>Kết nối LGSP</th></tr>")
    return _table(head, body, "dx-table dx-compact dx-platforms")


def _province_platform_table(rows: pd.DataFrame, ctx: Context) -> str:
    summary = kpis.platform_summary(rows, ctx.unit_types)
    body, current = [], None
    for _, r in summary.iterrows():
        if r["catalog"] != current and summary["catalog"].nunique() > 1:
            current = r["catalog"]
            body.append(f'<tr class="dx-group"><td colspan="9">{_e(CATALOG_TITLES.get(current, current))}</td></tr>')
        # residents of the districts and staff of the agencies are summed apart, never together
        body.append(f"<tr><td>{_e(r['subject_name'])}</td>{_num(int(r['in_use']))}{_num(int(r['trial']))}"
                    f"{_num(int(r['not_deployed']))}{_num(int(r['lgsp']))}{_num(_fmt(r['accounts_districts'], 'count'))}"
                    f"{_num(_fmt(r['mau_districts'], 'count'))}{_num(_fmt(r['uses_districts'], 'count'))}"
                    f"{_num(_fmt(r['mau_agencies'], 'count'))}</tr>")
    head = ('<tr><th rowspan="2">Nền tảng</th><th colspan="4">Số đơn vị</th>'
            '<th colspan="3">Trên địa bàn các huyện, thị xã, thành phố</th><th>Các sở, ban, ngành</th></tr>'
            "<tr><th>Đang sử dụng</th><th>Thử nghiệm</th><th>Chưa triển khai</th><th>Đã kết nối LGSP</th>"
            "<th>Tài khoản lũy kế</th><th>Người dùng hoạt động</th><th>Lượt sử dụng</th>"
            "<th>Người dùng hoạt động</th></tr>")
    return _table(head, body, "dx-table dx-compact dx-platforms")


def _not_deployed_sentence(ctx: Context, catalog: str) -> str:
    rows = platform_rows(ctx)
    rows = rows[(rows["catalog"] == catalog) & (rows["status"] == "chua_trien_khai")]
    if rows.empty:
        return ""
    if not ctx.is_province:
        names = sorted(set(rows["subject_name"]))
        proposed = int(rows["proposal"].notna().sum())
        return (f"Chưa triển khai: {narrative.join(names)}; đơn vị có {format_number(proposed)} đề xuất "
                "(mục VIII).")
    counts = rows.groupby("subject_name")["unit"].nunique().sort_values(ascending=False)
    items = [f"{n} ({format_number(c)} đơn vị)" for n, c in counts.items()]
    proposed = int(rows["proposal"].notna().sum())
    return (f"Nền tảng còn đơn vị chưa triển khai: {narrative.join(items)}; các đơn vị có "
            f"{format_number(proposed)} đề xuất triển khai (tổng hợp ở mục VIII).")


def government(ctx: Context) -> str:
    """II. Platforms serving the government: deployed, used, connected (LGSP), not deployed."""
    who = "các đơn vị trong tỉnh" if ctx.is_province else narrative.in_sentence(ctx.unit_name)
    parts = [_p(narrative.catalog_platforms(ctx.view, "chinh_quyen", who), narrative.lgsp(ctx.view, who),
                narrative.ranks(ctx.view, ["platform_deployments", "lgsp_rate"], ctx.peers[1])),
             platform_table(ctx, "chinh_quyen"),
             _p(_not_deployed_sentence(ctx, "chinh_quyen"))]
    if not ctx.is_province:
        parts.append(indicator_table(ctx, names=["chinh_quyen_in_use", "chinh_quyen_not_deployed", "lgsp_deployments",
                                                 "lgsp_rate", "platform_mau", "platform_uses"], notes=False))
    return "\n".join(p for p in parts if p)


def business(ctx: Context) -> str:
    """III. Platforms serving enterprises; the SME programme (SMEdx) and DBI."""
    who = "các đơn vị trong tỉnh" if ctx.is_province else narrative.in_sentence(ctx.unit_name)
    parts = [_p(narrative.catalog_platforms(ctx.view, "doanh_nghiep", who)), platform_table(ctx, "doanh_nghiep"),
             _p(_not_deployed_sentence(ctx, "doanh_nghiep"))]
    if ctx.is_area:
        ytd = narrative.year_to_date(ctx.view, "sme_supported", ctx.month, "lượt doanh nghiệp")
        parts.append(_p(narrative.smes(ctx.view, _area(ctx)), _upper(ytd) + "." if ytd else "",
                        narrative.ranks(ctx.view, ["sme_reached", "sme_using_rate"], ctx.peers[1])))
        if ctx.is_province:
            parts.append(district_table(ctx, ["sme_reached", "sme_using", "sme_using_rate", "dbi_assessed",
                                              "sme_supported"]))
        else:
            parts.append(indicator_table(ctx, names=["sme_reached", "sme_using", "sme_using_rate", "dbi_assessed",
                                                     "sme_supported"], notes=False))
    else:
        parts.append(_note("Đơn vị là cơ quan cấp tỉnh, không báo cáo số liệu doanh nghiệp theo địa bàn."))
    return "\n".join(p for p in parts if p)


def _area(ctx: Context) -> str:
    """The unit's area as written inside a sentence: 'toàn tỉnh', 'huyện Phú Vang'."""
    return "toàn tỉnh" if ctx.is_province else narrative.in_sentence(ctx.unit_name)


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def citizens(ctx: Context) -> str:
    """IV. Platforms serving citizens, and the Hue-S app."""
    who = "các đơn vị trong tỉnh" if ctx.is_province else narrative.in_sentence(ctx.unit_name)
    parts = [_p(narrative.catalog_platforms(ctx.view, "nguoi_dan", who)), platform_table(ctx, "nguoi_dan"),
             _p(_not_deployed_sentence(ctx, "nguoi_dan"))]
    outside = platform_rows(ctx)
    outside = outside[outside["catalog"] == kpis.OUTSIDE_CATALOG]
    if not outside.empty:
        names = [f"{n} ({narrative.in_sentence(ctx.names.get(u, u))})"
                 for n, u in zip(outside["subject_name"], outside["unit"])]
        parts.append(_p(f"Nền tảng do đơn vị tự triển khai, không có trong danh mục của Bộ TT&TT: "
                        f"{narrative.join(names)}."))
    if ctx.is_area:
        population_year = ctx.registry.get(ctx.unit).population_year
        ytd = narrative.year_to_date(ctx.view, "reports_received", ctx.month, "phản ánh")
        threshold = _scope(ctx).min_population_coverage
        parts.append(_p(narrative.hue_s(ctx.view, ctx.month, population_year, _area(ctx), threshold),
                        _upper(ytd) + "." if ytd else "",
                        narrative.per_capita(ctx.view, "ehealth_penetration", "ehealth_coverage",
                                             "Tài khoản Sổ sức khỏe điện tử", threshold),
                        narrative.per_capita(ctx.view, "vneid_penetration", "vneid_coverage", "Tài khoản VNeID",
                                             threshold),
                        narrative.ranks(ctx.view, ["hues_penetration", "processed_rate", "on_time_rate", "satisfaction"],
                                        ctx.peers[1])))
        if ctx.is_province:
            parts.append(district_table(ctx, ["hues_downloads", "hues_penetration", "hues_accounts", "reports_received",
                                              "processed_rate", "on_time_rate", "satisfaction"], population=True))
        else:
            parts.append(indicator_table(ctx, names=["hues_downloads", "hues_downloads_month", "hues_penetration",
                                                     "hues_accounts", "reports_received", "processed_rate", "on_time_rate",
                                                     "satisfaction", "ehealth_penetration", "vneid_penetration"],
                                         notes=False))
    else:
        parts.append(_note("Đơn vị là cơ quan cấp tỉnh, không báo cáo số liệu Hue-S theo địa bàn."))
    return "\n".join(p for p in parts if p)


def teams(ctx: Context) -> str:
    """V. Community digital technology teams."""
    if not ctx.is_area:
        return _note("Đơn vị là cơ quan cấp tỉnh, không báo cáo tổ công nghệ số cộng đồng theo địa bàn.")
    ytd = narrative.year_to_date(ctx.view, "households", ctx.month, "lượt hộ")
    parts = [_p(narrative.teams(ctx.view, _area(ctx)), f"Số hộ được hỗ trợ {ytd}." if ytd else "",
                narrative.ranks(ctx.view, ["teams_per_commune", "households"], ctx.peers[1])),
             _p(teams_rejected_sentence(ctx))]
    if ctx.is_province:
        parts.append(district_table(ctx, ["teams", "members", "communes_with_team", "communes_without_team",
                                          "teams_per_commune", "trainings", "trained", "households"]))
    else:
        parts.append(indicator_table(ctx, sections=["to_cns"], notes=False))
        parts.append(commune_table(ctx))
    return "\n".join(p for p in parts if p)


def teams_rejected_sentence(ctx: Context) -> str:
    """Names the unit and the commune of every rejected row of the teams sheet: their figures are
    missing, neither a commune without a team nor a reason to call the district lagging."""
    rows = rejected_rows(ctx)
    rows = rows[rows["sheet"] == TEAMS_SHEET] if not rows.empty else rows
    if rows.empty:
        return ""
    items = []
    for unit, part in rows.groupby("unit", sort=False):
        name = narrative.people_committee(str(part["unit_name"].iloc[0]))
        communes = part["communes"].iloc[0]
        lines = narrative.join([f"dòng {r}" for r in part["row"] if r])
        items.append(f"{name}: {communes or lines} ({narrative.join(list(dict.fromkeys(part['reason'])))})")
    return ("Số liệu tổ công nghệ số của các xã, phường, thị trấn sau bị loại khi kiểm tra, được ghi là chưa có số "
            "liệu hợp lệ, không tính là chưa có tổ và không dùng để đánh giá chậm triển khai: "
            + "; ".join(items) + ".")


def commune_table(ctx: Context) -> str:
    """A district's communes: teams, members, trainings, people trained, households helped."""
    communes = ctx.registry.communes_of(ctx.unit, ctx.month)
    facts = ctx.facts[(ctx.facts["sheet"] == "to_cns") & (ctx.facts["unit"] == ctx.unit)]
    wide = facts.pivot_table(index="subject", columns="metric", values="value", aggfunc="first") if not facts.empty \
        else pd.DataFrame()
    metrics = ["teams", "members", "trainings", "trained", "households"]
    rejected = _rejected_communes(ctx, ctx.unit)
    body = []
    for c in communes:
        if c.code not in wide.index and narrative.in_sentence(c.name) in rejected:
            body.append(f'<tr class="dx-current"><td>{_e(c.name)}</td>'
                        f'<td colspan="{len(metrics)}">Chưa có số liệu hợp lệ (dòng số liệu bị loại khi kiểm tra)</td>'
                        "</tr>")
            continue
        cells = "".join(_num(_fmt(wide.at[c.code, m] if c.code in wide.index and m in wide else None, "count"))
                        for m in metrics)
        none = c.code not in wide.index or _missing(wide.at[c.code, "teams"] if "teams" in wide else None) \
            or wide.at[c.code, "teams"] == 0
        cls = ' class="dx-current"' if none else ""
        body.append(f"<tr{cls}><td>{_e(c.name)}</td>{cells}</tr>")
    head = ("<tr><th>Xã, phường, thị trấn</th><th>Số tổ lũy kế</th><th>Thành viên lũy kế</th><th>Buổi tập huấn</th>"
            "<th>Lượt người được tập huấn</th><th>Hộ được hỗ trợ</th></tr>")
    return _table(head, body, "dx-table dx-compact") + _note(
        "Dòng in nghiêng: xã, phường, thị trấn chưa có tổ hoặc chưa có số liệu trong tháng (–: không báo cáo).")


# ----------------------------------------------------------------------------- I. general

def general(ctx: Context) -> str:
    """I. General assessment: what the month's figures say, submissions, the key figures."""
    if ctx.is_province:
        names = set(ctx.lagging_units["unit"]) if not ctx.lagging_units.empty else set()
        sentences = narrative.summary(ctx.view, ctx.month, "các đơn vị trong tỉnh", lagging_units=len(names),
                                      targets=ctx.progress)
    else:
        sentences = narrative.summary(ctx.view, ctx.month, ctx.unit_name, targets=ctx.progress)
        sentences[0] = submission_sentence(ctx)
        own = ctx.lagging_units[ctx.lagging_units["unit"] == ctx.unit] if not ctx.lagging_units.empty else None
        count = 0 if own is None else len(own)
        sentences.append(f"Đơn vị thuộc diện chậm triển khai theo {format_number(count)} tiêu chí (mục VII)."
                         if count else "Đơn vị không thuộc diện chậm triển khai theo các tiêu chí ở mục VII.")
    # the opening sentence, the key figures' table (kept whole on a page), then the text, which
    # may run on over a page break: the month's figures, then targets and lagging units
    tail = 2 if ctx.progress is not None and not ctx.progress.empty else 1
    names = [n for n in KEY_INDICATORS if n in set(ctx.view["indicator"])]
    parts = [partial_notice(ctx), _p(sentences[0]), indicator_table(ctx, names=names), _p(*sentences[1:-tail]),
             _p(*sentences[-tail:]), _p(validation_summary(ctx), cls="dx-small")]
    return "\n".join(p for p in parts if p)


def _scope(ctx: Context) -> kpis.Scope:
    if "scope" not in ctx.extra:
        ctx.extra["scope"] = kpis.load_scope()
    return ctx.extra["scope"]


def partial_notice(ctx: Context) -> str:
    """A box on page 1 when too few units reported for the month's totals to stand for the province."""
    if not ctx.is_province:
        return ""
    view = ctx.view.set_index("indicator")["value"] if not ctx.view.empty else pd.Series(dtype=float)
    rate, got, expected = (view.get(k) for k in ("coverage_rate", "submissions_received", "submissions_expected"))
    if _missing(rate) or rate >= _scope(ctx).min_unit_coverage:
        return ""
    return ('<div class="dx-sample-banner dx-partial-notice"><strong>SỐ LIỆU CHƯA ĐẦY ĐỦ</strong> – tháng '
            f"{_e(format_month(ctx.month))} mới có {_e(format_number(got))}/{_e(format_number(expected))} đơn vị gửi "
            f"báo cáo ({_e(format_percent(rate))}). Các tổng số dưới đây chỉ gồm các đơn vị đã gửi, chưa phản ánh "
            "toàn tỉnh; mức tăng, giảm chỉ so sánh các đơn vị có số liệu cả hai tháng.</div>")


def submission_sentence(ctx: Context) -> str:
    """When the unit's accepted report arrived, and whether it was on time."""
    subs = ctx.submissions[(ctx.submissions["unit"] == ctx.unit) & (ctx.submissions["status"] == "accepted")]
    if subs.empty:
        return (f"{ctx.unit_name} chưa có báo cáo tháng {format_month(ctx.month)} được chấp nhận; các số liệu "
                "dưới đây để trống (–).")
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
        value, why = _target_value(t, kind, _scope(ctx)) if measured else ("chưa đo được", "")
        progress = "–" if _missing(t["progress"]) else format_percent(t["progress"])
        met = {True: "Đạt", False: "Chưa đạt"}.get(t["met"], "–")
        if t["met"] is None and not _missing(t.get("unknown")) and t.get("unknown", 0) > 0:
            met = "Chưa đánh giá được"
            why = f"{format_number(t['unknown'])} xã, phường, thị trấn chưa có số liệu hợp lệ"
        label = t["label"]
        said = [x for x in (t["note"], why) if x]
        if said:
            notes.append(f"({len(notes) + 1}) {t['label']}: {'; '.join(said)}.")
            label += f" ({len(notes)})"
        source = t["source"] if t["official"] else "Chỉ tiêu của Sở"
        body.append(f"<tr><td>{_e(label)}</td>{_num(target)}{_num(value)}{_num(progress)}<td>{met}</td>"
                    f"<td>{_e(source)}</td></tr>")
    head = (f"<tr><th>Chỉ tiêu năm {year}</th><th>Mục tiêu</th><th>Tháng {format_month(ctx.month)}</th>"
            "<th>Mức đạt so với mục tiêu</th><th>Đánh giá</th><th>Nguồn chỉ tiêu</th></tr>")
    return _table(head, body, "dx-table dx-compact dx-targets") + _note(" ".join([
        *notes, "“Chỉ tiêu của Sở”: mức do Sở Thông tin và Truyền thông tự đặt để theo dõi, không phải chỉ tiêu "
        "chính thức."]))


def _target_value(t: pd.Series, kind: str, scope: kpis.Scope) -> tuple[str, str]:
    """A target's value, and why there is none (too few people behind a per-capita figure) or ''."""
    coverage = t.get("coverage")
    if _missing(t["value"]) and not _missing(coverage):
        return narrative.NOT_ENOUGH, (f"số liệu của các huyện đã báo cáo có {format_percent(coverage)} dân số, dưới "
                                      f"mức {format_percent(scope.min_population_coverage)} cần có để tính trên 100 dân")
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
    files = narrative.join([f"{format_number(n)} {words}" for n, words in (
        (accepted, "tệp được sử dụng"), (superseded, "tệp được thay thế bằng bản nộp lại"),
        (rejected, "tệp bị từ chối")) if n])
    text = f"Đã nhận {format_number(len(subs))} tệp báo cáo" + (f": {files}" if files else "")
    text += f"; {format_number(late)} tệp nộp sau hạn." if late else "."
    rows = rejected_rows(ctx)
    warnings = int((issues["severity"] == "warning").sum())
    if not rows.empty:
        text += (f" {format_number(len(rows))} dòng số liệu có lỗi đã bị loại ra khỏi tổng hợp và được ghi là chưa "
                 f"có số liệu hợp lệ (không tính là số 0): {'; '.join(_rejected_place(r) for _, r in rows.iterrows())}.")
    if warnings:
        text += f" Có {format_number(warnings)} cảnh báo về số liệu (liệt kê trong phụ lục)."
    return text


# Validation rules that reject a row of a sheet; what the row is about is in its message.
_ROW_RULES = ("cell.", "row.")
_PLACE = r"^[^:]*![A-Z]+\d+:\s*"            # "Tổ công nghệ số!D13: " opening a row's message
_TAIL = r";\s*dòng \d+ không được nạp\.?$"   # "; dòng 13 không được nạp." closing it


def rejected_rows(ctx: Context) -> pd.DataFrame:
    """The month's rejected rows (of this unit, or of every unit for the province): unit, sheet,
    row number, reason in plain words, and the commune the row was about when it can be told."""
    import re

    issues = ctx.issues
    if not ctx.is_province:
        issues = issues[issues["unit"] == ctx.unit]
    errors = issues[(issues["severity"] == "error") & issues["rule"].astype(str).str.startswith(_ROW_RULES)]
    errors = errors.drop_duplicates(["unit", "sheet", "cell", "rule"])
    out = []
    for _, r in errors.iterrows():
        message = str(r["message"])
        line = re.search(r"(\d+)$", str(r["cell"] or ""))
        reason = re.sub(_TAIL, "", re.sub(_PLACE, "", message)).strip()
        out.append({"unit": r["unit"], "unit_name": ctx.names.get(r["unit"], r["unit"]), "sheet": r["sheet"],
                    "row": line.group(1) if line else "", "reason": reason[:1].upper() + reason[1:]})
    frame = pd.DataFrame(out, columns=["unit", "unit_name", "sheet", "row", "reason"])
    frame = frame.drop_duplicates(["unit", "sheet", "row"])
    frame["communes"] = [_rejected_communes(ctx, u) if s == TEAMS_SHEET else ""
                         for u, s in zip(frame["unit"], frame["sheet"])]
    return frame.reset_index(drop=True)


TEAMS_SHEET = "Tổ công nghệ số"


def communes_without_valid_row(ctx: Context, unit: str) -> list[str]:
    """The communes of a district with no valid row in the month's `Tổ công nghệ số` sheet."""
    facts = ctx.facts[(ctx.facts["sheet"] == "to_cns") & (ctx.facts["unit"] == unit)]
    reported = set(facts["subject"])
    return [c.name for c in ctx.registry.communes_of(unit, ctx.month) if c.code not in reported]


def _rejected_communes(ctx: Context, unit: str) -> str:
    """The commune(s) behind a district's rejected rows of the teams sheet, when they can be told:
    the communes with no valid row, if there are no more of them than rejected rows."""
    issues = ctx.issues
    rows = issues[(issues["unit"] == unit) & (issues["sheet"] == TEAMS_SHEET) & (issues["severity"] == "error")
                  & issues["rule"].astype(str).str.startswith(_ROW_RULES)].drop_duplicates(["cell", "rule"])
    missing = communes_without_valid_row(ctx, unit)
    lines = rows["cell"].astype(str).str.extract(r"(\d+)$")[0].nunique()
    if not missing or len(missing) > lines:
        return ""
    return narrative.join([narrative.in_sentence(name) for name in missing])


def _rejected_place(r: pd.Series) -> str:
    unit = narrative.in_sentence(str(r["unit_name"]))
    where = f"{unit}, biểu {r['sheet']}" + (f", dòng {r['row']}" if r["row"] else "")
    if r["communes"]:
        where += f" ({r['communes']})"
    return f"{where}: {r['reason']}"


# ----------------------------------------------------------------------------- VI. catalog changes

def catalog_changes(ctx: Context) -> str:
    """VI. What changed in the MIC catalogs this month, and which snapshot the report used."""
    from dxreport import catalog as catalog_mod

    titles = getattr(catalog_mod, "CATALOGS", CATALOG_TITLES)
    change_words = getattr(catalog_mod, "CHANGES", {"added": "thêm mới", "removed": "không còn trong danh mục",
                                                    "renamed": "đổi tên"})
    outcomes = getattr(catalog_mod, "OUTCOMES", {})
    snapshot = f"Báo cáo dùng danh mục nền tảng bản chụp ngày {ctx.snapshot_date}." if ctx.snapshot_date else \
        "Kho dữ liệu chưa có danh mục nền tảng."
    if ctx.changes is None:
        return _p(f"{NO_CHANGE_INFO}: tháng này chưa có kết quả đối chiếu danh mục của Bộ TT&TT với bản chụp "
                  f"trước.", snapshot)
    parts = []
    # without a fetch log the changes table is taken as it is; with one, a month where no catalog
    # could be fetched has nothing to compare
    fetched = ctx.fetches is None or (not ctx.fetches.empty and bool((ctx.fetches["outcome"] == "ok").any()))
    if ctx.fetches is not None and not ctx.fetches.empty:
        lines = []
        for _, f in ctx.fetches.iterrows():
            outcome = outcomes.get(f["outcome"], f["outcome"])
            text = outcome
            if not _missing(f.get("items")) and f["outcome"] == "ok":
                text += f", {format_number(f['items'])} nền tảng"
            message = "" if _missing(f.get("message")) else str(f["message"])
            if message and f["outcome"] != "ok":
                text = message
            lines.append((titles.get(f["catalog"], f["catalog"]), text))
        if len({t for _, t in lines}) == 1 and len(lines) > 1:
            parts.append(_p(f"Tải danh mục trong tháng, cả {format_number(len(lines))} danh mục: {lines[0][1]}."))
        else:
            parts.append("<ul>" + "".join(f"<li>{_e(n)}: {_e(t)}.</li>" for n, t in lines) + "</ul>")
    changes = ctx.changes
    if changes.empty and not fetched:
        return "\n".join([_p(f"{NO_CHANGE_INFO}: tháng này không có bản tải mới danh mục của Bộ TT&TT để đối "
                              "chiếu với bản chụp trước.", snapshot), *parts])
    if changes.empty:
        lead = _p("Trong tháng, danh mục nền tảng số của Bộ TT&TT không có thay đổi (không thêm, bớt hay đổi tên "
                  "nền tảng nào) so với bản chụp trước.", snapshot)
        return "\n".join([lead, *parts])
    counts = changes["change"].value_counts()
    summary = narrative.join([f"{format_number(counts[k])} nền tảng {change_words.get(k, k)}"
                              for k in ("added", "removed", "renamed") if k in counts])
    lead = _p(f"Trong tháng, danh mục nền tảng số của Bộ TT&TT có thay đổi: {summary}.", snapshot)
    body = []
    for _, c in changes.iterrows():
        previous = "" if _missing(c.get("previous_name")) else c["previous_name"]
        body.append(f"<tr><td>{_e(titles.get(c['catalog'], c['catalog']))}</td>"
                    f"<td>{_e(change_words.get(c['change'], c['change']))}</td><td>{_e(c['name'])}</td>"
                    f"<td>{_e(previous)}</td></tr>")
    head = "<tr><th>Danh mục</th><th>Thay đổi</th><th>Nền tảng</th><th>Tên trước đây</th></tr>"
    return "\n".join([lead, *parts, _table(head, body, "dx-table dx-compact")])


# ----------------------------------------------------------------------------- VII. lagging

def _rule_reference(ctx: Context, rule) -> float | None:
    if rule.kind != "below_share":
        return None
    part = ctx.values[(ctx.values["month"] == ctx.month) & (ctx.values["unit"] == PROVINCE)
                      & (ctx.values["indicator"] == rule.indicator)]
    return None if part.empty else float(part["value"].iloc[0])


def lagging(ctx: Context) -> str:
    """VII. Units and platforms that lag, by the rules of params/lagging.yaml (stated first)."""
    intro = _p("Đơn vị, nền tảng được xác định là chậm triển khai theo các tiêu chí do Sở Thông tin và Truyền thông "
               "đặt ra dưới đây; mỗi dòng nêu một tiêu chí và kết quả của tháng. Số liệu bị loại khi kiểm tra hoặc "
               "chưa báo cáo không được dùng để đánh giá.", cls="dx-lead")
    deadline = ctx.settings.get("submission", {}).get("deadline_day")
    lag = ctx.lagging_units
    body = []
    if ctx.is_province:
        plats = ctx.lagging_platforms
        for rule in ctx.rules:
            text = narrative.rule_text(rule, reference=_rule_reference(ctx, rule), deadline_day=deadline)
            if rule.kind == "platform_not_deployed":
                part = plats[plats["rule"] == rule.id] if not plats.empty else plats
                found = "; ".join(f"{r['subject_name']}: {format_number(r['not_deployed'])} đơn vị chưa triển khai"
                                  + (f", {format_number(r['in_use'])} đơn vị đang sử dụng" if r["in_use"] else
                                     ", chưa đơn vị nào sử dụng") for _, r in part.iterrows())
            else:
                text += _whom(rule)
                part = lag[lag["rule"] == rule.id] if not lag.empty else lag
                found = "; ".join(f"{ctx.names.get(r['unit'], r['unit'])}: {narrative.lagging_reason(r)}"
                                  for _, r in part.iterrows())
            body.append(f"<tr><td>{_e(text)}</td>{_num(len(part))}<td>{_e(found or 'Không có')}</td></tr>")
        head = "<tr><th>Tiêu chí</th><th>Số đơn vị, nền tảng</th><th>Đơn vị, nền tảng chậm triển khai và số liệu</th></tr>"
        return intro + _table(head, body, "dx-table dx-compact dx-lagging")
    own = lag[lag["unit"] == ctx.unit] if not lag.empty else lag
    for rule in ctx.rules:
        if rule.kind == "platform_not_deployed" or ctx.unit_type not in rule.applies_to:
            continue
        hit = own[own["rule"] == rule.id] if not own.empty else own
        if not hit.empty:
            result, verdict = narrative.lagging_reason(hit.iloc[0]), "Chậm triển khai"
        else:
            result, verdict = _rule_value(ctx, rule), "Không"
        text = narrative.rule_text(rule, reference=_rule_reference(ctx, rule), deadline_day=deadline)
        body.append(f"<tr><td>{_e(text)}</td><td>{_e(result)}</td><td>{verdict}</td></tr>")
    head = "<tr><th>Tiêu chí</th><th>Số liệu của đơn vị</th><th>Chậm triển khai</th></tr>"
    return intro + _table(head, body, "dx-table dx-compact dx-lagging-unit")


def _whom(rule) -> str:
    return {("district",): "; áp dụng cho huyện, thị xã, thành phố",
            ("agency",): "; áp dụng cho cơ quan cấp tỉnh"}.get(tuple(rule.applies_to), "")


def _rule_value(ctx: Context, rule) -> str:
    if rule.kind in ("not_submitted", "late"):
        subs = ctx.submissions[(ctx.submissions["unit"] == ctx.unit) & (ctx.submissions["status"] == "accepted")]
        if subs.empty:
            return "chưa có báo cáo"
        return "gửi sau hạn" if bool(subs["late"].fillna(False).any()) else "đã gửi đúng hạn"
    ind = kpis.indicator(rule.indicator)
    value = ctx.view.set_index("indicator")["value"].get(rule.indicator)
    if ind.kind == "count" and not _missing(value) and value == 0:
        return f"{_lower(ind.label)}: không có"
    return f"{_lower(ind.label)} {narrative.measure(None if _missing(value) else value, ind.kind, ind.unit)}"


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


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
        lag = lag[lag["unit"] != own]          # never a proposal addressed to the issuing department
    generated = narrative.proposals_from_figures(lag, plats, ctx.rules, ctx.names, ctx.progress)
    parts = []
    if generated:
        parts.append(_p("Từ kết quả tháng, Sở Thông tin và Truyền thông đề xuất:" if ctx.is_province
                        else "Từ kết quả tháng của đơn vị, Sở Thông tin và Truyền thông đề xuất:"))
        parts.append("<ol>" + "".join(f"<li>{_e(g)}</li>" for g in generated) + "</ol>")
    else:
        parts.append(_p("Số liệu tháng không đặt ra đề xuất mới theo các tiêu chí và chỉ tiêu đang theo dõi."))
    props = unit_proposals(ctx)
    if props.empty:
        parts.append(_p("Không có đề xuất nào trong báo cáo của " + ("các đơn vị." if ctx.is_province else "đơn vị.")))
    else:
        if ctx.is_province:
            parts.append(_p(f"Các đơn vị có {format_number(len(props))} đề xuất trong báo cáo tháng, theo nền tảng "
                            "(nội dung nguyên văn tại Phụ lục kèm theo):", cls="dx-lead"))
            grouped = props.groupby("subject_name", sort=True)["unit"].apply(list)
            body = [f"<tr><td>{_e(name)}</td>{_num(len(units))}"
                    f"<td>{_e(narrative.join([ctx.names.get(u, u) for u in units]))}</td></tr>"
                    for name, units in grouped.items()]
            head = "<tr><th>Nền tảng</th><th>Số đơn vị đề xuất</th><th>Đơn vị đề xuất</th></tr>"
        else:
            parts.append(_p("Đề xuất của đơn vị trong báo cáo tháng (nguyên văn):", cls="dx-lead"))
            body = [f"<tr><td>{_e(r['subject_name'])}</td><td>{_e(r['proposal'])}</td></tr>"
                    for _, r in props.sort_values("subject_name").iterrows()]
            head = "<tr><th>Nền tảng</th><th>Đề xuất</th></tr>"
        parts.append(_table(head, body, "dx-table dx-compact dx-proposals"))
    return "\n".join(parts)


# ----------------------------------------------------------------------------- chart data

def series(ctx: Context, indicator: str, unit: str | None = None) -> pd.DataFrame:
    """Month and value of one indicator for one unit, months up to the report's month."""
    unit = unit or ctx.unit
    v = ctx.values
    part = v[(v["unit"] == unit) & (v["indicator"] == indicator) & (v["month"] <= ctx.month)]
    return part[["month", "value"]].sort_values("month")


def trend_frame(ctx: Context, indicators: dict[str, str], unit: str | None = None) -> pd.DataFrame:
    """Month, series label and value of several indicators of one unit (for charts.trends)."""
    frames = [series(ctx, name, unit).assign(series=label) for name, label in indicators.items()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["month", "value", "series"])


def districts_frame(ctx: Context, indicator: str) -> pd.DataFrame:
    """Label and value of one indicator for each district this month."""
    v = ctx.values
    part = v[(v["month"] == ctx.month) & (v["indicator"] == indicator)]
    codes = {u.code: u.name for u in ctx.registry.districts(ctx.month)}
    part = part[part["unit"].isin(list(codes))]
    return pd.DataFrame({"code": part["unit"], "label": part["unit"].map(codes), "value": part["value"]})


def province_value(ctx: Context, indicator: str) -> float | None:
    """The province's value of an indicator this month (a reference line in charts)."""
    v = ctx.values
    part = v[(v["month"] == ctx.month) & (v["unit"] == PROVINCE) & (v["indicator"] == indicator)]
    return None if part.empty or _missing(part["value"].iloc[0]) else float(part["value"].iloc[0])


def grid_frame(ctx: Context) -> pd.DataFrame:
    """Unit × platform statuses of the month (for charts.status_grid): short unit names in
    registry order and platforms in catalog order, as ordered categories."""
    rows = ctx.platforms
    units = [u for u in ctx.registry.reporting_units(ctx.month)]
    short = {u.code: u.short_name for u in units}
    cat_order = {c: i for i, c in enumerate([*kpis.CATALOG_KEYS, kpis.OUTSIDE_CATALOG])}
    rows = rows[rows["unit"].isin(list(short))]
    platforms = (rows.assign(_c=rows["catalog"].map(cat_order)).sort_values(["_c", "subject_name"])
                 ["subject_name"].drop_duplicates().tolist())
    return pd.DataFrame({
        "unit_label": pd.Categorical(rows["unit"].map(short), categories=[short[u.code] for u in units], ordered=True),
        "platform_label": pd.Categorical(rows["subject_name"], categories=platforms, ordered=True),
        "status": rows["status"].to_numpy(), "group": rows["catalog"].to_numpy(),
        "unit_group": rows["unit"].map(ctx.unit_types).to_numpy()}).reset_index(drop=True)


# ----------------------------------------------------------------------------- notes, files

def sources_note(ctx: Context) -> str:
    """A short closing note, in plain words, on where the figures come from: the units' monthly
    reports (how many, or when the unit's arrived), the date of the Ministry's catalogs, the annex."""
    subs = ctx.submissions[ctx.submissions["status"] == "accepted"]
    month = format_month(ctx.month)
    if ctx.is_province:
        expected = len(ctx.unit_types)
        count = subs["unit"].nunique()
        text = (f"Số liệu trong báo cáo được tổng hợp từ báo cáo tháng {month} của {format_number(count)}/"
                f"{format_number(expected)} đơn vị")
    else:
        own = subs[subs["unit"] == ctx.unit]
        if own.empty:
            text = f"{unit_title(ctx)} chưa có báo cáo tháng {month}; các số liệu của đơn vị để trống"
        else:
            last = own.iloc[-1]["received_at"]
            when = "" if _missing(last) else f" nhận ngày {pd.Timestamp(last):%d/%m/%Y}"
            text = f"Số liệu trong báo cáo lấy từ báo cáo tháng {month} của {unit_title(ctx)}{when}"
    if ctx.snapshot_date:
        text += f"; danh mục nền tảng số của Bộ Thông tin và Truyền thông cập nhật ngày {ctx.snapshot_date}"
    text += ". Số liệu chi tiết của từng đơn vị tại Phụ lục kèm theo."
    if ctx.is_sample:
        text += " Đây là số liệu mẫu để minh họa, không phải số liệu chính thức."
    return _note(text)


def save_kpis(ctx: Context) -> Path:
    """Write this unit's indicators of the month to kpis.csv in ctx.out_dir (atomically)."""
    view = ctx.view.drop(columns=["kind"])
    view.insert(0, "month", ctx.month)
    view.insert(1, "unit", ctx.unit)
    return write_atomic(ctx.out_dir / "kpis.csv", view.to_csv(index=False).encode("utf-8-sig"))
