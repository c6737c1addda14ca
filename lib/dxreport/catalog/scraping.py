"""A scrape: fetch every configured catalog, parse, check, keep its part, and compose the snapshot in use.

A fetch that fails (network, HTTP, timeout, no items, far fewer items than last time) never
replaces the last good part of its catalog; the run goes on with it (or with the bundled
snapshot, data/catalog/bundled.yaml, when there is none) and says which date it used.

The snapshot in use is, for each catalog, its last good part, plus the bundled platforms that no
scrape found (the province's own list, e.g. Hue-S).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from dxreport.catalog.changes import combine, diff
from dxreport.catalog.ids import assign_ids
from dxreport.catalog.match import load_aliases
from dxreport.catalog.model import CATALOGS, COLUMNS, FETCH_COLUMNS, SNAPSHOT_COLUMNS, TZ, Snapshot, vn_date
from dxreport.catalog.parse import charset, is_html, parse_page
from dxreport.catalog.snapshots import Attempt, Part, SnapshotStore, first_seen, load_bundled
from dxreport.catalog.sources import CatalogSource, Guards, Sources, load_sources
from dxreport.fileio import write_atomic
from dxreport.params import SOURCES_FILE
from dxreport.textnorm import fold, format_number


@dataclass
class CatalogResult:
    """What happened to one catalog in one scrape, and which part is in use."""

    catalog: str
    title: str
    url: str
    outcome: str  # ok | failed | offline | not_configured
    message: str
    snapshot_date: str  # the date of the part in use
    snapshot: str  # folder of the part in use, or 'bundled'
    items: int | None = None  # platforms found by this fetch
    skipped: int = 0  # items without a name
    duplicates: int = 0
    pages: list = field(default_factory=list)  # FetchRecord of every page fetched
    folder: Path | None = None  # where this attempt's pages were kept
    platforms: pd.DataFrame | None = None  # the part in use
    part: Part | None = None  # None when the bundled snapshot is in use

    @property
    def status(self) -> int | None:
        """The HTTP status of the last page fetched."""
        return self.pages[-1].status if self.pages else None

    @property
    def fetched_at(self) -> str | None:
        """When the first page was fetched."""
        return self.pages[0].fetched_at if self.pages else None

    @property
    def bytes(self) -> int:
        """The bytes of every page fetched."""
        return sum(p.bytes for p in self.pages)


@dataclass
class ScrapeResult:
    """A scrape: every catalog's outcome, the snapshot in use, and the changes since last month."""

    sources: Path
    catalogs: list[CatalogResult]
    snapshot: Snapshot
    changes: pd.DataFrame

    @property
    def failed(self) -> list[CatalogResult]:
        """The catalogs whose fetch failed."""
        return [c for c in self.catalogs if c.outcome == "failed"]

    def fetch_log(self, month: str | None = None) -> pd.DataFrame:
        """One row per catalog, the columns of the warehouse table catalog_fetches."""
        rows = [
            {
                "month": month,
                "catalog": c.catalog,
                "url": c.url,
                "status": c.status,
                "fetched_at": c.fetched_at,
                "bytes": c.bytes,
                "items": c.items,
                "outcome": c.outcome,
                "message": c.message,
                "snapshot_date": c.snapshot_date,
            }
            for c in self.catalogs
        ]
        return pd.DataFrame(rows, columns=FETCH_COLUMNS)

    def pages_log(self) -> pd.DataFrame:
        """One row per page fetched: catalog, url, status, bytes, seconds, tries, error."""
        rows = [
            {
                "catalog": c.catalog,
                "url": p.url,
                "status": p.status,
                "bytes": p.bytes,
                "seconds": p.seconds,
                "tries": len(p.attempts),
                "error": p.error or "",
            }
            for c in self.catalogs
            for p in c.pages
        ]
        return pd.DataFrame(rows, columns=["catalog", "url", "status", "bytes", "seconds", "tries", "error"])


def _kept_message(part: Part | None, bundled: Snapshot) -> str:
    if part is None:
        return f"dùng bản chụp ngày {vn_date(bundled.date)} (bản kèm theo chương trình)"
    return f"dùng bản chụp ngày {vn_date(part.date)}"


