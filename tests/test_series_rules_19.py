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
    # What it rests on is said (see test_trust for a DKIM signature that verifies it).
    assert any("same name as the trailer, other address (not verified)" in n for n in result.notes)
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


def _diff(tag: str) -> str:
    """A patch body whose diff (so its patch-id) is its own."""
    return patch_body().replace("+c\n", f"+{tag}\n")


def _posting(prefix: str, title: str, parts: list[str], minutes: int, *, cover: bool = True, sender: str | None = None,
             mid: str | None = None) -> list[bytes]:
    """One posting: "[<prefix> 0/N] title" and its patches (each diff named after its title)."""
    kw = {"sender": sender} if sender else {}
    root = mid or f"{prefix}-{title}".replace(" ", "_") + "@x"
    n = len(parts)
    out = [mail(root, f"[{prefix} 0/{n}] {title}", "cover\n", minutes=minutes, **kw)] if cover else []
    for i, part in enumerate(parts, 1):
        pid = root if not cover and i == 1 else f"{root}.{i}"
        out.append(mail(pid, f"[{prefix} {i}/{n}] {part}", _diff(part.replace(" ", "_")), minutes=minutes + i,
                        parent=None if not cover and i == 1 else (root if cover else root), **kw))
    return out


def test_a_stable_tree_number_is_not_a_respin(series_of) -> None:
    """Rule 2: "[PATCH v5.4 1/1]" then "[PATCH 5.4 v2 1/1]" and "[PATCH 5.4 v3 1/1]": v5.4
    named the 5.4 tree; the newest posting is current. A real v2.1 respin still reads as one."""
    got = {s.id: s for s in series_of(mbox(
        mail("a@x", "[PATCH v5.4 1/1] pwm: fix the period", _diff("a")),
        mail("b@x", "[PATCH 5.4 v2 1/1] pwm: fix the period", _diff("b"), minutes=100),
        mail("c@x", "[PATCH 5.4 v3 1/1] pwm: fix the period", _diff("c"), minutes=200),
        mail("m1@x", "[PATCH v2 1/1] gpio: fix", _diff("m1"), minutes=10),
        mail("m2@x", "[PATCH v2.1 1/1] gpio: fix", _diff("m2"), minutes=20),
        mail("m3@x", "[PATCH v3 1/1] gpio: fix", _diff("m3"), minutes=30),
    ))}
    assert got["a@x"].newer_versions == ["b@x", "c@x"] and got["c@x"].previous_versions == ["a@x", "b@x"]
    assert got["c@x"].newer_versions == [] and got["a@x"].state == "superseded"
    assert got["m1@x"].newer_versions == ["m2@x", "m3@x"] and got["m2@x"].newer_versions == ["m3@x"]


def test_current_is_the_newest_posting_when_numbering_restarts(series_of) -> None:
    """Rule 3: "[RFC v2 0/2]" then "[PATCH 0/2]": the PATCH series is current; a RESEND of
    v1 after v2 supersedes nothing."""
    got = {s.id: s for s in series_of(mbox(
        *_posting("RFC PATCH", "pwm: new driver", ["pwm: add", "dt: add"], 0, mid="r1@x"),
        *_posting("RFC PATCH v2", "pwm: new driver", ["pwm: add", "dt: add"], 100, mid="r2@x"),
        *_posting("PATCH", "pwm: new driver", ["pwm: add", "dt: add"], 200, mid="p1@x"),
        *_posting("PATCH RESEND", "pwm: new driver", ["pwm: add", "dt: add"], 300, mid="p1r@x"),
        *_posting("PATCH", "gpio: thing", ["gpio: a"], 0, mid="g1@x"),
        *_posting("PATCH v2", "gpio: thing", ["gpio: a"], 100, mid="g2@x"),
        *_posting("PATCH RESEND", "gpio: thing", ["gpio: a"], 200, mid="g1r@x"),
    ))}
    assert got["r2@x"].newer_versions == ["p1@x", "p1r@x"]
    assert got["p1r@x"].newer_versions == [] and got["p1r@x"].previous_versions == ["r1@x", "r2@x", "p1@x"]
    assert got["g2@x"].newer_versions == [] and got["g1r@x"].newer_versions == ["g2@x"]


