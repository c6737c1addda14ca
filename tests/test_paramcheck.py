"""check_params: every params/ file checked at once, each problem in one sentence with file, line and key.

Each test copies the project's params/ folder, breaks one thing, and expects the exact message
(lines counted by hand in the project's files).
"""

import datetime as dt
import shutil

import pytest

from dxreport import params, paths
from dxreport.paramfiles import check_params
from dxreport.params import PARAMS_DIR, ParamError


@pytest.fixture
def params_dir(tmp_path, monkeypatch):
    """A copy of params/ in a temporary project folder, so that messages name params/<file>."""
    folder = tmp_path / "params"
    shutil.copytree(PARAMS_DIR, folder)
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)  # paths are shown relative to it
    return folder


def _break(folder, name, old, new):
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def _message(folder, **kw) -> str:
    with pytest.raises(ParamError) as err:
        check_params(folder, **kw)
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message and "KeyError" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
    return message


def test_the_project_params_pass(params_dir):
    assert check_params() is None
    assert check_params(params_dir) is None


def test_invalid_yaml_names_the_line_and_column(params_dir):
    _break(params_dir, "settings.yaml", "  form_version: 1\n", " form_version: 1\n")
    assert _message(params_dir) == (
        "params/settings.yaml, dòng 43, cột 2: không phải YAML hợp lệ (expected <block end>, but found "
        "'<block mapping start>'; while parsing a block mapping: dòng 2, cột 1)"
    )


def test_a_missing_settings_key_names_its_section_line_and_what_it_must_be(params_dir):
    _break(params_dir, "settings.yaml", "  deadline_day: 5\n", "")
    assert _message(params_dir) == "params/settings.yaml, dòng 38: thiếu khóa submission.deadline_day (số nguyên 1–28)"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "  deadline_day: 5\n",
            "  deadline_day: 31\n",
            "dòng 42: submission.deadline_day phải là số nguyên 1–28, không phải 31",
        ),
        (
            "  deadline_day: 5\n",
            '  deadline_day: "5"\n',
            "dòng 42: submission.deadline_day phải là số nguyên 1–28, không phải '5'",
        ),
        (
            "  deadline_day: 5\n",
            "  deadline_day: 5\n  deadline_dya: 6\n",
            "dòng 43: khóa submission.deadline_dya không được hỗ trợ; chỉ nhận: deadline_day, form_version, "
            "max_file_bytes, max_rows_per_sheet, reader",
        ),
        (
            "  seed: 20220803\n",
            '  seed: 20220803\n  first_month: "2022-02"\n',
            "dòng 51: khóa first_month viết hai lần (lần đầu ở dòng 48)",
        ),
        (
            '  last_month: "2026-11"\n',
            '  last_month: "2021-12"\n',
            "dòng 49: sample.last_month 2021-12 trước sample.first_month 2022-01",
        ),
        (
            "  fuzzy_threshold: 0.9\n",
            "  fuzzy_threshold: 1.5\n",
            "dòng 55: catalog.fuzzy_threshold phải là số trong khoảng (0, 1], không phải 1.5",
        ),
        (
            '        - "Bộ Thông tin và Truyền thông"\n        - "UBND tỉnh Thừa Thiên Huế"\n',
            "",
            "dòng 11: report.issuers[1].recipients phải là danh sách nơi nhận, ít nhất một, mỗi nơi là chữ, "
            "không phải None",
        ),
        (
            '  archive: ["VT", "CNTT"]',
            '  archive: "VT"',
            "dòng 33: report.archive phải là danh sách nơi lưu, ít nhất một, mỗi nơi là chữ (ví dụ [VT, CNTT]), "
            "không phải 'VT'",
        ),
        (
            '    - "{unit}"\n    - "Lãnh đạo Sở"\n',
            "",
            "dòng 30: report.unit_recipients phải là danh sách nơi nhận báo cáo của một đơn vị, ít nhất một, mỗi nơi là "
            "chữ ({unit}: tên đơn vị), không phải None",
        ),
        # the signer: a missing name, an empty title, a misspelt key, no signer at all
        ('    name: "Nguyễn Văn A"', "", "dòng 34: thiếu khóa report.signer.name (họ và tên người ký, chữ)"),
        (
            '    title: "PHÓ GIÁM ĐỐC"',
            '    title: ""',
            "dòng 36: report.signer.title phải là chức vụ người ký, chữ (ví dụ \"PHÓ GIÁM ĐỐC\"), không phải ''",
        ),
        (
            '    name: "Nguyễn Văn A"',
            '    nmae: "Nguyễn Văn A"',
            "dòng 37: khóa report.signer.nmae không được hỗ trợ; chỉ nhận: authority, title, name",
        ),
        (
            "  signer:",
            "  signers:",
            "dòng 34: khóa report.signers không được hỗ trợ; chỉ nhận: issuers, unit_recipients, archive, signer",
        ),
    ],
)
def test_a_bad_settings_value_is_named_with_its_line(params_dir, old, new, expected):
    _break(params_dir, "settings.yaml", old, new)
    assert _message(params_dir) == f"params/settings.yaml, {expected}"