def _in_use(key: str, part: Part | None, bundled: Snapshot) -> tuple[pd.DataFrame, str, str]:
    """(platforms with SNAPSHOT_COLUMNS, date, label) of the part of `key` in use."""
    if part is None:
        frame = bundled.platforms[bundled.platforms["catalog"] == key].copy()
        frame["first_seen"] = frame["last_seen"] = bundled.date
        return frame.assign(snapshot_date=bundled.date)[SNAPSHOT_COLUMNS], bundled.date, "bundled"
    frame = part.platforms()
    frame["last_seen"] = part.date
    return frame.assign(snapshot_date=part.date)[SNAPSHOT_COLUMNS], part.date, part.label


@dataclass
class _Pages:
    """What fetching the pages of one catalog gave."""

    items: list[dict] = field(default_factory=list)
    skipped: int = 0
    records: list[dict] = field(default_factory=list)
    problem: str | None = None


def _previous_pages(previous: Part | None) -> dict[str, tuple[dict, Path]]:
    """url -> (fetch record, body file) of the pages of the last good part, for conditional requests."""
    out = {}
    if previous is not None:
        for i, rec in enumerate(previous.page_records(), start=1):
            body_file = previous.folder / rec.get("body_file", f"page-{i:02d}.html")
            if rec.get("status") in (200, 304) and body_file.exists():
                out[rec["url"]] = (rec, body_file)
    return out


def _fetch_pages(
    source: CatalogSource,
    sources: Sources,
    fetcher,
    attempt: Attempt,
    store: SnapshotStore,
    previous: Part | None,
    result: CatalogResult,
) -> _Pages:
    """Follow the catalog's pages: fetch (conditionally), keep every response, parse; stop at the first problem."""
    out, visited, url = _Pages(), set(), source.url
    known_pages = _previous_pages(previous)
    for number in range(1, source.max_pages + 1):
        if number > 1 and sources.http.pause:
            time.sleep(sources.http.pause)
        cond, body_file = known_pages.get(url, ({}, None))
        headers = cond.get("headers") or {}
        rec = fetcher.get(url, etag=headers.get("etag"), last_modified=headers.get("last-modified"))
        entry = rec.to_json()
        if rec.not_modified and body_file is not None:
            rec.body = body_file.read_bytes()
            entry["replayed_from"] = str(body_file.relative_to(store.root))
            entry["bytes"], entry["sha256"] = len(rec.body), hashlib.sha256(rec.body).hexdigest()
        elif rec.not_modified:
            rec.error = entry["error"] = "máy chủ trả HTTP 304 nhưng không còn bản trang cũ để dùng lại"
        result.pages.append(rec)
        if rec.status is not None:
            result.folder = attempt.catalog_folder(source.key)
            entry["body_file"] = f"page-{number:02d}.html"
            (result.folder / entry["body_file"]).write_bytes(rec.body)
        out.records.append(entry)
        where = f"trang {number} ({url})" if number > 1 else url
        content_type = rec.headers.get("content-type", "")
        if not rec.ok:
            out.problem = f"{where}: {rec.error}"
        elif not rec.body:
            out.problem = f"{where}: máy chủ trả về trang trống (0 byte)"
        elif not is_html(content_type):
            out.problem = f"{where}: không phải trang HTML (Content-Type: {content_type})"
        if out.problem:
            return out
        base = rec.final_url or url
        try:
            page = parse_page(rec.body, base, source, charset(content_type))
        except Exception as exc:  # noqa: BLE001 - a page bs4 cannot read is a failed fetch
            out.problem = f"{where}: không đọc được trang ({type(exc).__name__}: {exc})"
            return out
        out.items.extend(dict(i, source=base) for i in page.items)
        out.skipped += page.skipped
        visited.update({url, base})
        if not page.next_url or page.next_url in visited:
            return out
        url = page.next_url
    out.problem = (
        f"vẫn còn trang sau {source.max_pages} trang (giới hạn max_pages); "
        "nếu danh mục thật sự dài hơn, hãy tăng max_pages trong tệp nguồn"
    )
    return out


