import math

import pandas as pd
import pytest

from dxreport import kpis
from dxreport.units import load_registry


def fact(month, unit, sheet, metric, value=None, text=None, subject="", kind="unit"):
    return {"month": month, "unit": unit, "sheet": sheet, "subject_kind": kind, "subject": subject,
            "subject_name": subject, "metric": metric, "value": value, "text": text,
            "submission_id": f"{unit}-{month}", "cell": "B4"}


def hue_s(month, unit, downloads, accounts, received, processed, on_time, satisfaction):
    values = dict(downloads=downloads, accounts=accounts, reports_received=received,
                  reports_processed=processed, reports_on_time=on_time, satisfaction=satisfaction)
    return [fact(month, unit, "hue_s", k, v) for k, v in values.items()]


def team(month, unit, commune, teams, members):
    return [fact(month, unit, "to_cns", "teams", teams, subject=commune, kind="commune"),
            fact(month, unit, "to_cns", "members", members, subject=commune, kind="commune")]


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
    rows = (hue_s(m, "474", 1000, 600, 100, 90, 81, 80) + hue_s(m, "478", 500, 300, 50, 50, 45, 90)
            + hue_s(p, "474", 900, 500, 80, 80, 80, 70)
            + team(m, "474", "19750", 3, 12) + team(m, "474", "19753", 0, 0) + team(m, "478", "19927", 5, 20)
            + platform(m, "474", "nd-hues", "dang_su_dung", lgsp=1, mau=100)
            + platform(m, "474", "cq-lgsp", "dang_thu_nghiem")
            + platform(m, "474", "unmatched:ung dung x", "dang_su_dung")
            + platform(m, "snv", "nd-hues", "dang_su_dung", lgsp=0, mau=10)
            + platform(m, "snv", "cq-hop", "chua_trien_khai"))
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
    assert value(values, "tinh", "processed_rate") == pytest.approx(140 / 150 * 100)   # 93,3%
    assert value(values, "tinh", "on_time_rate") == pytest.approx(126 / 140 * 100)     # 90%
    # satisfaction weighted by processed reports: (80×90 + 90×50) / 140
    assert value(values, "tinh", "satisfaction") == pytest.approx((80 * 90 + 90 * 50) / 140)


def test_penetration_uses_the_province_population(values):
    assert value(values, "tinh", "hues_penetration") == pytest.approx(1500 / 1_160_224 * 100)
    assert value(values, "478", "hues_penetration") == pytest.approx(500 / 116_809 * 100)


def test_month_on_month(values):
    assert value(values, "474", "hues_downloads_month") == 100
    row = values[(values["month"] == "2022-07") & (values["unit"] == "474") & (values["indicator"] == "hues_downloads")]
    assert row["previous"].iloc[0] == 900 and row["change"].iloc[0] == 100
    assert row["change_pct"].iloc[0] == pytest.approx(100 / 900 * 100)


def test_teams_and_communes(values):
    huế_communes = len(load_registry().communes_of("474"))
    assert value(values, "474", "communes_with_team") == 1
    assert value(values, "474", "communes_without_team") == huế_communes - 1
    assert value(values, "tinh", "communes_without_team") == 141 - 2
    assert value(values, "474", "teams_per_commune") == pytest.approx(3 / huế_communes)


def test_coverage(values):
    assert value(values, "tinh", "submissions_received") == 3
    assert value(values, "tinh", "submissions_expected") == 30
    assert value(values, "tinh", "coverage_rate") == pytest.approx(10.0)
    assert value(values, "476", "submissions_received") == 0


def test_platform_counts_distinct_across_units(values):
    assert value(values, "tinh", "platforms_in_use") == 2          # nd-hues (twice) + the unmatched one
    assert value(values, "tinh", "platforms_trial") == 1
    assert value(values, "tinh", "platforms_not_deployed") == 1
    assert value(values, "tinh", "platforms_lgsp") == 1
    assert value(values, "tinh", "platform_mau") == 110
    assert value(values, "tinh", "platforms_unmatched") == 1
    assert value(values, "snv", "platforms_in_use") == 1


def test_area_indicators_are_not_given_to_agencies(values):
    agency = values[(values["unit"] == "snv")]
    assert "hues_downloads" not in set(agency["indicator"])


def test_unreported_stays_empty_not_zero(values):
    assert math.isnan(value(values, "476", "hues_downloads"))
    assert math.isnan(value(values, "478", "hues_downloads_month"))   # no June figure for 478


def test_a_status_not_reported_counts_zero_once_platforms_are_reported(values):
    assert value(values, "474", "platforms_not_deployed") == 0
    assert value(values, "474", "platforms_unmatched") == 1
    assert math.isnan(value(values, "476", "platforms_in_use"))     # 476 sent nothing
