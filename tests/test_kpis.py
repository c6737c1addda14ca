import math

import pandas as pd
import pytest

from dxreport import kpis
from dxreport.units import load_registry


def fact(month, unit, sheet, metric, value=None, text=None, subject="", kind="unit"):
    return {
        "month": month,
        "unit": unit,
        "sheet": sheet,
        "subject_kind": kind,
        "subject": subject,
        "subject_name": subject,
        "metric": metric,
        "value": value,
        "text": text,
        "submission_id": f"{unit}-{month}",
        "cell": "B4",
    }


def hue_s(month, unit, downloads, accounts, received, processed, on_time, satisfaction):
    values = dict(
        downloads=downloads,
        accounts=accounts,
        reports_received=received,
        reports_processed=processed,
        reports_on_time=on_time,
        satisfaction=satisfaction,
    )
    return [fact(month, unit, "hue_s", k, v) for k, v in values.items()]


def team(month, unit, commune, teams, members):
    return [
        fact(month, unit, "to_cns", "teams", teams, subject=commune, kind="commune"),
        fact(month, unit, "to_cns", "members", members, subject=commune, kind="commune"),
    ]


def platform(month, unit, pid, status, lgsp=None, mau=None):
    rows = [fact(month, unit, "nen_tang", "status", text=status, subject=pid, kind="platform")]
    if lgsp is not None:
        rows.append(fact(month, unit, "nen_tang", "lgsp", float(lgsp), "co" if lgsp else "khong", pid, "platform"))
    if mau is not None:
        rows.append(fact(month, unit, "nen_tang", "mau", mau, subject=pid, kind="platform"))
    return rows


@pytest.fixture(scope="module")
def values():
    m, p = "2022-07", "2022-06"
    rows = (
        hue_s(m, "474", 1000, 600, 100, 90, 81, 80)
        + hue_s(m, "478", 500, 300, 50, 50, 45, 90)
        + hue_s(p, "474", 900, 500, 80, 80, 80, 70)
        + team(m, "474", "19750", 3, 12)
        + team(m, "474", "19753", 0, 0)
        + team(m, "478", "19927", 5, 20)
        + platform(m, "474", "nd-hues", "dang_su_dung", lgsp=1, mau=100)
        + platform(m, "474", "cq-lgsp", "dang_thu_nghiem")
        + platform(m, "474", "unmatched:ung dung x", "dang_su_dung")
        + platform(m, "snv", "nd-hues", "dang_su_dung", lgsp=0, mau=10)
        + platform(m, "snv", "cq-hop", "chua_trien_khai")
    )
    facts = pd.DataFrame(rows)
    submitted = pd.DataFrame({"month": [m, m, m, p], "unit": ["474", "478", "snv", "474"]})
    base = kpis.base_table(facts, load_registry(), submitted)
    return kpis.with_changes(kpis.compute(base))


def value(values, unit, name, month="2022-07"):
    row = values[(values["month"] == month) & (values["unit"] == unit) & (values["indicator"] == name)]
    assert len(row) == 1, (unit, name)
    return row["value"].iloc[0]


def test_every_indicator_is_defined_once_with_label_unit_formula_source():
    names = [i.name for i in kpis.INDICATORS]
    assert len(names) == len(set(names))
    for ind in kpis.INDICATORS:
        assert ind.label and ind.unit and ind.formula and ind.source


def test_province_area_figures_are_sums_over_districts(values):
    assert value(values, "tinh", "hues_downloads") == 1500
    assert value(values, "tinh", "hues_accounts") == 900
    assert value(values, "tinh", "reports_received") == 150
    assert value(values, "tinh", "teams") == 8
    assert value(values, "tinh", "members") == 32


def test_rates_are_computed_not_added(values):
    assert value(values, "474", "processed_rate") == pytest.approx(90.0)
    assert value(values, "tinh", "processed_rate") == pytest.approx(140 / 150 * 100)  # 93,3%
    assert value(values, "tinh", "on_time_rate") == pytest.approx(126 / 140 * 100)  # 90%
    # satisfaction weighted by processed reports: (80×90 + 90×50) / 140
    assert value(values, "tinh", "satisfaction") == pytest.approx((80 * 90 + 90 * 50) / 140)


def test_penetration_uses_the_population_of_the_units_that_reported(values):
    assert value(values, "478", "hues_penetration") == pytest.approx(500 / 116_809 * 100)
    # Huế 494.070 and Phú Vang 116.809 hold 610.879 / 1.160.224 = 52,7% of the province: below the
    # 80% of params/targets.yaml, so the province gets no figure rather than 1.500 over everyone
    assert math.isnan(value(values, "tinh", "hues_penetration"))


