"""Deterministic sample submissions: the embedded default data of dxreport.

For every month the sample writes one workbook per reporting unit of the registry (9 districts
and 21 provincial agencies in 2022), exactly as spec/submission-form.md describes, into
`data/sample/<YYYY-MM>/`. Every value follows from (seed, month, unit code): each stream is a
`random.Random(f"{seed}:{month}:{code}:{topic}")` (month-independent traits of a unit use
`f"{seed}:{code}:{topic}"`), never the global generator, so regenerating a month gives the same
cell values. Each workbook carries `properties.keywords == SAMPLE_KEYWORD` and a title that
says it is sample data.

Magnitudes (DOMAIN.md):

- Hue-S downloads to date, summed over the districts: a smooth saturating curve through
  690,000 (01/2022), 793,050 (07/2022, the public figure of 26/07/2022) and 805,000 (12/2022,
  "over 800,000"), split by district population weighted by an adoption factor (the city
  1.3, towns 1.05, rural districts 0.8, each ± 12%). Registered accounts are a separate series,
  60% of downloads in 01/2022 rising to 68% in 12/2022 (± 3 points per district).
- Field reports received province-wide: 3,650 + 95 a month from 01/2022 (about 4,200 in
  07/2022, 4,700 in 12/2022, ± 3%), so that 58,000 to date in 07/2022 reaches over 80,000 by the
  end of 2022; processed 96.5–98.5% of received, on time 90–95% of processed, satisfaction
  78–84% per district.
- Community digital technology teams (Official Letter 3293/UBND-CN, 04/2022): every commune
  has a target of 6–20 teams, founded from 02–04/2022 and complete by 06/2022, 3.5–6 members a
  team (slowly growing after 06/2022), 1–4 trainings a month once founded.
- SMEs: the district's reach in 12/2022 is 0.8–1.4 per 1,000 residents (1.8 for Huế), 35% of
  it already in 01/2022; platforms in use by 14–25% of those reached, DBI self-assessments
  4–16%, a few enterprises supported each month.
- Platforms: a district lists 6–10 catalog platforms (Dịch vụ công trực tuyến, LGSP, họp trực
  tuyến, Sổ sức khỏe điện tử, PC-COVID and 1–5 others), one or two of them `Chưa triển khai`
  with a proposal, up to two `Đang thử nghiệm`; an agency lists LGSP, họp trực tuyến and the
  platforms of its field (3–6 rows). Lists and statuses do not change from month to month.
  Sở Y tế writes the alias "Sổ SKĐT"; other units use an alias of params/platform_aliases.yaml
  now and then (with no platform id); Phú Vang (478) also lists its own "Ứng dụng Phú Vang số",
  which matches no catalog entry. Hue-S has its own sheet and is not repeated in the districts'
  `Nền tảng`.

Format variants that are valid and must load (not faults): in every file one to three numbers
are written as Vietnamese text ("12.345", "81,3%"); some files fill `Mã nền tảng`, others leave
it empty; and each month the district D[(i + 6) % 9] writes its satisfaction rate as an Excel
percent cell (0.813 shown as 81.3%), adds an `STT` column at the left of `Tổ công nghệ số` and
leaves a blank row before its last commune.

Faults, fixed for every month. i is the month index (2022-01 → 0, 2022-12 → 11, 2023-01 → 12),
D the districts and A the agencies of the registry in registry order (D: 474 476 477 478 479
480 481 482 483; A: vpubnd snv stp skhdt stc sct snnptnt sgtvt sxd stnmt stttt sldtbxh svhtt sdl
skhcn sgddt syt sngv ttt bdt hueioc). `faults(month)` lists them with file, sheet and cell.

- late: agency A[i % 21] sends its file after the deadline (file mtime on day deadline + 1 to
  deadline + 3 of the following month); every other file arrives on days 1–4, 08:00–17:00
  Asia/Ho_Chi_Minh.
- bad_cell: district D[(i + 8) % 9] has exactly one bad cell, by i % 3:
  0 → text_in_count: "khoảng 50"-style text in `Tổ công nghệ số`, column "Lượt người được tập
  huấn trong tháng" of one commune; 1 → mau_gt_accounts: in `Nền tảng`, "Người dùng hoạt động
  trong tháng" larger than "Tài khoản lũy kế" for one platform; 2 → members_lt_teams: in
  `Tổ công nghệ số`, "Số thành viên lũy kế" smaller than "Số tổ lũy kế" for the commune with
  the most teams (text_in_count when no commune has a team yet).
- superseded / resubmission: district D[(i + 4) % 9] sends two files, `<code>_<YYYY-MM>.xlsx`
  and a day later `<code>_<YYYY-MM>_sua.xlsx` with a later "Ngày lập"; the first
  understates the month's field reports and leaves two cells of its last commune empty, the
  second has the right figures.
- nfd_text: district D[(i + 2) % 9] writes every text (sheet names, headers, labels, names,
  choices) in Unicode NFD.
- header_variant: when i % 3 == 2, Sở Tài chính (stc) writes the `Nền tảng` headers in capitals
  without diacritics ("TEN NEN TANG") and in another column order.
- wrong_period: in December, agency A[(i + 6) % 21] writes the month's figures under
  `Kỳ báo cáo` = 11/YYYY: the only sample file the spec rejects whole, so that unit has no
  valid submission for December.

The schedule for 2022, with the seed of params/settings.yaml (20220803); the bad cell is the
sample's only rejected row of the month (addresses are those of the default seed):

    month    late     bad cell                                   resubmits  NFD  other
    2022-01  vpubnd   483 text_in_count    Tổ công nghệ số!F9    479        477
    2022-02  snv      474 mau_gt_accounts  Nền tảng!E5           480        478
    2022-03  stp      476 members_lt_teams Tổ công nghệ số!D12   481        479  header_variant stc
    2022-04  skhdt    477 text_in_count    Tổ công nghệ số!F13   482        480
    2022-05  stc      478 mau_gt_accounts  Nền tảng!E9           483        481
    2022-06  sct      479 members_lt_teams Tổ công nghệ số!D7    474        482  header_variant stc
    2022-07  snnptnt  480 text_in_count    Tổ công nghệ số!F7    476        483
    2022-08  sgtvt    481 mau_gt_accounts  Nền tảng!E13          477        474
    2022-09  sxd      482 members_lt_teams Tổ công nghệ số!D4    478        476  header_variant stc
    2022-10  stnmt    483 text_in_count    Tổ công nghệ số!F11   479        477
    2022-11  stttt    474 mau_gt_accounts  Nền tảng!E4           480        478
    2022-12  sldtbxh  476 members_lt_teams Tổ công nghệ số!D13   481        479  header_variant stc,
                                                                                 wrong_period sngv
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dxreport import forms, months
from dxreport.params import DATA_DIR, PARAMS_DIR, load_settings, sample_months
from dxreport.textnorm import fold, format_month, format_number, nfc
from dxreport.units import Registry, Unit, load_registry

SAMPLE_KEYWORD = "dxreport-sample"

try:
    from zoneinfo import ZoneInfo

    SAMPLE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
except Exception:  # pragma: no cover - no tz database: Vietnam has had UTC+7 all year since 1975
    SAMPLE_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

BASE_MONTH = "2022-01"          # month index 0 of every series
TITLE_ROWS = 2                  # rows above the header row of a table sheet
HEADER_ROW = TITLE_ROWS + 1

# --- Public anchors (DOMAIN.md) -------------------------------------------------------------
HUES_DOWNLOADS_2022_01 = 690_000
HUES_DOWNLOADS_2022_07 = 793_050     # dantri.com.vn, 26/07/2022
HUES_DOWNLOADS_2022_12 = 805_000     # "over 800,000", news.baothuathienhue.vn, ~12/2022
FIELD_REPORTS_BASE = 3_650           # province-wide, received in 01/2022
FIELD_REPORTS_STEP = 95              # more each month through 2022

_THONG_TIN_ROW = {f.key: i + 1 for i, f in enumerate(forms.THONG_TIN.fields)}
_CAPS_ORDER = ("platform_name", "platform_id", "status", "lgsp", "accounts", "uses", "mau",
               "note", "proposal")
_CAPS_UNIT = "stc"
_LOCAL_PLATFORM_UNIT = "478"
_STT = "stt"


# --- Series ---------------------------------------------------------------------------------

def month_index(month: str) -> int:
    """Months since 2022-01 (2022-01 → 0, 2022-12 → 11, 2021-12 → -1)."""
    y, m = map(int, month.split("-"))
    by, bm = map(int, BASE_MONTH.split("-"))
    return (y - by) * 12 + (m - bm)


def _solve_downloads_curve() -> tuple[float, float]:
    """(C, k) of D(t) = D0 + C (1 - e^(-k t)) through the 01, 07 and 12/2022 anchors."""
    target = (HUES_DOWNLOADS_2022_07 - HUES_DOWNLOADS_2022_01) / (HUES_DOWNLOADS_2022_12 - HUES_DOWNLOADS_2022_01)
    lo, hi = 1e-4, 5.0
    for _ in range(100):
        k = (lo + hi) / 2
        ratio = (1 - math.exp(-6 * k)) / (1 - math.exp(-11 * k))
        lo, hi = (k, hi) if ratio < target else (lo, k)
    k = (lo + hi) / 2
    c = (HUES_DOWNLOADS_2022_12 - HUES_DOWNLOADS_2022_01) / (1 - math.exp(-11 * k))
    return c, k


_DL_C, _DL_K = _solve_downloads_curve()


def province_downloads(t: int) -> float:
    """Hue-S downloads to date summed over the districts at month index t (smooth, increasing)."""
    if t >= 0:
        return HUES_DOWNLOADS_2022_01 + _DL_C * (1 - math.exp(-_DL_K * t))
    slope = _DL_C * _DL_K / HUES_DOWNLOADS_2022_01
    return HUES_DOWNLOADS_2022_01 * math.exp(slope * t)


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _sme_curve(t: int) -> float:
    """Share of a district's 12/2022 SME reach attained at month index t (non-decreasing)."""
    if t <= 0:
        return 0.35 * max(0.0, 1 + t / 24)
    if t <= 11:
        return 0.35 + 0.65 * (t / 11) ** 1.4
    return 1 + 0.04 * (t - 11)


