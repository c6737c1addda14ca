"""The report's context: what one unit's report of one month reads from the warehouse, and where
its files go (the runner's staging folder, the unit's folder, or the scratch folder by hand)."""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path

import pandas as pd

from dxreport import kpis, narrative, store
from dxreport.hashcache import file_identity
from dxreport.params import (
    PARAMS_DIR,
    PROVINCE,
    SCRATCH_DIR,
    ParamError,
    RunParams,
    issuer_on,
    load_settings,
    previous_month,
    validate_run,
)
from dxreport.publish import STAGING
from dxreport.warehouse import identity as warehouse_identity
from dxreport.units import Registry, load_registry

#: The role kpis gives a unit that reports for an area (a district until 2025-06, a commune-level
#: unit from 2025-07). The one place where the report names that role for kpis.
AREA = "area"
#: The columns kpis.with_changes and kpis.with_year give on the basis of a comparison.
BASIS_COLUMNS = ("previous_basis", "previous_uncertain", "last_year_basis", "last_year_uncertain")
#: Registry type -> role of a reporting unit.
ROLES = {"province": "province", "district": AREA, "commune": AREA, "agency": "agency"}


@dataclass
class Context:
    """Everything a report for one unit and month needs, read once from the warehouse."""

    run: RunParams
    registry: Registry
    settings: dict
    values: pd.DataFrame  # every indicator, unit and month, with changes and the year
    submissions: pd.DataFrame  # the month's submissions
    issues: pd.DataFrame  # the month's validation issues
    facts: pd.DataFrame  # the month's facts
    catalog: pd.DataFrame
    snapshot_date: str
    is_sample: bool
    targets: list = field(default_factory=list)
    rules: list = field(default_factory=list)
    changes: pd.DataFrame | None = None  # catalog_changes of the month; None: no such table
    fetches: pd.DataFrame | None = None  # catalog_fetches of the month; None: no such table
    extra: dict = field(default_factory=dict)
    dest: Path | None = None  # where kpis.csv and the annex are written; None: the unit's folder
    # what load read for the whole month, shared by the month's reports; None: made by hand
    month_data: _MonthData | None = field(default=None, repr=False, compare=False)

    @property
    def month(self) -> str:
        return self.run.month

    @property
    def unit(self) -> str:
        return self.run.unit

    @property
    def is_province(self) -> bool:
        return self.unit == PROVINCE

    @property
    def unit_name(self) -> str:
        return self.registry.get(self.unit, self.month).name

    @property
    def province_unit(self):
        """The province-level unit of the month (tỉnh Thừa Thiên Huế, then thành phố Huế)."""
        return self.registry.province(self.month)

    @property
    def province_word(self) -> str:
        """`tỉnh` until 2024, `thành phố` from 2025."""
        return self.registry.kind_word(self.province_unit.kind) or "tỉnh"

    @property
    def province_title(self) -> str:
        """The province inside a sentence: `tỉnh Thừa Thiên Huế`, `thành phố Huế`."""
        return self.registry.in_sentence(self.province_unit)

    @property
    def whole(self) -> str:
        """The whole province inside a sentence: `toàn tỉnh`, `toàn thành phố`."""
        return f"toàn {self.province_word}"

    @property
    def whole_title(self) -> str:
        """`Toàn tỉnh`, `Toàn thành phố`: the total row of a table."""
        return _upper_first(self.whole)

    @property
    def within(self) -> str:
        """`các đơn vị trong tỉnh`, `các đơn vị trong thành phố`."""
        return f"các đơn vị trong {self.province_word}"

    @property
    def area_kinds(self) -> str:
        """The kinds of the month's area units: `huyện, thị xã, thành phố`, `xã, phường`."""
        return self.registry.area_kinds(self.month)

    @property
    def area_level(self) -> str:
        """`district` or `commune`: the level of the month's area units."""
        return self.registry.area_level(self.month)

    @property
    def areas_short(self) -> str:
        """The area units in a few words: `các huyện` (until 2025-06), `các xã, phường`."""
        if self.area_level == "commune":
            return f"các {self.area_kinds}"
        return f"các {self.registry.level_word('district') or 'huyện'}"

    @property
    def agency_kind(self) -> str:
        """`cơ quan cấp tỉnh`, `cơ quan cấp thành phố`."""
        return f"cơ quan cấp {self.province_word}"

    @property
    def ministry(self) -> str:
        """The ministry in charge of digital platforms and of their catalogs in the month: the
        ministry among the recipients of the issuer then (Bộ Thông tin và Truyền thông, from
        2025-03 Bộ Khoa học và Công nghệ)."""
        issuers = self.settings.get("report", {}).get("issuers") or [{"from": "", "recipients": []}]
        recipients = issuer_on(issuers, date.fromisoformat(self.month + "-01"))["recipients"]
        return next((r for r in recipients if r.startswith("Bộ ")), "Bộ Khoa học và Công nghệ")

    @property
    def ministry_short(self) -> str:
        """The ministry abbreviated as the report writes it: `Bộ TT&TT`, `Bộ KH&CN`."""
        parts = self.ministry.removeprefix("Bộ ").split(" và ")
        return "Bộ " + "&".join("".join(w[:1].upper() for w in p.split()) for p in parts)

    @property
    def commune_kinds(self) -> str:
        """The kinds of the month's commune-level units: `xã, phường, thị trấn`, `xã, phường`."""
        present = {u.kind for u in self.registry.units if u.type == "commune" and u.valid_in(self.month)}
        words = self.registry.words.kinds
        return ", ".join(w for k, w in words.items() if k in present and w) or "xã, phường, thị trấn"

    @property
    def committee(self) -> str:
        """The province's People's Committee inside a sentence: `UBND tỉnh`, `UBND thành phố`."""
        return f"UBND {self.province_word}"

    @property
    def places(self) -> narrative.Places:
        """The words of the month's map for the sentences of dxreport.narrative."""
        return narrative.Places(
            whole=self.whole,
            areas=self.areas_short,
            area_kinds=self.area_kinds,
            communes=self.commune_kinds,
            agencies=self.agency_kind,
            committee=self.committee,
            within=self.within,
            indicator=self.indicator,
            ministry=self.ministry_short,
        )

    @property
    def area(self) -> str:
        """How the text names the unit's area: `toàn tỉnh` or the unit's name."""
        return self.whole if self.is_province else self.unit_name

    @property
    def unit_level(self) -> str:
        """The unit's registry type: province, district, commune or agency."""
        return self.registry.get(self.unit, self.month).type

    @property
    def unit_type(self) -> str:
        """The unit's role: province, AREA (a unit reporting for an area) or agency."""
        return ROLES.get(self.unit_level, self.unit_level)

    @property
    def is_area(self) -> bool:
        """The province or an area unit: the units with Hue-S, teams and enterprises."""
        return self.unit_type in ("province", AREA)

    @property
    def is_commune(self) -> bool:
        """A commune-level unit that reports for its own area (from 2025-07)."""
        return self.unit_level == "commune"

    def indicator(self, name: str):
        """The indicator with the words of the month's map (kpis.indicator)."""
        ind = kpis.indicator(name)
        return replace(
            ind,
            label=ind.label_in(self.month, self.registry),
            formula=ind.formula_in(self.month, self.registry),
        )

    @cached_property
    def peers(self) -> tuple[list[str], str]:
        """The units this unit is ranked among, and how the text names them (`huyện, thị xã,
        thành phố`, `xã, phường`, `cơ quan cấp tỉnh`)."""
        codes, _ = kpis.peers_of(self.registry, self.month, self.unit)
        if not codes:
            return codes, ""
        return codes, self.agency_kind if self.unit_type == "agency" else self.area_kinds

    @cached_property
    def view(self) -> pd.DataFrame:
        """This unit's indicators this month (with rank and peer average for a unit), labelled in
        the words of the month, with the basis of each comparison when the values have one."""
        peers = self.peers[0] or None
        stats = None
        if peers:
            stats = self._of_month(("peer_stats", *peers), lambda d: kpis.peer_stats(d.values, self.month, peers))
        view = kpis.unit_view(self.values, self.month, self.unit, peers, stats=stats)
        if view.empty:
            return view
        view["label"] = [self.indicator(n).label for n in view["indicator"]]
        here = self.values[(self.values["month"] == self.month) & (self.values["unit"] == self.unit)]
        here = here.drop_duplicates("indicator").set_index("indicator")
        for column in BASIS_COLUMNS:
            if column in here and column not in view:
                view[column] = view["indicator"].map(here[column]).to_numpy()
        return view

    @cached_property
    def names(self) -> dict[str, str]:
        """Unit code -> name, the province included."""
        names = {u.code: u.name for u in self.registry.units if u.valid_in(self.month)}
        names[PROVINCE] = self.whole_title
        return names

    @cached_property
    def unit_types(self) -> dict[str, str]:
        """The month's reporting units -> their role (AREA or 'agency')."""
        return {u.code: ROLES[u.type] for u in self.registry.reporting_units(self.month)}

    @cached_property
    def platforms(self) -> pd.DataFrame:
        """The month's platform rows of every unit (kpis.platform_rows)."""
        return self._of_month("platforms", lambda d: kpis.platform_rows(d.facts, d.catalog))

    @cached_property
    def lagging_units(self) -> pd.DataFrame:
        return self._of_month(
            "lagging_units", lambda d: kpis.lagging_units(d.values, self.month, self.unit_types, d.rules)
        )

    @cached_property
    def lagging_platforms(self) -> pd.DataFrame:
        def compute(data) -> pd.DataFrame:
            summary = kpis.platform_summary(kpis.platform_rows(data.facts, data.catalog), self.unit_types)
            return kpis.lagging_platforms(summary, data.rules)

        return self._of_month("lagging_platforms", compute)

    @property
    def scope(self) -> kpis.Scope:
        """The scope keys of params/targets.yaml (kpis.load_scope)."""
        return self._of_month("scope", lambda _: kpis.load_scope())

    def _of_month(self, name: Hashable, compute):
        """`compute(data)`, the same for every unit of the month: computed once per month in this
        process from what load read (each context gets its own copy of a frame), or from this
        context when it was not made by load."""
        data = self.month_data
        if data is None:
            return compute(self)
        if name not in data.derived:
            data.derived[name] = compute(data)
        value = data.derived[name]
        return value.copy(deep=False) if isinstance(value, pd.DataFrame) else value

    @cached_property
    def progress(self) -> pd.DataFrame:
        return kpis.progress(self.values, self.month, self.unit, self.targets)

    @property
    def out_dir(self) -> Path:
        return self.dest if self.dest is not None else self.run.outputs / self.month / self.unit


