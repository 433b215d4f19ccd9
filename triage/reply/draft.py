"""Drafts: the reply being written, kept on disk while it is typed, and turned into a message.

A draft is a JSON file in ``$XDG_STATE_HOME/triage/drafts/``, written atomically
on every save, so a quit or a crash loses at most the last keystrokes. It is
removed only once a transport has accepted the message.

The user edits one text: a header block (From, To, Cc, Bcc, Subject, Reply-To),
a blank line, the body. Threading headers, Message-ID and Date are triage's, set
when the message is built; no other header can be written.
"""

from __future__ import annotations

import email.policy
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from triage import paths
from triage.errors import UserError
from triage.mail import wire
from triage.mail.addresses import parse_list
from triage.mail.wire import usable_address
from triage.reply.headers import clean_msgid, format_addresses, one_line

# Python's folder at 78 columns can fold a subject right after "Subject:", which some
# parsers read back with a leading space; long lines up to RFC 5322's 998 are legal.
OUTGOING = email.policy.default.clone(max_line_length=998)
EDITABLE_HEADERS = ("From", "To", "Cc", "Bcc", "Subject", "Reply-To")
_ADDRESS_HEADERS = {"From", "To", "Cc", "Bcc", "Reply-To"}


class DraftError(UserError):
    """What is wrong with a draft, naming the line."""


def new_draft_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Draft:
    id: str
    parent_id: str
    text: str
    kind: str = "reply"
    parent_subject: str = ""
    series_id: str | None = None
    references: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)


@dataclass
class ParsedDraft:
    headers: dict[str, str]  # canonical header name -> one-line value, as the user wrote it
    body: str
    recipients: list[str]  # To + Cc + Bcc addresses (the envelope)
    addresses: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # usable (name, address) pairs
    notes: list[str] = field(default_factory=list)  # addresses left out, and why


@dataclass(frozen=True)
class Built:
    """A reply ready for a transport: ``data`` is exactly what is sent, filed and previewed."""

    message: EmailMessage
    recipients: list[str]
    data: bytes
    sender: str
    notes: tuple[str, ...] = ()

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip("<> ")


def parse_draft(text: str) -> ParsedDraft:
    """The header block and body of a draft's text; raises DraftError naming the line.

    An address that cannot be sent to (no domain, non-ASCII local part, over-long) is left
    out with a note rather than refusing the whole reply."""
    lines = text.replace("\r\n", "\n").split("\n")
    headers: dict[str, str] = {}
    current: str | None = None
    body_start = len(lines)
    for no, line in enumerate(lines, 1):
        if not line.strip():
            body_start = no
            break
        if line[0] in " \t" and current is not None:
            headers[current] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        canonical = next((h for h in EDITABLE_HEADERS if h.lower() == name.strip().lower()), None)
        if not sep or canonical is None:
            allowed = ", ".join(EDITABLE_HEADERS)
            raise DraftError(f"draft line {no}: {line.strip()[:40]!r} is not one of the headers triage sends ({allowed})")
        if canonical in headers:
            raise DraftError(f"draft line {no}: {canonical} is given twice")
        headers[canonical] = value.strip()
        current = canonical
    if not headers:
        raise DraftError("draft has no header block (From, To, Subject, then a blank line)")
    pairs_of: dict[str, list[tuple[str, str]]] = {}
    notes: list[str] = []
    for name in list(headers):
        if name in _ADDRESS_HEADERS:
            pairs = parse_list(headers[name])
            if headers[name].strip() and not pairs:
                raise DraftError(f"draft {name}: no valid address in {headers[name][:60]!r}")
            usable = []
            for n, a in pairs:
                wire = usable_address(a)
                if wire is None:
                    notes.append(f"{name}: left out {a[:60]!r} (not an address mail can be sent to)")
                else:
                    usable.append((n, wire))
            if name == "From" and pairs and not usable:
                raise DraftError(f"draft From: {pairs[0][1][:60]!r} is not an address mail can be sent from")
            pairs_of[name] = usable
            headers[name] = format_addresses(usable)
        else:
            headers[name] = one_line(headers[name])
        if not headers[name]:
            del headers[name]
            pairs_of.pop(name, None)
    if "From" not in headers:
        raise DraftError("draft has no From address")
    pairs_of["From"] = pairs_of["From"][:1]
    recipients = list(dict.fromkeys(a for h in ("To", "Cc", "Bcc") for _, a in pairs_of.get(h, [])))
    if not recipients:
        raise DraftError("draft has no recipient (To, Cc or Bcc)" + (f"; {notes[0]}" if notes else ""))
    body = "\n".join(lines[body_start:])
    return ParsedDraft(
        headers=headers, body=body.rstrip("\n") + "\n", recipients=recipients, addresses=pairs_of, notes=notes
    )