def test_month_on_month(values):
    assert value(values, "474", "hues_downloads_month") == 100
    row = values[(values["month"] == "2022-07") & (values["unit"] == "474") & (values["indicator"] == "hues_downloads")]
    assert row["previous"].iloc[0] == 900 and row["change"].iloc[0] == 100
    assert row["change_pct"].iloc[0] == pytest.approx(100 / 900 * 100)


def test_teams_and_communes(values):
    huế_communes = len(load_registry().communes("474", "2022-07"))
    assert value(values, "474", "communes_with_team") == 1
    # only communes with a valid row count: Huế reported 19750 (3 teams) and 19753 (0 teams)
    assert value(values, "474", "communes_without_team") == 1
    assert value(values, "474", "communes_no_data") == huế_communes - 2
    assert value(values, "tinh", "communes_without_team") == 1
    assert value(values, "tinh", "communes_no_data") == 141 - 3
    # Phong Điền sent nothing: every one of its communes is unknown, none is "without a team"
    assert value(values, "476", "communes_no_data") == len(load_registry().communes("476", "2022-07"))
    assert math.isnan(value(values, "476", "communes_without_team"))
    assert value(values, "474", "teams_per_commune") == pytest.approx(3 / huế_communes)


def test_coverage(values):
    assert value(values, "tinh", "submissions_received") == 3
    assert value(values, "tinh", "submissions_expected") == 30
    assert value(values, "tinh", "coverage_rate") == pytest.approx(10.0)
    assert value(values, "476", "submissions_received") == 0


def test_platform_counts_distinct_across_units(values):
    assert value(values, "tinh", "platforms_in_use") == 2  # nd-hues (twice) + the unmatched one
    assert value(values, "tinh", "platforms_trial") == 1
    assert value(values, "tinh", "platforms_not_deployed") == 1
    # without a catalog no platform belongs to the catalog asked to connect to LGSP
    assert value(values, "tinh", "platforms_lgsp") == 0
    assert value(values, "tinh", "platform_mau") == 100  # the districts' rows; snv's 10 count apart
    assert value(values, "tinh", "platforms_unmatched") == 1
    assert value(values, "snv", "platforms_in_use") == 1


def test_area_indicators_are_not_given_to_agencies(values):
    agency = values[(values["unit"] == "snv")]
    assert "hues_downloads" not in set(agency["indicator"])


def test_unreported_stays_empty_not_zero(values):
    assert math.isnan(value(values, "476", "hues_downloads"))
    assert math.isnan(value(values, "478", "hues_downloads_month"))  # no June figure for 478


def test_a_status_not_reported_counts_zero_once_platforms_are_reported(values):
    assert value(values, "474", "platforms_not_deployed") == 0
    assert value(values, "474", "platforms_unmatched") == 1
    assert math.isnan(value(values, "476", "platforms_in_use"))  # 476 sent nothing


# --------------------------------------------------------------------------------------------
# A tiny hand-made month (07/2022) with the month before and the same month of 2021, every sheet
# of the form, and a catalog: every indicator's value is worked out by hand below.
#
#   474 Huế (36 communes, 494.070 people)   on time    Hue-S, teams (2 communes), SMEs, 4 platforms
#   478 Phú Vang (14 communes)              late       Hue-S, teams (1 commune), SMEs, 1 platform
#   snv Sở Nội vụ (agency)                  on time    3 platforms
#   the 27 other reporting units sent nothing.

M, P, LY = "2022-07", "2022-06", "2021-07"
# per-capita figures need districts holding half the population; LGSP is asked of government platforms
SCOPE = kpis.Scope(lgsp_catalogs=("chinh_quyen",), min_population_coverage=50.0)
REPORTED_POPULATION = 494_070 + 116_809  # Huế and Phú Vang sent Hue-S figures: 52,4% of the districts'
# the nine districts' own populations (years 2019–2022) added: coverage is measured against them
DISTRICT_POPULATION = 494_070 + 91_868 + 78_798 + 116_809 + 100_207 + 66_278 + 50_109 + 140_270 + 27_004
CATALOG = pd.DataFrame(
    {
        "platform_id": ["nd-hues", "nd-sskdt", "cq-lgsp", "cq-hop"],
        "catalog": ["nguoi_dan", "nguoi_dan", "chinh_quyen", "chinh_quyen"],
        "name": ["Ứng dụng Hue-S", "Sổ sức khỏe điện tử", "LGSP", "Họp trực tuyến"],
    }
)


