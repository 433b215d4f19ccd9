"""Read message bodies into :class:`BodyFacts`, in a second process when there are many.

Bodies are the expensive part of building series (file reads and decoding), and
only some messages need them: patches, covers and other non-replies always; a
reply only when notmuch's index says its body can hold a review trailer. On a
large store the reading runs in one helper process while the main process walks
the notmuch threads. The helper asks notmuch which replies can hold a trailer
itself (that query would otherwise delay the walk), is handed a chunk of work
only when it takes the one before and sends each chunk's facts back as plain
tuples; once the walk is over the main process reads whatever the helper has not
been handed yet. Patch-ids (only version linking reads them) come last: the
helper makes them while the main process groups series. Whoever reads a message,
the facts are the same.
"""

from __future__ import annotations

import collections
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from triage.mail.addresses import claimed_sender, sender_of_raw
from triage.mail.parse import body_and_from, read_bytes
from triage.model.subject import parse_subject
from triage.series.facts import BodyFacts, body_patch_id, facts_from_text

# Replies are read only when their body can carry a trailer that credits a reviewer, a
# decision ("Applied", "queued", "picked up", "merged") or a robot's report. A follow-up's
# lone Signed-off-by, Link, Fixes or Closes is not collected (see README).
TRAILER_QUERY = " OR ".join(
    [f'body:"{n}"'
     for n in ("reviewed-by", "acked-by", "tested-by", "nacked-by", "reported-by", "suggested-by", "co-developed-by",
               "applied", "queued", "picked", "merged", "syzbot")]
    + ['from:"lkp@intel.com"']
)
CHUNK = 256
PARALLEL_THRESHOLD = 2000

# (message id, file path, is a reply or forward). Of the replies, only those that can hold a
# trailer (the trailer query's messages) are read.
Item = tuple[str, str | None, bool]
TrailerIds = set[str]


def _is_reply(subject: str) -> bool:
    """A reply or forward by its subject: only its follow-up side is read (see facts_from_text)."""
    p = parse_subject(subject)  # cached: the record parses the same subject again for free
    return p.is_reply or p.is_forward


def trailer_query(query: str) -> str:
    """Messages of the threads ``query`` reaches whose body can hold a review trailer."""
    q = query.strip() or "*"
    # notmuch reads "*" as "everything" only when it is the whole query.
    if q == "*" or "}" in q:
        return TRAILER_QUERY
    inner = q.replace('"', '""')
    return f'thread:"{{{inner}}}" AND ({TRAILER_QUERY})'


def read_facts(path: str | None, reply: bool | None = None) -> BodyFacts:
    """Body facts of one message file; an unreadable file gives empty facts, never an error."""
    return _read(path, reply)[0]


def _read(path: str | None, reply: bool | None, with_patch_id: bool = True) -> tuple[BodyFacts, str | None]:
    """(facts, decoded text) of one message file; the text is None when it could not be read."""
    if not path:
        return BodyFacts(unreadable=True), None
    try:
        data = read_bytes(path)
    except OSError:
        return BodyFacts(unreadable=True), None
    sender: tuple[str, str] = ("", "")
    try:
        text, raw_from, clamped = body_and_from(data)
        # The name stays encoded: it is decoded only where it replaces notmuch's (rare).
        sender = sender_of_raw(raw_from, decode=False) or sender
        claimed = claimed_sender(data, sender) if " via " in sender[0] else None
        facts = facts_from_text(text, reply=reply, with_patch_id=with_patch_id)
        # clamped, claimed, sender and patch_id are the last four fields (see BodyFacts)
        return BodyFacts._make((*facts[:-4], clamped, claimed, sender, facts[-1])), text
    except Exception:  # noqa: BLE001 - nesting too deep for the parser, and whatever a fuzzer finds
        return BodyFacts(unreadable=True, sender=sender), None


def _read_items(
    items: list[Item], trailer_ids: TrailerIds, later: list[tuple[str, str]] | None = None
) -> list[tuple[str, BodyFacts]]:
    """Facts of the items worth reading. With ``later``, patches get no patch-id: their
    (message id, text) go to ``later`` for :func:`body_patch_id` once the rest is sent."""
    out = []
    for mid, path, reply in items:
        if reply and mid not in trailer_ids:
            continue
        defer = later is not None and not reply  # a reply's facts have no patch-id at all
        facts, text = _read(path, reply, with_patch_id=not defer)
        if defer and later is not None and facts.has_diff and text is not None:
            later.append((mid, text))
        out.append((mid, facts))
    return out


