"""Benchmarks 1 and 2: the province month against the plain way, reruns and a resubmission.

1. The whole month (month steps 01–03, then the province report and every unit's report, HTML
   and PDF) with `dxreport run`, against the plain way in the same run: a papermill CLI call
   per notebook, then `jupyter nbconvert --to html --no-input` and `chromium --print-to-pdf` per
   report, one after another. Both start from an empty outputs folder; the runs alternate.
2. `dxreport run` again with nothing changed, and after one unit resends its file (a copy with
   a later `Ngày lập` in a test inbox): the time, and which steps ran.

Both ways run offline (the catalogs from the last good snapshot) unless --online.

    .venv/bin/python benchmarks/bench_month.py                  # 3 runs each way
    .venv/bin/python benchmarks/bench_month.py --repeat 1 --plain-repeat 1
    .venv/bin/python benchmarks/bench_month.py --skip-plain --unit snv --json /tmp/month.json

Prints a Markdown table (medians) and the machine; --json keeps every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOKS = ROOT / "notebooks"


def machine() -> dict:
    """The machine and the versions that the figures depend on."""
    import importlib.metadata as md

    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    memory = ""
    try:
        kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    chromium = shutil.which("chromium") or ""
    version = ""
    if chromium:
        out = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip()
        version = out.splitlines()[-1] if out else ""
    packages = {}
    for name in (
        "dxreport",
        "papermill",
        "nbconvert",
        "nbclient",
        "jupyter_client",
        "ipykernel",
        "pandas",
        "duckdb",
        "matplotlib",
        "openpyxl",
        "dask",
        "distributed",
    ):
        try:
            packages[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(),
        "chromium": version,
        "load_average": os.getloadavg(),
        "packages": packages,
    }


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run(cmd: list[str], **kw) -> float:
    """Run a command, fail loudly, return its wall time."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def units(month: str) -> list[str]:
    from dxreport.units import load_registry

    return ["tinh"] + [u.code for u in load_registry().reporting_units(month)]


OFFLINE = True  # the catalogs from the last good snapshot: no network in the timings (--online)


def ours(month: str, outputs: Path, workers: int | None, extra: tuple[str, ...] = ()) -> tuple[float, dict]:
    cmd = [str(BIN / "dxreport"), "run", "--month", month, "--outputs", str(outputs), "--quiet", *extra]
    if OFFLINE:
        cmd.append("--offline")
    if workers:
        cmd += ["--workers", str(workers)]
    seconds = run(cmd)
    manifest = json.loads((outputs / month / "manifest.json").read_text(encoding="utf-8"))
    return seconds, manifest


def plain(month: str, outputs: Path, codes: list[str]) -> dict:
    """The plain way: one CLI call per notebook, per HTML, per PDF, one after another."""
    t0 = time.perf_counter()
    params = ["-p", "month", month, "-p", "outputs", str(outputs)]
    nb_dir = outputs / month / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    for step in ("01_scrape", "02_clean", "03_analyse"):
        offline = ["-p", "offline", "True"] if OFFLINE and step == "01_scrape" else []
        run(
            [
                str(BIN / "papermill"),
                str(NOTEBOOKS / f"{step}.ipynb"),
                str(nb_dir / f"{step}.ipynb"),
                "-p",
                "unit",
                "tinh",
                *params,
                *offline,
                "--cwd",
                str(NOTEBOOKS),
                "--no-progress-bar",
            ]
        )
    month_steps = time.perf_counter() - t0
    profile = Path(tempfile.mkdtemp(prefix="bench-chromium-"))
    per = {"papermill": [], "nbconvert": [], "chromium": []}
    try:
        for code in codes:
            unit_dir = outputs / month / code
            unit_dir.mkdir(parents=True, exist_ok=True)
            nb = unit_dir / "04_report.ipynb"
            per["papermill"].append(
                run(
                    [
                        str(BIN / "papermill"),
                        str(NOTEBOOKS / "04_report.ipynb"),
                        str(nb),
                        "-p",
                        "unit",
                        code,
                        *params,
                        "--cwd",
                        str(NOTEBOOKS),
                        "--no-progress-bar",
                    ]
                )
            )
            per["nbconvert"].append(
                run(
                    [
                        str(BIN / "jupyter"),
                        "nbconvert",
                        "--to",
                        "html",
                        "--no-input",
                        str(nb),
                        "--output-dir",
                        str(unit_dir),
                        "--output",
                        "report",
                    ]
                )
            )
            per["chromium"].append(
                run(
                    [
                        "chromium",
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--no-pdf-header-footer",
                        f"--user-data-dir={profile}",
                        f"--print-to-pdf={unit_dir / 'report.pdf'}",
                        (unit_dir / "report.html").as_uri(),
                    ]
                )
            )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return {
        "seconds": time.perf_counter() - t0,
        "month_steps": month_steps,
        "per_report": {k: median(v) for k, v in per.items()},
    }


def resubmit(source: Path, target: Path, days: int = 1) -> None:
    """A copy of `source` whose `Ngày lập` is `days` later: the unit resends its file."""
    import openpyxl

    from dxreport.textnorm import fold

    wb = openpyxl.load_workbook(source)
    ws = wb["Thông tin"]
    for row in ws.iter_rows():
        if row[0].value is not None and fold(str(row[0].value)) == fold("Ngày lập"):
            cell = row[1]
            value = cell.value
            if isinstance(value, dt.datetime | dt.date):
                cell.value = value + dt.timedelta(days=days)
            else:
                day = dt.datetime.strptime(str(value).strip(), "%d/%m/%Y") + dt.timedelta(days=days)
                cell.value = day.strftime("%d/%m/%Y")
            break
    else:
        raise SystemExit(f"{source}: no 'Ngày lập' in sheet 'Thông tin'")
    wb.save(target)