def full_platform(month, unit, pid, status, lgsp=None, accounts=None, mau=None, uses=None, proposal=None):
    rows = [fact(month, unit, "nen_tang", "status", text=status, subject=pid, kind="platform")]
    for metric, value in (("accounts", accounts), ("mau", mau), ("uses", uses)):
        if value is not None:
            rows.append(fact(month, unit, "nen_tang", metric, value, subject=pid, kind="platform"))
    if lgsp is not None:
        rows.append(fact(month, unit, "nen_tang", "lgsp", float(lgsp), "co" if lgsp else "khong", pid, "platform"))
    if proposal is not None:
        rows.append(fact(month, unit, "nen_tang", "proposal", text=proposal, subject=pid, kind="platform"))
    return rows


def full_team(month, unit, commune, teams, members, trainings, trained, households):
    values = dict(teams=teams, members=members, trainings=trainings, trained=trained, households=households)
    return [fact(month, unit, "to_cns", k, v, subject=commune, kind="commune") for k, v in values.items()]


def smes(month, unit, reached, using, dbi, supported):
    values = dict(sme_reached=reached, sme_using=using, dbi_assessed=dbi, sme_supported=supported)
    return [fact(month, unit, "doanh_nghiep", k, v) for k, v in values.items()]


def month_facts():
    return pd.DataFrame(
        hue_s(M, "474", 1000, 600, 100, 90, 81, 80)
        + hue_s(M, "478", 500, 300, 50, 50, 45, 90)
        + full_team(M, "474", "19750", 3, 12, 2, 40, 30)
        + full_team(M, "474", "19753", 0, 0, 0, 0, 0)
        + full_team(M, "478", "19927", 5, 20, 1, 10, 5)
        + smes(M, "474", 40, 10, 4, 2)
        + smes(M, "478", 20, 5, 2, 1)
        + full_platform(M, "474", "nd-hues", "dang_su_dung", lgsp=1, accounts=500, mau=100, uses=1000)
        + full_platform(M, "474", "cq-lgsp", "dang_thu_nghiem", accounts=50, mau=5, uses=20)
        + full_platform(M, "474", "unmatched:ung dung x", "dang_su_dung")
        + full_platform(M, "474", "nd-sskdt", "dang_su_dung", lgsp=0, accounts=49_407, mau=1000, uses=2000)
        + full_platform(M, "478", "cq-hop", "chua_trien_khai", proposal="Đề nghị hướng dẫn triển khai")
        + full_platform(M, "snv", "nd-hues", "dang_su_dung", lgsp=0, accounts=20, mau=10, uses=50)
        + full_platform(M, "snv", "cq-hop", "chua_trien_khai")
        + full_platform(M, "snv", "cq-lgsp", "dang_su_dung", lgsp=1, accounts=30, mau=25, uses=300)
        # the month before: Huế only
        + hue_s(P, "474", 900, 500, 80, 80, 80, 70)
        + full_team(P, "474", "19750", 3, 12, 1, 20, 10)
        + full_platform(P, "474", "nd-hues", "dang_su_dung", lgsp=1, accounts=450, mau=90, uses=800)
        # the same month a year before: Huế's Hue-S sheet only
        + hue_s(LY, "474", 600, 300, 60, 60, 60, 75)
    )


@pytest.fixture(scope="module")
def month():
    submitted = pd.DataFrame(
        {
            "month": [M, M, M, P, LY],
            "unit": ["474", "478", "snv", "474", "474"],
            "late": [False, True, False, False, False],
        }
    )
    base = kpis.base_table(month_facts(), load_registry(), submitted, CATALOG, SCOPE)
    return kpis.with_year(kpis.with_changes(kpis.compute(base)))


