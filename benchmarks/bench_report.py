"""Benchmark 5: one report's cost, stage by stage, against the floor, in one warm process.

Today's path is a worker's: `dxreport.runner.reports.render_unit` called in this process, made
to look like a worker (so that `kernels.worker_kernel` gives it the warm kernel), with its
stages timed by wrapping the functions it calls, as a profiler would: the kernel reset
(`WarmKernel.acquire`), `papermill.execute_notebook` (each code cell's own time read from the
executed notebook, `metadata.papermill.duration`; papermill's overhead is the rest), the HTML
export (`render.render_html`), the PDF (`render.render_pdf` with the persistent printer) and
the publication (`publish.publish`). The first call in the process starts the kernel and
Chromium: it is reported apart, as the warm-up.

The floor, in the same process and for the same units: a plain warm Python function that calls
`report.load` and every function the notebook calls, in the notebook's order, shows each chart
the way the notebook does (its SVG, inlined as the HTML export inlines it), writes the page
with a Jinja2 template (the fragments and the report's CSS) and prints it with the same
persistent Chromium.

The warehouse is made first by `dxreport run --month M --unit tinh --outputs <tmp> --offline`
(or --outputs names one already made; its units' published reports are then rewritten).
Today's path and the floor alternate, unit by unit, --repeat times; medians.

    .venv/bin/python benchmarks/bench_report.py                       # 2022-12, tinh 474 snv, 5 runs
    .venv/bin/python benchmarks/bench_report.py --repeat 2 --units tinh,474 --json /tmp/report.json

Prints Markdown tables (medians per unit; the ratio of totals today / floor, target ≤ 2×), the
machine, versions, date and load averages; --json keeps every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_month import BIN, NOTEBOOKS, machine, median, run  # noqa: E402
from proctree import load_average  # noqa: E402

REPORT = "04_report"
#: Today's stages outside the notebook, in the order of a report.
STAGES = ("kernel reset", "papermill.execute_notebook", "HTML export", "PDF", "publish")

PAGE = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body class="dx-report">
<main>
{% for fragment in fragments %}<div class="dx-cell">{{ fragment }}</div>
{% endfor %}</main>
</body>
</html>
"""


# ------------------------------------------------------------------------ today's path ----


@contextlib.contextmanager
def timed(times: dict[str, float], targets: list[tuple[object, str, str]]):
    """Wrap `owner.name` for each target so that its calls add their wall time to times[label]."""
    saved = []
    for owner, name, label in targets:
        original = getattr(owner, name)

        def wrapper(*args, _original=original, _label=label, **kwargs):
            t0 = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                times[_label] = times.get(_label, 0.0) + time.perf_counter() - t0

        setattr(owner, name, wrapper)
        saved.append((owner, name, original))
    try:
        yield times
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


@contextlib.contextmanager
def as_worker():
    """This process seen as a worker process (kernels.worker_kernel then gives the warm kernel)."""
    original = multiprocessing.parent_process
    multiprocessing.parent_process = multiprocessing.current_process
    try:
        yield
    finally:
        multiprocessing.parent_process = original


def cell_labels(nb: dict) -> list[tuple[int, str, str]]:
    """(index, label, source) of each code cell: its section and its first line."""
    out, chapter, section, seen = [], "", "", {}
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            for line in source.splitlines():
                if line.startswith("#"):
                    number = line.lstrip("#").strip().split(" ")[0].rstrip(".")
                    if len(line) - len(line.lstrip("#")) <= 2:
                        chapter = section = number
                    else:  # a numbered part of the chapter: VII.3
                        section = f"{chapter}.{number}" if chapter else number
            continue
        if cell["cell_type"] != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        lines = [
            line for line in source.splitlines() if line.strip() and not line.startswith(("#", "from ", "import "))
        ]
        if "injected-parameters" in tags:
            label = "injected parameters"
        elif "parameters" in tags:
            label = "parameters"
        else:
            first = lines[0].strip() if lines else "(empty)"
            if first.endswith(":") and len(lines) > 1:  # a condition: what it shows
                first += " " + lines[1].strip()
            label = (f"{section}: " if section else "") + first
        if len(label) > 70:
            label = label[:67] + "…"
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label += f" #{seen[label]}"
        out.append((i, label, source))
    return out


