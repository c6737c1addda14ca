"""The indicators across the 2025 reform: hand-made months on each side of each change.

2025-01-01: the province became thành phố Huế; thành phố Huế (474) became quận Thuận Hóa (the
same code, another area) and quận Phú Xuân (475); Quảng Điền (477) kept its area. 2025-07-01:
the districts were abolished and the 40 communes report themselves. A comparison never joins two
months on a code alone; every figure below is worked out by hand from the registry
(params/units.csv, params/crosswalk.csv) and the rows built here.
"""

import math
import time

import pandas as pd
import pytest
from test_kpis import full_team, hue_s

from dxreport import kpis
from dxreport.kpis import compare
from dxreport.units import Registry, load_registry

DEC, JAN = "2024-12", "2025-01"
JUL24, JUN, JUL = "2024-07", "2025-06", "2025-07"
LENIENT = kpis.Scope(lgsp_catalogs=("chinh_quyen",), min_population_coverage=0.0)


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def row(values, month, unit, name):
    part = values[(values["month"] == month) & (values["unit"] == unit) & (values["indicator"] == name)]
    assert len(part) == 1, (month, unit, name)
    return part.iloc[0]


def submitted(pairs):
    return pd.DataFrame({"month": [m for m, _ in pairs], "unit": [u for _, u in pairs]})


def analyse(facts, registry, subs, scope=LENIENT):
    """The warehouse's way: base table, values, month before, same month last year."""
    base = kpis.base_table(pd.DataFrame(facts), registry, subs, None, scope)
    return kpis.with_year(kpis.with_changes(kpis.compute(base), registry), registry)


# --------------------------------------------------------------------------------------------
# 2024-12 → 2025-01.
#
#   2024-12  474 thành phố Huế: Hue-S (1.000 downloads); teams rows for its 36 communes but Đông
#            Ba (19768), each 1 team, 5 members. 477 Quảng Điền: Hue-S (300); 11 communes, 2 teams.
#   2025-01  474 quận Thuận Hóa: Hue-S (700); its 19 communes, 1 team and 6 members each.
#            475 quận Phú Xuân: its 13 communes, 1 team each. 477: Hue-S (320); 11 communes, 2
#            teams each, 3 in the first.


def january_facts(registry):
    rows = hue_s(DEC, "474", 1000, 600, 100, 90, 81, 80) + hue_s(DEC, "477", 300, 200, 10, 10, 10, 90)
    for c in registry.communes("474", DEC):
        if c.code != "19768":
            rows += full_team(DEC, "474", c.code, 1, 5, 1, 10, 3)
    for c in registry.communes("477", DEC):
        rows += full_team(DEC, "477", c.code, 2, 6, 0, 0, 0)
    rows += hue_s(JAN, "474", 700, 400, 50, 50, 50, 85) + hue_s(JAN, "477", 320, 210, 12, 12, 12, 90)
    for c in registry.communes("474", JAN):
        rows += full_team(JAN, "474", c.code, 1, 6, 1, 10, 3)
    for i, c in enumerate(registry.communes("477", JAN)):
        rows += full_team(JAN, "477", c.code, 3 if i == 0 else 2, 6, 0, 0, 0)
    for c in registry.communes("475", JAN):
        rows += full_team(JAN, "475", c.code, 1, 5, 0, 0, 0)
    return rows


@pytest.fixture(scope="module")
def january(registry):
    subs = submitted([(DEC, "474"), (DEC, "477"), (JAN, "474"), (JAN, "477"), (JAN, "475")])
    return analyse(january_facts(registry), registry, subs)


def test_registry_facts_the_january_figures_rest_on(registry):
    assert not registry.same_unit("474", JAN, DEC) and registry.same_unit("477", JAN, DEC)
    assert len(registry.communes("474", DEC)) == 36
    assert len(registry.communes("474", JAN)) == 19 and len(registry.communes("475", JAN)) == 13
    thuan_hoa, _ = registry.predecessors("474", JAN, DEC)
    phu_xuan, _ = registry.predecessors("475", JAN, DEC)
    assert len(thuan_hoa) == 22 and len(phu_xuan) == 14 and "19768" in {c.code for c in phu_xuan}
    assert registry.get("474", JAN).population is None and registry.get("477", JAN).population == 78_798


