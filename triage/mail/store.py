"""The notmuch mail store: open, query, read, tag. Real notmuch2, no UI.

A database handle is opened per operation (as alot does) and nothing notmuch2
returns leaves this module: queries copy what they need into plain records,
because notmuch2 objects die with their database.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import notmuch2

from triage import paths
from triage.errors import UserError
from triage.mail import rawwalk
from triage.mail.query import from_query, quoted
from triage.model.records import BodyFacts
from triage.model.series import DEFAULT_TAG_PREFIX, STATES, MessageRecord

LOCK_WAIT_SECONDS = 10.0
PROGRESS_EVERY = 5000  # messages between two progress reports of a walk


class _Every:
    """Tells ``progress`` how many messages a walk has read, each time another
    PROGRESS_EVERY of them have been."""

    __slots__ = ("progress", "next")

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        self.progress = progress
        self.next = PROGRESS_EVERY

    def __call__(self, read: int) -> None:
        if self.progress is not None and read >= self.next:
            self.progress(read)
            self.next += PROGRESS_EVERY


class StoreError(UserError):
    """A store problem with a message fit for the status line."""


class StoreLocked(StoreError):
    """The write lock stayed held (usually by ``notmuch new``); the change was queued."""


@dataclass(frozen=True, slots=True)
class StoreConfig:
    config_path: str | None = None
    database_path: str | None = None
    tag_prefix: str = DEFAULT_TAG_PREFIX
    lock_wait: float = LOCK_WAIT_SECONDS


def _config_arg(cfg: StoreConfig) -> object:
    # SEARCH finds NOTMUCH_CONFIG, ~/.notmuch-config or the XDG profile, as notmuch does; a
    # database given alone needs no config file at all.
    if cfg.config_path:
        return cfg.config_path
    return notmuch2.Database.CONFIG.EMPTY if cfg.database_path else notmuch2.Database.CONFIG.SEARCH


def _lock_held(lockfile: Path) -> bool:
    """Probe Xapian's write lock without taking it (OFD and POSIX locks conflict)."""
    try:
        fd = os.open(lockfile, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def walk_thread(thread: notmuch2.Thread) -> Iterator[tuple[notmuch2.Message, str | None]]:
    """Messages of a thread in reply order, each with its parent's message id."""
    stack: list[tuple[notmuch2.Message, str | None]] = [(m, None) for m in thread.toplevel()]
    stack.reverse()
    while stack:
        msg, parent = stack.pop()
        yield msg, parent
        mid = str(msg.messageid)
        kids = [(r, mid) for r in msg.replies()]
        kids.reverse()
        stack.extend(kids)


def _header(msg: notmuch2.Message, name: str) -> str:
    try:
        return msg.header(name) or ""
    except (LookupError, notmuch2.NotmuchError):
        return ""


_VIA_RE = re.compile(r"\s+via\s+\S.*$")


def author_name(name: str) -> str:
    """The person behind "Name via B4 Relay" or a DMARC-rewritten "Name via list"."""
    return _VIA_RE.sub("", name).strip() or name


def _path(msg: notmuch2.Message) -> str | None:
    try:
        return str(msg.path)
    except notmuch2.NotmuchError:
        return None


@functools.lru_cache(maxsize=16384)
def _sender(value: str) -> tuple[str, str]:
    # Imported late: the addresses module pulls in the email package, which a warm start
    # (no message read) never needs.
    from triage.mail.addresses import sender_of_decoded

    name, email = sender_of_decoded(value)
    return author_name(name), email


def record_from(msg: notmuch2.Message, thread_id: str, parent: str | None) -> MessageRecord:
    name, email = _sender(_header(msg, "from"))
    # Plain str, not notmuch2's BinString: records are stored (MessagePack) and compared.
    return MessageRecord(
        message_id=str(msg.messageid),
        thread_id=str(thread_id),
        subject=_header(msg, "subject"),
        from_name=name,
        from_email=email,
        date=int(msg.date or 0),
        parent_id=parent,
        tags=frozenset(str(t) for t in msg.tags),
    )


@contextlib.contextmanager
def walk_guard(sink: BodySink | None, query: str) -> Iterator[None]:
    """A walk that fails or is left aborts its sink (no helper process outlives it), and a
    notmuch error says which query."""
    try:
        yield
    except BaseException as e:
        if sink is not None:
            sink.abort()
        if isinstance(e, notmuch2.NotmuchError):
            raise StoreError(f"notmuch query failed ({query!r}): {e}") from e
        raise


class BodySink(Protocol):
    """What takes the messages whose bodies are to be read (the series layer's reader)."""

    def submit(self, message_id: str, path: str | None, subject: str) -> None: ...

    def abort(self) -> None: ...


class Store:
    """One notmuch database."""

    replayed = 0  # queued changes applied since the store was opened (see _apply_pending)

    def __init__(self, config: StoreConfig | None = None) -> None:
        self.config = config or StoreConfig()

    # -- opening ---------------------------------------------------------------
    def _open(self, mode: notmuch2.Database.MODE) -> notmuch2.Database:
        try:
            return notmuch2.Database(
                path=self.config.database_path, mode=mode, config=_config_arg(self.config)
            )
        except notmuch2.NotmuchError as e:
            where = self.config.database_path or self.config.config_path or "the notmuch configuration"
            raise StoreError(f"cannot open notmuch database ({where}): {e}") from e
        except OSError as e:
            raise StoreError(f"cannot open notmuch database: {e}") from e

    @contextlib.contextmanager
    def read(self) -> Iterator[notmuch2.Database]:
        db = self._open(notmuch2.Database.MODE.READ_ONLY)
        try:
            yield db
        finally:
            db.close()

    def lockfile(self) -> Path | None:
        with self.read() as db:
            root = Path(str(db.path))
        candidates = [root / ".notmuch" / "xapian" / "flintlock"]
        profile = os.environ.get("NOTMUCH_PROFILE", "default")
        candidates.append(paths.data_home() / "notmuch" / profile / "xapian" / "flintlock")
        return next((c for c in candidates if c.exists()), None)

    @contextlib.contextmanager
    def write(self, on_wait: Callable[[float], None] | None = None) -> Iterator[notmuch2.Database]:
        """Open read-write, waiting a bounded time while another process holds the lock."""
        lock = self.lockfile()
        deadline = time.monotonic() + self.config.lock_wait
        delay = 0.05
        while lock is not None and _lock_held(lock):
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreLocked(
                    f"notmuch database is locked by another process ({lock.parent.parent}); "
                    f"waited {self.config.lock_wait:.0f}s"
                )
            if on_wait:
                on_wait(left)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.5)
        db = self._open(notmuch2.Database.MODE.READ_WRITE)
        try:
            yield db
        finally:
            db.close()

    # -- facts about the database ---------------------------------------------
    def path(self) -> Path:
        with self.read() as db:
            return Path(str(db.path))

    def mail_root(self) -> Path:
        """Where the mail files are (``database.mail_root``, else the database's path)."""
        return Path(self.config_value("database.mail_root") or self.path())

    def tool_env(self) -> dict[str, str]:
        """The environment in which notmuch's own commands (``notmuch new``, ``notmuch-git``)
        open this same database."""
        env = dict(os.environ)
        if self.config.config_path:
            env["NOTMUCH_CONFIG"] = self.config.config_path
        if self.config.database_path:
            env["NOTMUCH_DATABASE"] = self.config.database_path
        return env

    def revision(self) -> tuple[str, int]:
        with self.read() as db:
            rev = db.revision()
            return rev.uuid.decode(), rev.rev

    def config_value(self, key: str) -> str | None:
        with self.read() as db:
            try:
                return db.config[key]
            except (KeyError, notmuch2.NotmuchError):
                return None

    def identities(self) -> set[str]:
        """The user's addresses from the notmuch config (user.primary_email, user.other_email)."""
        found: set[str] = set()
        for key in ("user.primary_email", "user.other_email"):
            value = self.config_value(key) or ""
            found.update(a.strip().lower() for a in value.split(";") if a.strip())
        return found

    def count(self, query: str = "*") -> int:
        with self.read() as db:
            return db.count_messages(query)

    # -- reading -----------------------------------------------------------------
    def walk_records(
        self,
        query: str,
        sink: BodySink | None = None,
        known: dict[str, BodyFacts] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[MessageRecord]:
        """Every message of every thread that ``query`` reaches, with thread structure.

        Each message whose facts are not ``known`` is handed to ``sink`` (with its file
        and subject) as the walk goes; the series layer's body reader is one. On a
        failure the sink is aborted, so no helper process outlives the walk. ``progress``
        hears how many messages were read, every PROGRESS_EVERY of them."""
        from triage.mail.walk import thread_records  # it builds on this module

        out: list[MessageRecord] = []
        q = query or "*"
        every = _Every(progress)
        with self.read() as db, walk_guard(sink, query):
            for rs in thread_records(db.threads(q), sink, known):
                every(len(out))
                out.extend(rs)
        return out

    def names_at(self, address: str, limit: int = 200) -> set[str]:
        """The display names (lower case, spaces folded) the store's mail from ``address``
        carries, from up to ``limit`` messages."""
        from triage.mail.addresses import fold_name, sender_of_decoded

        out: set[str] = set()
        with self.read() as db:
            try:
                for i, m in enumerate(db.messages(from_query(address))):
                    if i >= limit:
                        break
                    name, addr = sender_of_decoded(m.header("from"))
                    if addr.lower() == address.lower() and name:
                        out.add(fold_name(name))
            except (notmuch2.NotmuchError, LookupError):
                return out
        return out

    def tagged(self, tags: Iterable[str]) -> dict[str, set[str]]:
        """For each message carrying any of ``tags``, which of them it carries."""
        wanted = set(tags)
        if not wanted:
            return {}
        q = " or ".join(f"tag:{quoted(t)}" for t in sorted(wanted))
        with self.read() as db:
            try:
                return {m.messageid: {t for t in m.tags if t in wanted} for m in db.messages(q)}
            except notmuch2.NotmuchError as e:
                raise StoreError(f"notmuch tag query failed: {e}") from e

    def prefixed_tags(self, message_ids: Iterable[str], prefix: str) -> dict[str, set[str]]:
        """For each of ``message_ids`` the store holds, its tags under ``prefix`` (prefix
        taken off); ids the store does not hold are left out."""
        out: dict[str, set[str]] = {}
        with self.read() as db:
            for mid in message_ids:
                try:
                    msg = db.find(mid)
                except LookupError:
                    continue
                except notmuch2.NotmuchError as e:
                    raise StoreError(f"notmuch lookup of <{mid}> failed: {e}") from e
                out[mid] = {str(t)[len(prefix):] for t in msg.tags if str(t).startswith(prefix)}
        return out

    def retag(self, changes: Iterable[tuple[str, Iterable[str], Iterable[str]]]) -> int:
        """(message id, tags to add, tags to remove) each, in one transaction; messages the
        store does not hold are skipped. Returns how many messages changed."""
        n = 0
        with self.write() as db:
            self._apply_pending(db)
            with db.atomic():
                for mid, add, remove in changes:
                    try:
                        msg = db.find(mid)
                    except LookupError:
                        continue
                    try:
                        with msg.frozen():
                            for t in remove:
                                msg.tags.discard(t)
                            for t in add:
                                msg.tags.add(t)
                    except notmuch2.NotmuchError as e:
                        raise StoreError(f"notmuch could not tag <{mid}>: {e}") from e
                    n += 1
        return n

    def changed_since(self, revision: int) -> list[tuple[str, str]]:
        """(message id, thread id) of every message added or re-tagged at or after ``revision``."""
        with self.read() as db:
            try:
                return [(m.messageid, m.threadid) for m in db.messages(f"lastmod:{revision}..")]
            except notmuch2.NotmuchError as e:
                raise StoreError(f"notmuch lastmod query failed: {e}") from e

    def matching_ids(self, query: str) -> set[str]:
        with self.read() as db:
            try:
                return rawwalk.message_ids(db, query or "*")
            except notmuch2.NotmuchError as e:
                raise StoreError(f"notmuch query failed ({query!r}): {e}") from e

    def thread_of(self, message_id: str) -> str | None:
        """The thread id of exactly this message id (no query is parsed), or None."""
        with self.read() as db:
            try:
                return str(db.find(message_id).threadid)
            except (LookupError, notmuch2.NotmuchError):
                return None

    def message_path(self, message_id: str) -> str | None:
        return self.message_paths([message_id])[message_id]

    def message_paths(self, message_ids: Iterable[str]) -> dict[str, str | None]:
        """The file of each message (None when it is not in the database), with one open."""
        out: dict[str, str | None] = {}
        with self.read() as db:
            for mid in message_ids:
                try:
                    out[mid] = str(db.find(mid).path)
                except LookupError:
                    out[mid] = None
        return out

    # -- writing -----------------------------------------------------------------
    def tag(self, message_ids: Iterable[str], add: Iterable[str] = (), remove: Iterable[str] = ()) -> int:
        """Change tags on messages in one transaction; queued for retry if the lock stays held."""
        op = {"ids": list(message_ids), "add": list(add), "remove": list(remove)}
        try:
            with self.write() as db:
                self._apply_pending(db)
                n = self._apply(db, op)
        except StoreLocked as e:
            self._queue(op)
            raise StoreLocked(f"{e}; the change is queued and will be applied on the next write") from e
        return n

    def set_state(self, message_ids: Iterable[str], state: str) -> int:
        if state not in STATES:
            raise StoreError(f"unknown state {state!r}; states are: {', '.join(STATES)}")
        prefix = self.config.tag_prefix
        others = [prefix + s for s in STATES if s != state]
        return self.tag(message_ids, add=[prefix + state], remove=others)

    def deliver(self, data: bytes, folder: str, tags: Iterable[str], flags: str = "S") -> tuple[str, Path]:
        """Write a message into a maildir folder of the store and index it with ``tags``.

        Returns (message id, path). The file is written before the database is opened,
        so if the lock stays held it is not lost: the next ``notmuch new`` finds it.
        """
        from triage.mail import maildir

        path = maildir.write(maildir.folder(self.path(), folder), data, flags, sync=True)
        try:
            with self.write() as db:
                self._apply_pending(db)
                msg, _dup = db.add(str(path))
                with msg.frozen():
                    for t in ("unread", "inbox", "new"):
                        msg.tags.discard(t)
                    for t in tags:
                        msg.tags.add(t)
                return msg.messageid, path
        except StoreLocked as e:
            raise StoreLocked(f"{e}; the message is in {path} for the next `notmuch new`") from e
        except notmuch2.NotmuchError as e:
            raise StoreError(f"could not index {path}: {e}") from e

    def retry_pending(self) -> int:
        with self.write() as db:
            return self._apply_pending(db)

    def _apply(self, db: notmuch2.Database, op: dict[str, list[str]]) -> int:
        n = 0
        sync = self.synchronize_flags()
        with db.atomic():
            for mid in op["ids"]:
                try:
                    msg = db.find(mid)
                except LookupError:
                    continue
                with msg.frozen():
                    for t in op["remove"]:
                        msg.tags.discard(t)
                    for t in op["add"]:
                        msg.tags.add(t)
                if sync and ("unread" in op["remove"] or "unread" in op["add"]):
                    # As notmuch tag does: the files' maildir flags follow (S for read), so
                    # mbsync and offlineimap users see it on the server.
                    msg.tags.to_maildir_flags()
                n += 1
        return n

    @functools.cache  # noqa: B019 - one store object a session; the config does not change under it
    def synchronize_flags(self) -> bool:
        return (self.config_value("maildir.synchronize_flags") or "true").strip().lower() in ("true", "1", "yes")

    def _pending_file(self) -> Path:
        key = str(self.path()).replace("/", "%")
        return paths.state_dir() / "pending" / f"{key}.jsonl"

    def _queue(self, op: dict[str, list[str]]) -> None:
        f = self._pending_file()
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            with f.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(op) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as e:
            raise StoreError(
                f"notmuch database is locked and the change could not be queued in {f}: {e.strerror or e}; "
                "nothing was changed"
            ) from e

    def pending(self) -> list[dict[str, list[str]]]:
        f = self._pending_file()
        if not f.exists():
            return []
        ops = []
        for line in f.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                ops.append(json.loads(line))
        return ops

    def _apply_pending(self, db: notmuch2.Database) -> int:
        ops = self.pending()
        for op in ops:
            self._apply(db, op)
        if ops:
            self._pending_file().unlink(missing_ok=True)
        self.replayed += len(ops)  # the screen reloads its list when queued changes went in
        return len(ops)
