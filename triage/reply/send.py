"""Transports: SMTP (plain, STARTTLS, TLS) and a sendmail-compatible command.

Every failure becomes a SendError whose text says what happened and where
(host and port, or the command), fit for the status line.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import smtplib
import socket
import ssl
import subprocess
import threading
import time
from typing import TYPE_CHECKING

from triage.errors import UserError
from triage.sendconfig import NOT_CONFIGURED, SendSettings

if TYPE_CHECKING:
    from triage.reply.draft import Built


class SendError(UserError):
    """The transport did not accept the message; nothing was sent."""


def _password(settings: SendSettings) -> str:
    assert settings.password_command
    try:
        done = subprocess.run(
            settings.password_command, shell=True, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SendError(f"password_command {settings.password_command!r} failed: {e}") from e
    if done.returncode != 0:
        why = (done.stderr or "").strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise SendError(f"password_command {settings.password_command!r} failed: {why[0]}")
    # `pass` prints the password on the first line, other lines are metadata.
    password = done.stdout.split("\n", 1)[0].rstrip("\r")
    if not password:
        raise SendError(f"password_command {settings.password_command!r} printed no password; nothing was sent")
    return password


class _Deadline:
    """Closes the connection's socket when the whole conversation has taken too long: a
    server that answers a byte at a time never trips the per-read timeout."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._conn: smtplib.SMTP | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, conn: smtplib.SMTP) -> None:
        self._conn = conn
        if not self._timer.is_alive():
            self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        sock = getattr(self._conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _smtp(built: Built, s: SendSettings) -> str:
    where = f"{s.host}:{s.smtp_port}"
    deadline = _Deadline(s.deadline)
    started = time.monotonic()
    try:
        password = _password(s) if s.user and s.password_command else None
        left = max(1.0, s.deadline - (time.monotonic() - started))
        timeout = min(s.timeout, left)
        if s.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(timeout=timeout, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(timeout=timeout)
        deadline.watch(conn)
        conn.connect(s.host, s.smtp_port)
        with conn:
            if s.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
            if s.user:
                if password is None:
                    raise SendError(f"smtp {where}: user {s.user!r} is set but no password_command")
                conn.login(s.user, password)
            # SMTP wants CRLF lines; smtplib leaves bytes as they are.
            refused = conn.sendmail(built.sender, built.recipients, _crlf(built.data))
    except SendError:
        raise
    except Exception as e:
        if deadline.expired:
            raise SendError(f"smtp {where}: gave up after {s.deadline:.0f}s (send.deadline); nothing was sent") from e
        raise _smtp_error(e, where, s) from e
    finally:
        deadline.cancel()
    if refused:
        return f"accepted by {where}; refused: {', '.join(refused)}"
    return f"accepted by {where}"


def _crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n|\r", b"\r\n", data)


def _smtp_error(e: Exception, where: str, s: SendSettings) -> SendError:
    """What went wrong, for the status line."""
    if isinstance(e, smtplib.SMTPAuthenticationError):
        return SendError(f"smtp {where}: login as {s.user!r} rejected: {e.smtp_code} {_text(e.smtp_error)}")
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        first = next(iter(e.recipients.items()), None)
        detail = f"{first[0]}: {first[1][0]} {_text(first[1][1])}" if first else ""
        return SendError(f"smtp {where}: every recipient was refused ({detail})")
    if isinstance(e, smtplib.SMTPSenderRefused):
        return SendError(f"smtp {where}: sender {e.sender} refused: {e.smtp_code} {_text(e.smtp_error)}")
    if isinstance(e, smtplib.SMTPResponseException):
        return SendError(f"smtp {where}: server said {e.smtp_code} {_text(e.smtp_error)}")
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return SendError(f"smtp {where}: {e} (check security = {s.security!r})")
    if isinstance(e, smtplib.SMTPException):
        return SendError(f"smtp {where}: {e}")
    if isinstance(e, ConnectionRefusedError):
        return SendError(f"smtp {where}: connection refused")
    if isinstance(e, TimeoutError):
        return SendError(f"smtp {where}: timed out after {s.timeout:.0f}s")
    if isinstance(e, ssl.SSLError):
        return SendError(f"smtp {where}: TLS failed ({e.reason or e})")
    if isinstance(e, OSError):
        return SendError(f"smtp {where}: {e.strerror or e}")
    return SendError(f"smtp {where}: {type(e).__name__}: {e}")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _sendmail(built: Built, s: SendSettings) -> str:
    try:
        argv = shlex.split(s.sendmail_command)
    except ValueError as e:
        raise SendError(f"sendmail command {s.sendmail_command!r}: {e}") from e
    if not argv:
        raise SendError("sendmail command is empty")
    data = built.data
    if "-t" in argv:
        # sendmail -t reads the recipients from the headers and strips Bcc itself: the
        # hidden ones go in a Bcc line, encoded like every header triage writes.
        from triage.mail import wire

        shown = {a.lower() for h in ("To", "Cc") for a in _header_addresses(built, h)}
        hidden = [r for r in built.recipients if r.lower() not in shown]
        if hidden:
            data = wire.addresses("Bcc", [("", a) for a in hidden]).fold(policy=built.message.policy).encode("ascii") + data
    else:
        argv = [*argv, "--", *built.recipients]
    try:
        done = subprocess.run(argv, input=data, capture_output=True, timeout=s.deadline, check=False)
    except FileNotFoundError as e:
        raise SendError(f"sendmail command {argv[0]!r} not found") from e
    except subprocess.TimeoutExpired as e:
        raise SendError(f"sendmail command {s.sendmail_command!r} gave up after {s.deadline:.0f}s (send.deadline)") from e
    except OSError as e:
        raise SendError(f"sendmail command {s.sendmail_command!r} failed: {e}") from e
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise SendError(f"sendmail command {s.sendmail_command!r} exited {done.returncode}: {err[0]}")
    return f"accepted by {argv[0]}"


def _header_addresses(built: Built, name: str) -> list[str]:
    return [a for _, a in (getattr(built.message[name], "pairs", None) or [])]


def send(built: Built, settings: SendSettings) -> str:
    """Hand the message to the configured transport; returns how it went, raises SendError."""
    if settings.method == "smtp":
        return _smtp(built, settings)
    if settings.method == "sendmail":
        return _sendmail(built, settings)
    raise SendError(NOT_CONFIGURED)
