"""The monthly run: papermill executions in one long-lived process, units rendered in parallel.

Month-level notebooks (01_scrape, 02_clean, 03_analyse) run once, one after another, in this
process; the report notebook (04_report) runs once per unit as a task of a
`concurrent.futures.Executor` (by default a local process pool; with `scheduler` a Dask
distributed cluster), each task executing the notebook, then rendering HTML and PDF. A worker
process keeps one kernel (WarmKernel, reset between notebooks) and one Chromium
(render.shared_printer) for all the reports it renders.

A notebook that fails is never published: it is executed into a temporary file, moved into
place only on success, and otherwise kept, with its error cell, in outputs/<month>/failed/.
Infrastructure failures (a dead kernel, a kernel that does not start, a worker process that
died) are retried at most INFRA_RETRIES times; an error raised by a cell is a data error and is
not retried.

Each step's record in outputs/<month>/manifest.json holds a fingerprint of what the step reads
(code version, package versions, parameters, input hashes); a step whose fingerprint matches
the last successful run is skipped. The month-level steps depend on every input; a unit's
report on its own part of the warehouse (see `unit_inputs`), so a file resent by one unit
re-renders that unit and the province only. Every run writes outputs/<month>/logs/run-*.log.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import json
import logging
import multiprocessing
import multiprocessing.util
import os
import platform
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dxreport import __version__
from dxreport.fileio import write_atomic
from dxreport.params import (NOTEBOOKS_DIR, PARAMS_DIR, PROJECT_ROOT, PROVINCE, RunParams, validate_run)

MONTH_STEPS = ("01_scrape", "02_clean", "03_analyse")
REPORT_STEP = "04_report"
KERNEL = "python3"
START_TIMEOUT = 120
CELL_TIMEOUT = 900
INFRA_RETRIES = 2
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


def _ipc_kernel_manager():
    """A kernel manager that talks to its kernel over Unix sockets in a private folder, not TCP."""
    import tempfile

    from jupyter_client import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self._ipc_dir = tempfile.mkdtemp(prefix="dxreport-kernel-")
            self.ip = os.path.join(self._ipc_dir, "kernel")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

    return IPCKernelManager


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


# ------------------------------------------------------------------------ warm kernels ----

#: Report notebooks a worker's kernel runs before it is replaced by a new one.
WARM_REUSES = 25
# Imported once when a worker's kernel starts; the report notebook imports them again (cheaply).
_PRELOAD = ("import IPython.display, pandas, matplotlib.pyplot\n"
            "import dxreport.report, dxreport.charts, dxreport.narrative, dxreport.store, dxreport.kpis")
# Before each notebook: nothing left of the previous one in the user namespace, counter at 1.
_RESET = "get_ipython().run_line_magic('reset', '-f')\nget_ipython().execution_count = 1"


def _warm_engine_name() -> str:
    """A papermill engine that runs a notebook on a kernel it was given and leaves it running."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    name = "dxreport-warm"
    if name in papermill_engines._engines:
        return name

    class Client(PapermillNotebookClient):
        def execute(self, **kwargs):
            try:
                return super().execute(**kwargs)
            finally:                       # nbclient keeps the client of a kernel it does not own
                if self.kc is not None:
                    self.kc.stop_channels()
                    self.kc = None

    class WarmEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            kwargs.pop("input_path", None)
            return Client(nb_man, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                          log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                          **kwargs).execute()

    papermill_engines.register(name, WarmEngine)
    return name


class WarmKernel:
    """A started kernel that a worker process reuses for successive report notebooks.

    The design's rule for speed is to import once: a fresh kernel per report spends most of the
    report's time starting Python and importing pandas, matplotlib and dxreport. A worker keeps
    one kernel; before each notebook the user namespace is emptied (%reset -f) and the execution
    counter set back to 1, so the notebook finds its imports already loaded and nothing else. The
    kernel is replaced after WARM_REUSES notebooks, after any failure, and when it has died.
    """

    def __init__(self) -> None:
        self.km = None
        self.uses = 0

    def acquire(self):
        """The kernel manager to run the next notebook on, reset."""
        from jupyter_core.utils import run_sync

        if self.km is not None and (self.uses >= WARM_REUSES or not run_sync(self.km.is_alive)()):
            self.discard()
        if self.km is None:
            km = _ipc_kernel_manager()(kernel_name=KERNEL)
            run_sync(km.start_kernel)(cwd=str(NOTEBOOKS_DIR),
                                      extra_arguments=["--HistoryManager.hist_file=:memory:"])
            self.km, self.uses = km, 0
            self._run(_PRELOAD)
        self._run(_RESET)
        self.uses += 1
        return self.km

    def _run(self, code: str) -> None:
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=self.km.connection_file)
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=START_TIMEOUT)
            reply = kc.execute_interactive(code, store_history=False, allow_stdin=False, timeout=START_TIMEOUT,
                                           output_hook=lambda msg: None)
        finally:
            kc.stop_channels()
        if reply["content"].get("status") != "ok":
            self.discard()
            raise RuntimeError(f"Kernel failed to start: {reply['content'].get('ename')} "
                               f"{reply['content'].get('evalue')}")

    def discard(self) -> None:
        """Shut the kernel down (the next acquire starts a new one)."""
        from jupyter_core.utils import run_sync

        km, self.km = self.km, None
        if km is not None:
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


