"""Content hashes of files, remembered by what the file system says of them.

A run decides what to redo by the sha256 of its inputs: the submissions, the params/ files, the
source of dxreport and its notebooks. Reading every one of them again on a rerun that changes
nothing costs more than the decision itself, so the hash of a file is kept together with its
size, modification and change times and inode, and is read again only when one of those
differs. A file whose change time is not clearly older than the moment it was hashed (a write in
the same clock tick would leave the same times) is hashed again, as git does with its index.

The memory is a small JSON file (outputs/.cache/hashes.json for a run). A damaged or foreign file
is ignored and written anew; it only ever costs a re-read, never a wrong hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from dxreport.fileio import write_atomic

#: Entries hashed less than this long after their file last changed are not trusted (ns).
RACY_NS = 2_000_000_000
#: The cache file is ignored when it is larger than this (bytes).
MAX_BYTES = 16 * 1024 * 1024
_VERSION = 1


def stat_identity(st: os.stat_result) -> list[int]:
    """What the file system says of a file: size, modification and change times, inode."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def file_identity(path: Path | str) -> list[int] | None:
    """stat_identity of the file at `path` (None when it cannot be read): equal means not written since."""
    try:
        return stat_identity(os.stat(path))
    except OSError:
        return None


def file_sha256(path: Path | str) -> str:
    """The sha256 of a file, read in blocks of 1 MiB (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class HashCache:
    """sha256 of files, kept in `path` between processes (None: kept in memory only)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.entries: dict[str, dict] = self._read()
        self.hashed = 0  # files read this time (a measure for tests and logs)
        self._dirty = False

    def _read(self) -> dict[str, dict]:
        if self.path is None:
            return {}
        try:
            if self.path.stat().st_size > MAX_BYTES:
                return {}
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != _VERSION or not isinstance(data.get("files"), dict):
            return {}
        return {
            name: entry
            for name, entry in data["files"].items()
            if isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and len(entry["sha256"]) == 64
            and isinstance(entry.get("stat"), list)
            and isinstance(entry.get("at"), int)
        }

    def sha256(self, path: Path | str) -> str:
        """The sha256 of the file at `path` (OSError if it cannot be read)."""
        path = Path(path)
        key = os.path.abspath(path)
        st = os.stat(path)
        entry = self.entries.get(key)
        if entry is not None and entry["stat"] == stat_identity(st) and st.st_ctime_ns < entry["at"] - RACY_NS:
            return entry["sha256"]
        at = time.time_ns()
        digest = file_sha256(path)
        self.hashed += 1
        after = os.stat(path)
        if stat_identity(after) == stat_identity(st):  # not changed while it was read
            self.entries[key] = {"sha256": digest, "stat": stat_identity(st), "at": at}
            self._dirty = True
        return digest

    def save(self) -> None:
        """Write the cache back if it learnt anything; a file that cannot be written is left alone."""
        if self.path is None or not self._dirty:
            return
        live = {name: entry for name, entry in self.entries.items() if os.path.exists(name)}
        try:
            write_atomic(self.path, json.dumps({"version": _VERSION, "files": live}, sort_keys=True))
            self._dirty = False
        except OSError:
            pass
