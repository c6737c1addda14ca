"""The catalogs: matching names, the sources file, and scraping a real server on 127.0.0.1 with faults."""

import hashlib
import json
import pickle
import unicodedata
from datetime import date

import pandas as pd
import pytest
import yaml

from catalog_server import CatalogServer, Reply, card, page, refused_url, write_sources
from dxreport import catalog, steps, store
from dxreport.catalog import CatalogError, Matcher, load_aliases, load_bundled, load_sources, thresholds
from dxreport.catalog.fetch import HttpSettings
from dxreport.params import PARAMS_DIR


@pytest.fixture(scope="module")
def matcher():
    return Matcher(load_bundled().platforms, load_aliases())


def test_bundled_snapshot_has_the_three_catalogs_and_sources():
    snap = load_bundled()
    assert set(snap.platforms["catalog"]) == {"chinh_quyen", "doanh_nghiep", "nguoi_dan"}
    assert snap.platforms["source"].str.len().min() > 0
    assert snap.date == "2022-12-31"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Sổ sức khỏe điện tử", ("nd-sskdt", "name")),
        ("SO SUC KHOE DIEN TU", ("nd-sskdt", "name")),
        ("Sổ SKĐT", ("nd-sskdt", "alias")),
        ("so skdt", ("nd-sskdt", "alias")),
        ("Ứng dụng Phú Vang số", (None, "none")),
    ],
)
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


# --------------------------------------------------------------------------- fuzzy matching


def test_a_near_name_is_a_fuzzy_match_with_its_score(matcher):
    # "phan anh hien truon" (19 letters and spaces) against "phan anh hien truong" (20): 2·19/39
    got = matcher.match(None, "Phản ánh hiện trườn")
    assert got == ("nd-phananh", "fuzzy")
    assert got.score == round(38 / 39, 4) and got.candidate == "Phản ánh hiện trường"
    assert "giống 97,4%" in got.note("Phản ánh hiện trườn")


def test_a_near_alias_is_a_fuzzy_match_named_by_its_platform(matcher):
    got = matcher.match(None, "Trục liên thông LGS")  # alias "Trục liên thông LGSP", 2·19/39
    assert got == ("cq-lgsp", "fuzzy")
    assert got.candidate == "Nền tảng tích hợp, chia sẻ dữ liệu cấp tỉnh (LGSP)"


def test_fuzzy_respects_the_threshold_and_refuses_short_names_and_ties():
    assert Matcher(load_bundled().platforms, load_aliases(), threshold=0.99).match(None, "Phản ánh hiện trườn") == (
        None,
        "none",
    )
    loose = Matcher(load_bundled().platforms, load_aliases(), threshold=0.3)
    assert loose.match(None, "VNe") == (None, "none")  # under four characters: never fuzzy
    twins = pd.DataFrame({"platform_id": ["x1", "x2"], "name": ["Ứng dụng ABCD", "Ứng dụng ABCE"]})
    assert Matcher(twins, {}, threshold=0.9).match(None, "Ứng dụng ABCF") == (None, "none")  # 12/13 each: a tie
    assert Matcher(twins, {}, threshold=0.9).match(None, "Ứng dụng ABCDX") == ("x1", "fuzzy")


def test_a_match_is_still_a_pair():
    got = Matcher(load_bundled().platforms, load_aliases()).match(None, "Phản ánh hiện trườn")
    pid, how = got
    assert (pid, how) == ("nd-phananh", "fuzzy") and len(got) == 2
    back = pickle.loads(pickle.dumps(got))
    assert back == got and back.score == got.score and back.candidate == got.candidate


def test_thresholds_come_from_settings(tmp_path):
    assert thresholds() == {"fuzzy_threshold": 0.9, "rename_threshold": 0.8}
    settings = yaml.safe_load((PARAMS_DIR / "settings.yaml").read_text(encoding="utf-8"))
    settings["catalog"] = {"fuzzy_threshold": 1.5}
    (tmp_path / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"settings.yaml: catalog.fuzzy_threshold phải là số trong khoảng \(0, 1\]"):
        thresholds(tmp_path)


# --------------------------------------------------------------------------- the sources file


