"""The indicators, defined once: name, Vietnamese label, unit, formula, source, and how each is
computed from the columns of the base table; the catalogs, statuses and sections they range over."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from dxreport.kpis.roles import era_text, populations_known
from dxreport.labels import CATALOG_SHORT, PLATFORM_STATUSES
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
    area units' own populations (whose years differ from the province's figure) when all are
    known, else over the province's; 100 when every area unit reported it."""
    return _ratio(frame, f"pop:{key}", "area_population")


def _per_capita(frame: Frame, key: str) -> pd.Series:
    """`key` per 100 residents of the units that reported it (over the figures of the units whose
    population is known, `known:`); missing below the coverage threshold."""
    value = _ratio(frame, f"known:{key}" if f"known:{key}" in frame else key, f"pop:{key}")
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
    compute: Callable[[Frame], pd.Series]  # the base table -> one value per row
    kind: str = "count"  # "count" (whole numbers), "rate" (a percentage) or "ratio"
    scope: str = "all"  # "all" units; "area": districts and province; "province" only
    higher_is_better: bool = True
    flow: bool = False  # a figure for the month alone, which adds up over the year
    ratio_of: tuple[str, str] | None = None  # a rate of two flow indicators (its year to date)
    ranked: bool = True  # whether ranking units by it means something
    population: str = ""  # "per_capita" or "coverage": a figure over the area units' populations

    @property
    def decimals(self) -> int:
        """Decimals shown in the report."""
        return 0 if self.kind == "count" else 1

    def label_in(self, month: str | None, registry: Registry | None = None) -> str:
        """The label said with the words of `month` (`label` itself, byte for byte, in 2022):
        "các huyện", "huyện, thị xã, thành phố", "toàn tỉnh", "cơ quan cấp tỉnh" follow the
        area units and the province of the month (roles.era_text)."""
        return era_text(self.label, month, registry)

    def formula_in(self, month: str | None, registry: Registry | None = None) -> str:
        """The formula said with the words of `month` (`formula` itself in 2022); in a month
        where some area unit's population is not known (from 2025), a per-capita figure or its
        coverage also says how the population is taken then."""
        text = era_text(self.formula, month, registry)
        if self.population and month and not populations_known(registry, month):
            text += era_text(_UNKNOWN_POPULATION[self.population], month, registry)
        return text


# How a per-capita figure takes the population when some area unit's population is not known
# (written with the 2022 words, said with the month's).
_UNKNOWN_POPULATION = {
    "per_capita": "; khi chưa có dân số của mọi huyện, thị xã, thành phố: chỉ tính các đơn vị đã có dân số, "
    "và khi mọi huyện, thị xã, thành phố đều báo cáo thì tính trên dân số toàn tỉnh",
    "coverage": "; khi chưa có dân số của mọi huyện, thị xã, thành phố: so với dân số toàn tỉnh, và bằng 100% "
    "khi mọi huyện, thị xã, thành phố đều báo cáo",
}

HUE_S = "Biểu Hue-S"
TEAMS = "Biểu Tổ công nghệ số"
SME = "Biểu Doanh nghiệp"
PLATFORMS = "Biểu Nền tảng"
INTAKE = "Hồ sơ nộp báo cáo (sổ theo dõi)"
REGISTRY = "Danh mục đơn vị (params/units.csv)"

CATALOG_LABELS = CATALOG_SHORT
_STATUS_WORDS = {
    "dang_su_dung": ("in_use", "đang sử dụng", PLATFORM_STATUSES["dang_su_dung"]),
    "dang_thu_nghiem": ("trial", "đang thử nghiệm", PLATFORM_STATUSES["dang_thu_nghiem"]),
    "chua_trien_khai": ("not_deployed", "chưa triển khai", PLATFORM_STATUSES["chua_trien_khai"]),
}


