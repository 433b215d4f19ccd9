"""XDG locations for triage's config, cache and state."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "triage"


def cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / "triage"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "triage"


def data_home() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share")
