"""Link the versions of a series, and carry reviews from one version to the next.

What links two postings is evidence about one author: the same author (address; a
display name only through a configured relay) with the same title, a ``change-id:``,
``Supersedes:``, an earlier version its messages name ("Link to v1: <url>", see
:mod:`triage.series.stated`), a partial re-roll in its own thread, or a newer version
under a new cover title (renamed, or split in parts: :mod:`triage.series.splits`). What
a stranger writes (``Supersedes:``, a change-id, a cover naming another's patches) is a
*claim*: shown on both series, never hiding the older one, until the user accepts it
(a tag on the claiming series' root message). Postings for different stable trees
never link.

Links agree both ways: when A lists B as previous, B lists A as newer, and B reads
superseded unless A is a part of a split that does not yet hold B's patches
(``LinkNotes.split_open``). Within a family, versions are ordered by number, except
that a posting numbered lower than one sent before it (a new "[PATCH 0/4]" months after
v6) comes after it, and starts a family of its own when that one was applied.

Every link says which rule made it and through which message (:class:`LinkNotes`), so
``triage versions`` and the screen can say why a series reads superseded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from triage.model.series import Series
from triage.series.linkinfo import (
    CLAIM_ACCEPTED,
    NO_POLICY,
    REVIEW_NAMES,
    LinkInfo,
    LinkNotes,
    author_identity,
    link_info,
    same_author,
    stable_tree,
)
from triage.series.splits import continuations

__all__ = ["CLAIM_ACCEPTED", "NO_POLICY", "REVIEW_NAMES", "LinkInfo", "LinkNotes", "apply_links", "author_identity",
           "carry_reviews", "link_info", "link_versions", "stable_tree"]


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
    """Link v1, v2, ... of one series (see the module). The answer depends only on the set
    of ``infos``, never on their order.

    Returns, for every series with other versions, (previous ids, newer ids), each oldest first.
    """
    infos = sorted(infos, key=lambda i: (i.date, i.id))
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
        if same_author(older, newer):
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
                    evidence(other, info, f"change-id {k[1]}", info.id)
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
        for mid in info.named:
            target = by_member.get(mid)
            # The author's word about their own earlier posting (another author's series
            # named so is a claim: a series taken over, or a stranger); never across
            # stable trees.
            if target is not None and target.id != info.id and target.date < info.date and target.tree == info.tree:
                evidence(target, info, "named by the author as an earlier version", mid)
        for older_id in info.link_to:
            uf.union(older_id, info.id)
            notes.link(older_id, info.id, "re-roll of patches in its thread", info.id)
    families: dict[str, list[LinkInfo]] = defaultdict(list)
    for info in infos:
        families[uf.find(info.id)].append(info)
    chains = [chain for fam in families.values() for chain in _chains(fam, tree_read, notes)]
    previous: dict[str, list[str]] = {}
    newer: dict[str, list[str]] = {}
    for chain in chains:
        if len(chain) < 2:
            continue
        for i, info in enumerate(chain):
            previous[info.id] = [x.id for x in chain[:i]]
            newer[info.id] = [x.id for x in chain[i + 1 :]]
    # Oldest lineage first: a chain that continues another may itself be continued, and its
    # postings' previous versions then reach back through both.
    for cont in sorted(continuations(chains), key=lambda c: (c.older[0].date, c.older[0].id)):
        older_chain, parts = cont.older, cont.parts
        ancestors = previous.get(older_chain[0].id, []) + [x.id for x in older_chain]
        rule = "same author, split in parts" if cont.split else "same author, most patches (new cover title)"
        for part in parts:
            notes.link(older_chain[-1].id, part[0].id, rule, part[0].id)
            for i, info in enumerate(part):
                previous[info.id] = ancestors + [x.id for x in part[:i]]
                newer.setdefault(info.id, [x.id for x in part[i + 1 :]])
        # Both ways: every ancestor lists every posting of the continuations, oldest first.
        later = [x.id for x in sorted((x for part in parts for x in part), key=lambda x: (x.date, x.id))]
        for sid in ancestors:
            newer[sid] = newer.get(sid, []) + [x for x in later if x not in newer.get(sid, [])]
        if cont.split and not cont.covered():
            # A part alone leaves the rest of the older series current.
            notes.split_open.add(older_chain[-1].id)
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


def _number(x: LinkInfo, tree_read: set[str]) -> tuple[int, int]:
    return (1, 0) if x.id in tree_read else (x.version, x.subversion)


def _chains(fam: list[LinkInfo], tree_read: set[str], notes: LinkNotes) -> list[list[LinkInfo]]:
    """A family's postings oldest first, as one chain or several.

    By number, except that a tree's "vN.M" is its first posting, and a posting numbered
    lower than one sent before it (that is not a re-post of a number already sent, such
    as a RESEND) comes after everything sent before it: "[RFC v2 0/6]" then "[PATCH
    0/7]", or a new "[PATCH 0/4]" after v6. When what it follows was applied, it starts
    a chain of its own: the family's work was done, this is new work under the title."""
    if len(fam) < 2:
        return [fam]
    out: list[list[LinkInfo]] = []
    epochs: list[list[LinkInfo]] = [[]]
    top: tuple[int, int] | None = None
    sent: set[tuple[int, int, bool]] = set()

    def key(x: LinkInfo) -> tuple[int, int, int, str]:
        return (*_number(x, tree_read), x.date, x.id)

    for x in sorted(fam, key=lambda i: (i.date, i.id)):
        number = _number(x, tree_read)
        if top is not None and number < top and (*number, x.rfc) not in sent:
            head = max(epochs[-1], key=key)
            if head.applied:
                out.append([y for epoch in epochs for y in sorted(epoch, key=key)])
                notes.why[x.id].append((head.id, "a lower number after it was applied: new work, a family of its own",
                                        x.id))
                epochs = []
            epochs.append([])
            top = None
            sent = set()
        epochs[-1].append(x)
        sent.add((*number, x.rfc))
        top = number if top is None else max(top, number)
    out.append([y for epoch in epochs for y in sorted(epoch, key=key)])
    return out


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
        s.split_open = notes is not None and s.id in notes.split_open
        if notes is not None:
            s.claims = list(notes.claims.get(s.id, ()))
            s.link_rules = list(notes.why.get(s.id, ()))


