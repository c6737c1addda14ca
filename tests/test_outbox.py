"""dxreport.outbox against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import email
import email.policy
import logging
import socket
import ssl
import subprocess
import threading
import time

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from dxreport import outbox, store
from dxreport.contacts import load_contacts
from dxreport.intake.records import ISSUE_COLUMNS, SUBMISSION_COLUMNS
from dxreport.params import load_settings
from dxreport.units import Registry, load_registry

MONTH = "2025-07"
FULL = load_registry()
#: Four agencies of 2025-07: snv and stp sent an accepted file, syt's file was rejected, sxd sent nothing.
CODES = ("snv", "stp", "syt", "sxd")
REGISTRY = Registry(
    units=tuple(u for u in FULL.units if u.code in CODES or u.type == "province"), changes=(), words=FULL.words
)
SETTINGS = load_settings()
PASSWORD = "mat-khau-bi-mat-42"

CONTACTS_CSV = """code,name,email,role,valid_from,valid_to,source
snv,Sở Nội vụ,vanthu.snv@example.org,gui_bao_cao,2025-03-01,,test
stp,Sở Tư pháp,vanthu.stp@example.org,gui_bao_cao,,,test
syt,Sở Y tế,vanthu.syt@example.org,gui_bao_cao,,,test
syt,Sở Y tế,giamdoc.syt@example.org,lanh_dao,,,test
sxd,Sở Xây dựng,vanthu.sxd@example.org,gui_bao_cao,2025-03-01,,test
sxd,Sở Xây dựng,giamdoc.sxd@example.org,lanh_dao,2025-03-01,,test
,Bộ Thông tin và Truyền thông,vanthu.bttt@example.org,noi_nhan,2021-07-01,2025-02-28,test
,UBND tỉnh Thừa Thiên Huế,vanthu.ubndtinh@example.org,noi_nhan,2021-07-01,2024-12-31,test
,UBND thành phố Huế,vanthu.ubndtp@example.org,noi_nhan,2025-01-01,,test
,Bộ Khoa học và Công nghệ,vanthu.bkhcn@example.org,noi_nhan,2025-03-01,,test
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Store:
    """Keeps every envelope; refuses the addresses in `refuse`; after `stop_after` messages it
    answers 421 and closes, as a server going down."""

    def __init__(self, refuse=(), stop_after=None, reject_for=(), drop_after=None):
        self.envelopes = []
        self.drop_after = drop_after
        self.refuse = set(refuse)
        self.reject_for = set(reject_for)
        self.stop_after = stop_after
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.drop_after is not None and len(self.envelopes) >= self.drop_after:
            server.transport.close()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.stop_after is not None and len(self.envelopes) >= self.stop_after:
                return "421 4.3.2 Service shutting down"
            if self.reject_for & set(envelope.rcpt_tos):
                return "554 5.7.1 Message rejected"
            self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


@pytest.fixture
def smtp_server():
    servers = []

    def start(handler=None, **kwargs):
        handler = handler or Store()
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=60, **kwargs)
        controller.start()
        servers.append(controller)
        return controller, handler

    yield start
    for c in servers:
        c.stop()


def _settings(port, tls="none", **smtp):
    settings = copy.deepcopy(SETTINGS)
    settings["mail"] = {
        "smtp": {
            "host": "127.0.0.1",
            "port": port,
            "tls": tls,
            "from_address": "baocao.cds@example.org",
            "from_name": "Phòng Chuyển đổi số",
            **smtp,
        },
        "password_env": "DXREPORT_TEST_MAIL_PASSWORD",
    }
    return settings


def _submission(sid, unit, status, file_name):
    row = dict.fromkeys(SUBMISSION_COLUMNS)
    row.update(
        submission_id=sid,
        month=MONTH,
        unit=unit,
        file_name=file_name,
        received_at=pd.Timestamp("2025-08-03 09:00"),
        received_source="first_seen",
        status=status,
        is_sample=False,
        late=False,
        rows_loaded=1 if status == "accepted" else 0,
        rows_rejected=0,
    )
    return row


