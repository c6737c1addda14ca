"""Deterministic sample submissions: the embedded default data of dxreport.

For every month the sample writes one workbook per reporting unit of the registry, exactly as
spec/submission-form.md describes, into `data/sample/<YYYY-MM>/`: the 9 districts and 21
provincial agencies until 12/2024; the 9 district-level units of thành phố Huế (133 communes)
in 01–06/2025; the 40 xã and phường from 07/2025, each filling all five sheets for its own area
(its `Tổ công nghệ số` has one row: itself); the 15 agencies from 03/2025. A month is generated
when a run first needs it (ensure_sample), never all months at once.

Through the reforms every series goes on: the sample draws its traits on the old map, and a unit
of 2025 or later holds shares of old units (lineage): an area unit the old communes that lie in
it through params/crosswalk.csv, each an equal share of its old district; a merged agency the
agencies it took over. Its cumulative figures start from what those shares had (the city's
Hue-S downloads are the same curve split by the new units' shares), its monthly figures keep
their seasonality, and it lists the platforms its old units listed. From 2025 addresses are on
hue.gov.vn; from 03/2025 proposals and notes name Sở KH&CN and Bộ KH&CN. Months up to 12/2024
are made exactly as before. Every value follows from (seed, month, unit code): each stream is a
`random.Random(f"{seed}:{month}:{code}:{topic}")` (month-independent traits of a unit use
`f"{seed}:{code}:{topic}"`), never the global generator, so regenerating a month gives the same
cell values. Each workbook carries `properties.keywords == SAMPLE_KEYWORD` and a title that
says it is sample data.

Magnitudes (DOMAIN.md):

- Hue-S downloads to date, summed over the districts: a smooth saturating curve through
  690,000 (01/2022), 793,050 (07/2022, the public figure of 26/07/2022) and 805,000 (12/2022,
  "over 800,000"), split by district population weighted by an adoption factor (the city
  1.3, towns 1.05, rural districts 0.8, each ± 12%); after 2022 it keeps rising ever more slowly
  (about 823,000 by 11/2026). Registered accounts are a separate series,
  60% of downloads in 01/2022 rising to 68% in 12/2022 (± 3 points per district).
- Field reports received province-wide: 3,650 + 95 a month from 01/2022 (about 4,200 in
  07/2022, 4,700 in 12/2022, ± 3%), so that 58,000 to date in 07/2022 reaches over 80,000 by the
  end of 2022; processed 96.5–98.5% of received, on time 90–95% of processed, satisfaction
  78–84% per district.
- Community digital technology teams (Official Letter 3293/UBND-CN, 04/2022): every commune
  has a target of 6–20 teams, founded from 02–04/2022 and complete by 06/2022, 3.5–6 members a
  team (slowly growing after 06/2022), 1–4 trainings a month once founded.
- SMEs: the district's reach in 12/2022 is 0.8–1.4 per 1,000 residents (1.8 for Huế), 35% of
  it already in 01/2022; platforms in use by 14–25% of those reached, DBI self-assessments
  4–16%, a few enterprises supported each month.
- Platforms: a district lists 6–10 catalog platforms (Dịch vụ công trực tuyến, LGSP, họp trực
  tuyến, Sổ sức khỏe điện tử, PC-COVID and 1–5 others), one or two of them `Chưa triển khai`
  with a proposal, up to two `Đang thử nghiệm`; an agency lists LGSP, họp trực tuyến and the
  platforms of its field (3–6 rows). Lists and statuses do not change from month to month. Accounts grow
  at a platform's monthly rate through 2022, then approach 90% of their base at that rate.
  Sở Y tế writes the alias "Sổ SKĐT"; other units use an alias of params/platform_aliases.yaml
  now and then (with no platform id); Phú Vang (478) also lists its own "Ứng dụng Phú Vang số",
  which matches no catalog entry. Hue-S has its own sheet and is not repeated in the districts'
  `Nền tảng`.

Format variants that are valid and must load (not faults): in every file one to three numbers
are written as Vietnamese text ("12.345", "81,3%"); some files fill `Mã nền tảng`, others leave
it empty; and each month the district D[(i + 6) % 9] writes its satisfaction rate as an Excel
percent cell (0.813 shown as 81.3%), adds an `STT` column at the left of `Tổ công nghệ số` and
leaves a blank row before its last commune.

Faults, fixed for every month. i is the month index (2022-01 → 0, 2022-12 → 11, 2023-01 → 12),
D the districts and A the agencies of the registry in registry order (D: 474 476 477 478 479
480 481 482 483; A: vpubnd snv stp skhdt stc sct snnptnt sgtvt sxd stnmt stttt sldtbxh svhtt sdl
skhcn sgddt syt sngv ttt bdt hueioc; in 2025 D are the 9 district-level units, from 07/2025
the 40 xã and phường, and from 03/2025 A the 15 agencies). `faults(month)` lists them with file,
sheet and cell.

- late: agency A[i % 21] sends its file after the deadline (file mtime on day deadline + 1 to
  deadline + 3 of the following month); every other file arrives on days 1–4, 08:00–17:00
  Asia/Ho_Chi_Minh.
- bad_cell: district D[(i + 8) % 9] has exactly one bad cell, by i % 3:
  0 → text_in_count: "khoảng 50"-style text in `Tổ công nghệ số`, column "Lượt người được tập
  huấn trong tháng" of one commune; 1 → mau_gt_accounts: in `Nền tảng`, "Người dùng hoạt động
  trong tháng" larger than "Tài khoản lũy kế" for one platform; 2 → members_lt_teams: in
  `Tổ công nghệ số`, "Số thành viên lũy kế" smaller than "Số tổ lũy kế" for the commune with
  the most teams (text_in_count when no commune has a team yet).
- superseded / resubmission: district D[(i + 4) % 9] sends two files, `<code>_<YYYY-MM>.xlsx`
  and a day later `<code>_<YYYY-MM>_sua.xlsx` with a later "Ngày lập"; the first
  understates the month's field reports and leaves two cells of its last commune empty, the
  second has the right figures.
- nfd_text: district D[(i + 2) % 9] writes every text (sheet names, headers, labels, names,
  choices) in Unicode NFD.
- header_variant: when i % 3 == 2, Sở Tài chính (stc) writes the `Nền tảng` headers in capitals
  without diacritics ("TEN NEN TANG") and in another column order.
- wrong_period: in December, agency A[(i + 6) % 21] writes the month's figures under
  `Kỳ báo cáo` = 11/YYYY: the only sample file the spec rejects whole, so that unit has no
  valid submission for December.

The schedule for 2022, with the seed of params/settings.yaml (20220803); the bad cell is the
sample's only rejected row of the month (addresses are those of the default seed):

    month    late     bad cell                                   resubmits  NFD  other
    2022-01  vpubnd   483 text_in_count    Tổ công nghệ số!F9    479        477
    2022-02  snv      474 mau_gt_accounts  Nền tảng!E5           480        478
    2022-03  stp      476 members_lt_teams Tổ công nghệ số!D12   481        479  header_variant stc
    2022-04  skhdt    477 text_in_count    Tổ công nghệ số!F13   482        480
    2022-05  stc      478 mau_gt_accounts  Nền tảng!E9           483        481
    2022-06  sct      479 members_lt_teams Tổ công nghệ số!D7    474        482  header_variant stc
    2022-07  snnptnt  480 text_in_count    Tổ công nghệ số!F7    476        483
    2022-08  sgtvt    481 mau_gt_accounts  Nền tảng!E13          477        474
    2022-09  sxd      482 members_lt_teams Tổ công nghệ số!D4    478        476  header_variant stc
    2022-10  stnmt    483 text_in_count    Tổ công nghệ số!F11   479        477
    2022-11  stttt    474 mau_gt_accounts  Nền tảng!E4           480        478
    2022-12  sldtbxh  476 members_lt_teams Tổ công nghệ số!D13   481        479  header_variant stc,
                                                                                 wrong_period sngv

The modules:

    model       constants, the public anchors, and the planned cells, tables and files
    profiles    static reference data: district and agency profiles, platforms, names, proposals
    figures     the series and each sheet's rows for a unit and month
    schedule    who does what in a month, the file names, and when files arrive
    plan        the plan of the month: every workbook with its variants and faults
    workbook    writing a planned file as an .xlsx workbook
    folders     a month's folder, every month, the faults list, the generator's stamp
    lineage     the old units behind a unit of 2025 or later, and their shares
    regrouped   the sheets' rows of a unit of 2025 or later, added up from those shares
"""

from dxreport.sample.figures import month_index, province_downloads
from dxreport.sample.folders import STAMP, ensure_sample, faults, generate, generate_month, generator_version
from dxreport.sample.model import (
    BASE_MONTH,
    FIELD_REPORTS_BASE,
    FIELD_REPORTS_STEP,
    HEADER_ROW,
    HUES_DOWNLOADS_2022_01,
    HUES_DOWNLOADS_2022_07,
    HUES_DOWNLOADS_2022_12,
    SAMPLE_KEYWORD,
    SAMPLE_TZ,
    TITLE_ROWS,
)
from dxreport.sample.schedule import file_names

__all__ = [
    "BASE_MONTH",
    "FIELD_REPORTS_BASE",
    "FIELD_REPORTS_STEP",
    "HEADER_ROW",
    "HUES_DOWNLOADS_2022_01",
    "HUES_DOWNLOADS_2022_07",
    "HUES_DOWNLOADS_2022_12",
    "SAMPLE_KEYWORD",
    "SAMPLE_TZ",
    "STAMP",
    "TITLE_ROWS",
    "ensure_sample",
    "faults",
    "file_names",
    "generate",
    "generate_month",
    "generator_version",
    "month_index",
    "province_downloads",
]