def test_a_missing_settings_section(params_dir):
    text = (params_dir / "settings.yaml").read_text(encoding="utf-8")
    (params_dir / "settings.yaml").write_text(text[: text.index("sample:")], encoding="utf-8")
    assert (
        _message(params_dir)
        == "params/settings.yaml, dòng 2: thiếu mục sample (các mục: report, submission, sample, catalog, run, mail)"
    )


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            '    value: 90\n    comparison: ">="\n    unit: "tài khoản/100 dân"',
            '    value: "90"\n    comparison: ">="\n    unit: "tài khoản/100 dân"',
            "dòng 17: chỉ tiêu thứ 1 (ehealth_penetration): value phải là một số ≥ 0, không phải '90'",
        ),
        (
            "  - indicator: ehealth_penetration\n",
            "  - indicator: ehealth_rate\n",
            "dòng 15: chỉ tiêu thứ 1: chỉ tiêu 'ehealth_rate' không có trong danh mục chỉ tiêu (dxreport.kpis)",
        ),
        (
            "    year: 2022\n    value: 95\n",
            "    year: 22\n    value: 95\n",
            "dòng 48: chỉ tiêu thứ 5 (processed_rate): year phải là năm (số nguyên 2000–2100), không phải 22",
        ),
        (
            "    year: 2022\n    value: 95\n",
            "    year: 2022\n    value: 950\n",
            "dòng 49: chỉ tiêu thứ 5 (processed_rate): value là tỷ lệ phần trăm (0–100), không phải 950",
        ),
        (
            '    value: 80\n    comparison: ">="\n    official: false\n    source: "Chỉ tiêu của Sở"\n  - indicator: communes',
            '    value: 80\n    comparison: ">="\n    official: "không"\n    source: "Chỉ tiêu của Sở"\n  - indicator: communes',
            "dòng 63: chỉ tiêu thứ 7 (satisfaction): official phải là true (chỉ tiêu công bố chính thức) hoặc false "
            "(chỉ tiêu của Sở), không phải 'không'",
        ),
        (
            '    source: "Chỉ tiêu của Sở"\n    note: "mọi xã',
            '    sources: "Chỉ tiêu của Sở"\n    note: "mọi xã',
            "dòng 70: chỉ tiêu thứ 8: khóa sources không được hỗ trợ; chỉ nhận: indicator, label, year, value, "
            "comparison, unit, official, source, note",
        ),
    ],
)
def test_a_bad_target_is_named_with_the_file_and_line(params_dir, old, new, expected):
    _break(params_dir, "targets.yaml", old, new)
    assert _message(params_dir) == f"params/targets.yaml, {expected}"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "    threshold: 80\n",
            "    threshold: 180\n",
            "dòng 24: quy tắc thứ 3 (hues_penetration): threshold của below_share là phần trăm (0–100], không phải 180",
        ),
        (
            "    threshold: 80\n",
            "    threshold: cao\n",
            "dòng 24: quy tắc thứ 3 (hues_penetration): threshold phải là một số, không phải 'cao'",
        ),
        (
            "  - id: late\n    kind: late\n",
            "  - id: late\n    kind: late\n    threshold: 2\n",
            "dòng 20: quy tắc thứ 2 (late): quy tắc kind late không dùng threshold",
        ),
        (
            "  - id: late\n",
            "  - id: not_submitted\n",
            "dòng 18: quy tắc thứ 2 (not_submitted): mã quy tắc (id) not_submitted trùng với quy tắc thứ 1",
        ),
        (
            '    applies_to: [area]\n    proposal: "Đề nghị UBND {units} chỉ đạo',
            '    applies_to: area\n    proposal: "Đề nghị UBND {units} chỉ đạo',
            "dòng 31: quy tắc thứ 4 (processed_rate): applies_to là danh sách lấy từ area, agency, không phải 'area'",
        ),
    ],
)
def test_a_bad_lagging_rule_is_named_with_the_file_and_line(params_dir, old, new, expected):
    _break(params_dir, "lagging.yaml", old, new)
    assert _message(params_dir) == f"params/lagging.yaml, {expected}"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            '  "Hue S": nd-hues\n',
            '  "Hue S": Hue-S\n',
            "dòng 6: mã nền tảng của “Hue S” phải có dạng cq-…, dn-… hoặc nd-… (chữ thường, số, gạch nối), không phải 'Hue-S'",
        ),
        (
            '  "Hue S": nd-hues\n',
            '  "Hue S": nd-hues\n  "HUE  s": nd-hoc\n',
            "dòng 7: “HUE  s” và “Hue S” là một tên gọi (không kể hoa thường, dấu, khoảng trắng) nhưng ứng với hai nền "
            "tảng khác nhau: nd-hoc, nd-hues",
        ),
        ("aliases:\n", "alias:\n", "dòng 3: khóa alias không được hỗ trợ; chỉ nhận: aliases"),
    ],
)
def test_a_bad_alias_is_named_with_the_file_and_line(params_dir, old, new, expected):
    _break(params_dir, "platform_aliases.yaml", old, new)
    assert _message(params_dir) == f"params/platform_aliases.yaml, {expected}"


