"""Text of a multipart message without the ``email`` package, for the common shapes.

A third of list mail is multipart (signed mail, patches attached, HTML alternatives).
The ``email`` package parses such a message several times slower than the rest of
the work on it and compiles a regular expression per boundary. :func:`multipart_text`
walks the MIME tree over bytes, with the feed parser's rules (a part's last line
ending belongs to the boundary; lines end in CRLF or LF), and gives exactly what
``body_text(message).full`` gives; any shape it is not sure of (a nested message,
RFC 2231 parameters, a missing closing boundary, a lone CR, an odd header block)
returns None, and the caller falls back to the ``email`` package. A test checks the
two agree on every message of the corpus.
"""

from __future__ import annotations

import quopri
import re
from email._encoded_words import decode_b  # the email package's own lenient base64 decoding

_HEADER_RE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
_PARAM_RE = {
    name: re.compile(rb";\s*" + name + rb'\s*=\s*(?:"([^"]*)"|([^;\s]*))', re.IGNORECASE)
    for name in (b"boundary", b"charset", b"filename", b"name")
}
# What makes a part an attached patch (shared with the email-package path in parse.py).
PATCH_NAME_RE = re.compile(r"\.(patch|diff)$", re.IGNORECASE)
PATCH_TYPES = {"text/x-patch", "text/x-diff", "text/x-diff-patch", "application/x-patch"}
MAX_DEPTH = 8


class _Unsure(Exception):
    """A shape this module does not parse exactly as the email package does."""


_BLOCK_RE = re.compile(rb"(?:(?:[\x21-\x39\x3b-\x7e]+:|[ \t])[^\n]*(?:\n|\Z))*")
_WANTED_RE = re.compile(
    rb"^(content-type|content-transfer-encoding|content-disposition):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)",
    re.IGNORECASE | re.MULTILINE,
)


def _headers(block: bytes) -> dict[bytes, bytes]:
    """The MIME headers of a header block (lower-cased name -> first value, folds kept).

    A line that is neither a header nor a continuation would end the header block for
    the feed parser; such blocks are left to it.
    """
    m = _BLOCK_RE.match(block)
    if m is None or m.end() != len(block) or block[:1] in (b" ", b"\t"):
        raise _Unsure
    out: dict[bytes, bytes] = {}
    for h in _WANTED_RE.finditer(block):
        out.setdefault(h[1].lower(), h[2].replace(b"\r", b""))
    return out


def _param(value: bytes, name: bytes) -> bytes | None:
    if name + b"*" in value.lower():
        raise _Unsure  # RFC 2231 continuations and charsets
    m = _PARAM_RE[name].search(value)
    if m is None:
        return None
    return m[1] if m[1] is not None else m[2]


