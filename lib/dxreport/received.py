"""When each submitted file was received, and where that time comes from.

A file's received time is decided once. Precedence, highest first:

1. `received.csv` in the month's inbox folder, filled by the clerk (file, received date,
   channel): source "received.csv", with the channel.
2. The durable record kept beside the archived copy, raw/<sha256>.<ext>.received.json, written
   the first time dxreport sees those bytes and never rewritten: source "first_seen".
3. First sight (no record yet): the earlier of the file's modification time and now; the
   record is written then.

Copying the same bytes under another name, touching the file or loading the month again
never changes the record. Times are Asia/Ho_Chi_Minh wall time, without a zone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter

from dxreport.fileio import write_atomic
from dxreport.textnorm import fold, nfc

LIST_NAME = "received.csv"
RECORD_SUFFIX = ".received.json"
# received.csv is a short list kept by hand; anything bigger is not one.
MAX_LIST_BYTES = 1024 * 1024

SOURCES = ("first_seen", "received.csv")
FIRST_SEEN, LISTED = SOURCES
SOURCE_LABELS = {
    FIRST_SEEN: "lần đầu nhận (thời điểm tệp)",
    LISTED: "khai báo trong received.csv",
}
CHANNELS = ("email", "document_system", "hand")
CHANNEL_LABELS = {
    "email": "thư điện tử",
    "document_system": "hệ thống văn bản",
    "hand": "trực tiếp",
}

_CHANNEL_WORDS = {
    "email": ("email", "e mail", "mail", "thu dien tu"),
    "document_system": (
        "document system",
        "he thong van ban",
        "van ban dien tu",
        "he thong quan ly van ban",
        "phan mem quan ly van ban",
        "qlvb",
    ),
    "hand": ("hand", "by hand", "truc tiep", "nop truc tiep", "giao tay"),
}
_HEADER_WORDS = {
    "file": ("file", "file name", "tep", "ten tep"),
    "received": ("received", "received at", "ngay nhan", "nhan luc", "thoi diem nhan", "thoi gian nhan"),
    "channel": ("channel", "hinh thuc", "hinh thuc nhan", "cach nhan", "kenh", "kenh nhan"),
}

_DMY = r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})"
_HM = r"(\d{1,2})\s*[:hg]\s*(\d{2})(?:\s*:\s*(\d{2}))?"
_DMY_TIME = re.compile(rf"^{_DMY}(?:\s*,?\s+{_HM})?$")
_TIME_DMY = re.compile(rf"^{_HM}\s*,?\s+(?:ngày\s+)?{_DMY}$", re.IGNORECASE)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$")


@dataclass(frozen=True)
class Received:
    """A file's received time, where it comes from (one of SOURCES) and how it came."""

    at: dt.datetime
    source: str
    channel: str | None = None

    @property
    def label(self) -> str:
        """Vietnamese label of the source, with the channel when known."""
        return source_label(self.source, self.channel)


def source_label(source: object, channel: object = None) -> str:
    """`khai báo trong received.csv (thư điện tử)`, `lần đầu nhận (thời điểm tệp)`, or '' when unknown."""
    if not isinstance(source, str) or source not in SOURCE_LABELS:
        return ""
    text = SOURCE_LABELS[source]
    if isinstance(channel, str) and channel in CHANNEL_LABELS:
        text += f" ({CHANNEL_LABELS[channel]})"
    return text


def is_list(path: Path) -> bool:
    """Whether `path` is a month's received.csv (never a submission)."""
    return path.name.casefold() == LIST_NAME


# --------------------------------------------------------------------------- the durable record


def record_path(archived: Path) -> Path:
    """The record kept beside an archived copy: raw/<sha256>.<ext>.received.json."""
    return archived.with_name(archived.name + RECORD_SUFFIX)