def _issue(sid, unit, file_name, sheet, cell, rule, severity, message):
    return dict(zip(ISSUE_COLUMNS, [MONTH, unit, file_name, sheet, cell, rule, severity, message, sid], strict=True))


@pytest.fixture
def month(tmp_path):
    """outputs/ with a warehouse for 2025-07 (snv, stp accepted; syt rejected; sxd absent), the
    feedback copies, a province report; params/ with contacts on example.org."""
    outputs = tmp_path / "outputs"
    subs = pd.DataFrame(
        [
            _submission("a" * 64, "snv", "accepted", "snv.xlsx"),
            _submission("b" * 64, "stp", "accepted", "stp thang 7.xlsx"),
            _submission("c" * 64, "syt", "rejected", "syt.pdf"),
        ],
        columns=SUBMISSION_COLUMNS,
    )
    issues = pd.DataFrame(
        [
            _issue(
                "b" * 64, "stp", "stp thang 7.xlsx", "Nền tảng", "E5", "value.spike", "warning", "Số tăng gấp 12 lần"
            ),
            _issue("c" * 64, "syt", "syt.pdf", None, None, "file.not_workbook", "error", "Tệp không phải Excel"),
        ],
        columns=ISSUE_COLUMNS,
    )
    with store.connect(store.warehouse_path(outputs)) as con:
        store.replace_month(con, MONTH, subs, None, issues)
    feedback = outputs / MONTH / "feedback"
    feedback.mkdir(parents=True)
    (feedback / "stp_stp thang 7.xlsx").write_bytes(b"feedback stp")
    (feedback / "syt_syt.pdf.xlsx").write_bytes(b"feedback syt")
    tinh = outputs / MONTH / "tinh"
    tinh.mkdir(parents=True)
    (tinh / "report.pdf").write_bytes(b"%PDF-1.7 report")
    (tinh / "annex.xlsx").write_bytes(b"annex")
    params = tmp_path / "params"
    params.mkdir()
    (params / "contacts.csv").write_text(CONTACTS_CSV, encoding="utf-8")
    return outputs, load_contacts(params, REGISTRY)


def _reminders(outputs, contacts, settings=SETTINGS, today=dt.date(2025, 8, 2)):
    return outbox.reminders(
        MONTH, outputs=outputs, registry=REGISTRY, contacts=contacts, settings=settings, today=today
    )


