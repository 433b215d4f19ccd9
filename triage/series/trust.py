"""Signatures where a sender matters: which list-rewritten From may be replaced by the
sender it claims, and which trailer sent from another address its sending domain vouches
for.

Only those messages are checked (their files read again, their keys asked of DNS once
per selector): a message's verdict never changes once DNS answered, so each is kept by
the caller (the series index) and checked once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from triage.mail.addresses import decoded_name, raw_sender, sender_of_decoded
from triage.mail.dkimcheck import Verdict, domain_signed, list_vouches, verify
from triage.mail.dns import DnsCache
from triage.mail.parse import read_bytes
from triage.mail.store import Store, author_name
from triage.model.records import MessageRecord
from triage.model.series import Series

# Tests and machines without any DNS: nothing is asked of the network (as [trust] dns = false).
NO_DNS_ENV = "TRIAGE_NO_DNS"


def dns_enabled(setting: bool = True) -> bool:
    return setting and not os.environ.get(NO_DNS_ENV)


class Verifier:
    """Verdicts of messages by id: those ``known`` (kept by the index), others checked now.
    What was checked here is in ``fresh``, for the caller to keep."""

    def __init__(
        self,
        store: Store,
        dns: DnsCache | None = None,
        known: Mapping[str, Verdict] | None = None,
        *,
        kept: Callable[[list[str]], Mapping[str, Verdict]] | None = None,
        trusted_lists: Iterable[str] = (),
        me: Iterable[str] = (),
    ) -> None:
        self.store = store
        self.trusted_lists = tuple(trusted_lists)  # [trust] lists
        self.me = frozenset(e.lower() for e in me)  # the user's addresses
        self.dns = dns or DnsCache(enabled=dns_enabled())
        self.known = dict(known or {})
        self.kept = kept  # reads verdicts kept elsewhere (the index), by id
        self.fresh: dict[str, Verdict] = {}

    def verdicts(self, ids: Iterable[str], *, recheck: bool = False) -> dict[str, Verdict]:
        """Each id's verdict; with ``recheck``, one not final (DNS did not answer) is asked again."""
        ids = list(dict.fromkeys(ids))
        if self.kept is not None:
            unknown = [mid for mid in ids if mid not in self.known]
            if unknown:
                self.known.update(self.kept(unknown))
        out = {mid: v for mid in ids if (v := self.known.get(mid)) is not None and (v.final or not recheck)}
        todo = [mid for mid in ids if mid not in out]
        if todo:
            paths = self.store.message_paths(todo)
            for mid in todo:
                out[mid] = self.fresh[mid] = self.known[mid] = self._check(paths.get(mid))
        return out

    def _check(self, path: str | None) -> Verdict:
        if not path:
            return Verdict(0, "unreadable")
        try:
            data = read_bytes(path)
        except OSError:
            return Verdict(0, "unreadable")
        return verify(data, self.dns)


def own_senders(records: list[MessageRecord], verifier: Verifier | None) -> None:
    """A message that seems to be the user's, whose file was not read (a reply without a
    trailer), is read for its From as it arrived: notmuch's decoded From turns an encoded
    word (``Maint <=?utf-8?q?maint=40example.org?=>``) into the user's address."""
    if verifier is None or not verifier.me:
        return
    mine = [r for r in records if r.facts.sender is None and r.from_email.lower() in verifier.me]
    if not mine:
        return
    paths = verifier.store.message_paths(r.message_id for r in mine)
    for r in mine:
        sender: tuple[str, str] | None = None
        path = paths.get(r.message_id)
        if path:
            try:
                sender = raw_sender(read_bytes(path))
            except OSError:
                sender = None
        name, address = sender or ("", "")
        if address.lower() != r.from_email.lower():
            r.from_name, r.from_email = (author_name(name) if name else r.from_name), address


def rewrite_candidates(records: Iterable[MessageRecord]) -> list[MessageRecord]:
    """Messages whose From a list rewrote and that still carry the list's address."""
    return [r for r in records if r.facts.claimed is not None and r.facts.claimed[1].lower() != r.from_email.lower()]


def vouched_senders(records: list[MessageRecord], verifier: Verifier | None) -> None:
    """A list-rewritten From ("Name via LIST" <list@...>) gives way to the sender it names
    (X-Original-From, Reply-To) only where the list's own ARC seal or DKIM signature verifies
    and recorded a pass for that sender's domain. Anything else stays the list's address:
    what it says is not counted as that person's."""
    candidates = rewrite_candidates(records)
    if not candidates:
        return
    if verifier is None:
        for r in candidates:
            if r.facts.sender is not None:
                r.from_name = decoded_name(r.facts.sender[0]) or r.from_name
        return
    verdicts = verifier.verdicts(r.message_id for r in candidates)
    for r in candidates:
        claimed = r.facts.claimed
        assert claimed is not None
        if list_vouches(verdicts.get(r.message_id), r.from_email, claimed[1], verifier.trusted_lists):
            name = decoded_name(claimed[0])
            r.from_name, r.from_email = (author_name(name) if name else r.from_name), claimed[1]
        elif r.facts.sender is not None:
            # Unvouched, the name stays the list's rewrite ("X via LIST"): it names no sender.
            r.from_name = decoded_name(r.facts.sender[0]) or r.from_name


def verify_names(series: Series, verifier: Verifier) -> None:
    """Trailers counted by the sender's name (sent from another address than the one they
    name) whose message DKIM signs in the named address's domain: ``series.name_verified``."""
    by_name = [t for p in series.patches for t in p.trailers if t.sender_match == "name"]
    if not by_name:
        return
    verdicts = verifier.verdicts(t.message_id for t in by_name)
    for t in by_name:
        _, address = sender_of_decoded(t.value)
        if address and domain_signed(verdicts.get(t.message_id), address):
            series.name_verified.add(t.value)