def _cte(body: str) -> str:
    longest = max((len(line.encode("utf-8")) for line in body.split("\n")), default=0)
    if longest > 990:
        return "quoted-printable"
    return "7bit" if body.isascii() else "8bit"


# Headers triage writes itself; a reply carries these and the user's, nothing else.
OWN_HEADERS = {"Date", "Message-ID", "In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}


def build_message(draft: Draft, *, now: float | None = None) -> Built:
    """The exact message to send and its envelope. Bcc is not a header of it.

    User headers are encoded here from the draft's text (never parsed again, so never
    decoded twice); the bytes are read back and refused unless they carry exactly those."""
    parsed = parse_draft(draft.text)
    msg = EmailMessage(policy=OUTGOING)
    expected: dict[str, wire.WireHeader] = {}
    for name in ("From", "To", "Cc", "Reply-To", "Subject"):
        if name not in parsed.headers:
            continue
        if name == "Subject":
            header = wire.unstructured(name, parsed.headers[name])
        else:
            header = wire.addresses(name, parsed.addresses[name])
        msg[name] = header
        expected[name] = header
    sender = parsed.addresses["From"][0][1]
    msg["Date"] = formatdate(now, localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    parent = clean_msgid(draft.parent_id)
    if parent:
        msg["In-Reply-To"] = f"<{parent}>"
    refs = [r for r in (clean_msgid(x) for x in draft.references) if r]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg.set_content(parsed.body, charset="utf-8", cte=_cte(parsed.body))
    try:
        data = wire.check(msg, expected, OWN_HEADERS)
    except wire.HeaderRefused as e:
        raise DraftError(str(e)) from e
    return Built(msg, parsed.recipients, data, sender, tuple(parsed.notes))


class DraftStore:
    """Drafts as files; every write is atomic (temp file and rename)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = directory or paths.state_dir() / "drafts"
        self._sent: dict[str, str] = {}  # draft id -> message id, for this process's life

    def retire(self, draft_id: str, message_id: str) -> None:
        """The draft went out as ``message_id``: never send it again, then remove its file."""
        self._sent[draft_id] = message_id
        self.remove(draft_id)

    def was_sent(self, draft_id: str) -> str | None:
        return self._sent.get(draft_id)

    def path(self, draft_id: str) -> Path:
        return self.dir / f"{draft_id}.json"

    def save(self, draft: Draft) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        draft.updated = time.time()
        final = self.path(draft.id)
        tmp = final.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(asdict(draft), fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
        return final

    def remove(self, draft_id: str) -> None:
        self.path(draft_id).unlink(missing_ok=True)

    def load(self, draft_id: str) -> Draft:
        path = self.path(draft_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Draft(**data)
        except (OSError, ValueError, TypeError) as e:
            raise DraftError(f"{path}: unreadable draft ({e})") from e

    def all(self) -> tuple[list[Draft], list[str]]:
        """Every draft, newest first, and the problems of files that could not be read."""
        drafts, problems = [], []
        if not self.dir.is_dir():
            return [], []
        for f in self.dir.glob("*.json"):
            if f.stem in self._sent:
                continue  # sent; its file could not be removed
            try:
                drafts.append(self.load(f.stem))
            except DraftError as e:
                problems.append(str(e))
        drafts.sort(key=lambda d: d.updated, reverse=True)
        return drafts, problems

    def for_parent(self, parent_id: str, kind: str | None = None) -> Draft | None:
        drafts, _ = self.all()
        return next((d for d in drafts if d.parent_id == parent_id and (kind is None or d.kind == kind)), None)

