"""Build small test messages in code (the project's own fixtures, no copied mail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
DIFF = """---
 f.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/f.c b/f.c
index 1111111..2222222 100644
--- a/f.c
+++ b/f.c
@@ -1,3 +1,3 @@
 a
-b
+c
 d
"""


def mail(
    mid: str,
    subject: str,
    body: str = "text\n",
    *,
    sender: str = "Alice Author <alice@example.com>",
    minutes: int = 0,
    parent: str | None = None,
    refs: list[str] | None = None,
    to: str = "list@example.org",
    cc: str | None = None,
) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    if cc:
        m["Cc"] = cc
    m["Subject"] = subject
    m["Date"] = format_datetime(T0 + timedelta(minutes=minutes))
    m["Message-ID"] = f"<{mid}>"
    if parent:
        m["In-Reply-To"] = f"<{parent}>"
    chain = refs if refs is not None else ([parent] if parent else [])
    if chain:
        m["References"] = " ".join(f"<{r}>" for r in chain)
    m.set_content(body)
    return bytes(m)


def patch_body(msg: str = "do the thing", trailers: str = "Signed-off-by: Alice Author <alice@example.com>\n") -> str:
    return f"{msg}\n\n{trailers}{DIFF}"


def mbox(*messages: bytes) -> bytes:
    out = []
    for m in messages:
        body = b"\n".join((b">" + line if line.lstrip(b">").startswith(b"From ") else line) for line in m.split(b"\n"))
        out.append(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + body.rstrip(b"\n") + b"\n\n")
    return b"".join(out)


def raw_mail(headers: list[tuple[str, str]], body: str = "text\n") -> bytes:
    """A message written byte for byte as given: hostile headers are not re-encoded."""
    head = "".join(f"{name}: {value}\n" for name, value in headers)
    return (head + "\n" + body).encode("utf-8", "surrogateescape")
