"""Headers as they go on the wire: encoded once by triage, never parsed (and decoded) again.

``msg["Subject"] = text`` under ``email.policy.default`` *parses* ``text``, and the parser
decodes any RFC 2047 encoded word in it. A subject that arrived as an encoded word of an
encoded word (``=?utf-8?q?=3D=3Futf-8=3Fq=3F=3D0D=3D0ABcc...``) is therefore decoded a
second time on the way out, and its line break ends the header: a stranger writes a
``Bcc:`` into the maintainer's reply. Here every user-written header is encoded from the
exact text the user sees (the draft), handed to the message as a ready header object
(the policy passes objects with a ``name`` through untouched, as documented for
``header_store_parse``), and the finished message is read back to prove it carries only
those headers with exactly those values.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import re
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage

# Line length the encoder aims at (RFC 5322 recommends 78); SMTP refuses lines over 998.
_WIDTH = 76
_ATOM_SAFE_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ .-]*$")
_LOCAL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_RE = re.compile(r"^[A-Za-z0-9.-]+$")
_UTF8_QP = Charset("utf-8")
_UTF8_QP.header_encoding = QP


class HeaderRefused(ValueError):
    """The built message would not carry exactly the headers the user wrote."""


class WireHeader(str):
    """A header value already encoded and folded; the policy stores and writes it as it is."""

    name: str
    pairs: list[tuple[str, str]] | None  # an address header's (name, address) pairs
    _folded: str

    def __new__(cls, name: str, decoded: str, folded: str, pairs: list[tuple[str, str]] | None = None) -> WireHeader:
        self = super().__new__(cls, decoded)
        self.name = name
        self.pairs = pairs
        self._folded = folded
        return self

    def fold(self, *, policy: email.policy.Policy) -> str:
        return f"{self.name}: {self._folded}".replace("\n", policy.linesep) + policy.linesep


def _plain(text: str) -> bool:
    """Text that needs no encoding: printable ASCII with nothing a decoder would decode."""
    return text.isascii() and text.isprintable() and "=?" not in text


def _encoded_words(text: str, header_name: str) -> str:
    """``text`` as RFC 2047 encoded words, split so that no line passes the width."""
    return Header(text, _UTF8_QP, maxlinelen=_WIDTH, header_name=header_name).encode(splitchars=" ", linesep="\n")


def _fold_words(head_len: int, words: list[str], sep: str) -> str:
    """Join ``words`` with ``sep``, starting a new line (``\\n ``) where one would grow too long."""
    lines: list[str] = []
    line = ""
    room = _WIDTH - head_len
    for word in words:
        piece = word if not line else sep + word
        if line and len(line) + len(piece) > room:
            lines.append(line + sep.rstrip())
            line, room = word, _WIDTH - 1
        else:
            line += piece
    lines.append(line)
    return "\n ".join(lines)


def unstructured(name: str, text: str) -> WireHeader:
    """A Subject-like header holding exactly ``text`` (one line)."""
    if _plain(text) and all(len(w) < _WIDTH - len(name) - 2 for w in text.split(" ")):
        folded = _fold_words(len(name) + 2, text.split(" "), " ")
    else:
        folded = _encoded_words(text, name)
    return WireHeader(name, text, folded)


def usable_address(addr: str) -> str | None:
    """``addr`` as it can go into an SMTP envelope and a header (IDNA domain), or None."""
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or len(addr) > 254:
        return None
    if not _LOCAL_RE.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if not _DOMAIN_RE.match(domain) or domain.startswith((".", "-")) or ".." in domain:
        return None
    return f"{local}@{domain}"


_MSGID_RE = re.compile(r"^[!-;=?-~]{1,250}$")  # printable ASCII, no <, >, or spaces


def usable_message_id(msgid: str) -> bool:
    return bool(_MSGID_RE.match(msgid))


def _mailbox(name: str, addr: str) -> str:
    if not name:
        return addr
    if _plain(name) and _ATOM_SAFE_RE.match(name) and len(name) < _WIDTH - 10:
        return f"{name} <{addr}>"
    if _plain(name) and len(name) < _WIDTH - 10:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{addr}>'
    # Anything else (non-ASCII, "=?", long) is encoded: decoded once, it is the name again.
    return f"{_encoded_words(name, 'To')} <{addr}>"


def addresses(name: str, pairs: list[tuple[str, str]]) -> WireHeader:
    """An address header for ``pairs`` (their addresses must have passed :func:`usable_address`)."""
    decoded = ", ".join(f"{n} <{a}>" if n else a for n, a in pairs)
    folded = _fold_words(len(name) + 2, [_mailbox(n, a) for n, a in pairs], ", ")
    return WireHeader(name, decoded, folded, list(pairs))


def read_back(data: bytes) -> email.message.Message:
    """The headers of a serialised message as a receiver reads them (decoded once)."""
    return email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(data)


def check(msg: EmailMessage, expected: dict[str, WireHeader], own: set[str]) -> bytes:
    """The message's bytes, once proven to carry only ``expected`` (user headers, decoded
    exactly as written) and triage's own headers ``own``; raises HeaderRefused otherwise."""
    data = msg.as_bytes()
    got = read_back(data)
    names = [k.lower() for k in got]
    allowed = {k.lower() for k in expected} | {k.lower() for k in own}
    extra = sorted(set(names) - allowed)
    if extra:
        raise HeaderRefused(f"the reply would carry headers nobody wrote: {', '.join(extra)}")
    for key, header in expected.items():
        if names.count(key.lower()) != 1:
            raise HeaderRefused(f"the reply's {key} header would not come out once")
        value = got[key]
        if header.pairs is None:
            ok = str(value) == str(header)
        else:
            # Names compare without white space: a long name goes out as several encoded
            # words, and Python's phrase parser puts a space where one word ends.
            ok = [(_squeeze(a.display_name), a.addr_spec) for a in getattr(value, "addresses", ())] == [
                (_squeeze(n), a) for n, a in header.pairs
            ]
        if not ok:
            raise HeaderRefused(f"the reply's {key} would not read as written: {str(value)[:80]!r}")
    return data


def _squeeze(name: str) -> str:
    return "".join(name.split())
