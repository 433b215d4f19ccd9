"""What the last changes to tags did, kept so that ``U`` in the screen and ``triage undo`` on
the command line take back exactly that, and say what they take back.

Each step records, per message, the tags it added and removed (computed against the tags
the message had), so undoing restores the tags as they were, whatever the change was: a
state, a deferral, a patch mark, a query's worth of series. Steps are kept in a JSON file
(``$XDG_STATE_HOME/triage/undo.json``, the last 50, read back as plain data), shared by
the screen and the command line.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from triage import paths
from triage.mail.store import Store

KEEP = 50


@dataclass
class Step:
    label: str  # "pwm: x: state new -> accepted"
    # (message id, tags the step added, tags it removed): undoing removes and adds them back
    changes: list[tuple[str, list[str], list[str]]] = field(default_factory=list)
    when: float = field(default_factory=time.time)

    def to_json(self) -> dict:
        return {"label": self.label, "changes": [list(c) for c in self.changes], "when": self.when}

    @staticmethod
    def from_json(d: object) -> Step | None:
        if not isinstance(d, dict):
            return None
        try:
            changes = [(str(m), [str(t) for t in a], [str(t) for t in r]) for m, a, r in d["changes"]]
            return Step(str(d["label"]), changes, float(d.get("when", 0)))
        except (KeyError, TypeError, ValueError):
            return None


def delta(before: dict[str, set[str]], ids: Iterable[str], add: Iterable[str], remove: Iterable[str]) -> list[tuple[str, list[str], list[str]]]:
    """Per message, what adding ``add`` and removing ``remove`` really changes."""
    add, remove = set(add), set(remove)
    out = []
    for mid in ids:
        had = before.get(mid)
        if had is None:
            continue
        added = sorted(add - had)
        removed = sorted((remove - add) & had)
        if added or removed:
            out.append((mid, added, removed))
    return out


class UndoLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.state_dir() / "undo.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[Step]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            steps = self._load()
            yield steps
            self._save(steps[-KEEP:])
        finally:
            os.close(fd)

    def _load(self) -> list[Step]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [s for s in (Step.from_json(d) for d in (data if isinstance(data, list) else [])) if s is not None]

    def _save(self, steps: list[Step]) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        try:
            tmp.write_text(json.dumps([s.to_json() for s in steps]), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise

    def record(self, step: Step) -> None:
        if step.changes:
            with self._locked() as steps:
                steps.append(step)

    def last(self) -> Step | None:
        steps = self._load()
        return steps[-1] if steps else None

    def undo(self, store: Store) -> Step | None:
        """Take back the last step (its tags as they were); None when there is none."""
        with self._locked() as steps:
            if not steps:
                return None
            step = steps.pop()
            store.retag((mid, removed, added) for mid, added, removed in step.changes)
            return step
