"""What was decided (issue 24): applied in mail, merged in git, robots' reports, stale series.

The forms come from real linux-pwm messages, cut to the lines that matter.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.gitrepo import commit, git, new_repo
from tests.mailgen import mail, mbox, patch_body
from triage.cli import main
from triage.config import Settings, load_settings
from triage.model.policy import Section
from triage.series.outcomes import read_ci, read_decision
from triage.series.service import load_series, policy_for
from triage.session import Session

ME = "Test Maintainer <maint@example.org>"
UWE = "Uwe Kleine-König <ukleinek@kernel.org>"
ZED = "Zed Stranger <zed@example.net>"
PWM_SECTION = Section(("drivers/pwm/", "include/linux/pwm.h"), (), (), ("ukleinek@kernel.org",))

UWE_APPLIED = """On Mon, Feb 24, 2025 at 10:00:00AM +0100, Alice Author wrote:
> Fix the thing.

Applied to

\thttps://git.kernel.org/pub/scm/linux/kernel/git/ukleinek/linux.git pwm/for-next

as v6.15 material. Thanks!

Best regards
Uwe
"""
B4_TY = """On Wed, 21 Oct 2020 22:04:42 -0700, Alice Author wrote:
> [...]

Applied, thanks!

[1/3] pwm: first
      commit: 225c59b9235a421cdb219be5fbc13126a49714a6
[3/3] pwm: third
      commit: 76347344c522da78be29403dda81463ffae2bc99

Best regards,
--\x20
Lee Jones <lee@kernel.org>
"""
PW_BOT = """Hello:

This series was applied to chrome-platform/linux.git (for-next)
by Uwe Kleine-König <ukleinek@kernel.org>:

On Mon, 14 Feb 2022 09:19:12 +0100 you wrote:
> [...]

Here is the summary with links:
  - [1/3] pwm: first
    https://git.kernel.org/chrome-platform/c/6b94ee669e8a
  - [2/3] pwm: second
    (no matching commit)
  - [3/3] pwm: third
    https://git.kernel.org/chrome-platform/c/1e49defb8636

You are awesome, thank you!
--\x20
Deet-doot-dot, I am a bot.
"""
ROBOT_ERROR = """Hi Alice,

kernel test robot noticed the following build errors:

[auto build test ERROR on thierry-reding-pwm/for-next]

url:    https://github.com/intel-lab-lkp/linux/commits/x
config: arm64-randconfig

If you fix the issue in a separate patch/commit (i.e. not just a new version of
the same patch/commit), kindly add following tags
| Reported-by: kernel test robot <lkp@intel.com>

All errors (new ones prefixed by >>):

>> drivers/pwm/pwm-x.c:396:18: error: implicit declaration of function 'FIELD_GET'
"""
ROBOT_WARNING = """Hi Alice,

Thank you for the patch! Perhaps something to improve:

[auto build test WARNING on linus/master]

All warnings (new ones prefixed by >>):

