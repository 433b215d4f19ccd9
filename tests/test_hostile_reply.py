"""Hostile mail cannot write a header of the maintainer's reply (issue 13, classes 1, 9, 11, 13).

Each test builds the hostile message itself and sends the reply through a real SMTP
server (aiosmtpd on 127.0.0.1) or a real sendmail-style command.
"""

from __future__ import annotations

import email
import email.policy
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.mailgen import raw_mail
from tests.smtpserver import SMTPServer
from triage.config import Settings
from triage.reply.draft import DraftError, DraftStore, build_message
from triage.reply.outbox import send_draft, start_reply
from triage.reply.send import SendError
from triage.sendconfig import SendSettings

OWN = {"from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references", "mime-version",
       "content-type", "content-transfer-encoding"}
DATE = "Mon, 05 Jan 2026 10:00:00 +0000"

# A subject whose *decoded* text is itself an encoded word of a line break and a header.
INJECTING_SUBJECTS = [
    "=?utf-8?q?=3D=3Futf-8=3Fq=3F=3D0D=3D0ABcc=3A=5Fx=40evil=2Eorg=3F=3D?=",
    "=?utf-8?b?PT91dGYtOD9xPz0wRD0wQVgtSW5qZWN0ZWQ6X3llcz89?=",  # base64 of =?utf-8?q?=0D=0AX-Injected:_yes?=
    "Re: [PATCH] =?utf-8?q?=3D=3Futf-8=3Fq=3F=3D0D=3D0A=3D0D=3D0Abody=3F=3D?= tail",
    "=?utf-8?q?=3D=3Fiso-8859-1=3Fq=3F=3D0ABcc=3A=3F=3D_x=40evil=2Eorg?=",
]
INJECTING_NAMES = [
    "=?utf-8?q?=3D=3Futf-8=3Fq=3FEve=3D0D=3D0ABcc=3A=5Fx=40evil=2Eorg=3F=3D?= <eve@example.net>",
    "=?utf-8?q?=3D=3Futf-8=3Fq=3F=3D2C=5Fx=40evil=2Eorg=3F=3D?= <eve@example.net>",
    '"=?utf-8?q?=3D=3Futf-8=3Fq=3Fa=3D0D=3D0AX-Injected=3A=5F1=3F=3D?=" <eve@example.net>',
]


def smtp(port: int, **kw: object) -> Settings:
    return Settings(send=SendSettings(method="smtp", host="127.0.0.1", port=port, security="none", **kw))  # type: ignore[arg-type]


def hostile(subject: str = "[PATCH] x", sender: str = "Eve <eve@example.net>", cc: str | None = None) -> bytes:
    headers = [("From", sender), ("To", "list@example.org"), ("Subject", subject), ("Date", DATE),
               ("Message-ID", "<h1@example.net>")]
    if cc:
        headers.append(("Cc", cc))
    return raw_mail(headers, "a patch\n")


def received_headers(data: bytes) -> tuple[set[str], email.message.EmailMessage]:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    return {k.lower() for k in msg}, msg  # type: ignore[return-value]


@pytest.mark.parametrize("subject", INJECTING_SUBJECTS)
def test_a_subject_decoding_to_an_encoded_word_adds_no_header(make_store, tmp_path: Path, subject: str) -> None:
    store = make_store(hostile(subject))
    drafts = DraftStore(tmp_path / "d")
    with SMTPServer() as server:
        settings = smtp(server.port)
        draft, _ = start_reply(store, settings, drafts, "h1@example.net", "review", None)
        written = next(line for line in draft.text.split("\n") if line.startswith("Subject: "))[len("Subject: "):]
        assert "=?" in written  # decoded once: the inner encoded word is shown as text
        result = send_draft(store, settings, drafts, draft)
        (got,) = server.wait()
    names, msg = received_headers(got.data)
    assert names <= OWN, names - OWN
    assert got.rcpt_tos == ["eve@example.net", "list@example.org"]
    assert str(msg["Subject"]) == written  # what the user saw is what was sent
    assert msg.get_content().rstrip().endswith("Reviewed-by: Test Maintainer <maint@example.org>")
    filed = next((store.path() / "sent" / "cur").iterdir()).read_bytes()
    assert received_headers(filed)[0] <= OWN
    assert not result.problems


@pytest.mark.parametrize("sender", INJECTING_NAMES)
def test_a_display_name_decoding_to_an_encoded_word_adds_no_recipient(make_store, tmp_path: Path, sender: str) -> None:
    store = make_store(hostile(sender=sender, cc=sender.replace("eve@", "eve2@")))
    drafts = DraftStore(tmp_path / "d")
    with SMTPServer() as server:
        settings = smtp(server.port)
        draft, _ = start_reply(store, settings, drafts, "h1@example.net", "reply", None)
        send_draft(store, settings, drafts, draft)
        (got,) = server.wait()
    names, msg = received_headers(got.data)
    assert names <= OWN
    assert sorted(got.rcpt_tos) == ["eve2@example.net", "eve@example.net", "list@example.org"]
    assert [a.addr_spec for a in msg["To"].addresses] == ["eve@example.net"]
    assert "=?" in msg["To"].addresses[0].display_name  # the name as decoded once, nothing more