def _record(outputs):
    with open(outputs / MONTH / "mail" / "sent.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_reminders_go_to_the_units_without_an_accepted_file(month):
    outputs, contacts = month
    messages = _reminders(outputs, contacts)
    assert [(m.kind, m.unit) for m in messages] == [("remind", "sxd"), ("remind", "syt")]
    sxd, syt = messages
    assert syt.to == ["vanthu.syt@example.org"] and syt.cc == []
    assert "Sở Y tế" in syt.subject and "07/2025" in syt.subject
    assert "05/08/2025" in syt.body and "Sở Xây dựng" in sxd.body and "05/08/2025" in sxd.body
    assert "syt.pdf" in syt.body and "Tệp không phải Excel" in syt.body
    assert "chưa nhận được báo cáo tháng 07/2025" in sxd.body
    assert "Trân trọng./.\n\nUBND THÀNH PHỐ HUẾ\nSỞ KHOA HỌC VÀ CÔNG NGHỆ\n" in syt.body
    assert "Sở đề nghị Sở Y tế gửi báo cáo" in syt.body
    assert [p.name for p in syt.attachments] == ["bieu_mau_2025-07_syt.xlsx"]
    assert [p.name for p in sxd.attachments] == ["bieu_mau_2025-07_sxd.xlsx"]
    assert sxd.attachments[0].stat().st_size > 1000
    # after the deadline the unit's head is copied
    late = _reminders(outputs, contacts, today=dt.date(2025, 8, 6))
    assert [m.cc for m in late] == [["giamdoc.sxd@example.org"], ["giamdoc.syt@example.org"]]


def test_a_month_not_in_the_warehouse_reminds_every_unit(tmp_path, month):
    _, contacts = month
    messages = _reminders(tmp_path / "empty", contacts)
    assert sorted(m.unit for m in messages) == sorted(CODES)


def test_feedback_attaches_the_copies_and_lists_the_problems(month):
    outputs, contacts = month
    messages = outbox.feedback(MONTH, outputs=outputs, registry=REGISTRY, contacts=contacts, settings=SETTINGS)
    assert [m.unit for m in messages] == ["stp", "syt"]
    stp, syt = messages
    assert [p.name for p in stp.attachments] == ["stp_stp thang 7.xlsx"]
    assert "- [Cảnh báo] tệp stp thang 7.xlsx, biểu Nền tảng, ô E5: Số tăng gấp 12 lần" in stp.body
    assert "0 lỗi, 1 cảnh báo" in stp.body and "1 lỗi, 0 cảnh báo" in syt.body
    assert stp.to == ["vanthu.stp@example.org"] and stp.problems == []


def test_message_id_is_the_same_for_the_same_message(month):
    outputs, contacts = month
    first = _reminders(outputs, contacts)[1]
    sha = first.attachments_sha256()
    time.sleep(2.1)
    again = _reminders(outputs, contacts)[1]
    # the form was written again, at another time: other bytes, the same message
    assert again.attachments_sha256() != sha
    assert first.message_id == again.message_id
    assert first.message_id != _reminders(outputs, contacts)[0].message_id
    assert first.message()["Message-ID"] == first.message_id


@pytest.mark.parametrize(
    ("report_month", "names", "addresses", "department"),
    [
        (
            "2025-03",
            ["Bộ Khoa học và Công nghệ", "UBND thành phố Huế"],
            ["vanthu.bkhcn@", "vanthu.ubndtp@"],
            "Sở Khoa học và Công nghệ",
        ),
        (
            "2022-12",
            ["Bộ Thông tin và Truyền thông", "UBND tỉnh Thừa Thiên Huế"],
            ["vanthu.bttt@", "vanthu.ubndtinh@"],
            "Sở Thông tin và Truyền thông",
        ),
    ],
)
def test_report_goes_to_the_noi_nhan_of_the_month(month, report_month, names, addresses, department):
    outputs, contacts = month
    tinh = outputs / report_month / "tinh"
    tinh.mkdir(parents=True)
    (tinh / "report.pdf").write_bytes(b"%PDF")
    (tinh / "annex.xlsx").write_bytes(b"x")
    (msg,) = outbox.report(report_month, outputs=outputs, registry=FULL, contacts=contacts, settings=SETTINGS)
    assert msg.to == [a + "example.org" for a in addresses]
    assert msg.body.startswith("Kính gửi: " + "; ".join(names))
    assert [p.name for p in msg.attachments] == ["report.pdf", "annex.xlsx"] and msg.problems == []
    assert f"\n\n{department} gửi báo cáo mức độ sử dụng các nền tảng số tháng {report_month[5:]}/" in msg.body


def test_report_without_an_address_or_without_a_report(month, tmp_path):
    outputs, _ = month
    params = tmp_path / "p2"
    params.mkdir()
    (params / "contacts.csv").write_text(CONTACTS_CSV.replace("vanthu.ubndtp", "x").split(",Bộ Khoa")[0])
    contacts = load_contacts(params, REGISTRY)
    (msg,) = outbox.report(MONTH, outputs=outputs, registry=FULL, contacts=contacts, settings=SETTINGS)
    assert msg.to == ["x@example.org"]
    assert len(msg.problems) == 1 and "Bộ Khoa học và Công nghệ chưa có địa chỉ" in msg.problems[0]
    with pytest.raises(outbox.OutboxError, match="chưa có báo cáo tháng 06/2025"):
        outbox.report("2025-06", outputs=outputs, registry=FULL, contacts=contacts, settings=SETTINGS)


def test_dry_run_writes_eml_and_sends_nothing(month, smtp_server):
    outputs, contacts = month
    controller, handler = smtp_server()
    settings = _settings(controller.port)
    messages = _reminders(outputs, contacts, settings)
    delivery = outbox.deliver(messages, MONTH, outputs=outputs, settings=settings)
    assert handler.envelopes == []
    folder = outputs / MONTH / "mail"
    assert sorted(p.name for p in folder.glob("*.eml")) == ["remind-sxd.eml", "remind-syt.eml"]
    assert not (folder / "sent.csv").exists()
    parsed = email.message_from_bytes((folder / "remind-sxd.eml").read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "vanthu.sxd@example.org"
    assert [a.get_filename() for a in parsed.iter_attachments()] == ["bieu_mau_2025-07_sxd.xlsx"]
    table = delivery.table()
    assert "vanthu.syt@example.org" in table and "sẽ gửi" in table and "bieu_mau_2025-07_sxd.xlsx" in table


def test_send_records_and_never_sends_twice_unless_resend(month, smtp_server):
    outputs, contacts = month
    controller, handler = smtp_server()
    settings = _settings(controller.port)
    messages = _reminders(outputs, contacts, settings)
    delivery = outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [o.status for o in delivery.outcomes] == ["sent", "sent"]
    assert [e.rcpt_tos for e in handler.envelopes] == [["vanthu.sxd@example.org"], ["vanthu.syt@example.org"]]
    got = handler.messages()
    assert got[0]["Message-ID"] == messages[0].message_id
    assert got[0]["From"].addresses[0].addr_spec == "baocao.cds@example.org"
    rows = _record(outputs)
    assert [(r["kind"], r["unit"], r["recipients"], r["status"]) for r in rows] == [
        ("remind", "sxd", "vanthu.sxd@example.org", "sent"),
        ("remind", "syt", "vanthu.syt@example.org", "sent"),
    ]
    assert rows[0]["message_id"] == messages[0].message_id
    assert (
        rows[1]["attachments_sha256"] == messages[1].attachments_sha256() and len(rows[1]["attachments_sha256"]) == 64
    )

    again = outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [o.status for o in again.outcomes] == ["before", "before"] and len(handler.envelopes) == 2
    assert "đã gửi trước đó" in again.table()
    outbox.deliver(messages[:1], MONTH, outputs=outputs, settings=settings, send=True, resend=True)
    assert len(handler.envelopes) == 3 and len(_record(outputs)) == 3


def test_a_refused_recipient_is_recorded_and_the_others_go_on(month, smtp_server):
    outputs, contacts = month
    controller, handler = smtp_server(Store(refuse={"giamdoc.syt@example.org", "vanthu.sxd@example.org"}))
    settings = _settings(controller.port)
    messages = _reminders(outputs, contacts, settings, today=dt.date(2025, 8, 6))
    delivery = outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [o.status for o in delivery.outcomes] == ["partial", "partial"]
    assert [e.rcpt_tos for e in handler.envelopes] == [["giamdoc.sxd@example.org"], ["vanthu.syt@example.org"]]
    rows = _record(outputs)
    assert [r["status"] for r in rows] == ["partial", "partial"]
    assert rows[0]["recipients"] == "giamdoc.sxd@example.org" and "vanthu.sxd@example.org: 550" in rows[0]["error"]
    assert rows[1]["recipients"] == "vanthu.syt@example.org" and "giamdoc.syt@example.org: 550" in rows[1]["error"]
    # every recipient refused: recorded as refused, and tried again on the next run
    controller2, handler2 = smtp_server(Store(refuse={"vanthu.stp@example.org"}))
    settings2 = _settings(controller2.port)
    fb = outbox.feedback(MONTH, outputs=outputs, registry=REGISTRY, contacts=contacts, settings=settings2)
    delivery = outbox.deliver(fb[:1], MONTH, outputs=outputs, settings=settings2, send=True)
    assert [o.status for o in delivery.outcomes] == ["refused"] and handler2.envelopes == []
    assert _record(outputs)[-1]["status"] == "refused"
    assert "bị từ chối" in delivery.table()


def test_a_message_the_server_rejects_is_recorded_and_the_next_goes_on(month, smtp_server):
    outputs, contacts = month
    controller, handler = smtp_server(Store(reject_for={"vanthu.sxd@example.org"}))
    settings = _settings(controller.port)
    delivery = outbox.deliver(
        _reminders(outputs, contacts, settings), MONTH, outputs=outputs, settings=settings, send=True
    )
    assert [o.status for o in delivery.outcomes] == ["refused", "sent"]
    assert [e.rcpt_tos for e in handler.envelopes] == [["vanthu.syt@example.org"]]
    rows = _record(outputs)
    assert [(r["unit"], r["status"], r["recipients"]) for r in rows] == [
        ("sxd", "refused", ""),
        ("syt", "sent", "vanthu.syt@example.org"),
    ]
    assert rows[0]["error"] == "vanthu.sxd@example.org: 554 5.7.1 Message rejected"


def test_server_down_mid_run_then_rerun_sends_only_the_rest(month, smtp_server):
    outputs, contacts = month
    controller, handler = smtp_server(Store(stop_after=1))
    settings = _settings(controller.port)
    messages = _reminders(outputs, contacts, settings)
    with pytest.raises(outbox.OutboxError, match="ngắt kết nối") as caught:
        outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [o.status for o in caught.value.delivery.outcomes] == ["sent", "error"]
    assert [r["unit"] for r in _record(outputs)] == ["sxd"]
    handler.stop_after = None
    rerun = outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [o.status for o in rerun.outcomes] == ["before", "sent"]
    assert [e.rcpt_tos for e in handler.envelopes] == [["vanthu.sxd@example.org"], ["vanthu.syt@example.org"]]
    assert [(r["unit"], r["status"]) for r in _record(outputs)] == [("sxd", "sent"), ("syt", "sent")]


def test_connection_dropped_mid_run_then_rerun_sends_only_the_rest(month, smtp_server):
    outputs, contacts = month
    controller, handler = smtp_server(Store(drop_after=1))
    settings = _settings(controller.port)
    messages = _reminders(outputs, contacts, settings)
    with pytest.raises(outbox.OutboxError, match="ngắt kết nối khi gửi thư remind-syt.eml") as caught:
        outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [(o.status, o.detail) for o in caught.value.delivery.outcomes] == [
        ("sent", ""),
        ("error", "SMTPServerDisconnected"),
    ]
    assert [(r["unit"], r["status"]) for r in _record(outputs)] == [("sxd", "sent")]
    handler.drop_after = None
    outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [e.rcpt_tos for e in handler.envelopes] == [["vanthu.sxd@example.org"], ["vanthu.syt@example.org"]]
    assert [(r["unit"], r["status"]) for r in _record(outputs)] == [("sxd", "sent"), ("syt", "sent")]


def test_server_unreachable_is_a_clean_error(month):
    outputs, contacts = month
    settings = _settings(_free_port())
    messages = _reminders(outputs, contacts, settings)
    with pytest.raises(outbox.OutboxError, match="không kết nối được máy chủ thư 127.0.0.1") as caught:
        outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [o.status for o in caught.value.delivery.outcomes] == ["not_sent", "not_sent"]
    assert "chưa gửi" in caught.value.delivery.table()
    assert not (outputs / MONTH / "mail" / "sent.csv").exists()


def test_invalid_addresses_are_never_sent_to(month, smtp_server, tmp_path):
    outputs, _ = month
    params = tmp_path / "p3"
    params.mkdir()
    (params / "contacts.csv").write_text(CONTACTS_CSV.replace("vanthu.sxd@example.org", "vanthu.sxd@mau.invalid"))
    contacts = load_contacts(params, REGISTRY)
    controller, handler = smtp_server()
    settings = _settings(controller.port)
    dry = outbox.deliver(_reminders(outputs, contacts, settings), MONTH, outputs=outputs, settings=settings)
    assert "địa chỉ mẫu vanthu.sxd@mau.invalid sẽ không được gửi tới" in dry.outcomes[0].detail
    delivery = outbox.deliver(
        _reminders(outputs, contacts, settings), MONTH, outputs=outputs, settings=settings, send=True
    )
    assert [o.status for o in delivery.outcomes] == ["no_address", "sent"]
    assert "params/contacts.csv" in delivery.outcomes[0].detail
    assert [e.rcpt_tos for e in handler.envelopes] == [["vanthu.syt@example.org"]]
    assert [r["unit"] for r in _record(outputs)] == ["syt"]


def test_login_password_from_the_environment_never_written_nor_logged(month, smtp_server, monkeypatch, caplog):
    outputs, contacts = month
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == PASSWORD.encode())

    controller, handler = smtp_server(authenticator=authenticator, auth_require_tls=False)
    settings = _settings(controller.port, user="baocao.cds")
    messages = _reminders(outputs, contacts, settings)
    monkeypatch.delenv("DXREPORT_TEST_MAIL_PASSWORD", raising=False)
    with pytest.raises(outbox.OutboxError, match="thiếu mật khẩu thư"):
        outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    monkeypatch.setenv("DXREPORT_TEST_MAIL_PASSWORD", PASSWORD)
    with caplog.at_level(logging.DEBUG):
        outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert seen[-1] == (b"baocao.cds", PASSWORD.encode()) and len(handler.envelopes) == 2
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)
    files = [p for p in outputs.rglob("*") if p.is_file()]
    assert any(p.name == "sent.csv" for p in files)
    assert all(PASSWORD.encode() not in p.read_bytes() for p in files)


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 and the server's TLS context."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def test_starttls_with_a_self_signed_certificate(month, smtp_server, certificate):
    outputs, contacts = month
    cert, context = certificate
    controller, handler = smtp_server(tls_context=context, require_starttls=True)
    messages = _reminders(outputs, contacts)
    # without the certificate's CA the server is not trusted
    with pytest.raises(outbox.OutboxError, match="không kết nối được"):
        outbox.deliver(messages, MONTH, outputs=outputs, settings=_settings(controller.port, "starttls"), send=True)
    assert handler.envelopes == []
    settings = _settings(controller.port, "starttls", cafile=str(cert))
    delivery = outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [o.status for o in delivery.outcomes] == ["sent", "sent"] and len(handler.envelopes) == 2