def load(
    month: str, unit: str, *, inbox: str = "", outputs: str = "", stage: str = "", report_date: str = ""
) -> Context:
    """Validate the parameters and read the month from the warehouse (read-only).

    `report_date` (YYYY-MM-DD or empty) is the date printed under the motto (see signing_date).

    Where the files go: `stage` (the runner's staging folder for this report, which must lie in
    outputs/<month>/.staging/); else the unit's folder of `outputs`. Without `outputs` (a notebook
    run by hand) nothing published is touched: the published warehouse is read when it holds the
    month (else the scratch one), and the files go to outputs/_scratch/<month>/<unit>/.
    """
    run = validate_run(
        {
            "month": month,
            "unit": unit,
            "inbox": inbox or None,
            "outputs": outputs or None,
            "report_date": report_date or None,
        }
    )
    dest = None
    if stage:
        if not outputs or not Path(stage).resolve().is_relative_to((run.outputs / run.month / STAGING).resolve()):
            raise ParamError(f"thư mục tạm {stage!r} không thuộc {run.outputs / run.month / STAGING}")
        dest = Path(stage)
    elif not outputs:
        dest = SCRATCH_DIR / run.month / run.unit
        if not store.holds_month(store.warehouse_path(run.outputs), run.month):
            run = replace(run, outputs=SCRATCH_DIR)
    registry = load_registry()
    month_data = _month_data(store.warehouse_path(run.outputs), run.month, registry)
    return Context(
        run=run,
        registry=registry,
        settings=copy.deepcopy(month_data.settings),
        values=month_data.values.copy(deep=False),
        submissions=month_data.submissions.copy(deep=False),
        issues=month_data.issues.copy(deep=False),
        facts=month_data.facts.copy(deep=False),
        catalog=month_data.catalog.copy(deep=False),
        snapshot_date=month_data.snapshot_date,
        is_sample=month_data.is_sample,
        targets=list(month_data.targets),
        rules=list(month_data.rules),
        changes=None if month_data.changes is None else month_data.changes.copy(deep=False),
        fetches=None if month_data.fetches is None else month_data.fetches.copy(deep=False),
        dest=dest,
        month_data=month_data,
    )


