"""What was decided about a series or patch, and what robots found: plain records.

A :class:`Decision` is what a reply states ("Applied to pwm/for-next"), read by
:mod:`triage.series.outcomes`; whether it decides anything depends on who sent it
(:mod:`triage.series.deciders`). A :class:`CiResult` is a robot's report.
"""

from __future__ import annotations

from typing import NamedTuple


class Decision(NamedTuple):
    """A decision as a reply states it (a claim until its sender is trusted)."""

    kind: str  # "applied"
    where: str  # the tree or branch it names ("" when it names none)
    commits: tuple[str, ...] = ()
    patches: tuple[int, ...] = ()  # the patch numbers it names; () for what it answers
    whole: bool = False  # it says the whole series ("the series", "both patches", "all 4 patches")
    by: tuple[str, str] | None = None  # a bot's report names who applied it: (name, address)


class CiResult(NamedTuple):
    """A robot's report on a patch or series."""

    result: str  # "fail" | "warn" | "pass"
    summary: str  # the first error or warning line, or the report's headline
