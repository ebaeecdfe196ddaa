"""The one way paperlens writes the time: UTC to the second, ISO 8601 with a Z
("2026-12-01T13:50:00Z"). Stored stamps (papers, enrichments, migrations), the LLM ledger and the
feeds' updated time all use it, so stamps from any of them compare as strings."""

from __future__ import annotations

from datetime import UTC, datetime

STAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> str:
    """Now, as a stamp."""
    return datetime.now(UTC).strftime(STAMP_FORMAT)
