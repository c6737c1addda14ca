"""Catalog snapshots: the bundled one, and the dated scrape folders with their last-good pointer.

Everything a scrape keeps is under the snapshots folder (default data/catalog/snapshots/):

    <YYYY-MM-DD>[.n]/<catalog>/page-01.html    the bytes of every response
                     <catalog>/part.json        every fetch (url, status, headers, time, bytes, sha256,
                                                attempts), the outcome and its message
                     <catalog>/platforms.json   the parsed platforms (good parts only)
    last_good.json                              catalog -> folder of its last good part

A scrape's folder is made (exclusive mkdir) when the first response comes back and never reused.
"""

from __future__ import annotations

import fcntl
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from dxreport.catalog.model import CATALOGS, COLUMNS, CatalogError, Snapshot
from dxreport.fileio import write_atomic
from dxreport.params import DATA_DIR
from dxreport.textnorm import nfc

BUNDLED_SNAPSHOT = DATA_DIR / "catalog" / "bundled.yaml"
SNAPSHOTS_DIR = DATA_DIR / "catalog" / "snapshots"
POINTER = "last_good.json"


def load_bundled(path: Path = BUNDLED_SNAPSHOT) -> Snapshot:
    """The bundled snapshot of the publicly known platforms."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    rows = []
    for i, item in enumerate(data.get("platforms", []), start=1):
        if not item.get("id") or not item.get("name") or item.get("catalog") not in CATALOGS:
            raise CatalogError(f"{path}: nền tảng thứ {i} thiếu mã, tên hoặc danh mục hợp lệ")
        rows.append(
            {
                "platform_id": item["id"],
                "catalog": item["catalog"],
                "name": nfc(item["name"]),
                "provider": nfc(item.get("provider", "")),
                "field": nfc(item.get("field", "")),
                "link": item.get("link", ""),
                "source": nfc(item.get("source", "")),
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if frame["platform_id"].duplicated().any():
        raise CatalogError(f"{path}: mã nền tảng bị trùng")
    return Snapshot(date=str(data["snapshot_date"]), origin=f"bundled:{path.name}", platforms=frame)


@dataclass
class Part:
    """One catalog in one snapshot folder."""

    catalog: str
    date: str
    folder: Path
    meta: dict

    @property
    def good(self) -> bool:
        """Whether this part was believed (its platforms may be used)."""
        return self.meta.get("status") == "good"

    @property
    def label(self) -> str:
        """`<snapshot folder>/<catalog>`, as the pointer names it."""
        return f"{self.folder.parent.name}/{self.folder.name}"

    def platforms(self) -> pd.DataFrame:
        """The platforms kept in platforms.json (none for a failed part)."""
        path = self.folder / "platforms.json"
        rows = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        frame = pd.DataFrame(rows, columns=COLUMNS + ["first_seen", "last_seen"])
        return frame.fillna("")

    def page_records(self) -> list[dict]:
        """The fetch record of every page of this part."""
        return list(self.meta.get("pages") or [])


def _folder_key(name: str) -> tuple[str, int]:
    base, _, n = name.partition(".")
    return base, int(n) if n.isdigit() else 1


class SnapshotStore:
    """The snapshots folder: attempts, good parts, and the last-good pointer."""

    _NAME = re.compile(r"^\d{4}-\d{2}-\d{2}(\.\d+)?$")

    def __init__(self, root: Path | str = SNAPSHOTS_DIR):
        self.root = Path(root)

    def parts(self, catalog: str, good_only: bool = True) -> list[Part]:
        """Parts of `catalog`, oldest first."""
        out = []
        if not self.root.is_dir():
            return out
        for folder in sorted(
            (p for p in self.root.iterdir() if p.is_dir() and self._NAME.match(p.name)),
            key=lambda p: _folder_key(p.name),
        ):
            part = self._read(folder / catalog)
            if part is not None and (part.good or not good_only):
                out.append(part)
        return out

    def _read(self, folder: Path) -> Part | None:
        try:
            meta = json.loads((folder / "part.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Part(
            catalog=folder.name, date=str(meta.get("date") or folder.parent.name[:10]), folder=folder, meta=meta
        )

    def last_good(self, catalog: str) -> Part | None:
        """The part the pointer names; the newest good part when the pointer is missing or stale."""
        try:
            pointer = json.loads((self.root / POINTER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pointer = {}
        if pointer.get(catalog):
            part = self._read(self.root / pointer[catalog])
            if part is not None and part.good:
                return part
        parts = self.parts(catalog)
        return parts[-1] if parts else None

    def previous_month(self, part: Part) -> Part | None:
        """The newest good part of the same catalog dated before the month of `part`."""
        start = str(part.date)[:7] + "-01"
        earlier = [p for p in self.parts(part.catalog) if str(p.date) < start]
        return earlier[-1] if earlier else None

    def mark_good(self, part: Part) -> None:
        """Point the catalog at `part` (atomic replace, under a lock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    pointer = json.loads((self.root / POINTER).read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    pointer = {}
                pointer[part.catalog] = part.label
                write_atomic(self.root / POINTER, json.dumps(pointer, ensure_ascii=False, indent=2, sort_keys=True))
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class Attempt:
    """The folder of one scrape, created on the first response kept (never reused)."""

    def __init__(self, store: SnapshotStore, day: date):
        self.store, self.day, self.folder = store, day, None

    def catalog_folder(self, catalog: str) -> Path:
        """The folder of `catalog` in this scrape's folder, both made when missing."""
        if self.folder is None:
            self.store.root.mkdir(parents=True, exist_ok=True)
            for n in range(1, 10_000):
                name = self.day.isoformat() + ("" if n == 1 else f".{n}")
                try:
                    (self.store.root / name).mkdir()
                except FileExistsError:
                    continue
                self.folder = self.store.root / name
                break
            else:  # pragma: no cover - ten thousand scrapes in a day
                raise CatalogError(f"{self.store.root}: quá nhiều lần tải trong ngày {self.day}")
        out = self.folder / catalog
        out.mkdir(exist_ok=True)
        return out


def first_seen(store: SnapshotStore, catalog: str, ids: list[str], today: str) -> dict[str, str]:
    """platform id -> the earliest date a good part of `catalog` up to `today` has it (else `today`)."""
    seen: dict[str, str] = {}
    for part in store.parts(catalog):
        if str(part.date) > today:
            continue
        frame = part.platforms()
        for pid, first in zip(frame["platform_id"], frame["first_seen"]):
            first = str(first or part.date)
            if pid in ids and (pid not in seen or first < seen[pid]):
                seen[pid] = first
    return {pid: seen.get(pid, today) for pid in ids}