def test_a_code_that_names_another_unit_is_not_compared(january):
    # 474 was thành phố Huế in 12/2024 and is quận Thuận Hóa in 01/2025: 700 against 1.000 means nothing
    downloads = row(january, JAN, "474", "hues_downloads")
    assert downloads["value"] == 700 and math.isnan(downloads["previous"]) and math.isnan(downloads["change"])
    assert downloads["previous_basis"] == "not_comparable"
    assert math.isnan(row(january, JAN, "474", "hues_downloads_month")["value"])  # not 700 − 1.000
    assert row(january, JAN, "474", "units_compared")["value"] == 0  # it did not report twice


def test_a_unit_with_the_same_area_is_compared(january):
    downloads = row(january, JAN, "477", "hues_downloads")
    assert (downloads["previous"], downloads["change"], downloads["previous_basis"]) == (300, 20, "same")
    assert row(january, JAN, "477", "hues_downloads_month")["value"] == 20
    teams = row(january, JAN, "477", "teams")
    assert (teams["value"], teams["previous"], teams["change"]) == (2 * 11 + 1, 2 * 11, 1)


def test_team_sums_are_rebuilt_from_the_old_communes(january):
    # Thuận Hóa's 22 communes of 12/2024 all sent a row: 22 teams, 22 × 5 members, 22 × 1 training
    teams = row(january, JAN, "474", "teams")
    assert teams["previous_basis"] == "rebuilt" and not teams["previous_uncertain"]
    assert (teams["value"], teams["previous"], teams["change"]) == (19, 22, 19 - 22)
    members = row(january, JAN, "474", "members")
    assert (members["value"], members["previous"]) == (19 * 6, 22 * 5)
    assert row(january, JAN, "474", "trainings")["previous"] == 22
    # counts of communes are not rebuilt
    assert row(january, JAN, "474", "communes_with_team")["previous_basis"] == "not_comparable"
    # Phú Xuân's 14 old communes include Đông Ba, which sent no row: not comparable, not 13
    phu_xuan = row(january, JAN, "475", "teams")
    assert phu_xuan["value"] == 13 and math.isnan(phu_xuan["previous"])
    assert phu_xuan["previous_basis"] == "not_comparable"


def test_province_runs_on_across_2025_01(january):
    downloads = row(january, JAN, "tinh", "hues_downloads")
    assert downloads["value"] == 700 + 320 and downloads["previous"] == 1000 + 300
    # like for like: Quảng Điền only (thành phố Huế's ground is now Thuận Hóa and Phú Xuân, and
    # Phú Xuân sent no Hue-S figure in 01/2025)
    assert downloads["change"] == 20 and downloads["change_pct"] == pytest.approx(20 / 300 * 100)
    teams = row(january, JAN, "tinh", "teams")
    assert teams["value"] == 19 + 23 + 13 and teams["previous"] == 35 + 22
    # commune by commune: the 12 communes of Phú Xuân other than Đông Ba (19768, no row in 12/2024)
    # count, with the 13 communes of 12/2024 in them: (19 + 23 + 12) − (22 + 22 + 13)
    assert teams["change"] == (19 + 23 + 12) - (22 + 22 + 13)


def test_per_capita_leaves_out_the_units_without_a_population(january, registry):
    # Thuận Hóa has no population in params/units.csv: the province's figure is Quảng Điền's
    # 320 over its 78.798 people (not 1.020 over them), and covers 78.798 / 1.160.224 people
    assert registry.province(JAN).population == 1_160_224
    assert row(january, JAN, "tinh", "hues_penetration")["value"] == pytest.approx(320 / 78_798 * 100)
    assert row(january, JAN, "tinh", "hues_coverage")["value"] == pytest.approx(78_798 / 1_160_224 * 100)
    assert math.isnan(row(january, JAN, "474", "hues_penetration")["value"])  # never 700 / 0