# --- Static reference data -------------------------------------------------------------------

@lru_cache(maxsize=4)
def _catalog_names(path: str | None = None) -> dict[str, str]:
    from dxreport.catalog import BUNDLED_SNAPSHOT, load_bundled

    frame = load_bundled(Path(path) if path else BUNDLED_SNAPSHOT).platforms
    return dict(zip(frame["platform_id"], frame["name"]))


@lru_cache(maxsize=4)
def _aliases_by_id(params_dir: str) -> dict[str, tuple[str, ...]]:
    with open(Path(params_dir) / "platform_aliases.yaml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    out: dict[str, list[str]] = {}
    for alias, pid in (data.get("aliases") or {}).items():
        out.setdefault(str(pid), []).append(nfc(alias))
    return {pid: tuple(names) for pid, names in out.items()}


# Districts: (scale, accounts share at month 0, growth a month, active share, uses per active user, LGSP).
# "people" platforms scale with the district's population, "staff" ones with its officials.
_DISTRICT_PROFILES: dict[str, tuple[str, float, float, tuple[float, float], tuple[float, float], bool]] = {
    "nd-dvc": ("people", 0.060, 0.035, (0.12, 0.22), (1.1, 1.6), True),
    "cq-lgsp": ("staff", 0.060, 0.010, (0.60, 0.90), (150.0, 400.0), True),
    "cq-hop": ("staff", 0.250, 0.010, (0.50, 0.90), (2.0, 6.0), True),
    "nd-sskdt": ("people", 0.420, 0.020, (0.03, 0.07), (1.1, 1.8), True),
    "nd-pccovid": ("people", 0.630, 0.001, (0.02, 0.25), (1.5, 4.0), False),
    "nd-vneid": ("people", 0.020, 0.160, (0.10, 0.25), (1.0, 1.5), False),
    "nd-vssid": ("people", 0.160, 0.015, (0.05, 0.12), (1.0, 2.0), False),
    "nd-datdai": ("people", 0.008, 0.030, (0.10, 0.25), (1.0, 1.5), True),
    "nd-cuahangso": ("people", 0.003, 0.050, (0.30, 0.60), (5.0, 20.0), False),
    "nd-daytructuyen": ("people", 0.140, 0.010, (0.20, 0.50), (3.0, 8.0), False),
    "nd-mooc": ("people", 0.006, 0.030, (0.10, 0.30), (1.5, 4.0), False),
    "nd-phananh": ("people", 0.050, 0.020, (0.05, 0.15), (1.0, 2.0), True),
    "cq-bandoso": ("staff", 0.150, 0.020, (0.20, 0.50), (3.0, 10.0), False),
    "cq-diachiso": ("staff", 0.100, 0.020, (0.20, 0.50), (2.0, 6.0), False),
    "cq-ptdl": ("staff", 0.080, 0.020, (0.30, 0.60), (5.0, 15.0), True),
    "dn-hddt": ("people", 0.004, 0.020, (0.50, 0.85), (10.0, 40.0), False),
    "local": ("people", 0.030, 0.030, (0.10, 0.25), (1.5, 3.0), False),
}
_DISTRICT_CORE = ("nd-dvc", "cq-lgsp", "cq-hop", "nd-sskdt", "nd-pccovid")
_DISTRICT_OPTIONAL = ("nd-vneid", "nd-vssid", "nd-datdai", "nd-cuahangso", "nd-daytructuyen",
                      "nd-mooc", "nd-phananh", "cq-bandoso", "cq-diachiso", "cq-ptdl", "dn-hddt")
_NOT_YET_DEPLOYABLE = ("cq-bandoso", "cq-diachiso", "nd-cuahangso", "nd-datdai", "nd-mooc", "cq-ptdl")

# Agencies: the platforms of their field (LGSP and online meetings come first for every agency).
_AGENCY_PLATFORMS: dict[str, tuple[str, ...]] = {
    "vpubnd": ("cq-ptdl", "nd-dvc", "cq-ndxp"),
    "snv": ("nd-dvc", "cq-ptdl"),
    "stp": ("nd-dvc", "nd-vneid"),
    "skhdt": ("dn-hddt", "dn-smedx", "dn-dbi", "nd-dvc"),
    "stc": ("dn-hddt", "cq-ptdl"),
    "sct": ("nd-cuahangso", "dn-hddt", "dn-smedx"),
    "snnptnt": ("cq-bandoso", "nd-cuahangso"),
    "sgtvt": ("nd-dvc", "cq-bandoso"),
    "sxd": ("cq-bandoso", "nd-dvc"),
    "stnmt": ("nd-datdai", "cq-bandoso", "cq-diachiso"),
    "stttt": ("cq-cloud", "dn-smedx", "dn-dbi", "cq-diachiso"),
    "sldtbxh": ("nd-vssid", "nd-dvc"),
    "svhtt": ("nd-dvc",),
    "sdl": ("nd-cuahangso", "cq-bandoso"),
    "skhcn": ("cq-ptdl", "nd-dvc"),
    "sgddt": ("nd-daytructuyen", "nd-mooc"),
    "syt": ("nd-sskdt", "nd-pccovid"),
    "sngv": ("nd-dvc",),
    "ttt": ("nd-dvc",),
    "bdt": ("nd-dvc",),
    "hueioc": ("nd-hues", "nd-phananh", "cq-ptdl", "cq-cloud"),
}
_AGENCY_STAFF = {"syt": 1800, "sgddt": 1400, "snnptnt": 450, "vpubnd": 120, "stttt": 90, "hueioc": 45}
# Agencies: (accounts share of staff, uses per active user, LGSP); anything else uses the default.
_AGENCY_PROFILES: dict[str, tuple[float, tuple[float, float], bool]] = {
    "cq-lgsp": (0.10, (50.0, 200.0), True),
    "cq-hop": (0.20, (2.0, 5.0), True),
    "nd-dvc": (0.40, (10.0, 40.0), True),
    "nd-sskdt": (0.90, (20.0, 60.0), True),
    "nd-hues": (1.00, (50.0, 100.0), True),
    "nd-phananh": (0.80, (20.0, 50.0), True),
    "dn-smedx": (0.30, (3.0, 10.0), False),
    "dn-dbi": (0.30, (2.0, 6.0), False),
}
_AGENCY_DEFAULT_PROFILE = (0.50, (2.0, 10.0), False)
_FORCED_ALIASES = {("syt", "nd-sskdt"): "Sổ SKĐT"}

_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
             "Ngô", "Dương", "Trương", "Huỳnh")
