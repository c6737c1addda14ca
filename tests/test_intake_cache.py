"""The parse cache: a file read before as it is now is given back without opening it, equal to a fresh read.

Sample workbooks come from the project's sample generator (2022-12 has a rejected file, a row
error and warnings); a few more are made here by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from dxreport import forms, intake, monthload, sample, store
from dxreport.catalog import Matcher, load_aliases, load_bundled
from dxreport.intake import cache
from dxreport.params import load_settings
from dxreport.units import Registry, load_registry

MONTH = "2022-12"
REGISTRY = load_registry()
SNAPSHOT = load_bundled()
MATCHER = Matcher(SNAPSHOT.platforms, load_aliases())
SETTINGS = load_settings()


@pytest.fixture(scope="module")
def sample_month(tmp_path_factory) -> Path:
    """The sample workbooks of 2022-12, plus a file that is not a workbook and an empty one."""
    folder = tmp_path_factory.mktemp("sample") / MONTH
    sample.generate_month(MONTH, folder, registry=REGISTRY)
    (folder / "ghi-chu.xlsx").write_bytes(b"not a workbook at all")
    (folder / "rong.xlsx").write_bytes(b"")
    return folder


def _key(**changes) -> str:
    args = {"month": MONTH, "registry": REGISTRY, "matcher": MATCHER, "settings": SETTINGS, "reader": None}
    args.update(changes)
    return cache.parse_key(**args)


def _cached(path: Path, kept: cache.ParseCache | None, month: str = MONTH) -> intake.Submission:
    return cache.read_submission_cached(path, kept, month=month, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)


def _fresh(path: Path, month: str = MONTH) -> intake.Submission:
    return intake.read_submission(path, month=month, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)


@pytest.fixture
def counted(monkeypatch):
    """The paths read_submission was called with, through the cache."""
    calls: list[str] = []
    real = cache.read_submission

    def counting(path, **kw):
        calls.append(Path(path).name)
        return real(path, **kw)

    monkeypatch.setattr(cache, "read_submission", counting)
    return calls


def _workbook(path: Path, prepared_on: str = "03/01/2023", accounts: object = 120) -> Path:
    """An agency's file for 2022-12: `Thông tin` and one platform row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = forms.THONG_TIN.name
    for key, value in (
        ("unit_code", "syt"),
        ("period", "12/2022"),
        ("preparer", "Lê Văn An"),
        ("prepared_on", prepared_on),
    ):
        ws.append([forms.THONG_TIN.field(key).header, value])
    spec = forms.sheet("nen_tang")
    table = wb.create_sheet(spec.name)
    row = {"platform_name": "Ứng dụng Hue-S", "status": "Đang sử dụng", "accounts": accounts, "mau": 40}
    table.append([f.header for f in spec.fields])
    table.append([row.get(f.key) for f in spec.fields])
    wb.save(path)
    return path


# --------------------------------------------------------------------------- hits and misses


