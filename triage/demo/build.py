"""The demo mail store: invented series that show what triage does, built at first run.

All mail here is written by this module (no copied list mail). The store lives in
``$XDG_CACHE_HOME/triage/demo`` and is rebuilt when ``DEMO_VERSION`` changes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import notmuch2

from triage import paths

DEMO_VERSION = "4"
MAINTAINER = ("Morgan Maintainer", "morgan@demo.example.org")
LIST = "demo-devel@lists.example.org"
_T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class _Mail:
    mid: str
    subject: str
    sender: tuple[str, str]
    body: str
    minutes: int
    parent: _Mail | None = None
    extra_refs: list[str] = field(default_factory=list)
    tags: tuple[str, ...] = ()
    to_me: bool = False  # addressed to the maintainer (To), not only copied


def _diff(path: str, old: list[str], new: list[str], start: int = 10) -> str:
    lines = [f"diff --git a/{path} b/{path}", "index 3f2a1b4..9c8d7e6 100644", f"--- a/{path}", f"+++ b/{path}"]
    lines.append(f"@@ -{start},{len(old) + 2} +{start},{len(new) + 2} @@")
    lines.append(" \tint ret;")
    lines += [f"-{x}" for x in old] + [f"+{x}" for x in new]
    lines.append(" \treturn ret;")
    return "\n".join(lines) + "\n"


def _patch(msg: str, sob: tuple[str, str], path: str, old: list[str], new: list[str], extra_trailers: str = "") -> str:
    stat = f" {path} | {len(old) + len(new)} {'+' * len(new)}{'-' * len(old)}\n 1 file changed, {len(new)} insertions(+), {len(old)} deletions(-)\n"
    trailers = f"{extra_trailers}Signed-off-by: {sob[0]} <{sob[1]}>\n"
    return f"{msg}\n\n{trailers}---\n{stat}\n{_diff(path, old, new)}-- \n2.47.1\n"


def _cover(text: str, sob: tuple[str, str], files: list[str], change_id: str | None = None) -> str:
    stat = "".join(f" {f} | 4 ++--\n" for f in files)
    stat += f" {len(files)} files changed, {2 * len(files)} insertions(+), {2 * len(files)} deletions(-)\n"
    tail = f"\n---\nbase-commit: 4d3c2b1a0f9e8d7c6b5a49382716f5e4d3c2b1a0\nchange-id: {change_id}\n" if change_id else ""
    return f"{text}\n\n{sob[0]} (1):\n  see patches\n\n{stat}{tail}\n-- \n{sob[0]} <{sob[1]}>\n"


def _reply(quote: str, text: str) -> str:
    quoted = "\n".join(f"> {line}" if line else ">" for line in quote.strip().split("\n")[:6])
    return f"On Mon, Nov 2, 2026, the author wrote:\n{quoted}\n\n{text}\n"


def demo_mails() -> list[_Mail]:
    ana = ("Ana Ortiz", "ana.ortiz@demo.example.com")
    bo = ("Bo Lindqvist", "bo@lindqvist.example.net")
    chen = ("Chen Wei", "chen.wei@demo.example.com")
    dara = ("Dara O'Neill", "dara@oneill.example.org")
    eve = ("Eve Mallory", "eve@mallory.example.net")
    mails: list[_Mail] = []

    # 1. gpio-sim line names: v1 (2 patches) then v2 (3 patches, new thread, same change-id).
    cid = "20261102-gpio-sim-names-7f3e2a"
    v1c = _Mail("gpio-sim-v1-0@demo.example.com", "[PATCH 0/2] gpio: sim: add line names", ana,
                _cover("This lets a simulated chip carry line names from configfs.", ana,
                       ["drivers/gpio/gpio-sim.c", "Documentation/admin-guide/gpio/gpio-sim.rst"], cid), 0)
    v1p1 = _Mail("gpio-sim-v1-1@demo.example.com", "[PATCH 1/2] gpio: sim: store line names", ana,
                 _patch("gpio: sim: store line names\n\nKeep the names given in configfs so that they can be\nreported by the chardev.",
                        ana, "drivers/gpio/gpio-sim.c", ["\tret = 0;"], ["\tret = gpio_sim_store_names(chip);"]), 1, v1c)
    v1p2 = _Mail("gpio-sim-v1-2@demo.example.com", "[PATCH 2/2] docs: gpio-sim: document line names", ana,
                 _patch("docs: gpio-sim: document line names", ana, "Documentation/admin-guide/gpio/gpio-sim.rst",
                        ["old text"], ["Line names are read from the 'name' attribute."]), 2, v1c)
    v1r = _Mail("gpio-sim-v1-r1@demo.example.org", "Re: [PATCH 1/2] gpio: sim: store line names", MAINTAINER,
                _reply(v1p1.body, "This leaks the names on the error path; please free them in\ngpio_sim_remove()."), 90, v1p1)
    mails += [v1c, v1p1, v1p2, v1r]

    v2c = _Mail("gpio-sim-v2-0@demo.example.com", "[PATCH v2 0/3] gpio: sim: add line names", ana,
                _cover("This lets a simulated chip carry line names from configfs.\n\nChanges in v2:\n- free names on the error path (Morgan)\n- split out the helper",
                       ana, ["drivers/gpio/gpio-sim.c", "drivers/gpio/gpiolib.h", "Documentation/admin-guide/gpio/gpio-sim.rst"], cid), 60 * 24 * 3)
    v2p = []
    for i, (title, path) in enumerate([
        ("gpio: sim: add a helper to free line names", "drivers/gpio/gpio-sim.c"),
        ("gpio: sim: store line names", "drivers/gpio/gpio-sim.c"),
        ("docs: gpio-sim: document line names", "Documentation/admin-guide/gpio/gpio-sim.rst"),
    ], 1):
        v2p.append(_Mail(f"gpio-sim-v2-{i}@demo.example.com", f"[PATCH v2 {i}/3] {title}", ana,
                         _patch(f"{title}\n\nPart {i} of the line-name work.", ana, path, [f"\told_{i}();"], [f"\tnew_{i}();"]),
                         60 * 24 * 3 + i, v2c))
    ack = _Mail("gpio-sim-v2-r1@lindqvist.example.net", "Re: [PATCH v2 3/3] docs: gpio-sim: document line names", bo,
                _reply(v2p[2].body, "Acked-by: Bo Lindqvist <bo@lindqvist.example.net> # for the docs part"), 60 * 24 * 3 + 200, v2p[2])
    rev = _Mail("gpio-sim-v2-r2@demo.example.com", "Re: [PATCH v2 0/3] gpio: sim: add line names", chen,
                _reply(v2c.body, "Tested on the bench with three simulated chips.\n\nTested-by: Chen Wei <chen.wei@demo.example.com>"),
                60 * 24 * 4, v2c)
    mails += [v2c, *v2p, ack, rev]

    # 2. A single patch without a cover letter, reviewed.
    single = _Mail("docs-typo-1@oneill.example.org", "[PATCH] docs: locking: fix a typo in the mutex section", dara,
                   _patch("docs: locking: fix a typo in the mutex section", dara, "Documentation/locking/mutex-design.rst",
                          ["the the owner"], ["the owner"]), 60 * 24 * 5)
    single_rb = _Mail("docs-typo-r1@lindqvist.example.net", "Re: [PATCH] docs: locking: fix a typo in the mutex section", bo,
                      _reply(single.body, "Reviewed-by: Bo Lindqvist <bo@lindqvist.example.net>"), 60 * 24 * 5 + 30, single)
    mails += [single, single_rb]

    # 3. net-next series with 3 of 4 patches received (incomplete).
    nc = _Mail("netq-0@demo.example.com", "[PATCH net-next 0/4] net: demo: rework queue statistics", chen,
               _cover("Move the per-queue counters to u64_stats and expose them via netlink.", chen,
                      ["drivers/net/demo/queue.c", "drivers/net/demo/stats.c", "include/net/demo.h", "net/core/demo.c"]), 60 * 24 * 6)
    mails.append(nc)
    for i in (1, 2, 4):
        mails.append(_Mail(f"netq-{i}@demo.example.com", f"[PATCH net-next {i}/4] net: demo: queue stats step {i}", chen,
                           _patch(f"net: demo: queue stats step {i}", chen, "drivers/net/demo/queue.c", [f"\tstats_{i}++;"],
                                  [f"\tu64_stats_inc(&q->stats_{i});"]), 60 * 24 * 6 + i, nc))

    # 4. An RFC with a NAK on the cover.
    rc = _Mail("mm-hint-0@mallory.example.net", "[RFC PATCH 0/2] mm: experimental page hinting", eve,
               _cover("An experiment: let user space hint which pages are cold.", eve, ["mm/hint.c", "include/linux/hint.h"]), 60 * 24 * 7)
    r1 = _Mail("mm-hint-1@mallory.example.net", "[RFC PATCH 1/2] mm: add the hint interface", eve,
               _patch("mm: add the hint interface", eve, "mm/hint.c", ["\treturn 0;"], ["\treturn hint_apply(vma);"]), 60 * 24 * 7 + 1, rc)
    r2 = _Mail("mm-hint-2@mallory.example.net", "[RFC PATCH 2/2] mm: wire up the hint syscall", eve,
               _patch("mm: wire up the hint syscall", eve, "include/linux/hint.h", ["#define HINT_NONE 0"], ["#define HINT_COLD 1"]),
               60 * 24 * 7 + 2, rc)
    nak = _Mail("mm-hint-r1@demo.example.com", "Re: [RFC PATCH 0/2] mm: experimental page hinting", chen,
                _reply(rc.body, "madvise() already covers this.\n\nNacked-by: Chen Wei <chen.wei@demo.example.com>"), 60 * 24 * 7 + 120, rc)
    mails += [rc, r1, r2, nak]

    # 5. A two-patch series with no cover, 2/2 threaded to 1/2, v2 of an earlier posting.
    t1 = _Mail("tools-v2-1@lindqvist.example.net", "[PATCH v2 1/2] tools: demo: add --json output", bo,
               _patch("tools: demo: add --json output", bo, "tools/demo/main.c", ["\tprint_table(out);"], ["\tprint_json(out);"]),
               60 * 24 * 8)
    t2 = _Mail("tools-v2-2@lindqvist.example.net", "[PATCH v2 2/2] tools: demo: document --json", bo,
               _patch("tools: demo: document --json", bo, "tools/demo/README", ["Usage: demo"], ["Usage: demo [--json]"]),
               60 * 24 * 8 + 1, t1)
    mails += [t1, t2]

    # 6. A pull request: shown as mail, never as a series.
    mails.append(_Mail("pull-1@demo.example.org", "[GIT PULL] demo fixes for v6.99-rc3", MAINTAINER,
                       "The following changes since commit 4d3c2b1a:\n\n  demo: fix the build (2026-11-01)\n\nare available in the Git repository at:\n\n  https://git.example.org/demo.git tags/demo-fixes-6.99-rc3\n",
                       60 * 24 * 9))

    # 7. Hostile text: markup and an escape sequence in subject and body are data.
    mails.append(_Mail("hostile-1@mallory.example.net", "[PATCH] lib: parse [bold red]markup[/] and \x1b[31mescapes\x1b[0m", eve,
                       _patch("lib: parse [bold red]markup[/] safely\n\nA body with [link=https://example.net]a link[/link] and \x1b]0;title\x07 in it.",
                              eve, "lib/markup.c", ["\tparse(s);"], ["\tparse_literal(s);"]), -60 * 24 * 6))
    mails += _morning()
    return mails


# A morning's worth of list mail: (author, subject prefix, title, files, patches, days after T0,
# what reviewers said). Versions of one title by one author link up; a review quotes the
# lines it is about and answers below them, as list reviews are written.
_DAY = 60 * 24
_PEOPLE = {
    "fi": ("Fiona Glass", "fiona@glass.example.org"),
    "gu": ("Gustavo Reyes", "greyes@demo.example.com"),
    "ha": ("Hana Kobayashi", "hana.k@demo.example.com"),
    "ia": ("Ian Petrov", "ian.petrov@example.net"),
    "ju": ("Julia Brandt", "jbrandt@example.org"),
    "ka": ("Kai Nakamura", "kai@nakamura.example.net"),
    "le": ("Leo Marchetti", "leo.marchetti@example.com"),
}
_MORNING = [
    ("fi", "PATCH", "pwm: demo: add a driver for the DM-2 timer", ["drivers/pwm/pwm-dm2.c", "drivers/pwm/Kconfig"], 2, 10.1, "inline"),
    ("fi", "PATCH v2", "pwm: demo: add a driver for the DM-2 timer", ["drivers/pwm/pwm-dm2.c", "drivers/pwm/Kconfig"], 2, 12.2, "rb"),
    ("gu", "PATCH", "i2c: demo: handle clock stretching timeouts", ["drivers/i2c/busses/i2c-demo.c"], 1, 10.3, "inline"),
    ("gu", "PATCH v2", "i2c: demo: handle clock stretching timeouts", ["drivers/i2c/busses/i2c-demo.c"], 1, 11.4, "inline"),
    ("gu", "PATCH v3", "i2c: demo: handle clock stretching timeouts", ["drivers/i2c/busses/i2c-demo.c"], 1, 12.5, ""),
    ("ha", "PATCH", "dt-bindings: pwm: demo: convert to YAML", ["Documentation/devicetree/bindings/pwm/demo-pwm.yaml"], 1, 11.0, "ack"),
    ("ia", "PATCH 0/5", "spi: demo: DMA support", ["drivers/spi/spi-demo.c", "drivers/spi/spi-demo-dma.c"], 5, 11.2, "inline"),
    ("ju", "PATCH", "thermal: demo: fix the trip point order", ["drivers/thermal/demo_thermal.c"], 1, 11.6, "tb"),
    ("ka", "RFC PATCH", "sched: demo: try a per-cpu idle hint", ["kernel/sched/idle.c"], 1, 11.8, "inline"),
    ("le", "PATCH", "hwmon: demo: report fan pulses per revolution", ["drivers/hwmon/demo-fan.c"], 1, 12.0, "to-me"),
    ("ju", "PATCH v2", "iio: adc: demo: use devm for the regulator", ["drivers/iio/adc/demo-adc.c"], 2, 12.3, ""),
    ("ha", "PATCH", "pwm: demo: drop the unused .request callback", ["drivers/pwm/pwm-demo.c"], 1, 12.4, "to-me"),
    ("ka", "PATCH", "clk: demo: mark the bus clock critical", ["drivers/clk/clk-demo.c"], 1, 12.6, "rb"),
    ("le", "PATCH 0/3", "leds: demo: pattern trigger cleanups", ["drivers/leds/leds-demo.c"], 3, 12.7, ""),
    ("ia", "PATCH", "MAINTAINERS: demo: add myself as a reviewer", ["MAINTAINERS"], 1, 12.8, "ack"),
    ("fi", "PATCH", "pwm: core: document the period rounding", ["drivers/pwm/core.c"], 1, 12.9, ""),
]


def _inline_review(patch: _Mail, reviewer: tuple[str, str], comment: str, minutes: int) -> _Mail:
    """A review in the usual form: the lines it is about quoted, the comment right under them."""
    lines = patch.body.split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines) - 4)
    quoted = "\n".join(f"> {line}" for line in lines[start : start + 3])
    body = f"On Mon, Nov 2, 2026, the author wrote:\n> {lines[0]}\n\n[...]\n\n{quoted}\n\n{comment}\n\nThanks,\n{reviewer[0].split()[0]}\n"
    return _Mail(f"{patch.mid.split('@')[0]}-review@{reviewer[1].split('@')[1]}", f"Re: {patch.subject}", reviewer, body, minutes, patch)


def _morning() -> list[_Mail]:
    out: list[_Mail] = []
    reviewers = [_PEOPLE["ju"], _PEOPLE["ka"], MAINTAINER, _PEOPLE["gu"]]
    for n, (who, prefix, title, files, count, day, said) in enumerate(_MORNING):
        author = _PEOPLE[who]
        start = int(day * _DAY)
        slug = f"m{n:02d}"
        domain = author[1].split("@")[1]
        cover: _Mail | None = None
        if count > 1:
            head = prefix.split(" 0/")[0]
            cover = _Mail(f"{slug}-0@{domain}", f"[{head} 0/{count}] {title}", author,
                          _cover(f"{title[0].upper()}{title[1:]}.\n\nThe series is tested on the demo board.", author, files), start,
                          to_me=said == "to-me")
            out.append(cover)
        patches = []
        for i in range(1, count + 1):
            head = prefix.split(" 0/")[0]
            counter = f" {i}/{count}" if count > 1 else ""
            ptitle = title if count == 1 else f"{title.split(': ')[0]}: {title.split(': ')[-1]} (step {i})"
            path = files[(i - 1) % len(files)]
            m = _Mail(f"{slug}-{i}@{domain}", f"[{head}{counter}] {ptitle}", author,
                      _patch(f"{ptitle}\n\nExplain why step {i} is needed, and what it changes.", author, path,
                             [f"\tdemo_old_{n}_{i}(dev);"], [f"\tret = demo_new_{n}_{i}(dev);", "\tif (ret)", "\t\treturn ret;"]),
                      start + i, cover, to_me=said == "to-me")
            patches.append(m)
        out += patches
        reviewer = reviewers[n % len(reviewers)]
        if reviewer == author:
            reviewer = _PEOPLE["le"]
        target = patches[0]
        if said == "inline":
            out.append(_inline_review(target, reviewer, "This leaks the reference when demo_new() fails: please put it\nbefore returning.", start + 90))
        elif said in ("rb", "ack", "tb"):
            name = {"rb": "Reviewed-by", "ack": "Acked-by", "tb": "Tested-by"}[said]
            out.append(_Mail(f"{slug}-r1@{reviewer[1].split('@')[1]}", f"Re: {(cover or target).subject}", reviewer,
                             _reply((cover or target).body, f"{name}: {reviewer[0]} <{reviewer[1]}>"), start + 120, cover or target))
    return out


def _render(m: _Mail) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{m.sender[0]} <{m.sender[1]}>"
    if m.to_me:
        msg["To"] = f"{MAINTAINER[0]} <{MAINTAINER[1]}>"
        msg["Cc"] = LIST
    else:
        msg["To"] = LIST
        if m.sender != MAINTAINER:
            msg["Cc"] = f"{MAINTAINER[0]} <{MAINTAINER[1]}>"
    msg["Subject"] = m.subject
    msg["Date"] = format_datetime(_T0 + timedelta(minutes=m.minutes))
    msg["Message-ID"] = f"<{m.mid}>"
    if m.parent is not None:
        chain: list[str] = []
        p: _Mail | None = m.parent
        while p is not None:
            chain.insert(0, f"<{p.mid}>")
            p = p.parent
        msg["In-Reply-To"] = f"<{m.parent.mid}>"
        msg["References"] = " ".join(chain)
    msg.set_content(m.body)
    return bytes(msg)


def demo_root() -> Path:
    return paths.cache_dir() / "demo"


def demo_config(root: Path | None = None, *, rebuild: bool = False) -> Path:
    """Build the demo store if missing or stale; return its notmuch config file."""
    root = root or demo_root()
    cfg = root / "notmuch-config"
    stamp = root / "VERSION"
    if not rebuild and cfg.exists() and stamp.exists() and stamp.read_text().strip() == DEMO_VERSION:
        return cfg
    if root.exists():
        shutil.rmtree(root)
    mail = root / "mail"
    for sub in ("cur", "new", "tmp"):
        (mail / "demo" / sub).mkdir(parents=True, exist_ok=True)
    files = []
    for i, m in enumerate(demo_mails()):
        f = mail / "demo" / "cur" / f"{i:03d}.{m.mid.split('@')[0]}:2,S"
        f.write_bytes(_render(m))
        files.append((f, m))
    cfg.write_text(
        f"[database]\npath={mail}\n\n[user]\nname={MAINTAINER[0]}\nprimary_email={MAINTAINER[1]}\n\n"
        "[new]\ntags=unread;inbox\n\n[search]\nexclude_tags=deleted;spam\n",
        encoding="utf-8",
    )
    db = notmuch2.Database.create(str(mail), config=notmuch2.Database.CONFIG.EMPTY)
    try:
        with db.atomic():
            for f, m in files:
                added, _ = db.add(str(f))
                with added.frozen():
                    for t in ("inbox", *m.tags):
                        added.tags.add(t)
                    if m.minutes > 60 * 24 * 12:  # this morning's mail is unread
                        added.tags.add("unread")
    finally:
        db.close()
    stamp.write_text(DEMO_VERSION)
    return cfg
