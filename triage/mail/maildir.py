"""Writing messages into maildir folders of the store (imports, sent replies)."""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import time
from pathlib import Path

_seq = itertools.count(1)


def folder(root: Path, name: str) -> Path:
    """``root/name`` as a maildir (cur, new, tmp), created when missing."""
    d = root / name
    for sub in ("cur", "new", "tmp"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    return d


def unique_name(data: bytes, flags: str = "") -> str:
    digest = hashlib.sha1(data).hexdigest()[:12]
    return f"{time.time_ns()}.{os.getpid()}_{next(_seq)}.{digest}.{socket.gethostname()}:2,{flags}"


def write(maildir: Path, data: bytes, flags: str = "", *, sync: bool = False) -> Path:
    """Write into tmp/ then rename into cur/, so no reader ever sees half a message."""
    name = unique_name(data, flags)
    tmp = maildir / "tmp" / name
    final = maildir / "cur" / name
    with open(tmp, "wb") as fh:
        fh.write(data)
        if sync:  # one message the user wrote; bulk imports skip it
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final
