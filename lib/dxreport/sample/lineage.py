"""Where a unit of the reorganised map comes from: its shares of the districts, communes and
agencies of the old map (the one in force until 2024-12), on which the sample draws its traits.

The sample's series are drawn on the old map: every trait (adoption, population, platform
plans, team targets) belongs to an old district, commune or agency. A unit of 2025 or later
holds a share of old units: an area unit holds the old communes that lie in it (through
params/crosswalk.csv), and each old commune carries an equal share of its old district; a merged
agency holds the agencies it took over (column successor of params/units.csv). Adding its
shares up, a new unit starts from what its predecessors had, so that a series of the city has no
jump at a reform.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxreport.units import Registry, Unit

#: The last month of the old map.
OLD_MAP_LAST = "2024-12"


def on_old_map(month: str) -> bool:
    """True if the sample draws `month` directly on the old map (months up to 2024-12)."""
    return month <= OLD_MAP_LAST


@dataclass(frozen=True)
class Origin:
    """A share `weight` (0–1] of the old unit `unit` that lies in a unit of a later month."""

    unit: Unit
    weight: float


class Lineage:
    """The old units behind the units of one later month."""

    def __init__(self, registry: Registry, month: str):
        self.registry = registry
        self.month = month
        self.old_areas = registry.area_units(OLD_MAP_LAST)
        self.old_agencies = registry.agencies(OLD_MAP_LAST)
        self.old_communes = {a.code: registry.communes(a.code, OLD_MAP_LAST) for a in self.old_areas}
        holder = {c.code: c for a in registry.area_units(month) for c in registry.communes(a.code, month)}
        self._communes: dict[str, list[tuple[Unit, Unit]]] = {}  # commune of month -> [(old commune, old district)]
        for area in self.old_areas:
            for commune in self.old_communes[area.code]:
                target, _ = registry.forward(commune.code, OLD_MAP_LAST, month)
                if target in holder:
                    self._communes.setdefault(target, []).append((commune, area))

    def old_communes_of(self, commune: Unit) -> list[Unit]:
        """The old communes that lie in `commune` (a commune-level unit of the month)."""
        return [c for c, _ in self._communes.get(commune.code, [])]

    def origins(self, unit: Unit) -> list[Origin]:
        """The old units `unit` is made of, the one with the largest share first."""
        if unit.type == "agency":
            return self._agency_origins(unit)
        counts: dict[str, int] = {}
        for commune in self.registry.communes(unit.code, self.month):
            for _, area in self._communes.get(commune.code, []):
                counts[area.code] = counts.get(area.code, 0) + 1
        order = {a.code: i for i, a in enumerate(self.old_areas)}
        found = [
            Origin(area, counts[area.code] / len(self.old_communes[area.code]))
            for area in self.old_areas
            if counts.get(area.code)
        ]
        return sorted(found, key=lambda o: (-o.weight * (o.unit.population or 0), order[o.unit.code]))

    def _agency_origins(self, unit: Unit) -> list[Origin]:
        own = [a for a in self.old_agencies if a.code == unit.code]
        merged = [
            a
            for a in self.old_agencies
            if unit.code in a.successor and a.code != unit.code and a.valid_to and a.valid_to[:7] < self.month
        ]
        return [Origin(a, 1.0) for a in own + merged]

    def trait_key(self, unit: Unit) -> str:
        """The key of a unit's own stable traits (preparer, which figures it writes as text):
        the old code when the unit continues one old unit whole, else its own row key."""
        origins = self.origins(unit)
        if len(origins) == 1 and origins[0].unit.code == unit.code and origins[0].weight == 1.0:
            return unit.code
        return unit.key
