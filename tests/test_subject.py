"""Subject parsing: every row of series-rules.md section 1."""

from __future__ import annotations

import pytest

from triage.model.subject import parse_subject


@pytest.mark.parametrize(
    ("subject", "version", "index", "total", "title"),
    [
        ("[PATCH] foo: bar", 1, None, None, "foo: bar"),
        ("[PATCHv3 1/2] foo", 3, 1, 2, "foo"),
        ("[PATCH v6,19/24] foo", 6, 19, 24, "foo"),
        ("[bpf-next,v2,3/4] bpf: thing", 2, 3, 4, "bpf: thing"),
        ("[PATCH v3 02/17] foo", 3, 2, 17, "foo"),
        ("[PATCH net-next v3 02/17] net: foo: bar", 3, 2, 17, "net: foo: bar"),
        ("[PATCH v3 net-next 02/17] net: foo", 3, 2, 17, "net: foo"),
        ("[PATCH 2/2 v3] foo", 3, 2, 2, "foo"),
        ("[PATCH 1 of 3] hg style", 1, 1, 3, "hg style"),
        ("[PATCH 1/2][v2] foo", 2, 1, 2, "foo"),
        ("[PATCH] [RFC] [1/2] foo", 1, 1, 2, "foo"),
        ("[PATCH 3/2] extra", 1, 3, 2, "extra"),
        ("[PATCH V2 1/1] upper", 2, 1, 1, "upper"),
        ("[patch v4 1/3] lower", 4, 1, 3, "lower"),
        ("[PATCH GSoC v6 00/10] foo", 6, 0, 10, "foo"),
        ("[PATCH 6.6 012/345] stable", 1, 12, 345, "stable"),
        ("[PATCH 5.15/6.1 1/3] backport", 1, 1, 3, "backport"),
        ("[PATCH rdma-dev 2/5] foo", 1, 2, 5, "foo"),
        ("[PATCH v2 1/3] x86/mm: fix [bracketed] thing", 2, 1, 3, "x86/mm: fix [bracketed] thing"),
        ("[PATCH v2] single", 2, None, None, "single"),
        ("[PATCH v3 0/0] empty", 3, 0, 0, "empty"),
        ("[Qemu-devel] [PATCH v2 1/3] qemu", 2, 1, 3, "qemu"),
        ("PATCH V2 3/4] PM / OPP: lost bracket", 2, 3, 4, "PM / OPP: lost bracket"),
        ("[Patch 2/2]: powerpc: colon", 1, 2, 2, "powerpc: colon"),
        ("[PATCH 0/3] cover (v2)", 2, 0, 3, "cover (v2)"),
    ],
)
def test_prefixes(subject: str, version: int, index: int | None, total: int | None, title: str) -> None:
    p = parse_subject(subject)
    assert p.is_patch and not p.is_reply
    assert (p.version, p.index, p.total, p.title) == (version, index, total, title)


def test_subversion_is_a_respin_of_the_major_version() -> None:
    p = parse_subject("[PATCH v5.1 10/12] foo")
    assert (p.version, p.subversion, p.index, p.total) == (5, 1, 10, 12)


def test_weak_version_hint_is_not_explicit() -> None:
    p = parse_subject("[PATCH 0/3] cover (v2)")
    assert p.version == 2 and not p.version_explicit and p.normalized_title == "cover"


def test_flags_and_tags() -> None:
    p = parse_subject("[RFC PATCH net-next v2 0/5] foo")
    assert p.rfc and p.is_cover and p.tree_tags == ("net-next",)
    assert parse_subject("[PATCH v2 RESEND 1/3] foo").resend
    assert parse_subject("[RESEND PATCH v4 1/2] foo").resend
    assert parse_subject("[PATCH -next] bpf: x").tree_tags == ("-next",)
    assert parse_subject("[Qemu-devel] [PATCH] x").list_tags == ("Qemu-devel",)
    assert parse_subject("[PATCH GSoC v6 00/10] foo").tree_tags == ("GSoC",)


@pytest.mark.parametrize(
    "subject",
    ["Re: [PATCH v2 1/3] foo", "RE: [PATCH v2 1/3] foo", "Aw: [PATCH v2 1/3] foo", "AW: [PATCH] x",
     "Sv: [PATCH] x", "Re: Re: [PATCH 1/3] foo", "[Qemu-devel] Re: [PATCH] x"],
)
def test_replies_are_never_patches(subject: str) -> None:
    p = parse_subject(subject)
    assert p.is_reply and not p.is_patch


def test_reply_counters_are_still_read() -> None:
    p = parse_subject("Re: Re: [PATCH 1/3] foo")
    assert (p.index, p.total) == (1, 3)


def test_forward_is_not_a_patch() -> None:
    p = parse_subject("Fwd: [PATCH v2 1/3] foo")
    assert p.is_forward and not p.is_patch


def test_re_after_the_prefix_is_title_text() -> None:
    p = parse_subject("[PATCH] Re: foo")
    assert p.is_patch and not p.is_reply and p.title == "Re: foo"


@pytest.mark.parametrize("subject", ["[GIT PULL] pwm: changes for v6.1", "[git pull] Please pull powerpc.git", "[GIT] Networking"])
def test_pull_requests(subject: str) -> None:
    p = parse_subject(subject)
    assert p.is_pull and not p.is_patch


def test_folded_and_hostile_subjects_parse() -> None:
    p = parse_subject("[PATCH v2\n 1/2] foo\x1b[31m [bold]x[/]")
    assert (p.version, p.index) == (2, 1)
    assert "\x1b" not in p.title and "[bold]x[/]" in p.title
    assert parse_subject(None).title == "" and not parse_subject("").is_patch


@pytest.mark.parametrize(
    "subject",
    ["[PATCH v3 2/7] pwm: fix (v2)", "[RFC PATCH net-next 0/3] x", "[GIT PULL] pwm: changes", "Fwd: [PATCH] y", "PATCH v2 3/4] z", ""],
)
@pytest.mark.parametrize("marker", ["Re: ", "RE:", "Re[2]: ", "AW: Re:  ", "re:\t"])
def test_a_reply_reads_as_the_subject_it_answers(subject: str, marker: str) -> None:
    """A reply's subject is parsed as the one after "Re:" (shared, cached), marked as a reply."""
    inner, p = parse_subject(subject), parse_subject(marker + subject)
    assert p.is_reply and not p.is_patch and not p.is_pull
    assert p.raw == marker + subject and p.is_forward == inner.is_forward
    for field in ("title", "version", "subversion", "index", "total", "rfc", "resend", "tree_tags", "list_tags", "prefixes"):
        assert getattr(p, field) == getattr(inner, field), field


def test_a_reply_marker_after_a_list_tag_still_marks_a_reply() -> None:
    p = parse_subject("[Qemu-devel] Re: [PATCH v2 1/2] foo")
    assert p.is_reply and not p.is_patch and p.list_tags == ("Qemu-devel",) and (p.version, p.index) == (2, 1)