# --------------------------------------------------------------------------------------------
# 2025-06 → 2025-07, and 2025-07 against 2024-07.
#
#   2024-07  474 thành phố Huế: teams rows for Tây Lộc 19750, Thuận Lộc 19753, Gia Hội 19756,
#            Phú Hậu 19759, Thuận Hòa 19762 (1 team each) and Đông Ba 19768 (2 teams); 476 Phong
#            Điền: rows for Điền Hương 19822, Điền Môn 19825, Điền Lộc 19828, Điền Hòa 19834.
#   2025-06  475 quận Phú Xuân: Hue-S (900); rows for the same six communes, 1, 2, 1, 1, 2, 1 teams;
#            476: rows for Phong Thạnh 19825 and Phong Phú 19828. A Lưới (481) none.
#   2025-07  phường Phú Xuân 19753: Hue-S (400), its row: 9 teams. Phường Phong Phú 19828: 6 teams.
#            Xã A Lưới 3 (20071): 4 teams.

SIX = ["19750", "19753", "19756", "19759", "19762", "19768"]


def july_facts():
    rows = []
    for code, teams in zip(SIX, [1, 1, 1, 1, 1, 2]):
        rows += full_team(JUL24, "474", code, teams, 4 * teams, 1, 5, 2)
    for code in ("19822", "19825", "19828", "19834"):
        rows += full_team(JUL24, "476", code, 1, 3, 0, 0, 0)
    rows += hue_s(JUN, "475", 900, 500, 40, 40, 40, 90)
    for code, teams in zip(SIX, [1, 2, 1, 1, 2, 1]):
        rows += full_team(JUN, "475", code, teams, 5 * teams, 1, 10, 4)
    rows += full_team(JUN, "476", "19825", 2, 8, 0, 0, 0) + full_team(JUN, "476", "19828", 3, 9, 0, 0, 0)
    rows += hue_s(JUL, "19753", 400, 250, 20, 20, 20, 95)
    rows += full_team(JUL, "19753", "19753", 9, 45, 2, 30, 20)
    rows += full_team(JUL, "19828", "19828", 6, 20, 1, 5, 5)
    rows += full_team(JUL, "20071", "20071", 4, 12, 0, 0, 0)
    return rows


@pytest.fixture(scope="module")
def july(registry):
    subs = submitted(
        [(JUL24, "474"), (JUL24, "476"), (JUN, "475"), (JUN, "476"), (JUL, "19753"), (JUL, "19828"), (JUL, "20071")]
    )
    return analyse(july_facts(), registry, subs)


def test_registry_facts_the_july_figures_rest_on(registry):
    assert [u.type for u in registry.area_units(JUL)] == ["commune"] * 40
    assert (
        registry.get("19753", JUL24).name == "Phường Thuận Lộc" and registry.get("19753", JUL).name == "Phường Phú Xuân"
    )
    for earlier in (JUL24, JUN):
        assert [c.code for c in registry.predecessors("19753", JUL, earlier)[0]] == SIX
    old, unsure = registry.predecessors("19828", JUL, JUL24)
    assert [c.code for c in old] == ["19822", "19825", "19828", "19834"] and unsure  # 19834 Điền Hòa → Phong Phú
    old, unsure = registry.predecessors("19828", JUL, JUN)
    assert [c.code for c in old] == ["19825", "19828"] and not unsure


