"""Header values for outgoing mail, made safe from what arrived.

Every value that came from a received message passes through here before it can
reach an outgoing header: line breaks and control characters go (so a subject
carrying ``\\r\\nBcc: x`` stays one subject), addresses are parsed with
``email.utils`` and written back in canonical form, message ids are checked.
"""

from __future__ import annotations

import re
from email.utils import formataddr, getaddresses

from triage.mail.parse import decode_words
from triage.series.subject import REPLY_RE

# Line breaks in every spelling (str.splitlines() knows more than \r and \n), other
# controls, and bidi overrides that could disguise an address.
_BREAKS_RE = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_CONTROLS_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MSGID_RE = re.compile(r"^[!-;=?-~]+$")  # printable ASCII, no <, >, or spaces
_SPECIALS_RE = re.compile(r'[()<>@,;:\\".\[\]]')


def one_line(value: str | None) -> str:
    """A header value on one line: breaks become spaces, controls go, runs of blanks shrink."""
    if not value:
        return ""
    value = _BREAKS_RE.sub(" ", value)
    value = _CONTROLS_RE.sub("", value).replace("\t", " ")
    return re.sub(r" {2,}", " ", value).strip()


def is_plain_address(addr: str) -> bool:
    return bool(addr) and "@" in addr and not any(c.isspace() or ord(c) < 0x21 or c in "<>,;\"" for c in addr)


def parse_addresses(value: str | None) -> list[tuple[str, str]]:
    """(name, address) pairs from an address-list value; junk entries are dropped."""
    text = one_line(value)
    if not text:
        return []
    try:
        pairs = getaddresses([text])
    except Exception:  # noqa: BLE001 - hostile address lists make email.utils raise odd things
        return []
    return [(one_line(name), addr.strip()) for name, addr in pairs if is_plain_address(addr.strip())]


def parse_address_header(raw: str | None) -> list[tuple[str, str]]:
    """(name, address) pairs from an address header as it arrived, encoded words intact.

    Parsing comes before decoding: ``=?utf-8?q?Eve=0D=0ABcc=3A_x=40evil?= <eve@ok>``
    is one address whose name holds a line break, not a group with another member.
    """
    out = []
    for name, addr in parse_addresses(raw):
        out.append((one_line(decode_words(name)) if "=?" in name else name, addr))
    return out


def format_address(name: str, addr: str) -> str:
    """``Name <addr>`` as a person would write it: non-ASCII kept (the email policy encodes it
    when the message is built), quotes only where RFC 5322 needs them."""
    if not name:
        return addr
    if not name.isascii():
        name = name if not _SPECIALS_RE.search(name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{addr}>"
    return formataddr((name, addr))


def format_addresses(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(format_address(n, a) for n, a in pairs)


def without(pairs: list[tuple[str, str]], drop: set[str]) -> list[tuple[str, str]]:
    """``pairs`` minus the addresses in ``drop`` (lower case) and minus repeats, order kept."""
    seen = set(drop)
    out = []
    for name, addr in pairs:
        key = addr.lower()
        if key not in seen:
            seen.add(key)
            out.append((name, addr))
    return out


def reply_subject(subject: str | None) -> str:
    """``Re: `` + the subject, never ``Re: Re:`` (nor ``Re: AW:``)."""
    text = one_line(subject)
    while (m := REPLY_RE.match(text)) is not None and m.end() < len(text):
        text = text[m.end() :]
    return f"Re: {text}" if text else "Re: (no subject)"


def clean_msgid(value: str | None) -> str | None:
    """A message id fit for In-Reply-To/References (without angle brackets), or None."""
    text = one_line(value).strip().strip("<>").strip()
    return text if text and len(text) <= 250 and _MSGID_RE.match(text) else None


def reference_chain(references: list[str], in_reply_to: str | None, parent: str) -> list[str]:
    """The parent's own chain (References, else In-Reply-To) plus the parent, cleaned."""
    chain = [m for m in (clean_msgid(r) for r in references) if m]
    if not chain and in_reply_to:
        first = clean_msgid(in_reply_to)
        chain = [first] if first else []
    parent_id = clean_msgid(parent)
    if parent_id and parent_id not in chain:
        chain.append(parent_id)
    # Long threads: keep the root and the most recent ancestors, as mail clients do.
    return chain if len(chain) <= 20 else [chain[0], *chain[-19:]]
