"""What an export takes from strangers is cleaned; the patch itself stays byte-exact (issue 13, class 5)."""

from __future__ import annotations

import email
import email.policy

from tests.mailgen import T0, patch_body, raw_mail
from triage.config import Settings
from triage.take.export import link_url
from triage.take.service import export

DATE = T0.strftime("%a, %d %b %Y %H:%M:%S +0000")
NASTY = ["\x1b]8;;http://evil.example\x07", "\x1b[2J", "\u202e", "\u2066", "\x9b31m", "\U000e0041", "\u200b", "\x00"]


def _series(make_store, trailer: str, subject: str = "[PATCH] widget: fix", body_extra: str = ""):
    patch = raw_mail([("From", "Alice <alice@example.com>"), ("To", "list@example.org"), ("Subject", subject),
                      ("Date", DATE), ("Message-ID", "<p@x>")], patch_body(msg="do the thing" + body_extra))
    reply = raw_mail([("From", "Rita Reviewer <reviewer@example.org>"), ("To", "alice@example.com"),
                      ("Subject", "Re: " + subject), ("Date", DATE), ("Message-ID", "<r@x>"), ("In-Reply-To", "<p@x>"),
                      ("References", "<p@x>")], f"{trailer}\n")
    return make_store(patch, reply)


def test_collected_trailer_values_lose_control_and_invisible_characters(make_store) -> None:
    value = "Rita " + "".join(NASTY) + "Reviewer <reviewer@example.org>"
    store = _series(make_store, f"Reviewed-by: {value}")
    result = export(store, Settings(), "p@x")
    (patch,) = result.patches
    (line,) = [a for a in patch.added if a.startswith("Reviewed-by")]
    assert line.startswith("Reviewed-by: Rita ") and line.endswith(" Reviewer <reviewer@example.org>")
    assert line.isprintable()  # what is left of an escape sequence is plain text
    for c in NASTY:
        assert c.encode() not in result.mbox


def test_the_patchs_own_text_stays_byte_exact(make_store) -> None:
    odd = " keeps \u202e and \x1b[1m as sent"
    store = _series(make_store, "Acked-by: Rita Reviewer <reviewer@example.org>", body_extra=odd)
    result = export(store, Settings(), "p@x")
    assert odd.encode() in result.mbox


def test_an_exported_subject_is_not_decoded_twice(make_store) -> None:
    subject = "[PATCH] =?utf-8?q?=3D=3Futf-8=3Fq=3F=3D0D=3D0AX-Injected=3A=5Fyes=3F=3D?="
    store = _series(make_store, "Acked-by: Rita Reviewer <reviewer@example.org>", subject=subject)
    result = export(store, Settings(), "p@x")
    msg = email.message_from_bytes(result.mbox.split(b"\n", 1)[1], policy=email.policy.default)
    assert "X-Injected" not in msg and str(msg["Subject"]).startswith("[PATCH] =?utf-8?q?")


def test_a_link_template_is_substituted_not_formatted() -> None:
    assert link_url("https://l.example/r/{msgid}", "a@b") == "https://l.example/r/a@b"
    assert link_url("{msgid.__class__}", "a@b") == "{msgid.__class__}"
    assert link_url("{msgid:>300000000}", "a@b") == "{msgid:>300000000}"
