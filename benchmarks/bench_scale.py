"""Benchmark 3: a generated national month — 34 provinces, 3,321 communes as reporting units.

The national registry is built in memory: the nation is the top unit (`tinh`, what the report
calls the whole) and the 3,321 communes (commune-level units, spread over 34 provinces) are its
area units: the registry's reporting units are the units directly under the top one, so the
provinces, which do not report, are not in it. Each commune sends one workbook (sheets Thông
tin, Nền tảng, Hue-S, Doanh nghiệp; no Tổ công nghệ số, which lists the communes below a
district). Measured:

* intake: `monthload.ingest_month` over generated workbooks (a sample of --intake-files units;
  files per second and the national time extrapolated from it), and the warehouse load of the
  whole national month generated in the warehouse shape;
* analysis: `kpis.base_table`, `kpis.compute`, `kpis.with_changes` (what 03_analyse runs) at
  each size of --analysis-sizes, the full 3,321 included, over --months months;
* the per-report cost at 100 and 1,000 reports: the runner's own work per report (the inputs it
  hashes to decide what to rerun, `report_inputs.unit_inputs`), the warehouse reads a report does at
  the national size, and real rendering through the runner's executor (papermill on the
  worker's kernel, HTML, PDF by the worker's persistent Chromium) of a minimal report notebook
  (the report's first table: the unit's indicators), at the sizes of --render-sizes. The
  indicators table holds the units of the largest analysis size;
* peak memory: ru_maxrss of this process; while rendering, the RSS of every process under this
  one sampled every 0.2 s (proctree.py): each worker, the kernels and Chromium, separately.

The reports are rendered on the runner's process pool, or with `--scheduler local` on a Dask
LocalCluster (`runner.open_executor`, as `dxreport run --scheduler local`), of --workers
processes. The defaults run in about 10 minutes on 2 cores; the per-report cost at 1,000 and
3,321 rendered reports takes longer (about 0.6 s per report on 2 workers):

    .venv/bin/python benchmarks/bench_scale.py
    .venv/bin/python benchmarks/bench_scale.py --render-sizes 100,1000,3321 --workers 2
    .venv/bin/python benchmarks/bench_scale.py --render-sizes 100,1000 --scheduler local --workers 4
    .venv/bin/python benchmarks/bench_scale.py --intake-files 20 --analysis-sizes 100 --render-sizes 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_month import machine, median  # noqa: E402
from proctree import MEMORY_HEADER, TreeSampler, load_average, memory_rows  # noqa: E402

PROVINCES = 34
COMMUNES = 3321
MONTH = "2025-09"
PLATFORM_HEADERS = [
    "Mã nền tảng",
    "Tên nền tảng",
    "Tình trạng",
    "Tài khoản lũy kế",
    "Người dùng hoạt động trong tháng",
    "Lượt sử dụng trong tháng",
    "Kết nối chia sẻ dữ liệu",
    "Đề xuất",
    "Ghi chú",
]
HUE_S_HEADERS = [
    "Lượt tải lũy kế",
    "Tài khoản đăng ký lũy kế",
    "Phản ánh tiếp nhận trong tháng",
    "Phản ánh đã xử lý trong tháng",
    "Phản ánh xử lý đúng hạn trong tháng",
    "Tỷ lệ hài lòng (%)",
]
SME_HEADERS = [
    "DN tiếp cận SMEdx lũy kế",
    "DN sử dụng nền tảng số lũy kế",
    "DN tự đánh giá DBI lũy kế",
    "DN được hỗ trợ trong tháng",
]
STATUS = {"dang_su_dung": "Đang sử dụng", "dang_thu_nghiem": "Đang thử nghiệm", "chua_trien_khai": "Chưa triển khai"}


def peak_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def months_back(month: str, n: int) -> list[str]:
    from dxreport.params import previous_month

    out = [month]
    while len(out) < n:
        out.insert(0, previous_month(out[0]))
    return out


def national_registry(communes: int = COMMUNES):
    """The nation `tinh` and `communes` communes directly under it (its area units, which report)."""
    from dxreport.units import Registry, Unit

    rng = random.Random(34)
    sections = ("thong_tin", "nen_tang", "hue_s", "doanh_nghiep")
    units = [Unit("tinh", "Toàn quốc", "Toàn quốc", "province", "tinh", "", (), 0, 2024, "2025-07-01", "", "bench")]
    for c in range(communes):
        units.append(
            Unit(
                f"x{c:04d}",
                f"Xã số {c}",
                f"Xã {c}",
                "commune",
                "xa",
                "tinh",
                sections,
                rng.randint(5_000, 60_000),
                2024,
                "2025-07-01",
                "",
                "bench",
            )
        )
    total = sum(u.population or 0 for u in units)
    units[0] = Unit(
        "tinh", "Toàn quốc", "Toàn quốc", "province", "tinh", "", (), total, 2024, "2025-07-01", "", "bench"
    )
    return Registry(tuple(units))


def unit_figures(code: str, month: str, t: int, platform_ids: list[str]) -> dict:
    """Deterministic figures of one unit in the t-th month."""
    rng = random.Random(f"{code}/{month}")
    base = random.Random(code)
    pop = base.randint(5_000, 60_000)
    downloads = int(pop * (0.2 + 0.02 * t) * base.uniform(0.8, 1.2))
    received = rng.randint(5, 200)
    processed = rng.randint(received // 2, received)
    platforms = []
    for pid in base.sample(platform_ids, 4):
        status = base.choice(list(STATUS))
        used = status != "chua_trien_khai"
        platforms.append(
            {
                "subject": pid,
                "status": status,
                "lgsp": base.random() < 0.5,
                "accounts": rng.randint(10, 5000) if used else None,
                "mau": rng.randint(5, 2000) if used else None,
                "uses": rng.randint(10, 9000) if used else None,
            }
        )
    reached = base.randint(10, 300) + 3 * t
    return {
        "hue_s": {
            "downloads": downloads,
            "accounts": int(downloads * 0.7),
            "reports_received": received,
            "reports_processed": processed,
            "reports_on_time": rng.randint(processed // 2, processed),
            "satisfaction": round(rng.uniform(60, 99), 1),
        },
        "doanh_nghiep": {
            "sme_reached": reached,
            "sme_using": reached // 3,
            "dbi_assessed": reached // 5,
            "sme_supported": rng.randint(0, 10),
        },
        "platforms": platforms,
    }


def national_frames(registry, months: list[str], platform_ids: list[str]):
    """Submissions and facts of the national months in the warehouse shape (what intake would load)."""
    import pandas as pd

    subs, facts = [], []
    for t, month in enumerate(months):
        for unit in registry.reporting_units(month):
            sid = f"{unit.code}-{month}"
            subs.append(
                {
                    "submission_id": sid,
                    "month": month,
                    "unit": unit.code,
                    "file_name": f"{unit.code}.xlsx",
                    "received_at": dt.datetime(2025, 10, 3),
                    "prepared_on": dt.date(2025, 10, 2),
                    "preparer": "Nguyễn Văn An",
                    "status": "accepted",
                    "is_sample": False,
                    "late": False,
                    "rows_loaded": 6,
                    "rows_rejected": 0,
                }
            )
            fig = unit_figures(unit.code, month, t, platform_ids)
            for sheet in ("hue_s", "doanh_nghiep"):
                for metric, value in fig[sheet].items():
                    facts.append(
                        (month, unit.code, sheet, "unit", unit.code, unit.name, metric, float(value), None, sid, "A4")
                    )
            for p in fig["platforms"]:
                facts.append(
                    (
                        month,
                        unit.code,
                        "nen_tang",
                        "platform",
                        p["subject"],
                        p["subject"],
                        "status",
                        None,
                        p["status"],
                        sid,
                        "C4",
                    )
                )
                facts.append(
                    (
                        month,
                        unit.code,
                        "nen_tang",
                        "platform",
                        p["subject"],
                        p["subject"],
                        "lgsp",
                        1.0 if p["lgsp"] else 0.0,
                        "co" if p["lgsp"] else "khong",
                        sid,
                        "G4",
                    )
                )
                for metric in ("accounts", "mau", "uses"):
                    if p[metric] is not None:
                        facts.append(
                            (
                                month,
                                unit.code,
                                "nen_tang",
                                "platform",
                                p["subject"],
                                p["subject"],
                                metric,
                                float(p[metric]),
                                None,
                                sid,
                                "D4",
                            )
                        )
    columns = [
        "month",
        "unit",
        "sheet",
        "subject_kind",
        "subject",
        "subject_name",
        "metric",
        "value",
        "text",
        "submission_id",
        "cell",
    ]
    return pd.DataFrame(subs), pd.DataFrame(facts, columns=columns)


def write_workbook(path: Path, unit, month: str, fig: dict, names: dict[str, str]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Thông tin"
    for row in (
        ("Mã đơn vị", unit.code),
        ("Kỳ báo cáo", f"{month[5:]}/{month[:4]}"),
        ("Người lập", "Nguyễn Văn An"),
        ("Ngày lập", dt.date(int(month[:4]), int(month[5:]), 28)),
    ):
        ws.append(row)
    ws = wb.create_sheet("Nền tảng")
    ws.append(PLATFORM_HEADERS)
    for p in fig["platforms"]:
        ws.append(
            [
                p["subject"],
                names.get(p["subject"], p["subject"]),
                STATUS[p["status"]],
                p["accounts"],
                p["mau"],
                p["uses"],
                "Có" if p["lgsp"] else "Không",
                "",
                "",
            ]
        )
    ws = wb.create_sheet("Hue-S")
    ws.append(HUE_S_HEADERS)
    ws.append(list(fig["hue_s"].values()))
    ws = wb.create_sheet("Doanh nghiệp")
    ws.append(SME_HEADERS)
    ws.append(list(fig["doanh_nghiep"].values()))
    wb.save(path)


# ------------------------------------------------------------------- rendering ----


def minimal_notebook(path: Path) -> None:
    """The report's first table for one unit: parameters, a warehouse read, an HTML table."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [
        new_code_cell('month = "2025-09"\nunit = "x0000"\nwarehouse = ""', metadata={"tags": ["parameters"]}),
        new_code_cell(
            "from IPython.display import HTML, display\n\nfrom dxreport import store\n\n"
            "with store.connect(warehouse, read_only=True) as con:\n"
            '    view = con.execute("SELECT indicator, value, previous, change FROM indicators "\n'
            '                       "WHERE month = ? AND unit = ? ORDER BY indicator", [month, unit]).df()'
        ),
        new_markdown_cell("## Chỉ tiêu của đơn vị"),
        new_code_cell("display(HTML(view.to_html(index=False, na_rep='')))"),
    ]
    nbformat.write(nb, path)


