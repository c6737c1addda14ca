"""Who receives mail (params/contacts.csv): the units' e-mail addresses, by role and period.

One row per unit (or recipient of the report) and period:

    code,name,email,role,valid_from,valid_to,source

- `code`: a unit code of params/units.csv; empty for a recipient of the report that is not a
  unit (Bộ Khoa học và Công nghệ), which is then known by its `name` as written in the
  "Nơi nhận" list of params/settings.yaml (report.issuers[].recipients).
- `email`: one or more addresses separated by `;`.
- `role`: `gui_bao_cao` (who sends the unit's form: reminders and feedback go there),
  `lanh_dao` (the unit's head: copied on reminders after the deadline), `noi_nhan` (a
  recipient of the finished report).
- `valid_from`, `valid_to`: YYYY-MM-DD or empty.

A contact of a unit that does not report in a month is a warning for that month (`check`), not
an error: units merge and their addresses outlive them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dxreport.paths import PARAMS_DIR, shown_path
from dxreport.textnorm import fold, nfc
from dxreport.units import Registry

FIELDS = ("code", "name", "email", "role", "valid_from", "valid_to", "source")
ROLES = ("gui_bao_cao", "lanh_dao", "noi_nhan")
ROLE_LABELS = {"gui_bao_cao": "người gửi biểu mẫu", "lanh_dao": "lãnh đạo đơn vị", "noi_nhan": "nơi nhận báo cáo"}
#: An address as it may be written in the file: one @, no spaces, a dot in the domain.
_ADDRESS = re.compile(r"^[^@\s;,<>\"]+@[^@\s;,<>\"]+\.[^@\s;,<>\"]+$")
MAX_BYTES = 1_000_000


class ContactsError(ValueError):
    """params/contacts.csv is not valid; the message names the file, line and column."""


@dataclass(frozen=True)
class Contact:
    """One row of params/contacts.csv."""

    code: str
    name: str
    emails: tuple[str, ...]
    role: str
    valid_from: str
    valid_to: str
    source: str
    line: int

    def valid_in(self, month: str) -> bool:
        """True if the row holds during `month` (YYYY-MM)."""
        start = self.valid_from[:7] if self.valid_from else "0000-00"
        end = self.valid_to[:7] if self.valid_to else "9999-99"
        return start <= month <= end


@dataclass(frozen=True)
class Contacts:
    """Every contact, with look-ups by unit, role and month."""

    rows: tuple[Contact, ...]
    path: str = ""

    def for_unit(self, code: str, month: str, role: str | None = None) -> list[Contact]:
        """The contacts of unit `code` in `month` (of one role when given)."""
        return [c for c in self.rows if c.code == str(code) and c.valid_in(month) and (role is None or c.role == role)]

    def addresses(self, code: str, month: str, role: str = "gui_bao_cao") -> list[str]:
        """The addresses of a unit's contacts of `role` in `month`, each once, in file order."""
        return list(dict.fromkeys(a for c in self.for_unit(code, month, role) for a in c.emails))

    def recipient(self, name: str, month: str) -> list[str]:
        """The addresses of a recipient of the report, by its name in the "Nơi nhận" list."""
        key = fold(name)
        found = [c for c in self.rows if c.role == "noi_nhan" and c.valid_in(month) and fold(c.name) == key]
        return list(dict.fromkeys(a for c in found for a in c.emails))

    def sender_unit(self, address: str, month: str) -> str | None:
        """The unit whose contact (any role but noi_nhan) has this address in `month`; None when
        no unit has it, or more than one has."""
        address = address.strip().casefold()
        codes = {
            c.code
            for c in self.rows
            if c.code and c.role != "noi_nhan" and c.valid_in(month) and address in (e.casefold() for e in c.emails)
        }
        return codes.pop() if len(codes) == 1 else None

    def check(self, registry: Registry, month: str) -> list[str]:
        """Warnings for `month`: a unit's contact whose unit does not report then, and a
        reporting unit without a `gui_bao_cao` address."""
        name = self.path or "params/contacts.csv"
        reporting = {u.code for u in registry.reporting_units(month)}
        warnings = []
        for c in self.rows:
            if c.code and c.valid_in(month) and c.code not in reporting:
                warnings.append(
                    f"{name}, dòng {c.line}: đơn vị {c.code} ({registry.name_of(c.code, month)}) không gửi báo cáo "
                    f"tháng {month}; liên hệ này không được dùng"
                )
        for unit in registry.reporting_units(month):
            if not self.addresses(unit.code, month):
                warnings.append(f"{name}: {unit.name} ({unit.code}) chưa có địa chỉ người gửi biểu mẫu tháng {month}")
        return warnings


