"""One message read for display: headers and text, never raising on bad mail."""

from __future__ import annotations

import email
import email.message
import email.parser
import email.policy
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path

from triage.mail.addresses import parse_raw
from triage.mail.parse import body_text, body_text_of, fast_body_text, header_text, unsurrogate

MAX_BODY_CHARS = 4_000_000  # a 20,000-line patch is ~1 MB; beyond this the view says it cut


@dataclass(slots=True)
class MessageText:
    message_id: str
    subject: str = ""
    from_: str = ""
    date: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    body: str = ""
    attachments: list[str] = field(default_factory=list)
    problem: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Address headers as they arrived (encoded words intact): a decoded display name
    # may hold commas, colons or line breaks that would change how the list parses.
    raw_addresses: dict[str, str] = field(default_factory=dict)
    # What its DKIM and ARC signatures show ("DKIM ✓ kernel.org"), when checked.
    signatures: list[str] = field(default_factory=list)


def _addresses(raw: str | None) -> list[str]:
    """An address header for display, parsed as it arrived and only then decoded (an
    encoded name holding commas stays one recipient)."""
    return [f"{n} <{a}>" if n else a for n, a in parse_raw(raw)]


def _date(value: str | None) -> str:
    if not value:
        return ""
    try:
        return parsedate_to_datetime(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError, IndexError, OverflowError):
        return value


def read_message(message_id: str, path: str | None) -> MessageText:
    """Headers and body text of a message file; problems are reported in ``problem``."""
    if not path:
        return MessageText(message_id, problem=f"no file for <{message_id}> in the database")
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        return MessageText(message_id, problem=f"cannot read {path}: {e.strerror or e}")
    attachments: list[str] = []
    fast = fast_body_text(data)
    if fast is not None:
        # A single text part (most patches): parse only the headers with the email package.
        msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
        body = fast
    else:
        # compat32 parses a large message several times faster; header_text decodes RFC 2047 itself.
        try:
            msg = email.message_from_bytes(data, policy=email.policy.compat32)
            text = body_text(msg)
        except RecursionError:
            # Nested deeper than the email package can parse: headers, and the body as text.
            msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
            return _message(message_id, msg, body_text_of(data), [], "MIME nested too deeply; shown as plain text")
        body = text.text
        attachments = text.attached_patches
        if attachments:
            body = "\n".join([body, *attachments])
    return _message(message_id, msg, body, attachments, None)


def _message(
    message_id: str, msg: email.message.Message, body: str, attachments: list[str], problem: str | None
) -> MessageText:
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS]
        problem = f"message is larger than {MAX_BODY_CHARS // 1_000_000} MB; the rest is not shown"
    raw = _raw_addresses(msg)
    return MessageText(
        message_id=message_id,
        subject=header_text(msg, "Subject") or "",
        from_=header_text(msg, "From") or "",
        date=_date(header_text(msg, "Date")),
        to=_addresses(raw.get("To")),
        cc=_addresses(raw.get("Cc")),
        body=body,
        attachments=[f"{len(p.splitlines())} lines" for p in attachments],
        problem=problem,
        headers={k: header_text(msg, k) or "" for k in ("Message-ID", "In-Reply-To", "References", "Date")},
        raw_addresses=raw,
    )


def _raw_addresses(msg: email.message.Message) -> dict[str, str]:
    wanted = {"from": "From", "to": "To", "cc": "Cc", "reply-to": "Reply-To"}
    out: dict[str, str] = {}
    try:
        items = list(msg.raw_items())
    except Exception:  # noqa: BLE001 - hostile headers
        return out
    for name, value in items:
        key = wanted.get(name.lower())
        if key and key not in out:
            out[key] = unsurrogate(value if isinstance(value, str) else str(value))
    return out


def short_list(addresses: list[str], limit: int = 3) -> str:
    """"a, b, c and 12 more": To/Cc shortened for a header line."""
    if len(addresses) <= limit:
        return ", ".join(addresses)
    return ", ".join(addresses[:limit]) + f" and {len(addresses) - limit} more"
