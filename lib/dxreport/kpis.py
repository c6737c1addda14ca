"""Every indicator of the report, defined once: name, Vietnamese label, unit, formula, source.

Indicators are computed from the warehouse facts in two steps: `base_table` adds up the
submitted figures per unit and month following the form's adding-up rules (area figures of the
province are sums over the districts; rates are never added), then each `Indicator.compute`
turns the columns of that table into values, for every row at once. `with_changes` adds the
previous month, `with_year` the same month last year and the year to date.

Around the indicators: the units' peers (rank and average among districts or among agencies),
the lagging rules of params/lagging.yaml and the targets of params/targets.yaml, and the
platform rows (one per unit and platform) behind the per-platform tables.

Everything works on whole tables (groupby, merge), never one unit at a time, so that a month
of thousands of units costs about what a month of thirty does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from dxreport.months import following as month_after, previous as month_before
from dxreport.params import PARAMS_DIR, PROVINCE
from dxreport.units import Registry

Frame = pd.DataFrame

CATALOG_KEYS = ("chinh_quyen", "doanh_nghiep", "nguoi_dan")
OUTSIDE_CATALOG = "ngoai_danh_muc"
STATUS_KEYS = ("dang_su_dung", "dang_thu_nghiem", "chua_trien_khai")
# Catalog platforms whose accounts per resident are measured against national targets
# (ids of the catalog snapshot, data/catalog/bundled.yaml).
EHEALTH_PLATFORM = "nd-sskdt"
VNEID_PLATFORM = "nd-vneid"


def _col(frame: Frame, key: str) -> pd.Series:
    """Column `key` as floats; all missing when the table has no such column."""
    if key not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[key], errors="coerce").astype(float)


def _ratio(frame: Frame, num: str, den: str, scale: float = 100.0) -> pd.Series:
    a, b = _col(frame, num), _col(frame, den)
    return a / b.where(b != 0) * scale


def _diff(frame: Frame, a: str, b: str) -> pd.Series:
    return _col(frame, a) - _col(frame, b)


def _metric(key: str) -> Callable[[Frame], pd.Series]:
    return lambda frame: _col(frame, key)


def _coverage(frame: Frame, key: str) -> pd.Series:
    """Share of the area's population living in the units that reported `key` (0–100), over the
    districts' own populations (whose years differ from the province's figure)."""
    return _ratio(frame, f"pop:{key}", "area_population")


def _per_capita(frame: Frame, key: str) -> pd.Series:
    """`key` per 100 residents of the units that reported it; missing below the coverage threshold."""
    value = _ratio(frame, key, f"pop:{key}")
    threshold = frame.attrs.get("min_population_coverage", 0.0)
    return value.where(_coverage(frame, key) >= threshold)


@dataclass(frozen=True)
class Indicator:
    """One indicator: how it is named, measured, computed and where its figures come from."""

    name: str
    label: str
    unit: str
    formula: str
    source: str
    section: str
    compute: Callable[[Frame], pd.Series]   # the base table -> one value per row
    kind: str = "count"          # "count" (whole numbers), "rate" (a percentage) or "ratio"
    scope: str = "all"           # "all" units; "area": districts and province; "province" only
    higher_is_better: bool = True
    flow: bool = False           # a figure for the month alone, which adds up over the year
    ratio_of: tuple[str, str] | None = None   # a rate of two flow indicators (its year to date)
    ranked: bool = True          # whether ranking units by it means something

    @property
    def decimals(self) -> int:
        """Decimals shown in the report."""
        return 0 if self.kind == "count" else 1


HUE_S = "Biểu Hue-S"
TEAMS = "Biểu Tổ công nghệ số"
SME = "Biểu Doanh nghiệp"
PLATFORMS = "Biểu Nền tảng"
INTAKE = "Hồ sơ nộp báo cáo (sổ theo dõi)"
REGISTRY = "Danh mục đơn vị (params/units.csv)"

CATALOG_LABELS = {"chinh_quyen": "phục vụ chính quyền", "doanh_nghiep": "phục vụ doanh nghiệp",
                  "nguoi_dan": "phục vụ người dân"}
_STATUS_WORDS = {"dang_su_dung": ("in_use", "đang sử dụng", "Đang sử dụng"),
                 "dang_thu_nghiem": ("trial", "đang thử nghiệm", "Đang thử nghiệm"),
                 "chua_trien_khai": ("not_deployed", "chưa triển khai", "Chưa triển khai")}


def _catalog_indicators() -> tuple[Indicator, ...]:
    out = []
    for cat in CATALOG_KEYS:
        for status, (suffix, words, choice) in _STATUS_WORDS.items():
            out.append(Indicator(
                f"{cat}_{suffix}", f"Nền tảng {CATALOG_LABELS[cat]} {words}", "nền tảng",
                f"số nền tảng khác nhau thuộc danh mục {CATALOG_LABELS[cat]} có Tình trạng = {choice}",
                f"{PLATFORMS}; danh mục nền tảng của Bộ TT&TT", cat, _metric(f"{cat}_{suffix}"),
                higher_is_better=status != "chua_trien_khai"))
    return tuple(out)


INDICATORS: tuple[Indicator, ...] = (
    # --- submissions ---------------------------------------------------------------------------
    Indicator("submissions_received", "Số đơn vị đã gửi báo cáo", "đơn vị",
              "số đơn vị có báo cáo được chấp nhận trong tháng", INTAKE, "chung", _metric("submitted"),
              ranked=False),
    Indicator("submissions_expected", "Số đơn vị phải báo cáo", "đơn vị",
              "số đơn vị báo cáo theo danh mục đơn vị", INTAKE, "chung", _metric("expected"), ranked=False),
    Indicator("coverage_rate", "Tỷ lệ đơn vị đã gửi báo cáo", "%",
              "đơn vị đã gửi / đơn vị phải báo cáo × 100", INTAKE, "chung",
              lambda f: _ratio(f, "submitted", "expected"), kind="rate", ranked=False),
    Indicator("units_compared", "Số đơn vị có báo cáo cả tháng này và tháng trước", "đơn vị",
              "số đơn vị có báo cáo được chấp nhận trong cả tháng này và tháng trước; mức tăng, giảm so với tháng "
              "trước chỉ tính trên các đơn vị (và các dòng số liệu) có trong cả hai tháng", INTAKE, "chung",
              _metric("both_months"), ranked=False),
    Indicator("submissions_late", "Số đơn vị gửi báo cáo sau hạn", "đơn vị",
              "số đơn vị có báo cáo được chấp nhận nhận được sau hạn nộp (params/settings.yaml)", INTAKE, "chung",
              _metric("late"), higher_is_better=False, ranked=False),
    # --- platforms, all catalogs ---------------------------------------------------------------
    Indicator("platforms_in_use", "Nền tảng đang sử dụng", "nền tảng",
              "số nền tảng khác nhau có Tình trạng = Đang sử dụng", PLATFORMS, "nen_tang", _metric("platforms_in_use")),
    Indicator("platforms_trial", "Nền tảng đang thử nghiệm", "nền tảng",
              "số nền tảng khác nhau có Tình trạng = Đang thử nghiệm", PLATFORMS, "nen_tang", _metric("platforms_trial")),
    Indicator("platforms_not_deployed", "Nền tảng chưa triển khai (có đề xuất)", "nền tảng",
              "số nền tảng khác nhau có Tình trạng = Chưa triển khai", PLATFORMS, "nen_tang",
              _metric("platforms_not_deployed"), higher_is_better=False),
    Indicator("platform_deployments", "Lượt triển khai nền tảng đang sử dụng", "đơn vị × nền tảng",
              "số cặp (đơn vị, nền tảng) có Tình trạng = Đang sử dụng; với một đơn vị bằng số nền tảng đang sử dụng",
              PLATFORMS, "nen_tang", _metric("deployments")),
    Indicator("lgsp_deployments", "Lượt triển khai nền tảng phục vụ chính quyền đang sử dụng", "đơn vị × nền tảng",
              "số cặp (đơn vị, nền tảng) đang sử dụng, chỉ tính nền tảng thuộc danh mục phải kết nối LGSP "
              "(lgsp_catalogs trong params/targets.yaml)", PLATFORMS, "chinh_quyen", _metric("lgsp_deployments")),
    Indicator("platforms_lgsp", "Nền tảng phục vụ chính quyền đã kết nối LGSP", "nền tảng",
              "số nền tảng khác nhau đang sử dụng có Kết nối chia sẻ dữ liệu = Có, chỉ tính nền tảng thuộc danh mục "
              "phải kết nối LGSP (lgsp_catalogs trong params/targets.yaml)", PLATFORMS, "chinh_quyen",
              _metric("platforms_lgsp")),
    Indicator("lgsp_rate", "Tỷ lệ nền tảng phục vụ chính quyền đã kết nối LGSP", "%",
              "lượt triển khai đang sử dụng có Kết nối chia sẻ dữ liệu = Có / lượt triển khai đang sử dụng × 100, "
              "chỉ tính nền tảng thuộc danh mục phải kết nối LGSP (lgsp_catalogs trong params/targets.yaml)",
              PLATFORMS, "chinh_quyen", lambda f: _ratio(f, "deployments_lgsp", "lgsp_deployments"), kind="rate"),
    Indicator("platform_accounts", "Tài khoản trên các nền tảng (lũy kế)", "tài khoản",
              "tổng Tài khoản lũy kế của các dòng nền tảng (với toàn tỉnh: tổng của các huyện, thị xã, thành phố)",
              PLATFORMS, "nen_tang", _metric("platform_accounts")),
    Indicator("platform_mau", "Người dùng hoạt động trên các nền tảng", "người dùng",
              "tổng Người dùng hoạt động trong tháng của các dòng nền tảng (với toàn tỉnh: tổng của các huyện, "
              "thị xã, thành phố; người dùng trong các cơ quan cấp tỉnh tính riêng, không cộng vào)", PLATFORMS,
              "nen_tang", _metric("platform_mau")),
    Indicator("platform_mau_districts", "Người dùng hoạt động trên địa bàn các huyện", "người dùng",
              "tổng Người dùng hoạt động trong tháng của các dòng nền tảng của các huyện, thị xã, thành phố",
              PLATFORMS, "nen_tang", _metric("platform_mau_districts"), scope="province"),
    Indicator("platform_mau_agencies", "Người dùng hoạt động trong các cơ quan cấp tỉnh", "người dùng",
              "tổng Người dùng hoạt động trong tháng của các dòng nền tảng của các sở, ban, ngành",
              PLATFORMS, "nen_tang", _metric("platform_mau_agencies"), scope="province"),
    Indicator("platform_uses", "Lượt sử dụng các nền tảng", "lượt",
              "tổng Lượt sử dụng trong tháng của các dòng nền tảng (với toàn tỉnh: tổng của các huyện, thị xã, "
              "thành phố)", PLATFORMS, "nen_tang", _metric("platform_uses"),
              flow=True),
    Indicator("platforms_unmatched", "Nền tảng không có trong danh mục", "nền tảng",
              "số tên nền tảng không khớp danh mục hay tên gọi khác", PLATFORMS, "nen_tang",
              _metric("platforms_unmatched"), higher_is_better=False, ranked=False),
    *_catalog_indicators(),
    # --- citizens: national targets -------------------------------------------------------------
    Indicator("ehealth_penetration", "Tài khoản Sổ sức khỏe điện tử trên 100 dân", "tài khoản/100 dân",
              "tổng Tài khoản lũy kế của Sổ sức khỏe điện tử do các huyện báo cáo / dân số của các huyện đó × 100; "
              "để trống khi các huyện báo cáo có ít dân hơn ngưỡng bao phủ (params/targets.yaml)", PLATFORMS,
              "nguoi_dan", lambda f: _per_capita(f, "ehealth_accounts"), kind="ratio", scope="area"),
    Indicator("ehealth_coverage", "Dân số của các huyện báo cáo Sổ sức khỏe điện tử", "%",
              "dân số các huyện báo cáo tài khoản Sổ sức khỏe điện tử / tổng dân số các huyện của địa bàn × 100", PLATFORMS,
              "nguoi_dan", lambda f: _coverage(f, "ehealth_accounts"), kind="rate", scope="area", ranked=False),
    Indicator("vneid_penetration", "Tài khoản VNeID trên 100 dân", "tài khoản/100 dân",
              "tổng Tài khoản lũy kế của VNeID do các huyện báo cáo / dân số của các huyện đó × 100; "
              "để trống khi các huyện báo cáo có ít dân hơn ngưỡng bao phủ (params/targets.yaml)", PLATFORMS,
              "nguoi_dan", lambda f: _per_capita(f, "vneid_accounts"), kind="ratio", scope="area"),
    Indicator("vneid_coverage", "Dân số của các huyện báo cáo VNeID", "%",
              "dân số các huyện báo cáo tài khoản VNeID / tổng dân số các huyện của địa bàn × 100", PLATFORMS,
              "nguoi_dan", lambda f: _coverage(f, "vneid_accounts"), kind="rate", scope="area", ranked=False),
    # --- Hue-S ------------------------------------------------------------------------------
    Indicator("hues_downloads", "Lượt tải ứng dụng Hue-S (lũy kế)", "lượt",
              "tổng Lượt tải lũy kế của các huyện, thị xã, thành phố", HUE_S, "hue_s",
              _metric("downloads"), scope="area"),
    Indicator("hues_downloads_month", "Lượt tải Hue-S tăng thêm trong tháng", "lượt",
              "lượt tải lũy kế tháng này − lượt tải lũy kế tháng trước", HUE_S, "hue_s",
              lambda f: _diff(f, "downloads", "prev_downloads"), scope="area", flow=True),
    Indicator("hues_penetration", "Lượt tải Hue-S trên 100 dân", "lượt/100 dân",
              "lượt tải lũy kế / dân số của các huyện đã báo cáo × 100 (dân số theo năm ghi bên cạnh); để trống "
              "khi các huyện báo cáo có ít dân hơn ngưỡng bao phủ (params/targets.yaml)", HUE_S, "hue_s",
              lambda f: _per_capita(f, "downloads"), kind="ratio", scope="area"),
    Indicator("hues_coverage", "Dân số của các huyện báo cáo lượt tải Hue-S", "%",
              "dân số các huyện báo cáo lượt tải Hue-S / tổng dân số các huyện của địa bàn × 100", HUE_S, "hue_s",
              lambda f: _coverage(f, "downloads"), kind="rate", scope="area", ranked=False),
    Indicator("hues_accounts", "Tài khoản Hue-S đăng ký (lũy kế)", "tài khoản",
              "tổng Tài khoản đăng ký lũy kế", HUE_S, "hue_s", _metric("hues_accounts"), scope="area"),
    Indicator("hues_accounts_penetration", "Tài khoản Hue-S trên 100 dân", "tài khoản/100 dân",
              "tài khoản đăng ký lũy kế / dân số của các huyện đã báo cáo × 100 (dân số theo năm ghi bên cạnh)",
              HUE_S, "hue_s", lambda f: _per_capita(f, "hues_accounts"), kind="ratio", scope="area"),
    Indicator("reports_received", "Phản ánh hiện trường tiếp nhận", "phản ánh",
              "tổng Phản ánh tiếp nhận trong tháng", HUE_S, "hue_s", _metric("reports_received"), scope="area",
              flow=True),
    Indicator("reports_processed", "Phản ánh hiện trường đã xử lý", "phản ánh",
              "tổng Phản ánh đã xử lý trong tháng", HUE_S, "hue_s", _metric("reports_processed"), scope="area",
              flow=True),
    Indicator("reports_on_time", "Phản ánh hiện trường xử lý đúng hạn", "phản ánh",
              "tổng Phản ánh xử lý đúng hạn trong tháng", HUE_S, "hue_s", _metric("reports_on_time"), scope="area",
              flow=True),
    Indicator("processed_rate", "Tỷ lệ phản ánh đã xử lý", "%",
              "phản ánh đã xử lý / phản ánh tiếp nhận × 100", HUE_S, "hue_s",
              lambda f: _ratio(f, "reports_processed", "reports_received"), kind="rate", scope="area",
              ratio_of=("reports_processed", "reports_received")),
    Indicator("on_time_rate", "Tỷ lệ phản ánh xử lý đúng hạn", "%",
              "phản ánh xử lý đúng hạn / phản ánh đã xử lý × 100", HUE_S, "hue_s",
              lambda f: _ratio(f, "reports_on_time", "reports_processed"), kind="rate", scope="area",
              ratio_of=("reports_on_time", "reports_processed")),
    Indicator("satisfaction", "Tỷ lệ hài lòng của người dân", "%",
              "bình quân Tỷ lệ hài lòng của các huyện, có trọng số là phản ánh đã xử lý", HUE_S, "hue_s",
              lambda f: _ratio(f, "sat_weighted", "sat_weight", 1.0), kind="rate", scope="area"),
    # --- community digital technology teams ------------------------------------------------------
    Indicator("teams", "Tổ công nghệ số cộng đồng (lũy kế)", "tổ",
              "tổng Số tổ lũy kế của các xã, phường, thị trấn", TEAMS, "to_cns", _metric("teams"), scope="area"),
    Indicator("members", "Thành viên tổ công nghệ số (lũy kế)", "người",
              "tổng Số thành viên lũy kế", TEAMS, "to_cns", _metric("members"), scope="area"),
    Indicator("trainings", "Buổi tập huấn trong tháng", "buổi",
              "tổng Số buổi tập huấn trong tháng", TEAMS, "to_cns", _metric("trainings"), scope="area", flow=True),
    Indicator("trained", "Lượt người được tập huấn", "lượt người",
              "tổng Lượt người được tập huấn trong tháng", TEAMS, "to_cns", _metric("trained"), scope="area", flow=True),
    Indicator("households", "Hộ gia đình được hỗ trợ", "hộ",
              "tổng Số hộ được hỗ trợ trong tháng", TEAMS, "to_cns", _metric("households"), scope="area", flow=True),
    Indicator("communes_with_team", "Xã, phường, thị trấn đã có tổ", "đơn vị",
              "số đơn vị cấp xã có Số tổ lũy kế > 0", TEAMS, "to_cns", _metric("communes_with_team"), scope="area"),
    Indicator("communes_without_team", "Xã, phường, thị trấn chưa có tổ", "đơn vị",
              "số đơn vị cấp xã báo cáo hợp lệ Số tổ lũy kế = 0 (dòng bị loại hay không báo cáo không tính)",
              TEAMS, "to_cns", lambda f: _diff(f, "communes_reported", "communes_with_team"), scope="area",
              higher_is_better=False),
    Indicator("communes_no_data", "Xã, phường, thị trấn chưa có số liệu hợp lệ về tổ", "đơn vị",
              "số đơn vị cấp xã trong danh mục − số đơn vị cấp xã có dòng số liệu hợp lệ (dòng bị loại khi kiểm "
              "tra, hoặc không báo cáo)", TEAMS, "to_cns",
              lambda f: _col(f, "communes_total") - _col(f, "communes_reported").fillna(0),
              scope="area", higher_is_better=False, ranked=False),
    Indicator("teams_per_commune", "Số tổ bình quân mỗi xã", "tổ/xã",
              "số tổ lũy kế / số đơn vị cấp xã trong danh mục", TEAMS, "to_cns",
              lambda f: _ratio(f, "teams", "communes_total", 1.0), kind="ratio", scope="area"),
    # --- enterprises -----------------------------------------------------------------------------
    Indicator("sme_reached", "Doanh nghiệp tiếp cận SMEdx (lũy kế)", "doanh nghiệp",
              "tổng DN tiếp cận SMEdx lũy kế", SME, "doanh_nghiep", _metric("sme_reached"), scope="area"),
    Indicator("sme_using", "Doanh nghiệp sử dụng nền tảng số (lũy kế)", "doanh nghiệp",
              "tổng DN sử dụng nền tảng số lũy kế", SME, "doanh_nghiep", _metric("sme_using"), scope="area"),
    Indicator("sme_using_rate", "Tỷ lệ doanh nghiệp tiếp cận đã sử dụng nền tảng", "%",
              "DN sử dụng / DN tiếp cận × 100", SME, "doanh_nghiep",
              lambda f: _ratio(f, "sme_using", "sme_reached"), kind="rate", scope="area"),
    Indicator("dbi_assessed", "Doanh nghiệp tự đánh giá DBI (lũy kế)", "doanh nghiệp",
              "tổng DN tự đánh giá DBI lũy kế", SME, "doanh_nghiep", _metric("dbi_assessed"), scope="area"),
    Indicator("sme_supported", "Doanh nghiệp được hỗ trợ trong tháng", "doanh nghiệp",
              "tổng DN được hỗ trợ trong tháng", SME, "doanh_nghiep", _metric("sme_supported"), scope="area",
              flow=True),
)
BY_NAME = {i.name: i for i in INDICATORS}


def indicator(name: str) -> Indicator:
    """The indicator with this name."""
    return BY_NAME[name]


def definitions() -> pd.DataFrame:
    """The indicator dictionary as a table (for the report's notes and the annex)."""
    return pd.DataFrame([{"name": i.name, "label": i.label, "unit": i.unit, "formula": i.formula,
                          "source": i.source, "section": i.section} for i in INDICATORS])


# ----------------------------------------------------------------------------- the base table

_SUM_SHEETS = {"hue_s": {"downloads": "downloads", "accounts": "hues_accounts", "reports_received": "reports_received",
                         "reports_processed": "reports_processed", "reports_on_time": "reports_on_time"},
               "to_cns": {"teams": "teams", "members": "members", "trainings": "trainings",
                          "trained": "trained", "households": "households"},
               "doanh_nghiep": {"sme_reached": "sme_reached", "sme_using": "sme_using",
                                "dbi_assessed": "dbi_assessed", "sme_supported": "sme_supported"}}
_STATUS_COLUMNS = {"dang_su_dung": "platforms_in_use", "dang_thu_nghiem": "platforms_trial",
                   "chua_trien_khai": "platforms_not_deployed"}
_CATALOG_COLUMNS = [f"{cat}_{_STATUS_WORDS[s][0]}" for cat in CATALOG_KEYS for s in STATUS_KEYS]
# Counts that are zero (not missing) once a unit has reported any platform row.
_PLATFORM_COUNTS = [*_STATUS_COLUMNS.values(), "platforms_lgsp", "platforms_unmatched", "deployments",
                    "lgsp_deployments", "deployments_lgsp", *_CATALOG_COLUMNS]
# Area sheets and the area part of the platform rows: the province figure is the districts' sum.
# Figures given per 100 residents: the population behind each is that of the units that reported it.
_PER_CAPITA = ("downloads", "hues_accounts", "ehealth_accounts", "vneid_accounts")
_AREA_COLUMNS = ([c for m in _SUM_SHEETS.values() for c in m.values()]
                 + ["sat_weighted", "sat_weight", "communes_with_team", "communes_reported", "ehealth_accounts",
                    "vneid_accounts", "area_population", *(f"pop:{k}" for k in _PER_CAPITA)])


def _sums(facts: Frame) -> Frame:
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
            processed = w["reports_processed"] if "reports_processed" in w else pd.Series(np.nan, index=w.index)
            has = w["satisfaction"].notna() & processed.notna()
            frames.append(pd.DataFrame({"sat_weighted": (w["satisfaction"] * processed).where(has),
                                        "sat_weight": processed.where(has)}))
    teams = facts[(facts["sheet"] == "to_cns") & (facts["metric"] == "teams")]
    if not teams.empty:
        # only valid rows are facts: a commune whose row was rejected is neither with nor without a team
        counted = teams[teams["value"].notna()].assign(has=lambda t: t["value"] > 0)
        by_unit = counted.groupby(["month", "unit"])["has"]
        frames.append(pd.DataFrame({"communes_with_team": by_unit.sum().astype(float),
                                    "communes_reported": by_unit.size().astype(float)}))
    return pd.concat(frames, axis=1) if frames else pd.DataFrame()


def _units_by_month(registry: Registry, months: list[str]) -> Frame:
    """One row per (month, reporting unit): type, population and its year, communes in the registry."""
    reg = pd.DataFrame([{"unit": u.code, "type": u.type, "parent": u.parent, "population": u.population,
                         "population_year": u.population_year,
                         "start": u.valid_from[:7] if u.valid_from else "0000-00",
                         "end": u.valid_to[:7] if u.valid_to else "9999-99"} for u in registry.units])
    rows = []
    for order, month in enumerate(months):
        valid = reg[(reg["start"] <= month) & (reg["end"] >= month)]
        communes = valid[valid["type"] == "commune"].groupby("parent").size()
        reporting = valid[valid["type"].isin(["district", "agency"])].copy()
        reporting["type_order"] = reporting["type"].map({"district": 0, "agency": 1})
        reporting = reporting.sort_values("type_order", kind="stable")
        reporting["month"] = month
        reporting["communes_total"] = reporting["unit"].map(communes).fillna(0).astype(float)
        reporting.loc[reporting["type"] != "district", ["population", "population_year", "communes_total"]] = np.nan
        rows.append(reporting)
    if not rows:
        return pd.DataFrame(columns=["month", "unit", "type", "population", "population_year", "communes_total"])
    return pd.concat(rows, ignore_index=True)[["month", "unit", "type", "population", "population_year",
                                               "communes_total"]]


def catalog_of(catalog: Frame | None) -> dict[str, str]:
    """Platform id -> catalog key, from a catalog table (platform_id, catalog)."""
    if catalog is None or catalog.empty:
        return {}
    return dict(zip(catalog["platform_id"].astype(str), catalog["catalog"].astype(str)))


def _platform_counts(facts: Frame, units: Frame, catalogs: dict[str, str],
                     lgsp_catalogs: tuple[str, ...] = ("chinh_quyen",)) -> Frame:
    """Per (month, unit) and per (month, province): platform counts and sums of the platform rows.

    `units` (month, unit, type) selects whose rows count: the reporting units of each month.
    A platform is counted once however many units report it; a deployment is one unit's platform.
    """
    rows = facts[facts["sheet"] == "nen_tang"].merge(units[["month", "unit", "type"]], on=["month", "unit"])
    if rows.empty:
        return pd.DataFrame()
    status = rows.loc[rows["metric"] == "status", ["month", "unit", "type", "subject", "text"]].copy()
    status["catalog"] = [catalogs.get(s, OUTSIDE_CATALOG) for s in status["subject"]]
    status["unmatched"] = status["subject"].astype(str).str.startswith("unmatched:")
    lgsp = rows.loc[(rows["metric"] == "lgsp") & (rows["value"] == 1), ["month", "unit", "subject"]]
    in_use = status[status["text"] == "dang_su_dung"]
    # connection to LGSP is asked of the platforms of the catalogs named in params/targets.yaml only
    lgsp_in_use = in_use[in_use["catalog"].isin(lgsp_catalogs)]
    connected = lgsp_in_use.merge(lgsp, on=["month", "unit", "subject"])

    status["column"] = status["catalog"] + "_" + status["text"].map({k: v[0] for k, v in _STATUS_WORDS.items()})

    def counts(keys: list[str]) -> Frame:
        index = status.groupby(keys).size().index
        by_status = status.groupby([*keys, "text"])["subject"].nunique().unstack("text")
        by_catalog = status.groupby([*keys, "column"])["subject"].nunique().unstack("column")
        frame = pd.DataFrame(index=index)
        for key, column in _STATUS_COLUMNS.items():
            frame[column] = by_status[key] if key in by_status else np.nan
        for column in _CATALOG_COLUMNS:
            frame[column] = by_catalog[column] if column in by_catalog else np.nan
        frame["platforms_lgsp"] = connected.groupby(keys)["subject"].nunique()
        frame["deployments"] = in_use.groupby(keys).size()
        frame["lgsp_deployments"] = lgsp_in_use.groupby(keys).size()
        frame["deployments_lgsp"] = connected.groupby(keys).size()
        frame["platforms_unmatched"] = status[status["unmatched"]].groupby(keys)["subject"].nunique()
        # a unit that reported platforms has zero of what it did not report
        frame[_PLATFORM_COUNTS] = frame[_PLATFORM_COUNTS].astype(float).fillna(0)
        return frame

    per_unit = counts(["month", "unit"])
    province = counts(["month"])
    province["unit"] = PROVINCE
    province = province.reset_index().set_index(["month", "unit"])
    sums = {}
    for metric, column in (("accounts", "platform_accounts"), ("mau", "platform_mau"), ("uses", "platform_uses")):
        part = rows[rows["metric"] == metric]
        sums[column] = part.groupby(["month", "unit"])["value"].sum(min_count=1)
        # the province's platform figures are the districts' area figures; agencies count apart
        part = part[part["type"] == "district"]
        province[column] = part.groupby("month")["value"].sum(min_count=1).reindex(
            province.index.get_level_values("month")).to_numpy()
    mau = rows[rows["metric"] == "mau"]
    for kind, column in (("district", "platform_mau_districts"), ("agency", "platform_mau_agencies")):
        province[column] = mau[mau["type"] == kind].groupby("month")["value"].sum(min_count=1).reindex(
            province.index.get_level_values("month")).to_numpy()
    accounts = rows[(rows["metric"] == "accounts")]
    for pid, column in ((EHEALTH_PLATFORM, "ehealth_accounts"), (VNEID_PLATFORM, "vneid_accounts")):
        part = accounts[(accounts["subject"] == pid) & (accounts["type"] == "district")]
        sums[column] = part.groupby(["month", "unit"])["value"].sum(min_count=1)
    per_unit = per_unit.join(pd.DataFrame(sums), how="left")
    return pd.concat([per_unit, province])


def base_table(facts: Frame, registry: Registry, submitted: Frame, catalog: Frame | None = None,
               scope: Scope | None = None, *, like_for_like: bool = True) -> Frame:
    """The added-up figures per (month, unit), the province `tinh` included.

    `submitted` has one row per accepted submission (month, unit, and `late` when known).
    Months are those of `submitted`; every reporting unit valid in a month gets a row, reported
    or not. `catalog` (platform_id, catalog) sorts the platforms into the three catalogs.
    `scope` (params/targets.yaml, read when None): the catalogs asked to connect to LGSP and the
    population coverage below which no per-capita figure is given. With `like_for_like`, the
    table's attrs hold the month-on-month changes over the rows present in both months.
    """
    scope = scope if scope is not None else load_scope()
    months = sorted(submitted["month"].unique()) if not submitted.empty else []
    units = _units_by_month(registry, months)
    if units.empty:
        return pd.DataFrame()
    got = submitted.drop_duplicates(["month", "unit"]).assign(submitted=1.0)
    got["late"] = got["late"].fillna(False).astype(float) if "late" in got else np.nan
    units = units.merge(got[["month", "unit", "submitted", "late"]], on=["month", "unit"], how="left")
    units["submitted"] = units["submitted"].fillna(0.0)
    units.loc[units["submitted"] == 0, "late"] = np.nan
    units["expected"] = 1.0
    sent = set(zip(got["month"], got["unit"]))
    units["both_months"] = [float((m, u) in sent and (month_before(m), u) in sent) for m, u in
                            zip(units["month"], units["unit"])]
    base = units.set_index(["month", "unit"])

    sums = _sums(facts)
    if not sums.empty:
        base = base.join(sums.reindex(columns=[c for c in _AREA_COLUMNS if c in sums.columns]))
    platforms = _platform_counts(facts, units, catalog_of(catalog), scope.lgsp_catalogs)
    if not platforms.empty:
        unit_part = platforms[platforms.index.get_level_values("unit") != PROVINCE]
        base = base.join(unit_part.drop(columns=[c for c in unit_part.columns if c in base.columns]))

    base["area_population"] = base["population"].where(base["type"] == "district")
    for key in _PER_CAPITA:
        if key in base:
            base[f"pop:{key}"] = base["population"].where(base[key].notna())
    province = registry.province()
    is_district = base["type"] == "district"
    prov = pd.DataFrame(index=pd.Index(months, name="month"))
    prov["type"] = "province"
    prov["expected"] = base.groupby(level="month")["expected"].sum()
    prov["submitted"] = base.groupby(level="month")["submitted"].sum()
    prov["both_months"] = base.groupby(level="month")["both_months"].sum()
    prov["late"] = base.groupby(level="month")["late"].sum(min_count=1)
    prov["population"] = province.population
    prov["population_year"] = province.population_year
    prov["communes_total"] = base[is_district].groupby(level="month")["communes_total"].sum()
    area = [c for c in _AREA_COLUMNS if c in base.columns]
    if area:
        prov = prov.join(base.loc[is_district, area].groupby(level="month").sum(min_count=1))
    if not platforms.empty:
        prov_platforms = platforms.xs(PROVINCE, level="unit")
        prov = prov.join(prov_platforms.drop(columns=[c for c in prov_platforms.columns if c in area]))
    prov["unit"] = PROVINCE
    base = pd.concat([base, prov.reset_index().set_index(["month", "unit"])]).sort_index()

    if "downloads" in base:
        # the previous month's downloads, only when it is the calendar month before
        frame = base["downloads"].reset_index()
        frame["month"] = [month_after(m) for m in frame["month"]]
        prev = frame.set_index(["month", "unit"])["downloads"]
        base["prev_downloads"] = prev.reindex(base.index).to_numpy()
    lfl = _like_for_like(facts, registry, submitted, catalog, scope) if like_for_like else None
    base.attrs = {"min_population_coverage": scope.min_population_coverage}
    if lfl is not None:
        base.attrs["like_for_like"] = lfl
    return base


_FACT_KEY = ["unit", "sheet", "subject", "metric"]


def _like_for_like(facts: Frame, registry: Registry, submitted: Frame, catalog: Frame | None,
                   scope: Scope) -> Frame:
    """Per (month, unit, indicator): the change from the month before over the figures present
    in both months only (the same units, communes and platforms), and the previous value over them.

    A unit, commune or platform row that is missing (not sent, or rejected) in either month is
    left out of both, so a partial month is never compared with a full one.
    """
    columns = ["month", "unit", "indicator", "lfl_previous", "lfl_change"]
    months = sorted(set(submitted["month"])) if not submitted.empty else []
    out = []
    for month in months:
        before = month_before(month)
        if before not in months:
            continue
        now = facts[facts["month"] == month]
        then = facts[facts["month"] == before]
        common = now[_FACT_KEY].drop_duplicates().merge(then[_FACT_KEY].drop_duplicates(), on=_FACT_KEY)
        pair = pd.concat([now.merge(common, on=_FACT_KEY), then.merge(common, on=_FACT_KEY)], ignore_index=True)
        units = set(now["unit"]) & set(then["unit"])
        subs = submitted[submitted["month"].isin([month, before]) & submitted["unit"].isin(units)]
        if subs.empty:
            continue
        values = compute(base_table(pair, registry, subs, catalog, scope, like_for_like=False))
        wide = values.pivot_table(index=["unit", "indicator"], columns="month", values="value", aggfunc="first",
                                  dropna=False)
        if month not in wide or before not in wide:
            continue
        frame = pd.DataFrame({"lfl_previous": wide[before], "lfl_change": wide[month] - wide[before]}).reset_index()
        frame["month"] = month
        out.append(frame)
    if not out:
        return pd.DataFrame(columns=columns)
    return pd.concat(out, ignore_index=True)[columns]


def compute(base: Frame) -> Frame:
    """Long table (month, unit, indicator, value) of every indicator for every row of `base`."""
    columns = ["month", "unit", "indicator", "value"]
    if base is None or base.empty:
        return pd.DataFrame(columns=columns)
    frame = base.reset_index()
    frame.attrs = {"min_population_coverage": base.attrs.get("min_population_coverage", 0.0)}
    area = frame["type"].isin(["district", "province"])
    province = frame["type"] == "province"
    parts = []
    for order, ind in enumerate(INDICATORS):
        mask = area if ind.scope == "area" else province if ind.scope == "province" else slice(None)
        values = ind.compute(frame)
        part = pd.DataFrame({"month": frame["month"], "unit": frame["unit"], "indicator": ind.name,
                             "value": values.astype(float), "_order": order})[mask]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["month", "unit", "_order"], kind="stable").drop(columns="_order")
    out = out.reset_index(drop=True)[columns]
    if "like_for_like" in base.attrs:
        out.attrs["like_for_like"] = base.attrs["like_for_like"]
    return out