def _believable(found: int, skipped: int, source: CatalogSource, guards: Guards, previous: Part | None) -> str | None:
    """Why `found` platforms are not believed, or None."""
    if found == 0:
        return f"{source.url}: không tìm thấy nền tảng nào theo bộ chọn “{source.item}”" + (
            f" ({skipped} mục không có tên)" if skipped else ""
        )
    if found < guards.min_items:
        return f"{source.url}: chỉ tìm thấy {found} nền tảng, dưới mức tối thiểu {guards.min_items}"
    before = len(previous.platforms()) if previous is not None else 0
    if previous is not None and found < guards.min_items_ratio * before:
        return (
            f"{source.url}: chỉ tìm thấy {found} nền tảng, ít hơn nhiều so với {before} nền tảng của bản chụp "
            f"ngày {vn_date(previous.date)} (dưới {format_number(guards.min_items_ratio * 100)}%); "
            "có thể trang đã đổi bố cục"
        )
    return None


def _ok_message(result: CatalogResult, found: int) -> str:
    notes = [f"tải được {found} nền tảng từ {len(result.pages)} trang"]
    if all(p.status == 304 for p in result.pages):
        notes.append("không thay đổi từ lần tải trước (HTTP 304)")
    if result.skipped:
        notes.append(f"bỏ qua {result.skipped} mục không có tên")
    if result.duplicates:
        notes.append(f"bỏ {result.duplicates} mục trùng tên")
    for i, p in enumerate(result.pages, start=1):
        if len(p.attempts) > 1:
            first = p.attempts[0].get("error") or f"HTTP {p.attempts[0].get('status')}"
            notes.append(f"trang {i} tải được sau {len(p.attempts)} lần thử (lần đầu: {first})")
    return "; ".join(notes)


