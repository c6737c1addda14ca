"""Vietnamese sentences built from the figures, in Vietnamese number format."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dxreport import kpis
from dxreport.labels import CATALOG_SHORT
from dxreport.textnorm import format_month, format_number, format_percent

NO_DATA = "chưa có số liệu"
NOT_ENOUGH = "chưa đủ số liệu"
# Words that open a unit's name in the registry and are written in lower case inside a sentence
# (Nghị định 30/2020/NĐ-CP, Phụ lục II: "UBND huyện Phú Vang").
_UNIT_KINDS = ("Huyện ", "Thị xã ", "Thành phố ", "Quận ", "Xã ", "Phường ", "Thị trấn ")


@dataclass(frozen=True)
class Places:
    """The words of a month's map that the sentences use (report.Context.places builds them
    from the registry); the defaults are those of the province until 2024."""

    whole: str = "toàn tỉnh"  # the whole province inside a sentence
    areas: str = "các huyện"  # the area units in a few words
    area_kinds: str = "huyện, thị xã, thành phố"  # the kinds of the area units
    communes: str = "xã, phường, thị trấn"  # the kinds of the commune-level units
    agencies: str = "cơ quan cấp tỉnh"
    committee: str = "UBND tỉnh"  # the province's People's Committee inside a sentence
    within: str = "các đơn vị trong tỉnh"
    ministry: str = "Bộ TT&TT"  # the ministry of the platforms' catalogs, abbreviated
    indicator: Callable | None = None  # name -> the indicator with the month's words (kpis.indicator)

    def label(self, name: str) -> str:
        """An indicator's label in the words of the month."""
        return (self.indicator or kpis.indicator)(name).label


PLACES = Places()

#: How a comparison across a change of the map is shown (kpis.with_changes / with_year give its
#: basis: same, rebuilt, not_comparable; previous_uncertain / last_year_uncertain when a crosswalk
#: row is not confirmed).
REBUILT = "quy đổi theo địa giới mới"
NOT_COMPARABLE = "không so sánh được do thay đổi địa giới hành chính"
UNCERTAIN = "có xã chưa xác định chắc chắn đơn vị mới"


def basis_of(row, column: str) -> tuple[str, bool]:
    """The basis of a comparison in a row of values (`previous_basis` or `last_year_basis`) and
    whether it is uncertain; a missing column or cell is the same basis."""
    value = row.get(column)
    flag = row.get(column.replace("_basis", "_uncertain"))
    uncertain = flag is not None and flag is not pd.NA and not (isinstance(flag, float) and math.isnan(flag))
    return (value if isinstance(value, str) and value else "same"), bool(flag) if uncertain else False


def basis_words(row, column: str) -> str:
    """`quy đổi theo địa giới mới` (with `; có xã chưa xác định chắc chắn đơn vị mới`) for a rebuilt
    comparison, '' otherwise."""
    basis, uncertain = basis_of(row, column)
    if basis != "rebuilt":
        return ""
    return f"{REBUILT}; {UNCERTAIN}" if uncertain else REBUILT


def _first(view: pd.DataFrame, name: str) -> int | None:
    """The position of the first row of indicator `name` in `view`, or None."""
    hits = np.flatnonzero(view["indicator"].to_numpy() == name)
    return int(hits[0]) if len(hits) else None


def _row_of(view: pd.DataFrame, name: str):
    if view.empty or "indicator" not in view:
        return {}
    at = _first(view, name)
    return view.iloc[at] if at is not None else {}


def _v(view: pd.DataFrame, name: str, column: str = "value") -> float | None:
    if view.empty or column not in view:
        return None
    at = _first(view, name)
    if at is None:
        return None
    value = view[column].iloc[at]
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


def in_sentence(name: str) -> str:
    """A unit's name inside a sentence: `huyện Phú Vang`, `thị xã Hương Thủy`; other names as they are."""
    for kind in _UNIT_KINDS:
        if name.startswith(kind):
            return kind.lower() + name[len(kind) :]
    return name