@dataclass(frozen=True)
class _MonthData:
    """What every report of a month reads alike: the warehouse's month and the params files."""

    values: pd.DataFrame
    submissions: pd.DataFrame
    issues: pd.DataFrame
    facts: pd.DataFrame
    catalog: pd.DataFrame
    changes: pd.DataFrame | None
    fetches: pd.DataFrame | None
    registry: Registry
    settings: dict
    targets: tuple
    rules: tuple
    snapshot_date: str
    is_sample: bool
    derived: dict = field(default_factory=dict)  # what Context._of_month computed from it


#: The months read last in this process (a warm kernel renders the reports of a month one after
#: another), keyed by the identity of the warehouse file, the month and the params files read.
_MONTHS: OrderedDict[tuple, _MonthData] = OrderedDict()
_MONTHS_KEPT = 2
#: The params files a month's reading depends on (settings, targets, rules and the registry).
_PARAMS_FILES = ("settings.yaml", "targets.yaml", "lagging.yaml", "units.csv", "crosswalk.csv", "levels.yaml")


def _month_key(warehouse: Path, month: str) -> tuple:
    params = tuple(_frozen(file_identity(PARAMS_DIR / name)) for name in _PARAMS_FILES)
    return (str(warehouse.resolve()), _frozen(warehouse_identity(warehouse)), month, str(PARAMS_DIR), params)


