"""dxreport.mailbox against a real IMAP server: dovecot started in a throw-away folder."""

from __future__ import annotations

import datetime as dt
import email.message
import hashlib
import imaplib
import io
import logging
import os
import pwd
import grp
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import openpyxl
import pytest
from busy import saturated
from conftest import info

from dxreport import mailbox
from dxreport.contacts import read_contacts
from dxreport.received import LISTED, read_list

pytestmark = pytest.mark.slow

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "mat-khau-thu-7"
USERS = [f"u{i}" for i in range(1, 21)]
LIMIT = 100_000
FLAG = "$DxreportFetched"
PHONG_DIEN = "vanphong.phongdien@mau.invalid"
QUANG_DIEN = "vanphong.quangdien@mau.invalid"
STRANGER = "ai.do@example.org"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UTC = dt.timezone.utc

CONTACTS = f"""code,name,email,role,valid_from,valid_to,source
476,Huyện Phong Điền,{PHONG_DIEN},gui_bao_cao,2021-07-01,2024-12-31,mẫu
477,Huyện Quảng Điền,{QUANG_DIEN},gui_bao_cao,2021-07-01,2024-12-31,mẫu
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(root: Path, port: int, starttls_port: int) -> str:
    if os.geteuid() == 0:  # dovecot refuses root for its login and mail processes
        mail_user = pwd.getpwnam("dovecot")
        login_user = "dovenull"
    else:
        mail_user = pwd.getpwuid(os.geteuid())
        login_user = mail_user.pw_name
    uid, gid = mail_user.pw_uid, mail_user.pw_gid
    (root / "mail").mkdir()
    os.chown(root / "mail", uid, gid)
    (root / "passwd").write_text(
        "".join(f"{u}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/mail/{u}::\n" for u in USERS), encoding="utf-8"
    )
    internal = pwd.getpwuid(os.geteuid())
    return f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
default_internal_user = {internal.pw_name}
default_internal_group = {grp.getgrgid(internal.pw_gid).gr_name}
default_login_user = {login_user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    port = {starttls_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""


class Server:
    def __init__(self, root: Path, port: int, starttls_port: int, proc: subprocess.Popen, started: float):
        self.root, self.port, self.starttls_port, self.proc, self.started = root, port, starttls_port, proc, started
        self.cafile = str(root / "cert.pem")
        self._users = iter(USERS)

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)

    def connect(self, user: str) -> imaplib.IMAP4_SSL:
        conn = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.context(), timeout=60)
        conn.login(user, PASSWORD)
        return conn

    def new_user(self) -> str:
        return next(self._users)


@pytest.fixture(scope="module")
def server():
    if not Path(DOVECOT).exists():
        pytest.skip("dovecot is not installed (make setup installs dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="dxreport-dovecot-"))
    root.chmod(0o755)  # the mail user must reach its folder
    begin = time.monotonic()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-days",
            "2",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port, starttls_port = _free_port(), _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port, starttls_port), encoding="utf-8")
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    context = ssl.create_default_context(cafile=str(root / "cert.pem"))
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot stopped: {proc.stdout.read().decode(errors='replace')}\n{log}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                    with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                        if tls.recv(100).startswith(b"* OK"):
                            break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("dovecot did not accept TLS connections within 60 s")
                time.sleep(0.2)
        yield Server(root, port, starttls_port, proc, time.monotonic() - begin)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def contacts(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS, encoding="utf-8")
    return read_contacts(path)


@pytest.fixture
def box(server, tmp_path, monkeypatch):
    """A fresh user of the server, the settings to reach it and an inbox folder."""
    monkeypatch.setenv("DXREPORT_MAIL_PASSWORD", PASSWORD)
    user = server.new_user()
    settings = {
        "mail": {
            "imap": {
                "host": "127.0.0.1",
                "port": server.port,
                "tls": "ssl",
                "user": user,
                "folder": "INBOX",
                "fetched": "flag",
                "fetched_flag": FLAG,
                "cafile": server.cafile,
            },
            "password_env": "DXREPORT_MAIL_PASSWORD",
        },
        "submission": {"max_file_bytes": LIMIT},
    }
    return {"user": user, "settings": settings, "inbox": tmp_path / "data" / "inbox"}


def workbook(unit: str, month: str, note: str = "") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Thông tin"
    for label, value in info(unit, month, dt.date(2022, 11, 3)).items():
        ws.append([label, value])
    if note:
        ws.append(["Ghi chú", note])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def no_info_workbook() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = "Trang tính 1"
    wb.active.append(["không có trang Thông tin"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def message(sender: str, subject: str, message_id: str, attachments=()) -> bytes:
    msg = email.message.EmailMessage()
    msg["From"] = f"Văn phòng <{sender}>"
    msg["To"] = "baocao.cds@example.invalid"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content("Kính gửi Sở, đơn vị gửi báo cáo.")
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def append(server: Server, user: str, raw: bytes, when: dt.datetime) -> None:
    conn = server.connect(user)
    try:
        typ, _ = conn.append("INBOX", None, imaplib.Time2Internaldate(when), raw)
        assert typ == "OK"
    finally:
        conn.logout()


def uids_with(server: Server, user: str, *criteria: str, folder: str = "INBOX") -> list[bytes]:
    conn = server.connect(user)
    try:
        conn.select(folder)
        typ, data = conn.uid("SEARCH", None, *criteria)
        assert typ == "OK"
        return data[0].split()
    finally:
        conn.logout()


def subjects(server: Server, user: str, folder: str = "INBOX") -> list[str]:
    conn = server.connect(user)
    try:
        conn.select(folder)
        _, data = conn.search(None, "ALL")
        out = []
        for num in data[0].split():
            _, fetched = conn.fetch(num, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            out.append(fetched[0][1].decode().split(":", 1)[1].strip())
        return out
    finally:
        conn.logout()


FORM_476 = workbook("476", "2022-10")
FORM_477 = workbook("477", "2022-10")
NAME = "Báo cáo tháng 10 - Phong Điền.xlsx"
SAFE = "Bao_cao_thang_10_-_Phong_Dien.xlsx"
BOMB = os.urandom(3 * LIMIT)
OVER = os.urandom(LIMIT + 1)
FORM_STRANGER = workbook("477", "2022-10", "người lạ")


def fill(server: Server, user: str) -> None:
    """Seven messages: a form, a bomb with a .pdf, the same form again, a stranger's form, no
    attachment, another unit's form under the same name, a workbook without `Thông tin`."""
    day = dt.datetime(2022, 11, 5, 1, 30, 0, tzinfo=UTC)
    append(server, user, message(PHONG_DIEN, "Báo cáo tháng 10", "<a@pd>", [(NAME, FORM_476, XLSX)]), day)
    append(
        server,
        user,
        message(
            PHONG_DIEN,
            "Tệp lớn",
            "<b@pd>",
            [("bom.xlsx", BOMB, XLSX), ("vuot.xlsx", OVER, XLSX), ("công văn.pdf", b"%PDF-1.4", "application/pdf")],
        ),
        day + dt.timedelta(hours=1),
    )
    append(
        server, user, message(PHONG_DIEN, "Gửi lại", "<c@pd>", [(NAME, FORM_476, XLSX)]), day + dt.timedelta(hours=2)
    )
    append(
        server,
        user,
        message(STRANGER, "Báo cáo", "<d@x>", [("bc.xlsx", FORM_STRANGER, XLSX)]),
        day + dt.timedelta(hours=3),
    )
    append(server, user, message(PHONG_DIEN, "Quên đính kèm", "<e@pd>"), day + dt.timedelta(hours=4))
    append(
        server,
        user,
        message(QUANG_DIEN, "BC tháng 10", "<f@qd>", [(NAME, FORM_477, XLSX)]),
        dt.datetime(2022, 11, 10, 17, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    )
    append(
        server,
        user,
        message(QUANG_DIEN, "Không rõ kỳ", "<g@qd>", [("khong-ro.xlsx", no_info_workbook(), XLSX)]),
        day + dt.timedelta(days=2),
    )


def test_fetch_saves_lists_and_marks(server, box, contacts):
    user, inbox = box["user"], box["inbox"]
    fill(server, user)
    start = time.monotonic()
    result = mailbox.fetch("2022-11", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    took = time.monotonic() - start
    print(f"dovecot start-up {server.started:.2f} s, one fetch of 7 messages {took:.2f} s")

    tag = hashlib.sha256(b"<f@qd>").hexdigest()[:8]
    assert sorted((s.month, s.path.name, s.unit, s.sender, s.period_read) for s in result.saved) == [
        ("2022-10", SAFE, "476", PHONG_DIEN, True),
        ("2022-10", f"Bao_cao_thang_10_-_Phong_Dien_{tag}.xlsx", "477", QUANG_DIEN, True),
        ("2022-11", "khong-ro.xlsx", "477", QUANG_DIEN, False),
    ]
    assert (inbox / "2022-10" / SAFE).read_bytes() == FORM_476
    assert (inbox / "2022-10" / f"Bao_cao_thang_10_-_Phong_Dien_{tag}.xlsx").read_bytes() == FORM_477
    assert sorted(p.name for p in (inbox / "2022-10").iterdir()) == [
        SAFE,
        f"Bao_cao_thang_10_-_Phong_Dien_{tag}.xlsx",
        "received.csv",
    ]
    assert [(s.attachment, s.sender, s.reason) for s in result.skipped] == [
        ("bom.xlsx", PHONG_DIEN, "lớn hơn giới hạn 100.000 byte"),
        ("vuot.xlsx", PHONG_DIEN, "lớn hơn giới hạn 100.000 byte"),
        ("công văn.pdf", PHONG_DIEN, "không phải tệp .xlsx"),
        (NAME, PHONG_DIEN, "trùng tệp đã nhận"),
        ("bc.xlsx", STRANGER, "người gửi không có trong params/contacts.csv"),
    ]
    assert [m.message_id for m in result.no_attachment] == ["<e@pd>"]
    assert [m.message_id for m in result.unmarked] == ["<d@x>"]
    assert (result.messages, result.marked) == (7, 6)

    # 01:30 UTC is 08:30 in Huế; 17:30:05 at UTC-5 is 05:30:05 the next day.
    assert (inbox / "2022-10" / "received.csv").read_text(encoding="utf-8-sig") == (
        "Tệp,Ngày nhận,Hình thức\n"
        f"{SAFE},05/11/2022 08:30:00,thư điện tử\n"
        f"Bao_cao_thang_10_-_Phong_Dien_{tag}.xlsx,11/11/2022 05:30:05,thư điện tử\n"
    )
    listing = read_list(inbox / "2022-10", [SAFE, f"Bao_cao_thang_10_-_Phong_Dien_{tag}.xlsx"])
    assert listing.problems == []
    assert listing.entries[SAFE] == mailbox_received(dt.datetime(2022, 11, 5, 8, 30))
    assert (inbox / "2022-11" / "received.csv").read_text(encoding="utf-8-sig") == (
        "Tệp,Ngày nhận,Hình thức\nkhong-ro.xlsx,07/11/2022 08:30:00,thư điện tử\n"
    )

    flagged = uids_with(server, user, "KEYWORD", FLAG)
    assert flagged == [b"1", b"2", b"3", b"5", b"6", b"7"]
    assert uids_with(server, user, "UNKEYWORD", FLAG) == [b"4"]
    assert uids_with(server, user, "UNSEEN") == [b"1", b"2", b"3", b"4", b"5", b"6", b"7"]  # read with PEEK

    table = result.table()
    assert "Nhận thư tháng 11/2022: 7 thư mới, 3 tệp đã lưu, 5 tệp đính kèm không lưu (1 trùng tệp đã nhận)" in table
    assert (
        f"1 thư của người gửi không xác định được đơn vị theo params/contacts.csv ({STRANGER}) chưa được "
        "đánh dấu đã nhận: thêm hoặc sửa địa chỉ trong params/contacts.csv rồi chạy lại lệnh để nhận."
    ) in table
    assert "Kỳ báo cáo ở trang “Thông tin” của khong-ro.xlsx" in table

    record = mailbox.last_fetch(inbox)
    assert record_path_is_beside(inbox)
    assert list(record["result"]) == [
        "đã lưu",
        "lớn hơn giới hạn 100.000 byte",
        "lớn hơn giới hạn 100.000 byte",
        "không phải tệp .xlsx",
        "trùng tệp đã nhận",
        "người gửi không có trong params/contacts.csv",
        "thư không có tệp đính kèm",
        "đã lưu",
        "đã lưu",
    ]
    assert list(record["uid"]) == ["1", "2", "2", "2", "3", "4", "5", "6", "7"]

    again = mailbox.fetch("2022-11", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert again.saved == []
    assert [(s.attachment, s.reason) for s in again.skipped] == [("bc.xlsx", mailbox.UNKNOWN_SENDER)]
    assert (again.messages, again.marked) == (1, 0)
    assert list(mailbox.last_fetch(inbox)["uid"]) == ["4"]

    known = read_contacts_with(contacts, STRANGER)
    third = mailbox.fetch("2022-11", inbox_root=inbox, settings=box["settings"], contacts=known)
    assert [(s.month, s.path.name, s.unit) for s in third.saved] == [("2022-10", "bc.xlsx", "477")]
    assert uids_with(server, user, "UNKEYWORD", FLAG) == []


def mailbox_received(at: dt.datetime):
    from dxreport.received import Received

    return Received(at, LISTED, "email")


def record_path_is_beside(inbox: Path) -> bool:
    return (
        mailbox.record_path(inbox) == (inbox.parent / "mail" / "fetched.csv").resolve()
        and (inbox.parent / "mail" / "fetched.csv").is_file()
    )


def read_contacts_with(contacts, address: str):
    path = Path(tempfile.mkdtemp()) / "contacts.csv"
    path.write_text(CONTACTS + f"477,Huyện Quảng Điền,{address},lanh_dao,2021-07-01,,mẫu\n", encoding="utf-8")
    return read_contacts(path)


def test_move_to_a_folder(server, box, contacts):
    user, inbox = box["user"], box["inbox"]
    box["settings"]["mail"]["imap"].update(fetched="move", fetched_folder="Da nhan")
    day = dt.datetime(2022, 11, 5, 1, 0, 0, tzinfo=UTC)
    append(server, user, message(PHONG_DIEN, "BC", "<m1@pd>", [(NAME, FORM_476, XLSX)]), day)
    append(server, user, message(STRANGER, "BC", "<m2@x>", [("x.xlsx", FORM_477, XLSX)]), day)
    result = mailbox.fetch("2022-10", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert [s.path.name for s in result.saved] == [SAFE]
    assert subjects(server, user) == ["<m2@x>"]
    assert subjects(server, user, '"Da nhan"') == ["<m1@pd>"]
    again = mailbox.fetch("2022-10", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert (again.messages, again.saved, again.marked) == (1, [], 0)


def test_wrong_password_is_one_clear_message(server, box, contacts, monkeypatch, caplog):
    monkeypatch.setenv("DXREPORT_MAIL_PASSWORD", "sai-mat-khau-123")
    caplog.set_level(logging.DEBUG, logger="dxreport.mailbox")
    with pytest.raises(mailbox.MailError) as err:
        mailbox.fetch("2022-10", inbox_root=box["inbox"], settings=box["settings"], contacts=contacts)
    assert str(err.value) == (
        f"đăng nhập hộp thư {box['user']} tại 127.0.0.1 không được: sai tên đăng nhập hoặc mật khẩu "
        "(biến môi trường DXREPORT_MAIL_PASSWORD)"
    )
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert "sai-mat-khau-123" not in caplog.text
    assert "AUTHENTICATIONFAILED" in caplog.text


def test_missing_password_and_settings(box, contacts, monkeypatch):
    monkeypatch.delenv("DXREPORT_MAIL_PASSWORD")
    with pytest.raises(mailbox.MailError, match="chưa có mật khẩu hộp thư: đặt biến môi trường DXREPORT_MAIL_PASSWORD"):
        mailbox.fetch("2022-10", inbox_root=box["inbox"], settings=box["settings"], contacts=contacts)
    with pytest.raises(mailbox.MailError, match=r"^thiếu mục mail.imap"):
        mailbox.fetch("2022-10", inbox_root=box["inbox"], settings={"submission": {"max_file_bytes": 1}}, password="x")


def test_password_file_inside_the_project_is_refused(box, contacts, monkeypatch):
    monkeypatch.delenv("DXREPORT_MAIL_PASSWORD")
    box["settings"]["mail"]["password_file"] = str(mailbox.PROJECT_ROOT / "params" / "settings.yaml")
    with pytest.raises(mailbox.MailError, match="nằm trong thư mục dự án"):
        mailbox.fetch("2022-10", inbox_root=box["inbox"], settings=box["settings"], contacts=contacts)


def test_tls_failure_and_unreachable(server, box, contacts):
    imap = box["settings"]["mail"]["imap"]
    imap.pop("cafile")  # the self-signed certificate is not trusted by the system's CAs
    with pytest.raises(mailbox.MailError, match=r"^không thiết lập được kết nối an toàn \(TLS\) với máy chủ thư"):
        mailbox.fetch("2022-10", inbox_root=box["inbox"], settings=box["settings"], contacts=contacts)
    imap.update(cafile=server.cafile, port=_free_port())
    with pytest.raises(mailbox.MailError, match=r"^không kết nối được máy chủ thư 127.0.0.1:\d+"):
        mailbox.fetch("2022-10", inbox_root=box["inbox"], settings=box["settings"], contacts=contacts)


def test_connection_dropped_mid_fetch_then_rerun(server, box, contacts, monkeypatch):
    user, inbox = box["user"], box["inbox"]
    day = dt.datetime(2022, 11, 5, 1, 0, 0, tzinfo=UTC)
    append(server, user, message(PHONG_DIEN, "BC", "<k1@pd>", [(NAME, FORM_476, XLSX)]), day)
    second = [("a.xlsx", FORM_477, XLSX), ("b.xlsx", workbook("477", "2022-10", "bản b"), XLSX)]
    append(server, user, message(QUANG_DIEN, "BC", "<k2@qd>", second), day + dt.timedelta(hours=1))
    real = mailbox._fetch_part
    calls = []

    def dropping(conn, uid, part, limit):
        calls.append(part.name)
        if part.name == "b.xlsx":
            conn.sock.shutdown(socket.SHUT_RDWR)
        return real(conn, uid, part, limit)

    monkeypatch.setattr(mailbox, "_fetch_part", dropping)
    with pytest.raises(mailbox.MailError) as err:
        mailbox.fetch("2022-10", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert str(err.value) == (
        f"mất kết nối với máy chủ thư 127.0.0.1:{server.port} trong khi nhận thư; các tệp đã lưu vẫn giữ, "
        "chạy lại lệnh để nhận tiếp các thư chưa nhận."
    )
    assert [s.path.name for s in err.value.result.saved] == [SAFE, "a.xlsx"]
    assert uids_with(server, user, "UNKEYWORD", FLAG) == [b"2"]
    assert list(mailbox.last_fetch(inbox)["file"].map(lambda f: Path(f).name)) == [SAFE, "a.xlsx"]

    monkeypatch.setattr(mailbox, "_fetch_part", real)
    rerun = mailbox.fetch("2022-10", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert [s.path.name for s in rerun.saved] == ["b.xlsx"]
    assert [(s.attachment, s.reason) for s in rerun.skipped] == [("a.xlsx", "trùng tệp đã nhận")]
    assert uids_with(server, user, "UNKEYWORD", FLAG) == []
    rows = (inbox / "2022-10" / "received.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows == [
        "Tệp,Ngày nhận,Hình thức",
        f"{SAFE},05/11/2022 08:00:00,thư điện tử",
        "a.xlsx,05/11/2022 09:00:00,thư điện tử",
        "b.xlsx,05/11/2022 09:00:00,thư điện tử",
    ]


def test_fetch_under_cpu_load(server, box, contacts):
    user, inbox = box["user"], box["inbox"]
    append(
        server,
        user,
        message(PHONG_DIEN, "BC", "<l1@pd>", [(NAME, FORM_476, XLSX)]),
        dt.datetime(2022, 11, 30, 17, 0, 1, tzinfo=UTC),
    )
    with saturated(per_core=2, limit=120):
        result = mailbox.fetch("2022-11", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert [(s.month, s.path.name, s.received_at) for s in result.saved] == [
        ("2022-10", SAFE, dt.datetime(2022, 12, 1, 0, 0, 1))
    ]


# --------------------------------------------------------------------------- without a server


def test_safe_name():
    assert mailbox.safe_name("../../etc/Báo cáo Đông Hà.XLSX") == "Bao_cao_Dong_Ha.xlsx"
    assert mailbox.safe_name("C:\\Users\\a\\bc;rm -rf.xlsx") == "bc_rm_-rf.xlsx"
    assert mailbox.safe_name("Báo cáo.xlsx") == "Bao_cao.xlsx"
    assert mailbox.safe_name("...xlsx") == "tep.xlsx"


def test_received_csv_of_the_clerk_is_kept(tmp_path):
    folder = tmp_path / "2022-10"
    folder.mkdir()
    (folder / "a.xlsx").write_bytes(b"a")
    (folder / "b.xlsx").write_bytes(b"b")
    (folder / "received.csv").write_text("Tên tệp;Ngày nhận;Hình thức\na.xlsx;03/11/2022;trực tiếp\n", encoding="utf-8")
    assert mailbox._write_received(folder, "b.xlsx", dt.datetime(2022, 11, 4, 7, 5, 9)) is None
    assert mailbox._write_received(folder, "a.xlsx", dt.datetime(2022, 11, 9, 7, 5, 9)) is None
    assert (folder / "received.csv").read_text(encoding="utf-8") == (
        "Tên tệp;Ngày nhận;Hình thức\na.xlsx;03/11/2022;trực tiếp\nb.xlsx;04/11/2022 07:05:09;thư điện tử\n"
    )
    listing = read_list(folder, ["a.xlsx", "b.xlsx"])
    assert listing.problems == []
    assert listing.entries["b.xlsx"] == mailbox_received(dt.datetime(2022, 11, 4, 7, 5, 9))
    assert listing.entries["a.xlsx"].channel == "hand"


def test_bodystructure_parts():
    structure = (
        b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
        b'("application" "octet-stream" ("name" "x.xlsx") NIL NIL "base64" 4000 NIL '
        b'("attachment" ("filename*" "utf-8\'\'B%C3%A1o%20c%C3%A1o.xlsx")) NIL NIL) '
        b'"mixed" ("boundary" "b") NIL NIL NIL)'
    )
    parts = mailbox._parts(mailbox._tokens(structure))
    assert parts == [mailbox._Part("2", "Báo cáo.xlsx", "base64", 4000)]
    big = mailbox._Part("2", "x.xlsx", "base64", 140_000)
    assert mailbox._too_large(big, 100_000) is True
    assert mailbox._too_large(mailbox._Part("2", "x.xlsx", "base64", 130_000), 100_000) is False


def test_last_fetch_without_record(tmp_path):
    assert mailbox.last_fetch(tmp_path / "data" / "inbox") is None


def test_file_written_before_a_crash_is_a_duplicate_and_gets_its_row(server, box, contacts):
    user, inbox = box["user"], box["inbox"]
    (inbox / "2022-10").mkdir(parents=True)
    (inbox / "2022-10" / "da-co.xlsx").write_bytes(FORM_476)
    append(
        server,
        user,
        message(PHONG_DIEN, "BC", "<r1@pd>", [(NAME, FORM_476, XLSX)]),
        dt.datetime(2022, 11, 2, 2, 3, 4, tzinfo=UTC),
    )
    result = mailbox.fetch("2022-10", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert result.saved == []
    assert [(s.attachment, s.reason) for s in result.skipped] == [(NAME, "trùng tệp đã nhận")]
    assert (inbox / "2022-10" / "received.csv").read_text(encoding="utf-8-sig") == (
        "Tệp,Ngày nhận,Hình thức\nda-co.xlsx,02/11/2022 09:03:04,thư điện tử\n"
    )
    assert sorted(p.name for p in (inbox / "2022-10").iterdir()) == ["da-co.xlsx", "received.csv"]
    assert uids_with(server, user, "KEYWORD", FLAG) == [b"1"]


def test_a_disk_error_leaves_the_message_unmarked(server, box, contacts, monkeypatch):
    user, inbox = box["user"], box["inbox"]
    append(
        server,
        user,
        message(PHONG_DIEN, "BC", "<w1@pd>", [(NAME, FORM_476, XLSX)]),
        dt.datetime(2022, 11, 2, tzinfo=UTC),
    )

    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mailbox, "write_atomic", full)
    with pytest.raises(
        mailbox.MailError, match=r"^không ghi được tệp vào thư mục .*2022-10 \(No space left on device\)"
    ):
        mailbox.fetch("2022-10", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert uids_with(server, user, "UNKEYWORD", FLAG) == [b"1"]


def test_fetch_items_of_the_asked_message_only():
    data = [
        b"3 (FLAGS (\\Seen) UID 9)",
        (b'1 (UID 4 INTERNALDATE "02-Nov-2022 00:00:00 +0000" BODY[HEADER.FIELDS (FROM)] {9}', b"From: a\r\n"),
        b")",
    ]
    assert mailbox._fetch_items(data, "4") == {
        b"UID": 4,
        b"INTERNALDATE": b"02-Nov-2022 00:00:00 +0000",
        b"BODY[HEADER.FIELDS (FROM)]": b"From: a\r\n",
    }
    with pytest.raises(imaplib.IMAP4.error):
        mailbox._fetch_items(data, "5")


def test_quoted_printable_attachment(server, box, contacts):
    user, inbox = box["user"], box["inbox"]
    msg = email.message.EmailMessage()
    msg["From"] = QUANG_DIEN
    msg["Subject"] = "BC"
    msg["Message-ID"] = "<q1@qd>"
    msg.set_content("x")
    msg.add_attachment(
        FORM_477, maintype="application", subtype="octet-stream", filename="qp.xlsx", cte="quoted-printable"
    )
    assert b"Content-Transfer-Encoding: quoted-printable" in msg.as_bytes()
    append(server, user, msg.as_bytes(), dt.datetime(2022, 11, 2, tzinfo=UTC))
    result = mailbox.fetch("2022-10", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert [(s.path.name, s.unit) for s in result.saved] == [("qp.xlsx", "477")]
    assert (inbox / "2022-10" / "qp.xlsx").read_bytes() == FORM_477


def test_starttls(server, box, contacts):
    user, inbox = box["user"], box["inbox"]
    box["settings"]["mail"]["imap"].update(tls="starttls", port=server.starttls_port)
    append(
        server,
        user,
        message(PHONG_DIEN, "BC", "<s1@pd>", [(NAME, FORM_476, XLSX)]),
        dt.datetime(2022, 11, 2, tzinfo=UTC),
    )
    result = mailbox.fetch("2022-10", inbox_root=inbox, settings=box["settings"], contacts=contacts)
    assert [(s.path.name, s.received_at) for s in result.saved] == [(SAFE, dt.datetime(2022, 11, 2, 7, 0))]
    assert PASSWORD not in mailbox.record_path(inbox).read_text(encoding="utf-8")


def test_settings_of_the_project_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("DXREPORT_MAIL_PASSWORD", "x")
    monkeypatch.setattr(mailbox, "TIMEOUT", 5)
    with pytest.raises(mailbox.MailError, match=r"^không kết nối được máy chủ thư mail.example.invalid:993"):
        mailbox.fetch("2022-10", inbox_root=tmp_path / "inbox", contacts=read_contacts_with(None, STRANGER))


def test_sender_of_several_units(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(CONTACTS + f"478,Huyện Phú Vang,{PHONG_DIEN},lanh_dao,2021-07-01,,mẫu\n", encoding="utf-8")
    both = read_contacts(path)
    assert both.sender_unit(PHONG_DIEN, "2022-10") is None
    assert mailbox._sender_reason(both, PHONG_DIEN, "2022-10") == (
        "địa chỉ người gửi thuộc nhiều đơn vị trong params/contacts.csv"
    )
    assert mailbox._sender_reason(both, STRANGER, "2022-10") == "người gửi không có trong params/contacts.csv"
