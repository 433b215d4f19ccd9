"""DKIM and ARC signatures made in the test: keys generated here, served to dkimpy through
the DNS seam (``triage.mail.dns._resolve``), never the network."""

from __future__ import annotations

import base64
import functools

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@functools.lru_cache(maxsize=8)
def _keypair(n: int) -> tuple[bytes, bytes]:
    """(private key PEM, public key DER); a handful reused across tests (1024 bits: quick)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, der


class Keys:
    """Signing keys by (selector, domain) and the DNS records that publish them."""

    def __init__(self) -> None:
        self.records: dict[bytes, bytes] = {}
        self.private: dict[tuple[str, str], bytes] = {}
        self.asked: list[bytes] = []

    def publish(self, domain: str, selector: str = "sel", *, n: int = 0) -> None:
        pem, der = _keypair(n)
        self.private[(selector, domain)] = pem
        self.records[f"{selector}._domainkey.{domain}".encode()] = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)

    def rotate(self, domain: str, selector: str = "sel") -> None:
        """DNS now publishes another key under the same name: old signatures no longer verify."""
        _, der = _keypair(7)
        self.records[f"{selector}._domainkey.{domain}".encode()] = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)

    def lookup(self, name: bytes) -> bytes | None:
        self.asked.append(name)
        return self.records.get(name.rstrip(b".").lower())

    def sign(self, data: bytes, domain: str, selector: str = "sel", *, key_of: str | None = None) -> bytes:
        """``data`` with a DKIM-Signature of ``domain`` on top (signed with ``key_of``'s key to forge)."""
        pem = self.private[(selector, key_of or domain)]
        sig = dkim.sign(data, selector.encode(), domain.encode(), pem, linesep=b"\n",
                        canonicalize=(b"relaxed", b"relaxed"))
        return sig + data

    def seal(self, data: bytes, domain: str, results: str, selector: str = "sel", *, key_of: str | None = None) -> bytes:
        """``data`` as a list at ``domain`` passes it on: its Authentication-Results (``results``,
        e.g. "dkim=pass header.d=nvidia.example"), then its ARC set."""
        data = f"Authentication-Results: {domain}; {results}\n".encode() + data
        pem = self.private[(selector, key_of or domain)]
        headers = dkim.arc_sign(data, selector.encode(), domain.encode(), pem, domain.encode(), linesep=b"\n")
        return b"".join(headers) + data
