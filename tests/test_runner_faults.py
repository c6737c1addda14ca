"""The run as a hostile user meets it: killed, started twice, a full disk, a damaged warehouse, no Chromium.

Real processes throughout: `dxreport run` in a subprocess, SIGKILL at a chosen moment through
the runner's test hook (DXREPORT_KILL_AT), a real small tmpfs where mounting is allowed. Every
outcome is compared with an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import PLATFORM_HEADERS, info, write_form
from dxreport import procs, render, runner

pytestmark = pytest.mark.slow

MONTH = "2023-01"
DXREPORT = str(Path(sys.executable).with_name("dxreport"))


def _inbox(root: Path) -> Path:
    month = root / "inbox" / MONTH
    write_form(
        month / "hue.xlsx",
        info("474", MONTH, dt.date(2023, 2, 2)),
        {"Nền tảng": [PLATFORM_HEADERS, ["", "Ứng dụng Hue-S", "Đang sử dụng", 1000, 400, 5000, "Có", "", ""]]},
    )
    write_form(
        month / "snv.xlsx",
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
            ]
        },
    )
    return root / "inbox"


def _cli(inbox: Path, outputs: Path, *args: str, kill_at: str | None = None, wait: bool = True):
    env = {k: v for k, v in os.environ.items() if k not in (procs.RUN_ENV, procs.TIE_ENV, "DXREPORT_KILL_AT")}
    if kill_at:
        env["DXREPORT_KILL_AT"] = kill_at
    cmd = [DXREPORT, "run", "--month", MONTH, "--inbox", str(inbox), "--outputs", str(outputs), "--quiet", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    if not wait:
        return proc
    out, err = proc.communicate(timeout=1500)
    return proc.pid, proc.returncode, out, err


def _left_by(pid: int, within: float = 0.0) -> list[int]:
    """Processes still carrying the mark of the run owned by `pid` (after waiting up to `within` s)."""
    deadline = time.monotonic() + within
    while True:
        left = [p for p, mark in procs.marked_processes().items() if mark.split(":")[0] == str(pid)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.2)


def _reports(outputs: Path) -> dict[str, str]:
    manifest = json.loads((outputs / MONTH / "manifest.json").read_text(encoding="utf-8"))
    return {s["unit"]: s["status"] for s in manifest["steps"] if s["name"] == "04_report"}


def _kpis(outputs: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in (outputs / MONTH).glob("*/kpis.csv")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the whole month: 31 reports."""
    root = tmp_path_factory.mktemp("reference")
    inbox = _inbox(root)
    pid, code, out, err = _cli(inbox, root / "out", "--workers", "2")
    assert code == 0, err
    assert not _left_by(pid)  # nothing of it runs once the command has returned
    return inbox, root / "out"


def test_a_run_killed_while_rendering_stops_everything_and_the_rerun_does_only_what_is_missing(reference, tmp_path):
    inbox, ref = reference
    out = tmp_path / "out"
    pid, code, _, _ = _cli(inbox, out, "--workers", "2", kill_at="report:4")
    assert code == -signal.SIGKILL
    assert _left_by(pid, within=20) == []  # workers, kernels and browsers died with it
    done = _reports(out)
    assert sorted(done.values()) == ["ok"] * 4  # each report recorded as it finished
    units = set(_reports(ref))
    assert len(units) == 31
    for unit_dir in (p for p in (out / MONTH).iterdir() if p.is_dir() and p.name in units):
        names = {p.name for p in unit_dir.iterdir()}
        assert names in (set(), {"report.pdf", "report.html", "kpis.csv", "annex.xlsx", "04_report.ipynb"}), unit_dir
    pid, code, _, err = _cli(inbox, out, "--workers", "2")
    assert code == 0, err
    statuses = _reports(out)
    assert [u for u, s in statuses.items() if s == "skipped"] and sorted(
        u for u, s in statuses.items() if s == "skipped"
    ) == sorted(done)
    assert sum(1 for s in statuses.values() if s == "ok") == 31 - 4
    assert not (out / MONTH / ".staging").exists() and not list((out / MONTH).rglob(".*.running.ipynb"))
    assert _kpis(out) == _kpis(ref)  # the same reports as the uninterrupted run
    assert not _left_by(pid)


