"""A stranger using the author's display name does not supersede the author's series (issue 13, class 6)."""

from __future__ import annotations

from tests.mailgen import mail, mbox, patch_body


def _v(version: int, mid: str, sender: str, minutes: int) -> bytes:
    tag = f"PATCH v{version}" if version > 1 else "PATCH"
    return mail(mid, f"[{tag}] widget: fix the frobnicator", patch_body(), sender=sender, minutes=minutes)


def test_the_same_name_from_a_strangers_address_is_not_a_new_version(series_of) -> None:
    got = series_of(mbox(
        _v(1, "a1@x", "Alice Author <alice@example.com>", 0),
        _v(2, "e2@x", "Alice Author <eve@evil.example>", 60),
    ))
    by_id = {s.id: s for s in got}
    assert by_id["a1@x"].newer_versions == [] and by_id["a1@x"].state == "new"
    assert by_id["e2@x"].previous_versions == []


def test_the_same_name_through_a_relay_is_a_new_version(series_of) -> None:
    got = series_of(mbox(
        _v(1, "a1@x", "Alice Author <alice@example.com>", 0),
        _v(2, "a2@x", "Alice Author via B4 Relay <devnull+alice.example.com@kernel.org>", 60),
    ))
    by_id = {s.id: s for s in got}
    assert by_id["a1@x"].newer_versions == ["a2@x"] and by_id["a1@x"].state == "superseded"


def test_the_same_address_is_a_new_version(series_of) -> None:
    got = series_of(mbox(
        _v(1, "a1@x", "Alice Author <alice@example.com>", 0),
        _v(2, "a2@x", "A. Author <alice@example.com>", 60),
    ))
    assert {s.id: s for s in got}["a1@x"].newer_versions == ["a2@x"]
