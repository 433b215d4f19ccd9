"""Addresses out of mail headers: one rule for every reader, parse first, then decode.

A display name may be an encoded word that decodes to ``<someone-else@example.org>``,
a comma, or a line break. Decoding the header first and parsing the result lets such
a name pose as another address or split into invented recipients. Here the header is
parsed as it arrived (encoded words intact) and only the names are decoded, once.
Where only decoded text exists (notmuch hands out decoded From headers), the address
is the last angle address: a display name always comes before it.
"""

from __future__ import annotations

import re
from email.utils import getaddresses, parseaddr

from triage.mail.parse import decode_words, raw_header_value, split_message

_BREAKS_RE = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_CONTROLS_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LAST_ANGLE_RE = re.compile(r"<([^<>\s]*)>\s*$")


def one_line(value: str | None) -> str:
    """A header value on one line: breaks become spaces, controls go, runs of blanks shrink."""
    if not value:
        return ""
    value = _BREAKS_RE.sub(" ", value)
    value = _CONTROLS_RE.sub("", value).replace("\t", " ")
    return re.sub(r" {2,}", " ", value).strip()


_PLAIN_ADDRESS_RE = re.compile(r'[^\x00-\x20\s<>,;"]+')


def is_plain_address(addr: str) -> bool:
    """One address: an @, and no blank, control, angle bracket, comma, semicolon or quote."""
    return "@" in addr and _PLAIN_ADDRESS_RE.fullmatch(addr) is not None


def parse_list(value: str | None) -> list[tuple[str, str]]:
    """(name, address) pairs of an address list written as text (no decoding); junk dropped."""
    text = one_line(value)
    if not text:
        return []
    try:
        pairs = getaddresses([text])
    except Exception:  # noqa: BLE001 - hostile address lists make email.utils raise odd things
        return []
    return [(one_line(name), addr.strip()) for name, addr in pairs if is_plain_address(addr.strip())]


def parse_raw(raw: str | None) -> list[tuple[str, str]]:
    """(name, address) pairs from an address header as it arrived: parsed, then each name
    decoded once. ``=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil?= <eve@ok>`` is one address."""
    return [(decoded_name(name), addr) for name, addr in parse_list(raw)]


def sender_of_decoded(value: str | None) -> tuple[str, str]:
    """(name, address) from an already decoded From value: the last angle address wins."""
    if not value:
        return "", ""
    text = one_line(value)
    m = _LAST_ANGLE_RE.search(text)
    if m:
        addr = m[1]
        name = text[: m.start()].strip().strip('"').strip()
        return name, addr if is_plain_address(addr) else ""
    try:
        name, addr = parseaddr(text)
    except Exception:  # noqa: BLE001
        return text, ""
    return name, addr if is_plain_address(addr) else ""


def raw_header(data: bytes, name: bytes = b"from") -> str | None:
    """A header's raw value (unfolded, encoded words intact) from a message's bytes."""
    parts = split_message(data)
    head = data if parts is None else parts[0]
    return raw_header_value(head, b"\n" + head.lower(), name)


# "Name <addr>" with nothing in the name that could end it or start another address: the
# shape of nearly every From. Read directly, it gives what getaddresses gives, 5x sooner
# (the body helper reads the From of every patch and review on a list).
_SIMPLE_FROM_RE = re.compile(r'^([^"<>,;:@\\()]*)<([^<>\s"(),;:\\]+@[^<>\s"(),;:\\@]+)>$')


def raw_sender(data: bytes) -> tuple[str, str] | None:
    """The From of a message's bytes, parsed before its name is decoded; None without one."""
    return sender_of_raw(raw_header(data))


def sender_of_raw(raw: str | None, *, decode: bool = True) -> tuple[str, str] | None:
    """(name, address) of a From value as it arrived: parsed, then the name decoded once
    (left encoded with ``decode=False``, for :func:`decoded_name` later)."""
    if raw is None:
        return None
    m = _SIMPLE_FROM_RE.match(raw.strip())
    if m and is_plain_address(m[2]):
        name = " ".join(m[1].split())
        return (decoded_name(name) if decode else name), m[2]
    pairs = parse_raw(raw) if decode else parse_list(raw)
    return pairs[0] if pairs else None


def fold_name(name: str) -> str:
    """A display name as names are compared: lower case, runs of spaces as one."""
    return " ".join(name.lower().split())


def decoded_name(name: str) -> str:
    """A display name as parsed from a raw header, decoded once."""
    return one_line(decode_words(name)) if "=?" in name else name


def claimed_sender(data: bytes, sender: tuple[str, str]) -> tuple[str, str] | None:
    """The sender a list-rewritten From claims (DMARC): for a From of "Name via LIST" at the
    list's own address (the one its List-Post or List-Id names), X-Original-From, else a
    single Reply-To address; None for any other From. Names stay encoded.

    Every header here is the sender's to write: the claim replaces the From only where the
    list's own signature vouches for it (see triage.mail.dkimcheck.list_vouches)."""
    name, address = sender
    if " via " not in name or "@" not in address:
        return None
    local, _, domain = address.lower().rpartition("@")
    post = (raw_header(data, b"list-post") or "").lower()
    list_id = (raw_header(data, b"list-id") or "").lower()
    if f"mailto:{address.lower()}" not in post and f"<{local}.{domain}>" not in list_id:
        return None
    for header in (b"x-original-from", b"reply-to"):
        pairs = parse_list(raw_header(data, header))
        if len(pairs) == 1 and pairs[0][1].lower() != address.lower():
            return pairs[0]
    return None
