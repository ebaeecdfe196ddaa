"""Evaluation: how well topics, keywords, roles and search do against labelled data.

The measurements live here; `paperlens eval ...` (cli/evaluate_*.py) parses options, calls one of
them and prints the result."""

from __future__ import annotations

from paperlens.core.paths import PACKAGE_DIR

# Evaluation data sets are not shipped: they are read from ../shared/data beside the repository.
SHARED_DATA = PACKAGE_DIR.parents[1].parent / "shared" / "data"
ICLR_2026 = SHARED_DATA / "iclr2026"
CSABSTRUCT = SHARED_DATA / "csabstruct"


class EvalError(ValueError):
    """Evaluation data that is missing or malformed; the message names the file (and line)."""
