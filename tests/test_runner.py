"""End to end: a tiny hand-made month through every notebook, to HTML, PDF and the index."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import unicodedata

import pytest

from conftest import PLATFORM_HEADERS, info, write_form
from dxreport import runner
from dxreport.params import ParamError

pytestmark = pytest.mark.slow

MONTH = "2023-01"


def _hue_form(path, prepared: dt.date, downloads: str, communes: list[list]) -> None:
    """Thành phố Huế's workbook of the month: platforms, Hue-S, teams by commune, enterprises."""
    write_form(
        path,
        info("474", MONTH, prepared),
        {
            "Nền tảng": [
                PLATFORM_HEADERS,
                ["", "Ứng dụng Hue-S", "Đang sử dụng", 1000, 400, 5000, "Có", "", ""],
                ["", "Sổ SKĐT", "Đang thử nghiệm", 200, 50, 300, "Không", "", ""],
            ],
            "Hue-S": [
                [
                    "Lượt tải lũy kế",
                    "Tài khoản đăng ký lũy kế",
                    "Phản ánh tiếp nhận trong tháng",
                    "Phản ánh đã xử lý trong tháng",
                    "Phản ánh xử lý đúng hạn trong tháng",
                    "Tỷ lệ hài lòng (%)",
                ],
                [downloads, 800000, 1000, 950, 900, "80,5%"],
            ],
            "Tổ công nghệ số": [
                [
                    "Mã xã",
                    "Xã/phường/thị trấn",
                    "Số tổ lũy kế",
                    "Số thành viên lũy kế",
                    "Số buổi tập huấn trong tháng",
                    "Lượt người được tập huấn trong tháng",
                    "Số hộ được hỗ trợ trong tháng",
                ],
                *communes,
            ],
            "Doanh nghiệp": [
                [
                    "DN tiếp cận SMEdx lũy kế",
                    "DN sử dụng nền tảng số lũy kế",
                    "DN tự đánh giá DBI lũy kế",
                    "DN được hỗ trợ trong tháng",
                ],
                [120, 30, 15, 4],
            ],
        },
    )


@pytest.fixture(scope="module")
def month_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    inbox = root / "inbox" / MONTH
    _hue_form(
        inbox / "hue.xlsx",
        dt.date(2023, 2, 2),
        "1.234.567",
        [
            ["19750", "Tây Lộc", 4, 20, 2, 40, 30],
            ["19753", "Thuận Lộc", 6, 5, 1, 10, 10],
        ],  # members < teams: quarantined
    )
    write_form(
        inbox / "snv.xlsx",
        info("snv", MONTH, dt.date(2023, 2, 3)),
        {
            "Nền tảng": [
                PLATFORM_HEADERS,
                [
                    "cq-hop",
                    "Nền tảng họp trực tuyến thế hệ mới cho cơ quan nhà nước",
                    "Đang sử dụng",
                    150,
                    120,
                    60,
                    "Có",
                    "",
                    "",
                ],
            ],
        },
    )
    outputs = root / "outputs"
    province = runner.run_month(MONTH, "tinh", inbox=root / "inbox", outputs=outputs, workers=1, progress=False)
    district = runner.run_month(MONTH, "474", inbox=root / "inbox", outputs=outputs, workers=1, progress=False)
    return outputs, province, district


def _kpis(path):
    with open(path, encoding="utf-8-sig") as fh:
        return {r["indicator"]: r["value"] for r in csv.DictReader(fh)}


def test_manifest_records_every_step(month_run):
    outputs, province, district = month_run
    assert [s["name"] for s in province["steps"]] == ["01_scrape", "02_clean", "03_analyse", "04_report"]
    assert all(s["status"] == "ok" for s in province["steps"])
    assert province["units"]["tinh"]["status"] == "ok" and province["sample"] is False
    # the second run found the month-level steps up to date and skipped them
    assert [s["status"] for s in district["steps"][:3]] == ["skipped"] * 3
    saved = json.loads((outputs / MONTH / "manifest.json").read_text(encoding="utf-8"))
    assert saved["units"]["474"]["status"] == "ok"
    assert any(k.startswith("inbox/") for k in saved["inputs"])