def people_committee(name: str, *, commune: bool = False) -> str:
    """How a proposal addresses a reporting unit: `UBND huyện Phú Vang`, and with `commune` (a
    commune-level unit that reports itself, from 2025-07) `UBND phường Phú Xuân`; an agency, or a
    commune inside a district, by its name."""
    lowered = in_sentence(name)
    if lowered == name or (name.startswith(("Xã ", "Phường ", "Thị trấn ")) and not commune):
        return name
    return f"UBND {lowered}"


def counted(value: float | None, unit: str, word: str) -> str:
    """`thử nghiệm 3 nền tảng`; '' for none, so that no sentence prints a zero count."""
    return f"{word} {num(value, unit)}" if value else ""


def compared_over(view: pd.DataFrame) -> str:
    """`so sánh trên 28 đơn vị có số liệu cả hai tháng`, when the view says how many units both months have."""
    both = _v(view, "units_compared")
    if both is None:
        return ""
    if not both:
        return "không có đơn vị nào có số liệu cả hai tháng để so sánh"
    return f"so sánh trên {format_number(both)} đơn vị có số liệu cả hai tháng"


def month_change(view: pd.DataFrame, name: str, unit: str, *, scope: bool = False) -> str:
    """The change from the month before, over the rows present in both months; with `scope`,
    says over how many units (`tăng 1.057 lượt so với tháng trước, so sánh trên 28 đơn vị …`).
    Across a change of the map: rebuilt on the new map (said in brackets), or not comparable."""
    row = _row_of(view, name)
    basis, _ = basis_of(row, "previous_basis")
    if basis == "not_comparable":
        return "không so sánh được với tháng trước do thay đổi địa giới hành chính"
    text = change(_v(view, name, "change"), unit)
    notes = [n for n in (basis_words(row, "previous_basis"), compared_over(view) if scope else "") if n]
    return f"{text} ({'; '.join(notes)})" if text and notes else text


def coverage(view: pd.DataFrame, month: str) -> str:
    """Which share of the units reported."""
    got, expected = _v(view, "submissions_received"), _v(view, "submissions_expected")
    if got is None or expected is None:
        return f"Tháng {format_month(month)} {NO_DATA} về tình hình gửi báo cáo."
    return (
        f"Tháng {format_month(month)} có {format_number(got)}/{format_number(expected)} đơn vị gửi báo cáo "
        f"theo biểu mẫu ({pct(_v(view, 'coverage_rate'))})."
    )


def hue_s(
    view: pd.DataFrame,
    month: str,
    population_year: int | None,
    area: str,
    threshold: float | None = None,
    places: Places = PLACES,
) -> str:
    """Downloads, penetration, field reports and satisfaction of Hue-S.

    Below the population coverage `threshold` (%) the penetration is 'chưa đủ số liệu', with the
    share of the population of the districts that reported downloads."""
    downloads = _v(view, "hues_downloads")
    if downloads is None:
        return f"Ứng dụng Hue-S trên địa bàn {area}: {NO_DATA} trong tháng {format_month(month)}."
    grew = month_change(view, "hues_downloads", "lượt", scope=area == places.whole)
    parts = [
        f"Tính đến hết tháng {format_month(month)}, ứng dụng Hue-S trên địa bàn {area} có "
        f"{num(downloads, 'lượt tải')}" + (f", {grew}" if grew else "")
    ]
    penetration = _v(view, "hues_penetration")
    if penetration is not None:
        year = f" (dân số năm {population_year})" if population_year else ""
        parts.append(f"bình quân {format_number(penetration, 1)} lượt tải trên 100 dân của các đơn vị đã báo cáo{year}")
    elif threshold is not None and _v(view, "hues_coverage") is not None:
        parts.append(
            f"số lượt tải trên 100 dân {NOT_ENOUGH} ({places.areas} báo cáo có "
            f"{format_percent(_v(view, 'hues_coverage'))} dân số, dưới mức {format_percent(threshold)})"
        )
    accounts = _v(view, "hues_accounts")
    if accounts is not None:
        parts.append(f"{num(accounts, 'tài khoản')} đã đăng ký")
    text = "; ".join(parts) + "."
    received = _v(view, "reports_received")
    if received is not None:
        text += (
            f" Trong tháng, hệ thống tiếp nhận {num(received, 'phản ánh hiện trường')}, đã xử lý "
            f"{num(_v(view, 'reports_processed'), 'phản ánh')} ({pct(_v(view, 'processed_rate'))}), "
            f"trong đó {pct(_v(view, 'on_time_rate'))} xử lý đúng hạn; tỷ lệ người dân hài lòng "
            f"{pct(_v(view, 'satisfaction'))}."
        )
    return text