def _main_value(value: bytes | None) -> str | None:
    if value is None:
        return None
    return value.split(b";", 1)[0].strip().decode("ascii", "surrogateescape").lower()


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(header block, body) of a part; a part that starts with a blank line has no headers."""
    if data.startswith(b"\n") or data.startswith(b"\r\n"):
        return b"", data[1:] if data.startswith(b"\n") else data[2:]
    lf, crlf = data.find(b"\n\n"), data.find(b"\r\n\r\n")
    if crlf != -1 and (lf == -1 or crlf < lf):
        return data[:crlf], data[crlf + 4 :]
    if lf != -1:
        return data[:lf], data[lf + 2 :]
    raise _Unsure  # headers only, or no separator


def _parts(body: bytes, boundary: bytes) -> list[bytes]:
    """The parts between ``--boundary`` lines, each without the line ending the boundary owns."""
    marker = b"--" + boundary
    parts: list[bytes] = []
    start: int | None = None  # where the current part's text begins
    pos = body.find(marker)
    while pos != -1:
        line_end = body.find(b"\n", pos)
        rest = body[pos + len(marker) : len(body) if line_end == -1 else line_end].rstrip(b"\r")
        end = rest.startswith(b"--")
        at_line_start = pos == 0 or body[pos - 1 : pos] == b"\n"
        if at_line_start and (rest[2:] if end else rest).strip(b" \t") == b"":
            if start is not None:
                part = body[start : max(start, pos - 1)]  # the line ending before the boundary goes
                parts.append(part[:-1] if part.endswith(b"\r") else part)
            if end:
                if not parts:
                    raise _Unsure
                return parts
            if line_end == -1:
                break
            start = line_end + 1
        pos = body.find(marker, pos + len(marker))
    raise _Unsure  # no closing boundary


def _payload(body: bytes, cte: bytes | None) -> bytes:
    kind = (cte or b"").decode("ascii", "surrogateescape").lower()
    if kind == "quoted-printable":
        return quopri.decodestring(body)
    if kind == "base64":
        value, _defects = decode_b(b"".join(body.splitlines()))
        return value
    if kind in ("x-uuencode", "uuencode", "uue", "x-uue"):
        raise _Unsure
    return body


def _walk(headers: dict[bytes, bytes], body: bytes, out: dict[str, list[tuple[bytes, str | None]]], depth: int) -> None:
    raw_type = headers.get(b"content-type")
    ctype = _main_value(raw_type) or "text/plain"
    if ctype.count("/") != 1:
        ctype = "text/plain"
    if ctype.startswith("message/") or ctype == "multipart/digest":
        raise _Unsure
    if ctype.startswith("multipart/"):
        boundary = _param(raw_type or b"", b"boundary")
        if not boundary or depth > MAX_DEPTH:
            raise _Unsure
        for part in _parts(body, boundary.rstrip()):
            head, rest = _split(part)
            _walk(_headers(head) if head else {}, rest, out, depth + 1)
        return
    disposition = _main_value(headers.get(b"content-disposition")) or ""
    filename = _param(headers.get(b"content-disposition") or b"", b"filename")
    if filename is None:
        filename = _param(raw_type or b"", b"name")
    name = filename.decode("utf-8", "replace").strip() if filename else ""
    charset_raw = _param(raw_type or b"", b"charset")
    charset = charset_raw.decode("ascii", "replace").lower() if charset_raw else None
    if charset_raw and not charset_raw.isascii():
        charset = None
    cte = headers.get(b"content-transfer-encoding")
    is_patch = ctype in PATCH_TYPES or bool(PATCH_NAME_RE.search(name))
    if is_patch:
        out["patches"].append((_payload(body, cte), charset))
    elif ctype == "text/plain" and disposition != "attachment":
        out["texts"].append((_payload(body, cte), charset))
    elif ctype == "text/html" and disposition != "attachment":
        out["htmls"].append((b"", None))
    elif ctype == "text/plain" and disposition == "attachment":
        out["plain_attachments"].append((_payload(body, cte), charset))


def multipart_text(data: bytes, decode: object) -> str | None:
    """``body_text(parsed).full`` of a multipart message, or None when unsure.

    ``decode`` is :func:`triage.mail.parse.decode_bytes` (passed in to keep imports one-way).
    """
    try:
        head, body = _split(data)
        if b"multipart/" not in head.lower():
            return None
        headers = _headers(head)
        if not (_main_value(headers.get(b"content-type")) or "").startswith("multipart/"):
            return None
        if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
            return None  # a lone CR ends a line for the feed parser
        out: dict[str, list[tuple[bytes, str | None]]] = {"texts": [], "patches": [], "htmls": [], "plain_attachments": []}
        _walk(headers, body, out, 0)
    except (_Unsure, ValueError, UnicodeError):
        return None
    if out["plain_attachments"] or (out["htmls"] and not out["texts"] and not out["patches"]):
        return None  # rarer shapes: the email package decides
    texts = [decode(p, cs) for p, cs in out["texts"]]  # type: ignore[operator]
    patches = [decode(p, cs) for p, cs in out["patches"]]  # type: ignore[operator]
    text = "\n".join(texts).replace("\r\n", "\n")
    return "\n".join([text, *patches]) if patches else text