def test_province_figures_worked_out_by_hand(month_run):
    outputs, _, _ = month_run
    k = _kpis(outputs / MONTH / "tinh" / "kpis.csv")
    assert float(k["hues_downloads"]) == 1_234_567
    assert float(k["processed_rate"]) == pytest.approx(95.0)  # 950 / 1000
    assert float(k["on_time_rate"]) == pytest.approx(900 / 950 * 100)  # 94,7%
    assert float(k["satisfaction"]) == pytest.approx(80.5)
    assert float(k["teams"]) == 4  # the bad commune row is left out
    # Tây Lộc has a team; Thuận Lộc's row was rejected and the other 139 communes sent nothing: none of
    # the 140 counts as a commune without a team, all are communes without a valid figure
    assert float(k["communes_with_team"]) == 1
    assert float(k["communes_without_team"]) == 0
    assert float(k["communes_no_data"]) == 141 - 1
    assert float(k["platforms_in_use"]) == 2  # Hue-S (474) + họp trực tuyến (snv)
    assert float(k["platforms_trial"]) == 1  # Sổ SKĐT, found by its alias
    assert float(k["platform_mau"]) == 400 + 50  # districts only; snv's 120 apart
    assert float(k["platform_mau_agencies"]) == 120
    assert float(k["submissions_received"]) == 2
    assert float(k["sme_using_rate"]) == pytest.approx(25.0)


def test_report_html_in_vietnamese_format(month_run):
    outputs, _, _ = month_run
    html = (outputs / MONTH / "tinh" / "report.html").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", html)
    assert "Kết quả mức độ sử dụng các nền tảng số tháng 01/2023" in html
    # Huế alone holds 494.070 of the districts' 1.165.413 people: 42,4%, below the 80% needed for a
    # per-capita figure of the province; Huế's own report has it: 1.234.567 / 494.070 × 100 = 249,9
    for text in (
        "1.234.567",
        "94,7%",
        "80,5%",
        "2/30",
        "số lượt tải trên 100 dân chưa đủ số liệu (các huyện báo cáo có 42,4% dân số, dưới mức 80%)",
    ):
        assert text in html, text
    district = (outputs / MONTH / "474" / "report.html").read_text(encoding="utf-8")
    assert "bình quân 249,9 lượt tải trên 100 dân của các đơn vị đã báo cáo" in district
    assert "DỮ LIỆU MẪU" not in html
    assert "<svg" in html and "<img" not in html  # charts inline as SVG
    assert "steps.run_params" not in html and "report.load(" not in html  # code hidden


def test_report_has_every_section_and_the_annex_its_figures(month_run):
    import openpyxl

    outputs, _, _ = month_run
    html = (outputs / MONTH / "tinh" / "report.html").read_text(encoding="utf-8")
    for heading in (
        "I. Đánh giá chung",
        "II. Nền tảng số phục vụ chính quyền",
        "III. Nền tảng số phục vụ doanh nghiệp",
        "IV. Nền tảng số phục vụ người dân và ứng dụng Hue-S",
        "V. Tổ công nghệ số cộng đồng",
        "VI. Thay đổi danh mục nền tảng số",
        "VII. Tồn tại, hạn chế và nguyên nhân",
        "VIII. Đề xuất, kiến nghị",
    ):
        assert heading in html, heading
    assert "Chưa có chỉ tiêu năm 2023" in html  # params/targets.yaml has 2022 only
    assert "kho dữ liệu chưa có số liệu tháng 01/2022" in html  # no same month last year
    # 28 of the 30 units sent nothing; the rule names them
    assert 'Không gửi báo cáo tháng, hoặc báo cáo bị từ chối toàn bộ</td><td class="num">28</td>' in html
    wb = openpyxl.load_workbook(outputs / MONTH / "tinh" / "annex.xlsx")
    ws = wb["IV. Người dân, Hue-S"]
    headers = {ws.cell(3, j).value: j for j in range(1, ws.max_column + 1)}
    hue = next(i for i in range(4, ws.max_row + 1) if ws.cell(i, 1).value == "474")
    assert ws.cell(hue, headers["Lượt tải ứng dụng Hue-S (lũy kế) (lượt)"]).value == 1_234_567
    assert ws.cell(hue, headers["Tỷ lệ phản ánh đã xử lý"]).value == pytest.approx(0.95)  # 950 / 1000
    assert (outputs / MONTH / "474" / "annex.xlsx").exists()
    unit = (outputs / MONTH / "474" / "report.html").read_text(encoding="utf-8")
    assert "<th>Xếp hạng</th><th>Bình quân các huyện</th>" in unit


