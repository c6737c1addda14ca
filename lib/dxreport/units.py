"""The units registry (params/units.csv): codes, names, type, parent, sections, population."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from dxreport.paths import PARAMS_DIR, shown_path
from dxreport.textnorm import fold, nfc

REPORTING_TYPES = ("district", "agency")
TYPES = ("province", "district", "commune", "agency")
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


class RegistryError(ValueError):
    """params/units.csv is not valid."""


@dataclass(frozen=True)
class Unit:
    """One unit of the registry."""

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

    def valid_in(self, month: str) -> bool:
        """True if the unit exists during `month` (YYYY-MM)."""
        start = self.valid_from[:7] if self.valid_from else "0000-00"
        end = self.valid_to[:7] if self.valid_to else "9999-99"
        return start <= month <= end


@dataclass(frozen=True)
class Registry:
    """All units, with look-ups by code and by parent."""

    units: tuple[Unit, ...]

    def get(self, code: str) -> Unit:
        """The unit with this code; KeyError if none."""
        for unit in self.units:
            if unit.code == str(code):
                return unit
        raise KeyError(code)

    def __contains__(self, code: object) -> bool:
        return any(u.code == str(code) for u in self.units)

    def reporting_units(self, month: str) -> list[Unit]:
        """Units that send a monthly submission in `month`: districts first, then agencies."""
        return [u for t in REPORTING_TYPES for u in self.units if u.type == t and u.valid_in(month)]

    def districts(self, month: str) -> list[Unit]:
        """District-level units valid in `month`."""
        return [u for u in self.units if u.type == "district" and u.valid_in(month)]

    def communes_of(self, district: str, month: str | None = None) -> list[Unit]:
        """Commune-level units of a district."""
        return [
            u
            for u in self.units
            if u.type == "commune" and u.parent == str(district) and (month is None or u.valid_in(month))
        ]

    def find_commune(self, district: str, name: str) -> list[Unit]:
        """Communes of `district` whose name matches `name` (folded; with or without its kind)."""
        key = fold(name)
        return [u for u in self.communes_of(district) if key in (fold(u.name), fold(u.short_name))]

    def province(self) -> Unit:
        """The province row."""
        return self.get("tinh")


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
        extra = [c for c in columns if c not in _FIELDS]
        if extra:
            raise RegistryError(
                f"{name}, dòng 1: cột {', '.join(extra)} không được hỗ trợ; chỉ nhận: {', '.join(_FIELDS)}"
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
                    raise RegistryError(f"{where}: số ô khác số cột của dòng tiêu đề ({len(_FIELDS)})")
                code = row["code"].strip()
                if not code:
                    raise RegistryError(f"{where}, cột code: mã đơn vị trống")
                if code in seen:
                    raise RegistryError(f"{where}, cột code: mã đơn vị {code!r} trùng với dòng {seen[code]}")
                if row["type"] not in TYPES:
                    raise RegistryError(
                        f"{where}, cột type: loại đơn vị {row['type']!r} không hợp lệ; chỉ nhận: {', '.join(TYPES)}"
                    )
                if not row["name"].strip():
                    raise RegistryError(f"{where}, cột name: tên đơn vị {code} trống")
                seen[code] = lines[code] = line
                valid_from = _date_or_empty(row["valid_from"], where, "valid_from")
                valid_to = _date_or_empty(row["valid_to"], where, "valid_to")
                if valid_from and valid_to and valid_from > valid_to:
                    raise RegistryError(f"{where}, cột valid_to: {valid_to} trước valid_from {valid_from}")
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
    return Registry(tuple(units))


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float) -> Registry:
    return read_registry(Path(path))


def load_registry(params_dir: Path | None = None) -> Registry:
    """The registry in params/units.csv (cached while the file is unchanged)."""
    path = Path(params_dir or PARAMS_DIR) / "units.csv"
    return _cached(str(path), path.stat().st_mtime)
