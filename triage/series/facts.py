"""What a message body says that the series model needs: diff or not, trailers, version links.

Facts depend only on the message file, so they are computed once per message and
can be cached by message id (the scale issue's cache stores them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from triage.series.trailers import (
    RawTrailer,
    commit_message,
    followup_trailers,
    patch_trailers,
    review_mentions,
)

_DIFF_MARKERS = ("\ndiff --git ", "\nIndex: ", "\nrename from ", "\nold mode ", "\nnew file mode ", "\nGIT binary patch")
_UNIFIED_RE = re.compile(r"^--- \S[^\n]*\n\+\+\+ \S", re.MULTILINE)
_CHANGE_ID_RE = re.compile(r"^change-id:\s*(\S+)\s*$", re.MULTILINE | re.IGNORECASE)
_SUPERSEDES_RE = re.compile(r"^Supersedes:\s*<?([^<>\s]+@[^<>\s]+)>?", re.MULTILINE | re.IGNORECASE)
_DIFFSTAT_RE = re.compile(
    r"^[ \t]*(\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class BodyFacts:
    has_diff: bool = False
    own_trailers: tuple[RawTrailer, ...] = ()
    followup_trailers: tuple[RawTrailer, ...] = ()
    change_id: str | None = None
    supersedes: tuple[str, ...] = ()
    diffstat: str | None = None
    unreadable: bool = False
    mentions: tuple[str, ...] = ()
    patch_id: str | None = None


# Anchored on a literal newline rather than ^ with MULTILINE: the engine then jumps from
# newline to newline instead of trying every position.
_CHANGED_RE = re.compile(r"\n(diff --git [^\n]*|[+-](?![+-]{2} )[^\n]*)")


def patch_id(text: str) -> str | None:
    """Identity of a diff's content, like ``git patch-id``: file names and changed lines,
    whitespace and line numbers ignored, so a rebased but unchanged patch keeps it."""
    import hashlib

    diff = text[len(commit_message(text)) :]
    sig = diff.rfind("\n-- \n")
    if sig != -1:
        diff = diff[:sig]
    changed = _CHANGED_RE.findall("\n" + diff)
    if not any(line[:1] in "+-" for line in changed):
        return None
    # str.split() drops every run of whitespace in C, several times faster than a regex.
    return hashlib.sha1("".join("\n".join(changed).split()).encode("utf-8", "replace")).hexdigest()[:20]


def has_diff_text(text: str) -> bool:
    """Whether a body carries a patch: git, plain unified or CVS diffs, renames, mode changes."""
    padded = "\n" + text
    if any(m in padded for m in _DIFF_MARKERS):
        return True
    return "\n+++ " in padded and bool(_UNIFIED_RE.search(text))


def facts_from_text(text: str) -> BodyFacts:
    """Compute the facts of one decoded body (text plus attached patches)."""
    text = text.replace("\r\n", "\n")
    has_diff = has_diff_text(text)
    # b4's "change-id:" and Gerrit's "Change-Id:" both identify a series across versions.
    change = _CHANGE_ID_RE.search(text) if any(k in text for k in ("-id:", "-Id:", "-ID:")) else None
    stat = None
    at = text.find(" changed")
    if at != -1:
        line_start = text.rfind("\n", 0, at) + 1
        stat = _DIFFSTAT_RE.search(text, line_start)
    # With a diff in the body, only the text before it can hold a reviewer's trailers;
    # scanning the diff would cost time and pick up context lines such as " Acked-by:".
    prose = commit_message(text) if has_diff else text
    return BodyFacts(
        has_diff=has_diff,
        own_trailers=tuple(patch_trailers(prose)),
        followup_trailers=tuple(followup_trailers(prose)),
        mentions=() if has_diff else tuple(review_mentions(text)),
        patch_id=patch_id(text) if has_diff else None,
        change_id=change[1] if change else None,
        supersedes=tuple(_SUPERSEDES_RE.findall(text)) if any(k in text for k in ("edes:", "EDES:")) else (),
        diffstat=stat[0].strip() if stat else None,
    )
