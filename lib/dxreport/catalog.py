"""The three MIC catalogs of digital platforms: fetching, parsing, snapshots, diffs, matching names.

The catalogs are web pages whose markup we do not control: where they are and how to read them
is in params/sources.yaml (spec/catalog-sources.md), never in code. A scrape fetches every
configured catalog (dxreport.fetch), parses it with the configured CSS selectors, and keeps
everything under the snapshots folder (default data/catalog/snapshots/):

    <YYYY-MM-DD>[.n]/<catalog>/page-01.html    the bytes of every response
                     <catalog>/part.json        every fetch (url, status, headers, time, bytes, sha256,
                                                attempts), the outcome and its message
                     <catalog>/platforms.json   the parsed platforms (good parts only)
    last_good.json                              catalog -> folder of its last good part

A fetch that fails (network, HTTP, timeout, no items, far fewer items than last time) never
replaces the last good part of its catalog; the run goes on with it (or with the bundled
snapshot, data/catalog/bundled.yaml, when there is none) and says which date it used. A
scrape's folder is made (exclusive mkdir) when the first response comes back and never reused.

The changes of a month compare each catalog's part in use with the newest good part of that
catalog dated in an earlier calendar month.

The snapshot in use is, for each catalog, its last good part, plus the bundled platforms that no
scrape found (the province's own list, e.g. Hue-S). Scraped platforms keep their bundled id
when their name or an alias matches, else the id of the same link or name last time, else a
new id from the catalog and the folded name, so an id survives from month to month.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import html
import json
import re
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
import yaml
from rapidfuzz import fuzz

from dxreport.fileio import write_atomic
from dxreport.params import DATA_DIR, PARAMS_DIR, SOURCES_FILE, load_settings
from dxreport.textnorm import fold, format_number, nfc

CATALOGS = {
    "chinh_quyen": "Nền tảng số phục vụ chính quyền",
    "doanh_nghiep": "Nền tảng số phục vụ doanh nghiệp",
    "nguoi_dan": "Nền tảng số phục vụ người dân",
}
ID_PREFIX = {"chinh_quyen": "cq", "doanh_nghiep": "dn", "nguoi_dan": "nd"}
BUNDLED_SNAPSHOT = DATA_DIR / "catalog" / "bundled.yaml"
SNAPSHOTS_DIR = DATA_DIR / "catalog" / "snapshots"
COLUMNS = ["platform_id", "catalog", "name", "provider", "field", "link", "source"]
SNAPSHOT_COLUMNS = COLUMNS + ["snapshot_date", "first_seen", "last_seen"]
FETCH_COLUMNS = ["month", "catalog", "url", "status", "fetched_at", "bytes", "items", "outcome", "message",
                 "snapshot_date"]
CHANGE_COLUMNS = ["change", "platform_id", "catalog", "name", "previous_name", "snapshot_date"]
CHANGES = {"added": "thêm mới", "removed": "không còn trong danh mục", "renamed": "đổi tên"}
OUTCOMES = {"ok": "tải được", "failed": "lỗi, giữ bản chụp cũ", "offline": "không tải (ngoại tuyến)",
            "not_configured": "không có trong tệp nguồn"}
FIELDS = ("name", "provider", "link", "field")
SOURCES_VERSION = 1
DEFAULT_THRESHOLDS = {"fuzzy_threshold": 0.9, "rename_threshold": 0.8}
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
POINTER = "last_good.json"


class CatalogError(ValueError):
    """A catalog snapshot, sources or aliases file that is not valid."""


@dataclass(frozen=True)
class Snapshot:
    """A catalog snapshot: its date, where it came from and its platforms.

    `platforms` has COLUMNS; a snapshot in use (ScrapeResult.snapshot) also has snapshot_date
    (per row: the date of its catalog's part), first_seen and last_seen. `date` is the oldest
    part date.
    """

    date: str
    origin: str
    platforms: pd.DataFrame


def vn_date(value: object) -> str:
    """`2023-01-05` → `05/01/2023`."""
    return pd.Timestamp(str(value)).strftime("%d/%m/%Y")


# --------------------------------------------------------------------------- bundled, aliases, settings

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


# --------------------------------------------------------------------------- matching unit names

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
        return self[0]

    @property
    def how(self) -> str:
        return self[1]

    def note(self, name: object) -> str:
        """The Vietnamese warning for a fuzzy match of `name`."""
        from dxreport.textnorm import format_percent

        return (f"nền tảng “{nfc(name)}” không khớp đúng tên nào trong danh mục; được coi là “{self.candidate}” "
                f"(mã {self.platform_id}, giống {format_percent(self.score * 100)}). Nếu đúng, hãy thêm tên này vào "
                "params/platform_aliases.yaml; nếu sai, hãy ghi mã nền tảng.")

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
        self._choices = {**self._aliases, **self._names}     # folded name or alias -> platform id

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


# --------------------------------------------------------------------------- sources file

@dataclass(frozen=True)
class Selector:
    """A CSS selector, optionally `@attribute`: "h3", "a@href", "@href" (the item's own attribute)."""

    css: str
    attr: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Selector":
        css, _, attr = str(text).strip().rpartition("@") if "@" in str(text) else (str(text).strip(), "", "")
        return cls(css.strip(), attr.strip() or None)

    def __str__(self) -> str:
        return self.css + (f"@{self.attr}" if self.attr else "")


@dataclass(frozen=True)
class Guards:
    """When a fetch that worked is still not believed (params/sources.yaml, section `guards`)."""

    max_pages: int = 50             # default for a catalog without its own max_pages
    min_items: int = 1
    min_items_ratio: float = 0.5    # fewer than this share of the last good part's platforms: failure


@dataclass(frozen=True)
class CatalogSource:
    """Where one catalog is and how to read it."""

    key: str
    title: str
    url: str
    item: str
    fields: dict[str, Selector]
    next: Selector | None
    max_pages: int


@dataclass(frozen=True)
class Sources:
    """A validated params/sources.yaml."""

    path: Path
    sha256: str
    snapshots: Path
    http: object                    # dxreport.fetch.HttpSettings
    guards: Guards
    catalogs: dict[str, CatalogSource]


def _number(doc, keys: tuple, value: object, kind: type, minimum: float) -> float | int:
    where = ".".join(map(str, keys))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not float(value).is_integer()):
        doc.fail(keys, f"{where} phải là số{' nguyên' if kind is int else ''}, không phải {value!r}")
    if value < minimum:
        doc.fail(keys, f"{where} phải ≥ {minimum:g}, không phải {value!r}")
    return kind(value)


def _check_keys(doc, keys: tuple, allowed: set[str]) -> dict:
    data = doc.data
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    where = ".".join(map(str, keys)) or "tệp"
    if data is None and keys:
        return {}
    if not isinstance(data, dict):
        doc.fail(keys, f"{where} phải là một bảng khóa: giá trị")
    for key in data:
        if str(key) not in allowed:
            doc.fail((*keys, key), f"{where}: khóa không được hỗ trợ {key}; chỉ nhận: {', '.join(sorted(allowed))}")
    return data


def _compile(doc, keys: tuple, css: str) -> None:
    from bs4 import BeautifulSoup

    if not css:
        return
    try:
        BeautifulSoup("", "html.parser").css.compile(css)
    except Exception as exc:  # soupsieve.SelectorSyntaxError and friends
        first = str(exc).splitlines()[0]
        doc.fail(keys, f"{'.'.join(map(str, keys))}: bộ chọn CSS “{css}” không hợp lệ ({first})")


def load_sources(path: Path | str = SOURCES_FILE) -> Sources:
    """Read and check a sources file (spec/catalog-sources.md, version 1); CatalogError says where.

    A file without `version` is version 1; another version is refused. Every key the spec's
    example omits has a default: snapshots (data/catalog/snapshots), http, guards, and in a
    catalog title, next and max_pages (guards.max_pages); a field other than name is optional.
    The message names the file, the line and the key: "<file>, dòng 3: catalogs.nguoi_dan.url …".
    """
    from dxreport.fetch import HttpSettings
    from dxreport.paramcheck import read_yaml

    path = Path(path).resolve()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"không đọc được tệp nguồn danh mục {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        from dxreport.paramcheck import yaml_error

        raise CatalogError(yaml_error(path, exc)) from None
    doc = read_yaml(path, CatalogError, text)
    data = _check_keys(doc, (), {"version", "snapshots", "http", "guards", "catalogs"})
    version = data.get("version", SOURCES_VERSION)
    if isinstance(version, bool) or version != SOURCES_VERSION:
        doc.fail(("version",), f"version {version!r} không được hỗ trợ; chỉ có version {SOURCES_VERSION} "
                               "(spec/catalog-sources.md), hoặc bỏ khóa version")
    snapshots = data.get("snapshots")
    if snapshots is not None and (not isinstance(snapshots, str) or not snapshots.strip()):
        doc.fail(("snapshots",), f"snapshots phải là một đường dẫn thư mục, không phải {snapshots!r}")
    snapshots = (path.parent / str(snapshots)).resolve() if snapshots else SNAPSHOTS_DIR
    defaults = HttpSettings()
    http_data = _check_keys(doc, ("http",), set(HttpSettings.__dataclass_fields__))
    http_values = {}
    for key, value in http_data.items():
        default = getattr(defaults, key)
        if key == "user_agent":
            if not isinstance(value, str) or not value.strip() or not value.isascii():
                doc.fail(("http", key), "http.user_agent phải là chữ ASCII không rỗng")
            http_values[key] = value.strip()
        else:
            http_values[key] = _number(doc, ("http", key), value, type(default), 0)
    guards_data = _check_keys(doc, ("guards",), set(Guards.__dataclass_fields__))
    guards = Guards(**{k: _number(doc, ("guards", k), v, type(getattr(Guards(), k)), 0 if k != "max_pages" else 1)
                       for k, v in guards_data.items()})
    catalogs_data = data.get("catalogs")
    if not catalogs_data:
        doc.fail(("catalogs",), f"thiếu mục catalogs (các khóa hợp lệ: {', '.join(CATALOGS)})")
    _check_keys(doc, ("catalogs",), set(CATALOGS))
    catalogs = {}
    for key in catalogs_data:
        keys = ("catalogs", key)
        where = f"catalogs.{key}"
        if not isinstance(catalogs_data[key], dict):
            doc.fail(keys, f"{where} phải là một bảng khóa: giá trị (url, item, fields, …)")
        item = _check_keys(doc, keys, {"title", "url", "item", "fields", "next", "max_pages"})
        url = str(item.get("url") or "").strip()
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            doc.fail((*keys, "url"), f"{where}.url phải là địa chỉ http(s) đầy đủ, không phải {url!r}")
        selector = item.get("item")
        if not isinstance(selector, str) or not selector.strip():
            doc.fail((*keys, "item"), f"{where}.item: thiếu bộ chọn CSS cho mỗi nền tảng")
        selector = selector.strip()
        _compile(doc, (*keys, "item"), selector)
        fields = _check_keys(doc, (*keys, "fields"), set(FIELDS))
        if not fields.get("name"):
            doc.fail((*keys, "fields"), f"{where}.fields.name: thiếu bộ chọn tên nền tảng (bắt buộc)")
        parsed = {}
        for name, text in fields.items():
            if not isinstance(text, str) or not text.strip():
                doc.fail((*keys, "fields", name), f"{where}.fields.{name} phải là một bộ chọn CSS (chữ), "
                                                  f"không phải {text!r}")
            sel = Selector.parse(text)
            _compile(doc, (*keys, "fields", name), sel.css)
            parsed[name] = sel
        if item.get("next") is not None and not isinstance(item["next"], str):
            doc.fail((*keys, "next"), f"{where}.next phải là một bộ chọn CSS (chữ), không phải {item['next']!r}")
        nxt = Selector.parse(item["next"]) if item.get("next") else None
        if nxt is not None:
            _compile(doc, (*keys, "next"), nxt.css)
        max_pages = _number(doc, (*keys, "max_pages"), item["max_pages"], int, 1) if "max_pages" in item \
            else guards.max_pages
        title = item.get("title")
        if title is not None and not isinstance(title, str):
            doc.fail((*keys, "title"), f"{where}.title phải là chữ, không phải {title!r}")
        catalogs[key] = CatalogSource(key=key, title=nfc(title or CATALOGS[key]), url=url, item=selector,
                                      fields=parsed, next=nxt, max_pages=max_pages)
    return Sources(path=path, sha256=hashlib.sha256(raw).hexdigest(), snapshots=snapshots,
                   http=HttpSettings(**http_values), guards=guards, catalogs=catalogs)


# --------------------------------------------------------------------------- parsing a page

@dataclass
class ParsedPage:
    """The platforms of one page, the items skipped for lack of a name, and the next page."""

    items: list[dict]
    skipped: int
    next_url: str | None


_SAFE_SCHEMES = ("http", "https")


def _value(element, sel: Selector, base_url: str):
    target = element if not sel.css else element.select_one(sel.css)
    if target is None:
        return ""
    if sel.attr:
        value = target.get(sel.attr)
        if isinstance(value, list):
            value = " ".join(value)
        value = nfc(value)
        if value and sel.attr.lower() in ("href", "src"):
            value = urljoin(base_url, value)
        return value
    return nfc(target.get_text(" ", strip=True))


def _safe_link(value: str, base_url: str) -> str:
    if not value:
        return ""
    value = urljoin(base_url, value)
    return value if urlsplit(value).scheme in _SAFE_SCHEMES else ""


def parse_page(body: bytes, base_url: str, source: CatalogSource, encoding: str | None = None) -> ParsedPage:
    """Read the platforms of one catalog page with the source's selectors.

    Text is whitespace-collapsed and NFC; relative links are resolved against `base_url`; a
    link that is not http(s) is dropped. An item without a name is skipped and counted.
    """
    from bs4 import BeautifulSoup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(body, "html.parser", from_encoding=encoding or None)
    items, skipped = [], 0
    for element in soup.select(source.item):
        values = {name: _value(element, sel, base_url) for name, sel in source.fields.items()}
        if not values.get("name"):
            skipped += 1
            continue
        values["link"] = _safe_link(values.get("link", ""), base_url)
        items.append({name: values.get(name, "") for name in FIELDS})
    next_url = None
    if source.next is not None:
        found = _value(soup, source.next, base_url)
        next_url = _safe_link(found, base_url) or None
    return ParsedPage(items, skipped, next_url)


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=([\w.:-]+)", content_type or "", re.I)
    return match.group(1) if match else None


def _is_html(content_type: str) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return not kind or kind.startswith("text/") or "html" in kind or "xml" in kind


# --------------------------------------------------------------------------- snapshot folders

@dataclass
class Part:
    """One catalog in one snapshot folder."""

    catalog: str
    date: str
    folder: Path
    meta: dict

    @property
    def good(self) -> bool:
        return self.meta.get("status") == "good"

    @property
    def label(self) -> str:
        return f"{self.folder.parent.name}/{self.folder.name}"

    def platforms(self) -> pd.DataFrame:
        path = self.folder / "platforms.json"
        rows = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        frame = pd.DataFrame(rows, columns=COLUMNS + ["first_seen", "last_seen"])
        return frame.fillna("")

    def page_records(self) -> list[dict]:
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
        for folder in sorted((p for p in self.root.iterdir() if p.is_dir() and self._NAME.match(p.name)),
                             key=lambda p: _folder_key(p.name)):
            part = self._read(folder / catalog)
            if part is not None and (part.good or not good_only):
                out.append(part)
        return out

    def _read(self, folder: Path) -> Part | None:
        try:
            meta = json.loads((folder / "part.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Part(catalog=folder.name, date=str(meta.get("date") or folder.parent.name[:10]), folder=folder,
                    meta=meta)

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


# --------------------------------------------------------------------------- ids and diffs

def _slug(key: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-")
    if len(slug) > 48:
        slug = slug[:40].rstrip("-") + "-" + hashlib.sha1(key.encode()).hexdigest()[:6]
    return slug or hashlib.sha1(key.encode()).hexdigest()[:8]


def derived_id(catalog: str, name: str) -> str:
    """The id of a platform no earlier snapshot knows: catalog prefix + slug of the folded name."""
    return f"{ID_PREFIX[catalog]}-{_slug(fold(name))}"


def _link_key(link: object) -> str:
    return str(link or "").strip().rstrip("/").lower()


def assign_ids(items: list[dict], catalog: str, known: dict[str, str],
               previous: pd.DataFrame | None = None) -> tuple[pd.DataFrame, int]:
    """Give every parsed item a stable platform id; returns (platforms, duplicates dropped).

    In order: the bundled id of the same folded name or alias (`known`), the id the last good
    part gave the same link, or the same folded name, then derived_id. Two items with the same
    folded name are one platform (the second is dropped and counted).
    """
    prev_by_link, prev_by_name = {}, {}
    if previous is not None and len(previous):
        for pid, name, link in zip(previous["platform_id"], previous["name"], previous["link"]):
            if _link_key(link):
                prev_by_link.setdefault(_link_key(link), pid)
            prev_by_name.setdefault(fold(name), pid)
    rows, used, names, duplicates = [], set(), set(), 0
    for item in items:
        key = fold(item["name"])
        if key in names:
            duplicates += 1
            continue
        names.add(key)
        candidates = [known.get(key), prev_by_link.get(_link_key(item.get("link"))), prev_by_name.get(key),
                      derived_id(catalog, item["name"])]
        pid = next((c for c in candidates if c and c not in used), None)
        if pid is None:
            pid = f"{derived_id(catalog, item['name'])}-{hashlib.sha1((key + '|' + str(item.get('link'))).encode()).hexdigest()[:6]}"
        used.add(pid)
        rows.append({"platform_id": pid, "catalog": catalog, **{f: item.get(f, "") for f in FIELDS},
                     "source": item.get("source", "")})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame, duplicates


def diff(previous: pd.DataFrame, current: pd.DataFrame, *, snapshot_date: str,
         threshold: float | None = None) -> pd.DataFrame:
    """Platforms added, removed and renamed from `previous` to `current` (CHANGE_COLUMNS).

    Renamed: the same id with another name; or a removed and an added platform of the same
    catalog with the same link, or whose names are at least `threshold` alike (default
    params/settings.yaml catalog.rename_threshold), best pairs first.
    """
    threshold = thresholds()["rename_threshold"] if threshold is None else threshold
    prev = {r["platform_id"]: r for r in previous.to_dict("records")}
    cur = {r["platform_id"]: r for r in current.to_dict("records")}
    rows = []

    def row(change, r, previous_name=None):
        rows.append({"change": change, "platform_id": r["platform_id"], "catalog": r["catalog"], "name": r["name"],
                     "previous_name": previous_name, "snapshot_date": snapshot_date})

    for pid in cur.keys() & prev.keys():
        if nfc(cur[pid]["name"]) != nfc(prev[pid]["name"]):
            row("renamed", cur[pid], prev[pid]["name"])
    removed = [prev[p] for p in prev if p not in cur]
    added = [cur[p] for p in cur if p not in prev]
    pairs = []
    for r in removed:
        for a in added:
            if r["catalog"] != a["catalog"]:
                continue
            same_link = bool(_link_key(r.get("link"))) and _link_key(r.get("link")) == _link_key(a.get("link"))
            score = 2.0 if same_link else similarity(r["name"], a["name"])
            if score >= threshold:
                pairs.append((score, r["platform_id"], a["platform_id"], r, a))
    taken_r, taken_a = set(), set()
    for _, rid, aid, r, a in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if rid in taken_r or aid in taken_a:
            continue
        taken_r.add(rid)
        taken_a.add(aid)
        row("renamed", a, r["name"])
    for a in added:
        if a["platform_id"] not in taken_a:
            row("added", a)
    for r in removed:
        if r["platform_id"] not in taken_r:
            row("removed", r)
    order = {c: i for i, c in enumerate(CHANGES)}
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    if len(frame):
        frame = frame.sort_values(["catalog", "change", "name"], key=lambda c: c.map(order) if c.name == "change"
                                  else c.map(fold)).reset_index(drop=True)
    return _none_for_missing(frame)


def _none_for_missing(frame: pd.DataFrame) -> pd.DataFrame:
    frame["previous_name"] = frame["previous_name"].astype(object).where(frame["previous_name"].notna(), None)
    return frame


# --------------------------------------------------------------------------- scraping

@dataclass
class CatalogResult:
    """What happened to one catalog in one scrape, and which part is in use."""

    catalog: str
    title: str
    url: str
    outcome: str                       # ok | failed | offline | not_configured
    message: str
    snapshot_date: str                 # the date of the part in use
    snapshot: str                      # folder of the part in use, or 'bundled'
    items: int | None = None           # platforms found by this fetch
    skipped: int = 0                   # items without a name
    duplicates: int = 0
    pages: list = field(default_factory=list)    # FetchRecord of every page fetched
    folder: Path | None = None         # where this attempt's pages were kept
    platforms: pd.DataFrame | None = None        # the part in use
    part: Part | None = None                     # None when the bundled snapshot is in use

    @property
    def status(self) -> int | None:
        return self.pages[-1].status if self.pages else None

    @property
    def fetched_at(self) -> str | None:
        return self.pages[0].fetched_at if self.pages else None

    @property
    def bytes(self) -> int:
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
        return [c for c in self.catalogs if c.outcome == "failed"]

    def fetch_log(self, month: str | None = None) -> pd.DataFrame:
        """One row per catalog, the columns of the warehouse table catalog_fetches."""
        rows = [{"month": month, "catalog": c.catalog, "url": c.url, "status": c.status, "fetched_at": c.fetched_at,
                 "bytes": c.bytes, "items": c.items, "outcome": c.outcome, "message": c.message,
                 "snapshot_date": c.snapshot_date} for c in self.catalogs]
        return pd.DataFrame(rows, columns=FETCH_COLUMNS)

    def pages_log(self) -> pd.DataFrame:
        """One row per page fetched: catalog, url, status, bytes, seconds, tries, error."""
        rows = [{"catalog": c.catalog, "url": p.url, "status": p.status, "bytes": p.bytes, "seconds": p.seconds,
                 "tries": len(p.attempts), "error": p.error or ""} for c in self.catalogs for p in c.pages]
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


def _first_seen(store: SnapshotStore, catalog: str, ids: list[str], today: str) -> dict[str, str]:
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


def _fetch_pages(source: CatalogSource, sources: Sources, fetcher, attempt: Attempt, store: SnapshotStore,
                 previous: Part | None, result: CatalogResult) -> _Pages:
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
        elif not _is_html(content_type):
            out.problem = f"{where}: không phải trang HTML (Content-Type: {content_type})"
        if out.problem:
            return out
        base = rec.final_url or url
        try:
            page = parse_page(rec.body, base, source, _charset(content_type))
        except Exception as exc:  # noqa: BLE001 - a page bs4 cannot read is a failed fetch
            out.problem = f"{where}: không đọc được trang ({type(exc).__name__}: {exc})"
            return out
        out.items.extend(dict(i, source=base) for i in page.items)
        out.skipped += page.skipped
        visited.update({url, base})
        if not page.next_url or page.next_url in visited:
            return out
        url = page.next_url
    out.problem = (f"vẫn còn trang sau {source.max_pages} trang (giới hạn max_pages); "
                   "nếu danh mục thật sự dài hơn, hãy tăng max_pages trong tệp nguồn")
    return out


def _believable(found: int, skipped: int, source: CatalogSource, guards: Guards, previous: Part | None) -> str | None:
    """Why `found` platforms are not believed, or None."""
    if found == 0:
        return (f"{source.url}: không tìm thấy nền tảng nào theo bộ chọn “{source.item}”"
                + (f" ({skipped} mục không có tên)" if skipped else ""))
    if found < guards.min_items:
        return f"{source.url}: chỉ tìm thấy {found} nền tảng, dưới mức tối thiểu {guards.min_items}"
    before = len(previous.platforms()) if previous is not None else 0
    if previous is not None and found < guards.min_items_ratio * before:
        return (f"{source.url}: chỉ tìm thấy {found} nền tảng, ít hơn nhiều so với {before} nền tảng của bản chụp "
                f"ngày {vn_date(previous.date)} (dưới {format_number(guards.min_items_ratio * 100)}%); "
                "có thể trang đã đổi bố cục")
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


def _fetch_catalog(source: CatalogSource, sources: Sources, fetcher, attempt: Attempt, store: SnapshotStore,
                   previous: Part | None, known: dict[str, str], bundled: Snapshot, today: str) -> CatalogResult:
    """Fetch, parse and check one catalog; keep its part; a good part moves the pointer."""
    result = CatalogResult(catalog=source.key, title=source.title, url=source.url, outcome="failed", message="",
                           snapshot_date="", snapshot="")
    pages = _fetch_pages(source, sources, fetcher, attempt, store, previous, result)
    result.skipped = pages.skipped
    problem, platforms = pages.problem, None
    if problem is None:
        platforms, result.duplicates = assign_ids(pages.items, source.key, known,
                                                  previous.platforms() if previous is not None else None)
        result.items = len(platforms)
        problem = _believable(len(platforms), pages.skipped, source, sources.guards, previous)
    meta = {"catalog": source.key, "date": today, "url": source.url, "sources": str(sources.path),
            "sources_sha256": sources.sha256, "pages": pages.records, "skipped": pages.skipped,
            "duplicates": result.duplicates, "items": result.items,
            "created_at": datetime.now(TZ).replace(tzinfo=None).isoformat(timespec="seconds")}
    if problem is not None:
        result.message = f"không tải được danh mục: {problem}; {_kept_message(previous, bundled)}"
        if result.folder is not None:
            meta.update(status="failed", message=result.message)
            write_atomic(result.folder / "part.json", json.dumps(meta, ensure_ascii=False, indent=2))
        return result
    seen = _first_seen(store, source.key, list(platforms["platform_id"]), today)
    platforms["first_seen"] = [seen[p] for p in platforms["platform_id"]]
    platforms["last_seen"] = today
    result.outcome, result.message = "ok", _ok_message(result, len(platforms))
    (result.folder / "platforms.json").write_text(
        json.dumps(platforms[COLUMNS + ["first_seen", "last_seen"]].to_dict("records"), ensure_ascii=False, indent=1),
        encoding="utf-8")
    meta.update(status="good", message=result.message)
    write_atomic(result.folder / "part.json", json.dumps(meta, ensure_ascii=False, indent=2))
    store.mark_good(Part(source.key, today, result.folder, meta))
    return result


def scrape(sources: Path | str | Sources | None = None, *, offline: bool = False, reason: str | None = None,
           today: date | None = None, bundled: Snapshot | None = None, aliases: dict[str, str] | None = None,
           rename_threshold: float | None = None) -> ScrapeResult:
    """Fetch every catalog of the sources file (unless `offline`); return the outcome and the snapshot in use.

    `reason` words why nothing is fetched when offline (default: chạy ngoại tuyến). `today`
    dates the new snapshot folder (default: today in Asia/Ho_Chi_Minh).
    """
    src = sources if isinstance(sources, Sources) else load_sources(sources or SOURCES_FILE)
    store = SnapshotStore(src.snapshots)
    bundled = bundled or load_bundled()
    aliases = load_aliases() if aliases is None else aliases
    known = {**{a: p for a, p in aliases.items() if p in set(bundled.platforms["platform_id"])},
             **{fold(n): p for n, p in zip(bundled.platforms["name"], bundled.platforms["platform_id"])}}
    day = today or datetime.now(TZ).date()
    attempt = Attempt(store, day)
    results = []
    fetching = not offline and bool(src.catalogs)
    if fetching:
        from dxreport.fetch import Fetcher

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
                result = CatalogResult(catalog=key, title=source.title if source else title,
                                       url=source.url if source else "", outcome=outcome,
                                       message=f"{why}; {_kept_message(previous, bundled)}", snapshot_date="",
                                       snapshot="")
            frame, used_date, label = _in_use(key, previous, bundled)
            result.platforms, result.snapshot_date, result.snapshot = frame, str(used_date), label
            result.part = previous
            results.append(result)
    snapshot = _merge(results, bundled)
    changes = []
    for result in results:
        before = store.previous_month(result.part) if result.part is not None else None
        if before is not None:
            changes.append(diff(before.platforms(), result.part.platforms(), snapshot_date=str(result.part.date),
                                threshold=rename_threshold))
    changes = pd.concat(changes, ignore_index=True) if changes else pd.DataFrame(columns=CHANGE_COLUMNS)
    changes = _none_for_missing(changes)
    return ScrapeResult(sources=src.path, catalogs=results, snapshot=snapshot, changes=changes)


def _merge(results: list[CatalogResult], bundled: Snapshot) -> Snapshot:
    """The snapshot in use: every catalog's part, plus bundled platforms no scrape found."""
    frames = [r.platforms for r in results]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SNAPSHOT_COLUMNS)
    frame = frame.drop_duplicates("platform_id")      # a platform listed in two catalogs stays in the first
    dates = {r.catalog: r.snapshot_date for r in results}
    extra = bundled.platforms[~bundled.platforms["platform_id"].isin(set(frame["platform_id"]))].copy()
    if len(extra):
        extra["snapshot_date"] = extra["catalog"].map(dates).fillna(bundled.date)
        extra["first_seen"] = extra["last_seen"] = None
        frame = pd.concat([frame, extra[SNAPSHOT_COLUMNS]], ignore_index=True)
    frame = frame[SNAPSHOT_COLUMNS].reset_index(drop=True)
    origin = ", ".join(f"{r.catalog}: {r.snapshot}" for r in results)
    return Snapshot(date=min(dates.values()) if dates else bundled.date, origin=origin, platforms=frame)


def in_use(warehouse_path: Path | str) -> Snapshot:
    """The snapshot the warehouse's catalog table holds (what 01_scrape loaded); bundled when empty."""
    from dxreport import store

    path = Path(warehouse_path)
    if not path.exists():
        return load_bundled()
    with store.connect(path, read_only=True) as con:
        tables = {t for t, in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        frame = store.table_frame(con, "catalog") if "catalog" in tables else pd.DataFrame()
    if frame.empty:
        return load_bundled()
    for c in ("snapshot_date", "first_seen", "last_seen"):
        if c in frame.columns:
            frame[c] = [None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in frame[c]]
    for c in ("provider", "field", "link", "source"):
        frame[c] = frame[c].fillna("")
    return Snapshot(date=min(d for d in frame["snapshot_date"] if d), origin=f"warehouse:{path.name}",
                    platforms=frame.reset_index(drop=True))


# --------------------------------------------------------------------------- tables for people

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _neutral(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA) else value


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """A CSV for spreadsheets (UTF-8 with BOM), text cells that look like formulas neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.map(_neutral).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def fetch_table(result: ScrapeResult) -> pd.DataFrame:
    """The fetch log for a reader: one row per catalog, Vietnamese headers."""
    return pd.DataFrame({
        "Danh mục": [c.title for c in result.catalogs],
        "Kết quả": [OUTCOMES[c.outcome] for c in result.catalogs],
        "Nền tảng tìm thấy": [format_number(c.items) if c.items is not None else "–" for c in result.catalogs],
        "Bản chụp dùng": [vn_date(c.snapshot_date) for c in result.catalogs],
        "Ghi chú": [c.message for c in result.catalogs],
    })


def changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """Catalog changes for a reader, Vietnamese headers."""
    return pd.DataFrame({
        "Danh mục": [CATALOGS.get(c, c) for c in changes["catalog"]],
        "Thay đổi": [CHANGES[c] for c in changes["change"]],
        "Nền tảng": list(changes["name"]),
        "Tên trước đây": [n if isinstance(n, str) and n else "" for n in changes["previous_name"]],
        "Mã": list(changes["platform_id"]),
    })


def summary_markdown(result: ScrapeResult) -> str:
    """A short Markdown summary of the scrape (scraped text escaped)."""
    lines = []
    for c in result.catalogs:
        count = int((result.snapshot.platforms["catalog"] == c.catalog).sum())
        lines.append(f"- **{html.escape(c.title)}**: {html.escape(OUTCOMES[c.outcome])}; {format_number(count)} nền tảng "
                     f"đang dùng, bản chụp ngày {vn_date(c.snapshot_date)}. {html.escape(c.message)}")
    counts = result.changes["change"].value_counts() if len(result.changes) else pd.Series(dtype=int)
    if len(result.changes):
        lines.append("- Thay đổi so với tháng trước: " + ", ".join(
            f"{format_number(int(counts[k]))} {v}" for k, v in CHANGES.items() if k in counts) + ".")
    else:
        lines.append("- Không có thay đổi nào so với bản chụp tháng trước (hoặc chưa có bản chụp tháng trước).")
    return "\n".join(lines)
