"""Reading a month's submissions: checks against the form, the archive, the validation report.

Each workbook is read defensively: its size, its zip container and its XML are checked
before anything else (container), and a file that cannot be read is rejected with one
message. A row that breaks a rule is quarantined with the exact cell and rule id; the rest of
the file loads (info, sheets, submission). See spec/submission-form.md.

Cells are read by python-calamine (values) with openpyxl's style parser (number formats), or
by openpyxl alone (readers); both give the same facts and issues, and any sheet calamine could
not hold safely goes to openpyxl, which streams. What goes back to the units: validation.csv,
its HTML view with the submission tracker (validation, tracker), and a marked feedback copy of
each file with problems (feedback). A month's folder is read and resolved here (month) and
loaded into the warehouse by dxreport.monthload; what reading a file gave is kept by its
content beside the raw archive and reused while nothing it depends on has changed (cache).
"""

from dxreport.intake.container import (
    ENCRYPTED_MARKERS,
    MAX_COMPRESSION_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    MAX_ZIP_ENTRIES,
    OLE_SIGNATURE,
    RATIO_CHECK_BYTES,
    XML_PROLOG_BYTES,
)
from dxreport.intake.feedback import (
    FEEDBACK_DIR,
    FEEDBACK_EXTRA_ROWS,
    FEEDBACK_SHEET,
    feedback_name,
    write_feedback,
    write_feedback_month,
)
from dxreport.intake.info import INFO_MAX_ROWS, not_reporting
from dxreport.intake.month import (
    MonthFiles,
    MonthResolution,
    archive_raw,
    deadline,
    history_issues,
    read_month,
    resolve_submissions,
    rows_frame,
)
from dxreport.intake.readers import (
    CALAMINE_MAX_CELLS,
    CALAMINE_MAX_PART_BYTES,
    DEFAULT_READER,
    MAX_COLUMNS,
    RAW_ROWS_FACTOR,
    READERS,
)
from dxreport.intake.records import (
    ERROR,
    FACT_COLUMNS,
    ISSUE_COLUMNS,
    LOCAL_TZ,
    SEVERITY_LABELS,
    SUBMISSION_COLUMNS,
    WARNING,
    Submission,
)
from dxreport.intake.submission import SAMPLE_KEYWORD, read_identity, read_submission
from dxreport.intake.tracker import RESUBMITTED_LATE_LABEL, STATUS_LABELS, TRACKER_COLUMNS, tracker
from dxreport.intake.validation import (
    FILE_STATUS_LABELS,
    INFO,
    RECEIVED_RULE,
    VALIDATION_COLUMNS,
    validation_html,
    validation_page,
    write_validation,
)

__all__ = [
    "CALAMINE_MAX_CELLS",
    "CALAMINE_MAX_PART_BYTES",
    "DEFAULT_READER",
    "ENCRYPTED_MARKERS",
    "ERROR",
    "FACT_COLUMNS",
    "FEEDBACK_DIR",
    "FEEDBACK_EXTRA_ROWS",
    "FEEDBACK_SHEET",
    "FILE_STATUS_LABELS",
    "INFO",
    "INFO_MAX_ROWS",
    "ISSUE_COLUMNS",
    "LOCAL_TZ",
    "MAX_COLUMNS",
    "MAX_COMPRESSION_RATIO",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_ZIP_ENTRIES",
    "OLE_SIGNATURE",
    "RATIO_CHECK_BYTES",
    "RAW_ROWS_FACTOR",
    "READERS",
    "RECEIVED_RULE",
    "RESUBMITTED_LATE_LABEL",
    "SAMPLE_KEYWORD",
    "SEVERITY_LABELS",
    "STATUS_LABELS",
    "SUBMISSION_COLUMNS",
    "TRACKER_COLUMNS",
    "VALIDATION_COLUMNS",
    "WARNING",
    "XML_PROLOG_BYTES",
    "MonthFiles",
    "MonthResolution",
    "Submission",
    "archive_raw",
    "deadline",
    "feedback_name",
    "history_issues",
    "not_reporting",
    "read_month",
    "read_identity",
    "read_submission",
    "resolve_submissions",
    "rows_frame",
    "tracker",
    "validation_html",
    "validation_page",
    "write_feedback",
    "write_feedback_month",
    "write_validation",
]