def _read_record(path: Path) -> Received | None:
    """The record at `path`; None when there is none or it cannot be read as one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        at = dt.datetime.fromisoformat(data["received_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Received(at.replace(tzinfo=None), FIRST_SEEN)


def _create_once(path: Path, text: str) -> bool:
    """Write `path` whole, unless it already exists; True when this call wrote it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)  # atomic, and never replaces an existing record
        except FileExistsError:
            return False
        except OSError:  # no hard links on this file system
            try:
                with open(path, "x", encoding="utf-8") as out:
                    out.write(text)
            except FileExistsError:
                return False
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def first_sight(
    archived: Path | None, *, file_name: str, month: str, modified: dt.datetime, now: dt.datetime
) -> tuple[Received, bool]:
    """The received time kept with the archived copy, recorded now if it has none.

    `modified` is the file's modification time and `now` the time of this run, both local wall
    time. Returns the time and whether a broken record had to be replaced. Without an archived
    copy (an unreadable file) nothing can be kept and first sight is returned.
    """
    seen = Received(min(modified, now).replace(microsecond=0), FIRST_SEEN)  # as the record keeps it
    if archived is None:
        return seen, False
    path = record_path(Path(archived))
    kept = _read_record(path)
    if kept is not None:
        return kept, False
    text = (
        json.dumps(
            {
                "received_at": seen.at.isoformat(timespec="seconds"),
                "source": FIRST_SEEN,
                "file_name": nfc(file_name),
                "month": month,
                "sha256": Path(archived).stem,
                "first_seen_at": now.isoformat(timespec="seconds"),
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    if not path.exists():
        if _create_once(path, text):
            return seen, False
        kept = _read_record(path)  # another run wrote it first
        return (kept, False) if kept is not None else (seen, False)
    write_atomic(path, text)  # the record there is not readable: it held no time to keep
    return seen, True


# --------------------------------------------------------------------------- received.csv


@dataclass
class Problem:
    """A row or cell of received.csv that could not be used."""

    cell: str | None
    rule: str
    message: str


@dataclass
class Listing:
    """What received.csv says: file name (as in the folder) -> Received, and what was wrong."""

    entries: dict[str, Received] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _words(value: object) -> str:
    """Matching key of a header or a channel: folded, separators as spaces, no trailing note or mark."""
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", fold(value))
    return re.sub(r"[\s_\-]+", " ", text).strip(" *:.")


_HEADERS = {word: key for key, words in _HEADER_WORDS.items() for word in words}
_CHANNELS = {word: key for key, words in _CHANNEL_WORDS.items() for word in words}


def parse_time(value: object) -> dt.datetime:
    """A received date or date-time: dd/mm/yyyy [HH:MM[:SS]], HH:MM dd/mm/yyyy or ISO; a date alone is 00:00."""
    text = nfc(value)
    if m := _DMY_TIME.match(text):
        day, month, year, hour, minute, second = m.groups()
    elif m := _TIME_DMY.match(text):
        hour, minute, second, day, month, year = m.groups()
    elif m := _ISO.match(text):
        year, month, day, hour, minute, second = m.groups()
    else:
        raise ValueError(text)
    return dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))


def parse_channel(value: object) -> str | None:
    """One of CHANNELS, None for an empty cell; ValueError for anything else."""
    key = _words(value)
    if not key:
        return None
    if key not in _CHANNELS:
        raise ValueError(value)
    return _CHANNELS[key]


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) as Excel's "CSV UTF-8" writes it, else the Windows Vietnamese code page."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace")


def _rows(text: str) -> list[list[str]]:
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t", key=first.count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = _HEADERS.get(_words(cell))
        if key and key not in found:
            found[key] = i
    return found


def _cell(row: list[str], column: int | None) -> str:
    return nfc(row[column]) if column is not None and column < len(row) else ""


def _where(column: int, number: int) -> str:
    return f"{get_column_letter(column + 1)}{number}"


class _Unusable(Exception):
    """received.csv cannot be read as a list."""


