"""Keymap files: ``keymaps/<name>.toml`` shipped with triage, and the user's overrides.

A file holds a ``[bindings]`` table of binding id to Textual key names,
comma separated (``"triage.next_file" = "right_square_bracket,n"``). The user
picks a shipped keymap with ``keymap = "vim"`` in ``config.toml`` and overrides
single ids in ``$XDG_CONFIG_HOME/triage/keymap.toml``. A file with a syntax error,
an unknown id or a key bound twice in one scope is reported with its file and
line and left out, so the app always starts.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from textual.keys import _character_to_key

from triage import paths
from triage.ui.bindings import BY_ID, default_keymap

# A keymap names each of triage's binding ids at most once; a file far beyond that is not one.
MAX_KEYMAP_BYTES = 64 * 1024
MAX_KEYMAP_IDS = 4 * len(BY_ID)
_KEY_RE = re.compile(r"^[a-z0-9_+]+$|^[A-Z]$|^.$")


def keymap_dirs() -> list[Path]:
    """Where shipped keymaps live: the source tree, then the installed data files."""
    return [
        Path(__file__).resolve().parents[2] / "keymaps",
        Path(sys.prefix) / "share" / "triage" / "keymaps",
    ]


def shipped_keymaps() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in keymap_dirs():
        if d.is_dir():
            for f in sorted(d.glob("*.toml")):
                found.setdefault(f.stem, f)
    return found


def user_keymap_file() -> Path:
    return paths.config_dir() / "keymap.toml"


def _normalize(keys: str) -> list[str]:
    return [_character_to_key(k) if len(k) == 1 else k for k in (k.strip() for k in keys.split(",")) if k]


def _line_of(text: str, needle: str) -> int:
    for no, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return no
    return 1


@dataclass
class Keymap:
    bindings: dict[str, str] = field(default_factory=default_keymap)
    problems: list[str] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)


def read_keymap_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """(id -> keys, problems); any problem means the file is not used."""
    try:
        if path.stat().st_size > MAX_KEYMAP_BYTES:
            return {}, [f"{path}:1: larger than {MAX_KEYMAP_BYTES // 1024} KiB, not a keymap; not used"]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return {}, [f"{path}: cannot read keymap ({e})"]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"at line (\d+), column (\d+)", str(e))
        where = f"{path}:{m[1]}" if m else str(path)
        return {}, [f"{where}: {str(e).split(' (at line')[0]}"]
    except RecursionError:
        return {}, [f"{path}:1: values nested too deeply to read; not used"]
    table = data.get("bindings")
    if not isinstance(table, dict):
        return {}, [f"{path}:1: no [bindings] table"]
    if len(table) > MAX_KEYMAP_IDS:
        return {}, [f"{path}:1: {len(table)} binding ids, more than the {len(BY_ID)} triage has; not used"]
    out: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in table.items():
        line = _line_of(text, binding_id)
        if binding_id not in BY_ID:
            problems.append(f"{path}:{line}: unknown binding id {binding_id!r}")
            continue
        if not isinstance(keys, str) or not keys.strip():
            problems.append(f"{path}:{line}: {binding_id} needs a string of key names")
            continue
        bad = [k for k in (k.strip() for k in keys.split(",")) if not _KEY_RE.match(k)]
        if bad:
            problems.append(f"{path}:{line}: {binding_id}: not a key name: {', '.join(bad)}")
            continue
        out[binding_id] = keys
    return out, problems


def clashes(bindings: dict[str, str]) -> list[tuple[str, str, str]]:
    """(key, id, other id) for keys bound twice in one scope."""
    seen: dict[tuple[str, str], str] = {}
    out: list[tuple[str, str, str]] = []
    for binding_id, keys in bindings.items():
        scope = BY_ID[binding_id].scope
        for key in _normalize(keys):
            other = seen.get((scope, key))
            if other is not None and other != binding_id:
                out.append((key, binding_id, other))
            else:
                seen[(scope, key)] = binding_id
    return out


def load_keymap(name: str = "default", *, user_file: Path | None = None) -> Keymap:
    """The effective keymap: built-in defaults, then the named keymap, then the user's overrides."""
    km = Keymap()
    shipped = shipped_keymaps()
    layers: list[Path] = []
    if name and name != "default" and name not in shipped and not Path(name).expanduser().exists():
        km.problems.append(f"keymap {name!r} not found (shipped: {', '.join(sorted(shipped)) or 'none'}); using default")
    elif name and name in shipped:
        layers.append(shipped[name])
    elif name and Path(name).expanduser().exists():
        layers.append(Path(name).expanduser())
    uf = user_file or user_keymap_file()
    if uf.exists():
        layers.append(uf)
    for path in layers:
        table, problems = read_keymap_file(path)
        if problems:
            km.problems.extend(p + "; file ignored" for p in problems)
            continue
        merged = {**km.bindings, **table}
        clash = clashes(merged)
        if clash:
            text = path.read_text(encoding="utf-8")
            for key, bid, other in clash:
                culprit = bid if bid in table else other
                km.problems.append(
                    f"{path}:{_line_of(text, culprit)}: key {key!r} bound to both {other} and {bid}; file ignored"
                )
            continue
        km.bindings = merged
        km.sources.append(path)
    return km