def with_changes(values: Frame) -> Frame:
    """Add the previous month's value and the change to each row of a `compute` table."""
    from dxreport.params import previous_month

    lfl = values.attrs.get("like_for_like")
    values = values.copy()
    values.attrs = {}
    frame = values.copy()
    frame["prev_month"] = frame["month"].map(previous_month)
    prev = values[["month", "unit", "indicator", "value"]].rename(columns={"month": "prev_month", "value": "previous"})
    frame = frame.merge(prev, on=["prev_month", "unit", "indicator"], how="left").drop(columns="prev_month")
    frame["change"] = frame["value"] - frame["previous"]
    base = frame["previous"]
    if lfl is not None and not lfl.empty:
        # like for like: over the units and rows present in both months (submissions excepted,
        # whose change is the change in who reported)
        frame = frame.merge(lfl, on=["month", "unit", "indicator"], how="left")
        chung = frame["indicator"].map(lambda n: BY_NAME[n].section == "chung" if n in BY_NAME else True)
        use = ~chung & frame["previous"].notna()
        frame.loc[use, "change"] = frame.loc[use, "lfl_change"]
        base = frame["previous"].where(~use, frame["lfl_previous"])
        frame = frame.drop(columns=["lfl_previous", "lfl_change"])
    frame["change_pct"] = (frame["change"] / base.where(base != 0)) * 100
    return frame


