"""The report's kpis.csv: the unit's indicators of the month, written beside the report."""

from __future__ import annotations

from pathlib import Path

from dxreport.fileio import write_atomic
from dxreport.report.context import BASIS_COLUMNS, Context


def save_kpis(ctx: Context) -> Path:
    """Write this unit's indicators of the month to kpis.csv in ctx.out_dir (atomically); the
    basis of the comparisons (previous_basis, previous_uncertain, last_year_basis,
    last_year_uncertain), when the values
    have it, in the last columns."""
    view = ctx.view.drop(columns=["kind"])
    view = view[[c for c in view if c not in BASIS_COLUMNS] + [c for c in BASIS_COLUMNS if c in view]]
    view.insert(0, "month", ctx.month)
    view.insert(1, "unit", ctx.unit)
    return write_atomic(ctx.out_dir / "kpis.csv", view.to_csv(index=False).encode("utf-8-sig"))
