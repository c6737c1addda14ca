"""The rows of the month's files rejected by the validation: which unit, sheet and row, why, and
the commune a rejected row of the teams sheet was about when it can be told."""

from __future__ import annotations

import re

import pandas as pd

from dxreport import narrative
from dxreport.report.context import Context


# Validation rules that reject a row of a sheet; what the row is about is in its message.
_ROW_RULES = ("cell.", "row.")
_PLACE = r"^[^:]*![A-Z]+\d+:\s*"  # "Tổ công nghệ số!D13: " opening a row's message
_TAIL = r";\s*dòng \d+ không được nạp\.?$"  # "; dòng 13 không được nạp." closing it


def rejected_rows(ctx: Context) -> pd.DataFrame:
    """The month's rejected rows (of this unit, or of every unit for the province): unit, sheet,
    row number, reason in plain words, and the commune the row was about when it can be told."""
    issues = ctx.issues
    if not ctx.is_province:
        issues = issues[issues["unit"] == ctx.unit]
    errors = issues[(issues["severity"] == "error") & issues["rule"].astype(str).str.startswith(_ROW_RULES)]
    errors = errors.drop_duplicates(["unit", "sheet", "cell", "rule"])
    out = []
    for _, r in errors.iterrows():
        message = str(r["message"])
        line = re.search(r"(\d+)$", str(r["cell"] or ""))
        reason = re.sub(_TAIL, "", re.sub(_PLACE, "", message)).strip()
        out.append(
            {
                "unit": r["unit"],
                "unit_name": ctx.names.get(r["unit"], r["unit"]),
                "sheet": r["sheet"],
                "row": line.group(1) if line else "",
                "reason": reason[:1].upper() + reason[1:],
            }
        )
    frame = pd.DataFrame(out, columns=["unit", "unit_name", "sheet", "row", "reason"])
    frame = frame.drop_duplicates(["unit", "sheet", "row"])
    frame["communes"] = [
        _rejected_communes(ctx, u) if s == TEAMS_SHEET else "" for u, s in zip(frame["unit"], frame["sheet"])
    ]
    return frame.reset_index(drop=True)


TEAMS_SHEET = "Tổ công nghệ số"


def communes_without_valid_row(ctx: Context, unit: str) -> list[str]:
    """The communes of a district with no valid row in the month's `Tổ công nghệ số` sheet."""
    facts = ctx.facts[(ctx.facts["sheet"] == "to_cns") & (ctx.facts["unit"] == unit)]
    reported = set(facts["subject"])
    return [c.name for c in ctx.registry.communes(unit, ctx.month) if c.code not in reported]


def _rejected_communes(ctx: Context, unit: str) -> str:
    """The commune(s) behind a district's rejected rows of the teams sheet, when they can be told:
    the communes with no valid row, if there are no more of them than rejected rows."""
    issues = ctx.issues
    rows = issues[
        (issues["unit"] == unit)
        & (issues["sheet"] == TEAMS_SHEET)
        & (issues["severity"] == "error")
        & issues["rule"].astype(str).str.startswith(_ROW_RULES)
    ].drop_duplicates(["cell", "rule"])
    missing = communes_without_valid_row(ctx, unit)
    lines = rows["cell"].astype(str).str.extract(r"(\d+)$")[0].nunique()
    if not missing or len(missing) > lines:
        return ""
    return narrative.join([narrative.in_sentence(name) for name in missing])


def _rejected_place(r: pd.Series) -> str:
    unit = narrative.in_sentence(str(r["unit_name"]))
    where = f"{unit}, biểu {r['sheet']}" + (f", dòng {r['row']}" if r["row"] else "")
    if r["communes"]:
        where += f" ({r['communes']})"
    return f"{where}: {r['reason']}"
