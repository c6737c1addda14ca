from click.testing import CliRunner

from dxreport.cli import main


def test_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "ingest", "index", "units", "sample", "template"):
        assert command in result.output


def test_run_refuses_a_bad_month_before_anything_runs(tmp_path):
    result = CliRunner().invoke(main, ["run", "--month", "2022-13", "--outputs", str(tmp_path)])
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output
    assert list(tmp_path.iterdir()) == []


def test_run_refuses_an_unknown_unit_and_lists_valid_ones(tmp_path):
    result = CliRunner().invoke(main, ["run", "--month", "2022-12", "--unit", "../../x", "--outputs", str(tmp_path)])
    assert result.exit_code == 2
    assert "tinh, 474, 476, 477, 478" in result.output


def test_units_lists_the_thirty_reporting_units():
    result = CliRunner().invoke(main, ["units", "--month", "2022-12"])
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("tinh\t") and len(lines) == 31
    assert "478\tHuyện Phú Vang" in lines


def test_template_writes_the_form_and_never_overwrites_without_force(tmp_path):
    out = tmp_path / "phu-vang-2022-10.xlsx"
    args = ["template", "--month", "2022-10", "--unit", "478", "-o", str(out), "--outputs", str(tmp_path / "o")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "trang Nền tảng để trống" in result.output   # no warehouse there
    import openpyxl

    assert openpyxl.load_workbook(out)["Thông tin"]["B1"].value == "478"
    out.write_bytes(b"the unit's copy")
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "--force" in again.output
    assert out.read_bytes() == b"the unit's copy"
    forced = CliRunner().invoke(main, args + ["--force"])
    assert forced.exit_code == 0 and out.read_bytes()[:2] == b"PK"


def test_template_refuses_unknown_unit_or_month_with_the_valid_values(tmp_path):
    out = tmp_path / "x.xlsx"
    result = CliRunner().invoke(main, ["template", "--month", "2022-10", "--unit", "tinh", "-o", str(out)])
    assert result.exit_code == 2 and "474, 476, 477, 478" in result.output and "hueioc" in result.output
    result = CliRunner().invoke(main, ["template", "--month", "10/2022", "--unit", "478", "-o", str(out)])
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    result = CliRunner().invoke(main, ["template", "--month", "2022-10", "--unit", "478"])
    assert result.exit_code == 2 and "-o" in result.output
    assert not out.exists()


def test_ingest_prints_the_tracker_and_the_feedback_folder(tmp_path, monkeypatch):
    import datetime as dt
    import os

    from dxreport import forms, steps

    offline = steps.scrape
    monkeypatch.setattr(steps, "scrape", lambda run, fetch=None: offline(run, fetch=False))   # no network in tests

    inbox = tmp_path / "inbox" / "2022-10"
    inbox.mkdir(parents=True)
    # syt sends its form with a platform whose active users exceed its accounts; stp sends a PDF.
    path = forms.write_template("2022-10", "syt", inbox / "syt.xlsx")
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb["Thông tin"]["B3"], wb["Thông tin"]["B4"] = "Trần An", "02/11/2022"
    ws = wb["Nền tảng"]
    ws["B4"], ws["C4"], ws["D4"], ws["E4"] = "Dịch vụ công trực tuyến", "Đang sử dụng", 10, 20
    wb.save(path)
    (inbox / "stp.pdf").write_bytes(b"%PDF-1.4")
    for p in inbox.iterdir():
        os.utime(p, (dt.datetime(2022, 11, 2, 9).timestamp(),) * 2)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["ingest", "--month", "2022-10", "--inbox", str(tmp_path / "inbox"),
                                       "--outputs", str(out)])
    assert result.exit_code == 0, result.output
    # 30 reporting units: syt received (its one row quarantined), stp's PDF has no unit, 29 missing
    assert "Nộp báo cáo: Đã nộp 1, Nộp muộn 0, Chưa nộp 29, Nộp lại 0, Bị từ chối 0" in result.output
    assert f"Bản góp ý gửi đơn vị (2 tệp): {out / '2022-10' / 'feedback'}" in result.output
    assert sorted(p.name for p in (out / "2022-10" / "feedback").iterdir()) == [
        "khong_ro_don_vi_stp.pdf.xlsx", "syt_syt.xlsx"]
