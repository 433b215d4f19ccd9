"""End to end, the installed ``triage`` in tmux: find a line, comment it and a line of another
file, review, send through a real SMTP server; then answer a reviewer from the follow-ups.
Keys come from a user keymap that remaps ``triage.comment``, so the binding ids are what
the test relies on."""

from __future__ import annotations

import os
import time

from tests.reviewdata import review_store
from tests.smtpserver import SMTPServer
from tests.test_e2e_tmux import TRIAGE, Tmux, pytestmark  # noqa: F401 - the same skip
from triage import paths


def test_review_two_files_inline_send_and_answer_a_reviewer(make_store) -> None:
    store = review_store(make_store)
    server = SMTPServer().__enter__()
    config_dir = paths.config_dir()
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        f'[send]\nmethod = "smtp"\n[send.smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
        '[reply]\nstate_after_review = ""\n')
    (config_dir / "keymap.toml").write_text('[bindings]\n"triage.comment" = "i"\n')
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", TEXTUAL_ANIMATIONS="none")
    tmux = Tmux(env)
    try:
        tmux.start(f"{TRIAGE} --config {store.config.config_path}; sleep 30", (160, 50))
        tmux.wait_for("rework the frobnicator")
        tmux.wait_for("━━ f.c")
        time.sleep(0.5)
        for _ in range(2):  # triage.focus_next_pane, twice: to the message view
            tmux.keys("Tab")
            time.sleep(0.4)

        def find_and_comment(text: str, comment: str) -> None:
            tmux.keys("/")  # triage.viewer.search
            tmux.wait_for("find in the message")
            time.sleep(0.3)
            tmux.keys("-l", text.rstrip(";"))  # tmux reads a trailing ; as its own separator
            tmux.keys("Enter")
            time.sleep(0.4)
            tmux.keys("i")  # triage.comment, remapped by the user's keymap
            tmux.wait_for("> " + text)
            time.sleep(0.4)  # the editor takes the keyboard once it is up
            for ch in comment:  # as typed: a burst of keys can arrive before the editor settles
                tmux.keys("-l", ch)
                time.sleep(0.02)
            tmux.keys("C-s")  # triage.comment.save
            tmux.wait_for("✎ " + comment)

        find_and_comment("+four_teardown();", "Why two calls?")
        find_and_comment("+beta_checked();", "Checked against what?")
        tmux.keys("R")  # triage.review
        tmux.wait_for("Reviewed-by: Test Maintainer")
        tmux.keys("C-s")  # preview
        tmux.wait_for("Envelope recipients")
        tmux.keys("C-s")  # send
        (got,) = server.wait()
        body = got.message.get_content().replace("\r\n", "\n")
        assert "> +four_setup();\n> +four_teardown();\n\nWhy two calls?\n" in body
        assert "> @@ -10,3 +10,3 @@ int gadget(void)\n>  alpha\n> -beta\n> +beta_checked();\n\nChecked against what?\n" in body
        assert "> diff --git a/g.c b/g.c" in body and ">  five" not in body and "> Split the setup" not in body
        assert body.rstrip().endswith("Reviewed-by: Test Maintainer <maint@example.org>")
        assert body.index("Why two calls?") < body.index("Checked against what?") < body.index("Reviewed-by")

        # Then answer the reviewer's mail from the follow-ups (the sent reply is filed under the patch).
        tmux.wait_for("3 follow-up(s) to patch 1")
        tmux.keys("C-r")  # triage.focus.followups
        time.sleep(0.4)
        tmux.keys("w")  # triage.reply: the selected follow-up (the first: Bob's review)
        tmux.wait_for("Reply to: Re: [PATCH] widget")
        tmux.wait_for("> Does this still need the lock held?")
        tmux.keys("C-s")
        tmux.wait_for("In-Reply-To: <r1@x>")
        tmux.keys("C-s")
        received = server.wait(2)
        reply = received[1].message
        assert reply["In-Reply-To"] == "<r1@x>" and "bob@example.net" in str(reply["To"])
    finally:
        tmux.kill()
        server.__exit__()
