"""One notebook run: the `run` settings, papermill execution, retries and notes in failed/."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
from pathlib import Path

from dxreport import kernels
from dxreport.fileio import write_atomic
from dxreport.params import NOTEBOOKS_DIR, RunParams
from dxreport.runner.common import REPORT_STEP
from dxreport.runner.failures import is_disk_full, is_infrastructure_failure, user_error

log = logging.getLogger("dxreport.runner")


@functools.lru_cache(maxsize=16)
def declared_parameters(path: Path) -> tuple[str, ...]:
    """Names assigned in the notebook's `parameters` cell."""
    import ast

    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            return tuple(
                t.id
                for node in ast.parse(cell.source).body
                if isinstance(node, ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Name)
            )
    return ()


# ------------------------------------------------------------------------------ settings ----

#: The `run` section of params/settings.yaml: its keys and their defaults.
RUN_DEFAULTS = {"kernel_start_timeout": 120, "cell_timeout": 900, "infra_retries": 2, "retry_backoff": 2.0}


def run_settings() -> dict:
    """The `run` section of params/settings.yaml, with the defaults of the keys it omits."""
    from dxreport.params import load_settings

    section = load_settings().get("run") or {}
    return {**RUN_DEFAULTS, **section}


# ---------------------------------------------------------------------------- execution ----


def execute(
    step: str, run: RunParams, output: Path, extra: dict | None = None, warm: kernels.WarmKernel | None = None
) -> None:
    """Execute notebooks/<step>.ipynb with papermill into `output`; raises on any failure.

    Only the parameters the notebook declares are injected (`extra` adds run-only ones, such as
    the report's staging folder). The notebook runs on `warm` when given (the run's kernel for
    the month steps); in a worker process the report notebook runs on the worker's WarmKernel;
    elsewhere each notebook gets a new kernel. Kernels are judged started by their process and
    their answer to kernel_info (dxreport.kernels), within run.kernel_start_timeout.
    """
    import papermill

    settings = run_settings()
    source = NOTEBOOKS_DIR / f"{step}.ipynb"
    declared = declared_parameters(source)
    offered = {**run.as_notebook_parameters(), **(extra or {})}
    parameters = {k: v for k, v in offered.items() if k in declared}
    output.parent.mkdir(parents=True, exist_ok=True)
    options = dict(
        parameters=parameters,
        kernel_name=kernels.KERNEL,
        cwd=str(NOTEBOOKS_DIR),
        request_save_on_cell_execute=False,
        progress_bar=False,
        log_output=False,
        start_timeout=settings["kernel_start_timeout"],
        execution_timeout=settings["cell_timeout"],
    )
    if warm is not None:
        warm.start_timeout = settings["kernel_start_timeout"]
    elif step == REPORT_STEP:
        warm = kernels.worker_kernel(settings["kernel_start_timeout"])
    if warm is None:
        papermill.execute_notebook(
            str(source),
            str(output),
            shutdown_kernel="immediate",
            kernel_manager_class=kernels.kernel_manager_class(),
            **options,
        )
        return
    try:
        km = warm.acquire()
        papermill.execute_notebook(
            str(source),
            str(output),
            engine_name=kernels.warm_engine_name(),
            km=km,
            kc=warm.kc,
            reset=warm.reset,
            **options,
        )
    except BaseException:
        warm.discard()  # whatever failed, the next notebook gets a new kernel
        raise


def _record_failure(failed_dir: Path, unit: str, step: str, message: str, exc: BaseException | None) -> None:
    """A short note in failed/ for a step that left no notebook (a kernel that did not start, …)."""
    text = f"{step} – {unit}\n{message}\n"
    if exc is not None:
        text += f"\nLỗi gốc (tiếng Anh): {type(exc).__name__}: {exc}\n"
    try:
        write_atomic(failed_dir / f"{unit}-{step}.txt", text)
    except OSError:
        pass  # a full disk: the manifest and the log still say it


def _guarded(
    step: str,
    run: RunParams,
    final: Path,
    failed_dir: Path,
    retries: int | None = None,
    extra: dict | None = None,
    warm: kernels.WarmKernel | None = None,
) -> tuple[str, str | None, int, list[str]]:
    """Run a step into a temporary file; move it to `final` on success, keep it in failed/ otherwise.

    Returns (status, error, attempts, retried failures). Infrastructure failures are retried at
    most `retries` times (default run.infra_retries), after a pause of run.retry_backoff
    seconds, doubled each time; a data error is not. A failure that left no notebook gets a
    note in failed/ instead, so that failed/ always says what happened.
    """
    settings = run_settings()
    retries = settings["infra_retries"] if retries is None else retries
    tmp = final.with_name(f".{final.stem}.running.ipynb")
    retried: list[str] = []
    attempt = 0
    while True:
        attempt += 1
        tmp.unlink(missing_ok=True)
        try:
            execute(step, run, tmp, extra, warm)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, none published
            message = user_error(exc)
            log.info("%s %s: %s: %s", step, run.unit, type(exc).__name__, exc)
            if is_infrastructure_failure(exc) and attempt <= retries and not is_disk_full(exc):
                retried.append(message)
                log.warning("%s %s: lỗi hạ tầng, chạy lại (lần %d): %s", step, run.unit, attempt + 1, message)
                time.sleep(settings["retry_backoff"] * 2 ** (attempt - 1))
                continue
            target = failed_dir / f"{run.unit}-{step}.ipynb"
            try:
                failed_dir.mkdir(parents=True, exist_ok=True)
                (failed_dir / f"{run.unit}-{step}.txt").unlink(missing_ok=True)
                if tmp.exists() and tmp.stat().st_size > 0:
                    shutil.move(tmp, target)
                else:
                    target.unlink(missing_ok=True)  # no notebook of an older failure
                    _record_failure(failed_dir, run.unit, step, message, exc)
            except OSError:
                pass
            tmp.unlink(missing_ok=True)
            if is_disk_full(exc):
                raise
            return "failed", message, attempt, retried
        os.replace(tmp, final)
        for old in (f"{run.unit}-{step}.ipynb", f"{run.unit}-{step}.txt"):  # an older failure, now fixed
            (failed_dir / old).unlink(missing_ok=True)
        return "ok", None, attempt, retried
