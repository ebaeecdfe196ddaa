"""Every page type, in both languages and at phone width (390 px) as well as desktop, in real headless
Chromium: a PNG of each goes to test-artifacts/screenshots/ (PAPERLENS_SCREENSHOTS to change; CI keeps the
folder), and no page shows a LaTeX command, "None" or "(untitled)" to its reader (issue 18)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from .conftest import CHROMIUM, chromium, sample, serving

pytestmark = pytest.mark.browser
OUT = Path(os.environ.get("PAPERLENS_SCREENSHOTS") or Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots")
WIDTHS = {"desktop": 1280, "phone": 390}
LANGS = ("en", "zh")
_LATEX = re.compile(r"\\[A-Za-z]{2,}(?![A-Za-z])|\$\^|\$\\|\\%|\\\(")
_NONE = re.compile(r"(?<![\w-])None(?![\w-])")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("no system Chromium at /usr/bin/chromium")
    from paperlens.cli import main
    from paperlens.web.app import create_app

    db = tmp_path_factory.mktemp("shots") / "sample.db"
    runner = CliRunner()
    seeds = [str(sample(p)) for p in ("000", "001", "002", "003")]
    assert runner.invoke(main, ["--db", str(db), "ingest", "--as-of", "2026-11-23", *seeds]).exit_code == 0
    assert runner.invoke(main, ["--db", str(db), "enrich", "--steps", "topic,keywords,title,digest,tldr"]).exit_code == 0
    with serving(create_app(str(db)), lifespan="auto", start_timeout=60) as port:
        yield f"http://127.0.0.1:{port}"


def _pages(page, base: str) -> dict[str, str]:
    """One URL per page type, found by following the home page's links."""
    page.goto(base + "/")
    home = page.content()
    found = {"home": "/", "feed": "/feed", "trends": "/trends", "search": "/search?q=reasoning", "docs": "/docs",
             "not-found": "/papers/no-such-paper"}
    for name, pattern in (("topic", r'href="(/topics/[^"?]+)"'), ("author", r'href="(/authors/[^"?]+)"'),
                          ("tag", r'href="(/tags/[^"?]+)"')):
        match = re.search(pattern, home)
        assert match, name
        found[name] = match.group(1)
    page.goto(base + found["search"])
    listing = page.content()
    derived = re.search(r'href="(/papers/[^"]+)">(?:(?!</a>).)*</a> <span class="derived-title"', listing)
    assert derived, "no paper with a derived title in the search results"
    found["paper-derived-title"] = derived.group(1)
    page.goto(base + found["author"])
    titled = re.search(r'href="(/papers/[^"]+)"', page.content())
    found["paper"] = titled.group(1)
    return found


def test_every_page_type_in_both_languages_and_at_phone_width(base):
    OUT.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    shots = 0
    with chromium() as browser:
        first = browser.new_page()
        targets = _pages(first, base)
        first.close()
        for width_name, width in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            for name, path in targets.items():
                for lang in LANGS:
                    url = base + path + ("&" if "?" in path else "?") + f"lang={lang}"
                    page.goto(url)
                    page.screenshot(path=str(OUT / f"{name}-{lang}-{width_name}.png"), full_page=True)
                    shots += 1
                    text = page.inner_text("body")
                    for what, pattern in (("LaTeX", _LATEX), ("None", _NONE)):
                        for match in pattern.finditer(text):
                            problems.append(f"{url}: {what} {text[max(0, match.start() - 40):match.end() + 40]!r}")
                    if "(untitled)" in text:
                        problems.append(f"{url}: (untitled)")
                    if width == 390:  # nothing wider than the phone's screen
                        overflow = page.evaluate("document.documentElement.scrollWidth")
                        if overflow > width + 2:
                            problems.append(f"{url}: {overflow} px wide at {width} px")
            context.close()
    assert shots == len(targets) * len(LANGS) * len(WIDTHS)
    assert not problems, "\n".join(problems[:30])