def teams(view: pd.DataFrame, area: str, places: Places = PLACES, *, own: bool = False) -> str:
    """Community digital technology teams; `own`: the area is one commune-level unit (from
    2025-07), which has teams or not, no share of communes."""
    count = _v(view, "teams")
    if count is None:
        return f"Tổ công nghệ số cộng đồng trên địa bàn {area}: {NO_DATA}."
    if own and count == 0:
        return f"{_upper_first(area)} báo cáo chưa có tổ công nghệ số cộng đồng."
    with_team = _v(view, "communes_with_team")
    without = _v(view, "communes_without_team")
    unknown = _v(view, "communes_no_data") or 0
    total = None if with_team is None or without is None else with_team + without + unknown
    text = (
        f"Trên địa bàn {area} có {num(count, 'tổ công nghệ số cộng đồng')} với {num(_v(view, 'members'), 'thành viên')}"
    )
    if unknown:
        text += f" (số liệu của {format_number(total - unknown)}/{format_number(total)} {places.communes})"
    grew = month_change(view, "teams", "tổ", scope=area == places.whole)
    if grew:
        text += f", {grew}"
    if total and not own:
        text += f"; {format_number(with_team)}/{format_number(total)} {places.communes} đã có tổ"
    text += "."
    if _v(view, "trainings") is not None:
        text += (
            f" Trong tháng tổ chức {num(_v(view, 'trainings'), 'buổi tập huấn')} với "
            f"{num(_v(view, 'trained'), 'lượt người')} tham gia; các tổ hỗ trợ "
            f"{num(_v(view, 'households'), 'hộ gia đình')} sử dụng nền tảng số."
        )
    if without and own:
        text += f" {_upper_first(area)} báo cáo chưa có tổ công nghệ số."
    elif without:
        text += f" Còn {num(without, places.communes)} báo cáo chưa có tổ công nghệ số."
    if unknown and own:
        text += f" Số liệu tổ của {area} chưa hợp lệ (dòng số liệu bị loại khi kiểm tra hoặc chưa báo cáo)."
    elif unknown:
        text += (
            f" {_upper_first(num(unknown, places.communes))} chưa có số liệu hợp lệ (dòng số liệu bị "
            "loại khi kiểm tra hoặc chưa báo cáo), không tính là chưa có tổ."
        )
    return text


def per_capita(
    view: pd.DataFrame, name: str, coverage_name: str, what: str, threshold: float, places: Places = PLACES
) -> str:
    """`Tài khoản VNeID: 1,0 tài khoản/100 dân (số liệu của các huyện có 85,0% dân số)`, or
    'chưa đủ số liệu' with the coverage when the reporting units hold too few people."""
    cover = _v(view, coverage_name)
    if cover is None:
        return ""
    value = _v(view, name)
    if value is None or cover < threshold:
        return (
            f"{what}: {NOT_ENOUGH} ({places.areas} báo cáo có {format_percent(cover)} dân số, dưới mức "
            f"{format_percent(threshold)} cần có để tính trên 100 dân)."
        )
    return (
        f"{what}: {format_number(value, 1)} tài khoản trên 100 dân của {places.areas} đã báo cáo "
        f"({format_percent(cover)} dân số)."
    )


