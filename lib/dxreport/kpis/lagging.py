"""Lagging rules (params/lagging.yaml) and the units and platforms they name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dxreport.kpis.indicators import BY_NAME, OUTSIDE_CATALOG, Frame
from dxreport.kpis.roles import AGENCY, AREA, ROLES, role_of
from dxreport.kpis.yamlcheck import _item_keys, _read_yaml, _text_or_empty
from dxreport.params import PARAMS_DIR, PROVINCE


@dataclass(frozen=True)
class Rule:
    """A rule that names a unit (or a platform) as lagging."""

    id: str
    kind: str  # not_submitted | late | below | above | below_share | platform_not_deployed
    indicator: str = ""
    threshold: float | None = None
    applies_to: tuple[str, ...] = (AREA, AGENCY)  # roles: area units, agencies
    proposal: str = ""  # what the report proposes for the units this rule names


_RULE_KINDS = ("not_submitted", "late", "below", "above", "below_share", "platform_not_deployed")
_RULE_KEYS = ("id", "kind", "indicator", "threshold", "applies_to", "proposal")
_INDICATOR_KINDS = ("below", "above", "below_share")  # the kinds that compare an indicator
_THRESHOLD_KINDS = (*_INDICATOR_KINDS, "platform_not_deployed")
_APPLIES = ROLES
# `district`, the word of the files written before the 2025 reform, still means the area units.
_OLD_ROLES = {"district": AREA}


def load_rules(path: Path | str | None = None) -> list[Rule]:
    """params/lagging.yaml: the rules that name lagging units and platforms, checked strictly.

    RulesError names the file, the line and the key ("params/lagging.yaml, dòng 24: quy tắc thứ
    3 (hues_penetration): threshold …").
    """
    path = Path(path) if path else PARAMS_DIR / "lagging.yaml"
    doc, items = _read_yaml(path, "rules")
    rules, seen = [], {}
    for i, item in enumerate(items):
        keys = ("rules", i)
        what = f"quy tắc thứ {i + 1}"
        item = _item_keys(doc, keys, item, _RULE_KEYS, what)
        if item.get("id") is not None:
            what += f" ({item['id']})"
        kind = item.get("kind")
        if kind not in _RULE_KINDS:
            doc.fail(
                (*keys, "kind") if "kind" in item else keys,
                f"{what}: kind phải là một trong {', '.join(_RULE_KINDS)}, không phải {kind!r}",
            )
        name = item.get("indicator")
        if kind in _INDICATOR_KINDS:
            if name not in BY_NAME:
                doc.fail(
                    (*keys, "indicator") if "indicator" in item else keys,
                    f"{what}: chỉ tiêu {name!r} không có trong danh mục chỉ tiêu (dxreport.kpis)",
                )
        elif name is not None:
            doc.fail((*keys, "indicator"), f"{what}: quy tắc kind {kind} không dùng indicator")
        threshold = item.get("threshold")
        if kind in _THRESHOLD_KINDS:
            if not isinstance(threshold, (int, float)) or isinstance(threshold, bool):
                doc.fail(
                    (*keys, "threshold") if "threshold" in item else keys,
                    f"{what}: threshold phải là một số, không phải {threshold!r}",
                )
            if kind == "below_share" and not 0 < threshold <= 100:
                doc.fail(
                    (*keys, "threshold"),
                    f"{what}: threshold của below_share là phần trăm (0–100], không phải {threshold!r}",
                )
            if kind == "platform_not_deployed" and (threshold < 1 or not float(threshold).is_integer()):
                doc.fail(
                    (*keys, "threshold"),
                    f"{what}: threshold của platform_not_deployed là số đơn vị "
                    f"(số nguyên ≥ 1), không phải {threshold!r}",
                )
        elif threshold is not None:
            doc.fail((*keys, "threshold"), f"{what}: quy tắc kind {kind} không dùng threshold")
        applies = item.get("applies_to", list(_APPLIES))
        if (
            not isinstance(applies, list)
            or not applies
            or not all(isinstance(a, str) and _OLD_ROLES.get(a, a) in _APPLIES for a in applies)
        ):
            doc.fail(
                (*keys, "applies_to"),
                f"{what}: applies_to là danh sách lấy từ {', '.join(_APPLIES)}, không phải {applies!r}",
            )
        applies = list(dict.fromkeys(_OLD_ROLES.get(a, a) for a in applies))
        rule_id = item.get("id")
        if rule_id is not None and (not isinstance(rule_id, str) or not rule_id.strip()):
            doc.fail((*keys, "id"), f"{what}: id phải là chữ, không phải {rule_id!r}")
        rule_id = rule_id or f"{kind}_{name or ''}"
        if rule_id in seen:
            doc.fail(
                (*keys, "id") if "id" in item else keys,
                f"{what}: mã quy tắc (id) {rule_id} trùng với quy tắc thứ {seen[rule_id]}",
            )
        seen[rule_id] = i + 1
        proposal = _text_or_empty(doc, keys, item, "proposal", what)
        rules.append(
            Rule(
                id=rule_id,
                kind=kind,
                indicator=str(name or ""),
                threshold=None if threshold is None else float(threshold),
                applies_to=tuple(applies),
                proposal=proposal,
            )
        )
    return rules


def lagging_units(values: Frame, month: str, unit_types: dict[str, str], rules: list[Rule]) -> Frame:
    """Every (unit, rule) where a reporting unit lags this month: value, threshold, rule.

    `unit_types` maps the month's reporting units to their role, 'area' or 'agency' (a registry
    type `district` or `commune` is read as 'area'; so is `district` in a rule's applies_to). A
    unit without a value for the rule's indicator is not named by that rule (it is named by
    `not_submitted`).
    """
    columns = ["unit", "rule", "kind", "indicator", "value", "threshold", "reference"]
    month_values = values[values["month"] == month]
    wide = month_values.pivot_table(index="unit", columns="indicator", values="value", aggfunc="first")
    units = pd.Series({code: role_of(kind) for code, kind in unit_types.items()}, dtype=object)
    out = []
    for rule in rules:
        if rule.kind == "platform_not_deployed":
            continue
        codes = units[units.isin([role_of(a) for a in rule.applies_to])].index
        w = wide.reindex(codes)
        reference = np.nan
        if rule.kind == "not_submitted":
            value = w.get("submissions_received", pd.Series(np.nan, index=codes)).fillna(0)
            hit = value < 1
            threshold = 1.0
        elif rule.kind == "late":
            value = w.get("submissions_late", pd.Series(np.nan, index=codes))
            hit = value > 0
            threshold = 0.0
        else:
            value = w.get(rule.indicator, pd.Series(np.nan, index=codes))
            threshold = rule.threshold
            if rule.kind == "below_share":
                reference = (
                    wide.at[PROVINCE, rule.indicator] if (PROVINCE in wide.index and rule.indicator in wide) else np.nan
                )
                threshold = reference * rule.threshold / 100
            hit = value < threshold if rule.kind in ("below", "below_share") else value > threshold
        hit = hit.fillna(False).astype(bool)
        for code in codes[hit.to_numpy()]:
            out.append(
                {
                    "unit": code,
                    "rule": rule.id,
                    "kind": rule.kind,
                    "indicator": rule.indicator,
                    "value": float(value[code]),
                    "threshold": float(threshold),
                    "reference": float(reference),
                }
            )
    return pd.DataFrame(out, columns=columns)


def lagging_platforms(summary: Frame, rules: list[Rule]) -> Frame:
    """Catalog platforms that at least `threshold` units report as not deployed."""
    columns = ["subject", "subject_name", "catalog", "rule", "not_deployed", "in_use", "threshold"]
    out = []
    for rule in rules:
        if rule.kind != "platform_not_deployed" or summary.empty:
            continue
        part = summary[(summary["catalog"] != OUTSIDE_CATALOG) & (summary["not_deployed"] >= rule.threshold)]
        for _, r in part.sort_values("not_deployed", ascending=False).iterrows():
            out.append(
                {
                    "subject": r["subject"],
                    "subject_name": r["subject_name"],
                    "catalog": r["catalog"],
                    "rule": rule.id,
                    "not_deployed": int(r["not_deployed"]),
                    "in_use": int(r["in_use"]),
                    "threshold": rule.threshold,
                }
            )
    return pd.DataFrame(out, columns=columns)
