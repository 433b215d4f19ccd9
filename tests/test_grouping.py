"""Grouping and attribution cases (series-rules.md G- and T- lists) on real notmuch databases."""

from __future__ import annotations

from tests.mailgen import mail, mbox, patch_body

BOB = "Bob Reviewer <bob@example.net>"


def _by_version(series):
    return {s.version: s for s in series}


def test_v2_with_more_patches_threaded_into_v1_is_its_own_series(series_of) -> None:
    # G6: v1 has 2 patches; v2 has 3, and its 3/3 answers a v1 patch directly.
    msgs = [
        mail("v1-0@x", "[PATCH 0/2] feature", "cover\n"),
        mail("v1-1@x", "[PATCH 1/2] feature: a", patch_body(), minutes=1, parent="v1-0@x"),
        mail("v1-2@x", "[PATCH 2/2] feature: b", patch_body(), minutes=2, parent="v1-0@x"),
        mail("v2-0@x", "[PATCH v2 0/3] feature", "cover\n", minutes=60, parent="v1-0@x"),
        mail("v2-1@x", "[PATCH v2 1/3] feature: a", patch_body(), minutes=61, parent="v2-0@x"),
        mail("v2-2@x", "[PATCH v2 2/3] feature: b", patch_body(), minutes=62, parent="v2-0@x"),
        mail("v2-3@x", "[PATCH v2 3/3] feature: c", patch_body(), minutes=63, parent="v1-2@x"),
    ]
    s = _by_version(series_of(mbox(*msgs)))
    assert sorted(s) == [1, 2]
    assert [p.message_id for p in s[2].patches] == ["v2-1@x", "v2-2@x", "v2-3@x"] and s[2].complete
    assert [p.message_id for p in s[1].patches] == ["v1-1@x", "v1-2@x"]
    assert s[1].newer_versions == [s[2].id]


def test_same_series_posted_twice_does_not_merge(series_of) -> None:
    # G4: two unthreaded postings within minutes.
    msgs = [mail(f"p{n}-{i}@x", f"[PATCH {i}/2] thing {i}", patch_body(), minutes=n * 5 + i) for n in (0, 1) for i in (1, 2)]
    series = series_of(mbox(*msgs))
    assert sorted(len(s.patches) for s in series) == [2, 2]
    assert all(s.complete for s in series)


def test_unthreaded_patches_group_by_sender_and_window(series_of) -> None:
    msgs = [
        mail("u1@x", "[PATCH v3 1/3] a", patch_body(), minutes=0),
        mail("u3@x", "[PATCH v3 3/3] c", patch_body(), minutes=2),
        mail("u2@x", "[PATCH v3 2/3] b", patch_body(), minutes=1),
        mail("other@x", "[PATCH v3 1/3] a", patch_body(), minutes=3, sender="Eve <eve@example.org>"),
        mail("late@x", "[PATCH v3 2/3] b", patch_body(), minutes=600),
    ]
    series = series_of(mbox(*msgs))
    sizes = sorted((s.author_email, s.received) for s in series)
    assert sizes == [("alice@example.com", 1), ("alice@example.com", 3), ("eve@example.org", 1)]


def test_patch_reply_with_diff_and_mode_only_patch(series_of) -> None:
    # G14: a "Re:" with a diff is a follow-up; G15: a rename-only patch is a patch.
    rename = "rename it\n\nSigned-off-by: Alice Author <alice@example.com>\n---\n a => b | 0\n\ndiff --git a/a b/b\nsimilarity index 100%\nrename from a\nrename to b\n"
    msgs = [
        mail("r1@x", "[PATCH] mv a to b", rename),
        mail("r2@x", "Re: [PATCH] mv a to b", "how about\n\n" + patch_body(), minutes=5, parent="r1@x", sender=BOB),
    ]
    (s,) = series_of(mbox(*msgs))
    assert s.patches[0].message.facts.has_diff
    assert s.patches[0].followups == ["r2@x"]


def test_resent_cover_in_reply_is_a_comment(series_of) -> None:
    # G11.
    msgs = [
        mail("c0@x", "[PATCH 0/1] same", "cover\n"),
        mail("c1@x", "[PATCH 1/1] same: a", patch_body(), minutes=1, parent="c0@x"),
        mail("c0b@x", "[PATCH 0/1] same", "cover again\n", minutes=2, parent="c0@x"),
    ]
    (s,) = series_of(mbox(*msgs))
    assert s.cover.message_id == "c0@x" and "c0b@x" in s.cover_followups