NAN = float("nan")
PROVINCE_BY_HAND = {
    "submissions_received": 3,
    "submissions_expected": 30,
    "coverage_rate": 10.0,
    "submissions_late": 1,
    "units_compared": 1,  # only Huế sent June and July
    # distinct platforms over the units: in use nd-hues, unmatched, nd-sskdt, cq-lgsp (snv); trial cq-lgsp
    # (474); not deployed cq-hop; deployments in use 474×3 + snv×2. LGSP is asked of government platforms
    # only: the one government deployment in use (snv cq-lgsp) is connected; 474's nd-hues is not counted
    "platforms_in_use": 4,
    "platforms_trial": 1,
    "platforms_not_deployed": 1,
    "platform_deployments": 5,
    "lgsp_deployments": 1,
    "platforms_lgsp": 1,
    "lgsp_rate": 100.0,
    # platform figures of the province: the districts' rows only; the agencies' staff are counted apart
    "platform_accounts": 500 + 50 + 49_407,
    "platform_mau": 100 + 5 + 1000,
    "platform_mau_districts": 1105,
    "platform_mau_agencies": 10 + 25,
    "platform_uses": 1000 + 20 + 2000,
    "platforms_unmatched": 1,
    "chinh_quyen_in_use": 1,
    "chinh_quyen_trial": 1,
    "chinh_quyen_not_deployed": 1,
    "doanh_nghiep_in_use": 0,
    "doanh_nghiep_trial": 0,
    "doanh_nghiep_not_deployed": 0,
    "nguoi_dan_in_use": 2,
    "nguoi_dan_trial": 0,
    "nguoi_dan_not_deployed": 0,
    # e-health accounts come from Huế alone: 494.070 of 1.165.413 people, 42,4% < 50%, so no per-capita figure
    "ehealth_penetration": NAN,
    "ehealth_coverage": 494_070 / DISTRICT_POPULATION * 100,
    "vneid_penetration": NAN,
    "vneid_coverage": NAN,
    "hues_downloads": 1500,
    "hues_downloads_month": 1500 - 900,  # 478 sent no June figure
    "hues_penetration": 1500 / REPORTED_POPULATION * 100,
    "hues_accounts": 900,
    "hues_coverage": REPORTED_POPULATION / DISTRICT_POPULATION * 100,  # Huế and Phú Vang sent downloads
    "hues_accounts_penetration": 900 / REPORTED_POPULATION * 100,
    "reports_received": 150,
    "reports_processed": 140,
    "reports_on_time": 126,
    "processed_rate": 140 / 150 * 100,
    "on_time_rate": 126 / 140 * 100,
    "satisfaction": (80 * 90 + 90 * 50) / 140,
    "teams": 8,
    "members": 32,
    "trainings": 3,
    "trained": 50,
    "households": 35,
    # communes with a valid row: 19750 (3 teams), 19753 (0), 19927 (5); the 138 others are not known
    "communes_with_team": 2,
    "communes_without_team": 1,
    "communes_no_data": 141 - 3,
    "teams_per_commune": 8 / 141,
    "sme_reached": 60,
    "sme_using": 15,
    "sme_using_rate": 25.0,
    "dbi_assessed": 6,
    "sme_supported": 3,
}
HUE_BY_HAND = {
    "submissions_received": 1,
    "submissions_expected": 1,
    "coverage_rate": 100.0,
    "submissions_late": 0,
    "units_compared": 1,
    # Huế uses no government platform (cq-lgsp is on trial): no LGSP rate, rather than 1/3 over citizens' apps
    "platforms_in_use": 3,
    "platforms_trial": 1,
    "platforms_not_deployed": 0,
    "platform_deployments": 3,
    "lgsp_deployments": 0,
    "platforms_lgsp": 0,
    "lgsp_rate": NAN,
    "platform_accounts": 49_957,
    "platform_mau": 1105,
    "platform_uses": 3020,
    "platforms_unmatched": 1,
    "chinh_quyen_in_use": 0,
    "chinh_quyen_trial": 1,
    "chinh_quyen_not_deployed": 0,
    "doanh_nghiep_in_use": 0,
    "doanh_nghiep_trial": 0,
    "doanh_nghiep_not_deployed": 0,
    "nguoi_dan_in_use": 2,
    "nguoi_dan_trial": 0,
    "nguoi_dan_not_deployed": 0,
    "ehealth_penetration": 10.0,
    "ehealth_coverage": 100.0,  # 49.407 / 494.070
    "vneid_penetration": NAN,
    "vneid_coverage": NAN,
    "hues_downloads": 1000,
    "hues_downloads_month": 100,
    "hues_penetration": 1000 / 494_070 * 100,
    "hues_coverage": 100.0,
    "hues_accounts": 600,
    "hues_accounts_penetration": 600 / 494_070 * 100,
    "reports_received": 100,
    "reports_processed": 90,
    "reports_on_time": 81,
    "processed_rate": 90.0,
    "on_time_rate": 90.0,
    "satisfaction": 80.0,
    "teams": 3,
    "members": 12,
    "trainings": 2,
    "trained": 40,
    "households": 30,
    "communes_with_team": 1,
    "communes_without_team": 1,
    "communes_no_data": 34,
    "teams_per_commune": 3 / 36,
    "sme_reached": 40,
    "sme_using": 10,
    "sme_using_rate": 25.0,
    "dbi_assessed": 4,
    "sme_supported": 2,
}