def test_sendmail_input_carries_only_written_headers(make_store, tmp_path: Path) -> None:
    store = make_store(hostile(INJECTING_SUBJECTS[0]))
    out = tmp_path / "sendmail-input"
    script = tmp_path / "fake-sendmail"
    script.write_text(f"#!{sys.executable}\nimport sys\nopen({str(out)!r}, 'wb').write(sys.stdin.buffer.read())\n")
    script.chmod(0o755)
    settings = Settings(send=SendSettings(method="sendmail", sendmail_command=f"{script} -t -oi"))
    drafts = DraftStore(tmp_path / "d")
    draft, _ = start_reply(store, settings, drafts, "h1@example.net", "reply", None)
    draft.text = draft.text.replace("\nSubject:", "\nBcc: hidden@example.org\nSubject:", 1)
    send_draft(store, settings, drafts, draft)
    names, msg = received_headers(out.read_bytes())
    assert names <= OWN | {"bcc"}  # sendmail -t takes the Bcc line and strips it
    assert [a.addr_spec for a in msg["Bcc"].addresses] == ["hidden@example.org"]


def test_a_huge_display_name_is_folded_and_sent(make_store, tmp_path: Path) -> None:
    name = "Ev" + "e" * 3000
    store = make_store(hostile(sender=f"{name} <eve@example.net>", subject="[PATCH] " + "long " * 400))
    drafts = DraftStore(tmp_path / "d")
    with SMTPServer() as server:
        settings = smtp(server.port)
        draft, _ = start_reply(store, settings, drafts, "h1@example.net", "reply", None)
        send_draft(store, settings, drafts, draft)
        (got,) = server.wait()
    assert max(len(line) for line in got.data.split(b"\r\n")) <= 998
    _, msg = received_headers(got.data)
    assert msg["To"].addresses[0].display_name.replace(" ", "") == name


def test_an_address_that_cannot_be_used_is_left_out_with_a_note(make_store, tmp_path: Path) -> None:
    store = make_store(hostile(cc="J\u00f6s\u00e9 <j\u00f6s\u00e9@example.org>, ok@example.org"))
    drafts = DraftStore(tmp_path / "d")
    draft, _ = start_reply(store, Settings(), drafts, "h1@example.net", "reply", None)
    built = build_message(draft)
    assert built.recipients == ["eve@example.net", "list@example.org", "ok@example.org"]
    assert any("j\u00f6s\u00e9@example.org" in n for n in built.notes)
    assert b"j\xc3\xb6s" not in built.data.split(b"\n\n", 1)[0]


def test_the_preview_shows_the_bytes_that_are_sent(make_store, tmp_path: Path) -> None:
    from triage.ui.screens.composer import preview_document

    store = make_store(hostile(INJECTING_SUBJECTS[1]))
    draft, _ = start_reply(store, Settings(), DraftStore(tmp_path / "d"), "h1@example.net", "reply", None)
    built = build_message(draft)
    doc = preview_document(built)
    shown = "\n".join("".join(seg.text for seg in line) for line in doc.lines)
    head = built.data.decode().split("\n\n", 1)[0]
    for line in head.split("\n"):
        assert line in shown


def test_sent_but_not_filed_is_said_and_never_sent_twice(make_store, tmp_path: Path) -> None:
    store = make_store(hostile())
    # A file where the sent folder should be: root writes through permission bits.
    (store.path() / "sent").write_text("not a folder")
    drafts = DraftStore(tmp_path / "d")
    with SMTPServer() as server:
        settings = smtp(server.port)
        draft, _ = start_reply(store, settings, drafts, "h1@example.net", "reply", None)
        result = send_draft(store, settings, drafts, draft)
        assert len(server.wait()) == 1
        assert any(p.startswith("sent, not filed:") and "sent" in p for p in result.problems), result.problems
        assert not drafts.path(draft.id).exists()
        with pytest.raises(DraftError, match="already sent"):
            send_draft(store, settings, drafts, draft)
        time.sleep(0.2)
        assert len(server.received) == 1


def test_an_empty_password_is_refused_before_connecting(make_store, tmp_path: Path) -> None:
    store = make_store(hostile())
    drafts = DraftStore(tmp_path / "d")
    with SMTPServer(user="u", password="") as server:
        settings = smtp(server.port, user="u", password_command="printf ''")
        draft, _ = start_reply(store, settings, drafts, "h1@example.net", "reply", None)
        with pytest.raises(SendError, match="printed no password"):
            send_draft(store, settings, drafts, draft)
        assert not server.received
    assert drafts.path(draft.id).exists()


class TricklingServer:
    """Answers the greeting one byte at a time: every read succeeds within the read timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            while not self.stop.is_set():
                try:
                    conn.sendall(b"2")
                except OSError:
                    return
                time.sleep(0.2)


def test_sending_has_an_overall_deadline(make_store, tmp_path: Path) -> None:
    store = make_store(hostile())
    server = TricklingServer()
    settings = smtp(server.port, timeout=5.0, deadline=1.5)
    drafts = DraftStore(tmp_path / "d")
    draft, _ = start_reply(store, settings, drafts, "h1@example.net", "reply", None)
    t0 = time.monotonic()
    try:
        with pytest.raises(SendError, match="gave up after 2s"):
            send_draft(store, settings, drafts, draft)
    finally:
        server.stop.set()
        server.sock.close()
    assert time.monotonic() - t0 < 5
    assert drafts.path(draft.id).exists()  # not sent: kept