def _fetch_catalog(
    source: CatalogSource,
    sources: Sources,
    fetcher,
    attempt: Attempt,
    store: SnapshotStore,
    previous: Part | None,
    known: dict[str, str],
    bundled: Snapshot,
    today: str,
) -> CatalogResult:
    """Fetch, parse and check one catalog; keep its part; a good part moves the pointer."""
    result = CatalogResult(
        catalog=source.key,
        title=source.title,
        url=source.url,
        outcome="failed",
        message="",
        snapshot_date="",
        snapshot="",
    )
    pages = _fetch_pages(source, sources, fetcher, attempt, store, previous, result)
    result.skipped = pages.skipped
    problem, platforms = pages.problem, None
    if problem is None:
        platforms, result.duplicates = assign_ids(
            pages.items, source.key, known, previous.platforms() if previous is not None else None
        )
        result.items = len(platforms)
        problem = _believable(len(platforms), pages.skipped, source, sources.guards, previous)
    meta = {
        "catalog": source.key,
        "date": today,
        "url": source.url,
        "sources": str(sources.path),
        "sources_sha256": sources.sha256,
        "pages": pages.records,
        "skipped": pages.skipped,
        "duplicates": result.duplicates,
        "items": result.items,
        "created_at": datetime.now(TZ).replace(tzinfo=None).isoformat(timespec="seconds"),
    }
    if problem is not None:
        result.message = f"không tải được danh mục: {problem}; {_kept_message(previous, bundled)}"
        if result.folder is not None:
            meta.update(status="failed", message=result.message)
            write_atomic(result.folder / "part.json", json.dumps(meta, ensure_ascii=False, indent=2))
        return result
    seen = first_seen(store, source.key, list(platforms["platform_id"]), today)
    platforms["first_seen"] = [seen[p] for p in platforms["platform_id"]]
    platforms["last_seen"] = today
    result.outcome, result.message = "ok", _ok_message(result, len(platforms))
    (result.folder / "platforms.json").write_text(
        json.dumps(platforms[COLUMNS + ["first_seen", "last_seen"]].to_dict("records"), ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    meta.update(status="good", message=result.message)
    write_atomic(result.folder / "part.json", json.dumps(meta, ensure_ascii=False, indent=2))
    store.mark_good(Part(source.key, today, result.folder, meta))
    return result


def scrape(
    sources: Path | str | Sources | None = None,
    *,
    offline: bool = False,
    reason: str | None = None,
    today: date | None = None,
    bundled: Snapshot | None = None,
    aliases: dict[str, str] | None = None,
    rename_threshold: float | None = None,
) -> ScrapeResult:
    """Fetch every catalog of the sources file (unless `offline`); return the outcome and the snapshot in use.

    `reason` words why nothing is fetched when offline (default: chạy ngoại tuyến). `today`
    dates the new snapshot folder (default: today in Asia/Ho_Chi_Minh).
    """
    src = sources if isinstance(sources, Sources) else load_sources(sources or SOURCES_FILE)
    store = SnapshotStore(src.snapshots)
    bundled = bundled or load_bundled()
    aliases = load_aliases() if aliases is None else aliases
    known = {
        **{a: p for a, p in aliases.items() if p in set(bundled.platforms["platform_id"])},
        **{fold(n): p for n, p in zip(bundled.platforms["name"], bundled.platforms["platform_id"])},
    }
    day = today or datetime.now(TZ).date()
    attempt = Attempt(store, day)
    results = []
    fetching = not offline and bool(src.catalogs)
    if fetching:
        from dxreport.catalog.fetch import Fetcher  # httpx is loaded only for a scrape that fetches

        fetcher_cm = Fetcher(src.http)
    else:
        fetcher_cm = contextlib.nullcontext()
    with fetcher_cm as fetcher:
        for key, title in CATALOGS.items():
            previous = store.last_good(key)
            source = src.catalogs.get(key)
            if source is not None and fetching:
                result = _fetch_catalog(source, src, fetcher, attempt, store, previous, known, bundled, day.isoformat())
                if result.outcome == "ok":
                    previous = store.last_good(key)
            else:
                if offline:
                    outcome, why = "offline", reason or "không tải danh mục (chạy ngoại tuyến)"
                else:
                    outcome, why = "not_configured", f"không có trong tệp nguồn {src.path.name}"
                result = CatalogResult(
                    catalog=key,
                    title=source.title if source else title,
                    url=source.url if source else "",
                    outcome=outcome,
                    message=f"{why}; {_kept_message(previous, bundled)}",
                    snapshot_date="",
                    snapshot="",
                )
            frame, used_date, label = _in_use(key, previous, bundled)
            result.platforms, result.snapshot_date, result.snapshot = frame, str(used_date), label
            result.part = previous
            results.append(result)
    snapshot = _merge(results, bundled)
    changes = []
    for result in results:
        before = store.previous_month(result.part) if result.part is not None else None
        if before is not None:
            changes.append(
                diff(
                    before.platforms(),
                    result.part.platforms(),
                    snapshot_date=str(result.part.date),
                    threshold=rename_threshold,
                )
            )
    changes = combine(changes)
    return ScrapeResult(sources=src.path, catalogs=results, snapshot=snapshot, changes=changes)


def _merge(results: list[CatalogResult], bundled: Snapshot) -> Snapshot:
    """The snapshot in use: every catalog's part, plus bundled platforms no scrape found."""
    frames = [r.platforms for r in results]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SNAPSHOT_COLUMNS)
    frame = frame.drop_duplicates("platform_id")  # a platform listed in two catalogs stays in the first
    dates = {r.catalog: r.snapshot_date for r in results}
    extra = bundled.platforms[~bundled.platforms["platform_id"].isin(set(frame["platform_id"]))].copy()
    if len(extra):
        extra["snapshot_date"] = extra["catalog"].map(dates).fillna(bundled.date)
        extra["first_seen"] = extra["last_seen"] = None
        frame = pd.concat([frame, extra[SNAPSHOT_COLUMNS]], ignore_index=True)
    frame = frame[SNAPSHOT_COLUMNS].reset_index(drop=True)
    origin = ", ".join(f"{r.catalog}: {r.snapshot}" for r in results)
    return Snapshot(date=min(dates.values()) if dates else bundled.date, origin=origin, platforms=frame)
