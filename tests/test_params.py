import pytest

from pathlib import Path

from dxreport import params, paths
from dxreport.params import (
    ParamError,
    available_months,
    month_list,
    month_range,
    previous_month,
    resolve_month,
    sample_months,
    validate_run,
)


def test_month_range_crosses_the_year():
    assert month_range("2022-11", "2023-02") == ["2022-11", "2022-12", "2023-01", "2023-02"]
    assert previous_month("2023-01") == "2022-12"


def test_valid_run_parameters(tmp_path):
    (tmp_path / "2022-07").mkdir()
    (tmp_path / "2022-07" / "hue.xlsx").write_bytes(b"x")
    run = validate_run({"month": "2022-07", "unit": "478", "inbox": str(tmp_path)})
    assert (run.month, run.unit, run.inbox) == ("2022-07", "478", tmp_path.resolve())


@pytest.mark.parametrize("month", ["2022-13", "22-07", "../2022-07", "2022-7", None])
def test_bad_month_is_refused_with_the_format(month):
    with pytest.raises(ParamError, match="YYYY-MM"):
        validate_run({"month": month, "unit": "tinh"})


def test_month_without_data_says_which_folder_to_create_and_lists_valid_months(tmp_path, monkeypatch):
    # nothing named, no data/inbox/ at all, not a sample month
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(params, "DATA_DIR", tmp_path / "data")
    with pytest.raises(ParamError) as err:
        validate_run({"month": "2030-01", "unit": "tinh"})
    message = str(err.value)
    assert message.startswith(
        "không có dữ liệu cho tháng 2030-01: Tạo thư mục data/inbox/2030-01/ và đặt các tệp "
        "báo cáo vào đó (các tháng đang có dữ liệu: 2022-01 đến 2026-11)"
    )
    (tmp_path / "data" / "inbox" / "2030-02").mkdir(parents=True)
    with pytest.raises(ParamError) as err:
        validate_run({"month": "2030-01", "unit": "tinh"})
    assert str(err.value).endswith("(các tháng đang có dữ liệu: 2022-01 đến 2026-11, 2030-02)")


def test_month_list_shortens_runs_of_months():
    assert month_list([]) == ""
    assert month_list(["2022-02", "2022-01"]) == "2022-01, 2022-02"
    assert month_list(["2022-11", "2022-12", "2023-01", "2023-05"]) == "2022-11 đến 2023-01, 2023-05"


def test_the_sample_covers_2022_to_2026_11():
    months = sample_months()
    assert (months[0], months[-1], len(months)) == ("2022-01", "2026-11", 59)
    assert "2025-07" in available_months(None)


def test_inbox_months_are_available(tmp_path):
    (tmp_path / "2023-03").mkdir()
    (tmp_path / "notes").mkdir()
    assert available_months(tmp_path) == ["2023-03"]
    # a named inbox offers its own months only, never the sample's
    assert available_months(tmp_path / "2023-03") == ["2023-03"]


# --------------------------------------------------------------------------- --inbox: root or month folder


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty project data folder: no data/inbox/ at all."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setattr(params, "DATA_DIR", folder)
    return folder


def _workbook(folder: Path, name: str = "hue.xlsx") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"PK")
    return folder / name


def test_a_named_inbox_that_does_not_exist_is_refused_naming_it(tmp_path, data_dir):
    typo = tmp_path / "inbox1O"
    with pytest.raises(ParamError) as err:
        validate_run({"month": "2022-07", "unit": "tinh", "inbox": str(typo)})
    assert str(err.value) == (
        f"không có thư mục nhận báo cáo {typo}/ (--inbox): kiểm tra lại đường dẫn; "
        "không dùng dữ liệu mẫu khi đã chỉ định --inbox"
    )


def test_a_named_root_without_the_month_is_refused_even_for_a_sample_month(tmp_path, data_dir):
    root = tmp_path / "inbox"
    _workbook(root / "2022-06")
    with pytest.raises(ParamError) as err:
        validate_run({"month": "2022-07", "unit": "tinh", "inbox": str(root)})
    assert str(err.value) == (
        f"thư mục nhận báo cáo {root}/ (--inbox) không có dữ liệu tháng 2022-07 "
        f"(chỉ có các tháng: 2022-06): Tạo thư mục {root}/2022-07/ và đặt các tệp báo cáo vào đó; "
        "không dùng dữ liệu mẫu khi đã chỉ định --inbox"
    )


def test_a_named_empty_folder_is_refused_with_the_folder_to_create(tmp_path, data_dir):
    with pytest.raises(ParamError) as err:
        resolve_month("2023-04", tmp_path)
    assert str(err.value) == (
        f"thư mục nhận báo cáo {tmp_path}/ (--inbox) không có dữ liệu tháng 2023-04: "
        f"Tạo thư mục {tmp_path}/2023-04/ và đặt các tệp báo cáo vào đó; "
        "không dùng dữ liệu mẫu khi đã chỉ định --inbox"
    )


