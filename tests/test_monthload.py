"""Loading a month checks it against the earlier months of the same units only."""

from __future__ import annotations

import datetime as dt

from conftest import info, write_form

from dxreport import monthload
from dxreport.catalog import load_bundled
from dxreport.units import load_registry

HUE_S = [
    "Lượt tải lũy kế",
    "Tài khoản đăng ký lũy kế",
    "Phản ánh tiếp nhận trong tháng",
    "Phản ánh đã xử lý trong tháng",
    "Phản ánh xử lý đúng hạn trong tháng",
    "Tỷ lệ hài lòng (%)",
]


def _month(tmp_path, month: str, downloads: dict[str, int]):
    folder = tmp_path / "inbox" / month
    for unit, value in downloads.items():
        write_form(
            folder / f"{unit}.xlsx",
            info(unit, month, dt.date(int(month[:4]), int(month[5:]), 25)),
            {"Hue-S": [HUE_S, [value, 100, 10, 10, 10, 90]]},
        )
    return monthload.ingest_month(
        month, folder, tmp_path / "warehouse.duckdb", registry=load_registry(), snapshot=load_bundled()
    )


def test_a_reused_code_is_not_checked_against_the_unit_it_named_before(tmp_path):
    # December 2024: thành phố Huế (474) and huyện Quảng Điền (477) have 5.000 downloads each.
    _month(tmp_path, "2024-12", {"474": 5000, "477": 5000})
    # January 2025: 474 is quận Thuận Hóa, a part of the old city; 477 is the same district.
    result = _month(tmp_path, "2025-01", {"474": 1000, "477": 1000})
    down = result.issues[result.issues["rule"] == "history.cumulative_down"]
    assert list(down["unit"]) == ["477"]
    assert "5.000" in down["message"].iloc[0] and "1.000" in down["message"].iloc[0]
