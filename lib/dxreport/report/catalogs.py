"""Section VI: what changed in the Ministry's platform catalogs this month."""

from __future__ import annotations

from dxreport import catalog as catalog_mod
from dxreport import narrative
from dxreport.labels import CATALOGS, CHANGES
from dxreport.report.context import Context
from dxreport.report.markup import _list, _missing, _p, cell, row
from dxreport.report.markup import table as html_table
from dxreport.textnorm import format_number


NO_CHANGE_INFO = "Chưa có thông tin so sánh danh mục"


def catalog_changes(ctx: Context) -> str:
    """VI. What changed in the MIC catalogs this month, and which snapshot the report used."""
    titles, change_words, outcomes = CATALOGS, CHANGES, catalog_mod.OUTCOMES
    snapshot = (
        f"Báo cáo dùng danh mục nền tảng bản chụp ngày {ctx.snapshot_date}."
        if ctx.snapshot_date
        else "Kho dữ liệu chưa có danh mục nền tảng."
    )
    if ctx.changes is None:
        return _p(
            f"{NO_CHANGE_INFO}: tháng này chưa có kết quả đối chiếu danh mục của {ctx.ministry_short} với bản chụp trước.",
            snapshot,
        )
    parts = []
    # without a fetch log the changes table is taken as it is; with one, a month where no catalog
    # could be fetched has nothing to compare
    fetched = ctx.fetches is None or (not ctx.fetches.empty and bool((ctx.fetches["outcome"] == "ok").any()))
    if ctx.fetches is not None and not ctx.fetches.empty:
        lines = []
        for _, f in ctx.fetches.iterrows():
            outcome = outcomes.get(f["outcome"], f["outcome"])
            text = outcome
            if not _missing(f.get("items")) and f["outcome"] == "ok":
                text += f", {format_number(f['items'])} nền tảng"
            message = "" if _missing(f.get("message")) else str(f["message"])
            if message and f["outcome"] != "ok":
                text = message
            lines.append((titles.get(f["catalog"], f["catalog"]), text))
        if len({t for _, t in lines}) == 1 and len(lines) > 1:
            parts.append(_p(f"Tải danh mục trong tháng, cả {format_number(len(lines))} danh mục: {lines[0][1]}."))
        else:
            parts.append(_list([f"{n}: {t}." for n, t in lines]))
    changes = ctx.changes
    if changes.empty and not fetched:
        return "\n".join(
            [
                _p(
                    f"{NO_CHANGE_INFO}: tháng này không có bản tải mới danh mục của {ctx.ministry_short} để đối "
                    "chiếu với bản chụp trước.",
                    snapshot,
                ),
                *parts,
            ]
        )
    if changes.empty:
        lead = _p(
            f"Trong tháng, danh mục nền tảng số của {ctx.ministry_short} không có thay đổi (không thêm, bớt hay đổi tên "
            "nền tảng nào) so với bản chụp trước.",
            snapshot,
        )
        return "\n".join([lead, *parts])
    counts = changes["change"].value_counts()
    summary = narrative.join(
        [
            f"{format_number(counts[k])} nền tảng {change_words.get(k, k)}"
            for k in ("added", "removed", "renamed")
            if k in counts
        ]
    )
    lead = _p(f"Trong tháng, danh mục nền tảng số của {ctx.ministry_short} có thay đổi: {summary}.", snapshot)
    body = []
    for _, c in changes.iterrows():
        previous = "" if _missing(c.get("previous_name")) else c["previous_name"]
        body.append(
            row(
                [
                    cell(titles.get(c["catalog"], c["catalog"])),
                    cell(change_words.get(c["change"], c["change"])),
                    cell(c["name"]),
                    cell(previous),
                ]
            )
        )
    head = ["Danh mục", "Thay đổi", "Nền tảng", "Tên trước đây"]
    return "\n".join([lead, *parts, html_table([head], body, "dx-table dx-compact")])
