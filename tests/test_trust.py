"""Evidence, not claims (issue 23): a stranger's mail never counts as a reviewer, never
supersedes another author's series, never speaks as the user.

Each numbered failure of the issue is rebuilt here from mail written in the test; DKIM
and ARC signatures are made with keys the test generates and serves through the DNS seam.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from tests.mailgen import mail, mbox, patch_body
from triage.cache.trustrows import _keep_verdicts, _read_verdicts
from triage.config import Settings
from triage.mail.dkimcheck import UNPARSED, Verdict, list_vouches, verify
from triage.mail.dns import DnsCache
from triage.series.service import load_series, policy_for
from triage.series.trust import Verifier
from triage.session import Session
from triage.take.service import export

ME = "Test Maintainer <maint@example.org>"  # the store's user (conftest)
FAMOUS = "Famous Maintainer <famous@kernel.org>"
RB_FAMOUS = f"Reviewed-by: {FAMOUS}\n"


def _with_headers(m: bytes, *headers: str) -> bytes:
    """``m`` with ``headers`` added before its Subject."""
    extra = "".join(f"{h}\n" for h in headers).encode()
    return m.replace(b"\nSubject:", b"\n" + extra.rstrip(b"\n") + b"\nSubject:", 1)


def _forged_via(mid: str, subject: str, body: str, original: str, *, parent: str | None = None,
                minutes: int = 5) -> bytes:
    """Failure 1: a From that poses as a list rewrite, every header written by the sender."""
    m = mail(mid, subject, body, minutes=minutes, parent=parent,
             sender='"Famous Maintainer via linux-pwm" <eve@evil.example>')
    return _with_headers(m, "List-Post: <mailto:eve@evil.example>", f"X-Original-From: {original}")


def _patch(mid: str = "p@x", subject: str = "[PATCH] pwm: fix the thing", minutes: int = 0, **kw) -> bytes:
    return mail(mid, subject, patch_body(), minutes=minutes, **kw)


# -- 1. a forged list rewrite ----------------------------------------------------------------
def test_a_forged_list_rewrite_is_not_the_reviewer(make_store) -> None:
    store = make_store(mbox(_patch(), _forged_via("r@x", "Re: [PATCH] pwm: fix the thing", RB_FAMOUS, FAMOUS, parent="p@x")))
    (s,) = load_series(store)
    (t,) = [t for t in s.patches[0].trailers if t.name == "Reviewed-by"]
    assert t.sender_match is False and t.from_email == "eve@evil.example"
    assert s.counts()["reviewed_by"] == 0
    assert s.to_json()["flagged_trailers"][0]["value"] == FAMOUS
    result = export(store, Settings(), "p@x")
    assert not any("Famous" in line for line in result.patches[0].added)
    assert any("left out" in n and "eve@evil.example" in n for n in result.notes)


def test_a_forged_rewrite_to_my_address_does_not_speak_as_me(make_store) -> None:
    store = make_store(mbox(
        _patch(to="maint@example.org"),
        _forged_via("r@x", "Re: [PATCH] pwm: fix the thing", "done\n", ME, parent="p@x"),
    ))
    session = Session(store)
    (row,) = session.index.series() if session.refresh() else []
    assert row["replied"] is False
    assert [i.row["id"] for i in session.todo()] == ["p@x"]  # still mine to read: nothing of mine is newest


# -- 2. relay-looking addresses ----------------------------------------------------------------
def test_a_relay_looking_address_does_not_supersede_by_name(make_store) -> None:
    alice = "Alice Author <alice@example.com>"
    store = make_store(mbox(
        _patch("a1@x", sender=alice),
        _patch("e99@x", "[PATCH v99] pwm: fix the thing", minutes=60, sender="Alice Author <noreply@evil.example>"),
        _patch("b1@x", "[PATCH] pwm: other", minutes=70, sender="Alice Author <nobody-bounces@evil.example>"),
    ))
    got = {s.id: s for s in load_series(store)}
    assert got["a1@x"].state == "new" and got["a1@x"].newer_versions == []
    assert got["e99@x"].previous_versions == []


def test_b4_relay_still_links_by_name(make_store) -> None:
    relay = '"Rae Person via B4 Relay" <devnull+rae.example.com@kernel.org>'
    store = make_store(mbox(
        _patch("r1@x", "[PATCH] relay: thing", sender="Rae Person <rae@example.com>"),
        _patch("r2@x", "[PATCH v2] relay: thing", minutes=60, sender=relay),
    ))
    got = {s.id: s for s in load_series(store)}
    assert got["r1@x"].newer_versions == ["r2@x"] and got["r1@x"].state == "superseded"
    assert ("r1@x", "same name through a relay, title", "r2@x") in got["r2@x"].link_rules
    # Another relay's address links nobody unless configured.
    other = '"Rae Person via Relay" <devnull+rae.example.com@relay.example>'
    store = make_store(mbox(
        _patch("r1@x", "[PATCH] relay: thing", sender="Rae Person <rae@example.com>"),
        _patch("r2@x", "[PATCH v2] relay: thing", minutes=60, sender=other),
    ))
    assert {s.id: s.newer_versions for s in load_series(store)}["r1@x"] == []
    policy = policy_for(store, Settings(trust_relays=["devnull@relay.example"]))
    assert {s.id: s.newer_versions for s in load_series(store, policy=policy)}["r1@x"] == ["r2@x"]


# -- 3. claims of other authors ------------------------------------------------------------------
def _alice_and_eve(how: str) -> bytes:
    alice = [
        mail("c1@x", "[PATCH 0/2] pwm: rework", "cover\n\nchange-id: 20260101-rework-abcd\n", to="maint@example.org"),
        _patch("c1p1@x", "[PATCH 1/2] pwm: one", minutes=1, parent="c1@x"),
        _patch("c1p2@x", "[PATCH 2/2] pwm: two", minutes=2, parent="c1@x"),
    ]
    eve = "Eve Stranger <eve@evil.example>"
    body = {"supersedes": "Supersedes: <c1p1@x>\n\ncover\n", "change-id": "cover\n\nchange-id: 20260101-rework-abcd\n"}[how]
    stranger = [
        mail("e0@x", "[PATCH v99 0/1] misc: unrelated", body, minutes=30, sender=eve),
        _patch("e1@x", "[PATCH v99 1/1] misc: unrelated", minutes=31, parent="e0@x", sender=eve),
    ]
    return mbox(*alice, *stranger)


def test_another_authors_supersedes_or_change_id_is_a_claim(make_store) -> None:
    for how in ("supersedes", "change-id"):
        store = make_store(_alice_and_eve(how), )
        session = Session(store)
        session.refresh()
        rows = {r["id"]: r for r in session.index.series(light=True)}
        assert rows["c1@x"]["state"] == "new" and rows["c1@x"]["newer_versions"] == [], how
        assert rows["c1@x"]["claims"][0]["id"] == "e0@x" and rows["c1@x"]["claims"][0]["claims"] == "superseded-by"
        assert "other author" in rows["e0@x"]["claims"][0]["rule"]
        assert "c1@x" in {i.row["id"] for i in session.todo()}  # the claim does not take it off my queue
        # Accepting the claim (a tag on the claiming posting) links it.
        session.accept_claim(session.series("e0@x"))
        session.refresh()
        rows = {r["id"]: r for r in session.index.series(light=True)}
        assert rows["c1@x"]["state"] == "superseded" and rows["c1@x"]["newer_versions"] == ["e0@x"], how
        why = dict((other, rule) for other, rule, _ in session.index.version_family("e0@x")[1]["e0@x"])
        assert "claim accepted" in why["c1@x"]


def test_the_same_authors_change_id_links(make_store) -> None:
    store = make_store(mbox(
        mail("a@x", "[PATCH] pwm: one way", "x\n\nchange-id: 20260101-x-1\n" + patch_body()),
        mail("b@x", "[PATCH v2] pwm: another way", "x\n\nchange-id: 20260101-x-1\n" + patch_body("y"), minutes=60),
    ))
    got = {s.id: s for s in load_series(store)}
    assert got["a@x"].newer_versions == ["b@x"]
    assert ("a@x", "change-id 20260101-x-1", "b@x") in got["b@x"].link_rules


def test_a_strangers_split_or_naked_cover_does_not_supersede(make_store) -> None:
    alice = [
        mail("c1@x", "[PATCH 0/2] pwm: big work", "cover\n"),
        _patch("c1p1@x", "[PATCH 1/2] pwm: one", minutes=1, parent="c1@x"),
        _patch("c1p2@x", "[PATCH 2/2] pwm: two", minutes=2, parent="c1@x"),
    ]
    relayish = "Alice Author <noreply@evil.example>"
    stranger = [
        mail("e0@x", "pwm: big work v9", "cover\n", minutes=30, sender=relayish),  # naked cover, trailing v9
        _patch("e1@x", "[PATCH 1/2] pwm: one", minutes=31, parent="e0@x", sender=relayish),
        _patch("e2@x", "[PATCH 2/2] pwm: two", minutes=32, parent="e0@x", sender=relayish),
        mail("s0@x", "[PATCH v2 0/1] pwm: part one", "cover\n", minutes=40, sender=relayish),  # a "split"
        _patch("s1@x", "[PATCH v2 1/1] pwm: one", minutes=41, parent="s0@x", sender=relayish),
    ]
    got = {s.id: s for s in load_series(make_store(mbox(*alice, *stranger)))}
    assert got["c1@x"].newer_versions == [] and got["c1@x"].state == "new"


def test_a_strangers_patch_in_my_thread_re_rolls_nothing(make_store) -> None:
    msgs = [
        mail("c@x", "[PATCH v2 0/2] pwm: x", "cover\n"),
        _patch("p1@x", "[PATCH v2 1/2] pwm: a", minutes=1, parent="c@x"),
        _patch("p2@x", "[PATCH v2 2/2] pwm: b", minutes=2, parent="c@x"),
        _patch("e2@x", "[PATCH v3 2/2] pwm: b", minutes=30, parent="p2@x", sender="Eve <eve@evil.example>"),
    ]
    got = {s.id: s for s in load_series(make_store(mbox(*msgs)))}
    assert got["c@x"].newer_versions == [] and got["e2@x"].reroll_of is None


# -- 4. the same name at another address -----------------------------------------------------------
def _joerg(signed_by: str | None, keys=None) -> bytes:
    reply = mail("a@x", "Re: [PATCH] iommu: fix", "Acked-by: Joerg Roedel <jroedel@suse.de>\n", minutes=1, parent="p@x",
                 sender="Joerg Roedel <joro@mail.suse.de>")
    return keys.sign(reply, signed_by) if signed_by else reply


def test_a_trailer_by_name_says_what_it_rests_on(make_store, dns_keys) -> None:
    dns_keys.publish("suse.de")
    dns_keys.publish("evil.example", n=1)
    for signer, how in ((None, "not verified"), ("suse.de", "verified"), ("evil.example", "not verified")):
        store = make_store(_patch("p@x", "[PATCH] iommu: fix"), _joerg(signer, dns_keys))
        result = export(store, Settings(), "p@x")
        assert "Acked-by: Joerg Roedel <jroedel@suse.de>" in result.patches[0].added
        (note,) = [n for n in result.notes if "Acked-by" in n]
        assert "same name as the trailer, other address" in note and f"({how}" in note and "confirmed" not in note


# -- DKIM and ARC: a list that rewrote the From -----------------------------------------------------
LIST = "iommu@lists.example.org"


def _munged(keys, *, seal: str | None = "lists.example.org", key_of: str | None = None, original_signed: bool = False,
            results: str = "dkim=pass header.d=nvidia.example") -> bytes:
    """A reply by Sumit (nvidia.example) that the list rewrote and (maybe) sealed."""
    body = "Reviewed-by: Sumit Gupta <sumitg@nvidia.example>\n"
    m = mail("r@x", "Re: [PATCH] iommu: fix", body, minutes=5, parent="p@x", sender=f'"Sumit Gupta via iommu" <{LIST}>')
    m = _with_headers(m, f"List-Post: <mailto:{LIST}>", "List-Id: <iommu.lists.example.org>",
                      "X-Original-From: Sumit Gupta <sumitg@nvidia.example>")
    if original_signed:
        m = keys.sign(m, "nvidia.example")
    if seal:
        m = keys.seal(m, seal, results, key_of=key_of)
    return m


def _sumit(store) -> tuple[bool | str, int]:
    (s,) = [s for s in load_series(store) if s.id == "p@x"]
    (t,) = [t for t in s.patches[0].trailers if t.name == "Reviewed-by"]
    return t.sender_match, s.counts()["reviewed_by"]


def test_a_list_rewrite_counts_only_with_the_lists_own_seal(make_store, dns_keys) -> None:
    dns_keys.publish("lists.example.org")
    dns_keys.publish("evil.example", n=1)
    patch = _patch("p@x", "[PATCH] iommu: fix")
    # The list's own ARC seal, recording a pass for the original sender's domain: counted.
    assert _sumit(make_store(patch, _munged(dns_keys))) == (True, 1)
    # A seal in the list's name made with another key (forged): not counted.
    assert _sumit(make_store(patch, _munged(dns_keys, key_of="evil.example"))) == (False, 0)
    # A seal by another domain than the list's: not counted.
    assert _sumit(make_store(patch, _munged(dns_keys, seal="evil.example"))) == (False, 0)
    # The list recorded a failure: not counted.
    assert _sumit(make_store(patch, _munged(dns_keys, results="dkim=fail header.d=nvidia.example"))) == (False, 0)
    # Unsigned: not counted.
    assert _sumit(make_store(patch, _munged(dns_keys, seal=None))) == (False, 0)


def test_a_stale_key_no_longer_vouches(make_store, dns_keys) -> None:
    dns_keys.publish("lists.example.org")
    sealed = _munged(dns_keys)
    dns_keys.rotate("lists.example.org")
    assert _sumit(make_store(_patch("p@x", "[PATCH] iommu: fix"), sealed)) == (False, 0)


def test_the_original_senders_own_signature_vouches(make_store, dns_keys) -> None:
    dns_keys.publish("nvidia.example")
    assert _sumit(make_store(_patch("p@x", "[PATCH] iommu: fix"), _munged(dns_keys, seal=None, original_signed=True))) == (True, 1)


def test_a_seal_of_a_domain_posing_as_a_list_counts_only_where_it_delivered(dns_keys) -> None:
    """Eve's own domain posing as a list, its mail then passed on by a real list: Eve's seal is
    not the newest, so her word does not count (unless her domain is a configured list)."""
    dns_keys.publish("evil.example", n=1)
    dns_keys.publish("vger.example", n=2)
    m = mail("r@x", "Re: x", "Reviewed-by: x\n", sender='"Famous via list" <list@evil.example>')
    m = _with_headers(m, "List-Post: <mailto:list@evil.example>", "X-Original-From: Famous <famous@kernel.org>")
    m = dns_keys.seal(m, "evil.example", "dkim=pass header.d=kernel.org")
    verdict_own = verify(m, DnsCache(lookup=dns_keys.lookup))
    assert list_vouches(verdict_own, "list@evil.example", "famous@kernel.org")  # delivered by itself
    passed_on = dns_keys.seal(m, "vger.example", "arc=pass")
    verdict = verify(passed_on, DnsCache(lookup=dns_keys.lookup))
    assert verdict.arc == "pass"
    assert not list_vouches(verdict, "list@evil.example", "famous@kernel.org")
    assert list_vouches(verdict, "list@evil.example", "famous@kernel.org", trusted_lists=["evil.example"])


def test_verdicts_are_kept_and_say_what_they_show(make_store, dns_keys) -> None:
    dns_keys.publish("lists.example.org")
    store = make_store(_patch("p@x", "[PATCH] iommu: fix"), _munged(dns_keys))
    session = Session(store)
    session.refresh()
    asked = len(dns_keys.asked)
    v = session.verdict("r@x")
    assert v.status == "checked" and v.arc == "pass" and len(dns_keys.asked) == asked  # kept by the index
    assert "ARC ✓ lists.example.org: dkim=pass header.d=nvidia.example" in v.summary()
    assert session.message("p@x").signatures == ["DKIM: none (not signed)"]


def test_without_dns_nothing_is_decided_and_it_says_so(make_store, dns_keys, monkeypatch) -> None:
    dns_keys.publish("lists.example.org")
    sealed = _munged(dns_keys)
    monkeypatch.setenv("TRIAGE_NO_DNS", "1")
    store = make_store(_patch("p@x", "[PATCH] iommu: fix"), sealed)
    assert _sumit(store) == (False, 0)
    assert Session(store).verdict("r@x").summary() == ["DKIM: not checked ([trust] dns = false)"]
    assert Verdict(1, "no-dns").final is False


def test_a_rewrite_checked_offline_is_checked_again_once_dns_answers(make_store, dns_keys, monkeypatch) -> None:
    dns_keys.publish("lists.example.org")
    store = make_store(_patch("p@x", "[PATCH] iommu: fix"), _munged(dns_keys))
    monkeypatch.setenv("TRIAGE_NO_DNS", "1")
    session = Session(store)
    session.refresh()
    assert [r["counts"]["reviewed_by"] for r in session.index.series()] == [0]
    monkeypatch.delenv("TRIAGE_NO_DNS")
    session = Session(store)
    assert session.recheck_senders() == 1
    assert [r["counts"]["reviewed_by"] for r in session.index.series()] == [1]


# -- 5. versions agrees with the list; every command escapes mail text ------------------------------
def test_versions_says_what_the_list_says(make_store, capsys) -> None:
    from triage.cli import main

    store = make_store(_alice_and_eve("supersedes"))
    assert main(["--config", store.config.config_path, "versions", "c1@x"]) == 0
    out = capsys.readouterr().out
    assert "* v1" in out and "new" in out and "claimed superseded by <e0@x>" in out
    assert "v99" not in out.split("claimed")[0]


def test_no_command_prints_raw_escapes(make_store, tmp_path) -> None:
    esc = "\x1b]0;pwned\x07\x1b[2J"
    msgs = mbox(
        mail(f"c{esc}@x", f"[PATCH 0/1] pwm: {esc}title", f"cover {esc}\n", sender=f"Eve {esc} <eve@evil.example>"),
        mail(f"p{esc}@x", f"[PATCH 1/1] pwm: {esc}one", patch_body(f"msg {esc}"), minutes=1, parent=f"c{esc}@x",
             sender=f"Eve {esc} <eve@evil.example>"),
        mail(f"v2{esc}@x", f"[PATCH v2] pwm: {esc}title", patch_body(f"v2 {esc}"), minutes=60,
             sender=f"Eve {esc} <eve@evil.example>"),
    )
    store = make_store(msgs)
    session = Session(store)
    session.refresh()
    rows = session.index.series()
    cover = next(str(r["id"]) for r in rows if r["patches"] and r["version"] == 1)
    v2 = next(str(r["id"]) for r in rows if r["version"] == 2)
    assert any("\x1b" in str(r["id"]) for r in rows)
    cfg = store.config.config_path
    commands = [
        ["series"], ["series", "--json"], ["series", "--no-cache"], ["todo"], ["todo", "--json"],
        ["versions", cover], ["versions", v2], ["range-diff", v2], ["export", cover, "--force"],
        ["state", cover, "under-review"], ["state", "--query", "*", "new"],
    ]
    for args in commands:
        done = subprocess.run([sys.executable, "-m", "triage", "--config", cfg, *args], capture_output=True,
                              env={**__import__("os").environ}, timeout=120)
        both = done.stdout + done.stderr
        if args[0] == "export":
            assert done.returncode == 0, both  # the mbox itself goes to git am byte for byte (not a terminal)
            assert b"\x1b" not in done.stderr, args
            continue
        assert b"\x1b" not in both and b"\x07" not in both, (args, both[:300])
        assert done.returncode in (0, 1), (args, both[:300])


def test_an_encoded_word_in_a_reply_does_not_speak_as_me(make_store) -> None:
    """A reply without a trailer is not otherwise read: its From as notmuch decodes it would
    turn ``Maint <=?utf-8?q?maint=40example.org?=>`` into the user's address."""
    from tests.mailgen import raw_mail

    patch = _patch(to="maint@example.org")
    for sender in ("Maint <=?utf-8?q?maint=40example=2Eorg?=>", "=?utf-8?q?Maint_=3Cmaint=40example=2Eorg=3E?="):
        reply = raw_mail([("From", sender), ("Subject", "Re: [PATCH] pwm: fix the thing"), ("Message-ID", "<r@x>"),
                          ("In-Reply-To", "<p@x>"), ("Date", "Mon, 05 Jan 2026 11:00:00 +0000")], "thanks\n")
        store = make_store(mbox(patch, reply))
        (s,) = load_series(store)
        assert not s.replied, sender
        assert [i.row["id"] for i in Session(store).todo()] == ["p@x"], sender
    # My own reply still counts as mine.
    store = make_store(mbox(patch, mail("r@x", "Re: [PATCH] pwm: fix the thing", "thanks\n", minutes=5, parent="p@x",
                                        sender=ME)))
    (s,) = load_series(store)
    assert s.replied and Session(store).todo() == []