def _month_values(values, unit):
    part = values[(values["month"] == M) & (values["unit"] == unit)]
    return dict(zip(part["indicator"], part["value"]))


def test_registry_facts_the_hand_figures_rest_on():
    registry = load_registry()
    assert len(registry.communes("474", M)) == 36 and len(registry.communes("478", M)) == 14
    assert registry.get("474", M).population == 494_070 and registry.province(M).population == 1_160_224
    assert sum(u.population for u in registry.area_units(M)) == DISTRICT_POPULATION == 1_165_413


@pytest.mark.parametrize("unit, by_hand", [("tinh", PROVINCE_BY_HAND), ("474", HUE_BY_HAND)])
def test_every_indicator_worked_out_by_hand(month, unit, by_hand):
    got = _month_values(month, unit)
    # every indicator computed for the unit has a figure worked out by hand, and no other
    assert set(got) == set(by_hand)
    for name, expected in by_hand.items():
        if math.isnan(expected):
            assert math.isnan(got[name]), name
        else:
            assert got[name] == pytest.approx(expected), name


def test_every_indicator_of_the_dictionary_is_checked_by_hand():
    assert {i.name for i in kpis.INDICATORS} == set(PROVINCE_BY_HAND)


def test_agency_gets_platform_indicators_only(month):
    got = _month_values(month, "snv")
    # one government platform in use (cq-lgsp), connected; nd-hues serves citizens and is not counted
    assert got["platforms_in_use"] == 2 and got["platform_deployments"] == 2 and got["lgsp_rate"] == 100.0
    assert got["chinh_quyen_in_use"] == 1 and got["chinh_quyen_not_deployed"] == 1 and got["nguoi_dan_in_use"] == 1
    assert "hues_downloads" not in got and "ehealth_penetration" not in got and "platform_mau_agencies" not in got


def test_same_month_last_year_and_year_to_date(month):
    row = month[(month["month"] == M) & (month["unit"] == "474")].set_index("indicator")
    assert row.at["hues_downloads", "last_year"] == 600 and row.at["hues_downloads", "yoy_change"] == 400
    assert row.at["hues_downloads", "yoy_pct"] == pytest.approx(400 / 600 * 100)
    # year to date: June and July 2022, never July 2021
    assert row.at["reports_received", "ytd"] == 80 + 100 and row.at["reports_received", "ytd_months"] == 2
    assert row.at["households", "ytd"] == 10 + 30
    assert row.at["processed_rate", "ytd"] == pytest.approx((80 + 90) / (80 + 100) * 100)
    # June has no downloads increase (no May figure): one month of data
    assert row.at["hues_downloads_month", "ytd"] == 100 and row.at["hues_downloads_month", "ytd_months"] == 1
    # a stock and a rate of stocks have no year to date
    assert math.isnan(row.at["hues_downloads", "ytd"]) and math.isnan(row.at["sme_using_rate", "ytd"])
    # the province: July 2022 (Huế, Phú Vang, Sở Nội vụ) and July 2021 (Huế alone) are unlike totals
    province = month[(month["month"] == M) & (month["unit"] == "tinh")].set_index("indicator")
    assert province.at["hues_downloads", "last_year"] == 600 and math.isnan(province.at["hues_downloads", "yoy_change"])
    assert province.at["submissions_received", "yoy_change"] == 3 - 1  # who reported: compared as it is
    # 478 has no July 2021: no year-on-year figure
    other = month[(month["month"] == M) & (month["unit"] == "478") & (month["indicator"] == "hues_downloads")]
    assert math.isnan(other["last_year"].iloc[0])


def test_rank_and_average_among_peers(month):
    districts = [u.code for u in load_registry().area_units(M)]
    view = kpis.unit_view(month, M, "478", districts).set_index("indicator")
    assert view.at["hues_downloads", "rank"] == 2 and view.at["hues_downloads", "ranked_among"] == 2
    assert view.at["hues_downloads", "peer_mean"] == 750
    # fewer communes without a team is better: 478 has none, 474 has one (19753)
    assert view.at["communes_without_team", "rank"] == 1
    # not a ranking indicator; and one where both are equal (sme_using_rate 25% and 25%)
    assert math.isnan(view.at["submissions_received", "rank"]) and math.isnan(view.at["sme_using_rate", "rank"])


