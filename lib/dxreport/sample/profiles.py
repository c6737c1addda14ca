"""Static reference data of the sample: district and agency profiles, platforms, names, proposals."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from dxreport.textnorm import nfc


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
_DISTRICT_OPTIONAL = (
    "nd-vneid",
    "nd-vssid",
    "nd-datdai",
    "nd-cuahangso",
    "nd-daytructuyen",
    "nd-mooc",
    "nd-phananh",
    "cq-bandoso",
    "cq-diachiso",
    "cq-ptdl",
    "dn-hddt",
)
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

_SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Phan",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Trương",
    "Huỳnh",
)
_MIDDLE = {
    "m": ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Đình"),
    "f": ("Thị", "Ngọc", "Thu", "Bảo", "Diệu", "Thanh", "Khánh"),
}
_GIVEN = {
    "m": ("Hùng", "Dũng", "Phúc", "Quân", "Tuấn", "Khoa", "Long", "Nam", "Hiếu", "Bình", "Thắng", "Vĩnh"),
    "f": ("Hoa", "Lan", "Hương", "Thảo", "Trang", "Nhung", "Hạnh", "Linh", "Mai", "Vy", "Quyên", "Hằng"),
}

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
# From 2025: {dept} is the department (Sở TT&TT, from 03/2025 Sở KH&CN), {kind} the word of the
# unit's kind (quận, thị xã, xã, phường).
_PROPOSALS_LATER = {
    "district": (
        "Đề xuất {dept} hướng dẫn triển khai {name} trên địa bàn {where}",
        "Đề xuất {dept} hướng dẫn triển khai {name} và tập huấn cho cán bộ đầu mối cấp xã",
        "Đề xuất {dept} hướng dẫn triển khai {name}; {kind} đã rà soát nhu cầu sử dụng",
    ),
    "commune": (
        "Đề xuất {dept} hướng dẫn triển khai {name} trên địa bàn {where}",
        "Đề xuất {dept} hướng dẫn triển khai {name} và tập huấn cho cán bộ, công chức của {kind}",
        "Đề xuất {dept} hướng dẫn triển khai {name}; {kind} đã rà soát nhu cầu sử dụng",
    ),
    "agency": (
        "Đề xuất {dept} hướng dẫn triển khai {name} tại đơn vị",
        "Đề xuất {dept} hướng dẫn triển khai {name} và hỗ trợ kết nối với LGSP của thành phố",
    ),
}
# Agencies that run platforms for others never list one as not deployed.
_ALWAYS_DEPLOYED = ("stttt", "hueioc")
