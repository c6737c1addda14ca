import json
import logging
import unicodedata

import click
import pytest
from click.testing import CliRunner

from dxreport.cli import error_message, main

COMMANDS = ("run", "ingest", "template", "scrape", "index", "units", "sample")

# Words of click's own English that must never reach the user.
ENGLISH = (
    "Usage:",
    "Options:",
    "Commands:",
    "Show this message",
    "Show the version",
    "Missing option",
    "Missing argument",
    "Error:",
    "Invalid value",
    "No such",
    "Try '",
    "Did you mean",
    "[OPTIONS]",
    "COMMAND",
    "[default",
    "required]",
    "DIRECTORY",
    "INTEGER",
    "FILE",
    "is not a valid",
    "does not exist",
    "is a file",
    "is not in the range",
    "requires an argument",
    "does not take a value",
    "unexpected extra",
    "Aborted",
    ", version",
)


def _invoke(args: list[str]):
    return CliRunner().invoke(main, args, prog_name="dxreport")


def _vietnamese(output: str) -> None:
    assert unicodedata.is_normalized("NFC", output)
    for word in ENGLISH:
        assert word not in output, f"{word!r} in {output!r}"


def test_help_lists_every_command():
    result = _invoke(["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f"\n  {command} " in result.output
    assert result.output.startswith("Cách dùng: dxreport [TÙY CHỌN] LỆNH [TÙY CHỌN]...\n")
    assert "\nTùy chọn:\n" in result.output and "\nLệnh:\n" in result.output
    assert "Hiện hướng dẫn này rồi thoát." in result.output
    assert "Hiện phiên bản của dxreport rồi thoát." in result.output
    assert "Báo cáo tháng về mức độ sử dụng các nền tảng số" in result.output
    _vietnamese(result.output)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_of_every_command_is_vietnamese(command, flag):
    result = _invoke([command, flag])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Cách dùng: dxreport {command} [TÙY CHỌN]\n")
    assert "\nTùy chọn:\n" in result.output
    assert "-h, --help" in result.output and "Hiện hướng dẫn này rồi thoát." in result.output
    _vietnamese(result.output)


def test_option_help_is_vietnamese_with_vietnamese_extras():
    result = _invoke(["run", "--help"])
    text = " ".join(result.output.split())
    assert "--month YYYY-MM Tháng báo cáo, ví dụ 2022-12. [bắt buộc]" in text
    assert "--workers SỐ Số tiến trình lập báo cáo song song (mặc định: số lõi CPU). [từ 1 đến 64]" in text
    assert "--inbox THƯ_MỤC" in text and "--sources TỆP" in text and "--unit MÃ|tinh|all" in text
    template = " ".join(_invoke(["template", "--help"]).output.split())
    assert "-o, --out TỆP Tệp .xlsx sẽ ghi. [bắt buộc]" in template


def test_version_is_vietnamese():
    result = _invoke(["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("dxreport, phiên bản ")
    _vietnamese(result.output)


def test_no_command_shows_the_help():
    result = _invoke([])
    assert "Cách dùng: dxreport" in result.output and "\nLệnh:\n" in result.output
    _vietnamese(result.output)


def _usage_error(args: list[str], command: str = "run") -> str:
    result = _invoke(args)
    assert result.exit_code == 2, result.output
    prog = f"dxreport {command}" if command else "dxreport"
    assert result.output.startswith(f"Cách dùng: {prog} [TÙY CHỌN]")
    assert f"Xem '{prog} -h' để biết cách dùng." in result.output
    _vietnamese(result.output)
    return result.output


def test_missing_month():
    output = _usage_error(["run"])
    assert output.rstrip().endswith("Lỗi: Thiếu tùy chọn '--month'.")


def test_missing_option_with_two_names():
    output = _usage_error(["template", "--month", "2022-10", "--unit", "478"], "template")
    assert "Lỗi: Thiếu tùy chọn '-o' / '--out'." in output


def test_unknown_option_suggests_the_near_one():
    output = _usage_error(["run", "--month", "2022-12", "--wrkers", "2"])
    assert "Lỗi: Không có tùy chọn '--wrkers'; ý bạn là '--workers'?" in output
    output = _usage_error(["units", "--month", "2022-12", "--zzz"], "units")
    assert "Lỗi: Không có tùy chọn '--zzz'." in output


@pytest.mark.parametrize(
    "value, reason",
    [
        ("abc", "'abc' không phải là số nguyên."),
        ("0", "0 không nằm trong khoảng cho phép (từ 1 đến 64)."),
        ("65", "65 không nằm trong khoảng cho phép (từ 1 đến 64)."),
    ],
)
def test_bad_workers(value, reason):
    output = _usage_error(["run", "--month", "2022-12", "--workers", value])
    assert f"Lỗi: Giá trị không hợp lệ cho '--workers': {reason}" in output


def test_a_file_where_a_folder_is_expected(tmp_path):
    afile = tmp_path / "outputs"
    afile.write_text("x", encoding="utf-8")
    output = _usage_error(["run", "--month", "2022-12", "--outputs", str(afile)])
    assert f"Lỗi: Giá trị không hợp lệ cho '--outputs': '{afile}' là một tệp, không phải thư mục." in output


def test_unknown_command_suggests_the_near_one():
    output = _usage_error(["rnu", "--month", "2022-12"], "")
    assert "Lỗi: Không có lệnh 'rnu'; ý bạn là 'run'?" in output
    output = _usage_error(["report"], "")
    assert "Lỗi: Không có lệnh 'report'." in output


def test_option_without_its_value_and_flag_with_a_value():
    output = _usage_error(["units", "--month"], "units")
    assert "Lỗi: Tùy chọn '--month' cần một giá trị." in output
    output = _usage_error(["ingest", "--month", "2022-12", "--offline=yes"], "ingest")
    assert "Lỗi: Tùy chọn '--offline' không nhận giá trị." in output


def test_words_a_command_does_not_take():
    output = _usage_error(["units", "--month", "2022-12", "thêm"], "units")
    assert "Lỗi: Lệnh này chỉ nhận các tùy chọn, không nhận 'thêm'." in output


def test_the_english_original_goes_to_the_log_only(caplog):
    caplog.set_level(logging.INFO, logger="dxreport.cli")
    result = _invoke(["run", "--month", "2022-12", "--wrkers", "2"])
    assert "No such option '--wrkers'" in caplog.text
    assert "No such option" not in result.output
    caplog.clear()
    _invoke(["run", "--month", "2022-12", "--workers", "abc"])
    assert "'abc' is not a valid integer" in caplog.text


def test_an_unexpected_error_is_reported_in_vietnamese_and_logged_in_english(monkeypatch, caplog, tmp_path):
    from dxreport import runner

    def boom(*args, **kwargs):
        raise RuntimeError("kernel died unexpectedly")

    monkeypatch.setattr(runner, "run_month", boom)
    monkeypatch.delenv("DXREPORT_DEBUG", raising=False)
    caplog.set_level(logging.INFO, logger="dxreport.cli")
    result = _invoke(["run", "--month", "2022-12", "--outputs", str(tmp_path)])
    assert result.exit_code == 1
    assert "Lỗi: Lệnh dừng vì một lỗi ngoài dự kiến (RuntimeError)." in result.output
    assert "DXREPORT_DEBUG=1" in result.output
    assert "kernel died" not in result.output
    assert "kernel died unexpectedly" in caplog.text
    _vietnamese(result.output)


def test_run_summary_counts_unchanged_reports_as_done(monkeypatch, tmp_path):
    from dxreport import runner

    units = {
        "tinh": {
            "name": "Tỉnh Thừa Thiên Huế",
            "status": "skipped",
            "html": "tinh/report.html",
            "pdf": "tinh/report.pdf",
        }
    }
    units.update({f"u{i:02d}": {"name": f"Đơn vị {i}", "status": "skipped" if i <= 20 else "ok"} for i in range(1, 31)})
    manifest = {
        "parameters": {"outputs": str(tmp_path)},
        "units": units,
        "sample": True,
        "failed": [],
        "log": "logs/run.log",
    }
    monkeypatch.setattr(runner, "run_month", lambda *a, **k: manifest)
    result = _invoke(["run", "--month", "2022-12", "--outputs", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    # 31 reports: 21 unchanged (tinh and u01..u20), 10 made again
    assert result.output.startswith("Tháng 2022-12: 31/31 báo cáo xong (21 không đổi so với lần chạy trước) trong ")
    assert "(DỮ LIỆU MẪU)." in result.output
    _vietnamese(result.output)


def test_index_refuses_a_missing_outputs_folder_and_does_not_create_it(tmp_path):
    missing = tmp_path / "khong-co" / "outputs"
    result = _invoke(["index", "--outputs", str(missing)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: Không có thư mục kết quả ")
    assert str(missing) in lines[0]
    assert not (tmp_path / "khong-co").exists()
    _vietnamese(result.output)


def test_index_refuses_nonexistent():
    result = _invoke(["index", "--outputs", "/nonexistent"])
    assert result.exit_code == 2
    assert "Lỗi: Không có thư mục kết quả /nonexistent" in result.output
    from pathlib import Path

    assert not Path("/nonexistent").exists()


def test_index_writes_the_page(tmp_path):
    month = tmp_path / "2022-12"
    month.mkdir()
    (month / "manifest.json").write_text(
        json.dumps(
            {
                "month": "2022-12",
                "units": {
                    "tinh": {"name": "Tỉnh Thừa Thiên Huế", "status": "skipped"},
                    "474": {"name": "Thành phố Huế", "status": "ok"},
                },
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "_scratch").mkdir()
    result = _invoke(["index", "--outputs", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(tmp_path / "index.html")
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Báo cáo đã lập: 2/2 (1 không đổi so với lần chạy trước)." in page
    assert "_scratch" not in page


def test_run_refuses_a_bad_month_before_anything_runs(tmp_path):
    result = _invoke(["run", "--month", "2022-13", "--outputs", str(tmp_path)])
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output
    assert list(tmp_path.iterdir()) == []


def test_run_refuses_a_report_date_before_the_end_of_the_month_before_anything_runs(tmp_path):
    result = _invoke(["run", "--month", "2022-12", "--report-date", "2022-12-15", "--outputs", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Lỗi: Ngày báo cáo 15/12/2022 trước ngày cuối của tháng báo cáo (31/12/2022): "
        "báo cáo tháng 12/2022 chỉ ký được từ ngày 31/12/2022"
    )
    assert list(tmp_path.iterdir()) == []


def test_run_passes_the_report_date_on(monkeypatch, tmp_path):
    from dxreport import runner

    asked = {}

    def record(*args, **kwargs):
        asked.update(kwargs)
        return {"parameters": {"outputs": str(tmp_path)}, "units": {}, "sample": False, "failed": []}

    monkeypatch.setattr(runner, "run_month", record)
    assert _invoke(["run", "--month", "2022-12", "--report-date", "2023-01-06", "--quiet"]).exit_code == 0
    assert asked["report_date"] == "2023-01-06"
    assert _invoke(["run", "--month", "2022-12", "--quiet"]).exit_code == 0
    assert asked["report_date"] is None
    text = " ".join(_invoke(["run", "--help"]).output.split())
    assert "--report-date YYYY-MM-DD Ngày ký ghi trên báo cáo" in text


def test_run_refuses_an_unknown_unit_and_lists_valid_ones(tmp_path):
    result = _invoke(["run", "--month", "2022-12", "--unit", "../../x", "--outputs", str(tmp_path)])
    assert result.exit_code == 2
    assert "tinh, 474, 476, 477, 478" in result.output


def test_units_lists_the_thirty_reporting_units():
    result = _invoke(["units", "--month", "2022-12"])
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("tinh\t") and len(lines) == 31
    assert "478\tHuyện Phú Vang" in lines


def test_template_writes_the_form_and_never_overwrites_without_force(tmp_path):
    out = tmp_path / "phu-vang-2022-10.xlsx"
    args = ["template", "--month", "2022-10", "--unit", "478", "-o", str(out), "--outputs", str(tmp_path / "o")]
    result = _invoke(args)
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "trang Nền tảng để trống" in result.output  # no warehouse there
    import openpyxl

    assert openpyxl.load_workbook(out)["Thông tin"]["B1"].value == "478"
    out.write_bytes(b"the unit's copy")
    again = _invoke(args)
    assert again.exit_code == 2 and "--force" in again.output
    assert out.read_bytes() == b"the unit's copy"
    forced = _invoke(args + ["--force"])
    assert forced.exit_code == 0 and out.read_bytes()[:2] == b"PK"


def test_template_refuses_unknown_unit_or_month_with_the_valid_values(tmp_path):
    out = tmp_path / "x.xlsx"
    result = _invoke(["template", "--month", "2022-10", "--unit", "tinh", "-o", str(out)])
    assert result.exit_code == 2 and "474, 476, 477, 478" in result.output and "hueioc" in result.output
    result = _invoke(["template", "--month", "10/2022", "--unit", "478", "-o", str(out)])
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    result = _invoke(["template", "--month", "2022-10", "--unit", "478"])
    assert result.exit_code == 2 and "-o" in result.output
    assert not out.exists()


def test_ingest_prints_the_tracker_and_the_feedback_folder(tmp_path, monkeypatch):
    import datetime as dt
    import os

    from dxreport import steps, template

    offline = steps.scrape
    monkeypatch.setattr(steps, "scrape", lambda run, fetch=None: offline(run, fetch=False))  # no network in tests

    inbox = tmp_path / "inbox" / "2022-10"
    inbox.mkdir(parents=True)
    # syt sends its form with a platform whose active users exceed its accounts; stp sends a PDF.
    path = template.write_template("2022-10", "syt", inbox / "syt.xlsx")
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
    result = _invoke(["ingest", "--month", "2022-10", "--inbox", str(tmp_path / "inbox"), "--outputs", str(out)])
    assert result.exit_code == 0, result.output
    # 30 reporting units: syt received (its one row quarantined), stp's PDF has no unit, 29 missing
    assert f"Tháng 2022-10: 2 tệp từ {tmp_path / 'inbox' / '2022-10'} — 1 được nạp, 1 bị từ chối." in result.output
    assert "Nộp báo cáo: Đã nộp 1, Nộp muộn 0, Chưa nộp 29, Nộp lại 0, Bị từ chối 0" in result.output
    _vietnamese(result.output)
    assert f"Bản góp ý gửi đơn vị (2 tệp): {out / '2022-10' / 'feedback'}" in result.output
    assert sorted(p.name for p in (out / "2022-10" / "feedback").iterdir()) == [
        "khong_ro_don_vi_stp.pdf.xlsx",
        "syt_syt.xlsx",
    ]


def test_interrupted_run_says_so_in_vietnamese(monkeypatch, tmp_path):
    from dxreport import runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_month", interrupted)
    result = _invoke(["run", "--month", "2022-12", "--outputs", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == "Đã dừng."


@pytest.fixture()
def debug_env(monkeypatch):
    monkeypatch.setenv("DXREPORT_DEBUG", "1")
    package = logging.getLogger("dxreport")
    handlers, level = list(package.handlers), package.level
    yield
    for handler in package.handlers[:]:
        if handler not in handlers:
            package.removeHandler(handler)
    package.setLevel(level)


def test_debug_env_shows_the_english_log(debug_env):
    result = _invoke(["run", "--month", "2022-12", "--workers", "abc"])
    assert result.exit_code == 2
    assert "dxreport.cli: click: 'abc' is not a valid integer" in result.output
    assert "Lỗi: Giá trị không hợp lệ cho '--workers': 'abc' không phải là số nguyên." in result.output


def test_debug_env_lets_an_unexpected_error_through(debug_env, monkeypatch, tmp_path):
    from dxreport import runner

    def boom(*args, **kwargs):
        raise RuntimeError("kernel died unexpectedly")

    monkeypatch.setattr(runner, "run_month", boom)
    result = _invoke(["run", "--month", "2022-12", "--outputs", str(tmp_path)])
    assert isinstance(result.exception, RuntimeError)
    assert "kernel died unexpectedly" in result.output  # the log record, with its traceback


@pytest.mark.parametrize(
    "exc, message",
    [
        (click.FileError("a.txt", "Permission denied"), "Không mở được tệp 'a.txt'."),
        (click.UsageError("Missing command."), "Thiếu tên lệnh; các lệnh có ở mục “Lệnh” trong hướng dẫn."),
        (click.UsageError("Something new in click."), "Lệnh được gọi không đúng cách."),
        (click.BadParameter("x", param_hint="--month"), "Giá trị không hợp lệ cho --month: x"),
        (click.BadParameter("x", param_hint=["-o", "--out"]), "Giá trị không hợp lệ cho '-o' / '--out': x"),
    ],
)
def test_every_kind_of_click_error_has_a_vietnamese_sentence(exc, message):
    text = error_message(exc)
    assert text[:1].upper() + text[1:] == message


def test_every_option_uses_the_vietnamese_classes():
    from dxreport import cli

    commands = dict(main.commands)
    for name, group in main.commands.items():
        if isinstance(group, click.Group):
            assert isinstance(group, cli.Group), name
            commands.pop(name)
            commands.update({f"{name} {sub}": command for sub, command in group.commands.items()})
    assert {"mail fetch", "mail remind", "mail feedback", "mail report"} <= set(commands)
    for name, command in commands.items():
        assert isinstance(command, cli.Command), name
        for param in command.params:
            assert isinstance(param, cli.Option), (name, param.name)
            # only types whose failures are worded in Vietnamese; strings and flags cannot fail
            if isinstance(param.type, click.types.BoolParamType):
                assert param.is_flag, (name, param.name)
            else:
                assert isinstance(param.type, (cli.IntRangeParam, cli.PathParam, click.types.StringParamType)), (
                    name,
                    param.name,
                    param.type,
                )
            assert param.help and unicodedata.is_normalized("NFC", param.help), (name, param.name)
        assert command.help and unicodedata.is_normalized("NFC", command.help), name


def test_units_of_2025_07_are_the_forty_communes_and_fifteen_agencies():
    result = _invoke(["units", "--month", "2025-07"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "tinh\tThành phố Huế (toàn thành phố)"
    assert len(lines) == 1 + 40 + 15
    assert lines[1] == "19753\tPhường Phú Xuân" and "20182\tXã Long Quảng" in lines
    assert "skhcn\tSở Khoa học và Công nghệ" in lines and "stttt\tSở Thông tin và Truyền thông" not in lines
    assert not any(line.startswith(("474\t", "482\t")) for line in lines)
    _vietnamese(result.output)


def test_units_of_2022_and_of_the_first_half_of_2025():
    assert _invoke(["units", "--month", "2022-12"]).output.splitlines()[0] == "tinh\tTỉnh Thừa Thiên Huế (toàn tỉnh)"
    lines = _invoke(["units", "--month", "2025-01"]).output.splitlines()
    assert lines[:2] == ["tinh\tThành phố Huế (toàn thành phố)", "474\tQuận Thuận Hóa"]
    assert "475\tQuận Phú Xuân" in lines and not any(line.startswith("483\t") for line in lines)


def test_template_of_a_2025_phuong(tmp_path):
    out = tmp_path / "phu-xuan.xlsx"
    result = _invoke(["template", "--month", "2026-11", "--unit", "19753", "-o", str(out), "--outputs", str(tmp_path)])
    assert result.exit_code == 0, result.output
    import openpyxl

    wb = openpyxl.load_workbook(out)
    assert wb["Thông tin"]["B1"].value == "19753"
    assert [c.value for c in wb["Tổ công nghệ số"][4]][:2] == ["19753", "Phường Phú Xuân"]


def test_template_of_a_code_that_stopped_reporting_names_its_successor(tmp_path):
    result = _invoke(["template", "--month", "2025-01", "--unit", "483", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert (
        "Lỗi: Mã đơn vị '483' là Huyện Nam Đông, đã thôi là đơn vị báo cáo từ ngày 01/01/2025; "
        "địa bàn nay thuộc Huyện Phú Lộc (482); các mã hợp lệ tháng 2025-01: 474, 475," in text
    )


def test_run_summary_names_the_whole_city_from_2025(monkeypatch, tmp_path):
    from dxreport import runner

    manifest = {
        "parameters": {"outputs": str(tmp_path)},
        "units": {"tinh": {"name": "Thành phố Huế", "status": "ok", "html": "tinh/r.html", "pdf": "tinh/r.pdf"}},
        "sample": False,
        "failed": [],
    }
    monkeypatch.setattr(runner, "run_month", lambda *a, **k: manifest)
    result = _invoke(["run", "--month", "2025-07", "--outputs", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    head = "  Báo cáo toàn thành phố: "
    assert lines[1] == head + str(tmp_path / "2025-07" / "tinh" / "r.pdf")
    assert lines[2] == " " * len(head) + str(tmp_path / "2025-07" / "tinh" / "r.html")


def test_mail_fetch_without_a_password_says_where_to_put_it(monkeypatch):
    monkeypatch.delenv("DXREPORT_MAIL_PASSWORD", raising=False)
    result = _invoke(["mail", "fetch", "--month", "2026-11"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Lỗi: Chưa có mật khẩu hộp thư: đặt biến môi trường DXREPORT_MAIL_PASSWORD (hoặc mail.password_file, "
        "một tệp ngoài thư mục dự án)."
    )


def test_mail_lists_its_commands_in_vietnamese():
    result = _invoke(["mail", "--help"])
    assert result.exit_code == 0 and "Nhận các tệp .xlsx đính kèm thư của đơn vị" in result.output
    commands = [line.split()[0] for line in result.output.split("Lệnh:")[1].strip().splitlines()]
    assert commands == ["feedback", "fetch", "remind", "report"]


def test_mail_feedback_of_a_month_without_problems_says_there_is_nothing_to_send(tmp_path):
    result = _invoke(["mail", "feedback", "--month", "2026-11", "--outputs", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.strip() == "Tháng 2026-11: không có thư góp ý nào cần gửi."
    assert not (tmp_path / "2026-11" / "mail").exists() or not list((tmp_path / "2026-11" / "mail").glob("*.eml"))


def test_mail_report_before_the_report_is_made_is_refused_in_one_sentence(tmp_path):
    result = _invoke(["mail", "report", "--month", "2026-11", "--outputs", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("Lỗi: ") and "Traceback" not in result.output
    assert "2026-11" in result.output


def test_mail_commands_warn_of_contacts_that_do_not_fit_the_month(tmp_path, monkeypatch):
    from dxreport import contacts
    from dxreport.units import load_registry

    path = tmp_path / "contacts.csv"
    path.write_text(
        "code,name,email,role,valid_from,valid_to,source\n483,Huyện Nam Đông,namdong@example.org,gui_bao_cao,,,x\n",
        encoding="utf-8",
    )
    book = contacts.read_contacts(path, load_registry())
    monkeypatch.setattr(contacts, "load_contacts", lambda *_, **__: book)
    result = _invoke(["mail", "feedback", "--month", "2025-03", "--outputs", str(tmp_path)])
    assert result.exit_code == 0
    assert (
        f"Cảnh báo: {path}, dòng 2: đơn vị 483 (Huyện Nam Đông) không gửi báo cáo tháng 2025-03; liên hệ này không "
        "được dùng"
    ) in result.output
    assert "Cảnh báo: params/contacts.csv" not in result.output