def test_a_unit_view_takes_the_peer_figures_it_is_given(month):
    districts = [u.code for u in load_registry().area_units(M)]
    given = pd.DataFrame(
        {
            "unit": ["478", "474"],
            "indicator": ["hues_downloads", "hues_downloads"],
            "rank": [5.0, 1.0],
            "ranked_among": [9.0, 9.0],
            "peer_mean": [123.0, 123.0],
        }
    )
    view = kpis.unit_view(month, M, "478", districts, stats=given).set_index("indicator")
    assert view.at["hues_downloads", "rank"] == 5 and view.at["hues_downloads", "peer_mean"] == 123
    assert math.isnan(view.at["communes_without_team", "rank"])  # not in the figures given
    assert view.at["hues_downloads", "value"] == 500  # the unit's own figure, from the values


RULES = [
    kpis.Rule("not_submitted", "not_submitted"),
    kpis.Rule("late", "late"),
    kpis.Rule("processed", "below", "processed_rate", 95.0, ("area",)),
    kpis.Rule("reach", "below_share", "hues_penetration", 100.0, ("area",)),
    kpis.Rule("communes", "above", "communes_without_team", 0.0, ("area",)),
    kpis.Rule("hop", "platform_not_deployed", threshold=2.0),
]


def test_lagging_units_by_rule(month):
    types = {u.code: u.type for u in load_registry().reporting_units(M)}
    lag = kpis.lagging_units(month, M, types, RULES)
    by_rule = {rule: set(part["unit"]) for rule, part in lag.groupby("rule")}
    assert len(by_rule["not_submitted"]) == 27 and not {"474", "478", "snv"} & by_rule["not_submitted"]
    assert by_rule["late"] == {"478"}
    assert by_rule["processed"] == {"474"}  # 90% < 95%; 478 has 100%
    # the province's downloads per 100 people who were counted: 1.500 / 610.879 = 0,246; Huế 0,202,
    # Phú Vang 0,428
    assert by_rule["reach"] == {"474"}
    reach = lag[lag["rule"] == "reach"].iloc[0]
    assert reach["threshold"] == pytest.approx(1500 / REPORTED_POPULATION * 100)
    assert by_rule["communes"] == {"474"}  # 19753 reported no team; 478 none
    assert "hop" not in by_rule  # a platform rule names no unit


def test_lagging_platforms_and_platform_summary():
    rows = kpis.platform_rows(month_facts()[lambda f: f["month"] == M], CATALOG)
    types = {u.code: u.type for u in load_registry().reporting_units(M)}
    summary = kpis.platform_summary(rows, types).set_index("subject")
    assert summary.at["cq-hop", "not_deployed"] == 2 and summary.at["nd-hues", "in_use"] == 2
    assert summary.at["nd-hues", "lgsp"] == 1 and summary.at["nd-hues", "mau"] == 110
    assert summary.at["nd-hues", "mau_districts"] == 100 and summary.at["nd-hues", "mau_agencies"] == 10
    # Huế (a district) 500 accounts and 1.000 uses; Sở Nội vụ (an agency) 20 and 50, kept apart
    assert summary.at["nd-hues", "accounts_districts"] == 500 and summary.at["nd-hues", "accounts_agencies"] == 20
    assert summary.at["nd-hues", "uses_districts"] == 1000 and summary.at["nd-hues", "uses_agencies"] == 50
    assert summary.at["unmatched:ung dung x", "catalog"] == kpis.OUTSIDE_CATALOG
    lag = kpis.lagging_platforms(summary.reset_index(), RULES)
    assert list(lag["subject"]) == ["cq-hop"] and lag["not_deployed"].iloc[0] == 2
    assert rows.set_index(["unit", "subject"]).at[("478", "cq-hop"), "proposal"] == "Đề nghị hướng dẫn triển khai"


