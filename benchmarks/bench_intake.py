"""Benchmark 3: intake speed in files per second, on 1,000 standard district files, one core.

The sample months of params/settings.yaml are generated with dxreport.sample into a temporary
folder; their district files (9 districts × 12 months, with the month's resubmission, faults and
format variants as the sample plants them) are copied round-robin to 1,000 files. Then, pinned
to one core, with the runs of each reader alternating:

1. `intake.read_submission` on every file with reader="openpyxl" (read-only openpyxl, the plain
   way) and with reader="calamine" (python-calamine for the cell values, openpyxl's own style
   parser for the number formats calamine does not expose).
2. The raw readers alone on a subset: `pandas.read_excel(sheet_name=None, header=None)` with
   engine="openpyxl" and engine="calamine".
3. `monthload.ingest_month` end to end (archive, checks across months, warehouse) on the same
   1,000 files, filed by month, with each reader.

Checks, on every file: read_submission gives the same facts and issues with both readers; and
what pandas with calamine alone reads in the date cells (`Ngày lập`) and in the Excel percent
cells (`Tỷ lệ hài lòng (%)`), against the figure read_submission loads.

    .venv/bin/python benchmarks/bench_intake.py                      # 1,000 files, 5 runs
    .venv/bin/python benchmarks/bench_intake.py --files 200 --runs 3 --json /tmp/intake.json

Prints a Markdown table of medians and the machine; --json keeps every figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    """The machine and the versions that the figures depend on."""
    import importlib.metadata as md

    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    versions = {}
    for name in ("openpyxl", "python-calamine", "pandas", "duckdb", "defusedxml"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_1min": round(os.getloadavg()[0], 2),
        "packages": versions,
        "date": dt.datetime.now().isoformat(timespec="seconds"),
    }


def pin_one_core() -> int | None:
    """Run on one core (the lowest the process may use); returns it, or None where not supported."""
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return core
    except (AttributeError, OSError):
        return None


def make_files(folder: Path, count: int) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """`count` district files (path, month), copied round-robin from the sample's district files,
    and every file of the sample (agencies included)."""
    from dxreport import sample
    from dxreport.params import sample_months
    from dxreport.units import load_registry

    registry = load_registry()
    districts = {u.code for u in registry.units if u.type == "district"}
    source = folder / "sample"
    bases: list[tuple[Path, str]] = []
    everything: list[tuple[Path, str]] = []
    for month in sample_months():
        for path in sample.generate_month(month, source / month, registry=registry):
            everything.append((path, month))
            if path.name.split("_")[0] in districts:
                bases.append((path, month))
    files = []
    for i in range(count):
        base, month = bases[i % len(bases)]
        target = folder / "inbox" / month / f"{i:04d}_{base.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(base, target)  # keeps the arrival time the sample gave the file
        files.append((target, month))
    return files, everything


class Clock:
    """Wall time and this process's CPU time: on a shared machine the CPU time is what the work cost."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def time_reads(files, reader: str, context: dict) -> tuple[Clock, list]:
    from dxreport import intake

    with Clock() as clock:
        subs = [intake.read_submission(path, month=month, reader=reader, **context) for path, month in files]
    return clock, subs


def time_pandas(files, engine: str) -> Clock:
    import pandas as pd

    with Clock() as clock:
        for path, _ in files:
            pd.read_excel(path, sheet_name=None, header=None, engine=engine)
    return clock


def time_ingest(files, reader: str, work: Path, context: dict) -> Clock:
    from dxreport import monthload

    months = sorted({m for _, m in files})
    warehouse = work / f"warehouse-{reader}.duckdb"
    raw = work / f"raw-{reader}"
    for leftover in (warehouse, raw):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        elif leftover.exists():
            leftover.unlink()
    inbox = files[0][0].parent.parent
    with Clock() as clock:
        for month in months:
            monthload.ingest_month(month, inbox / month, warehouse, raw_dir=raw, reader=reader, **context)
    return clock


def compare(one, two) -> list[str]:
    """Files whose facts or issues differ between two lists of Submissions."""
    attrs = ("facts", "issues", "unit", "prepared_on", "preparer", "rejected", "rows_loaded", "rows_rejected")
    return [a.file_name for a, b in zip(one, two) if any(getattr(a, k) != getattr(b, k) for k in attrs)]