def test_the_project_sources_file_names_the_three_mic_catalogs():
    src = load_sources()
    assert {k: c.url for k, c in src.catalogs.items()} == {
        "chinh_quyen": "https://mic.gov.vn/mra/Pages/trangchu.aspx",
        "doanh_nghiep": "https://smedx.mic.gov.vn",
        "nguoi_dan": "https://congdanso.mic.gov.vn",
    }
    assert src.snapshots == catalog.SNAPSHOTS_DIR
    assert src.catalogs["nguoi_dan"].fields["link"] == catalog.Selector("a", "href")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(version=2), "version 2 không được hỗ trợ; chỉ có version 1"),
        (lambda d: d["catalogs"].update(xa_hoi=d["catalogs"]["nguoi_dan"]), "catalogs: khóa không được hỗ trợ xa_hoi"),
        (
            lambda d: d["catalogs"]["nguoi_dan"].update(item="div["),
            "catalogs.nguoi_dan.item: bộ chọn CSS “div[” không hợp lệ",
        ),
        (
            lambda d: d["catalogs"]["nguoi_dan"]["fields"].pop("name"),
            "catalogs.nguoi_dan.fields.name: thiếu bộ chọn tên",
        ),
        (
            lambda d: d["catalogs"]["nguoi_dan"].update(url="ftp://x/"),
            "catalogs.nguoi_dan.url phải là địa chỉ http(s) đầy đủ",
        ),
        (lambda d: d["http"].update(read_timeout="nhanh"), "http.read_timeout phải là số, không phải 'nhanh'"),
        (
            lambda d: d["catalogs"]["nguoi_dan"].update(selector="h3"),
            "catalogs.nguoi_dan: khóa không được hỗ trợ selector",
        ),
    ],
)
def test_a_bad_sources_file_is_refused_naming_the_file_and_the_key(tmp_path, change, message):
    path = write_sources(tmp_path / "nguon.yaml", tmp_path / "snap", {"nguoi_dan": "http://127.0.0.1:9/"})
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_sources(path)
    assert str(err.value).startswith(f"{path}, dòng ") and message in str(err.value)


# the example of spec/catalog-sources.md, as it is written there: no version, no snapshots/http/guards
SPEC_EXAMPLE = """\
catalogs:
  chinh_quyen:                      # catalog key: chinh_quyen | doanh_nghiep | nguoi_dan
    title: Nền tảng số phục vụ chính quyền
    url: https://mic.gov.vn/mra/Pages/trangchu.aspx
    item: "div.platform-card"       # CSS selector: one match per platform
    fields:                          # field -> CSS selector inside the item
      name: "h3"                     # text of the first match (required field)
      provider: ".provider"
      link: "a@href"                 # selector@attribute takes an attribute; relative URLs are resolved
      field: ".category"
    next: "a.next@href"             # optional: link to the next page, followed until absent
    max_pages: 50                    # optional guard
"""


