"""The submission tracker: who has reported a month, late, resubmitted or not at all."""

from __future__ import annotations

import pandas as pd

from dxreport import forms, received
from dxreport.intake.records import SUBMISSION_COLUMNS
from dxreport.labels import RESUBMITTED_LATE, SUBMISSION_STATUSES
from dxreport.units import Registry, Unit

# The labels of the statuses, and of a unit whose accepted file replaced an earlier one and came
# after the deadline (status "late").
STATUS_LABELS = SUBMISSION_STATUSES
RESUBMITTED_LATE_LABEL = RESUBMITTED_LATE

TRACKER_COLUMNS = [
    "unit",
    "unit_name",
    "type",
    "status",
    "status_label",
    "file_name",
    "received_at",
    "received_source",
    "received_source_label",
    "late",
    "resubmitted",
    "sections_not_reported",
    "submission_id",
    "type_label",
]

#: The label of an agency in the tracker (area units take their level from the registry).
AGENCY_LABEL = "Sở, ban, ngành"


def type_label(unit: Unit, registry: Registry) -> str:
    """The kind of reporting unit as a reader sees it: `Đơn vị cấp huyện` (2022), `Đơn vị cấp
    xã` (from 2025-07), `Sở, ban, ngành`."""
    if unit.type == "agency":
        return AGENCY_LABEL
    return f"Đơn vị {registry.level_word(unit.type, 'level')}".strip()


def tracker(
    month: str, registry: Registry, submissions: pd.DataFrame, facts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Who has reported `month`: one row per reporting unit, with status and sections not reported.

    `status` is one key of STATUS_LABELS; a late file is "late" even when it replaced an earlier
    one, and the flags `late` and `resubmitted` say both, as does `status_label` ("Nộp lại, nộp
    muộn"). The file shown is the accepted one, else the last rejected one, with its received time
    and the source of that time (`received_source`, and its Vietnamese label).

    `unit_name` is the unit's name in `month`; `type_label` says what kind of unit it is in
    the words of the registry for that month (type_label()).

    Sections not reported are the sheets the unit must fill that gave no loaded figure. They are
    worked out from `facts` (the month's facts) when given, else from the `sections_loaded`
    column of an IngestResult's submissions; without either they are left empty for received units.
    """
    rows = []
    subs = submissions if submissions is not None else pd.DataFrame(columns=SUBMISSION_COLUMNS)
    loaded: dict[str, set[str]] | None = None
    if facts is not None:
        loaded = {}
        for unit, sheet in facts[["unit", "sheet"]].drop_duplicates().itertuples(index=False):
            loaded.setdefault(unit, set()).add(sheet)
    elif "sections_loaded" in subs.columns:
        loaded = {}
        for unit, sections in subs.loc[subs["status"] == "accepted", ["unit", "sections_loaded"]].itertuples(
            index=False
        ):
            loaded.setdefault(unit, set()).update(s for s in str(sections or "").split(";") if s)
    for unit in registry.reporting_units(month):
        mine = subs[subs["unit"] == unit.code] if len(subs) else subs
        sections = [s for s in forms.sheets_for(unit.sections) if s.key != "thong_tin"]
        accepted = mine[mine["status"] == "accepted"] if len(mine) else mine
        late = resubmitted = False
        if len(accepted):
            sub = accepted.iloc[0]
            late, resubmitted = bool(sub["late"]), bool((mine["status"] == "superseded").any())
            status = "late" if late else "resubmitted" if resubmitted else "received"
            if loaded is None:
                not_reported = None
            else:
                have = loaded.get(unit.code, set())
                not_reported = "; ".join(s.name for s in sections if s.key not in have)
            shown = sub
        else:
            rejected = mine[mine["status"] == "rejected"] if len(mine) else mine
            shown = rejected.sort_values(["received_at", "file_name"]).iloc[-1] if len(rejected) else None
            status = "missing" if shown is None else "rejected"
            not_reported = "; ".join(s.name for s in sections)
        source = None if shown is None else shown.get("received_source")
        source = source if isinstance(source, str) and source else None
        channel = None if shown is None else shown.get("received_channel")
        rows.append(
            {
                "unit": unit.code,
                "unit_name": unit.name,
                "type": unit.type,
                "status": status,
                "status_label": RESUBMITTED_LATE_LABEL if late and resubmitted else STATUS_LABELS[status],
                "file_name": None if shown is None else shown["file_name"],
                "received_at": None if shown is None else shown["received_at"],
                "received_source": source,
                "received_source_label": received.source_label(source, channel) or None,
                "late": late,
                "resubmitted": resubmitted,
                "sections_not_reported": not_reported,
                "submission_id": None if shown is None else shown["submission_id"],
                "type_label": type_label(unit, registry),
            }
        )
    return pd.DataFrame(rows, columns=TRACKER_COLUMNS)
