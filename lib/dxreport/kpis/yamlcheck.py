"""Strict reading of params/lagging.yaml and params/targets.yaml: the error and the checks both share."""

from __future__ import annotations

from pathlib import Path

from dxreport.paramcheck import check_mapping, read_yaml


class RulesError(ValueError):
    """params/lagging.yaml or params/targets.yaml is not valid."""


def _read_yaml(path: Path, top: str, others: tuple[str, ...] = ()):
    """The parsed file (paramcheck.YamlDoc) and its list `top`, refused with the line when malformed."""
    doc = read_yaml(path, RulesError)
    data = check_mapping(doc, (), (top, *others))
    if top not in data:
        doc.fail((), f"thiếu khóa {top} (danh sách)")
    items = data[top]
    if items is None:
        items = []
    if not isinstance(items, list):
        doc.fail((top,), f"{top} phải là một danh sách, không phải {items!r}")
    return doc, items


def _item_keys(doc, keys: tuple, item: object, allowed: tuple[str, ...], what: str) -> dict:
    if not isinstance(item, dict):
        doc.fail(keys, f"{what} phải là một bảng khóa: giá trị")
    for key in item:
        if str(key) not in allowed:
            doc.fail((*keys, key), f"{what}: khóa {key} không được hỗ trợ; chỉ nhận: {', '.join(allowed)}")
    return item


def _text_or_empty(doc, keys: tuple, item: dict, key: str, what: str) -> str:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        doc.fail((*keys, key), f"{what}: {key} phải là chữ, không phải {value!r}")
    return value or ""
