"""Every indicator of the report, defined once: name, Vietnamese label, unit, formula, source.

Indicators are computed from the warehouse facts in two steps: `base_table` adds up the
submitted figures per unit and month following the form's adding-up rules (area figures of the
province are sums over the districts; rates are never added), then each `Indicator.compute`
turns the columns of that table into values, for every row at once. `with_changes` adds the
previous month, `with_year` the same month last year and the year to date.

Around the indicators: the units' peers (rank and average among districts or among agencies),
the lagging rules of params/lagging.yaml and the targets of params/targets.yaml, and the
platform rows (one per unit and platform) behind the per-platform tables.

Everything works on whole tables (groupby, merge), never one unit at a time, so that a month
of thousands of units costs about what a month of thirty does.

    indicators  Indicator, INDICATORS, the catalogs, statuses and sources; indicator(), definitions()
    values      compute, with_changes (like for like), with_year (last year, year to date)
    base        the base table from the facts, the submissions and the unit registry
    peers       a unit's view, its rank and its peers' mean
    platforms   the platform rows and the per-platform summary
    yamlcheck   RulesError and the strict reading shared by the two params files
    targets     Target, Scope and their loaders (params/targets.yaml), progress towards targets
    lagging     Rule and its loader (params/lagging.yaml), lagging units and platforms
"""

from dxreport.kpis.base import base_table, catalog_of
from dxreport.kpis.indicators import (
    BY_NAME,
    CATALOG_KEYS,
    CATALOG_LABELS,
    EHEALTH_PLATFORM,
    HUE_S,
    INDICATORS,
    INTAKE,
    OUTSIDE_CATALOG,
    PLATFORMS,
    REGISTRY,
    SME,
    STATUS_KEYS,
    TEAMS,
    VNEID_PLATFORM,
    Frame,
    Indicator,
    definitions,
    indicator,
)
from dxreport.kpis.lagging import Rule, lagging_platforms, lagging_units, load_rules
from dxreport.kpis.peers import peer_stats, peers_of, unit_view
from dxreport.kpis.platforms import PLATFORM_ROW_COLUMNS, platform_rows, platform_summary
from dxreport.kpis.targets import COVERAGE_OF, UNKNOWN_OF, Scope, Target, load_scope, load_targets, progress
from dxreport.kpis.values import compute, same_month_last_year, with_changes, with_year
from dxreport.kpis.yamlcheck import RulesError

__all__ = [
    "BY_NAME",
    "CATALOG_KEYS",
    "CATALOG_LABELS",
    "COVERAGE_OF",
    "EHEALTH_PLATFORM",
    "HUE_S",
    "INDICATORS",
    "INTAKE",
    "OUTSIDE_CATALOG",
    "PLATFORMS",
    "PLATFORM_ROW_COLUMNS",
    "REGISTRY",
    "SME",
    "STATUS_KEYS",
    "TEAMS",
    "UNKNOWN_OF",
    "VNEID_PLATFORM",
    "Frame",
    "Indicator",
    "Rule",
    "RulesError",
    "Scope",
    "Target",
    "base_table",
    "catalog_of",
    "compute",
    "definitions",
    "indicator",
    "lagging_platforms",
    "lagging_units",
    "load_rules",
    "load_scope",
    "load_targets",
    "peer_stats",
    "peers_of",
    "platform_rows",
    "platform_summary",
    "progress",
    "same_month_last_year",
    "unit_view",
    "with_changes",
    "with_year",
]