def _frozen(identity: list | None) -> tuple | None:
    """A file identity (nested lists) as a key of the memo."""
    if identity is None:
        return None
    return tuple(_frozen(part) if isinstance(part, list) else part for part in identity)


def _month_data(warehouse: Path, month: str, registry: Registry) -> _MonthData:
    """The month's data, read from the warehouse once per process while nothing it depends on changes."""
    key = _month_key(warehouse, month)
    data = _MONTHS.get(key)
    if data is not None and data.registry is registry:
        _MONTHS.move_to_end(key)
        return data
    data = _read_month(warehouse, month, registry)
    if key[1] is not None:
        _MONTHS[key] = data
        while len(_MONTHS) > _MONTHS_KEPT:
            _MONTHS.popitem(last=False)
    return data


def _read_month(warehouse: Path, month: str, registry: Registry) -> _MonthData:
    with store.connect(warehouse, read_only=True) as con:
        values = store.indicators_frame(con)
        submissions = store.submissions_frame(con, month)
        issues = store.issues_frame(con, month)
        facts = store.facts_frame(con, [month])
        # the earlier months' rows, for figures rebuilt through the crosswalk
        before = store.facts_frame(con, [previous_month(month), kpis.same_month_last_year(month)])
        catalog = con.execute("SELECT * FROM catalog ORDER BY catalog, name").df()
        changes = store.month_rows(con, "catalog_changes", month)
        fetches = store.month_rows(con, "catalog_fetches", month)
    accepted = submissions[submissions["status"] == "accepted"]
    snapshot = pd.Timestamp(catalog["snapshot_date"].max()).strftime("%d/%m/%Y") if not catalog.empty else ""
    return _MonthData(
        values=kpis.with_year(values, registry, pd.concat([before, facts], ignore_index=True)),
        submissions=submissions,
        issues=issues,
        facts=facts,
        catalog=catalog,
        changes=changes,
        fetches=fetches,
        registry=registry,
        settings=load_settings(),
        targets=tuple(kpis.load_targets()),
        rules=tuple(kpis.load_rules()),
        snapshot_date=snapshot,
        is_sample=bool(accepted["is_sample"].any()),
    )


def _scope(ctx: Context) -> kpis.Scope:
    """The scope keys of params/targets.yaml (kpis.load_scope), read once per context."""
    if "scope" not in ctx.extra:
        ctx.extra["scope"] = ctx.scope
    return ctx.extra["scope"]


def _area(ctx: Context) -> str:
    """The unit's area as written inside a sentence: 'toàn tỉnh', 'huyện Phú Vang'."""
    return ctx.whole if ctx.is_province else narrative.in_sentence(ctx.unit_name)


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
