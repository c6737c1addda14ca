"""Run parameters and the params/ files: loading and strict validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PARAMS_DIR = PROJECT_ROOT / "params"
DATA_DIR = PROJECT_ROOT / "data"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"
#: Where notebooks run by hand (JupyterLab, the papermill CLI) write, unless given `outputs`.
SCRATCH_DIR = OUTPUTS_DIR / "_scratch"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"

PROVINCE = "tinh"
# The only parameters a notebook accepts; anything else is refused. Every notebook declares the
# first four; 01_scrape also declares the catalog options.
RUN_PARAMETERS = ("month", "unit", "inbox", "outputs", "sources", "offline")
COMMON_PARAMETERS = RUN_PARAMETERS[:4]
#: What a notebook may declare: the run parameters, and the staging folder the runner gives 04_report
#: (checked by report.load to lie inside outputs/<month>/.staging/).
NOTEBOOK_PARAMETERS = RUN_PARAMETERS + ("stage",)
SOURCES_FILE = PARAMS_DIR / "sources.yaml"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class ParamError(ValueError):
    """A run parameter or a params/ file that is not valid."""


@dataclass(frozen=True)
class RunParams:
    """Validated parameters of one notebook run."""

    month: str
    unit: str
    inbox: Path
    outputs: Path
    sources: Path = SOURCES_FILE
    offline: bool = False

    def as_notebook_parameters(self) -> dict[str, object]:
        """The values papermill injects (plain strings and a bool, readable in the notebook)."""
        return {"month": self.month, "unit": self.unit, "inbox": str(self.inbox), "outputs": str(self.outputs),
                "sources": str(self.sources), "offline": self.offline}


def load_settings(params_dir: Path = PARAMS_DIR) -> dict:
    """params/settings.yaml as a dict."""
    path = Path(params_dir) / "settings.yaml"
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or not {"report", "submission", "sample"} <= data.keys():
        raise ParamError(f"{path}: cần các mục report, submission, sample")
    return data


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` inclusive, as YYYY-MM."""
    y, m = map(int, check_month_format(first).split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= check_month_format(last):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def previous_month(month: str) -> str:
    """The month before `month`."""
    y, m = map(int, check_month_format(month).split("-"))
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def check_month_format(month: object) -> str:
    """`month` if it is a YYYY-MM string, else ParamError."""
    if not isinstance(month, str) or not _MONTH.match(month):
        raise ParamError(f"tháng {month!r} không đúng dạng YYYY-MM (ví dụ 2022-09)")
    return month


def sample_months(params_dir: Path = PARAMS_DIR) -> list[str]:
    """The months the embedded sample data covers."""
    sample = load_settings(params_dir)["sample"]
    return month_range(sample["first_month"], sample["last_month"])


def inbox_months(inbox: Path) -> list[str]:
    """Months that have a folder of submissions in `inbox`."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        return []
    return sorted(p.name for p in inbox.iterdir() if p.is_dir() and _MONTH.match(p.name))


def available_months(inbox: Path | None = None, params_dir: Path = PARAMS_DIR) -> list[str]:
    """Months a run may ask for: those in the inbox and those of the sample."""
    inbox = Path(inbox) if inbox else DATA_DIR / "inbox"
    return sorted(set(inbox_months(inbox)) | set(sample_months(params_dir)))


def validate_run(params: dict, *, params_dir: Path = PARAMS_DIR) -> RunParams:
    """Check notebook parameters before any notebook starts; refuse anything unknown.

    `month` must be YYYY-MM and one of the available months; `unit` must be a unit of the
    registry that reports in that month, or `tinh`. The messages list the valid values.
    """
    from dxreport import units as units_mod

    unknown = sorted(set(params) - set(RUN_PARAMETERS))
    if unknown:
        raise ParamError(f"tham số không được hỗ trợ: {', '.join(unknown)}; chỉ nhận: {', '.join(RUN_PARAMETERS)}")
    inbox = Path(params.get("inbox") or DATA_DIR / "inbox").resolve()
    outputs = Path(params.get("outputs") or OUTPUTS_DIR).resolve()
    month = params.get("month")
    valid_months = available_months(inbox, params_dir)
    check_month_format(month)
    if month not in valid_months:
        raise ParamError(f"không có dữ liệu cho tháng {month}; các tháng hợp lệ: {', '.join(valid_months)}")
    registry = units_mod.load_registry(params_dir)
    unit = params.get("unit", PROVINCE)
    unit = "" if unit is None else str(unit)
    valid_units = [PROVINCE] + [u.code for u in registry.reporting_units(month)]
    if unit not in valid_units:
        raise ParamError(f"đơn vị {unit!r} không có trong danh mục đơn vị tháng {month}; các mã hợp lệ: {', '.join(valid_units)}")
    sources = Path(params.get("sources") or SOURCES_FILE).resolve()
    offline = params.get("offline", False)
    if isinstance(offline, str) and offline.strip().lower() in ("", "false", "0", "true", "1"):
        offline = offline.strip().lower() in ("true", "1")
    if not isinstance(offline, bool):
        raise ParamError(f"offline phải là True hoặc False, không phải {offline!r}")
    return RunParams(month=month, unit=unit, inbox=inbox, outputs=outputs, sources=sources, offline=offline)


def month_source(month: str, inbox: Path | None = None) -> tuple[Path, bool]:
    """The folder of the month's submissions and whether it is the embedded sample.

    The inbox's <month>/ folder when it exists; otherwise the sample month, generated on first
    use into data/sample/<month>/.
    """
    inbox = Path(inbox) if inbox else DATA_DIR / "inbox"
    folder = inbox / check_month_format(month)
    if folder.is_dir():
        return folder, False
    if month not in sample_months():
        raise ParamError(f"không có thư mục {folder} và tháng {month} không thuộc dữ liệu mẫu")
    from dxreport import sample

    return sample.ensure_sample(month), True
