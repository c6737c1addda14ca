"""The monthly run: papermill executions in one long-lived process, units rendered in parallel.

Month-level notebooks (01_scrape, 02_clean, 03_analyse) run once, one after another, in this
process; the report notebook (04_report) runs once per unit in a process pool, each task
executing the notebook, then rendering HTML and PDF. A notebook that fails is never published:
it is executed into a temporary file, moved into place only on success, and otherwise kept in
outputs/<month>/failed/ for the analyst.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dxreport import __version__
from dxreport.params import (NOTEBOOKS_DIR, PARAMS_DIR, PROJECT_ROOT, PROVINCE, RunParams, validate_run)

MONTH_STEPS = ("01_scrape", "02_clean", "03_analyse")
REPORT_STEP = "04_report"
KERNEL = "python3"
START_TIMEOUT = 120
CELL_TIMEOUT = 900
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


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


def execute(step: str, run: RunParams, output: Path) -> None:
    """Execute notebooks/<step>.ipynb with papermill into `output`; raises on any failure.

    Only the parameters the notebook declares are injected.
    """
    import papermill

    source = NOTEBOOKS_DIR / f"{step}.ipynb"
    declared = declared_parameters(source)
    parameters = {k: v for k, v in run.as_notebook_parameters().items() if k in declared}
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(source), str(output),
        parameters=parameters, kernel_name=KERNEL, cwd=str(NOTEBOOKS_DIR),
        request_save_on_cell_execute=False, progress_bar=False, log_output=False,
        start_timeout=START_TIMEOUT, execution_timeout=CELL_TIMEOUT, shutdown_kernel="immediate",
        kernel_manager_class=_ipc_kernel_manager(),
    )


def _guarded(step: str, run: RunParams, final: Path, failed_dir: Path) -> tuple[str, str | None]:
    """Run a step into a temporary file; publish on success, keep in failed/ otherwise."""
    tmp = final.with_name(f".{final.stem}.running.ipynb")
    try:
        execute(step, run, tmp)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none published
        failed_dir.mkdir(parents=True, exist_ok=True)
        target = failed_dir / f"{run.unit}-{step}.ipynb"
        if tmp.exists():
            shutil.move(tmp, target)
        message = _short_error(exc)
        return "failed", message
    os.replace(tmp, final)
    return "ok", None


def _short_error(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "PapermillExecutionError":
        return f"{getattr(exc, 'ename', name)}: {getattr(exc, 'evalue', '')} (ô {getattr(exc, 'exec_count', '?')})"
    return f"{name}: {exc}"


def render_unit(month: str, unit: str, inbox: str, outputs: str) -> StepResult:
    """One unit's report: execute 04_report, then HTML and PDF. Runs in a worker process."""
    from dxreport import render

    start = time.perf_counter()
    run = validate_run({"month": month, "unit": unit, "inbox": inbox, "outputs": outputs})
    unit_dir = run.outputs / month / unit
    unit_dir.mkdir(parents=True, exist_ok=True)
    notebook = unit_dir / f"{REPORT_STEP}.ipynb"
    status, error = _guarded(REPORT_STEP, run, notebook, run.outputs / month / "failed")
    files = {}
    if status == "ok":
        try:
            html = render.render_html(notebook, unit_dir / "report.html")
            pdf = render.render_pdf(html, unit_dir / "report.pdf")
            files = {"html": html.name, "pdf": pdf.name, "kpis": "kpis.csv", "notebook": notebook.name}
        except Exception as exc:  # noqa: BLE001
            status, error = "failed", _short_error(exc)
    return StepResult(REPORT_STEP, unit, status, round(time.perf_counter() - start, 3),
                      str(notebook.relative_to(run.outputs / month)) if status == "ok" else None, error, files)