def test_implicit_tls_with_a_self_signed_certificate(month, smtp_server, certificate):
    outputs, contacts = month
    cert, context = certificate
    controller, handler = smtp_server(ssl_context=context)
    messages = _reminders(outputs, contacts)
    with pytest.raises(outbox.OutboxError, match="không kết nối được"):
        outbox.deliver(messages, MONTH, outputs=outputs, settings=_settings(controller.port, "ssl"), send=True)
    settings = _settings(controller.port, "ssl", cafile=str(cert))
    delivery = outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert [o.status for o in delivery.outcomes] == ["sent", "sent"] and len(handler.envelopes) == 2


def test_password_from_a_file_outside_the_project_only(tmp_path, monkeypatch):
    from dxreport.paths import PROJECT_ROOT

    monkeypatch.delenv("DXREPORT_TEST_MAIL_PASSWORD", raising=False)
    secret = tmp_path / "mat-khau"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    settings = _settings(25)
    assert outbox.smtp_password(settings) is None
    settings["mail"]["password_file"] = str(secret)
    assert outbox.smtp_password(settings) == PASSWORD
    monkeypatch.setenv("DXREPORT_TEST_MAIL_PASSWORD", "tu-bien-moi-truong")
    assert outbox.smtp_password(settings) == "tu-bien-moi-truong"
    settings["mail"]["password_file"] = str(PROJECT_ROOT / "params" / "settings.yaml")
    monkeypatch.delenv("DXREPORT_TEST_MAIL_PASSWORD")
    with pytest.raises(outbox.OutboxError, match="nằm trong thư mục dự án"):
        outbox.smtp_password(settings)


