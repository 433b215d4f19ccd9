"""Series model rules of issue 28, each on mail built here: links that agree both ways, a
split under the same cover title, links the authors wrote, stable trees, late postings,
nameless and broken trailers, dates in the future."""

from __future__ import annotations

import json

from tests.mailgen import mail, mbox, patch_body

ALICE = "Alice Author <alice@example.com>"
BOB = "Bob Other <bob@example.net>"


def _diff(tag: str) -> str:
    return patch_body().replace("+c\n", f"+{tag.replace(' ', '_')}\n")


def _posting(prefix: str, title: str, parts: list[str], minutes: int, *, mid: str, sender: str = ALICE,
             cover_body: str = "cover\n", diff: str = "") -> list[bytes]:
    """"[<prefix> 0/N] title" and its patches; each diff is its title plus ``diff`` (so a
    changed ``diff`` gives every patch a new patch-id)."""
    n = len(parts)
    out = [mail(mid, f"[{prefix} 0/{n}] {title}", cover_body, minutes=minutes, sender=sender)]
    for i, part in enumerate(parts, 1):
        out.append(mail(f"{mid}.{i}", f"[{prefix} {i}/{n}] {part}", _diff(part + diff), minutes=minutes + i,
                        parent=mid, sender=sender))
    return out


def _single(prefix: str, title: str, minutes: int, *, mid: str, sender: str = ALICE, diff: str = "",
            notes: str = "") -> bytes:
    body = _diff(title + diff)
    if notes:
        body = body.replace("---\n", f"---\n{notes}", 1)
    return mail(mid, f"[{prefix}] {title}", body, minutes=minutes, sender=sender)


def _one_way(series) -> list[tuple[str, str]]:
    """Links that do not agree both ways (the symmetry every corpus list is checked for too)."""
    by = {s.id: s for s in series}
    bad = [(p, s.id) for s in series for p in s.previous_versions if s.id not in by[p].newer_versions]
    bad += [(s.id, n) for s in series for n in s.newer_versions if s.id not in by[n].previous_versions]
    return bad


IOMMU = [f"iommu/smmuv3: step {i}" for i in range(1, 6)]
VFIO_OLD = ["vfio-pci: Add a new VFIO_REGION_TYPE_NESTED region type", "vfio_pci: Allow to mmap the fault queue",
            "vfio: Add a new ioctl to set the nested stage"]
VFIO_NEW = ["vfio/pci: Add VFIO_REGION_TYPE_NESTED region type", "vfio/pci: Allow to mmap the fault queue",
            "vfio: Add an ioctl to set the nested stage"]


def _seed_family(*, vfio: bool = True, iommu_parts: int = 5) -> list[bytes]:
    """The seed's family in small: v7 and v8 of one series, split at v9 into an IOMMU part
    and a VFIO part whose patches were renamed, each part re-rolled once. Every posting
    changes every diff."""
    msgs = [
        *_posting("PATCH v7", "SMMUv3 Nested Stage Setup", IOMMU + VFIO_OLD, 0, mid="v7@x", diff="7"),
        *_posting("PATCH v8", "SMMUv3 Nested Stage Setup", IOMMU + VFIO_OLD, 1000, mid="v8@x", diff="8"),
        *_posting("PATCH v9", "SMMUv3 Nested Stage Setup (IOMMU part)", IOMMU[:iommu_parts], 2000, mid="v9a@x", diff="9"),
        *_posting("PATCH v10", "SMMUv3 Nested Stage Setup (IOMMU part)", IOMMU[:iommu_parts], 3000, mid="v10a@x",
                  diff="10"),
    ]
    if vfio:
        msgs += [
            *_posting("PATCH v9", "SMMUv3 Nested Stage Setup (VFIO part)", VFIO_NEW, 2010, mid="v9b@x", diff="9"),
            *_posting("PATCH v10", "SMMUv3 Nested Stage Setup (VFIO part)", VFIO_NEW, 3010, mid="v10b@x", diff="10"),
        ]
    return msgs