>> drivers/pwm/pwm-x.c:250:27: warning: large integer implicitly truncated to unsigned type [-Woverflow]
"""


@pytest.mark.parametrize(("text", "where", "patches", "whole"), [
    ("Applied, thanks!\n\nBart\n", "", (), False),
    ("Thanks, applied.\n", "", (), False),
    ("Applied.\n", "", (), False),
    ("Patch applied!\n", "", (), False),
    ("Now queued up, thanks.\n", "", (), False),
    ("Both patches applied, thanks.\n", "", (), True),
    ("Applied the series, thanks!\n", "", (), True),
    ("Applied to hwmon-next.\n", "hwmon-next", (), False),
    ("Applied to drm-misc-next, thanks!\n", "drm-misc-next", (), False),
    ("Queued for fixes, thanks!\n", "fixes", (), False),
    ("Applied patches 1-3, thanks.\n", "", (1, 2, 3), False),
    ("I've applied patches 3 through 5 to the PWM tree.\n", "PWM tree", (3, 4, 5), False),
    ("I applied patches #1, #2 and #5 to\n\n\thttps://git.kernel.org/x.git pwm/for-next\n", "https://git.kernel.org/x.git pwm/for-next",
     (1, 2, 5), False),
    ("I applied this patch to my for-next branch at\n\n\thttps://git.kernel.org/x.git pwm/for-next\n",
     "https://git.kernel.org/x.git pwm/for-next", (), False),
    (UWE_APPLIED, "https://git.kernel.org/pub/scm/linux/kernel/git/ukleinek/linux.git pwm/for-next", (), False),
])
def test_the_forms_maintainers_write(text: str, where: str, patches: tuple[int, ...], whole: bool) -> None:
    d = read_decision(text)
    assert d is not None, text
    assert (d.kind, d.where, d.patches, d.whole) == ("applied", where, patches, whole)


def test_b4_ty_and_patchwork_bot_name_patches_and_commits() -> None:
    d = read_decision(B4_TY)
    assert d is not None and d.patches == (1, 3) and d.commits == ("225c59b9235a421cdb219be5fbc13126a49714a6",
                                                                  "76347344c522da78be29403dda81463ffae2bc99")
    d = read_decision(PW_BOT)
    assert d is not None and d.where == "chrome-platform/linux.git (for-next)" and d.patches == (1, 3)
    assert d.commits == ("6b94ee669e8a", "1e49defb8636") and d.by == ("Uwe Kleine-König", "ukleinek@kernel.org")


@pytest.mark.parametrize("text", [
    "> Applied, thanks!\n\nI do not see it in next yet.\n",  # quoted
    "Thanks for the review, I applied your suggestion in v3.\n",  # the author's edit
    "I applied this patch on top of v5.10 and the system still boots up.\n",  # a tester
    "The new settings are\napplied to hardware only at the period's end.\n",  # prose, mid-sentence
    "Will this patch cause a regression if applied without the other one?\n",
    "Applied period/duty/enabled readback computed from CSR.\n",
    "Looks good to me.\n\n-- \nApplied Materials Inc.\n",  # the signature
])
def test_what_is_not_a_decision(text: str) -> None:
    assert read_decision(text) is None, text


def test_robot_reports() -> None:
    fail = read_ci(ROBOT_ERROR)
    assert fail is not None and fail.result == "fail" and "implicit declaration of function 'FIELD_GET'" in fail.summary
    warn = read_ci(ROBOT_WARNING)
    assert warn is not None and warn.result == "warn" and "warning: large integer" in warn.summary
    ok = read_ci("syzbot has tested the proposed patch and the reproducer did not trigger any issue:\n")
    assert ok is not None and ok.result == "pass"
    assert read_ci("Looks good.\n") is None


def _series(*replies: bytes, n: int = 3, to: str = "list@example.org") -> bytes:
    cover = mail("c@x", f"[PATCH 0/{n}] pwm: x: things", "cover\n", to=to)
    patches = [mail(f"p{i}@x", f"[PATCH {i}/{n}] pwm: x: part {i}",
                    patch_body(f"part {i}").replace("f.c", "drivers/pwm/pwm-x.c"), minutes=i, parent="c@x", to=to)
               for i in range(1, n + 1)]
    return mbox(cover, *patches, *replies)


def _reply(mid: str, body: str, sender: str, parent: str = "c@x", minutes: int = 60) -> bytes:
    return mail(mid, "Re: [PATCH] pwm: x: things", body, minutes=minutes, parent=parent, sender=sender)


def _one(store, settings: Settings | None = None):
    (s,) = [s for s in load_series(store, policy=policy_for(store, settings)) if s.id == "c@x"]
    return s


def test_who_decides(make_store) -> None:
    # The user: decided.
    store = make_store(_series(_reply("r@x", "Applied, thanks!\n", ME)))
    s = _one(store)
    assert s.decided and s.state == "accepted" and s.outcome["trusted"] and s.outcome["by"].endswith("<maint@example.org>")
    # A stranger: a claim, nothing decided.
    store = make_store(_series(_reply("r@x", "Applied, thanks!\n", ZED)))
    s = _one(store)
    assert not s.decided and s.state == "new" and s.outcome == s.outcomes[0] and s.outcome["trusted"] is False
    # [outcome] maintainers.
    settings = Settings(outcome_maintainers=["zed@example.net"])
    assert _one(store, settings).state == "accepted"
    # An M: of a MAINTAINERS section covering the files.
    store = make_store(_series(_reply("r@x", UWE_APPLIED, UWE)))
    assert _one(store).state == "new"
    assert _one(store, Settings(outcome_sections=(PWM_SECTION,))).state == "accepted"
    other = Section(("drivers/gpio/",), (), (), ("ukleinek@kernel.org",))
    assert _one(store, Settings(outcome_sections=(other,))).state == "new"
    # The author's own "applied" is not even a claim.
    store = make_store(_series(_reply("r@x", "Applied, thanks!\n", "Alice Author <alice@example.com>")))
    assert _one(store).outcomes == []


def test_a_bot_counts_when_the_person_it_names_decides(make_store) -> None:
    bot = "patchwork-bot+chrome-platform@kernel.org"
    store = make_store(_series(_reply("r@x", PW_BOT, bot)))
    s = _one(store, Settings(outcome_sections=(PWM_SECTION,)))
    assert [p.outcome is not None for p in s.patches] == [True, False, True]  # patch 2: no matching commit
    assert not s.decided and s.state == "new" and s.outcome["patches"] == [1, 3]
    assert "via patchwork-bot@kernel.org" in s.outcome["by"]
    assert [p.outcome is not None for p in _one(store).patches] == [False, False, False]  # Uwe decides nothing here


def test_a_reply_to_one_patch_covers_that_patch(make_store) -> None:
    store = make_store(_series(_reply("r@x", "Applied, thanks!\n", ME, parent="p2@x")))
    s = _one(store)
    assert [p.outcome is not None for p in s.patches] == [False, True, False] and s.state == "new"
    store = make_store(_series(_reply("r@x", "Applied the series, thanks!\n", ME, parent="p1@x")))
    assert _one(store).state == "accepted"
    store = make_store(_series(_reply("r@x", "Applied patches 1-2, thanks.\n", ME)))
    s = _one(store)
    assert [p.outcome is not None for p in s.patches] == [True, True, False] and s.state == "new"
    js = s.to_json()
    assert js["patches"][0]["outcome"]["kind"] == "applied" and js["patches"][2]["outcome"] is None


def test_a_tag_always_wins(make_store) -> None:
    store = make_store(_series(_reply("r@x", "Applied, thanks!\n", ME)))
    session = Session(store)
    s = session.series("c@x")
    assert s.state == "accepted"
    session.set_state(s, "new")
    assert session.series("c@x").state == "new"
    session.refresh()
    (row,) = [r for r in session.index.series() if r["id"] == "c@x"]
    assert row["state"] == "new" and row["outcome"]["trusted"]


def test_the_queue_leaves_out_what_was_decided(make_store) -> None:
    to_me = "maint@example.org"
    store = make_store(_series(to=to_me), mbox(
        mail("d@x", "[PATCH] pwm: y: decided", patch_body("y").replace("f.c", "drivers/pwm/pwm-y.c"), minutes=200,
             to=to_me),
        mail("dr@x", "Re: [PATCH] pwm: y: decided", UWE_APPLIED, minutes=300, parent="d@x", sender=UWE),
    ))
    settings = Settings(outcome_sections=(PWM_SECTION,))
    assert {i.row["id"] for i in Session(store, settings).todo()} == {"c@x"}
    assert {i.row["id"] for i in Session(store).todo()} == {"c@x", "d@x"}  # nobody decides without the section


def test_robots_report_on_the_series(make_store) -> None:
    lkp = "kernel test robot <lkp@intel.com>"
    store = make_store(_series(
        _reply("e@x", ROBOT_ERROR, lkp, parent="p2@x"),
        _reply("w@x", ROBOT_WARNING, lkp, parent="p1@x", minutes=61),
        _reply("h@x", ROBOT_ERROR, ZED, parent="p3@x", minutes=62),  # a person quoting a report is no robot
    ))
    s = _one(store)
    assert [(c["patch"], c["result"]) for c in s.ci] == [(2, "fail"), (1, "warn")] and s.ci_state == "fail"
    session = Session(store)
    session.refresh()
    (row,) = [r for r in session.index.series(light=True) if r["id"] == "c@x"]
    assert row["ci_state"] == "fail"


def test_my_failed_series_is_in_my_queue_with_ci_failed(make_store) -> None:
    mine = mbox(
        mail("m@x", "[PATCH] pwm: mine", patch_body(), sender=ME),
        _reply("e@x", ROBOT_ERROR, "kernel test robot <lkp@intel.com>", parent="m@x"),
    )
    store = make_store(mine)
    items = Session(store).todo()
    assert [(i.row["id"], i.reasons) for i in items] == [("m@x", ["reply-to-me", "ci-failed"])]


def test_stale_series_leave_the_queue(make_store, tmp_path: Path) -> None:
    store = make_store(_series(to="maint@example.org"))  # dated 2026-01-05
    cfg = tmp_path / "config.toml"
    cfg.write_text('[queue]\nstale_after = "180d"\n')
    settings = load_settings(cfg)
    now = time.time()
    t0 = 1767607200  # 2026-01-05 10:00 UTC, the mail's date
    fresh = Session(store, settings)
    if now - t0 <= 180 * 86400:
        pytest.skip("the built mail is not yet 180 days old on this clock")
    assert fresh.todo() == []
    assert [(i.row["id"], i.reasons) for i in fresh.todo(include_stale=True)] == [("c@x", ["to-me", "stale"])]
    assert [i.row["id"] for i in Session(store).todo()] == ["c@x"]  # unset: nothing is stale


def test_stale_counts_the_newest_message_of_the_threads(make_store) -> None:
    """Stale as of ``today``: the series' newest message (2026-01-05) is 27 days old on 2026-02-01."""
    from triage.queue import todo

    late = mail("late@x", "Re: [PATCH 0/3] pwm: x: things", "ping\n", minutes=20 * 24 * 60, parent="c@x",
                sender="Alice Author <alice@example.com>")
    store = make_store(_series(late, to="maint@example.org"))
    session = Session(store)
    session.refresh()
    args = (store, session.index, {"maint@example.org"})
    day = 86400
    assert todo(*args, today="2026-02-01", stale_after=20 * day) != []  # the ping of 2026-01-25 counts
    assert todo(*args, today="2026-02-01", stale_after=5 * day) == []
    assert [i.reasons for i in todo(*args, today="2026-02-01", stale_after=5 * day, include_stale=True)] == [["to-me", "stale"]]