def today(month: str, unit: str, outputs: Path) -> dict:
    """One report rendered by render_unit as a worker renders it; its stages and cells (seconds)."""
    import papermill

    from dxreport import kernels, publish, render
    from dxreport.runner.reports import render_unit

    times: dict[str, float] = {}
    targets = [
        (kernels.WarmKernel, "acquire", "kernel reset"),
        (papermill, "execute_notebook", "papermill.execute_notebook"),
        (render, "render_html", "HTML export"),
        (render, "render_pdf", "PDF"),
        (render.PdfPrinter, "start", "Chromium start (within PDF)"),
        (publish, "publish", "publish"),
    ]
    with as_worker(), timed(times, targets):
        t0 = time.perf_counter()
        result = render_unit(month, unit, "", str(outputs))
        total = time.perf_counter() - t0
    if result.status != "ok":
        raise SystemExit(f"{REPORT} {unit}: {result.error}")
    nb = json.loads((outputs / month / unit / f"{REPORT}.ipynb").read_text(encoding="utf-8"))
    cells = {}
    for index, label, _ in cell_labels(nb):
        meta = nb["cells"][index].get("metadata", {}).get("papermill", {})
        cells[label] = float(meta.get("duration") or 0.0)
    times["papermill overhead (total minus cells)"] = times["papermill.execute_notebook"] - sum(cells.values())
    times["other (validation, staging)"] = total - sum(times.get(s, 0.0) for s in STAGES)
    times["total"] = total
    return {"stages": times, "cells": cells, "task_seconds": result.seconds}


# ------------------------------------------------------------------------------ floor ----


def _svg(chart) -> str:
    """A chart as the notebook shows it and the HTML export inlines it."""
    from dxreport import render

    return render.inline_svg(chart.svg(), chart.alt)


def _load(s, f):
    from dxreport import annex, report

    s["ctx"] = ctx = report.load(s["month"], s["unit"], outputs=s["outputs"], stage=s["stage"])
    report.save_kpis(ctx)
    annex.write(ctx)
    f.append(report.header(ctx))


def _call(*names):
    def step(s, f):
        from dxreport import report

        for name in names:
            f.append(getattr(report, name)(s["ctx"]))

    return step


def _citizen_charts(s, f):
    from dxreport import charts, report

    ctx = s["ctx"]
    if ctx.is_area:
        f.append(
            _svg(
                charts.trend(
                    report.series(ctx, "hues_downloads"), report.chart_title(ctx, "hues_downloads"), "lượt tải"
                )
            )
        )
        reports = {
            "reports_received": "Tiếp nhận",
            "reports_processed": "Đã xử lý",
            "reports_on_time": "Xử lý đúng hạn",
        }
        f.append(_svg(charts.trends(report.trend_frame(ctx, reports), report.chart_title(ctx, "reports"), "phản ánh")))
        f.append(_svg(charts.compare(**report.area_chart(ctx, "hues_penetration"))))


def _teams(s, f):
    from dxreport import charts, report

    ctx = s["ctx"]
    f.append(report.teams(ctx))
    if ctx.is_area:
        f.append(_svg(charts.compare(**report.area_chart(ctx, "teams_per_commune"))))


def _lagging(s, f):
    from dxreport import charts, report

    ctx = s["ctx"]
    f.append(report.lagging(ctx))
    if ctx.is_province:
        f.append(_svg(charts.status_grid(report.grid_frame(ctx), report.chart_title(ctx, "grid"))))


#: The floor's step for each code cell of the notebook: (text found in the cell, step).
FLOOR_STEPS = (
    ("report.load(", _load),
    ("report.general(", _call("general", "targets_table")),
    ("report.government(", _call("government")),
    ("report.business(", _call("business")),
    ("report.citizens(", _call("citizens")),
    ("charts.trend(", _citizen_charts),
    ("report.teams(", _teams),
    ("report.catalog_changes(", _call("catalog_changes")),
    ("report.shortcomings(", _call("shortcomings")),
    ("report.lagging(", _lagging),
    ("report.proposals(", _call("proposals")),
    ("report.sources_note(", _call("sources_note", "signature")),
)