def _day(value: str, where: str, column: str) -> str:
    value = value.strip()
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ContactsError(f"{where}, cột {column}: {value!r} không phải ngày dạng YYYY-MM-DD") from None
    return value


def read_contacts(path: Path, registry: Registry | None = None) -> Contacts:
    """Read and check a contacts file (FIELDS, no other). ContactsError names the file, the CSV
    line (the header is line 1) and the column: a role of ROLES, at least one well-formed
    address, a code that is in the registry (when given) or, for `noi_nhan`, a name."""
    path = Path(path)
    name = shown_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ContactsError(f"{name}: tệp lớn {size} byte, quá giới hạn {MAX_BYTES} byte")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ContactsError(f"không đọc được tệp {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ContactsError(f"{name}: không phải văn bản UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    columns = reader.fieldnames or ()
    missing = [f for f in FIELDS if f not in columns]
    if missing:
        raise ContactsError(f"{name}, dòng 1: thiếu cột {', '.join(missing)}")
    extra = [c for c in columns if c not in FIELDS]
    if extra:
        raise ContactsError(f"{name}, dòng 1: cột {', '.join(extra)} không được hỗ trợ; chỉ nhận: {', '.join(FIELDS)}")
    rows = []
    for row in reader:
        line = reader.line_num
        where = f"{name}, dòng {line}"
        if None in row or any(v is None for v in row.values()):
            raise ContactsError(f"{where}: số ô khác số cột của dòng tiêu đề ({len(FIELDS)})")
        role = row["role"].strip()
        if role not in ROLES:
            raise ContactsError(f"{where}, cột role: {role!r} không hợp lệ; chỉ nhận: {', '.join(ROLES)}")
        code = row["code"].strip()
        if not code and role != "noi_nhan":
            raise ContactsError(f"{where}, cột code: thiếu mã đơn vị (chỉ nơi nhận báo cáo được để trống)")
        if code and registry is not None and code not in registry:
            raise ContactsError(f"{where}, cột code: mã đơn vị {code!r} không có trong params/units.csv")
        if role == "noi_nhan" and not row["name"].strip():
            raise ContactsError(f"{where}, cột name: nơi nhận báo cáo cần tên như trong danh sách “Nơi nhận”")
        emails = tuple(e.strip() for e in row["email"].split(";") if e.strip())
        if not emails:
            raise ContactsError(f"{where}, cột email: thiếu địa chỉ thư điện tử")
        bad = [e for e in emails if not _ADDRESS.match(e)]
        if bad:
            raise ContactsError(f"{where}, cột email: {bad[0]!r} không phải địa chỉ thư điện tử")
        start = _day(row["valid_from"], where, "valid_from")
        end = _day(row["valid_to"], where, "valid_to")
        if start and end and start > end:
            raise ContactsError(f"{where}, cột valid_to: {end} trước valid_from {start}")
        rows.append(Contact(code, nfc(row["name"].strip()), emails, role, start, end, row["source"].strip(), line))
    return Contacts(tuple(rows), name)


def load_contacts(params_dir: Path | None = None, registry: Registry | None = None) -> Contacts:
    """params/contacts.csv, checked (an absent file is an empty list of contacts)."""
    path = Path(params_dir or PARAMS_DIR) / "contacts.csv"
    if not path.exists():
        return Contacts((), shown_path(path))
    return read_contacts(path, registry)
