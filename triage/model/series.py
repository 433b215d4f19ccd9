"""Plain data of a series: what grouping hands out and every upper layer reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from triage.model.records import _ADDR_RE, MessageRecord

STATES = (
    "new",
    "under-review",
    "reviewed",
    "changes-requested",
    "accepted",
    "rejected",
    "superseded",
    "deferred",
)
DEFAULT_TAG_PREFIX = "triage/"
# Per-patch progress, a tag <prefix>patch/<mark> on the patch's message.
PATCH_MARKS = ("reviewed", "needs-changes", "skipped")
PATCH_TAG = "patch/"


# The dates a datetime can hold; a Date header may claim year 9999 with any offset.
_MIN_TS, _MAX_TS = 0, 253402214400  # 1970-01-01, 9999-12-31


def iso_date(ts: int) -> str:
    from datetime import UTC, datetime  # only for JSON: a warm start never makes it

    return datetime.fromtimestamp(min(max(ts, _MIN_TS), _MAX_TS), UTC).isoformat()


class Trailer(NamedTuple):
    """A trailer attributed to a patch (a named tuple: immutable and cheap to build)."""

    name: str
    value: str
    message_id: str
    source: str  # "patch" | "followup" | "cover"
    # True: the trailer's address is its sender's; "name": another address, but the name
    # is the sender's display name (the same person at work and at home); False: neither.
    sender_match: bool | str
    from_email: str | None = None

    @property
    def negative(self) -> bool:
        return self.name.lower() == "nacked-by"

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "message_id": self.message_id,
            "source": self.source,
            "sender_match": self.sender_match,
        }
        if self.negative:
            d["negative"] = True
        return d


@dataclass(slots=True)
class Patch:
    index: int
    message: MessageRecord
    trailers: list[Trailer] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)
    progress: str | None = None  # one of PATCH_MARKS, from the patch message's tags
    # The decision that applied or merged it ({"kind", "by", "where", "commits", "message_id",
    # "trusted", "patches"}): trusted ones only (see triage.series.decisions).
    outcome: dict[str, Any] | None = None

    @property
    def message_id(self) -> str:
        return self.message.message_id

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "message_id": self.message_id,
            "subject": self.message.subject,
            "has_diff": self.message.facts.has_diff,
            "files": list(self.message.facts.files),
            "progress": self.progress,
            "outcome": self.outcome,
            "trailers": [t.to_json() for t in self.trailers],
        }


def state_read(state_tag: str | None, *, superseded: bool) -> str:
    """The state a series reads: its tag (or "accepted" that trusted decisions settled, see
    Series.effective_tag); untagged, "superseded" when a newer version exists, else "new"."""
    return state_tag or ("superseded" if superseded else "new")


@dataclass(slots=True)
class Series:
    id: str
    title: str
    subject: str
    version: int
    rfc: bool
    resend: bool
    total: int
    author_name: str
    author_email: str
    date: int
    cover: MessageRecord | None
    patches: list[Patch]
    thread_ids: set[str] = field(default_factory=set)
    tree_tags: tuple[str, ...] = ()
    list_tags: tuple[str, ...] = ()
    subversion: int | None = None
    state_tag: str | None = None
    cover_followups: list[str] = field(default_factory=list)
    previous_versions: list[str] = field(default_factory=list)
    newer_versions: list[str] = field(default_factory=list)
    # Its newer versions are parts of a split that do not yet hold most of its patches:
    # linked both ways, and it stays current (see triage.series.linking).
    split_open: bool = False
    unread: bool = False
    reroll_of: str | None = None
    replied: bool = False
    review_mentions: list[tuple[str, str]] = field(default_factory=list)
    carried_trailers: list[dict[str, Any]] = field(default_factory=list)
    review_lost: list[dict[str, Any]] = field(default_factory=list)
    link_to: list[str] = field(default_factory=list)
    # What other authors claim: {"id", "claims": "supersedes" | "superseded-by", "rule", "message_id"}
    claims: list[dict[str, str]] = field(default_factory=list)
    # Why it is linked to its other versions: (other series, rule, message with the evidence)
    link_rules: list[tuple[str, str, str]] = field(default_factory=list)
    # Decisions stated in its threads, trusted or not (each an outcome dict, see Patch.outcome).
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] | None = None  # the one the list shows (see triage.series.decisions)
    decided: bool = False  # trusted decisions cover every patch received: it reads accepted
    ci: list[dict[str, Any]] = field(default_factory=list)  # robots' reports
    # Values of trailers counted by name whose sending domain DKIM verifies as the domain of
    # the address they name (set when one series is opened; not in the list's JSON).
    name_verified: set[str] = field(default_factory=set)

    @property
    def received(self) -> int:
        return len(self.patches)

    @property
    def complete(self) -> bool:
        have = {p.index for p in self.patches}
        # Counted over what arrived, never over the claimed total (mail can claim 10**20).
        return self.total > 0 and len({i for i in have if 1 <= i <= self.total}) == self.total

    def missing(self, limit: int = 20) -> tuple[list[int], int]:
        """The first ``limit`` patch numbers not received, and how many more are missing;
        the work is bounded by ``limit`` and what arrived, not by the claimed total."""
        have = {p.index for p in self.patches if 1 <= p.index <= self.total}
        shown: list[int] = []
        i = 1
        while i <= self.total and len(shown) < limit:
            if i not in have:
                shown.append(i)
            i += 1
        left = max(0, self.total - i + 1 - len([h for h in have if h >= i]))
        return shown, left

    @property
    def effective_tag(self) -> str | None:
        """The state tag, or "accepted" when untagged and trusted decisions cover every patch
        (a tag always wins: the user's "new" brings it back)."""
        return self.state_tag or ("accepted" if self.decided else None)

    @property
    def ci_state(self) -> str | None:
        """The worst robot report: "fail", "warn", "pass", or None without any."""
        results = {c["result"] for c in self.ci}
        return next((r for r in ("fail", "warn", "pass") if r in results), None)

    @property
    def state(self) -> str:
        return state_read(self.effective_tag, superseded=not self.current)

    @property
    def current(self) -> bool:
        return not self.newer_versions or self.split_open

    @property
    def date_claimed(self) -> int | None:
        """What the first message's Date header said, when it was clamped to its arrival."""
        root = self.cover or (self.patches[0].message if self.patches else None)
        clamped = root.facts.clamped if root is not None else None
        return clamped[1] if clamped is not None else None

    def message_ids(self) -> list[str]:
        ids = [self.cover.message_id] if self.cover else []
        ids.extend(p.message_id for p in self.patches)
        ids.extend(self.cover_followups)
        for p in self.patches:
            ids.extend(p.followups)
        return ids

    def counts(self) -> dict[str, int]:
        people: dict[str, set[str]] = {}
        for p in self.patches:
            for t in p.trailers:
                if not t.sender_match:
                    continue
                key = t.name.lower()
                # One person once, named or not ("<addr>" and "Name <addr>").
                m = _ADDR_RE.search(t.value)
                people.setdefault(key, set()).add(m[1].lower() if m else t.value.lower())
        return {
            "reviewed_by": len(people.get("reviewed-by", ())),
            "acked_by": len(people.get("acked-by", ())),
            "tested_by": len(people.get("tested-by", ())),
            "nacked_by": len(people.get("nacked-by", ())),
        }

    def to_json(self, *, versions: bool = True) -> dict[str, Any]:
        """The series as ``series --json`` shows it; without ``versions``, leaving out what
        depends on its other versions (state, current, links, carried reviews)."""

        flagged = [
            t.to_json() | {"patch": p.index}
            for p in self.patches
            for t in p.trailers
            if not t.sender_match
        ]
        d: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "subject": self.subject,
            "version": self.version,
            "subversion": self.subversion,
            "rfc": self.rfc,
            "resend": self.resend,
            "total": self.total,
            "received": self.received,
            "complete": self.complete,
            "cover": self.cover.message_id if self.cover else None,
            "author": {"name": self.author_name, "email": self.author_email},
            "date": iso_date(self.date),
            # The Date header, when it was more than a day after the arrival and the date is the arrival's.
            "date_claimed": iso_date(self.date_claimed) if self.date_claimed is not None else None,
        }
        d |= {
            "unread": self.unread,
            "reroll_of": self.reroll_of,
            "replied": self.replied,
            "review_mentions": [{"message_id": mid, "text": text} for mid, text in self.review_mentions],
            "tree_tags": list(self.tree_tags),
            "list_tags": list(self.list_tags),
            "counts": self.counts(),
            "progress": {
                "reviewed": sum(p.progress == "reviewed" for p in self.patches),
                "marked": sum(p.progress is not None for p in self.patches),
                "patches": len(self.patches),
            },
            "flagged_trailers": flagged,
            "outcome": self.outcome,
            "ci_state": self.ci_state,
            "ci": list(self.ci),
            "patches": [p.to_json() for p in self.patches],
        }
        if versions:  # last, in the order the index appends them (the answers are byte for byte the same)
            d["state"] = self.state
            d["current"] = self.current
            d["previous_versions"] = list(self.previous_versions)
            d["newer_versions"] = list(self.newer_versions)
            d["carried_trailers"] = list(self.carried_trailers)
            d["review_lost"] = list(self.review_lost)
            d["claims"] = list(self.claims)
        return d