def test_the_seed_family_reads_right_across_its_split(series_of) -> None:
    """Both parts link to v8 (the VFIO part by its cover title, though its patches were
    renamed), v8 lists them as newer and reads superseded, and every link agrees both ways.
    The IOMMU part dropped one patch: without alike titles the parts hold 4 of 8 (below
    the 3/4 rule); with them 7 of 8."""
    series = series_of(mbox(*_seed_family(iommu_parts=4)))
    got = {s.id: s for s in series}
    assert got["v9b@x"].previous_versions == ["v7@x", "v8@x"]
    assert got["v9a@x"].previous_versions == ["v7@x", "v8@x"]
    assert got["v8@x"].newer_versions == ["v9a@x", "v9b@x", "v10a@x", "v10b@x"]  # oldest first
    assert got["v8@x"].state == "superseded" and not got["v8@x"].current
    assert got["v10a@x"].current and got["v10b@x"].current and got["v10a@x"].previous_versions[-1] == "v9a@x"
    assert any(rule == "same author, split in parts" for _, rule, _ in got["v8@x"].link_rules)
    assert _one_way(series) == []


def test_one_part_alone_leaves_the_older_series_current_but_linked(series_of) -> None:
    series = series_of(mbox(*_seed_family(vfio=False)))
    got = {s.id: s for s in series}
    assert got["v8@x"].newer_versions == ["v9a@x", "v10a@x"]
    assert got["v8@x"].current and got["v8@x"].split_open and got["v8@x"].state == "new"
    assert _one_way(series) == []


def test_the_index_agrees_with_a_build_from_notmuch(make_store) -> None:
    """The same links, order and states from the index as from --no-cache (split, open
    split, stated links)."""
    from triage.cache.index import SeriesIndex
    from triage.series.service import load_series

    store = make_store(mbox(*_seed_family(vfio=False), *_stated_family()))
    index = SeriesIndex(store)
    index.refresh()
    cold = [s.to_json() for s in load_series(store)]
    assert json.loads(index.series_json()) == cold
    row = index.full_row("v8@x")
    assert row is not None and row["current"] is True and row["newer_versions"] == ["v9a@x", "v10a@x"]


def test_part_suffixes_of_unrelated_series_link_nothing(series_of) -> None:
    """Two series that both say "part 2", parts of a series never posted whole, and a part
    named after another author's series: no links."""
    series = series_of(mbox(
        *_posting("PATCH", "pwm: rework (part 2)", ["pwm: a", "pwm: b"], 0, mid="a@x"),
        *_posting("PATCH", "gpio: cleanup - part 2", ["gpio: a", "gpio: b"], 100, mid="b@x"),
        *_posting("PATCH", "pwm: cleanups part 1", ["pwm: c", "pwm: d"], 200, mid="c@x"),
        *_posting("PATCH", "pwm: cleanups part 2", ["pwm: e", "pwm: f"], 300, mid="d@x"),
        *_posting("PATCH", "iio: convert", ["iio: a", "iio: b"], 400, mid="e@x", sender=BOB),
        *_posting("PATCH v2", "iio: convert (part 1)", ["iio: x", "iio: y"], 500, mid="f@x"),
    ))
    assert all(not s.previous_versions and not s.newer_versions for s in series)


def _stated_family() -> list[bytes]:
    """v1 and a v2 under a new title, new patch titles and new diffs: only the v2 cover's
    "Link to v1" ties them."""
    return [
        *_posting("PATCH", "pwm: foo: add driver", ["pwm: foo: add driver", "dt-bindings: pwm: foo"], 5000, mid="s1@x"),
        *_posting("PATCH v2", "Add support for the Foo platform", ["pwm: add Foo PWM", "dt-bindings: pwm: document Foo"],
                  6000, mid="s2@x", cover_body="Changes in v2:\n- everything\n\n"
                  "- Link to v1: https://lore.kernel.org/r/s1@x\n"),
    ]


def test_a_link_the_author_wrote_links_versions(series_of) -> None:
    got = {s.id: s for s in series_of(mbox(*_stated_family()))}
    assert got["s2@x"].previous_versions == ["s1@x"] and got["s1@x"].newer_versions == ["s2@x"]
    assert got["s1@x"].state == "superseded"
    assert ("s1@x", "named by the author as an earlier version", "s1@x") in got["s2@x"].link_rules


def test_a_single_patch_names_its_earlier_version_below_the_fold(series_of) -> None:
    got = {s.id: s for s in series_of(mbox(
        _single("PATCH", "pwm: foo: fix the period", 0, mid="p1@x"),
        _single("PATCH v2", "pwm: foo: round the period down", 100, mid="p2@x", diff="2",
                notes="v1: https://lore.kernel.org/all/p1@x/\n\n"),
    ))}
    assert got["p2@x"].previous_versions == ["p1@x"]


