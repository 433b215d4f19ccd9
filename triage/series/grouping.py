"""Group messages into series, link versions and attribute follow-up trailers.

Input is a flat list of :class:`MessageRecord` with the parent each message has in
its notmuch thread (notmuch threads by In-Reply-To first, then the nearest
reference, which is what T7 and T24 ask for). The rules and their test cases are
in ``series-rules.md`` sections 2 and 3; the choices made where tools disagree are
noted where they are made.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from triage.model.policy import Policy
from triage.model.series import (
    PATCH_MARKS,
    PATCH_TAG,
    STATES,
    MessageRecord,
    Patch,
    Series,
)
from triage.model.subject import trailing_version
from triage.series.attribution import attribute
from triage.series.decisions import Said, settle
from triage.series.kinds import COVER, PATCH, ancestors, classify
from triage.series.linking import (
    NO_POLICY,
    LinkInfo,
    LinkNotes,
    apply_links,
    author_identity,
    link_info,
    link_versions,
)
from triage.series.trailers import email_matches

__all__ = ["LinkInfo", "group_series", "link_info", "link_versions"]

# Unthreaded patches of one series arrive within this window (b4 --rethread uses an hour).
LOOSE_WINDOW_SECONDS = 3600



@dataclass(slots=True)
class _Draft:
    """A series being assembled."""

    cover: MessageRecord | None
    version: int
    total: int | None
    author: str
    patches: dict[int, MessageRecord] = field(default_factory=dict)
    extra: list[MessageRecord] = field(default_factory=list)
    start: int = 0
    indexed: bool = False

    def compatible(self, m: MessageRecord) -> bool:
        p = m.parsed
        if p.version_explicit and p.version != self.version:
            return False
        if p.open_total:
            return True
        total = p.total if p.total is not None else 1
        return self.total is None or total == self.total

    def add(self, m: MessageRecord) -> bool:
        """Add a patch; False when its index is taken (a second posting, G4)."""
        p = m.parsed
        idx = p.index if p.index is not None else 1
        old = self.patches.get(idx)
        if old is not None:
            # "[PATCH v5.1 10/12]" replaces patch 10 of v5; anything else is a new posting.
            if p.subversion is not None and (old.parsed.subversion or 0) < p.subversion:
                self.extra.append(old)
                self.patches[idx] = m
                return True
            return False
        self.patches[idx] = m
        if self.total is None and not p.open_total:
            self.total = p.total if p.total is not None else 1
        return True


def _cover_draft(c: MessageRecord, children: dict[str, list[MessageRecord]], kinds: dict[str, str]) -> _Draft:
    p = c.parsed
    version = p.version
    total = p.total if p.index == 0 else None
    if not p.is_patch:
        # Naked cover: take version and count from the patches that answer it.
        kids = [m for m in children.get(c.message_id, ()) if kinds[m.message_id] == PATCH]
        if kids:
            version = kids[0].parsed.version
            total = kids[0].parsed.total
            hint = trailing_version(p.title)
            if hint is not None and not kids[0].parsed.version_explicit:
                version = hint[1]  # "cleanup swiotlb initialization v2" with "[PATCH 1/4]" patches
    return _Draft(cover=c, version=version, total=total, author=c.from_email.lower(), start=c.date)


def group_series(messages: Iterable[MessageRecord], *, policy: Policy = NO_POLICY, link: bool = True) -> list[Series]:
    """Build every series the messages hold, newest first."""
    records = {m.message_id: m for m in messages}
    kinds = classify(records)
    ordered = sorted(records.values(), key=lambda m: (m.date, m.message_id))
    children: dict[str, list[MessageRecord]] = defaultdict(list)
    for m in ordered:
        if m.parent_id:
            children[m.parent_id].append(m)

    drafts: list[_Draft] = []
    owner: dict[str, _Draft] = {}
    # Drafts by (sender, version, count), so the time-window match is not quadratic.
    by_key: dict[tuple[str, int, int], list[_Draft]] = defaultdict(list)
    for m in ordered:
        if kinds[m.message_id] == COVER:
            d = _cover_draft(m, children, kinds)
            drafts.append(d)
            owner[m.message_id] = d
            _index_draft(d, by_key)

    own_patches = _covers_with_own_patches(records, kinds, policy)
    for m in ordered:
        if kinds[m.message_id] != PATCH:
            continue
        target: _Draft | None = None
        for a in ancestors(m, records):
            found = owner.get(a.message_id)
            if found is not None and kinds[a.message_id] in (COVER, PATCH):
                # A patch joins the series it answers from that series' author: a stranger's
                # "[PATCH 2/3]" in reply to a cover is a posting of its own. (A cover whose
                # sender sent none of the patches, as git format-patch writes a committer's
                # cover for another author's patches, takes patches from anyone.)
                root = found.cover or a
                if found.compatible(m) and (_same_sender(root, m, policy) or root.message_id not in own_patches):
                    target = found
                break
        if target is None or not target.add(m):
            # Unthreaded, a second posting inside a thread, or threaded under something
            # that is not its series (a v2 patch in v1's thread, G6): match by sender,
            # version, count and time, as patchwork and b4 --rethread do (G3, G13).
            target = _window_match(m, by_key) or _new_draft(m, drafts)
            target.add(m)
        owner[m.message_id] = target
        _index_draft(target, by_key)

    rerolls = _find_rerolls(drafts, owner, records, policy)
    built = {id(d): _build(d) for d in drafts if d.patches or d.cover is not None}
    series_list = list(built.values())
    by_msg: dict[str, Series] = {}
    for s in series_list:
        for mid in ([s.cover.message_id] if s.cover else []) + [p.message_id for p in s.patches]:
            by_msg[mid] = s
    for d, base in rerolls:
        _fill_reroll(built[id(d)], built[id(base)])
    # Patch postings a respin replaced ("[PATCH v4.6 09/36]" after v4.5's 09/36): their
    # follow-ups answer that patch, never the whole series.
    replaced = {
        m.message_id: (built[id(d)], m.parsed.index if m.parsed.index is not None else 1)
        for d in drafts if id(d) in built for m in d.extra
    }
    said: list[Said] = []
    attribute(records, ordered, kinds, by_msg, series_list, set(policy.ignore_from), replaced, said)
    answered = _answered(records.values(), set(policy.me))
    for s in series_list:
        s.state_tag = _state_from_tags(s, policy.tag_prefix)
        for p in s.patches:
            p.progress = _patch_progress(p.message.tags, policy.tag_prefix)
        s.replied = not answered.isdisjoint(s.message_ids())
    settle(series_list, said, policy)
    if link:
        infos = [link_info(s, policy) for s in series_list]
        notes = LinkNotes()
        apply_links(series_list, infos, link_versions(infos, notes), notes)
    series_list.sort(key=lambda s: (s.date, s.id), reverse=True)
    return series_list


def _covers_with_own_patches(records: dict[str, MessageRecord], kinds: dict[str, str], policy: Policy) -> set[str]:
    """Covers (and patches) that a patch from the same sender answers."""
    out: set[str] = set()
    for m in records.values():
        if kinds[m.message_id] != PATCH:
            continue
        for a in ancestors(m, records):
            if kinds[a.message_id] in (COVER, PATCH):
                if _same_sender(a, m, policy):
                    out.add(a.message_id)
                if kinds[a.message_id] == COVER:
                    break
    return out


def _same_sender(a: MessageRecord, b: MessageRecord, policy: Policy) -> bool:
    """One author (as b4 compares addresses: case, +tag, subdomain); through a relay, the
    relay's address and the display name."""
    if policy.is_relay(a.from_email) or policy.is_relay(b.from_email):
        return author_identity(a, policy) == author_identity(b, policy)
    return email_matches(a.from_email, b.from_email)


