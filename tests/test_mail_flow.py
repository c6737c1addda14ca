"""A month by mail, end to end: the units' files fetched from a real IMAP server (dovecot), the
month run, the feedback and the finished report sent to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from test_mailbox import XLSX, append, box, message, server  # noqa: F401 - fixtures
from test_outbox import Store, _free_port

from dxreport import mailbox, outbox, sample, store
from dxreport.contacts import read_contacts
from dxreport.params import PARAMS_DIR, PROJECT_ROOT, load_settings
from dxreport.units import load_registry

pytestmark = pytest.mark.slow

MONTH = "2025-07"
ICT = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_month_from_the_mailbox_to_the_report(server, box, tmp_path):  # noqa: F811 - fixtures
    steps = {}
    registry = load_registry()
    # the project's contacts, on a domain the test server accepts
    contacts_file = tmp_path / "contacts.csv"
    contacts_file.write_text(
        (PARAMS_DIR / "contacts.csv").read_text(encoding="utf-8").replace("@mau.invalid", "@example.org"),
        encoding="utf-8",
    )
    book = read_contacts(contacts_file, registry)

    # every unit mails its sample workbook on 03/08/2025 at 09:00; Sở Nội vụ on 07/08, after the deadline
    files = sorted(sample.generate_month(MONTH, tmp_path / "sample", registry=registry))
    units = {f: f.name.split("_")[0] for f in files}
    for i, path in enumerate(files):
        unit = units[path]
        when = dt.datetime(2025, 8, 7 if unit == "snv" else 3, 9, 0, tzinfo=ICT)
        raw = message(
            book.addresses(unit, MONTH)[0],
            f"Báo cáo tháng 07/2025 ({unit})",
            f"<m{i}@example.org>",
            [(path.name, path.read_bytes(), XLSX)],
        )
        append(server, box["user"], raw, when)

    settings = copy.deepcopy(box["settings"])
    settings["submission"] = {"max_file_bytes": 20_000_000}
    begin = time.monotonic()
    fetched = mailbox.fetch(MONTH, inbox_root=box["inbox"], settings=settings, contacts=book, registry=registry)
    steps["fetch"] = time.monotonic() - begin
    assert sorted(s.path.name for s in fetched.saved) == sorted(f.name for f in files)
    assert fetched.skipped == [] or all(s.reason == mailbox.DUPLICATE for s in fetched.skipped)

    outputs = tmp_path / "outputs"
    begin = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", "from dxreport.cli import main; main()", "run", "--month", MONTH, "--unit", "tinh"]
        + ["--inbox", str(box["inbox"]), "--outputs", str(outputs), "--report-date", "2025-08-11", "--quiet"],
        cwd=PROJECT_ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
    )
    steps["run"] = time.monotonic() - begin
    assert run.returncode == 0, run.stdout + run.stderr
    with store.connect(store.warehouse_path(outputs), read_only=True) as con:
        subs = con.execute(
            "SELECT unit, received_at, received_source, late FROM submissions WHERE month = ? AND status = 'accepted'",
            [MONTH],
        ).df()
    # the time that decides "nộp muộn" is the message's arrival, from received.csv
    snv = subs[subs["unit"] == "snv"].iloc[0]
    assert str(snv["received_at"]) == "2025-08-07 09:00:00" and bool(snv["late"])
    assert str(subs[subs["unit"] == "19753"].iloc[0]["received_at"]) == "2025-08-03 09:00:00"
    assert set(subs["received_source"]) == {"received.csv"}

    mail = copy.deepcopy(load_settings())
    handler = Store()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ready_timeout=60)
    controller.start()
    try:
        mail["mail"] = {
            "smtp": {"host": "127.0.0.1", "port": controller.port, "tls": "none", "from_address": "cds@example.org"},
        }
        begin = time.monotonic()
        notes = outbox.feedback(MONTH, outputs=outputs, registry=registry, contacts=book, settings=mail)
        sent = outbox.deliver(notes, MONTH, outputs=outputs, send=True, settings=mail)
        steps["feedback"] = time.monotonic() - begin
        # the sample plants faults in some units' files: each of those units gets one message
        assert notes and len(handler.envelopes) == len(notes)
        again = outbox.deliver(notes, MONTH, outputs=outputs, send=True, settings=mail)
        assert len(handler.envelopes) == len(notes)  # nothing twice

        begin = time.monotonic()
        up = outbox.report(MONTH, outputs=outputs, registry=registry, contacts=book, settings=mail)
        outbox.deliver(up, MONTH, outputs=outputs, send=True, settings=mail)
        steps["report"] = time.monotonic() - begin
    finally:
        controller.stop()
    report_mail = handler.messages()[-1]
    # signed 11/08/2025: Sở Khoa học và Công nghệ reports to Bộ KH&CN and UBND thành phố Huế
    assert sorted(handler.envelopes[-1].rcpt_tos) == [
        "vanthu.bokhoahocvacongnghe@example.org",
        "vanthu.ubndthanhphohue@example.org",
    ]
    assert sorted(a.get_filename() for a in report_mail.iter_attachments()) == ["annex.xlsx", "report.pdf"]
    assert sent is not None and again is not None
    print(f"\n{len(files)} tệp; " + "; ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
