"""End to end: a tiny hand-made month through every notebook, to HTML, PDF and the index."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
import unicodedata

import pytest

from conftest import info, write_form
from dxreport import runner
from dxreport.params import ParamError

MONTH = "2023-01"
PLATFORM_HEADERS = ["Mã nền tảng", "Tên nền tảng", "Tình trạng", "Tài khoản lũy kế",
                    "Người dùng hoạt động trong tháng", "Lượt sử dụng trong tháng", "Kết nối chia sẻ dữ liệu", "Đề xuất", "Ghi chú"]


@pytest.fixture(scope="module")
def month_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    inbox = root / "inbox" / MONTH
    write_form(inbox / "hue.xlsx", info("474", MONTH, dt.date(2023, 2, 2)), {
        "Nền tảng": [PLATFORM_HEADERS,
                     ["", "Ứng dụng Hue-S", "Đang sử dụng", 1000, 400, 5000, "Có", "", ""],
                     ["", "Sổ SKĐT", "Đang thử nghiệm", 200, 50, 300, "Không", "", ""]],
        "Hue-S": [["Lượt tải lũy kế", "Tài khoản đăng ký lũy kế", "Phản ánh tiếp nhận trong tháng",
                   "Phản ánh đã xử lý trong tháng", "Phản ánh xử lý đúng hạn trong tháng", "Tỷ lệ hài lòng (%)"],
                  ["1.234.567", 800000, 1000, 950, 900, "80,5%"]],
        "Tổ công nghệ số": [["Mã xã", "Xã/phường/thị trấn", "Số tổ lũy kế", "Số thành viên lũy kế",
                             "Số buổi tập huấn trong tháng", "Lượt người được tập huấn trong tháng", "Số hộ được hỗ trợ trong tháng"],
                            ["19750", "Tây Lộc", 4, 20, 2, 40, 30],
                            ["19753", "Thuận Lộc", 6, 5, 1, 10, 10]],        # members < teams: quarantined
        "Doanh nghiệp": [["DN tiếp cận SMEdx lũy kế", "DN sử dụng nền tảng số lũy kế", "DN tự đánh giá DBI lũy kế",
                          "DN được hỗ trợ trong tháng"], [120, 30, 15, 4]],
    })
    write_form(inbox / "snv.xlsx", info("snv", MONTH, dt.date(2023, 2, 3)), {
        "Nền tảng": [PLATFORM_HEADERS,
                     ["cq-hop", "Nền tảng họp trực tuyến thế hệ mới cho cơ quan nhà nước", "Đang sử dụng", 150, 120, 60, "Có", "", ""]],
    })
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
    assert float(k["processed_rate"]) == pytest.approx(95.0)              # 950 / 1000
    assert float(k["on_time_rate"]) == pytest.approx(900 / 950 * 100)      # 94,7%
    assert float(k["satisfaction"]) == pytest.approx(80.5)
    assert float(k["teams"]) == 4                                           # the bad commune row is left out
    assert float(k["communes_without_team"]) == 141 - 1
    assert float(k["platforms_in_use"]) == 2                                # Hue-S (474) + họp trực tuyến (snv)
    assert float(k["platforms_trial"]) == 1                                 # Sổ SKĐT, found by its alias
    assert float(k["platform_mau"]) == 400 + 50 + 120
    assert float(k["submissions_received"]) == 2
    assert float(k["sme_using_rate"]) == pytest.approx(25.0)


def test_report_html_in_vietnamese_format(month_run):
    outputs, _, _ = month_run
    html = (outputs / MONTH / "tinh" / "report.html").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", html)
    assert "Kết quả mức độ sử dụng các nền tảng số tháng 01/2023" in html
    for text in ("1.234.567", "94,7%", "80,5%", "2/30", "106,4 lượt tải trên 100 dân"):
        assert text in html, text
    assert "DỮ LIỆU MẪU" not in html
    assert "<img" in html                        # at least one chart
    assert "steps.run_params" not in html and "report.load(" not in html   # code hidden


def test_quarantined_row_is_reported_with_its_cell(month_run):
    outputs, _, _ = month_run
    with open(outputs / MONTH / "validation.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    bad = [r for r in rows if r["rule"] == "row.members_ge_teams"]
    assert len(bad) == 1
    assert (bad[0]["file"], bad[0]["sheet"], bad[0]["cell"], bad[0]["severity"]) == ("hue.xlsx", "Tổ công nghệ số", "D3", "error")


def test_unit_report_and_index(month_run):
    outputs, _, _ = month_run
    html = (outputs / MONTH / "474" / "report.html").read_text(encoding="utf-8")
    assert "Thành phố Huế" in html
    index = (outputs / "index.html").read_text(encoding="utf-8")
    assert f"{MONTH}/tinh/report.html" in index and f"{MONTH}/474/report.pdf" in index


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_pdf_has_the_vietnamese_title(month_run):
    outputs, _, _ = month_run
    text = subprocess.run(["pdftotext", "-layout", str(outputs / MONTH / "tinh" / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Kết quả mức độ sử dụng các nền tảng số tháng 01/2023" in unicodedata.normalize("NFC", " ".join(text.split()))


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
    listing = subprocess.run(["pdffonts", str(outputs / MONTH / "tinh" / "report.pdf")],
                             capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    names = {line.split()[0].split("+")[-1] for line in listing}
    assert names and all(n.startswith(FONT_FAMILY.replace(" ", "")) for n in names), names


def test_a_failing_report_is_never_published_and_the_run_says_so(month_run, monkeypatch):
    import concurrent.futures as cf

    outputs, _, _ = month_run
    (outputs / MONTH / "474" / "report.pdf").unlink()          # makes 474 out of date

    def broken(step, run, output):
        output.write_text("{}", encoding="utf-8")                # a half-written notebook
        raise RuntimeError("kernel died")

    monkeypatch.setattr(runner, "execute", broken)
    with cf.ThreadPoolExecutor(1) as pool:
        manifest = runner.run_month(MONTH, "474", inbox=outputs.parent / "inbox", outputs=outputs,
                                    executor=pool, progress=False)
    assert manifest["failed"] == ["474"]
    assert manifest["units"]["474"]["error"] == "RuntimeError: kernel died"
    assert manifest["units"]["tinh"]["status"] == "ok"            # the other report is still listed
    assert (outputs / MONTH / "failed" / "474-04_report.ipynb").exists()
    assert not list((outputs / MONTH / "474").glob(".*running*"))
    assert not (outputs / MONTH / "474" / "report.pdf").exists()
