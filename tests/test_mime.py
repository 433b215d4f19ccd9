"""The multipart fast path gives what the email package gives, or steps aside."""

from __future__ import annotations

import email
import email.policy
import lzma

import pytest

from tests.conftest import CORPUS, FIXTURES, needs_corpus
from triage.mail.importer import iter_sources, split_mbox
from triage.mail.mime import multipart_text
from triage.mail.parse import body_text, decode_bytes


def _slow(data: bytes) -> str:
    return body_text(email.message_from_bytes(data, policy=email.policy.compat32)).full


def _check(messages: list[tuple[str, bytes]]) -> int:
    taken = 0
    for name, data in messages:
        got = multipart_text(data, decode_bytes)
        if got is not None:
            taken += 1
            assert got == _slow(data), name
    return taken


@needs_corpus
def test_fixtures_agree_with_the_email_package() -> None:
    messages = [(n, d) for f in sorted(FIXTURES.rglob("*")) if f.is_file() for n, d in iter_sources(f) if d]
    assert _check(messages) > 100  # the fast path takes the common shapes


@needs_corpus
@pytest.mark.slow
def test_the_whole_list_agrees_with_the_email_package() -> None:
    with lzma.open(CORPUS / "lists" / "linux-pwm.mbox.xz") as fh:
        data = fh.read()
    assert _check([(f"message {i}", m) for i, m in enumerate(split_mbox(data))]) > 3000


SIGNED = b"""From: a@x
Subject: s
MIME-Version: 1.0
Content-Type: multipart/signed; micalg=pgp-sha256;
 protocol="application/pgp-signature"; boundary="outer"

This is an OpenPGP/MIME signed message (RFC 4880 and 3156)
--outer
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

caf=E9 reply\r
Reviewed-by: R <r@x>
--inner
Content-Type: text/x-patch; name="fix.patch"
Content-Disposition: attachment; filename="fix.patch"
Content-Transfer-Encoding: base64

ZGlmZiAtLWdpdCBhL2YgYi9mCg==
--inner--

--outer
Content-Type: application/pgp-signature; name="signature.asc"

-----BEGIN PGP SIGNATURE-----
--outer--
"""


def test_nested_signed_mail_with_an_attached_patch() -> None:
    got = multipart_text(SIGNED, decode_bytes)
    assert got == _slow(SIGNED) == "caf\u00e9 reply\nReviewed-by: R <r@x>\ndiff --git a/f b/f\n"


@pytest.mark.parametrize(
    "change",
    [
        (b'boundary="outer"', b'boundary*="outer"'),  # RFC 2231 parameters
        (b"--outer--\n", b""),  # no closing boundary
        (b"caf=E9 reply\r\n", b"caf=E9\rreply\n"),  # a lone CR
        (b"Content-Type: multipart/mixed", b"Content-Type: message/rfc822\n\nx\n--inner\nContent-Type: multipart/mixed"),
    ],
)
def test_unsure_shapes_are_left_to_the_email_package(change: tuple[bytes, bytes]) -> None:
    assert multipart_text(SIGNED.replace(*change), decode_bytes) is None


def test_single_part_mail_is_not_taken() -> None:
    assert multipart_text(b"From: a@x\nContent-Type: text/plain\n\nhello\n", decode_bytes) is None