def test_a_bad_sources_file_is_named_with_the_line(params_dir):
    _break(params_dir, "sources.yaml", "version: 1\n", "version: 3\n")
    assert _message(params_dir) == (
        "params/sources.yaml, dòng 8: version 3 không được hỗ trợ; chỉ có version 1 "
        "(spec/catalog-sources.md), hoặc bỏ khóa version"
    )


def test_another_sources_file_is_checked_instead(params_dir, tmp_path):
    other = tmp_path / "thu.yaml"
    other.write_text(
        "catalogs:\n  nguoi_dan:\n    url: congdanso.mic.gov.vn\n    item: li\n    fields: {name: h3}\n",
        encoding="utf-8",
    )
    assert (
        _message(params_dir, sources=other)
        == "thu.yaml, dòng 3: catalogs.nguoi_dan.url phải là địa chỉ http(s) đầy đủ, không phải 'congdanso.mic.gov.vn'"
    )
    _break(params_dir, "sources.yaml", "version: 1\n", "version: 3\n")
    other.write_text(
        "catalogs:\n  nguoi_dan:\n    url: https://congdanso.mic.gov.vn\n    item: li\n    fields: {name: h3}\n",
        encoding="utf-8",
    )
    assert check_params(params_dir, sources=other) is None


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "\n476,Huyện Phong Điền,",
            "\n474,Huyện Phong Điền,",
            "dòng 4, cột valid_from: mã đơn vị '474' trùng thời kỳ với dòng 3 (một mã chỉ được dùng cho một đơn vị tại mỗi thời điểm)",
        ),
        (
            "\n476,Huyện Phong Điền,Phong Điền,district,",
            "\n476,Huyện Phong Điền,Phong Điền,huyen,",
            "dòng 4, cột type: loại đơn vị 'huyen' không hợp lệ; chỉ nhận: province, district, commune, agency",
        ),
        (
            "\n476,Huyện Phong Điền,Phong Điền,district,huyen,tinh,",
            "\n476,Huyện Phong Điền,Phong Điền,district,huyen,tnh,",
            "dòng 4, cột parent: đơn vị 476 có đơn vị cha 'tnh' không có trong danh mục",
        ),
        (
            ",91868,2022,2021-07-01,",
            ",91868,2022,2021-17-01,",
            "dòng 4, cột valid_from: '2021-17-01' không phải ngày dạng YYYY-MM-DD",
        ),
        ("code,name,", "ma,name,", "dòng 1: thiếu cột code"),
    ],
)
def test_a_bad_units_row_is_named_with_its_line_and_column(params_dir, old, new, expected):
    _break(params_dir, "units.csv", old, new)
    assert _message(params_dir) == f"params/units.csv, {expected}"


