"""Work done by a forked copy of this process while this process goes on.

A cold build ends with two independent jobs: writing the SQLite index and building
the answer. Each is serial Python, so threads cannot share them (the GIL); a forked
copy starts with everything built so far, so nothing has to be pickled and sent.

Forking is safe only while this process has no other thread (a lock held by another
thread at the fork stays held in the copy forever), so :func:`possible` says whether
to; callers do the work themselves otherwise (the app, whose refresh runs in a worker
thread, always does). The copy never returns into the caller's code: it leaves with
``os._exit`` and so runs none of this process's cleanup (its open files, its buffered
output, its ``atexit`` functions).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable


def possible() -> bool:
    """Forking is safe here (no other thread alive) and not switched off (``TRIAGE_NO_FORK=1``,
    the seam the benchmark and the fallback's tests use)."""
    return hasattr(os, "fork") and threading.active_count() == 1 and not os.environ.get("TRIAGE_NO_FORK")


class ForkedWork:
    """``work()`` runs in a forked copy of this process, which has all this process had at the fork."""

    def __init__(self, work: Callable[[], None]) -> None:
        status_r, status_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the copy
            os.close(status_r)
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # ^C ends it with its parent
                work()
            except BaseException as e:  # noqa: BLE001 - reported to the parent, which redoes the work
                code = 1
                with contextlib.suppress(OSError):
                    os.write(status_w, f"{type(e).__name__}: {e}".encode("utf-8", "replace")[:4000])
            finally:
                os._exit(code)
        os.close(status_w)
        self.pid: int | None = pid
        self._status = status_r

    def wait(self) -> str | None:
        """Wait for the copy to end: None when its work is done, else what went wrong."""
        if self.pid is None:
            return "already ended"
        chunks = []
        while chunk := os.read(self._status, 4096):
            chunks.append(chunk)
        os.close(self._status)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        message = b"".join(chunks).decode("utf-8", "replace")
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            return None
        if os.WIFSIGNALED(status):
            return message or f"killed by signal {os.WTERMSIG(status)}"
        return message or f"exited with status {os.WEXITSTATUS(status)}"

    def stop(self) -> None:
        """End the copy without waiting for its work (the caller failed)."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.wait()