def same_month_last_year(month: str) -> str:
    """`2022-07` → `2021-07`."""
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


def _unlike_years(values: Frame, frame: Frame) -> pd.Series:
    """Province rows (other than who reported) whose month and same month last year were reported
    by different sets of units: a change between them would compare unlike totals."""
    sent = values[(values["indicator"] == "submissions_received") & (values["value"] == 1)
                  & (values["unit"] != PROVINCE)]
    units = sent.groupby("month")["unit"].agg(frozenset)
    now = frame["month"].map(units)
    then = frame["month"].map(lambda m: units.get(same_month_last_year(m)))
    chung = frame["indicator"].map(lambda n: BY_NAME[n].section == "chung" if n in BY_NAME else True)
    return (frame["unit"] == PROVINCE) & ~chung & frame["last_year"].notna() & (now != then)


def with_year(values: Frame) -> Frame:
    """Add the same month last year (`last_year`, `yoy_change`, `yoy_pct`) and the year to date.

    The year to date (`ytd`) is the sum from January to the month of a flow indicator (a figure
    for the month alone), over the months that have a value (`ytd_months` of them); a rate of two
    flow indicators gets the rate of their sums. Stocks (lũy kế) and other rates get none.
    """
    frame = values.copy()
    base = values[["month", "unit", "indicator", "value"]]
    ly = base.rename(columns={"value": "last_year"})
    ly["month"] = [f"{int(m[:4]) + 1:04d}{m[4:]}" for m in ly["month"]]
    frame = frame.merge(ly, on=["month", "unit", "indicator"], how="left")
    frame["yoy_change"] = frame["value"] - frame["last_year"]
    frame["yoy_pct"] = frame["yoy_change"] / frame["last_year"].where(frame["last_year"] != 0) * 100
    unlike = _unlike_years(values, frame)
    frame.loc[unlike, ["yoy_change", "yoy_pct"]] = np.nan

    flows = [i.name for i in INDICATORS if i.flow]
    part = base[base["indicator"].isin(flows)].sort_values("month").copy()
    part["year"] = part["month"].str[:4]
    keys = [part["unit"], part["indicator"], part["year"]]
    part["ytd"] = part["value"].fillna(0).groupby(keys).cumsum()
    part["ytd_months"] = part["value"].notna().astype(int).groupby(keys).cumsum()
    part.loc[part["ytd_months"] == 0, "ytd"] = np.nan
    ytd = part[["month", "unit", "indicator", "ytd", "ytd_months"]]
    rates = []
    wide = ytd.pivot_table(index=["month", "unit"], columns="indicator", values="ytd", aggfunc="first")
    months_wide = ytd.pivot_table(index=["month", "unit"], columns="indicator", values="ytd_months", aggfunc="first")
    for ind in INDICATORS:
        if ind.ratio_of and set(ind.ratio_of) <= set(wide.columns):
            num, den = wide[ind.ratio_of[0]], wide[ind.ratio_of[1]]
            r = (num / den.where(den != 0) * 100).rename("ytd").to_frame()
            r["ytd_months"] = months_wide[ind.ratio_of[1]]
            r["indicator"] = ind.name
            rates.append(r.reset_index())
    ytd = pd.concat([ytd, *rates], ignore_index=True) if rates else ytd
    frame = frame.merge(ytd, on=["month", "unit", "indicator"], how="left")
    return frame