def test_naked_cover_is_accepted_when_patches_answer_it(series_of) -> None:
    # G12.
    msgs = [
        mail("n0@x", "Improve the widget", "this series improves the widget\n"),
        mail("n1@x", "[PATCH 1/2] widget: a", patch_body(), minutes=1, parent="n0@x"),
        mail("n2@x", "[PATCH 2/2] widget: b", patch_body(), minutes=2, parent="n0@x"),
        mail("q0@x", "A question", "what about it?\n", minutes=3),
    ]
    (s,) = series_of(mbox(*msgs))
    assert s.cover.message_id == "n0@x" and s.total == 2 and s.complete


def test_trailer_attribution_follows_the_reply_chain(series_of) -> None:
    msgs = [
        mail("t0@x", "[PATCH 0/3] thing", "cover\n"),
        *[mail(f"t{i}@x", f"[PATCH {i}/3] thing {i}", patch_body(), minutes=i, parent="t0@x", refs=["t0@x"]) for i in (1, 2, 3)],
        # T1: on patch 2 only.
        mail("f1@x", "Re: [PATCH 2/3] thing 2", "> x\nReviewed-by: Bob Reviewer <bob@example.net>\n", minutes=10, parent="t2@x", sender=BOB),
        # T2: on the cover, so every patch; Carol also acks 3 directly and counts once there.
        mail("f2@x", "Re: [PATCH 0/3] thing", "Acked-by: Carol <carol@example.org>\n", minutes=11, parent="t0@x", sender="Carol <carol@example.org>"),
        mail("f3@x", "Re: [PATCH 3/3] thing 3", "Acked-by: Carol <carol@example.org>\n", minutes=12, parent="t3@x", sender="Carol <carol@example.org>"),
        # T3: a reply to Bob's reply counts for patch 2.
        mail("f4@x", "Re: [PATCH 2/3] thing 2", "Tested-by: Dan <dan@example.org>\n", minutes=13, parent="f1@x", sender="Dan <dan@example.org>"),
        # T7: References but no In-Reply-To: the nearest reference decides (patch 1, not the cover).
        mail("f5@x", "Re: [PATCH 1/3] thing 1", "Tested-by: Erin <erin@example.org>\n", minutes=14, refs=["t0@x", "t1@x"], sender="Erin <erin@example.org>"),
        # T20: no "Re:", patch subject, no diff, trailers: a follow-up, not a patch.
        mail("f6@x", "[PATCH 3/3] thing 3", "Reviewed-by: Fay <fay@example.org>\n", minutes=15, parent="t3@x", sender="Fay <fay@example.org>"),
    ]
    (s,) = series_of(mbox(*msgs))
    got = {p.index: [(t.name, t.value.split(" <")[0], t.source) for t in p.trailers if t.source != "patch"] for p in s.patches}
    assert got[1] == [("Tested-by", "Erin", "followup"), ("Acked-by", "Carol", "cover")]
    assert got[2] == [("Reviewed-by", "Bob Reviewer", "followup"), ("Tested-by", "Dan", "followup"), ("Acked-by", "Carol", "cover")]
    assert got[3] == [("Acked-by", "Carol", "followup"), ("Reviewed-by", "Fay", "followup")]
    assert s.received == 3
    assert s.counts() == {"reviewed_by": 2, "acked_by": 1, "tested_by": 2, "nacked_by": 0}


def test_reply_to_v2_cover_threaded_under_v1_patch_goes_to_v2(series_of) -> None:
    # T4: the In-Reply-To chain decides, not "any patch in References".
    msgs = [
        mail("a0@x", "[PATCH 0/2] s", "cover\n"),
        mail("a1@x", "[PATCH 1/2] s: a", patch_body(), minutes=1, parent="a0@x"),
        mail("a2@x", "[PATCH 2/2] s: b", patch_body(), minutes=2, parent="a0@x"),
        mail("b0@x", "[PATCH v2 0/2] s", "cover\n", minutes=30, parent="a2@x", refs=["a0@x", "a2@x"]),
        mail("b1@x", "[PATCH v2 1/2] s: a", patch_body(), minutes=31, parent="b0@x", refs=["a0@x", "a2@x", "b0@x"]),
        mail("b2@x", "[PATCH v2 2/2] s: b", patch_body(), minutes=32, parent="b0@x", refs=["a0@x", "a2@x", "b0@x"]),
        mail("r@x", "Re: [PATCH v2 0/2] s", "Acked-by: Bob Reviewer <bob@example.net>\n", minutes=40, parent="b0@x",
             refs=["a0@x", "a2@x", "b0@x"], sender=BOB),
    ]
    s = _by_version(series_of(mbox(*msgs)))
    assert all(any(t.name == "Acked-by" for t in p.trailers) for p in s[2].patches)
    assert not any(t.name == "Acked-by" for p in s[1].patches for t in p.trailers)


