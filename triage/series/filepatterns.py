"""File patterns as MAINTAINERS ``F:`` lines write them, compiled once into one matcher.

- ``drivers/pwm/`` (a trailing slash): everything below that directory;
- ``drivers/pwm/core.c``: that file (or, without wildcards, a directory of that name);
- ``drivers/pwm/pwm-*.c``, ``include/dt-bindings/pwm/*``: a glob within one directory
  level (get_maintainer.pl matches a pattern without a trailing slash only at its own
  depth, so ``*`` never crosses a ``/``).

Matching a path costs a set lookup per directory level plus one regular expression,
however many patterns there are (a queue of 300 patterns against a 20,000-file patch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class FilePatterns:
    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(dict.fromkeys(p.strip() for p in patterns if p and p.strip()))
        self._dirs: set[str] = set()  # "a/b/" prefixes
        self._exact: set[str] = set()
        globs: list[str] = []
        for p in self.patterns:
            if p.endswith("/"):
                self._dirs.add(p)
            elif any(c in p for c in "*?["):
                globs.append(_glob_regex(p))
            else:
                self._exact.add(p)
                self._dirs.add(p + "/")
        self._glob = re.compile("|".join(f"(?:{g})" for g in globs)) if globs else None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, path: str) -> bool:
        if path in self._exact:
            return True
        if self._dirs:
            i = path.find("/")
            while i != -1:
                if path[: i + 1] in self._dirs:
                    return True
                i = path.find("/", i + 1)
        return self._glob is not None and self._glob.fullmatch(path) is not None

    def any_match(self, paths: Iterable[str]) -> bool:
        return any(self.matches(p) for p in paths)


def _glob_regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out.append(f"[{'^' + body[1:] if body.startswith('!') else body}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    # As get_maintainer.pl: the pattern matches a prefix of the path at the same depth.
    return "".join(out) + "[^/]*"
