"""Where the package's own files live (data/, prompts/, sample/), whatever module asks."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/paperlens
PACKAGE_DATA = PACKAGE_DIR / "data"
