"""Catalog tables for people: CSV files for spreadsheets, the fetch log, the changes, a Markdown summary."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from dxreport.catalog.model import CATALOGS, CHANGES, OUTCOMES, vn_date
from dxreport.catalog.scraping import ScrapeResult
from dxreport.textnorm import format_number
from dxreport.xlsx import neutralise


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """A CSV for spreadsheets (UTF-8 with BOM), text cells that look like formulas neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.map(neutralise).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def fetch_table(result: ScrapeResult) -> pd.DataFrame:
    """The fetch log for a reader: one row per catalog, Vietnamese headers."""
    return pd.DataFrame(
        {
            "Danh mục": [c.title for c in result.catalogs],
            "Kết quả": [OUTCOMES[c.outcome] for c in result.catalogs],
            "Nền tảng tìm thấy": [format_number(c.items) if c.items is not None else "–" for c in result.catalogs],
            "Bản chụp dùng": [vn_date(c.snapshot_date) for c in result.catalogs],
            "Ghi chú": [c.message for c in result.catalogs],
        }
    )


def changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Catalog changes for a reader, Vietnamese headers."""
    return pd.DataFrame(
        {
            "Danh mục": [CATALOGS.get(c, c) for c in changes["catalog"]],
            "Thay đổi": [CHANGES[c] for c in changes["change"]],
            "Nền tảng": list(changes["name"]),
            "Tên trước đây": [n if isinstance(n, str) and n else "" for n in changes["previous_name"]],
            "Mã": list(changes["platform_id"]),
        }
    )


def summary_markdown(result: ScrapeResult) -> str:
    """A short Markdown summary of the scrape (scraped text escaped)."""
    lines = []
    for c in result.catalogs:
        count = int((result.snapshot.platforms["catalog"] == c.catalog).sum())
        lines.append(
            f"- **{html.escape(c.title)}**: {html.escape(OUTCOMES[c.outcome])}; {format_number(count)} nền tảng "
            f"đang dùng, bản chụp ngày {vn_date(c.snapshot_date)}. {html.escape(c.message)}"
        )
    counts = result.changes["change"].value_counts() if len(result.changes) else pd.Series(dtype=int)
    if len(result.changes):
        lines.append(
            "- Thay đổi so với tháng trước: "
            + ", ".join(f"{format_number(int(counts[k]))} {v}" for k, v in CHANGES.items() if k in counts)
            + "."
        )
    else:
        lines.append("- Không có thay đổi nào so với bản chụp tháng trước (hoặc chưa có bản chụp tháng trước).")
    return "\n".join(lines)
