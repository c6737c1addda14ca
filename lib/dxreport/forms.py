"""The monthly submission form (Biểu mẫu báo cáo tháng, version 1), defined once.

The spec is docs/submission-form.md.

Everything that reads, writes or checks a submission takes the sheet names, headers, field
kinds and rules from here. The blank workbook is written by dxreport.template.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dxreport.labels import PLATFORM_STATUSES
from dxreport.units import Registry

FORM_VERSION = 1

# Field kinds
COUNT = "count"  # whole number >= 0
RATE = "rate"  # 0-100, '%' allowed, Excel percent cell 0.125 = 12.5
TEXT = "text"
CHOICE = "choice"  # one of Field.choices (matched after folding)
CODE = "code"  # an identifier kept as text
MONTH = "month"  # MM/YYYY text or a date cell
DATE = "date"  # DD/MM/YYYY text or a date cell

STATUS_CHOICES = PLATFORM_STATUSES
YES_NO_CHOICES = {"co": "Có", "khong": "Không"}


@dataclass(frozen=True)
class Field:
    """One column of a table sheet, or one label of the `Thông tin` sheet."""

    key: str
    header: str
    kind: str
    required: bool = False
    choices: dict[str, str] = field(default_factory=dict)
    cumulative: bool = False  # a 'lũy kế' value: must not go down month to month
    monthly: bool = False  # a value for the month alone: checked against the median
    help: str = ""


@dataclass(frozen=True)
class Check:
    """A rule between two fields of one row: `left op right`, e.g. processed <= received."""

    left: str
    op: str  # "<=" or ">="
    right: str
    rule: str
    message: str


@dataclass(frozen=True)
class Sheet:
    """One sheet of the form."""

    key: str
    name: str
    layout: str  # "keyvalue" (label in A, value in B), "table" (many rows), "row" (one data row)
    fields: tuple[Field, ...]
    checks: tuple[Check, ...] = ()
    subject: str = ""  # what a row describes: "platform", "commune" or "" (the unit itself)
    description: str = ""

    def field(self, key: str) -> Field:
        """The field with this key."""
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)


THONG_TIN = Sheet(
    "thong_tin",
    "Thông tin",
    "keyvalue",
    (
        Field("unit_code", "Mã đơn vị", CODE, required=True, help="Mã đơn vị theo danh mục (mã GSO với cấp huyện)"),
        Field("period", "Kỳ báo cáo", MONTH, required=True, help="Tháng báo cáo, dạng MM/YYYY"),
        Field("preparer", "Người lập", TEXT, required=True),
        Field("prepared_on", "Ngày lập", DATE, required=True, help="Dạng DD/MM/YYYY"),
        Field("phone", "Điện thoại", TEXT),
        Field("email", "Email", TEXT),
        Field("form_version", "Phiên bản biểu mẫu", CODE, help="Để trống hoặc ghi 1"),
    ),
    description="Thông tin chung về đơn vị và kỳ báo cáo",
)

NEN_TANG = Sheet(
    "nen_tang",
    "Nền tảng",
    "table",
    (
        Field(
            "platform_id", "Mã nền tảng", CODE, help="Mã trong danh mục nền tảng; có thể để trống nếu tên khớp danh mục"
        ),
        Field("platform_name", "Tên nền tảng", TEXT, required=True),
        Field("status", "Tình trạng", CHOICE, required=True, choices=STATUS_CHOICES),
        Field("accounts", "Tài khoản lũy kế", COUNT, cumulative=True),
        Field("mau", "Người dùng hoạt động trong tháng", COUNT, monthly=True),
        Field("uses", "Lượt sử dụng trong tháng", COUNT, monthly=True),
        Field("lgsp", "Kết nối chia sẻ dữ liệu", CHOICE, choices=YES_NO_CHOICES),
        Field("proposal", "Đề xuất", TEXT),
        Field("note", "Ghi chú", TEXT),
    ),
    checks=(
        Check(
            "mau", "<=", "accounts", "row.mau_le_accounts", "Người dùng hoạt động trong tháng lớn hơn tài khoản lũy kế"
        ),
    ),
    subject="platform",
    description="Mỗi dòng một nền tảng số đơn vị đang triển khai hoặc đề xuất",
)

HUE_S = Sheet(
    "hue_s",
    "Hue-S",
    "row",
    (
        Field("downloads", "Lượt tải lũy kế", COUNT, required=True, cumulative=True),
        Field("accounts", "Tài khoản đăng ký lũy kế", COUNT, required=True, cumulative=True),
        Field("reports_received", "Phản ánh tiếp nhận trong tháng", COUNT, required=True, monthly=True),
        Field("reports_processed", "Phản ánh đã xử lý trong tháng", COUNT, required=True, monthly=True),
        Field("reports_on_time", "Phản ánh xử lý đúng hạn trong tháng", COUNT, required=True, monthly=True),
        Field("satisfaction", "Tỷ lệ hài lòng (%)", RATE),
    ),
    checks=(
        Check(
            "reports_processed",
            "<=",
            "reports_received",
            "row.processed_le_received",
            "Phản ánh đã xử lý lớn hơn phản ánh tiếp nhận",
        ),
        Check(
            "reports_on_time",
            "<=",
            "reports_processed",
            "row.on_time_le_processed",
            "Phản ánh xử lý đúng hạn lớn hơn phản ánh đã xử lý",
        ),
    ),
    description="Ứng dụng Hue-S trên địa bàn",
)

TO_CNS = Sheet(
    "to_cns",
    "Tổ công nghệ số",
    "table",
    (
        Field("commune_code", "Mã xã", CODE, help="Mã GSO của xã/phường/thị trấn"),
        Field("commune_name", "Xã/phường/thị trấn", TEXT, required=True),
        Field("teams", "Số tổ lũy kế", COUNT, required=True, cumulative=True),
        Field("members", "Số thành viên lũy kế", COUNT, required=True, cumulative=True),
        Field("trainings", "Số buổi tập huấn trong tháng", COUNT, monthly=True),
        Field("trained", "Lượt người được tập huấn trong tháng", COUNT, monthly=True),
        Field("households", "Số hộ được hỗ trợ trong tháng", COUNT, monthly=True),
    ),
    checks=(Check("members", ">=", "teams", "row.members_ge_teams", "Số thành viên nhỏ hơn số tổ"),),
    subject="commune",
    description="Tổ công nghệ số cộng đồng, mỗi dòng một đơn vị cấp xã",
)

DOANH_NGHIEP = Sheet(
    "doanh_nghiep",
    "Doanh nghiệp",
    "row",
    (
        Field("sme_reached", "DN tiếp cận SMEdx lũy kế", COUNT, required=True, cumulative=True),
        Field("sme_using", "DN sử dụng nền tảng số lũy kế", COUNT, required=True, cumulative=True),
        Field("dbi_assessed", "DN tự đánh giá DBI lũy kế", COUNT, required=True, cumulative=True),
        Field("sme_supported", "DN được hỗ trợ trong tháng", COUNT, monthly=True),
    ),
    checks=(
        Check(
            "sme_using", "<=", "sme_reached", "row.using_le_reached", "DN sử dụng nền tảng số lớn hơn DN tiếp cận SMEdx"
        ),
    ),
    description="Chương trình hỗ trợ doanh nghiệp nhỏ và vừa chuyển đổi số (SMEdx) và DBI",
)

SHEETS: tuple[Sheet, ...] = (THONG_TIN, NEN_TANG, HUE_S, TO_CNS, DOANH_NGHIEP)
SHEETS_BY_KEY = {s.key: s for s in SHEETS}
# Sheets whose figures describe an area and add up over the month's area units.
AREA_SHEETS = ("hue_s", "to_cns", "doanh_nghiep")


def sheet(key: str) -> Sheet:
    """The sheet with this key."""
    return SHEETS_BY_KEY[key]


def sheets_for(sections: tuple[str, ...] | list[str]) -> list[Sheet]:
    """The sheets a unit with these registry sections fills, in form order."""
    wanted = set(sections) | {"thong_tin"}
    return [s for s in SHEETS if s.key in wanted]


def commune_kinds(registry: Registry, month: str, sep: str = ", ") -> str:
    """The words of the commune-level kinds of `month`, in the order of params/levels.yaml:
    `xã, phường, thị trấn` (2022), `xã, phường` (from 2025-07)."""
    present = {u.kind for u in registry.units if u.type == "commune" and u.valid_in(month)}
    return sep.join(dict.fromkeys(w for k, w in registry.words.kinds.items() if k in present and w))


def field_help(f: Field, registry: Registry, month: str) -> str:
    """A field's help for `month`: the words of the unit code and commune code follow the map of
    the month (`mã GSO với cấp huyện` in 2022, `cấp xã` from 2025-07)."""
    if f.key == "unit_code":
        return f"Mã đơn vị theo danh mục (mã GSO với {registry.level_word(registry.area_level(month), 'level')})"
    if f.key == "commune_code":
        return f"Mã GSO của {commune_kinds(registry, month, '/')}"
    return f.help
