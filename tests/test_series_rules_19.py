"""Series model rules from real lists (issue 19), each on mail built here."""

from __future__ import annotations

from tests.mailgen import mail, mbox, patch_body

RB = "Reviewed-by: Rita Reviewer <rita@example.org>\n"
TB = "Tested-by: Tess Tester <tess@example.org>\n"


def _v2_of_a_changed_patch(series_of, *, tested_again: bool):
    """v1 with a Tested-by on its cover, v2 whose patch changed (with or without the same
    Tested-by on its cover); returns v2."""
    tess = "Tess Tester <tess@example.org>"
    msgs = [
        mail("v1c@x", "[PATCH 0/1] widget: x", "cover\n"),
        mail("v1p@x", "[PATCH 1/1] widget: a", patch_body().replace("+c\n", "+c1\n"), minutes=1, parent="v1c@x"),
        mail("v1t@x", "Re: [PATCH 0/1] widget: x", TB, minutes=2, parent="v1c@x", sender=tess),
        mail("v2c@x", "[PATCH v2 0/1] widget: x", "cover\n", minutes=300),
        mail("v2p@x", "[PATCH v2 1/1] widget: a", patch_body().replace("+c\n", "+c2\n"), minutes=301, parent="v2c@x"),
    ]
    if tested_again:
        msgs.append(mail("v2t@x", "Re: [PATCH v2 0/1] widget: x", TB, minutes=302, parent="v2c@x", sender=tess))
    return next(s for s in series_of(mbox(*msgs)) if s.id == "v2c@x")


def test_a_review_carried_again_is_not_lost(series_of) -> None:
    """Rule 8: the changed patch's v1 Tested-by (on the cover) is given on v2's cover too."""
    v2 = _v2_of_a_changed_patch(series_of, tested_again=True)
    assert v2.previous_versions == ["v1c@x"]
    assert v2.review_lost == []
    # Without the repeat, it is lost.
    v2 = _v2_of_a_changed_patch(series_of, tested_again=False)
    assert [lost["trailers"] for lost in v2.review_lost] == [["Tested-by: Tess Tester <tess@example.org>"]]


def test_the_same_name_at_another_address_counts_marked_and_is_exported(make_store) -> None:
    """Rule 5: Acked-by naming a work address, sent from a personal one with the same name."""
    from triage.config import Settings
    from triage.series.service import load_series
    from triage.take.service import export

    store = make_store(mbox(
        mail("p@x", "[PATCH] iommu: fix", patch_body()),
        mail("a@x", "Re: [PATCH] iommu: fix", "Acked-by: Joerg Roedel <jroedel@suse.de>\n", minutes=1, parent="p@x",
             sender="Joerg Roedel <joro@8bytes.org>"),
        mail("f@x", "Re: [PATCH] iommu: fix", "Reviewed-by: Rita Reviewer <rita@example.org>\n", minutes=2, parent="p@x",
             sender='"Rita Reviewer" <eve@evil.example>'.replace("Rita Reviewer", "rita@example.org")),
    ))
    (s,) = load_series(store)
    by_name = {t.name: t for t in s.patches[0].trailers}
    assert by_name["Acked-by"].sender_match == "name" and s.counts()["acked_by"] == 1
    assert by_name["Acked-by"].to_json()["sender_match"] == "name"
    assert by_name["Reviewed-by"].sender_match is False  # a display name that is an address never matches
    result = export(store, Settings(), "p@x")
    assert "Acked-by: Joerg Roedel <jroedel@suse.de>" in result.patches[0].added
    assert any("another address of that name" in n for n in result.notes)
    assert not any(a.startswith("Reviewed-by") for a in result.patches[0].added)


def test_bot_reports_are_not_series(series_of) -> None:
    """Rule 9: a kernel test robot report with a [tree:branch n/N] prefix is not an
    incomplete series; answering a patch, it is one of its follow-ups."""
    robot = "kernel test robot <lkp@intel.com>"
    got = series_of(mbox(
        mail("p@x", "[PATCH] pwm: x: fix", patch_body()),
        mail("bot1@x", "[linux-next:master 3/5] drivers/pwm/pwm-x.c:12: warning: unused variable", "report\n",
             minutes=5, sender=robot),
        mail("bot2@x", "[jic23-iio:testing 12/13] drivers/iio/adc/x.c: error", "report\n", minutes=6, sender=robot),
        mail("bot3@x", "Re: [PATCH] pwm: x: fix", "kernel test robot noticed the following build errors\n", minutes=7,
             parent="p@x", sender=robot),
    ))
    assert [s.id for s in got] == ["p@x"]
    assert got[0].patches[0].followups == ["bot3@x"]


def test_backports_for_different_stable_trees_are_not_versions(series_of) -> None:
    """Rule 1: one fix posted for 5.17 and for 4.9 (and to mainline) is three parallel
    postings, none superseded; a real v2 of the 5.17 posting still links."""
    sasha = "Sasha Levin <sashal@kernel.org>"
    got = series_of(mbox(
        mail("m@x", "[PATCH] iommu/vt-d: fix a leak", patch_body(), sender=sasha),
        mail("s517@x", "[PATCH AUTOSEL 5.17 057/149] iommu/vt-d: fix a leak", patch_body(), minutes=60, sender=sasha),
        mail("s49@x", "[PATCH AUTOSEL 4.9 06/16] iommu/vt-d: fix a leak", patch_body(), minutes=61, sender=sasha),
        mail("s517v2@x", "[PATCH AUTOSEL 5.17 v2 057/149] iommu/vt-d: fix a leak", patch_body(), minutes=90, sender=sasha),
    ))
    by_id = {s.id: s for s in got}
    assert by_id["m@x"].newer_versions == [] and by_id["m@x"].state == "new"
    assert by_id["s49@x"].newer_versions == [] and by_id["s49@x"].previous_versions == []
    assert by_id["s517@x"].newer_versions == ["s517v2@x"]
