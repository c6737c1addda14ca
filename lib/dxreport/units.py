"""The units registry (params/units.csv): codes, names, type, parent, sections, population."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from dxreport.paths import PARAMS_DIR, shown_path
from dxreport.textnorm import fold, nfc

TYPES = ("province", "district", "commune", "agency")
#: Administrative levels, highest first: a unit's type is its level, agencies stand apart.
LEVELS = ("province", "district", "commune")
_FIELDS = (
    "code",
    "name",
    "short_name",
    "type",
    "kind",
    "parent",
    "sections",
    "population",
    "population_year",
    "valid_from",
    "valid_to",
    "source",
)
#: Columns a file may leave out (empty in every row).
_OPTIONAL_FIELDS = ("change", "successor")
#: Column change: how a row follows the code's row before it.
CHANGES = ("doi_ten", "sap_xep")


class RegistryError(ValueError):
    """params/units.csv is not valid."""


@dataclass(frozen=True)
class Unit:
    """One unit of the registry, as it was from `valid_from` to `valid_to`.

    A code may have several rows with periods that do not overlap: the same unit under a new
    name or kind, or a code reused for another place (474 was thành phố Huế until 2024, then
    quận Thuận Hóa). Within one month a code names one unit.
    """

    code: str
    name: str
    short_name: str
    type: str
    kind: str
    parent: str
    sections: tuple[str, ...]
    population: int | None
    population_year: int | None
    valid_from: str
    valid_to: str
    source: str
    change: str = ""
    successor: tuple[str, ...] = ()

    def valid_in(self, month: str) -> bool:
        """True if the unit exists during `month` (YYYY-MM)."""
        start = self.valid_from[:7] if self.valid_from else "0000-00"
        end = self.valid_to[:7] if self.valid_to else "9999-99"
        return start <= month <= end

    @property
    def key(self) -> str:
        """The row's identity: code and first day (`474@2025-01-01`)."""
        return f"{self.code}@{self.valid_from}"


@dataclass(frozen=True)
class Change:
    """One row of params/crosswalk.csv: on `date` the commune-level unit `from_code` (valid the
    day before) became part of `to_code` (valid from `date`)."""

    date: str
    from_code: str
    to_code: str
    uncertain: bool
    note: str