def test_links_that_are_not_the_authors_word_about_an_earlier_version_link_nothing(series_of) -> None:
    """Another author's series named as v1; a dependency ("depends on", "[1]", "follow-up
    to"); a message-id of a thread that is no posting; another stable tree."""
    series = series_of(mbox(
        *_posting("PATCH", "iio: bar: add driver", ["iio: bar: a", "iio: bar: b"], 0, mid="bob1@x", sender=BOB),
        *_posting("PATCH", "pwm: base work", ["pwm: base a", "pwm: base b"], 10, mid="dep@x"),
        mail("chat@x", "Re: [PATCH 0/2] pwm: base work", "a remark\n", minutes=20, parent="dep@x",
             sender="Carol <carol@example.org>"),
        *_posting("PATCH v2", "iio: baz: new driver", ["iio: baz: a", "iio: baz: b"], 100, mid="n1@x",
                  cover_body="- Link to v1: https://lore.kernel.org/r/bob1@x\n"),
        *_posting("PATCH v2", "pwm: sun: tidy", ["pwm: sun: drop a", "pwm: sun: drop b"], 200, mid="n2@x",
                  cover_body="This depends on v2 of https://lore.kernel.org/r/dep@x\n"
                             "[1] https://lore.kernel.org/r/dep@x\n"
                             "This is a follow-up to v1: https://lore.kernel.org/r/dep@x\n"),
        *_posting("PATCH v3", "pwm: moon: rework", ["pwm: moon: a", "pwm: moon: b"], 300, mid="n3@x",
                  cover_body="v2: https://lore.kernel.org/r/chat@x\n"),
        *_posting("PATCH 6.1.y", "hwmon: fix it", ["hwmon: fix a"], 400, mid="t61@x",
                  cover_body="v1: https://lore.kernel.org/r/t66@x\n"),
        *_posting("PATCH 6.6.y", "hwmon: fix it", ["hwmon: fix a"], 300, mid="t66@x"),
    ))
    assert [s.id for s in series if s.previous_versions or s.newer_versions] == []
    # Another author's series named as an earlier version is a claim, shown on both (a
    # series taken over, or a stranger): triage.accept_claim links it.
    got = {s.id: s for s in series}
    assert [(c["id"], c["claims"]) for c in got["n1@x"].claims] == [("bob1@x", "supersedes")]
    assert [(c["id"], c["claims"]) for c in got["bob1@x"].claims] == [("n1@x", "superseded-by")]


def test_stable_trees_written_other_ways_stay_apart(series_of) -> None:
    series = series_of(mbox(
        *_posting("PATCH 00/02 v6.6.y", "hwmon: backports", ["hwmon: a", "hwmon: b"], 0, mid="s66@x"),
        *_posting("PATCH 00/02 v6.1.y", "hwmon: backports", ["hwmon: a", "hwmon: b"], 100, mid="s61@x"),
        *_posting("PATCH for-stable-4.19", "kvm: arm64: fix", ["kvm: a"], 200, mid="k419@x"),
        *_posting("PATCH for-stable-5.4", "kvm: arm64: fix", ["kvm: a"], 300, mid="k54@x"),
    ))
    assert all(s.current and not s.previous_versions and not s.newer_versions for s in series)


def _applied(mid: str, parent: str, minutes: int) -> bytes:
    return mail(mid, "Re: [PATCH v11 0/2] pwm: foo: add driver", "Applied, thanks!\n", minutes=minutes, parent=parent,
                sender="Mae Maintainer <mae@example.org>")


def test_a_late_v1_after_an_applied_head_is_its_own_family(series_of) -> None:
    got = {s.id: s for s in series_of(mbox(
        *_posting("PATCH v10", "pwm: foo: add driver", ["pwm: foo: a", "pwm: foo: b"], 0, mid="v10@x"),
        *_posting("PATCH v11", "pwm: foo: add driver", ["pwm: foo: a", "pwm: foo: b"], 100, mid="v11@x", diff="11"),
        _applied("ok@x", "v11@x", 200),
        *_posting("PATCH", "pwm: foo: add driver", ["pwm: foo: a", "pwm: foo: b"], 90000, mid="late@x", diff="late"),
    ))}
    assert got["v11@x"].previous_versions == ["v10@x"] and got["v11@x"].newer_versions == []
    assert got["late@x"].previous_versions == [] and got["late@x"].current


