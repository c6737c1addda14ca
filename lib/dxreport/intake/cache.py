"""The parse cache: what reading one file produced, kept by its content and reused.

Reading a workbook (read_submission) depends only on its bytes, its name (every message quotes
it, and an old Office file's extension decides between two rules), the month, the reader, the
units registry, the platform matcher (catalog snapshot, aliases, threshold), the `submission`
section of the settings and the code and libraries that read it. A month rerun after one unit
resent its file reads every other file again with all of these unchanged: the cache gives back
the same Submission without opening the workbook.

Each entry is one JSON file, <folder>/<sha256 of the content>-<key>.json, where the key is a
hash of everything above but the content (`parse_key`, then the file name). The folder is
beside the raw archive (<raw>/parsed, see read_month). What depends on where and when the file
arrived (its path, received time, archived copy) is never stored: it is set again by the caller.
An entry is written atomically and only trusted when its shape is exactly what `encode` writes
(a damaged, truncated, oversized or older entry is ignored and rebuilt); nothing is unpickled.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import sys
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from dxreport.catalog import Matcher
from dxreport.fileio import write_atomic
from dxreport.intake.readers import DEFAULT_READER
from dxreport.intake.records import FACT_COLUMNS, Submission
from dxreport.intake.submission import read_submission
from dxreport.units import Registry

log = logging.getLogger("dxreport.intake")

CACHE_DIR = "parsed"
# The version of an entry's layout; an entry of another version is ignored.
CACHE_FORMAT = 1
# An entry larger than this is not read (and not written): a form's facts take far less.
MAX_ENTRY_BYTES = 64 * 1024 * 1024

# The modules whose code shapes what reading a file gives, besides the intake package itself.
_READING_MODULES = ("catalog/match.py", "forms.py", "labels.py", "months.py", "params.py", "textnorm.py", "units.py")
_LIBRARIES = ("openpyxl", "python-calamine", "defusedxml", "rapidfuzz")
_ISSUE_KEYS = ("file_name", "sheet", "cell", "rule", "severity", "message")
_LEAF = (str, float, int, bool, type(None))


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the source of the intake package and the modules reading depends on, of the
    versions of the libraries that read workbooks, and of Python's Unicode database."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    files = sorted((root / "intake").glob("*.py")) + [root / name for name in _READING_MODULES]
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\0".encode())
    digest.update(f"python={sys.version_info[:2]} unicode={unicodedata.unidata_version}".encode())
    return digest.hexdigest()


def _registry_digest(registry: Registry) -> str:
    return hashlib.sha256(repr((registry.units, registry.changes, registry.words)).encode()).hexdigest()


def _matcher_digest(matcher: Matcher) -> str:
    state = {
        "ids": sorted(matcher._ids),
        "names": sorted(matcher._names.items()),
        "aliases": sorted(matcher._aliases.items()),
        "display": sorted(matcher._display.items()),
        "threshold": repr(matcher.threshold),
    }
    return hashlib.sha256(json.dumps(state, ensure_ascii=True).encode()).hexdigest()


def parse_key(*, month: str, registry: Registry, matcher: Matcher, settings: dict, reader: str | None = None) -> str:
    """The hash of everything but the file that reading a file of `month` depends on (a few
    milliseconds: worked out once per month read)."""
    parts = {
        "format": CACHE_FORMAT,
        "code": code_version(),
        "month": month,
        "reader": reader or settings["submission"].get("reader") or DEFAULT_READER,
        "submission": json.dumps(settings["submission"], sort_keys=True, default=str, ensure_ascii=True),
        "registry": _registry_digest(registry),
        "matcher": _matcher_digest(matcher),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class ParseCache:
    """The entries of one folder for one parse_key."""

    folder: Path
    key: str

    def entry(self, sha: str, file_name: str) -> Path:
        """Where the reading of the file with content `sha` named `file_name` is kept."""
        named = hashlib.sha256(f"{self.key}\0{file_name}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.folder / f"{sha}-{named}.json"

    def load(self, sha: str, path: Path, month: str) -> Submission | None:
        """The Submission kept for the file at `path` with content `sha`, or None (no entry, or one not to trust)."""
        target = self.entry(sha, path.name)
        try:
            with open(target, "rb") as fh:
                data = fh.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        if len(data) > MAX_ENTRY_BYTES:
            return None
        try:
            return decode(data, key=self.key, sha=sha, path=path, month=month)
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, RecursionError) as exc:
            log.info("%s: parse cache entry ignored: %s", target.name, exc)
            return None

    def store(self, sub: Submission) -> Path | None:
        """Keep what reading `sub` gave; None when it cannot be kept (it is then simply read again)."""
        try:
            data = encode(sub, key=self.key)
        except (TypeError, ValueError, UnicodeEncodeError) as exc:
            log.info("%s: not kept in the parse cache: %s", sub.file_name, exc)
            return None
        if len(data) > MAX_ENTRY_BYTES:
            return None
        try:
            return write_atomic(self.entry(sub.submission_id, sub.file_name), data)
        except OSError as exc:
            log.info("%s: parse cache not written: %s", sub.file_name, exc)
            return None


def parse_cache(
    folder: Path | str, *, month: str, registry: Registry, matcher: Matcher, settings: dict, reader: str | None = None
) -> ParseCache:
    """The cache in `folder` for files of `month` read with these look-ups, settings and reader."""
    key = parse_key(month=month, registry=registry, matcher=matcher, settings=settings, reader=reader)
    return ParseCache(Path(folder), key)


def read_submission_cached(
    path: Path | str,
    cache: ParseCache | None,
    *,
    month: str,
    registry: Registry,
    matcher: Matcher,
    settings: dict,
    reader: str | None = None,
) -> Submission:
    """read_submission, given back from `cache` when a file with the same content and name was
    read with the same key; else read and kept. Equal to read_submission's result either way."""
    path = Path(path)
    if cache is None:
        return read_submission(path, month=month, registry=registry, matcher=matcher, settings=settings, reader=reader)
    max_bytes = int(settings["submission"]["max_file_bytes"])
    data = None
    try:
        if path.stat().st_size <= max_bytes:
            with open(path, "rb") as fh:
                data = fh.read(max_bytes + 1)
    except OSError:
        data = None
    if data is not None and 0 < len(data) <= max_bytes:
        sha = hashlib.sha256(data).hexdigest()
        sub = cache.load(sha, path, month)
        if sub is not None:
            sub.content = data
            return sub
    sub = read_submission(path, month=month, registry=registry, matcher=matcher, settings=settings, reader=reader)
    if sub.content is not None and sub.submission_id == hashlib.sha256(sub.content).hexdigest():
        cache.store(sub)
    return sub


