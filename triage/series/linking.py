"""Link the versions of a series, and carry reviews from one version to the next.

What links two postings is evidence about one author: the same author (address; a
display name only through a configured relay) with the same title, a ``change-id:``,
``Supersedes:``, a partial re-roll in its own thread, or a newer version holding most
of an older one's patches under a new cover title (renamed, or split in parts). What a
stranger writes (``Supersedes:``, a change-id, a cover naming another's patches) is a
*claim*: shown on both series, never hiding the older one, until the user accepts it
(a tag on the claiming series' root message).

Every link says which rule made it and through which message (:class:`LinkNotes`), so
``triage versions`` and the screen can say why a series reads superseded.
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


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


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


@dataclass
class LinkNotes:
    """Why series were linked, and what other authors claim: filled by :func:`link_versions`."""

    # series id -> (the other series, the rule, the message that carries the evidence)
    why: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    # series id -> claims on it or by it: {"id", "claims": "supersedes" | "superseded-by", "rule", "message_id"}
    claims: dict[str, list[dict[str, str]]] = field(default_factory=lambda: defaultdict(list))

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


_STABLE_RE = re.compile(r"^\d+\.\d+(?:\.\d+)?(?:\.y)?$|^autosel$", re.IGNORECASE | re.ASCII)


def stable_tree(tree_tags: Iterable[str]) -> str:
    """The stable tree(s) a posting names ("5.17", "AUTOSEL 4.9"), "" for none."""
    return " ".join(sorted(t.lower() for t in tree_tags if _STABLE_RE.match(t)))


NO_POLICY = Policy()


def link_info(s: Series, policy: Policy = NO_POLICY) -> LinkInfo:
    root = s.cover or s.patches[0].message
    who = author_identity(root, policy)
    title = root.parsed.normalized_title if s.cover else s.patches[0].message.parsed.normalized_title
    if s.cover is not None and not s.cover.parsed.is_patch and (naked := trailing_version(title)):
        title = naked[0]  # a naked cover's "... v2"
    keys: list[tuple[str, str, str]] = []
    if title:
        # Postings of one fix for different stable trees (AUTOSEL 5.17, 4.19) are parallel,
        # not versions of each other: the tree is part of what links them.
        tree = stable_tree(s.tree_tags)
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
        f"{s.version}.{s.subversion}" if s.subversion and not stable_tree(s.tree_tags) else "",
        policy.tag_prefix + CLAIM_ACCEPTED in root.tags,
    )


def carry_reviews(
    infos: Iterable[LinkInfo], links: dict[str, tuple[list[str], list[str]]]
) -> dict[str, tuple[list[dict[str, object]], list[dict[str, object]]]]:
    """T19: reviews of the previous version carry to a patch whose diff is unchanged (same
    patch-id, as b4's trailer map); a reviewed patch that changed is flagged "review lost"."""
    by_id = {i.id: i for i in infos}
    out: dict[str, tuple[list[dict[str, object]], list[dict[str, object]]]] = {}
    for sid, (previous, _) in links.items():
        if not previous or sid not in by_id or previous[-1] not in by_id:
            continue
        old = by_id[previous[-1]]
        by_pid: dict[str, list[tuple[int, tuple[tuple[str, str, str], ...]]]] = {}
        for idx, _, pid, rev in old.reviews:
            if pid and rev:
                by_pid.setdefault(pid, []).append((idx, rev))
        by_title = {title: (idx, rev) for idx, title, _, rev in old.reviews if rev}
        carried: list[dict[str, object]] = []
        lost: list[dict[str, object]] = []
        for idx, title, pid, own in by_id[sid].reviews:
            have = {(n.lower(), v.lower()) for n, v, _ in own}
            if pid and pid in by_pid:
                # Identical diffs at several places: the same position wins.
                old_idx, rev = next((c for c in by_pid[pid] if c[0] == idx), by_pid[pid][0])
                for name, value, mid in rev:
                    if (name.lower(), value.lower()) not in have:
                        carried.append({"patch": idx, "name": name, "value": value, "message_id": mid,
                                        "from_version": old.version, "from_patch": old_idx})
            elif title in by_title:
                old_idx, rev = by_title[title]
                # Lost only what the new version does not carry again (a Tested-by given on
                # the cover of both versions is not lost).
                missing = [(n, v) for n, v, _ in rev if (n.lower(), v.lower()) not in have]
                if missing:
                    lost.append({"patch": idx, "from_version": old.version, "from_patch": old_idx,
                                 "trailers": [f"{n}: {v}" for n, v in missing]})
        out[sid] = (carried, lost)
    return out


def link_versions(infos: Iterable[LinkInfo], notes: LinkNotes | None = None) -> dict[str, tuple[list[str], list[str]]]:
    """Link v1, v2, ... of one series: the same author with the same title, a change-id, or
    Supersedes:; and a newer version whose patches (titles or patch-ids) are mostly an
    older series' of the same author, under another cover title (renamed, or split in
    parts). A change-id or Supersedes: of another author is a claim (``notes.claims``),
    which links only once accepted.

    Returns, for every series with other versions, (previous ids, newer ids), each oldest first.
    """
    infos = list(infos)
    notes = notes if notes is not None else LinkNotes()
    uf = _UnionFind()
    first_by_key: dict[tuple[str, str, str], LinkInfo] = {}
    # A name (and title) links two series only when one of them was sent through a relay
    # (its address names no one): a stranger using the author's display name from another
    # address does not take over the author's series.
    by_name: dict[tuple[str, str, str], list[LinkInfo]] = {}
    by_change_id: dict[str, list[LinkInfo]] = {}
    by_member: dict[str, LinkInfo] = {}
    for info in infos:
        for mid in info.members:
            by_member.setdefault(mid, info)
    keys, tree_read = _reading_of_numbers(infos)

    def evidence(older: LinkInfo, newer: LinkInfo, rule: str, via: str) -> None:
        """Link when one author wrote both (or the user accepted the claim), else note a claim."""
        if _same_author(older, newer):
            uf.union(older.id, newer.id)
            notes.link(older.id, newer.id, rule, via)
        elif newer.claim_accepted:
            uf.union(older.id, newer.id)
            notes.link(older.id, newer.id, f"{rule} (other author; claim accepted)", via)
        else:
            notes.claim(newer.id, older.id, f"{rule} (other author)", via)

    for info in infos:
        uf.find(info.id)
        for k in keys[info.id]:
            if k[0] == "name":
                earlier = by_name.setdefault(k, [])
                for other in earlier:
                    if not info.person or not other.person or info.person == other.person:
                        uf.union(other.id, info.id)
                        notes.link(other.id, info.id, "same name through a relay, title", info.id)
                earlier.append(info)
            elif k[0] == "change-id":
                earlier = by_change_id.setdefault(k[1], [])
                for other in earlier:
                    first, then = (other, info) if (other.date, other.id) <= (info.date, info.id) else (info, other)
                    evidence(first, then, f"change-id {k[1]}", then.id)
                earlier.append(info)
            elif k in first_by_key:
                uf.union(first_by_key[k].id, info.id)
                notes.link(first_by_key[k].id, info.id, "same author, title", info.id)
            else:
                first_by_key[k] = info
        for sup in info.supersedes:
            target = by_member.get(sup)
            if target is not None and target.id != info.id:
                evidence(target, info, f"Supersedes: {sup}", info.id)
        for older_id in info.link_to:
            uf.union(older_id, info.id)
            notes.link(older_id, info.id, "re-roll of patches in its thread", info.id)
    families: dict[str, list[LinkInfo]] = defaultdict(list)
    for info in infos:
        families[uf.find(info.id)].append(info)
    chains = [_in_order(fam, tree_read) for fam in families.values()]
    previous: dict[str, list[str]] = {}
    newer: dict[str, list[str]] = {}
    for chain in chains:
        if len(chain) < 2:
            continue
        for i, info in enumerate(chain):
            previous[info.id] = [x.id for x in chain[:i]]
            newer[info.id] = [x.id for x in chain[i + 1 :]]
    for older_chain, parts in _renamed_or_split(chains).items():
        split = len(parts) > 1
        for part in parts:
            notes.link(older_chain[-1].id, part[0].id,
                       "same author, most patches (split in parts)" if split else "same author, most patches (new cover title)",
                       part[0].id)
            for i, info in enumerate(part):
                previous[info.id] = [x.id for x in older_chain] + [x.id for x in part[:i]]
                newer.setdefault(info.id, [x.id for x in part[i + 1 :]])
        if _covered(older_chain[-1], parts):
            # Superseded once the newer parts hold (nearly) all its patches; a part
            # alone leaves the rest of the older series current.
            heads = [x.id for part in parts for x in part]
            for info in older_chain:
                newer[info.id] = newer.get(info.id, []) + heads
    return {sid: (previous.get(sid, []), newer.get(sid, [])) for sid in previous.keys() | newer.keys()
            if previous.get(sid) or newer.get(sid)}


def _reading_of_numbers(infos: list[LinkInfo]) -> tuple[dict[str, tuple[tuple[str, str, str], ...]], set[str]]:
    """Each series' link keys, and the series whose "vN.M" names a stable tree.

    "[PATCH v5.4 1/1]" followed by "[PATCH 5.4 v2 1/1]": v5.4 was the 5.4 tree. It reads
    as a respin only when the family has a vN (the same title at version N without a
    tree); else, when postings for the N.M tree share its title, it is their first."""
    keys = {i.id: i.keys for i in infos}
    ambiguous = [i for i in infos if i.tree_reading]
    if not ambiguous:
        return keys, set()
    holders: dict[tuple[str, str, str], list[LinkInfo]] = defaultdict(list)
    for i in infos:
        for k in i.keys:
            holders[k].append(i)
    tree_read: set[str] = set()
    for info in ambiguous:
        major = info.version
        respin = any(o is not info and o.version == major for k in info.keys for o in holders[k])
        tree_keys = tuple((kind, who, f"{key}\x00{info.tree_reading}") for kind, who, key in info.keys if kind != "change-id")
        if not respin and any(holders.get(k) for k in tree_keys):
            keys[info.id] = tree_keys + tuple(k for k in info.keys if k[0] == "change-id")
            tree_read.add(info.id)
    return keys, tree_read


def _in_order(fam: list[LinkInfo], tree_read: set[str]) -> list[LinkInfo]:
    """Oldest first: by version, except that a tree's "vN.M" is its first posting, and that
    RFC postings before the first non-RFC one come before it whatever their numbers
    ("[RFC v2 0/6]" then "[PATCH 0/7]": numbering restarts). A re-post of an older
    version (RESEND) does not overtake a newer version."""
    first_patch = min((x.date for x in fam if not x.rfc), default=None)

    def key(x: LinkInfo) -> tuple[int, int, int, int, str]:
        version, sub = (1, 0) if x.id in tree_read else (x.version, x.subversion)
        epoch = 0 if x.rfc and first_patch is not None and x.date < first_patch else 1
        return (epoch, version, sub, x.date, x.id)

    return sorted(fam, key=key)


MOSTLY = 0.5  # more than this share of a newer version's patches found in an older series
COVERED = 0.75  # an older series is superseded once its newer parts hold this share of its patches


def _patch_keys(info: LinkInfo) -> tuple[set[str], set[str]]:
    titles = {title for _, title, _, _ in info.reviews if title}
    pids = {pid for _, _, pid, _ in info.reviews if pid}
    return titles, pids


def _share_found(info: LinkInfo, titles: set[str], pids: set[str]) -> float:
    """The share of ``info``'s patches whose title or patch-id is among these."""
    if not info.reviews:
        return 0.0
    hits = sum(1 for _, title, pid, _ in info.reviews if (title and title in titles) or (pid and pid in pids))
    return hits / len(info.reviews)


def _names(info: LinkInfo) -> set[str]:
    return {k[1] for k in info.keys if k[0] == "name"}


def _authors(info: LinkInfo) -> set[str]:
    """The author's address (when a person's) and display names."""
    return ({info.person} | _names(info)) - {""}


def _same_author(a: LinkInfo, b: LinkInfo) -> bool:
    """By address; a name only through a configured relay (as the keys link, above)."""
    if a.person and a.person == b.person:
        return True
    return bool(_names(a) & _names(b)) and (not a.person or not b.person)


def _renamed_or_split(chains: list[list[LinkInfo]]) -> dict[tuple[LinkInfo, ...], list[list[LinkInfo]]]:
    """Newer versions under another cover title: a chain whose first posting says it is
    v2 or later, with no older version of its own, whose patches are mostly those of
    an older chain's newest posting by the same author. A split gives one older chain
    several newer ones."""
    heads_by_author: dict[str, list[list[LinkInfo]]] = defaultdict(list)
    for chain in chains:
        for who in _authors(chain[-1]):
            heads_by_author[who].append(chain)
    out: dict[tuple[LinkInfo, ...], list[list[LinkInfo]]] = {}
    for chain in chains:
        first = chain[0]
        if first.version < 2 or not first.reviews:
            continue
        candidates = {id(c): c for who in _authors(first) for c in heads_by_author.get(who, ())}
        best: tuple[tuple[float, int, int], list[LinkInfo]] | None = None
        for older in candidates.values():
            head = older[-1]
            if older is chain or head.date >= first.date or head.version >= first.version or not _same_author(first, head):
                continue
            share = _share_found(first, *_patch_keys(head))
            # The most shared, then the closest version before it, then the latest.
            rank = (share, head.version, head.date)
            if share > MOSTLY and (best is None or rank > best[0]):
                best = (rank, older)
        if best is not None:
            out.setdefault(tuple(best[1]), []).append(chain)
    return out


def _covered(old: LinkInfo, parts: list[list[LinkInfo]]) -> bool:
    if not old.reviews:
        return True
    titles: set[str] = set()
    pids: set[str] = set()
    for part in parts:
        t, p = _patch_keys(part[0])
        titles |= t
        pids |= p
    return _share_found(old, titles, pids) >= COVERED


def apply_links(
    series_list: list[Series],
    infos: list[LinkInfo],
    links: dict[str, tuple[list[str], list[str]]],
    notes: LinkNotes | None = None,
) -> None:
    carry = carry_reviews(infos, links)
    for s in series_list:
        s.previous_versions, s.newer_versions = links.get(s.id, ([], []))
        s.carried_trailers, s.review_lost = carry.get(s.id, ([], []))
        if notes is not None:
            s.claims = list(notes.claims.get(s.id, ()))
            s.link_rules = list(notes.why.get(s.id, ()))


