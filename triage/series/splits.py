"""Newer versions under another cover title: renamed, or split in parts.

A chain of versions whose first posting has no older version of its own continues an
older chain of the same author when

* its cover title is the older cover's title plus a part suffix ("... (IOMMU part)",
  "... - part 2"): a part of a split, whatever its patches; or
* it says v2 or later and more than half of its patches are the older head's (the same
  title, alike titles (see :mod:`triage.series.likeness`), or the same patch-id).

A split leaves the older series current until its parts hold :data:`COVERED` of its
patches; a renamed series (one newer chain, no part suffix) supersedes it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from triage.series.likeness import alike, fold, part_of
from triage.series.linkinfo import LinkInfo, authors, same_author

MOSTLY = 0.5  # more than this share of a newer version's patches found in an older series
COVERED = 0.75  # an older series is superseded once its newer parts hold this share of its patches


@dataclass
class Continuation:
    """The newer chains that continue one older chain."""

    older: list[LinkInfo]
    parts: list[list[LinkInfo]]
    named_parts: bool = False  # a part's title says it is a part

    @property
    def split(self) -> bool:
        return len(self.parts) > 1 or self.named_parts

    def covered(self) -> bool:
        """Whether the newer chains' first postings hold most of the older head's patches."""
        old = self.older[-1]
        if not old.reviews:
            return True
        titles: list[str] = []
        pids: set[str] = set()
        for part in self.parts:
            t, p = _patch_keys(part[0])
            titles += t
            pids |= p
        return share_found(old, titles, pids, fuzzy=True) >= COVERED


def _patch_keys(info: LinkInfo) -> tuple[list[str], set[str]]:
    titles = [title for _, title, _, _ in info.reviews if title]
    pids = {pid for _, _, pid, _ in info.reviews if pid}
    return titles, pids


def share_found(info: LinkInfo, titles: list[str], pids: set[str], *, fuzzy: bool = False) -> float:
    """The share of ``info``'s patches whose title (or, with ``fuzzy``, an alike title) or
    patch-id is among these."""
    if not info.reviews:
        return 0.0
    exact = set(titles)
    folded = {fold(t) for t in titles} if fuzzy else set()
    hits = 0
    for _, title, pid, _ in info.reviews:
        found = bool((title and title in exact) or (pid and pid in pids))
        if not found and fuzzy and title:
            found = fold(title) in folded or any(alike(title, t) for t in titles)
        hits += found
    return hits / len(info.reviews)


def continuations(chains: list[list[LinkInfo]]) -> list[Continuation]:
    """Each older chain with the newer chains that continue it (see the module), in a
    fixed order whatever the order of ``chains``."""
    heads_by_author: dict[str, list[list[LinkInfo]]] = defaultdict(list)
    heads_by_title: dict[str, list[list[LinkInfo]]] = defaultdict(list)
    for chain in chains:
        for who in authors(chain[-1]):
            heads_by_author[who].append(chain)
        for info in chain:
            heads_by_title[fold(info.title)].append(chain)
    found: dict[str, Continuation] = {}
    for chain in sorted(chains, key=lambda c: (c[0].date, c[0].id)):
        first = chain[0]
        older, named = _split_from(first, chain, heads_by_title)
        if older is None:
            older = _renamed_from(first, chain, heads_by_author)
        if older is None:
            continue
        got = found.setdefault(older[-1].id, Continuation(older, []))
        got.parts.append(chain)
        got.named_parts |= named
    return list(found.values())


def _split_from(
    first: LinkInfo, chain: list[LinkInfo], heads_by_title: dict[str, list[list[LinkInfo]]]
) -> tuple[list[LinkInfo] | None, bool]:
    """The older chain whose cover title this part's title names, by the same author."""
    base = part_of(first.title)
    if base is None:
        return None, False
    best: list[LinkInfo] | None = None
    for older in heads_by_title.get(base, ()):
        head = older[-1]
        if older is chain or head.date >= first.date or fold(head.title) != base or not same_author(first, head):
            continue
        if first.tree != head.tree:
            continue
        if best is None or (head.date, head.id) > (best[-1].date, best[-1].id):
            best = older
    return best, best is not None


def _renamed_from(
    first: LinkInfo, chain: list[LinkInfo], heads_by_author: dict[str, list[list[LinkInfo]]]
) -> list[LinkInfo] | None:
    """The older chain holding most of this chain's first posting's patches, by the same author."""
    if first.version < 2 or not first.reviews:
        return None
    candidates = {id(c): c for who in sorted(authors(first)) for c in heads_by_author.get(who, ())}
    plausible: list[tuple[list[LinkInfo], float]] = []
    best: tuple[tuple[float, int, int, str], list[LinkInfo]] | None = None
    for older in candidates.values():
        head = older[-1]
        if older is chain or head.date >= first.date or head.version >= first.version or not same_author(first, head):
            continue
        if first.tree != head.tree:
            continue
        share = share_found(first, *_patch_keys(head))
        plausible.append((older, share))
        # The most shared, then the closest version before it, then the latest.
        rank = (share, head.version, head.date, head.id)
        if share > MOSTLY and (best is None or rank > best[0]):
            best = (rank, older)
    if best is not None:
        return best[1]
    # Renamed patches: alike titles, only where some patch is already shared or the cover
    # titles are alike (comparing every title pair of a prolific author costs too much).
    for older, share in plausible:
        head = older[-1]
        if share <= 0 and not alike(first.title, head.title):
            continue
        fuzzy = share_found(first, *_patch_keys(head), fuzzy=True)
        rank = (fuzzy, head.version, head.date, head.id)
        if fuzzy > MOSTLY and (best is None or rank > best[0]):
            best = (rank, older)
    return best[1] if best is not None else None