def render_minimal(notebook: str, month: str, unit: str, warehouse: str, out_dir: str) -> float:
    """One minimal report, the way runner.render_unit makes one: papermill, HTML, PDF."""
    import papermill

    from dxreport import kernels, render

    t0 = time.perf_counter()
    unit_dir = Path(out_dir) / unit
    unit_dir.mkdir(parents=True, exist_ok=True)
    executed = unit_dir / "report.ipynb"
    warm = kernels.worker_kernel(120)  # the worker's kernel, reset, as for a real report
    kernel = (
        dict(engine_name=kernels.warm_engine_name(), km=warm.acquire())
        if warm is not None
        else dict(shutdown_kernel="immediate", kernel_manager_class=kernels.kernel_manager_class())
    )
    papermill.execute_notebook(
        notebook,
        str(executed),
        parameters={"month": month, "unit": unit, "warehouse": warehouse},
        kernel_name=kernels.KERNEL,
        request_save_on_cell_execute=False,
        progress_bar=False,
        start_timeout=120,
        **kernel,
    )
    html = render.render_html(executed, unit_dir / "report.html")
    render.render_pdf(html, unit_dir / "report.pdf", printer=render.shared_printer())
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--communes", type=int, default=COMMUNES)
    ap.add_argument("--months", type=int, default=2, help="months of history in the warehouse (default 2)")
    ap.add_argument("--intake-files", type=int, default=200, help="workbooks read by intake (default 200)")
    ap.add_argument("--analysis-sizes", default="100,1000,3321", help="units for kpis (default 100,1000,3321)")
    ap.add_argument(
        "--report-sizes", default="100,1000,3321", help="reports for the runner's bookkeeping (default 100,1000,3321)"
    )
    ap.add_argument(
        "--render-sizes", default="100", help="reports rendered for real, e.g. 100,1000,3321 (default 100; '' for none)"
    )
    ap.add_argument("--workers", type=int, default=None, help="rendering processes (default: the cores)")
    ap.add_argument("--scheduler", default=None, help="'local': render on a Dask LocalCluster (default: the pool)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    from dxreport import catalog, kpis, report_inputs, runner, store

    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    out: dict = {"machine": machine(), "communes": args.communes, "provinces": PROVINCES}
    snapshot = catalog.load_bundled()
    platform_ids = sorted(snapshot.platforms["platform_id"])
    names = dict(zip(snapshot.platforms["platform_id"], snapshot.platforms["name"]))
    months = months_back(MONTH, args.months)

    t0 = time.perf_counter()
    registry = national_registry(args.communes)
    subs, facts = national_frames(registry, months, platform_ids)
    out["generate_s"] = time.perf_counter() - t0
    out["facts_rows"] = len(facts)
    print(f"generated {len(subs)} submissions, {len(facts)} facts in {out['generate_s']:.1f} s", file=sys.stderr)

    # intake: real workbooks through monthload.ingest_month, a sample of the units
    from dxreport import monthload

    inbox = work / "inbox" / MONTH
    inbox.mkdir(parents=True)
    sample_units = registry.reporting_units(MONTH)[: args.intake_files]
    for unit in sample_units:
        write_workbook(
            inbox / f"{unit.code}.xlsx",
            unit,
            MONTH,
            unit_figures(unit.code, MONTH, args.months - 1, platform_ids),
            names,
        )
    t0 = time.perf_counter()
    result = monthload.ingest_month(MONTH, inbox, work / "intake.duckdb", registry=registry, snapshot=snapshot)
    seconds = time.perf_counter() - t0
    accepted = int((result.submissions["status"] == "accepted").sum())
    out["intake"] = {
        "files": len(sample_units),
        "accepted": accepted,
        "seconds": seconds,
        "files_per_s": len(sample_units) / seconds,
        "national_s_extrapolated": args.communes / (len(sample_units) / seconds),
        "errors": int((result.issues["severity"] == "error").sum()),
    }
    print(f"intake {len(sample_units)} files in {seconds:.1f} s ({accepted} accepted)", file=sys.stderr)

    # the national month loaded into a warehouse in one transaction per month
    wh = work / "outputs" / "warehouse.duckdb"
    t0 = time.perf_counter()
    with store.connect(wh) as con:
        store.load_catalog(con, snapshot)
        for month in months:
            store.replace_month(con, month, subs[subs["month"] == month], facts[facts["month"] == month], None)
    out["warehouse_load_s"] = time.perf_counter() - t0
    out["peak_after_intake_mib"] = peak_mib()

    # analysis at each size
    out["analysis"] = []
    values = None
    for size in [int(s) for s in args.analysis_sizes.split(",") if s]:
        reg = national_registry(size) if size != args.communes else registry
        keep = {u.code for u in reg.reporting_units(MONTH)}
        f = facts[facts["unit"].isin(keep)]
        s = subs.loc[subs["unit"].isin(keep), ["month", "unit"]]
        t0 = time.perf_counter()
        base = kpis.base_table(f, reg, s)
        t1 = time.perf_counter()
        computed = kpis.compute(base)
        t2 = time.perf_counter()
        changed = kpis.with_changes(computed)
        t3 = time.perf_counter()
        row = {
            "units": size,
            "base_table_s": t1 - t0,
            "compute_s": t2 - t1,
            "with_changes_s": t3 - t2,
            "total_s": t3 - t0,
            "indicator_rows": len(changed),
            "peak_mib": peak_mib(),
        }
        out["analysis"].append(row)
        print(f"analysis {size} units: {row['total_s']:.1f} s", file=sys.stderr)
        values = changed  # the indicators of the largest size analysed go to the warehouse
    if values is None:
        reg = national_registry(100)
        keep = {u.code for u in reg.reporting_units(MONTH)}
        values = kpis.with_changes(
            kpis.compute(
                kpis.base_table(
                    facts[facts["unit"].isin(keep)], reg, subs.loc[subs["unit"].isin(keep), ["month", "unit"]]
                )
            )
        )
    with store.connect(wh) as con:
        store.write_indicators(con, values)

    # per-report cost: what the runner does per report, and what a report reads
    codes = [u.code for u in registry.reporting_units(MONTH)]
    out["bookkeeping"] = []
    for size in [int(s) for s in args.report_sizes.split(",") if s]:
        t0 = time.perf_counter()
        inputs = report_inputs.unit_inputs(wh.parent, MONTH, ["tinh"] + codes[:size], registry)
        prints = {c: runner._fingerprint("v", {}, {}, {}, c, p) for c, p in inputs.items()}
        seconds = time.perf_counter() - t0
        out["bookkeeping"].append(
            {"reports": size, "seconds": seconds, "per_report_ms": seconds / size * 1000, "fingerprints": len(prints)}
        )
    reads = []
    for code in codes[:5]:
        t0 = time.perf_counter()
        with store.connect(wh, read_only=True) as con:  # what report.load reads for one report
            store.indicators_frame(con)
            store.submissions_frame(con, MONTH)
            store.issues_frame(con, MONTH)
            store.facts_frame(con, [MONTH])
            con.execute("SELECT * FROM catalog ORDER BY catalog, name").df()
        reads.append(time.perf_counter() - t0)
    out["report_reads_s"] = median(reads)

    out["render"] = []
    render_sizes = [int(s) for s in args.render_sizes.split(",") if s and int(s) > 0]
    if render_sizes:
        nb = work / "minimal.ipynb"
        minimal_notebook(nb)
        for size in render_sizes:
            if size > len(codes):
                raise SystemExit(f"--render-sizes {size}: only {len(codes)} communes (--communes)")
            load_start = load_average()
            sampler = TreeSampler().start()
            t0 = time.perf_counter()  # the executor's start is in the wall time, whichever it is
            executor, close, where = runner.open_executor(args.scheduler, args.workers, size)
            opened = time.perf_counter() - t0
            try:
                futures = [
                    executor.submit(render_minimal, str(nb), MONTH, code, str(wh), str(work / f"r{size}"))
                    for code in codes[:size]
                ]
                tasks = [f.result() for f in futures]
                wall = time.perf_counter() - t0
            finally:
                close()
                sampler.stop()
            shutil.rmtree(work / f"r{size}", ignore_errors=True)
            out["render"].append(
                {
                    "reports": size,
                    "wall_s": wall,
                    "per_report_s": wall / size,
                    "task_median_s": median(tasks),
                    "executor": where,
                    "executor_open_s": opened,
                    "peak_worker_mib": peak_mib(resource.RUSAGE_CHILDREN),
                    "memory": sampler.summary(),
                    "load_start": load_start,
                    "load_end": load_average(),
                }
            )
            print(f"rendered {size} minimal reports in {wall:.1f} s on {where}", file=sys.stderr)
    out["peak_mib"] = peak_mib()

    print(f"\n## National month: {args.communes} communes ({PROVINCES} provinces) as units, {args.months} months\n")
    i = out["intake"]
    print("| measure | value |\n|---|---|")
    print(f"| generate facts ({out['facts_rows']:,} rows, warehouse shape) | {out['generate_s']:.1f} s |")
    print(f"| intake: {i['files']} workbooks | {i['seconds']:.1f} s ({i['files_per_s']:.0f} files/s) |")
    print(f"| intake: {args.communes} workbooks, extrapolated | {i['national_s_extrapolated']:.0f} s |")
    print(f"| warehouse load of {args.months} national months | {out['warehouse_load_s']:.1f} s |")
    for row in out["analysis"]:
        print(
            f"| analysis, {row['units']} units: base_table / compute / with_changes | "
            f"{row['base_table_s']:.1f} / {row['compute_s']:.1f} / {row['with_changes_s']:.1f} s "
            f"(total {row['total_s']:.1f} s) |"
        )
    for row in out["bookkeeping"]:
        print(
            f"| runner per report: inputs and fingerprints, {row['reports']} reports | "
            f"{row['per_report_ms']:.2f} ms ({row['seconds']:.2f} s) |"
        )
    print(
        f"| warehouse reads of one report (report.load's queries, national warehouse) | {out['report_reads_s']:.2f} s |"
    )
    for row in out["render"]:
        print(
            f"| minimal report rendered, {row['reports']} reports on {row['executor']} | "
            f"{row['per_report_s']:.2f} s per report (task median {row['task_median_s']:.2f} s; wall "
            f"{row['wall_s']:.1f} s, of which {row['executor_open_s']:.1f} s to open the executor) |"
        )
    print(
        f"| peak memory, this process / worker processes | {out['peak_mib']:.0f} MiB / "
        f"{peak_mib(resource.RUSAGE_CHILDREN):.0f} MiB |"
    )
    out["load_end"] = load_average()
    for row in out["render"]:
        memory = row["memory"]
        print(
            f"\n### Rendering {row['reports']} minimal reports on {row['executor']}: peak memory (RSS), "
            f"sampled every 0.2 s ({memory['samples']} samples); load average {row['load_start'][0]:.1f} → "
            f"{row['load_end'][0]:.1f}\n"
        )
        print(MEMORY_HEADER)
        print("\n".join(memory_rows(memory)))
        workers = memory.get("worker", {}).get("per_process_mib", [])
        if workers:
            print(f"\nPeak RSS of each worker (MiB): {', '.join(f'{w:.0f}' for w in workers)}")
    m = out["machine"]
    print(
        f"\nMachine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, Python {m['python']}, {m['chromium']}, "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        + f"; {m['date']}. Load average (1 min) at the start / end: {m['load_average'][0]:.1f} / "
        f"{out['load_end'][0]:.1f}"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
