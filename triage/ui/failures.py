"""A worker that raised, as one line for the status line (the whole text goes to the log)."""

from __future__ import annotations

from textual.worker import Worker, WorkerState

from triage.errors import UserError


def failure_text(event: Worker.StateChanged) -> str | None:
    """The report for a worker that ended in error, or None for any other state change."""
    if event.state != WorkerState.ERROR:
        return None
    worker = event.worker
    what = worker.group if worker.group and worker.group != "default" else worker.name or "work"
    error = worker.error
    if error is None:
        return f"{what} failed"
    if isinstance(error, UserError):
        return str(error)
    return f"{what} failed: {type(error).__name__}: {error}"
