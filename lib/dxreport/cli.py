"""The `dxreport` command."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from dxreport.params import OUTPUTS_DIR, PROVINCE, ParamError


def _fail(message: str) -> None:
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dxreport")
def main() -> None:
    """Báo cáo tháng về mức độ sử dụng các nền tảng số (Sở TT&TT Thừa Thiên Huế).

    The monthly report on the use of digital platforms: reads the units' workbooks, checks
    them, computes the indicators and renders the reports (HTML, PDF) for the province and
    every unit.
    """


_month = click.option("--month", required=True, metavar="YYYY-MM", help="Reporting month, e.g. 2022-12.")
_inbox = click.option("--inbox", type=click.Path(file_okay=False, path_type=Path), default=None,
                      help="Folder of submissions with one <YYYY-MM>/ subfolder per month "
                           "(default data/inbox; a month without a folder uses the embedded sample).")
_outputs = click.option("--outputs", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Folder for the reports, the warehouse and the manifests (default outputs/).")


@main.command()
@_month
@click.option("--unit", default="all", show_default=True, metavar="CODE|tinh|all",
              help="A unit code from params/units.csv, 'tinh' for the province report, or 'all'.")
@_inbox
@_outputs
@click.option("--sources", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Catalog sources file (default params/sources.yaml).")
@click.option("--offline", is_flag=True, help="Do not fetch the catalogs; use the last good snapshot.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Parallel report processes (default: cores).")
@click.option("--force", is_flag=True, help="Redo every step, even those whose inputs have not changed.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(month, unit, inbox, outputs, sources, offline, workers, force, quiet):
    """Run a month: intake, indicators, and the reports of UNIT (all units by default)."""
    from dxreport import runner

    start = time.perf_counter()
    try:
        manifest = runner.run_month(month, unit, inbox=inbox, outputs=outputs, sources=sources, offline=offline,
                                    workers=workers, force=force, progress=not quiet)
    except ParamError as exc:
        _fail(str(exc))
    except runner.RunError as exc:
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(1)
    out = Path(manifest["parameters"]["outputs"])
    month_dir = out / month
    units = manifest["units"]
    ok = [c for c, u in units.items() if u["status"] in ("ok", "skipped")]
    click.echo(f"Tháng {month}: {len(ok)}/{len(units)} báo cáo xong trong {time.perf_counter() - start:.1f} giây"
               + (" (DỮ LIỆU MẪU)" if manifest["sample"] else "") + ".")
    if PROVINCE in units and units[PROVINCE].get("pdf"):
        click.echo(f"  Báo cáo toàn tỉnh: {month_dir / units[PROVINCE]['pdf']}")
        click.echo(f"                     {month_dir / units[PROVINCE]['html']}")
    click.echo(f"  Kiểm tra số liệu:  {month_dir / 'validation.csv'}")
    click.echo(f"  Danh mục báo cáo:  {out / 'index.html'}")
    failed = manifest["failed"]
    if failed:
        click.echo(f"Không lập được báo cáo của: {', '.join(failed)} (xem {month_dir / 'failed'})", err=True)
        sys.exit(1)


@main.command()
@_month
@_inbox
@_outputs
def ingest(month, inbox, outputs):
    """Read and check a month's submissions and load them, without rendering reports."""
    from dxreport import steps

    try:
        run_params = steps.run_params(month, PROVINCE, str(inbox or ""), str(outputs or ""))
    except ParamError as exc:
        _fail(str(exc))
    steps.scrape(run_params)
    result = steps.clean(run_params)
    counts = result.submissions["status"].value_counts().to_dict()
    click.echo(f"Tháng {month}: {len(result.submissions)} tệp từ {result.folder} — "
               + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    errors = int((result.issues["severity"] == "error").sum())
    warnings = int((result.issues["severity"] == "warning").sum())
    click.echo(f"  {errors} lỗi, {warnings} cảnh báo: {run_params.outputs / month / 'validation.csv'}")


@main.command()
@_outputs
def index(outputs):
    """Rebuild outputs/index.html, the list of every month and unit."""
    from dxreport import site

    path = site.write_index((outputs or OUTPUTS_DIR).resolve())
    click.echo(str(path))


@main.command()
@_month
def units(month):
    """List the units that report in a month (codes accepted by --unit)."""
    from dxreport.params import check_month_format
    from dxreport.units import load_registry

    try:
        check_month_format(month)
    except ParamError as exc:
        _fail(str(exc))
    click.echo(f"{PROVINCE}\tTỉnh Thừa Thiên Huế (toàn tỉnh)")
    for unit in load_registry().reporting_units(month):
        click.echo(f"{unit.code}\t{unit.name}")


@main.command()
@click.option("--month", "months", multiple=True, metavar="YYYY-MM", help="Months to generate (default: all sample months).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write <YYYY-MM>/ subfolders of sample workbooks into.")
def sample(months, out):
    """Write the embedded sample submissions (DỮ LIỆU MẪU) as workbooks, to look at or to test with."""
    from dxreport import sample as sample_mod
    from dxreport.params import check_month_format

    try:
        for m in months:
            check_month_format(m)
    except ParamError as exc:
        _fail(str(exc))
    written = sample_mod.generate(out, list(months) or None)
    click.echo(f"{sum(len(v) for v in written.values())} tệp mẫu trong {out}")


if __name__ == "__main__":  # pragma: no cover
    main()