def test_a_july_commune_is_compared_with_its_old_communes_of_june(july):
    teams = row(july, JUL, "19753", "teams")
    assert teams["previous_basis"] == "rebuilt" and teams["previous"] == 1 + 2 + 1 + 1 + 2 + 1
    assert teams["change"] == 9 - 8
    assert row(july, JUL, "19753", "members")["previous"] == 5 * 8
    assert row(july, JUL, "19753", "households")["previous"] == 6 * 4
    # Hue-S was sent by quận Phú Xuân for more ground than phường Phú Xuân: not comparable
    downloads = row(july, JUL, "19753", "hues_downloads")
    assert downloads["value"] == 400 and math.isnan(downloads["previous"])
    assert downloads["previous_basis"] == "not_comparable"
    phong_phu = row(july, JUL, "19828", "teams")
    assert (phong_phu["previous"], phong_phu["change"], phong_phu["previous_uncertain"]) == (2 + 3, 1, False)
    # A Lưới 3's four old communes sent nothing in 06/2025
    a_luoi = row(july, JUL, "20071", "teams")
    assert a_luoi["value"] == 4 and math.isnan(a_luoi["previous"]) and a_luoi["previous_basis"] == "not_comparable"


def test_year_on_year_across_the_reform_sums_the_2022_map_communes(july):
    # phường Phú Xuân in 07/2025 against the six communes of old Huế it was formed from, in 07/2024
    teams = row(july, JUL, "19753", "teams")
    assert teams["last_year_basis"] == "rebuilt" and not teams["last_year_uncertain"]
    assert teams["last_year"] == 1 + 1 + 1 + 1 + 1 + 2
    assert teams["yoy_change"] == 9 - 7 and teams["yoy_pct"] == pytest.approx(2 / 7 * 100)
    assert row(july, JUL, "19753", "members")["last_year"] == 4 * 7
    # not Thuận Lộc's own row (1 team), which the code 19753 named in 07/2024
    downloads = row(july, JUL, "19753", "hues_downloads")
    assert math.isnan(downloads["last_year"]) and downloads["last_year_basis"] == "not_comparable"


def test_an_uncertain_crosswalk_row_is_flagged(july):
    # Phong Phú against 07/2024: Điền Hương, Điền Môn, Điền Lộc and Điền Hòa; Điền Hòa → Phong Phú
    # is an uncertain row of params/crosswalk.csv
    teams = row(july, JUL, "19828", "teams")
    assert teams["last_year"] == 4 and teams["last_year_basis"] == "rebuilt"
    assert teams["last_year_uncertain"] == True  # noqa: E712
    assert teams["previous_uncertain"] == False  # noqa: E712  (06/2025 → 07/2025 uses no uncertain row)


def test_the_same_code_in_the_same_era_is_compared_as_before(registry):
    # 2025-08 against 2025-07: the same 40 units, joined on their codes
    facts = full_team(JUL, "19753", "19753", 9, 45, 2, 30, 20) + full_team(
        "2025-08", "19753", "19753", 10, 50, 1, 10, 5
    )
    values = analyse(facts, registry, submitted([(JUL, "19753"), ("2025-08", "19753")]))
    teams = row(values, "2025-08", "19753", "teams")
    assert (teams["previous"], teams["change"], teams["previous_basis"]) == (9, 1, "same")


def test_rebuilt_sums_without_the_base_tables_attrs(registry):
    # the report reads the values from the warehouse: the rebuilt sums come from the facts given
    subs = submitted([(JUL24, "474"), (JUL, "19753")])
    facts = pd.DataFrame([r for r in july_facts() if r["month"] in (JUL24, JUL)])
    values = kpis.compute(kpis.base_table(facts, registry, subs, None, LENIENT, like_for_like=False))
    plain = kpis.with_year(values, registry)
    assert row(plain, JUL, "19753", "teams")["last_year_basis"] == "not_comparable"
    given = kpis.with_year(values, registry, facts=facts)
    assert row(given, JUL, "19753", "teams")["last_year"] == 7


def test_values_read_back_from_the_warehouse_get_their_basis(july, registry):
    # the warehouse keeps month, unit, indicator, value, previous, change, change_pct only
    stored = july[["month", "unit", "indicator", "value", "previous", "change", "change_pct"]]
    again = kpis.with_year(stored, registry)
    assert row(again, JUL, "19753", "teams")["previous_basis"] == "rebuilt"
    assert row(again, JUL, "19753", "hues_downloads")["previous_basis"] == "not_comparable"
    assert row(again, JUN, "475", "hues_downloads")["previous_basis"] == "same"


