"""Every action the screen offers, with its binding id, scope and description.

This table is the one source for the widgets' ``BINDINGS``, the keymap files'
validation, the help screen and the command palette. Key strings are Textual key
names, comma separated. No Textual import here, so it is testable on its own.

The default keys follow one rule: a key pressed while reading a patch never changes a
series' state. The state keys belong to the series list (where series are triaged),
not to the message view, where ``c`` comments and ``n``/``N`` find; the patch keys
(``J``/``K`` next and previous patch, ``+ ! -`` marks, ``[ ] { }`` files and hunks, the
reply keys) are the screen's, so they work from every pane.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.model.series import STATES

# Scopes: "app" keys work everywhere, "main" ones on the main screen; the others only
# while that pane has focus.
SCOPES = ("app", "main", "list", "patches", "viewer", "comment", "composer", "batch")


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    action: str
    description: str
    scope: str
    keys: str  # the built-in default; the shipped keymap files may change it
    show: bool = False  # shown in the footer
    label: str = ""  # the footer's word for it (the description when empty)

    @property
    def footer(self) -> str:
        return self.label or self.description


_STATE_KEYS = {
    "new": "N",
    "under-review": "u",
    "reviewed": "r",
    "changes-requested": "C",
    "accepted": "a",
    "rejected": "x",
    "superseded": "s",
    "deferred": "d",
}

ACTIONS: tuple[Action, ...] = (
    Action("triage.quit", "quit", "Quit", "app", "q", show=True),
    Action("triage.help", "help", "Show keys", "app", "question_mark", show=True, label="keys"),
    Action("triage.log", "message_log", "Message log: this session's errors and notices", "app", "L"),
    Action("triage.search", "search", "Filter with a notmuch query", "main", "slash", show=True, label="filter"),
    Action("triage.clear_search", "clear_search", "Show all series again", "main", "backslash"),
    Action("triage.filter_state", "filter_state", "Cycle the state filter", "main", "f"),
    Action("triage.sort", "cycle_sort", "Cycle sort: date, author, state", "main", "o"),
    Action("triage.reload", "reload", "Re-read the notmuch database", "main", "equals_sign"),
    Action("triage.focus_next_pane", "focus_next_pane", "Next pane", "main", "tab"),
    Action("triage.focus_prev_pane", "focus_prev_pane", "Previous pane", "main", "shift+tab"),
    Action("triage.grow_list", "resize_list(4)", "Widen the left panes", "main", "greater_than_sign"),
    Action("triage.shrink_list", "resize_list(-4)", "Narrow the left panes", "main", "less_than_sign"),
    Action("triage.next_patch", "next_patch", "Next patch", "main", "J", show=True, label="next patch"),
    Action("triage.prev_patch", "prev_patch", "Previous patch", "main", "K"),
    Action("triage.next_file", "next_file", "Next file in the diff", "main", "right_square_bracket"),
    Action("triage.prev_file", "prev_file", "Previous file in the diff", "main", "left_square_bracket"),
    Action("triage.next_hunk", "next_hunk", "Next hunk", "main", "right_curly_bracket"),
    Action("triage.prev_hunk", "prev_hunk", "Previous hunk", "main", "left_curly_bracket"),
    Action("triage.file_list", "file_list", "Jump to a file of the patch", "main", "F"),
    Action("triage.show_versions", "show_versions", "Show or fold older versions", "main", "v"),
    Action("triage.mark_read", "mark_read", "Mark the series read", "main", "m"),
    Action("triage.undo", "undo", "Undo the last state change", "main", "U,ctrl+z"),
    Action("triage.reply", "reply('reply')", "Reply to the message shown", "main", "w", show=True, label="reply"),
    Action("triage.review", "reply('review')", "Reply with Reviewed-by", "main", "R", show=True, label="Reviewed-by"),
    Action("triage.ack", "reply('ack')", "Reply with Acked-by", "main", "A"),
    Action("triage.tested", "reply('tested')", "Reply with Tested-by", "main", "T"),
    Action("triage.drafts", "drafts", "Unsent drafts: resume one", "main", "D"),
    Action("triage.send_series", "send_series", "Send every unsent reply of this series (one preview, one confirmation)",
           "main", "ctrl+s"),
    Action("triage.diff_versions", "diff_versions", "Range-diff with the previous version (again: older)", "main", "V"),
    Action("triage.export", "export", "Export the series as a git-am mbox (again: force)", "main", "E"),
    Action("triage.apply", "apply", "Apply the series to the configured tree (git am -3)", "main", "P"),
    Action("triage.thanks", "thanks", "Thank-you note for an applied series", "main", "Y"),
    Action("triage.accept_claim", "accept_claim",
           "Accept (again: take back) another author's claim to supersede this series", "main", "ctrl+k"),
    *(
        Action(f"triage.state.{s}", f"screen.set_state('{s}')", f"Set state: {s}", "list", k,
               show=s in ("reviewed", "accepted"), label=s)
        for s, k in _STATE_KEYS.items()
    ),
    Action("triage.patch.reviewed", "mark_patch('reviewed')", "Mark the patch reviewed", "main", "plus"),
    Action("triage.patch.needs_changes", "mark_patch('needs-changes')", "Mark the patch as needing changes", "main",
           "exclamation_mark"),
    Action("triage.patch.skipped", "mark_patch('skipped')", "Mark the patch skipped (not yours to review)", "main", "minus"),
    Action("triage.queue", "queue", "What needs me: the queue (again: every series)", "main", "Q", show=True, label="queue"),
    Action("triage.fetch", "fetch", "Fetch new list mail with lei ([fetch] queries), then reload", "main", "M"),
    Action("triage.sync", "sync", "Share states with [sync] remote through notmuch-git", "main", "ctrl+t"),
    Action("triage.merged", "merged", "Find series merged in [apply] repo's HEAD (git patch-id)", "main", "ctrl+y"),
    Action("triage.mark", "mark", "Mark the series (a state key then sets every marked one)", "main", "t"),
    Action("triage.defer", "defer", "Defer the series until a date or for a while (3d, 2w)", "main", "S"),
    Action("triage.focus.followups", "focus_followups", "Focus the follow-ups (reply keys then answer the one selected)", "main", "ctrl+r"),
    Action("triage.zoom", "zoom", "Show the focused pane alone, and back", "main", "z"),
    Action("triage.back", "back", "Back to the list (narrow screens: the message is shown alone)", "main", "escape"),
    Action("triage.open", "select_cursor", "Open the series under the cursor", "list", "enter", show=True, label="open"),
    Action("triage.list.down", "cursor_down", "Down", "list", "j,down"),
    Action("triage.list.up", "cursor_up", "Up", "list", "k,up"),
    Action("triage.list.page_down", "page_down", "Page down", "list", "pagedown,space"),
    Action("triage.list.page_up", "page_up", "Page up", "list", "pageup,b"),
    Action("triage.list.top", "scroll_top", "First series", "list", "g,home"),
    Action("triage.list.bottom", "scroll_bottom", "Last series", "list", "G,end"),
    Action("triage.patches.down", "cursor_down", "Down", "patches", "j,down"),
    Action("triage.patches.up", "cursor_up", "Up", "patches", "k,up"),
    Action("triage.patches.open", "select", "Read this message (the cursor in the diff)", "patches", "enter", show=True,
           label="read"),
    Action("triage.viewer.down", "scroll_down", "Scroll down", "viewer", "j,down"),
    Action("triage.viewer.up", "scroll_up", "Scroll up", "viewer", "k,up"),
    Action("triage.viewer.page_down", "page_down", "Page down", "viewer", "pagedown,space"),
    Action("triage.viewer.page_up", "page_up", "Page up", "viewer", "pageup,b"),
    Action("triage.viewer.top", "cursor_top", "Top", "viewer", "g,home"),
    Action("triage.viewer.bottom", "cursor_bottom", "Bottom", "viewer", "G,end"),
    Action("triage.viewer.search", "search", "Find text in the message (Enter puts the cursor on it)", "viewer", "slash",
           show=True, label="find"),
    Action("triage.viewer.search_next", "search_next", "Next match", "viewer", "n"),
    Action("triage.viewer.search_prev", "search_prev", "Previous match", "viewer", "N"),
    Action("triage.viewer.open", "open_selected", "In the follow-ups: show the selected mail in the message view", "viewer", "enter"),
    Action("triage.comment", "comment", "Comment the cursor line (again: edit or delete it)", "viewer", "c", show=True,
           label="comment"),
    Action("triage.viewer.others", "toggle_others", "Show or hide other reviewers' comments on their lines", "viewer", "C"),
    Action("triage.viewer.left", "scroll_left", "Scroll left (a cut line ends in »)", "viewer", "left,h"),
    Action("triage.viewer.right", "scroll_right", "Scroll right", "viewer", "right,l"),
    Action("triage.comment.save", "save", "Save the comment (empty: delete it)", "comment", "ctrl+s", show=True),
    Action("triage.comment.delete", "delete", "Delete the comment", "comment", "ctrl+g", show=True),
    Action("triage.comment.cancel", "cancel", "Cancel", "comment", "escape", show=True),
    Action("triage.send", "send", "Preview, then send (press again)", "composer", "ctrl+s", show=True),
    Action("triage.edit_external", "edit_external", "Edit in $EDITOR", "composer", "ctrl+o", show=True),
    Action("triage.composer.close", "close", "Back to editing / close (draft kept)", "composer", "escape", show=True),
    Action("triage.composer.discard", "discard", "Discard the draft (press twice)", "composer", "ctrl+g", show=True),
    Action("triage.composer.quit", "quit_app", "Quit triage (draft kept)", "composer", "ctrl+q"),
    Action("triage.composer.cut_below", "cut_quote_below", "Cut the quoted lines below the cursor", "composer", "alt+k"),
    Action("triage.composer.cut_above", "cut_quote_above", "Cut the quoted lines above the cursor", "composer", "alt+u"),
    Action("triage.send_series.send", "send_all", "Send them all", "batch", "ctrl+s", show=True),
    Action("triage.send_series.cancel", "cancel", "Back, nothing sent", "batch", "escape", show=True),
)

BY_ID = {a.id: a for a in ACTIONS}


def for_scope(scope: str) -> list[Action]:
    return [a for a in ACTIONS if a.scope == scope]


def default_keymap() -> dict[str, str]:
    return {a.id: a.keys for a in ACTIONS}


assert set(_STATE_KEYS) == set(STATES)
