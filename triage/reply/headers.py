"""Header values for outgoing mail, made safe from what arrived.

Every value that came from a received message passes through here before it can
reach an outgoing header: line breaks and control characters go (so a subject
carrying ``\\r\\nBcc: x`` stays one subject), addresses are parsed with
``email.utils`` and written back in canonical form, message ids are checked.
"""

from __future__ import annotations

import re
from email.utils import formataddr

from triage.mail.addresses import is_plain_address, one_line
from triage.mail.wire import usable_message_id
from triage.model.subject import REPLY_RE

__all__ = ["is_plain_address", "one_line"]

_SPECIALS_RE = re.compile(r'[()<>@,;:\\".\[\]]')

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
    return text if usable_message_id(text) else None


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
