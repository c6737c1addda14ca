import pytest

from dxreport.params import ParamError, available_months, month_range, previous_month, validate_run


def test_month_range_crosses_the_year():
    assert month_range("2022-11", "2023-02") == ["2022-11", "2022-12", "2023-01", "2023-02"]
    assert previous_month("2023-01") == "2022-12"


def test_valid_run_parameters(tmp_path):
    run = validate_run({"month": "2022-07", "unit": "478", "inbox": str(tmp_path)})
    assert (run.month, run.unit, run.inbox) == ("2022-07", "478", tmp_path.resolve())


@pytest.mark.parametrize("month", ["2022-13", "22-07", "../2022-07", "2022-7", None])
def test_bad_month_is_refused_with_the_format(month):
    with pytest.raises(ParamError, match="YYYY-MM"):
        validate_run({"month": month, "unit": "tinh"})


def test_month_without_data_lists_valid_months(tmp_path):
    with pytest.raises(ParamError) as err:
        validate_run({"month": "2030-01", "unit": "tinh", "inbox": str(tmp_path)})
    assert "2022-01" in str(err.value) and "2022-12" in str(err.value)


def test_inbox_months_are_available(tmp_path):
    (tmp_path / "2023-03").mkdir()
    (tmp_path / "notes").mkdir()
    assert "2023-03" in available_months(tmp_path)
    assert "notes" not in available_months(tmp_path)


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
