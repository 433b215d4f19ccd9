"""Trailer extraction rules T5-T17, without a database."""

from __future__ import annotations

from triage.series.trailers import (
    RawTrailer,
    email_matches,
    followup_trailers,
    patch_trailers,
    review_mentions,
)


def _pairs(ts: list[RawTrailer]) -> list[tuple[str, str]]:
    return [(t.name, t.value) for t in ts]


def test_quoted_and_signature_lines_never_count() -> None:
    body = "> Reviewed-by: Q <q@x.org>\nok\n\nAcked-by: A <a@x.org>\n-- \nTested-by: S <s@x.org>\n"
    assert _pairs(followup_trailers(body)) == [("Acked-by", "A <a@x.org>")]


def test_indented_trailer_counts() -> None:
    assert _pairs(followup_trailers("  Acked-by: A <a@x.org>\n")) == [("Acked-by", "A <a@x.org>")]


def test_an_address_is_required_a_name_is_not() -> None:
    """Issue 28: "Tested-by: <addr>" is kept (as b4 keeps it); a name with no address is not."""
    assert _pairs(followup_trailers("Reviewed-by: <a@x.org>\nReviewed-by: Nobody\n")) == [("Reviewed-by", "<a@x.org>")]
    assert _pairs(followup_trailers("Tested-by: t@x.org\n")) == [("Tested-by", "<t@x.org>")]


def test_allow_list_rejects_free_text() -> None:
    assert followup_trailers("Note: tested on arm64 <a@x.org>\n") == []


def test_wrapped_trailers_join() -> None:
    body = 'Reviewed-by: Very Long Name\n <a@x.org>\nFixes: 0123456789ab ("long\n subject")\n'
    assert _pairs(followup_trailers(body)) == [
        ("Reviewed-by", "Very Long Name <a@x.org>"),
        ("Fixes", '0123456789ab ("long subject")'),
    ]


def test_scopes_are_kept() -> None:
    body = "Acked-by: A <a@x.org> # for DT bits\nAcked-by: B <b@x.org>\n[for the DT bits]\nAcked-by: John Doe <john@doe.com> (Documentation)\n"
    assert _pairs(followup_trailers(body)) == [
        ("Acked-by", "A <a@x.org> # for DT bits"),
        ("Acked-by", "B <b@x.org> [for the DT bits]"),
        ("Acked-by", "John Doe <john@doe.com> (Documentation)"),
    ]


def test_html_mailto_junk_is_cleaned() -> None:
    assert _pairs(followup_trailers("Reviewed-by: A <a@x.org<mailto:a@x.org>>\n")) == [("Reviewed-by", "A <a@x.org>")]


def test_case_and_link_equality() -> None:
    assert RawTrailer("reviewed-by", "a <A@X>").key() == RawTrailer("Reviewed-by", "A <a@x>").key()
    assert RawTrailer("Link", "https://lore.kernel.org/r/ID@x").key() == RawTrailer("Link", "https://patch.msgid.link/ID@x").key()


def test_nack_is_negative() -> None:
    (t,) = followup_trailers("NACKed-by: A <a@x.org>\n")
    assert t.name == "Nacked-by" and t.negative


def test_patch_trailers_come_from_the_last_paragraph_before_the_diff() -> None:
    body = "fix it\n\nFixes: deadbeef in the text is not a trailer.\n\nFixes: 0123456789ab (\"x\")\nSigned-off-by: A <a@x.org>\nCc: stable@vger.kernel.org\n---\n f | 1 +\nReviewed-by: After <z@x.org>\n"
    assert _pairs(patch_trailers(body)) == [
        ("Fixes", '0123456789ab ("x")'),
        ("Signed-off-by", "A <a@x.org>"),
        ("Cc", "stable@vger.kernel.org"),
    ]


def test_email_matching_as_b4() -> None:
    assert email_matches("Alice@Example.com", "alice@example.com")
    assert email_matches("alice+lkml@x.org", "alice@x.org")
    assert email_matches("alice@intel.com", "alice@linux.intel.com")
    assert not email_matches("alice@gmail.com", "alice@work.com")
    assert not email_matches("alice@personal.org", "alice@work.com")


def test_text_whose_lower_case_is_longer_still_finds_its_trailers() -> None:
    # "İ".lower() is two characters: line offsets found in the lower-cased text drift.
    body = "İstanbul'da denedim.\nReviewed-by: Ali Veli <ali@example.tr>\nFor 1-3: reviewed by me\n"
    assert followup_trailers(body) == [RawTrailer("Reviewed-by", "Ali Veli <ali@example.tr>")]
    assert review_mentions(body) == ["For 1-3: reviewed by me"]
    assert followup_trailers("İ\n") == [] and review_mentions("İ") == []
