"""The month's run: checks, the lock and the log, the month-level steps, then the reports."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from dxreport import kernels, lock, preflight, procs, publish
from dxreport.fileio import write_atomic
from dxreport.hashcache import HashCache
from dxreport.params import PARAMS_DIR, PROVINCE, WAREHOUSE_NAME, RunParams, resolve_month, validate_run
from dxreport.runner.common import MONTH_STEPS, REPORT_STEP, TZ, RunError, StepResult
from dxreport.runner.execution import _guarded, run_settings
from dxreport.runner.executors import _require_dask
from dxreport.runner.failures import is_disk_full, user_error
from dxreport.runner.manifest import (
    _file_hash,
    _fingerprint,
    _Ledger,
    _previous_manifest,
    code_version,
    input_hashes,
    package_versions,
)
from dxreport.runner.reports import Pool, _render_all

log = logging.getLogger("dxreport.runner")

#: The run's own memory under the outputs folder: file hashes and the params check.
CACHE_DIR = ".cache"
PARAMS_STAMP = "params-checked"


def _check_params(base: RunParams, cache: HashCache, version: str) -> str | None:
    """Check every params/ file (dxreport.paramfiles), unless the same files were found valid
    by the same code (`version`) before (outputs/.cache/params-checked). Returns what to remember
    once the run holds its outputs folder (_remember_params), or None."""
    try:
        seen = [version, str(base.sources), _file_hash(base.sources, cache)]
        seen += [f"{p.name}:{cache.sha256(p)}" for p in sorted(PARAMS_DIR.iterdir()) if p.is_file()]
        key = _fingerprint(seen)
    except OSError:
        key = None
    try:
        if key and (base.outputs / CACHE_DIR / PARAMS_STAMP).read_text(encoding="utf-8").strip() == key:
            return None
    except OSError:
        pass
    from dxreport.paramfiles import check_params

    check_params(PARAMS_DIR, sources=base.sources)
    return key


def _remember_params(base: RunParams, key: str | None) -> None:
    """Note that these params/ files were found valid (see _check_params)."""
    if key:
        try:
            write_atomic(base.outputs / CACHE_DIR / PARAMS_STAMP, key + "\n")
        except OSError:
            pass  # an outputs folder that cannot be written is reported by the run itself


def _new_log(month_dir: Path, started: datetime) -> tuple[Path, logging.Handler]:
    logs = month_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stem = f"run-{started.strftime('%Y%m%d-%H%M%S')}"
    path, n = logs / f"{stem}.log", 1
    while path.exists():
        n += 1
        path = logs / f"{stem}-{n}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    formatter.converter = lambda seconds: datetime.fromtimestamp(seconds, TZ).timetuple()  # Huế time
    handler.setFormatter(formatter)
    return path, handler


def run_month(
    month: str,
    unit: str = "all",
    *,
    inbox: str | Path | None = None,
    outputs: str | Path | None = None,
    sources: str | Path | None = None,
    offline: bool = False,
    report_date: str | None = None,
    workers: int | None = None,
    force: bool = False,
    executor: cf.Executor | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    wait: float = 0.0,
) -> dict:
    """Run the month: the month-level steps, then the reports of `unit` ('all', 'tinh' or a code).

    `report_date` (YYYY-MM-DD) is the date printed on the reports; None: see report.signing_date.
    Reports run on `executor` when given, else on a Dask cluster when `scheduler` is given
    ('local' or a scheduler address), else on a local process pool of `workers` processes.
    Returns the manifest (also written to outputs/<month>/manifest.json, after every step and
    every report). Raises ParamError before anything runs if a parameter or a params/ file is
    not valid; RunError if the outputs folder cannot be used, another run holds it (after
    waiting `wait` seconds), the disk fills up, or a month-level step fails.

    Nothing the run starts outlives it: workers, kernels and browsers carry the run's mark
    (dxreport.procs) and whatever is left of them is ended on the way out; what a killed run
    left (processes, staging folders, temporary files) is cleaned up at the start.
    """
    from dxreport.units import load_registry

    if executor is not None and scheduler is not None:
        raise ValueError("executor and scheduler cannot both be given")
    base = validate_run(
        {
            "month": month,
            "unit": PROVINCE if unit == "all" else unit,
            "inbox": str(inbox) if inbox else None,
            "outputs": str(outputs) if outputs else None,
            "sources": str(sources) if sources else None,
            "offline": offline,
            "report_date": report_date or None,
        }
    )
    cache = HashCache(base.outputs / CACHE_DIR / "hashes.json")
    version = code_version(cache)
    checked = _check_params(base, cache, version)
    source = base.source()
    if scheduler is not None:
        _require_dask()  # before anything runs
    registry = load_registry()
    units = ([PROVINCE] + [u.code for u in registry.reporting_units(month)]) if unit == "all" else [base.unit]
    try:
        preflight.check_outputs(base.outputs)
        with lock.hold(base.outputs, wait=wait) as stale, procs.mark_run():
            _tell(source.describe())
            return _locked_run(
                base,
                month,
                units,
                registry,
                stale,
                cache=cache,
                version=version,
                checked=checked,
                workers=workers,
                force=force,
                executor=executor,
                scheduler=scheduler,
                progress=progress,
            )
    except (preflight.PreflightError, lock.LockBusy) as exc:
        raise RunError(str(exc)) from exc


def _locked_run(base: RunParams, month: str, units: list[str], registry, stale: dict, **options) -> dict:
    month_dir = base.outputs / month
    month_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(TZ)
    log_path, handler = _new_log(month_dir, started)
    root = logging.getLogger("dxreport")
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        log.info("%s", base.source().describe())
        _clean_start(base, month_dir, stale)
        return _run(base, month, units, registry, month_dir, started, log_path, **options)
    except Exception as exc:
        message = None
        if is_disk_full(exc):
            message = preflight.disk_full_message(month_dir)
        elif isinstance(exc, OSError):
            message = preflight.explain_os_error(exc, month_dir)
        log.error("lần chạy dừng vì lỗi: %s (%s: %s)", message or user_error(exc), type(exc).__name__, exc)
        if message is None:
            raise
        raise RunError(message) from exc
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def _clean_start(base: RunParams, month_dir: Path, stale: dict) -> None:
    """Clear what an interrupted run left, and repair a damaged warehouse, before any step."""
    if stale:
        log.warning(
            "lần chạy trước (tiến trình %s, bắt đầu %s) đã bị dừng giữa chừng; dọn phần còn lại",
            stale.get("pid"),
            stale.get("started"),
        )
    swept = procs.sweep_orphans()
    if swept:
        log.warning("đã dừng %d tiến trình còn sót của lần chạy bị ngắt: %s", len(swept), ", ".join(map(str, swept)))
    removed = publish.clean_leftovers(month_dir)
    if removed:
        log.info("đã xóa %d tệp/thư mục tạm còn sót: %s", len(removed), ", ".join(p.name for p in removed))
    repaired = preflight.check_warehouse(base.outputs / WAREHOUSE_NAME)
    if repaired:
        log.warning("%s", repaired)
        _tell(repaired)


def _tell(message: str) -> None:
    """A line for the user on standard error (the command line shows it; notebooks do not run this)."""
    print(message, file=sys.stderr, flush=True)


def _kill_point(point: str, count: int = 0) -> None:
    """Test hook: DXREPORT_KILL_AT=<point>[:<n>] kills this process with SIGKILL at that point."""
    wanted = os.environ.get("DXREPORT_KILL_AT", "")
    if not wanted:
        return
    name, _, n = wanted.partition(":")
    if name == point and (not n or int(n) == count):
        os.kill(os.getpid(), signal.SIGKILL)


def _run(
    base: RunParams,
    month: str,
    units: list[str],
    registry,
    month_dir: Path,
    started: datetime,
    log_path: Path,
    *,
    cache: HashCache,
    version: str,
    checked: str | None,
    workers,
    force,
    executor,
    scheduler,
    progress,
) -> dict:
    from dxreport import site

    t_run = time.perf_counter()
    manifest_path = month_dir / "manifest.json"
    previous = _previous_manifest(manifest_path)
    packages = package_versions()
    hashes = _month_inputs(base, previous, version, cache)
    params_hashes = {k: v for k, v in hashes.items() if k.startswith("params/")}
    # what the steps read is hashed, not where it lies: a moved inbox or outputs folder reruns nothing
    parameters = {"month": month, "offline": base.offline, "sources": _file_hash(base.sources, cache)}
    month_print = _fingerprint(version, packages, hashes, parameters)
    cache.save()
    _remember_params(base, checked)
    log.info(
        "tháng %s, đơn vị %s, mã nguồn %s, %d tệp đầu vào, lưu tại %s%s",
        month,
        ",".join(units) if len(units) < 5 else f"{len(units)} đơn vị",
        version,
        len(hashes),
        base.outputs,
        " (--force)" if force else "",
    )
    context = {
        "version": version,
        "packages": packages,
        "hashes": hashes,
        "started": started,
        "log": log_path,
        "scheduler": scheduler,
        "warehouse": previous.get("warehouse"),
    }
    ledger = _Ledger(base, context, registry, previous)

    prev_steps = {(s["name"], s.get("unit")): s for s in previous.get("steps", [])}
    # the warehouse as the last run left it: the month is in it and the reports' inputs are known
    untouched = bool(previous.get("warehouse")) and previous["warehouse"] == _warehouse_identity(base)
    month_fresh = (
        not force
        and (untouched or _month_loaded(base))
        and all(
            prev_steps.get((s, None), {}).get("fingerprint") == month_print
            and prev_steps[(s, None)].get("status") in ("ok", "skipped")
            and (month_dir / "notebooks" / f"{s}.ipynb").exists()
            for s in MONTH_STEPS
        )
    )
    # the month steps run on one kernel, one after another; the workers of the reports start
    # meanwhile, and their kernels and browsers are ready when the month is loaded
    pool = month_kernel = None
    if not month_fresh:
        month_kernel = kernels.WarmKernel(run_settings()["kernel_start_timeout"], preload=kernels.MONTH_PRELOAD)
        if executor is None:
            pool = Pool(scheduler, workers, len(units)).open()
    try:
        for step in MONTH_STEPS:
            t0 = time.perf_counter()
            final = month_dir / "notebooks" / f"{step}.ipynb"
            if month_fresh:
                ledger.month_steps.append(
                    StepResult(step, None, "skipped", 0.0, str(final.relative_to(month_dir)), fingerprint=month_print)
                )
                log.info("%s: bỏ qua (đầu vào không đổi)", step)
                continue
            final.parent.mkdir(parents=True, exist_ok=True)
            status, error, attempts, retries = _guarded(step, base, final, month_dir / "failed", warm=month_kernel)
            ledger.month_steps.append(
                StepResult(
                    step,
                    None,
                    status,
                    round(time.perf_counter() - t0, 3),
                    str(final.relative_to(month_dir)) if status == "ok" else None,
                    error,
                    fingerprint=month_print,
                    attempts=attempts,
                    retries=retries,
                )
            )
            log.info(
                "%s: %s trong %.2f s%s",
                step,
                status,
                ledger.month_steps[-1].seconds,
                f" sau {attempts} lần chạy" if attempts > 1 else "",
            )
            if status != "ok":
                log.error("%s: %s", step, error)
                ledger.save()
                site.write_index(base.outputs)
                raise RunError(f"bước {step} tháng {month} bị lỗi: {error} (xem {month_dir / 'failed'})")
        if month_kernel is not None:
            month_kernel.discard()  # its memory is the reports' now
        recorded = {c: prev_steps.get((REPORT_STEP, c), {}).get("inputs") for c in units}
        reuse = month_fresh and untouched and all(recorded.values())
        if not reuse:
            ledger.sample = _is_sample(base)
        context["warehouse"] = _warehouse_identity(base)
        ledger.save()
        _kill_point("month")

        t0 = time.perf_counter()
        if reuse:  # the warehouse is the one these inputs were read from
            inputs = recorded
        else:
            from dxreport import report_inputs  # pandas and the warehouse: only once the month is loaded

            inputs = report_inputs.unit_inputs(base.outputs, month, units, registry)
        # the report date is printed on every report, and only there: a new date re-renders the reports
        report_parameters = {**parameters, "report_date": base.as_notebook_parameters()["report_date"]}
        prints = {
            code: _fingerprint(version, packages, params_hashes, report_parameters, code, inputs[code])
            for code in units
        }
        log.info("đầu vào của %d báo cáo đọc từ kho dữ liệu trong %.2f s", len(units), time.perf_counter() - t0)
        todo = []
        for code in units:
            record = prev_steps.get((REPORT_STEP, code), {})
            done = (
                not force
                and record.get("fingerprint") == prints[code]
                and record.get("status") in ("ok", "skipped")
                and all((month_dir / code / f).exists() for f in ("report.html", "report.pdf", "kpis.csv"))
            )
            if done:
                ledger.reports[code] = StepResult(
                    REPORT_STEP,
                    code,
                    "skipped",
                    0.0,
                    record.get("notebook"),
                    files=record.get("files", {}),
                    fingerprint=prints[code],
                    inputs=inputs[code],
                )
            else:
                todo.append(code)
        log.info(
            "báo cáo cần lập: %d, bỏ qua (không đổi): %d%s",
            len(todo),
            len(units) - len(todo),
            f" — {', '.join(todo)}" if 0 < len(todo) <= 40 else "",
        )
        ledger.save()

        def record(result: StepResult) -> None:
            result.fingerprint = prints[result.unit] if result.status == "ok" else ""
            result.inputs = inputs[result.unit]
            ledger.report(result)
            _kill_point("report", sum(1 for c in todo if c in ledger.reports and ledger.reports[c].status == "ok"))

        if todo:
            _render_all(
                base,
                month,
                todo,
                workers=workers,
                executor=executor,
                scheduler=scheduler,
                progress=progress,
                context=context,
                record=record,
                pool=pool,
            )
        manifest = ledger.save()
        site.write_index(base.outputs)
        publish.clean_leftovers(month_dir)  # the empty staging area; nothing else is left by now
        failed = manifest["failed"]
        done = [c for c in units if ledger.reports[c].status == "ok"]
        log.info(
            "xong trong %.2f s: %d báo cáo lập, %d bỏ qua, %d lỗi%s",
            time.perf_counter() - t_run,
            len(done),
            sum(1 for c in units if ledger.reports[c].status == "skipped"),
            len(failed),
            f" ({', '.join(failed)})" if failed else "",
        )
        return manifest
    finally:
        if month_kernel is not None:
            month_kernel.discard()
        if pool is not None:
            pool.close()


def _month_loaded(run: RunParams) -> bool:
    from dxreport import warehouse

    return warehouse.holds_month(run.outputs / WAREHOUSE_NAME, run.month)


def _warehouse_identity(run: RunParams) -> list | None:
    """The warehouse's identity (dxreport.warehouse.identity): equal means not written since."""
    from dxreport import warehouse

    return warehouse.identity(run.outputs / WAREHOUSE_NAME)


def _month_inputs(run: RunParams, previous: dict, version: str, cache: HashCache) -> dict[str, str]:
    """The hashes of the month's inputs (input_hashes), its sample folder generated when needed.

    A sample month's folder that the same code read last time, with the same files, is taken as
    it is; otherwise dxreport.steps makes sure it is there and complete (its generator is only
    imported then).
    """
    source = resolve_month(run.month, run.inbox)
    if not source.is_sample:
        return input_hashes(run, source.folder, cache)
    if version != previous.get("code_version"):
        return input_hashes(run, _inbox_month_dir(run), cache)
    hashes = input_hashes(run, source.folder, cache)
    if hashes != previous.get("inputs"):
        hashes = input_hashes(run, _inbox_month_dir(run), cache)
    return hashes


def _inbox_month_dir(run: RunParams) -> Path:
    from dxreport import steps

    return steps.month_folder(run.month, run.inbox)[0]


def _is_sample(run: RunParams) -> bool:
    from dxreport import store

    path = store.warehouse_path(run.outputs)
    if not path.exists():
        return False
    with store.connect(path, read_only=True) as con:
        subs = store.submissions_frame(con, run.month)
    return bool(subs.loc[subs["status"] == "accepted", "is_sample"].any())
