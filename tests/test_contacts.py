import pytest

from dxreport.contacts import ContactsError, load_contacts, read_contacts
from dxreport.units import load_registry

HEAD = "code,name,email,role,valid_from,valid_to,source\n"


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _write(tmp_path, rows: str):
    path = tmp_path / "contacts.csv"
    path.write_text(HEAD + rows, encoding="utf-8")
    return path


def test_addresses_by_unit_role_and_month(tmp_path, registry):
    path = _write(
        tmp_path,
        "474,Thành phố Huế,a@hue.example; b@hue.example,gui_bao_cao,2021-07-01,2024-12-31,x\n"
        "474,Quận Thuận Hóa,thuanhoa@hue.example,gui_bao_cao,2025-01-01,2025-06-30,x\n"
        "474,Quận Thuận Hóa,chutich@hue.example,lanh_dao,2025-01-01,2025-06-30,x\n"
        ",Bộ Khoa học và Công nghệ,vanthu@most.example,noi_nhan,2025-03-01,,x\n",
    )
    contacts = read_contacts(path, registry)
    assert contacts.addresses("474", "2024-12") == ["a@hue.example", "b@hue.example"]
    assert contacts.addresses("474", "2025-03") == ["thuanhoa@hue.example"]
    assert contacts.addresses("474", "2025-03", "lanh_dao") == ["chutich@hue.example"]
    assert contacts.addresses("474", "2025-07") == []
    assert contacts.recipient("bộ khoa học và công nghệ", "2025-04") == ["vanthu@most.example"]
    assert contacts.recipient("Bộ Khoa học và Công nghệ", "2025-02") == []
    assert contacts.sender_unit("B@hue.example", "2024-12") == "474"
    assert contacts.sender_unit("someone@else.example", "2024-12") is None


def test_a_contact_of_a_unit_that_no_longer_reports_is_a_warning(tmp_path, registry):
    path = _write(tmp_path, "483,Huyện Nam Đông,namdong@hue.example,gui_bao_cao,,,x\n")
    warnings = read_contacts(path, registry).check(registry, "2025-03")
    assert warnings[0] == (
        f"{path}, dòng 2: đơn vị 483 (Huyện Nam Đông) không gửi báo cáo tháng 2025-03; liên hệ này không được dùng"
    )
    # and every reporting unit without an address is named
    assert any(w.endswith("Quận Thuận Hóa (474) chưa có địa chỉ người gửi biểu mẫu tháng 2025-03") for w in warnings)


@pytest.mark.parametrize(
    "row, message",
    [
        ("474,Huế,a@hue.example,boss,,,x\n", "dòng 2, cột role: 'boss' không hợp lệ"),
        ("474,Huế,not-an-address,gui_bao_cao,,,x\n", "dòng 2, cột email: 'not-an-address' không phải địa chỉ"),
        ("999,Nowhere,a@hue.example,gui_bao_cao,,,x\n", "dòng 2, cột code: mã đơn vị '999' không có"),
        (",,a@hue.example,gui_bao_cao,,,x\n", "dòng 2, cột code: thiếu mã đơn vị"),
        ("474,Huế,a@hue.example,gui_bao_cao,2025-02-30,,x\n", "dòng 2, cột valid_from: '2025-02-30'"),
    ],
)
def test_a_bad_row_is_named(tmp_path, registry, row, message):
    with pytest.raises(ContactsError, match=message):
        read_contacts(_write(tmp_path, row), registry)


def test_the_project_contacts_cover_every_reporting_unit(registry):
    contacts = load_contacts(registry=registry)
    for month in ("2022-12", "2025-03", "2026-11"):
        assert contacts.check(registry, month) == []
    # the shipped addresses are placeholders that cannot be delivered
    assert all(e.endswith(".invalid") for c in contacts.rows for e in c.emails)
