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

The package: `common` (step names, RunError, StepResult), `failures` (what kind of failure, the
user's sentence), `execution` (one notebook run and its retries), `manifest` (the ledger and the
fingerprints), `executors` (process pool or Dask), `reports` (a unit's report in a worker, all of
them on the executor) and `month` (run_month and its steps).
"""

from __future__ import annotations

import dxreport.imports  # noqa: F401 - first: marks the costly imports absent in this process
from dxreport.runner.common import INFRA_RETRIES, MONTH_STEPS, PACKAGES, REPORT_STEP, TZ, RunError, StepResult
from dxreport.runner.execution import (
    RUN_DEFAULTS,
    _guarded,
    _record_failure,
    declared_parameters,
    execute,
    run_settings,
)
from dxreport.runner.executors import open_executor
from dxreport.runner.failures import is_disk_full, is_infrastructure_failure, user_error
from dxreport.runner.manifest import _fingerprint, code_version, input_hashes, package_versions
from dxreport.runner.month import _kill_point, run_month
from dxreport.runner.reports import render_unit

__all__ = [
    "INFRA_RETRIES",
    "MONTH_STEPS",
    "PACKAGES",
    "REPORT_STEP",
    "RUN_DEFAULTS",
    "TZ",
    "RunError",
    "StepResult",
    "_fingerprint",
    "_guarded",
    "_kill_point",
    "_record_failure",
    "code_version",
    "declared_parameters",
    "execute",
    "input_hashes",
    "is_disk_full",
    "is_infrastructure_failure",
    "open_executor",
    "package_versions",
    "render_unit",
    "run_month",
    "run_settings",
    "user_error",
]
