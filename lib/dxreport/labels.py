"""The Vietnamese labels the project shows for its codes, in one table.

Catalogs of the Ministry, statuses of a platform, statuses of a report run, of a unit's
submission and of a received file, severities of an issue and kinds of catalog change. The
pages, sheets and messages read their labels from here, so one word is spelled the same
everywhere.
"""

from __future__ import annotations

__all__ = [
    "CATALOGS",
    "CATALOG_SHORT",
    "CHANGES",
    "FILE_STATUSES",
    "PLATFORM_STATUSES",
    "RESUBMITTED_LATE",
    "RUN_STATUSES",
    "SEVERITIES",
    "SUBMISSION_STATUSES",
]

#: The three catalogs of digital platforms, by code: their titles.
CATALOGS = {
    "chinh_quyen": "Nền tảng số phục vụ chính quyền",
    "doanh_nghiep": "Nền tảng số phục vụ doanh nghiệp",
    "nguoi_dan": "Nền tảng số phục vụ người dân",
}

#: The three catalogs as the short words that follow "nền tảng" in a sentence.
CATALOG_SHORT = {
    "chinh_quyen": "phục vụ chính quyền",
    "doanh_nghiep": "phục vụ doanh nghiệp",
    "nguoi_dan": "phục vụ người dân",
}

#: The status of a platform in a unit, as chosen in the form's `Tình trạng` column.
PLATFORM_STATUSES = {
    "dang_su_dung": "Đang sử dụng",
    "dang_thu_nghiem": "Đang thử nghiệm",
    "chua_trien_khai": "Chưa triển khai",
}

#: What became of a unit's report for a month (the submission tracker).
SUBMISSION_STATUSES = {
    "received": "Đã nộp",
    "late": "Nộp muộn",
    "missing": "Chưa nộp",
    "resubmitted": "Nộp lại",
    "rejected": "Bị từ chối",
}

#: A unit whose accepted file replaced an earlier one and came after the deadline.
RESUBMITTED_LATE = "Nộp lại, nộp muộn"

#: What became of one received file.
FILE_STATUSES = {"accepted": "Được tính", "superseded": "Đã được thay", "rejected": "Bị từ chối"}

#: The severity of an issue found in a received file.
SEVERITIES = {"error": "Lỗi", "warning": "Cảnh báo"}

#: The kind of a change between two snapshots of a catalog.
CHANGES = {"added": "thêm mới", "removed": "không còn trong danh mục", "renamed": "đổi tên"}

#: The status of one report of a run, as the index of reports shows it.
RUN_STATUSES = {
    "ok": "Hoàn thành",
    "failed": "Lỗi",
    "error": "Lỗi",
    "skipped": "Hoàn thành (không đổi)",
}
