"""Make mail text safe to print: no control characters reach the terminal raw."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, and C1 controls (0x9b is a one-byte CSI); line
# separators; and every format character (Unicode category Cf: bidi controls, U+0600,
# tag characters such as U+E0041, ...) but ZWNJ/ZWJ, which scripts and emoji spell with.
# Terminals and Rich disagree on how wide a format character is, so a raw one shifts a
# table's columns; shown as an escape, it takes the cells it seems to.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b\u200e-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _visible(m: re.Match[str]) -> str:
    c = m.group(0)
    code = ord(c)
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400.. "control pictures": shows ␛ for ESC
    if code == 0x7F:
        return "\u2421"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def safe_text(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every control character shown as a visible symbol."""
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    return _CONTROL_RE.sub(_visible, text)


def safe_line(text: str) -> str:
    """One line for a table cell or status line."""
    return safe_text(text, keep_newlines=False)


_JSON_UNSAFE_RE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_safe(dumped: str) -> str:
    """Escape what ``json.dumps(ensure_ascii=False)`` leaves raw: DEL, C1 and bidi controls."""
    if dumped.isascii() and "\x7f" not in dumped:
        return dumped  # the common case, known in O(1) plus one memchr
    return _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)


# What may not travel from a stranger's mail into a commit message: C0 (tab too) and C1
# controls, DEL, line and paragraph separators, bidi embeddings, overrides, isolates and
# marks, zero-width space and BOM, and Unicode tag characters. ZWJ/ZWNJ stay: scripts
# such as Persian and Devanagari spell names with them.
_TRAILER_DROP_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)


def clean_value(text: str) -> str:
    """A collected trailer value fit for a commit message: invisible and control characters
    dropped, blanks folded."""
    return " ".join(_TRAILER_DROP_RE.sub(" ", text).split())