_MIDDLE = {"m": ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Đình"),
           "f": ("Thị", "Ngọc", "Thu", "Bảo", "Diệu", "Thanh", "Khánh")}
_GIVEN = {"m": ("Hùng", "Dũng", "Phúc", "Quân", "Tuấn", "Khoa", "Long", "Nam", "Hiếu", "Bình", "Thắng", "Vĩnh"),
          "f": ("Hoa", "Lan", "Hương", "Thảo", "Trang", "Nhung", "Hạnh", "Linh", "Mai", "Vy", "Quyên", "Hằng")}

_PROPOSALS = {
    "district": (
        "Đề xuất Sở TT&TT hướng dẫn triển khai {name} trên địa bàn {where}",
        "Đề xuất Sở TT&TT hướng dẫn triển khai {name} và tập huấn cho cán bộ đầu mối cấp xã",
        "Đề xuất Sở TT&TT hướng dẫn triển khai {name}; huyện đã rà soát nhu cầu sử dụng",
    ),
    "agency": (
        "Đề xuất Sở TT&TT hướng dẫn triển khai {name} tại đơn vị",
        "Đề xuất Sở TT&TT hướng dẫn triển khai {name} và hỗ trợ kết nối với LGSP của tỉnh",
    ),
}
# Agencies that run platforms for others never list one as not deployed.
_ALWAYS_DEPLOYED = ("stttt", "hueioc")


# --- Data structures -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Styled:
    """A cell value with an Excel number format."""

    value: Any
    number_format: str


@dataclass
class _Table:
    """A table sheet: columns in written order, data rows as dicts keyed by field key."""

    sheet: forms.Sheet
    keys: list[str]
    headers: list[str]
    rows: list[dict[str, Any]]
    blank_before: int | None = None

    def row_number(self, i: int) -> int:
        """Excel row of data row i."""
        n = HEADER_ROW + 1 + i
        if self.blank_before is not None and i >= self.blank_before:
            n += 1
        return n

    def address(self, i: int, key: str) -> str:
        """Cell address (e.g. `E7`) of field `key` in data row i."""
        return f"{get_column_letter(self.keys.index(key) + 1)}{self.row_number(i)}"