def facts_here(items: list[tuple[str, str | None, str]], trailer_ids_of: Callable[[list[str]], TrailerIds]) -> dict[str, BodyFacts]:
    """Facts, with patch-ids, of a few messages (id, file, subject) read in this process; the
    trailer query is asked of their replies only (tens of ms for a thousand, where the whole
    store's answer takes seconds on a large one)."""
    marked = [(mid, path, _is_reply(subject)) for mid, path, subject in items]
    replies = [mid for mid, _, reply in marked if reply]
    return dict(_read_items(marked, trailer_ids_of(replies) if replies else set()))


def worker_main() -> None:
    """The helper process. stdin: (store config, trailer query), then chunks of items, then None.
    stdout: the ids of the messages that can hold a trailer, as soon as known; for each chunk
    its size as it is taken (the main process sends the next one then) and its (message id,
    facts tuple) list once read; None after the last; then the patch-ids those facts left out
    (only version linking reads them, after grouping). A FLUSH instead of a chunk (a batch of
    a batched build ends) is answered with (FLUSH, the patch-ids left out so far)."""
    import gc

    from triage.mail.rawwalk import message_ids
    from triage.mail.store import Store

    gc.disable()  # a short-lived process making acyclic objects: the collector only costs time
    inp, out = sys.stdin.buffer, sys.stdout.buffer

    def send(obj: object) -> None:
        pickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    config, tq, share = pickle.load(inp)
    with Store(config).read() as db:
        trailer_ids = message_ids(db, tq)
    # Shared, the main process hands over no reply that cannot hold a trailer; a batched
    # build does not keep a set of the whole store's ids (tens of MB at a million messages).
    send(trailer_ids if share else None)
    later: list[tuple[str, str]] = []
    while True:
        try:
            chunk = pickle.load(inp)
        except EOFError:
            return
        if chunk is None:
            break
        send(len(chunk))
        if chunk == FLUSH:
            # A batch ends (see FactsReader.drain): its patch-ids now, so none waits for the end.
            send((FLUSH, {mid: body_patch_id(text) for mid, text in later}))
            later = []
            continue
        send([(mid, f.to_tuple()) for mid, f in _read_items(chunk, trailer_ids, later)])
    send(None)
    send({mid: body_patch_id(text) for mid, text in later})
    # Everything is sent and nothing needs closing (the database was opened read-only and is
    # closed): leave without freeing 50 MB of texts object by object while the main process
    # waits to reap us, as multiprocessing's workers do.
    os._exit(0)


# In place of a chunk: the end of a batch (see FactsReader.drain).
FLUSH = "flush"

# Chunks handed to the helper and not yet taken. One is enough for it never to wait (the
# next chunk is sent as it takes one), and what is left at the end of the walk stays in
# the queue, where this process takes its share.
IN_FLIGHT = 1