# --------------------------------------------------------------------------------------------
# The province across 2025-07, the 40 communes ranked, per-capita figures of communes.


def whole_months(registry, missing=(), bump=()):
    """Every area unit sends Hue-S: 06/2025 each district 100 downloads (A Lưới 300), 07/2025
    each commune 25 (26 for the communes in `bump`), but those in `missing`."""
    rows, subs = [], []
    for unit in registry.area_units(JUN):
        rows += hue_s(JUN, unit.code, 300 if unit.code == "481" else 100, 50, 10, 10, 10, 90)
        subs.append((JUN, unit.code))
    for unit in registry.area_units(JUL):
        if unit.code in missing:
            continue
        rows += hue_s(JUL, unit.code, 26 if unit.code in bump else 25, 10, 4, 4, 4, 90)
        subs.append((JUL, unit.code))
    return rows, submitted(subs)


def test_province_runs_on_across_2025_07_when_everyone_reported(registry):
    rows, subs = whole_months(registry)
    values = analyse(rows, registry, subs)
    downloads = row(values, JUL, "tinh", "hues_downloads")
    assert downloads["value"] == 40 * 25 and downloads["previous"] == 8 * 100 + 300
    # the nine districts and the forty communes cover the same ground: compared as they are
    assert downloads["change"] == 1000 - 1100 and downloads["previous_basis"] == "same"
    # every commune reported: the province's population is the city's (the communes have none)
    assert row(values, JUL, "tinh", "hues_penetration")["value"] == pytest.approx(1000 / 1_160_224 * 100)
    assert row(values, JUL, "tinh", "hues_coverage")["value"] == 100
    assert math.isnan(row(values, JUL, "19753", "hues_penetration")["value"])


def test_province_across_2025_07_leaves_out_the_ground_of_a_missing_commune(registry):
    # xã A Lưới 3 sent nothing: A Lưới's 18 communes of 06/2025 make exactly A Lưới 1–5, so the
    # district A Lưới and its five communes are left out of the comparison, and only they
    rows, subs = whole_months(registry, missing=("20071",))
    old = {c.code for c in registry.communes("481", JUN)}
    five = ["20044", "20050", "20056", "20071", "20101"]
    assert {c.code for u in five for c in registry.predecessors(u, JUL, JUN)[0]} == old
    values = analyse(rows, registry, subs)
    downloads = row(values, JUL, "tinh", "hues_downloads")
    assert downloads["value"] == 39 * 25 and downloads["previous"] == 1100
    # over the 35 other communes and the 8 other districts: 875 against 800, not 975 against 1.100
    assert downloads["change"] == (39 - 4) * 25 - 8 * 100
    assert downloads["change_pct"] == pytest.approx(((39 - 4) * 25 - 800) / 800 * 100)
    # 39 of 40 communes, none with a population: no per-capita figure, and never 0
    assert math.isnan(row(values, JUL, "tinh", "hues_penetration")["value"])
    assert math.isnan(row(values, JUL, "tinh", "hues_coverage")["value"])


def test_ranking_among_the_forty_communes(registry):
    rows, subs = whole_months(registry, bump=("19774",))
    values = analyse(rows, registry, subs)
    peers, name = kpis.peers_of(registry, JUL, "19753")
    assert len(peers) == 40 and name == "xã, phường" and "475" not in peers
    view = kpis.unit_view(values, JUL, "19753", peers, registry).set_index("indicator")
    # Kim Long 26 downloads, the 39 others 25: Phú Xuân shares the second place
    assert view.at["hues_downloads", "rank"] == 2 and view.at["hues_downloads", "ranked_among"] == 40
    kim_long = kpis.unit_view(values, JUL, "19774", peers, registry).set_index("indicator")
    assert kim_long.at["hues_downloads", "rank"] == 1 and kim_long.at["hues_downloads", "ranked_among"] == 40
    assert kim_long.at["hues_downloads", "peer_mean"] == pytest.approx((40 * 25 + 1) / 40)
    assert view.at["hues_downloads", "label"] == "Lượt tải ứng dụng Hue-S (lũy kế)"