def test_a_strangers_patch_in_a_thread_does_not_join_the_series(make_store) -> None:
    """Eve's "[PATCH 2/2]" answering Alice's cover before Alice's own 2/2: Alice's series keeps
    her own patch, and an export never carries Eve's."""
    msgs = [
        mail("c@x", "[PATCH 0/2] pwm: x", "cover\n"),
        _patch("p1@x", "[PATCH 1/2] pwm: a", minutes=1, parent="c@x"),
        _patch("e2@x", "[PATCH 2/2] pwm: b", minutes=2, parent="c@x", sender="Eve <eve@evil.example>"),
        _patch("p2@x", "[PATCH 2/2] pwm: b", minutes=3, parent="c@x"),
    ]
    got = {s.id: s for s in load_series(make_store(mbox(*msgs)))}
    assert [p.message_id for p in got["c@x"].patches] == ["p1@x", "p2@x"]
    assert "e2@x" not in got["c@x"].message_ids()


def test_arc_headers_without_a_space_after_the_colon_verify(dns_keys) -> None:
    """kernel.org's list servers write "ARC-Message-Signature:i=2; ...", which dkimpy cannot
    look up by itself: every message of vger's lists read "could not be parsed", losing its
    DKIM results too. The chain verifies as sealed (relaxed canonicalization drops the space)."""
    dns_keys.publish("nvidia.example")
    dns_keys.publish("lists.example.org", n=1)
    spaced = _munged(dns_keys, original_signed=True)
    tight = spaced.replace(b"ARC-Message-Signature: i=1;", b"ARC-Message-Signature:i=1;", 1)
    assert tight != spaced
    for data in (spaced, tight):
        v = verify(data, DnsCache(lookup=dns_keys.lookup))
        assert v.arc == "pass" and v.dkim == (("nvidia.example", "pass", ""),)
        assert v.arc_sets[0][0] == "lists.example.org"


