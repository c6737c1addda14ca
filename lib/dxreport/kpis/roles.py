"""The roles of reporting units and the words that name them in a month.

A reporting unit has a role: `area` (the units directly under the province that report for an
area: districts until 2025-06, communes from 2025-07), `agency` (a provincial agency) or
`province` (`tinh`, the whole area). The analysis works on roles, never on a level: the
registry says which units have which role in a month.

The words follow the month too: the 2022 texts say "các huyện", "huyện, thị xã, thành phố",
"toàn tỉnh", "cơ quan cấp tỉnh"; from 2025-01 the province is a city ("toàn thành phố") and from
2025-07 the area units are "xã, phường". `era_text` turns a 2022 text into the month's: in a
2022 month it returns the text unchanged, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from dxreport.units import Registry, load_registry

AREA = "area"
AGENCY = "agency"
PROVINCE_ROLE = "province"
#: The roles a lagging rule applies to (params/lagging.yaml, applies_to).
ROLES = (AREA, AGENCY)
#: Registry types (and the old role word `district`) that mean the role `area`.
_AREA_TYPES = ("district", "commune", AREA)


def role_of(kind: str) -> str:
    """The role behind a registry type or a role: `district`/`commune` → `area`; `agency`,
    `province` as they are."""
    return AREA if kind in _AREA_TYPES else kind


def unit_roles(registry: Registry, month: str) -> dict[str, str]:
    """The month's reporting units → their role (`area` or `agency`), area units first."""
    roles = {u.code: AREA for u in registry.area_units(month)}
    roles.update({u.code: AGENCY for u in registry.agencies(month)})
    return roles


@dataclass(frozen=True)
class AreaWords:
    """The words of one month for the texts of the indicators and the peers."""

    province: str  # `tỉnh`, `thành phố`
    area_kinds: str  # `huyện, thị xã, thành phố`; `huyện, thị xã, quận`; `xã, phường`
    area_short: str  # after "các": `huyện` (districts); `xã, phường` (communes)
    commune_kinds: str  # `xã, phường, thị trấn`; `xã, phường`

    @property
    def agencies(self) -> str:
        """The peers' name of an agency: `cơ quan cấp tỉnh`, `cơ quan cấp thành phố`."""
        return f"cơ quan cấp {self.province}"


#: The 2022 words: what the texts of dxreport.kpis are written with.
WORDS_2022 = AreaWords("tỉnh", "huyện, thị xã, thành phố", "huyện", "xã, phường, thị trấn")


def _kinds(registry: Registry, units) -> str:
    present = {u.kind for u in units}
    return ", ".join(word for kind, word in registry.words.kinds.items() if kind in present and word)


def area_words(registry: Registry | None, month: str) -> AreaWords:
    """The words of `month` (the registry of params/ when None)."""
    registry = registry if registry is not None else load_registry()
    return _area_words(_Key(registry), month)


class _Key:
    """A registry as a cache key: by identity (a Registry holds dicts and is not hashable)."""

    __slots__ = ("registry",)

    def __init__(self, registry: Registry):
        self.registry = registry

    def __hash__(self) -> int:
        return id(self.registry)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and other.registry is self.registry


@lru_cache(maxsize=512)
def _area_words(key: _Key, month: str) -> AreaWords:
    registry = key.registry
    try:
        province = registry.kind_word(registry.province(month).kind) or WORDS_2022.province
    except KeyError:
        return WORDS_2022
    areas = registry.area_units(month)
    kinds = _kinds(registry, areas) or WORDS_2022.area_kinds
    level = registry.area_level(month)
    short = (registry.level_word("district") or "huyện") if level == "district" else kinds
    communes = [c for a in areas for c in registry.communes(a.code, month)]
    commune_kinds = _kinds(registry, communes) or WORDS_2022.commune_kinds
    return AreaWords(province, kinds, short, commune_kinds)


def populations_known(registry: Registry | None, month: str) -> bool:
    """Whether params/units.csv gives the population of every area unit of `month` (2022: yes;
    the 2025 quận and the communes of 2025-07: no)."""
    registry = registry if registry is not None else load_registry()
    return _populations_known(_Key(registry), month)


@lru_cache(maxsize=512)
def _populations_known(key: _Key, month: str) -> bool:
    return all(u.population is not None for u in key.registry.area_units(month))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def era_text(text: str, month: str | None, registry: Registry | None = None) -> str:
    """A text written with the 2022 words, said with the words of `month` (unchanged without a
    month, and in every month whose words are those of 2022)."""
    if not month or not text:
        return text
    words = area_words(registry, month)
    if words == WORDS_2022:
        return text
    return _in_words(text, words)


@lru_cache(maxsize=4096)
def _in_words(text: str, words: AreaWords) -> str:
    pairs = (
        ("các huyện, thị xã, thành phố", f"các {words.area_kinds}"),
        ("huyện, thị xã, thành phố", words.area_kinds),
        ("Huyện, thị xã, thành phố", _capital(words.area_kinds)),
        ("xã, phường, thị trấn", words.commune_kinds),
        ("Xã, phường, thị trấn", _capital(words.commune_kinds)),
        ("các huyện", f"các {words.area_short}"),
        ("toàn tỉnh", f"toàn {words.province}"),
        ("Toàn tỉnh", _capital(f"toàn {words.province}")),
        ("cơ quan cấp tỉnh", words.agencies),
        ("UBND tỉnh", f"UBND {words.province}"),
    )
    pairs = sorted(pairs, key=lambda p: -len(p[0]))
    # one pass, longest phrase first at each place, so that a replaced text is never replaced again
    out, i = [], 0
    while i < len(text):
        for old, new in pairs:
            if text.startswith(old, i):
                out.append(new)
                i += len(old)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def peers_name(registry: Registry, month: str, role: str) -> str:
    """How a text names the peers of a unit of this role: `huyện, thị xã, thành phố` (2022),
    `xã, phường` (from 2025-07), `cơ quan cấp tỉnh` (2022), `cơ quan cấp thành phố` (2025-)."""
    if role == AREA:
        return registry.area_kinds(month)
    if role == AGENCY:
        return area_words(registry, month).agencies
    return ""