def test_nack_and_mismatched_sender_and_bot_ignore(make_store) -> None:
    from triage.series.service import load_series

    msgs = [
        mail("k1@x", "[PATCH] k", patch_body()),
        mail("k2@x", "Re: [PATCH] k", "Nacked-by: Bob Reviewer <bob@example.net>\n", minutes=1, parent="k1@x", sender=BOB),
        mail("k3@x", "Re: [PATCH] k", "Reviewed-by: Alice <alice@work.com>\n", minutes=2, parent="k1@x", sender="Alice <alice@personal.org>"),
        mail("k4@x", "Re: [PATCH] k", "Reported-by: kernel test robot <lkp@intel.com>\n", minutes=3, parent="k1@x", sender="robot <lkp@intel.com>"),
    ]
    store = make_store(mbox(*msgs))
    (s,) = load_series(store)
    by_name = {t.name: t for t in s.patches[0].trailers}
    assert by_name["Nacked-by"].negative and s.counts()["nacked_by"] == 1 and s.counts()["acked_by"] == 0
    # The same name from another address is the same person (issue 19, rule 5): counted, marked.
    assert by_name["Reviewed-by"].sender_match == "name" and s.counts()["reviewed_by"] == 1
    assert "Reported-by" in by_name
    from triage.config import Settings
    from triage.series.service import policy_for

    (s2,) = load_series(store, policy=policy_for(store, Settings(trailers_ignore_from=["lkp@intel.com"])))
    assert "Reported-by" not in {t.name for t in s2.patches[0].trailers}


def test_forwarded_patch_is_a_followup_whose_trailers_count(series_of) -> None:
    # T21: decided as b4 does.
    msgs = [
        mail("w1@x", "[PATCH] w", patch_body()),
        mail("w2@x", "Fwd: [PATCH] w", "Tested-by: Bob Reviewer <bob@example.net>\n", minutes=1, parent="w1@x", sender=BOB),
    ]
    (s,) = series_of(mbox(*msgs))
    assert [t.name for t in s.patches[0].trailers if t.source == "followup"] == ["Tested-by"]


def test_query_keeps_whole_series(series_of) -> None:
    msgs = [
        mail("q0@x", "[PATCH 0/2] q", "cover\n"),
        mail("q1@x", "[PATCH 1/2] q: a", patch_body(), minutes=1, parent="q0@x"),
        mail("q2@x", "[PATCH 2/2] q: b", patch_body(), minutes=2, parent="q0@x"),
        mail("z1@x", "[PATCH] unrelated", patch_body(), minutes=3, sender=BOB),
    ]
    (s,) = series_of(mbox(*msgs), query="id:q2@x")
    assert s.id == "q0@x" and s.received == 2


def test_partial_reroll_builds_the_new_version_from_the_old_one(series_of) -> None:
    # G8: v2 2/2 answers v1 2/2; v2 is v1's 1/2 plus the new 2/2.
    msgs = [
        mail("g0@x", "[PATCH 0/2] g", "cover\n"),
        mail("g1@x", "[PATCH 1/2] g: a", patch_body(), minutes=1, parent="g0@x"),
        mail("g2@x", "[PATCH 2/2] g: b", patch_body(), minutes=2, parent="g0@x"),
        mail("g2b@x", "[PATCH v2 2/2] g: b", patch_body(), minutes=60, parent="g2@x", refs=["g0@x", "g2@x"]),
    ]
    s = _by_version(series_of(mbox(*msgs)))
    assert [p.message_id for p in s[2].patches] == ["g1@x", "g2b@x"] and s[2].complete
    assert s[2].reroll_of == "g0@x" and s[1].newer_versions == [s[2].id]