def test_a_chain_dkimpy_cannot_read_fails_and_the_signatures_stand(dns_keys) -> None:
    dns_keys.publish("nvidia.example")
    dns_keys.publish("lists.example.org", n=1)
    sealed = _munged(dns_keys, original_signed=True)
    # dkimpy looks the set's message signature up by " i=1;", which is no longer there.
    broken = sealed.replace(b"ARC-Message-Signature: i=1;", b"ARC-Message-Signature: i=1 ;", 1)
    assert broken != sealed
    v = verify(broken, DnsCache(lookup=dns_keys.lookup))
    assert v.status == "checked" and v.arc == "fail"
    assert v.dkim == (("nvidia.example", "pass", ""),)


def test_a_failed_signature_says_why(dns_keys, tmp_path) -> None:
    """dkimpy says why a key failed only in its log: the header line says it too."""
    dns_keys.publish("nvidia.example")
    signed = _munged(dns_keys, seal=None, original_signed=True)
    dns_keys.rotate("nvidia.example")
    (rotated,) = verify(signed, DnsCache(tmp_path / "a.sqlite", lookup=dns_keys.lookup)).dkim
    assert rotated == ("nvidia.example", "fail", "signature does not match")
    del dns_keys.records[b"sel._domainkey.nvidia.example"]
    (gone,) = verify(signed, DnsCache(tmp_path / "b.sqlite", lookup=dns_keys.lookup)).dkim
    assert gone == ("nvidia.example", "fail", "missing public key: sel._domainkey.nvidia.example.")


def test_a_kept_could_not_be_parsed_verdict_is_checked_again(tmp_path) -> None:
    """Verdicts kept before dkimpy's ARC lookup was mended said "could not be parsed" for
    every message of vger's lists: those are asked again, the others kept."""
    good = Verdict(1, "checked", (("kernel.org", "pass", ""),), "none")
    bad = Verdict(1, "checked", UNPARSED, "none")
    verifier = Verifier(None)  # type: ignore[arg-type]  # no store: only its fresh verdicts are kept
    verifier.fresh.update({"good@x": good, "bad@x": bad})
    con = sqlite3.connect(tmp_path / "v.sqlite")
    _keep_verdicts(con, verifier)
    assert _read_verdicts(con) == {"good@x": good}
