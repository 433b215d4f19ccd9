"""DNS TXT answers for DKIM and ARC keys, kept with the time they were fetched.

A key is asked for once per selector and domain and then read from a small SQLite file
in the cache directory until it is a day old, so checking the signatures of a whole list
asks DNS a few hundred questions, not thousands. A machine without working DNS (offline,
or ``[trust] dns = false``) is noticed at the first failure: every later question in the
same run fails at once with :class:`DnsUnavailable` (no timeout per message), and the
messages it concerned say "not checked", to be checked again when DNS answers.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from triage import paths

KEEP_SECONDS = 86400  # a key record is asked for again after a day
RETRY_SECONDS = 600  # after DNS failed, it is tried again after ten minutes
TIMEOUT_SECONDS = 3.0

# (name) -> the record's text, or None when the name has none; raises DnsUnavailable.
Lookup = Callable[[bytes], bytes | None]


class DnsUnavailable(Exception):
    """DNS cannot be asked now (no network, no resolver, switched off): nothing was decided."""


def _resolve(name: bytes) -> bytes | None:
    """One TXT question to the system's resolver (dnspython, which dkimpy itself uses)."""
    import dns.exception
    import dns.resolver

    try:
        text = name.decode("ascii")
    except UnicodeDecodeError:
        return None
    try:
        answer = dns.resolver.resolve(text, "TXT", raise_on_no_answer=False, lifetime=TIMEOUT_SECONDS)
    except dns.resolver.NXDOMAIN:
        return None
    except (dns.resolver.NoNameservers, dns.resolver.NoResolverConfiguration, dns.exception.Timeout) as e:
        raise DnsUnavailable(f"DNS did not answer for {text}: {type(e).__name__}") from e
    except dns.exception.DNSException as e:
        raise DnsUnavailable(f"DNS failed for {text}: {e}") from e
    for rrset in answer.response.answer:
        for item in rrset:
            strings = getattr(item, "strings", None)
            if strings is not None:
                return b"".join(strings)
    return None


class DnsCache:
    """TXT answers by name, from the cache file when fresh, else from ``lookup``."""

    def __init__(self, path: Path | None = None, *, lookup: Lookup | None = None, enabled: bool = True) -> None:
        self.path = path or paths.cache_dir() / "dns.sqlite"
        self.lookup = lookup or _resolve
        self.enabled = enabled
        self._down_until = 0.0
        self._why = ""
        self._lock = threading.Lock()
        self._memo: dict[bytes, bytes | None] = {}

    def _db(self) -> sqlite3.Connection | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
            con.execute("CREATE TABLE IF NOT EXISTS txt(name BLOB PRIMARY KEY, answer BLOB, fetched INTEGER)")
            return con
        except (OSError, sqlite3.Error):
            return None  # a cache that cannot be kept only costs questions

    def _stored(self, name: bytes) -> tuple[bool, bytes | None]:
        con = self._db()
        if con is None:
            return False, None
        try:
            row = con.execute("SELECT answer, fetched FROM txt WHERE name=?", (name,)).fetchone()
        except sqlite3.Error:
            return False, None
        finally:
            con.close()
        if row is None or time.time() - int(row[1]) > KEEP_SECONDS:
            return False, None
        return True, (bytes(row[0]) if row[0] is not None else None)

    def _keep(self, name: bytes, answer: bytes | None) -> None:
        con = self._db()
        if con is None:
            return
        with contextlib.suppress(sqlite3.Error), contextlib.closing(con):
            con.execute("INSERT OR REPLACE INTO txt VALUES (?, ?, ?)", (name, answer, int(time.time())))

    def txt(self, name: bytes, timeout: float = TIMEOUT_SECONDS) -> bytes | None:
        """The TXT record of ``name``; the signature of dkimpy's ``dnsfunc``."""
        name = name.rstrip(b".").lower()
        with self._lock:
            if name in self._memo:
                return self._memo[name]
        found, answer = self._stored(name)
        if not found:
            if not self.enabled:
                raise DnsUnavailable("DNS is switched off ([trust] dns = false)")
            if time.monotonic() < self._down_until:
                raise DnsUnavailable(self._why)
            try:
                answer = self.lookup(name)
            except DnsUnavailable as e:
                self._down_until = time.monotonic() + RETRY_SECONDS
                self._why = str(e)
                raise
            self._keep(name, answer)
        with self._lock:
            self._memo[name] = answer
        return answer

    __call__ = txt