@pytest.mark.parametrize("named", ["root", "month"])
def test_a_named_month_folder_without_a_workbook_is_refused(tmp_path, data_dir, named):
    month_dir = tmp_path / "inbox" / "2023-04"
    month_dir.mkdir(parents=True)
    (month_dir / "ghi-chu.pdf").write_bytes(b"%PDF")
    (month_dir / "~$hue.xlsx").write_bytes(b"lock")
    with pytest.raises(ParamError) as err:
        resolve_month("2023-04", tmp_path / "inbox" if named == "root" else month_dir)
    assert str(err.value) == (
        f"thư mục tháng 2023-04 {month_dir}/ (--inbox) không có tệp báo cáo .xlsx nào "
        "(chỉ có: ghi-chu.pdf, ~$hue.xlsx): đặt các tệp báo cáo tháng 2023-04 vào đó"
    )


def test_a_named_root_with_the_month(tmp_path, data_dir):
    root = tmp_path / "inbox"
    _workbook(root / "2023-04")
    source = resolve_month("2023-04", str(root))
    assert (source.folder, source.is_sample, source.named, source.root) == (root / "2023-04", False, True, root)
    run = validate_run({"month": "2023-04", "unit": "tinh", "inbox": str(root)})
    assert run.inbox == root and run.as_notebook_parameters()["inbox"] == str(root)
    assert source.describe() == f"Dữ liệu tháng 2023-04: 1 tệp báo cáo trong {root}/2023-04/ (chỉ định bằng --inbox)"


def test_the_named_month_folder_itself(tmp_path, data_dir):
    root = tmp_path / "inbox"
    _workbook(root / "2023-03")
    _workbook(root / "2023-04")
    source = resolve_month("2023-04", root / "2023-04")
    # the months beside it are its history
    assert (source.folder, source.is_sample, source.named, source.root) == (root / "2023-04", False, True, root)
    assert params.resolve_month("2023-04", root / "2023-04").folder == root / "2023-04"


def test_a_named_folder_of_workbooks_under_another_name_is_the_month_folder(tmp_path, data_dir):
    folder = tmp_path / "bao-cao-thang-4"
    _workbook(folder, "Hue.XLSX")
    source = resolve_month("2023-04", folder)
    assert (source.folder, source.is_sample, source.named, source.root) == (folder, False, True, None)


def test_a_named_folder_of_another_month_is_refused(tmp_path, data_dir):
    folder = tmp_path / "2023-03"
    _workbook(folder)
    with pytest.raises(ParamError) as err:
        resolve_month("2023-04", folder)
    assert str(err.value) == (
        f"thư mục {folder}/ (--inbox) là thư mục tháng 2023-03, không phải tháng 2023-04: "
        "chỉ định thư mục gốc chứa các thư mục YYYY-MM, hoặc thư mục 2023-04/"
    )


@pytest.mark.parametrize("inbox", [None, ""])
def test_not_named_and_no_inbox_month_uses_the_sample(data_dir, inbox):
    source = resolve_month("2022-07", inbox)
    assert (source.folder, source.is_sample, source.named, source.root) == (
        data_dir / "sample" / "2022-07",
        True,
        False,
        None,
    )
    assert source.describe() == (
        f"Dữ liệu tháng 2022-07: DỮ LIỆU MẪU (không có thư mục {data_dir}/inbox/2022-07/ và không chỉ định --inbox)"
    )
    run = validate_run({"month": "2022-07", "unit": "tinh", "inbox": inbox})
    assert run.inbox is None and run.as_notebook_parameters()["inbox"] == ""
    # the trip through a notebook's parameters keeps "not named"
    again = validate_run(run.as_notebook_parameters())
    assert again.inbox is None and params.describe_source(again.month, again.inbox) == source.describe()
    assert again.source() == source


def test_not_named_with_the_inbox_month_uses_it_and_never_the_sample(data_dir):
    _workbook(data_dir / "inbox" / "2022-07")
    source = resolve_month("2022-07")
    assert (source.folder, source.is_sample, source.named) == (data_dir / "inbox" / "2022-07", False, False)
    assert source.describe().endswith("(thư mục nhận báo cáo mặc định)")
    (data_dir / "inbox" / "2022-08").mkdir()
    with pytest.raises(ParamError, match="không có tệp báo cáo .xlsx nào"):
        resolve_month("2022-08")


@pytest.mark.parametrize("unit", ["../../etc/passwd", "475", "19750", "", "TINH"])
def test_unknown_or_non_reporting_unit_is_refused_with_the_list(unit):
    # 475 does not exist; 19750 is a commune, which does not send its own form
    with pytest.raises(ParamError) as err:
        validate_run({"month": "2022-07", "unit": unit})
    assert "tinh, 474, 476" in str(err.value)


