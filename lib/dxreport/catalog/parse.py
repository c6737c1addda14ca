"""Reading the platforms of one catalog page with the selectors of the sources file."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from dxreport.catalog.model import FIELDS
from dxreport.catalog.sources import CatalogSource, Selector
from dxreport.textnorm import nfc


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


def charset(content_type: str) -> str | None:
    """The charset a Content-Type header names, or None."""
    match = re.search(r"charset=([\w.:-]+)", content_type or "", re.I)
    return match.group(1) if match else None


def is_html(content_type: str) -> bool:
    """Whether a Content-Type may be an HTML page (an empty one may)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    return not kind or kind.startswith("text/") or "html" in kind or "xml" in kind
