"""What the panes share: bindings from the action table, and the pane frame style."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from triage.ui.bindings import for_scope


def scope_bindings(scope: str, *, priority: bool = False) -> list[BindingType]:
    """A widget's BINDINGS, from the one action table (so keymaps can remap them by id).

    ``priority`` keys are seen before the focused widget (the composer's, over its TextArea).
    """
    return [
        Binding(a.keys, a.action, a.footer, show=a.show, id=a.id, priority=priority, tooltip=a.description)
        for a in for_scope(scope)
    ]


def pane_css(name: str, body: str = "") -> str:
    """The rounded frame every pane wears, with an accent when focused."""
    return f"""
    {name} {{
        border: round $panel-lighten-2;
        {body}
    }}
    {name}:focus {{
        border: round $accent;
    }}
    """
