"""triage's own settings, read from ``$XDG_CONFIG_HOME/triage/config.toml``.

The file is checked against a schema (msgspec structs): unknown keys are named (with
the key they are most likely a typo of), wrong types and values say what is wanted.
A bad table never stops the app: its problem is reported with the file and line, and
that table's defaults apply; the other tables are used as written.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from triage import paths
from triage.model.policy import Section
from triage.model.series import DEFAULT_TAG_PREFIX, STATES
from triage.sendconfig import SendSettings

MAX_CONFIG_BYTES = 256 * 1024  # a settings file is a few hundred bytes; more is not one


@dataclass
class Settings:
    notmuch_config: str | None = None
    database: str | None = None
    tag_prefix: str = DEFAULT_TAG_PREFIX
    keymap: str = "default"
    trailers_ignore_from: list[str] = field(default_factory=list)
    identity_name: str | None = None
    identity_email: str | None = None
    send: SendSettings = field(default_factory=SendSettings)
    # The state a series moves to after a Reviewed-by/Acked-by reply; None leaves it alone.
    state_after_review: str | None = "reviewed"
    state_after_reply: str | None = None  # the state a plain reply on a patch sets (None: none)
    reply_context: int = 5  # lines quoted above a commented line
    export_link: str | None = "https://lore.kernel.org/r/{msgid}"
    export_link_to: str = "cover"
    export_signoff: bool = False
    export_carry: bool = True
    apply_repo: str | None = None
    apply_base: str | None = None  # None: HEAD; "auto": the series' base-commit when the tree has it
    export_dir: str | None = None  # where the screen writes exports (default: the current directory)
    queue_watch: list[str] = field(default_factory=list)
    queue_files: list[str] = field(default_factory=list)
    queue_start: bool = False
    view_mark_read: bool = False
    fetch_queries: list[str] = field(default_factory=list)
    fetch_folder: str = "lei"
    sync_remote: str | None = None
    sync_repository: str | None = None
    sync_timeout: float = 120.0
    fetch_timeout: float = 120.0
    trust_dns: bool = True  # DKIM/ARC keys may be asked of DNS
    trust_relays: list[str] | None = None  # None: the default (B4 Relay's address)
    trust_lists: list[str] = field(default_factory=list)  # list domains that vouch for rewritten senders
    outcome_maintainers: list[str] = field(default_factory=list)  # whose "Applied" decides
    outcome_maintainers_file: str | None = None
    outcome_sections: tuple[Section, ...] = ()  # the MAINTAINERS file's sections, read
    outcome_bots: list[str] | None = None  # None: the default robots
    queue_stale_after: str | None = None  # "180d": series silent that long leave the queue
    source: Path | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def identities(self) -> list[str]:
        """The addresses config.toml makes the user's (notmuch's user.*_email are added by the store)."""
        return [self.identity_email] if self.identity_email else []


# -- the schema ------------------------------------------------------------------------------
NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
Address = Annotated[str, msgspec.Meta(pattern=r"^[^\s@<>]+@[^\s@<>]+$", max_length=254)]
Prefix = Annotated[str, msgspec.Meta(pattern=r"^\S+$", max_length=64)]
# A Link template: {msgid} and no other field (it is substituted, never str.format'ed).
LinkTemplate = Annotated[str, msgspec.Meta(pattern=r"^(?:[^{}]*\{msgid\})+[^{}]*$|^$", max_length=2048)]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]
State = Literal["new", "under-review", "reviewed", "changes-requested", "accepted", "rejected", "superseded", "deferred", ""]
assert set(State.__args__) == {*STATES, ""}  # type: ignore[attr-defined]


class _Table(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class NotmuchTable(_Table):
    config: NonEmpty | None = None
    database: NonEmpty | None = None


class TrailersTable(_Table):
    ignore_from: Annotated[list[Annotated[str, msgspec.Meta(max_length=254)]], msgspec.Meta(max_length=1000)] = []


class IdentityTable(_Table):
    name: NonEmpty | None = None
    email: Address | None = None


class ReplyTable(_Table):
    state_after_review: State = "reviewed"
    state_after_reply: State = ""  # e.g. "changes-requested": a reply without a trailer asks for changes
    context: Annotated[int, msgspec.Meta(ge=0, le=50)] = 5  # lines quoted above a commented line


class SmtpTable(_Table):
    host: NonEmpty = "localhost"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    security: Literal["none", "starttls", "tls"] = "starttls"
    user: NonEmpty | None = None
    password_command: NonEmpty | None = None
    password: str | None = None  # never used: reported, so a password in the file is noticed
    timeout: Seconds = 30.0


class SendmailTable(_Table):
    command: NonEmpty = "sendmail -t -oi"


class SendTable(_Table):
    method: Literal["smtp", "sendmail"] | None = None
    deadline: Seconds = 60.0
    smtp: SmtpTable = msgspec.field(default_factory=SmtpTable)
    sendmail: SendmailTable = msgspec.field(default_factory=SendmailTable)


class ExportTable(_Table):
    carry: bool = True  # reviews of an unchanged patch's earlier version go with it
    link: LinkTemplate = "https://lore.kernel.org/r/{msgid}"
    link_to: Literal["cover", "patch"] = "cover"
    signoff: bool = False
    dir: NonEmpty | None = None


class QueueTable(_Table):
    watch: Annotated[list[NonEmpty], msgspec.Meta(max_length=200)] = []  # notmuch queries
    files: Annotated[list[NonEmpty], msgspec.Meta(max_length=2000)] = []  # MAINTAINERS F: patterns
    start: bool = False  # open the screen on the queue
    # Series with no message for this long leave the queue ("180d", "26w"); unset: never.
    stale_after: Annotated[str, msgspec.Meta(pattern=r"^\d{1,5}[dw]$")] | None = None


class ViewTable(_Table):
    mark_read: bool = False  # a message shown in the message view is marked read


class FetchTable(_Table):
    queries: Annotated[list[NonEmpty], msgspec.Meta(max_length=200)] = []  # lei queries (public-inbox search syntax)
    # A maildir folder of the store: one name inside the mail root ("." and ".." are not).
    folder: Annotated[str, msgspec.Meta(pattern=r"^(?!\.\.?$)[A-Za-z0-9._-]+$", max_length=64)] = "lei"
    timeout: Seconds = 120.0  # for the whole fetch, however lei and its externals trickle


class SyncTable(_Table):
    remote: NonEmpty | None = None  # a git URL every maintainer sharing states can push to
    repository: NonEmpty | None = None  # the notmuch-git repository (default: in the XDG data dir)
    timeout: Seconds = 120.0  # for the whole sync, however the remote trickles


class TrustTable(_Table):
    dns: bool = True  # false: no DKIM/ARC key is asked of DNS (signatures read "not checked")
    # Relays whose display names stand for a person (B4 Relay's address by default).
    relays: Annotated[list[Address], msgspec.Meta(max_length=100)] | None = None
    # List domains whose ARC seal or DKIM signature vouches for the sender of a From they
    # rewrote wherever it sits in the chain (else only the list that delivered the message).
    lists: Annotated[list[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$", max_length=253)]],
                     msgspec.Meta(max_length=100)] = []


class OutcomeTable(_Table):
    maintainers: Annotated[list[Address], msgspec.Meta(max_length=1000)] = []  # whose "Applied" decides
    maintainers_file: NonEmpty | None = None  # a MAINTAINERS file: M: of sections whose F: match decide
    bots: Annotated[list[Address], msgspec.Meta(max_length=100)] | None = None  # robots whose reports are read


class ApplyTable(_Table):
    repo: NonEmpty | None = None
    base: Literal["auto", "head"] = "head"


TABLES: dict[str, type[_Table]] = {
    "notmuch": NotmuchTable,
    "trailers": TrailersTable,
    "identity": IdentityTable,
    "reply": ReplyTable,
    "send": SendTable,
    "export": ExportTable,
    "apply": ApplyTable,
    "queue": QueueTable,
    "view": ViewTable,
    "fetch": FetchTable,
    "sync": SyncTable,
    "trust": TrustTable,
    "outcome": OutcomeTable,
}
TOP_KEYS = {"tag_prefix": Prefix, "keymap": NonEmpty}


MAX_MAINTAINERS_BYTES = 8 * 1024 * 1024  # the kernel's is under 1 MB
_ADDR_RE = re.compile(r"<([^<>\s]+@[^<>\s]+)>|(\S+@\S+)")


def read_maintainers(path: Path) -> tuple[Section, ...]:
    """The sections of a MAINTAINERS file: each one's F: and X: patterns, N: regexes and M:
    addresses. Raises OSError when it cannot be read."""
    if path.stat().st_size > MAX_MAINTAINERS_BYTES:
        raise OSError(f"{path} is larger than {MAX_MAINTAINERS_BYTES // 1024 // 1024} MB: not a MAINTAINERS file")
    sections: list[Section] = []
    files: list[str] = []
    excludes: list[str] = []
    regexes: list[str] = []
    people: list[str] = []

    def close() -> None:
        if people and (files or regexes):
            sections.append(Section(tuple(files), tuple(excludes), tuple(regexes), tuple(people)))
        for gathered in (files, excludes, regexes, people):
            gathered.clear()

    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.rstrip()
        if not line.strip():
            close()
            continue
        m = re.match(r"^([A-Z]):\s*(.*)$", line)
        if not m:
            continue
        tag, value = m[1], m[2].strip()
        if tag == "M":
            a = _ADDR_RE.search(value)
            if a:
                people.append((a[1] or a[2]).lower())
        elif tag == "F":
            files.append(value)
        elif tag == "X":
            excludes.append(value)
        elif tag == "N":
            regexes.append(value)
    close()
    return tuple(sections)


def config_file() -> Path:
    return paths.config_dir() / "config.toml"


# -- reading ---------------------------------------------------------------------------------
def _toml_error(path: Path, err: Exception) -> str:
    # tomllib says "(at line 3, column 7)"; keep that and lead with the file.
    m = re.search(r"at line (\d+), column (\d+)", str(err))
    where = f"{path}:{m[1]}:{m[2]}" if m else str(path)
    return f"{where}: {str(err).split(' (at line')[0]}"


def _line_of(text: str, table: str | None, key: str | None) -> int | None:
    """The line where ``key`` is set in ``[table]`` (or where the table starts)."""
    lines = text.splitlines()
    start = 0
    if table:
        header = re.compile(r"^\s*\[\s*" + re.escape(table).replace(r"\.", r"\s*\.\s*") + r"\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), -1)
        if start < 0:
            dotted = re.compile(r"^\s*" + re.escape(table.split(".")[0]) + r"\s*[.=]")
            start = next((i for i, line in enumerate(lines) if dotted.match(line)), 0)
            return start + 1 if key is None else _key_line(lines, start, key) or start + 1
    if key is None:
        return start + 1
    return _key_line(lines, start, key)


def _key_line(lines: list[str], start: int, key: str) -> int | None:
    pattern = re.compile(r"^\s*(?:[\w.-]+\.)?" + re.escape(key) + r"\s*=|[{,]\s*" + re.escape(key) + r"\s*=")
    for i in range(start, len(lines)):
        if pattern.search(lines[i]):
            return i + 1
        if i > start and lines[i].lstrip().startswith("[") and not lines[i].lstrip().startswith("[["):
            break  # the next table: the key is not in this one
    return None


def _explain(err: msgspec.ValidationError, table: str, schema: type[_Table] | None) -> tuple[str, str | None, str | None]:
    """(message, dotted table, key) for a schema error, unknown keys with their likely meaning."""
    text = str(err)
    m = re.match(r"(.*?)(?: - at `\$(.*)`)?$", text, re.S)
    message, where = (m[1], m[2] or "") if m else (text, "")
    parts = [p for p in re.findall(r"\.(\w+)|\[(\d+)\]", where)]
    names = [a for a, _ in parts if a]
    dotted = ".".join([table, *names]) if table else ".".join(names)
    unknown = re.match(r"Object contains unknown field `(.+)`", message)
    if unknown:
        key = unknown[1]
        fields = _fields_at(schema, names)
        near = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]!r}?)" if near else f" (known: {', '.join(fields)})"
        return f"unknown key {dotted + '.' if dotted else ''}{key}{hint}", dotted or None, key
    key = names[-1] if names else None
    holder = ".".join([table, *names[:-1]]) if key else dotted
    allowed = _literal_values(schema, names)
    if allowed and message.startswith("Invalid enum value"):
        return f"{dotted} must be one of {', '.join(repr(a) if a == '' else a for a in allowed)}", holder or None, key
    return f"{dotted or table}: {message[0].lower() + message[1:]}", holder or None, key


def _literal_values(schema: type[_Table] | None, names: list[str]) -> list[str]:
    """The values a Literal field allows (for 'must be one of'), or []."""
    import typing

    if schema is None or not names:
        return []
    holder = schema
    for n in names[:-1]:
        holder = {f.name: f.type for f in msgspec.structs.fields(holder)}.get(n)  # type: ignore[assignment]
        if not (isinstance(holder, type) and issubclass(holder, _Table)):
            return []
    t = {f.name: f.type for f in msgspec.structs.fields(holder)}.get(names[-1])
    for arg in (typing.get_args(t) if typing.get_origin(t) is not Literal else (t,)):
        t = arg if typing.get_origin(arg) is Literal else t
    return [str(a) for a in typing.get_args(t)] if typing.get_origin(t) is Literal else []


def _fields_at(schema: type[_Table] | None, names: list[str]) -> list[str]:
    cls: Any = schema
    for n in names:
        if cls is None:
            break
        cls = {f.name: f.type for f in msgspec.structs.fields(cls)}.get(n)
        cls = cls if isinstance(cls, type) and issubclass(cls, _Table) else None
    if cls is None:
        return sorted(TOP_KEYS | TABLES.keys()) if schema is None else []
    return [f.name for f in msgspec.structs.fields(cls)]


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_file()
    s = Settings(source=path)
    if not path.exists():
        return s
    import tomllib  # here: most starts have no settings file, and every command starts here

    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            s.problems.append(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB, not a settings file; using defaults")
            return s
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        s.problems.append(_toml_error(path, e) + "; using defaults")
        return s
    except RecursionError:
        s.problems.append(f"{path}: values nested too deeply to read; using defaults")
        return s
    except (OSError, UnicodeDecodeError) as e:
        s.problems.append(f"{path}: cannot read ({e}); using defaults")
        return s
    tables = _check(s, path, text, data)
    _apply(s, tables, path)
    return s


def _check(s: Settings, path: Path, text: str, data: dict[str, Any]) -> dict[str, Any]:
    """Each table checked on its own: a bad one is reported and its defaults used."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in TOP_KEYS:
            try:
                out[key] = msgspec.convert(value, TOP_KEYS[key])  # type: ignore[call-overload]
            except msgspec.ValidationError as e:
                msg, _, _ = _explain(e, "", None)
                s.problems.append(f"{path}:{_line_of(text, None, key) or 1}: {key}{msg.removeprefix(':')}; using the default")
            continue
        schema = TABLES.get(key)
        if schema is None:
            near = difflib.get_close_matches(key, sorted(TOP_KEYS | TABLES.keys()), n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            line = _line_of(text, key, None) if isinstance(value, dict) else _line_of(text, None, key)
            s.problems.append(f"{path}:{line or 1}: unknown key {key}{hint}; ignored")
            continue
        try:
            out[key] = msgspec.convert(value, schema)
        except msgspec.ValidationError as e:
            msg, table, bad = _explain(e, key, schema)
            line = _line_of(text, table, bad) or _line_of(text, key, None) or 1
            s.problems.append(f"{path}:{line}: {msg}; [{key}] uses its defaults")
        except RecursionError:
            s.problems.append(f"{path}: [{key}] nested too deeply; [{key}] uses its defaults")
    return out


def _apply(s: Settings, t: dict[str, Any], path: Path) -> None:
    s.tag_prefix = t.get("tag_prefix", s.tag_prefix)
    s.keymap = t.get("keymap", s.keymap)
    nm: NotmuchTable = t.get("notmuch", NotmuchTable())
    s.notmuch_config, s.database = nm.config, nm.database
    s.trailers_ignore_from = list(t.get("trailers", TrailersTable()).ignore_from)
    ident: IdentityTable = t.get("identity", IdentityTable())
    s.identity_name, s.identity_email = ident.name, ident.email
    reply: ReplyTable = t.get("reply", ReplyTable())
    s.state_after_review = reply.state_after_review or None
    s.state_after_reply = reply.state_after_reply or None
    s.reply_context = reply.context
    exp: ExportTable = t.get("export", ExportTable())
    s.export_link, s.export_link_to, s.export_signoff, s.export_dir = exp.link or None, exp.link_to, exp.signoff, exp.dir
    s.export_carry = exp.carry
    queue: QueueTable = t.get("queue", QueueTable())
    s.queue_watch, s.queue_files, s.queue_start = list(queue.watch), list(queue.files), queue.start
    s.queue_stale_after = queue.stale_after
    outcome: OutcomeTable = t.get("outcome", OutcomeTable())
    s.outcome_maintainers = [a.lower() for a in outcome.maintainers]
    s.outcome_bots = [a.lower() for a in outcome.bots] if outcome.bots is not None else None
    s.outcome_maintainers_file = outcome.maintainers_file
    if outcome.maintainers_file:
        where = Path(outcome.maintainers_file).expanduser()
        try:
            s.outcome_sections = read_maintainers(where)
        except (OSError, UnicodeError) as e:
            s.problems.append(f"{path}: [outcome] maintainers_file {where}: cannot be read ({e}); "
                              "its maintainers decide nothing")
    s.view_mark_read = t.get("view", ViewTable()).mark_read
    fetch: FetchTable = t.get("fetch", FetchTable())
    s.fetch_queries, s.fetch_folder = list(fetch.queries), fetch.folder
    sync: SyncTable = t.get("sync", SyncTable())
    s.sync_remote, s.sync_repository, s.sync_timeout = sync.remote, sync.repository, sync.timeout
    s.fetch_timeout = fetch.timeout
    trust: TrustTable = t.get("trust", TrustTable())
    s.trust_dns, s.trust_relays = trust.dns, (list(trust.relays) if trust.relays is not None else None)
    s.trust_lists = list(trust.lists)
    app: ApplyTable = t.get("apply", ApplyTable())
    s.apply_repo, s.apply_base = app.repo, ("auto" if app.base == "auto" else None)
    if "send" in t:
        send: SendTable = t["send"]
        smtp = send.smtp
        if smtp.password is not None:
            s.problems.append(f"{path}: send.smtp.password is not read: use password_command (e.g. \"pass show mail\")")
        s.send = SendSettings(
            method=send.method,
            host=smtp.host,
            port=smtp.port,
            security=smtp.security,
            user=smtp.user,
            password_command=smtp.password_command,
            sendmail_command=send.sendmail.command,
            timeout=smtp.timeout,
            deadline=send.deadline,
        )
