"""A patch with two files and a reviewer's inline reply, written here (no copied mail)."""

from __future__ import annotations

from tests.mailgen import mail, mbox

PATCH = """widget: rework the frobnicator

Split the setup from the teardown.

Signed-off-by: Alice Author <alice@example.com>
---
 f.c | 3 ++-
 g.c | 2 +-
 2 files changed, 3 insertions(+), 2 deletions(-)

diff --git a/f.c b/f.c
index 1111111..2222222 100644
--- a/f.c
+++ b/f.c
@@ -1,6 +1,7 @@ int frob(void)
 one
 two
 three
-four
+four_setup();
+four_teardown();
 five
 six
diff --git a/g.c b/g.c
index 3333333..4444444 100644
--- a/g.c
+++ b/g.c
@@ -10,3 +10,3 @@ int gadget(void)
 alpha
-beta
+beta_checked();
 gamma
"""

REVIEW = """On Mon, Jan 5, 2026, Alice Author wrote:
> Split the setup from the teardown.
[...]
>  three
> -four
> +four_setup();

Does this still need the lock held?

Bob
"""


def review_store(make_store):
    return make_store(mbox(
        mail("p1@x", "[PATCH] widget: rework the frobnicator", PATCH, cc="Maint <maint@example.org>"),
        mail("r1@x", "Re: [PATCH] widget: rework the frobnicator", REVIEW, minutes=30, parent="p1@x",
             sender="Bob Reviewer <bob@example.net>"),
        mail("r2@x", "Re: [PATCH] widget: rework the frobnicator", "> Does this still need the lock held?\n\nNo: see v2.\n",
             minutes=60, parent="r1@x", refs=["p1@x", "r1@x"]),
    ))
