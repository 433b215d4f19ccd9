"""Replies without the screen: headers, quoting, drafts, transports, filing. Real notmuch, real SMTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import CORPUS, needs_corpus, write_lock_held
from tests.mailgen import mail, patch_body
from tests.smtpserver import SMTPServer, free_port
from triage.config import Settings, load_settings
from triage.reply.draft import Draft, DraftError, DraftStore, build_message, parse_draft
from triage.reply.headers import reply_subject
from triage.reply.outbox import ReplyError, identity, send_draft, start_reply
from triage.reply.send import SendError
from triage.sendconfig import SendSettings
from triage.series.service import load_series

SERIES = CORPUS / "threads" / "linux-pwm" / "mc33xs2410-high-side-switch" / "v09-PATCH-v9-0-2.mbox"
ME = "Test Maintainer <maint@example.org>"


def smtp_settings(port: int, **kw: object) -> Settings:
    return Settings(send=SendSettings(method="smtp", host="127.0.0.1", port=port, security="none", **kw))  # type: ignore[arg-type]


def _only(series):
    (s,) = [s for s in series if s.version == 9] or series
    return s


@needs_corpus
@pytest.mark.parametrize("target", ["cover", "patch"])
def test_review_reply_to_a_real_series_is_received_threaded_and_filed(make_store, tmp_path: Path, target: str) -> None:
    store = make_store(SERIES)
    s = _only(load_series(store))
    parent = s.cover.message_id if target == "cover" else s.patches[1].message.message_id
    assert parent
    drafts = DraftStore(tmp_path / "drafts")
    with SMTPServer() as server:
        settings = smtp_settings(server.port)
        draft, resumed = start_reply(store, settings, drafts, parent, "review", s.id)
        assert not resumed and drafts.path(draft.id).exists()
        result = send_draft(store, settings, drafts, draft)
        (got,) = server.wait()
    msg = got.message
    original = _headers_of(store, parent)
    assert msg["From"] == ME
    # B4 Relay sends as devnull@kernel.org with Reply-To the author: the reply goes to the author.
    assert msg["To"] == (original["Reply-To"] or original["From"])
    assert "devnull" not in str(msg["To"]) and "devnull" not in str(msg["Cc"])
    sent_cc = {a.addr_spec.lower() for a in msg["Cc"].addresses}
    orig_cc = {a.addr_spec.lower() for h in ("To", "Cc") for a in (original[h].addresses if original[h] else ())}
    to_addr = msg["To"].addresses[0].addr_spec.lower()
    assert sent_cc == orig_cc - {"maint@example.org", to_addr} and sent_cc
    assert msg["Subject"] == "Re: " + str(original["Subject"])
    assert msg["In-Reply-To"] == f"<{parent}>"
    refs = msg["References"].split()
    assert refs[-1] == f"<{parent}>"
    if target == "patch":
        assert refs[0] == f"<{s.cover.message_id}>"  # the patch's chain comes first
    assert set(got.rcpt_tos) == {msg["To"].addresses[0].addr_spec, *(a.addr_spec for a in msg["Cc"].addresses)}
    body = msg.get_content().replace("\r\n", "\n")
    assert body.splitlines()[0].startswith("On ") and body.splitlines()[0].endswith(" wrote:")
    assert "\n\nReviewed-by: Test Maintainer <maint@example.org>\n" in body
    assert "\n> " in body
    # Accepted: draft removed, copy filed under the series, its trailer counts, state moved.
    assert not drafts.path(draft.id).exists()
    # A Reviewed-by on the cover reviews the series; on one of two patches, that patch.
    expected = "reviewed" if target == "cover" else "under-review"
    assert result.state == expected and not result.problems
    assert store.matching_ids("tag:sent") == {result.message_id}
    after = _only(load_series(store))
    assert after.state == expected
    if target == "patch":
        assert [p.progress for p in after.patches] == [None, "reviewed"]
    # A trailer on the cover letter counts for every patch, as b4 reads it.
    for patch in after.patches if target == "cover" else [after.patches[1]]:
        names = [t.value for t in patch.trailers if t.name == "Reviewed-by"]
        assert "Test Maintainer <maint@example.org>" in names, (patch.index, names)


def _headers_of(store, mid: str):
    import email
    import email.policy

    with open(store.message_path(mid), "rb") as fh:
        return email.message_from_binary_file(fh, policy=email.policy.default)


def test_subject_with_line_breaks_and_fake_bcc_adds_no_header(make_store, tmp_path: Path) -> None:
    hostile = (
        b"From: =?utf-8?q?Eve=0D=0ABcc=3A_spy=40evil=2Eexample?= <eve@example.com>\n"
        b"To: list@example.org\n"
        b"Cc: \"x\r\nBcc: spy2@evil.example\" <cc@example.com>\n"
        b"Subject: =?utf-8?q?=5BPATCH=5D_fix=0D=0ABcc=3A_spy3=40evil=2Eexample=0AX-Injected=3A_1?=\n"
        b"Message-ID: <hostile@example.com>\n"
        b"References: <a@example.com>\r\n\tBcc: spy4@evil.example\n"
        b"Date: Mon, 5 Jan 2026 10:00:00 +0000\n\nbody\n"
    )
    store = make_store(hostile)
    drafts = DraftStore(tmp_path / "drafts")
    with SMTPServer() as server:
        settings = smtp_settings(server.port)
        draft, _ = start_reply(store, settings, drafts, "hostile@example.com", "reply", None)
        send_draft(store, settings, drafts, draft)
        (got,) = server.wait()
    assert "evil" not in " ".join(got.rcpt_tos)
    names = [k.lower() for k in got.message]
    assert names.count("bcc") == 0 and "x-injected" not in names
    assert sorted(set(names)) == sorted(
        {"from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
         "mime-version", "content-type", "content-transfer-encoding"}
    )
    assert got.message["Subject"].startswith("Re: [PATCH] fix Bcc: spy3@evil.example")
    assert got.message["References"] == "<a@example.com> <hostile@example.com>"


def test_refused_connection_keeps_the_draft(make_store, tmp_path: Path) -> None:
    store = make_store(mail("p1@x", "[PATCH] one", patch_body()))
    drafts = DraftStore(tmp_path / "drafts")
    settings = smtp_settings(free_port())  # nothing listens there
    draft, _ = start_reply(store, settings, drafts, "p1@x", "ack", None)
    with pytest.raises(SendError, match=r"127\.0\.0\.1:\d+: connection refused"):
        send_draft(store, settings, drafts, draft)
    assert drafts.load(draft.id).text == draft.text
    assert store.matching_ids("tag:sent") == set()
    # Asking again resumes it rather than starting over.
    again, resumed = start_reply(store, settings, drafts, "p1@x", "ack", None)
    assert resumed and again.id == draft.id


def test_server_refusal_and_rejected_login_are_reported(make_store, tmp_path: Path) -> None:
    store = make_store(mail("p1@x", "[PATCH] one", patch_body()))
    drafts = DraftStore(tmp_path / "drafts")
    with SMTPServer() as server:
        server.handler.reply = "554 5.7.1 policy says no"
        settings = smtp_settings(server.port)
        draft, _ = start_reply(store, settings, drafts, "p1@x", "reply", None)
        with pytest.raises(SendError, match="554 5.7.1 policy says no"):
            send_draft(store, settings, drafts, draft)
    assert drafts.path(draft.id).exists()
    with SMTPServer(user="morgan", password="s3cret") as server:
        bad = smtp_settings(server.port, user="morgan", password_command="echo wrong")
        with pytest.raises(SendError, match="login as 'morgan' rejected: 535"):
            send_draft(store, bad, drafts, draft)
        good = smtp_settings(server.port, user="morgan", password_command="printf 's3cret\\nuser: morgan\\n'")
        send_draft(store, good, drafts, draft)
        assert len(server.wait()) == 1
    assert not drafts.path(draft.id).exists()


def test_sendmail_command_gets_the_message_and_bcc(make_store, tmp_path: Path) -> None:
    store = make_store(mail("p1@x", "[PATCH] one", patch_body()))
    drafts = DraftStore(tmp_path / "drafts")
    out = tmp_path / "out"
    script = tmp_path / "fake-sendmail"
    script.write_text(f"import sys; open({str(out)!r}, 'wb').write(repr(sys.argv[1:]).encode() + b'\\n' + sys.stdin.buffer.read())\n")
    settings = Settings(send=SendSettings(method="sendmail", sendmail_command=f"{sys.executable} {script}"))
    draft, _ = start_reply(store, settings, drafts, "p1@x", "reply", None)
    draft.text = draft.text.replace("Subject:", "Bcc: boss@example.com\nSubject:", 1)
    send_draft(store, settings, drafts, draft)
    argv, data = out.read_bytes().split(b"\n", 1)
    assert b"boss@example.com" in argv and b"alice@example.com" in argv  # envelope given as arguments
    assert b"\nBcc:" not in data and b"boss@" not in data
    failing = Settings(send=SendSettings(method="sendmail", sendmail_command="false"))
    draft2, _ = start_reply(store, failing, drafts, "p1@x", "reply", None)
    with pytest.raises(SendError, match="'false' exited 1"):
        send_draft(store, failing, drafts, draft2)
    assert drafts.path(draft2.id).exists()


def test_not_configured_says_how(make_store, tmp_path: Path) -> None:
    store = make_store(mail("p1@x", "[PATCH] one", patch_body()))
    drafts = DraftStore(tmp_path / "drafts")
    draft, _ = start_reply(store, Settings(), drafts, "p1@x", "reply", None)
    with pytest.raises(SendError, match=r"add \[send\] to config.toml"):
        send_draft(store, Settings(), drafts, draft)


def test_headers_of_a_reply(make_store, tmp_path: Path) -> None:
    original = mail(
        "p2@x", "Re: [PATCH 2/3] two", patch_body(), sender='"Author, Alice" <alice@example.com>',
        to="list@example.org, Test Maintainer <MAINT@example.org>", cc="Bob <bob@example.com>, alice@example.com",
        parent="p0@x", refs=["p0@x"],
    )
    store = make_store(original)
    draft, _ = start_reply(store, Settings(), DraftStore(tmp_path / "d"), "p2@x", "tested", "p0@x")
    parsed = parse_draft(draft.text)
    assert parsed.headers["To"] == '"Author, Alice" <alice@example.com>'
    assert parsed.headers["Cc"] == "list@example.org, Bob <bob@example.com>"  # own address and the To left out
    assert parsed.headers["Subject"] == "Re: [PATCH 2/3] two"
    assert draft.references == ["p0@x", "p2@x"]
    assert draft.text.rstrip().endswith("\n\nTested-by: Test Maintainer <maint@example.org>")
    assert "-- \n" not in draft.text  # the signature is not quoted
    built = build_message(draft)
    msg, rcpts = built.message, built.recipients
    assert msg["In-Reply-To"] == "<p2@x>" and msg["References"] == "<p0@x> <p2@x>"
    assert msg["Message-ID"].endswith("@example.org>")
    assert rcpts == ["alice@example.com", "list@example.org", "bob@example.com"]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("[PATCH] a", "Re: [PATCH] a"), ("Re: [PATCH] a", "Re: [PATCH] a"), ("RE: re: AW: x", "Re: x"), ("", "Re: (no subject)")],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_draft_text_errors_name_the_line() -> None:
    with pytest.raises(DraftError, match=r"line 2: 'X-Evil: 1' is not one of the headers"):
        parse_draft("From: a@b.c\nX-Evil: 1\nTo: d@e.f\n\nbody")
    with pytest.raises(DraftError, match="no recipient"):
        parse_draft("From: a@b.c\nSubject: x\n\nbody")
    with pytest.raises(DraftError, match="To: no valid address"):
        parse_draft("From: a@b.c\nTo: not an address\n\nbody")
    ok = parse_draft("From: a@b.c\nTo: d@e.f,\n  g@h.i\nSubject: s\n\nbody\n\n")
    assert ok.recipients == ["d@e.f", "g@h.i"] and ok.body == "body\n"


def test_identity_from_config_overrides_notmuch(make_store, tmp_path: Path) -> None:
    store = make_store()
    assert identity(store, Settings()).email == "maint@example.org"
    assert identity(store, Settings(identity_name="Other", identity_email="o@x.org")).formatted() == "Other <o@x.org>"
    with pytest.raises(ReplyError, match="user.primary_email"):
        identity(store, Settings(identity_email="not an address"))


def test_a_draft_survives_a_killed_process(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from triage.reply.draft import Draft, DraftStore
        store = DraftStore(Path({str(tmp_path / 'drafts')!r}))
        store.save(Draft(id="d1", parent_id="p@x", text="From: a@b.c\\nTo: d@e.f\\n\\nhalf-written review"))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], check=False)
    assert done.returncode == -signal.SIGKILL
    drafts, problems = DraftStore(tmp_path / "drafts").all()
    assert [d.text.endswith("half-written review") for d in drafts] == [True] and not problems


def test_send_config_is_read_and_checked(tmp_path: Path) -> None:
    f = tmp_path / "config.toml"
    f.write_text(
        '[identity]\nname = "M"\nemail = "m@x.org"\n[reply]\nstate_after_review = ""\n'
        '[send]\nmethod = "smtp"\n[send.smtp]\nhost = "mail.x.org"\nsecurity = "tls"\nuser = "m"\n'
        'password_command = "pass show mail"\n'
    )
    s = load_settings(f)
    assert not s.problems
    assert (s.send.host, s.send.smtp_port, s.send.user, s.state_after_review) == ("mail.x.org", 465, "m", None)
    f.write_text('[send]\nmethod = "pigeon"\n[send.smtp]\npassword = "plain"\n')
    s = load_settings(f)
    assert s.send.method is None and any("send.method must be one of smtp, sendmail" in p for p in s.problems)
    f.write_text('[send]\nmethod = "smtp"\n[send.smtp]\nsecurity = "ssl"\n')
    assert any(p.startswith(f"{f}:4: send.smtp.security must be one of none, starttls, tls") for p in load_settings(f).problems)


def test_draft_round_trip(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    d = Draft(id="x", parent_id="p@x", text="From: a@b.c\nTo: d@e.f\n\nünïcode")
    store.save(d)
    assert store.load("x").text == d.text
    (tmp_path / "broken.json").write_text("{")
    drafts, problems = store.all()
    assert [x.id for x in drafts] == ["x"] and "broken.json: unreadable draft" in problems[0]


def test_quote_drops_the_signature_and_caps_huge_patches() -> None:
    from triage.reply.compose import quote

    assert quote("a\n\nb\n-- \n2.40\n") == "> a\n>\n> b"
    assert quote("x\x1b[31m\n") == "> x\u241b[31m"  # control characters shown, never passed on
    big = quote("\n".join(f"+line {i}" for i in range(5000)), limit=100)
    assert big.count("\n") == 100 and big.endswith("> [... 4900 more lines not quoted ...]")


def test_a_locked_database_loses_neither_the_sent_copy_nor_the_state(make_store, tmp_path: Path) -> None:
    store = make_store(mail("c@x", "[PATCH 0/1] one", "cover\n"), mail("p1@x", "[PATCH 1/1] one", patch_body(), parent="c@x"))
    drafts = DraftStore(tmp_path / "drafts")
    with SMTPServer() as server:
        settings = smtp_settings(server.port)
        draft, _ = start_reply(store, settings, drafts, "p1@x", "review", "c@x")
        with write_lock_held(store):
            result = send_draft(store, settings, drafts, draft)
        assert len(server.wait()) == 1
    assert not drafts.path(draft.id).exists()  # accepted by the transport: the draft has done its job
    filed, state = result.problems
    assert "sent, not filed" in filed and "for the next `notmuch new`" in filed
    assert "state was not set" in state and "queued" in state
    (copy,) = (store.path() / "sent" / "cur").iterdir()
    assert result.message_id in copy.read_text()
    subprocess.run(["notmuch", "new", "--quiet"], check=True, env={**os.environ, "NOTMUCH_CONFIG": store.config.config_path})
    assert store.matching_ids(f"id:{result.message_id}") == {result.message_id}
    assert store.retry_pending() == 2  # the patch's mark and the series' state, in order
    (after,) = load_series(store)
    assert after.state == "reviewed" and after.patches[0].progress == "reviewed"
