"""When a file was received: the record kept beside its archived copy, and received.csv.

Times, cells and messages expected here are worked out by hand from what each test writes.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pytest

from dxreport import received
from dxreport.received import Received

NOW = dt.datetime(2022, 11, 25, 16, 0)


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    "text, expected",
    [
        ("07/11/2022", dt.datetime(2022, 11, 7)),
        ("7/11/2022 14:30", dt.datetime(2022, 11, 7, 14, 30)),
        ("07-11-2022 8h05", dt.datetime(2022, 11, 7, 8, 5)),
        ("14:30 07/11/2022", dt.datetime(2022, 11, 7, 14, 30)),
        ("2022-11-07", dt.datetime(2022, 11, 7)),
        ("2022-11-07T08:05:09", dt.datetime(2022, 11, 7, 8, 5, 9)),
        (" 2022-11-07 08:05 ", dt.datetime(2022, 11, 7, 8, 5)),
    ],
)
def test_received_dates_vietnamese_and_iso(text, expected):
    assert received.parse_time(text) == expected


@pytest.mark.parametrize("text", ["31/02/2022", "11/2022", "hôm qua", "2022/11/07", "07/11/2022 25:00", ""])
def test_unreadable_received_dates(text):
    with pytest.raises(ValueError):
        received.parse_time(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("email", "email"),
        ("E-mail", "email"),
        ("Thư điện tử", "email"),
        ("THU DIEN TU", "email"),
        ("document system", "document_system"),
        ("Hệ thống văn bản", "document_system"),
        ("văn bản điện tử", "document_system"),
        ("hand", "hand"),
        ("Trực tiếp", "hand"),
        (unicodedata.normalize("NFD", "trực tiếp"), "hand"),
        ("", None),
        ("  ", None),
    ],
)
def test_channels(text, expected):
    assert received.parse_channel(text) == expected


@pytest.mark.parametrize("text", ["fax", "bưu điện", "thư"])
def test_unknown_channels(text):
    with pytest.raises(ValueError):
        received.parse_channel(text)


def test_source_labels():
    assert received.source_label("first_seen") == "lần đầu nhận (thời điểm tệp)"
    assert received.source_label("received.csv", "email") == "khai báo trong received.csv (thư điện tử)"
    assert received.source_label("received.csv", None) == "khai báo trong received.csv"
    assert Received(NOW, "received.csv", "hand").label == "khai báo trong received.csv (trực tiếp)"
    assert received.source_label(None) == "" and received.source_label(float("nan")) == ""


# --------------------------------------------------------------------------- the durable record


def _archived(tmp_path, name="ab12.xlsx"):
    path = tmp_path / "raw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK")
    return path


def test_first_sight_writes_the_record_once(tmp_path):
    archived = _archived(tmp_path)
    got, repaired = received.first_sight(
        archived, file_name="hue.xlsx", month="2022-10", modified=dt.datetime(2022, 11, 3, 9, 0), now=NOW
    )
    assert got == Received(dt.datetime(2022, 11, 3, 9, 0), "first_seen") and not repaired
    record = tmp_path / "raw" / "ab12.xlsx.received.json"
    data = json.loads(record.read_text(encoding="utf-8"))
    assert data == {
        "received_at": "2022-11-03T09:00:00",
        "source": "first_seen",
        "file_name": "hue.xlsx",
        "month": "2022-10",
        "sha256": "ab12",
        "first_seen_at": "2022-11-25T16:00:00",
    }
    before = record.read_bytes()
    # touched, copied under another name, seen again later: the record answers and is not rewritten
    again, _ = received.first_sight(
        archived,
        file_name="hue (1).xlsx",
        month="2022-10",
        modified=dt.datetime(2022, 11, 20, 8, 0),
        now=dt.datetime(2022, 12, 1),
    )
    assert again == Received(dt.datetime(2022, 11, 3, 9, 0), "first_seen")
    assert record.read_bytes() == before


def test_the_first_answer_is_the_one_kept_to_the_second(tmp_path):
    archived = _archived(tmp_path)
    modified = dt.datetime(2022, 11, 3, 9, 0, 5, 750000)
    first, _ = received.first_sight(archived, file_name="x.xlsx", month="2022-10", modified=modified, now=NOW)
    second, _ = received.first_sight(archived, file_name="x.xlsx", month="2022-10", modified=modified, now=NOW)
    assert first == second == Received(dt.datetime(2022, 11, 3, 9, 0, 5), "first_seen")


def test_a_modification_time_in_the_future_is_first_seen_now(tmp_path):
    got, _ = received.first_sight(
        _archived(tmp_path), file_name="x.xlsx", month="2022-10", modified=dt.datetime(2099, 1, 1), now=NOW
    )
    assert got.at == NOW


def test_without_an_archived_copy_nothing_is_kept(tmp_path):
    got, repaired = received.first_sight(
        None, file_name="x.xlsx", month="2022-10", modified=dt.datetime(2022, 11, 3), now=NOW
    )
    assert got == Received(dt.datetime(2022, 11, 3), "first_seen") and not repaired
    assert not any(tmp_path.rglob("*.received.json"))


def test_a_broken_record_is_replaced_and_said_so(tmp_path):
    archived = _archived(tmp_path)
    record = received.record_path(archived)
    record.write_text("{not json", encoding="utf-8")
    got, repaired = received.first_sight(
        archived, file_name="x.xlsx", month="2022-10", modified=dt.datetime(2022, 11, 4, 7, 30), now=NOW
    )
    assert repaired and got.at == dt.datetime(2022, 11, 4, 7, 30)
    assert json.loads(record.read_text(encoding="utf-8"))["received_at"] == "2022-11-04T07:30:00"


def test_a_record_written_by_another_run_first_is_kept(tmp_path, monkeypatch):
    archived = _archived(tmp_path)
    record = received.record_path(archived)
    real = received._create_once

    def racing(path, text):
        path.write_text(json.dumps({"received_at": "2022-11-01T08:00:00"}), encoding="utf-8")
        return real(path, text)

    monkeypatch.setattr(received, "_create_once", racing)
    got, _ = received.first_sight(
        archived, file_name="x.xlsx", month="2022-10", modified=dt.datetime(2022, 11, 3), now=NOW
    )
    assert got.at == dt.datetime(2022, 11, 1, 8, 0)
    assert json.loads(record.read_text(encoding="utf-8")) == {"received_at": "2022-11-01T08:00:00"}


# --------------------------------------------------------------------------- received.csv


def _list(tmp_path, text, encoding="utf-8-sig", name="received.csv"):
    (tmp_path / name).write_bytes(text.encode(encoding))
    return tmp_path


def test_no_list_says_nothing(tmp_path):
    assert received.read_list(tmp_path, ["hue.xlsx"]) == received.Listing()


def test_list_with_vietnamese_headers_semicolons_and_folded_names(tmp_path):
    folder = _list(
        tmp_path,
        "Tên tệp;Ngày nhận (dd/mm/yyyy);Hình thức nhận\r\n"
        "HUE.xlsx;07/11/2022 10:15;Thư điện tử\r\n"
        f"{unicodedata.normalize('NFD', 'Sở Y tế.xlsx')};2022-11-04;trực tiếp\r\n"
        ";;\r\n"
        "snv.xlsx;03/11/2022;\r\n",
    )
    listing = received.read_list(folder, ["hue.xlsx", "Sở Y tế.xlsx", "snv.xlsx"])
    assert listing.problems == []
    assert listing.entries == {
        "hue.xlsx": Received(dt.datetime(2022, 11, 7, 10, 15), "received.csv", "email"),
        "Sở Y tế.xlsx": Received(dt.datetime(2022, 11, 4), "received.csv", "hand"),
        "snv.xlsx": Received(dt.datetime(2022, 11, 3), "received.csv", None),
    }


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _windows_vietnamese(text: str) -> bytes:
    """`text` as Excel saves it in the Windows Vietnamese code page: tone marks as separate characters."""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES)) + tones)
    return "".join(out).encode("cp1258")


def test_english_headers_in_another_order(tmp_path):
    folder = _list(tmp_path, "channel,received,file\nhand,06/11/2022 07:00,hue.xlsx\n")
    listing = received.read_list(folder, ["hue.xlsx"])
    assert listing.entries == {"hue.xlsx": Received(dt.datetime(2022, 11, 6, 7, 0), "received.csv", "hand")}


def test_a_list_saved_in_the_windows_vietnamese_code_page(tmp_path):
    (tmp_path / "received.csv").write_bytes(
        _windows_vietnamese("Tệp,Ngày nhận,Hình thức\r\nBáo cáo Huế.xlsx,06/11/2022 07:00,Trực tiếp\r\n")
    )
    listing = received.read_list(tmp_path, ["Báo cáo Huế.xlsx"])
    assert listing.problems == []
    assert listing.entries == {"Báo cáo Huế.xlsx": Received(dt.datetime(2022, 11, 6, 7, 0), "received.csv", "hand")}


def test_bad_rows_are_problems_naming_their_cells(tmp_path):
    folder = _list(
        tmp_path,
        "file,received,channel\n"  # row 1
        "khong_co.xlsx,07/11/2022,email\n"  # row 2: unknown file (A2)
        "hue.xlsx,31/11/2022,email\n"  # row 3: no 31 November (B3)
        "syt.xlsx,05/11/2022,fax\n"  # row 4: unknown channel (C4), date still used
        "snv.xlsx,04/11/2022,hand\n"  # row 5: fine
        "SNV.xlsx,09/11/2022,hand\n",
    )  # row 6: snv a second time (A6)
    listing = received.read_list(folder, ["hue.xlsx", "syt.xlsx", "snv.xlsx"])
    got = [(p.cell, p.rule) for p in listing.problems]
    assert got == [
        ("A2", "received.unknown_file"),
        ("B3", "received.bad_date"),
        ("C4", "received.bad_channel"),
        ("A6", "received.duplicate_row"),
    ]
    assert "khong_co.xlsx" in listing.problems[0].message and "dòng 2" in listing.problems[0].message
    assert "31/11/2022" in listing.problems[1].message and "“hue.xlsx”" in listing.problems[1].message
    assert "fax" in listing.problems[2].message
    assert listing.entries == {
        "syt.xlsx": Received(dt.datetime(2022, 11, 5), "received.csv", None),
        "snv.xlsx": Received(dt.datetime(2022, 11, 4), "received.csv", "hand"),
    }
    assert all(unicodedata.is_normalized("NFC", p.message) for p in listing.problems)


def test_a_list_without_its_columns_is_not_used(tmp_path):
    folder = _list(tmp_path, "\n\nđơn vị,ngày\nhue.xlsx,07/11/2022\n")
    listing = received.read_list(folder, ["hue.xlsx"])
    assert listing.entries == {}
    assert [(p.cell, p.rule) for p in listing.problems] == [("A3", "received.columns")]


def test_an_oversized_list_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(received, "MAX_LIST_BYTES", 10)
    listing = received.read_list(_list(tmp_path, "file,received\nhue.xlsx,07/11/2022\n"), ["hue.xlsx"])
    assert listing.entries == {} and [p.rule for p in listing.problems] == ["received.unreadable"]


def test_a_list_that_is_not_text_is_a_problem_not_a_failure(tmp_path):
    folder = _list(tmp_path, "")
    (folder / "received.csv").write_bytes(b"file,received\r\n\x81\x8a\xff.xlsx,07/11/2022\r\n")
    listing = received.read_list(folder, ["hue.xlsx"])
    assert listing.entries == {} and [(p.cell, p.rule) for p in listing.problems] == [("A2", "received.unknown_file")]
    (folder / "received.csv").write_text(
        'file,received\n"hue.xlsx' + "x" * 200_000 + '",07/11/2022\n', encoding="utf-8"
    )
    listing = received.read_list(folder, ["hue.xlsx"])
    assert listing.entries == {} and [p.rule for p in listing.problems] == ["received.unreadable"]
    assert listing.problems[0].message.startswith("không đọc được như tệp CSV")


def test_the_list_is_found_whatever_the_case_of_its_name(tmp_path):
    folder = _list(tmp_path, "file,received\nhue.xlsx,07/11/2022\n", name="Received.CSV")
    assert received.is_list(tmp_path / "Received.CSV") and not received.is_list(tmp_path / "received.csv.xlsx")
    assert list(received.read_list(folder, ["hue.xlsx"]).entries) == ["hue.xlsx"]


def test_differs_compares_the_list_with_what_was_loaded(tmp_path):
    (tmp_path / "hue.xlsx").write_bytes(b"PK")
    (tmp_path / "syt.xlsx").write_bytes(b"PK")
    first = (dt.datetime(2022, 11, 3, 9, 0), "first_seen", None)
    listed = (dt.datetime(2022, 11, 7, 10, 15), "received.csv", "email")
    assert not received.differs(tmp_path, {"hue.xlsx": first, "syt.xlsx": first})
    _list(tmp_path, "file,received,channel\nhue.xlsx,07/11/2022 10:15,email\n")
    assert received.differs(tmp_path, {"hue.xlsx": first, "syt.xlsx": first})  # a new row
    assert not received.differs(tmp_path, {"hue.xlsx": listed, "syt.xlsx": first})
    assert received.differs(tmp_path, {"hue.xlsx": (listed[0], "received.csv", "hand"), "syt.xlsx": first})
    (tmp_path / "received.csv").unlink()
    assert received.differs(tmp_path, {"hue.xlsx": listed, "syt.xlsx": first})  # the row is gone
