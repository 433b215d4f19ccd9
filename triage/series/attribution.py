"""Which patch each trailer belongs to, and whether its sender may give it.

b4's order: a patch's own trailers, then its follow-ups', then the cover's. A follow-up
counts for the patch (or cover) it answers; a trailer's address must be its sender's
(or the name the sender's display name); a lost ">" is repaired only for the sender's
own address.
"""

from __future__ import annotations

from collections import defaultdict

from triage.model.records import RawTrailer
from triage.model.series import MessageRecord, Patch, Series, Trailer
from triage.series.decisions import Said
from triage.series.kinds import COVER, FOLLOWUP, PATCH, PULL, ancestors
from triage.series.trailers import _ADDR_RE as _ADDRESS_RE
from triage.series.trailers import email_matches, name_matches, trailer_key, unclosed_address


def attribute(
    records: dict[str, MessageRecord],
    ordered: list[MessageRecord],
    kinds: dict[str, str],
    by_msg: dict[str, Series],
    series_list: list[Series],
    ignore_from: set[str],
    replaced: dict[str, tuple[Series, int]] | None = None,
    said: list[Said] | None = None,
) -> None:
    """Give each patch its own trailers plus those of the follow-ups that descend from it.

    A follow-up of a patch posting that a respin replaced is the patch's follow-up; its
    trailers count only when the respin's diff is the same (same patch-id)."""
    replaced = replaced or {}
    own: dict[str, list[Trailer]] = {}
    patch_in: dict[tuple[int, str], Patch] = {}  # (id of the series, message id) -> its patch
    for s in series_list:
        for p in s.patches:
            m = p.message
            mid = m.message_id
            patch_in.setdefault((id(s), mid), p)
            if mid not in own:
                own[mid] = [_own_trailer(t, m) for t in m.facts.own_trailers]
    # b4's order: the patch's own trailers, then its follow-ups', then the cover's.
    extra: dict[str, list[Trailer]] = defaultdict(list)
    from_cover: dict[str, list[Trailer]] = defaultdict(list)  # by series id
    for m in ordered:  # by date, then id
        if kinds[m.message_id] != FOLLOWUP:
            continue
        target: MessageRecord | None = None
        stale = False  # the trailers answer a replaced posting whose diff changed
        for a in ancestors(m, records):
            kind = kinds[a.message_id]
            if kind == PULL:
                break
            if a.message_id in replaced:
                rs, idx = replaced[a.message_id]
                now = next((p for p in rs.patches if p.index == idx), None)
                if now is not None:
                    target = now.message
                    pid = a.facts.patch_id
                    stale = not pid or pid != now.message.facts.patch_id
                break
            if kind in (COVER, PATCH) and a.message_id in by_msg:
                target = a
                break
        if target is None:
            continue
        s = by_msg[target.message_id]
        is_cover = s.cover is not None and s.cover.message_id == target.message_id
        if is_cover:
            s.cover_followups.append(m.message_id)
        else:
            patch_in[(id(s), target.message_id)].followups.append(m.message_id)
        if said is not None and (m.facts.decision is not None or m.facts.ci is not None):
            said.append((s, None if is_cover else patch_in[(id(s), target.message_id)], m))
        for text in m.facts.mentions:
            s.review_mentions.append((m.message_id, text))
        if stale:
            continue
        for t in m.facts.followup_trailers:
            value, email = t.value, t.email
            broken = unclosed_address(value) if t.person and email is None else None
            if broken is not None:
                # A lost ">" is repaired only where the address is the sender's own.
                email = broken[1]
                value = broken[0] if email_matches(email, m.from_email) else value
            if email and email.lower() in ignore_from:
                continue
            match: bool | str = email_matches(email, m.from_email) if t.person else True
            if broken is not None and not match:
                match = False  # flagged: a guess at someone else's address
            elif not match and name_matches(value, m.from_name):
                match = "name"
            source = "cover" if is_cover else "followup"
            tr = Trailer(t.name, value, m.message_id, source, match, m.from_email)
            if is_cover:
                from_cover[s.id].append(tr)
            else:
                extra[target.message_id].append(tr)
    no_trailers: list[Trailer] = []
    for s in series_list:
        cover_trailers = from_cover.get(s.reroll_of or s.id, no_trailers)
        for p in s.patches:
            mid = p.message.message_id
            seen: set[tuple[str, str]] = set()
            merged: list[Trailer] = []
            at: dict[tuple[str, str], int] = {}  # (name, address) -> position in merged
            for tr in (*own.get(mid, no_trailers), *extra.get(mid, no_trailers), *cover_trailers):
                key = trailer_key(tr.name, tr.value)
                if key in seen:
                    continue
                seen.add(key)
                # One person once: "Tested-by: <addr>" and later "Tested-by: Name <addr>" are one
                # tester (the named one is kept); b4 would count two.
                person = _person_key(tr)
                i = at.get(person) if person is not None else None
                if i is not None and (merged[i].value.startswith("<") or tr.value.startswith("<")):
                    if merged[i].value.startswith("<") and tr.sender_match:
                        merged[i] = tr
                    continue
                if person is not None:
                    at.setdefault(person, len(merged))
                merged.append(tr)
            p.trailers = merged


def _own_trailer(t: RawTrailer, m: MessageRecord) -> Trailer:
    """A trailer of the patch's own commit message: the author's word, except an address
    that lost its ">", which is repaired only when it is the author's own (else flagged)."""
    broken = unclosed_address(t.value) if t.person and t.email is None else None
    if broken is not None:
        ok = email_matches(broken[1], m.from_email)
        return Trailer(t.name, broken[0] if ok else t.value, m.message_id, "patch", ok, m.from_email)
    return Trailer(t.name, t.value, m.message_id, "patch", True, m.from_email)


def _person_key(tr: Trailer) -> tuple[str, str] | None:
    m = _ADDRESS_RE.search(tr.value)
    return (tr.name.lower(), m[1].lower()) if m else None
