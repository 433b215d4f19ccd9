"""Review on the diff, without the screen: comments kept as typed, the reply quoting only
what they are about, and other reviewers' comments anchored to the lines they quoted."""

from __future__ import annotations

import mailbox

import pytest

from tests.conftest import CORPUS, needs_corpus
from tests.mailgen import mail, patch_body
from triage.config import Settings
from triage.mail.parse import body_text_of
from triage.reply.comments import Comment, CommentStore, quote_with_comments
from triage.reply.draft import DraftStore
from triage.reply.outbox import start_reply
from triage.series.anchors import anchor_comments

BODY = """widget: do it

Explain why.

Signed-off-by: A Author <a@example.com>
---
 f.c | 2 +-
 g.c | 2 +-

diff --git a/f.c b/f.c
index 1111111..2222222 100644
--- a/f.c
+++ b/f.c
@@ -1,9 +1,9 @@ int f(void)
 a1
 a2
 a3
 a4
 a5
 a6
-b
+c
 d
diff --git a/g.c b/g.c
--- a/g.c
+++ b/g.c
@@ -1,3 +1,3 @@
 x
-y
+z
diff --git a/h.c b/h.c
--- a/h.c
+++ b/h.c
@@ -1,2 +1,2 @@
-p
+q
"""
LINES = BODY.split("\n")


def test_a_reply_quotes_only_the_commented_lines_with_context() -> None:
    text = quote_with_comments(BODY, [Comment(LINES.index("+c"), "Why c?", "+c"),
                                      Comment(LINES.index("+z"), "And z.\nTwo lines.", "+z")], context=3)
    out = text.split("\n")
    assert out[:9] == ["[...]", "> diff --git a/f.c b/f.c", "[...]", "> @@ -1,9 +1,9 @@ int f(void)", "[...]",
                       ">  a5", ">  a6", "> -b", "> +c"]
    assert out[9:12] == ["", "Why c?", ""]  # the comment right under its line, unquoted
    assert "> diff --git a/g.c b/g.c" in out and "> @@ -1,3 +1,3 @@" in out
    i = out.index("> +z")
    assert out[i + 1 : i + 4] == ["", "And z.", "Two lines."]
    assert "h.c" not in text and "> +q" not in text  # nothing of an uncommented file
    assert out[-1] == "[...]"


def test_a_comment_on_the_commit_message_quotes_it_without_diff_lines() -> None:
    text = quote_with_comments(BODY, [Comment(2, "Say more here.", "Explain why.")])
    assert text.split("\n")[:4] == ["> widget: do it", ">", "> Explain why.", ""]
    assert "diff --git" not in text


def test_comments_survive_a_new_process_and_delete_when_emptied(tmp_path) -> None:
    store = CommentStore(tmp_path / "c")
    store.set("s@x", "p1@x", Comment(8, "first", "+c"))
    store.set("s@x", "p2@x", Comment(3, "other patch", "x"))
    store.set("s@x", "p1@x", Comment(8, "edited", "+c"))
    again = CommentStore(tmp_path / "c")  # as a restarted (or killed and restarted) triage reads it
    assert again.for_message("s@x", "p1@x") == [Comment(8, "edited", "+c")]
    assert again.for_message("s@x", "p2@x") == [Comment(3, "other patch", "x")]
    again.set("s@x", "p1@x", Comment(8, "  ", "+c"))
    assert CommentStore(tmp_path / "c").for_message("s@x", "p1@x") == []
    (tmp_path / "c" / next(p.name for p in (tmp_path / "c").iterdir())).write_text('{"series": "s@x", "messages": {"p2@x": [{"nope": 1}]}}')
    assert CommentStore(tmp_path / "c").load("s@x") == {}


def test_a_review_reply_is_built_from_the_comments(make_store, tmp_path) -> None:
    store = make_store(mail("p1@x", "[PATCH] widget: do it", patch_body()))
    from tests.mailgen import DIFF

    lines = patch_body().split("\n")
    target = lines.index("+c")
    comments = [Comment(target, "Is c right?", "+c")]
    draft, _ = start_reply(store, Settings(), DraftStore(tmp_path / "d"), "p1@x", "review", None, comments=comments)
    body = draft.text.split("\n\n", 1)[1]
    assert body.startswith("On ") and "> +c\n\nIs c right?\n" in body
    assert body.rstrip().endswith("Reviewed-by: Test Maintainer <maint@example.org>")
    assert "> Signed-off-by" not in body and DIFF.split("\n")[0] not in body.split("Is c right?")[1]