def test_a_run_killed_after_the_month_steps_resumes_with_the_reports(reference, tmp_path):
    inbox, ref = reference
    out = tmp_path / "out"
    _, code, _, _ = _cli(inbox, out, "--unit", "474", kill_at="month")
    assert code == -signal.SIGKILL
    _, code, _, err = _cli(inbox, out, "--unit", "474")
    assert code == 0, err
    manifest = json.loads((out / MONTH / "manifest.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in manifest["steps"][:3]] == ["skipped"] * 3  # recorded before the kill
    assert _reports(out)["474"] == "ok"
    assert (out / MONTH / "474" / "kpis.csv").read_bytes() == (ref / MONTH / "474" / "kpis.csv").read_bytes()


def test_two_runs_at_once_one_runs_and_the_other_refuses_in_one_sentence(reference, tmp_path):
    inbox, _ = reference
    out = tmp_path / "out"
    first = _cli(inbox, out, "--unit", "tinh", wait=False)
    second = _cli(inbox, out, "--unit", "tinh", wait=False)
    results = [(p.wait(timeout=1500), p.stdout.read(), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1]
    refused = next(err for code, _, err in results if code == 1)
    lines = [line for line in refused.splitlines() if line.startswith("Lỗi:")]
    assert len(lines) == 1 and "đang được một lần chạy khác dùng" in lines[0], refused
    assert "Traceback" not in refused
    assert _reports(out) == {"tinh": "ok"}


def _full_disk(tmp_path: Path, size: str) -> Path:
    target = tmp_path / "small"
    target.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("mount is not allowed here: " + done.stderr.decode(errors="replace"))
    return target


def test_a_full_disk_stops_the_run_in_one_sentence_and_keeps_what_was_published(reference, tmp_path):
    inbox, ref = reference
    disk = _full_disk(tmp_path, "12m")
    try:
        out = disk / "out"
        _, code, _, err = _cli(inbox, out, "--unit", "474")
        assert code == 0, err
        before = {p.name: p.read_bytes() for p in (out / MONTH / "474").iterdir()}
        manifest_before = (out / MONTH / "manifest.json").read_bytes()
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * max(0, free - 64 * 1024))
        _, code, _, err = _cli(inbox, out, "--unit", "474", "--force")
        assert code == 1
        lines = [line for line in err.splitlines() if line.startswith("Lỗi:")]
        assert len(lines) == 1 and lines[0].startswith("Lỗi: Hết chỗ trống trên đĩa khi ghi vào"), err
        assert "Traceback" not in err
        assert {p.name: p.read_bytes() for p in (out / MONTH / "474").iterdir()} == before
        assert json.loads((out / MONTH / "manifest.json").read_bytes())["units"]["474"]["status"] == "ok"
        assert manifest_before  # the manifest is whole JSON, old or new
        assert not [
            p
            for p in (out / MONTH).rglob("*")
            if p.is_file() and p.stat().st_size == 0 and p.suffix in (".csv", ".ipynb", ".html", ".pdf", ".xlsx")
        ]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_read_only_outputs_folder_is_refused_before_any_work(reference, read_only_dir):
    inbox, _ = reference
    _, code, _, err = _cli(inbox, read_only_dir)
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(f"Lỗi: Không ghi được vào thư mục {read_only_dir}: thư mục chỉ đọc")
    assert "Traceback" not in err and os.listdir(read_only_dir) == []


@pytest.fixture
def copied(reference, tmp_path):
    inbox, ref = reference
    out = tmp_path / "out"
    shutil.copytree(ref, out, ignore=shutil.ignore_patterns(".dxreport.lock"))
    return inbox, out


def test_a_garbled_warehouse_is_detected_rebuilt_and_the_run_goes_on(copied, capfd):
    inbox, out = copied
    warehouse = out / "warehouse.duckdb"
    data = bytearray(warehouse.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = os.urandom(8192)
    warehouse.write_bytes(bytes(data))
    manifest = runner.run_month(MONTH, "tinh", inbox=inbox, outputs=out, workers=1, progress=False)
    err = capfd.readouterr().err
    assert "Kho dữ liệu warehouse.duckdb bị hỏng nên không đọc được" in err
    assert len(list(out.glob("warehouse.hong-*.duckdb"))) == 1
    assert [s["status"] for s in manifest["steps"][:3]] == ["ok"] * 3  # the month loaded again
    assert manifest["units"]["tinh"]["status"] == "skipped"  # same data: same report
    assert manifest["failed"] == []


def test_without_chromium_the_old_report_stays_whole_and_the_failure_says_why(copied, monkeypatch):
    import concurrent.futures as cf

    inbox, out = copied
    unit_dir = out / MONTH / "474"
    before = {p.name: p.read_bytes() for p in unit_dir.iterdir()}

    def missing():
        raise render.RenderError("Không tìm thấy Chromium: hãy cài gói chromium (apt-get install chromium).")

    monkeypatch.setattr(render.chromium, "find_chromium", missing)
    monkeypatch.setattr(render.printer, "_SHARED", {"printer": None, "failures": 0})
    with cf.ThreadPoolExecutor(1) as pool:
        manifest = runner.run_month(MONTH, "474", inbox=inbox, outputs=out, executor=pool, force=True, progress=False)
    assert manifest["failed"] == ["474"]
    assert manifest["units"]["474"]["error"].startswith("Không tìm thấy Chromium")
    assert {p.name: p.read_bytes() for p in unit_dir.iterdir()} == before  # no new HTML beside an old PDF
    note = (out / MONTH / "failed" / "474-pdf.txt").read_text(encoding="utf-8")
    assert "Không tìm thấy Chromium" in note


def test_a_failed_month_step_keeps_the_records_of_valid_reports(copied, monkeypatch):
    import concurrent.futures as cf

    inbox, out = copied
    before = {
        s["unit"]: s["fingerprint"]
        for s in json.loads((out / MONTH / "manifest.json").read_text(encoding="utf-8"))["steps"]
        if s["name"] == "04_report"
    }
    real = runner.execute

    def analyse_fails(step, run, output, extra=None, warm=None):
        if step == "03_analyse":
            raise ValueError("chỉ tiêu không tính được")
        return real(step, run, output, extra, warm)

    monkeypatch.setattr(runner.execution, "execute", analyse_fails)
    with pytest.raises(runner.RunError, match="bước 03_analyse tháng 2023-01 bị lỗi"):
        runner.run_month(MONTH, "all", inbox=inbox, outputs=out, force=True, progress=False)
    kept = json.loads((out / MONTH / "manifest.json").read_text(encoding="utf-8"))
    assert {s["unit"]: s["fingerprint"] for s in kept["steps"] if s["name"] == "04_report"} == before
    assert "03_analyse" in kept["failed"]
    monkeypatch.setattr(runner.execution, "execute", real)
    recorded = []
    monkeypatch.setattr(runner.reports, "render_unit", lambda *a, **k: recorded.append(a[1]))
    with cf.ThreadPoolExecutor(1) as pool:
        manifest = runner.run_month(MONTH, "all", inbox=inbox, outputs=out, progress=False, executor=pool)
    assert recorded == [] and manifest["failed"] == []  # nothing valid redone


def test_a_full_disk_met_by_a_report_stops_the_run_and_records_what_finished(copied, monkeypatch):
    import concurrent.futures as cf
    import errno

    from dxreport import publish

    inbox, out = copied
    real = publish.publish

    def full_for_snv(stage, unit_dir):
        if unit_dir.name == "snv":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(stage, unit_dir)

    monkeypatch.setattr(publish, "publish", full_for_snv)
    before = (out / MONTH / "snv" / "report.html").read_bytes()
    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(runner.RunError) as caught:
        runner.run_month(MONTH, "all", inbox=inbox, outputs=out, executor=pool, force=True, progress=False)
    assert str(caught.value).startswith(f"Hết chỗ trống trên đĩa khi ghi vào {out / MONTH} (còn trống ")
    assert (out / MONTH / "snv" / "report.html").read_bytes() == before
    kept = json.loads((out / MONTH / "manifest.json").read_text(encoding="utf-8"))
    assert kept["units"]["snv"]["status"] == "failed"