@dataclass(frozen=True)
class Words:
    """The words for kinds and levels (params/levels.yaml)."""

    kinds: dict[str, str]
    levels: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Registry:
    """All units with their periods, the crosswalk between periods and the words for levels.

    Every look-up takes the month: what a code means, which units report, who belongs to whom
    all depend on it.
    """

    units: tuple[Unit, ...]
    changes: tuple[Change, ...] = ()
    words: Words = field(default_factory=lambda: Words({}, {}))

    # --- one unit -------------------------------------------------------------------------
    def get(self, code: str, month: str | None = None) -> Unit:
        """The unit with this code in `month`; KeyError if none. Without a month the code must
        have one row only (LookupError when it was reused)."""
        rows = self.rows(code)
        if month is None:
            if len(rows) > 1:
                raise LookupError(f"mã {code} dùng cho {len(rows)} đơn vị ở các thời kỳ khác nhau; cần chỉ rõ tháng")
            if rows:
                return rows[0]
        else:
            for unit in rows:
                if unit.valid_in(month):
                    return unit
        raise KeyError(code)

    def rows(self, code: str) -> list[Unit]:
        """Every row of a code, oldest first."""
        return list(self._by_code.get(str(code), ()))

    @cached_property
    def _by_code(self) -> dict[str, tuple[Unit, ...]]:
        found: dict[str, list[Unit]] = {}
        for unit in self.units:
            found.setdefault(unit.code, []).append(unit)
        return {code: tuple(sorted(rows, key=lambda u: u.valid_from)) for code, rows in found.items()}

    @cached_property
    def _memo(self) -> dict:
        """Answers already worked out (the registry never changes once read)."""
        return {}

    def _remember(self, key: tuple, work):
        memo = self._memo
        if key not in memo:
            memo[key] = work()
        return memo[key]

    def name_of(self, code: str, month: str | None = None) -> str:
        """The unit's name in `month` (without one, or when the code names nothing then: its
        latest name); the code itself when it is not in the registry."""
        rows = self.rows(code)
        now = [u for u in rows if month and u.valid_in(month)]
        return (now or rows or [None])[-1].name if rows else str(code)

    def has(self, code: str, month: str) -> bool:
        """True if the code names a unit in `month`."""
        return any(u.valid_in(month) for u in self.rows(code))

    def __contains__(self, code: object) -> bool:
        return str(code) in self._remember(("codes",), lambda: frozenset(u.code for u in self.units))

    # --- levels ---------------------------------------------------------------------------
    def province(self, month: str) -> Unit:
        """The province-level unit of `month` (tỉnh Thừa Thiên Huế, then thành phố Huế)."""
        for unit in self.units:
            if unit.type == "province" and unit.valid_in(month):
                return unit
        raise KeyError(f"province in {month}")

    def children(self, code: str, month: str) -> list[Unit]:
        """The administrative units directly under `code` in `month` (agencies excepted)."""
        return [u for u in self.units if u.parent == str(code) and u.type in LEVELS and u.valid_in(month)]

    def area_units(self, month: str) -> list[Unit]:
        """The units that report for an area in `month`: those directly under the province
        (districts until 2025-06, communes from 2025-07)."""
        return list(self._remember(("area", month), lambda: tuple(self.children(self.province(month).code, month))))

    def agencies(self, month: str) -> list[Unit]:
        """The agencies that report in `month`."""
        return [u for u in self.units if u.type == "agency" and u.valid_in(month)]

    def reporting_units(self, month: str) -> list[Unit]:
        """Units that send a monthly submission in `month`: area units first, then agencies."""
        return self.area_units(month) + self.agencies(month)

    def is_area(self, code: str, month: str) -> bool:
        """True if `code` is an area unit in `month`."""
        return any(u.code == str(code) for u in self.area_units(month))

    def communes(self, code: str, month: str) -> list[Unit]:
        """The commune-level units of an area unit in `month`: its children, or the unit itself
        when it is a commune (the rows of its `Tổ công nghệ số` sheet)."""
        unit = self.get(code, month)
        if unit.type == "commune":
            return [unit]
        return [c for c in self.children(unit.code, month) if c.type == "commune"]

    def find_commune(self, code: str, name: str, month: str) -> list[Unit]:
        """Communes of area unit `code` in `month` whose name matches `name` (folded; with or
        without its kind)."""
        key = fold(name)
        return [u for u in self.communes(code, month) if key in (fold(u.name), fold(u.short_name))]

    # --- words ----------------------------------------------------------------------------
    def kind_word(self, kind: str) -> str:
        """The word of a kind inside a sentence: `huyện`, `thị xã`, `phường`."""
        return self.words.kinds.get(kind, "")

    def level_word(self, level: str, which: str = "short") -> str:
        """A level's word from params/levels.yaml: `short` (`huyện`), `level` (`cấp huyện`)."""
        return self.words.levels.get(level, {}).get(which, "")

    def area_kinds(self, month: str) -> str:
        """The kinds of the month's area units, in the order of params/levels.yaml:
        `huyện, thị xã, thành phố` (2022), `xã, phường` (from 2025-07)."""
        present = {u.kind for u in self.area_units(month)}
        return ", ".join(word for kind, word in self.words.kinds.items() if kind in present and word)

    def area_level(self, month: str) -> str:
        """The level of the month's area units (`district` or `commune`)."""
        types = {u.type for u in self.area_units(month)}
        return types.pop() if len(types) == 1 else "district"

    def in_sentence(self, unit: Unit) -> str:
        """A unit's name inside a sentence: `huyện Phú Vang`, `tỉnh Thừa Thiên Huế`, `phường Phú
        Xuân`; an agency as it is."""
        word = self.kind_word(unit.kind)
        if unit.type == "agency" or not word:
            return unit.name
        if fold(unit.name).startswith(fold(word) + " "):
            return word + unit.name[len(word) :]
        return f"{word} {unit.short_name or unit.name}"

    # --- across periods -------------------------------------------------------------------
    def forward(self, code: str, month: str, later: str) -> tuple[str | None, bool]:
        """The commune-level unit of `later` that commune `code` of `month` lies in, and whether
        a step on the way is uncertain. (None, …) when the crosswalk does not say."""
        uncertain = False
        steps = self._steps
        for day in sorted({day for day, _ in steps}):
            if month < day[:7] <= later:
                step = steps.get((day, code))
                if step is None:
                    return None, uncertain
                code, uncertain = step.to_code, uncertain or step.uncertain
        return code, uncertain

    @cached_property
    def _steps(self) -> dict[tuple[str, str], Change]:
        return {(c.date, c.from_code): c for c in self.changes}

    def predecessors(self, code: str, month: str, earlier: str) -> tuple[list[Unit], bool]:
        """The commune-level units of `earlier` that lie in unit `code` of `month` (through
        params/crosswalk.csv), and whether any of them is an uncertain row."""
        found, uncertain = self._remember(
            ("pred", code, month, earlier), lambda: self._predecessors(code, month, earlier)
        )
        return list(found), uncertain

    def _predecessors(self, code: str, month: str, earlier: str) -> tuple[tuple[Unit, ...], bool]:
        mine = {c.code for c in self.communes(code, month)}
        found = [(c, unsure) for c, (target, unsure) in self._forward_units(earlier, month) if target in mine]
        return tuple(c for c, _ in found), any(unsure for _, unsure in found)

    def forward_map(self, earlier: str, later: str) -> dict[str, tuple[str | None, bool]]:
        """Every commune-level unit of `earlier` (in the area units' order) → `forward` to `later`."""
        return {c.code: step for c, step in self._forward_units(earlier, later)}

    def _forward_units(self, earlier: str, later: str) -> tuple[tuple[Unit, tuple[str | None, bool]], ...]:
        return self._remember(
            ("forward", earlier, later),
            lambda: tuple(
                (c, self.forward(c.code, earlier, later))
                for area in self.area_units(earlier)
                for c in self.communes(area.code, earlier)
            ),
        )

    def same_unit(self, code: str, month: str, other: str) -> bool:
        """True if `code` names the same unit with the same area in `month` and `other`: the
        same row, the province, the same agency under the same name, or an area unit whose
        communes are exactly those it had."""
        return self._remember(("same", str(code), month, other), lambda: self._same_unit(str(code), month, other))

    def _same_unit(self, code: str, month: str, other: str) -> bool:
        try:
            a, b = self.get(code, month), self.get(code, other)
        except KeyError:
            return False
        if a == b or (a.type == b.type == "province"):
            return True
        if a.type != b.type:
            return False
        if a.type == "agency":
            # renamed rows (change doi_ten) continue the agency; a reorganised one does not
            rows = self.rows(code)
            first, last = sorted((rows.index(a), rows.index(b)))
            return all(r.change == "doi_ten" for r in rows[first + 1 : last + 1])
        early, late = sorted([(month, a), (other, b)], key=lambda p: p[0])
        before, _ = self.predecessors(late[1].code, late[0], early[0])
        return {c.code for c in before} == {c.code for c in self.communes(early[1].code, early[0])}

    def successors(self, code: str, month: str) -> tuple[str, list[Unit]] | None:
        """For a code that reported before and names no reporting unit in `month`: the day its
        last period ended + 1 and the area units of `month` that now hold its communes. None
        when the code never reported or still does."""
        if any(u.code == str(code) for u in self.reporting_units(month)):
            return None
        past = [u for u in self.rows(code) if u.valid_to and u.valid_to[:7] < month and u.type != "commune"]
        if not past:
            past = [u for u in self.rows(code) if u.valid_to and u.valid_to[:7] < month]
        if not past:
            return None
        last = past[-1]
        end_month = last.valid_to[:7]
        ended = (date.fromisoformat(last.valid_to) + timedelta(days=1)).isoformat()
        if last.type == "agency":
            return ended, [u for s in last.successor for u in self.rows(s) if u.valid_in(month)]
        holders = []
        for commune in self.communes(last.code, end_month) if last.type != "province" else []:
            target, _ = self.forward(commune.code, end_month, month)
            for area in self.area_units(month):
                if target and target in {c.code for c in self.communes(area.code, month)} and area not in holders:
                    holders.append(area)
        return ended, holders


