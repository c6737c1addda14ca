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
@click.option("--scheduler", default=None, metavar="ADDRESS|local",
              help="Render the reports on a Dask distributed cluster: a scheduler address (tcp://host:8786) "
                   "or 'local' for a LocalCluster on this machine. Needs the extra: pip install 'dxreport[dask]'.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(month, unit, inbox, outputs, sources, offline, workers, force, scheduler, quiet):
    """Run a month: intake, indicators, and the reports of UNIT (all units by default)."""
    from dxreport import runner

    start = time.perf_counter()
    try:
        manifest = runner.run_month(month, unit, inbox=inbox, outputs=outputs, sources=sources, offline=offline,
                                    workers=workers, force=force, scheduler=scheduler, progress=not quiet)
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
    if manifest.get("log"):
        click.echo(f"  Nhật ký lần chạy:  {month_dir / manifest['log']}")
    failed = manifest["failed"]
    if failed:
        click.echo(f"Không lập được báo cáo của: {', '.join(failed)} (xem {month_dir / 'failed'})", err=True)
        sys.exit(1)


@main.command()
@_month
@_inbox
@_outputs
@click.option("--offline", is_flag=True, help="Do not fetch the catalogs; match names against the last good snapshot.")
def ingest(month, inbox, outputs, offline):
    """Read and check a month's submissions and load them, without rendering reports."""
    from dxreport import steps

    try:
        run_params = steps.run_params(month, PROVINCE, str(inbox or ""), str(outputs or OUTPUTS_DIR), offline=offline)
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
    click.echo(f"                  {run_params.outputs / month / 'validation.html'}")
    from dxreport.intake import FEEDBACK_DIR, STATUS_LABELS

    track = result.tracker["status"].value_counts()
    click.echo("  Nộp báo cáo: "
               + ", ".join(f"{label} {int(track.get(key, 0))}" for key, label in STATUS_LABELS.items()))
    for key in ("late", "missing", "rejected"):
        codes = result.tracker.loc[result.tracker["status"] == key, "unit"].tolist()
        if codes:
            click.echo(f"    {STATUS_LABELS[key]}: {', '.join(codes)}")
    feedback = result.feedback if result.feedback is not None else []
    click.echo(f"  Bản góp ý gửi đơn vị ({len(feedback)} tệp): {run_params.outputs / month / FEEDBACK_DIR}")


@main.command()
@_month
@click.option("--unit", required=True, metavar="CODE", help="Code of the reporting unit (see `dxreport units`).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The .xlsx file to write.")
@_outputs
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def template(month, unit, out, outputs, force):
    """Write the blank submission form of a unit for a month, pre-filled (.xlsx).

    Only the sheets the unit fills; its communes with their codes; the platforms it reported
    the month before (from the warehouse, when it has that month) and the catalog's platforms.
    """
    import duckdb

    from dxreport import forms, store
    from dxreport.params import check_month_format, previous_month
    from dxreport.textnorm import format_month
    from dxreport.units import load_registry

    try:
        check_month_format(month)
    except ParamError as exc:
        _fail(str(exc))
    valid = [u.code for u in load_registry().reporting_units(month)]
    if not valid:
        _fail(f"không có đơn vị nào gửi báo cáo tháng {month}")
    if unit not in valid:
        _fail(f"đơn vị {unit!r} không gửi báo cáo tháng {month}; các mã hợp lệ: {', '.join(valid)}")
    if out.suffix.lower() != ".xlsx":
        _fail(f"tệp {out} phải có đuôi .xlsx")
    if out.exists() and not force:
        _fail(f"tệp {out} đã có; dùng --force để ghi đè")
    warehouse = store.warehouse_path(outputs)
    try:
        previous = forms.previous_platforms(warehouse, month, unit)
        snapshot = forms.warehouse_catalog(warehouse)
    except (duckdb.Error, store.StoreError) as exc:
        click.echo(f"Cảnh báo: không đọc được kho dữ liệu {warehouse} ({exc}); nền tảng không được điền sẵn.", err=True)
        previous, snapshot = [], None
    path = forms.write_template(month, unit, out, snapshot=snapshot, previous_platforms=previous)
    click.echo(str(path))
    before = format_month(previous_month(month))
    if previous:
        click.echo(f"  {len(previous)} nền tảng điền sẵn theo báo cáo tháng {before}.")
    else:
        click.echo(f"  Kho dữ liệu chưa có nền tảng của đơn vị tháng {before}: trang Nền tảng để trống.")


@main.command()
@click.option("--sources", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Catalog sources file (default params/sources.yaml), e.g. to try a changed page.")
@click.option("--offline", is_flag=True, help="Do not fetch; use the last good snapshot.")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="Also load the snapshot in use, the fetch log and the changes into this month's warehouse.")
@_inbox
@_outputs
def scrape(sources, offline, month, inbox, outputs):
    """Fetch the three MIC catalogs, keep a dated snapshot, show the fetch log and the changes.

    Exits with 1 when a catalog could not be fetched (its last good snapshot stays in use).
    """
    from dxreport import catalog, steps

    try:
        if month:
            run_params = steps.run_params(month, PROVINCE, str(inbox or ""), str(outputs or OUTPUTS_DIR),
                                          str(sources or ""), offline)
            result = steps.scrape(run_params, fetch=not offline)
        else:
            result = catalog.scrape(sources, offline=offline)
    except (ParamError, catalog.CatalogError) as exc:
        _fail(str(exc))
    click.echo(f"Nguồn: {result.sources}")
    for c in result.catalogs:
        count = int((result.snapshot.platforms["catalog"] == c.catalog).sum())
        click.echo(f"{c.title} [{c.catalog}]: {catalog.OUTCOMES[c.outcome]}; "
                   f"{count} nền tảng đang dùng, bản chụp ngày {catalog.vn_date(c.snapshot_date)}")
        click.echo(f"  {c.message}")
        for p in c.pages:
            click.echo(f"  {p.status or '---'} {p.bytes:>9} B {p.seconds:6.2f} s  {len(p.attempts)} lần  {p.url}"
                       + (f"  ({p.error})" if p.error else ""))
        if c.folder is not None:
            click.echo(f"  Lưu tại: {c.folder}")
    if len(result.changes):
        click.echo("Thay đổi so với bản chụp tháng trước:")
        for r in result.changes.itertuples():
            before = f" (trước đây: {r.previous_name})" if r.change == "renamed" else ""
            click.echo(f"  {catalog.CHANGES[r.change]}: [{r.catalog}] {r.name}{before}")
    else:
        click.echo("Không có thay đổi so với bản chụp tháng trước (hoặc chưa có bản chụp tháng trước).")
    if month:
        click.echo(f"Đã nạp vào kho dữ liệu: {steps.warehouse(run_params)}")
    if result.failed:
        click.echo(f"Không tải được: {', '.join(c.catalog for c in result.failed)} (vẫn dùng bản chụp tốt gần nhất)",
                   err=True)
        sys.exit(1)


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
