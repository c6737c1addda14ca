"""The month-level steps: which earlier months are loaded again, and 02_clean's outputs with the parse cache."""

import datetime as dt

from conftest import info, write_form
from dxreport import steps


def _month(inbox, month, prepared):
    write_form(
        inbox / month / "snv.xlsx",
        info("snv", month, prepared),
        {"Nền tảng": [["Tên nền tảng", "Tình trạng"], ["VNeID", "Đang sử dụng"]]},
    )


def test_earlier_inbox_months_not_in_the_warehouse_are_loaded_first(tmp_path):
    inbox, outputs = tmp_path / "inbox", tmp_path / "outputs"
    for month, day in (("2023-01", 2), ("2023-02", 3), ("2023-03", 2)):
        _month(inbox, month, dt.date(int(month[:4]), int(month[5:]) + 1, day))
    run = steps.run_params("2023-03", "tinh", str(inbox), str(outputs))
    assert steps.stale_history(run) == ["2023-01", "2023-02"]  # never the 2022 sample months
    result = steps.clean(run)
    assert result.history_months == ["2023-01", "2023-02"]
    assert steps.stale_history(run) == []
    # a corrected file for January makes January stale again
    _month(inbox, "2023-01", dt.date(2023, 2, 9))
    assert steps.stale_history(run) == ["2023-01"]


def test_a_named_month_folder_has_the_months_beside_it_as_history(tmp_path):
    inbox, outputs = tmp_path / "inbox", tmp_path / "outputs"
    for month, day in (("2023-01", 2), ("2023-02", 3), ("2023-03", 2)):
        _month(inbox, month, dt.date(int(month[:4]), int(month[5:]) + 1, day))
    run = steps.run_params("2023-03", "tinh", str(inbox / "2023-03"), str(outputs))
    assert run.inbox == inbox / "2023-03"
    assert steps.stale_history(run) == ["2023-01", "2023-02"]


def test_a_named_folder_of_workbooks_has_no_history(tmp_path):
    inbox, outputs = tmp_path / "inbox", tmp_path / "outputs"
    _month(inbox, "2023-02", dt.date(2023, 3, 3))
    folder = tmp_path / "thang-3"
    write_form(
        folder / "snv.xlsx",
        info("snv", "2023-03", dt.date(2023, 4, 2)),
        {"Nền tảng": [["Tên nền tảng", "Tình trạng"], ["VNeID", "Đang sử dụng"]]},
    )
    run = steps.run_params("2023-03", "tinh", str(folder), str(outputs))
    assert steps.stale_history(run) == []
    result = steps.clean(run)
    assert (result.folder, result.is_sample, result.history_months) == (folder, False, [])
    assert list(result.submissions["file_name"]) == ["snv.xlsx"]


def test_the_history_of_a_sample_month_starts_in_january_of_the_year_before():
    assert steps.sample_history("2022-12") == [f"2022-{m:02d}" for m in range(1, 12)]
    assert steps.sample_history("2022-01") == []
    later = steps.sample_history("2026-11")
    assert (later[0], later[-1], len(later)) == ("2025-01", "2026-10", 22)


def test_mail_status_shows_the_last_fetch_and_who_a_reminder_would_go_to(tmp_path):
    import pandas as pd

    from dxreport.params import RunParams

    root = tmp_path / "inbox"
    (root / "2026-11").mkdir(parents=True)
    record = tmp_path / "mail" / "fetched.csv"
    record.parent.mkdir()
    record.write_text(
        "fetch,time,message_id,uid,sender,subject,attachment,result,file\n"
        "f1,01/12/2026 08:00:00,<a@x>,1,vanphong.phuxuan@mau.invalid,Báo cáo,a.xlsx,đã lưu,2026-11/a.xlsx\n"
        "f2,02/12/2026 08:00:00,<b@x>,2,vanphong.kimlong@mau.invalid,Báo cáo,b.xlsx,đã lưu,2026-11/b.xlsx\n",
        encoding="utf-8",
    )
    tracker = pd.DataFrame(
        {
            "unit": ["19753", "19774", "skhcn"],
            "unit_name": ["Phường Phú Xuân", "Phường Kim Long", "Sở Khoa học và Công nghệ"],
            "status": ["on_time", "missing", "rejected"],
            "status_label": ["Đã nộp", "Chưa nộp", "Bị từ chối"],
        }
    )
    run = RunParams(month="2026-11", unit="tinh", inbox=root / "2026-11", outputs=tmp_path / "out")
    last, reminders = steps.mail_status(run, tracker)
    # only the last fetch (f2), and the two units still due, with their contacts' addresses
    assert list(last["attachment"]) == ["b.xlsx"]
    assert reminders.to_dict("records") == [
        {
            "unit": "19774",
            "unit_name": "Phường Kim Long",
            "status_label": "Chưa nộp",
            "to": "vanphong.kimlong@mau.invalid",
        },
        {
            "unit": "skhcn",
            "unit_name": "Sở Khoa học và Công nghệ",
            "status_label": "Bị từ chối",
            "to": "skhcn@mau.invalid",
        },
    ]


