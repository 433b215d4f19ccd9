"""triage's own settings, read from ``$XDG_CONFIG_HOME/triage/config.toml``.

A bad file never stops the app: its problem is reported with the file and line,
and the defaults apply.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage import paths
from triage.series.model import DEFAULT_TAG_PREFIX


@dataclass
class Settings:
    notmuch_config: str | None = None
    database: str | None = None
    tag_prefix: str = DEFAULT_TAG_PREFIX
    keymap: str = "default"
    trailers_ignore_from: list[str] = field(default_factory=list)
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
    return s