def _int_or_none(value: str, where: str, column: str) -> int | None:
    if value.strip() == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise RegistryError(f"{where}, cột {column}: {value!r} không phải là số nguyên") from None
    if number < 0:
        raise RegistryError(f"{where}, cột {column}: {value!r} phải ≥ 0")
    return number


def _date_or_empty(value: str, where: str, column: str) -> str:
    value = value.strip()
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise RegistryError(f"{where}, cột {column}: {value!r} không phải ngày dạng YYYY-MM-DD") from None
    return value


def _change(value: str, where: str) -> str:
    value = (value or "").strip()
    if value and value not in CHANGES:
        raise RegistryError(
            f"{where}, cột change: {value!r} không hợp lệ; chỉ nhận: {', '.join(CHANGES)} hoặc để trống"
        )
    return value


def read_registry(path: Path) -> Registry:
    """Read and check a units CSV file.

    RegistryError names the file, the CSV line (the header is line 1) and the column: the
    columns (_FIELDS, no other), a code neither empty nor repeated, the type, whole numbers
    ≥ 0 for population and population_year, dates YYYY-MM-DD with valid_from ≤ valid_to, and
    a parent that is a code of the file.
    """
    path = Path(path)
    name = shown_path(path)
    try:
        fh = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise RegistryError(f"không đọc được tệp {name}: {exc.strerror or exc}") from None
    with fh:
        reader = csv.DictReader(fh)
        try:
            columns = reader.fieldnames or ()
        except (UnicodeDecodeError, csv.Error) as exc:
            raise RegistryError(f"{name}, dòng 1: không đọc được dòng tiêu đề ({exc})") from None
        missing = [f for f in _FIELDS if f not in columns]
        if missing:
            raise RegistryError(f"{name}, dòng 1: thiếu cột {', '.join(missing)}")
        extra = [c for c in columns if c not in _FIELDS + _OPTIONAL_FIELDS]
        if extra:
            raise RegistryError(
                f"{name}, dòng 1: cột {', '.join(extra)} không được hỗ trợ; chỉ nhận: "
                f"{', '.join(_FIELDS + _OPTIONAL_FIELDS)}"
            )
        if len(set(columns)) != len(columns):
            raise RegistryError(f"{name}, dòng 1: có cột viết hai lần")
        units, seen = [], {}
        lines = {}
        try:
            for row in reader:
                line = reader.line_num
                where = f"{name}, dòng {line}"
                if None in row or any(v is None for v in row.values()):
                    raise RegistryError(f"{where}: số ô khác số cột của dòng tiêu đề ({len(columns)})")
                code = row["code"].strip()
                if not code:
                    raise RegistryError(f"{where}, cột code: mã đơn vị trống")
                if row["type"] not in TYPES:
                    raise RegistryError(
                        f"{where}, cột type: loại đơn vị {row['type']!r} không hợp lệ; chỉ nhận: {', '.join(TYPES)}"
                    )
                if not row["name"].strip():
                    raise RegistryError(f"{where}, cột name: tên đơn vị {code} trống")
                valid_from = _date_or_empty(row["valid_from"], where, "valid_from")
                valid_to = _date_or_empty(row["valid_to"], where, "valid_to")
                if valid_from and valid_to and valid_from > valid_to:
                    raise RegistryError(f"{where}, cột valid_to: {valid_to} trước valid_from {valid_from}")
                for other, (start, end) in seen.get(code, {}).items():
                    if (valid_from or "0000") <= (end or "9999") and (start or "0000") <= (valid_to or "9999"):
                        raise RegistryError(
                            f"{where}, cột valid_from: mã đơn vị {code!r} trùng thời kỳ với dòng {other} "
                            "(một mã chỉ được dùng cho một đơn vị tại mỗi thời điểm)"
                        )
                seen.setdefault(code, {})[line] = (valid_from, valid_to)
                lines.setdefault(code, line)
                units.append(
                    Unit(
                        code=code,
                        name=nfc(row["name"]),
                        short_name=nfc(row["short_name"]),
                        type=row["type"],
                        kind=row["kind"],
                        parent=row["parent"].strip(),
                        sections=tuple(s for s in row["sections"].split(";") if s),
                        population=_int_or_none(row["population"], where, "population"),
                        population_year=_int_or_none(row["population_year"], where, "population_year"),
                        valid_from=valid_from,
                        valid_to=valid_to,
                        source=row["source"],
                        change=_change(row.get("change", ""), where),
                        successor=tuple(s.strip() for s in row.get("successor", "").split(";") if s.strip()),
                    )
                )
        except (UnicodeDecodeError, csv.Error) as exc:
            raise RegistryError(f"{name}, dòng {reader.line_num + 1}: không đọc được ({exc})") from None
    codes = {u.code for u in units}
    for unit in units:
        if unit.parent and unit.parent not in codes:
            raise RegistryError(
                f"{name}, dòng {lines[unit.code]}, cột parent: đơn vị {unit.code} có đơn vị cha "
                f"{unit.parent!r} không có trong danh mục"
            )
        for successor in unit.successor:
            if successor not in codes:
                raise RegistryError(
                    f"{name}, dòng {lines[unit.code]}, cột successor: {successor!r} không có trong danh mục"
                )
    return Registry(tuple(units))