def test_a_late_lower_numbered_posting_comes_after_the_head(series_of) -> None:
    """Not applied: the late "[PATCH 0/2]" is the newest posting, never the oldest; a
    RESEND of a number already sent keeps its place."""
    series = series_of(mbox(
        *_posting("PATCH v5", "pwm: bar: add driver", ["pwm: bar: a", "pwm: bar: b"], 0, mid="v5@x"),
        *_posting("PATCH v6", "pwm: bar: add driver", ["pwm: bar: a", "pwm: bar: b"], 100, mid="v6@x", diff="6"),
        *_posting("PATCH RESEND v5", "pwm: bar: add driver", ["pwm: bar: a", "pwm: bar: b"], 150, mid="r5@x"),
        *_posting("PATCH", "pwm: bar: add driver", ["pwm: bar: a", "pwm: bar: b"], 90000, mid="late@x", diff="late"),
    ))
    got = {s.id: s for s in series}
    assert got["late@x"].previous_versions == ["v5@x", "r5@x", "v6@x"]
    assert got["v6@x"].state == "superseded" and got["late@x"].current
    assert _one_way(series) == []


def test_a_nameless_tester_is_kept_and_counted_once(series_of) -> None:
    body = patch_body(trailers="Tested-by: <to.eivind@example.com>\nSigned-off-by: Alice Author <alice@example.com>\n")
    (s,) = series_of(mbox(
        mail("p@x", "[PATCH] hwmon: fix", body),
        mail("t@x", "Re: [PATCH] hwmon: fix", "Tested-by: Eivind <to.eivind@example.com>\n", minutes=5, parent="p@x",
             sender="Eivind <to.eivind@example.com>"),
    ))
    tested = [t for t in s.patches[0].trailers if t.name == "Tested-by"]
    assert [t.value for t in tested] == ["Eivind <to.eivind@example.com>"]
    assert s.counts()["tested_by"] == 1
    (alone,) = series_of(mbox(mail("q@x", "[PATCH] hwmon: fix", body)))
    assert [t.value for t in alone.patches[0].trailers if t.name == "Tested-by"] == ["<to.eivind@example.com>"]
    assert alone.counts()["tested_by"] == 1


def test_an_address_that_lost_its_bracket_is_repaired_only_for_its_sender(series_of) -> None:
    (s,) = series_of(mbox(
        mail("p@x", "[PATCH] arm64: fix", patch_body()),
        mail("w@x", "Re: [PATCH] arm64: fix", "Acked-by: Will Deacon <will@kernel.org.\n", minutes=5, parent="p@x",
             sender="Will Deacon <will@kernel.org>"),
        mail("e@x", "Re: [PATCH] arm64: fix", "Acked-by: Derek Clark <derekjohn.clark@example.com\n", minutes=6,
             parent="p@x", sender="Eve <eve@evil.example>"),
    ))
    acks = {t.message_id: t for t in s.patches[0].trailers if t.name == "Acked-by"}
    assert acks["w@x"].value == "Will Deacon <will@kernel.org>" and acks["w@x"].sender_match is True
    assert acks["e@x"].sender_match is False  # flagged, not counted
    assert s.counts()["acked_by"] == 1


def test_a_date_in_the_future_is_clamped_to_the_arrival(series_of) -> None:
    received = "Received: from mx.example.org by mail.example.org; Mon, 06 Jan 2019 10:00:00 +0000\n"
    future = mail("f@x", "[PATCH] pwm: from the future", patch_body())
    future = future.replace(b"\nSubject:", b"\n" + received.encode() + b"Subject:", 1)
    head, _, body = future.partition(b"\n\n")
    head = b"\n".join(b"Date: Sun, 01 Jan 2085 00:00:00 +0000" if line.startswith(b"Date:") else line
                      for line in head.split(b"\n"))
    series = series_of(mbox(head + b"\n\n" + body, mail("n@x", "[PATCH] pwm: now", patch_body())))
    assert [s.id for s in series] == ["n@x", "f@x"]  # newest first: 2026, then 2019
    f = series[1].to_json()
    assert f["date"].startswith("2019-01-06") and f["date_claimed"].startswith("2085-01-01")
    assert series[0].to_json()["date_claimed"] is None


def _text(viewer) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in viewer.document.lines)


