"""The monthly run: papermill executions in one long-lived process, units rendered in parallel.

Month-level notebooks (01_scrape, 02_clean, 03_analyse) run once, one after another, in this
process; the report notebook (04_report) runs once per unit as a task of a
`concurrent.futures.Executor` (by default a local process pool; with `scheduler` a Dask
distributed cluster), each task executing the notebook, then rendering HTML and PDF. A worker
process keeps one kernel (kernels.WarmKernel, reset between notebooks) and one Chromium
(render.shared_printer) for all the reports it renders.

One run per outputs folder at a time (dxreport.lock); before any step the outputs folder is
checked, what an interrupted run left is cleaned up and a damaged warehouse is set aside and
rebuilt (dxreport.preflight, dxreport.publish). Every process the run starts ends with it
(dxreport.procs).

A report is made in a staging folder and published whole, only when its notebook, HTML and
PDF all succeeded; otherwise the notebook (or a note) is kept in outputs/<month>/failed/.
Infrastructure failures (a dead kernel, a kernel that does not start, a worker process that
died) are retried at most run.infra_retries times after a short pause; an error raised by a
cell is a data error and is not retried.

Each step's record in outputs/<month>/manifest.json holds a fingerprint of what the step reads
(code version, package versions, parameters, input hashes); a step whose fingerprint matches
the last successful run is skipped. The manifest is written after every step and every report,
so a run that is stopped keeps the record of what it finished. The month-level steps depend on
every input; a unit's report on its own part of the warehouse (see `report_inputs.unit_inputs`), so a file
resent by one unit re-renders that unit and the province only. Every run writes
outputs/<month>/logs/run-*.log, with the English original of every error.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import platform
import re
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dxreport import __version__, kernels, lock, preflight, procs, publish
from dxreport.fileio import write_atomic
from dxreport.paramfiles import check_params
from dxreport.params import NOTEBOOKS_DIR, PARAMS_DIR, PROJECT_ROOT, PROVINCE, RunParams, validate_run

MONTH_STEPS = ("01_scrape", "02_clean", "03_analyse")
REPORT_STEP = "04_report"
INFRA_RETRIES = 2             # the default of run.infra_retries
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Packages whose version can change a report; recorded in the manifest and in every fingerprint.
PACKAGES = ("papermill", "nbconvert", "nbclient", "ipykernel", "pandas", "matplotlib", "openpyxl", "duckdb",
            "httpx")

log = logging.getLogger("dxreport.runner")


class RunError(RuntimeError):
    """A month-level step failed: the month cannot be reported."""


@dataclass
class StepResult:
    """What happened to one notebook run."""

    name: str
    unit: str | None
    status: str                  # ok | failed | skipped
    seconds: float
    notebook: str | None = None
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    attempts: int = 1
    retries: list[str] = field(default_factory=list)   # the infrastructure failures that were retried
    inputs: dict[str, str] = field(default_factory=dict)
    fatal: bool = False          # the run cannot go on (a full disk, an outputs folder that cannot be written)


def code_version() -> str:
    """The package version and a hash of its source files and notebooks."""
    digest = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "lib" / "dxreport").rglob("*")) + sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def input_hashes(run: RunParams, month_dir: Path) -> dict[str, str]:
    """sha256 of every input of the month: the submissions, the params files, the catalog snapshot."""
    hashes = {}
    for path in sorted(p for p in month_dir.iterdir() if p.is_file()) if month_dir.is_dir() else []:
        hashes[f"inbox/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    for path in sorted(PARAMS_DIR.iterdir()):
        if path.is_file():
            hashes[f"params/{path.name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a report (PACKAGES)."""
    import importlib.metadata as md

    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return versions


def _file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@functools.lru_cache(maxsize=16)
def declared_parameters(path: Path) -> tuple[str, ...]:
    """Names assigned in the notebook's `parameters` cell."""
    import ast

    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            return tuple(t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                         for t in node.targets if isinstance(t, ast.Name))
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