# ----------------------------------------------------------------------------- a unit's view

def peers_of(registry: Registry, month: str, unit: str) -> tuple[list[str], str]:
    """The units a unit is ranked among (the districts, or the provincial agencies) and their name."""
    if unit == PROVINCE:
        return [], ""
    kind = registry.get(unit).type
    codes = [u.code for u in registry.reporting_units(month) if u.type == kind]
    return codes, ("huyện, thị xã, thành phố" if kind == "district" else "cơ quan cấp tỉnh")


def peer_stats(values: Frame, month: str, peers: list[str]) -> Frame:
    """Per (unit, indicator) among `peers` this month: rank (1 = best), how many have a value, their mean.

    Ties share the better rank. Indicators that are not `ranked` get no rank, only the mean.
    """
    part = values[(values["month"] == month) & values["unit"].isin(peers)]
    if part.empty:
        return pd.DataFrame(columns=["unit", "indicator", "rank", "ranked_among", "peer_mean"])
    wide = part.pivot_table(index="unit", columns="indicator", values="value", aggfunc="first")
    out = []
    for name in wide.columns:
        ind = BY_NAME.get(name)
        if ind is None:
            continue
        col = wide[name]
        # no rank when it says nothing: an indicator not meant for ranking, or every peer equal
        if ind.ranked and col.dropna().nunique() > 1:
            rank = col.rank(ascending=not ind.higher_is_better, method="min")
        else:
            rank = col * np.nan
        out.append(pd.DataFrame({"unit": col.index, "indicator": name, "rank": rank.to_numpy(),
                                 "ranked_among": float(col.notna().sum()), "peer_mean": col.mean()}))
    return pd.concat(out, ignore_index=True)


