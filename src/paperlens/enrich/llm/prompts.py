"""Versioned prompt files: `llm-summary.v1.md` ships in paperlens/prompts; a file of the same name in the
settings' prompt directory replaces it, and a higher `vN` wins. The version is the file's `vN` plus a hash
of the text, so editing a prompt changes the step version and marks earlier summaries stale."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from paperlens.core.paths import PACKAGE_DIR

BUILTIN_DIR = PACKAGE_DIR / "prompts"
_NAME = re.compile(r"^(?P<name>.+)\.v(?P<version>\d+)\.md$")


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str  # e.g. "v1-3f2a9c1d"
    path: Path
    system: Template
    user: Template

    def render(self, **values: str) -> tuple[str, str]:
        return self.system.substitute(values).strip(), self.user.substitute(values).strip()


def load_prompt(name: str, override_dir: Path | None = None) -> Prompt:
    candidates: dict[int, Path] = {}
    for directory in (BUILTIN_DIR, override_dir):  # later directories replace earlier ones
        if directory is None:
            continue
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"{directory}: prompt directory does not exist")
        for path in directory.glob(f"{name}.v*.md"):
            match = _NAME.match(path.name)
            if match and match["name"] == name:
                candidates[int(match["version"])] = path
    if not candidates:
        raise FileNotFoundError(f"no prompt file {name}.vN.md in {BUILTIN_DIR}" +
                                (f" or {override_dir}" if override_dir else ""))
    number = max(candidates)
    path = candidates[number]
    text = path.read_text(encoding="utf-8")
    system, user = _sections(text, path)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return Prompt(name, f"v{number}-{digest}", path, Template(system), Template(user))


def _sections(text: str, path: Path) -> tuple[str, str]:
    parts: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        header = line.strip().lower()
        if header in ("## system", "## user"):
            current = parts.setdefault(header[3:], [])
            continue
        if current is not None:
            current.append(line)
    if "user" not in parts:
        raise ValueError(f"{path}: a prompt needs a '## user' section (and optionally '## system')")
    return "\n".join(parts.get("system", [])), "\n".join(parts["user"])
