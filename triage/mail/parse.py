"""Read mail files into headers and decoded text without ever raising on bad mail.

Mail is hostile input: charsets lie or are unknown (``y``, ``binary``), transfer
encodings are broken, headers are malformed. Everything here degrades to the
best readable text and records what went wrong instead of raising.
"""

from __future__ import annotations

import codecs
import datetime
import email
import email.header
import email.utils
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

from triage.mail.mime import PATCH_NAME_RE, PATCH_TYPES, multipart_text

_MSGID_RE = re.compile(r"<([^<>\s]+)>")

# Charsets that mail claims and Python does not know, mapped to what the sender meant.
_CHARSET_ALIASES = {
    "x-unknown": "latin-1",
    "unknown-8bit": "latin-1",
    "binary": "utf-8",
    "8bit": "utf-8",
    "ansi_x3.4-1968": "ascii",
    "windows-874": "cp874",
}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode ``data`` in ``charset``, falling back to UTF-8 then Latin-1, never raising."""
    candidates: list[str] = []
    if charset:
        cs = charset.strip().strip('"').lower()
        if cs in ("unknown-8bit", "x-unknown"):
            candidates.append("utf-8")  # undeclared 8-bit text is UTF-8 far more often than not
        candidates.append(_CHARSET_ALIASES.get(cs, cs))
    candidates.append("utf-8")
    for cs in candidates:
        try:
            codecs.lookup(cs)
        except (LookupError, ValueError, TypeError):  # fuzzed charsets hold NULs and worse
            continue
        try:
            return data.decode(cs)
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    # Latin-1 maps every byte, so this cannot fail; a UTF-8 decode with replacement
    # would be wrong for the many 8-bit mails that are really Latin-1.
    if charset and charset.lower() in ("utf-8", "utf8"):
        return data.decode("utf-8", errors="replace")
    return data.decode("latin-1")


def header_text(msg: Message, name: str) -> str | None:
    """A header's decoded value, or None. Never raises on malformed headers."""
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - the email package raises many types on bad headers
        value = None
        try:
            raw = msg._headers  # type: ignore[attr-defined]
            for k, v in raw:
                if k.lower() == name.lower():
                    value = v
                    break
        except Exception:  # noqa: BLE001
            return None
    if value is None:
        return None
    if isinstance(value, email.header.Header):
        # compat32 keeps raw 8-bit header bytes in a Header; decode them ourselves.
        try:
            return "".join(
                decode_bytes(chunk, cs) if isinstance(chunk, bytes) else chunk
                for chunk, cs in email.header.decode_header(value)
            )
        except Exception:  # noqa: BLE001
            return str(value)
    if hasattr(value, "_parse_tree"):
        # A policy.default header object is decoded already: decoding its text again would
        # turn an encoded word that a stranger wrote *inside* an encoded word into a header.
        try:
            return unsurrogate(str(value))
        except Exception:  # noqa: BLE001
            return None
    # compat32 hands out the raw text, folded: unfold it (RFC 5322 drops the line break and
    # keeps the white space after it: "register\n handling" is "register handling"), then
    # decode it, once.
    text = _FOLD_RE.sub("", str(value))
    return unsurrogate(decode_words(text) if "=?" in text else text)


_FOLD_RE = re.compile(r"\r?\n(?=[ \t])")


