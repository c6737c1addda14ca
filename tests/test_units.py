import csv

import pytest

from dxreport.paths import PARAMS_DIR
from dxreport.units import Registry, RegistryError, load_registry, read_changes, read_registry

HEADER = "code,name,short_name,type,kind,parent,sections,population,population_year,valid_from,valid_to,source\n"
ADMIN = PARAMS_DIR / "admin"


def _csv(name: str) -> list[dict]:
    with open(ADMIN / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def reg() -> Registry:
    return load_registry()


# --------------------------------------------------------------------------- the three maps


def test_registry_has_the_2022_map(reg):
    month = "2022-07"
    assert len(reg.area_units(month)) == 9
    assert sum(len(reg.communes(d.code, month)) for d in reg.area_units(month)) == 141
    assert len(reg.reporting_units(month)) == 30  # 9 districts + 20 agencies + HueIOC
    assert not reg.has("475", month)
    assert reg.get("481", month).population_year == 2020  # A Lưới
    assert reg.get("482", month).population_year == 2019  # Phú Lộc
    assert reg.province(month).population == 1160224
    assert reg.province(month).name == "Tỉnh Thừa Thiên Huế"


def test_the_2022_units_are_those_of_the_source_file(reg):
    rows = _csv("units_2022.csv")
    month = "2024-12"
    districts = {r["gso_code"]: r for r in rows if r["level"] == "district"}
    assert {u.code for u in reg.area_units(month)} == set(districts)
    for code, row in districts.items():
        unit = reg.get(code, month)
        assert unit.short_name == row["name"] and unit.kind == row["type"]
        assert unit.population == int(row["population"]) and unit.population_year == int(row["population_year"])
    communes = {r["gso_code"]: r for r in rows if r["level"] == "commune"}
    listed = {c.code: c for d in reg.area_units(month) for c in reg.communes(d.code, month)}
    assert set(listed) == set(communes)
    assert all(listed[code].short_name == row["name"] for code, row in communes.items())


def test_the_first_half_of_2025_is_the_source_file(reg):
    rows = _csv("units_2025_h1.csv")
    for month in ("2025-01", "2025-06"):
        districts = {r["gso_code"]: r for r in rows if r["level"] == "district"}
        assert {u.code: u.name for u in reg.area_units(month)} == {c: r["full_name"] for c, r in districts.items()}
        communes = {r["gso_code"]: r for r in rows if r["level"] == "commune"}
        listed = {c.code: c for d in reg.area_units(month) for c in reg.communes(d.code, month)}
        assert {c: u.name for c, u in listed.items()} == {c: r["full_name"] for c, r in communes.items()}
        assert all(listed[c].parent == r["district_code"] for c, r in communes.items())
    assert reg.get("474", "2025-01").name == "Quận Thuận Hóa"
    assert reg.get("474", "2024-12").name == "Thành phố Huế"
    assert reg.get("475", "2025-03").name == "Quận Phú Xuân"
    assert not reg.has("483", "2025-01")
    assert reg.province("2025-01").name == "Thành phố Huế"


def test_from_july_2025_forty_communes_report_directly(reg):
    rows = _csv("units_2025.csv")
    for month in ("2025-07", "2026-11"):
        units = reg.area_units(month)
        assert len(units) == 40
        assert {u.code for u in units} == {r["gso_code"] for r in rows}
        assert sum(u.kind == "phuong" for u in units) == 21 and sum(u.kind == "xa" for u in units) == 19
        assert all(u.type == "commune" and u.parent == "tinh" for u in units)
        assert all(reg.communes(u.code, month) == [u] for u in units)
        assert reg.children("tinh", month) == units
    assert reg.get("19753", "2025-07").name == "Phường Phú Xuân"
    assert reg.get("19753", "2024-12").name == "Phường Thuận Lộc"


def test_agencies_of_each_period(reg):
    assert len(reg.agencies("2022-12")) == 21
    assert len(reg.agencies("2025-02")) == 21
    merged = {u.code for u in reg.agencies("2025-03")}
    assert len(merged) == 15
    assert "stttt" not in merged and "skhdt" not in merged and "snnmt" in merged
    assert reg.get("vpubnd", "2025-01").name == "Văn phòng UBND thành phố"
    assert reg.get("vpubnd", "2024-12").name == "Văn phòng UBND tỉnh"
    assert reg.get("hueioc", "2025-03").parent == "skhcn"


def test_levels_and_their_words(reg):
    assert reg.area_kinds("2022-12") == "huyện, thị xã, thành phố"
    assert reg.area_kinds("2025-01") == "huyện, thị xã, quận"
    assert reg.area_kinds("2025-07") == "xã, phường"
    assert (reg.area_level("2025-06"), reg.area_level("2025-07")) == ("district", "commune")
    assert reg.kind_word(reg.province("2024-12").kind) == "tỉnh"
    assert reg.kind_word(reg.province("2025-01").kind) == "thành phố"
    assert reg.in_sentence(reg.get("478", "2022-12")) == "huyện Phú Vang"
    assert reg.in_sentence(reg.get("474", "2022-12")) == "thành phố Huế"
    assert reg.in_sentence(reg.get("474", "2025-02")) == "quận Thuận Hóa"
    assert reg.in_sentence(reg.get("19753", "2025-07")) == "phường Phú Xuân"
    assert reg.in_sentence(reg.province("2025-07")) == "thành phố Huế"
    assert reg.in_sentence(reg.get("snv", "2022-12")) == "Sở Nội vụ"


def test_same_commune_name_in_two_districts_is_told_apart_by_parent(reg):
    month = "2022-07"
    hue = reg.find_commune("474", "Hương Phong", month)
    a_luoi = reg.find_commune("481", "hương phong", month)
    assert len(hue) == 1 and len(a_luoi) == 1 and hue[0].code != a_luoi[0].code


def test_a_reused_code_needs_its_month(reg):
    with pytest.raises(LookupError, match="474"):
        reg.get("474")
    assert reg.get("sct").name == "Sở Công Thương"  # one row: no month needed
    assert reg.name_of("474", "2025-03") == "Quận Thuận Hóa"
    assert reg.name_of("474") == "Quận Thuận Hóa"  # the latest name
    assert reg.name_of("nowhere") == "nowhere"


def test_validity_dates(reg):
    assert reg.get("stttt", "2024-12").valid_in("2024-12")
    assert not reg.has("stttt", "2025-03")
    assert not reg.has("478", "2025-07")
    assert "478" not in [u.code for u in reg.reporting_units("2025-08")]


# --------------------------------------------------------------------------- across periods


def test_crosswalk_covers_every_commune_once_and_matches_the_source(reg):
    source = {r["gso_code_2022"]: r["gso_code_2025"] for r in _csv("crosswalk_2022_2025.csv")}
    assert len(source) == 141
    for old, new in source.items():
        assert reg.forward(old, "2024-12", "2025-07")[0] == new
    steps = {c.date for c in reg.changes}
    assert steps == {"2025-01-01", "2025-07-01"}
    assert sum(c.date == "2025-01-01" for c in reg.changes) == 141
    assert sum(c.date == "2025-07-01" for c in reg.changes) == 133


def test_merged_communes_of_january_2025(reg):
    # xã Phú Thanh and xã Phú Mậu became phường Dương Nỗ, which kept Phú Mậu's code
    assert reg.forward("19924", "2024-12", "2025-01") == ("19909", False)  # Phú Thanh -> Dương Nỗ
    assert reg.forward("19909", "2024-12", "2025-01") == ("19909", False)  # Phú Mậu, renamed Dương Nỗ
    assert reg.get("19909", "2025-01").name == "Phường Dương Nỗ"
    # the two rows the sources do not settle are marked
    assert reg.forward("19834", "2024-12", "2025-07") == ("19828", True)  # Điền Hòa -> Phong Phú
    assert reg.forward("19822", "2024-12", "2025-07") == ("19828", True)  # Điền Hương -> Phong Phú
    assert reg.forward("19750", "2022-12", "2026-11") == ("19753", False)  # Tây Lộc -> Phú Xuân


def test_predecessors_of_a_2025_commune(reg):
    # phường Phú Xuân (2025) = Tây Lộc, Thuận Lộc, Gia Hội, Phú Hậu, Thuận Hòa, Đông Ba (old Huế)
    old, uncertain = reg.predecessors("19753", "2025-07", "2024-07")
    assert sorted(c.code for c in old) == ["19750", "19753", "19756", "19759", "19762", "19768"]
    assert not uncertain
    old, uncertain = reg.predecessors("19828", "2025-07", "2024-07")
    assert {"19834", "19822"} <= {c.code for c in old} and uncertain


def test_same_unit_follows_the_area_not_the_code(reg):
    assert reg.same_unit("477", "2025-01", "2024-12")  # Quảng Điền: same communes
    assert reg.same_unit("476", "2025-01", "2024-12")  # Phong Điền became a thị xã, same communes
    assert not reg.same_unit("474", "2025-01", "2024-12")  # Huế split into Thuận Hóa and Phú Xuân
    assert not reg.same_unit("482", "2025-01", "2024-12")  # Phú Lộc took Nam Đông
    assert not reg.same_unit("19753", "2025-07", "2025-06")  # Thuận Lộc is not Phú Xuân
    assert reg.same_unit("tinh", "2025-07", "2024-07")  # the province goes on
    assert reg.same_unit("vpubnd", "2025-03", "2024-03")  # renamed
    assert not reg.same_unit("snv", "2025-03", "2024-03")  # merged with Sở LĐ-TB&XH
    assert reg.same_unit("sct", "2026-11", "2022-12")


def test_successors_of_codes_that_stopped_reporting(reg):
    assert reg.successors("483", "2025-01") == ("2025-01-01", [reg.get("482", "2025-01")])
    ended, holders = reg.successors("474", "2025-07")
    assert ended == "2025-07-01"
    # the last 474 was quận Thuận Hóa (2025 H1): its communes are now in these phường, not in Phú Xuân
    assert {u.short_name for u in holders} >= {"Thuận Hóa", "Vỹ Dạ", "An Cựu"}
    assert "Phú Xuân" not in {u.short_name for u in holders}
    assert reg.successors("stttt", "2025-04") == ("2025-03-01", [reg.get("skhcn", "2025-04")])
    assert reg.successors("474", "2025-03") is None  # reused: quận Thuận Hóa reports
    assert reg.successors("19753", "2022-12") is None  # a commune never reported in 2022


# --------------------------------------------------------------------------- bad files


def test_bad_registry_names_the_line(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        HEADER + "tinh,Tỉnh,T,province,tinh,,,,,,,x\n474,Huế,Huế,district,x,tinh,,abc,2022,,,x\n", encoding="utf-8"
    )
    with pytest.raises(RegistryError, match="dòng 3, cột population"):
        read_registry(path)


def test_unknown_parent_is_refused(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(HEADER + "474,Huế,Huế,district,x,nowhere,,,,,,x\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="nowhere"):
        read_registry(path)


def test_a_code_may_return_in_another_period_only(tmp_path):
    path = tmp_path / "units.csv"
    rows = (
        "tinh,Tỉnh,T,province,tinh,,,,,,,x\n"
        "474,Huế,Huế,district,thanh_pho,tinh,,,,2021-07-01,2024-12-31,x\n"
        "474,Thuận Hóa,Thuận Hóa,district,quan,tinh,,,,2025-01-01,,x\n"
    )
    path.write_text(HEADER + rows, encoding="utf-8")
    assert [u.name for u in read_registry(path).rows("474")] == ["Huế", "Thuận Hóa"]
    path.write_text(HEADER + rows.replace("2025-01-01,,x", "2024-12-01,,x"), encoding="utf-8")
    with pytest.raises(RegistryError, match="dòng 4, cột valid_from: mã đơn vị '474' trùng thời kỳ với dòng 3"):
        read_registry(path)


def test_a_crosswalk_must_cover_every_commune(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(
        HEADER + "tinh,Tỉnh,T,province,tinh,,,,,,,x\n"
        "1,Xã A,A,commune,xa,tinh,,,,,2024-12-31,x\n"
        "2,Xã B,B,commune,xa,tinh,,,,,2024-12-31,x\n"
        "3,Xã C,C,commune,xa,tinh,,,,2025-01-01,,x\n",
        encoding="utf-8",
    )
    registry = read_registry(units)
    cross = tmp_path / "crosswalk.csv"
    head = "date,from_code,from_name,to_code,to_name,uncertain,note,source\n"
    cross.write_text(head + "2025-01-01,1,A,3,C,,,x\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="ngày 2025-01-01 thiếu dòng cho các xã 2"):
        read_changes(cross, registry)
    cross.write_text(head + "2025-01-01,1,A,3,C,,,x\n2025-01-01,2,B,9,?,,,x\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="dòng 3, cột to_code: '9' không phải đơn vị cấp xã"):
        read_changes(cross, registry)
    cross.write_text(head + "2025-01-01,1,A,3,C,,,x\n2025-01-01,2,B,3,C,?,,x\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="dòng 3, cột uncertain"):
        read_changes(cross, registry)
    cross.write_text(head + "2025-01-01,1,A,3,C,,,x\n2025-01-01,2,B,3,C,x,,x\n", encoding="utf-8")
    changes = read_changes(cross, registry)
    assert [(c.from_code, c.to_code, c.uncertain) for c in changes] == [("1", "3", False), ("2", "3", True)]