@dataclass
class _File:
    """One planned workbook."""

    unit: Unit
    name: str
    month: str
    period_text: str
    info: dict[str, Any]
    arrival: datetime
    tables: list[_Table]
    nfd: bool = False


@dataclass
class _Schedule:
    """Who does what in a month (see the module docstring)."""

    index: int
    late: str | None
    bad: str | None
    bad_kind: str
    resubmit: str | None
    nfd: str | None
    variant: str | None
    caps: str | None
    wrong_period: str | None
    districts: list[Unit] = field(default_factory=list)
    agencies: list[Unit] = field(default_factory=list)


def _schedule(month: str, registry: Registry) -> _Schedule:
    i = month_index(month)
    units = registry.reporting_units(month)
    districts = [u for u in units if u.type == "district"]
    agencies = [u for u in units if u.type == "agency"]
    nd, na = len(districts), len(agencies)

    def d(offset: int) -> str | None:
        return districts[(i + offset) % nd].code if nd else None

    def a(offset: int) -> str | None:
        return agencies[(i + offset) % na].code if na else None

    kind = {0: "text_in_count", 1: "mau_gt_accounts", 2: "members_lt_teams"}[i % 3]
    caps = _CAPS_UNIT if i % 3 == 2 and any(u.code == _CAPS_UNIT for u in agencies) else None
    wrong = a(6) if month.endswith("-12") else None
    late = a(0)
    return _Schedule(index=i, late=late, bad=d(8), bad_kind=kind, resubmit=d(4), nfd=d(2), variant=d(6),
                     caps=caps, wrong_period=wrong, districts=districts, agencies=agencies)


def file_names(month: str, *, registry: Registry | None = None) -> list[str]:
    """Names of the files the sample holds for `month`, in writing order."""
    registry = registry or load_registry()
    sched = _schedule(month, registry)
    names = []
    for unit in sched.districts + sched.agencies:
        names.append(f"{unit.code}_{month}.xlsx")
        if unit.code == sched.resubmit:
            names.append(f"{unit.code}_{month}_sua.xlsx")
    return names


# --- Figures ---------------------------------------------------------------------------------

def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


_ADOPTION = {"thanh_pho": 1.3, "thi_xa": 1.05, "huyen": 0.8}


def _hue_s(seed: int, month: str, t: int, districts: list[Unit]) -> dict[str, dict[str, Any]]:
    """True Hue-S figures of every district for the month."""
    pops = {u.code: float(u.population or 0) for u in districts}
    weights = {u.code: pops[u.code] * (1.35 if u.kind == "thanh_pho" else 1.0) for u in districts}
    total_w = sum(weights.values()) or 1.0
    province_received = (FIELD_REPORTS_BASE + FIELD_REPORTS_STEP * _clamp(t, 0, 11)) \
        * _rng(seed, month, "tinh", "hue_s").uniform(0.975, 1.02)
    downloads_total = province_downloads(t)
    # adoption differs: the city and towns ahead, mountain and lagoon districts behind
    adoption = {u.code: pops[u.code] * _ADOPTION.get(u.kind, 1.0) * _rng(seed, u.code, "adoption").uniform(0.88, 1.12)
                for u in districts}
    total_adoption = sum(adoption.values()) or 1.0
    out = {}
    for u in districts:
        stable = _rng(seed, u.code, "hue_s")
        ratio_offset = stable.uniform(-0.03, 0.03)
        rng = _rng(seed, month, u.code, "hue_s")
        downloads = round(downloads_total * adoption[u.code] / total_adoption)
        ratio = _clamp(0.60 + 0.08 * t / 11, 0.55, 0.75) + ratio_offset
        received = round(province_received * weights[u.code] / total_w * rng.uniform(0.92, 1.08))
        processed = math.floor(received * rng.uniform(0.965, 0.985))
        on_time = math.floor(processed * rng.uniform(0.90, 0.95))
        out[u.code] = {
            "downloads": downloads,
            "accounts": math.floor(downloads * ratio),
            "reports_received": received,
            "reports_processed": processed,
            "reports_on_time": on_time,
            "satisfaction": round(rng.uniform(78.0, 84.0), 1),
        }
    return out


def _commune_traits(seed: int, commune: Unit) -> tuple[int, int, float]:
    """(target teams, founding month index 1–3, members per team) of a commune."""
    rng = _rng(seed, commune.code, "teams")
    return rng.randint(6, 20), rng.randint(1, 3), rng.uniform(3.5, 6.0)


def _teams_at(target: int, start: int, t: int) -> int:
    if t < start:
        return 0
    frac = min(1.0, (t - start + 1) / (5 - start + 1))
    return math.ceil(target * frac)


def _to_cns(seed: int, month: str, t: int, registry: Registry, district: Unit) -> list[dict[str, Any]]:
    """True `Tổ công nghệ số` rows of a district, one per commune."""
    rows = []
    for commune in registry.communes_of(district.code, month):
        target, start, per_team = _commune_traits(seed, commune)
        teams = _teams_at(target, start, t)
        members = min(7 * teams, round(teams * per_team) + math.floor(teams * 0.04 * max(0, t - 5)))
        rng = _rng(seed, month, commune.code, "to_cns")
        if t >= start:
            trainings = rng.randint(1, 4)
            trained = trainings * rng.randint(12, 30)
            households = round(teams * rng.uniform(3.0, 10.0))
        else:
            trainings = trained = households = 0
        rows.append({"commune_code": commune.code, "commune_name": commune.name, "teams": teams,
                     "members": members, "trainings": trainings, "trained": trained,
                     "households": households})
    return rows


def _doanh_nghiep(seed: int, month: str, t: int, district: Unit) -> dict[str, Any]:
    """True `Doanh nghiệp` row of a district."""
    stable = _rng(seed, district.code, "sme")
    per_thousand = 1.8 if district.kind == "thanh_pho" else stable.uniform(0.8, 1.4)
    using_base = stable.uniform(0.14, 0.17)
    end = (district.population or 0) / 1000 * per_thousand

    def reached_at(tt: int) -> int:
        return round(end * _sme_curve(tt))

    reached = reached_at(t)
    ct = _clamp(t, 0, 11)
    rng = _rng(seed, month, district.code, "sme")
    supported = round(max(0, reached - reached_at(t - 1)) * rng.uniform(0.2, 0.5)) + rng.randint(0, 2)
    return {"sme_reached": reached,
            "sme_using": math.floor(reached * (using_base + 0.08 * ct / 11)),
            "dbi_assessed": math.floor(reached * (0.04 + 0.12 * ct / 11)),
            "sme_supported": supported}