def unsurrogate(text: str) -> str:
    """Raw 8-bit header bytes come back as lone surrogates: decode them (UTF-8, else Latin-1)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
        return decode_bytes(raw, None)


def decode_words(value: object) -> str:
    text = str(value)
    try:
        parts = email.header.decode_header(text)
    except Exception:  # noqa: BLE001
        return text
    out = []
    for chunk, cs in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, cs))
        else:
            out.append(chunk)
    return "".join(out)


def parse_msgids(value: str | None) -> list[str]:
    """Message-IDs from a References/In-Reply-To header, without angle brackets."""
    if not value:
        return []
    found = _MSGID_RE.findall(value)
    if found:
        return found
    v = value.strip()
    return [v] if v and " " not in v else []


def strip_msgid(value: str | None) -> str:
    if not value:
        return ""
    ids = parse_msgids(value)
    return ids[0] if ids else value.strip().strip("<>")


def parse_bytes(data: bytes) -> EmailMessage:
    import email.policy  # only for whole-message parses: the body pass mostly does without

    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def _html_text(html: str) -> str:
    """The text of an HTML-only body (html.parser is imported only for such mail)."""
    from html.parser import HTMLParser

    class _HTMLText(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("br", "p", "div", "tr", "li"):
                self.parts.append("\n")

    parser = _HTMLText()
    parser.feed(html)
    return "".join(parser.parts)


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken base64/QP
        payload = None
    if payload is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            payload = raw.encode("utf-8", "surrogateescape")
        else:
            return ""
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    return decode_bytes(payload if isinstance(payload, bytes) else b"", charset)


@dataclass(slots=True)
class BodyText:
    """The readable text of a message and any patches carried as attachments."""

    text: str
    attached_patches: list[str] = field(default_factory=list)
    html_only: bool = False

    @property
    def full(self) -> str:
        if not self.attached_patches:
            return self.text
        return "\n".join([self.text, *self.attached_patches])


def body_text(msg: Message) -> BodyText:
    """Plain text of ``msg``: text/plain parts in order, patches attached or inline, HTML as a last resort."""
    texts: list[str] = []
    patches: list[str] = []
    htmls: list[str] = []
    try:
        parts = list(msg.walk())
    except Exception:  # noqa: BLE001
        parts = [msg]
    for part in parts:
        if part.is_multipart():
            continue
        try:
            ctype = part.get_content_type()
        except Exception:  # noqa: BLE001
            ctype = "text/plain"
        try:
            disposition = (part.get_content_disposition() or "").lower()
            filename = part.get_filename() or ""
        except Exception:  # noqa: BLE001
            disposition, filename = "", ""
        is_patch_part = ctype in PATCH_TYPES or bool(PATCH_NAME_RE.search(filename))
        if is_patch_part:
            patches.append(_part_text(part))
        elif ctype == "text/plain" and disposition != "attachment":
            texts.append(_part_text(part))
        elif ctype == "text/html" and disposition != "attachment":
            htmls.append(_part_text(part))
        elif ctype == "text/plain" and disposition == "attachment":
            # Some clients attach the patch as a plain-text file without a .patch name.
            t = _part_text(part)
            if "\ndiff --git " in "\n" + t or "\n--- " in t:
                patches.append(t)
    html_only = False
    if not texts and not patches and htmls:
        try:
            texts.append(_html_text("\n".join(htmls)))
        except Exception:  # noqa: BLE001
            texts.append("\n".join(htmls))
        html_only = True
    text = "\n".join(texts)
    return BodyText(text=text.replace("\r\n", "\n"), attached_patches=patches, html_only=html_only)


_CHARSET_RE = re.compile(rb"charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)


def _header_value(head: bytes, start: int) -> bytes:
    """A header's value from ``start`` to the end of its folded lines."""
    end = head.find(b"\n", start)
    while end != -1 and head[end + 1 : end + 2] in (b" ", b"\t"):
        end = head.find(b"\n", end + 1)
    return head[start:] if end == -1 else head[start:end]


def split_message(data: bytes) -> tuple[bytes, bytes] | None:
    """(header block, body) of a message's bytes, or None when it has no blank line."""
    sep = data.find(b"\n\n")
    # A CRLF header end can only come before the first LF one: no need to scan the body for it.
    crlf = data.find(b"\r\n\r\n", 0, len(data) if sep == -1 else sep + 2)
    if crlf != -1 and (sep == -1 or crlf < sep):
        return data[:crlf], data[crlf + 4 :]
    if sep != -1:
        return data[:sep], data[sep + 2 :]
    return None


def fast_body_text(data: bytes) -> str | None:
    """Body text of a single-part text/plain message without the ``email`` package.

    Most list mail is one text/plain part in 7bit, 8bit, quoted-printable or base64;
    reading it directly is an order of magnitude faster than a full parse. Anything
    else returns None and goes through :func:`body_text`.
    """
    parts = split_message(data)
    if parts is None:
        return None
    head, body = parts
    return _fast_body(b"\n" + head.lower(), body)