def unit_view(values: Frame, month: str, unit: str, peers: list[str] | None = None) -> Frame:
    """One unit's indicators for one month with labels, units and changes, in definition order.

    With `peers`, each row also has the unit's rank among them and their mean.
    """
    part = values[(values["month"] == month) & (values["unit"] == unit)].set_index("indicator")
    stats = peer_stats(values, month, peers).set_index(["unit", "indicator"]) if peers else None
    optional = ("previous", "change", "change_pct", "last_year", "yoy_change", "yoy_pct", "ytd", "ytd_months")
    rows = []
    for ind in INDICATORS:
        if ind.name not in part.index:
            continue
        r = part.loc[ind.name]
        row = {"indicator": ind.name, "label": ind.label, "measure": ind.unit, "kind": ind.kind,
               "section": ind.section, "value": r["value"]}
        row.update({k: r.get(k) for k in optional})
        if stats is not None:
            key = (unit, ind.name)
            row["rank"] = stats.at[key, "rank"] if key in stats.index else np.nan
            row["ranked_among"] = stats.at[key, "ranked_among"] if key in stats.index else np.nan
            row["peer_mean"] = stats.at[key, "peer_mean"] if key in stats.index else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- platform rows

# `cell`: where the row's status is in the unit's file (Nền tảng!C9), to find the row again.
PLATFORM_ROW_COLUMNS = ["month", "unit", "subject", "subject_name", "catalog", "status", "accounts", "mau", "uses",
                        "lgsp", "proposal", "note", "cell"]