def test_peers_of_agencies_and_area_units_by_month(registry):
    assert kpis.peers_of(registry, "2022-07", "474")[1] == "huyện, thị xã, thành phố"
    assert kpis.peers_of(registry, "2022-07", "snv")[1] == "cơ quan cấp tỉnh"
    assert kpis.peers_of(registry, JAN, "475")[1] == "huyện, thị xã, quận"
    assert kpis.peers_of(registry, JUL, "snv") == ([u.code for u in registry.agencies(JUL)], "cơ quan cấp thành phố")
    assert kpis.peers_of(registry, JUL, "474") == ([], "")  # no such unit any more
    assert kpis.peers_of(registry, JUL, "tinh") == ([], "")


def test_lagging_rules_apply_to_the_role_whatever_the_level(registry):
    rows, subs = whole_months(registry)
    values = analyse(rows, registry, subs)
    types = {u.code: u.type for u in registry.reporting_units(JUL)}  # commune / agency, as the registry says
    rules = [kpis.Rule("not_submitted", "not_submitted", applies_to=("area",))]
    lag = kpis.lagging_units(values, JUL, types, rules)
    assert lag.empty  # the forty communes sent their reports; agencies are not asked by this rule
    lag = kpis.lagging_units(values, JUL, types, [kpis.Rule("not_submitted", "not_submitted")])
    assert set(lag["unit"]) == {u.code for u in registry.agencies(JUL)}
    roles = kpis.unit_roles(registry, JUL)  # the same, said as roles
    assert set(roles.values()) == {"area", "agency"} and sum(r == "area" for r in roles.values()) == 40
    assert kpis.lagging_units(values, JUL, roles, rules).empty


def test_lagging_yaml_uses_the_role_and_still_reads_the_old_word(tmp_path):
    assert {r.applies_to for r in kpis.load_rules()} == {("area", "agency"), ("area",)}
    old = tmp_path / "lagging.yaml"
    old.write_text(
        "rules:\n  - kind: below\n    indicator: processed_rate\n    threshold: 95\n    applies_to: [district]\n",
        encoding="utf-8",
    )
    assert kpis.load_rules(old)[0].applies_to == ("area",)
    old.write_text("rules:\n  - kind: late\n    applies_to: [commune]\n", encoding="utf-8")
    with pytest.raises(kpis.RulesError, match="applies_to là danh sách lấy từ area, agency"):
        kpis.load_rules(old)


# --------------------------------------------------------------------------------------------
# Words and speed.


def test_indicator_words_follow_the_month_and_2022_stays_byte_identical(registry):
    for month in [f"{y}-{m:02d}" for y in (2022, 2023, 2024) for m in range(1, 13)]:
        for ind in kpis.INDICATORS:
            assert ind.label_in(month, registry) == ind.label and ind.formula_in(month, registry) == ind.formula
    assert kpis.definitions("2022-12").equals(kpis.definitions())
    mau = kpis.indicator("platform_mau")
    assert mau.formula_in(JAN, registry) == (
        "tổng Người dùng hoạt động trong tháng của các dòng nền tảng (với toàn thành phố: tổng của các huyện, "
        "thị xã, quận; người dùng trong các cơ quan cấp thành phố tính riêng, không cộng vào)"
    )
    assert kpis.indicator("platform_mau_districts").label_in(JUL, registry) == (
        "Người dùng hoạt động trên địa bàn các xã, phường"
    )
    assert kpis.indicator("hues_downloads").formula_in(JUL, registry) == "tổng Lượt tải lũy kế của các xã, phường"
    assert kpis.indicator("communes_with_team").label_in(JUL, registry) == "Xã, phường đã có tổ"
    assert kpis.indicator("platform_mau_agencies").label_in("2026-11", registry).endswith("cơ quan cấp thành phố")
    coverage = kpis.indicator("hues_coverage").formula_in(JUL, registry)
    assert coverage.startswith("dân số các xã, phường báo cáo lượt tải Hue-S") and "dân số toàn thành phố" in coverage


