"""A display name can never pose as an address (issue 13, class 2; class 10 for To/Cc).

The address is parsed from the header as it arrived, then the name is decoded: a name
that decodes to ``<someone@example.org>`` is a name, and an encoded word inside the
angle brackets is no address at all.
"""

from __future__ import annotations

from tests.mailgen import T0, patch_body, raw_mail
from triage.mail.addresses import parse_raw, sender_of_decoded
from triage.mail.message import read_message
from triage.series.service import load_series

DATE = T0.strftime("%a, %d %b %Y %H:%M:%S +0000")

# Each From poses as reviewer@example.org (the address of the trailer) or as the maintainer.
FORGED_AS_REVIEWER = [
    "=?utf-8?q?=3Creviewer=40example=2Eorg=3E?= <eve@evil.example>",
    "=?utf-8?b?PHJldmlld2VyQGV4YW1wbGUub3JnPg==?= <eve@evil.example>",
    "Reviewer <=?utf-8?q?reviewer=40example=2Eorg?=>",
    '"=?utf-8?q?reviewer=40example=2Eorg?=" <eve@evil.example>',
]


def _thread(reply_from: str, body: str, subject: str = "Re: [PATCH] widget: fix") -> list[bytes]:
    patch = raw_mail([("From", "Alice <alice@example.com>"), ("To", "list@example.org"), ("Subject", "[PATCH] widget: fix"),
                      ("Date", DATE), ("Message-ID", "<p@x>")], patch_body())
    reply = raw_mail([("From", reply_from), ("To", "alice@example.com"), ("Subject", subject), ("Date", DATE),
                      ("Message-ID", "<r@x>"), ("In-Reply-To", "<p@x>"), ("References", "<p@x>")], body)
    return [patch, reply]


def test_a_genuine_reviewer_is_matched(series_of) -> None:
    (s,) = series_of(*_thread("Rita Reviewer <reviewer@example.org>", "Reviewed-by: Rita Reviewer <reviewer@example.org>\n"))
    (t,) = [t for t in s.patches[0].trailers if t.name == "Reviewed-by"]
    assert t.sender_match and s.counts()["reviewed_by"] == 1


def test_a_forged_display_name_never_matches_the_trailer(series_of) -> None:
    for sender in FORGED_AS_REVIEWER:
        (s,) = series_of(*_thread(sender, "Reviewed-by: Rita Reviewer <reviewer@example.org>\n"))
        (t,) = [t for t in s.patches[0].trailers if t.name == "Reviewed-by"]
        assert not t.sender_match, sender
        assert s.counts()["reviewed_by"] == 0, sender


def test_a_name_decoding_to_my_address_is_not_my_reply(series_of) -> None:
    for sender in ("=?utf-8?q?=3Cmaint=40example=2Eorg=3E?= <eve@evil.example>", "=?utf-8?q?maint=40example=2Eorg?= <eve@evil.example>"):
        (s,) = series_of(*_thread(sender, "thanks\n"))
        assert not s.replied, sender
    (s,) = series_of(*_thread("Test Maintainer <maint@example.org>", "thanks\n"))
    assert s.replied


def test_decoded_values_take_the_last_angle_address() -> None:
    assert sender_of_decoded("<someone@example.org> <eve@evil.example>") == ("<someone@example.org>", "eve@evil.example")
    assert sender_of_decoded("maint@example.org <eve@evil.example>") == ("maint@example.org", "eve@evil.example")
    assert sender_of_decoded("x@y.example (Comment <a@b.example>)")[1] == "x@y.example"


def test_encoded_names_do_not_split_into_invented_recipients(tmp_path) -> None:
    raw = "=?utf-8?q?Alice=2C_bob=40evil=2Eexample=2C_carol=40evil=2Eexample?= <alice@example.com>, dave@example.org"
    assert parse_raw(raw) == [("Alice, bob@evil.example, carol@evil.example", "alice@example.com"), ("", "dave@example.org")]
    f = tmp_path / "m.eml"
    f.write_bytes(raw_mail([("From", "a@example.com"), ("To", raw), ("Cc", raw), ("Subject", "x"), ("Message-ID", "<m@x>")]))
    msg = read_message("m@x", str(f))
    assert len(msg.to) == 2 and len(msg.cc) == 2
    assert msg.to[1] == "dave@example.org"


def test_the_author_of_a_patch_is_the_files_sender(make_store) -> None:
    patch = raw_mail([("From", "Alice <=?utf-8?q?bob=40example=2Eorg?=>"), ("To", "list@example.org"),
                      ("Subject", "[PATCH] widget: fix"), ("Date", DATE), ("Message-ID", "<p@x>")], patch_body())
    (s,) = load_series(make_store(patch))
    assert s.author_email != "bob@example.org"


def test_format_characters_in_names_never_reach_the_screen_raw(tmp_path) -> None:
    import unicodedata

    from triage.ui.documents import message_document

    names = "=?utf-8?q?Tag=F3=A0=81=81ged?= <t@example.org>, =?utf-8?q?Num=D8=80ber_=E2=80=AEevil?= <n@example.org>"
    f = tmp_path / "m.eml"
    f.write_bytes(raw_mail([("From", "a@example.com"), ("To", names), ("Cc", names), ("Subject", "x \u0600 y"),
                            ("Message-ID", "<m@x>")], "body \U000e0041 text\n"))
    msg = read_message("m@x", str(f))
    assert len(msg.to) == 2  # the encoded names stay two recipients
    doc = message_document(msg)
    for line in doc.lines:
        text = "".join(seg.text for seg in line)
        assert not [c for c in text if unicodedata.category(c) == "Cf" and c not in "\u200c\u200d"], text
