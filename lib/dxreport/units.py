"""The units registry (params/units.csv): codes, names, type, parent, sections, population."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dxreport.textnorm import fold, nfc

REPORTING_TYPES = ("district", "agency")
TYPES = ("province", "district", "commune", "agency")
_FIELDS = ("code", "name", "short_name", "type", "kind", "parent", "sections", "population",
           "population_year", "valid_from", "valid_to", "source")


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
        return [u for u in self.units if u.type == "commune" and u.parent == str(district)
                and (month is None or u.valid_in(month))]

    def find_commune(self, district: str, name: str) -> list[Unit]:
        """Communes of `district` whose name matches `name` (folded; with or without its kind)."""
        key = fold(name)
        return [u for u in self.communes_of(district) if key in (fold(u.name), fold(u.short_name))]

    def province(self) -> Unit:
        """The province row."""
        return self.get("tinh")


def _int_or_none(value: str, path: Path, line: int, column: str) -> int | None:
    if value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise RegistryError(f"{path}, dòng {line}, cột {column}: {value!r} không phải là số nguyên") from exc


def read_registry(path: Path) -> Registry:
    """Read and check a units CSV file."""
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(_FIELDS) - set(reader.fieldnames or ())
        if missing:
            raise RegistryError(f"{path}: thiếu cột {', '.join(sorted(missing))}")
        units, seen = [], set()
        for line, row in enumerate(reader, start=2):
            code = row["code"].strip()
            if not code or code in seen:
                raise RegistryError(f"{path}, dòng {line}: mã đơn vị {code!r} trống hoặc trùng")
            if row["type"] not in TYPES:
                raise RegistryError(f"{path}, dòng {line}: loại đơn vị {row['type']!r} không hợp lệ")
            seen.add(code)
            units.append(Unit(
                code=code, name=nfc(row["name"]), short_name=nfc(row["short_name"]), type=row["type"],
                kind=row["kind"], parent=row["parent"].strip(),
                sections=tuple(s for s in row["sections"].split(";") if s),
                population=_int_or_none(row["population"], path, line, "population"),
                population_year=_int_or_none(row["population_year"], path, line, "population_year"),
                valid_from=row["valid_from"].strip(), valid_to=row["valid_to"].strip(), source=row["source"],
            ))
    codes = {u.code for u in units}
    for unit in units:
        if unit.parent and unit.parent not in codes:
            raise RegistryError(f"{path}: đơn vị {unit.code} có đơn vị cha {unit.parent!r} không có trong danh mục")
    return Registry(tuple(units))


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float) -> Registry:
    return read_registry(Path(path))


def load_registry(params_dir: Path | None = None) -> Registry:
    """The registry in params/units.csv (cached while the file is unchanged)."""
    from dxreport.params import PARAMS_DIR

    path = Path(params_dir or PARAMS_DIR) / "units.csv"
    return _cached(str(path), path.stat().st_mtime)
