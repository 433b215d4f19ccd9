"""Read message bodies into :class:`BodyFacts`, in a second process when there are many.

Bodies are the expensive part of building series (file reads and decoding), and
only some messages need them: patches, covers and other non-replies always; a
reply only when notmuch's index says its body can hold a review trailer. On a
large store the reading runs in one helper process while the main process walks
the notmuch threads, and the main process takes back whatever the helper has not
started when the walk ends.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path

from triage.mail.parse import read_body_text
from triage.series.facts import BodyFacts, facts_from_text
from triage.series.model import MessageRecord

# Replies are read only when their body can carry a trailer that credits a reviewer.
# A follow-up's lone Signed-off-by, Link, Fixes or Closes is not collected (see README).
TRAILER_QUERY = " OR ".join(
    f'body:"{n}"'
    for n in ("reviewed-by", "acked-by", "tested-by", "nacked-by", "reported-by", "suggested-by", "co-developed-by")
)
CHUNK = 256
PARALLEL_THRESHOLD = 2000


def needs_body(r: MessageRecord, trailer_ids: set[str]) -> bool:
    p = r.parsed
    if p.is_reply or p.is_forward:
        return r.message_id in trailer_ids
    return True


def read_facts(path: str | None) -> BodyFacts:
    """Body facts of one message file; an unreadable file gives empty facts, never an error."""
    if not path:
        return BodyFacts(unreadable=True)
    try:
        return facts_from_text(read_body_text(path))
    except (OSError, ValueError, LookupError, UnicodeError, TypeError, AttributeError, IndexError):
        return BodyFacts(unreadable=True)


def _read_chunk(items: list[tuple[str, str | None]]) -> list[tuple[str, BodyFacts]]:
    return [(mid, read_facts(path)) for mid, path in items]


def worker_main() -> None:
    """The helper process: read chunks of (message id, path) from stdin, answer with facts."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            chunk = pickle.load(inp)
        except EOFError:
            return
        if chunk is None:
            return
        pickle.dump(_read_chunk(chunk), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()


class _Helper:
    """One helper process fed a chunk at a time by a thread, so neither side blocks the walk."""

    def __init__(self, work: queue.SimpleQueue[list[tuple[str, str | None]] | None]) -> None:
        self.results: dict[str, BodyFacts] = {}
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from triage.mail.facts_reader import worker_main; worker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self.work = work
        self.thread = threading.Thread(target=self._feed, name="triage-facts", daemon=True)
        self.thread.start()

    def _feed(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        broken = False
        while (chunk := self.work.get()) is not None:
            if not broken:
                try:
                    pickle.dump(chunk, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                    self.proc.stdin.flush()
                    self.results.update(pickle.load(self.proc.stdout))
                    continue
                except (OSError, EOFError, pickle.UnpicklingError):
                    broken = True  # the helper died: read the rest here, nothing is lost
            self.results.update(_read_chunk(chunk))

    def close(self) -> dict[str, BodyFacts]:
        self.work.put(None)
        self.thread.join()
        try:
            if self.proc.stdin:
                pickle.dump(None, self.proc.stdin)
                self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        return self.results


class FactsReader:
    """Collect (message id, path) pairs and give back their facts."""

    def __init__(self, *, expected: int = 0) -> None:
        self._work: queue.SimpleQueue[list[tuple[str, str | None]] | None] = queue.SimpleQueue()
        self._helper = _Helper(self._work) if expected >= PARALLEL_THRESHOLD else None
        self._pending: list[tuple[str, str | None]] = []
        self._done: dict[str, BodyFacts] = {}

    def submit(self, message_id: str, path: str | None) -> None:
        self._pending.append((message_id, path))
        if len(self._pending) >= CHUNK:
            self._work.put(self._pending)
            self._pending = []

    def results(self) -> dict[str, BodyFacts]:
        self._work.put(self._pending)
        self._pending = []
        # The walk is over: this process takes chunks from the same queue as the helper.
        while True:
            try:
                chunk = self._work.get_nowait()
            except queue.Empty:
                break
            if chunk is not None:
                self._done.update(_read_chunk(chunk))
        if self._helper is not None:
            self._done.update(self._helper.close())
            self._helper = None
        return self._done
