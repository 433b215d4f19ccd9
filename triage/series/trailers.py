"""Find trailers (``Reviewed-by:`` and friends) in patch and follow-up bodies.

Rules chosen where the public tools disagree (``series-rules.md`` section 3):
- only an allow-list of trailer names counts (T13), so ``Note: tested <a@x>`` is not a person;
- quoted lines (``> ...``) never count, nor anything after a ``-- `` signature line (T5, T8);
- an indented trailer counts, as in b4 (T6): replies from some clients indent the block;
- wrapped trailers are joined (T11) and a scope stays in the value (T12);
- ``a@x<mailto:a@x>`` junk from HTML mailers is cleaned (T16);
- equality ignores case and spacing, and lore / msgid.link links compare by message id (T14, T15).
"""

from __future__ import annotations

import re

from triage.mail.addresses import fold_name
from triage.model.records import (  # noqa: F401 - the trailer vocabulary, re-exported
    _ADDR_RE,
    FOLLOWUP_OTHER,
    NEGATIVE,
    OTHER_TRAILERS,
    PERSON_TRAILERS,
    RawTrailer,
    trailer_key,
    unclosed_address,
)

REVIEW_KINDS = ("Reviewed-by", "Acked-by", "Tested-by")

_TRAILER_RE = re.compile(r"^\s*([A-Za-z][A-Za-z-]*[A-Za-z])\s*:\s*(\S.*?)\s*$")
_MAILTO_JUNK_RE = re.compile(r"<([^<>\s]+@[^<>\s]+)<mailto:[^<>]*>>")
_WS_RE = re.compile(r"\s+")


def _canonical_name(name: str, *, followup: bool) -> str | None:
    low = name.lower()
    if low in PERSON_TRAILERS:
        return PERSON_TRAILERS[low]
    if low in OTHER_TRAILERS and (not followup or low in FOLLOWUP_OTHER):
        return OTHER_TRAILERS[low]
    return None


def _clean_value(name: str, value: str) -> str:
    if "<mailto:" in value:
        value = _MAILTO_JUNK_RE.sub(r"<\1>", value)
    return _WS_RE.sub(" ", value).strip()


def _needs_continuation(name: str, value: str) -> bool:
    low = name.lower()
    if low in PERSON_TRAILERS:
        return "@" not in value
    if low == "fixes":
        return value.count("(") > value.count(")") or value.count('"') % 2 == 1
    return False


_BARE_ADDR_RE = re.compile(r"^<?([^<>\s@]+@[^<>\s@]+\.[A-Za-z]{2,})>?$")


def _valid(name: str, value: str) -> str | None:
    """The value to keep, or None. A person trailer needs an address: "Name <addr>", a lone
    "<addr>" (kept, as b4 keeps it), or one whose ``>`` was lost (kept as written; see
    triage.model.records.unclosed_address)."""
    if name.lower() in PERSON_TRAILERS:
        if _ADDR_RE.search(value):
            return value
        if m := _BARE_ADDR_RE.match(value):
            return f"<{m[1]}>"
        return value if unclosed_address(value) is not None else None
    return value or None


_NEEDLES = ("-by:", "-by :", "link:", "fixes:", "closes:", "cc:")


def _line_starts(text: str, low: str | None, needles: tuple[str, ...]) -> list[int]:
    """Start offsets of the lines holding one of ``needles`` (lower case), found with str.find,
    which is fast on long text where a case-blind regex is not.

    ``low`` is ``text.lower()`` when the caller has it already."""
    if low is None:
        low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two: offsets would drift
        return [0, *(i + 1 for i, c in enumerate(text) if c == "\n" and i + 1 < len(text))] if text else []
    starts: set[int] = set()
    for needle in needles:
        i = low.find(needle)
        while i != -1:
            starts.add(low.rfind("\n", 0, i) + 1)
            i = low.find(needle, i + len(needle))
    return sorted(starts)


def _scan(text: str, *, followup: bool, low: str | None = None) -> list[RawTrailer]:
    """Trailers in ``text``; only lines that can start one are looked at, so long diffs cost little."""
    out: list[RawTrailer] = []
    pos = 0
    for start in _line_starts(text, low, _NEEDLES):
        if start < pos:
            continue  # consumed as a continuation of the previous trailer
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        pos = end
        if text[start] == ">":
            continue  # quoted: never a trailer (the common case in replies)
        line = text[start:end]
        m = _TRAILER_RE.match(line)
        if not m or line.lstrip().startswith(">"):
            continue
        name = _canonical_name(m[1], followup=followup)
        if name is None:
            continue
        value = m[2]
        # Join wrapped lines: an address on the next line, an unclosed "Fixes:" subject.
        while _needs_continuation(name, value) and pos < len(text):
            nxt_end = text.find("\n", pos + 1)
            nxt_end = len(text) if nxt_end == -1 else nxt_end
            nxt = text[pos + 1 : nxt_end]
            if not nxt.strip() or nxt.lstrip().startswith(">") or _TRAILER_RE.match(nxt):
                break
            value = f"{value} {nxt.strip()}"
            pos = nxt_end
        # A scope written on its own line below: "[for the DT bits]".
        nxt_end = text.find("\n", pos + 1)
        nxt_end = len(text) if nxt_end == -1 else nxt_end
        if pos < len(text) and _SCOPE_LINE_RE.match(text[pos + 1 : nxt_end]):
            value = f"{value} {text[pos + 1 : nxt_end].strip()}"
            pos = nxt_end
        kept = _valid(name, _clean_value(name, value))
        if kept is not None:
            out.append(RawTrailer(name, kept))
    return out