def _outputs(month_dir):
    """What 02_clean writes that a reader sees: validation.csv and .html, and each feedback copy's
    parts (its document properties, which hold the time it was saved, left out)."""
    import zipfile

    copies = {}
    for path in sorted((month_dir / "feedback").iterdir()):
        with zipfile.ZipFile(path) as archive:
            copies[path.name] = {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}
    return {
        "csv": (month_dir / "validation.csv").read_bytes(),
        "html": (month_dir / "validation.html").read_bytes(),
        "feedback": copies,
    }


def _tables(outputs):
    from dxreport import store

    with store.connect(store.warehouse_path(outputs), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in ("submissions", "facts", "issues")}


def test_clean_gives_the_same_outputs_with_and_without_the_parse_cache(tmp_path, monkeypatch):
    import openpyxl

    from dxreport import sample
    from dxreport.intake import cache, feedback

    month = "2022-12"
    inbox = tmp_path / "inbox" / month
    sample.generate_month(month, inbox)
    read, made = [], []
    real_read, real_write = cache.read_submission, feedback.write_feedback

    def reading(path, **kw):
        read.append(path.name)
        return real_read(path, **kw)

    def writing(source, issues, target, **kw):
        made.append(target.name)
        return real_write(source, issues, target, **kw)

    monkeypatch.setattr(cache, "read_submission", reading)
    monkeypatch.setattr(feedback, "write_feedback", writing)

    def clean(outputs, use_cache=True):
        read.clear()
        made.clear()
        with monkeypatch.context() as m:
            if not use_cache:
                m.setattr(cache.ParseCache, "load", lambda *a: None)
                m.setattr(cache.ParseCache, "store", lambda *a: None)
            steps.clean(steps.run_params(month, "tinh", str(inbox), str(tmp_path / outputs), offline=True))
        return _outputs(tmp_path / outputs / month), _tables(tmp_path / outputs)

    plain = clean("plain", use_cache=False)
    assert not (tmp_path / "raw" / cache.CACHE_DIR).exists()
    assert len(read) == 31
    clean("cached")  # fills the cache
    assert len(read) == 31
    hit = clean("hit")
    assert read == [] and sorted(made) == sorted(plain[0]["feedback"])
    assert hit[0] == plain[0]
    for table, frame in plain[1].items():
        assert hit[1][table].equals(frame), table

    # the same outputs folder again: nothing read, no feedback copy made again
    before = {p.name: p.stat().st_ino for p in (tmp_path / "hit" / month / "feedback").iterdir()}
    clean("hit")
    assert read == [] and made == []
    assert {p.name: p.stat().st_ino for p in (tmp_path / "hit" / month / "feedback").iterdir()} == before

    # 474 resends its file with a later Ngày lập: that file alone is read, and only its copy is made
    wb = openpyxl.load_workbook(inbox / "474_2022-12.xlsx")
    ws = wb["Thông tin"]
    row = next(r for r in ws.iter_rows() if r[0].value == "Ngày lập")
    row[1].value = "09/01/2023"
    wb.save(inbox / "474_2022-12_gui-lai.xlsx")
    resent = clean("hit")
    assert read == ["474_2022-12_gui-lai.xlsx"]
    assert made == ["474_474_2022-12_gui-lai.xlsx"]
    after = {p.name: p.stat().st_ino for p in (tmp_path / "hit" / month / "feedback").iterdir()}
    assert {n: i for n, i in after.items() if n in before} == before
    fresh = clean("plain-after", use_cache=False)
    assert resent[0] == fresh[0]
    for table, frame in fresh[1].items():
        assert resent[1][table].equals(frame), table
    subs = fresh[1]["submissions"].set_index("file_name")
    assert subs.loc["474_2022-12.xlsx", "status"] == "superseded"
    assert subs.loc["474_2022-12_gui-lai.xlsx", "status"] == "accepted"