def test_a_missing_file_is_named(params_dir):
    (params_dir / "lagging.yaml").unlink()
    assert _message(params_dir) == "không đọc được tệp params/lagging.yaml: No such file or directory"


def test_settings_are_typed(params_dir):
    typed = params.settings(params_dir)
    assert typed.submission == params.SubmissionSettings(
        deadline_day=5, max_file_bytes=20_000_000, max_rows_per_sheet=5000, form_version=1
    )
    assert typed.sample == params.SampleSettings("2022-01", "2026-11", 20220803)
    assert typed.report.issuers[0].recipients == ("Bộ Thông tin và Truyền thông", "UBND tỉnh Thừa Thiên Huế")
    # the issuer in force on a day: the province's department, the city's, then the merged one
    assert typed.report.issuer_on(dt.date(2024, 12, 31)).place == "Thừa Thiên Huế"
    assert typed.report.issuer_on(dt.date(2025, 1, 6)).issuing_body_parent == "UBND THÀNH PHỐ HUẾ"
    assert typed.report.issuer_on(dt.date(2025, 1, 6)).number_suffix == "BC-STTTT"
    assert typed.report.issuer_on(dt.date(2025, 3, 1)).number_suffix == "BC-SKHCN"
    assert typed.report.unit_recipients == ("{unit}", "Lãnh đạo Sở") and typed.report.archive == ("VT", "CNTT")
    assert typed.report.signer == params.SignerSettings(
        title="PHÓ GIÁM ĐỐC", name="Nguyễn Văn A", authority="KT. GIÁM ĐỐC"
    )
    assert typed.catalog == {"fuzzy_threshold": 0.9, "rename_threshold": 0.8}


def test_a_units_file_saved_with_a_byte_order_mark_is_read(params_dir):
    path = params_dir / "units.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert check_params(params_dir) is None


def test_checking_does_not_load_the_notebook_machinery():
    import subprocess
    import sys

    code = (
        "import sys; from dxreport.paramfiles import check_params; check_params(); "
        "print(sorted(m for m in ('papermill', 'nbformat', 'nbclient') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(params.PROJECT_ROOT / "lib"), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]"


def test_a_target_without_official_says_what_it_means(params_dir):
    _break(
        params_dir,
        "targets.yaml",
        '    value: 100\n    comparison: ">="\n    official: false\n',
        '    value: 100\n    comparison: ">="\n',
    )
    assert _message(params_dir) == (
        "params/targets.yaml, dòng 41: chỉ tiêu thứ 4 (coverage_rate): thiếu khóa official "
        "(true: chỉ tiêu công bố chính thức; false: chỉ tiêu của Sở)"
    )
