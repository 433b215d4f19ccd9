"""A notmuch store of one's own: a mail root, its database and a config file beside it."""

from __future__ import annotations

from pathlib import Path

import notmuch2

from triage.mail.store import StoreError

CONFIG_NAME = "notmuch-config"


def init_store(root: Path, *, name: str = "", email: str = "") -> Path:
    """Make ``root`` a notmuch mail root with its database and a config file
    (``root/notmuch-config``); returns the config's path. A root that already holds a
    database is refused (nothing is overwritten)."""
    root = root.expanduser().resolve()
    config = root / CONFIG_NAME
    if (root / ".notmuch").exists():
        raise StoreError(f"{root} already holds a notmuch database; use it with --config {config}")
    try:
        root.mkdir(parents=True, exist_ok=True)
        lines = ["[database]", f"path={root}", "", "[user]"]
        if name:
            lines.append(f"name={name}")
        if email:
            lines.append(f"primary_email={email}")
        lines += ["", "[new]", "tags=unread;inbox", "ignore=notmuch-config", "", "[maildir]", "synchronize_flags=true", ""]
        config.write_text("\n".join(lines), encoding="utf-8")
        notmuch2.Database.create(str(root), config=notmuch2.Database.CONFIG.EMPTY).close()
    except OSError as e:
        raise StoreError(f"cannot make a notmuch store in {root}: {e.strerror or e}") from e
    except notmuch2.NotmuchError as e:
        raise StoreError(f"cannot make a notmuch database in {root}: {e}") from e
    return config