def test_report_follows_the_manifest_and_its_report_date(month):
    import json

    outputs, contacts = month
    month_dir = outputs / "2025-01"
    (month_dir / "tinh").mkdir(parents=True)
    (month_dir / "tinh" / "report.pdf").write_bytes(b"%PDF")
    (month_dir / "tinh" / "annex.xlsx").write_bytes(b"x")
    manifest = {
        "parameters": {"report_date": "2025-03-05"},
        "units": {"tinh": {"status": "ok", "pdf": "tinh/report.pdf", "annex": "tinh/annex.xlsx"}},
    }
    (month_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (msg,) = outbox.report("2025-01", outputs=outputs, registry=FULL, contacts=contacts, settings=SETTINGS)
    # signed on 05/03/2025: after the merger, so the new ministry (01/02/2025 would give the old one)
    assert msg.to == ["vanthu.bkhcn@example.org", "vanthu.ubndtp@example.org"]
    manifest["parameters"]["report_date"] = ""
    (month_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (msg,) = outbox.report("2025-01", outputs=outputs, registry=FULL, contacts=contacts, settings=SETTINGS)
    assert msg.to == ["vanthu.bttt@example.org", "vanthu.ubndtp@example.org"]
    manifest["units"]["tinh"] = {"status": "failed", "error": "lỗi khi in PDF"}
    (month_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(outbox.OutboxError, match="lập không thành công \\(lỗi khi in PDF\\)"):
        outbox.report("2025-01", outputs=outputs, registry=FULL, contacts=contacts, settings=SETTINGS)


def test_two_deliveries_of_a_month_never_send_at_once(month, smtp_server):
    import fcntl
    import os

    outputs, contacts = month
    controller, handler = smtp_server()
    settings = _settings(controller.port)
    messages = _reminders(outputs, contacts, settings)
    folder = outputs / MONTH / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".sent.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(outbox.OutboxError, match="một lệnh gửi thư khác"):
            outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
        assert handler.envelopes == []
        # a dry run needs no lock
        assert [o.status for o in outbox.deliver(messages, MONTH, outputs=outputs, settings=settings).outcomes] == [
            "dry",
            "dry",
        ]
    finally:
        os.close(fd)
    outbox.deliver(messages, MONTH, outputs=outputs, settings=settings, send=True)
    assert len(handler.envelopes) == 2


def test_long_vietnamese_headers_read_back_unchanged(tmp_path):
    path = tmp_path / "stp_Báo cáo tháng 7 – Sở Tư pháp.xlsx"
    path.write_bytes(b"x")
    subject = "Kết quả kiểm tra báo cáo sử dụng nền tảng số tháng 07/2025 – Sở Tư pháp, Sở Khoa học và Công nghệ"
    out = outbox.Outgoing("feedback", "stp", ["a@example.org"], [], subject, "Nội dung", [path], month=MONTH)
    raw = out.message("baocao@example.org", "Phòng Chuyển đổi số – Sở Khoa học và Công nghệ").as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert parsed["From"].addresses[0].display_name == "Phòng Chuyển đổi số – Sở Khoa học và Công nghệ"
    assert [a.get_filename() for a in parsed.iter_attachments()] == ["stp_Báo cáo tháng 7 – Sở Tư pháp.xlsx"]
    assert parsed.get_body(("plain",)).get_content() == "Nội dung\n"
