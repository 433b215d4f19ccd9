"""Build (once) notmuch databases of the linux-pwm list for the benchmarks.

``bench/.data/<name>/`` keeps a notmuch config, a maildir and its database between
runs; a database is rebuilt only when missing. ``full`` holds the whole list,
``quarter`` its first quarter, ``full-inc`` the whole list less its last 200
messages (imported by the incremental benchmark, then removed again).
"""

from __future__ import annotations

import lzma
import sys
from pathlib import Path

import notmuch2

from triage.mail.importer import split_mbox
from triage.mail.store import Store, StoreConfig

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
LIST = HERE.parent.parent / "shared" / "corpus" / "lists" / "linux-pwm.mbox.xz"
INCREMENT = 200


def list_messages() -> list[bytes]:
    if not LIST.exists():
        sys.exit(f"bench: {LIST} is absent; the benchmarks need ../shared/corpus")
    return list(split_mbox(lzma.decompress(LIST.read_bytes())))


def _write_maildir(root: Path, messages: list[bytes]) -> None:
    cur = root / "mail" / "list" / "cur"
    for sub in ("cur", "new", "tmp"):
        (cur.parent / sub).mkdir(parents=True, exist_ok=True)
    for i, m in enumerate(messages):
        (cur / f"{i:06d}.bench:2,S").write_bytes(m)


def _index(root: Path) -> None:
    mail = root / "mail"
    db = notmuch2.Database.create(str(mail), config=notmuch2.Database.CONFIG.EMPTY)
    try:
        files = sorted((mail / "list" / "cur").iterdir())
        for start in range(0, len(files), 2000):
            with db.atomic():
                for f in files[start : start + 2000]:
                    db.add(str(f))
    finally:
        db.close()


def build(name: str, messages: list[bytes]) -> Store:
    root = DATA / name
    cfg = root / "notmuch-config"
    if not (root / "mail" / ".notmuch").exists():
        print(f"bench: building {name} database ({len(messages)} messages, once)...", file=sys.stderr)
        root.mkdir(parents=True, exist_ok=True)
        _write_maildir(root, messages)
        cfg.write_text(f"[database]\npath={root / 'mail'}\n\n[user]\nname=Bench\nprimary_email=bench@example.org\n")
        _index(root)
    return Store(StoreConfig(config_path=str(cfg)))


def compile_triage() -> None:
    """Byte code for triage, as an installed package has it. An editable install has none
    until first import writes it, and where PYTHONDONTWRITEBYTECODE is set no process writes
    it: each would compile 40 modules again (30 ms) and the figures would measure that."""
    import compileall

    compileall.compile_dir(HERE.parent / "triage", quiet=1)


def stores() -> dict[str, Store]:
    compile_triage()
    msgs = list_messages()
    return {
        "full": build("full", msgs),
        "quarter": build("quarter", msgs[: len(msgs) // 4]),
        "full-inc": build("full-inc", msgs[:-INCREMENT]),
    }


if __name__ == "__main__":
    for name, store in stores().items():
        print(name, store.count("*"))
