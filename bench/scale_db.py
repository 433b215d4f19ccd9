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
_ID_HEADERS = (b"message-id:", b"in-reply-to:", b"references:")
_ID = re.compile(rb"<([^<>\s]+)>")
# A header field: its first line and its continuation lines.
_FIELD = re.compile(rb"^[^ \t\r\n][^\n]*\n(?:[ \t][^\n]*\n)*", re.MULTILINE)


def renamed(message: bytes, k: int) -> bytes:
    """Copy ``k`` of one message (see the module's docstring). Message ids get the suffix
    whatever their shape ("20190429104902.GA7747@ulmo" has no dot after the @)."""
    suffix = b".c%d" % k
    head, sep, body = message.partition(b"\n\n")

    def field(m: re.Match[bytes]) -> bytes:
        text = m.group(0)
        lower = text[:16].lower()
        if lower.startswith(_ID_HEADERS):
            return _ID.sub(lambda i: b"<" + i.group(1) + suffix + b">", text)
        text = _ADDRESS.sub(lambda a: a.group(0) + suffix, text)
        if lower.startswith(b"subject:"):
            end = len(text.rstrip(b"\r\n"))
            text = text[:end] + b" (c%d)" % k + text[end:]
        return text

    head = _FIELD.sub(field, head + b"\n")[:-1]
    return head + sep + _ADDRESS.sub(lambda m: m.group(0) + suffix, body)


def _maildir(root: Path) -> Path:
    cur = root / "mail" / "list" / "cur"
    for sub in ("cur", "new", "tmp"):
        (cur.parent / sub).mkdir(parents=True, exist_ok=True)
    return cur


def build(copies: int) -> Store:
    root = DATA / f"x{copies}-v2"  # v2: every message id renamed (v1 left dotless hosts alone)
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