def _active_share(pid: str, lo: float, hi: float, t: int, rng: random.Random) -> float:
    if pid == "nd-pccovid":       # COVID-19 waning through 2022
        return _clamp(0.25 - 0.02 * t, lo, 0.30) * rng.uniform(0.85, 1.0)
    share = rng.uniform(lo, hi)
    if pid == "nd-daytructuyen" and t % 12 + 1 in (6, 7, 8):   # summer holidays
        share *= 0.3
    return share


def _platform_name(seed: int, unit: Unit, pid: str, names: dict[str, str],
                   aliases: dict[str, tuple[str, ...]]) -> tuple[str, bool]:
    """(name the unit writes, True if it is an alias)."""
    forced = _FORCED_ALIASES.get((unit.code, pid))
    if forced:
        return forced, True
    rng = _rng(seed, unit.code, pid, "name")
    choices = aliases.get(pid, ())
    if choices and rng.random() < 0.15:
        return rng.choice(choices), True
    return names[pid], False


def _district_platform_plan(seed: int, unit: Unit) -> list[tuple[str, str]]:
    """[(platform id or 'local', status key)] of a district, stable across months."""
    rng = _rng(seed, unit.code, "platforms")
    not_deployed = rng.sample(_NOT_YET_DEPLOYABLE, rng.randint(1, 2))
    extra_count = rng.randint(max(1, len(not_deployed)), 5) - len(not_deployed)
    others = rng.sample([p for p in _DISTRICT_OPTIONAL if p not in not_deployed], extra_count)
    testing = set(rng.sample(others + ["nd-sskdt"], min(len(others) + 1, rng.randint(0, 2))))
    chosen = set(_DISTRICT_CORE) | set(not_deployed) | set(others)
    order = list(_DISTRICT_CORE) + list(_DISTRICT_OPTIONAL)
    plan = []
    for pid in order:
        if pid not in chosen:
            continue
        status = "chua_trien_khai" if pid in not_deployed else "dang_thu_nghiem" if pid in testing else "dang_su_dung"
        plan.append((pid, status))
    if unit.code == _LOCAL_PLATFORM_UNIT:
        plan.append(("local", "dang_su_dung"))
    return plan


def _agency_platform_plan(seed: int, unit: Unit) -> list[tuple[str, str]]:
    rng = _rng(seed, unit.code, "platforms")
    plan = [("cq-lgsp", "dang_su_dung"), ("cq-hop", "dang_su_dung")]
    for n, pid in enumerate(_AGENCY_PLATFORMS.get(unit.code, ("nd-dvc",))):
        r = rng.random()
        if n == 0:                      # the platform of the agency's own field is in use
            r = 1.0
        elif unit.code in _ALWAYS_DEPLOYED:
            r = max(r, 0.10)
        status = "chua_trien_khai" if r < 0.10 else "dang_thu_nghiem" if r < 0.30 else "dang_su_dung"
        plan.append((pid, status))
    return plan


def _platform_rows(seed: int, month: str, t: int, registry: Registry, unit: Unit,
                   names: dict[str, str], aliases: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """True `Nền tảng` rows of a unit."""
    is_district = unit.type == "district"
    plan = _district_platform_plan(seed, unit) if is_district else _agency_platform_plan(seed, unit)
    fills_ids = _rng(seed, unit.code, "fills_ids").random() < 0.5
    where = unit.short_name or unit.name
    if is_district:
        people = float(unit.population or 0)
        staff = 150.0 + 30.0 * len(registry.communes_of(unit.code, month))
    else:
        people = 0.0
        staff = float(_AGENCY_STAFF.get(unit.code) or _rng(seed, unit.code, "staff").randint(45, 160))
    rows = []
    for pid, status in plan:
        stable = _rng(seed, unit.code, pid, "profile")
        rng = _rng(seed, month, unit.code, pid)
        if pid == "local":
            name, alias, pid_text = f"Ứng dụng {where} số", False, None
        else:
            name, alias = _platform_name(seed, unit, pid, names, aliases)
            pid_text = pid if fills_ids and not alias else None
        if is_district:
            scale, share0, growth, active, per_user, lgsp = _DISTRICT_PROFILES[pid]
            base = people if scale == "people" else staff
        else:
            share0, per_user, lgsp = _AGENCY_PROFILES.get(pid, _AGENCY_DEFAULT_PROFILE)
            growth, active, base = stable.uniform(0.003, 0.02), (0.40, 0.90), staff
        share0 *= stable.uniform(0.8, 1.2)
        row: dict[str, Any] = {"platform_id": pid_text, "platform_name": name,
                               "status": forms.STATUS_CHOICES[status], "accounts": None, "mau": None,
                               "uses": None, "lgsp": None, "proposal": None, "note": None}
        if status == "chua_trien_khai":
            templates = _PROPOSALS[unit.type]
            row["proposal"] = templates[stable.randrange(len(templates))].format(name=names.get(pid, name), where=where)
            row["lgsp"] = forms.YES_NO_CHOICES["khong"]
        else:
            if status == "dang_thu_nghiem":
                share0 *= 0.08
            accounts = max(3, math.floor(base * share0 * (1 + growth) ** t))
            mau = math.floor(accounts * _active_share(pid, *active, t, rng))
            row.update(accounts=accounts, mau=mau, uses=round(mau * rng.uniform(*per_user)))
            connected = lgsp if stable.random() > 0.1 else not lgsp
            row["lgsp"] = forms.YES_NO_CHOICES["co" if connected or pid == "cq-lgsp" else "khong"]
            if status == "dang_thu_nghiem":
                row["note"] = (f"Đang thử nghiệm tại {stable.randint(2, 5)} xã, phường" if is_district
                               else "Đang chạy thử tại đơn vị")
            elif pid == "local":
                row["note"] = "Ứng dụng do huyện tự xây dựng, chưa có trong danh mục của Bộ TT&TT"
            elif pid == "nd-pccovid" and t >= 6:
                row["note"] = "Người dùng giảm do dịch COVID-19 đã được kiểm soát"
            elif stable.random() < 0.15:
                row["note"] = "Số liệu lũy kế từ khi triển khai"
        rows.append(row)
    return rows


# --- Planning files --------------------------------------------------------------------------

def _table(sheet: forms.Sheet, rows: list[dict[str, Any]]) -> _Table:
    return _Table(sheet, [f.key for f in sheet.fields], [f.header for f in sheet.fields], rows)


def _preparer(seed: int, unit: Unit) -> tuple[str, str, str]:
    """(name, phone, email) of a unit's preparer, stable across months."""
    rng = _rng(seed, unit.code, "preparer")
    sex = rng.choice("mf")
    name = f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE[sex])} {rng.choice(_GIVEN[sex])}"
    phone = f"0234 {rng.randint(3500000, 3899999)}" if rng.random() < 0.7 else \
        f"09{rng.randint(0, 9)}{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    slug = fold(unit.short_name or unit.name).replace(" ", "") if unit.type == "district" else unit.code
    email = f"vanphong.{slug}@thuathienhue.gov.vn" if unit.type == "district" else f"{slug}@thuathienhue.gov.vn"
    return name, phone, email