def platform_rows(facts: Frame, catalog: Frame | None = None) -> Frame:
    """One row per (month, unit, platform) of the `Nền tảng` sheets: status, figures, proposal.

    `catalog` (platform_id, catalog, name) gives the catalog and the catalog's name of a platform;
    a platform outside it keeps the name the unit wrote and the catalog 'ngoai_danh_muc'.
    """
    rows = facts[facts["sheet"] == "nen_tang"]
    if rows.empty:
        return pd.DataFrame(columns=PLATFORM_ROW_COLUMNS)
    keys = ["month", "unit", "subject"]
    numeric = rows[rows["metric"].isin(["accounts", "mau", "uses", "lgsp"])].pivot_table(
        index=keys, columns="metric", values="value", aggfunc="first")
    text = rows[rows["metric"].isin(["status", "proposal", "note"])].pivot_table(
        index=keys, columns="metric", values="text", aggfunc="first")
    first = rows.groupby(keys)["subject_name"].first().to_frame()
    cells = rows[rows["metric"] == "status"].set_index(keys)["cell"]
    first["cell"] = cells[~cells.index.duplicated()].reindex(first.index)
    frame = first.join(numeric).join(text)
    for column in PLATFORM_ROW_COLUMNS:
        if column not in frame.columns and column not in keys:
            frame[column] = np.nan
    frame = frame.reset_index()
    catalogs = catalog_of(catalog)
    names = dict(zip(catalog["platform_id"], catalog["name"])) if catalog is not None and not catalog.empty else {}
    frame["catalog"] = [catalogs.get(s, OUTSIDE_CATALOG) for s in frame["subject"]]
    frame["subject_name"] = [names.get(s, n) for s, n in zip(frame["subject"], frame["subject_name"])]
    return frame[PLATFORM_ROW_COLUMNS]


def platform_summary(rows: Frame, unit_types: dict[str, str]) -> Frame:
    """Per platform (over the units of `rows`): how many units use it, try it, have not deployed
    it, have connected it to LGSP; accounts, active users and uses summed over districts and over
    agencies separately (the two are never added)."""
    if rows.empty:
        return pd.DataFrame(columns=["subject", "subject_name", "catalog", "in_use", "trial", "not_deployed", "lgsp",
                                     "accounts", "mau", "uses", "accounts_districts", "accounts_agencies",
                                     "mau_districts", "mau_agencies", "uses_districts", "uses_agencies"])
    r = rows.assign(type=rows["unit"].map(unit_types))
    r["in_use"] = (r["status"] == "dang_su_dung").astype(int)
    r["trial"] = (r["status"] == "dang_thu_nghiem").astype(int)
    r["not_deployed"] = (r["status"] == "chua_trien_khai").astype(int)
    r["lgsp_in_use"] = ((r["lgsp"] == 1) & (r["status"] == "dang_su_dung")).astype(int)
    for metric in ("accounts", "mau", "uses"):
        r[f"{metric}_districts"] = r[metric].where(r["type"] == "district")
        r[f"{metric}_agencies"] = r[metric].where(r["type"] == "agency")
    out = r.groupby(["catalog", "subject"], sort=False).agg(
        subject_name=("subject_name", "first"), in_use=("in_use", "sum"), trial=("trial", "sum"),
        not_deployed=("not_deployed", "sum"), lgsp=("lgsp_in_use", "sum"),
        accounts=("accounts", lambda s: s.sum(min_count=1)), mau=("mau", lambda s: s.sum(min_count=1)),
        uses=("uses", lambda s: s.sum(min_count=1)),
        **{f"{m}_{who}": (f"{m}_{who}", lambda s: s.sum(min_count=1))
           for m in ("accounts", "mau", "uses") for who in ("districts", "agencies")}).reset_index()
    order = {c: i for i, c in enumerate([*CATALOG_KEYS, OUTSIDE_CATALOG])}
    out["_c"] = out["catalog"].map(order).fillna(len(order))
    out = out.sort_values(["_c", "in_use", "subject_name"], ascending=[True, False, True]).drop(columns="_c")
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- params files

class RulesError(ValueError):
    """params/lagging.yaml or params/targets.yaml is not valid."""


@dataclass(frozen=True)
class Rule:
    """A rule that names a unit (or a platform) as lagging."""

    id: str
    kind: str                     # not_submitted | late | below | above | below_share | platform_not_deployed
    indicator: str = ""
    threshold: float | None = None
    applies_to: tuple[str, ...] = ("district", "agency")
    proposal: str = ""            # what the report proposes for the units this rule names


