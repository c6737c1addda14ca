"""The scraper's HTTP rules against a real server on 127.0.0.1: retries, timeouts, caps, headers."""

from __future__ import annotations

import email.utils
import socket
import time

import httpx
import pytest

from catalog_server import CatalogServer, Reply, refused_url
from dxreport import __version__
from dxreport.catalog.fetch import Fetcher, HttpSettings, _dns_permanent, retry_after_seconds

FAST = HttpSettings(
    connect_timeout=0.5,
    read_timeout=0.3,
    retries=2,
    backoff=0.01,
    max_retry_after=5,
    pause=0,
    max_bytes=20_000,
    max_redirects=3,
)


@pytest.fixture
def server():
    with CatalogServer() as s:
        yield s


def get(url, settings=FAST, **kw):
    with Fetcher(settings) as fetcher:
        return fetcher.get(url, **kw)


def test_a_500_then_200_is_retried_and_every_try_is_recorded(server):
    server.route("/p", Reply(500, "lỗi máy chủ"), Reply(200, "<p>xin chào</p>", headers={"ETag": '"v1"'}))
    rec = get(server.url("/p"))
    assert rec.ok and rec.status == 200
    assert rec.body == "<p>xin chào</p>".encode()
    assert rec.bytes == len("<p>xin chào</p>".encode())
    assert [a["status"] for a in rec.attempts] == [500, 200]
    assert rec.attempts[0]["error"] == "máy chủ trả lỗi HTTP 500" and rec.attempts[0]["wait"] == 0.01
    assert rec.headers["etag"] == '"v1"'
    assert len(server.hits("/p")) == 2


def test_429_waits_as_long_as_retry_after_asks(server):
    server.route("/p", Reply(429, "chậm lại", headers={"Retry-After": "1"}), Reply(200, "ok"))
    t0 = time.monotonic()
    rec = get(server.url("/p"))
    assert rec.ok
    assert rec.attempts[0]["wait"] == 1.0  # Retry-After, not the 0.01 s backoff
    first, second = server.hits("/p")
    assert second["at"] - first["at"] >= 1.0
    assert time.monotonic() - t0 >= 1.0


def test_a_retry_after_past_the_limit_fails_at_once(server):
    server.route("/p", Reply(503, "bảo trì", headers={"Retry-After": "3600"}), Reply(200, "ok"))
    rec = get(server.url("/p"))
    assert not rec.ok and rec.status == 503
    assert rec.error == "máy chủ trả lỗi HTTP 503; máy chủ yêu cầu chờ 3600 giây, quá giới hạn max_retry_after 5 giây"
    assert len(server.hits("/p")) == 1


def test_the_backoff_doubles_and_never_waits_past_max_retry_after(server):
    server.route("/p", Reply(500, "lỗi"))
    settings = HttpSettings(
        connect_timeout=0.5,
        read_timeout=0.3,
        retries=3,
        backoff=0.02,
        max_retry_after=0.05,
        pause=0,
        max_bytes=20_000,
        max_redirects=3,
    )
    rec = get(server.url("/p"), settings)
    assert [a.get("wait") for a in rec.attempts] == [0.02, 0.04, 0.05, None]  # 0,02 · 2ⁿ, capped at 0,05


def test_5xx_every_time_gives_up_after_the_retries(server):
    server.route("/p", Reply(502, "bad gateway"))
    rec = get(server.url("/p"))
    assert rec.error == "máy chủ trả lỗi HTTP 502 (sau 3 lần thử)"
    assert len(server.hits("/p")) == 3  # 1 + retries=2
    assert rec.body == b"bad gateway"  # the last answer is kept


def test_a_404_is_not_retried(server):
    rec = get(server.url("/missing"))
    assert rec.error == "máy chủ trả lỗi HTTP 404" and rec.kind == "http"
    assert len(server.hits("/missing")) == 1


def test_a_hang_past_the_read_timeout(server):
    server.route("/p", Reply(200, "muộn", delay=1.0))
    t0 = time.monotonic()
    rec = get(server.url("/p"))
    assert rec.kind == "timeout"
    assert rec.error == "máy chủ không trả lời trong 0,3 giây (sau 3 lần thử)"
    assert time.monotonic() - t0 < 2.0  # 3 × 0,3 s plus backoff, not 3 × 1 s


def test_connection_refused():
    rec = get(refused_url())
    assert rec.kind == "connect" and rec.status is None
    assert rec.error.startswith("không kết nối được tới máy chủ") and rec.error.endswith("(sau 3 lần thử)")
    assert len(rec.attempts) == 3


def test_a_truncated_body(server):
    server.route("/p", Reply(200, "x" * 1000, truncate_to=400))
    rec = get(server.url("/p"))
    assert rec.kind == "truncated"
    assert rec.error.startswith("nội dung tải về bị cắt ngang")
    assert len(server.hits("/p")) == 3


def test_a_huge_announced_body_is_refused_unread(server):
    server.route("/p", Reply(200, b"a" * 100_000))
    rec = get(server.url("/p"))
    assert rec.kind == "too_large" and rec.status == 200 and rec.body == b""
    assert rec.error == "trang dài 100.000 byte, quá giới hạn max_bytes 20.000 byte"
    assert len(server.hits("/p")) == 1


def test_a_huge_body_without_length_is_cut_at_the_cap(server):
    server.route("/p", Reply(200, b"a" * 100_000, length=False))
    rec = get(server.url("/p"))
    assert rec.kind == "too_large"
    assert rec.error == "trang dài hơn giới hạn max_bytes 20.000 byte"


def test_a_redirect_loop(server):
    server.route("/loop", Reply(302, "", headers={"Location": "/loop"}))
    rec = get(server.url("/loop"))
    assert rec.kind == "redirects"
    assert rec.error == "chuyển hướng quá 3 lần (vòng chuyển hướng?)"
    assert len(server.hits("/loop")) == 4  # the first request and 3 redirects


def test_a_redirect_is_followed_and_the_final_url_kept(server):
    server.route("/old", Reply(301, "", headers={"Location": "/new"}))
    server.route("/new", Reply(200, "mới"))
    rec = get(server.url("/old"))
    assert rec.ok and rec.final_url == server.url("/new") and rec.body == "mới".encode()


def test_user_agent_and_conditional_headers(server):
    server.route("/p", Reply(304, "", content_type=None))
    rec = get(server.url("/p"), etag='"abc"', last_modified="Wed, 04 Jan 2023 01:00:00 GMT")
    assert rec.ok and rec.not_modified
    sent = server.hits("/p")[0]["headers"]
    assert sent["user-agent"].startswith(f"dxreport/{__version__} (")
    assert sent["if-none-match"] == '"abc"'
    assert sent["if-modified-since"] == "Wed, 04 Jan 2023 01:00:00 GMT"


def test_retry_after_as_seconds_or_a_date():
    assert retry_after_seconds("120") == 120.0
    now = 1_700_000_000.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0)
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("ngày mai") is None and retry_after_seconds(None) is None


def test_an_unknown_host_name_is_not_worth_retrying():
    cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    try:
        try:
            raise cause
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc)) from exc
    except httpx.ConnectError as wrapped:
        assert _dns_permanent(wrapped)
    assert not _dns_permanent(httpx.ConnectError("[Errno 111] Connection refused"))
    assert not _dns_permanent(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