def test_the_spec_example_without_a_version_is_version_1_with_defaults(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(SPEC_EXAMPLE, encoding="utf-8")
    src = load_sources(path)
    cq = src.catalogs["chinh_quyen"]
    assert list(src.catalogs) == ["chinh_quyen"]
    assert (cq.url, cq.item, cq.max_pages, cq.next) == (
        "https://mic.gov.vn/mra/Pages/trangchu.aspx",
        "div.platform-card",
        50,
        catalog.Selector("a.next", "href"),
    )
    assert cq.fields == {
        "name": catalog.Selector("h3"),
        "provider": catalog.Selector(".provider"),
        "link": catalog.Selector("a", "href"),
        "field": catalog.Selector(".category"),
    }
    assert src.snapshots == catalog.SNAPSHOTS_DIR
    assert src.guards == catalog.Guards() and src.http == HttpSettings()
    # only what the spec calls required: the url, the item and fields.name
    path.write_text(
        "catalogs:\n  nguoi_dan:\n    url: https://congdanso.mic.gov.vn\n    item: li\n    fields:\n      name: h3\n",
        encoding="utf-8",
    )
    nd = load_sources(path).catalogs["nguoi_dan"]
    assert (nd.title, nd.next, nd.max_pages, list(nd.fields)) == ("Nền tảng số phục vụ người dân", None, 50, ["name"])


def test_an_unknown_version_is_refused_naming_the_file_and_the_line(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("# nguồn danh mục\n\nversion: 2\n" + SPEC_EXAMPLE, encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_sources(path)
    assert str(err.value) == (
        f"{path}, dòng 3: version 2 không được hỗ trợ; chỉ có version 1 (spec/catalog-sources.md), hoặc bỏ khóa version"
    )


def test_a_bad_key_of_the_spec_example_is_named_with_its_line(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(SPEC_EXAMPLE.replace("max_pages: 50 ", "max_pages: 0  "), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_sources(path)
    assert str(err.value) == f"{path}, dòng 12: catalogs.chinh_quyen.max_pages phải ≥ 1, không phải 0"
    path.write_text(SPEC_EXAMPLE.replace('next: "a.next@href"', 'next: "a.next@href'), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_sources(path)
    message = str(err.value)
    assert message == (
        f"{path}, dòng 13, cột 1: không phải YAML hợp lệ (found unexpected end of stream; "
        "while scanning a quoted scalar: dòng 11, cột 11)"
    )


# --------------------------------------------------------------------------- scraping a served catalog

NFD_SSKDT = unicodedata.normalize("NFD", "Sổ sức khỏe điện tử")
D1, D2, D3 = date(2023, 1, 5), date(2023, 2, 5), date(2023, 2, 20)


@pytest.fixture
def server():
    with CatalogServer() as s:
        yield s


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _by_catalog(result):
    return {c.catalog: c for c in result.catalogs}


def test_pagination_relative_links_nfd_text_and_items_without_names(server, tmp_path):
    pages = {
        "/nd/": page(
            card(NFD_SSKDT, "Bộ Y tế", "/nd/sskdt", "Y tế"),
            card("", "Không tên"),
            card("  Nền tảng   XYZ ", "", "chi-tiet/xyz", ""),
            next_link="?trang=2",
        ),
        "/nd/?trang=2": page(
            card("HueS", "", "https://hue-s.vn/", ""),
            card("Cửa hàng số", "", "javascript:alert(1)", ""),
            next_link="/nd/p3",
        ),
        "/nd/p3": page(card("Ứng dụng mới", "", "", "Khác")),
    }
    for path, html_text in pages.items():
        server.route(path, Reply(200, html_text))
    sources = write_sources(tmp_path / "sources.yaml", tmp_path / "snap", {"nguoi_dan": server.url("/nd/")})
    result = catalog.scrape(sources, today=D1)
    nd = _by_catalog(result)["nguoi_dan"]
    assert nd.outcome == "ok"
    assert nd.message == "tải được 5 nền tảng từ 3 trang; bỏ qua 1 mục không có tên"
    assert (nd.items, nd.skipped, nd.snapshot_date) == (5, 1, "2023-01-05")
    scraped = nd.part.platforms().set_index("platform_id")
    assert list(scraped.index) == ["nd-sskdt", "nd-nen-tang-xyz", "nd-hues", "nd-cuahangso", "nd-ung-dung-moi"]
    assert scraped.loc["nd-sskdt", "name"] == "Sổ sức khỏe điện tử"  # NFC, the bundled id kept
    assert unicodedata.is_normalized("NFC", scraped.loc["nd-sskdt", "name"])
    assert scraped.loc["nd-sskdt", "link"] == server.url("/nd/sskdt")
    assert scraped.loc["nd-nen-tang-xyz", "name"] == "Nền tảng XYZ"
    assert scraped.loc["nd-nen-tang-xyz", "link"] == server.url("/nd/chi-tiet/xyz")
    assert scraped.loc["nd-hues", "name"] == "HueS"  # found by its alias
    assert scraped.loc["nd-cuahangso", "link"] == ""  # not http(s): dropped
    assert scraped.loc["nd-ung-dung-moi", "source"] == server.url("/nd/p3")
    assert set(scraped["first_seen"]) == {"2023-01-05"}
    # the raw bytes and the fetch records are kept, and the pointer names the part
    folder = tmp_path / "snap" / "2023-01-05" / "nguoi_dan"
    assert (folder / "page-02.html").read_bytes() == pages["/nd/?trang=2"].encode()
    meta = json.loads((folder / "part.json").read_text(encoding="utf-8"))
    assert meta["status"] == "good" and [p["url"] for p in meta["pages"]] == [server.url(p) for p in pages]
    first = meta["pages"][0]
    assert first["status"] == 200 and first["headers"]["content-type"] == "text/html; charset=utf-8"
    assert first["bytes"] == len(pages["/nd/"].encode()) and first["fetched_at"].startswith("20")
    assert first["sha256"] == hashlib.sha256(pages["/nd/"].encode()).hexdigest()
    assert json.loads((tmp_path / "snap" / "last_good.json").read_text()) == {"nguoi_dan": "2023-01-05/nguoi_dan"}
    # the snapshot in use: the scrape, the bundled citizen platforms it did not find, the bundled other catalogs
    used = result.snapshot.platforms.set_index("platform_id")
    assert len(used) == 5 + (11 - 3) + 7 + 3
    assert used.loc["nd-vneid", "source"] == "Ứng dụng quốc gia (Bộ Công an)"
    assert used.loc["nd-vneid", "snapshot_date"] == "2023-01-05" and used.loc["nd-vneid", "first_seen"] is None
    assert used.loc["cq-lgsp", "snapshot_date"] == "2022-12-31"
    others = _by_catalog(result)["chinh_quyen"]
    assert others.outcome == "not_configured"
    assert others.message == (
        "không có trong tệp nguồn sources.yaml; dùng bản chụp ngày 31/12/2022 (bản kèm theo chương trình)"
    )
    assert result.failed == [] and result.changes.empty


def test_a_pause_between_pages(server, tmp_path):
    server.route("/nd/", Reply(200, page(card("A1"), next_link="/nd/2")))
    server.route("/nd/2", Reply(200, page(card("A2"), next_link="/nd/3")))
    server.route("/nd/3", Reply(200, page(card("A3"))))
    sources = write_sources(
        tmp_path / "s.yaml", tmp_path / "snap", {"nguoi_dan": server.url("/nd/")}, http={"pause": 0.15}
    )
    assert _by_catalog(catalog.scrape(sources, today=D1))["nguoi_dan"].outcome == "ok"
    times = [r["at"] for r in server.requests]
    assert len(times) == 3 and all(b - a >= 0.15 for a, b in zip(times, times[1:]))


def test_pages_are_capped_and_a_next_link_to_a_seen_page_ends_the_catalog(server, tmp_path):
    for n in range(1, 6):
        server.route(f"/cq/{n}", Reply(200, page(card(f"Nền tảng số {n}"), next_link=f"/cq/{n + 1}")))
    sources = write_sources(tmp_path / "s.yaml", tmp_path / "snap", {"chinh_quyen": server.url("/cq/1")}, max_pages=3)
    cq = _by_catalog(catalog.scrape(sources, today=D1))["chinh_quyen"]
    assert cq.outcome == "failed" and len(server.requests) == 3
    assert "vẫn còn trang sau 3 trang (giới hạn max_pages)" in cq.message
    assert not (tmp_path / "snap" / "last_good.json").exists()

    server.route("/self", Reply(200, page(card("Một mình"), next_link="/self")))
    sources = write_sources(tmp_path / "s2.yaml", tmp_path / "snap2", {"chinh_quyen": server.url("/self")})
    cq = _by_catalog(catalog.scrape(sources, today=D1))["chinh_quyen"]
    assert cq.outcome == "ok" and cq.items == 1 and len(server.hits("/self")) == 1


# --------------------------------------------------------------------------- faults keep the last good snapshot

GOOD = page(
    card("Nền tảng địa chỉ số", "Bộ TT&TT", "/cq/diachiso"),
    card("Nền tảng bản đồ số", "Bộ TT&TT", "/cq/bandoso"),
    card("LGSP", "UBND tỉnh", "/cq/lgsp"),
    card("Nền tảng giám sát an toàn thông tin", "Cục ATTT", "/cq/giamsat"),
)
GOOD_IDS = ["cq-diachiso", "cq-bandoso", "cq-lgsp", "cq-nen-tang-giam-sat-an-toan-thong-tin"]


@pytest.fixture
def seeded(server, tmp_path):
    """A good snapshot of chinh_quyen taken on 05/01/2023."""
    server.route("/cq/", Reply(200, GOOD))
    sources = write_sources(tmp_path / "sources.yaml", tmp_path / "snap", {"chinh_quyen": server.url("/cq/")})
    first = _by_catalog(catalog.scrape(sources, today=D1))["chinh_quyen"]
    assert first.outcome == "ok" and list(first.part.platforms()["platform_id"]) == GOOD_IDS
    root = tmp_path / "snap"
    return sources, root, _tree(root / "2023-01-05"), (root / "last_good.json").read_bytes()


FAULTS = {
    "500 every time": ([Reply(500, "lỗi")], "máy chủ trả lỗi HTTP 500 (sau 2 lần thử)"),
    "a hang past the timeout": ([Reply(200, GOOD, delay=1.0)], "máy chủ không trả lời trong 0,3 giây (sau 2 lần thử)"),
    "connection refused": (None, "không kết nối được tới máy chủ"),
    "a truncated body": ([Reply(200, GOOD, truncate_to=60)], "nội dung tải về bị cắt ngang"),
    "an empty page": ([Reply(200, "")], "máy chủ trả về trang trống (0 byte)"),
    "garbage": ([Reply(200, bytes(range(256)) * 20)], "không tìm thấy nền tảng nào theo bộ chọn “div.platform-card”"),
    "garbage that is not html": (
        [Reply(200, bytes(range(256)), content_type="application/octet-stream")],
        "không phải trang HTML (Content-Type: application/octet-stream)",
    ),
    "a redirect loop": ([Reply(302, "", headers={"Location": "/cq/"})], "chuyển hướng quá 3 lần"),
    "a huge body": ([Reply(200, "x" * 100_000)], "trang dài 100.000 byte, quá giới hạn max_bytes 20.000 byte"),
    "far fewer items": (
        [Reply(200, page(card("Nền tảng địa chỉ số")))],
        "chỉ tìm thấy 1 nền tảng, ít hơn nhiều so với 4 nền tảng của bản chụp ngày 05/01/2023 (dưới 50%)",
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_every_fault_keeps_the_last_good_snapshot_and_says_what_happened(server, seeded, tmp_path, fault):
    sources, root, good_files, pointer = seeded
    replies, expected = FAULTS[fault]
    if replies is None:
        write_sources(sources, root, {"chinh_quyen": refused_url()})
    else:
        server.route("/cq/", *replies)
    result = catalog.scrape(sources, today=D2)
    cq = _by_catalog(result)["chinh_quyen"]
    assert cq.outcome == "failed" and result.failed == [cq]
    assert cq.message.startswith("không tải được danh mục: ") and expected in cq.message, cq.message
    assert cq.message.endswith("; dùng bản chụp ngày 05/01/2023")
    assert cq.snapshot_date == "2023-01-05" and cq.snapshot == "2023-01-05/chinh_quyen"
    assert _tree(root / "2023-01-05") == good_files  # untouched
    assert (root / "last_good.json").read_bytes() == pointer
    used = result.snapshot.platforms
    assert list(used.loc[used["source"].str.startswith("http"), "platform_id"]) == GOOD_IDS
    assert set(used.loc[used["catalog"] == "chinh_quyen", "snapshot_date"]) == {"2023-01-05"}
    log = result.fetch_log("2023-02").set_index("catalog")
    assert log.loc["chinh_quyen", "outcome"] == "failed" and log.loc["chinh_quyen", "message"] == cq.message
    # what came back, if anything, is kept beside the good part, marked failed
    failed_part = root / "2023-02-05" / "chinh_quyen" / "part.json"
    if cq.status is not None:
        assert json.loads(failed_part.read_text(encoding="utf-8"))["status"] == "failed"
    else:
        assert not failed_part.exists()


@pytest.mark.parametrize(
    "first, said",
    [
        (Reply(500, "lỗi"), "máy chủ trả lỗi HTTP 500"),
        (Reply(429, "chậm lại", headers={"Retry-After": "1"}), "máy chủ trả lỗi HTTP 429"),
    ],
)
def test_a_transient_error_then_200_gives_a_new_good_snapshot(server, seeded, first, said):
    sources, root, good_files, _ = seeded
    server.route("/cq/", first, Reply(200, GOOD))
    cq = _by_catalog(catalog.scrape(sources, today=D2))["chinh_quyen"]
    assert cq.outcome == "ok"
    assert cq.message == f"tải được 4 nền tảng từ 1 trang; trang 1 tải được sau 2 lần thử (lần đầu: {said})"
    assert json.loads((root / "last_good.json").read_text()) == {"chinh_quyen": "2023-02-05/chinh_quyen"}
    assert _tree(root / "2023-01-05") == good_files


def test_a_changed_layout_is_followed_by_a_new_sources_file_alone(server, seeded, tmp_path):
    sources, root, good_files, pointer = seeded
    new_layout = (
        "<ul>"
        + "".join(
            f'<li class="nen-tang"><strong>{n}</strong><em>{p}</em><a class="xem" href="{h}">Xem</a></li>'
            for n, p, h in [
                ("Nền tảng địa chỉ số", "Bộ TT&TT", "/cq/diachiso"),
                ("Nền tảng bản đồ số", "Bộ TT&TT", "/cq/bandoso"),
                ("LGSP", "UBND tỉnh", "/cq/lgsp"),
                ("Nền tảng giám sát an toàn thông tin", "Cục ATTT", "/cq/giamsat"),
            ]
        )
        + "</ul>"
    )
    server.route("/cq/", Reply(200, new_layout))
    cq = _by_catalog(catalog.scrape(sources, today=D2))["chinh_quyen"]
    assert cq.outcome == "failed" and "không tìm thấy nền tảng nào theo bộ chọn “div.platform-card”" in cq.message
    assert (root / "last_good.json").read_bytes() == pointer

    fixed = write_sources(
        tmp_path / "sources-moi.yaml",
        root,
        {"chinh_quyen": server.url("/cq/")},
        item="li.nen-tang",
        fields={"name": "strong", "provider": "em", "link": "a.xem@href"},
        next_link=None,
    )
    result = catalog.scrape(fixed, today=D2)
    cq = _by_catalog(result)["chinh_quyen"]
    assert cq.outcome == "ok" and list(cq.part.platforms()["platform_id"]) == GOOD_IDS  # the same ids
    assert cq.part.platforms()["provider"].tolist() == ["Bộ TT&TT", "Bộ TT&TT", "UBND tỉnh", "Cục ATTT"]
    assert result.changes.empty  # nothing changed but the markup
    assert _tree(root / "2023-01-05") == good_files


def test_conditional_requests_replay_the_last_good_page(server, tmp_path):
    server.route("/cq/", Reply(200, GOOD, headers={"ETag": '"v1"', "Last-Modified": "Wed, 04 Jan 2023 01:00:00 GMT"}))
    sources = write_sources(tmp_path / "s.yaml", tmp_path / "snap", {"chinh_quyen": server.url("/cq/")})
    catalog.scrape(sources, today=D1)
    server.route("/cq/", Reply(304, "", content_type=None))
    cq = _by_catalog(catalog.scrape(sources, today=D2))["chinh_quyen"]
    sent = server.requests[-1]["headers"]
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Wed, 04 Jan 2023 01:00:00 GMT"
    assert cq.outcome == "ok" and "không thay đổi từ lần tải trước (HTTP 304)" in cq.message
    assert list(cq.part.platforms()["platform_id"]) == GOOD_IDS and cq.snapshot_date == "2023-02-05"
    folder = tmp_path / "snap" / "2023-02-05" / "chinh_quyen"
    assert (folder / "page-01.html").read_bytes() == GOOD.encode()
    record = json.loads((folder / "part.json").read_text(encoding="utf-8"))["pages"][0]
    assert record["status"] == 304 and record["replayed_from"] == "2023-01-05/chinh_quyen/page-01.html"


def test_offline_uses_the_last_good_snapshot_without_a_request(server, seeded):
    sources, root, _, _ = seeded
    before = len(server.requests)
    result = catalog.scrape(sources, offline=True, today=D2)
    cq = _by_catalog(result)["chinh_quyen"]
    assert len(server.requests) == before and not (root / "2023-02-05").exists()
    assert cq.outcome == "offline"
    assert cq.message == "không tải danh mục (chạy ngoại tuyến); dùng bản chụp ngày 05/01/2023"
    assert list(cq.platforms["platform_id"]) == GOOD_IDS


def test_a_second_scrape_the_same_day_gets_its_own_folder(server, seeded):
    sources, root, good_files, _ = seeded
    catalog.scrape(sources, today=D1)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == ["2023-01-05", "2023-01-05.2"]
    assert _tree(root / "2023-01-05") == good_files
    assert json.loads((root / "last_good.json").read_text()) == {"chinh_quyen": "2023-01-05.2/chinh_quyen"}


# --------------------------------------------------------------------------- month to month


def test_changes_since_last_month_added_removed_renamed(server, tmp_path):
    server.route(
        "/cq/",
        Reply(
            200,
            page(
                card("Nền tảng địa chỉ số", link="/a"),
                card("Nền tảng giám sát an toàn thông tin", link="/b"),
                card("Nền tảng quản lý văn bản", link="/c"),
                card("Nền tảng họp trực tuyến thế hệ mới cho cơ quan nhà nước", link="/d"),
            ),
        ),
    )
    sources = write_sources(tmp_path / "s.yaml", tmp_path / "snap", {"chinh_quyen": server.url("/cq/")})
    catalog.scrape(sources, today=D1)
    february = page(
        card("Nền tảng địa chỉ số", link="/a"),
        card("Nền tảng giám sát an toàn thông tin mạng", link="/b2"),  # 2·35/75 = 0,933 alike: renamed
        card("Hệ thống quản lý văn bản và điều hành", link="/c"),  # same link: same id, renamed
        card("Kho dữ liệu dùng chung", link="/e"),
    )  # new; họp trực tuyến is gone
    server.route("/cq/", Reply(200, february))
    result = catalog.scrape(sources, today=D2)
    expected = [
        ("added", "cq-kho-du-lieu-dung-chung", "Kho dữ liệu dùng chung", None),
        ("removed", "cq-hop", "Nền tảng họp trực tuyến thế hệ mới cho cơ quan nhà nước", None),
        ("renamed", "cq-nen-tang-quan-ly-van-ban", "Hệ thống quản lý văn bản và điều hành", "Nền tảng quản lý văn bản"),
        (
            "renamed",
            "cq-nen-tang-giam-sat-an-toan-thong-tin-mang",
            "Nền tảng giám sát an toàn thông tin mạng",
            "Nền tảng giám sát an toàn thông tin",
        ),
    ]
    got = result.changes
    assert [(r.change, r.platform_id, r.name, r.previous_name) for r in got.itertuples()] == expected
    assert set(got["catalog"]) == {"chinh_quyen"} and set(got["snapshot_date"]) == {"2023-02-05"}
    seen = result.snapshot.platforms.set_index("platform_id")["first_seen"]
    assert seen["cq-diachiso"] == "2023-01-05" and seen["cq-nen-tang-quan-ly-van-ban"] == "2023-01-05"
    assert seen["cq-kho-du-lieu-dung-chung"] == "2023-02-05"
    # a second scrape in February still compares with January
    again = catalog.scrape(sources, today=D3)
    assert [(r.change, r.platform_id) for r in again.changes.itertuples()] == [(c, p) for c, p, _, _ in expected]
    assert set(again.changes["snapshot_date"]) == {"2023-02-20"}


def test_diff_pairs_the_best_rename_first():
    before = pd.DataFrame(
        {
            "platform_id": ["a", "b"],
            "catalog": ["nguoi_dan"] * 2,
            "link": ["", ""],
            "name": ["Ứng dụng học tập", "Ứng dụng học tiếng Anh"],
        }
    )
    after = pd.DataFrame({"platform_id": ["c"], "catalog": ["nguoi_dan"], "link": [""], "name": ["Ứng dụng học tập 2"]})
    got = catalog.diff(before, after, snapshot_date="2023-02-05", threshold=0.8)
    # "ung dung hoc tap 2" is 2·16/34 = 0,94 like "ung dung hoc tap" and less like "ung dung hoc tieng anh"
    assert [(r.change, r.platform_id, r.previous_name) for r in got.itertuples()] == [
        ("removed", "b", None),
        ("renamed", "c", "Ứng dụng học tập"),
    ]


# --------------------------------------------------------------------------- the month's step and the warehouse


def test_the_month_goes_on_with_the_last_good_snapshot_when_the_fetch_fails(server, seeded, tmp_path):
    sources, root, good_files, pointer = seeded
    server.route("/cq/", Reply(500, "lỗi"))
    (tmp_path / "inbox" / "2023-01").mkdir(parents=True)
    (tmp_path / "inbox" / "2023-01" / "hue.xlsx").write_bytes(b"PK")
    run = steps.run_params("2023-01", "tinh", str(tmp_path / "inbox"), str(tmp_path / "out"), str(sources))
    result = steps.scrape(run)
    assert [c.outcome for c in result.catalogs] == ["failed", "not_configured", "not_configured"]
    with store.connect(steps.warehouse(run), read_only=True) as con:
        fetches = store.table_frame(con, "catalog_fetches").set_index("catalog")
        table = store.table_frame(con, "catalog")
    cq = fetches.loc["chinh_quyen"]
    assert (cq["month"], cq["outcome"], cq["status"]) == ("2023-01", "failed", 500)
    assert cq["message"].endswith("máy chủ trả lỗi HTTP 500 (sau 2 lần thử); dùng bản chụp ngày 05/01/2023")
    assert cq["snapshot_date"] == pd.Timestamp("2023-01-05")
    assert set(table.loc[table["catalog"] == "chinh_quyen", "snapshot_date"]) == {pd.Timestamp("2023-01-05")}
    assert set(GOOD_IDS) <= set(table["platform_id"])
    csv = pd.read_csv(tmp_path / "out" / "2023-01" / "catalog_fetches.csv", encoding="utf-8-sig")
    assert csv.loc[csv["catalog"] == "chinh_quyen", "message"].item() == cq["message"]
    assert (root / "last_good.json").read_bytes() == pointer
    # the intake matches names against the same snapshot
    used = store.catalog_in_use(steps.warehouse(run))
    assert set(used.platforms["platform_id"]) == set(table["platform_id"])
    assert Matcher(used.platforms, load_aliases()).match(None, "Nền tảng giám sát an toàn thông tin") == (
        "cq-nen-tang-giam-sat-an-toan-thong-tin",
        "name",
    )


def test_a_sample_month_does_not_fetch(server, seeded, tmp_path):
    sources, _, _, _ = seeded
    before = len(server.requests)
    run = steps.run_params("2022-12", "tinh", "", str(tmp_path / "out"), str(sources))
    result = steps.scrape(run)
    assert len(server.requests) == before
    cq = _by_catalog(result)["chinh_quyen"]
    assert cq.message == "dữ liệu mẫu: không tải danh mục; dùng bản chụp ngày 05/01/2023"


def test_scraped_text_is_escaped_in_html_and_neutralised_in_csv(server, tmp_path):
    server.route(
        "/nd/", Reply(200, page(card("=HYPERLINK(&quot;http://x&quot;)"), card("&lt;img src=x onerror=alert(1)&gt;")))
    )
    server.route("/cq/", Reply(200, "<p>?</p>", content_type="application/<script>"))
    sources = write_sources(
        tmp_path / "s.yaml", tmp_path / "snap", {"nguoi_dan": server.url("/nd/"), "chinh_quyen": server.url("/cq/")}
    )
    result = catalog.scrape(sources, today=D1)
    names = set(_by_catalog(result)["nguoi_dan"].part.platforms()["name"])
    assert names == {'=HYPERLINK("http://x")', "<img src=x onerror=alert(1)>"}
    text = catalog.summary_markdown(result)
    assert "application/&lt;script&gt;" in text and "<script>" not in text
    rendered = result.snapshot.platforms.to_html()
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered and "<img" not in rendered
    out = catalog.write_csv(result.snapshot.platforms, tmp_path / "catalog.csv")
    written = pd.read_csv(out, encoding="utf-8-sig")
    assert '\'=HYPERLINK("http://x")' in set(written["name"])


def test_the_month_fetch_log_and_changes_are_replaced_whole(tmp_path):
    snap = load_bundled()

    def fetch(month, outcome):
        return pd.DataFrame(
            [
                {
                    "month": month,
                    "catalog": "nguoi_dan",
                    "url": "https://x",
                    "status": 200,
                    "fetched_at": "2023-02-05T08:00:00",
                    "bytes": 10,
                    "items": 11,
                    "outcome": outcome,
                    "message": "m",
                    "snapshot_date": "2023-02-05",
                }
            ]
        )

    change = pd.DataFrame(
        [
            {
                "month": "2023-02",
                "change": "added",
                "platform_id": "nd-x",
                "catalog": "nguoi_dan",
                "name": "X",
                "previous_name": None,
                "snapshot_date": "2023-02-05",
            }
        ]
    )
    with store.connect(tmp_path / "w.duckdb") as con:
        store.load_catalog_month(con, "2023-01", snap, fetch("2023-01", "offline"), change.iloc[:0])
        store.load_catalog_month(con, "2023-02", snap, fetch("2023-02", "failed"), change)
        store.load_catalog_month(con, "2023-02", snap, fetch("2023-02", "ok"), change)
        assert con.execute("SELECT month, outcome FROM catalog_fetches ORDER BY month").fetchall() == [
            ("2023-01", "offline"),
            ("2023-02", "ok"),
        ]
        assert con.execute("SELECT count(*) FROM catalog_changes").fetchone() == (1,)
        with pytest.raises(Exception):
            store.load_catalog_month(con, "2023-02", snap, fetch("2023-02", "lạ"), change)  # not an outcome
        assert con.execute("SELECT month, outcome FROM catalog_fetches ORDER BY month").fetchall() == [
            ("2023-01", "offline"),
            ("2023-02", "ok"),
        ]
        assert con.execute("SELECT count(*), min(snapshot_date) FROM catalog").fetchone() == (
            len(snap.platforms),
            date(2022, 12, 31),
        )


def test_the_scrape_command(server, seeded, tmp_path):
    from click.testing import CliRunner

    from dxreport.cli import main

    sources, root, _, _ = seeded
    runner = CliRunner()
    ok = runner.invoke(main, ["scrape", "--sources", str(sources)])
    assert ok.exit_code == 0, ok.output
    # 4 scraped and the 4 bundled government platforms the page does not list (7 bundled, 3 of them found)
    assert "Danh mục chinh_quyen [chinh_quyen]: tải được; 8 nền tảng đang dùng, bản chụp ngày" in ok.output
    assert "  tải được 4 nền tảng từ 1 trang" in ok.output
    assert f"200 {len(GOOD.encode()):>9} B" in ok.output and server.url("/cq/") in ok.output

    server.route("/cq/", Reply(500, "lỗi"))
    failed = runner.invoke(main, ["scrape", "--sources", str(sources)])
    assert failed.exit_code == 1
    assert "lỗi, giữ bản chụp cũ" in failed.output
    assert "Không tải được: chinh_quyen (vẫn dùng bản chụp tốt gần nhất)" in failed.output

    offline = runner.invoke(main, ["scrape", "--sources", str(sources), "--offline"])
    assert offline.exit_code == 0 and "không tải danh mục (chạy ngoại tuyến)" in offline.output

    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 7\ncatalogs: {}\n", encoding="utf-8")
    refused = runner.invoke(main, ["scrape", "--sources", str(bad)])
    assert refused.exit_code == 2 and f"Lỗi: {bad}, dòng 1: version 7 không được hỗ trợ" in refused.output