def test_second_read_is_a_hit_and_equal_to_a_fresh_read(tmp_path, counted):
    path = _workbook(tmp_path / "syt.xlsx")
    kept = cache.parse_cache(tmp_path / "parsed", month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    first = _cached(path, kept)
    second = _cached(path, kept)
    assert counted == ["syt.xlsx"]
    assert second == first == _fresh(path)
    assert second.unit == "syt" and second.prepared_on == dt.date(2023, 1, 3) and second.preparer == "Lê Văn An"
    assert [(f["metric"], f["value"]) for f in second.facts if f["metric"] == "accounts"] == [("accounts", 120.0)]
    entries = [p.name for p in (tmp_path / "parsed").iterdir()]
    assert entries == [kept.entry(first.submission_id, "syt.xlsx").name]
    assert entries[0].startswith(first.submission_id + "-") and entries[0].endswith(".json")
    # the archive copies from the bytes read, as after a fresh read
    assert second.content == path.read_bytes()


def test_path_comes_from_the_file_read_not_from_the_cache(tmp_path, counted):
    path = _workbook(tmp_path / "a" / "syt.xlsx")
    kept = cache.parse_cache(tmp_path / "parsed", month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    _cached(path, kept)
    (tmp_path / "b").mkdir()
    moved = tmp_path / "b" / "syt.xlsx"
    shutil.copyfile(path, moved)
    again = _cached(moved, kept)
    assert counted == ["syt.xlsx"]
    assert again.path == moved and again == _fresh(moved)


def test_changed_content_is_read_again(tmp_path, counted):
    path = _workbook(tmp_path / "syt.xlsx", prepared_on="03/01/2023")
    kept = cache.parse_cache(tmp_path / "parsed", month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    _cached(path, kept)
    _workbook(path, prepared_on="05/01/2023")
    again = _cached(path, kept)
    assert counted == ["syt.xlsx", "syt.xlsx"]
    assert again.prepared_on == dt.date(2023, 1, 5)
    assert len(list((tmp_path / "parsed").iterdir())) == 2


def test_same_content_under_another_name_is_read_again(tmp_path, counted):
    # messages quote the file name, so a renamed file is not the same reading
    path = _workbook(tmp_path / "syt.xlsx", accounts="nhiều")
    kept = cache.parse_cache(tmp_path / "parsed", month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    first = _cached(path, kept)
    renamed = tmp_path / "syt-gui-lai.xlsx"
    shutil.copyfile(path, renamed)
    second = _cached(renamed, kept)
    assert counted == ["syt.xlsx", "syt-gui-lai.xlsx"]
    assert first.submission_id == second.submission_id
    assert {i["file_name"] for i in second.issues} == {"syt-gui-lai.xlsx"}
    assert second == _fresh(renamed)


def test_key_changes_with_everything_reading_depends_on(monkeypatch):
    base = _key()
    assert _key() == base
    other_settings = {**SETTINGS, "submission": {**SETTINGS["submission"], "max_rows_per_sheet": 7}}
    fewer_units = Registry(units=REGISTRY.units[:-1], changes=REGISTRY.changes, words=REGISTRY.words)
    stricter = Matcher(SNAPSHOT.platforms, load_aliases(), threshold=0.99)
    no_aliases = Matcher(SNAPSHOT.platforms, {})
    keys = {
        "month": _key(month="2022-11"),
        "reader": _key(reader="openpyxl"),
        "settings": _key(settings=other_settings),
        "registry": _key(registry=fewer_units),
        "threshold": _key(matcher=stricter),
        "aliases": _key(matcher=no_aliases),
        "catalog": _key(matcher=Matcher(SNAPSHOT.platforms.iloc[1:], load_aliases())),
    }
    monkeypatch.setattr(cache, "code_version", lambda: "another version of the code")
    keys["code"] = _key()
    assert base not in keys.values()
    assert len(set(keys.values())) == len(keys)


def test_code_version_covers_the_intake_source(monkeypatch):
    root = Path(cache.__file__).resolve().parents[1]
    version = cache.code_version()
    assert len(version) == 64
    real = Path.read_bytes

    def edited(self):
        data = real(self)
        return data + b"\n# edited\n" if self == root / "intake" / "sheets.py" else data

    monkeypatch.setattr(Path, "read_bytes", edited)
    cache.code_version.cache_clear()
    try:
        assert cache.code_version() != version
    finally:
        monkeypatch.undo()
        cache.code_version.cache_clear()
    assert cache.code_version() == version


def test_entry_of_another_key_is_not_used(tmp_path, counted):
    path = _workbook(tmp_path / "syt.xlsx")
    folder = tmp_path / "parsed"
    old = cache.parse_cache(folder, month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    _cached(path, old)
    new = cache.ParseCache(folder, _key(reader="openpyxl"))
    _cached(path, new)
    assert counted == ["syt.xlsx", "syt.xlsx"]
    # an entry copied under the new key's name still says the old key inside: not trusted
    sid = _fresh(path).submission_id
    shutil.copyfile(old.entry(sid, "syt.xlsx"), new.entry(sid, "syt.xlsx"))
    assert new.load(sid, path, MONTH) is None


# --------------------------------------------------------------------------- damaged entries


def _valid_entry(tmp_path) -> tuple[Path, cache.ParseCache, Path]:
    path = _workbook(tmp_path / "syt.xlsx")
    kept = cache.parse_cache(tmp_path / "parsed", month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    sub = _cached(path, kept)
    return path, kept, kept.entry(sub.submission_id, path.name)


def _edit(entry: Path, change) -> None:
    data = json.loads(entry.read_text(encoding="ascii"))
    change(data)
    entry.write_text(json.dumps(data), encoding="ascii")


DAMAGES = {
    "truncated": lambda e: e.write_bytes(e.read_bytes()[: len(e.read_bytes()) // 2]),
    "empty": lambda e: e.write_bytes(b""),
    "not json": lambda e: e.write_bytes(b"\x80\x81 garbage"),
    "a list": lambda e: e.write_text("[1, 2, 3]"),
    "older format": lambda e: _edit(e, lambda d: d.update(format=0)),
    "another month": lambda e: _edit(e, lambda d: d.update(month="2022-11")),
    "another name": lambda e: _edit(e, lambda d: d.update(file_name="x.xlsx")),
    "another content": lambda e: _edit(e, lambda d: d["submission"].update(submission_id="0" * 64)),
    "missing field": lambda e: _edit(e, lambda d: d["submission"].pop("rows_loaded")),
    "extra field": lambda e: _edit(e, lambda d: d["submission"].update(secret=1)),
    "count as text": lambda e: _edit(e, lambda d: d["submission"].update(rows_loaded="1")),
    "flag as number": lambda e: _edit(e, lambda d: d["submission"].update(rejected=0)),
    "bad date": lambda e: _edit(e, lambda d: d["submission"].update(prepared_on="31/12/2022")),
    "short fact": lambda e: _edit(e, lambda d: d["submission"]["facts"][0].pop()),
    "fact value an object": lambda e: _edit(e, lambda d: d["submission"]["facts"][0].__setitem__(7, {"x": 1})),
    "fact of another file": lambda e: _edit(e, lambda d: d["submission"]["facts"][0].__setitem__(9, "1" * 64)),
    "issue not a row": lambda e: _edit(e, lambda d: d["submission"]["issues"].append("x")),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_entry_is_ignored_and_rebuilt(tmp_path, counted, damage):
    path, kept, entry = _valid_entry(tmp_path)
    good = entry.read_bytes()
    DAMAGES[damage](entry)
    assert entry.read_bytes() != good
    again = _cached(path, kept)
    assert counted == ["syt.xlsx", "syt.xlsx"]
    assert again == _fresh(path)
    assert entry.read_bytes() == good  # rebuilt
    _cached(path, kept)
    assert counted == ["syt.xlsx", "syt.xlsx"]


def test_oversized_entry_is_not_read(tmp_path, counted, monkeypatch):
    path, kept, entry = _valid_entry(tmp_path)
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", entry.stat().st_size - 1)
    sid = _fresh(path).submission_id
    assert kept.load(sid, path, MONTH) is None
    _cached(path, kept)
    assert counted == ["syt.xlsx", "syt.xlsx"]


def test_unwritable_cache_folder_still_reads(tmp_path, counted):
    path = _workbook(tmp_path / "syt.xlsx")
    blocker = tmp_path / "parsed"
    blocker.write_text("a file where the folder should be")
    kept = cache.parse_cache(blocker, month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    assert _cached(path, kept) == _fresh(path)
    assert _cached(path, kept) == _fresh(path)
    assert counted == ["syt.xlsx", "syt.xlsx"]


def test_value_json_would_change_is_not_kept(tmp_path):
    path = _workbook(tmp_path / "syt.xlsx")
    sub = _fresh(path)
    sub.facts[0]["value"] = dt.date(2022, 12, 1)
    kept = cache.ParseCache(tmp_path / "parsed", _key())
    assert kept.store(sub) is None
    assert not (tmp_path / "parsed").exists()


# --------------------------------------------------------------------------- equal to a fresh read


def test_sample_files_read_through_the_cache_equal_fresh_reads(sample_month, tmp_path, counted):
    kept = cache.parse_cache(tmp_path / "parsed", month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    paths = sorted(sample_month.iterdir())
    fresh = [_fresh(p) for p in paths]
    for p in paths:
        _cached(p, kept)
    counted.clear()
    hits = [_cached(p, kept) for p in paths]
    # the empty file has nothing to be kept by; every other one is a hit
    assert counted == ["rong.xlsx"]
    assert hits == fresh
    for a, b in zip(hits, fresh):
        assert [type(f["value"]) for f in a.facts] == [type(f["value"]) for f in b.facts]
    kinds = {
        "rejected": [s.file_name for s in hits if s.rejected],
        "errors": [
            s.file_name for s in hits if any(i["severity"] == intake.ERROR for i in s.issues) and not s.rejected
        ],
        "warnings": [s.file_name for s in hits if any(i["severity"] == intake.WARNING for i in s.issues)],
        "clean": [s.file_name for s in hits if not s.issues],
    }
    assert "sngv_2022-12.xlsx" in kinds["rejected"] and "ghi-chu.xlsx" in kinds["rejected"]
    assert any(name.startswith("476_") for name in kinds["errors"])
    assert kinds["warnings"] and len(kinds["clean"]) > 10


def _tables(warehouse: Path) -> dict:
    con = store.connect(warehouse)
    try:
        return {
            "submissions": con.execute("SELECT * FROM submissions ORDER BY submission_id").df(),
            "facts": con.execute("SELECT * FROM facts ORDER BY ALL").df(),
            "issues": con.execute("SELECT * FROM issues ORDER BY ALL").df(),
        }
    finally:
        con.close()


def test_month_loads_the_same_with_and_without_the_cache(sample_month, tmp_path, counted):
    inbox = tmp_path / "inbox" / MONTH
    shutil.copytree(sample_month, inbox)
    raw = tmp_path / "raw"

    def ingest(name, use):
        return monthload.ingest_month(
            MONTH, inbox, tmp_path / name, registry=REGISTRY, snapshot=SNAPSHOT, raw_dir=raw, cache=use
        )

    plain = ingest("plain.duckdb", False)
    assert not (raw / cache.CACHE_DIR).exists()
    first = ingest("first.duckdb", True)
    counted.clear()
    second = ingest("second.duckdb", True)
    assert counted == ["rong.xlsx"]
    for result in (first, second):
        for name in ("submissions", "facts", "issues"):
            assert getattr(result, name).equals(getattr(plain, name)), name
    expected = _tables(tmp_path / "plain.duckdb")
    for name in ("first.duckdb", "second.duckdb"):
        got = _tables(tmp_path / name)
        for table, frame in expected.items():
            assert got[table].equals(frame), (name, table)
    assert (plain.submissions["status"] == "rejected").sum() == 3
    assert (plain.submissions["status"] == "superseded").sum() == 1


# --------------------------------------------------------------------------- two writers


def _store_many(folder: str, key: str, path: str, times: int) -> None:
    sub = intake.read_submission(path, month=MONTH, registry=REGISTRY, matcher=MATCHER, settings=SETTINGS)
    kept = cache.ParseCache(Path(folder), key)
    for _ in range(times):
        assert kept.store(sub) is not None


def test_two_processes_writing_the_same_entry(tmp_path):
    path = _workbook(tmp_path / "syt.xlsx", accounts="nhiều")
    key = _key()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_store_many, args=(str(tmp_path / "parsed"), key, str(path), 40)) for _ in range(2)]
    for p in procs:
        p.start()
    kept = cache.ParseCache(tmp_path / "parsed", key)
    expected = _fresh(path)
    sid = expected.submission_id
    while any(p.is_alive() for p in procs):
        # a reader during the writes sees a whole entry or none, never half of one
        got = kept.load(sid, path, MONTH)
        assert got is None or got == expected
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert kept.load(sid, path, MONTH) == expected
    assert [p.name for p in (tmp_path / "parsed").iterdir()] == [kept.entry(sid, "syt.xlsx").name]


def test_entry_holds_no_path_and_no_arrival(tmp_path):
    path = _workbook(tmp_path / "secret-folder-name" / "syt.xlsx")
    sub = _fresh(path)
    sub.received_at = dt.datetime(2023, 1, 3, 8, 0)
    sub.archived_path = tmp_path / "raw" / "x.xlsx"
    data = cache.encode(sub, key=_key())
    assert b"secret-folder-name" not in data and b"2023-01-03T08" not in data and b"raw" not in data
    fields = {f.name for f in dataclasses.fields(intake.Submission)}
    entry = json.loads(data)
    assert set(entry["submission"]) <= fields
    assert not {"path", "received_at", "received_source", "received_channel", "archived_path", "content"} & set(
        entry["submission"]
    )
    assert os.path.basename(path) == entry["file_name"]