def _arrival(seed: int, month: str, code: str, deadline_day: int, *, late: bool = False,
             early: bool = False, tag: str = "arrival") -> datetime:
    rng = _rng(seed, month, code, tag)
    first = months.first_day(months.following(month))
    if late:
        day = first + timedelta(days=deadline_day - 1 + rng.randint(1, 3))
    else:
        last_day = max(1, min(2 if early else 4, deadline_day - (1 if early else 0)))
        day = first + timedelta(days=rng.randint(1, last_day) - 1)
    clock = time(rng.randint(8, 14 if early else 16), rng.randint(0, 59), rng.randint(0, 59))
    return datetime.combine(day, clock, tzinfo=SAMPLE_TZ)


def _deadline(month: str, deadline_day: int) -> date:
    """The last day for the month's files: `deadline_day` of the following month."""
    return months.first_day(months.following(month)) + timedelta(days=deadline_day - 1)


def _text_number(value: Any, kind: str) -> str:
    if kind == forms.RATE:
        return format_number(value, 1) + "%"
    return format_number(value)


def _plan(month: str, registry: Registry, seed: int, deadline_day: int,
          params_dir: Path = PARAMS_DIR) -> tuple[list[_File], list[dict[str, Any]]]:
    """Every workbook of the month, with its faults."""
    sched = _schedule(month, registry)
    t = sched.index
    names = _catalog_names()
    aliases = _aliases_by_id(str(params_dir))
    hue_s = _hue_s(seed, month, t, sched.districts)
    files: list[_File] = []
    faults: list[dict[str, Any]] = []
    period = format_month(month)

    for unit in sched.districts + sched.agencies:
        code = unit.code
        tables = [_table(forms.NEN_TANG, _platform_rows(seed, month, t, registry, unit, names, aliases))]
        if unit.type == "district":
            tables += [_table(forms.HUE_S, [dict(hue_s[code])]),
                       _table(forms.TO_CNS, _to_cns(seed, month, t, registry, unit)),
                       _table(forms.DOANH_NGHIEP, [_doanh_nghiep(seed, month, t, unit)])]
        wanted = {s.key for s in forms.sheets_for(unit.sections)}
        tables = [tb for tb in tables if tb.sheet.key in wanted]
        by_key = {tb.sheet.key: tb for tb in tables}
        rng = _rng(seed, month, code, "layout")
        preparer, phone, email = _preparer(seed, unit)
        arrival = _arrival(seed, month, code, deadline_day, late=code == sched.late, early=code == sched.resubmit)
        prepared = arrival.date() - timedelta(days=rng.randint(1, 2) if code == sched.resubmit else rng.randint(0, 1))
        unit_period = period
        protected: set[tuple[str, int, str]] = set()   # cells that must keep their value

        if code == sched.variant and "to_cns" in by_key:
            tb = by_key["to_cns"]
            tb.keys.insert(0, _STT)
            tb.headers.insert(0, "STT")
            for n, row in enumerate(tb.rows, start=1):
                row[_STT] = n
            if len(tb.rows) > 1:
                tb.blank_before = len(tb.rows) - 1
        if code == sched.variant and "hue_s" in by_key:
            row = by_key["hue_s"].rows[0]
            row["satisfaction"] = _Styled(round(row["satisfaction"] / 100, 3), "0.0%")
            protected.add(("hue_s", 0, "satisfaction"))
        if code == sched.caps and "nen_tang" in by_key:
            tb = by_key["nen_tang"]
            tb.keys = list(_CAPS_ORDER)
            tb.headers = [fold(forms.NEN_TANG.field(k).header).upper() for k in _CAPS_ORDER]
            faults.append({"unit": code, "file": f"{code}_{month}.xlsx", "kind": "header_variant",
                           "sheet": forms.NEN_TANG.name,
                           "cell": f"A{HEADER_ROW}:{get_column_letter(len(tb.keys))}{HEADER_ROW}",
                           "value": tb.headers[0],
                           "description": "Tiêu đề cột sheet Nền tảng viết hoa, không dấu (TEN NEN TANG…) "
                                          "và đổi thứ tự cột"})

        if code == sched.bad:
            fault = _apply_bad_cell(sched.bad_kind, by_key, _rng(seed, month, code, "fault"))
            if fault:
                sheet_key, i, key, value, description, kind = fault
                protected.add((sheet_key, i, key))
                faults.append({"unit": code, "file": f"{code}_{month}.xlsx", "kind": kind,
                               "sheet": forms.sheet(sheet_key).name, "cell": by_key[sheet_key].address(i, key),
                               "value": value, "description": description})
        if code == sched.resubmit and "hue_s" in by_key:
            # the superseded copy scales these three; as real numbers they keep their order
            protected |= {("hue_s", 0, k) for k in ("reports_received", "reports_processed", "reports_on_time")}

        _textify_numbers(tables, protected, rng)

        if code == sched.wrong_period:
            y, m = map(int, month.split("-"))
            unit_period = f"{m - 1:02d}/{y}" if m > 1 else f"12/{y - 1}"
            faults.append({"unit": code, "file": f"{code}_{month}.xlsx", "kind": "wrong_period",
                           "sheet": forms.THONG_TIN.name, "cell": f"B{_THONG_TIN_ROW['period']}",
                           "value": unit_period,
                           "description": f"Kỳ báo cáo ghi {unit_period} trong tệp gửi cho tháng {period}: "
                                          "cả tệp bị từ chối"})
        if code == sched.late:
            faults.append({"unit": code, "file": f"{code}_{month}.xlsx", "kind": "late", "sheet": None,
                           "cell": None, "value": arrival.isoformat(),
                           "description": f"Tệp đến lúc {arrival:%H:%M} ngày {arrival:%d/%m/%Y}, "
                                          f"sau hạn nộp ngày {_deadline(month, deadline_day):%d/%m/%Y}"})
        if code == sched.nfd:
            faults.append({"unit": code, "file": f"{code}_{month}.xlsx", "kind": "nfd_text", "sheet": None,
                           "cell": None, "value": None,
                           "description": "Mọi chữ trong tệp (tên sheet, tiêu đề, tên xã, tên nền tảng) "
                                          "ở dạng Unicode NFD"})

        info = {"unit_code": code, "period": unit_period, "preparer": preparer, "prepared_on": prepared,
                "phone": phone, "email": email, "form_version": forms.FORM_VERSION}
        final = _File(unit, f"{code}_{month}.xlsx", month, unit_period, info, arrival, tables, nfd=code == sched.nfd)

        if code == sched.resubmit:
            first = _superseded_copy(final, _rng(seed, month, code, "resubmit"))
            final.name = f"{code}_{month}_sua.xlsx"
            final.arrival = arrival + timedelta(days=1 if arrival.day < deadline_day else 0,
                                                hours=0 if arrival.day < deadline_day else 2)
            final.info = dict(info, prepared_on=final.arrival.date())
            files.append(first)
            faults.append({"unit": code, "file": first.name, "kind": "superseded", "sheet": forms.THONG_TIN.name,
                           "cell": f"B{_THONG_TIN_ROW['prepared_on']}", "value": first.info["prepared_on"].isoformat(),
                           "description": f"Tệp đầu, được thay bằng {final.name} (Ngày lập muộn hơn)"})
            faults.append({"unit": code, "file": final.name, "kind": "resubmission", "sheet": forms.THONG_TIN.name,
                           "cell": f"B{_THONG_TIN_ROW['prepared_on']}", "value": final.info["prepared_on"].isoformat(),
                           "description": f"Tệp gửi lại thay cho {first.name}: sửa số phản ánh Hue-S "
                                          "và bổ sung số liệu Tổ công nghệ số"})
        files.append(final)
    order = ("late", "text_in_count", "mau_gt_accounts", "members_lt_teams", "superseded", "resubmission",
             "nfd_text", "header_variant", "wrong_period")
    faults.sort(key=lambda f: order.index(f["kind"]))
    return files, faults