def test_unknown_parameter_is_refused():
    with pytest.raises(ParamError, match="không được hỗ trợ: colour"):
        validate_run({"month": "2022-07", "unit": "tinh", "colour": "red"})


def test_offline_accepts_a_bool_or_its_text_and_nothing_else():
    assert validate_run({"month": "2022-07", "unit": "tinh", "offline": "true"}).offline is True
    assert validate_run({"month": "2022-07", "unit": "tinh", "offline": False}).offline is False
    with pytest.raises(ParamError, match="offline"):
        validate_run({"month": "2022-07", "unit": "tinh", "offline": "perhaps"})


def test_notebook_parameters_are_plain_values():
    run = validate_run({"month": "2022-07", "unit": "478"})
    values = run.as_notebook_parameters()
    assert values["month"] == "2022-07" and values["unit"] == "478" and values["offline"] is False
    assert values["sources"].endswith("params/sources.yaml")


def test_report_date_is_a_date_from_the_end_of_the_month_to_today():
    import datetime as dt

    run = validate_run({"month": "2022-12", "unit": "tinh", "report_date": "2023-01-06"})
    assert run.report_date == dt.date(2023, 1, 6) and run.as_notebook_parameters()["report_date"] == "2023-01-06"
    assert validate_run(run.as_notebook_parameters()).report_date == dt.date(2023, 1, 6)
    assert validate_run({"month": "2022-12", "unit": "tinh", "report_date": "2022-12-31"}).report_date == dt.date(
        2022, 12, 31
    )
    for empty in (None, "", "  "):
        run = validate_run({"month": "2022-12", "unit": "tinh", "report_date": empty})
        assert run.report_date is None and run.as_notebook_parameters()["report_date"] == ""


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "2022-12-30",
            "ngày báo cáo 30/12/2022 trước ngày cuối của tháng báo cáo (31/12/2022): báo cáo tháng 12/2022 "
            "chỉ ký được từ ngày 31/12/2022",
        ),
        ("06/01/2023", "ngày báo cáo '06/01/2023' không phải một ngày dạng YYYY-MM-DD (ví dụ 2023-01-06)"),
        ("2023-02-30", "ngày báo cáo '2023-02-30' không phải một ngày dạng YYYY-MM-DD (ví dụ 2023-01-06)"),
    ],
)
def test_a_bad_report_date_is_refused_in_one_sentence(value, message):
    with pytest.raises(ParamError) as err:
        validate_run({"month": "2022-12", "unit": "tinh", "report_date": value})
    assert str(err.value) == message


def test_a_report_date_in_the_future_is_refused():
    import datetime as dt

    assert params.check_report_date("2023-01-06", "2022-12", now=dt.date(2023, 1, 6)) == dt.date(2023, 1, 6)
    with pytest.raises(ParamError) as err:
        params.check_report_date("2023-01-07", "2022-12", now=dt.date(2023, 1, 6))
    assert str(err.value) == "ngày báo cáo 07/01/2023 là ngày trong tương lai (hôm nay 06/01/2023)"


def test_make_report_renders_the_latest_sample_month_by_default():
    import shutil
    import subprocess

    from dxreport.paths import PROJECT_ROOT

    if not shutil.which("make"):
        pytest.skip("make is not installed")

    def planned(*args):
        done = subprocess.run(["make", "-n", "report", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
        return [line for line in done.stdout.splitlines() if "dxreport run" in line]

    assert planned()[-1].endswith(f"run --month {sample_months()[-1]} --unit all")
    assert sample_months()[-1] == "2026-11"
    assert planned("MONTH=2022-12")[-1].endswith("run --month 2022-12 --unit all")


def test_a_unit_that_stopped_reporting_is_refused_with_who_took_over():
    # huyện Phú Vang ended on 30/06/2025; its communes are now in these five units
    with pytest.raises(ParamError) as err:
        validate_run({"month": "2025-08", "unit": "478"})
    message = str(err.value)
    assert message.startswith("đơn vị '478' (Huyện Phú Vang) thôi báo cáo từ ngày 01/07/2025; nay thuộc ")
    for unit in ("Phường Thuận An (19900)", "Phường Mỹ Thượng (19930)", "Xã Phú Hồ (19918)", "Xã Phú Vang (19942)"):
        assert unit in message
    with pytest.raises(
        ParamError,
        match=r"'stttt' \(Sở Thông tin và Truyền thông\) thôi báo cáo từ ngày 01/03/2025; "
        r"nay thuộc Sở Khoa học và Công nghệ \(skhcn\)",
    ):
        validate_run({"month": "2025-04", "unit": "stttt"})
    assert validate_run({"month": "2025-03", "unit": "474"}).unit == "474"  # reused: quận Thuận Hóa
