"""Build (once) notmuch stores of N renamed copies of linux-pwm, for the scale benchmark.

Copy ``k`` of the list is the list with every address-like token (addresses, and the
Message-IDs and References made of them) given a ``.ck`` suffix, so ids, senders and
trailers stay consistent inside a copy and never meet another copy's, and with ``(ck)``
at the end of every Subject, so no series or version links across copies. A store of N
copies is ``bench/.data/xN/`` (ignored by git), kept between runs:

    .venv/bin/python bench/scale_db.py 1 10
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import notmuch2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus_db import DATA, list_messages  # noqa: E402

from triage.mail.store import Store, StoreConfig  # noqa: E402

_ADDRESS = re.compile(rb"[A-Za-z0-9._%+=$-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# The Subject header with its continuation lines, up to the line ending of the last one.
_SUBJECT = re.compile(rb"^(Subject:[^\n]*(?:\n[ \t][^\n]*)*?)(\r?\n)(?![ \t])", re.MULTILINE | re.IGNORECASE)


def renamed(message: bytes, k: int) -> bytes:
    """Copy ``k`` of one message (see the module's docstring)."""
    suffix = b".c%d" % k
    head, sep, body = message.partition(b"\n\n")
    head = _ADDRESS.sub(lambda m: m.group(0) + suffix, head)
    head = _SUBJECT.sub(lambda m: m.group(1).rstrip(b"\r") + b" (c%d)" % k + m.group(2), head, count=1)
    return head + sep + _ADDRESS.sub(lambda m: m.group(0) + suffix, body)


def _maildir(root: Path) -> Path:
    cur = root / "mail" / "list" / "cur"
    for sub in ("cur", "new", "tmp"):
        (cur.parent / sub).mkdir(parents=True, exist_ok=True)
    return cur


def build(copies: int) -> Store:
    root = DATA / f"x{copies}"
    cfg = root / "notmuch-config"
    if not (root / "mail" / ".notmuch" / "done").exists():
        messages = list_messages()
        print(f"bench: building x{copies} ({copies} x {len(messages)} messages, once)...", file=sys.stderr)
        cur = _maildir(root)
        for k in range(copies):
            for i, m in enumerate(messages):
                (cur / f"c{k:02d}-{i:06d}.bench:2,S").write_bytes(renamed(m, k))
        cfg.write_text(f"[database]\npath={root / 'mail'}\n\n[user]\nname=Bench\nprimary_email=bench@example.org\n")
        t0 = time.monotonic()
        db = notmuch2.Database.create(str(root / "mail"), config=notmuch2.Database.CONFIG.EMPTY)
        try:
            files = sorted(cur.iterdir())
            for start in range(0, len(files), 2000):
                with db.atomic():
                    for f in files[start : start + 2000]:
                        db.add(str(f))
                print(f"bench: x{copies}: {start + 2000}/{len(files)} indexed, {time.monotonic() - t0:.0f} s", file=sys.stderr)
        finally:
            db.close()
        (root / "mail" / ".notmuch" / "done").write_text("")
    return Store(StoreConfig(config_path=str(cfg)))


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [1, 10]:
        print(f"x{n}", build(n).count("*"))
