"""What each message of a thread is: a cover, a patch, a follow-up or a pull request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from triage.model.series import MessageRecord
from triage.series.trailers import email_matches

COVER, PATCH, FOLLOWUP, PULL = "cover", "patch", "followup", "pull"


def classify(records: dict[str, MessageRecord]) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for mid, m in records.items():
        p = m.parsed
        if p.is_pull:
            kinds[mid] = PULL
        elif p.is_reply or p.is_forward:
            # b4 reads a forwarded patch as a follow-up whose trailers count (T21); so do we.
            kinds[mid] = FOLLOWUP
        elif p.is_patch:
            if p.index == 0:
                kinds[mid] = COVER
            elif not m.facts.has_diff and m.parent_id and m.facts.followup_trailers:
                # A bare "Acked-by" sent with the patch's subject but no "Re:" (T20).
                kinds[mid] = FOLLOWUP
            else:
                kinds[mid] = PATCH
        elif m.facts.has_diff:
            # A patch mailed without any prefix, as patchwork accepts it; a "Re:" with a
            # diff stays a follow-up (G14).
            kinds[mid] = PATCH
        else:
            kinds[mid] = FOLLOWUP
    # Naked covers (G12): a same-author root that patches reply to, with no "0/N" of its own.
    children: dict[str, list[str]] = defaultdict(list)
    for mid, m in records.items():
        if m.parent_id:
            children[m.parent_id].append(mid)
    for mid, m in records.items():
        if kinds[mid] != FOLLOWUP or m.parent_id or m.parsed.is_reply or m.parsed.is_forward:
            continue
        kids = [records[c] for c in children.get(mid, ()) if kinds[c] == PATCH]
        if any(email_matches(k.from_email, m.from_email) for k in kids):
            kinds[mid] = COVER
    # A cover resent in reply to a cover of the same name is a comment (G11).
    for mid, m in records.items():
        if kinds[mid] != COVER:
            continue
        for anc in ancestors(m, records):
            if kinds.get(anc.message_id) == COVER:
                if (
                    anc.parsed.normalized_title == m.parsed.normalized_title
                    and anc.parsed.version == m.parsed.version
                ):
                    kinds[mid] = FOLLOWUP
                break
    return kinds


def ancestors(m: MessageRecord, records: dict[str, MessageRecord]) -> Iterable[MessageRecord]:
    seen = {m.message_id}
    pid = m.parent_id
    while pid and pid in records and pid not in seen:
        seen.add(pid)
        a = records[pid]
        yield a
        pid = a.parent_id
