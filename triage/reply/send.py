"""Transports: SMTP (plain, STARTTLS, TLS) and a sendmail-compatible command.

Every failure becomes a SendError whose text says what happened and where
(host and port, or the command), fit for the status line.
"""

from __future__ import annotations

import copy
import shlex
import smtplib
import socket
import ssl
import subprocess
from email.message import EmailMessage
from email.utils import getaddresses

from triage.errors import UserError
from triage.reply.sendconfig import NOT_CONFIGURED, SendSettings


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
    return done.stdout.split("\n", 1)[0]


def _smtp(msg: EmailMessage, recipients: list[str], s: SendSettings) -> str:
    where = f"{s.host}:{s.smtp_port}"
    try:
        password = _password(s) if s.user and s.password_command else None
        if s.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.smtp_port, timeout=s.timeout, context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(s.host, s.smtp_port, timeout=s.timeout)
        with conn:
            if s.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
            if s.user:
                if password is None:
                    raise SendError(f"smtp {where}: user {s.user!r} is set but no password_command")
                conn.login(s.user, password)
            refused = conn.send_message(msg, to_addrs=recipients)
    except SendError:
        raise
    except smtplib.SMTPAuthenticationError as e:
        raise SendError(f"smtp {where}: login as {s.user!r} rejected: {e.smtp_code} {_text(e.smtp_error)}") from e
    except smtplib.SMTPRecipientsRefused as e:
        first = next(iter(e.recipients.items()), None)
        detail = f"{first[0]}: {first[1][0]} {_text(first[1][1])}" if first else ""
        raise SendError(f"smtp {where}: every recipient was refused ({detail})") from e
    except smtplib.SMTPSenderRefused as e:
        raise SendError(f"smtp {where}: sender {e.sender} refused: {e.smtp_code} {_text(e.smtp_error)}") from e
    except smtplib.SMTPResponseException as e:
        raise SendError(f"smtp {where}: server said {e.smtp_code} {_text(e.smtp_error)}") from e
    except smtplib.SMTPNotSupportedError as e:
        raise SendError(f"smtp {where}: {e} (check security = {s.security!r})") from e
    except smtplib.SMTPException as e:
        raise SendError(f"smtp {where}: {e}") from e
    except ConnectionRefusedError as e:
        raise SendError(f"smtp {where}: connection refused") from e
    except TimeoutError as e:
        raise SendError(f"smtp {where}: timed out after {s.timeout:.0f}s") from e
    except ssl.SSLError as e:
        raise SendError(f"smtp {where}: TLS failed ({e.reason or e})") from e
    except (socket.gaierror, OSError) as e:
        raise SendError(f"smtp {where}: {e.strerror or e}") from e
    if refused:
        return f"accepted by {where}; refused: {', '.join(refused)}"
    return f"accepted by {where}"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _sendmail(msg: EmailMessage, recipients: list[str], s: SendSettings) -> str:
    try:
        argv = shlex.split(s.sendmail_command)
    except ValueError as e:
        raise SendError(f"sendmail command {s.sendmail_command!r}: {e}") from e
    if not argv:
        raise SendError("sendmail command is empty")
    if "-t" in argv:
        # sendmail -t reads the recipients from the headers and strips Bcc itself.
        shown = {a.lower() for h in ("To", "Cc") for _, a in getaddresses(msg.get_all(h, []))}
        hidden = [r for r in recipients if r.lower() not in shown]
        if hidden:
            msg = copy.deepcopy(msg)
            msg["Bcc"] = ", ".join(hidden)
    else:
        argv = [*argv, "--", *recipients]
    try:
        done = subprocess.run(argv, input=msg.as_bytes(), capture_output=True, timeout=s.timeout * 4, check=False)
    except FileNotFoundError as e:
        raise SendError(f"sendmail command {argv[0]!r} not found") from e
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SendError(f"sendmail command {s.sendmail_command!r} failed: {e}") from e
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise SendError(f"sendmail command {s.sendmail_command!r} exited {done.returncode}: {err[0]}")
    return f"accepted by {argv[0]}"


def send(msg: EmailMessage, recipients: list[str], settings: SendSettings) -> str:
    """Hand the message to the configured transport; returns how it went, raises SendError."""
    if settings.method == "smtp":
        return _smtp(msg, recipients, settings)
    if settings.method == "sendmail":
        return _sendmail(msg, recipients, settings)
    raise SendError(NOT_CONFIGURED)
