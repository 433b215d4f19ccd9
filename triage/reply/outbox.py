"""From a key press to a sent, stored reply: start or resume a draft, send it, file it.

Plain Python over the store, the drafts and a transport; the screen calls these in workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from triage.config import Settings
from triage.errors import UserError
from triage.mail.message import read_message
from triage.mail.store import Store, StoreLocked
from triage.model.series import PATCH_MARKS, PATCH_TAG
from triage.reply.comments import Comment
from triage.reply.compose import Identity, new_reply
from triage.reply.draft import Built, Draft, DraftError, DraftStore, build_message
from triage.reply.headers import is_plain_address, one_line
from triage.reply.send import send
from triage.series.service import find_series

SENT_FOLDER = "sent"
SENT_TAGS = ("sent",)
# Only these replies state a review; a Tested-by alone does not move the series.
REVIEW_KINDS = ("review", "ack")


class ReplyError(UserError):
    """A reply cannot be started (no identity, unreadable original)."""


@dataclass
class Sent:
    message_id: str
    summary: str  # what the transport said
    problems: list[str] = field(default_factory=list)  # filing or state change, after a good send
    state: str | None = None


def identity(store: Store, settings: Settings) -> Identity:
    """config.toml's [identity], else notmuch's user.name / user.primary_email."""
    name = settings.identity_name or store.config_value("user.name") or ""
    email = settings.identity_email or store.config_value("user.primary_email") or ""
    if not is_plain_address(email.strip()):
        raise ReplyError(
            "no sender address: set user.primary_email in the notmuch config or [identity] email in config.toml"
        )
    return Identity(one_line(name), email.strip())


def start_reply(
    store: Store,
    settings: Settings,
    drafts: DraftStore,
    parent_id: str,
    kind: str,
    series_id: str | None,
    *,
    body: str | None = None,
    comments: list[Comment] | None = None,
) -> tuple[Draft, bool]:
    """The draft for this reply: a saved one for the same message and kind, else a new one
    (with ``body`` instead of the quote, for a thank-you note).

    Returns (draft, resumed).
    """
    existing = drafts.for_parent(parent_id, kind)
    if existing is not None:
        return existing, True
    me = identity(store, settings)
    original = read_message(parent_id, store.message_path(parent_id))
    if original.problem and not original.body:
        raise ReplyError(f"cannot reply: {original.problem}")
    own = store.identities() | {me.email.lower()}
    draft = new_reply(original, me, own=own, kind=kind, series_id=series_id, body=body, comments=comments,
                      context=settings.reply_context)
    drafts.save(draft)
    return draft, False


def send_draft(store: Store, settings: Settings, drafts: DraftStore, draft: Draft, built: Built | None = None) -> Sent:
    """Send ``draft`` (or the message already built from it for the preview).

    Raises DraftError or SendError with the draft untouched. Once the transport has
    accepted the message the draft is retired (removed, and refused for sending again
    even if its file cannot be removed); filing the copy and moving the state come
    after, and their problems are reported without undoing the send.
    """
    if drafts.was_sent(draft.id):
        raise DraftError(f"this draft was already sent as <{drafts.was_sent(draft.id)}>; it is not sent twice")
    built = built or build_message(draft)
    summary = send(built, settings.send)
    result = Sent(message_id=built.message_id, summary=summary)
    try:
        drafts.retire(draft.id, built.message_id)
    except OSError as e:
        result.problems.append(f"sent, but the draft file could not be removed ({e.strerror or e}): it is not sent again")
    try:
        store.deliver(built.data, SENT_FOLDER, SENT_TAGS)
    except Exception as e:  # noqa: BLE001 - it was sent: whatever filing raised, say so and go on
        result.problems.append(f"sent, not filed: {_why(e)}")
    if draft.series_id and (draft.kind in REVIEW_KINDS or (draft.kind == "reply" and settings.state_after_reply)):
        try:
            result.state = record_review(store, settings, draft)
        except Exception as e:  # noqa: BLE001 - likewise: the reply is out
            result.problems.append(f"sent, but the state was not set: {_why(e)}")
    return result


def record_review(store: Store, settings: Settings, draft: Draft) -> str | None:
    """What a sent reply says about the series: a Reviewed-by/Acked-by on a patch marks that
    patch reviewed, and the series becomes reviewed once every patch is (or at once when
    the trailer was on the cover letter); a plain reply, when [reply] state_after_reply is
    set, marks the patch as needing changes. Returns the series' new state, if any."""
    assert draft.series_id
    series = find_series(store, draft.series_id)
    on_cover = series.cover is not None and series.cover.message_id == draft.parent_id
    patch = next((p for p in series.patches if p.message_id == draft.parent_id), None)
    mark: str | None = None
    state: str | None
    if draft.kind in REVIEW_KINDS:
        state = settings.state_after_review
        if patch is not None and not on_cover:
            mark = patch.progress = "reviewed"
            if not all(p.progress == "reviewed" for p in series.patches):
                state = "under-review"
    else:
        state = settings.state_after_reply
        mark = "needs-changes" if patch is not None and not on_cover else None
    locked: StoreLocked | None = None  # a held lock queues each change: both are tried
    if mark is not None and patch is not None:
        try:
            mark_patch(store, patch.message_id, mark)
        except StoreLocked as e:
            locked = e
    if state:
        store.set_state(series.message_ids(), state)
    if locked is not None:
        raise locked
    return state


def mark_patch(store: Store, message_id: str, mark: str | None) -> None:
    """Per-patch progress: one of PATCH_MARKS on the patch's message (None: no mark)."""
    prefix = store.config.tag_prefix + PATCH_TAG
    store.tag([message_id], add=[prefix + mark] if mark else [], remove=[prefix + m for m in PATCH_MARKS if m != mark])


def _why(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return f"{e.filename}: {e.strerror}" if e.filename else e.strerror
    return str(e) or type(e).__name__