class _Helper:
    """The helper process, and threads that hand it chunks and read its answers without
    holding up the walk."""

    def __init__(self, init: tuple[Any, str, bool], work: queue.SimpleQueue[list[Item] | None]) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            # -P: the current directory must not shadow this triage (a checkout of another version).
            [sys.executable, "-P", "-c", "from triage.series.facts_reader import worker_main; worker_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # A helper that fails costs time, never facts (its share is read here), and its
            # traceback must not land on the screen of the app.
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.work = work
        self.sent: list[list[Item] | str] = []  # read again here if the helper fails; FLUSH marks a batch's end
        self.broken = False
        self._permits = threading.Semaphore(IN_FLIGHT)
        self._ended = False
        self._reading = threading.Event()  # set once the reader has stopped
        self._trailer_ids: TrailerIds | None = None
        self._trailer_ids_known = threading.Event()
        self._facts: dict[str, BodyFacts] | None = None
        self._facts_known = threading.Event()
        # A batch's (facts, patch-ids left out) once the helper answered its FLUSH; None if it failed.
        self.flushed: queue.SimpleQueue[tuple[dict[str, BodyFacts], dict[str, str | None]] | None] = queue.SimpleQueue()
        self._send(init)
        self.feeder = threading.Thread(target=self._feed, name="triage-facts-feed", daemon=True)
        self.reader = threading.Thread(target=self._read, name="triage-facts-read", daemon=True)
        self.feeder.start()
        self.reader.start()

    def unanswered(self) -> list[Item]:
        """The items handed over and not answered yet (read here if the helper fails)."""
        return [i for c in self.sent if not isinstance(c, str) for i in c]

    def _send(self, obj: object) -> None:
        if self.broken:
            return
        try:
            stdin: IO[bytes] = self.proc.stdin  # type: ignore[assignment]
            pickle.dump(obj, stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.flush()
        except (OSError, ValueError):
            self.broken = True

    def _feed(self) -> None:
        # Waits (without the GIL) until the helper takes a chunk before handing it another;
        # the chunks it has not been handed stay in the queue for this process to share.
        while True:
            if not self._reading.is_set():
                self._permits.acquire()
            chunk = self.work.get()
            if chunk is None:
                break
            self.sent.append(chunk)  # a FLUSH too: what a batch's answer covers ends there
            self._send(chunk)
        self._send(None)
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass

    def _read(self) -> None:
        stdout: IO[bytes] = self.proc.stdout  # type: ignore[assignment]
        try:
            self._trailer_ids = pickle.load(stdout)
            self._trailer_ids_known.set()
            facts: dict[str, BodyFacts] = {}
            while (got := pickle.load(stdout)) is not None:
                if isinstance(got, int):
                    self._permits.release()  # a chunk was taken
                elif isinstance(got, tuple):  # (FLUSH, patch-ids): a batch is read
                    self.flushed.put((facts, got[1]))
                    facts = {}
                else:  # a chunk's facts, turned into objects while the walk is in libnotmuch
                    facts.update((mid, BodyFacts.from_tuple(t)) for mid, t in got)
            self._facts = facts
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            self.broken = True
        finally:
            self.flushed.put(None)  # a batch waiting for its facts hears that the helper is gone
            self._trailer_ids_known.set()
            self._facts_known.set()
            # No more chunks will be taken: the feeder must not wait for the helper now.
            self._reading.set()
            self._permits.release()

    def trailer_ids(self) -> TrailerIds | None:
        self._trailer_ids_known.wait()
        return self._trailer_ids

    def known_trailer_ids(self) -> TrailerIds | None:
        """The trailer query's messages if the helper has sent them already (never waits)."""
        return self._trailer_ids

    def _end_work(self) -> None:
        if not self._ended:
            self._ended = True
            self.work.put(None)

    def _shut(self, *, kill: bool) -> None:
        self._end_work()
        if kill:
            self.proc.kill()
        self.feeder.join()
        self.reader.join()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        self.proc.wait()

    def abort(self) -> None:
        """Stop the helper without waiting for its answers (the walk failed)."""
        self.broken = True
        self._shut(kill=True)

    def finish(self) -> dict[str, BodyFacts] | None:
        """The helper's facts without the patch-ids (see :meth:`later`), or None when it failed
        (its chunks must then be read here)."""
        self._end_work()
        self._facts_known.wait()
        if self._facts is None:
            self._shut(kill=True)
        else:
            # Both threads are done with their last message: joined, the process has no
            # thread left, which the index's forked writer needs (see triage.forked).
            self.reader.join()
            self.feeder.join()
        return self._facts

    def later(self) -> dict[str, str | None] | None:
        """The patch-ids left out of :meth:`finish`'s facts, or None when the helper failed
        (called only after :meth:`finish` gave facts, which joined the reader thread)."""
        # Read here, not by the reader thread: that thread would fight the grouping for the
        # GIL at every read of the pipe, while this waits for nothing else.
        later: dict[str, str | None] | None = None
        if not self.broken:
            try:
                later = pickle.load(self.proc.stdout)  # type: ignore[arg-type]
            except (OSError, EOFError, pickle.UnpicklingError, ValueError):
                self.broken = True
        self._shut(kill=False)
        return later


class FactsReader:
    """Collect messages (id, file, subject) and give back their facts.

    ``trailer_ids`` gives the messages whose body can hold a trailer (run in this process); with
    ``helper`` = (store config, trailer query) a helper process reads most bodies.
    """

    def __init__(
        self,
        trailer_ids: Callable[[], TrailerIds],
        *,
        helper: tuple[Any, str] | None = None,
        share_trailer_ids: bool = True,
    ) -> None:
        self._local_trailer_ids = trailer_ids
        self._trailer_ids: TrailerIds | None = None
        self._work: queue.SimpleQueue[list[Item] | None] = queue.SimpleQueue()
        self._helper = _Helper((*helper, share_trailer_ids), self._work) if helper is not None else None
        self._pending: list[tuple[str, str | None, str]] = []  # (message id, file, subject)
        self._finishing: _Helper | None = None  # gave its facts; its patch-ids are to come
        # A batch marked and not collected: its facts (read here), or None (the helper's answer).
        self._tickets: collections.deque[dict[str, BodyFacts] | None] = collections.deque()

    def submit(self, message_id: str, path: str | None, subject: str) -> None:
        self._pending.append((message_id, path, subject))
        if len(self._pending) >= CHUNK:
            self._work.put(self._chunk())

    def _chunk(self) -> list[Item]:
        """The pending items with their reply flags, made in one go: subject parsing between
        libnotmuch calls ran at half the speed of the same parsing in a row (CPU caches)."""
        items = [(mid, path, _is_reply(subject)) for mid, path, subject in self._pending]
        self._pending = []
        known = self._helper.known_trailer_ids() if self._helper is not None else None
        if known is not None:
            # A reply that cannot hold a trailer is never read: no need to hand it over.
            items = [i for i in items if not i[2] or i[0] in known]
        return items

    def _trailers(self) -> TrailerIds:
        if self._trailer_ids is None:
            got = self._helper.trailer_ids() if self._helper is not None else None
            self._trailer_ids = got if got is not None else self._local_trailer_ids()
        return self._trailer_ids

    def abort(self) -> None:
        for helper in (self._helper, self._finishing):
            if helper is not None:
                helper.abort()
        self._helper = self._finishing = None

    def results(self) -> dict[str, BodyFacts]:
        """Every item's facts; the patch-ids of those the helper read may still be missing
        (see :meth:`patch_ids`)."""
        # The walk is over: this process reads chunks from the same queue as the helper's feeder.
        done = self._read_queued()
        if self._helper is not None:
            helper, self._helper = self._helper, None
            got = helper.finish()
            if got is None:  # the helper died: nothing is lost, its share is read here
                got = dict(_read_items(helper.unanswered(), self._trailers()))
            else:
                self._finishing = helper
            done.update(got)
        return done

    def mark(self) -> None:
        """The end of a batch of a batched build: its facts are asked for (see :meth:`collect`)
        while the walk goes on to the next batch, so the helper reads bodies both while this
        process walks and while it groups."""
        if self._helper is None:
            self._tickets.append(self._read_queued())
            return
        self._work.put(self._chunk())
        self._work.put(FLUSH)  # type: ignore[arg-type]  # taken by the feeder, never by _read_queued
        self._tickets.append(None)

    def collect(self) -> dict[str, BodyFacts]:
        """The facts, with patch-ids, of the oldest batch marked and not collected yet (waits
        for the helper). If the helper failed, everything it was handed and not answered is
        read here, given to each batch still waiting (facts are matched by message id), and
        later batches are read here alone."""
        ticket = self._tickets.popleft()
        if ticket is not None:
            return ticket
        helper = self._helper
        got = helper.flushed.get() if helper is not None else None
        if helper is None or got is None or helper.broken:
            self._helper = None
            if helper is not None:
                helper.abort()
            items = helper.unanswered() if helper is not None else []
            spare = dict(_read_items(items, self._trailers()))
            spare.update(self._read_queued())
            self._tickets = collections.deque(spare if t is None else t for t in self._tickets)
            return spare
        facts, pids = got
        del helper.sent[: helper.sent.index(FLUSH) + 1]  # answered; the feeder only appends
        make = BodyFacts._make  # patch_id is the last field
        for mid, pid in pids.items():
            f = facts.get(mid)
            if f is not None:
                facts[mid] = make((*f[:-1], pid))
        return facts

    def _read_queued(self) -> dict[str, BodyFacts]:
        """The pending items and the chunks the helper has not taken, read here."""
        self._work.put(self._chunk())
        done: dict[str, BodyFacts] = {}
        while True:
            try:
                chunk = self._work.get_nowait()
            except queue.Empty:
                break
            if chunk and chunk != FLUSH:  # an empty chunk must not ask for the trailer ids
                done.update(_read_items(chunk, self._trailers()))
        return done

    def patch_ids(self) -> dict[str, str | None]:
        """The patch-ids :meth:`results` left out, by message id (waits for the helper)."""
        helper, self._finishing = self._finishing, None
        if helper is None:
            return {}
        got = helper.later()
        if got is None:  # the helper died after its facts: its patches are read again here
            items = [i for i in helper.unanswered() if not i[2]]
            got = {mid: f.patch_id for mid, f in _read_items(items, set()) if f.has_diff}
        return got