def test_quarantined_row_is_reported_with_its_cell(month_run):
    outputs, _, _ = month_run
    with open(outputs / MONTH / "validation.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    bad = [r for r in rows if r["rule"] == "row.members_ge_teams"]
    assert len(bad) == 1
    assert (bad[0]["file"], bad[0]["sheet"], bad[0]["cell"], bad[0]["severity"]) == (
        "hue.xlsx",
        "Tổ công nghệ số",
        "D3",
        "error",
    )


def test_unit_report_and_index(month_run):
    outputs, _, _ = month_run
    html = (outputs / MONTH / "474" / "report.html").read_text(encoding="utf-8")
    assert "Thành phố Huế" in html
    index = (outputs / "index.html").read_text(encoding="utf-8")
    assert f"{MONTH}/tinh/report.html" in index and f"{MONTH}/474/report.pdf" in index


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_pdf_has_the_vietnamese_title(month_run):
    outputs, _, _ = month_run
    text = subprocess.run(
        ["pdftotext", "-layout", str(outputs / MONTH / "tinh" / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Kết quả mức độ sử dụng các nền tảng số tháng 01/2023" in unicodedata.normalize(
        "NFC", " ".join(text.split())
    )


def test_bad_parameters_are_refused_before_any_notebook(tmp_path):
    with pytest.raises(ParamError, match="các mã hợp lệ"):
        runner.run_month("2022-12", "../../etc", outputs=tmp_path, progress=False)
    with pytest.raises(ParamError, match="YYYY-MM"):
        runner.run_month("2022-12; rm -rf /", "tinh", outputs=tmp_path, progress=False)
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="poppler-utils (pdffonts) not installed")
def test_pdf_embeds_only_the_pinned_font(month_run):
    from dxreport.render import FONT_FAMILY

    outputs, _, _ = month_run
    listing = subprocess.run(
        ["pdffonts", str(outputs / MONTH / "tinh" / "report.pdf")], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1] for line in listing}
    assert names and all(n.startswith(FONT_FAMILY.replace(" ", "")) for n in names), names


def test_a_failing_report_is_never_published_and_the_run_says_so(month_run, tmp_path, monkeypatch):
    import concurrent.futures as cf

    outputs = _copy(month_run[0], tmp_path)
    (outputs / MONTH / "474" / "report.pdf").unlink()  # makes 474 out of date

    def broken(step, run, output, extra=None, warm=None):
        output.write_text("{}", encoding="utf-8")  # a half-written notebook
        raise RuntimeError("kernel died")

    monkeypatch.setattr(runner.execution, "execute", broken)
    with cf.ThreadPoolExecutor(1) as pool:
        manifest = runner.run_month(
            MONTH, "474", inbox=month_run[0].parent / "inbox", outputs=outputs, executor=pool, progress=False
        )
    assert manifest["failed"] == ["474"]
    assert manifest["units"]["474"]["error"] == "RuntimeError: kernel died"
    assert manifest["units"]["tinh"]["status"] == "ok"  # the other report is still listed
    assert (outputs / MONTH / "failed" / "474-04_report.ipynb").exists()
    assert not list((outputs / MONTH / "474").glob(".*running*"))
    assert not (outputs / MONTH / "474" / "report.pdf").exists()


# ------------------------------------------------------------ retries and failures ----


def _params(tmp_path, unit="474"):
    from dxreport.params import validate_run

    return validate_run({"month": "2022-12", "unit": unit, "outputs": str(tmp_path)})


def _papermill_error():
    from papermill.exceptions import PapermillExecutionError

    return PapermillExecutionError(3, 2, "report.load(month, unit)", "KeyError", "'474'", [])


def test_what_counts_as_an_infrastructure_failure():
    import concurrent.futures.process as cfp

    from nbclient.exceptions import DeadKernelError

    assert runner.is_infrastructure_failure(DeadKernelError("Kernel died"))
    assert runner.is_infrastructure_failure(RuntimeError("Kernel didn't respond in 120 seconds"))
    assert runner.is_infrastructure_failure(RuntimeError("Kernel died before replying to kernel_info"))
    assert runner.is_infrastructure_failure(cfp.BrokenProcessPool("A child process terminated abruptly"))
    assert not runner.is_infrastructure_failure(_papermill_error())  # a cell raised: a data error
    assert not runner.is_infrastructure_failure(ValueError("Kernel didn't respond"))
    assert not runner.is_infrastructure_failure(RuntimeError("no such file"))


def test_a_dead_kernel_is_retried_twice_then_the_step_fails(tmp_path, monkeypatch):
    from nbclient.exceptions import DeadKernelError

    calls = []

    def dead(step, run, output, extra=None, warm=None):
        calls.append(output)
        output.write_text("{}", encoding="utf-8")
        raise DeadKernelError("Kernel died")

    pauses = []
    monkeypatch.setattr(runner.execution, "execute", dead)
    monkeypatch.setattr(runner.execution.time, "sleep", pauses.append)
    final = tmp_path / "474" / "04_report.ipynb"
    final.parent.mkdir()
    status, error, attempts, retried = runner._guarded("04_report", _params(tmp_path), final, tmp_path / "failed")
    assert (status, attempts, len(calls)) == ("failed", 3, 3)  # the first run and two retries
    assert pauses == [2.0, 4.0]  # run.retry_backoff, doubled
    said = (
        "Nhân Python (kernel) dừng đột ngột khi đang chạy sổ tay (thường do thiếu bộ nhớ hoặc bị dừng từ "
        "bên ngoài); hãy chạy lại, hoặc giảm số tiến trình bằng --workers 1."
    )
    assert retried == [said] * 2
    assert error == said
    assert not final.exists() and (tmp_path / "failed" / "474-04_report.ipynb").exists()


def test_a_kernel_that_starts_late_once_is_retried_and_the_step_succeeds(tmp_path, monkeypatch):
    calls = []

    def slow_start(step, run, output, extra=None, warm=None):
        calls.append(step)
        if len(calls) == 1:
            raise RuntimeError("Kernel didn't respond in 120 seconds")
        output.write_text('{"ok": true}', encoding="utf-8")

    monkeypatch.setattr(runner.execution, "execute", slow_start)
    final = tmp_path / "04_report.ipynb"
    (tmp_path / "failed").mkdir()
    (tmp_path / "failed" / "474-04_report.ipynb").write_text("{}", encoding="utf-8")  # last month's failure
    status, error, attempts, retried = runner._guarded("04_report", _params(tmp_path), final, tmp_path / "failed")
    assert (status, error, attempts, len(calls)) == ("ok", None, 2, 2)
    assert final.read_text(encoding="utf-8") == '{"ok": true}'
    assert not (tmp_path / "failed" / "474-04_report.ipynb").exists()  # fixed now: no stale failure left


def test_a_data_error_in_a_cell_is_not_retried(tmp_path, monkeypatch):
    calls = []

    def data_error(step, run, output, extra=None, warm=None):
        calls.append(step)
        output.write_text('{"cells": []}', encoding="utf-8")
        raise _papermill_error()

    monkeypatch.setattr(runner.execution, "execute", data_error)
    status, error, attempts, retried = runner._guarded(
        "04_report", _params(tmp_path), tmp_path / "04_report.ipynb", tmp_path / "failed"
    )
    assert (status, attempts, retried, len(calls)) == ("failed", 1, [], 1)
    assert error == "KeyError: '474' (ô 2)"


def test_a_failing_cell_reaches_failed_with_its_error(tmp_path, monkeypatch):
    """A real kernel: the notebook kept in failed/ shows the cell that raised and its error."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [
        new_code_cell('month = "2022-12"\nunit = "tinh"', metadata={"tags": ["parameters"]}),
        new_code_cell("total = 7"),
        new_code_cell('raise ValueError(f"thiếu số liệu của đơn vị {unit}")'),
        new_code_cell("never = True"),
    ]
    (tmp_path / "nb").mkdir()
    nbformat.write(nb, tmp_path / "nb" / "04_report.ipynb")
    monkeypatch.setattr(runner.execution, "NOTEBOOKS_DIR", tmp_path / "nb")
    final = tmp_path / "474" / "04_report.ipynb"
    status, error, attempts, _ = runner._guarded("04_report", _params(tmp_path), final, tmp_path / "failed")
    assert (status, attempts) == ("failed", 1)
    assert error.startswith("ValueError: thiếu số liệu của đơn vị 474")
    kept = nbformat.read(tmp_path / "failed" / "474-04_report.ipynb", as_version=4)
    errors = [o for c in kept.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert [(e.ename, e.evalue) for e in errors] == [("ValueError", "thiếu số liệu của đơn vị 474")]
    assert not final.exists() and not list((tmp_path / "474").glob(".*running*"))


def test_a_dead_worker_is_resubmitted_and_the_log_says_so(month_run, tmp_path, monkeypatch):
    import concurrent.futures as cf
    import concurrent.futures.process as cfp

    outputs = _copy(month_run[0], tmp_path)
    (outputs / MONTH / "474" / "report.pdf").unlink()  # makes 474 out of date
    calls = []

    def dies_once(month, unit, inbox, out, *, retries=runner.INFRA_RETRIES):
        calls.append((unit, retries))
        if len(calls) == 1:
            raise cfp.BrokenProcessPool("A child process terminated abruptly")
        _fake_report(outputs / month / unit)
        return runner.StepResult(
            runner.REPORT_STEP,
            unit,
            "ok",
            0.1,
            f"{unit}/04_report.ipynb",
            files={"html": "report.html", "pdf": "report.pdf", "kpis": "kpis.csv"},
        )

    monkeypatch.setattr(runner.reports, "render_unit", dies_once)
    with cf.ThreadPoolExecutor(1) as pool:
        manifest = runner.run_month(
            MONTH, "474", inbox=month_run[0].parent / "inbox", outputs=outputs, executor=pool, progress=False
        )
    # the second submission may retry one more infrastructure failure inside the worker
    assert calls == [("474", 2), ("474", 1)]
    step = next(s for s in manifest["steps"] if s["unit"] == "474")
    assert (step["status"], step["attempts"]) == ("ok", 2)
    assert step["retries"] == ["Một tiến trình lập báo cáo bị dừng đột ngột (thiếu bộ nhớ hoặc bị dừng từ bên ngoài)."]
    text = (outputs / MONTH / manifest["log"]).read_text(encoding="utf-8")
    assert "474: lỗi hạ tầng, chạy lại (lần 2): Một tiến trình lập báo cáo bị dừng đột ngột" in text
    assert "04_report 474: BrokenProcessPool: A child process terminated abruptly" in text  # the English original
    assert "01_scrape: bỏ qua" in text and "04_report 474: ok" in text


# --------------------------------------------------------------------- incremental ----


def _copy(outputs, tmp_path):
    target = tmp_path / "outputs"
    shutil.copytree(outputs, target)
    return target


def _fake_report(unit_dir):
    unit_dir.mkdir(parents=True, exist_ok=True)
    for name in ("report.html", "report.pdf", "kpis.csv"):
        (unit_dir / name).write_text("x", encoding="utf-8")


@pytest.fixture
def recorded(monkeypatch):
    """render_unit replaced by one that records which reports a run asks for."""
    asked = []

    def record(month, unit, inbox, outputs, *, retries=runner.INFRA_RETRIES):
        from pathlib import Path

        asked.append(unit)
        _fake_report(Path(outputs) / month / unit)
        return runner.StepResult(
            runner.REPORT_STEP,
            unit,
            "ok",
            0.0,
            f"{unit}/04_report.ipynb",
            files={"html": "report.html", "pdf": "report.pdf", "kpis": "kpis.csv"},
        )

    monkeypatch.setattr(runner.reports, "render_unit", record)
    return asked


def test_a_resubmission_re_renders_that_unit_and_the_province_only(month_run, tmp_path, recorded):
    import concurrent.futures as cf

    from dxreport.units import load_registry

    outputs = _copy(month_run[0], tmp_path)
    inbox = tmp_path / "inbox"
    shutil.copytree(month_run[0].parent / "inbox", inbox)
    units = [u.code for u in load_registry().reporting_units(MONTH)]
    districts = [u.code for u in load_registry().area_units(MONTH)]

    def run_all():
        recorded.clear()
        with cf.ThreadPoolExecutor(2) as pool:
            manifest = runner.run_month(MONTH, "all", inbox=inbox, outputs=outputs, executor=pool, progress=False)
        return manifest, sorted(recorded)

    # tinh and 474 were rendered by the fixture's runs with the same inputs: only the others run
    manifest, asked = run_all()
    assert asked == sorted(set(units) - {"474"})
    assert [s["status"] for s in manifest["steps"][:3]] == ["skipped"] * 3
    # nothing changed: nothing runs
    manifest, asked = run_all()
    assert asked == [] and manifest["failed"] == []
    # the Nội vụ department sends its file again, same figures, prepared a day later
    write_form(
        inbox / MONTH / "snv-gui-lai.xlsx",
        info("snv", MONTH, dt.date(2023, 2, 4)),
        {
            "Nền tảng": [
                PLATFORM_HEADERS,
                [
                    "cq-hop",
                    "Nền tảng họp trực tuyến thế hệ mới cho cơ quan nhà nước",
                    "Đang sử dụng",
                    150,
                    120,
                    60,
                    "Có",
                    "",
                    "",
                ],
            ],
        },
    )
    manifest, asked = run_all()
    assert [s["status"] for s in manifest["steps"][:3]] == ["ok"] * 3  # intake and indicators again
    assert asked == ["snv", "tinh"]
    # Huế resends with one more Hue-S download: its own figures, the province's and the district
    # comparison that every district report shows change; the agencies' reports do not
    _hue_form(
        inbox / MONTH / "hue-gui-lai.xlsx", dt.date(2023, 2, 5), "1.234.568", [["19750", "Tây Lộc", 4, 20, 2, 40, 30]]
    )
    manifest, asked = run_all()
    assert asked == sorted(districts + ["tinh"])
    # --force redoes everything
    recorded.clear()
    with cf.ThreadPoolExecutor(2) as pool:
        manifest = runner.run_month(
            MONTH, "all", inbox=inbox, outputs=outputs, executor=pool, progress=False, force=True
        )
    assert sorted(recorded) == sorted(units + ["tinh"])


def test_every_step_records_what_it_depends_on(month_run):
    outputs, province, district = month_run
    saved = json.loads((outputs / MONTH / "manifest.json").read_text(encoding="utf-8"))
    steps = {(s["name"], s["unit"]): s for s in saved["steps"]}
    report = steps[("04_report", "474")]
    assert set(report["inputs"]) == {"catalog", "sample", "submissions", "issues", "facts", "indicators", "area_units"}
    assert set(steps[("04_report", "tinh")]["inputs"]) == {
        "catalog",
        "sample",
        "submissions",
        "issues",
        "facts",
        "indicators",
    }
    assert report["fingerprint"] != steps[("04_report", "tinh")]["fingerprint"]
    assert {"papermill", "nbconvert", "pandas", "duckdb"} <= set(saved["packages"])
    assert saved["code_version"].startswith("0.") and saved["parameters"]["month"] == MONTH
    assert (outputs / MONTH / saved["log"]).is_file() and saved["log"].startswith("logs/run-")


# ---------------------------------------------------------------------------- Dask ----


def test_reports_run_on_a_dask_local_cluster(month_run, tmp_path):
    pytest.importorskip("distributed")
    outputs = _copy(month_run[0], tmp_path)
    (outputs / MONTH / "474" / "report.pdf").unlink()
    manifest = runner.run_month(
        MONTH, "474", inbox=month_run[0].parent / "inbox", outputs=outputs, scheduler="local", workers=1, progress=False
    )
    assert manifest["executor"] == "Dask LocalCluster (1 workers)"
    assert manifest["units"]["474"]["status"] == "ok" and manifest["failed"] == []
    assert (outputs / MONTH / "474" / "report.pdf").read_bytes().startswith(b"%PDF-")
    html = (outputs / MONTH / "474" / "report.html").read_text(encoding="utf-8")
    assert "Thành phố Huế" in html and "1.234.567" in html


def test_a_scheduler_without_the_dask_extra_is_refused_before_any_notebook(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    with pytest.raises(runner.RunError, match=r"pip install 'dxreport\[dask\]'"):
        runner.run_month("2022-12", "tinh", outputs=tmp_path, scheduler="local", progress=False)
    assert not any(tmp_path.iterdir())


def test_executor_and_scheduler_are_exclusive(tmp_path):
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(ValueError):
        runner.run_month(MONTH, "tinh", outputs=tmp_path, executor=pool, scheduler="local", progress=False)


def test_a_failed_catalog_fetch_still_renders_the_month_with_the_snapshot_date(tmp_path):
    from catalog_server import CatalogServer, Reply, card, page, write_sources
    from dxreport import catalog

    inbox = tmp_path / "inbox"
    write_form(
        inbox / MONTH / "snv.xlsx",
        info("snv", MONTH, dt.date(2023, 2, 3)),
        {
            "Nền tảng": [PLATFORM_HEADERS, ["", "Nền tảng bản đồ số", "Đang sử dụng", 10, 5, 20, "Có", "", ""]],
        },
    )
    with CatalogServer() as server:
        for path, name in (("/cq/", "Nền tảng bản đồ số"), ("/dn/", "Nền tảng hóa đơn điện tử"), ("/nd/", "VNeID")):
            server.route(path, Reply(200, page(card(name, "Bộ TT&TT", "/chi-tiet"))))
        sources = write_sources(
            tmp_path / "sources.yaml",
            tmp_path / "snapshots",
            {"chinh_quyen": server.url("/cq/"), "doanh_nghiep": server.url("/dn/"), "nguoi_dan": server.url("/nd/")},
        )
        seeded = catalog.scrape(sources, today=dt.date(2022, 12, 7))
        assert [c.outcome for c in seeded.catalogs] == ["ok"] * 3
        for path in ("/cq/", "/dn/", "/nd/"):
            server.route(path, Reply(500, "lỗi"))
        manifest = runner.run_month(
            MONTH, "tinh", inbox=inbox, outputs=tmp_path / "out", sources=sources, workers=1, progress=False
        )
        assert len(server.requests) == 3 + 3 * 2  # the seed, then every catalog tried twice
    assert manifest["units"]["tinh"]["status"] == "ok"
    html = (tmp_path / "out" / MONTH / "tinh" / "report.html").read_text(encoding="utf-8")
    assert "07/12/2022" in html
    from dxreport import store

    with store.connect(tmp_path / "out" / "warehouse.duckdb", read_only=True) as con:  # after 02_clean too
        dates = con.execute("SELECT DISTINCT snapshot_date FROM catalog").fetchall()
    assert dates == [(dt.date(2022, 12, 7),)]
    with open(tmp_path / "out" / MONTH / "catalog_fetches.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["outcome"] for r in rows] == ["failed"] * 3
    assert all(
        r["message"].endswith("máy chủ trả lỗi HTTP 500 (sau 2 lần thử); dùng bản chụp ngày 07/12/2022") for r in rows
    )


def _render_in_one_worker(month, units, inbox, outputs):
    return [runner.render_unit(month, unit, inbox, outputs) for unit in units]


def test_a_worker_kernel_reused_for_the_next_report_gives_the_same_report(month_run, tmp_path):
    """Two reports in one worker process: the second runs on the kernel of the first, reset."""
    import concurrent.futures as cf
    import multiprocessing
    import re

    import nbformat

    outputs = _copy(month_run[0], tmp_path)
    fresh = (outputs / MONTH / "474" / "report.html").read_text(encoding="utf-8")  # its own kernel
    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = pool.submit(
            _render_in_one_worker, MONTH, ["tinh", "474"], str(month_run[0].parent / "inbox"), str(outputs)
        ).result()
    assert [r.status for r in results] == ["ok", "ok"]
    reused = (outputs / MONTH / "474" / "report.html").read_text(encoding="utf-8")

    def same(html):  # papermill gives the injected parameters cell a new id on every run
        return re.sub(r'celltag_injected-parameters" id="cell-id=[^"]*"', "", html)

    assert same(reused) == same(fresh)
    nb = nbformat.read(outputs / MONTH / "474" / "04_report.ipynb", as_version=4)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))  # counted from 1 again, as in a new kernel


def test_a_rerun_with_nothing_changed_decides_without_pandas_papermill_or_matplotlib(month_run, tmp_path):
    import os
    import sys
    from pathlib import Path

    outputs = _copy(month_run[0], tmp_path)
    inbox = month_run[0].parent / "inbox"
    # a copied warehouse is another file: this run reads it, and notes what it found
    first = runner.run_month(MONTH, "tinh", inbox=inbox, outputs=outputs, workers=1, progress=False)
    assert {(s["name"], s["unit"]): s["status"] for s in first["steps"]} == {
        ("01_scrape", None): "skipped",
        ("02_clean", None): "skipped",
        ("03_analyse", None): "skipped",
        (runner.REPORT_STEP, "tinh"): "skipped",
        (runner.REPORT_STEP, "474"): "ok",  # not run by this run: its record stays as it was
    }
    code = (
        "import sys\n"
        "from dxreport import runner\n"
        f"m = runner.run_month({MONTH!r}, 'tinh', inbox={str(inbox)!r}, outputs={str(outputs)!r}, progress=False)\n"
        "print(sorted(n for n in ('pandas', 'papermill', 'nbformat', 'matplotlib') if n in sys.modules))\n"
        "print(sorted({s['status'] for s in m['steps'] if s['unit'] in (None, 'tinh')}))\n"
    )
    lib = str(Path(runner.__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": lib + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["[]", "['skipped']"]
    # the same decision as a run that reads everything: the reports' inputs are the recorded ones
    again = json.loads((outputs / MONTH / "manifest.json").read_text(encoding="utf-8"))
    assert {s["unit"]: s["inputs"] for s in again["steps"] if s["name"] == runner.REPORT_STEP} == {
        s["unit"]: s["inputs"] for s in first["steps"] if s["name"] == runner.REPORT_STEP
    }


def test_the_month_steps_run_on_one_kernel_that_ends_with_them(month_run, tmp_path, monkeypatch, recorded):
    import concurrent.futures as cf

    outputs = _copy(month_run[0], tmp_path)
    real = runner.execute
    kernels_used = []

    def watched(step, run, output, extra=None, warm=None):
        kernels_used.append((step, warm))
        return real(step, run, output, extra, warm)

    monkeypatch.setattr(runner.execution, "execute", watched)
    with cf.ThreadPoolExecutor(1) as pool:
        runner.run_month(
            MONTH,
            "tinh",
            inbox=month_run[0].parent / "inbox",
            outputs=outputs,
            executor=pool,
            progress=False,
            force=True,
        )
    assert [step for step, _ in kernels_used] == ["01_scrape", "02_clean", "03_analyse"]
    warm = {id(w) for _, w in kernels_used}
    assert len(warm) == 1 and kernels_used[0][1] is not None
    assert kernels_used[0][1].km is None  # shut down once the month was loaded
    assert recorded == ["tinh"]


def _children(parent: int) -> list[str]:
    """The command lines of the processes whose parent is `parent`."""
    from pathlib import Path

    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _worker_children() -> tuple[int, list[str]]:
    """In a pool worker: its pid and its children's command lines once the warm-up has run."""
    import os

    return os.getpid(), _children(os.getpid())


def test_the_workers_start_their_kernel_and_browser_before_the_first_report(tmp_path):
    import os
    import time

    pool = runner.reports.Pool(None, 1, 1).open()
    try:
        # one worker: its warm-up was sent first, so it has run when this task runs
        pid, children = pool.executor.submit(_worker_children).result(timeout=600)
        assert pid != os.getpid()
        assert any("ipykernel" in c for c in children), children
        assert any("chromium" in c for c in children), children
    finally:
        pool.close()
    deadline = time.monotonic() + 60
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{pid}")