@dataclass(frozen=True)
class Target:
    """A target: the value an indicator should reach in a year, and whose target it is."""

    indicator: str | None
    label: str
    year: int
    value: float
    comparison: str               # ">=" or "<="
    unit: str
    official: bool
    source: str
    note: str = ""


_RULE_KINDS = ("not_submitted", "late", "below", "above", "below_share", "platform_not_deployed")
_RULE_KEYS = ("id", "kind", "indicator", "threshold", "applies_to", "proposal")
_TARGET_KEYS = ("indicator", "label", "year", "value", "comparison", "unit", "official", "source", "note")
_TARGET_REQUIRED = {"year": "năm, số nguyên", "value": "số, theo đơn vị của chỉ tiêu",
                    "source": "văn bản đặt chỉ tiêu, hoặc “Chỉ tiêu của Sở”",
                    "official": "true: chỉ tiêu công bố chính thức; false: chỉ tiêu của Sở"}
_INDICATOR_KINDS = ("below", "above", "below_share")        # the kinds that compare an indicator
_THRESHOLD_KINDS = (*_INDICATOR_KINDS, "platform_not_deployed")
_APPLIES = ("district", "agency")


def _read_yaml(path: Path, top: str, others: tuple[str, ...] = ()):
    """The parsed file (paramcheck.YamlDoc) and its list `top`, refused with the line when malformed."""
    from dxreport.paramcheck import check_mapping, read_yaml

    doc = read_yaml(path, RulesError)
    data = check_mapping(doc, (), (top, *others))
    if top not in data:
        doc.fail((), f"thiếu khóa {top} (danh sách)")
    items = data[top]
    if items is None:
        items = []
    if not isinstance(items, list):
        doc.fail((top,), f"{top} phải là một danh sách, không phải {items!r}")
    return doc, items


def _item_keys(doc, keys: tuple, item: object, allowed: tuple[str, ...], what: str) -> dict:
    if not isinstance(item, dict):
        doc.fail(keys, f"{what} phải là một bảng khóa: giá trị")
    for key in item:
        if str(key) not in allowed:
            doc.fail((*keys, key), f"{what}: khóa {key} không được hỗ trợ; chỉ nhận: {', '.join(allowed)}")
    return item


def _text_or_empty(doc, keys: tuple, item: dict, key: str, what: str) -> str:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        doc.fail((*keys, key), f"{what}: {key} phải là chữ, không phải {value!r}")
    return value or ""


def load_rules(path: Path | str | None = None) -> list[Rule]:
    """params/lagging.yaml: the rules that name lagging units and platforms, checked strictly.

    RulesError names the file, the line and the key ("params/lagging.yaml, dòng 24: quy tắc thứ
    3 (hues_penetration): threshold …").
    """
    path = Path(path) if path else PARAMS_DIR / "lagging.yaml"
    doc, items = _read_yaml(path, "rules")
    rules, seen = [], {}
    for i, item in enumerate(items):
        keys = ("rules", i)
        what = f"quy tắc thứ {i + 1}"
        item = _item_keys(doc, keys, item, _RULE_KEYS, what)
        if item.get("id") is not None:
            what += f" ({item['id']})"
        kind = item.get("kind")
        if kind not in _RULE_KINDS:
            doc.fail((*keys, "kind") if "kind" in item else keys,
                     f"{what}: kind phải là một trong {', '.join(_RULE_KINDS)}, không phải {kind!r}")
        name = item.get("indicator")
        if kind in _INDICATOR_KINDS:
            if name not in BY_NAME:
                doc.fail((*keys, "indicator") if "indicator" in item else keys,
                         f"{what}: chỉ tiêu {name!r} không có trong danh mục chỉ tiêu (dxreport.kpis)")
        elif name is not None:
            doc.fail((*keys, "indicator"), f"{what}: quy tắc kind {kind} không dùng indicator")
        threshold = item.get("threshold")
        if kind in _THRESHOLD_KINDS:
            if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
                doc.fail((*keys, "threshold") if "threshold" in item else keys,
                         f"{what}: threshold phải là một số, không phải {threshold!r}")
            if kind == "below_share" and not 0 < threshold <= 100:
                doc.fail((*keys, "threshold"), f"{what}: threshold của below_share là phần trăm (0–100], "
                                               f"không phải {threshold!r}")
            if kind == "platform_not_deployed" and (threshold < 1 or not float(threshold).is_integer()):
                doc.fail((*keys, "threshold"), f"{what}: threshold của platform_not_deployed là số đơn vị "
                                               f"(số nguyên ≥ 1), không phải {threshold!r}")
        elif threshold is not None:
            doc.fail((*keys, "threshold"), f"{what}: quy tắc kind {kind} không dùng threshold")
        applies = item.get("applies_to", list(_APPLIES))
        if not isinstance(applies, list) or not applies or not set(applies) <= set(_APPLIES):
            doc.fail((*keys, "applies_to"), f"{what}: applies_to là danh sách lấy từ district, agency, "
                                            f"không phải {applies!r}")
        rule_id = item.get("id")
        if rule_id is not None and (not isinstance(rule_id, str) or not rule_id.strip()):
            doc.fail((*keys, "id"), f"{what}: id phải là chữ, không phải {rule_id!r}")
        rule_id = rule_id or f"{kind}_{name or ''}"
        if rule_id in seen:
            doc.fail((*keys, "id") if "id" in item else keys,
                     f"{what}: mã quy tắc (id) {rule_id} trùng với quy tắc thứ {seen[rule_id]}")
        seen[rule_id] = i + 1
        proposal = _text_or_empty(doc, keys, item, "proposal", what)
        rules.append(Rule(id=rule_id, kind=kind, indicator=str(name or ""),
                          threshold=None if threshold is None else float(threshold), applies_to=tuple(applies),
                          proposal=proposal))
    return rules


def load_targets(path: Path | str | None = None) -> list[Target]:
    """params/targets.yaml: targets per year; official ones name their public source.

    RulesError names the file, the line and the key ("params/targets.yaml, dòng 17: chỉ tiêu
    thứ 1 (ehealth_penetration): value …").
    """
    path = Path(path) if path else PARAMS_DIR / "targets.yaml"
    load_scope(path)
    doc, items = _read_yaml(path, "targets", _SCOPE_KEYS)
    out, seen = [], {}
    for i, item in enumerate(items):
        keys = ("targets", i)
        what = f"chỉ tiêu thứ {i + 1}"
        item = _item_keys(doc, keys, item, _TARGET_KEYS, what)
        if "indicator" not in item:
            doc.fail(keys, f"{what}: thiếu khóa indicator (tên chỉ tiêu trong dxreport.kpis, hoặc null)")
        name = item["indicator"]
        if name is not None and name not in BY_NAME:
            doc.fail((*keys, "indicator"), f"{what}: chỉ tiêu {name!r} không có trong danh mục chỉ tiêu (dxreport.kpis)")
        if name is not None:
            what += f" ({name})"
        for key, expected in _TARGET_REQUIRED.items():
            if key not in item or item[key] in (None, ""):
                doc.fail(keys, f"{what}: thiếu khóa {key} ({expected})")
        year = item["year"]
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
            doc.fail((*keys, "year"), f"{what}: year phải là năm (số nguyên 2000–2100), không phải {year!r}")
        value = item["value"]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            doc.fail((*keys, "value"), f"{what}: value phải là một số ≥ 0, không phải {value!r}")
        if name is not None and BY_NAME[name].kind == "rate" and value > 100:
            doc.fail((*keys, "value"), f"{what}: value là tỷ lệ phần trăm (0–100), không phải {value!r}")
        comparison = item.get("comparison", ">=")
        if comparison not in (">=", "<="):
            doc.fail((*keys, "comparison"), f"{what}: comparison chỉ nhận >= hoặc <=, không phải {comparison!r}")
        if not isinstance(item["official"], bool):
            doc.fail((*keys, "official"), f"{what}: official phải là true (chỉ tiêu công bố chính thức) hoặc false "
                                          f"(chỉ tiêu của Sở), không phải {item['official']!r}")
        source = item["source"]
        if not isinstance(source, str):
            doc.fail((*keys, "source"), f"{what}: source phải là chữ, không phải {source!r}")
        label = _text_or_empty(doc, keys, item, "label", what) or (BY_NAME[name].label if name else "")
        if not label:
            doc.fail(keys, f"{what}: thiếu khóa label (chỉ tiêu không có indicator cần tên)")
        unit = _text_or_empty(doc, keys, item, "unit", what) or (BY_NAME[name].unit if name else "")
        note = _text_or_empty(doc, keys, item, "note", what)
        key = (name or label, year)
        if key in seen:
            doc.fail(keys, f"{what}: trùng chỉ tiêu và năm {year} với chỉ tiêu thứ {seen[key]}")
        seen[key] = i + 1
        out.append(Target(indicator=name, label=label, year=year, value=float(value), comparison=comparison,
                          unit=unit, official=item["official"], source=source, note=note))
    return out


