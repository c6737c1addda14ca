from click.testing import CliRunner

from dxreport.cli import main


def test_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "ingest", "index", "units", "sample"):
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
