"""Matching a platform a unit names to the catalog: by id, by name, by alias, then by a fuzzy name.

Also the settings that tune it (params/settings.yaml `catalog:`) and the aliases file
(params/platform_aliases.yaml).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from rapidfuzz import fuzz

from dxreport.catalog.model import CatalogError
from dxreport.params import PARAMS_DIR, load_settings
from dxreport.textnorm import fold, format_percent, nfc

DEFAULT_THRESHOLDS = {"fuzzy_threshold": 0.9, "rename_threshold": 0.8}


def load_aliases(params_dir: Path = PARAMS_DIR) -> dict[str, str]:
    """params/platform_aliases.yaml as {folded alias: platform id}."""
    path = Path(params_dir) / "platform_aliases.yaml"
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {fold(alias): str(pid) for alias, pid in (data.get("aliases") or {}).items()}


def thresholds(params_dir: Path = PARAMS_DIR) -> dict[str, float]:
    """params/settings.yaml `catalog:` — fuzzy_threshold and rename_threshold, each in (0, 1]."""
    path = Path(params_dir) / "settings.yaml"
    section = load_settings(params_dir).get("catalog") or {}
    out = dict(DEFAULT_THRESHOLDS)
    for key, value in section.items():
        if key not in out:
            raise CatalogError(f"{path}: catalog.{key} không được hỗ trợ; chỉ nhận: {', '.join(out)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise CatalogError(f"{path}: catalog.{key} phải là số trong khoảng (0, 1], không phải {value!r}")
        out[key] = float(value)
    return out


def similarity(a: object, b: object) -> float:
    """How alike two names are, 0–1, on folded text (normalised Indel similarity)."""
    return fuzz.ratio(fold(a), fold(b)) / 100


class Match(tuple):
    """(platform id or None, how) — a 2-tuple, so `pid, how = matcher.match(...)` keeps working.

    `how` is 'id', 'name', 'alias', 'fuzzy' or 'none'. A fuzzy match also carries `score` (0–1)
    and `candidate`, the catalog name of the platform it was taken for.
    """

    def __new__(cls, platform_id: str | None, how: str, score: float | None = None, candidate: str | None = None):
        self = super().__new__(cls, (platform_id, how))
        self.score = score
        self.candidate = candidate
        return self

    def __getnewargs__(self):
        return (self[0], self[1], self.score, self.candidate)

    @property
    def platform_id(self) -> str | None:
        """The platform id found, or None."""
        return self[0]

    @property
    def how(self) -> str:
        """How it was found: 'id', 'name', 'alias', 'fuzzy' or 'none'."""
        return self[1]

    def note(self, name: object) -> str:
        """The Vietnamese warning for a fuzzy match of `name`."""
        return (
            f"nền tảng “{nfc(name)}” không khớp đúng tên nào trong danh mục; được coi là “{self.candidate}” "
            f"(mã {self.platform_id}, giống {format_percent(self.score * 100)}). Nếu đúng, hãy thêm tên này vào "
            "params/platform_aliases.yaml; nếu sai, hãy ghi mã nền tảng."
        )

    def __repr__(self) -> str:
        extra = f", score={self.score:.3f}, candidate={self.candidate!r}" if self.score is not None else ""
        return f"Match({self[0]!r}, {self[1]!r}{extra})"


class Matcher:
    """Finds the catalog platform a unit means: by id, by name, by alias, then by a fuzzy name.

    Names and aliases are compared folded (case, diacritics, spaces). The fuzzy step takes the
    catalog name or alias most like the given one, if at least `threshold` alike (default
    params/settings.yaml catalog.fuzzy_threshold) and not tied with another platform.
    """

    MIN_FUZZY_LENGTH = 4

    def __init__(self, platforms: pd.DataFrame, aliases: dict[str, str], threshold: float | None = None):
        self._ids = set(platforms["platform_id"])
        self._names = {fold(n): pid for n, pid in zip(platforms["name"], platforms["platform_id"])}
        self._aliases = {a: p for a, p in aliases.items() if p in self._ids}
        self._display = dict(zip(platforms["platform_id"], platforms["name"]))
        self.threshold = thresholds()["fuzzy_threshold"] if threshold is None else float(threshold)
        self._choices = {**self._aliases, **self._names}  # folded name or alias -> platform id

    def match(self, platform_id: str | None, name: str | None) -> Match:
        """Match(platform id or None, how): how is 'id', 'name', 'alias', 'fuzzy' or 'none'."""
        if platform_id and nfc(platform_id) in self._ids:
            return Match(nfc(platform_id), "id")
        key = fold(name)
        if key in self._names:
            return Match(self._names[key], "name")
        if key in self._aliases:
            return Match(self._aliases[key], "alias")
        if len(key) >= self.MIN_FUZZY_LENGTH and self._choices:
            scored = sorted(((fuzz.ratio(key, text) / 100, text) for text in self._choices), reverse=True)
            best, text = scored[0]
            if best >= self.threshold:
                pid = self._choices[text]
                tied = any(s == best and self._choices[t] != pid for s, t in scored[1:])
                if not tied:
                    return Match(pid, "fuzzy", round(best, 4), self._display[pid])
        return Match(None, "none")
