"""The sample on disk: a month's folder, every month, the faults list, and the stamp of the generator."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from dxreport.params import DATA_DIR, PARAMS_DIR, load_settings, sample_months
from dxreport.sample.plan import _plan
from dxreport.sample.schedule import file_names
from dxreport.sample.workbook import _write
from dxreport.units import Registry, load_registry


def _resolve(registry: Registry | None, seed: int | None) -> tuple[Registry, int, int]:
    settings = load_settings()
    registry = registry or load_registry()
    seed = settings["sample"]["seed"] if seed is None else seed
    return registry, int(seed), int(settings["submission"]["deadline_day"])


def generate_month(
    month: str, out_dir: Path, *, registry: Registry | None = None, seed: int | None = None
) -> list[Path]:
    """Write the month's sample workbooks (one per reporting unit, plus a resubmission) into `out_dir`."""
    registry, seed, deadline_day = _resolve(registry, seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files, _ = _plan(month, registry, seed, deadline_day)
    paths = []
    for plan in files:
        path = out_dir / plan.name
        _write(plan, path)
        paths.append(path)
    return paths


def faults(month: str, *, registry: Registry | None = None, seed: int | None = None) -> list[dict[str, Any]]:
    """The faults planted in the month's sample: dicts with unit, file, kind, sheet, cell, value, description.

    kind is one of late, bad_cell kinds (text_in_count, mau_gt_accounts, members_lt_teams),
    superseded, resubmission, nfd_text, header_variant, wrong_period. sheet and cell are None
    for faults of a whole file; cell is an address such as `D7` in that sheet.
    """
    registry, seed, deadline_day = _resolve(registry, seed)
    return _plan(month, registry, seed, deadline_day)[1]


def generate(out_root: Path, months: list[str] | None = None, *, seed: int | None = None) -> dict[str, list[Path]]:
    """Generate several months (default: the sample months of settings.yaml) into out_root/<month>/."""
    months = list(months) if months is not None else sample_months()
    registry = load_registry()
    return {m: generate_month(m, Path(out_root) / m, registry=registry, seed=seed) for m in months}


STAMP = ".generator"


def generator_version() -> str:
    """A hash of what the sample depends on: this package, the seed, the registry (units, crosswalk,
    words), the catalog and aliases."""
    from dxreport.catalog import BUNDLED_SNAPSHOT

    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    digest.update(str(load_settings()["sample"]).encode())
    for path in (
        PARAMS_DIR / "units.csv",
        PARAMS_DIR / "crosswalk.csv",
        PARAMS_DIR / "levels.yaml",
        PARAMS_DIR / "platform_aliases.yaml",
        BUNDLED_SNAPSHOT,
    ):
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _complete(folder: Path, names: list[str], version: str | None = None) -> bool:
    if not folder.is_dir() or not all((folder / n).is_file() and (folder / n).stat().st_size > 0 for n in names):
        return False
    if version is None:
        return True
    stamp = folder / STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == version


def ensure_sample(month: str, root: Path = DATA_DIR / "sample") -> Path:
    """The month's sample folder, generated first if it is missing, incomplete, or made by another
    version of the generator (a stamp file records which).

    The month is written into a temporary folder beside it and renamed into place, so an
    interrupted run never leaves half a month.
    """
    root = Path(root)
    target = root / month
    registry = load_registry()
    names = file_names(month, registry=registry)
    version = generator_version()
    if _complete(target, names, version):
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{month}-", dir=root))
    old: Path | None = None
    try:
        generate_month(month, tmp, registry=registry)
        (tmp / STAMP).write_text(version + "\n", encoding="utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{month}-old-", dir=root))
            target.rename(old / month)
        try:
            tmp.rename(target)
        except OSError:
            if not _complete(target, names, version):  # another process did not put a complete month there
                raise
    finally:
        for leftover in (tmp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    return target
