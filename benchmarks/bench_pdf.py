"""Benchmark 4: PDF cost per report, one Chromium per PDF against one persistent Chromium.

Prints the same report HTML files to PDF both ways, in alternation, and checks that both ways
give the same PDF for poppler: the same text (pdftotext), fonts (pdffonts: Liberation Serif
only) and pages (pdfinfo).

    .venv/bin/python benchmarks/bench_pdf.py                           # the sample month's reports
    .venv/bin/python benchmarks/bench_pdf.py --html 'outputs/2022-12/*/report.html' --repeat 5

Without --html, renders the province report of the sample month into a temporary folder first.
"""

from __future__ import annotations

import argparse
import glob
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_month import BIN, machine, median  # noqa: E402


def facts(pdf: Path) -> tuple[str, tuple[str, ...], str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    names = tuple(sorted({line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:] if line.strip()}))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = " ".join(line for line in info.splitlines() if line.startswith(("Pages:", "Page size:")))
    return text, names, pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--html", default=None, help="glob of report.html files (default: render the sample month)")
    ap.add_argument("--limit", type=int, default=12, help="at most this many HTML files (default 12)")
    ap.add_argument("--repeat", type=int, default=3, help="passes over the files, each way (default 3)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    from dxreport import render

    work = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    if args.html:
        files = [Path(p) for p in sorted(glob.glob(args.html))]
    else:
        subprocess.run(
            [str(BIN / "dxreport"), "run", "--month", "2022-12", "--outputs", str(work / "out"), "--quiet"],
            check=True,
            capture_output=True,
        )
        files = sorted((work / "out" / "2022-12").glob("*/report.html"))
    files = files[: args.limit]
    if not files:
        raise SystemExit("no HTML files")
    one, persistent, start = [], [], []
    same = True
    for r in range(args.repeat):
        for i, html in enumerate(files):
            a, b = work / f"one-{i}.pdf", work / f"persistent-{i}.pdf"
            t0 = time.perf_counter()
            render.render_pdf(html, a)
            one.append(time.perf_counter() - t0)
            if r == 0 and i == 0:
                t0 = time.perf_counter()
                printer = render.PdfPrinter().start()
                start.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            render.render_pdf(html, b, printer=printer)
            persistent.append(time.perf_counter() - t0)
            if r == 0:
                fa, fb = facts(a), facts(b)
                same = same and fa == fb and all(n.startswith("LiberationSerif") for n in fa[1])
    printer.close()
    print(f"\n## PDF per report ({len(files)} reports × {args.repeat} passes, medians)\n")
    print("| way | median per PDF (s) |\n|---|---|")
    print(f"| one Chromium process per PDF (`render_pdf`) | {median(one):.3f} |")
    print(f"| one persistent Chromium (`PdfPrinter`, DevTools pipe) | {median(persistent):.3f} |")
    print(f"| persistent Chromium start, once per worker | {start[0]:.3f} |")
    print(f"| **ratio** | **{median(one) / median(persistent):.1f}×** |")
    print(f"\nSame text, fonts (Liberation Serif only) and pages both ways: {'yes' if same else 'NO'}")
    m = machine()
    print(
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['chromium']}, "
        f"load average {', '.join(f'{x:.1f}' for x in m['load_average'])}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": m, "one_process": one, "persistent": persistent, "start": start, "same": same}, indent=2
            ),
            encoding="utf-8",
        )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
