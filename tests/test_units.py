import pytest

from dxreport.units import RegistryError, load_registry, read_registry

HEADER = "code,name,short_name,type,kind,parent,sections,population,population_year,valid_from,valid_to,source\n"


def test_registry_has_the_2022_map():
    reg = load_registry()
    month = "2022-07"
    assert len(reg.area_units(month)) == 9
    assert sum(len(reg.communes(d.code, month)) for d in reg.area_units(month)) == 141
    assert len(reg.reporting_units(month)) == 30  # 9 districts + 20 agencies + HueIOC
    assert not reg.has("475", month)
    assert reg.get("481", month).population_year == 2020  # A Lưới
    assert reg.get("482", month).population_year == 2019  # Phú Lộc
    assert reg.province(month).population == 1160224


def test_same_commune_name_in_two_districts_is_told_apart_by_parent():
    reg = load_registry()
    month = "2022-07"
    hue = reg.find_commune("474", "Hương Phong", month)
    a_luoi = reg.find_commune("481", "hương phong", month)
    assert len(hue) == 1 and len(a_luoi) == 1 and hue[0].code != a_luoi[0].code


def test_validity_dates():
    reg = load_registry()
    assert reg.get("stttt", "2024-12").valid_in("2024-12")
    assert not reg.has("stttt", "2025-03")
    assert not reg.has("478", "2025-07")
    assert "478" not in [u.code for u in reg.reporting_units("2025-08")]


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