def execute(step: str, run: RunParams, output: Path, extra: dict | None = None) -> None:
    """Execute notebooks/<step>.ipynb with papermill into `output`; raises on any failure.

    Only the parameters the notebook declares are injected (`extra` adds run-only ones, such as
    the report's staging folder). In a worker process the report notebook runs on the worker's
    WarmKernel; elsewhere each notebook gets a new kernel. Kernels are judged started by their
    process and their answer to kernel_info (dxreport.kernels), within run.kernel_start_timeout.
    """
    import papermill

    settings = run_settings()
    source = NOTEBOOKS_DIR / f"{step}.ipynb"
    declared = declared_parameters(source)
    offered = {**run.as_notebook_parameters(), **(extra or {})}
    parameters = {k: v for k, v in offered.items() if k in declared}
    output.parent.mkdir(parents=True, exist_ok=True)
    options = dict(parameters=parameters, kernel_name=kernels.KERNEL, cwd=str(NOTEBOOKS_DIR),
                   request_save_on_cell_execute=False, progress_bar=False, log_output=False,
                   start_timeout=settings["kernel_start_timeout"], execution_timeout=settings["cell_timeout"])
    warm = kernels.worker_kernel(settings["kernel_start_timeout"]) if step == REPORT_STEP else None
    if warm is None:
        papermill.execute_notebook(str(source), str(output), shutdown_kernel="immediate",
                                   kernel_manager_class=kernels.kernel_manager_class(), **options)
        return
    try:
        km = warm.acquire()
        papermill.execute_notebook(str(source), str(output), engine_name=kernels.warm_engine_name(), km=km, **options)
    except BaseException:
        warm.discard()              # whatever failed, the next notebook gets a new kernel
        raise


_KERNEL_START = re.compile(r"kernel didn't respond|kernel died before replying|kernel.{0,40}failed to start", re.I)
_INFRA_NAMES = frozenset({"DeadKernelError", "BrokenProcessPool", "BrokenExecutor", "KilledWorker", "KernelStartError"})


