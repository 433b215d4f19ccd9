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
from triage.reply.headers import clean_msgid, format_addresses, one_line, parse_addresses

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
    headers: dict[str, str]  # canonical header name -> one-line value
    body: str
    recipients: list[str]  # To + Cc + Bcc addresses (the envelope)


def parse_draft(text: str) -> ParsedDraft:
    """The header block and body of a draft's text; raises DraftError naming the line."""
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
    for name in list(headers):
        if name in _ADDRESS_HEADERS:
            pairs = parse_addresses(headers[name])
            if headers[name].strip() and not pairs:
                raise DraftError(f"draft {name}: no valid address in {headers[name][:60]!r}")
            headers[name] = format_addresses(pairs)
        else:
            headers[name] = one_line(headers[name])
        if not headers[name]:
            del headers[name]
    if "From" not in headers:
        raise DraftError("draft has no From address")
    recipients = [a for h in ("To", "Cc", "Bcc") for _, a in parse_addresses(headers.get(h))]
    if not recipients:
        raise DraftError("draft has no recipient (To, Cc or Bcc)")
    body = "\n".join(lines[body_start:])
    return ParsedDraft(headers=headers, body=body.rstrip("\n") + "\n", recipients=recipients)


def _cte(body: str) -> str:
    longest = max((len(line.encode("utf-8")) for line in body.split("\n")), default=0)
    if longest > 990:
        return "quoted-printable"
    return "7bit" if body.isascii() else "8bit"


def build_message(draft: Draft, *, now: float | None = None) -> tuple[EmailMessage, list[str]]:
    """The exact message to send, and its envelope recipients. Bcc is not a header of it."""
    parsed = parse_draft(draft.text)
    msg = EmailMessage(policy=OUTGOING)
    for name in ("From", "To", "Cc", "Reply-To", "Subject"):
        if name in parsed.headers:
            msg[name] = parsed.headers[name]
    msg["Date"] = formatdate(now, localtime=True)
    domain = parsed.headers["From"].rsplit("@", 1)[-1].rstrip(">").strip() or None
    msg["Message-ID"] = make_msgid(domain=domain)
    parent = clean_msgid(draft.parent_id)
    if parent:
        msg["In-Reply-To"] = f"<{parent}>"
    refs = [r for r in (clean_msgid(x) for x in draft.references) if r]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg.set_content(parsed.body, charset="utf-8", cte=_cte(parsed.body))
    return msg, parsed.recipients


class DraftStore:
    """Drafts as files; every write is atomic (temp file and rename)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = directory or paths.state_dir() / "drafts"

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
            try:
                drafts.append(self.load(f.stem))
            except DraftError as e:
                problems.append(str(e))
        drafts.sort(key=lambda d: d.updated, reverse=True)
        return drafts, problems

    def for_parent(self, parent_id: str, kind: str | None = None) -> Draft | None:
        drafts, _ = self.all()
        return next((d for d in drafts if d.parent_id == parent_id and (kind is None or d.kind == kind)), None)

