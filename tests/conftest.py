"""Shared fixtures: isolated XDG dirs and real notmuch databases in temp dirs."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import notmuch2
import pytest

from triage.mail.importer import import_paths
from triage.mail.store import Store, StoreConfig
from triage.model.series import Series
from triage.series.service import load_series

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
FIXTURES = CORPUS / "fixtures"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the developer's own config, cache or mail."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_DATA_HOME", ".local/share"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("NOTMUCH_CONFIG", raising=False)
    monkeypatch.delenv("NOTMUCH_PROFILE", raising=False)
    # No test asks the network for a DKIM key: those that check signatures serve their own (dns_keys).
    monkeypatch.setenv("TRIAGE_NO_DNS", "1")
    return home


@pytest.fixture
def dns_keys(monkeypatch: pytest.MonkeyPatch):
    """DKIM/ARC keys made in the test and served as DNS answers (see tests/dkimkeys.py)."""
    import triage.mail.dns as dns
    from tests.dkimkeys import Keys

    keys = Keys()
    monkeypatch.delenv("TRIAGE_NO_DNS", raising=False)
    monkeypatch.setattr(dns, "_resolve", keys.lookup)
    return keys


def create_store(root: Path, *, name: str = "Test Maintainer", email: str = "maint@example.org") -> Store:
    mail = root / "mail"
    mail.mkdir(parents=True, exist_ok=True)
    cfg = root / "notmuch-config"
    cfg.write_text(
        f"[database]\npath={mail}\n\n[user]\nname={name}\nprimary_email={email}\n\n[new]\ntags=unread;inbox\n",
        encoding="utf-8",
    )
    notmuch2.Database.create(str(mail), config=notmuch2.Database.CONFIG.EMPTY).close()
    return Store(StoreConfig(config_path=str(cfg), lock_wait=1.0))


@contextlib.contextmanager
def write_lock_held(store: Store) -> Iterator[None]:
    """Another process holds the store's write lock, as ``notmuch new`` does, until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import notmuch2,sys,time; d=notmuch2.Database(sys.argv[1], mode=notmuch2.Database.MODE.READ_WRITE, "
         "config=notmuch2.Database.CONFIG.EMPTY); print('held', flush=True); time.sleep(30)", str(store.path())],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[..., Store]:
    """make_store(*paths) -> a real notmuch store with those mail files imported."""
    counter = {"n": 0}

    def _make(*sources: Path | str | bytes) -> Store:
        counter["n"] += 1
        root = tmp_path / f"store{counter['n']}"
        store = create_store(root)
        files: list[Path] = []
        for i, src in enumerate(sources):
            if isinstance(src, bytes):
                f = root / f"src{i}.eml"
                f.write_bytes(src)
                files.append(f)
            else:
                files.append(Path(src))
        if files:
            report = import_paths(store, files)
            assert report.added > 0, report.broken
        return store

    return _make


@pytest.fixture
def series_of(make_store: Callable[..., Store]) -> Callable[..., list[Series]]:
    def _series(*sources: Path | str | bytes, query: str = "*") -> list[Series]:
        return load_series(make_store(*sources), query)

    return _series
