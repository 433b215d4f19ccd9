"""How to send, as config.toml says: no network or TLS imports here, so reading the
config stays cheap for commands that never send."""

from __future__ import annotations

from dataclasses import dataclass

SECURITY = ("none", "starttls", "tls")
METHODS = ("smtp", "sendmail")


@dataclass(frozen=True)
class SendSettings:
    method: str | None = None  # None: not configured
    host: str = "localhost"
    port: int | None = None  # default by security: 25, 587, 465
    security: str = "starttls"
    user: str | None = None
    password_command: str | None = None
    sendmail_command: str = "sendmail -t -oi"
    timeout: float = 30.0  # one read or write
    deadline: float = 60.0  # the whole conversation

    @property
    def smtp_port(self) -> int:
        return self.port or {"none": 25, "starttls": 587, "tls": 465}[self.security]

    def describe(self) -> str:
        if self.method == "smtp":
            return f"smtp {self.host}:{self.smtp_port} ({self.security})"
        if self.method == "sendmail":
            return f"sendmail command {self.sendmail_command!r}"
        return "no transport"


NOT_CONFIGURED = (
    "sending is not configured: add [send] to config.toml "
    '(method = "smtp" with [send.smtp] host, port, security, user, password_command; '
    'or method = "sendmail" with [send.sendmail] command)'
)