def smes(view: pd.DataFrame, area: str) -> str:
    """The SME programme (SMEdx) and DBI self-assessments."""
    reached = _v(view, "sme_reached")
    if reached is None:
        return f"Chương trình SMEdx trên địa bàn {area}: {NO_DATA}."
    return (
        f"Lũy kế trên địa bàn {area} có {num(reached, 'doanh nghiệp')} tiếp cận Chương trình hỗ trợ "
        f"doanh nghiệp nhỏ và vừa chuyển đổi số (SMEdx), trong đó {num(_v(view, 'sme_using'), 'doanh nghiệp')} "
        f"đang sử dụng nền tảng số ({pct(_v(view, 'sme_using_rate'))}); "
        f"{num(_v(view, 'dbi_assessed'), 'doanh nghiệp')} đã tự đánh giá mức độ chuyển đổi số (DBI). "
        f"Trong tháng có {num(_v(view, 'sme_supported'), 'lượt doanh nghiệp')} được hỗ trợ."
    )


def platforms(view: pd.DataFrame, who: str, places: Places = PLACES) -> str:
    """Platforms in use, on trial, not deployed, connected."""
    in_use = _v(view, "platforms_in_use")
    if in_use is None:
        return f"{who[:1].upper() + who[1:]} {NO_DATA} về nền tảng số trong tháng."
    text = (
        _upper_first(who)
        + " "
        + _statuses(in_use, _v(view, "platforms_trial"), _v(view, "platforms_not_deployed"), "nền tảng số")
    )
    connected = _v(view, "platforms_lgsp")
    text += (
        f"; {num(connected, 'nền tảng phục vụ chính quyền')} đang sử dụng đã kết nối, chia sẻ dữ liệu qua LGSP."
        if connected
        else "."
    )
    mau = _v(view, "platform_mau")
    agencies = _v(view, "platform_mau_agencies")
    if mau is not None and agencies is not None:
        # the province: residents of the districts and staff of the agencies are never added together
        text += (
            f" Trong tháng, trên địa bàn các {places.area_kinds} có {num(mau, 'người dùng hoạt động')} và "
            f"{num(_v(view, 'platform_uses'), 'lượt sử dụng')} trên các nền tảng; trong các {places.agencies} có "
            f"{num(agencies, 'người dùng hoạt động')}."
        )
    elif mau is not None:
        text += (
            f" Trong tháng có {num(mau, 'người dùng hoạt động')} và "
            f"{num(_v(view, 'platform_uses'), 'lượt sử dụng')} trên các nền tảng."
        )
    unmatched = _v(view, "platforms_unmatched")
    if unmatched:
        text += f" Có {num(unmatched, 'nền tảng')} không có trong danh mục của {places.ministry} (liệt kê ở bảng dưới)."
    return text


# ----------------------------------------------------------------------------- more figures


def measure(value: float | None, kind: str, unit: str = "") -> str:
    """A value written by its kind: a rate as `12,5%`, a ratio with one decimal, a count whole."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_DATA
    if kind == "rate":
        return format_percent(value)
    text = format_number(value, 0 if kind == "count" else 1)
    return f"{text} {unit}".strip() if unit and unit != "%" else text


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def join(items: list[str], last: str = "và") -> str:
    """`a, b và c`."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def rank(position: float | None, among: float | None, peers: str) -> str:
    """`xếp thứ 3/9 huyện, thị xã, thành phố`, or '' when there is no rank."""
    if position is None or among is None or math.isnan(position) or math.isnan(among):
        return ""
    return f"xếp thứ {format_number(position)}/{format_number(among)} {peers}".strip()


