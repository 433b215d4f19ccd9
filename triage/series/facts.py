"""What a message body says that the series model needs: diff or not, trailers, version links.

Facts depend only on the message file, so they are computed once per message and
can be cached by message id (the scale issue's cache stores them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from triage.series.trailers import RawTrailer, followup_trailers, patch_trailers

_DIFF_RE = re.compile(
    r"^(?:diff --git |Index: \S|--- \S.*\n\+\+\+ \S|rename from \S|old mode \d|new file mode \d|GIT binary patch)",
    re.MULTILINE,
)
_CHANGE_ID_RE = re.compile(r"^change-id:\s*(\S+)\s*$", re.MULTILINE | re.IGNORECASE)
_SUPERSEDES_RE = re.compile(r"^Supersedes:\s*<?([^<>\s]+@[^<>\s]+)>?", re.MULTILINE | re.IGNORECASE)
_DIFFSTAT_RE = re.compile(
    r"^\s*(\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?",
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
    extra: dict[str, str] = field(default_factory=dict)


def facts_from_text(text: str) -> BodyFacts:
    """Compute the facts of one decoded body (text plus attached patches)."""
    text = text.replace("\r\n", "\n")
    has_diff = bool(_DIFF_RE.search(text))
    change = _CHANGE_ID_RE.search(text)
    stat = _DIFFSTAT_RE.search(text)
    return BodyFacts(
        has_diff=has_diff,
        own_trailers=tuple(patch_trailers(text)),
        followup_trailers=tuple(followup_trailers(text)),
        change_id=change[1] if change else None,
        supersedes=tuple(_SUPERSEDES_RE.findall(text)),
        diffstat=stat[0].strip() if stat else None,
    )