def test_a_forty_unit_month_stays_fast(registry):
    # every area unit and its communes in 07/2024, 06/2025 and 07/2025, with Hue-S: the reform
    # on both sides, the month before and the year before
    rows, pairs = [], []
    for month in (JUL24, JUN, JUL):
        for unit in registry.area_units(month):
            rows += hue_s(month, unit.code, 100, 50, 10, 9, 8, 90)
            for c in registry.communes(unit.code, month):
                rows += full_team(month, unit.code, c.code, 1, 4, 1, 5, 2)
            pairs.append((month, unit.code))
    fresh = Registry(registry.units, registry.changes, registry.words)  # nothing cached yet
    assert compare.crosswalk(fresh) is not compare.crosswalk(registry)
    start = time.perf_counter()
    values = analyse(rows, fresh, submitted(pairs))
    took = time.perf_counter() - start
    assert took < 5, took  # about half a second on a laptop
    # Phú Xuân: six old communes, one team each, in both other months
    teams = row(values, JUL, "19753", "teams")
    assert (teams["previous"], teams["last_year"]) == (6, 6)
    # the province: all 141 communes of 07/2024 and all 40 units of 07/2025, a team each
    province = row(values, JUL, "tinh", "teams")
    assert province["value"] == 40 and province["last_year"] == 141 and province["yoy_change"] == 40 - 141
    assert province["change"] == 40 - 133  # 133 communes in 06/2025, every one with a row


def test_report_inputs_hash_the_old_communes_a_report_rebuilds_from(tmp_path, registry):
    from dxreport import store
    from dxreport.report_inputs import unit_inputs

    def inputs(facts):
        path = tmp_path / "warehouse.duckdb"
        path.unlink(missing_ok=True)
        with store.connect(path) as con:
            for month in (JUL24, JUL):
                part = pd.DataFrame([r for r in facts if r["month"] == month])
                subs = part[["month", "unit"]].drop_duplicates().assign(status="accepted", submission_id=part["unit"])
                store.replace_month(con, month, subs, part, None)
        return unit_inputs(tmp_path, JUL, ["19753", "19828", "tinh"], registry)

    facts = [r for r in july_facts() if r["month"] in (JUL24, JUL)]
    first = inputs(facts)
    assert "last_year_communes" in first["19753"] and "last_year_communes" in first["19828"]
    assert "last_year_communes" not in first["tinh"]
    # one more member in Đông Ba (19768) in 07/2024: Phú Xuân's year-ago sums change, Phong Phú's do not
    changed = [
        dict(r, value=r["value"] + 1) if (r["subject"], r["metric"]) == ("19768", "members") else r for r in facts
    ]
    second = inputs(changed)
    assert second["19753"]["last_year_communes"] != first["19753"]["last_year_communes"]
    assert second["19828"]["last_year_communes"] == first["19828"]["last_year_communes"]


def test_the_base_table_gives_roles_not_levels(registry):
    for month, level in (("2022-07", "district"), (JUL, "commune")):
        first = registry.area_units(month)[0].code
        facts = pd.DataFrame(hue_s(month, first, 10, 5, 1, 1, 1, 90))
        base = kpis.base_table(facts, registry, submitted([(month, first), (month, "snv")]))
        types = base.reset_index().groupby("type")["unit"].nunique().to_dict()
        assert {u.type for u in registry.area_units(month)} == {level}
        assert types == {
            "area": len(registry.area_units(month)),
            "agency": len(registry.agencies(month)),
            "province": 1,
        }