def ranks(view: pd.DataFrame, names: list[str], peers: str, *, named: bool = False, places: Places = PLACES) -> str:
    """`So với các huyện, thị xã, thành phố: lượt tải Hue-S trên 100 dân xếp thứ 5/9, …` for the
    indicators that have a rank in a unit's view; '' for the province or when none has. `named`:
    each rank says among whom (`Trong toàn thành phố, số tổ … xếp thứ 3/40 xã, phường`)."""
    if "rank" not in view or not peers:
        return ""
    items = []
    for name in names:
        position, among = _v(view, name, "rank"), _v(view, name, "ranked_among")
        phrase = rank(position, among, peers if named else "")
        if phrase:
            items.append(f"{_lower_first(places.label(name))} {phrase.strip()}")
    if not items:
        return ""
    return f"Trong {places.whole}, {join(items)}." if named else f"So với các {peers}: {join(items)}."


def year_on_year(view: pd.DataFrame, name: str, month: str, unit: str = "") -> str:
    """The change against the same month last year, or says that there is no such history."""
    last = _v(view, name, "last_year")
    then = f"tháng {format_month(f'{int(month[:4]) - 1}{month[4:]}')}"
    row = _row_of(view, name)
    if basis_of(row, "last_year_basis")[0] == "not_comparable":
        return f"không so sánh được với cùng kỳ ({then}) do thay đổi địa giới hành chính"
    if last is None:
        return f"chưa có số liệu cùng kỳ ({then}) để so sánh"
    if _v(view, name, "yoy_change") is None:
        return f"chưa so sánh được với cùng kỳ ({then}) vì các đơn vị báo cáo hai tháng không giống nhau"
    text = change(_v(view, name, "yoy_change"), unit, compared=f"so với cùng kỳ ({then})")
    words = basis_words(row, "last_year_basis")
    return f"{text} ({words})" if text and words else text


def year_to_date(view: pd.DataFrame, name: str, month: str, unit: str = "", kind: str = "count") -> str:
    """`lũy kế từ đầu năm 45.241 phản ánh`, saying how many months it covers when some are missing."""
    ytd = _v(view, name, "ytd")
    if ytd is None:
        return ""
    months = _v(view, name, "ytd_months")
    expected = int(month[5:7])
    text = f"lũy kế từ đầu năm {measure(ytd, kind, unit)}"
    if months is not None and int(months) < expected:
        text += f" (số liệu của {format_number(months)}/{format_number(expected)} tháng)"
    return text


def summary(
    view: pd.DataFrame,
    month: str,
    who: str,
    *,
    lagging_units: int | None = None,
    targets: pd.DataFrame | None = None,
    places: Places = PLACES,
) -> list[str]:
    """The general assessment: a few sentences on the month, from the figures. `who` names the
    subject of the platform sentence ('các đơn vị trong tỉnh', or the unit)."""
    out = [coverage(view, month)]
    in_use = _v(view, "platforms_in_use")
    if in_use is not None:
        by_catalog = [
            f"{format_number(_v(view, f'{c}_in_use'))} {label}"
            for c, label in CATALOG_SHORT.items()
            if _v(view, f"{c}_in_use")
        ]
        unmatched = _v(view, "platforms_unmatched")
        outside = f"{num(unmatched, 'nền tảng')} không có trong danh mục của {places.ministry}" if unmatched else ""
        inside = "; ".join(p for p in (join(by_catalog), outside) if p)
        text = f"{_upper_first(who)} " + (
            f"đang sử dụng {num(in_use, 'nền tảng số')}" if in_use else "chưa sử dụng nền tảng số nào"
        )
        text += f" ({inside})" if inside else ""
        deployments = _v(view, "platform_deployments")
        if deployments is not None and deployments != in_use:
            text += f" với {num(deployments, 'lượt triển khai')} tại các đơn vị"
        rate = _v(view, "lgsp_rate")
        if rate is not None:
            text += (
                f"; {pct(rate)} số lượt triển khai nền tảng phục vụ chính quyền đã kết nối, chia sẻ dữ liệu qua LGSP"
            )
        out.append(text + ".")
    downloads = _v(view, "hues_downloads")
    if downloads is not None:
        grew = month_change(view, "hues_downloads", "lượt", scope=who == places.within)
        out.append(
            f"Ứng dụng Hue-S có {num(downloads, 'lượt tải')}"
            + (f", {grew}" if grew else "")
            + f"; trong tháng tiếp nhận {num(_v(view, 'reports_received'), 'phản ánh hiện trường')}, "
            f"đã xử lý {pct(_v(view, 'processed_rate'))}."
        )
    teams = _v(view, "teams")
    if teams is not None:
        grew = month_change(view, "teams", "tổ", scope=who == places.within)
        households = _v(view, "households")
        out.append(
            f"Có {num(teams, 'tổ công nghệ số cộng đồng')}"
            + (f", {grew}" if grew else "")
            + (f"; trong tháng các tổ hỗ trợ {num(households, 'lượt hộ gia đình')}" if households else "")
            + "."
        )
    reached = _v(view, "sme_reached")
    if reached is not None:
        out.append(
            f"Lũy kế {num(reached, 'doanh nghiệp')} tiếp cận Chương trình SMEdx, "
            f"{num(_v(view, 'sme_using'), 'doanh nghiệp')} đang sử dụng nền tảng số."
        )
    if targets is not None and not targets.empty:
        out.append(targets_summary(targets))
    if lagging_units is not None:
        out.append(
            f"Có {format_number(lagging_units)} đơn vị chậm triển khai theo các tiêu chí nêu ở mục VII."
            if lagging_units
            else "Không có đơn vị nào chậm triển khai theo các tiêu chí nêu ở mục VII."
        )
    return out