_SCOPE_LINE_RE = re.compile(r"^\s*\[[^\]]+\]\s*$")


def strip_signature(text: str) -> str:
    """Text before the first ``-- `` signature separator line."""
    padded = "\n" + text
    cut = len(text)
    for sep in ("\n-- \n", "\n-- \r\n"):
        i = padded.find(sep)
        if i != -1:
            cut = min(cut, i)
    if padded.endswith("\n-- "):
        cut = min(cut, len(padded) - 4)
    return text[:cut]


_COMMIT_END_MARKERS = ("\n---\n", "\n---\r\n", "\ndiff --git ", "\nIndex: ")


def commit_message(body: str) -> str:
    """The part of a patch body that becomes the commit message (before ``---`` or the diff)."""
    padded = "\n" + body + "\n"
    cut = len(body)
    for marker in _COMMIT_END_MARKERS:
        i = padded.find(marker, 0, cut + 1)
        if i != -1:
            cut = i
    # A plain unified diff: "--- a/file" directly followed by "+++ b/file".
    i = padded.find("\n--- ", 0, cut + 1)
    while i != -1:
        nl = padded.find("\n", i + 1)
        if nl != -1 and padded.startswith("+++ ", nl + 1):
            cut = min(cut, i)
            break
        i = padded.find("\n--- ", i + 1, cut + 1)
    return body[:cut]


_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n")


def _last_paragraph(text: str) -> str:
    """``re.split(r"\\n[ \\t]*\\n", text)[-1]`` without copying every paragraph of a long reply."""
    start = 0
    for m in _PARAGRAPH_BREAK_RE.finditer(text):
        start = m.end()
    return text[start:]


def patch_trailers(body: str) -> list[RawTrailer]:
    """Trailers a patch carries itself: the trailer block ending its commit message."""
    return _scan(_last_paragraph(commit_message(body).rstrip()), followup=False)


def followup_trailers(body: str, *, low: str | None = None) -> list[RawTrailer]:
    """Trailers a reviewer wrote in a follow-up: unquoted lines before the signature.

    With ``low`` the body has no signature already and ``low`` is its lower-cased text."""
    if low is None:
        return _scan(strip_signature(body), followup=True)
    return _scan(body, followup=True, low=low)


def local_domain(email: str) -> tuple[str, str]:
    local, _, domain = email.lower().rpartition("@")
    return local.split("+", 1)[0], domain


def email_matches(a: str | None, b: str | None) -> bool:
    """Whether two addresses are one person, as b4 compares them: case, ``+tag``, subdomain."""
    if not a or not b:
        return False
    if a.lower() == b.lower():
        return True
    la, da = local_domain(a)
    lb, db = local_domain(b)
    if la != lb or not da or not db:
        return False
    return da == db or da.endswith("." + db) or db.endswith("." + da)


def name_matches(value: str, sender_name: str) -> bool:
    """Whether a trailer's person (``Name <addr>``) is the sender by display name, as b4
    counts it. A name that looks like an address never matches: a forged display name
    (``<someone@example.org>``) must not pass for someone."""
    name = value.split("<", 1)[0].strip().strip('"').strip()
    sender = sender_name.strip().strip('"').strip()
    if not name or not sender or "@" in name or "@" in sender or "<" in sender:
        return False
    return fold_name(name) == fold_name(sender)


MENTION_RE = re.compile(r"\b(?:acked|reviewed|tested|nacked)[- ]by\b|\bnak\b", re.IGNORECASE)
_MENTION_NEEDLES = ("acked-by", "acked by", "reviewed-by", "reviewed by", "tested-by", "tested by", "nak")


def review_mentions(body: str, limit: int = 3, *, low: str | None = None) -> list[str]:
    """Unquoted lines that speak of a review but are no trailer (T22), e.g.
    "For patches 1-3: Acked-by: A <a@x>": no tool parses their scope; triage surfaces them.

    With ``low`` the body has no signature already and ``low`` is its lower-cased text."""
    text = strip_signature(body) if low is None else body
    out: list[str] = []
    for start in _line_starts(text, low, _MENTION_NEEDLES):
        end = text.find("\n", start)
        line = text[start : len(text) if end == -1 else end]
        stripped = line.strip()
        if stripped.startswith(">") or not MENTION_RE.search(line):
            continue
        t = _TRAILER_RE.match(line)
        if t and _canonical_name(t[1], followup=True) is not None and _valid(t[1], t[2]):
            continue  # a trailer proper: counted, not a mention
        out.append(stripped[:200])
        if len(out) >= limit:
            break
    return out