def _previous_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_month(month: str, unit: str = "all", *, inbox: str | Path | None = None, outputs: str | Path | None = None,
              sources: str | Path | None = None, offline: bool = False,
              workers: int | None = None, force: bool = False, executor: cf.Executor | None = None,
              progress: bool = True) -> dict:
    """Run the month: the month-level steps, then the reports of `unit` ('all', 'tinh' or a code).

    Returns the manifest (also written to outputs/<month>/manifest.json). Raises ParamError
    before anything runs if a parameter is not valid, RunError if a month-level step fails.
    """
    from dxreport import site
    from dxreport.units import load_registry

    base = validate_run({"month": month, "unit": PROVINCE if unit == "all" else unit,
                         "inbox": str(inbox) if inbox else None, "outputs": str(outputs) if outputs else None,
                         "sources": str(sources) if sources else None, "offline": offline})
    registry = load_registry()
    units = ([PROVINCE] + [u.code for u in registry.reporting_units(month)]) if unit == "all" else [base.unit]
    month_dir = base.outputs / month
    month_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = month_dir / "manifest.json"
    previous = _previous_manifest(manifest_path)
    version = code_version()
    inbox_month = _inbox_month_dir(base)
    hashes = input_hashes(base, inbox_month)
    month_print = _fingerprint(version, hashes, month, str(base.inbox), str(base.sources), base.offline)
    started = datetime.now(TZ)
    steps: list[StepResult] = []

    prev_steps = {(s["name"], s.get("unit")): s for s in previous.get("steps", [])}
    month_fresh = not force and all(prev_steps.get((s, None), {}).get("fingerprint") == month_print
                      and prev_steps[(s, None)].get("status") in ("ok", "skipped")
                      and (month_dir / "notebooks" / f"{s}.ipynb").exists() for s in MONTH_STEPS)
    for step in MONTH_STEPS:
        t0 = time.perf_counter()
        final = month_dir / "notebooks" / f"{step}.ipynb"
        if month_fresh:
            steps.append(StepResult(step, None, "skipped", 0.0, str(final.relative_to(month_dir)), fingerprint=month_print))
            continue
        final.parent.mkdir(parents=True, exist_ok=True)
        status, error = _guarded(step, base, final, month_dir / "failed")
        steps.append(StepResult(step, None, status, round(time.perf_counter() - t0, 3),
                                str(final.relative_to(month_dir)) if status == "ok" else None, error,
                                fingerprint=month_print))
        if status != "ok":
            manifest = _manifest(base, version, hashes, started, steps, registry, sample=False)
            _write_json(manifest_path, manifest)
            raise RunError(f"bước {step} tháng {month} bị lỗi: {error} (sổ tay lỗi trong {month_dir / 'failed'})")

    todo, results = [], {}
    for code in units:
        record = prev_steps.get((REPORT_STEP, code), {})
        done = (not force and record.get("fingerprint") == month_print and record.get("status") in ("ok", "skipped")
                and all((month_dir / code / f).exists() for f in ("report.html", "report.pdf", "kpis.csv")))
        if done:
            results[code] = StepResult(REPORT_STEP, code, "skipped", 0.0, record.get("notebook"),
                                       files=record.get("files", {}), fingerprint=month_print)
        else:
            todo.append(code)
    own = executor is None
    if own and todo:
        workers = workers or min(len(todo), os.cpu_count() or 1)
        executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {executor.submit(render_unit, month, code, str(base.inbox), str(base.outputs)): code for code in todo}
        bar = _progress(len(futures), progress, f"Báo cáo {month}")
        for future in cf.as_completed(futures):
            code = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker is that unit's failure
                result = StepResult(REPORT_STEP, code, "failed", 0.0, error=_short_error(exc))
            result.fingerprint = month_print
            results[code] = result
            bar.update(1)
        bar.close()
    finally:
        if own and executor is not None:
            executor.shutdown()
    steps.extend(results[code] for code in units)
    # reports of other units made by earlier runs of this month stay listed
    for (name, code), record in prev_steps.items():
        if name == REPORT_STEP and code not in units and record.get("status") == "ok":
            steps.append(StepResult(REPORT_STEP, code, "ok", record.get("seconds", 0.0), record.get("notebook"),
                                    files=record.get("files", {}), fingerprint=record.get("fingerprint", "")))
    sample = _is_sample(base)
    manifest = _manifest(base, version, hashes, started, steps, registry, sample=sample)
    _write_json(manifest_path, manifest)
    site.write_index(base.outputs)
    return manifest


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


def _manifest(run: RunParams, version: str, hashes: dict, started: datetime, steps: list[StepResult],
              registry, *, sample: bool) -> dict:
    import importlib.metadata as md

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
    packages = {}
    for name in ("papermill", "nbconvert", "nbclient", "pandas", "matplotlib", "openpyxl", "duckdb", "httpx"):
        try:
            packages[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return {
        "month": run.month, "created": datetime.now(TZ).isoformat(timespec="seconds"),
        "started": started.isoformat(timespec="seconds"), "sample": sample,
        "parameters": {"month": run.month, "inbox": str(run.inbox), "outputs": str(run.outputs)},
        "code_version": version, "python": platform.python_version(), "packages": packages,
        "inputs": hashes,
        "steps": [{"name": s.name, "unit": s.unit, "status": s.status, "seconds": s.seconds,
                   "notebook": s.notebook, "error": s.error, "files": s.files, "fingerprint": s.fingerprint}
                  for s in steps],
        "units": units, "validation": "validation.csv",
        "failed": sorted(s.unit or s.name for s in steps if s.status == "failed"),
    }


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)