CATALOG_PHRASES = {code: f"nền tảng số {short}" for code, short in CATALOG_SHORT.items()}


def _statuses(in_use: float | None, trial: float | None, not_deployed: float | None, unit: str = "nền tảng") -> str:
    """`đang sử dụng 7 nền tảng, thử nghiệm 3 nền tảng và chưa triển khai 3 nền tảng`, leaving out
    the statuses with none (`chưa sử dụng nền tảng nào` when none is in use)."""
    first = counted(in_use, unit, "đang sử dụng") or "chưa sử dụng nền tảng nào"
    return join([first, counted(trial, "nền tảng", "thử nghiệm"), counted(not_deployed, "nền tảng", "chưa triển khai")])


def catalog_platforms(view: pd.DataFrame, catalog: str, who: str) -> str:
    """In use, on trial and not deployed among the platforms of one catalog."""
    phrase = CATALOG_PHRASES[catalog]
    in_use = _v(view, f"{catalog}_in_use")
    if in_use is None:
        return f"Về {phrase}, {who} {NO_DATA} trong tháng."
    trial = _v(view, f"{catalog}_trial") or 0
    not_deployed = _v(view, f"{catalog}_not_deployed") or 0
    if not (in_use or trial or not_deployed):
        return f"Về {phrase}, {who} chưa báo cáo nền tảng nào thuộc danh mục này."
    return f"Về {phrase}, {who} {_statuses(in_use, trial, not_deployed)}."


def lgsp(view: pd.DataFrame, who: str) -> str:
    """Connection to the provincial data-sharing platform (LGSP) of the platforms in use that are
    asked to connect (those serving government: lgsp_catalogs of params/targets.yaml)."""
    deployments = _v(view, "lgsp_deployments")
    if deployments is None:
        return ""
    if not deployments:
        return f"{_upper_first(who)} chưa có nền tảng phục vụ chính quyền nào đang sử dụng để kết nối LGSP."
    connected = _v(view, "lgsp_rate")
    count = (connected or 0) * deployments / 100
    text = f"Trong {num(deployments, 'lượt triển khai nền tảng phục vụ chính quyền đang sử dụng')}, "
    text += (
        f"{num(round(count), 'lượt')} ({pct(connected)}) đã kết nối, chia sẻ dữ liệu qua Nền tảng tích hợp, "
        "chia sẻ dữ liệu cấp tỉnh (LGSP)"
        if count
        else "chưa có lượt nào kết nối, chia sẻ dữ liệu qua Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)"
    )
    distinct = _v(view, "platforms_lgsp")
    if distinct and deployments != _v(view, "chinh_quyen_in_use"):
        text += f", gồm {num(distinct, 'nền tảng khác nhau')}"
    return text + "."