@dataclass(frozen=True)
class Scope:
    """What the figures of params/targets.yaml range over, and when a figure is too partial to give.

    lgsp_catalogs: the catalogs whose platforms are asked to connect to LGSP (the LGSP rate and
    its target range over them only). min_population_coverage: the share of the population (%)
    that the units reporting a figure must hold for a per-capita figure to be given.
    min_unit_coverage: below this share of units reporting (%), page 1 says the month's figures
    are partial.
    """

    lgsp_catalogs: tuple[str, ...] = ("chinh_quyen",)
    min_population_coverage: float = 80.0
    min_unit_coverage: float = 50.0


_SCOPE_KEYS = ("lgsp_catalogs", "coverage")


def _share(doc, keys: tuple, value: object, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 100:
        doc.fail(keys, f"{what} là phần trăm (0–100), không phải {value!r}")
    return float(value)


def load_scope(path: Path | str | None = None) -> Scope:
    """The scope keys of params/targets.yaml (lgsp_catalogs, coverage), checked strictly."""
    from dxreport.paramcheck import check_mapping

    path = Path(path) if path else PARAMS_DIR / "targets.yaml"
    doc, _ = _read_yaml(path, "targets", _SCOPE_KEYS)
    data = doc.data if isinstance(doc.data, dict) else {}
    default = Scope()
    catalogs = data.get("lgsp_catalogs", list(default.lgsp_catalogs))
    if not isinstance(catalogs, list) or not catalogs or not set(catalogs) <= set(CATALOG_KEYS):
        doc.fail(("lgsp_catalogs",), f"lgsp_catalogs là danh sách lấy từ {', '.join(CATALOG_KEYS)}, "
                                     f"không phải {catalogs!r}")
    coverage = check_mapping(doc, ("coverage",), ("min_population", "min_units"))
    population = _share(doc, ("coverage", "min_population"), coverage.get("min_population",
                        default.min_population_coverage), "coverage.min_population")
    units = _share(doc, ("coverage", "min_units"), coverage.get("min_units", default.min_unit_coverage),
                   "coverage.min_units")
    return Scope(tuple(catalogs), population, units)


# ----------------------------------------------------------------------------- lagging, targets

def lagging_units(values: Frame, month: str, unit_types: dict[str, str], rules: list[Rule]) -> Frame:
    """Every (unit, rule) where a reporting unit lags this month: value, threshold, rule.

    `unit_types` maps the month's reporting units to 'district' or 'agency'. A unit without a
    value for the rule's indicator is not named by that rule (it is named by `not_submitted`).
    """
    columns = ["unit", "rule", "kind", "indicator", "value", "threshold", "reference"]
    month_values = values[values["month"] == month]
    wide = month_values.pivot_table(index="unit", columns="indicator", values="value", aggfunc="first")
    units = pd.Series(unit_types)
    out = []
    for rule in rules:
        if rule.kind == "platform_not_deployed":
            continue
        codes = units[units.isin(rule.applies_to)].index
        w = wide.reindex(codes)
        reference = np.nan
        if rule.kind == "not_submitted":
            value = w.get("submissions_received", pd.Series(np.nan, index=codes)).fillna(0)
            hit = value < 1
            threshold = 1.0
        elif rule.kind == "late":
            value = w.get("submissions_late", pd.Series(np.nan, index=codes))
            hit = value > 0
            threshold = 0.0
        else:
            value = w.get(rule.indicator, pd.Series(np.nan, index=codes))
            threshold = rule.threshold
            if rule.kind == "below_share":
                reference = wide.at[PROVINCE, rule.indicator] if (PROVINCE in wide.index and rule.indicator in wide) \
                    else np.nan
                threshold = reference * rule.threshold / 100
            hit = value < threshold if rule.kind in ("below", "below_share") else value > threshold
        hit = hit.fillna(False).astype(bool)
        for code in codes[hit.to_numpy()]:
            out.append({"unit": code, "rule": rule.id, "kind": rule.kind, "indicator": rule.indicator,
                        "value": float(value[code]), "threshold": float(threshold), "reference": float(reference)})
    return pd.DataFrame(out, columns=columns)


def lagging_platforms(summary: Frame, rules: list[Rule]) -> Frame:
    """Catalog platforms that at least `threshold` units report as not deployed."""
    columns = ["subject", "subject_name", "catalog", "rule", "not_deployed", "in_use", "threshold"]
    out = []
    for rule in rules:
        if rule.kind != "platform_not_deployed" or summary.empty:
            continue
        part = summary[(summary["catalog"] != OUTSIDE_CATALOG) & (summary["not_deployed"] >= rule.threshold)]
        for _, r in part.sort_values("not_deployed", ascending=False).iterrows():
            out.append({"subject": r["subject"], "subject_name": r["subject_name"], "catalog": r["catalog"],
                        "rule": rule.id, "not_deployed": int(r["not_deployed"]), "in_use": int(r["in_use"]),
                        "threshold": rule.threshold})
    return pd.DataFrame(out, columns=columns)


# Indicators whose value covers only part of the area, and the indicator saying how much:
# a per-capita figure and the share of the population behind it; communes without a team and
# the communes with no valid figure.
COVERAGE_OF = {"ehealth_penetration": "ehealth_coverage", "vneid_penetration": "vneid_coverage",
               "hues_penetration": "hues_coverage"}
UNKNOWN_OF = {"communes_without_team": "communes_no_data", "communes_with_team": "communes_no_data"}


def progress(values: Frame, month: str, unit: str, targets: list[Target]) -> Frame:
    """The targets of the month's year for one unit: value, target, progress and whether it is met.

    Progress is value / target × 100 for a '>=' target; a '<=' target is met or not. A target
    whose indicator the form does not measure, or that this unit has no value for, has none.
    A target that would be met but for figures that are missing (communes with no valid row) is
    not judged (`met` None, `unknown` says how many are missing); `coverage` is the share of the
    population behind a per-capita figure.
    """
    year = int(month[:4])
    part = values[(values["month"] == month) & (values["unit"] == unit)].set_index("indicator")["value"]
    rows = []
    for t in targets:
        if t.year != year:
            continue
        if unit != PROVINCE and (t.indicator is None or BY_NAME[t.indicator].scope == "province"):
            continue    # a target the form does not measure is shown once, in the province's report
        if t.indicator is not None and t.indicator not in part.index:
            continue
        value = float(part[t.indicator]) if t.indicator is not None else np.nan
        if np.isnan(value):
            met, pct = None, np.nan
        elif t.comparison == ">=":
            met, pct = value >= t.value, (value / t.value * 100 if t.value else np.nan)
        else:
            met, pct = value <= t.value, np.nan
        unknown = float(part.get(UNKNOWN_OF.get(t.indicator, ""), np.nan))
        if met and unknown > 0:
            met = None          # met among the communes with valid figures; the others are not known
        coverage = float(part.get(COVERAGE_OF.get(t.indicator, ""), np.nan))
        rows.append({"indicator": t.indicator, "label": t.label, "unit": t.unit, "year": t.year, "target": t.value,
                     "comparison": t.comparison, "value": value, "progress": pct, "met": met,
                     "official": t.official, "source": t.source, "note": t.note, "unknown": unknown,
                     "coverage": coverage})
    return pd.DataFrame(rows, columns=["indicator", "label", "unit", "year", "target", "comparison", "value",
                                       "progress", "met", "official", "source", "note", "unknown", "coverage"])