# -- merged, from git -------------------------------------------------------------------------------
def _tree_and_mail(tmp_path: Path) -> tuple[Path, str, list[Path]]:
    """A tree with a base and three commits; the mail of a series of the same three patches."""
    repo = new_repo(tmp_path / "repo")
    base = commit(repo, "base", {"a.c": "int a;\n" * 5, "b.c": "int b;\n", "c.c": "int c;\n"})
    commit(repo, "a: change\n\nSigned-off-by: Alice Author <alice@example.com>", {"a.c": "int aa;\n" + "int a;\n" * 4})
    commit(repo, "b: grow\n\nSigned-off-by: Alice Author <alice@example.com>", {"b.c": "int b;\nint b2;\n"})
    commit(repo, "c: grow\n\nSigned-off-by: Alice Author <alice@example.com>", {"c.c": "int c;\nint c2;\n"})
    out = tmp_path / "patches"
    git(repo, "format-patch", "-q", "--thread=shallow", "--cover-letter", "-o", str(out), f"{base}..HEAD")
    git(repo, "reset", "-q", "--hard", base)
    return repo, base, sorted(out.glob("*.patch"))


def test_merged_finds_cherry_picks_and_rewordings_not_strangers(make_store, tmp_path: Path) -> None:
    _, _, files = _tree_and_mail(tmp_path / "src")
    store = make_store(*files)
    session = Session(store)
    session.refresh()
    sid = next(str(r["id"]) for r in session.index.series() if r["patches"])
    # Upstream took patch a as it was, patch b with a reworded message (both another sha), and an
    # unrelated change; patch c is not in.
    target = new_repo(tmp_path / "upstream")
    commit(target, "base", {"a.c": "int a;\n" * 5, "b.c": "int b;\n", "c.c": "int c;\n"})
    commit(target, "a: change\n\nSigned-off-by: Alice Author <alice@example.com>\nSigned-off-by: Maint <m@x>",
           {"a.c": "int aa;\n" + "int a;\n" * 4})
    commit(target, "b: grow the b file (reworded)\n\nSigned-off-by: Alice Author <alice@example.com>", {"b.c": "int b;\nint b2;\n"})
    commit(target, "unrelated", {"d.c": "int d;\n"})
    report = session.merged(str(target), "main")
    assert len(report.merged) == 2 and report.new_commits == 4
    s = session.series(sid)
    assert [p.outcome is not None for p in s.patches] == [True, True, False] and s.state == "new"
    assert s.patches[0].outcome["kind"] == "merged" and s.patches[0].outcome["where"] == "main"
    assert s.patches[0].outcome["commits"] == [git(target, "rev-parse", "HEAD~2")[:12]]
    # Again: nothing new to read, nothing newly found.
    again = session.merged(str(target), "main")
    assert (again.new_commits, again.read_patches, len(again.merged), again.already) == (0, 0, 0, 2)
    # Patch c lands later: only the new commit is read, and the series reads accepted.
    commit(target, "c: grow\n\nSigned-off-by: Alice Author <alice@example.com>", {"c.c": "int c;\nint c2;\n"})
    third = session.merged(str(target), "main")
    assert (third.new_commits, len(third.merged)) == (1, 1)
    assert session.series(sid).state == "accepted"
    assert main(["--config", store.config.config_path, "merged", "--repo", str(target), "--branch", "main"]) == 0


def test_series_json_says_what_was_decided(make_store, capsys) -> None:
    store = make_store(_series(_reply("r@x", B4_TY, "Lee Jones <lee@kernel.org>")))
    cfg_settings = Settings(outcome_maintainers=["lee@kernel.org"])
    s = _one(store, cfg_settings)
    js = s.to_json()
    assert js["outcome"]["kind"] == "applied" and js["outcome"]["trusted"] and js["outcome"]["patches"] == [1, 3]
    assert js["outcome"]["commits"][0].startswith("225c59b9") and js["outcome"]["message_id"] == "r@x"
    assert js["ci"] == [] and js["ci_state"] is None
    assert main(["--config", store.config.config_path, "series", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    (row,) = [r for r in rows if r["id"] == "c@x"]
    assert row["outcome"]["trusted"] is False  # nobody configured lee@kernel.org here: a claim
