import pytest

from dxreport.catalog import CatalogError, Matcher, load_aliases, load_bundled


@pytest.fixture(scope="module")
def matcher():
    return Matcher(load_bundled().platforms, load_aliases())


def test_bundled_snapshot_has_the_three_catalogs_and_sources():
    snap = load_bundled()
    assert set(snap.platforms["catalog"]) == {"chinh_quyen", "doanh_nghiep", "nguoi_dan"}
    assert snap.platforms["source"].str.len().min() > 0
    assert snap.date == "2022-12-31"


@pytest.mark.parametrize("name, expected", [
    ("Sổ sức khỏe điện tử", ("nd-sskdt", "name")),
    ("SO SUC KHOE DIEN TU", ("nd-sskdt", "name")),
    ("Sổ SKĐT", ("nd-sskdt", "alias")),
    ("so skdt", ("nd-sskdt", "alias")),
    ("Ứng dụng Phú Vang số", (None, "none")),
])
def test_matching_by_name_then_alias(matcher, name, expected):
    assert matcher.match(None, name) == expected


def test_a_known_id_wins_over_the_name(matcher):
    assert matcher.match("cq-lgsp", "anything") == ("cq-lgsp", "id")
    assert matcher.match("xx-unknown", "VNeID") == ("nd-vneid", "name")


def test_snapshot_without_a_name_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("snapshot_date: '2022-12-31'\nplatforms:\n  - {id: a, catalog: nguoi_dan}\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="thứ 1"):
        load_bundled(path)
