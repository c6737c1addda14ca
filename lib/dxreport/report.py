"""What a report notebook shows: the month's context from the warehouse, and HTML blocks."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from dxreport import kpis, store
from dxreport.forms import STATUS_CHOICES
from dxreport.params import PROVINCE, RunParams, load_settings, validate_run
from dxreport.textnorm import format_month, format_number, format_percent
from dxreport.units import Registry, load_registry

SECTION_TITLES = {
    "chung": "Tình hình gửi báo cáo",
    "nen_tang": "Nền tảng số",
    "hue_s": "Ứng dụng Hue-S",
    "to_cns": "Tổ công nghệ số cộng đồng",
    "doanh_nghiep": "Doanh nghiệp (SMEdx, DBI)",
}


@dataclass
class Context:
    """Everything a report for one unit and month needs, read once from the warehouse."""

    run: RunParams
    registry: Registry
    settings: dict
    values: pd.DataFrame          # every indicator, unit and month, with changes
    submissions: pd.DataFrame     # the month's submissions
    issues: pd.DataFrame          # the month's validation issues
    facts: pd.DataFrame           # the month's facts
    catalog: pd.DataFrame
    snapshot_date: str
    is_sample: bool
    extra: dict = field(default_factory=dict)

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
    def view(self) -> pd.DataFrame:
        """This unit's indicators this month."""
        return kpis.unit_view(self.values, self.month, self.unit)

    @property
    def out_dir(self) -> Path:
        return self.run.outputs / self.month / self.unit


def load(month: str, unit: str, *, inbox: str = "", outputs: str = "") -> Context:
    """Validate the parameters and read the month from the warehouse (read-only)."""
    run = validate_run({"month": month, "unit": unit, "inbox": inbox or None, "outputs": outputs or None})
    registry = load_registry()
    with store.connect(store.warehouse_path(run.outputs), read_only=True) as con:
        values = store.indicators_frame(con)
        submissions = store.submissions_frame(con, run.month)
        issues = store.issues_frame(con, run.month)
        facts = store.facts_frame(con, [run.month])
        catalog = con.execute("SELECT * FROM catalog ORDER BY catalog, name").df()
    accepted = submissions[submissions["status"] == "accepted"]
    snapshot = pd.Timestamp(catalog["snapshot_date"].iloc[0]).strftime("%d/%m/%Y") if not catalog.empty else ""
    return Context(run=run, registry=registry, settings=load_settings(), values=values,
                   submissions=submissions, issues=issues, facts=facts, catalog=catalog,
                   snapshot_date=snapshot, is_sample=bool(accepted["is_sample"].any()))


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def header(ctx: Context, today: date | None = None) -> str:
    """The administrative header, the sample-data notice and the title block."""
    rep = ctx.settings["report"]
    today = today or date.today()
    mm, yyyy = ctx.month[5:], ctx.month[:4]
    recipients = "; ".join(rep["recipients"])
    scope = "trên địa bàn tỉnh Thừa Thiên Huế" if ctx.is_province else f"của {ctx.unit_name}"
    parts = [
        '<table class="dx-header"><tr>',
        f'<td><div class="dx-org-parent">{_e(rep["issuing_body_parent"])}</div>'
        f'<div class="dx-org">{_e(rep["issuing_body"])}</div>'
        f'<div class="dx-number">Số: &nbsp;&nbsp;&nbsp;&nbsp;/{_e(rep["number_suffix"])}</div></td>',
        '<td><div class="dx-nation">CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</div>'
        '<div class="dx-motto">Độc lập - Tự do - Hạnh phúc</div>'
        f'<div class="dx-place-date">{_e(rep["place"])}, ngày {today.day:02d} tháng {today.month:02d} '
        f'năm {today.year}</div></td>',
        "</tr></table>",
    ]
    if ctx.is_sample:
        parts.append('<div class="dx-sample-banner"><strong>DỮ LIỆU MẪU</strong> – báo cáo này được lập từ '
                     "số liệu mẫu do chương trình tạo ra để minh họa, không phải số liệu chính thức của các "
                     "đơn vị.</div>")
    parts.append('<div class="dx-title"><div class="dx-doctype">BÁO CÁO</div>'
                 f'<div class="dx-summary">Kết quả mức độ sử dụng các nền tảng số tháng {mm}/{yyyy}</div></div>')
    parts.append(f'<div class="dx-subtitle">{_e(scope)}</div>')
    parts.append(f'<p class="dx-note">Kính gửi: {_e(recipients)}.</p>')
    return "\n".join(parts)


