"""Every indicator of the report, defined once: name, Vietnamese label, unit, formula, source.

Indicators are computed from the warehouse facts in two steps: `base_table` adds up the
submitted figures per unit and month following the form's adding-up rules (area figures of the
province are sums over the area units; rates are never added), then each `Indicator.compute`
turns the columns of that table into values, for every row at once. `with_changes` adds the
previous month, `with_year` the same month last year and the year to date.

Units are taken by role, never by level: `area` (the units that report for an area: districts
until 2025-06, communes from 2025-07), `agency`, and the province `tinh`. Two months are never
joined on a code alone: a unit is compared only with itself (the registry's `same_unit`), and an
area unit whose area changed gets its `Tổ công nghệ số` sums of the other month rebuilt from the
old communes' rows; its other figures are not comparable (columns `previous_basis`,
`last_year_basis`). Labels and formulas are said with the words of the month (`label_in`,
`formula_in`, `definitions(month)`), the 2022 texts unchanged in 2022.

Around the indicators: the units' peers (rank and average among the units of the same role in
the month), the lagging rules of params/lagging.yaml and the targets of params/targets.yaml, and
the platform rows (one per unit and platform) behind the per-platform tables.

Everything works on whole tables (groupby, merge), never one unit at a time, so that a month
of thousands of units costs about what a month of thirty does.

    indicators  Indicator, INDICATORS, the catalogs, statuses and sources; indicator(), definitions()
    roles       the roles (area, agency, province), the month's words (era_text, peers_name)
    compare     comparisons across months through the registry: same unit, rebuilt team sums
    values      compute, with_changes (like for like), with_year (last year, year to date)
    base        the base table from the facts, the submissions and the unit registry
    peers       a unit's view, its rank and its peers' mean
    platforms   the platform rows and the per-platform summary
    yamlcheck   RulesError and the strict reading shared by the two params files
    targets     Target, Scope and their loaders (params/targets.yaml), progress towards targets
    lagging     Rule and its loader (params/lagging.yaml), lagging units and platforms
"""

from dxreport.kpis.base import base_table, catalog_of
from dxreport.kpis.compare import NOT_COMPARABLE, REBUILT, SAME, TEAM_SUMS
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
from dxreport.kpis.roles import AGENCY, AREA, ROLES, area_words, era_text, peers_name, role_of, unit_roles
from dxreport.kpis.targets import COVERAGE_OF, UNKNOWN_OF, Scope, Target, load_scope, load_targets, progress
from dxreport.kpis.values import compute, previous_basis, same_month_last_year, with_changes, with_year
from dxreport.kpis.yamlcheck import RulesError

__all__ = [
    "AGENCY",
    "AREA",
    "BY_NAME",
    "CATALOG_KEYS",
    "CATALOG_LABELS",
    "COVERAGE_OF",
    "EHEALTH_PLATFORM",
    "HUE_S",
    "INDICATORS",
    "INTAKE",
    "NOT_COMPARABLE",
    "OUTSIDE_CATALOG",
    "PLATFORMS",
    "PLATFORM_ROW_COLUMNS",
    "REBUILT",
    "REGISTRY",
    "ROLES",
    "SAME",
    "SME",
    "STATUS_KEYS",
    "TEAMS",
    "TEAM_SUMS",
    "UNKNOWN_OF",
    "VNEID_PLATFORM",
    "Frame",
    "Indicator",
    "Rule",
    "RulesError",
    "Scope",
    "Target",
    "area_words",
    "base_table",
    "catalog_of",
    "compute",
    "definitions",
    "era_text",
    "indicator",
    "lagging_platforms",
    "lagging_units",
    "load_rules",
    "load_scope",
    "load_targets",
    "peer_stats",
    "peers_name",
    "peers_of",
    "platform_rows",
    "platform_summary",
    "previous_basis",
    "progress",
    "role_of",
    "same_month_last_year",
    "unit_roles",
    "unit_view",
    "with_changes",
    "with_year",
]