_CHANGE_FIELDS = ("date", "from_code", "from_name", "to_code", "to_name", "uncertain", "note", "source")


def read_changes(path: Path, registry: Registry) -> tuple[Change, ...]:
    """Read and check params/crosswalk.csv against the registry.

    Each row: on `date` commune `from_code` (valid the day before) became part of `to_code`
    (valid on `date`); `uncertain` is `x` when the sources do not settle the row. Every commune
    valid the day before a date has exactly one row. RegistryError names the file, line, column.
    """
    path = Path(path)
    name = shown_path(path)
    if not path.exists():
        return ()
    changes, seen = [], {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or ()
        missing = [f for f in _CHANGE_FIELDS if f not in columns]
        if missing:
            raise RegistryError(f"{name}, dòng 1: thiếu cột {', '.join(missing)}")
        for row in reader:
            where = f"{name}, dòng {reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                raise RegistryError(f"{where}: số ô khác số cột của dòng tiêu đề")
            day = _date_or_empty(row["date"], where, "date")
            if not day:
                raise RegistryError(f"{where}, cột date: thiếu ngày thay đổi")
            before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()[:7]
            for column, month in (("from_code", before), ("to_code", day[:7])):
                if not any(u.type == "commune" and u.valid_in(month) for u in registry.rows(row[column].strip())):
                    raise RegistryError(
                        f"{where}, cột {column}: {row[column]!r} không phải đơn vị cấp xã có hiệu lực tháng {month}"
                    )
            key = (day, row["from_code"].strip())
            if key in seen:
                raise RegistryError(f"{where}, cột from_code: {key[1]} đã có ở dòng {seen[key]} cho ngày {day}")
            seen[key] = reader.line_num
            if row["uncertain"].strip() not in ("", "x"):
                raise RegistryError(
                    f"{where}, cột uncertain: chỉ nhận 'x' hoặc để trống, không phải {row['uncertain']!r}"
                )
            changes.append(
                Change(day, key[1], row["to_code"].strip(), row["uncertain"].strip() == "x", nfc(row["note"]))
            )
    for day in sorted({c.date for c in changes}):
        before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()[:7]
        listed = {c.from_code for c in changes if c.date == day}
        left = [u.code for u in registry.units if u.type == "commune" and u.valid_in(before) and u.code not in listed]
        if left:
            raise RegistryError(
                f"{name}: ngày {day} thiếu dòng cho các xã {', '.join(left[:5])}" + (" …" if len(left) > 5 else "")
            )
    return tuple(changes)


def read_words(path: Path) -> Words:
    """params/levels.yaml: the word of each kind and of each level."""
    path = Path(path)
    if not path.exists():
        return Words({}, {})
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    kinds = data.get("kinds") or {}
    levels = data.get("levels") or {}
    if not isinstance(kinds, dict) or not all(isinstance(v, str) for v in kinds.values()):
        raise RegistryError(f"{shown_path(path)}: kinds phải là bảng mã loại: từ (ví dụ huyen: huyện)")
    if not isinstance(levels, dict) or not all(isinstance(v, dict) for v in levels.values()):
        raise RegistryError(f"{shown_path(path)}: levels phải là bảng cấp: {{short: …, level: …}}")
    return Words(
        {str(k): nfc(v) for k, v in kinds.items()},
        {str(k): {a: nfc(str(b)) for a, b in v.items()} for k, v in levels.items()},
    )


def check_words(registry: Registry, params_dir: Path | None = None) -> Words:
    """params/levels.yaml, checked against the registry: every kind and level of an administrative
    unit has its word (RegistryError names the file and what is missing)."""
    path = Path(params_dir or PARAMS_DIR) / "levels.yaml"
    words = read_words(path)
    kinds = sorted({u.kind for u in registry.units if u.type in LEVELS} - set(words.kinds))
    if kinds:
        raise RegistryError(f"{shown_path(path)}: thiếu từ cho loại đơn vị {', '.join(kinds)} (mục kinds)")
    levels = [lv for lv in LEVELS if not words.levels.get(lv, {}).get("short")]
    if levels:
        raise RegistryError(f"{shown_path(path)}: thiếu levels.{levels[0]}.short")
    return words


@lru_cache(maxsize=8)
def _cached(folder: str, stamps: tuple) -> Registry:
    folder = Path(folder)
    registry = read_registry(folder / "units.csv")
    changes = read_changes(folder / "crosswalk.csv", registry)
    return Registry(registry.units, changes, check_words(registry, folder))


def load_registry(params_dir: Path | None = None) -> Registry:
    """The registry of params/ (units.csv, crosswalk.csv, levels.yaml), cached while the files are unchanged."""
    folder = Path(params_dir or PARAMS_DIR)
    stamps = tuple(
        (p.stat().st_mtime, p.stat().st_size) if p.exists() else None
        for p in (folder / "units.csv", folder / "crosswalk.csv", folder / "levels.yaml")
    )
    return _cached(str(folder), stamps)
