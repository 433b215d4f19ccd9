"""triage: review patch series from a notmuch mail store."""

__version__ = "0.1.0"