def _new_draft(m: MessageRecord, drafts: list[_Draft]) -> _Draft:
    d = _Draft(cover=None, version=m.parsed.version, total=None, author=m.from_email.lower(), start=m.date)
    drafts.append(d)
    return d


def _find_rerolls(
    drafts: list[_Draft], owner: dict[str, _Draft], records: dict[str, MessageRecord], policy: Policy
) -> list[tuple[_Draft, _Draft]]:
    """Partial re-rolls (G8): "[PATCH v3 2/2]" answering v2's 2/2 re-rolls only that patch,
    when its author posted that patch: a stranger's answer re-rolls nobody's series."""
    found = []
    for d in drafts:
        if d.cover is not None or not d.patches or d.total is None or len(d.patches) >= d.total:
            continue
        bases: dict[int, _Draft] = {}
        for idx, m in d.patches.items():
            parent = records.get(m.parent_id or "")
            base = owner.get(parent.message_id) if parent else None
            if (
                base is None
                or base is d
                or not m.parsed.version_explicit
                or base.version >= d.version
                or base.total != d.total
                or parent is None
                or base.patches.get(idx) is not parent
                or author_identity(m, policy) != author_identity(parent, policy)
            ):
                break
            bases[id(base)] = base
        else:
            if len(bases) == 1:
                found.append((d, next(iter(bases.values()))))
    return found