def is_infrastructure_failure(exc: BaseException) -> bool:
    """True for failures of the machinery, not of the data: worth running the same task again.

    A dead kernel (nbclient's DeadKernelError), a kernel that did not start in time
    (kernels.KernelStartError, or jupyter_client's "Kernel didn't respond in N seconds"), a
    worker process that died (BrokenProcessPool, Dask's KilledWorker). An error raised by a cell
    (PapermillExecutionError) is a data error: running it again gives the same error.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "PapermillExecutionError" in names:
        return False
    if names & _INFRA_NAMES or isinstance(exc, cf.BrokenExecutor):
        return True
    return isinstance(exc, (RuntimeError, TimeoutError)) and bool(_KERNEL_START.search(str(exc)))


_DISK_FULL_TEXT = re.compile(r"\[Errno (28|122)\]|No space left on device|Disk quota exceeded", re.I)


def is_disk_full(exc: BaseException) -> bool:
    """True when `exc` says the disk is full, raised here or by a cell of the notebook."""
    if isinstance(exc, OSError) and exc.errno in preflight.DISK_FULL:
        return True
    text = f"{getattr(exc, 'evalue', '')} {exc}"
    return bool(_DISK_FULL_TEXT.search(text))


def user_error(exc: BaseException) -> str:
    """The sentence a user reads for `exc`, in Vietnamese; the English original goes to the log."""
    name = type(exc).__name__
    log.debug("original error: %s: %s", name, exc)
    if name == "PapermillExecutionError":
        return f"{getattr(exc, 'ename', name)}: {getattr(exc, 'evalue', '')} (ô {getattr(exc, 'exec_count', '?')})"
    if type(exc).__module__.startswith("dxreport."):
        return str(exc)                     # dxreport's own errors are written in Vietnamese
    if name == "DeadKernelError":
        return ("Nhân Python (kernel) dừng đột ngột khi đang chạy sổ tay (thường do thiếu bộ nhớ hoặc bị dừng từ "
                "bên ngoài); hãy chạy lại, hoặc giảm số tiến trình bằng --workers 1.")
    if isinstance(exc, (RuntimeError, TimeoutError)) and _KERNEL_START.search(str(exc)):
        return ("Nhân Python (kernel) không khởi động được. Hãy thử: chạy lại khi máy bớt bận, giảm số tiến trình "
                "(--workers 1), hoặc tăng run.kernel_start_timeout trong params/settings.yaml.")
    if name in ("BrokenProcessPool", "BrokenExecutor") or isinstance(exc, cf.BrokenExecutor):
        return "Một tiến trình lập báo cáo bị dừng đột ngột (thiếu bộ nhớ hoặc bị dừng từ bên ngoài)."
    if name == "KilledWorker":
        return "Một máy làm việc của cụm Dask bị dừng khi đang lập báo cáo."
    if name == "CellTimeoutError":
        return "Một ô của sổ tay chạy quá run.cell_timeout giây (params/settings.yaml) và bị dừng."
    if is_disk_full(exc):
        return "Hết chỗ trống trên đĩa."
    return f"{name}: {exc}"


def _record_failure(failed_dir: Path, unit: str, step: str, message: str, exc: BaseException | None) -> None:
    """A short note in failed/ for a step that left no notebook (a kernel that did not start, …)."""
    text = f"{step} – {unit}\n{message}\n"
    if exc is not None:
        text += f"\nLỗi gốc (tiếng Anh): {type(exc).__name__}: {exc}\n"
    try:
        write_atomic(failed_dir / f"{unit}-{step}.txt", text)
    except OSError:
        pass                         # a full disk: the manifest and the log still say it


def _guarded(step: str, run: RunParams, final: Path, failed_dir: Path, retries: int | None = None,
             extra: dict | None = None) -> tuple[str, str | None, int, list[str]]:
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
            execute(step, run, tmp, extra)
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
                    target.unlink(missing_ok=True)   # no notebook of an older failure
                    _record_failure(failed_dir, run.unit, step, message, exc)
            except OSError:
                pass
            tmp.unlink(missing_ok=True)
            if is_disk_full(exc):
                raise
            return "failed", message, attempt, retried
        os.replace(tmp, final)
        for old in (f"{run.unit}-{step}.ipynb", f"{run.unit}-{step}.txt"):   # an older failure, now fixed
            (failed_dir / old).unlink(missing_ok=True)
        return "ok", None, attempt, retried


def render_unit(month: str, unit: str, inbox: str, outputs: str, *, retries: int | None = None,
                report_date: str = "") -> StepResult:
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
    run = validate_run({"month": month, "unit": unit, "inbox": inbox, "outputs": outputs,
                        "report_date": report_date or None})
    month_dir = run.outputs / month
    failed_dir = month_dir / "failed"
    files: dict[str, str] = {}
    error = None
    stage = None
    try:
        stage = publish.staging_dir(run.outputs, month, unit)
        notebook = stage / f"{REPORT_STEP}.ipynb"
        status, error, attempts, retried = _guarded(REPORT_STEP, run, notebook, failed_dir, retries,
                                                    extra={"stage": str(stage)})
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
        return StepResult(REPORT_STEP, unit, status, round(time.perf_counter() - start, 3), None, error,
                          attempts=attempts, retries=retried, fatal=True)
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        return StepResult(REPORT_STEP, unit, "failed", round(time.perf_counter() - start, 3), None,
                          preflight.disk_full_message(month_dir), fatal=True)
    finally:
        if stage is not None:
            publish.discard(stage)
    return StepResult(REPORT_STEP, unit, status, round(time.perf_counter() - start, 3),
                      f"{unit}/{REPORT_STEP}.ipynb" if status == "ok" else None, error, files,
                      attempts=attempts, retries=retried)


def _previous_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------------- executors ----

def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise RunError("chạy trên cụm Dask (--scheduler) cần gói tùy chọn dask: pip install 'dxreport[dask]'") from exc


def open_executor(scheduler: str | None, workers: int | None, tasks: int):
    """The executor for the report tasks and a function that closes what was opened.

    None: a local spawn process pool of `workers` processes (default: the cores, at most one per
    task). 'local': a Dask LocalCluster of `workers` single-threaded worker processes. Any other
    value: the address of a running Dask scheduler (tcp://host:8786); its workers must see the
    same inbox, outputs and project folders as this process.
    """
    if scheduler is None:
        size = workers or max(1, min(tasks, os.cpu_count() or 1))
        pool = cf.ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=procs.worker_init)
        return pool, pool.shutdown, f"process pool ({size} processes)"
    _require_dask()
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler == "local":
        size = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=size, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.WARNING)
        client = Client(cluster)
        where = f"Dask LocalCluster ({size} workers)"
    else:
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise RunError(f"không kết nối được bộ lập lịch Dask {scheduler}: {exc}") from exc
        where = f"Dask scheduler {scheduler}"
    # pure=False: a retried task is a new task, not the cached result of the failed one
    executor = client.get_executor(pure=False)

    def close() -> None:
        executor.shutdown(wait=True)
        client.close()
        if cluster is not None:
            cluster.close()

    return executor, close, where


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
    formatter.converter = lambda seconds: datetime.fromtimestamp(seconds, TZ).timetuple()   # Huế time
    handler.setFormatter(formatter)
    return path, handler


def run_month(month: str, unit: str = "all", *, inbox: str | Path | None = None, outputs: str | Path | None = None,
              sources: str | Path | None = None, offline: bool = False, report_date: str | None = None,
              workers: int | None = None, force: bool = False, executor: cf.Executor | None = None,
              scheduler: str | None = None, progress: bool = True, wait: float = 0.0) -> dict:
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
    base = validate_run({"month": month, "unit": PROVINCE if unit == "all" else unit,
                         "inbox": str(inbox) if inbox else None, "outputs": str(outputs) if outputs else None,
                         "sources": str(sources) if sources else None, "offline": offline,
                         "report_date": report_date or None})
    check_params(PARAMS_DIR, sources=base.sources)
    source = base.source()
    if scheduler is not None:
        _require_dask()                  # before anything runs
    registry = load_registry()
    units = ([PROVINCE] + [u.code for u in registry.reporting_units(month)]) if unit == "all" else [base.unit]
    try:
        preflight.check_outputs(base.outputs)
        with lock.hold(base.outputs, wait=wait) as stale, procs.mark_run():
            _tell(source.describe())
            return _locked_run(base, month, units, registry, stale, workers=workers, force=force,
                               executor=executor, scheduler=scheduler, progress=progress)
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
        log.warning("lần chạy trước (tiến trình %s, bắt đầu %s) đã bị dừng giữa chừng; dọn phần còn lại",
                    stale.get("pid"), stale.get("started"))
    swept = procs.sweep_orphans()
    if swept:
        log.warning("đã dừng %d tiến trình còn sót của lần chạy bị ngắt: %s", len(swept), ", ".join(map(str, swept)))
    removed = publish.clean_leftovers(month_dir)
    if removed:
        log.info("đã xóa %d tệp/thư mục tạm còn sót: %s", len(removed), ", ".join(p.name for p in removed))
    repaired = preflight.check_warehouse(_warehouse_file(base))
    if repaired:
        log.warning("%s", repaired)
        _tell(repaired)


def _warehouse_file(run: RunParams) -> Path:
    """The warehouse file of a run (outputs/warehouse.duckdb)."""
    return run.outputs / "warehouse.duckdb"


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


class _Ledger:
    """The manifest of the month, written again after every step and every report.

    A report's record from an earlier run stays until this run replaces it, so a run that stops
    (killed, a full disk, a failed month step) never erases the record of what is still valid;
    a record whose fingerprint no longer matches is simply redone by the next run.
    """

    def __init__(self, base: RunParams, context: dict, registry, previous: dict) -> None:
        self.base, self.context, self.registry = base, context, registry
        self.path = base.outputs / base.month / "manifest.json"
        self.month_steps: list[StepResult] = []
        self.reports: dict[str, StepResult] = {}
        for record in previous.get("steps", []):
            if record.get("name") == REPORT_STEP and record.get("status") in ("ok", "skipped"):
                self.reports[record["unit"]] = StepResult(
                    REPORT_STEP, record["unit"], record["status"], record.get("seconds", 0.0), record.get("notebook"),
                    files=record.get("files", {}), fingerprint=record.get("fingerprint", ""),
                    inputs=record.get("inputs", {}))
        self.sample = bool(previous.get("sample", False))

    def report(self, result: StepResult) -> None:
        """Record one report's result and write the manifest."""
        self.reports[result.unit] = result
        self.save()

    def manifest(self) -> dict:
        """The manifest as it stands."""
        steps = self.month_steps + [self.reports[c] for c in sorted(self.reports, key=lambda c: (c != PROVINCE, c))]
        return _manifest(self.base, self.context, steps, self.registry, sample=self.sample)

    def save(self) -> dict:
        """Write the manifest (atomically) and return it."""
        manifest = self.manifest()
        _write_json(self.path, manifest)
        return manifest


def _run(base: RunParams, month: str, units: list[str], registry, month_dir: Path, started: datetime,
         log_path: Path, *, workers, force, executor, scheduler, progress) -> dict:
    from dxreport import site

    t_run = time.perf_counter()
    manifest_path = month_dir / "manifest.json"
    previous = _previous_manifest(manifest_path)
    version = code_version()
    packages = package_versions()
    hashes = input_hashes(base, _inbox_month_dir(base))
    params_hashes = {k: v for k, v in hashes.items() if k.startswith("params/")}
    # what the steps read is hashed, not where it lies: a moved inbox or outputs folder reruns nothing
    parameters = {"month": month, "offline": base.offline, "sources": _file_hash(base.sources)}
    month_print = _fingerprint(version, packages, hashes, parameters)
    log.info("tháng %s, đơn vị %s, mã nguồn %s, %d tệp đầu vào, lưu tại %s%s", month,
             ",".join(units) if len(units) < 5 else f"{len(units)} đơn vị", version, len(hashes), base.outputs,
             " (--force)" if force else "")
    context = {"version": version, "packages": packages, "hashes": hashes, "started": started,
               "log": log_path, "scheduler": scheduler}
    ledger = _Ledger(base, context, registry, previous)

    prev_steps = {(s["name"], s.get("unit")): s for s in previous.get("steps", [])}
    month_fresh = (not force and _month_loaded(base)
                   and all(prev_steps.get((s, None), {}).get("fingerprint") == month_print
                           and prev_steps[(s, None)].get("status") in ("ok", "skipped")
                           and (month_dir / "notebooks" / f"{s}.ipynb").exists() for s in MONTH_STEPS))
    for step in MONTH_STEPS:
        t0 = time.perf_counter()
        final = month_dir / "notebooks" / f"{step}.ipynb"
        if month_fresh:
            ledger.month_steps.append(StepResult(step, None, "skipped", 0.0, str(final.relative_to(month_dir)),
                                                 fingerprint=month_print))
            log.info("%s: bỏ qua (đầu vào không đổi)", step)
            continue
        final.parent.mkdir(parents=True, exist_ok=True)
        status, error, attempts, retries = _guarded(step, base, final, month_dir / "failed")
        ledger.month_steps.append(StepResult(step, None, status, round(time.perf_counter() - t0, 3),
                                             str(final.relative_to(month_dir)) if status == "ok" else None, error,
                                             fingerprint=month_print, attempts=attempts, retries=retries))
        log.info("%s: %s trong %.2f s%s", step, status, ledger.month_steps[-1].seconds,
                 f" sau {attempts} lần chạy" if attempts > 1 else "")
        if status != "ok":
            log.error("%s: %s", step, error)
            ledger.save()
            site.write_index(base.outputs)
            raise RunError(f"bước {step} tháng {month} bị lỗi: {error} (xem {month_dir / 'failed'})")
    ledger.sample = _is_sample(base)
    ledger.save()
    _kill_point("month")

    t0 = time.perf_counter()
    from dxreport import report_inputs       # pandas and the warehouse: only once the month is loaded

    inputs = report_inputs.unit_inputs(base.outputs, month, units, registry)
    # the report date is printed on every report, and only there: a new date re-renders the reports
    report_parameters = {**parameters, "report_date": base.as_notebook_parameters()["report_date"]}
    prints = {code: _fingerprint(version, packages, params_hashes, report_parameters, code, inputs[code])
              for code in units}
    log.info("đầu vào của %d báo cáo đọc từ kho dữ liệu trong %.2f s", len(units), time.perf_counter() - t0)
    todo = []
    for code in units:
        record = prev_steps.get((REPORT_STEP, code), {})
        done = (not force and record.get("fingerprint") == prints[code] and record.get("status") in ("ok", "skipped")
                and all((month_dir / code / f).exists() for f in ("report.html", "report.pdf", "kpis.csv")))
        if done:
            ledger.reports[code] = StepResult(REPORT_STEP, code, "skipped", 0.0, record.get("notebook"),
                                              files=record.get("files", {}), fingerprint=prints[code],
                                              inputs=inputs[code])
        else:
            todo.append(code)
    log.info("báo cáo cần lập: %d, bỏ qua (không đổi): %d%s", len(todo), len(units) - len(todo),
             f" — {', '.join(todo)}" if 0 < len(todo) <= 40 else "")
    ledger.save()

    def record(result: StepResult) -> None:
        result.fingerprint = prints[result.unit] if result.status == "ok" else ""
        result.inputs = inputs[result.unit]
        ledger.report(result)
        _kill_point("report", sum(1 for c in todo if c in ledger.reports and ledger.reports[c].status == "ok"))

    if todo:
        _render_all(base, month, todo, workers=workers, executor=executor, scheduler=scheduler,
                    progress=progress, context=context, record=record)
    manifest = ledger.save()
    site.write_index(base.outputs)
    publish.clean_leftovers(month_dir)          # the empty staging area; nothing else is left by now
    failed = manifest["failed"]
    done = [c for c in units if ledger.reports[c].status == "ok"]
    log.info("xong trong %.2f s: %d báo cáo lập, %d bỏ qua, %d lỗi%s", time.perf_counter() - t_run,
             len(done), sum(1 for c in units if ledger.reports[c].status == "skipped"),
             len(failed), f" ({', '.join(failed)})" if failed else "")
    return manifest


def _render_all(base: RunParams, month: str, todo: list[str], *, workers, executor, scheduler, progress,
                context: dict, record) -> None:
    """Render the reports of `todo` on the executor, passing each result to `record` as it comes.

    A task whose worker died is resubmitted (at most run.infra_retries times, after a pause).
    A result that says the run cannot go on (a full disk) cancels what is left and raises RunError.
    """
    settings = run_settings()
    max_retries = settings["infra_retries"]
    own = executor is None
    close = None
    if own:
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
            executor.shutdown(wait=False, cancel_futures=True)   # a worker died: a fresh pool
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
                        time.sleep(settings["retry_backoff"] * 2 ** used)
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
                    log.info("%s %s: ok trong %.2f s%s", REPORT_STEP, code, result.seconds,
                             f" sau {result.attempts} lần chạy" if result.attempts > 1 else "")
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


def _month_loaded(run: RunParams) -> bool:
    from dxreport import store

    path = store.warehouse_path(run.outputs)
    if not path.exists():
        return False
    try:
        with store.connect(path, read_only=True) as con:
            return run.month in store.months_loaded(con)
    except Exception:  # noqa: BLE001 - an unreadable warehouse is rebuilt by the month steps
        return False


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


def _progress(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="báo cáo", disable=not enabled or total == 0)


def _manifest(run: RunParams, context: dict, steps: list[StepResult], registry, *, sample: bool) -> dict:
    units = {}
    for s in steps:
        if s.name != REPORT_STEP:
            continue
        entry = {"name": "Tỉnh Thừa Thiên Huế" if s.unit == PROVINCE else registry.get(s.unit).name,
                 "status": s.status}
        entry.update({k: f"{s.unit}/{v}" for k, v in s.files.items()})
        if s.error:
            entry["error"] = s.error
        units[s.unit] = entry
    month_dir = run.outputs / run.month
    return {
        "month": run.month, "created": datetime.now(TZ).isoformat(timespec="seconds"),
        "started": context["started"].isoformat(timespec="seconds"), "sample": sample,
        "parameters": {"month": run.month, "inbox": str(run.inbox) if run.inbox else "", "outputs": str(run.outputs),
                       "sources": str(run.sources), "offline": run.offline,
                       "report_date": run.report_date.isoformat() if run.report_date else ""},
        "code_version": context["version"], "python": platform.python_version(), "packages": context["packages"],
        "executor": context.get("executor"), "log": str(context["log"].relative_to(month_dir)),
        "inputs": context["hashes"],
        "steps": [{"name": s.name, "unit": s.unit, "status": s.status, "seconds": s.seconds,
                   "notebook": s.notebook, "error": s.error, "files": s.files, "fingerprint": s.fingerprint,
                   "attempts": s.attempts, "retries": s.retries, "inputs": s.inputs}
                  for s in steps],
        "units": units, "validation": "validation.csv",
        "failed": sorted(s.unit or s.name for s in steps if s.status == "failed"),
    }


def _write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2))
