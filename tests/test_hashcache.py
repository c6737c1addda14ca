"""dxreport.hashcache: a file's sha256, read again only when the file system says it changed."""

from __future__ import annotations

import json
import os

from dxreport.hashcache import HashCache

ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256 of b"abc" (FIPS 180-2)
ABD = "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9"  # sha256 of b"abd"


def _age(cache: HashCache, seconds: float = 60) -> None:
    """As if every entry had been hashed `seconds` later than it was (so none is racy)."""
    for entry in cache.entries.values():
        entry["at"] += int(seconds * 1e9)


def test_the_hash_is_the_sha256_of_the_content(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"abc")
    assert HashCache().sha256(path) == ABC


def test_an_unchanged_file_is_not_read_again(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"abc")
    cache = HashCache()
    cache.sha256(path)
    _age(cache)
    assert cache.sha256(path) == ABC
    assert cache.hashed == 1


def test_a_file_changed_just_after_it_was_hashed_is_read_again(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"abc")
    cache = HashCache()
    cache.sha256(path)
    # not aged: its change time is within the racy window of the hash, so it is not trusted
    assert cache.sha256(path) == ABC
    assert cache.hashed == 2


def test_new_content_with_the_old_size_and_modification_time_is_seen(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"abc")
    before = os.stat(path)
    cache = HashCache()
    cache.sha256(path)
    _age(cache)
    path.write_bytes(b"abd")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime: ctime moved
    assert cache.sha256(path) == ABD


def test_the_memory_is_kept_between_processes(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"abc")
    store = tmp_path / ".cache" / "hashes.json"
    first = HashCache(store)
    first.sha256(path)
    _age(first)
    first._dirty = True
    first.save()
    second = HashCache(store)
    assert second.sha256(path) == ABC
    assert second.hashed == 0


def test_a_damaged_or_foreign_memory_is_ignored(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"abc")
    store = tmp_path / "hashes.json"
    for text in (
        "{not json",
        json.dumps({"version": 99, "files": {}}),
        json.dumps({"version": 1, "files": {str(path): {"sha256": "0" * 64, "stat": "x", "at": 1}}}),
        json.dumps([1, 2, 3]),
    ):
        store.write_text(text, encoding="utf-8")
        cache = HashCache(store)
        assert cache.sha256(path) == ABC
        assert cache.hashed == 1


def test_a_wrong_remembered_hash_is_never_trusted_once_the_file_changed(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"abc")
    store = tmp_path / "hashes.json"
    st = os.stat(path)
    entry = {"sha256": "0" * 64, "stat": [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino + 1], "at": 0}
    store.write_text(json.dumps({"version": 1, "files": {str(path): entry}}), encoding="utf-8")
    assert HashCache(store).sha256(path) == ABC  # another inode: another file


def test_a_memory_that_cannot_be_written_is_left_alone(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"abc")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    cache = HashCache(blocker / "hashes.json")
    assert cache.sha256(path) == ABC
    cache.save()  # no exception: the next run hashes again
    assert blocker.read_text(encoding="utf-8").startswith("a file")
