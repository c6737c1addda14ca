"""What a report notebook shows: the month's context from the warehouse, and HTML blocks.

The report of the province (`tinh`) and the report of a unit have the same sections:

    I.    Đánh giá chung                       general(ctx), targets_table(ctx)
    II.   Nền tảng số phục vụ chính quyền       government(ctx)
    III.  Nền tảng số phục vụ doanh nghiệp      business(ctx)
    IV.   Nền tảng số phục vụ người dân, Hue-S  citizens(ctx)
    V.    Tổ công nghệ số cộng đồng             teams(ctx)
    VI.   Thay đổi danh mục nền tảng số          catalog_changes(ctx)
    VII.  Tồn tại, hạn chế và nguyên nhân       shortcomings(ctx), lagging(ctx)
    VIII. Đề xuất, kiến nghị                    proposals(ctx)
          Nguồn số liệu, nơi nhận, chữ ký        sources_note(ctx), signature(ctx)

A section function returns HTML rendered from the templates of lib/dxreport/templates/report/
(dxreport.pages.render_fragment, autoescaped): every text that comes from a submission, the
catalog or the registry is escaped by the template. Sentences come from dxreport.narrative, numbers in Vietnamese format.
The province's tables compare the districts (or the units); a unit's tables give its rank and
the average of its peers (the districts, or the provincial agencies) beside each figure.

The modules:

    context     Context, load: what the report reads from the warehouse, where its files go
    markup      paragraphs, notes, lists and tables from the templates; cells, figures
    document    header, trích yếu, unit titles, Nơi nhận, signer, sources note, the date
    tables      indicator_table, district_table
    overview    I. general, targets_table, validation_summary
    platforms   II-IV. government, business, citizens, platform tables
    community   V. teams, commune_table
    catalogs    VI. catalog_changes
    findings    VII-VIII. shortcomings, lagging, proposals
    rejected    the rows rejected by the validation (rejected_rows)
    chartdata   series, trend_frame, districts_frame, province_value, grid_frame, chart_title, area_chart
    kpifile     save_kpis
"""

from dxreport.report.catalogs import NO_CHANGE_INFO, catalog_changes
from dxreport.report.chartdata import (
    area_chart,
    chart_title,
    districts_frame,
    grid_frame,
    province_value,
    series,
    trend_frame,
)
from dxreport.report.community import commune_table, teams, teams_rejected_sentence
from dxreport.report.context import Context, load
from dxreport.report.document import (
    BLANK_DATE,
    header,
    department,
    issuing_unit,
    place_date,
    recipients,
    recipients_block,
    signature,
    signer_block,
    signing_date,
    sources_note,
    trich_yeu,
    unit_title,
    unit_titles,
)
from dxreport.report.findings import MAX_NOTES, lagging, proposals, shortcomings, unit_notes, unit_proposals
from dxreport.report.kpifile import save_kpis
from dxreport.report.overview import (
    KEY_INDICATORS,
    general,
    partial_notice,
    submission_sentence,
    targets_table,
    validation_summary,
)
from dxreport.report.platforms import CATALOG_TITLES, business, citizens, government, platform_rows, platform_table
from dxreport.report.rejected import TEAMS_SHEET, communes_without_valid_row, rejected_rows
from dxreport.report.tables import SHORT_LABELS, district_table, indicator_table

__all__ = [
    "BLANK_DATE",
    "CATALOG_TITLES",
    "KEY_INDICATORS",
    "MAX_NOTES",
    "NO_CHANGE_INFO",
    "SHORT_LABELS",
    "TEAMS_SHEET",
    "Context",
    "business",
    "catalog_changes",
    "citizens",
    "commune_table",
    "communes_without_valid_row",
    "area_chart",
    "chart_title",
    "district_table",
    "districts_frame",
    "general",
    "government",
    "grid_frame",
    "header",
    "indicator_table",
    "department",
    "issuing_unit",
    "lagging",
    "load",
    "partial_notice",
    "place_date",
    "platform_rows",
    "platform_table",
    "proposals",
    "province_value",
    "recipients",
    "recipients_block",
    "rejected_rows",
    "save_kpis",
    "series",
    "shortcomings",
    "signature",
    "signer_block",
    "signing_date",
    "sources_note",
    "submission_sentence",
    "targets_table",
    "teams",
    "teams_rejected_sentence",
    "trend_frame",
    "trich_yeu",
    "unit_notes",
    "unit_proposals",
    "unit_title",
    "unit_titles",
    "validation_summary",
]