_WARM: dict[str, WarmKernel] = {}


def _worker_kernel() -> WarmKernel | None:
    """This worker process's WarmKernel; None outside worker processes (fresh kernels there)."""
    if multiprocessing.parent_process() is None:
        return None
    warm = _WARM.get("kernel")
    if warm is None:
        warm = _WARM["kernel"] = WarmKernel()
        multiprocessing.util.Finalize(warm, warm.discard, exitpriority=20)
    return warm


def execute(step: str, run: RunParams, output: Path) -> None:
    """Execute notebooks/<step>.ipynb with papermill into `output`; raises on any failure.

    Only the parameters the notebook declares are injected. In a worker process the report
    notebook runs on the worker's WarmKernel; elsewhere each notebook gets a new kernel.
    """
    import papermill

    source = NOTEBOOKS_DIR / f"{step}.ipynb"
    declared = declared_parameters(source)
    parameters = {k: v for k, v in run.as_notebook_parameters().items() if k in declared}
    output.parent.mkdir(parents=True, exist_ok=True)
    options = dict(parameters=parameters, kernel_name=KERNEL, cwd=str(NOTEBOOKS_DIR),
                   request_save_on_cell_execute=False, progress_bar=False, log_output=False,
                   start_timeout=START_TIMEOUT, execution_timeout=CELL_TIMEOUT)
    warm = _worker_kernel() if step == REPORT_STEP else None
    if warm is None:
        papermill.execute_notebook(str(source), str(output), shutdown_kernel="immediate",
                                   kernel_manager_class=_ipc_kernel_manager(), **options)
        return
    try:
        km = warm.acquire()
        papermill.execute_notebook(str(source), str(output), engine_name=_warm_engine_name(), km=km, **options)
    except BaseException:
        warm.discard()              # whatever failed, the next notebook gets a new kernel
        raise


_KERNEL_START = re.compile(r"kernel didn't respond|kernel died before replying|kernel.{0,40}failed to start", re.I)
_INFRA_NAMES = frozenset({"DeadKernelError", "BrokenProcessPool", "BrokenExecutor", "KilledWorker"})