def pandas_cells(files, subs) -> dict:
    """What pandas + calamine alone read in the date and percent cells, against read_submission."""
    import pandas as pd
    from openpyxl.utils import column_index_from_string

    from dxreport import forms
    from dxreport.textnorm import fold

    dates_right = dates = percent_cells = percent_right = 0
    example = None
    for (path, _), sub in zip(files, subs):
        if sub.rejected:
            continue
        frames = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
        frames = {fold(name): frame for name, frame in frames.items()}
        info = frames[fold(forms.THONG_TIN.name)]
        label = fold(forms.THONG_TIN.field("prepared_on").header)
        for _, row in info.iterrows():
            if fold(row.iloc[0]) == label:
                dates += 1
                value = row.iloc[1]
                is_date = isinstance(value, (dt.date, pd.Timestamp))
                dates_right += is_date and pd.Timestamp(value).date() == sub.prepared_on
        for fact in sub.facts:
            if fact["sheet"] != "hue_s" or fact["metric"] != "satisfaction":
                continue
            frame = frames[fold(forms.HUE_S.name)]
            col = column_index_from_string("".join(ch for ch in fact["cell"] if ch.isalpha())) - 1
            row = int("".join(ch for ch in fact["cell"] if ch.isdigit())) - 1
            raw = frame.iat[row, col]
            if isinstance(raw, float) and raw <= 1 and fact["value"] > 1:  # an Excel percent cell
                percent_cells += 1
                percent_right += abs(raw - fact["value"]) < 1e-9
                example = example or {
                    "file": path.name,
                    "cell": f"Hue-S!{fact['cell']}",
                    "pandas_calamine": raw,
                    "read_submission": fact["value"],
                }
    return {
        "date_cells": dates,
        "date_cells_right": int(dates_right),
        "percent_cells": percent_cells,
        "percent_cells_right": int(percent_right),
        "example": example,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="district files to read (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of read_submission per reader (default 5)")
    parser.add_argument("--pandas-files", type=int, default=200, help="files for the raw pandas readers")
    parser.add_argument("--ingest-runs", type=int, default=3, help="runs of ingest_month per reader (0: skip)")
    parser.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    args = parser.parse_args()

    from dxreport.catalog import Matcher, load_aliases, load_bundled
    from dxreport.params import load_settings
    from dxreport.units import load_registry

    core = pin_one_core()
    registry, snapshot, settings = load_registry(), load_bundled(), load_settings()
    matcher = Matcher(snapshot.platforms, load_aliases())
    context = {"registry": registry, "matcher": matcher, "settings": settings}
    readers = ("openpyxl", "calamine")
    results: dict = {
        "machine": machine(),
        "core": core,
        "files": args.files,
        "runs": {r: [] for r in readers},
        "runs_cpu": {r: [] for r in readers},
    }

    with tempfile.TemporaryDirectory(prefix="dxreport-bench-intake-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        files, everything = make_files(work, args.files)
        results["generate_seconds"] = round(time.perf_counter() - t0, 1)
        results["distinct_files"] = len({p.name.split("_", 1)[1] + m for p, m in files})
        print(
            f"{len(files)} files ({results['distinct_files']} distinct) in {results['generate_seconds']} s; "
            f"pinned to core {core}",
            file=sys.stderr,
        )

        time_reads(files[:20], "openpyxl", context)  # warm the imports and caches of both readers
        time_reads(files[:20], "calamine", context)
        subs = {}
        for run in range(args.runs):
            for reader in readers if run % 2 == 0 else readers[::-1]:
                clock, subs[reader] = time_reads(files, reader, context)
                results["runs"][reader].append(len(files) / clock.wall)
                results["runs_cpu"][reader].append(len(files) / clock.cpu)
                print(
                    f"run {run + 1} {reader}: {len(files) / clock.wall:.1f} files/s, "
                    f"{len(files) / clock.cpu:.1f} per CPU second",
                    file=sys.stderr,
                )
        used = [s.reader for s in subs["calamine"]]
        results["calamine_read_by"] = {r: used.count(r) for r in sorted(set(used))}
        results["differences"] = compare(subs["openpyxl"], subs["calamine"])
        results["pandas_calamine_cells"] = pandas_cells(files, subs["openpyxl"])
        whole = {r: time_reads(everything, r, context)[1] for r in readers}
        results["whole_sample"] = {
            "files": len(everything),
            "differences": compare(whole["openpyxl"], whole["calamine"]),
        }

        few = files[: args.pandas_files]
        results["pandas"] = {"files": len(few), "openpyxl": [], "calamine": [], "cpu": {r: [] for r in readers}}
        time_pandas(few[:5], "openpyxl")
        time_pandas(few[:5], "calamine")
        for run in range(3):
            for engine in readers if run % 2 == 0 else readers[::-1]:
                clock = time_pandas(few, engine)
                results["pandas"][engine].append(len(few) / clock.wall)
                results["pandas"]["cpu"][engine].append(len(few) / clock.cpu)

        results["ingest"] = {r: [] for r in readers}
        results["ingest_cpu"] = {r: [] for r in readers}
        ingest_context = {"registry": registry, "snapshot": snapshot, "settings": settings}
        for run in range(args.ingest_runs):
            for reader in readers if run % 2 == 0 else readers[::-1]:
                clock = time_ingest(files, reader, work, ingest_context)
                results["ingest"][reader].append(len(files) / clock.wall)
                results["ingest_cpu"][reader].append(len(files) / clock.cpu)
                print(f"ingest run {run + 1} {reader}: {len(files) / clock.wall:.1f} files/s", file=sys.stderr)

    med = {r: statistics.median(v) for r, v in results["runs"].items()}
    cmed = {r: statistics.median(v) for r, v in results["runs_cpu"].items()}
    pmed = {r: statistics.median(results["pandas"][r]) for r in readers}
    pcmed = {r: statistics.median(results["pandas"]["cpu"][r]) for r in readers}
    imed = {r: statistics.median(v) for r, v in results["ingest"].items() if v}
    icmed = {r: statistics.median(v) for r, v in results["ingest_cpu"].items() if v}
    results["medians"] = {
        "read_submission": med,
        "read_submission_cpu": cmed,
        "pandas": pmed,
        "pandas_cpu": pcmed,
        "ingest_month": imed,
        "ingest_month_cpu": icmed,
    }
    results["machine"]["load_1min_end"] = round(os.getloadavg()[0], 2)
    m = results["machine"]
    cells = results["pandas_calamine_cells"]
    print(
        f"\nMachine: {m['cpu']}, {m['cores']} cores (run pinned to one), Python {m['python']}, "
        f"openpyxl {m['packages']['openpyxl']}, python-calamine {m['packages']['python-calamine']}, "
        f"pandas {m['packages']['pandas']}; load {m['load_1min']} at the start, {m['load_1min_end']} at the end."
    )
    print(
        f"{len(files)} district files ({results['distinct_files']} distinct), medians of {args.runs} runs; "
        "files per second of wall time, and per second of this process's CPU time.\n"
    )
    print("| what | openpyxl (read-only) | calamine | ratio |")
    print("|---|---|---|---|")

    def line(what, values, cpu):
        print(
            f"| {what} | {values['openpyxl']:.1f} ({cpu['openpyxl']:.1f} per CPU s) | {values['calamine']:.1f} "
            f"({cpu['calamine']:.1f} per CPU s) | {values['calamine'] / values['openpyxl']:.2f}× "
            f"({cpu['calamine'] / cpu['openpyxl']:.2f}×) |"
        )

    line("read_submission, files/s", med, cmed)
    line(f"pandas.read_excel, every sheet, files/s ({len(few)} files, 3 runs)", pmed, pcmed)
    if imed:
        line(f"ingest_month end to end, files/s ({args.ingest_runs} runs)", imed, icmed)
    print(
        f"\nFiles whose facts or issues differ between the readers: {len(results['differences'])}"
        f" of {len(files)}; read by calamine: {results['calamine_read_by']}. Whole sample (agencies too): "
        f"{len(results['whole_sample']['differences'])} of {results['whole_sample']['files']} differ."
    )
    print(
        f"pandas + calamine alone: date cells right {cells['date_cells_right']}/{cells['date_cells']}; "
        f"Excel percent cells read as the percentage {cells['percent_cells_right']}/{cells['percent_cells']}"
        + (
            f" (e.g. {cells['example']['cell']} of {cells['example']['file']}: {cells['example']['pandas_calamine']} "
            f"where the form means {cells['example']['read_submission']})"
            if cells["example"]
            else ""
        )
        + "."
    )
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
