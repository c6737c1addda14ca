"""HTTP for the catalog scraper: timeouts, retries with backoff, size caps, every response kept.

One `Fetcher` wraps an httpx client with the settings of params/sources.yaml (section `http`).
`Fetcher.get` never raises for network or HTTP trouble: it returns a `FetchRecord` whose
`error` says, in Vietnamese, what happened. The record keeps the body (capped), the headers, the
status, the time and every attempt, so that the caller can store it and replay a parse offline.

Retried: connection errors (except a host name that does not exist), timeouts, a body cut
short, HTTP 5xx and 429 (waiting as long as `Retry-After` asks, up to `max_retry_after`).
Not retried: other 4xx, too many redirects, a body over `max_bytes`.
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from dxreport.catalog.model import TZ
from dxreport.catalog.sources import HttpSettings
from dxreport.textnorm import format_number

__all__ = ["FetchRecord", "Fetcher", "HttpSettings", "retry_after_seconds"]

# Permanent name-resolution failures: retrying in a few seconds cannot help.
_DNS_PERMANENT = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)}


@dataclass
class FetchRecord:
    """One GET of one URL: what was asked, what came back, and what went wrong."""

    url: str
    final_url: str = ""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fetched_at: str = ""  # ISO, Asia/Ho_Chi_Minh wall time, when the first try started
    seconds: float = 0.0
    bytes: int = 0
    sha256: str = ""
    attempts: list[dict] = field(default_factory=list)
    error: str | None = None  # Vietnamese, when the fetch failed
    kind: str | None = None  # dns | connect | timeout | truncated | network | http | too_large | redirects | url
    body: bytes = field(default=b"", repr=False)

    @property
    def ok(self) -> bool:
        """Whether the fetch worked."""
        return self.error is None

    @property
    def not_modified(self) -> bool:
        """Whether the server answered HTTP 304 (the page kept before is still current)."""
        return self.error is None and self.status == 304

    def to_json(self) -> dict:
        """Everything but the body, for the snapshot folder."""
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "headers": self.headers,
            "fetched_at": self.fetched_at,
            "seconds": self.seconds,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "attempts": self.attempts,
            "error": self.error,
            "kind": self.kind,
        }


class _Failure(Exception):
    def __init__(self, kind: str, message: str, retry: bool, wait: float | None = None):
        super().__init__(message)
        self.kind, self.message, self.retry, self.wait = kind, message, retry, wait


def _s(seconds: float) -> str:
    """Seconds the Vietnamese way: 0,3 — 10 — 1,5."""
    return f"{seconds:g}".replace(".", ",")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds asked by a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _dns_permanent(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, socket.gaierror) and exc.errno in _DNS_PERMANENT:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class Fetcher:
    """GETs with the project's HTTP rules; use as a context manager."""

    def __init__(self, settings: HttpSettings | None = None, *, sleep=time.sleep):
        self.settings = settings or HttpSettings()
        self._sleep = sleep
        s = self.settings
        self._client = httpx.Client(
            timeout=httpx.Timeout(
                connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout, pool=s.connect_timeout
            ),
            follow_redirects=True,
            max_redirects=s.max_redirects,
            headers={
                "User-Agent": s.agent(),
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Language": "vi,en;q=0.5",
            },
        )

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchRecord:
        """GET `url`, retrying as configured; conditional when `etag` or `last_modified` is given."""
        s = self.settings
        record = FetchRecord(url=url, fetched_at=datetime.now(TZ).replace(tzinfo=None).isoformat(timespec="seconds"))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        start = time.monotonic()
        for attempt in range(s.retries + 1):
            t0 = time.monotonic()
            try:
                self._once(url, headers, record)
                record.attempts.append({"status": record.status, "seconds": round(time.monotonic() - t0, 3)})
                record.error = record.kind = None
                break
            except _Failure as failure:
                entry = {"status": record.status, "error": failure.message, "seconds": round(time.monotonic() - t0, 3)}
                record.error, record.kind = failure.message, failure.kind
                last = attempt == s.retries
                if failure.retry and not last:
                    if failure.wait is not None and failure.wait > s.max_retry_after:
                        entry["wait"] = failure.wait
                        record.attempts.append(entry)
                        record.error = (
                            f"{failure.message}; máy chủ yêu cầu chờ {_s(failure.wait)} giây, quá giới "
                            f"hạn max_retry_after {_s(s.max_retry_after)} giây"
                        )
                        break
                    wait = min(s.backoff * 2**attempt, s.max_retry_after) if failure.wait is None else failure.wait
                    entry["wait"] = round(wait, 3)
                    record.attempts.append(entry)
                    self._sleep(wait)
                    continue
                record.attempts.append(entry)
                if failure.retry and s.retries:
                    record.error = f"{failure.message} (sau {len(record.attempts)} lần thử)"
                break
        record.seconds = round(time.monotonic() - start, 3)
        return record

    def _once(self, url: str, headers: dict, record: FetchRecord) -> None:
        """One try; fills `record` or raises _Failure."""
        s = self.settings
        record.status, record.headers, record.body, record.bytes, record.sha256 = None, {}, b"", 0, ""
        try:
            with self._client.stream("GET", url, headers=headers) as resp:
                record.status = resp.status_code
                record.final_url = str(resp.url)
                record.headers = {k.lower(): v for k, v in resp.headers.items()}
                body = self._read(resp)
        except httpx.TooManyRedirects:
            raise _Failure("redirects", f"chuyển hướng quá {s.max_redirects} lần (vòng chuyển hướng?)", retry=False)
        except httpx.ConnectTimeout:
            raise _Failure("timeout", f"không kết nối được trong {_s(s.connect_timeout)} giây", retry=True)
        except httpx.ReadTimeout:
            raise _Failure("timeout", f"máy chủ không trả lời trong {_s(s.read_timeout)} giây", retry=True)
        except httpx.TimeoutException as exc:
            raise _Failure("timeout", f"quá thời gian chờ ({type(exc).__name__})", retry=True)
        except httpx.ConnectError as exc:
            if _dns_permanent(exc):
                raise _Failure("dns", f"không tìm thấy máy chủ {httpx.URL(url).host} ({exc})", retry=False)
            raise _Failure("connect", f"không kết nối được tới máy chủ ({exc})", retry=True)
        except httpx.RemoteProtocolError as exc:
            if record.status is not None:
                raise _Failure("truncated", f"nội dung tải về bị cắt ngang ({exc})", retry=True)
            raise _Failure("network", f"máy chủ ngắt kết nối ({exc})", retry=True)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise _Failure("url", f"địa chỉ không hợp lệ ({exc})", retry=False)
        except httpx.DecodingError as exc:
            raise _Failure("decoding", f"không giải nén được nội dung ({exc})", retry=False)
        except httpx.TransportError as exc:
            raise _Failure("network", f"lỗi mạng ({type(exc).__name__}: {exc})", retry=True)
        record.body = body
        record.bytes = len(body)
        record.sha256 = hashlib.sha256(body).hexdigest()
        status = record.status
        if status == 304:
            return
        if status == 429 or 500 <= status < 600:
            wait = retry_after_seconds(record.headers.get("retry-after"))
            raise _Failure("http", f"máy chủ trả lỗi HTTP {status}", retry=True, wait=wait)
        if status >= 300:
            raise _Failure("http", f"máy chủ trả lỗi HTTP {status}", retry=False)

    def _read(self, resp: httpx.Response) -> bytes:
        """The body, refused past max_bytes (announced or actual, after decompression)."""
        cap = self.settings.max_bytes
        announced = resp.headers.get("content-length")
        if announced and announced.isdigit() and int(announced) > cap:
            raise _Failure(
                "too_large",
                f"trang dài {format_number(int(announced))} byte, quá giới hạn max_bytes {format_number(cap)} byte",
                retry=False,
            )
        chunks, total = [], 0
        for chunk in resp.iter_bytes():
            total += len(chunk)
            if total > cap:
                raise _Failure("too_large", f"trang dài hơn giới hạn max_bytes {format_number(cap)} byte", retry=False)
            chunks.append(chunk)
        return b"".join(chunks)
