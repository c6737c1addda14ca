"""Stable platform ids for scraped platforms, so that an id survives from month to month.

A scraped platform keeps its bundled id when its name or an alias matches, else the id of the
same link or name in the last good part, else a new id from the catalog and the folded name.
"""

from __future__ import annotations

import hashlib
import re

import pandas as pd

from dxreport.catalog.model import COLUMNS, FIELDS, ID_PREFIX
from dxreport.textnorm import fold


def _slug(key: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-")
    if len(slug) > 48:
        slug = slug[:40].rstrip("-") + "-" + hashlib.sha1(key.encode()).hexdigest()[:6]
    return slug or hashlib.sha1(key.encode()).hexdigest()[:8]


def derived_id(catalog: str, name: str) -> str:
    """The id of a platform no earlier snapshot knows: catalog prefix + slug of the folded name."""
    return f"{ID_PREFIX[catalog]}-{_slug(fold(name))}"


def link_key(link: object) -> str:
    """A link compared loosely: trimmed, without a trailing slash, lower case."""
    return str(link or "").strip().rstrip("/").lower()


def assign_ids(
    items: list[dict], catalog: str, known: dict[str, str], previous: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, int]:
    """Give every parsed item a stable platform id; returns (platforms, duplicates dropped).

    In order: the bundled id of the same folded name or alias (`known`), the id the last good
    part gave the same link, or the same folded name, then derived_id. Two items with the same
    folded name are one platform (the second is dropped and counted).
    """
    prev_by_link, prev_by_name = {}, {}
    if previous is not None and len(previous):
        for pid, name, link in zip(previous["platform_id"], previous["name"], previous["link"]):
            if link_key(link):
                prev_by_link.setdefault(link_key(link), pid)
            prev_by_name.setdefault(fold(name), pid)
    rows, used, names, duplicates = [], set(), set(), 0
    for item in items:
        key = fold(item["name"])
        if key in names:
            duplicates += 1
            continue
        names.add(key)
        candidates = [
            known.get(key),
            prev_by_link.get(link_key(item.get("link"))),
            prev_by_name.get(key),
            derived_id(catalog, item["name"]),
        ]
        pid = next((c for c in candidates if c and c not in used), None)
        if pid is None:
            pid = f"{derived_id(catalog, item['name'])}-{hashlib.sha1((key + '|' + str(item.get('link'))).encode()).hexdigest()[:6]}"
        used.add(pid)
        rows.append(
            {
                "platform_id": pid,
                "catalog": catalog,
                **{f: item.get(f, "") for f in FIELDS},
                "source": item.get("source", ""),
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame, duplicates