def test_a_renamed_cover_and_a_split_series_link_by_their_patches(series_of) -> None:
    """Rule 4: a cover reworded between versions, a v1 without a cover, a naked cover's
    trailing "v2", and a split: each newer part links the older series, which reads
    superseded once every part has a newer version."""
    parts = [f"iommu: step {i}" for i in range(1, 7)]
    got = {s.id: s for s in series_of(mbox(
        *_posting("PATCH", "Make iommu_dma_protection more accurate", parts[:4], 0, mid="old@x"),
        *_posting("PATCH v2", "iommu, thunderbolt: Make iommu_dma_protection more accurate", parts[:4], 100, mid="new@x"),
        *_posting("PATCH", "x", ["swiotlb: a", "swiotlb: b"], 1000, cover=False, mid="nc1@x"),
        *_posting("PATCH v2", "swiotlb: two fixes", ["swiotlb: a", "swiotlb: b"], 1100, mid="nc2@x"),
        *_posting("PATCH", "cleanup swiotlb initialization", ["dma: a", "dma: b"], 2000, mid="t1@x"),
        *_posting("PATCH", "cleanup swiotlb initialization v2", ["dma: a", "dma: b"], 2100, mid="t2@x"),
        *_posting("PATCH v8", "SMMUv3 Nested Stage Setup", parts, 3000, mid="v8@x"),
        *_posting("PATCH v9", "SMMUv3 Nested Stage Setup (IOMMU part)", parts[:3], 3100, mid="v9a@x"),
    ))}
    assert got["new@x"].previous_versions == ["old@x"] and got["old@x"].state == "superseded"
    assert got["nc2@x"].previous_versions == ["nc1@x"] and got["nc1@x"].newer_versions == ["nc2@x"]
    assert got["t2@x"].version == 2 and got["t2@x"].title == "cleanup swiotlb initialization"
    assert got["t2@x"].previous_versions == ["t1@x"]
    # One part of a split: linked both ways, and v8 stays current (its other half is not resent yet).
    # (v8 reuses the patches of "new@x" above, so its lineage reaches back through them.)
    assert got["v9a@x"].previous_versions == [*got["v8@x"].previous_versions, "v8@x"]
    assert got["v8@x"].newer_versions == ["v9a@x"]
    assert got["v8@x"].current and got["v8@x"].state == "new" and got["v8@x"].split_open
    both = {s.id: s for s in series_of(mbox(
        *_posting("PATCH v8", "SMMUv3 Nested Stage Setup", parts, 0, mid="v8@x"),
        *_posting("PATCH v9", "SMMUv3 Nested Stage Setup (IOMMU part)", parts[:3], 100, mid="v9a@x"),
        *_posting("PATCH v9", "SMMUv3 Nested Stage Setup (VFIO part)", parts[3:], 101, mid="v9b@x"),
    ))}
    assert both["v9a@x"].previous_versions == both["v9b@x"].previous_versions == ["v8@x"]
    assert both["v8@x"].state == "superseded" and set(both["v8@x"].newer_versions) == {"v9a@x", "v9b@x"}
    assert both["v9a@x"].newer_versions == [] and both["v9b@x"].newer_versions == []


def test_series_with_no_patch_in_common_stay_apart(series_of) -> None:
    """Rule 4's negative cases: a similar title and no patch in common, or another author."""
    got = {s.id: s for s in series_of(mbox(
        *_posting("PATCH", "pwm: cleanups", ["pwm: a", "pwm: b"], 0, mid="a@x"),
        *_posting("PATCH v2", "pwm: more cleanups", ["pwm: c", "pwm: d"], 100, mid="b@x"),
        *_posting("PATCH v2", "pwm: stolen", ["pwm: a", "pwm: b"], 200, mid="c@x", sender="Eve <eve@evil.example>"),
    ))}
    assert all(not s.previous_versions and not s.newer_versions for s in got.values())