def test_progress_against_targets(month):
    targets = [
        kpis.Target("processed_rate", "Tỷ lệ phản ánh đã xử lý", 2022, 95.0, ">=", "%", False, "Chỉ tiêu của Sở"),
        kpis.Target("communes_without_team", "Xã chưa có tổ", 2022, 0.0, "<=", "đơn vị", False, "Chỉ tiêu của Sở"),
        kpis.Target(None, "Dân số có điện thoại thông minh", 2022, 85.0, ">=", "%", True, "QĐ 27"),
        kpis.Target("satisfaction", "Hài lòng", 2023, 80.0, ">=", "%", False, "Chỉ tiêu của Sở"),
    ]
    prog = kpis.progress(month, M, "tinh", targets).set_index("label")
    assert list(prog.index) == ["Tỷ lệ phản ánh đã xử lý", "Xã chưa có tổ", "Dân số có điện thoại thông minh"]
    assert prog.at["Tỷ lệ phản ánh đã xử lý", "progress"] == pytest.approx((140 / 150 * 100) / 95 * 100)
    assert prog.at["Tỷ lệ phản ánh đã xử lý", "met"] == False  # noqa: E712
    assert prog.at["Xã chưa có tổ", "value"] == 1 and prog.at["Xã chưa có tổ", "met"] == False  # noqa: E712
    assert prog.at["Dân số có điện thoại thông minh", "met"] is None
    # a unit's report leaves out the target the form does not measure
    assert "Dân số có điện thoại thông minh" not in set(kpis.progress(month, M, "474", targets)["label"])


def test_params_files_load_and_bad_ones_are_refused_naming_the_file(tmp_path):
    assert kpis.load_rules() and kpis.load_targets()
    official = [t for t in kpis.load_targets() if t.official]
    assert official and all("27/QĐ-UBQGCĐS" in t.source for t in official)
    bad = tmp_path / "lagging.yaml"
    bad.write_text("rules:\n  - kind: below\n    indicator: no_such\n    threshold: 1\n", encoding="utf-8")
    with pytest.raises(kpis.RulesError, match="lagging.yaml.*no_such"):
        kpis.load_rules(bad)
    bad.write_text("rules:\n  - kind: sometimes\n", encoding="utf-8")
    with pytest.raises(kpis.RulesError, match="kind"):
        kpis.load_rules(bad)
    targets = tmp_path / "targets.yaml"
    targets.write_text(
        "targets:\n  - indicator: coverage_rate\n    year: 2022\n    value: 100\n    source: x\n", encoding="utf-8"
    )
    with pytest.raises(kpis.RulesError, match="targets.yaml.*official"):
        kpis.load_targets(targets)


# --------------------------------------------------------------------------------------------
# Figures that mislead: a rejected row, the scope of LGSP, per-capita coverage, like for like.


def _phu_vang_teams(month, communes, teams=2, members=6):
    return [row for c in communes for row in team(month, "478", c, teams, members)]


@pytest.fixture(scope="module")
def rejected_row():
    """Phú Vang (478, 14 communes) reports every commune in June, 2 teams each; in July the row of
    its first commune was rejected (members fewer than teams), so July has facts for 13 communes."""
    communes = [c.code for c in load_registry().communes("478", M)]
    facts = pd.DataFrame(_phu_vang_teams(P, communes) + _phu_vang_teams(M, communes[1:]))
    submitted = pd.DataFrame({"month": [M, P], "unit": ["478", "478"]})
    base = kpis.base_table(facts, load_registry(), submitted, CATALOG, SCOPE)
    return communes, kpis.with_changes(kpis.compute(base))


def test_a_rejected_commune_row_is_missing_not_a_commune_without_team(rejected_row):
    communes, values = rejected_row
    assert len(communes) == 14
    assert value(values, "478", "communes_with_team") == 13
    assert value(values, "478", "communes_without_team") == 0  # not 1: the 14th is not known
    assert value(values, "478", "communes_no_data") == 1
    assert value(values, "tinh", "communes_without_team") == 0
    assert value(values, "tinh", "communes_no_data") == 141 - 13
    types = {u.code: u.type for u in load_registry().reporting_units(M)}
    lag = kpis.lagging_units(
        values, M, types, [kpis.Rule("communes", "above", "communes_without_team", 0.0, ("area",))]
    )
    assert lag.empty
    target = kpis.Target("communes_without_team", "Xã chưa có tổ", 2022, 0.0, "<=", "đơn vị", False, "Sở")
    prog = kpis.progress(values, M, "478", [target]).iloc[0]
    assert prog["met"] is None and prog["unknown"] == 1


def test_teams_change_compares_the_communes_present_in_both_months(rejected_row):
    _, values = rejected_row
    row = values[(values["month"] == M) & (values["unit"] == "478") & (values["indicator"] == "teams")].iloc[0]
    # July 13 × 2 = 26 against June 14 × 2 = 28: the raw difference −2 is the rejected row, not teams lost;
    # over the 13 communes in both months the teams did not change
    assert row["value"] == 26 and row["previous"] == 28
    assert row["change"] == 0
    province = values[(values["month"] == M) & (values["unit"] == "tinh") & (values["indicator"] == "teams")].iloc[0]
    assert province["change"] == 0


