"""The month's manifest (outputs/<month>/manifest.json) and the fingerprints it records."""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from datetime import datetime
from pathlib import Path

from dxreport import __version__
from dxreport.fileio import write_atomic
from dxreport.hashcache import HashCache
from dxreport.params import NOTEBOOKS_DIR, PARAMS_DIR, PROJECT_ROOT, PROVINCE, RunParams
from dxreport.runner.common import PACKAGES, REPORT_STEP, TZ, StepResult


def code_version(cache: HashCache | None = None) -> str:
    """The package version and a hash of its source files and notebooks (their sha256 from `cache`)."""
    cache = cache or HashCache()
    digest = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "lib" / "dxreport").rglob("*")) + sorted(NOTEBOOKS_DIR.glob("*.ipynb")):
        if "__pycache__" not in path.parts and path.is_file():
            digest.update(path.name.encode())
            digest.update(cache.sha256(path).encode())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def input_hashes(run: RunParams, month_dir: Path, cache: HashCache | None = None) -> dict[str, str]:
    """sha256 of every input of the month: the submissions, the params files, the catalog snapshot.

    `cache` (dxreport.hashcache) reads again only the files whose size or times changed.
    """
    cache = cache or HashCache()
    hashes = {}
    for path in sorted(p for p in month_dir.iterdir() if p.is_file()) if month_dir.is_dir() else []:
        hashes[f"inbox/{path.name}"] = cache.sha256(path)
    for path in sorted(PARAMS_DIR.iterdir()):
        if path.is_file():
            hashes[f"params/{path.name}"] = cache.sha256(path)
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


def _file_hash(path: Path, cache: HashCache | None = None) -> str | None:
    try:
        return (cache or HashCache()).sha256(path)
    except OSError:
        return None


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


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
                    REPORT_STEP,
                    record["unit"],
                    record["status"],
                    record.get("seconds", 0.0),
                    record.get("notebook"),
                    files=record.get("files", {}),
                    fingerprint=record.get("fingerprint", ""),
                    inputs=record.get("inputs", {}),
                )
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


def _manifest(run: RunParams, context: dict, steps: list[StepResult], registry, *, sample: bool) -> dict:
    units = {}
    for s in steps:
        if s.name != REPORT_STEP:
            continue
        entry = {
            "name": registry.province(run.month).name if s.unit == PROVINCE else registry.get(s.unit, run.month).name,
            "status": s.status,
        }
        entry.update({k: f"{s.unit}/{v}" for k, v in s.files.items()})
        if s.error:
            entry["error"] = s.error
        units[s.unit] = entry
    month_dir = run.outputs / run.month
    return {
        "month": run.month,
        "created": datetime.now(TZ).isoformat(timespec="seconds"),
        "started": context["started"].isoformat(timespec="seconds"),
        "sample": sample,
        "parameters": {
            "month": run.month,
            "inbox": str(run.inbox) if run.inbox else "",
            "outputs": str(run.outputs),
            "sources": str(run.sources),
            "offline": run.offline,
            "report_date": run.report_date.isoformat() if run.report_date else "",
        },
        "code_version": context["version"],
        "python": platform.python_version(),
        "packages": context["packages"],
        "executor": context.get("executor"),
        "log": str(context["log"].relative_to(month_dir)),
        "inputs": context["hashes"],
        "warehouse": context.get("warehouse"),
        "steps": [
            {
                "name": s.name,
                "unit": s.unit,
                "status": s.status,
                "seconds": s.seconds,
                "notebook": s.notebook,
                "error": s.error,
                "files": s.files,
                "fingerprint": s.fingerprint,
                "attempts": s.attempts,
                "retries": s.retries,
                "inputs": s.inputs,
            }
            for s in steps
        ],
        "units": units,
        "validation": "validation.csv",
        "failed": sorted(s.unit or s.name for s in steps if s.status == "failed"),
    }


def _write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=2))


def _previous_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