def targets_summary(progress: pd.DataFrame) -> str:
    """`Năm 2022: đạt 3/8 chỉ tiêu, 4 chỉ tiêu chưa đạt, 1 chỉ tiêu chưa đo được.`"""
    year = int(progress["year"].iloc[0])
    met = int((progress["met"] == True).sum())  # noqa: E712 - None means not measured
    not_met = int((progress["met"] == False).sum())  # noqa: E712
    unknown = len(progress) - met - not_met
    text = (
        f"Chỉ tiêu năm {year}: đạt {format_number(met)}/{format_number(len(progress))}"
        if met
        else f"Chỉ tiêu năm {year}: chưa đạt chỉ tiêu nào trong {format_number(len(progress))} chỉ tiêu"
    )
    if not_met:
        text += f", {format_number(not_met)} chỉ tiêu chưa đạt"
    if unknown:
        text += f", {format_number(unknown)} chỉ tiêu chưa có số liệu để đánh giá"
    return text + " (chi tiết ở bảng chỉ tiêu)."


# ----------------------------------------------------------------------------- lagging, proposals


def threshold_text(value: float, kind: str, unit: str) -> str:
    """A rule's threshold in the indicator's unit."""
    if kind == "rate":
        return format_percent(value)
    decimals = 0 if kind == "count" or float(value) == round(float(value)) else 1
    return f"{format_number(value, decimals)} {unit}".strip()


def rule_text(rule, *, reference: float | None = None, deadline_day: int | None = None, places: Places = PLACES) -> str:
    """A lagging rule stated in Vietnamese, with its threshold (and the province's figure it is
    compared with, for a rule relative to the province)."""
    if rule.kind == "not_submitted":
        return "Không gửi báo cáo tháng, hoặc báo cáo bị từ chối toàn bộ"
    if rule.kind == "late":
        day = f" (ngày {deadline_day} tháng sau)" if deadline_day else ""
        return f"Gửi báo cáo sau hạn{day}"
    if rule.kind == "platform_not_deployed":
        return f"Nền tảng trong danh mục có từ {format_number(rule.threshold)} đơn vị trở lên báo cáo “Chưa triển khai”"
    ind = kpis.indicator(rule.indicator)
    ind_label = places.label(rule.indicator)
    if rule.kind == "below_share":
        text = f"{ind_label} thấp hơn {format_percent(rule.threshold)} mức {places.whole}"
        if reference is not None and not math.isnan(reference):
            text += (
                f" ({places.whole} {measure(reference, ind.kind, ind.unit)}, ngưỡng "
                f"{measure(reference * rule.threshold / 100, ind.kind, ind.unit)})"
            )
        return text
    if rule.kind == "above" and rule.threshold == 0 and ind.kind == "count":
        return f"Có {_lower_first(ind_label)}"
    word = "thấp hơn" if rule.kind == "below" else ("nhiều hơn" if ind.kind == "count" else "cao hơn")
    return f"{ind_label} {word} {threshold_text(rule.threshold, ind.kind, ind.unit)}"


def lagging_reason(row: pd.Series, places: Places = PLACES) -> str:
    """Why a unit lags under one rule, with its figure: `tỷ lệ phản ánh đã xử lý 93,2% (ngưỡng 95%)`."""
    if row["kind"] == "not_submitted":
        return "không có báo cáo được chấp nhận"
    if row["kind"] == "late":
        return "gửi báo cáo sau hạn"
    ind = kpis.indicator(row["indicator"])
    label = places.label(row["indicator"])
    value = measure(row["value"], ind.kind, ind.unit)
    limit = measure(row["threshold"], ind.kind, ind.unit)
    decimals = 0 if ind.kind == "count" else 1
    if row["value"] != row["threshold"] and format_number(row["value"], decimals) == format_number(
        row["threshold"], decimals
    ):
        # rounding would hide the difference (89,95% shown as 90%): show two decimals
        value = (
            format_percent(row["value"], 2)
            if ind.kind == "rate"
            else f"{format_number(row['value'], 2)} {ind.unit}".strip()
        )
    word = "dưới" if row["kind"] in ("below", "below_share") else "trên"
    if row["kind"] == "above" and row["threshold"] == 0 and ind.kind == "count":
        return f"{_lower_first(label)}: {value}"
    return f"{_lower_first(label)} {value} ({word} ngưỡng {limit})"


