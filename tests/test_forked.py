"""A forked copy does its work with what this process had, and its failures come back as text."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from triage import forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_work_runs_in_a_copy_that_has_what_this_process_had(tmp_path: Path) -> None:
    built = {"series": ["a", "b"], "n": 42}  # made before the fork, never sent
    out = tmp_path / "out.json"

    def work() -> None:
        out.write_text(json.dumps({"pid": os.getpid(), "built": built}))

    assert forked.ForkedWork(work).wait() is None
    got = json.loads(out.read_text())
    assert got["built"] == built
    assert got["pid"] != os.getpid()


def test_a_failing_copy_says_what_went_wrong() -> None:
    def work() -> None:
        raise OSError("disk full")

    assert forked.ForkedWork(work).wait() == "OSError: disk full"


def test_a_killed_copy_is_reported() -> None:
    w = forked.ForkedWork(lambda: time.sleep(60))
    assert w.pid is not None
    os.kill(w.pid, signal.SIGKILL)
    assert w.wait() == f"killed by signal {signal.SIGKILL}"


def test_stop_ends_a_copy_without_waiting_for_its_work() -> None:
    w = forked.ForkedWork(lambda: time.sleep(60))
    pid = w.pid
    t0 = time.monotonic()
    w.stop()
    assert time.monotonic() - t0 < 10
    assert w.pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_no_fork_while_another_thread_runs() -> None:
    release = threading.Event()
    t = threading.Thread(target=release.wait)
    t.start()
    try:
        assert not forked.possible()
    finally:
        release.set()
        t.join()
