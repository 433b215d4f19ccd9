"""What the series model takes from the user's settings: whose mail is whose.

One value object handed to grouping, the index and the services, so that every path
that builds series (the list, an opened series, ``versions``, an export) decides on
the same evidence: the user's identities, the relays whose display names stand for a
person, the addresses whose trailers are ignored, the maintainers and bots whose word
decides a series.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

from triage.model.series import DEFAULT_TAG_PREFIX

# B4 Relay sends every relayed patch as devnull+<the sender's address>@kernel.org: its own
# address, with the sender as sub-address. Only relays listed here link postings by the
# sender's display name; no local part or domain is taken as a relay by its shape.
DEFAULT_RELAYS = ("devnull@kernel.org",)
# Robots whose reports are read: kernel test robot, syzbot, patchwork-bot (its
# "applied by <name>" counts when that person decides). Matched without the +sub-address.
DEFAULT_BOTS = ("lkp@intel.com", "syzbot@syzkaller.appspotmail.com", "patchwork-bot@kernel.org")


class Section(NamedTuple):
    """One MAINTAINERS section: F: and X: patterns, N: regexes, M: addresses."""

    files: tuple[str, ...]
    excludes: tuple[str, ...]
    regexes: tuple[str, ...]
    maintainers: tuple[str, ...]


def base_address(email: str) -> str:
    """``email`` lower-cased without its ``+sub-address`` (``devnull+a.b.c@kernel.org`` ->
    ``devnull@kernel.org``)."""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else email.strip().lower()


@dataclass(frozen=True)
class Policy:
    tag_prefix: str = DEFAULT_TAG_PREFIX
    me: frozenset[str] = frozenset()  # the user's addresses, lower case
    ignore_from: frozenset[str] = frozenset()  # trailers naming these are not collected (bots)
    relays: frozenset[str] = frozenset(DEFAULT_RELAYS)
    # Whose "Applied" decides a series (besides the user): addresses, lower case.
    maintainers: frozenset[str] = frozenset()
    bots: frozenset[str] = frozenset(DEFAULT_BOTS)  # robots whose reports are read (CI, patchwork-bot)
    sections: tuple[Section, ...] = field(default=())  # [outcome] maintainers_file
    dns: bool = True  # signatures may be checked against DNS ([trust] dns)
    lists: frozenset[str] = frozenset()  # list domains whose signatures vouch for rewritten senders

    def is_relay(self, email: str) -> bool:
        return bool(email) and base_address(email) in self.relays

    def is_me(self, email: str) -> bool:
        return bool(email) and email.lower() in self.me

    def key(self) -> str:
        """What the index must be rebuilt for when it changes (everything here can change a
        series as the list shows it)."""
        parts = [
            self.tag_prefix,
            ",".join(sorted(self.ignore_from)),
            ",".join(sorted(self.me)),
            ",".join(sorted(self.relays)),
            ",".join(sorted(self.maintainers)),
            ",".join(sorted(self.bots)),
            repr(self.sections),
            ",".join(sorted(self.lists)),
        ]
        return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]