def ran(manifest: dict) -> list[str]:
    return [s["name"] + (f" {s['unit']}" if s["unit"] else "") for s in manifest["steps"] if s["status"] == "ok"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--month", default="2022-12")
    ap.add_argument("--repeat", type=int, default=3, help="runs of dxreport run (default 3)")
    ap.add_argument("--plain-repeat", type=int, default=3, help="runs of the plain way (default 3)")
    ap.add_argument("--reruns", type=int, default=5, help="reruns with nothing changed (default 5)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--unit", default="snv", help="the unit that resends its file (default snv)")
    ap.add_argument("--skip-plain", action="store_true")
    ap.add_argument("--online", action="store_true", help="fetch the catalogs (default: offline, the last snapshot)")
    ap.add_argument("--skip-resubmit", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="keep the outputs in this folder")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    from dxreport.steps import month_folder

    global OFFLINE
    OFFLINE = not args.online
    month = args.month
    sample_dir, _ = month_folder(month)  # generates the sample month once, outside the timings
    codes = units(month)
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-month-"))
    work.mkdir(parents=True, exist_ok=True)
    out: dict = {
        "machine": machine(),
        "month": month,
        "reports": len(codes),
        "ours": [],
        "plain": [],
        "rerun": [],
        "steps": {},
    }
    print(f"{len(codes)} reports of {month}; work folder {work}", file=sys.stderr)
    last = None
    for i in range(max(args.repeat, 0 if args.skip_plain else args.plain_repeat)):
        if i < args.repeat:
            seconds, manifest = ours(month, work / f"ours-{i}", args.workers)
            out["ours"].append(seconds)
            out["steps"] = {s["name"]: s["seconds"] for s in manifest["steps"] if s["unit"] is None}
            reports = [s["seconds"] for s in manifest["steps"] if s["unit"] and s["status"] == "ok"]
            out["report_task_median"] = median(reports)
            assert not manifest["failed"], manifest["failed"]
            last = work / f"ours-{i}"
            print(f"ours run {i + 1}: {seconds:.1f} s", file=sys.stderr)
        if not args.skip_plain and i < args.plain_repeat:
            result = plain(month, work / f"plain-{i}", codes)
            out["plain"].append(result)
            print(f"plain run {i + 1}: {result['seconds']:.1f} s", file=sys.stderr)
    for _ in range(args.reruns):
        seconds, manifest = ours(month, last, args.workers)
        assert ran(manifest) == [], ran(manifest)
        out["rerun"].append(seconds)

    if not args.skip_resubmit:
        inbox = work / "inbox"
        shutil.copytree(sample_dir, inbox / month, dirs_exist_ok=True)
        target = work / "resubmit"
        ours(month, target, args.workers, ("--inbox", str(inbox)))
        original = next(p for p in sorted((inbox / month).glob("*.xlsx")) if p.name.startswith(f"{args.unit}_"))
        resubmit(original, inbox / month / f"{args.unit}_{month}_gui-lai.xlsx")
        seconds, manifest = ours(month, target, args.workers, ("--inbox", str(inbox)))
        out["resubmit"] = {
            "unit": args.unit,
            "seconds": seconds,
            "ran": ran(manifest),
            "steps": {
                (s["name"] + (f" {s['unit']}" if s["unit"] else "")): s["seconds"]
                for s in manifest["steps"]
                if s["status"] == "ok"
            },
        }

    ours_m = median(out["ours"])
    plain_m = median([p["seconds"] for p in out["plain"]])
    print(f"\n## Month {month}: {len(codes)} reports (HTML + PDF), medians\n")
    print("| measure | runs | median (s) |\n|---|---|---|")
    print(f"| `dxreport run` from an empty outputs folder | {len(out['ours'])} | {ours_m:.1f} |")
    if out["plain"]:
        per = out["plain"][-1]["per_report"]
        print(f"| plain way (papermill, nbconvert, chromium CLI per report) | {len(out['plain'])} | {plain_m:.1f} |")
        print(f"| **ratio plain / dxreport** | | **{plain_m / ours_m:.1f}×** |")
        print(f"| plain: month steps 01–03 | | {median([p['month_steps'] for p in out['plain']]):.1f} |")
        print(
            f"| plain: per report papermill / nbconvert / chromium | | {per['papermill']:.2f} / "
            f"{per['nbconvert']:.2f} / {per['chromium']:.2f} |"
        )
    print(
        "| dxreport: month steps 01 / 02 / 03 (last run) | | "
        + " / ".join(f"{v:.1f}" for v in out["steps"].values())
        + " |"
    )
    print(f"| dxreport: one report task in a worker (median) | | {out['report_task_median']:.2f} |")
    print(f"| rerun, nothing changed (`dxreport run` again) | {len(out['rerun'])} | {median(out['rerun']):.2f} |")
    if "resubmit" in out:
        r = out["resubmit"]
        print(f"| one unit ({r['unit']}) resends its file | 1 | {r['seconds']:.1f} |")
        print(f"\nRan after the resubmission: {', '.join(r['ran'])}")
    m = out["machine"]
    print(
        f"\nMachine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, Python {m['python']}, {m['chromium']}, "
        f"load average {', '.join(f'{x:.1f}' for x in m['load_average'])}"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
