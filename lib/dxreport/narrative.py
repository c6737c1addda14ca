"""Vietnamese sentences built from the figures, in Vietnamese number format."""

from __future__ import annotations

import math

import pandas as pd

from dxreport.textnorm import format_month, format_number, format_percent

NO_DATA = "chưa có số liệu"


def _v(view: pd.DataFrame, name: str, column: str = "value") -> float | None:
    if view.empty or column not in view:
        return None
    row = view[view["indicator"] == name]
    if row.empty:
        return None
    value = row[column].iloc[0]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def num(value: float | None, unit: str = "") -> str:
    """`1.234 lượt`, or 'chưa có số liệu'."""
    if value is None:
        return NO_DATA
    return f"{format_number(value)} {unit}".strip()


def pct(value: float | None) -> str:
    """`12,5%`, or 'chưa có số liệu'."""
    return NO_DATA if value is None else format_percent(value)


def change(value: float | None, unit: str = "", *, compared: str = "so với tháng trước") -> str:
    """`tăng 1.234 lượt so với tháng trước`, `giảm …`, `không đổi …`; '' when unknown."""
    if value is None:
        return ""
    if value == 0:
        return f"không đổi {compared}"
    word = "tăng" if value > 0 else "giảm"
    return f"{word} {format_number(abs(value))} {unit} {compared}".replace("  ", " ")


def coverage(view: pd.DataFrame, month: str) -> str:
    """Which share of the units reported."""
    got, expected = _v(view, "submissions_received"), _v(view, "submissions_expected")
    if got is None or expected is None:
        return f"Tháng {format_month(month)} {NO_DATA} về tình hình gửi báo cáo."
    return (f"Tháng {format_month(month)} có {format_number(got)}/{format_number(expected)} đơn vị gửi báo cáo "
            f"theo biểu mẫu ({pct(_v(view, 'coverage_rate'))}).")


def hue_s(view: pd.DataFrame, month: str, population_year: int | None, area: str) -> str:
    """Downloads, penetration, field reports and satisfaction of Hue-S."""
    downloads = _v(view, "hues_downloads")
    if downloads is None:
        return f"Ứng dụng Hue-S trên địa bàn {area}: {NO_DATA} trong tháng {format_month(month)}."
    grew = change(_v(view, "hues_downloads", "change"), "lượt")
    parts = [f"Tính đến hết tháng {format_month(month)}, ứng dụng Hue-S trên địa bàn {area} có "
             f"{num(downloads, 'lượt tải')}" + (f", {grew}" if grew else "")]
    penetration = _v(view, "hues_penetration")
    if penetration is not None:
        year = f" (dân số năm {population_year})" if population_year else ""
        parts.append(f"bình quân {format_number(penetration, 1)} lượt tải trên 100 dân{year}")
    accounts = _v(view, "hues_accounts")
    if accounts is not None:
        parts.append(f"{num(accounts, 'tài khoản')} đã đăng ký")
    text = "; ".join(parts) + "."
    received = _v(view, "reports_received")
    if received is not None:
        text += (f" Trong tháng, hệ thống tiếp nhận {num(received, 'phản ánh hiện trường')}, đã xử lý "
                 f"{num(_v(view, 'reports_processed'), 'phản ánh')} ({pct(_v(view, 'processed_rate'))}), "
                 f"trong đó {pct(_v(view, 'on_time_rate'))} xử lý đúng hạn; tỷ lệ người dân hài lòng "
                 f"{pct(_v(view, 'satisfaction'))}.")
    return text


def teams(view: pd.DataFrame, area: str) -> str:
    """Community digital technology teams."""
    count = _v(view, "teams")
    if count is None:
        return f"Tổ công nghệ số cộng đồng trên địa bàn {area}: {NO_DATA}."
    with_team = _v(view, "communes_with_team")
    without = _v(view, "communes_without_team")
    total = None if with_team is None or without is None else with_team + without
    text = (f"Trên địa bàn {area} có {num(count, 'tổ công nghệ số cộng đồng')} với "
            f"{num(_v(view, 'members'), 'thành viên')}")
    if total:
        text += f"; {format_number(with_team)}/{format_number(total)} xã, phường, thị trấn đã có tổ"
    text += "."
    if _v(view, "trainings") is not None:
        text += (f" Trong tháng tổ chức {num(_v(view, 'trainings'), 'buổi tập huấn')} với "
                 f"{num(_v(view, 'trained'), 'lượt người')} tham gia; các tổ hỗ trợ "
                 f"{num(_v(view, 'households'), 'hộ gia đình')} sử dụng nền tảng số.")
    if without:
        text += f" Còn {num(without, 'xã, phường, thị trấn')} chưa có tổ công nghệ số."
    return text


def smes(view: pd.DataFrame, area: str) -> str:
    """The SME programme (SMEdx) and DBI self-assessments."""
    reached = _v(view, "sme_reached")
    if reached is None:
        return f"Chương trình SMEdx trên địa bàn {area}: {NO_DATA}."
    return (f"Lũy kế trên địa bàn {area} có {num(reached, 'doanh nghiệp')} tiếp cận Chương trình hỗ trợ "
            f"doanh nghiệp nhỏ và vừa chuyển đổi số (SMEdx), trong đó {num(_v(view, 'sme_using'), 'doanh nghiệp')} "
            f"đang sử dụng nền tảng số ({pct(_v(view, 'sme_using_rate'))}); "
            f"{num(_v(view, 'dbi_assessed'), 'doanh nghiệp')} đã tự đánh giá mức độ chuyển đổi số (DBI). "
            f"Trong tháng có {num(_v(view, 'sme_supported'), 'doanh nghiệp')} được hỗ trợ.")


def platforms(view: pd.DataFrame, who: str) -> str:
    """Platforms in use, on trial, not deployed, connected."""
    in_use = _v(view, "platforms_in_use")
    if in_use is None:
        return f"{who[:1].upper() + who[1:]} {NO_DATA} về nền tảng số trong tháng."
    text = (f"{who[:1].upper() + who[1:]} đang sử dụng {num(in_use, 'nền tảng số')}, thử nghiệm "
            f"{num(_v(view, 'platforms_trial') or 0, 'nền tảng')} và chưa triển khai "
            f"{num(_v(view, 'platforms_not_deployed') or 0, 'nền tảng')}; "
            f"{num(_v(view, 'platforms_lgsp') or 0, 'nền tảng')} đang sử dụng đã kết nối, chia sẻ dữ liệu qua LGSP.")
    mau = _v(view, "platform_mau")
    if mau is not None:
        text += (f" Trong tháng có {num(mau, 'người dùng hoạt động')} và "
                 f"{num(_v(view, 'platform_uses'), 'lượt sử dụng')} trên các nền tảng.")
    unmatched = _v(view, "platforms_unmatched")
    if unmatched:
        text += f" Có {num(unmatched, 'nền tảng')} không có trong danh mục của Bộ TT&TT (liệt kê ở bảng dưới)."
    return text