def test_cross_posted_message_counts_once(series_of) -> None:
    # G10: the same Message-ID from two lists is one notmuch message with two files.
    a = mail("x1@x", "[PATCH] cross", patch_body(), to="one@lists.example.org")
    b = mail("x1@x", "[PATCH] cross", patch_body(), to="two@lists.example.org")
    (s,) = series_of(mbox(a, b))
    assert s.received == 1 and s.complete


def test_you_replied_is_detected_by_address_or_tag(make_store) -> None:
    # T23: the store's identity is maint@example.org (see conftest.create_store).
    from triage.series.service import load_series

    msgs = [
        mail("y1@x", "[PATCH] mine", patch_body()),
        mail("y2@x", "Re: [PATCH] mine", "looks fine\n", minutes=1, parent="y1@x", sender="Test Maintainer <maint@example.org>"),
        mail("z1@x", "[PATCH] theirs", patch_body(), minutes=5),
    ]
    store = make_store(mbox(*msgs))
    got = {s.id: s.replied for s in load_series(store)}
    assert got == {"y1@x": True, "z1@x": False}
    store.tag(["z1@x"], add=["replied"])
    assert {s.id: s.replied for s in load_series(store)}["z1@x"] is True


def test_natural_language_partial_ack_is_surfaced_not_counted(series_of) -> None:
    # T22: "For patches 1-3: Acked-by: A" has a scope no tool parses.
    msgs = [
        mail("m0@x", "[PATCH 0/2] m", "cover\n"),
        mail("m1@x", "[PATCH 1/2] m: a", patch_body(), minutes=1, parent="m0@x"),
        mail("m2@x", "[PATCH 2/2] m: b", patch_body(), minutes=2, parent="m0@x"),
        mail("mr@x", "Re: [PATCH 0/2] m", "> Reviewed-by: quoted <q@x.org>\nFor patches 1-2: Acked-by: Bob Reviewer <bob@example.net>\n",
             minutes=3, parent="m0@x", sender=BOB),
    ]
    (s,) = series_of(mbox(*msgs))
    assert s.counts()["acked_by"] == 0
    assert s.review_mentions == [("mr@x", "For patches 1-2: Acked-by: Bob Reviewer <bob@example.net>")]


def _t19_mails() -> list[bytes]:
    second = patch_body().replace("+c\n", "+second\n")
    changed = patch_body().replace("+c\n", "+changed\n")
    return [
        mail("a0@x", "[PATCH 0/2] carry", "cover\n"),
        mail("a1@x", "[PATCH 1/2] carry: same", patch_body(), minutes=1, parent="a0@x"),
        mail("a2@x", "[PATCH 2/2] carry: edited", second, minutes=2, parent="a0@x"),
        mail("ra1@x", "Re: [PATCH 1/2] carry: same", "Reviewed-by: Bob Reviewer <bob@example.net>\n", minutes=3, parent="a1@x", sender=BOB),
        mail("ra2@x", "Re: [PATCH 2/2] carry: edited", "Acked-by: Bob Reviewer <bob@example.net>\n", minutes=4, parent="a2@x", sender=BOB),
        mail("b0@x", "[PATCH v2 0/2] carry", "cover v2\n", minutes=100),
        mail("b1@x", "[PATCH v2 1/2] carry: same", patch_body(), minutes=101, parent="b0@x"),
        mail("b2@x", "[PATCH v2 2/2] carry: edited", changed, minutes=102, parent="b0@x"),
    ]


def test_reviews_carry_to_an_unchanged_patch_and_are_lost_on_change(series_of) -> None:
    # T19, as b4's trailer map: same patch-id carries; a changed patch shows "review lost".
    s = _by_version(series_of(mbox(*_t19_mails())))
    assert s[2].carried_trailers == [{"patch": 1, "name": "Reviewed-by", "value": "Bob Reviewer <bob@example.net>",
                                      "message_id": "ra1@x", "from_version": 1, "from_patch": 1}]
    assert s[2].review_lost == [{"patch": 2, "from_version": 1, "from_patch": 2,
                                 "trailers": ["Acked-by: Bob Reviewer <bob@example.net>"]}]
    # What the patch carries when applied is unchanged: its own trailers and its own follow-ups.
    assert not any(t.source == "followup" for p in s[2].patches for t in p.trailers)