def test_list_munged_senders_are_not_taken_on_their_word(series_of) -> None:
    """Rule 6, made strict by issue 23: "Name via list" at the list's address, with
    X-Original-From or Reply-To, is the list's address until the list's own signature
    vouches for the original sender (tests/test_trust.py signs them): unsigned, nothing is
    replaced and the trailer is not counted."""
    def munged(mid: str, subject: str, body: str, original: str, header: str, minutes: int, parent: str | None = None,
               list_post: str = "<mailto:iommu@lists.example.org>") -> bytes:
        m = mail(mid, subject, body, minutes=minutes, parent=parent, sender='"Sumit Gupta via iommu" <iommu@lists.example.org>')
        return m.replace(b"\nSubject:", f"\n{header}: {original}\nList-Post: {list_post}\nSubject:".encode(), 1)

    got = {s.id: s for s in series_of(mbox(
        munged("p@x", "[PATCH] iommu: fix", _diff("p"), "Sumit Gupta <sumitg@nvidia.example>", "X-Original-From", 0),
        munged("r@x", "Re: [PATCH] iommu: fix", "Reviewed-by: Rita Reviewer <rita@example.org>\n",
               "Rita Reviewer <rita@example.org>", "Reply-To", 5, parent="p@x"),
    ))}
    p = got["p@x"]
    assert p.author_email == "iommu@lists.example.org"
    rb = next(t for t in p.patches[0].trailers if t.name == "Reviewed-by")
    assert rb.sender_match is False and p.counts()["reviewed_by"] == 0


def test_a_review_of_a_replaced_respin_answers_that_patch_only(series_of) -> None:
    """Rule 7: a Reviewed-by of "[PATCH v4.5 2/3]", which "[PATCH v4.6 2/3]" replaced, is
    neither spread over the series nor counted for the changed patch."""
    msgs = [mail("c@x", "[PATCH v4 0/3] widget: x", "cover\n")]
    msgs += [mail(f"p{i}@x", f"[PATCH v4 {i}/3] widget: part {i}", _diff(f"p{i}"), minutes=i, parent="c@x") for i in (1, 2, 3)]
    msgs += [
        mail("r5@x", "[PATCH v4.5 2/3] widget: part 2", _diff("p2b"), minutes=60, parent="p2@x"),
        mail("rv@x", "Re: [PATCH v4.5 2/3] widget: part 2", RB, minutes=70, parent="r5@x",
             sender="Rita Reviewer <rita@example.org>"),
        mail("r6@x", "[PATCH v4.6 2/3] widget: part 2", _diff("p2c"), minutes=80, parent="r5@x"),
    ]
    (s,) = series_of(mbox(*msgs))
    assert [p.message_id for p in s.patches] == ["p1@x", "r6@x", "p3@x"]
    assert s.counts()["reviewed_by"] == 0 and s.cover_followups == []
    assert s.patches[1].followups == ["rv@x"]
    # The same respin sent again unchanged (same diff): the review still holds for it.
    msgs[-1] = mail("r6@x", "[PATCH v4.6 2/3] widget: part 2", _diff("p2b"), minutes=80, parent="r5@x")
    (s,) = series_of(mbox(*msgs))
    assert [[t.name for t in p.trailers if t.name == "Reviewed-by"] for p in s.patches] == [[], ["Reviewed-by"], []]


async def test_the_patch_list_marks_a_trailer_counted_by_name(make_store) -> None:
    from tests.uihelpers import wait_for
    from triage.config import Settings
    from triage.ui.app import make_app
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import PatchList

    store = make_store(mbox(
        mail("p@x", "[PATCH] iommu: fix", patch_body()),
        mail("a@x", "Re: [PATCH] iommu: fix", "Acked-by: Joerg Roedel <jroedel@suse.de>\n", minutes=1, parent="p@x",
             sender="Joerg Roedel <joro@8bytes.org>"),
    ))
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.opened is not None, "opened")
        label = str(app.query_one(PatchList).get_option_at_index(0).prompt)
        assert "A" in label and "≈" in label and "≈✓" not in label  # counted, by name, not verified
