"""What was decided about each series and patch, and what robots reported on it.

A reply's decision (see :mod:`triage.series.outcomes`) covers what it answers: a reply
to one patch covers that patch (unless it says "the series" or "both patches"), a
reply to the cover covers the patches it names ("patches 1-2", b4 ty's "[2/9]" lines),
else all of them. It decides when its sender decides for those patches' files (see
:mod:`triage.series.deciders`); otherwise it is kept as a claim. The author's own
"applied your suggestion" is neither.

Merges found in the user's git tree (``triage merged``) are tags on the patch messages:
``<prefix>merged``, with ``<prefix>commit/<sha>`` and ``<prefix>merged-into/<branch>``.
"""

from __future__ import annotations

from typing import Any

from triage.model.outcome import CiResult, Decision
from triage.model.policy import Policy, base_address
from triage.model.records import MessageRecord
from triage.model.series import Patch, Series
from triage.series.deciders import Deciders
from triage.series.trailers import email_matches

MERGED_TAG = "merged"
COMMIT_TAG = "commit/"
MERGED_INTO_TAG = "merged-into/"

# (series, the patch answered or None for the cover, the reply)
Said = tuple[Series, Patch | None, MessageRecord]


def settle(series_list: list[Series], said: list[Said], policy: Policy) -> None:
    """Fill each series' and patch's outcome and CI reports; ``said`` is in date order."""
    deciders = Deciders(policy)
    for s, patch, m in said:
        if m.facts.decision is not None and not email_matches(m.from_email, s.author_email):
            _decide(s, patch, m, Decision._make(m.facts.decision), deciders)
        if m.facts.ci is not None and deciders.is_bot(m.from_email):
            ci = CiResult._make(m.facts.ci)
            s.ci.append({"bot": base_address(m.from_email), "result": ci.result, "summary": ci.summary,
                         "message_id": m.message_id, "patch": patch.index if patch is not None else None})
    for s in series_list:
        _merged(s, policy.tag_prefix)
        s.decided = bool(s.patches) and all(p.outcome is not None and p.outcome["trusted"] for p in s.patches)
        s.outcome = _headline(s)


def _decide(s: Series, patch: Patch | None, m: MessageRecord, d: Decision, deciders: Deciders) -> None:
    if d.patches:
        covered = [p for p in s.patches if p.index in d.patches]
    elif patch is not None and not d.whole:
        covered = [patch]
    else:
        covered = list(s.patches)
    files = {f for p in covered for f in p.message.facts.files}
    if d.by is not None and deciders.is_bot(m.from_email):
        name, address = d.by
        trusted = deciders.trusted(address, files)
        by = f"{name} <{address}> (via {base_address(m.from_email)})"
    else:
        trusted = deciders.trusted(m.from_email, files)
        by = f"{m.from_name} <{m.from_email}>" if m.from_name else m.from_email
    outcome: dict[str, Any] = {
        "kind": d.kind,
        "by": by,
        "where": d.where,
        "commits": list(d.commits),
        "message_id": m.message_id,
        "trusted": trusted,
        "patches": [p.index for p in covered],
    }
    s.outcomes.append(outcome)
    if trusted:
        for p in covered:
            p.outcome = outcome  # a later decision (for-next, then mainline) says where it is now


def _merged(s: Series, prefix: str) -> None:
    head = prefix + MERGED_TAG
    for p in s.patches:
        tags = p.message.tags
        if head not in tags:
            continue
        commits = sorted(t[len(prefix + COMMIT_TAG):] for t in tags if t.startswith(prefix + COMMIT_TAG))
        where = next((t[len(prefix + MERGED_INTO_TAG):] for t in tags if t.startswith(prefix + MERGED_INTO_TAG)), "")
        p.outcome = {"kind": "merged", "by": "git", "where": where, "commits": commits, "message_id": p.message_id,
                     "trusted": True, "patches": [p.index]}


def _headline(s: Series) -> dict[str, Any] | None:
    """The series' outcome as the list shows it: what decided every patch (the newest), else
    what decided some, else the newest claim."""
    decided = [p.outcome for p in s.patches if p.outcome is not None]
    if decided and len(decided) == len(s.patches):
        return decided[-1] if all(o is decided[-1] for o in decided) else {**decided[-1], "patches": [p.index for p in s.patches]}
    if decided:
        return {**decided[-1], "patches": [p.index for p in s.patches if p.outcome is not None]}
    return s.outcomes[-1] if s.outcomes else None
