"""Whose word decides a series: the user, ``[outcome] maintainers``, the ``M:`` of a
MAINTAINERS section covering the patch's files, and robots that name one of those.

A decision from anyone else is shown as a claim ("Zed says applied") and decides nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from triage.model.policy import Policy, base_address
from triage.series.filepatterns import FilePatterns


class Deciders:
    """Answers "does this sender's word decide a patch touching these files?"."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.people = {base_address(a) for a in (*policy.me, *policy.maintainers)}
        self._by_person: dict[str, list[tuple[FilePatterns, FilePatterns, re.Pattern[str] | None]]] = {}
        for section in policy.sections:
            compiled = (FilePatterns(section.files), FilePatterns(section.excludes), _regex(section.regexes))
            for person in section.maintainers:
                self._by_person.setdefault(base_address(person), []).append(compiled)

    def trusted(self, email: str, files: Iterable[str]) -> bool:
        who = base_address(email)
        if who in self.people:
            return True
        sections = self._by_person.get(who)
        if not sections:
            return False
        paths = list(files)
        for covered, excluded, regex in sections:
            for p in paths:
                if (covered.matches(p) or (regex is not None and regex.search(p))) and not excluded.matches(p):
                    return True
        return False

    def is_bot(self, email: str) -> bool:
        return base_address(email) in self.policy.bots


def _regex(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    good = []
    for p in patterns:
        try:
            re.compile(p)
        except re.error:
            continue
        good.append(f"(?:{p})")
    return re.compile("|".join(good)) if good else None
