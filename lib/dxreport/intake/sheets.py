"""Parsing one data sheet: its header row, columns, cell values and row checks, into facts and issues."""

from __future__ import annotations

import datetime as dt

from openpyxl.utils import get_column_letter

from dxreport import forms
from dxreport.catalog import Matcher
from dxreport.intake.readers import _iter_rows
from dxreport.intake.records import ERROR, WARNING, Submission, _blank, _code_text, _fmt, _issue, _label, _show, _text
from dxreport.textnorm import NumberFormatError, fold, nfc, parse_count, parse_rate
from dxreport.units import Registry, Unit

# Fields that name what a row describes; every other field becomes a fact.
_SUBJECT_FIELDS = {"platform": ("platform_id", "platform_name"), "commune": ("commune_code", "commune_name")}


class _Index:
    """Look-ups into a units Registry by folded commune name (the registry scans), and by code."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self.by_name: dict[str, list[Unit]] = {}
        for unit in registry.units:
            if unit.type == "commune":
                for key in dict.fromkeys((fold(unit.name), fold(unit.short_name))):
                    self.by_name.setdefault(key, []).append(unit)

    def unit_in(self, code: str, month: str) -> Unit | None:
        """The unit a code names in `month`."""
        return next((u for u in self.registry.rows(code) if u.valid_in(month)), None)


_INDEXES: dict[int, tuple[Registry, _Index]] = {}


def _index(registry: Registry) -> _Index:
    hit = _INDEXES.get(id(registry))
    if hit is None or hit[0] is not registry:
        if len(_INDEXES) >= 8:
            _INDEXES.clear()
        hit = _INDEXES[id(registry)] = (registry, _Index(registry))
    return hit[1]


class _SheetReader:
    """Reads one table or one-row sheet of a submission into facts and issues."""

    def __init__(
        self, spec: forms.Sheet, sub: Submission, unit: Unit, registry: Registry, matcher: Matcher, max_rows: int
    ):
        self.spec, self.sub, self.unit = spec, sub, unit
        self.registry, self.matcher, self.max_rows = registry, matcher, max_rows
        self.facts: list[dict] = []
        self.issues: list[dict] = []
        self.loaded = self.rejected = 0
        self.seen: dict[str, int] = {}
        self.labels = {_label(f.header): f for f in spec.fields}
        self.required = {_label(f.header) for f in spec.fields if f.required}
        self._communes: tuple[set[str], str, str] | None = None

    def addr(self, cell: str) -> str:
        return f"{self.spec.name}!{cell}"

    def error(self, cell: str | None, rule: str, message: str) -> None:
        self.issues.append(_issue(self.sub.file_name, self.spec.name, cell, rule, ERROR, message))

    def warn(self, cell: str | None, rule: str, message: str) -> None:
        self.issues.append(_issue(self.sub.file_name, self.spec.name, cell, rule, WARNING, message))

    def read(self, ws) -> None:
        columns: dict[str, int] | None = None
        best: tuple[int, int, set[str]] = (0, 0, set(self.required))
        data_rows = reported = 0
        data_columns: list[int] = []
        unfilled: list[tuple[int, object]] = []
        try:
            for number, row in _iter_rows(ws, self.max_rows):
                if columns is None:
                    found: dict[str, int] = {}
                    for index, cell in enumerate(row):
                        if isinstance(cell.value, str):
                            key = _label(cell.value)
                            if key in self.labels and self.labels[key].key not in found:
                                found[self.labels[key].key] = index
                    present = {_label(self.spec.field(k).header) for k in found}
                    if self.required <= present:
                        columns = found
                        subject_keys = _SUBJECT_FIELDS.get(self.spec.subject, ())
                        data_columns = [i for k, i in found.items() if k not in subject_keys] if subject_keys else []
                    elif len(self.required & present) > best[0]:
                        best = (len(self.required & present), number, self.required - present)
                    continue
                if all(_blank(row[i].value) for i in columns.values() if i < len(row)):
                    continue
                data_rows += 1
                if data_rows > self.max_rows:
                    raise OverflowError(number)
                if data_columns and all(_blank(row[i].value) for i in data_columns if i < len(row)):
                    # Only the platform or commune is named (as the template pre-fills it): not reported.
                    unfilled.append((number, row))
                    continue
                reported += 1
                if self.spec.layout == "row" and data_rows > 1:
                    first = min(i for i in columns.values() if i < len(row) and not _blank(row[i].value))
                    coord = f"{get_column_letter(first + 1)}{number}"
                    self.error(
                        coord,
                        "row.extra",
                        f"{self.addr(coord)}: trang “{self.spec.name}” chỉ có một dòng số liệu; "
                        f"dòng {number} thừa nên không được nạp.",
                    )
                    self.rejected += 1
                    continue
                self.read_row(number, row, columns)
        except OverflowError:
            self.facts, self.issues, self.loaded, self.rejected = [], [], 0, 0
            self.error(
                None,
                "sheet.too_many_rows",
                f"Trang “{self.spec.name}” có quá {_fmt(self.max_rows)} dòng số liệu (giới hạn của biểu mẫu); "
                "trang này không được nạp.",
            )
            return
        if columns is None:
            missing = ", ".join("“" + f.header + "”" for f in self.spec.fields if _label(f.header) in best[2])
            where = f" (dòng {best[1]} gần giống nhất)" if best[1] else ""
            self.error(
                None,
                "sheet.no_header",
                f"Trang “{self.spec.name}”: không tìm thấy dòng tiêu đề có đủ các cột bắt buộc; "
                f"thiếu {missing}{where}. Trang này không được nạp.",
            )
            return
        if reported == 0 and self.spec.key in self.unit.sections:
            listed = (
                f" (các dòng {unfilled[0][0]}–{unfilled[-1][0]} mới có tên, chưa có số liệu)"
                if len(unfilled) > 1
                else f" (dòng {unfilled[0][0]} mới có tên)"
                if unfilled
                else ""
            )
            self.warn(
                None,
                "sheet.missing",
                f"Trang “{self.spec.name}” có dòng tiêu đề nhưng chưa có số liệu{listed}; "
                "phần này được ghi là chưa báo cáo.",
            )
        elif reported:
            first = min(data_columns) if data_columns else 0
            for number, row in unfilled:
                coord = f"{get_column_letter(first + 1)}{number}"
                named = [
                    _show(row[columns[k]].value)
                    for k in _SUBJECT_FIELDS[self.spec.subject]
                    if k in columns and columns[k] < len(row) and not _blank(row[columns[k]].value)
                ]
                what = "nền tảng" if self.spec.subject == "platform" else self.commune_words()[1]
                self.warn(
                    coord,
                    "row.not_reported",
                    f"{self.addr(coord)}: {what} “{' – '.join(named)}” chưa có số liệu; "
                    f"dòng {number} được ghi là chưa báo cáo.",
                )

    def parse_cell(self, f: forms.Field, cell, coord: str, errors: list) -> object:
        raw = cell.value
        if _blank(raw):
            if f.required:
                errors.append((coord, "cell.required", f"thiếu “{f.header}” (bắt buộc)"))
            return None
        try:
            if f.kind == forms.COUNT:
                if isinstance(raw, (dt.datetime, dt.date, dt.time)):
                    raise NumberFormatError(f"ô kiểu ngày giờ ({_show(raw)}), không phải số")
                return parse_count(raw)
            if f.kind == forms.RATE:
                if isinstance(raw, (dt.datetime, dt.date, dt.time)):
                    raise NumberFormatError(f"ô kiểu ngày giờ ({_show(raw)}), không phải số")
                percent = "%" in (getattr(cell, "number_format", None) or "")
                return parse_rate(raw, percent_cell=percent)
        except (NumberFormatError, ArithmeticError) as exc:
            if not isinstance(exc, NumberFormatError):
                exc = NumberFormatError(f"“{_show(raw)}” không phải là số hợp lệ")
            if f.kind == forms.COUNT:
                errors.append((coord, "cell.count", f"“{f.header}” phải là số nguyên không âm: {exc}"))
            else:
                errors.append((coord, "cell.rate", f"“{f.header}” phải là tỷ lệ từ 0 đến 100: {exc}"))
            return None
        if f.kind == forms.CHOICE:
            key = _label(raw)
            for choice, label in f.choices.items():
                if key == _label(label):
                    return choice
            allowed = ", ".join("“" + label + "”" for label in f.choices.values())
            errors.append((coord, "cell.choice", f"“{f.header}” ghi “{_show(raw)}”, chỉ nhận {allowed}"))
            return None
        if f.kind == forms.CODE:
            return _code_text(raw)
        return _text(raw)

    def read_row(self, number: int, row, columns: dict[str, int]) -> None:
        errors: list[tuple[str, str, str]] = []
        values: dict[str, object] = {}
        coords: dict[str, str] = {}
        for f in self.spec.fields:
            index = columns.get(f.key)
            if index is None:
                continue
            coord = f"{get_column_letter(index + 1)}{number}"
            coords[f.key] = coord
            cell = row[index] if index < len(row) else None
            if cell is None:
                if f.required:
                    errors.append((coord, "cell.required", f"thiếu “{f.header}” (bắt buộc)"))
                continue
            value = self.parse_cell(f, cell, coord, errors)
            if value is not None:
                values[f.key] = value
        for check in self.spec.checks:
            left, right = values.get(check.left), values.get(check.right)
            if left is None or right is None:
                continue
            ok = left <= right if check.op == "<=" else left >= right
            if not ok:
                errors.append((coords[check.left], check.rule, f"{check.message} ({_fmt(left)} so với {_fmt(right)})"))
        subject, subject_name, notes = self.resolve_subject(values, coords, number, errors)
        if errors:
            self.rejected += 1
            for coord, rule, text in errors:
                self.error(coord, rule, f"{self.addr(coord)}: {text}; dòng {number} không được nạp.")
            return
        self.loaded += 1
        for coord, rule, text in notes:
            self.warn(coord, rule, f"{self.addr(coord)}: {text}")
        subject_fields = _SUBJECT_FIELDS.get(self.spec.subject, ())
        kind = self.spec.subject or "unit"
        for f in self.spec.fields:
            if f.key in subject_fields or f.key not in values:
                continue
            value, text = values[f.key], None
            if f.kind in (forms.COUNT, forms.RATE):
                number_value = float(value)
            elif f.kind == forms.CHOICE:
                text = value
                number_value = (1.0 if value == "co" else 0.0) if f.choices == forms.YES_NO_CHOICES else None
            else:
                text, number_value = value, None
            self.facts.append(
                {
                    "month": self.sub.month,
                    "unit": self.unit.code,
                    "sheet": self.spec.key,
                    "subject_kind": kind,
                    "subject": subject,
                    "subject_name": subject_name,
                    "metric": f.key,
                    "value": number_value,
                    "text": text,
                    "submission_id": self.sub.submission_id,
                    "cell": coords[f.key],
                }
            )

    def resolve_subject(self, values: dict, coords: dict, number: int, errors: list):
        """(subject, subject name, warnings) of a row; problems go to `errors`."""
        notes: list[tuple[str, str, str]] = []
        if self.spec.subject == "platform":
            name = values.get("platform_name")
            if name is None:
                return "", "", notes
            platform_id = values.get("platform_id")
            match = self.matcher.match(platform_id, name)
            matched = match[0]
            if matched is not None and match[1] == "fuzzy":
                notes.append((coords["platform_name"], "platform.fuzzy", match.note(name)))
            if matched is None:
                subject = f"unmatched:{fold(name)}"
                given = f" (mã “{platform_id}” cũng không có trong danh mục)" if platform_id else ""
                notes.append(
                    (
                        coords["platform_name"],
                        "platform.unmatched",
                        f"nền tảng “{name}”{given} không khớp danh mục nền tảng theo mã, tên hay tên gọi "
                        "khác; vẫn được nạp và báo cáo là nền tảng ngoài danh mục.",
                    )
                )
            else:
                subject = matched
            self.check_duplicate(
                subject, number, coords["platform_name"], "row.duplicate_platform", f"nền tảng “{name}”", errors
            )
            return subject, name, notes
        if self.spec.subject == "commune":
            return self.resolve_commune(values, coords, number, errors) + (notes,)
        return "", "", notes

    def check_duplicate(self, subject: str, number: int, coord: str, rule: str, what: str, errors: list) -> None:
        if subject in self.seen:
            errors.append((coord, rule, f"{what} đã khai ở dòng {self.seen[subject]}"))
        else:
            self.seen[subject] = number

    def commune_words(self) -> tuple[set[str], str, str]:
        """The codes of the unit's commune-level units in the month, the level's words (`đơn vị
        cấp xã`) and the commune kinds of the month (`xã, phường, thị trấn`); worked out once."""
        if self._communes is None:
            month, registry = self.sub.month, self.registry
            mine = (
                {c.code for c in registry.communes(self.unit.code, month)}
                if registry.has(self.unit.code, month)
                else set()
            )
            level = "đơn vị " + registry.level_word("commune", "level")
            self._communes = (mine, level, forms.commune_kinds(registry, month))
        return self._communes

    def resolve_commune(self, values: dict, coords: dict, number: int, errors: list) -> tuple[str, str]:
        name = values.get("commune_name")
        code = values.get("commune_code")
        month = self.sub.month
        area = self.unit
        registry = self.registry
        index = _index(registry)
        mine, level, kinds = self.commune_words()
        if code:
            commune = index.unit_in(code, month)
            if commune is None or commune.type != "commune":
                errors.append(
                    (
                        coords["commune_code"],
                        "row.unknown_commune",
                        f"Mã xã “{code}” không có trong danh mục {kinds}",
                    )
                )
                return "", name or ""
            if commune.code not in mine:
                errors.append(
                    (
                        coords["commune_code"],
                        "row.wrong_district_commune",
                        f"Mã xã “{code}” là {commune.name} {_belongs(commune, registry, month)}, không thuộc {area.name}",
                    )
                )
                return "", name or ""
            if name is not None and fold(name) not in (fold(commune.name), fold(commune.short_name)):
                errors.append(
                    (
                        coords["commune_name"],
                        "row.unknown_commune",
                        f"Mã xã “{code}” là {commune.name}, không khớp tên đã ghi “{name}”",
                    )
                )
                return "", name
            self.check_duplicate(
                commune.code, number, coords["commune_code"], "row.duplicate_commune", commune.name, errors
            )
            return commune.code, name or commune.name
        if name is None:
            return "", ""
        key = fold(name)
        named = [c for c in index.by_name.get(key, []) if c.valid_in(month)]
        matches = [c for c in named if c.code in mine]
        if len(matches) > 1:
            # Names that fold alike (Hương Vân, Hương Văn): the one written with its diacritics.
            written = nfc(name).casefold()
            exact = [c for c in matches if written in (c.name.casefold(), c.short_name.casefold())]
            matches = exact if len(exact) == 1 else matches
        if len(matches) == 1:
            self.check_duplicate(
                matches[0].code, number, coords["commune_name"], "row.duplicate_commune", matches[0].name, errors
            )
            return matches[0].code, name
        if len(matches) > 1:
            errors.append(
                (
                    coords["commune_name"],
                    "row.unknown_commune",
                    f"tên “{name}” ứng với {len(matches)} {level} của {area.name}; hãy ghi “Mã xã”",
                )
            )
            return "", name
        elsewhere = [c for c in named if c.code not in mine]
        if elsewhere:
            errors.append(
                (
                    coords["commune_name"],
                    "row.wrong_district_commune",
                    f"“{name}” không phải {level} của {area.name} ({_named_elsewhere(elsewhere, registry, month)})",
                )
            )
        else:
            errors.append(
                (
                    coords["commune_name"],
                    "row.unknown_commune",
                    f"“{name}” không có trong danh mục {kinds} của {area.name}",
                )
            )
        return "", name


def _holder(commune: Unit, registry: Registry, month: str) -> Unit | None:
    """The area unit of `month` whose `Tổ công nghệ số` sheet lists `commune` (possibly itself)."""
    for area in registry.area_units(month):
        if area.code == commune.code or (commune.parent == area.code):
            return area
    return None


def _belongs(commune: Unit, registry: Registry, month: str) -> str:
    """Where a commune of `month` is reported: `thuộc Huyện Phong Điền`, or, for a commune that
    reports itself, `trực thuộc Thành phố Huế, tự gửi báo cáo`."""
    holder = _holder(commune, registry, month)
    if holder is not None and holder.code == commune.code:
        return f"trực thuộc {registry.province(month).name}, tự gửi báo cáo"
    return f"thuộc {registry.name_of(commune.parent, month) if commune.parent in registry else commune.parent}"


def _named_elsewhere(communes: list[Unit], registry: Registry, month: str) -> str:
    """Where the communes of another area that bear a name are: `có tên này ở Huyện Phong Điền`,
    or `tên này là của Phường Phú Xuân, tự gửi báo cáo` for communes that report themselves."""
    own = [c for c in communes if getattr(_holder(c, registry, month), "code", None) == c.code]
    others = [c for c in communes if c not in own]
    parts = []
    if others:
        parents = ", ".join(
            sorted({registry.name_of(c.parent, month) if c.parent in registry else c.parent for c in others})
        )
        parts.append(f"có tên này ở {parents}")
    if own:
        parts.append(f"tên này là của {', '.join(sorted(c.name for c in own))}, tự gửi báo cáo")
    return "; ".join(parts)
