"""What a message body says that the series model needs: diff or not, trailers, version links.

Facts depend only on the message file, so they are computed once per message and
can be cached by message id (the scale issue's cache stores them).
"""

from __future__ import annotations

import re

from triage.model.records import NO_FACTS, BodyFacts, RawTrailer  # noqa: F401 - re-exported
from triage.series.outcomes import read_ci, read_decision
from triage.series.stated import named_versions
from triage.series.trailers import (
    commit_message,
    followup_trailers,
    patch_trailers,
    review_mentions,
    strip_signature,
)

_DIFF_MARKERS = ("\ndiff --git ", "\nIndex: ", "\nrename from ", "\nold mode ", "\nnew file mode ", "\nGIT binary patch")
_UNIFIED_RE = re.compile(r"^--- \S[^\n]*\n\+\+\+ \S", re.MULTILINE)
_CHANGE_ID_RE = re.compile(r"^change-id:\s*(\S+)\s*$", re.MULTILINE | re.IGNORECASE)
_SUPERSEDES_RE = re.compile(r"^Supersedes:\s*<?([^<>\s]+@[^<>\s]+)>?", re.MULTILINE | re.IGNORECASE)


# Anchored on a literal newline rather than ^ with MULTILINE: the engine then jumps from
# newline to newline instead of trying every position.
_CHANGED_RE = re.compile(r"\n(diff --git [^\n]*|[+-](?![+-]{2} )[^\n]*)")


def patch_id(text: str, message_end: int | None = None) -> str | None:
    """Identity of a diff's content, like ``git patch-id``: file names and changed lines,
    whitespace and line numbers ignored, so a rebased but unchanged patch keeps it.

    ``message_end`` is ``len(commit_message(text))`` when the caller has it."""
    import hashlib

    start = len(commit_message(text)) if message_end is None else message_end
    sig = text.rfind("\n-- \n", start)
    end = len(text) if sig == -1 else sig
    if start > 0 and text[start - 1] == "\n":
        changed = _CHANGED_RE.findall(text, start - 1, end)  # no copy of a long diff
    else:
        changed = _CHANGED_RE.findall("\n" + text[start:end])
    if not any(line[:1] in "+-" for line in changed):
        return None
    # ASCII whitespace dropped as git patch-id drops it (isspace on bytes); bytes.translate
    # does it in one C pass, three times faster than splitting the text.
    flat = "\n".join(changed).encode("utf-8", "replace").translate(None, b" \t\n\r\x0b\x0c")
    return hashlib.sha1(flat).hexdigest()[:20]


_DIFF_STARTS = tuple(m[1:] for m in _DIFF_MARKERS)


def has_diff_text(text: str) -> bool:
    """Whether a body carries a patch: git, plain unified or CVS diffs, renames, mode changes."""
    # As if the text began with a newline, without copying it.
    if text.startswith(_DIFF_STARTS) or any(m in text for m in _DIFF_MARKERS):
        return True
    return (text.startswith("+++ ") or "\n+++ " in text) and bool(_UNIFIED_RE.search(text))


def _normalized(text: str) -> str:
    # memchr first: most bodies come normalized and replace() would scan twice.
    return text.replace("\r\n", "\n") if "\r" in text else text


def body_patch_id(text: str) -> str | None:
    """The ``patch_id`` that :func:`facts_from_text` gives a body with a diff, on its own: the
    body-reading helper sends it after the other facts, which grouping needs first."""
    return patch_id(_normalized(text))


def diff_files(text: str) -> tuple[str, ...]:
    """The paths a diff touches, from its ``diff --git a/X b/Y`` lines (memchr-fast finds:
    a regex over every line of 7,000 patches cost the cold build 0.1 s)."""
    out: dict[str, None] = {}
    needle = "diff --git a/"
    i = text.find(needle)
    while i != -1:
        if i == 0 or text[i - 1] == "\n":
            end = text.find("\n", i)
            line = text[i : end if end != -1 else len(text)]
            _, sep, path = line.rpartition(" b/")
            if sep and path and " " not in path:
                out[path.rstrip("\r")] = None
        i = text.find(needle, i + len(needle))
    return tuple(out)


def _named(text: str, prose: str, has_diff: bool) -> tuple[str, ...]:
    """Earlier versions named in the prose or, for a patch, in its notes below ``---``."""
    if has_diff:
        end = text.find("\ndiff --git")
        prose = text[: end if end != -1 else len(prose)]
    return named_versions(prose) if "://" in prose else ()


def facts_from_text(text: str, *, reply: bool | None = None, with_patch_id: bool = True) -> BodyFacts:
    """Compute the facts of one decoded body (text plus attached patches).

    ``reply`` is what the subject says (``Re:``/``Fwd:``): the series model reads only
    the follow-up side of a reply (its trailers and mentions), and never the follow-up
    trailers of a message that carries a diff but is no reply, so those are not
    computed (a third of the work on a list archive). None computes everything.
    Without ``with_patch_id`` the patch-id is left to :func:`body_patch_id`."""
    text = _normalized(text)
    has_diff = has_diff_text(text)
    # With a diff in the body, only the text before it can hold a reviewer's trailers;
    # scanning the diff would cost time and pick up context lines such as " Acked-by:".
    prose = commit_message(text) if has_diff else text
    as_followup = reply is not False or not has_diff
    followup: tuple[RawTrailer, ...] = ()
    mentions: tuple[str, ...] = ()
    if as_followup:
        unsigned = strip_signature(prose)
        low = unsigned.lower()  # shared by both scans
        followup = tuple(followup_trailers(unsigned, low=low))
        if not has_diff:
            mentions = tuple(review_mentions(unsigned, low=low))
    decision_t: tuple | None = None
    ci_t: tuple[str, str] | None = None
    if reply is not False:  # a reply (or a message read whole) may state a decision or report a build
        decision = read_decision(unsigned) if not has_diff else None
        ci = read_ci(text) if any(w in text for w in ("robot", "syzbot", "auto build test")) else None
        decision_t, ci_t = (tuple(decision) if decision else None), ((ci.result, ci.summary) if ci else None)
    if reply:
        return BodyFacts(has_diff=has_diff, followup_trailers=followup, mentions=mentions, decision=decision_t, ci=ci_t)
    # b4's "change-id:" and Gerrit's "Change-Id:" both identify a series across versions.
    change = _CHANGE_ID_RE.search(text) if any(k in text for k in ("-id:", "-Id:", "-ID:")) else None
    return BodyFacts(
        has_diff=has_diff,
        files=diff_files(text) if has_diff else (),
        own_trailers=tuple(patch_trailers(prose)),
        followup_trailers=followup,
        mentions=mentions,
        patch_id=patch_id(text, len(prose)) if has_diff and with_patch_id else None,
        change_id=change[1] if change else None,
        supersedes=tuple(_SUPERSEDES_RE.findall(text)) if any(k in text for k in ("edes:", "EDES:")) else (),
        decision=decision_t,
        ci=ci_t,
        named=_named(text, prose, has_diff),
    )
