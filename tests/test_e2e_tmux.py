"""End to end: the installed ``triage`` in tmux, keys typed, the screen read, tags checked with notmuch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.mailgen import mail, mbox, patch_body
from tests.smtpserver import SMTPServer
from triage import paths

TRIAGE = Path(sys.executable).with_name("triage")
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or not TRIAGE.exists(), reason="needs tmux and the installed triage")


class Tmux:
    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"triage-test-{uuid.uuid4().hex[:8]}"
        self.env = env

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=self.env, check=True).stdout

    def start(self, command: str, size: tuple[int, int] = (140, 40)) -> None:
        self.run("-f", "/dev/null", "new-session", "-d", "-x", str(size[0]), "-y", str(size[1]), command)
        self.run("set", "-s", "escape-time", "0")

    def screen(self) -> str:
        return self.run("capture-pane", "-p")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            try:
                screen = self.screen()
            except subprocess.CalledProcessError:
                screen = "(tmux session ended)"
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; screen:\n{screen}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", *keys)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, env=self.env)
        sock = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / self.socket
        sock.unlink(missing_ok=True)


def test_open_a_series_set_its_state_review_it_and_quit(make_store, tmp_path: Path) -> None:
    store = make_store(mbox(
        mail("c@x", "[PATCH 0/2] widget: speed up", "cover\n"),
        mail("p1@x", "[PATCH 1/2] widget: a", patch_body(), minutes=1, parent="c@x"),
        mail("p2@x", "[PATCH 2/2] widget: b", patch_body(), minutes=2, parent="c@x"),
        mail("o@x", "[PATCH] other: [bold]thing[/]", patch_body(), minutes=50, sender="Bob <bob@example.net>"),
    ))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}  # Textual obeys them
    env.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none")
    tmux = Tmux(env)
    log = tmp_path / "textual.log"
    server = SMTPServer().__enter__()
    config = paths.config_dir() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[send]\nmethod = "smtp"\n[send.smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n')
    try:
        tmux.start(f"env TEXTUAL_LOG={log} {TRIAGE} --config {store.config.config_path}; sleep 30")
        tmux.wait_for("Series (2)")
        tmux.wait_for("other: [bold]thi")  # literal, never markup
        tmux.keys("j")  # the older series: widget
        tmux.wait_for("widget: speed up")
        tmux.keys("r")  # triage.state.reviewed, in the series list
        tmux.wait_for("→ reviewed")
        tmux.keys("enter")
        tmux.wait_for("follow-up(s) to the cover letter")  # the cover is shown: opening is done
        tmux.keys("J")  # triage.next_patch
        tmux.wait_for("━━ f.c +1 -1")
        tmux.keys("R")  # review patch 1
        tmux.wait_for("Reply with Reviewed-by to: [PATCH 1/2] widget: a")
        tmux.wait_for("Reviewed-by: Test Maintainer <maint@example.org>")
        tmux.keys("C-s")
        tmux.wait_for("In-Reply-To: <p1@x>")  # the preview shows the exact message
        tmux.keys("C-s")
        (got,) = server.wait()
        tmux.wait_for("1/2 widget: a  R")  # filed, and its Reviewed-by counted in the patch list
        assert "Reviewed-by: Test Maintainer <maint@example.org>" in got.message.get_content()
        assert got.message["In-Reply-To"] == "<p1@x>" and got.rcpt_tos == ["alice@example.com", "list@example.org"]
        tmux.keys("q")
        deadline = time.monotonic() + 10
        while "Series (" in tmux.screen():  # the app has quit when its screen is gone
            assert time.monotonic() < deadline, "triage did not quit on q"
            time.sleep(0.1)
    finally:
        tmux.kill()
        server.__exit__()
    out = subprocess.run(
        ["notmuch", "search", "--output=messages", "tag:triage/under-review"],
        capture_output=True, text=True, check=True, env=dict(os.environ, NOTMUCH_CONFIG=store.config.config_path),
    ).stdout.split()
    reply = f"id:{got.message['Message-ID'].strip('<>')}"
    # The sent reply is filed in the store, under the series (so it carries the series' state too):
    # one of two patches reviewed puts the series under review, and marks that patch.
    assert sorted(out) == sorted(["id:c@x", "id:p1@x", "id:p2@x", reply])
    marked = subprocess.run(
        ["notmuch", "search", "--output=messages", "tag:triage/patch/reviewed"],
        capture_output=True, text=True, check=True, env=dict(os.environ, NOTMUCH_CONFIG=store.config.config_path),
    ).stdout.split()
    assert marked == ["id:p1@x"]
    sent = subprocess.run(
        ["notmuch", "search", "--output=messages", "tag:sent"],
        capture_output=True, text=True, check=True, env=dict(os.environ, NOTMUCH_CONFIG=store.config.config_path),
    ).stdout.split()
    assert sent == [reply]
    if log.exists():
        assert "blocked" not in log.read_text().lower()


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_a_store_of_ones_own_from_an_empty_home(tmp_path: Path, size) -> None:
    """No notmuch config: triage says where it looked and how to make a store, never opens
    the demo; import --new makes one, and the screen opens on it."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NOTMUCH_CONFIG")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_STATE_HOME=str(home / ".local/state"), XDG_DATA_HOME=str(home / ".local/share"),
               TERM="xterm-256color", TEXTUAL_ANIMATIONS="none")
    src = tmp_path / "list.mbox"
    src.write_bytes(mbox(mail("c@x", "[PATCH 0/1] widget: my own store", "cover\n"),
                         mail("p@x", "[PATCH 1/1] widget: a", patch_body(), minutes=1, parent="c@x")))
    tmux = Tmux(env)
    try:
        tmux.start(f"{TRIAGE}; sleep 30", size)
        screen = tmux.wait_for("no notmuch store")
        assert "triage init" in screen.replace("\n", "")
        tmux.kill()
        tmux = Tmux(env)
        config = home / "mail" / "notmuch-config"
        tmux.start(f"{TRIAGE} import --new {home / 'mail'} {src} && {TRIAGE} --config {config}; sleep 30", size)
        tmux.wait_for("widget: my own store")
        tmux.wait_for("Series (1)")
    finally:
        tmux.kill()
    assert config.exists() and not (home / ".cache" / "triage" / "demo").exists()