def test_lgsp_rate_covers_the_catalogs_named_in_params_only():
    # one government platform connected; an enterprise platform (e-invoices) in use, not connected
    catalog = pd.DataFrame(
        {
            "platform_id": ["cq-lgsp", "dn-hddt"],
            "catalog": ["chinh_quyen", "doanh_nghiep"],
            "name": ["LGSP", "Hóa đơn điện tử"],
        }
    )
    facts = pd.DataFrame(
        full_platform(M, "snv", "cq-lgsp", "dang_su_dung", lgsp=1)
        + full_platform(M, "snv", "dn-hddt", "dang_su_dung", lgsp=0)
    )
    submitted = pd.DataFrame({"month": [M], "unit": ["snv"]})
    government = kpis.compute(kpis.base_table(facts, load_registry(), submitted, catalog, SCOPE))
    assert value(government, "snv", "lgsp_rate") == 100.0  # 1/1, not 1/2
    assert value(government, "snv", "lgsp_deployments") == 1
    both = kpis.Scope(lgsp_catalogs=("chinh_quyen", "doanh_nghiep"))
    wider = kpis.compute(kpis.base_table(facts, load_registry(), submitted, catalog, both))
    assert value(wider, "snv", "lgsp_rate") == 50.0


def test_per_capita_figure_uses_the_reporting_units_population_and_a_coverage_threshold():
    # VNeID accounts reported by Nam Đông alone (27.004 people, 2,3% of the province)
    facts = pd.DataFrame(full_platform(M, "483", "nd-vneid", "dang_thu_nghiem", accounts=270))
    submitted = pd.DataFrame({"month": [M], "unit": ["483"]})
    catalog = pd.DataFrame({"platform_id": ["nd-vneid"], "catalog": ["nguoi_dan"], "name": ["VNeID"]})
    values = kpis.compute(kpis.base_table(facts, load_registry(), submitted, catalog, SCOPE))
    assert value(values, "483", "vneid_penetration") == pytest.approx(270 / 27_004 * 100)
    assert value(values, "tinh", "vneid_coverage") == pytest.approx(27_004 / DISTRICT_POPULATION * 100)
    assert math.isnan(value(values, "tinh", "vneid_penetration"))  # not 270 / 1.160.224
    lenient = kpis.compute(
        kpis.base_table(facts, load_registry(), submitted, catalog, kpis.Scope(min_population_coverage=0.0))
    )
    assert value(lenient, "tinh", "vneid_penetration") == pytest.approx(270 / 27_004 * 100)


def test_province_change_compares_the_units_present_in_both_months(month):
    row = month[(month["month"] == M) & (month["unit"] == "tinh") & (month["indicator"] == "hues_downloads")].iloc[0]
    # July 1.500 (Huế 1.000 + Phú Vang 500) against June 900 (Huế only): over Huế alone, +100, not +600
    assert row["value"] == 1500 and row["previous"] == 900 and row["change"] == 100
    assert row["change_pct"] == pytest.approx(100 / 900 * 100)


def test_scope_keys_of_targets_yaml_are_checked(tmp_path):
    scope = kpis.load_scope()
    assert scope.lgsp_catalogs == ("chinh_quyen",) and 0 < scope.min_population_coverage <= 100
    bad = tmp_path / "targets.yaml"
    bad.write_text("targets: []\nlgsp_catalogs: [hoa_don]\n", encoding="utf-8")
    with pytest.raises(kpis.RulesError, match="lgsp_catalogs"):
        kpis.load_targets(bad)
    bad.write_text("targets: []\ncoverage:\n  min_population: 120\n", encoding="utf-8")
    with pytest.raises(kpis.RulesError, match="min_population"):
        kpis.load_scope(bad)


def test_a_text_is_said_in_the_words_of_its_month_every_time_it_is_asked():
    text = "Số tổ của các huyện, thị xã, thành phố so với toàn tỉnh; UBND tỉnh giao"
    from dxreport.kpis.roles import era_text

    assert era_text(text, "2022-12") == text  # the words of 2022
    said = "Số tổ của các xã, phường so với toàn thành phố; UBND thành phố giao"
    assert era_text(text, "2026-11") == said
    assert era_text(text, "2026-11") == said  # asked again: the same words
    assert era_text("Huyện, thị xã, thành phố", "2026-11") == "Xã, phường"
