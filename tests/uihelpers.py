"""Helpers for driving the app with Textual's Pilot: wait on conditions, never on the clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from textual.pilot import Pilot
from textual.worker import WorkerFailed


async def settle(pilot: Pilot) -> None:
    """Let workers finish and their messages be handled."""
    for _ in range(50):
        # A worker that raised is the app's to report (tests assert what it said); waiting
        # for the others goes on.
        with contextlib.suppress(WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            return


async def wait_for(pilot: Pilot, condition: Callable[[], bool], what: str, tries: int = 200) -> None:
    for _ in range(tries):
        await settle(pilot)
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for: {what}")
