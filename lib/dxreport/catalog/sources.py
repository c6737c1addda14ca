"""The sources file, params/sources.yaml: where the catalogs are and how to read them (spec/catalog-sources.md).

The catalogs are web pages whose markup we do not control: their addresses, the CSS selectors
that read them, the HTTP settings and the guards are in this file, never in code.
`load_sources` reads and checks it; a mistake is a CatalogError naming the file, line and key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dxreport import __version__
from dxreport.catalog.model import CATALOGS, FIELDS, CatalogError
from dxreport.catalog.snapshots import SNAPSHOTS_DIR
from dxreport.paramcheck import read_yaml, yaml_error
from dxreport.params import SOURCES_FILE
from dxreport.textnorm import nfc

SOURCES_VERSION = 1


@dataclass(frozen=True)
class HttpSettings:
    """How the scraper talks HTTP (params/sources.yaml, section `http`). Times in seconds."""

    user_agent: str = "dxreport/{version} (monthly digital platform report; So TT&TT Thua Thien Hue)"
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    retries: int = 3  # tries after the first one
    backoff: float = 1.0  # wait before retry n (0-based): backoff * 2**n
    max_retry_after: float = 120.0  # a longer Retry-After fails the fetch; the longest backoff wait
    pause: float = 1.0  # between two pages of one catalog
    max_bytes: int = 5_000_000  # a larger body is refused
    max_redirects: int = 5

    def agent(self) -> str:
        """The User-Agent header, naming the workbook and its version (ASCII only)."""
        return self.user_agent.replace("{version}", __version__)


@dataclass(frozen=True)
class Selector:
    """A CSS selector, optionally `@attribute`: "h3", "a@href", "@href" (the item's own attribute)."""

    css: str
    attr: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Selector":
        """A selector from its text in the sources file."""
        css, _, attr = str(text).strip().rpartition("@") if "@" in str(text) else (str(text).strip(), "", "")
        return cls(css.strip(), attr.strip() or None)

    def __str__(self) -> str:
        return self.css + (f"@{self.attr}" if self.attr else "")


@dataclass(frozen=True)
class Guards:
    """When a fetch that worked is still not believed (params/sources.yaml, section `guards`)."""

    max_pages: int = 50  # default for a catalog without its own max_pages
    min_items: int = 1
    min_items_ratio: float = 0.5  # fewer than this share of the last good part's platforms: failure


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
    http: HttpSettings
    guards: Guards
    catalogs: dict[str, CatalogSource]


def _number(doc, keys: tuple, value: object, kind: type, minimum: float) -> float | int:
    where = ".".join(map(str, keys))
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (kind is int and not float(value).is_integer())
    ):
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
    path = Path(path).resolve()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"không đọc được tệp nguồn danh mục {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(yaml_error(path, exc)) from None
    doc = read_yaml(path, CatalogError, text)
    data = _check_keys(doc, (), {"version", "snapshots", "http", "guards", "catalogs"})
    version = data.get("version", SOURCES_VERSION)
    if isinstance(version, bool) or version != SOURCES_VERSION:
        doc.fail(
            ("version",),
            f"version {version!r} không được hỗ trợ; chỉ có version {SOURCES_VERSION} "
            "(spec/catalog-sources.md), hoặc bỏ khóa version",
        )
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
    guards = Guards(
        **{
            k: _number(doc, ("guards", k), v, type(getattr(Guards(), k)), 0 if k != "max_pages" else 1)
            for k, v in guards_data.items()
        }
    )
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
                doc.fail(
                    (*keys, "fields", name), f"{where}.fields.{name} phải là một bộ chọn CSS (chữ), không phải {text!r}"
                )
            sel = Selector.parse(text)
            _compile(doc, (*keys, "fields", name), sel.css)
            parsed[name] = sel
        if item.get("next") is not None and not isinstance(item["next"], str):
            doc.fail((*keys, "next"), f"{where}.next phải là một bộ chọn CSS (chữ), không phải {item['next']!r}")
        nxt = Selector.parse(item["next"]) if item.get("next") else None
        if nxt is not None:
            _compile(doc, (*keys, "next"), nxt.css)
        max_pages = (
            _number(doc, (*keys, "max_pages"), item["max_pages"], int, 1) if "max_pages" in item else guards.max_pages
        )
        title = item.get("title")
        if title is not None and not isinstance(title, str):
            doc.fail((*keys, "title"), f"{where}.title phải là chữ, không phải {title!r}")
        catalogs[key] = CatalogSource(
            key=key,
            title=nfc(title or CATALOGS[key]),
            url=url,
            item=selector,
            fields=parsed,
            next=nxt,
            max_pages=max_pages,
        )
    return Sources(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        snapshots=snapshots,
        http=HttpSettings(**http_values),
        guards=guards,
        catalogs=catalogs,
    )