def floor_plan() -> list[tuple[str, object]]:
    """The notebook's cells in order: ("heading", html) for a markdown heading, (label, step) for a code cell."""
    nb = json.loads((NOTEBOOKS / f"{REPORT}.ipynb").read_text(encoding="utf-8"))
    labels = {i: (label, source) for i, label, source in cell_labels(nb)}
    plan, used = [], set()
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    level = min(len(line) - len(line.lstrip("#")), 6)
                    plan.append(("heading", f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>"))
        elif i in labels and "parameters" not in labels[i][0]:
            label, source = labels[i]
            step = next(((m, f) for m, f in FLOOR_STEPS if m in source and m not in used), None)
            if step is None:
                raise SystemExit(f"the floor has no step for the cell {label!r} of {REPORT}.ipynb")
            used.add(step[0])
            plan.append((label, step[1]))
    missing = [m for m, _ in FLOOR_STEPS if m not in used]
    if missing:
        raise SystemExit(f"{REPORT}.ipynb no longer has cells with {missing}")
    return plan


def floor(month: str, unit: str, outputs: Path, plan: list, page, css: str) -> dict:
    """The same tables and charts by plain function calls, the page by a template, the same PDF printer."""
    from dxreport import publish, render

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    stage = publish.staging_dir(outputs, month, unit)
    try:
        state = {"month": month, "unit": unit, "outputs": str(outputs), "stage": str(stage)}
        fragments: list[str] = []
        for label, step in plan:
            if label == "heading":
                fragments.append(step)
                continue
            t = time.perf_counter()
            step(state, fragments)
            times[label] = time.perf_counter() - t
        t = time.perf_counter()
        title = f"Báo cáo {unit} {month}"
        (stage / "report.html").write_text(page.render(title=title, css=css, fragments=fragments), encoding="utf-8")
        times["HTML (Jinja2 template)"] = time.perf_counter() - t
        t = time.perf_counter()
        render.render_pdf(stage / "report.html", stage / "report.pdf", printer=render.shared_printer())
        times["PDF"] = time.perf_counter() - t
    finally:
        publish.discard(stage)
    times["total"] = time.perf_counter() - t0
    return times


# ------------------------------------------------------------------------------- main ----


def _table(unit: str, today_runs: list[dict], floor_runs: list[dict]) -> list[str]:
    """Markdown rows: stage, today's median, the floor's median."""

    def med(runs, key, part):
        values = [r[part][key] if part else r[key] for r in runs if key in (r[part] if part else r)]
        return median(values) if values else None

    def fmt(v):
        return "—" if v is None else f"{v:.3f}"

    rows = [f"\n### `{unit}`: {len(today_runs)} runs each way, medians (s)\n"]
    rows.append("| stage | today | floor |\n|---|---|---|")
    rows.append(f"| kernel reset (`WarmKernel.acquire`) | {fmt(med(today_runs, 'kernel reset', 'stages'))} | — |")
    rows.append(
        f"| `papermill.execute_notebook` in all | {fmt(med(today_runs, 'papermill.execute_notebook', 'stages'))} | — |"
    )
    for label in today_runs[0]["cells"]:
        rows.append(
            f"| &nbsp;&nbsp;cell {label} | {fmt(med(today_runs, label, 'cells'))} | {fmt(med(floor_runs, label, None))} |"
        )
    rows.append(
        f"| &nbsp;&nbsp;papermill's own overhead (total minus the cells) | "
        f"{fmt(med(today_runs, 'papermill overhead (total minus cells)', 'stages'))} | — |"
    )
    rows.append(
        f"| HTML: nbconvert export (`render_html`) / Jinja2 template | {fmt(med(today_runs, 'HTML export', 'stages'))} | "
        f"{fmt(med(floor_runs, 'HTML (Jinja2 template)', None))} |"
    )
    rows.append(
        f"| PDF, persistent Chromium (`render_pdf`) | {fmt(med(today_runs, 'PDF', 'stages'))} | "
        f"{fmt(med(floor_runs, 'PDF', None))} |"
    )
    rows.append(f"| publish | {fmt(med(today_runs, 'publish', 'stages'))} | — |")
    rows.append(
        f"| other (parameters, staging) | {fmt(med(today_runs, 'other (validation, staging)', 'stages'))} | — |"
    )
    t, f = med(today_runs, "total", "stages"), med(floor_runs, "total", None)
    rows.append(f"| **total** (`render_unit` / the floor function) | **{t:.3f}** | **{f:.3f}** |")
    rows.append(f"| **ratio today / floor** (target ≤ 2×) | **{t / f:.2f}×** | |")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--month", default="2022-12")
    ap.add_argument("--units", default="tinh,474,snv", help="comma-separated unit codes (default tinh,474,snv)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each way per unit (default 5)")
    ap.add_argument("--outputs", type=Path, default=None, help="an outputs folder whose warehouse holds the month")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import jinja2

    from dxreport import kernels, render

    month, units = args.month, [u.strip() for u in args.units.split(",") if u.strip()]
    out: dict = {"machine": machine(), "month": month, "units": units, "repeat": args.repeat}
    work = None
    outputs = args.outputs
    if outputs is None:
        work = Path(tempfile.mkdtemp(prefix="bench-report-"))
        outputs = work / "outputs"
        cmd = [str(BIN / "dxreport"), "run", "--month", month, "--unit", "tinh", "--outputs", str(outputs)]
        out["warehouse_s"] = run([*cmd, "--offline", "--quiet"])
        print(f"warehouse of {month} made in {out['warehouse_s']:.1f} s: {outputs}", file=sys.stderr)
    outputs = outputs.resolve()
    page = jinja2.Environment(autoescape=False).from_string(PAGE)
    css = "\n".join((render.STATIC_DIR / name).read_text(encoding="utf-8") for name in ("house.css", "dxreport.css"))
    plan = floor_plan()
    try:
        load = {"start": load_average()}
        out["warmup"] = {"today": today(month, units[0], outputs)["stages"]}
        out["warmup"]["floor"] = floor(month, units[0], outputs, plan, page, css)
        out["today"] = {u: [] for u in units}
        out["floor"] = {u: [] for u in units}
        out["load"] = {}
        for i in range(args.repeat):
            for unit in units:
                start = load_average()
                out["today"][unit].append(today(month, unit, outputs))
                out["floor"][unit].append(floor(month, unit, outputs, plan, page, css))
                out["load"].setdefault(unit, []).append({"start": start, "end": load_average()})
                print(
                    f"run {i + 1} {unit}: today {out['today'][unit][-1]['stages']['total']:.2f} s, "
                    f"floor {out['floor'][unit][-1]['total']:.2f} s",
                    file=sys.stderr,
                )
        load["end"] = load_average()
        out["load"]["benchmark"] = load
    finally:
        with as_worker():
            warm = kernels.worker_kernel(120)
        if warm is not None:
            warm.discard()
        printer = render.shared_printer()
        if printer is not None:
            printer.close()

    m = out["machine"]
    print(f"\n## One report of {month} against the floor (bench_report.py)\n")
    print(
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory']}, Python {m['python']}, {m['chromium']}, "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items())
        + f"; {m['date']}. Load average (1 min) at the start / end of the measured runs: "
        f"{load['start'][0]:.1f} / {load['end'][0]:.1f}.\n"
    )
    w = out["warmup"]
    print(f"Warm-up, first report in the process ({units[0]}), not in the medians:\n")
    print("| stage | seconds |\n|---|---|")
    for key in (*STAGES, "Chromium start (within PDF)", "total"):
        if key in w["today"]:
            print(
                f"| today: {key} (kernel start and preload in the first reset) | {w['today'][key]:.3f} |"
                if key == "kernel reset"
                else f"| today: {key} | {w['today'][key]:.3f} |"
            )
    print(f"| floor: total (first call: imports, fonts) | {w['floor']['total']:.3f} |")
    summary = [
        "\n### Totals per unit, medians (s)\n",
        "| unit | today | floor | today / floor | load at start → end of the runs |",
        "|---|---|---|---|---|",
    ]
    for unit in units:
        print("\n".join(_table(unit, out["today"][unit], out["floor"][unit])))
        t = median([r["stages"]["total"] for r in out["today"][unit]])
        f = median([r["total"] for r in out["floor"][unit]])
        loads = "; ".join(f"{x['start'][0]:.1f} → {x['end'][0]:.1f}" for x in out["load"][unit])
        summary.append(f"| `{unit}` | {t:.3f} | {f:.3f} | **{t / f:.2f}×** | {loads} |")
    print("\n".join(summary))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
