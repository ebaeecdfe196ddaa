"""Settings read from the environment: one reader, so that every variable is checked alike."""

from __future__ import annotations

import os


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """The whole number in the environment variable `name`; `default` when it is unset or blank. Any other
    value that is not a whole number of at least `minimum` is an error naming the variable: a typo must
    not pass silently as the default (nor a traceback from int() say nothing of where it came from)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ValueError(f"{name}={raw!r}: give a whole number of at least {minimum}")
    return value