def _fast_body(low: bytes, body: bytes) -> str | None:
    """:func:`fast_body_text` once the header block is split off and lower-cased (``low``
    starts with a newline, so every header is found as ``\\nname:``)."""
    import binascii

    charset = None
    i = low.find(b"\ncontent-type:")
    if i != -1:
        value = _header_value(low, i + 14)
        if not value.lstrip().startswith(b"text/plain"):
            return None
        if m := _CHARSET_RE.search(value):
            charset = m[1].decode("ascii", "replace")
    i = low.find(b"\ncontent-transfer-encoding:")
    cte = _header_value(low, i + 27).strip() if i != -1 else b"7bit"
    try:
        if cte in (b"7bit", b"8bit", b"binary", b""):
            raw = body
        elif cte == b"quoted-printable":
            raw = binascii.a2b_qp(body)
        elif cte == b"base64":
            raw = binascii.a2b_base64(body)
        else:
            return None
    except (binascii.Error, ValueError):
        return None
    text = decode_bytes(raw, charset)
    return text.replace("\r\n", "\n") if "\r" in text else text  # memchr first: most mail is LF


def raw_header_value(head: bytes, low: bytes, name: bytes) -> str | None:
    """A header's raw value (unfolded, encoded words intact): ``low`` is ``b"\\n" + head.lower()``."""
    i = low.find(b"\n" + name + b":")
    if i == -1:
        return None
    value = _header_value(head, i + len(name) + 1)  # low has one byte more than head
    return unsurrogate(value.decode("utf-8", "surrogateescape")).replace("\r", "").replace("\n", "")


def body_and_from(data: bytes) -> tuple[str, str | None, tuple[int, int] | None]:
    """(decoded body text with attached patches, the From header as it arrived, the clamped
    date: see :func:`clamped_date`) in one pass over the header block: the body helper reads
    them from every patch and review."""
    parts = split_message(data)
    if parts is None:
        return body_text_of(data), None, None
    head, body = parts
    low = b"\n" + head.lower()
    raw_from = raw_header_value(head, low, b"from")
    text = _fast_body(low, body)
    return (text if text is not None else _slow_body(data)), raw_from, _clamp(head, low)


CLAMP_AFTER = 86400  # a Date this much after the arrival is the sender's clock, not the message's


def clamped_date(data: bytes) -> tuple[int, int] | None:
    """(arrival, Date) when the Date header is more than a day after the message arrived, as
    its topmost ``Received:`` says; None otherwise or when either cannot be read."""
    parts = split_message(data)
    return _clamp(parts[0], b"\n" + parts[0].lower()) if parts is not None else None


def _clamp(head: bytes, low: bytes) -> tuple[int, int] | None:
    date = raw_header_value(head, low, b"date")
    received = raw_header_value(head, low, b"received")
    if not date or not received or ";" not in received:
        return None
    when = received.rpartition(";")[2]
    said_day, got_day = _day(date), _day(when)
    if said_day is not None and got_day is not None and said_day - got_day <= 1:
        return None  # the common case, without parsing two dates in full
    said, got = _epoch(date), _epoch(when)
    if said is None or got is None or said - got <= CLAMP_AFTER:
        return None
    return got, said


_DAY_RE = re.compile(rb"(\d{1,2}) +([A-Za-z]{3}) +(\d{4})".decode(), re.ASCII)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _day(text: str) -> int | None:
    """The day a date names, as an ordinal (no time, no zone: within a day is all we ask)."""
    m = _DAY_RE.search(text)
    month = _MONTHS.get(m[2].lower()) if m else None
    if m is None or month is None:
        return None
    try:
        return datetime.date(int(m[3]), month, int(m[1])).toordinal()
    except ValueError:
        return None


def _epoch(text: str) -> int | None:
    try:
        parsed = email.utils.parsedate_tz(text)
        return int(email.utils.mktime_tz(parsed)) if parsed else None
    except (ValueError, OverflowError, TypeError):
        return None


def read_bytes(path: str | Path) -> bytes:
    # os.open/os.read: no file object, buffer or extra fstat; their cost shows over 14,000 bodies.
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def read_body_text(path: str | Path) -> str:
    """Decoded body text (with attached patches) of a message file; never raises on bad mail."""
    return body_text_of(read_bytes(path))


def body_text_of(data: bytes) -> str:
    """Decoded body text (with attached patches) of a message's bytes."""
    text = fast_body_text(data)
    return text if text is not None else _slow_body(data)


def _slow_body(data: bytes) -> str:
    text = multipart_text(data, decode_bytes)
    if text is not None:
        return text
    import email.policy

    # compat32 parses several times faster than policy.default, and bodies need no header objects.
    try:
        return body_text(email.message_from_bytes(data, policy=email.policy.compat32)).full
    except RecursionError:
        # Nesting deeper than the email package's recursive parser goes: the body as it is.
        return decode_bytes(data.partition(b"\n\n")[2], None)