DEFAULT_PROPOSALS = {
    "not_submitted": "Đề nghị {units} gửi báo cáo tháng theo đúng biểu mẫu để số liệu được tổng hợp đầy đủ.",
    "late": "Đề nghị {units} gửi báo cáo đúng hạn.",
    "below": "Đề nghị {units} có giải pháp cải thiện chỉ tiêu “{label}”.",
    "above": "Đề nghị {units} có giải pháp cải thiện chỉ tiêu “{label}”.",
    "below_share": "Đề nghị {units} có giải pháp cải thiện chỉ tiêu “{label}”.",
    "platform_not_deployed": "Đề nghị {committee} chỉ đạo các đơn vị chưa triển khai khẩn trương triển khai {platforms}.",
}


def proposals_from_figures(
    lagging: pd.DataFrame,
    platforms: pd.DataFrame,
    rules: list,
    names: dict[str, str],
    progress: pd.DataFrame | None = None,
    places: Places = PLACES,
    communes: frozenset[str] = frozenset(),
) -> list[str]:
    """Proposals that follow from the figures: one per lagging rule that names units or platforms,
    and one per target of the year not yet met. `communes`: the reporting units that are
    commune-level (addressed as `UBND phường …`)."""
    out, covered = [], set()
    for rule in rules:
        template = rule.proposal or DEFAULT_PROPOSALS[rule.kind]
        label = places.label(rule.indicator) if rule.indicator else ""
        if rule.kind == "platform_not_deployed":
            part = platforms[platforms["rule"] == rule.id] if not platforms.empty else platforms
            if part.empty:
                continue
            items = [
                f"{n} ({format_number(c)} đơn vị chưa triển khai)"
                for n, c in zip(part["subject_name"], part["not_deployed"])
            ]
            out.append(template.format(platforms=join(items), units="", label=label, committee=places.committee))
            continue
        part = lagging[lagging["rule"] == rule.id] if not lagging.empty else lagging
        if part.empty:
            continue
        if "UBND {units}" in template:
            units = join([in_sentence(names.get(u, u)) for u in part["unit"]])
        else:
            units = join([people_committee(names.get(u, u), commune=u in communes) for u in part["unit"]])
        out.append(template.format(units=units, label=label, platforms="", committee=places.committee))
        covered.add("coverage_rate" if rule.kind == "not_submitted" else rule.indicator)
    if progress is not None and not progress.empty:
        for _, t in progress[progress["met"] == False].iterrows():  # noqa: E712
            if t["indicator"] in covered:
                continue  # the units behind it are already named above
            done = f", đạt {format_percent(t['progress'])} chỉ tiêu" if not pd.isna(t["progress"]) else ""
            kind = kpis.indicator(t["indicator"]).kind if isinstance(t["indicator"], str) else "count"
            unit = t["unit"] if kind != "rate" else ""
            if t["comparison"] == "<=" and t["target"] == 0:
                goal = "không còn"
            else:
                goal = f"{'không quá' if t['comparison'] == '<=' else 'tối thiểu'} {threshold_text(t['target'], kind, unit)}"
            out.append(
                f"Đề nghị {places.committee} chỉ đạo các đơn vị tiếp tục đẩy mạnh để đạt chỉ tiêu “{t['label']}” năm {t['year']} ({goal}); hiện nay "
                f"{measure(t['value'], kind, unit)}{done}."
            )
    return out
