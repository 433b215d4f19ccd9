"""Feeding and sharing the store with the tools maintainers already use: lei (public-inbox's
local client) fetches list mail into the store, notmuch-git shares state tags through a git
remote. Both are run as they are, as commands; nothing of theirs is reimplemented."""