def _catalog_indicators() -> tuple[Indicator, ...]:
    out = []
    for cat in CATALOG_KEYS:
        for status, (suffix, words, choice) in _STATUS_WORDS.items():
            out.append(
                Indicator(
                    f"{cat}_{suffix}",
                    f"Nền tảng {CATALOG_LABELS[cat]} {words}",
                    "nền tảng",
                    f"số nền tảng khác nhau thuộc danh mục {CATALOG_LABELS[cat]} có Tình trạng = {choice}",
                    f"{PLATFORMS}; danh mục nền tảng của Bộ TT&TT",
                    cat,
                    _metric(f"{cat}_{suffix}"),
                    higher_is_better=status != "chua_trien_khai",
                )
            )
    return tuple(out)


INDICATORS: tuple[Indicator, ...] = (
    # --- submissions ---------------------------------------------------------------------------
    Indicator(
        "submissions_received",
        "Số đơn vị đã gửi báo cáo",
        "đơn vị",
        "số đơn vị có báo cáo được chấp nhận trong tháng",
        INTAKE,
        "chung",
        _metric("submitted"),
        ranked=False,
    ),
    Indicator(
        "submissions_expected",
        "Số đơn vị phải báo cáo",
        "đơn vị",
        "số đơn vị báo cáo theo danh mục đơn vị",
        INTAKE,
        "chung",
        _metric("expected"),
        ranked=False,
    ),
    Indicator(
        "coverage_rate",
        "Tỷ lệ đơn vị đã gửi báo cáo",
        "%",
        "đơn vị đã gửi / đơn vị phải báo cáo × 100",
        INTAKE,
        "chung",
        lambda f: _ratio(f, "submitted", "expected"),
        kind="rate",
        ranked=False,
    ),
    Indicator(
        "units_compared",
        "Số đơn vị có báo cáo cả tháng này và tháng trước",
        "đơn vị",
        "số đơn vị có báo cáo được chấp nhận trong cả tháng này và tháng trước; mức tăng, giảm so với tháng "
        "trước chỉ tính trên các đơn vị (và các dòng số liệu) có trong cả hai tháng",
        INTAKE,
        "chung",
        _metric("both_months"),
        ranked=False,
    ),
    Indicator(
        "submissions_late",
        "Số đơn vị gửi báo cáo sau hạn",
        "đơn vị",
        "số đơn vị có báo cáo được chấp nhận nhận được sau hạn nộp (params/settings.yaml)",
        INTAKE,
        "chung",
        _metric("late"),
        higher_is_better=False,
        ranked=False,
    ),
    # --- platforms, all catalogs ---------------------------------------------------------------
    Indicator(
        "platforms_in_use",
        "Nền tảng đang sử dụng",
        "nền tảng",
        "số nền tảng khác nhau có Tình trạng = Đang sử dụng",
        PLATFORMS,
        "nen_tang",
        _metric("platforms_in_use"),
    ),
    Indicator(
        "platforms_trial",
        "Nền tảng đang thử nghiệm",
        "nền tảng",
        "số nền tảng khác nhau có Tình trạng = Đang thử nghiệm",
        PLATFORMS,
        "nen_tang",
        _metric("platforms_trial"),
    ),
    Indicator(
        "platforms_not_deployed",
        "Nền tảng chưa triển khai (có đề xuất)",
        "nền tảng",
        "số nền tảng khác nhau có Tình trạng = Chưa triển khai",
        PLATFORMS,
        "nen_tang",
        _metric("platforms_not_deployed"),
        higher_is_better=False,
    ),
    Indicator(
        "platform_deployments",
        "Lượt triển khai nền tảng đang sử dụng",
        "đơn vị × nền tảng",
        "số cặp (đơn vị, nền tảng) có Tình trạng = Đang sử dụng; với một đơn vị bằng số nền tảng đang sử dụng",
        PLATFORMS,
        "nen_tang",
        _metric("deployments"),
    ),
    Indicator(
        "lgsp_deployments",
        "Lượt triển khai nền tảng phục vụ chính quyền đang sử dụng",
        "đơn vị × nền tảng",
        "số cặp (đơn vị, nền tảng) đang sử dụng, chỉ tính nền tảng thuộc danh mục phải kết nối LGSP "
        "(lgsp_catalogs trong params/targets.yaml)",
        PLATFORMS,
        "chinh_quyen",
        _metric("lgsp_deployments"),
    ),
    Indicator(
        "platforms_lgsp",
        "Nền tảng phục vụ chính quyền đã kết nối LGSP",
        "nền tảng",
        "số nền tảng khác nhau đang sử dụng có Kết nối chia sẻ dữ liệu = Có, chỉ tính nền tảng thuộc danh mục "
        "phải kết nối LGSP (lgsp_catalogs trong params/targets.yaml)",
        PLATFORMS,
        "chinh_quyen",
        _metric("platforms_lgsp"),
    ),
    Indicator(
        "lgsp_rate",
        "Tỷ lệ nền tảng phục vụ chính quyền đã kết nối LGSP",
        "%",
        "lượt triển khai đang sử dụng có Kết nối chia sẻ dữ liệu = Có / lượt triển khai đang sử dụng × 100, "
        "chỉ tính nền tảng thuộc danh mục phải kết nối LGSP (lgsp_catalogs trong params/targets.yaml)",
        PLATFORMS,
        "chinh_quyen",
        lambda f: _ratio(f, "deployments_lgsp", "lgsp_deployments"),
        kind="rate",
    ),
    Indicator(
        "platform_accounts",
        "Tài khoản trên các nền tảng (lũy kế)",
        "tài khoản",
        "tổng Tài khoản lũy kế của các dòng nền tảng (với toàn tỉnh: tổng của các huyện, thị xã, thành phố)",
        PLATFORMS,
        "nen_tang",
        _metric("platform_accounts"),
    ),
    Indicator(
        "platform_mau",
        "Người dùng hoạt động trên các nền tảng",
        "người dùng",
        "tổng Người dùng hoạt động trong tháng của các dòng nền tảng (với toàn tỉnh: tổng của các huyện, "
        "thị xã, thành phố; người dùng trong các cơ quan cấp tỉnh tính riêng, không cộng vào)",
        PLATFORMS,
        "nen_tang",
        _metric("platform_mau"),
    ),
    Indicator(
        "platform_mau_districts",
        "Người dùng hoạt động trên địa bàn các huyện",
        "người dùng",
        "tổng Người dùng hoạt động trong tháng của các dòng nền tảng của các huyện, thị xã, thành phố",
        PLATFORMS,
        "nen_tang",
        _metric("platform_mau_districts"),
        scope="province",
    ),
    Indicator(
        "platform_mau_agencies",
        "Người dùng hoạt động trong các cơ quan cấp tỉnh",
        "người dùng",
        "tổng Người dùng hoạt động trong tháng của các dòng nền tảng của các sở, ban, ngành",
        PLATFORMS,
        "nen_tang",
        _metric("platform_mau_agencies"),
        scope="province",
    ),
    Indicator(
        "platform_uses",
        "Lượt sử dụng các nền tảng",
        "lượt",
        "tổng Lượt sử dụng trong tháng của các dòng nền tảng (với toàn tỉnh: tổng của các huyện, thị xã, thành phố)",
        PLATFORMS,
        "nen_tang",
        _metric("platform_uses"),
        flow=True,
    ),
    Indicator(
        "platforms_unmatched",
        "Nền tảng không có trong danh mục",
        "nền tảng",
        "số tên nền tảng không khớp danh mục hay tên gọi khác",
        PLATFORMS,
        "nen_tang",
        _metric("platforms_unmatched"),
        higher_is_better=False,
        ranked=False,
    ),
    *_catalog_indicators(),
    # --- citizens: national targets -------------------------------------------------------------
    Indicator(
        "ehealth_penetration",
        "Tài khoản Sổ sức khỏe điện tử trên 100 dân",
        "tài khoản/100 dân",
        "tổng Tài khoản lũy kế của Sổ sức khỏe điện tử do các huyện báo cáo / dân số của các huyện đó × 100; "
        "để trống khi các huyện báo cáo có ít dân hơn ngưỡng bao phủ (params/targets.yaml)",
        PLATFORMS,
        "nguoi_dan",
        lambda f: _per_capita(f, "ehealth_accounts"),
        kind="ratio",
        scope="area",
        population="per_capita",
    ),
    Indicator(
        "ehealth_coverage",
        "Dân số của các huyện báo cáo Sổ sức khỏe điện tử",
        "%",
        "dân số các huyện báo cáo tài khoản Sổ sức khỏe điện tử / tổng dân số các huyện của địa bàn × 100",
        PLATFORMS,
        "nguoi_dan",
        lambda f: _coverage(f, "ehealth_accounts"),
        kind="rate",
        scope="area",
        ranked=False,
        population="coverage",
    ),
    Indicator(
        "vneid_penetration",
        "Tài khoản VNeID trên 100 dân",
        "tài khoản/100 dân",
        "tổng Tài khoản lũy kế của VNeID do các huyện báo cáo / dân số của các huyện đó × 100; "
        "để trống khi các huyện báo cáo có ít dân hơn ngưỡng bao phủ (params/targets.yaml)",
        PLATFORMS,
        "nguoi_dan",
        lambda f: _per_capita(f, "vneid_accounts"),
        kind="ratio",
        scope="area",
        population="per_capita",
    ),
    Indicator(
        "vneid_coverage",
        "Dân số của các huyện báo cáo VNeID",
        "%",
        "dân số các huyện báo cáo tài khoản VNeID / tổng dân số các huyện của địa bàn × 100",
        PLATFORMS,
        "nguoi_dan",
        lambda f: _coverage(f, "vneid_accounts"),
        kind="rate",
        scope="area",
        ranked=False,
        population="coverage",
    ),
    # --- Hue-S ------------------------------------------------------------------------------
    Indicator(
        "hues_downloads",
        "Lượt tải ứng dụng Hue-S (lũy kế)",
        "lượt",
        "tổng Lượt tải lũy kế của các huyện, thị xã, thành phố",
        HUE_S,
        "hue_s",
        _metric("downloads"),
        scope="area",
    ),
    Indicator(
        "hues_downloads_month",
        "Lượt tải Hue-S tăng thêm trong tháng",
        "lượt",
        "lượt tải lũy kế tháng này − lượt tải lũy kế tháng trước",
        HUE_S,
        "hue_s",
        lambda f: _diff(f, "downloads", "prev_downloads"),
        scope="area",
        flow=True,
    ),
    Indicator(
        "hues_penetration",
        "Lượt tải Hue-S trên 100 dân",
        "lượt/100 dân",
        "lượt tải lũy kế / dân số của các huyện đã báo cáo × 100 (dân số theo năm ghi bên cạnh); để trống "
        "khi các huyện báo cáo có ít dân hơn ngưỡng bao phủ (params/targets.yaml)",
        HUE_S,
        "hue_s",
        lambda f: _per_capita(f, "downloads"),
        kind="ratio",
        scope="area",
        population="per_capita",
    ),
    Indicator(
        "hues_coverage",
        "Dân số của các huyện báo cáo lượt tải Hue-S",
        "%",
        "dân số các huyện báo cáo lượt tải Hue-S / tổng dân số các huyện của địa bàn × 100",
        HUE_S,
        "hue_s",
        lambda f: _coverage(f, "downloads"),
        kind="rate",
        scope="area",
        ranked=False,
        population="coverage",
    ),
    Indicator(
        "hues_accounts",
        "Tài khoản Hue-S đăng ký (lũy kế)",
        "tài khoản",
        "tổng Tài khoản đăng ký lũy kế",
        HUE_S,
        "hue_s",
        _metric("hues_accounts"),
        scope="area",
    ),
    Indicator(
        "hues_accounts_penetration",
        "Tài khoản Hue-S trên 100 dân",
        "tài khoản/100 dân",
        "tài khoản đăng ký lũy kế / dân số của các huyện đã báo cáo × 100 (dân số theo năm ghi bên cạnh)",
        HUE_S,
        "hue_s",
        lambda f: _per_capita(f, "hues_accounts"),
        kind="ratio",
        scope="area",
        population="per_capita",
    ),
    Indicator(
        "reports_received",
        "Phản ánh hiện trường tiếp nhận",
        "phản ánh",
        "tổng Phản ánh tiếp nhận trong tháng",
        HUE_S,
        "hue_s",
        _metric("reports_received"),
        scope="area",
        flow=True,
    ),
    Indicator(
        "reports_processed",
        "Phản ánh hiện trường đã xử lý",
        "phản ánh",
        "tổng Phản ánh đã xử lý trong tháng",
        HUE_S,
        "hue_s",
        _metric("reports_processed"),
        scope="area",
        flow=True,
    ),
    Indicator(
        "reports_on_time",
        "Phản ánh hiện trường xử lý đúng hạn",
        "phản ánh",
        "tổng Phản ánh xử lý đúng hạn trong tháng",
        HUE_S,
        "hue_s",
        _metric("reports_on_time"),
        scope="area",
        flow=True,
    ),
    Indicator(
        "processed_rate",
        "Tỷ lệ phản ánh đã xử lý",
        "%",
        "phản ánh đã xử lý / phản ánh tiếp nhận × 100",
        HUE_S,
        "hue_s",
        lambda f: _ratio(f, "reports_processed", "reports_received"),
        kind="rate",
        scope="area",
        ratio_of=("reports_processed", "reports_received"),
    ),
    Indicator(
        "on_time_rate",
        "Tỷ lệ phản ánh xử lý đúng hạn",
        "%",
        "phản ánh xử lý đúng hạn / phản ánh đã xử lý × 100",
        HUE_S,
        "hue_s",
        lambda f: _ratio(f, "reports_on_time", "reports_processed"),
        kind="rate",
        scope="area",
        ratio_of=("reports_on_time", "reports_processed"),
    ),
    Indicator(
        "satisfaction",
        "Tỷ lệ hài lòng của người dân",
        "%",
        "bình quân Tỷ lệ hài lòng của các huyện, có trọng số là phản ánh đã xử lý",
        HUE_S,
        "hue_s",
        lambda f: _ratio(f, "sat_weighted", "sat_weight", 1.0),
        kind="rate",
        scope="area",
    ),
    # --- community digital technology teams ------------------------------------------------------
    Indicator(
        "teams",
        "Tổ công nghệ số cộng đồng (lũy kế)",
        "tổ",
        "tổng Số tổ lũy kế của các xã, phường, thị trấn",
        TEAMS,
        "to_cns",
        _metric("teams"),
        scope="area",
    ),
    Indicator(
        "members",
        "Thành viên tổ công nghệ số (lũy kế)",
        "người",
        "tổng Số thành viên lũy kế",
        TEAMS,
        "to_cns",
        _metric("members"),
        scope="area",
    ),
    Indicator(
        "trainings",
        "Buổi tập huấn trong tháng",
        "buổi",
        "tổng Số buổi tập huấn trong tháng",
        TEAMS,
        "to_cns",
        _metric("trainings"),
        scope="area",
        flow=True,
    ),
    Indicator(
        "trained",
        "Lượt người được tập huấn",
        "lượt người",
        "tổng Lượt người được tập huấn trong tháng",
        TEAMS,
        "to_cns",
        _metric("trained"),
        scope="area",
        flow=True,
    ),
    Indicator(
        "households",
        "Hộ gia đình được hỗ trợ",
        "hộ",
        "tổng Số hộ được hỗ trợ trong tháng",
        TEAMS,
        "to_cns",
        _metric("households"),
        scope="area",
        flow=True,
    ),
    Indicator(
        "communes_with_team",
        "Xã, phường, thị trấn đã có tổ",
        "đơn vị",
        "số đơn vị cấp xã có Số tổ lũy kế > 0",
        TEAMS,
        "to_cns",
        _metric("communes_with_team"),
        scope="area",
    ),
    Indicator(
        "communes_without_team",
        "Xã, phường, thị trấn chưa có tổ",
        "đơn vị",
        "số đơn vị cấp xã báo cáo hợp lệ Số tổ lũy kế = 0 (dòng bị loại hay không báo cáo không tính)",
        TEAMS,
        "to_cns",
        lambda f: _diff(f, "communes_reported", "communes_with_team"),
        scope="area",
        higher_is_better=False,
    ),
    Indicator(
        "communes_no_data",
        "Xã, phường, thị trấn chưa có số liệu hợp lệ về tổ",
        "đơn vị",
        "số đơn vị cấp xã trong danh mục − số đơn vị cấp xã có dòng số liệu hợp lệ (dòng bị loại khi kiểm "
        "tra, hoặc không báo cáo)",
        TEAMS,
        "to_cns",
        lambda f: _col(f, "communes_total") - _col(f, "communes_reported").fillna(0),
        scope="area",
        higher_is_better=False,
        ranked=False,
    ),
    Indicator(
        "teams_per_commune",
        "Số tổ bình quân mỗi xã",
        "tổ/xã",
        "số tổ lũy kế / số đơn vị cấp xã trong danh mục",
        TEAMS,
        "to_cns",
        lambda f: _ratio(f, "teams", "communes_total", 1.0),
        kind="ratio",
        scope="area",
    ),
    # --- enterprises -----------------------------------------------------------------------------
    Indicator(
        "sme_reached",
        "Doanh nghiệp tiếp cận SMEdx (lũy kế)",
        "doanh nghiệp",
        "tổng DN tiếp cận SMEdx lũy kế",
        SME,
        "doanh_nghiep",
        _metric("sme_reached"),
        scope="area",
    ),
    Indicator(
        "sme_using",
        "Doanh nghiệp sử dụng nền tảng số (lũy kế)",
        "doanh nghiệp",
        "tổng DN sử dụng nền tảng số lũy kế",
        SME,
        "doanh_nghiep",
        _metric("sme_using"),
        scope="area",
    ),
    Indicator(
        "sme_using_rate",
        "Tỷ lệ doanh nghiệp tiếp cận đã sử dụng nền tảng",
        "%",
        "DN sử dụng / DN tiếp cận × 100",
        SME,
        "doanh_nghiep",
        lambda f: _ratio(f, "sme_using", "sme_reached"),
        kind="rate",
        scope="area",
    ),
    Indicator(
        "dbi_assessed",
        "Doanh nghiệp tự đánh giá DBI (lũy kế)",
        "doanh nghiệp",
        "tổng DN tự đánh giá DBI lũy kế",
        SME,
        "doanh_nghiep",
        _metric("dbi_assessed"),
        scope="area",
    ),
    Indicator(
        "sme_supported",
        "Doanh nghiệp được hỗ trợ trong tháng",
        "doanh nghiệp",
        "tổng DN được hỗ trợ trong tháng",
        SME,
        "doanh_nghiep",
        _metric("sme_supported"),
        scope="area",
        flow=True,
    ),
)
BY_NAME = {i.name: i for i in INDICATORS}


def indicator(name: str) -> Indicator:
    """The indicator with this name."""
    return BY_NAME[name]


def definitions(month: str | None = None, registry: Registry | None = None) -> pd.DataFrame:
    """The indicator dictionary as a table (for the report's notes and the annex); with `month`,
    labels and formulas are said with that month's words (the 2022 texts in 2022)."""
    return pd.DataFrame(
        [
            {
                "name": i.name,
                "label": i.label_in(month, registry),
                "unit": i.unit,
                "formula": i.formula_in(month, registry),
                "source": i.source,
                "section": i.section,
            }
            for i in INDICATORS
        ]
    )
