"""What version linking knows of a series (:class:`LinkInfo`), and why it linked (:class:`LinkNotes`).

A :class:`LinkInfo` is small enough to keep for every series in the index: its author,
title keys, numbers, stable tree, the message-ids it names as earlier versions, its
patches' titles and patch-ids, and whether it was applied.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from triage.mail.addresses import fold_name
from triage.model.policy import Policy
from triage.model.series import MessageRecord, Series
from triage.model.subject import trailing_version

CLAIM_ACCEPTED = "claim-accepted"  # tag (with the prefix) on the root message of a claim the user accepted
MAX_NAMED = 32  # earlier versions a series' messages name, at most (mail decides how many it names)


class LinkInfo(NamedTuple):
    """What version linking needs of a series; small enough to keep for every series in a cache
    (a named tuple, like the other value objects: the index stores it as a plain tuple)."""

    id: str
    version: int
    subversion: int
    date: int
    keys: tuple[tuple[str, str, str], ...]
    supersedes: tuple[str, ...]
    members: tuple[str, ...]
    link_to: tuple[str, ...]
    # Per patch: (index, normalized title, patch-id, review trailers (name, value, message id)).
    reviews: tuple[tuple[int, str, str | None, tuple[tuple[str, str, str], ...]], ...] = ()
    # Who the author is (see author_identity); "" when sent through a configured relay.
    person: str = ""
    rfc: bool = False
    # "[PATCH v5.4 1/1]": "5.4", which may be the 5.4 stable tree rather than a respin of v5.
    tree_reading: str = ""
    claim_accepted: bool = False  # the user accepted what this posting claims to supersede
    title: str = ""  # the normalized title (the cover's, else the first patch's)
    tree: str = ""  # the stable tree it is for ("6.6"), "" for none
    named: tuple[str, ...] = ()  # message-ids its messages name as earlier versions ("Link to v1: <url>")
    applied: bool = False  # decisions (trusted or claimed) or merges cover every patch


@dataclass
class LinkNotes:
    """Why series were linked, and what other authors claim: filled by ``link_versions``."""

    # series id -> (the other series, the rule, the message that carries the evidence)
    why: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    # series id -> claims on it or by it: {"id", "claims": "supersedes" | "superseded-by", "rule", "message_id"}
    claims: dict[str, list[dict[str, str]]] = field(default_factory=lambda: defaultdict(list))
    # Series with newer versions that stay current: parts of a split not yet holding them.
    split_open: set[str] = field(default_factory=set)

    def link(self, older: str, newer: str, rule: str, via: str) -> None:
        self.why[newer].append((older, rule, via))
        self.why[older].append((newer, rule, via))

    def claim(self, claimant: str, target: str, rule: str, via: str) -> None:
        self.claims[claimant].append({"id": target, "claims": "supersedes", "rule": rule, "message_id": via})
        self.claims[target].append({"id": claimant, "claims": "superseded-by", "rule": rule, "message_id": via})


def author_identity(m: MessageRecord, policy: Policy) -> str:
    """Who sent ``m``, as version links compare authors: the From address, lower case. A
    relay's address (B4 Relay) and a list's address that rewrote the From without a
    signature vouching for the real sender stand for many people: the display name is
    part of who it is."""
    email = m.from_email.lower()
    if policy.is_relay(email) or (m.facts.claimed is not None and m.facts.claimed[1].lower() != email):
        return f"{email}#{fold_name(m.from_name)}"
    return email


REVIEW_NAMES = {"reviewed-by", "acked-by", "tested-by"}

# "5.4", "6.1.y", "v6.6.y", "for-stable-4.19", "stable-5.4", "AUTOSEL".
_STABLE_RE = re.compile(r"^(?:(?:for-)?stable-)?v?(\d+\.\d+(?:\.\d+)?)(?:\.y)?$|^(autosel)$", re.IGNORECASE | re.ASCII)


def stable_tree(tree_tags: Iterable[str]) -> str:
    """The stable tree(s) a posting names, written one way ("6.6" for "v6.6.y",
    "for-stable-6.6" and "6.6"), "" for none."""
    found = (_STABLE_RE.match(t) for t in tree_tags)
    return " ".join(sorted({(m[1] or m[2]).lower() for m in found if m}))


NO_POLICY = Policy()


def link_info(s: Series, policy: Policy = NO_POLICY) -> LinkInfo:
    root = s.cover or s.patches[0].message
    who = author_identity(root, policy)
    title = root.parsed.normalized_title if s.cover else s.patches[0].message.parsed.normalized_title
    if s.cover is not None and not s.cover.parsed.is_patch and (naked := trailing_version(title)):
        title = naked[0]  # a naked cover's "... v2"
    tree = stable_tree(s.tree_tags)
    keys: list[tuple[str, str, str]] = []
    if title:
        # Postings of one fix for different stable trees (AUTOSEL 5.17, 4.19) are parallel,
        # not versions of each other: the tree is part of what links them.
        key = f"{title}\x00{tree}" if tree else title
        keys.append(("addr", who, key))
        if s.author_name.strip():
            keys.append(("name", fold_name(s.author_name), key))
    if root.facts.change_id:
        keys.append(("change-id", root.facts.change_id, ""))
    members = ([s.cover.message_id] if s.cover else []) + [p.message_id for p in s.patches]
    reviews = tuple(
        (
            p.index,
            p.message.parsed.normalized_title,
            p.message.facts.patch_id,
            tuple(
                (t.name, t.value, t.message_id)
                for t in p.trailers
                if t.source != "patch" and t.sender_match and t.name.lower() in REVIEW_NAMES
            ),
        )
        for p in s.patches
    )
    # The cover's word, or a coverless posting's patches': a patch of a series with a cover
    # that names an earlier posting of itself ("v1: <url>" of a patch now folded into a
    # larger series) speaks for that patch, not for the series.
    named: dict[str, None] = {}
    for m in [s.cover] if s.cover else [p.message for p in s.patches]:
        named.update(dict.fromkeys(m.facts.named))
    return LinkInfo(
        s.id,
        s.version,
        s.subversion or 0,
        s.date,
        tuple(keys),
        root.facts.supersedes,
        tuple(members),
        tuple(s.link_to),
        reviews,
        "" if policy.is_relay(root.from_email) else who,
        s.rfc,
        f"{s.version}.{s.subversion}" if s.subversion and not tree else "",
        policy.tag_prefix + CLAIM_ACCEPTED in root.tags,
        title,
        tree,
        tuple(mid for mid in named if mid not in members)[:MAX_NAMED],
        _applied(s),
    )


def _applied(s: Series) -> bool:
    """Every patch decided (a trusted decision, a claimed one, or a merge found in git)."""
    if not s.patches:
        return False
    covered = {p.index for p in s.patches if p.outcome is not None}
    for o in s.outcomes:
        covered.update(o.get("patches") or ())
    return covered >= {p.index for p in s.patches}


def names(info: LinkInfo) -> set[str]:
    return {k[1] for k in info.keys if k[0] == "name"}


def authors(info: LinkInfo) -> set[str]:
    """The author's address (when a person's) and display names."""
    return ({info.person} | names(info)) - {""}


def same_author(a: LinkInfo, b: LinkInfo) -> bool:
    """By address; a name only through a configured relay (as the keys link)."""
    if a.person and a.person == b.person:
        return True
    return bool(names(a) & names(b)) and (not a.person or not b.person)