# Real reviews from linux-pwm, anchored to the lines they quoted: (thread file, the
# review's Message-ID, [(start of the patch line, start of the comment)]).
REAL = [
    ("airoha-en7581-nocover-resend/v10-PATCH-v10.mbox", "fxunijzek27ixqou3ga6fnttc4aa3ierxqhef4xm2ir5aw2vgm@emet3mqb3qmd",
     [("+ *  - On configuration the currently running period is comp", "If there is a public datasheet"),
      ("+#define REG_GPIO_FLASH_MAP(_n)", "Huh, this makes the usage ugly")]),
    ("airoha-en7581-nocover-resend/v12-PATCH-v12.mbox", "q46vqvt4ebepk47as3vhx24fqfnv2ollatjzjw5hbxtcbaklff@exkozghztvlv",
     [("+#include <linux/regmap.h>", "alphabetic ordering would be nice"),
      ("+#include <asm/div64.h>", "linux/math64.h is the right include")]),
    ("improve-pwm-ir-tx-precision/v04-PATCH-v4-0-4.mbox", "20231027133818.f5zpeqxfw7ghs7sk@pengutronix.de",
     [("+\t\tret = -EINVAL;", "Other error paths in this driver use dev_err_probe()")]),
]


@needs_corpus
@pytest.mark.parametrize(("path", "review", "expected"), REAL, ids=[r[1][:12] for r in REAL])
def test_real_reviews_anchor_to_the_lines_they_quoted(path: str, review: str, expected) -> None:
    msgs = {(m["Message-ID"] or "").strip().strip("<>"): m for m in mailbox.mbox(str(CORPUS / "threads" / "linux-pwm" / path))}
    reply = msgs[review]
    patch = msgs[(reply["In-Reply-To"] or "").strip().strip("<>")]
    patch_body_text = body_text_of(patch.as_bytes())
    got = anchor_comments(patch_body_text, body_text_of(reply.as_bytes()))
    lines = patch_body_text.split("\n")
    found = [(lines[a.line], a.text) for a in got]
    for line_start, comment_start in expected:
        assert any(line.startswith(line_start) and text.startswith(comment_start) for line, text in found), (line_start, found)


def test_nested_quotes_greetings_and_sign_offs_are_not_anchored() -> None:
    reply = "Hi,\n\n> > d\n> +c\n\nWhy?\n\n> +z\n\nBest regards\nUwe\n"
    got = anchor_comments(BODY, reply)
    assert [(LINES[a.line], a.text) for a in got] == [("+c", "Why?")]


def test_comments_on_the_previous_version_are_found_for_the_new_one(make_store) -> None:
    from tests.mailgen import mbox
    from triage.series.service import load_series
    from triage.session import Session

    v1_body = patch_body().replace("+c\n", "+c\n+old_line\n").replace("@@ -1,3 +1,3 @@", "@@ -1,3 +1,4 @@")
    v2_body = patch_body()
    review = ("> -b\n> +c\n\nIs c right?\n\n> +old_line\n\nDrop this line.\n")
    store = make_store(mbox(
        mail("v1@x", "[PATCH] widget: do it", v1_body),
        mail("r@x", "Re: [PATCH] widget: do it", review, minutes=10, parent="v1@x", sender="Bob <bob@example.net>"),
        mail("v2@x", "[PATCH v2] widget: do it", v2_body, minutes=100),
    ))
    session = Session(store, Settings())
    v2 = next(s for s in load_series(store) if s.id == "v2@x")
    assert v2.previous_versions == ["v1@x"]
    message = session.message("v2@x")
    anchored, unplaced = session.earlier_comments(v2, message, "v1@x")
    lines = message.body.split("\n")
    assert [(lines[c.line], c.text) for c in anchored] == [("+c", "Is c right?")]
    assert anchored[0].author.startswith("on v1: Bob")
    assert [(q, c.text) for q, c in unplaced] == [("+old_line", "Drop this line.")]
