"""Plain records the store hands in: a message, what its body says, a trailer as written.

The bottom layer: no notmuch, no mail parsing, no series rules; every other layer may
import it, and it imports nothing of triage but the subject reader (a record's subject
is read the same everywhere).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from triage.model.subject import ParsedSubject, parse_subject

PERSON_TRAILERS = {
    "reviewed-by": "Reviewed-by",
    "acked-by": "Acked-by",
    "tested-by": "Tested-by",
    "nacked-by": "Nacked-by",
    "reported-by": "Reported-by",
    "suggested-by": "Suggested-by",
    "co-developed-by": "Co-developed-by",
    "signed-off-by": "Signed-off-by",
    "reported-and-tested-by": "Reported-and-tested-by",
}
# Trailers that are not people but belong to the commit when it is applied.
OTHER_TRAILERS = {"link": "Link", "fixes": "Fixes", "closes": "Closes", "cc": "Cc"}
# A follow-up adds people and references, never a Cc line for the commit.
FOLLOWUP_OTHER = {"link", "fixes", "closes"}
NEGATIVE = {"nacked-by"}
_ADDR_RE = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
# "Name <addr" or "Name <addr." : the closing ">" lost (a typo, or a mailer's wrap).
_UNCLOSED_RE = re.compile(r"^(.*?)<([^<>\s]+@[^<>\s]+?\.[A-Za-z]{2,})[.,;:]*$")


def unclosed_address(value: str) -> tuple[str, str] | None:
    """(the trailer as it would read repaired, the address) when its address lacks the closing
    ``>``; None otherwise. A repair is a guess: it counts only where the address is the
    sender's own (see triage.series.grouping)."""
    if ">" in value:
        return None
    m = _UNCLOSED_RE.match(value.strip())
    if m is None:
        return None
    name = m[1].strip()
    return (f"{name} <{m[2]}>" if name else f"<{m[2]}>"), m[2]
_LINK_ID_RE = re.compile(r"https?://(?:lore\.kernel\.org/(?:[^/]+/)?|patch\.msgid\.link/|msgid\.link/)(?:r/)?([^/\s#]+)")


class RawTrailer(NamedTuple):
    """A trailer as written in one message body (a named tuple: immutable, and cheap to
    build by the tens of thousands on a list archive)."""

    name: str
    value: str

    @property
    def email(self) -> str | None:
        m = _ADDR_RE.search(self.value)
        return m[1] if m else None

    @property
    def person(self) -> bool:
        return self.name.lower() in PERSON_TRAILERS

    @property
    def negative(self) -> bool:
        return self.name.lower() in NEGATIVE

    def key(self) -> tuple[str, str]:
        """Identity for de-duplication (case and spacing folded, links by message id)."""
        return trailer_key(self.name, self.value)


@functools.lru_cache(maxsize=16384)
def trailer_key(name: str, value: str) -> tuple[str, str]:
    """:meth:`RawTrailer.key` of a name and value; cached, as a list repeats the same trailers."""
    low = name.lower()
    if low == "link" and (m := _LINK_ID_RE.match(value)):
        return low, m[1].lower()
    return low, " ".join(value.split()).lower()  # str.split: the same whitespace as \s, in C


class BodyFacts(NamedTuple):
    """What the model reads of a body (a named tuple: immutable and cheap to build)."""

    has_diff: bool = False
    own_trailers: tuple[RawTrailer, ...] = ()
    followup_trailers: tuple[RawTrailer, ...] = ()
    change_id: str | None = None
    supersedes: tuple[str, ...] = ()
    unreadable: bool = False
    mentions: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # the paths a patch's diff touches (its diff headers)
    # A reply's decision ("Applied to ...") and a robot's report, as plain tuples (see
    # triage.model.outcome: Decision, CiResult).
    decision: tuple | None = None
    ci: tuple[str, str] | None = None
    # Message-ids the text names as its earlier versions ("Link to v1: <url>"), a claim
    # (see triage.series.stated).
    named: tuple[str, ...] = ()
    # (arrival, Date header) when the Date header is more than a day after the message
    # arrived (its topmost Received:): the record's date is the arrival (public-inbox does
    # the same), so a Date in 2085 cannot pin a message to the top of every list.
    clamped: tuple[int, int] | None = None
    # A list that rewrote the From ("Name via LIST" <list@...>, DMARC) names the real sender
    # in X-Original-From or Reply-To: (name, address), names still encoded. A claim: it
    # replaces the sender only where the list's own ARC or DKIM signature vouches for it.
    claimed: tuple[str, str] | None = None
    # (name, address) of the From as the file has it, parsed before the name was decoded
    # (the name is still encoded: mail.addresses.decoded_name decodes it once); ("", "")
    # when it holds no usable address. None: the file was not read.
    sender: tuple[str, str] | None = None
    patch_id: str | None = None  # last: the body helper's late patch-ids replace it by position

    def to_tuple(self) -> tuple | None:
        """Plain data (None for no facts): pickles in C, where the dataclass would unpickle
        field by field in Python; the index and the body-reading helper both use it."""
        if self is NO_FACTS or self == NO_FACTS:
            return None
        return (
            self.has_diff,
            tuple(map(tuple, self.own_trailers)),  # (name, value) as plain tuples
            tuple(map(tuple, self.followup_trailers)),
            self.change_id,
            self.supersedes,
            self.unreadable,
            self.mentions,
            self.files,
            self.decision,
            self.ci,
            self.named,
            self.clamped,
            self.claimed,
            self.sender,
            self.patch_id,
        )

    @staticmethod
    def from_tuple(t: tuple | None) -> BodyFacts:
        if t is None:
            return NO_FACTS
        has_diff, own, fup, change_id, supersedes, unreadable, mentions, files, decision, ci, named, clamped, claimed, sender, pid = t
        return BodyFacts(
            has_diff,
            tuple(map(RawTrailer._make, own)) if own else (),
            tuple(map(RawTrailer._make, fup)) if fup else (),
            change_id,
            supersedes,
            unreadable,
            mentions,
            tuple(files),
            _decision(decision),
            (ci[0], ci[1]) if ci is not None else None,
            tuple(named),
            (clamped[0], clamped[1]) if clamped is not None else None,
            (claimed[0], claimed[1]) if claimed is not None else None,
            (sender[0], sender[1]) if sender is not None else None,
            pid,
        )


NO_FACTS = BodyFacts()


def _decision(t: tuple | list | None) -> tuple | None:
    """A decision read back as the tuple it was (MessagePack and pickle hand back lists)."""
    if t is None:
        return None
    kind, where, commits, patches, whole, by = t
    return (kind, where, tuple(commits), tuple(patches), whole, (by[0], by[1]) if by is not None else None)



@dataclass(slots=True)
class MessageRecord:
    """One message as the series model sees it; no notmuch object survives in here."""

    message_id: str
    thread_id: str
    subject: str
    from_name: str
    from_email: str
    date: int
    parent_id: str | None = None
    tags: frozenset[str] = frozenset()
    path: str | None = None
    facts: BodyFacts = NO_FACTS  # shared: facts are frozen, and most messages have none
    _parsed: ParsedSubject | None = None

    @property
    def parsed(self) -> ParsedSubject:
        if self._parsed is None:
            self._parsed = parse_subject(self.subject)
        return self._parsed


