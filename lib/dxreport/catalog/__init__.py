"""The three MIC catalogs of digital platforms: fetching, parsing, snapshots, diffs, matching names.

The catalogs are web pages whose markup we do not control: where they are and how to read them
is in params/sources.yaml (spec/catalog-sources.md), never in code. A scrape fetches every
configured catalog, parses it with the configured CSS selectors, keeps everything under the
snapshots folder, and composes the snapshot in use and the changes since last month.

    model       the three catalogs, table columns, Snapshot, CatalogError
    sources     reading and checking the sources file (selectors, HTTP settings, guards)
    fetch       the HTTP client (timeouts, retries, size caps)
    parse       reading the platforms of a page with the selectors
    snapshots   the bundled snapshot, the dated snapshot folders, the last-good pointer
    ids         stable platform ids for scraped platforms
    match       matching a platform a unit names: id, name, alias, fuzzy name
    changes     platforms added, removed and renamed between two snapshots
    scraping    a scrape of every catalog, and the snapshot in use
    tables      CSV files, tables and a summary for people

The snapshot the warehouse holds is read by dxreport.store.catalog_in_use.
"""

from dxreport.catalog.changes import diff
from dxreport.catalog.ids import assign_ids, derived_id
from dxreport.catalog.match import DEFAULT_THRESHOLDS, Match, Matcher, load_aliases, similarity, thresholds
from dxreport.catalog.model import (
    CATALOGS,
    CHANGE_COLUMNS,
    CHANGES,
    COLUMNS,
    FETCH_COLUMNS,
    FIELDS,
    ID_PREFIX,
    OUTCOMES,
    SNAPSHOT_COLUMNS,
    TZ,
    CatalogError,
    Snapshot,
    vn_date,
)
from dxreport.catalog.parse import ParsedPage, parse_page
from dxreport.catalog.scraping import CatalogResult, ScrapeResult, scrape
from dxreport.catalog.snapshots import (
    BUNDLED_SNAPSHOT,
    POINTER,
    SNAPSHOTS_DIR,
    Attempt,
    Part,
    SnapshotStore,
    load_bundled,
)
from dxreport.catalog.sources import (
    SOURCES_VERSION,
    CatalogSource,
    Guards,
    HttpSettings,
    Selector,
    Sources,
    load_sources,
)
from dxreport.catalog.tables import changes_table, fetch_table, summary_markdown, write_csv

__all__ = [
    "BUNDLED_SNAPSHOT",
    "CATALOGS",
    "CHANGES",
    "CHANGE_COLUMNS",
    "COLUMNS",
    "DEFAULT_THRESHOLDS",
    "FETCH_COLUMNS",
    "FIELDS",
    "ID_PREFIX",
    "OUTCOMES",
    "POINTER",
    "SNAPSHOTS_DIR",
    "SNAPSHOT_COLUMNS",
    "SOURCES_VERSION",
    "TZ",
    "Attempt",
    "CatalogError",
    "CatalogResult",
    "CatalogSource",
    "Guards",
    "HttpSettings",
    "Match",
    "Matcher",
    "ParsedPage",
    "Part",
    "ScrapeResult",
    "Selector",
    "Snapshot",
    "SnapshotStore",
    "Sources",
    "assign_ids",
    "changes_table",
    "derived_id",
    "diff",
    "fetch_table",
    "load_aliases",
    "load_bundled",
    "load_sources",
    "parse_page",
    "scrape",
    "similarity",
    "summary_markdown",
    "thresholds",
    "vn_date",
    "write_csv",
]
