"""The three MIC catalogs of digital platforms: snapshots and matching names to platforms."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from dxreport.params import DATA_DIR, PARAMS_DIR
from dxreport.textnorm import fold, nfc

CATALOGS = {
    "chinh_quyen": "Nền tảng số phục vụ chính quyền",
    "doanh_nghiep": "Nền tảng số phục vụ doanh nghiệp",
    "nguoi_dan": "Nền tảng số phục vụ người dân",
}
BUNDLED_SNAPSHOT = DATA_DIR / "catalog" / "bundled.yaml"
COLUMNS = ["platform_id", "catalog", "name", "provider", "field", "link", "source"]


class CatalogError(ValueError):
    """A catalog snapshot or aliases file that is not valid."""


@dataclass(frozen=True)
class Snapshot:
    """A catalog snapshot: its date, where it came from and its platforms."""

    date: str
    origin: str
    platforms: pd.DataFrame


def load_bundled(path: Path = BUNDLED_SNAPSHOT) -> Snapshot:
    """The bundled snapshot of the publicly known platforms."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    rows = []
    for i, item in enumerate(data.get("platforms", []), start=1):
        if not item.get("id") or not item.get("name") or item.get("catalog") not in CATALOGS:
            raise CatalogError(f"{path}: nền tảng thứ {i} thiếu mã, tên hoặc danh mục hợp lệ")
        rows.append({
            "platform_id": item["id"], "catalog": item["catalog"], "name": nfc(item["name"]),
            "provider": nfc(item.get("provider", "")), "field": nfc(item.get("field", "")),
            "link": item.get("link", ""), "source": nfc(item.get("source", "")),
        })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if frame["platform_id"].duplicated().any():
        raise CatalogError(f"{path}: mã nền tảng bị trùng")
    return Snapshot(date=str(data["snapshot_date"]), origin=f"bundled:{path.name}", platforms=frame)


def load_aliases(params_dir: Path = PARAMS_DIR) -> dict[str, str]:
    """params/platform_aliases.yaml as {folded alias: platform id}."""
    path = Path(params_dir) / "platform_aliases.yaml"
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {fold(alias): str(pid) for alias, pid in (data.get("aliases") or {}).items()}


class Matcher:
    """Finds the catalog platform a unit means, by id, by name or by alias."""

    def __init__(self, platforms: pd.DataFrame, aliases: dict[str, str]):
        self._ids = set(platforms["platform_id"])
        self._names = {fold(n): pid for n, pid in zip(platforms["name"], platforms["platform_id"])}
        self._aliases = {a: p for a, p in aliases.items() if p in self._ids}

    def match(self, platform_id: str | None, name: str | None) -> tuple[str | None, str]:
        """(platform id or None, how it matched: 'id', 'name', 'alias' or 'none')."""
        if platform_id and nfc(platform_id) in self._ids:
            return nfc(platform_id), "id"
        key = fold(name)
        if key in self._names:
            return self._names[key], "name"
        if key in self._aliases:
            return self._aliases[key], "alias"
        return None, "none"
