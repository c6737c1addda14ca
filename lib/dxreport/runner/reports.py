"""The reports of the units: one rendered and published in a worker, all of them on the executor."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import time

from dxreport import preflight, publish
from dxreport.params import RunParams, validate_run
from dxreport.runner.common import REPORT_STEP, RunError, StepResult
from dxreport.runner.execution import _guarded, _record_failure, run_settings
from dxreport.runner.executors import open_executor, pool_size
from dxreport.runner.failures import is_disk_full, is_infrastructure_failure, user_error

log = logging.getLogger("dxreport.runner")


def render_unit(
    month: str, unit: str, inbox: str, outputs: str, *, retries: int | None = None, report_date: str = ""
) -> StepResult:
    """One unit's report: execute 04_report, then HTML and PDF, then publish them together.

    Runs in a worker process. Everything is made in a staging folder (dxreport.publish) and
    moved into outputs/<month>/<unit>/ only when the notebook, the HTML and the PDF are all
    complete; a report that fails leaves the unit's folder as it was. `retries`: how many
    infrastructure failures of the notebook run are retried here. `report_date`: the date printed
    on the report (YYYY-MM-DD, or "" for the default of report.signing_date). The PDF is printed
    by the worker's long-lived Chromium (render.shared_printer).
    """
    from dxreport import render

    start = time.perf_counter()
    run = validate_run(
        {"month": month, "unit": unit, "inbox": inbox, "outputs": outputs, "report_date": report_date or None}
    )
    month_dir = run.outputs / month
    failed_dir = month_dir / "failed"
    files: dict[str, str] = {}
    error = None
    stage = None
    try:
        stage = publish.staging_dir(run.outputs, month, unit)
        notebook = stage / f"{REPORT_STEP}.ipynb"
        status, error, attempts, retried = _guarded(
            REPORT_STEP, run, notebook, failed_dir, retries, extra={"stage": str(stage)}
        )
        if status == "ok":
            try:
                html = render.render_html(notebook, stage / "report.html")
                render.render_pdf(html, stage / "report.pdf", printer=render.shared_printer())
            except Exception as exc:  # noqa: BLE001 - the report is not published without its PDF
                if is_disk_full(exc):
                    raise
                status, error = "failed", user_error(exc)
                log.info("%s %s: %s: %s", REPORT_STEP, unit, type(exc).__name__, exc)
                _record_failure(failed_dir, unit, "pdf", error, exc)
        if status == "ok":
            files = publish.publish(stage, month_dir / unit)
    except OSError as exc:
        if not is_disk_full(exc) and exc.errno not in preflight.NOT_WRITABLE:
            raise
        status, attempts, retried = "failed", 1, []
        error = preflight.explain_os_error(exc, month_dir) or user_error(exc)
        return StepResult(
            REPORT_STEP,
            unit,
            status,
            round(time.perf_counter() - start, 3),
            None,
            error,
            attempts=attempts,
            retries=retried,
            fatal=True,
        )
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        return StepResult(
            REPORT_STEP,
            unit,
            "failed",
            round(time.perf_counter() - start, 3),
            None,
            preflight.disk_full_message(month_dir),
            fatal=True,
        )
    finally:
        if stage is not None:
            publish.discard(stage)
    return StepResult(
        REPORT_STEP,
        unit,
        status,
        round(time.perf_counter() - start, 3),
        f"{unit}/{REPORT_STEP}.ipynb" if status == "ok" else None,
        error,
        files,
        attempts=attempts,
        retries=retried,
    )


def warm_up() -> bool:
    """Start this worker's kernel (with the report's libraries) and its Chromium ahead of the reports.

    Sent to the workers while the month steps run, so that the first report of each worker does
    not wait for them. Whatever fails here is left to the first report, which starts them again
    and reports the failure; the answer only says whether both are ready.
    """
    from dxreport import kernels, render

    ready = True
    try:
        warm = kernels.worker_kernel(run_settings()["kernel_start_timeout"])
        if warm is not None:
            warm.start()
    except Exception as exc:  # noqa: BLE001 - the first report tries again and says why
        log.info("warm-up: kernel not started: %s: %s", type(exc).__name__, exc)
        ready = False
    try:
        printer = render.shared_printer()
        if printer is not None:
            printer.start()
    except Exception as exc:  # noqa: BLE001
        log.info("warm-up: Chromium not started: %s: %s", type(exc).__name__, exc)
        ready = False
    return ready


class Pool:
    """The executor of a run's reports, opened early so that its workers warm up during the month steps.

    `open` starts it and sends one warm_up per worker without waiting; `close` ends what it opened.
    """

    def __init__(self, scheduler: str | None, workers: int | None, tasks: int) -> None:
        self.scheduler, self.workers, self.tasks = scheduler, workers, tasks
        self.executor = None
        self.where = ""
        self._close = None

    def open(self) -> Pool:
        """Start the workers and their warm-up; the same pool when already open."""
        if self.executor is None:
            self.executor, self._close, self.where = open_executor(self.scheduler, self.workers, self.tasks)
            for _ in range(pool_size(self.scheduler, self.workers, self.tasks) or self.workers or 1):
                self.executor.submit(warm_up)
        return self

    def close(self) -> None:
        """Shut the workers down (their kernels and browsers end with them)."""
        close, self._close, self.executor = self._close, None, None
        if close is not None:
            close()


def _render_all(
    base: RunParams,
    month: str,
    todo: list[str],
    *,
    workers,
    executor,
    scheduler,
    progress,
    context: dict,
    record,
    pool: Pool | None = None,
) -> None:
    """Render the reports of `todo` on the executor, passing each result to `record` as it comes.

    `pool`: the run's own workers, already started (and closed here); else a given `executor`
    (left open), else a pool opened here. A task whose worker died is resubmitted (at most
    run.infra_retries times, after a pause). A result that says the run cannot go on (a full
    disk) cancels what is left and raises RunError.
    """
    settings = run_settings()
    max_retries = settings["infra_retries"]
    own = executor is None
    close = None
    if pool is not None and pool.executor is not None:
        executor, close, where = pool.executor, pool.close, pool.where
    elif own:
        executor, close, where = open_executor(scheduler, workers, len(todo))
    else:
        where = type(executor).__name__
    context["executor"] = where
    log.info("lập %d báo cáo trên %s", len(todo), where)
    # future -> (unit, attempts used before this submission, infrastructure failures so far)
    pending: dict[cf.Future, tuple[str, int, list[str]]] = {}
    closers = [close]

    def submit(code: str, used: int, retries: list[str]) -> None:
        nonlocal executor
        args = (render_unit, month, code, base.as_notebook_parameters()["inbox"], str(base.outputs))
        kwargs = {"retries": max_retries - used}
        if base.report_date:
            kwargs["report_date"] = base.report_date.isoformat()
        try:
            future = executor.submit(*args, **kwargs)
        except cf.BrokenExecutor:
            if not (own and scheduler is None):
                raise
            executor.shutdown(wait=False, cancel_futures=True)  # a worker died: a fresh pool
            executor, fresh_close, _ = open_executor(None, workers, len(todo))
            closers.append(fresh_close)
            future = executor.submit(*args, **kwargs)
        pending[future] = (code, used, retries)

    bar = _progress(len(todo), progress, f"Báo cáo {month}")
    try:
        for code in todo:
            submit(code, 0, [])
        while pending:
            done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            for future in done:
                code, used, retries = pending.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker is that unit's failure
                    message = user_error(exc)
                    log.info("%s %s: %s: %s", REPORT_STEP, code, type(exc).__name__, exc)
                    if is_infrastructure_failure(exc) and used + 1 <= max_retries:
                        log.warning("%s %s: lỗi hạ tầng, chạy lại (lần %d): %s", REPORT_STEP, code, used + 2, message)
                        time.sleep(settings["retry_backoff"] * 2**used)
                        try:
                            submit(code, used + 1, [*retries, message])
                            continue
                        except Exception as again:  # noqa: BLE001
                            message = user_error(again)
                    result = StepResult(REPORT_STEP, code, "failed", 0.0, error=message, attempts=1)
                for message in result.retries:
                    log.warning("%s %s: lỗi hạ tầng, đã chạy lại: %s", REPORT_STEP, code, message)
                result.attempts += used
                result.retries = [*retries, *result.retries]
                if result.status == "ok":
                    log.info(
                        "%s %s: ok trong %.2f s%s",
                        REPORT_STEP,
                        code,
                        result.seconds,
                        f" sau {result.attempts} lần chạy" if result.attempts > 1 else "",
                    )
                else:
                    log.error("%s %s: lỗi: %s", REPORT_STEP, code, result.error)
                record(result)
                bar.update(1)
                if result.fatal:
                    for other in pending:
                        other.cancel()
                    raise RunError(result.error)
    finally:
        bar.close()
        if own:
            for closer in closers:
                closer()


def _progress(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="báo cáo", disable=not enabled or total == 0)