# --------------------------------------------------------------------------- the entry's layout


def encode(sub: Submission, *, key: str) -> bytes:
    """The entry of `sub` as JSON bytes; TypeError for a value JSON would not give back as it was."""
    body = {
        "submission_id": sub.submission_id,
        "unit": sub.unit,
        "prepared_on": sub.prepared_on.isoformat() if sub.prepared_on is not None else None,
        "preparer": sub.preparer,
        "is_sample": sub.is_sample,
        "rejected": sub.rejected,
        "sheets": list(sub.sheets),
        "rows_loaded": sub.rows_loaded,
        "rows_rejected": sub.rows_rejected,
        "size": sub.size,
        "reader": sub.reader,
        "facts": [_row(fact, FACT_COLUMNS) for fact in sub.facts],
        "issues": [_row(issue, _ISSUE_KEYS) for issue in sub.issues],
    }
    if type(sub.prepared_on) not in (dt.date, type(None)):
        raise TypeError(f"prepared_on is {type(sub.prepared_on).__name__}")
    _leaves(body)
    entry = {"format": CACHE_FORMAT, "key": key, "file_name": sub.file_name, "month": sub.month, "submission": body}
    return json.dumps(entry, ensure_ascii=True, allow_nan=True, separators=(",", ":")).encode("ascii")


def _row(row: dict, keys) -> list:
    if tuple(row) != tuple(keys):
        raise TypeError(f"a row has the keys {list(row)}")
    return list(row.values())


def _leaves(value: object) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _leaves(item)
    elif isinstance(value, list):
        for item in value:
            _leaves(item)
    elif type(value) not in _LEAF:
        raise TypeError(f"a value of type {type(value).__name__}")


def _want(value: object, *types: type, what: str) -> object:
    if type(value) not in types:
        raise TypeError(f"{what} is {type(value).__name__}")
    return value


def _rows(value: object, keys, what: str) -> list[dict]:
    rows = []
    for row in _want(value, list, what=what):
        _want(row, list, what=what)
        if len(row) != len(keys):
            raise ValueError(f"{what}: a row of {len(row)} values")
        for item in row:
            _want(item, str, float, int, type(None), what=what)
        rows.append(dict(zip(keys, row)))
    return rows


def decode(data: bytes, *, key: str, sha: str, path: Path, month: str) -> Submission:
    """The Submission of an entry, for the file at `path`; ValueError or TypeError when the entry
    is not exactly one written by `encode` for this key, content, name and month."""
    entry = _want(json.loads(data.decode("ascii")), dict, what="the entry")
    if set(entry) != {"format", "key", "file_name", "month", "submission"}:
        raise ValueError("not a parse cache entry")
    if entry["format"] != CACHE_FORMAT or entry["key"] != key:
        raise ValueError("another version or key")
    if entry["file_name"] != path.name or entry["month"] != month:
        raise ValueError("another file name or month")
    body = _want(entry["submission"], dict, what="submission")
    expected = {
        "submission_id",
        "unit",
        "prepared_on",
        "preparer",
        "is_sample",
        "rejected",
        "sheets",
        "rows_loaded",
        "rows_rejected",
        "size",
        "reader",
        "facts",
        "issues",
    }
    if set(body) != expected:
        raise ValueError("submission fields differ")
    if body["submission_id"] != sha:
        raise ValueError("another content")
    prepared = _want(body["prepared_on"], str, type(None), what="prepared_on")
    sheets = _want(body["sheets"], list, what="sheets")
    for sheet in sheets:
        _want(sheet, str, what="sheets")
    facts = _rows(body["facts"], FACT_COLUMNS, "facts")
    if any(fact["submission_id"] != sha for fact in facts):
        raise ValueError("a fact of another submission")
    return Submission(
        file_name=path.name,
        path=path,
        month=month,
        submission_id=sha,
        unit=_want(body["unit"], str, type(None), what="unit"),
        prepared_on=dt.date.fromisoformat(prepared) if prepared is not None else None,
        preparer=_want(body["preparer"], str, type(None), what="preparer"),
        is_sample=_want(body["is_sample"], bool, what="is_sample"),
        facts=facts,
        issues=_rows(body["issues"], _ISSUE_KEYS, "issues"),
        rejected=_want(body["rejected"], bool, what="rejected"),
        sheets=sheets,
        rows_loaded=_want(body["rows_loaded"], int, what="rows_loaded"),
        rows_rejected=_want(body["rows_rejected"], int, what="rows_rejected"),
        size=_want(body["size"], int, what="size"),
        reader=_want(body["reader"], str, what="reader"),
    )