def _find_list(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    return next((p for p in sorted(folder.iterdir()) if p.is_file() and is_list(p)), None)


def _load(path: Path) -> list[list[str]]:
    """The rows of received.csv."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Unusable(f"không đọc được ({exc.strerror or exc}).") from exc
    if len(data) > MAX_LIST_BYTES:
        raise _Unusable(f"quá lớn ({len(data)} byte) để là danh sách tệp đã nhận; không được dùng.")
    try:
        return _rows(_decode(data))
    except csv.Error as exc:
        raise _Unusable(f"không đọc được như tệp CSV ({exc}); không được dùng.") from exc


def read_list(folder: Path, names: list[str]) -> Listing:
    """What the month's received.csv says about the files `names` of `folder` (empty when it has none).

    A file is named as in the folder, without regard to case or diacritics. A row naming no file
    of the folder, a date that cannot be read, a channel that is not one of email, document
    system, hand (or their Vietnamese names) or a second row for the same file is a Problem
    naming its cell; the rest of the list is used.
    """
    listing = Listing()
    path = _find_list(Path(folder))
    if path is None:
        return listing
    try:
        rows = _load(path)
    except _Unusable as exc:
        listing.problems.append(Problem(None, "received.unreadable", str(exc)))
        return listing
    start = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    columns = _columns(rows[start]) if start is not None else {}
    if "file" not in columns or "received" not in columns:
        listing.problems.append(
            Problem(
                "A1" if start is None else _where(0, start + 1),
                "received.columns",
                "thiếu cột “Tệp” hoặc cột “Ngày nhận” ở dòng tiêu đề (cần: Tệp, Ngày nhận, Hình thức); "
                "danh sách không được dùng.",
            )
        )
        return listing
    by_key = {fold(name): name for name in names}
    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        if any(c.strip() for c in row):
            _read_row(row, number, columns, by_key, listing)
    return listing


def _read_row(row: list[str], number: int, columns: dict[str, int], by_key: dict[str, str], listing: Listing) -> None:
    file_col, time_col, channel_col = columns["file"], columns["received"], columns.get("channel")
    given = _cell(row, file_col)
    name = by_key.get(fold(given))
    if name is None:
        listing.problems.append(
            Problem(
                _where(file_col, number),
                "received.unknown_file",
                f"dòng {number} ghi tệp “{given}”, không có tệp này trong thư mục nhận; dòng này không được dùng.",
            )
        )
        return
    if name in listing.entries:
        listing.problems.append(
            Problem(
                _where(file_col, number),
                "received.duplicate_row",
                f"dòng {number}: tệp “{name}” đã có ở dòng trước; dòng này không được dùng.",
            )
        )
        return
    try:
        at = parse_time(_cell(row, time_col))
    except ValueError:
        listing.problems.append(
            Problem(
                _where(time_col, number),
                "received.bad_date",
                f"dòng {number}: ngày nhận “{_cell(row, time_col)}” không đọc được (cần "
                f"dd/mm/yyyy hoặc dd/mm/yyyy HH:MM); tệp “{name}” được tính theo thời "
                "điểm nhận lần đầu.",
            )
        )
        return
    try:
        channel = parse_channel(_cell(row, channel_col))
    except ValueError:
        channel = None
        listing.problems.append(
            Problem(
                _where(channel_col, number),
                "received.bad_channel",
                f"dòng {number}: hình thức “{_cell(row, channel_col)}” không rõ (cần: "
                "thư điện tử, hệ thống văn bản hoặc trực tiếp); ngày nhận vẫn được dùng.",
            )
        )
    listing.entries[name] = Received(at, LISTED, channel)


def differs(folder: Path, loaded: dict[str, tuple[dt.datetime, str, str | None]]) -> bool:
    """Whether the folder's received.csv now says other than what was loaded.

    `loaded` maps the file names of the month's submissions to their (received_at,
    received_source, received_channel) as loaded into the warehouse.
    """
    folder = Path(folder)
    names = [p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and not is_list(p)]
    listed = {
        name: (e.at, e.source, e.channel) for name, e in read_list(folder, names).entries.items() if name in loaded
    }
    before = {name: row for name, row in loaded.items() if row[1] == LISTED}
    return listed != before
