"""Every indicator of the report, defined once: name, Vietnamese label, unit, formula, source.

Indicators are computed from the warehouse facts in two steps: `base_table` adds up the
submitted figures per unit and month following the form's adding-up rules (area figures of the
province are sums over the districts; rates are never added), then each `Indicator.compute`
turns one row of that table into a value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from dxreport.params import PROVINCE
from dxreport.units import Registry

Row = pd.Series


def _get(row: Row, key: str) -> float | None:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _ratio(row: Row, num: str, den: str, scale: float = 100.0) -> float | None:
    a, b = _get(row, num), _get(row, den)
    if a is None or b is None or b == 0:
        return None
    return a / b * scale


def _diff(row: Row, a: str, b: str) -> float | None:
    x, y = _get(row, a), _get(row, b)
    return None if x is None or y is None else x - y


@dataclass(frozen=True)
class Indicator:
    """One indicator: how it is named, measured, computed and where its figures come from."""

    name: str
    label: str
    unit: str
    formula: str
    source: str
    section: str
    compute: Callable[[Row], float | None]
    kind: str = "count"          # "count" (whole numbers) or "rate" (a percentage) or "ratio"
    scope: str = "all"           # "area": districts and province only
    higher_is_better: bool = True

    @property
    def decimals(self) -> int:
        """Decimals shown in the report."""
        return 0 if self.kind == "count" else 1


def _metric(key: str) -> Callable[[Row], float | None]:
    return lambda row: _get(row, key)


HUE_S = "Biểu Hue-S"
TEAMS = "Biểu Tổ công nghệ số"
SME = "Biểu Doanh nghiệp"
PLATFORMS = "Biểu Nền tảng"
INTAKE = "Hồ sơ nộp báo cáo (sổ theo dõi)"

INDICATORS: tuple[Indicator, ...] = (
    Indicator("submissions_received", "Số đơn vị đã gửi báo cáo", "đơn vị",
              "số đơn vị có báo cáo được chấp nhận trong tháng", INTAKE, "chung", _metric("submitted")),
    Indicator("submissions_expected", "Số đơn vị phải báo cáo", "đơn vị",
              "số đơn vị báo cáo theo danh mục đơn vị", INTAKE, "chung", _metric("expected")),
    Indicator("coverage_rate", "Tỷ lệ đơn vị đã gửi báo cáo", "%",
              "đơn vị đã gửi / đơn vị phải báo cáo × 100", INTAKE, "chung",
              lambda r: _ratio(r, "submitted", "expected"), kind="rate"),
    Indicator("hues_downloads", "Lượt tải ứng dụng Hue-S (lũy kế)", "lượt",
              "tổng Lượt tải lũy kế của các huyện, thị xã, thành phố", HUE_S, "hue_s",
              _metric("downloads"), scope="area"),
    Indicator("hues_downloads_month", "Lượt tải Hue-S tăng thêm trong tháng", "lượt",
              "lượt tải lũy kế tháng này − lượt tải lũy kế tháng trước", HUE_S, "hue_s",
              lambda r: _diff(r, "downloads", "prev_downloads"), scope="area"),
    Indicator("hues_penetration", "Lượt tải Hue-S trên 100 dân", "lượt/100 dân",
              "lượt tải lũy kế / dân số × 100 (dân số theo năm ghi bên cạnh)", HUE_S, "hue_s",
              lambda r: _ratio(r, "downloads", "population"), kind="ratio", scope="area"),
    Indicator("hues_accounts", "Tài khoản Hue-S đăng ký (lũy kế)", "tài khoản",
              "tổng Tài khoản đăng ký lũy kế", HUE_S, "hue_s", _metric("hues_accounts"), scope="area"),
    Indicator("reports_received", "Phản ánh hiện trường tiếp nhận", "phản ánh",
              "tổng Phản ánh tiếp nhận trong tháng", HUE_S, "hue_s", _metric("reports_received"), scope="area"),
    Indicator("reports_processed", "Phản ánh hiện trường đã xử lý", "phản ánh",
              "tổng Phản ánh đã xử lý trong tháng", HUE_S, "hue_s", _metric("reports_processed"), scope="area"),
    Indicator("processed_rate", "Tỷ lệ phản ánh đã xử lý", "%",
              "phản ánh đã xử lý / phản ánh tiếp nhận × 100", HUE_S, "hue_s",
              lambda r: _ratio(r, "reports_processed", "reports_received"), kind="rate", scope="area"),
    Indicator("on_time_rate", "Tỷ lệ phản ánh xử lý đúng hạn", "%",
              "phản ánh xử lý đúng hạn / phản ánh đã xử lý × 100", HUE_S, "hue_s",
              lambda r: _ratio(r, "reports_on_time", "reports_processed"), kind="rate", scope="area"),
    Indicator("satisfaction", "Tỷ lệ hài lòng của người dân", "%",
              "bình quân Tỷ lệ hài lòng của các huyện, có trọng số là phản ánh đã xử lý", HUE_S, "hue_s",
              lambda r: _ratio(r, "sat_weighted", "sat_weight", 1.0), kind="rate", scope="area"),
    Indicator("teams", "Tổ công nghệ số cộng đồng (lũy kế)", "tổ",
              "tổng Số tổ lũy kế của các xã, phường, thị trấn", TEAMS, "to_cns", _metric("teams"), scope="area"),
    Indicator("members", "Thành viên tổ công nghệ số (lũy kế)", "người",
              "tổng Số thành viên lũy kế", TEAMS, "to_cns", _metric("members"), scope="area"),
    Indicator("trainings", "Buổi tập huấn trong tháng", "buổi",
              "tổng Số buổi tập huấn trong tháng", TEAMS, "to_cns", _metric("trainings"), scope="area"),
    Indicator("trained", "Lượt người được tập huấn", "lượt người",
              "tổng Lượt người được tập huấn trong tháng", TEAMS, "to_cns", _metric("trained"), scope="area"),
    Indicator("households", "Hộ gia đình được hỗ trợ", "hộ",
              "tổng Số hộ được hỗ trợ trong tháng", TEAMS, "to_cns", _metric("households"), scope="area"),
    Indicator("communes_with_team", "Xã, phường, thị trấn đã có tổ", "đơn vị",
              "số đơn vị cấp xã có Số tổ lũy kế > 0", TEAMS, "to_cns", _metric("communes_with_team"), scope="area"),
    Indicator("communes_without_team", "Xã, phường, thị trấn chưa có tổ", "đơn vị",
              "số đơn vị cấp xã trong danh mục − số đơn vị cấp xã đã có tổ", TEAMS, "to_cns",
              lambda r: _diff(r, "communes_total", "communes_with_team"), scope="area", higher_is_better=False),
    Indicator("teams_per_commune", "Số tổ bình quân mỗi xã", "tổ/xã",
              "số tổ lũy kế / số đơn vị cấp xã trong danh mục", TEAMS, "to_cns",
              lambda r: _ratio(r, "teams", "communes_total", 1.0), kind="ratio", scope="area"),
    Indicator("sme_reached", "Doanh nghiệp tiếp cận SMEdx (lũy kế)", "doanh nghiệp",
              "tổng DN tiếp cận SMEdx lũy kế", SME, "doanh_nghiep", _metric("sme_reached"), scope="area"),
    Indicator("sme_using", "Doanh nghiệp sử dụng nền tảng số (lũy kế)", "doanh nghiệp",
              "tổng DN sử dụng nền tảng số lũy kế", SME, "doanh_nghiep", _metric("sme_using"), scope="area"),
    Indicator("sme_using_rate", "Tỷ lệ doanh nghiệp tiếp cận đã sử dụng nền tảng", "%",
              "DN sử dụng / DN tiếp cận × 100", SME, "doanh_nghiep",
              lambda r: _ratio(r, "sme_using", "sme_reached"), kind="rate", scope="area"),
    Indicator("dbi_assessed", "Doanh nghiệp tự đánh giá DBI (lũy kế)", "doanh nghiệp",
              "tổng DN tự đánh giá DBI lũy kế", SME, "doanh_nghiep", _metric("dbi_assessed"), scope="area"),
    Indicator("sme_supported", "Doanh nghiệp được hỗ trợ trong tháng", "doanh nghiệp",
              "tổng DN được hỗ trợ trong tháng", SME, "doanh_nghiep", _metric("sme_supported"), scope="area"),
    Indicator("platforms_in_use", "Nền tảng đang sử dụng", "nền tảng",
              "số nền tảng khác nhau có Tình trạng = Đang sử dụng", PLATFORMS, "nen_tang", _metric("platforms_in_use")),
    Indicator("platforms_trial", "Nền tảng đang thử nghiệm", "nền tảng",
              "số nền tảng khác nhau có Tình trạng = Đang thử nghiệm", PLATFORMS, "nen_tang", _metric("platforms_trial")),
    Indicator("platforms_not_deployed", "Nền tảng chưa triển khai (có đề xuất)", "nền tảng",
              "số nền tảng khác nhau có Tình trạng = Chưa triển khai", PLATFORMS, "nen_tang",
              _metric("platforms_not_deployed"), higher_is_better=False),
    Indicator("platforms_lgsp", "Nền tảng đang sử dụng đã kết nối LGSP", "nền tảng",
              "số nền tảng đang sử dụng có Kết nối chia sẻ dữ liệu = Có", PLATFORMS, "nen_tang", _metric("platforms_lgsp")),
    Indicator("platform_mau", "Người dùng hoạt động trên các nền tảng", "người dùng",
              "tổng Người dùng hoạt động trong tháng của các dòng nền tảng", PLATFORMS, "nen_tang", _metric("platform_mau")),
    Indicator("platform_uses", "Lượt sử dụng các nền tảng", "lượt",
              "tổng Lượt sử dụng trong tháng của các dòng nền tảng", PLATFORMS, "nen_tang", _metric("platform_uses")),
    Indicator("platforms_unmatched", "Nền tảng không có trong danh mục", "nền tảng",
              "số tên nền tảng không khớp danh mục hay tên gọi khác", PLATFORMS, "nen_tang",
              _metric("platforms_unmatched"), higher_is_better=False),
)
BY_NAME = {i.name: i for i in INDICATORS}


def indicator(name: str) -> Indicator:
    """The indicator with this name."""
    return BY_NAME[name]


def definitions() -> pd.DataFrame:
    """The indicator dictionary as a table (for the report's notes and the annex)."""
    return pd.DataFrame([{"name": i.name, "label": i.label, "unit": i.unit, "formula": i.formula,
                          "source": i.source, "section": i.section} for i in INDICATORS])


_SUM_SHEETS = {"hue_s": {"downloads": "downloads", "accounts": "hues_accounts", "reports_received": "reports_received",
                         "reports_processed": "reports_processed", "reports_on_time": "reports_on_time"},
               "to_cns": {"teams": "teams", "members": "members", "trainings": "trainings",
                          "trained": "trained", "households": "households"},
               "doanh_nghiep": {"sme_reached": "sme_reached", "sme_using": "sme_using",
                                "dbi_assessed": "dbi_assessed", "sme_supported": "sme_supported"}}
_STATUS_COLUMNS = {"dang_su_dung": "platforms_in_use", "dang_thu_nghiem": "platforms_trial",
                   "chua_trien_khai": "platforms_not_deployed"}
_AREA_COLUMNS = [c for m in _SUM_SHEETS.values() for c in m.values()] + ["sat_weighted", "sat_weight", "communes_with_team"]


def _sums(facts: pd.DataFrame) -> pd.DataFrame:
    """Per (month, unit): sums of the area sheets' numeric metrics (empty cells stay unreported)."""
    frames = []
    for sheet, mapping in _SUM_SHEETS.items():
        part = facts[(facts["sheet"] == sheet) & facts["metric"].isin(list(mapping))]
        if part.empty:
            continue
        wide = part.pivot_table(index=["month", "unit"], columns="metric", values="value", aggfunc="sum", dropna=False)
        frames.append(wide.rename(columns=mapping))
    hue = facts[(facts["sheet"] == "hue_s") & facts["metric"].isin(["satisfaction", "reports_processed"])]
    if not hue.empty:
        w = hue.pivot_table(index=["month", "unit"], columns="metric", values="value", aggfunc="sum")
        if "satisfaction" in w:
            has = w["satisfaction"].notna() & w.get("reports_processed", pd.Series(dtype=float)).notna()
            frames.append(pd.DataFrame({"sat_weighted": (w["satisfaction"] * w["reports_processed"]).where(has),
                                        "sat_weight": w["reports_processed"].where(has)}))
    teams = facts[(facts["sheet"] == "to_cns") & (facts["metric"] == "teams")]
    if not teams.empty:
        frames.append(teams.assign(has=teams["value"] > 0).groupby(["month", "unit"])["has"].sum()
                      .rename("communes_with_team").to_frame())
    return pd.concat(frames, axis=1) if frames else pd.DataFrame()


def _platform_counts(facts: pd.DataFrame, units: list[str]) -> pd.DataFrame:
    """Per (month, unit) platform counts; `units` selects whose rows count (distinct platforms)."""
    rows = facts[(facts["sheet"] == "nen_tang") & facts["unit"].isin(units)]
    status = rows[rows["metric"] == "status"][["month", "unit", "subject", "text"]]
    out = {}
    for key, column in _STATUS_COLUMNS.items():
        out[column] = status[status["text"] == key].groupby("month")["subject"].nunique()
    lgsp = rows[(rows["metric"] == "lgsp") & (rows["value"] == 1)][["month", "unit", "subject"]]
    in_use = lgsp.merge(status[status["text"] == "dang_su_dung"], on=["month", "unit", "subject"])
    out["platforms_lgsp"] = in_use.groupby("month")["subject"].nunique()
    out["platform_mau"] = rows[rows["metric"] == "mau"].groupby("month")["value"].sum(min_count=1)
    out["platform_uses"] = rows[rows["metric"] == "uses"].groupby("month")["value"].sum(min_count=1)
    unmatched = status[status["subject"].str.startswith("unmatched:")]
    out["platforms_unmatched"] = unmatched.groupby("month")["subject"].nunique()
    frame = pd.DataFrame(out).reindex(sorted(status["month"].unique()))
    counts = [*_STATUS_COLUMNS.values(), "platforms_lgsp", "platforms_unmatched"]
    # a unit that reported platforms has zero of a status it did not report
    frame[counts] = frame[counts].fillna(0)
    return frame


def base_table(facts: pd.DataFrame, registry: Registry, submitted: pd.DataFrame) -> pd.DataFrame:
    """The added-up figures per (month, unit), the province `tinh` included.

    `submitted` has one row per accepted submission (month, unit). Months are those of
    `submitted`; every reporting unit valid in a month gets a row, reported or not.
    """
    months = sorted(submitted["month"].unique()) if not submitted.empty else []
    sums = _sums(facts)
    rows = []
    for month in months:
        units = registry.reporting_units(month)
        districts = [u.code for u in units if u.type == "district"]
        got = set(submitted.loc[submitted["month"] == month, "unit"])
        for unit in units:
            row = {"month": month, "unit": unit.code, "type": unit.type, "expected": 1.0,
                   "submitted": float(unit.code in got)}
            if unit.type == "district":
                row["population"] = unit.population
                row["population_year"] = unit.population_year
                row["communes_total"] = float(len(registry.communes_of(unit.code, month)))
            rows.append(row)
        province = registry.province()
        rows.append({"month": month, "unit": PROVINCE, "type": "province", "expected": float(len(units)),
                     "submitted": float(len(got & {u.code for u in units})), "population": province.population,
                     "population_year": province.population_year,
                     "communes_total": float(sum(len(registry.communes_of(d, month)) for d in districts))})
    base = pd.DataFrame(rows)
    if base.empty:
        return base
    base = base.set_index(["month", "unit"])
    if not sums.empty:
        base = base.join(sums.reindex(columns=[c for c in _AREA_COLUMNS if c in sums.columns]))
        for month in months:
            districts = [u.code for u in registry.districts(month)]
            part = sums.loc[sums.index.get_level_values("month") == month]
            part = part[part.index.get_level_values("unit").isin(districts)]
            for column in part.columns:
                base.loc[(month, PROVINCE), column] = part[column].sum(min_count=1)
    platform_frames = []
    for month in months:
        for unit in registry.reporting_units(month):
            counts = _platform_counts(facts[facts["month"] == month], [unit.code])
            if not counts.empty:
                platform_frames.append(counts.assign(unit=unit.code))
        counts = _platform_counts(facts[facts["month"] == month], [u.code for u in registry.reporting_units(month)])
        if not counts.empty:
            platform_frames.append(counts.assign(unit=PROVINCE))
    if platform_frames:
        platforms = pd.concat(platform_frames).rename_axis("month").reset_index().set_index(["month", "unit"])
        base = base.join(platforms)
    base = base.sort_index()
    prev = base["downloads"].groupby(level="unit").shift(1) if "downloads" in base else None
    if prev is not None:
        # the previous month only when it is the calendar month before
        months_idx = base.index.get_level_values("month")
        prev_month = pd.Series(months_idx, index=base.index).groupby(level="unit").shift(1)
        from dxreport.params import previous_month
        consecutive = prev_month == pd.Series([previous_month(m) for m in months_idx], index=base.index)
        base["prev_downloads"] = prev.where(consecutive)
    return base


def compute(base: pd.DataFrame) -> pd.DataFrame:
    """Long table (month, unit, indicator, value) of every indicator for every row of `base`."""
    records = []
    for (month, unit), row in base.iterrows():
        is_area = row.get("type") in ("district", "province")
        for ind in INDICATORS:
            if ind.scope == "area" and not is_area:
                continue
            value = ind.compute(row)
            records.append({"month": month, "unit": unit, "indicator": ind.name,
                            "value": float("nan") if value is None else float(value)})
    return pd.DataFrame(records, columns=["month", "unit", "indicator", "value"])


def with_changes(values: pd.DataFrame) -> pd.DataFrame:
    """Add the previous month's value and the change to each row of a `compute` table."""
    from dxreport.params import previous_month

    frame = values.copy()
    frame["prev_month"] = frame["month"].map(previous_month)
    prev = values.rename(columns={"month": "prev_month", "value": "previous"})
    frame = frame.merge(prev, on=["prev_month", "unit", "indicator"], how="left").drop(columns="prev_month")
    frame["change"] = frame["value"] - frame["previous"]
    frame["change_pct"] = (frame["change"] / frame["previous"].where(frame["previous"] != 0)) * 100
    return frame


def unit_view(values: pd.DataFrame, month: str, unit: str) -> pd.DataFrame:
    """One unit's indicators for one month with labels, units and changes, in definition order."""
    part = values[(values["month"] == month) & (values["unit"] == unit)].set_index("indicator")
    rows = []
    for ind in INDICATORS:
        if ind.name in part.index:
            r = part.loc[ind.name]
            rows.append({"indicator": ind.name, "label": ind.label, "measure": ind.unit, "kind": ind.kind,
                         "section": ind.section, "value": r["value"], "previous": r.get("previous"),
                         "change": r.get("change"), "change_pct": r.get("change_pct")})
    return pd.DataFrame(rows)
