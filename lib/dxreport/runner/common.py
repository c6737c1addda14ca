"""What every part of the run shares: the step names, the run's errors and a step's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MONTH_STEPS = ("01_scrape", "02_clean", "03_analyse")
REPORT_STEP = "04_report"
INFRA_RETRIES = 2  # the default of run.infra_retries
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# Packages whose version can change a report; recorded in the manifest and in every fingerprint.
PACKAGES = ("papermill", "nbconvert", "nbclient", "ipykernel", "pandas", "matplotlib", "openpyxl", "duckdb", "httpx")


class RunError(RuntimeError):
    """A month-level step failed: the month cannot be reported."""


@dataclass
class StepResult:
    """What happened to one notebook run."""

    name: str
    unit: str | None
    status: str  # ok | failed | skipped
    seconds: float
    notebook: str | None = None
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    attempts: int = 1
    retries: list[str] = field(default_factory=list)  # the infrastructure failures that were retried
    inputs: dict[str, str] = field(default_factory=dict)
    fatal: bool = False  # the run cannot go on (a full disk, an outputs folder that cannot be written)
