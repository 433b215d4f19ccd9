"""triage's own settings, read from ``$XDG_CONFIG_HOME/triage/config.toml``.

A bad file never stops the app: its problem is reported with the file and line,
and the defaults apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triage import paths
from triage.reply.sendconfig import METHODS, SECURITY, SendSettings
from triage.series.model import DEFAULT_TAG_PREFIX, STATES

if TYPE_CHECKING:
    import tomllib


@dataclass
class Settings:
    notmuch_config: str | None = None
    database: str | None = None
    tag_prefix: str = DEFAULT_TAG_PREFIX
    keymap: str = "default"
    trailers_ignore_from: list[str] = field(default_factory=list)
    identity_name: str | None = None
    identity_email: str | None = None
    send: SendSettings = field(default_factory=SendSettings)
    # The state a series moves to after a Reviewed-by/Acked-by reply; None leaves it alone.
    state_after_review: str | None = "reviewed"
    export_link: str | None = "https://lore.kernel.org/r/{msgid}"
    export_link_to: str = "cover"
    export_signoff: bool = False
    apply_repo: str | None = None
    apply_base: str | None = None  # None: HEAD; "auto": the series' base-commit when the tree has it
    export_dir: str | None = None  # where the screen writes exports (default: the current directory)
    raw: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None
    problems: list[str] = field(default_factory=list)


def config_file() -> Path:
    return paths.config_dir() / "config.toml"


def _toml_error(path: Path, err: tomllib.TOMLDecodeError) -> str:
    # tomllib says "(at line 3, column 7)"; keep that and lead with the file.
    m = re.search(r"at line (\d+), column (\d+)", str(err))
    where = f"{path}:{m[1]}:{m[2]}" if m else str(path)
    return f"{where}: {str(err).split(' (at line')[0]}"


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_file()
    s = Settings(source=path)
    if not path.exists():
        return s
    import tomllib  # here: most starts have no settings file, and every command starts here

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        s.problems.append(_toml_error(path, e) + "; using defaults")
        return s
    except (OSError, UnicodeDecodeError) as e:
        s.problems.append(f"{path}: cannot read ({e}); using defaults")
        return s
    s.raw = data
    nm = data.get("notmuch", {})
    if isinstance(nm, dict):
        s.notmuch_config = nm.get("config") or None
        s.database = nm.get("database") or None
    prefix = data.get("tag_prefix", DEFAULT_TAG_PREFIX)
    if isinstance(prefix, str) and prefix and " " not in prefix:
        s.tag_prefix = prefix
    else:
        s.problems.append(f"{path}: tag_prefix must be a tag prefix without spaces; using {DEFAULT_TAG_PREFIX!r}")
    keymap = data.get("keymap", "default")
    if isinstance(keymap, str):
        s.keymap = keymap
    ignore = data.get("trailers", {}).get("ignore_from", []) if isinstance(data.get("trailers"), dict) else []
    if isinstance(ignore, list):
        s.trailers_ignore_from = [str(x) for x in ignore]
    _identity(s, data, path)
    _reply(s, data, path)
    _send(s, data, path)
    _export(s, data, path)
    return s


def _export(s: Settings, data: dict[str, Any], path: Path) -> None:
    table = _table(data, "export", s, path)
    if "link" in table:
        link = table["link"]
        if link == "":
            s.export_link = None
        elif isinstance(link, str) and _template_ok(link):
            s.export_link = link
        else:
            s.problems.append(f"{path}: export.link must be a URL template with {{msgid}} (or \"\"); using the default")
    link_to = table.get("link_to", "cover")
    if link_to in ("cover", "patch"):
        s.export_link_to = link_to
    else:
        s.problems.append(f"{path}: export.link_to must be \"cover\" or \"patch\"; using \"cover\"")
    signoff = table.get("signoff", False)
    if isinstance(signoff, bool):
        s.export_signoff = signoff
    else:
        s.problems.append(f"{path}: export.signoff must be true or false")
    s.export_dir = _string(table, "dir", "export", s, path)
    apply = _table(data, "apply", s, path)
    s.apply_repo = _string(apply, "repo", "apply", s, path)
    base = apply.get("base", "head")
    if base in ("auto", "head"):
        s.apply_base = "auto" if base == "auto" else None
    else:
        s.problems.append(f"{path}: apply.base must be \"auto\" or \"head\"; using \"head\"")


def _template_ok(template: str) -> bool:
    try:
        return "{msgid}" in template and template.format(msgid="x") != template
    except (KeyError, IndexError, ValueError):
        return False


def _table(data: dict[str, Any], key: str, s: Settings, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if isinstance(value, dict):
        return value
    s.problems.append(f"{path}: [{key}] must be a table; ignored")
    return {}


def _string(table: dict[str, Any], key: str, where: str, s: Settings, path: Path) -> str | None:
    value = table.get(key)
    if value is None or (isinstance(value, str) and value.strip()):
        return value.strip() if isinstance(value, str) else None
    s.problems.append(f"{path}: {where}.{key} must be a non-empty string; ignored")
    return None


def _identity(s: Settings, data: dict[str, Any], path: Path) -> None:
    table = _table(data, "identity", s, path)
    s.identity_name = _string(table, "name", "identity", s, path)
    s.identity_email = _string(table, "email", "identity", s, path)
    if s.identity_email and ("@" not in s.identity_email or any(c.isspace() for c in s.identity_email)):
        s.problems.append(f"{path}: identity.email {s.identity_email!r} is not an address; ignored")
        s.identity_email = None


def _reply(s: Settings, data: dict[str, Any], path: Path) -> None:
    table = _table(data, "reply", s, path)
    if "state_after_review" in table:
        value = table["state_after_review"]
        if value in ("", False):
            s.state_after_review = None
        elif value in STATES:
            s.state_after_review = value
        else:
            s.problems.append(
                f"{path}: reply.state_after_review must be one of {', '.join(STATES)} or \"\"; using 'reviewed'"
            )


def _send(s: Settings, data: dict[str, Any], path: Path) -> None:
    table = _table(data, "send", s, path)
    if not table:
        return
    method = table.get("method")
    if method not in METHODS:
        s.problems.append(f"{path}: send.method must be one of {', '.join(METHODS)}; sending is off")
        return
    smtp = _table(table, "smtp", s, path)
    sendmail = _table(table, "sendmail", s, path)
    kw: dict[str, Any] = {"method": method}
    security = smtp.get("security", "starttls")
    if security not in SECURITY:
        s.problems.append(f"{path}: send.smtp.security must be one of {', '.join(SECURITY)}; sending is off")
        return
    kw["security"] = security
    port = smtp.get("port")
    if port is not None and not (isinstance(port, int) and 0 < port < 65536):
        s.problems.append(f"{path}: send.smtp.port must be a port number; sending is off")
        return
    kw["port"] = port
    if "password" in smtp:
        s.problems.append(f"{path}: send.smtp.password is not read: use password_command (e.g. \"pass show mail\")")
    for key, name in (("host", "host"), ("user", "user"), ("password_command", "password_command")):
        value = _string(smtp, key, "send.smtp", s, path)
        if value is not None:
            kw[name] = value
    command = _string(sendmail, "command", "send.sendmail", s, path)
    if command is not None:
        kw["sendmail_command"] = command
    s.send = SendSettings(**kw)