def _fmt(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format_percent(value) if kind == "rate" else format_number(value, 0 if kind == "count" else 1)


def _fmt_change(row: pd.Series) -> str:
    change = row.get("change")
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "–"
    if row["kind"] == "rate":
        sign = "+" if change > 0 else ""
        return f"{sign}{format_number(change, 1)} điểm %"
    sign = "+" if change > 0 else ""
    return sign + format_number(change, 0 if row["kind"] == "count" else 1)


def indicator_table(ctx: Context, sections: list[str] | None = None) -> str:
    """This unit's indicators: label, unit, this month, last month, change."""
    view = ctx.view
    if sections:
        view = view[view["section"].isin(sections)]
    prev = f"{int(ctx.month[5:]) - 1:02d}/{ctx.month[:4]}" if ctx.month[5:] != "01" else f"12/{int(ctx.month[:4]) - 1}"
    rows = [f"<tr><td>{_e(r['label'])}</td><td>{_e(r['measure'])}</td><td class=\"num\">{_fmt(r['value'], r['kind'])}</td>"
            f"<td class=\"num\">{_fmt(r['previous'], r['kind'])}</td><td class=\"num\">{_fmt_change(r)}</td></tr>"
            for _, r in view.iterrows()]
    return ('<table class="dx-table"><thead><tr><th>Chỉ tiêu</th><th>Đơn vị tính</th>'
            f"<th>Tháng {format_month(ctx.month)}</th><th>Tháng {prev}</th><th>Tăng/giảm</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def district_table(ctx: Context, names: list[str]) -> str:
    """The districts side by side for these indicators, the province total last."""
    month = ctx.values[ctx.values["month"] == ctx.month]
    wide = month.pivot_table(index="unit", columns="indicator", values="value", aggfunc="first")
    units = [u.code for u in ctx.registry.districts(ctx.month)] + [PROVINCE]
    head = "".join(f"<th>{_e(kpis.indicator(n).label)}</th>" for n in names)
    body = []
    for code in units:
        name = "Toàn tỉnh" if code == PROVINCE else ctx.registry.get(code).name
        cells = "".join(f'<td class="num">{_fmt(wide.at[code, n] if code in wide.index and n in wide else None, kpis.indicator(n).kind)}</td>'
                        for n in names)
        cls = ' class="dx-total"' if code == PROVINCE else (' class="dx-current"' if code == ctx.unit else "")
        body.append(f"<tr{cls}><td>{_e(name)}</td>{cells}</tr>")
    return (f'<table class="dx-table"><thead><tr><th>Đơn vị</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def platform_rows(ctx: Context) -> pd.DataFrame:
    """The platform rows of this unit (or of every unit for the province), one row per platform."""
    facts = ctx.facts[ctx.facts["sheet"] == "nen_tang"]
    if not ctx.is_province:
        facts = facts[facts["unit"] == ctx.unit]
    if facts.empty:
        return pd.DataFrame(columns=["unit", "subject", "subject_name", "status", "accounts", "mau", "uses", "lgsp", "proposal"])
    numeric = facts.pivot_table(index=["unit", "subject"], columns="metric", values="value", aggfunc="first")
    text = facts.pivot_table(index=["unit", "subject"], columns="metric", values="text", aggfunc="first")
    names = facts.groupby(["unit", "subject"])["subject_name"].first()
    frame = pd.DataFrame({"subject_name": names}).join(numeric.drop(columns=["status", "proposal", "note"], errors="ignore"))
    frame = frame.join(text[[c for c in ("status", "proposal") if c in text]], rsuffix="_text")
    return frame.reset_index()


def platform_table(ctx: Context) -> str:
    """The unit's platforms (status, accounts, active users, uses, LGSP); for the province, per
    platform: how many units use it, try it or have not deployed it, with the sums."""
    rows = platform_rows(ctx)
    if rows.empty:
        return '<p class="dx-note">Đơn vị chưa báo cáo nền tảng số nào trong tháng.</p>'
    catalog = ctx.catalog.set_index("platform_id")["name"].to_dict() if not ctx.catalog.empty else {}
    if ctx.is_province:
        return _province_platform_table(rows, ctx)
    body = []
    for _, r in rows.sort_values(["status", "subject_name"]).iterrows():
        matched = r["subject"] in catalog
        name = catalog.get(r["subject"], r["subject_name"])
        mark = "" if matched else " <em>(ngoài danh mục)</em>"
        lgsp = {1.0: "Có", 0.0: "Không"}.get(r.get("lgsp"), "–")
        body.append(f"<tr><td>{_e(name)}{mark}</td><td>{_e(STATUS_CHOICES.get(r.get('status'), '–'))}</td>"
                    f"<td class=\"num\">{_fmt(r.get('accounts'), 'count')}</td><td class=\"num\">{_fmt(r.get('mau'), 'count')}</td>"
                    f"<td class=\"num\">{_fmt(r.get('uses'), 'count')}</td><td>{lgsp}</td></tr>")
    return ('<table class="dx-table"><thead><tr><th>Nền tảng</th><th>Tình trạng</th><th>Tài khoản lũy kế</th>'
            "<th>Người dùng hoạt động</th><th>Lượt sử dụng</th><th>Kết nối LGSP</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _province_platform_table(rows: pd.DataFrame, ctx: Context) -> str:
    catalogs = ctx.catalog.set_index("platform_id")[["catalog", "name"]] if not ctx.catalog.empty else pd.DataFrame()
    from dxreport.catalog import CATALOGS

    rows = rows.assign(
        name=[catalogs["name"].get(s, n) if not catalogs.empty else n for s, n in zip(rows["subject"], rows["subject_name"])],
        catalog=[CATALOGS.get(catalogs["catalog"].get(s), "Ngoài danh mục") if not catalogs.empty else "Ngoài danh mục"
                 for s in rows["subject"]])
    for column in ("mau", "uses", "lgsp"):
        if column not in rows:
            rows[column] = float("nan")
    grouped = rows.groupby(["catalog", "subject", "name"], sort=False).agg(
        in_use=("status", lambda s: int((s == "dang_su_dung").sum())),
        trial=("status", lambda s: int((s == "dang_thu_nghiem").sum())),
        not_deployed=("status", lambda s: int((s == "chua_trien_khai").sum())),
        mau=("mau", lambda s: s.sum(min_count=1)), uses=("uses", lambda s: s.sum(min_count=1)),
        lgsp=("lgsp", lambda s: int((s == 1).sum()))).reset_index()
    order = {title: i for i, title in enumerate([*CATALOGS.values(), "Ngoài danh mục"])}
    grouped = grouped.sort_values(["catalog", "in_use", "name"], key=lambda c: c.map(order) if c.name == "catalog"
                                  else (-c if c.name == "in_use" else c))
    body, current = [], None
    for _, r in grouped.iterrows():
        if r["catalog"] != current:
            current = r["catalog"]
            body.append(f'<tr class="dx-group"><td colspan="7"><strong>{_e(current)}</strong></td></tr>')
        body.append(f"<tr><td>{_e(r['name'])}</td><td class=\"num\">{r['in_use']}</td><td class=\"num\">{r['trial']}</td>"
                    f"<td class=\"num\">{r['not_deployed']}</td><td class=\"num\">{_fmt(r['mau'], 'count')}</td>"
                    f"<td class=\"num\">{_fmt(r['uses'], 'count')}</td><td class=\"num\">{r['lgsp']}</td></tr>")
    return ('<table class="dx-table"><thead><tr><th>Nền tảng</th><th>Số đơn vị đang sử dụng</th>'
            "<th>Số đơn vị thử nghiệm</th><th>Số đơn vị chưa triển khai</th><th>Người dùng hoạt động</th>"
            "<th>Lượt sử dụng</th><th>Số đơn vị đã kết nối LGSP</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def series(ctx: Context, indicator: str, unit: str | None = None) -> pd.DataFrame:
    """Month and value of one indicator for one unit, months up to the report's month."""
    unit = unit or ctx.unit
    v = ctx.values
    part = v[(v["unit"] == unit) & (v["indicator"] == indicator) & (v["month"] <= ctx.month)]
    return part[["month", "value"]].sort_values("month")


def districts_frame(ctx: Context, indicator: str) -> pd.DataFrame:
    """Label and value of one indicator for each district this month."""
    v = ctx.values
    part = v[(v["month"] == ctx.month) & (v["indicator"] == indicator)]
    codes = {u.code: u.name for u in ctx.registry.districts(ctx.month)}
    part = part[part["unit"].isin(list(codes))]
    return pd.DataFrame({"code": part["unit"], "label": part["unit"].map(codes), "value": part["value"]})


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
    errors = issues[issues["severity"] == "error"]
    row_errors = errors[errors["rule"].str.startswith(("cell.", "row."))]
    text = (f"Đã nhận {format_number(len(subs))} tệp báo cáo: {format_number(accepted)} tệp được sử dụng, "
            f"{format_number(superseded)} tệp được thay thế bằng bản nộp lại, {format_number(rejected)} tệp bị từ chối; "
            f"{format_number(late)} tệp nộp sau hạn. {format_number(len(row_errors))} dòng số liệu có lỗi đã bị loại "
            f"ra khỏi tổng hợp, {format_number(int((issues['severity'] == 'warning').sum()))} cảnh báo "
            "(chi tiết trong tệp validation.csv của tháng).")
    if not row_errors.empty:
        places = ", ".join(f"{r['sheet']}!{r['cell']}" for _, r in row_errors.head(8).iterrows())
        text += f" Vị trí các dòng bị loại: {places}" + ("…" if len(row_errors) > 8 else "") + "."
    return text


def sources_note(ctx: Context) -> str:
    """Where the figures come from."""
    files = ctx.submissions[ctx.submissions["status"] == "accepted"]
    if not ctx.is_province:
        files = files[files["unit"] == ctx.unit]
    snap = f" Danh mục nền tảng: bản chụp ngày {ctx.snapshot_date}." if ctx.snapshot_date else ""
    if ctx.is_province:
        return (f"Nguồn số liệu: {format_number(len(files))} tệp báo cáo của {format_number(files['unit'].nunique())} "
                f"đơn vị (danh sách tệp trong manifest.json và validation.csv của tháng).{snap}")
    names = ", ".join(sorted(files["file_name"].astype(str)))
    return f"Nguồn số liệu: tệp báo cáo {_e(names or 'không có')}.{snap}"


def save_kpis(ctx: Context) -> Path:
    """Write this unit's indicators of the month to outputs/<month>/<unit>/kpis.csv."""
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.out_dir / "kpis.csv"
    view = ctx.view.drop(columns=["kind"])
    view.insert(0, "month", ctx.month)
    view.insert(1, "unit", ctx.unit)
    view.to_csv(path, index=False, encoding="utf-8-sig")
    return path