def _apply_bad_cell(kind: str, by_key: dict[str, _Table],
                    rng: random.Random) -> tuple[str, int, str, Any, str, str] | None:
    """Put one bad value into the tables: (sheet key, row, field key, value, description, kind)."""
    to_cns = by_key.get("to_cns")
    if kind == "members_lt_teams" and to_cns and any(r["teams"] > 0 for r in to_cns.rows):
        i = max(range(len(to_cns.rows)), key=lambda j: (to_cns.rows[j]["teams"], -j))
        row = to_cns.rows[i]
        value = max(0, row["teams"] - rng.randint(1, max(1, row["teams"] // 2)))
        row["members"] = value
        return ("to_cns", i, "members", value,
                f"Số thành viên lũy kế ({value}) nhỏ hơn Số tổ lũy kế ({row['teams']}) "
                f"của {row['commune_name']}", "members_lt_teams")
    if kind == "mau_gt_accounts" and "nen_tang" in by_key:
        tb = by_key["nen_tang"]
        candidates = [j for j, r in enumerate(tb.rows) if r["accounts"]]
        if candidates:
            i = rng.choice(candidates)
            row = tb.rows[i]
            value = round(row["accounts"] * rng.uniform(1.1, 1.5)) + 1
            row["mau"] = value
            return ("nen_tang", i, "mau", value,
                    f"Người dùng hoạt động trong tháng ({value}) lớn hơn Tài khoản lũy kế "
                    f"({row['accounts']}) của {row['platform_name']}", "mau_gt_accounts")
    if to_cns and to_cns.rows:
        i = rng.randrange(len(to_cns.rows))
        row = to_cns.rows[i]
        value = f"khoảng {max(10, int(round(row['trained'], -1)) or 50)}"
        row["trained"] = value
        return ("to_cns", i, "trained", value,
                f"Lượt người được tập huấn ghi bằng chữ “{value}” ở {row['commune_name']}", "text_in_count")
    return None


def _textify_numbers(tables: list[_Table], protected: set[tuple[str, int, str]], rng: random.Random) -> None:
    """Write one to three valid numbers as Vietnamese text, preferring values of 1,000 or more."""
    big, small = [], []
    for tb in tables:
        for i, row in enumerate(tb.rows):
            for f in tb.sheet.fields:
                value = row.get(f.key)
                if f.kind not in (forms.COUNT, forms.RATE) or (tb.sheet.key, i, f.key) in protected:
                    continue
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                (big if value >= 1000 or f.kind == forms.RATE else small).append((tb, i, f))
    pool = big if big else small
    for tb, i, f in rng.sample(pool, min(len(pool), rng.randint(1, 3))):
        tb.rows[i][f.key] = _text_number(tb.rows[i][f.key], f.kind)


def _superseded_copy(final: _File, rng: random.Random) -> _File:
    """The first, superseded file of a resubmitting unit: understated field reports, two empty cells."""
    tables = []
    for tb in final.tables:
        rows = [dict(r) for r in tb.rows]
        if tb.sheet.key == "hue_s" and rows:
            row, f = rows[0], rng.uniform(0.85, 0.95)
            for key in ("reports_received", "reports_processed", "reports_on_time"):
                if isinstance(row[key], int):
                    row[key] = math.floor(row[key] * f)
            if all(isinstance(row[k], int) for k in ("reports_received", "reports_processed", "reports_on_time")):
                row["reports_processed"] = min(row["reports_processed"], row["reports_received"])
                row["reports_on_time"] = min(row["reports_on_time"], row["reports_processed"])
        if tb.sheet.key == "to_cns" and rows:
            rows[-1]["trained"] = None
            rows[-1]["households"] = None
        tables.append(_Table(tb.sheet, list(tb.keys), list(tb.headers), rows, tb.blank_before))
    arrival = final.arrival
    info = dict(final.info)
    return _File(final.unit, final.name, final.month, final.period_text, info, arrival, tables, final.nfd)


# --- Writing ---------------------------------------------------------------------------------

_BOLD = Font(bold=True)


def _text(value: Any, nfd: bool) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFD" if nfd else "NFC", value)
    return value


def _cell(ws, value: Any, nfd: bool, *, bold: bool = False):
    if isinstance(value, _Styled):
        cell = WriteOnlyCell(ws, value=value.value)
        cell.number_format = value.number_format
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "DD/MM/YYYY"
        return cell
    cell = WriteOnlyCell(ws, value=_text(value, nfd))
    if bold:
        cell.font = _BOLD
    return cell


def _write(plan: _File, path: Path) -> None:
    nfd = plan.nfd
    wb = Workbook(write_only=True)
    props = wb.properties
    props.keywords = SAMPLE_KEYWORD
    props.title = f"Dữ liệu mẫu dxreport – {plan.unit.name} – báo cáo tháng {format_month(plan.month)}"
    props.subject = "Báo cáo tình hình sử dụng nền tảng số (dữ liệu mẫu, không phải số liệu thật)"
    props.creator = plan.info["preparer"]
    props.lastModifiedBy = plan.info["preparer"]
    prepared = plan.info["prepared_on"]
    props.created = datetime.combine(prepared, time(1, 0))

    ws = wb.create_sheet(_text(forms.THONG_TIN.name, nfd))
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 34
    for f in forms.THONG_TIN.fields:
        value = plan.info.get(f.key)
        if f.key == "prepared_on":
            value = _Styled(value, "DD/MM/YYYY")
        ws.append([_cell(ws, f.header, nfd, bold=True), _cell(ws, value, nfd)])

    for tb in plan.tables:
        ws = wb.create_sheet(_text(tb.sheet.name, nfd))
        for n, (key, header) in enumerate(zip(tb.keys, tb.headers), start=1):
            width = 34 if key in ("platform_name", "commune_name", "proposal", "note") else max(8, min(20, len(header) * 0.8))
            ws.column_dimensions[get_column_letter(n)].width = width
        title = f"BIỂU MẪU BÁO CÁO THÁNG {plan.period_text} – {tb.sheet.name.upper()}"
        ws.append([_cell(ws, title, nfd, bold=True)])
        ws.append([])
        ws.append([_cell(ws, h, nfd, bold=True) for h in tb.headers])
        for i, row in enumerate(tb.rows):
            if tb.blank_before is not None and i == tb.blank_before:
                ws.append([])
            ws.append([_cell(ws, row.get(k), nfd) for k in tb.keys])
    wb.save(path)
    ts = plan.arrival.timestamp()
    os.utime(path, (ts, ts))


# --- Public API ------------------------------------------------------------------------------

def _resolve(registry: Registry | None, seed: int | None) -> tuple[Registry, int, int]:
    settings = load_settings()
    registry = registry or load_registry()
    seed = settings["sample"]["seed"] if seed is None else seed
    return registry, int(seed), int(settings["submission"]["deadline_day"])


def generate_month(month: str, out_dir: Path, *, registry: Registry | None = None,
                   seed: int | None = None) -> list[Path]:
    """Write the month's sample workbooks (one per reporting unit, plus a resubmission) into `out_dir`."""
    registry, seed, deadline_day = _resolve(registry, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files, _ = _plan(month, registry, seed, deadline_day)
    paths = []
    for plan in files:
        path = out_dir / plan.name
        _write(plan, path)
        paths.append(path)
    return paths


def faults(month: str, *, registry: Registry | None = None, seed: int | None = None) -> list[dict[str, Any]]:
    """The faults planted in the month's sample: dicts with unit, file, kind, sheet, cell, value, description.

    kind is one of late, bad_cell kinds (text_in_count, mau_gt_accounts, members_lt_teams),
    superseded, resubmission, nfd_text, header_variant, wrong_period. sheet and cell are None
    for faults of a whole file; cell is an address such as `D7` in that sheet.
    """
    registry, seed, deadline_day = _resolve(registry, seed)
    return _plan(month, registry, seed, deadline_day)[1]


def generate(out_root: Path, months: list[str] | None = None, *, seed: int | None = None) -> dict[str, list[Path]]:
    """Generate several months (default: the sample months of settings.yaml) into out_root/<month>/."""
    months = list(months) if months is not None else sample_months()
    registry = load_registry()
    return {m: generate_month(m, Path(out_root) / m, registry=registry, seed=seed) for m in months}


STAMP = ".generator"


def generator_version() -> str:
    """A hash of what the sample depends on: this module, the seed, the registry, the catalog and aliases."""
    from dxreport.catalog import BUNDLED_SNAPSHOT

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(str(load_settings()["sample"]).encode())
    for path in (PARAMS_DIR / "units.csv", PARAMS_DIR / "platform_aliases.yaml", BUNDLED_SNAPSHOT):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _complete(folder: Path, names: list[str], version: str | None = None) -> bool:
    if not folder.is_dir() or not all((folder / n).is_file() and (folder / n).stat().st_size > 0 for n in names):
        return False
    if version is None:
        return True
    stamp = folder / STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == version


def ensure_sample(month: str, root: Path = DATA_DIR / "sample") -> Path:
    """The month's sample folder, generated first if it is missing, incomplete, or made by another
    version of the generator (a stamp file records which).

    The month is written into a temporary folder beside it and renamed into place, so an
    interrupted run never leaves half a month.
    """
    root = Path(root)
    target = root / month
    registry = load_registry()
    names = file_names(month, registry=registry)
    version = generator_version()
    if _complete(target, names, version):
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{month}-", dir=root))
    old: Path | None = None
    try:
        generate_month(month, tmp, registry=registry)
        (tmp / STAMP).write_text(version + "\n", encoding="utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{month}-old-", dir=root))
            target.rename(old / month)
        try:
            tmp.rename(target)
        except OSError:
            if not _complete(target, names, version):   # another process did not put a complete month there
                raise
    finally:
        for leftover in (tmp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    return target


__all__ = ["SAMPLE_KEYWORD", "SAMPLE_TZ", "ensure_sample", "faults", "file_names", "generate",
           "generate_month", "month_index", "province_downloads"]
