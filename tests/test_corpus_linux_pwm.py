"""Whole real threads from linux-pwm: versions link across threads, trailers, pull requests."""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS, needs_corpus

PWM = CORPUS / "threads" / "linux-pwm"


def _family(series) -> list[int]:
    newest = max(series, key=lambda s: (s.version, s.date))
    chain = sorted((s for s in series if s.id in newest.previous_versions), key=lambda s: s.version) + [newest]
    return [s.version for s in chain]


@needs_corpus
@pytest.mark.parametrize(
    ("thread", "versions", "sizes"),
    [
        ("improve-pwm-ir-tx-precision", list(range(3, 11)), {3: 3, 4: 4, 7: 4, 8: 6, 10: 6}),
        ("mc33xs2410-high-side-switch", list(range(1, 10)), {1: 3, 2: 3, 3: 2, 9: 2}),
        ("renesas-tpu-suspend-resume-nocover", list(range(1, 6)), {1: 1, 5: 1}),
    ],
)
def test_versions_link_as_one_series(series_of, thread: str, versions: list[int], sizes: dict[int, int]) -> None:
    series = series_of(PWM / thread)
    assert sorted(s.version for s in series) == versions
    assert _family(series) == versions
    newest = max(series, key=lambda s: s.version)
    assert newest.current and newest.state == "new" and not newest.newer_versions
    for s in series:
        assert s.complete, (s.version, s.received, s.total)
        if s is not newest:
            assert s.state == "superseded" and newest.id in s.newer_versions
        if s.version in sizes:
            assert s.received == sizes[s.version]


@needs_corpus
def test_single_patch_v10_to_v24_with_resend(series_of) -> None:
    series = series_of(PWM / "airoha-en7581-nocover-resend")
    versions = sorted(s.version for s in series)
    assert versions == [10, 11, 11, 12, 13, 14, 17, 18, 19, 20, 21, 22, 23, 24]
    v11 = sorted((s for s in series if s.version == 11), key=lambda s: s.date)
    assert [s.resend for s in v11] == [False, True]
    newest = max(series, key=lambda s: (s.version, s.date))
    assert newest.version == 24 and len(newest.previous_versions) >= 12


@needs_corpus
def test_cover_acks_reach_every_patch_and_are_counted(series_of) -> None:
    series = series_of(PWM / "misc" / "rfc-dt-bindings-cleanup-titles.mbox")
    (s,) = [x for x in series if x.total == 9]
    assert s.rfc and s.received == 9
    counts = s.counts()
    assert counts["reviewed_by"] + counts["acked_by"] + counts["tested_by"] >= 1
    for p in s.patches:
        for t in p.trailers:
            assert t.source in ("patch", "followup", "cover")
            assert "@" in t.value or t.name in ("Link", "Fixes", "Closes")


@needs_corpus
def test_git_pull_thread_is_not_a_series(series_of) -> None:
    assert series_of(PWM / "misc" / "git-pull-pwm-v5.5-rc1.mbox") == []