def _fill_reroll(s: Series, base: Series) -> None:
    """Complete a partial re-roll with the base version's other patches, and its cover's trailers."""
    have = {p.index for p in s.patches}
    s.patches = sorted(
        s.patches + [Patch(index=p.index, message=p.message) for p in base.patches if p.index not in have],
        key=lambda p: p.index,
    )
    s.reroll_of = base.id
    s.title = base.title
    s.link_to.append(base.id)


def _draft_key(d: _Draft) -> tuple[str, int, int] | None:
    return (d.author, d.version, d.total) if d.total is not None and d.total > 1 else None


def _index_draft(d: _Draft, by_key: dict[tuple[str, int, int], list[_Draft]]) -> None:
    key = _draft_key(d)
    if key is not None and not d.indexed:
        d.indexed = True
        by_key[key].append(d)


def _window_match(m: MessageRecord, by_key: dict[tuple[str, int, int], list[_Draft]]) -> _Draft | None:
    p = m.parsed
    if p.index is None or p.total is None or p.total < 2:
        return None  # a single patch is a series of its own
    for d in reversed(by_key.get((m.from_email.lower(), p.version, p.total), ())):
        if abs(m.date - d.start) > LOOSE_WINDOW_SECONDS:
            continue
        if p.index not in d.patches:
            return d
    return None


def _build(d: _Draft) -> Series:
    patches = [Patch(index=i, message=m) for i, m in sorted(d.patches.items())]
    root = d.cover if d.cover is not None else patches[0].message
    rp = root.parsed
    first = patches[0].message.parsed if patches else rp
    title = rp.title if rp.is_patch or not patches else first.title
    total = d.total if d.total is not None else 1
    msgs = ([d.cover] if d.cover else []) + [p.message for p in patches]
    return Series(
        id=root.message_id,
        title=title,
        subject=root.subject,
        version=d.version,
        subversion=first.subversion,
        rfc=any(m.parsed.rfc for m in msgs),
        resend=any(m.parsed.resend for m in msgs),
        total=total,
        author_name=root.from_name,
        author_email=root.from_email,
        date=min(m.date for m in msgs),
        cover=d.cover,
        patches=patches,
        thread_ids={m.thread_id for m in msgs},
        tree_tags=rp.tree_tags or first.tree_tags,
        list_tags=rp.list_tags or first.list_tags,
        unread=any("unread" in m.tags for m in msgs),
    )


def _answered(records: Iterable[MessageRecord], mine: set[str]) -> set[str]:
    """T23: messages that show the user answered in their series, from triage or any other
    client: tagged replied, or a reply sent from one of the user's addresses."""
    return {
        m.message_id
        for m in records
        if "replied" in m.tags or (mine and m.from_email.lower() in mine and m.parsed.is_reply)
    }


def _patch_progress(tags: frozenset[str], prefix: str) -> str | None:
    head = prefix + PATCH_TAG
    return next((t[len(head):] for t in tags if t.startswith(head) and t[len(head):] in PATCH_MARKS), None)


def _state_from_tags(s: Series, prefix: str) -> str | None:
    votes: Counter[str] = Counter()
    msgs = ([s.cover] if s.cover else []) + [p.message for p in s.patches]
    for m in msgs:
        for tag in m.tags:
            if tag.startswith(prefix) and tag[len(prefix) :] in STATES:
                votes[tag[len(prefix) :]] += 1
    if not votes:
        return None
    root = msgs[0]
    for tag in root.tags:
        if tag.startswith(prefix) and tag[len(prefix) :] in STATES:
            return tag[len(prefix) :]
    return votes.most_common(1)[0][0]