def is_infrastructure_failure(exc: BaseException) -> bool:
    """True for failures of the machinery, not of the data: worth running the same task again.

    A dead kernel (nbclient's DeadKernelError), a kernel that did not start in time (jupyter_client's
    RuntimeError "Kernel didn't respond in N seconds" / "Kernel died before replying"), a worker
    process that died (BrokenProcessPool, Dask's KilledWorker). An error raised by a cell
    (PapermillExecutionError) is a data error: running it again gives the same error.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "PapermillExecutionError" in names:
        return False
    if names & _INFRA_NAMES or isinstance(exc, cf.BrokenExecutor):
        return True
    return isinstance(exc, (RuntimeError, TimeoutError)) and bool(_KERNEL_START.search(str(exc)))


def _guarded(step: str, run: RunParams, final: Path, failed_dir: Path,
             retries: int = INFRA_RETRIES) -> tuple[str, str | None, int, list[str]]:
    """Run a step into a temporary file; publish on success, keep in failed/ otherwise.

    Returns (status, error, attempts, retried failures). Infrastructure failures are retried at
    most `retries` times; a data error is not.
    """
    tmp = final.with_name(f".{final.stem}.running.ipynb")
    retried: list[str] = []
    attempt = 0
    while True:
        attempt += 1
        tmp.unlink(missing_ok=True)
        try:
            execute(step, run, tmp)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded, none published
            message = _short_error(exc)
            if is_infrastructure_failure(exc) and attempt <= retries:
                retried.append(message)
                log.warning("%s %s: lỗi hạ tầng, chạy lại (lần %d): %s", step, run.unit, attempt + 1, message)
                continue
            failed_dir.mkdir(parents=True, exist_ok=True)
            target = failed_dir / f"{run.unit}-{step}.ipynb"
            if tmp.exists():
                shutil.move(tmp, target)
            else:
                target.unlink(missing_ok=True)   # no notebook of an older failure
            return "failed", message, attempt, retried
        os.replace(tmp, final)
        (failed_dir / f"{run.unit}-{step}.ipynb").unlink(missing_ok=True)   # an older failure, now fixed
        return "ok", None, attempt, retried


def _short_error(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        return f"{getattr(exc, 'ename', name)}: {getattr(exc, 'evalue', '')} (ô {getattr(exc, 'exec_count', '?')})"
    return f"{name}: {exc}"


def render_unit(month: str, unit: str, inbox: str, outputs: str, *, retries: int = INFRA_RETRIES) -> StepResult:
    """One unit's report: execute 04_report, then HTML and PDF. Runs in a worker process.

    `retries`: how many infrastructure failures of the notebook run are retried here.
    The PDF is printed by the worker's long-lived Chromium (render.shared_printer), started on
    the first report the worker renders.
    """
    from dxreport import render

    start = time.perf_counter()
    run = validate_run({"month": month, "unit": unit, "inbox": inbox, "outputs": outputs})
    unit_dir = run.outputs / month / unit
    unit_dir.mkdir(parents=True, exist_ok=True)
    notebook = unit_dir / f"{REPORT_STEP}.ipynb"
    status, error, attempts, retried = _guarded(REPORT_STEP, run, notebook, run.outputs / month / "failed", retries)
    files = {}
    if status == "ok":
        try:
            html = render.render_html(notebook, unit_dir / "report.html")
            pdf = render.render_pdf(html, unit_dir / "report.pdf", printer=render.shared_printer())
            files = {"html": html.name, "pdf": pdf.name, "kpis": "kpis.csv", "notebook": notebook.name}
        except Exception as exc:  # noqa: BLE001
            status, error = "failed", _short_error(exc)
    return StepResult(REPORT_STEP, unit, status, round(time.perf_counter() - start, 3),
                      str(notebook.relative_to(run.outputs / month)) if status == "ok" else None, error, files,
                      attempts=attempts, retries=retried)


def _previous_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ------------------------------------------------------------------ what a report reads ----

_EMPTY = hashlib.sha256(b"").hexdigest()[:16]


def _row_hashes(frame):
    import pandas as pd

    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _frame_digest(frame) -> str:
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(_row_hashes(frame).tobytes())
    return digest.hexdigest()[:16]


def _digests_by_unit(frame) -> dict[str, str]:
    if frame.empty:
        return {}
    hashes = _row_hashes(frame)
    return {str(unit): hashlib.sha256(hashes[idx].tobytes()).hexdigest()[:16]
            for unit, idx in frame.groupby("unit", dropna=True, sort=False).indices.items()}


def unit_inputs(outputs: Path, month: str, units: list[str], registry) -> dict[str, dict[str, str]]:
    """Per unit, hashes of the warehouse rows its report reads (read-only, after 03_analyse).

    A unit's report reads its own submissions, issues and facts of the month, its indicators of
    every month up to the month (the trend), the catalog, and whether the month is sample data; a
    district's report also compares the area indicators of every district and the province. The
    province report reads all of it. These hashes, with the code version, the package versions and
    the parameters, make the report's fingerprint.
    """
    from dxreport import kpis, store

    with store.connect(store.warehouse_path(outputs), read_only=True) as con:
        # where the archived copy lies is no input of a report (its content hash is the submission_id)
        subs = store.submissions_frame(con, month).drop(columns=["archived_path"], errors="ignore")
        issues = store.issues_frame(con, month)
        facts = store.facts_frame(con, [month])
        values = con.execute("SELECT month, unit, indicator, value, previous, change, change_pct FROM indicators "
                             "WHERE month <= ? ORDER BY month, unit, indicator", [month]).df()
        catalog = store.table_frame(con, "catalog")
    sample = str(bool(subs.loc[subs["status"] == "accepted", "is_sample"].fillna(False).astype(bool).any()))
    catalog_hash = _frame_digest(catalog)
    own = {name: _digests_by_unit(frame) for name, frame in
           (("submissions", subs), ("issues", issues), ("facts", facts), ("indicators", values))}
    area = [i.name for i in kpis.INDICATORS if i.scope == "area"]
    peers = values[(values["month"] == month) & values["indicator"].isin(area)
                   & values["unit"].isin([u.code for u in registry.districts(month)] + [PROVINCE])]
    peers_hash = _frame_digest(peers)
    whole = None
    out = {}
    for code in units:
        if code == PROVINCE:
            if whole is None:
                whole = {name: _frame_digest(frame) for name, frame in
                         (("submissions", subs), ("issues", issues), ("facts", facts), ("indicators", values))}
            out[code] = {"catalog": catalog_hash, "sample": sample, **whole}
            continue
        parts = {"catalog": catalog_hash, "sample": sample}
        parts.update({name: digests.get(code, _EMPTY) for name, digests in own.items()})
        if registry.get(code).type == "district":
            parts["districts"] = peers_hash
        out[code] = parts
    return out


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
        pool = cf.ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"))
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
              sources: str | Path | None = None, offline: bool = False,
              workers: int | None = None, force: bool = False, executor: cf.Executor | None = None,
              scheduler: str | None = None, progress: bool = True) -> dict:
    """Run the month: the month-level steps, then the reports of `unit` ('all', 'tinh' or a code).

    Reports run on `executor` when given, else on a Dask cluster when `scheduler` is given
    ('local' or a scheduler address), else on a local process pool of `workers` processes.
    Returns the manifest (also written to outputs/<month>/manifest.json). Raises ParamError
    before anything runs if a parameter is not valid, RunError if a month-level step fails.
    """
    from dxreport.units import load_registry

    if executor is not None and scheduler is not None:
        raise ValueError("executor and scheduler cannot both be given")
    base = validate_run({"month": month, "unit": PROVINCE if unit == "all" else unit,
                         "inbox": str(inbox) if inbox else None, "outputs": str(outputs) if outputs else None,
                         "sources": str(sources) if sources else None, "offline": offline})
    if scheduler is not None:
        _require_dask()                  # before anything runs
    registry = load_registry()
    units = ([PROVINCE] + [u.code for u in registry.reporting_units(month)]) if unit == "all" else [base.unit]
    month_dir = base.outputs / month
    month_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(TZ)
    log_path, handler = _new_log(month_dir, started)
    log.addHandler(handler)
    level = log.level
    log.setLevel(logging.INFO)
    try:
        return _run(base, month, units, registry, month_dir, started, log_path, workers=workers, force=force,
                    executor=executor, scheduler=scheduler, progress=progress)
    except Exception as exc:
        log.error("lần chạy dừng vì lỗi: %s", _short_error(exc))
        raise
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        handler.close()


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
    steps: list[StepResult] = []
    context = {"version": version, "packages": packages, "hashes": hashes, "started": started,
               "log": log_path, "scheduler": scheduler}

    prev_steps = {(s["name"], s.get("unit")): s for s in previous.get("steps", [])}
    month_fresh = (not force and _month_loaded(base)
                   and all(prev_steps.get((s, None), {}).get("fingerprint") == month_print
                           and prev_steps[(s, None)].get("status") in ("ok", "skipped")
                           and (month_dir / "notebooks" / f"{s}.ipynb").exists() for s in MONTH_STEPS))
    for step in MONTH_STEPS:
        t0 = time.perf_counter()
        final = month_dir / "notebooks" / f"{step}.ipynb"
        if month_fresh:
            steps.append(StepResult(step, None, "skipped", 0.0, str(final.relative_to(month_dir)), fingerprint=month_print))
            log.info("%s: bỏ qua (đầu vào không đổi)", step)
            continue
        final.parent.mkdir(parents=True, exist_ok=True)
        status, error, attempts, retries = _guarded(step, base, final, month_dir / "failed")
        steps.append(StepResult(step, None, status, round(time.perf_counter() - t0, 3),
                                str(final.relative_to(month_dir)) if status == "ok" else None, error,
                                fingerprint=month_print, attempts=attempts, retries=retries))
        log.info("%s: %s trong %.2f s%s", step, status, steps[-1].seconds,
                 f" sau {attempts} lần chạy" if attempts > 1 else "")
        if status != "ok":
            log.error("%s: %s", step, error)
            manifest = _manifest(base, context, steps, registry, sample=False)
            _write_json(manifest_path, manifest)
            raise RunError(f"bước {step} tháng {month} bị lỗi: {error} (sổ tay lỗi trong {month_dir / 'failed'})")

    t0 = time.perf_counter()
    inputs = unit_inputs(base.outputs, month, units, registry)
    prints = {code: _fingerprint(version, packages, params_hashes, parameters, code, inputs[code]) for code in units}
    log.info("đầu vào của %d báo cáo đọc từ kho dữ liệu trong %.2f s", len(units), time.perf_counter() - t0)
    todo, results = [], {}
    for code in units:
        record = prev_steps.get((REPORT_STEP, code), {})
        done = (not force and record.get("fingerprint") == prints[code] and record.get("status") in ("ok", "skipped")
                and all((month_dir / code / f).exists() for f in ("report.html", "report.pdf", "kpis.csv")))
        if done:
            results[code] = StepResult(REPORT_STEP, code, "skipped", 0.0, record.get("notebook"),
                                       files=record.get("files", {}))
        else:
            todo.append(code)
    log.info("báo cáo cần lập: %d, bỏ qua (không đổi): %d%s", len(todo), len(units) - len(todo),
             f" — {', '.join(todo)}" if 0 < len(todo) <= 40 else "")
    if todo:
        results.update(_render_all(base, month, todo, workers=workers, executor=executor, scheduler=scheduler,
                                   progress=progress, context=context))
    for code in units:
        results[code].fingerprint = prints[code]
        results[code].inputs = inputs[code]
    steps.extend(results[code] for code in units)
    # reports of other units made by earlier runs of this month stay listed
    for (name, code), record in prev_steps.items():
        if name == REPORT_STEP and code not in units and record.get("status") in ("ok", "skipped"):
            steps.append(StepResult(REPORT_STEP, code, "ok", record.get("seconds", 0.0), record.get("notebook"),
                                    files=record.get("files", {}), fingerprint=record.get("fingerprint", ""),
                                    inputs=record.get("inputs", {})))
    manifest = _manifest(base, context, steps, registry, sample=_is_sample(base))
    _write_json(manifest_path, manifest)
    site.write_index(base.outputs)
    failed = manifest["failed"]
    log.info("xong trong %.2f s: %d báo cáo lập, %d bỏ qua, %d lỗi%s", time.perf_counter() - t_run,
             sum(1 for c in units if results[c].status == "ok"), sum(1 for c in units if results[c].status == "skipped"),
             len(failed), f" ({', '.join(failed)})" if failed else "")
    return manifest


def _render_all(base: RunParams, month: str, todo: list[str], *, workers, executor, scheduler, progress,
                context: dict) -> dict[str, StepResult]:
    """Render the reports of `todo` on the executor; a task whose worker died is resubmitted."""
    own = executor is None
    close = None
    if own:
        executor, close, where = open_executor(scheduler, workers, len(todo))
    else:
        where = type(executor).__name__
    context["executor"] = where
    log.info("lập %d báo cáo trên %s", len(todo), where)
    results: dict[str, StepResult] = {}
    # future -> (unit, attempts used before this submission, infrastructure failures so far)
    pending: dict[cf.Future, tuple[str, int, list[str]]] = {}
    closers = [close]

    def submit(code: str, used: int, retries: list[str]) -> None:
        nonlocal executor
        args = (render_unit, month, code, str(base.inbox), str(base.outputs))
        kwargs = {"retries": INFRA_RETRIES - used}
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
                    message = _short_error(exc)
                    if is_infrastructure_failure(exc) and used + 1 <= INFRA_RETRIES:
                        log.warning("%s %s: lỗi hạ tầng, chạy lại (lần %d): %s", REPORT_STEP, code, used + 2, message)
                        try:
                            submit(code, used + 1, [*retries, message])
                            continue
                        except Exception as again:  # noqa: BLE001
                            message = _short_error(again)
                    result = StepResult(REPORT_STEP, code, "failed", 0.0, error=message, attempts=1)
                for message in result.retries:
                    log.warning("%s %s: lỗi hạ tầng, đã chạy lại: %s", REPORT_STEP, code, message)
                result.attempts += used
                result.retries = [*retries, *result.retries]
                results[code] = result
                if result.status == "ok":
                    log.info("%s %s: ok trong %.2f s%s", REPORT_STEP, code, result.seconds,
                             f" sau {result.attempts} lần chạy" if result.attempts > 1 else "")
                else:
                    log.error("%s %s: lỗi: %s", REPORT_STEP, code, result.error)
                bar.update(1)
    finally:
        bar.close()
        if own:
            for closer in closers:
                closer()
    return results


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
    from dxreport.params import month_source

    return month_source(run.month, run.inbox)[0]


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
        "parameters": {"month": run.month, "inbox": str(run.inbox), "outputs": str(run.outputs),
                       "sources": str(run.sources), "offline": run.offline},
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

