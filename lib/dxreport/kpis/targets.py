"""Targets and scope (params/targets.yaml), and a unit's progress towards the targets of the year."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dxreport.kpis.indicators import BY_NAME, CATALOG_KEYS, Frame
from dxreport.kpis.yamlcheck import _item_keys, _read_yaml, _text_or_empty
from dxreport.paramcheck import check_mapping
from dxreport.params import PARAMS_DIR, PROVINCE


@dataclass(frozen=True)
class Target:
    """A target: the value an indicator should reach in a year, and whose target it is."""

    indicator: str | None
    label: str
    year: int
    value: float
    comparison: str  # ">=" or "<="
    unit: str
    official: bool
    source: str
    note: str = ""


_TARGET_KEYS = ("indicator", "label", "year", "value", "comparison", "unit", "official", "source", "note")
_TARGET_REQUIRED = {
    "year": "năm, số nguyên",
    "value": "số, theo đơn vị của chỉ tiêu",
    "source": "văn bản đặt chỉ tiêu, hoặc “Chỉ tiêu của Sở”",
    "official": "true: chỉ tiêu công bố chính thức; false: chỉ tiêu của Sở",
}


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
            doc.fail(
                (*keys, "indicator"), f"{what}: chỉ tiêu {name!r} không có trong danh mục chỉ tiêu (dxreport.kpis)"
            )
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
            doc.fail(
                (*keys, "official"),
                f"{what}: official phải là true (chỉ tiêu công bố chính thức) hoặc false "
                f"(chỉ tiêu của Sở), không phải {item['official']!r}",
            )
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
        out.append(
            Target(
                indicator=name,
                label=label,
                year=year,
                value=float(value),
                comparison=comparison,
                unit=unit,
                official=item["official"],
                source=source,
                note=note,
            )
        )
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
    path = Path(path) if path else PARAMS_DIR / "targets.yaml"
    doc, _ = _read_yaml(path, "targets", _SCOPE_KEYS)
    data = doc.data if isinstance(doc.data, dict) else {}
    default = Scope()
    catalogs = data.get("lgsp_catalogs", list(default.lgsp_catalogs))
    if not isinstance(catalogs, list) or not catalogs or not set(catalogs) <= set(CATALOG_KEYS):
        doc.fail(
            ("lgsp_catalogs",), f"lgsp_catalogs là danh sách lấy từ {', '.join(CATALOG_KEYS)}, không phải {catalogs!r}"
        )
    coverage = check_mapping(doc, ("coverage",), ("min_population", "min_units"))
    population = _share(
        doc,
        ("coverage", "min_population"),
        coverage.get("min_population", default.min_population_coverage),
        "coverage.min_population",
    )
    units = _share(
        doc, ("coverage", "min_units"), coverage.get("min_units", default.min_unit_coverage), "coverage.min_units"
    )
    return Scope(tuple(catalogs), population, units)


# Indicators whose value covers only part of the area, and the indicator saying how much:
# a per-capita figure and the share of the population behind it; communes without a team and
# the communes with no valid figure.
COVERAGE_OF = {
    "ehealth_penetration": "ehealth_coverage",
    "vneid_penetration": "vneid_coverage",
    "hues_penetration": "hues_coverage",
}
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
            continue  # a target the form does not measure is shown once, in the province's report
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
            met = None  # met among the communes with valid figures; the others are not known
        coverage = float(part.get(COVERAGE_OF.get(t.indicator, ""), np.nan))
        rows.append(
            {
                "indicator": t.indicator,
                "label": t.label,
                "unit": t.unit,
                "year": t.year,
                "target": t.value,
                "comparison": t.comparison,
                "value": value,
                "progress": pct,
                "met": met,
                "official": t.official,
                "source": t.source,
                "note": t.note,
                "unknown": unknown,
                "coverage": coverage,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "indicator",
            "label",
            "unit",
            "year",
            "target",
            "comparison",
            "value",
            "progress",
            "met",
            "official",
            "source",
            "note",
            "unknown",
            "coverage",
        ],
    )