async def test_the_cover_pane_shows_versions_both_ways_and_opens_one(make_store) -> None:
    """The cover of v8 lists its newer parts (and says why it stays current while a split
    does not hold it); Enter on a version line opens that series, unfolded in the list."""
    from tests.uihelpers import wait_for
    from triage.config import Settings
    from triage.ui.app import make_app
    from triage.ui.keymaps import load_keymap
    from triage.ui.widgets.panes import SeriesList
    from triage.ui.widgets.viewer import Viewer

    store = make_store(mbox(*_seed_family(vfio=False)))
    app = make_app(store, Settings(), load_keymap("default"))
    async with app.run_test(size=(200, 50)) as pilot:
        table = app.query_one(SeriesList)
        await wait_for(pilot, lambda: table.row_count == 2, "the list: v10 IOMMU part and v8 (still current)")
        table.focus()
        table.move_cursor(row=table.get_row_index("v8@x"))
        await wait_for(pilot, lambda: app.main.opened is not None and app.main.opened.id == "v8@x", "v8 opened")
        viewer = app.query_one("#message", Viewer)
        await wait_for(pilot, lambda: "Versions (Enter opens one):" in _text(viewer), "the version lines")
        text = _text(viewer)
        assert "> v9" in text and "> v10" in text and "< v7" in text and "still current" in text
        line = next(i for i, row in enumerate(text.split("\n")) if "> v9" in row)
        viewer.focus()
        viewer.move_cursor_to_line(line)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.opened is not None and app.main.opened.id == "v9a@x", "v9 opened")
        assert table.current_id == "v9a@x"  # unfolded under its newest version


def test_a_renamed_series_renamed_again_lists_its_whole_lineage(series_of) -> None:
    """v1 "A", v2-v3 renamed "B", v4 renamed "C": v4's previous versions reach back to v1,
    and v1 lists every newer one (the RZ/G3E family on linux-pwm)."""
    parts = ["pwm: rz: a", "pwm: rz: b", "pwm: rz: c"]
    series = series_of(mbox(
        *_posting("PATCH", "Add RZ/G3E support", parts, 0, mid="a1@x"),
        *_posting("PATCH v2", "Add RZ/G3E GPT support", parts, 100, mid="b2@x", diff="2"),
        *_posting("PATCH v3", "Add RZ/G3E GPT support", parts, 200, mid="b3@x", diff="3"),
        *_posting("PATCH v4", "Add Renesas RZ/G3E GPT support", parts, 300, mid="c4@x", diff="4"),
    ))
    got = {s.id: s for s in series}
    assert got["c4@x"].previous_versions == ["a1@x", "b2@x", "b3@x"]
    assert got["a1@x"].newer_versions == ["b2@x", "b3@x", "c4@x"]
    assert [s.id for s in series if s.current] == ["c4@x"]
    assert _one_way(series) == []


def test_triage_versions_lists_both_ways_and_says_why_current(make_store, capsys) -> None:
    from triage.cli import main

    store = make_store(mbox(*_seed_family(vfio=False)))
    assert main(["--config", store.config.config_path, "versions", "v8@x"]) == 0
    out = capsys.readouterr().out
    assert [line[2:].split()[0] for line in out.splitlines() if line[2:3] == "v"] == ["v7", "v8", "v9", "v10"]
    assert "still current: its newer postings are parts of a split" in out


def test_a_link_named_in_mail_that_arrives_later_is_found_by_a_refresh(make_store, tmp_path) -> None:
    """The index relinks only what a change can reach: a v2 whose cover names v1 (no title
    or patch in common) reaches v1 through the message-id it names."""
    from triage.cache.index import SeriesIndex
    from triage.mail.importer import import_paths
    from triage.series.service import load_series

    v1, v2 = _stated_family()[:3], _stated_family()[3:]
    store = make_store(mbox(*v1))
    index = SeriesIndex(store)
    index.refresh()
    late = tmp_path / "v2.mbox"
    late.write_bytes(mbox(*v2))
    import_paths(store, [late])
    assert index.refresh().kind == "incremental"
    row = index.full_row("s1@x")
    assert row is not None and row["newer_versions"] == ["s2@x"] and row["state"] == "superseded"
    assert json.loads(index.series_json()) == [s.to_json() for s in load_series(store)]
    # Another author naming s2 as their earlier version: a claim, on both rows, after a refresh.
    other = tmp_path / "bob.mbox"
    other.write_bytes(mbox(*_posting("PATCH v3", "Foo platform, taken over", ["pwm: foo: x"], 9000, mid="b3@x", sender=BOB,
                                     cover_body="- Link to v2: https://lore.kernel.org/r/s2@x\n")))
    import_paths(store, [other])
    assert index.refresh().kind == "incremental"
    row = index.full_row("s2@x")  # the list's row, relinked by the refresh (the whole answer relinks all)
    assert row is not None and [c["id"] for c in row["claims"]] == ["b3@x"] and row["current"]
    assert json.loads(index.series_json()) == [s.to_json() for s in load_series(store)]
