"""👍/👎 for reader profiles in the web UI (issue 17): a real uvicorn server on 127.0.0.1, its pages read over
plain HTTP, and headless Chromium (system /usr/bin/chromium) clicking the buttons; the database is checked
for the marks. Without a write token, and in the static site, there are no controls at all."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from html import escape, unescape
from pathlib import Path
from urllib.parse import quote

import pytest

from paperlens.ingest.pipeline import ingest_paths
from paperlens.recommend.profiles import add_profile, mark
from paperlens.store import Store
from paperlens.web.app import create_app
from paperlens.web.i18n import labels
from paperlens.web.profiles import profile_page
from paperlens.web.site import export_site

from .conftest import chromium, serving
from .profile_corpus import made_up, write_bibtex, write_jsonl

TOKEN = "s3cret-token"


def build_db(root: Path) -> tuple[Path, list[str]]:
    """12 papers, a profile 'ana' whose library is 4 other papers, and one sent digest of 3 of the 12,
    the second of which ana already marked 👎. Returns the database and the digest's paper ids."""
    root.mkdir(parents=True, exist_ok=True)
    db = root / "fb.db"
    store = Store(db)
    try:
        ingest_paths(store, [write_jsonl(root / "papers.jsonl", made_up("graphs", 12, 1))])
        news = store.paper_ids_since()
        add_profile(store, "ana", [write_bibtex(root / "library.bib", made_up("graphs", 4, 2, start=100))], {})
        shown = news[:3]
        papers = {p.id: p for p in store.get_many(shown)}
        body = {"items": [{"id": pid, "title": papers[pid].title, "score": 1.0 - n / 10,
                           "reasons": [f"reason {n}"]} for n, pid in enumerate(shown)]}
        recorded = store.digest_record("ana", "2025-11-25", "feed", "", "digest", body, shown)
        store.digest_mark_sent(recorded["id"], "ana", "2025-11-25", shown)
        mark(store, "ana", shown[1], -1)
    finally:
        store.close()
    return db, shown


def get(url: str, cookie: str | None = None) -> str:
    request = urllib.request.Request(url, headers={"cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return response.read().decode("utf-8")


def pressed(html: str, paper: str) -> dict[str, str]:
    """label -> aria-pressed of the buttons for `paper` in the page."""
    group = html.split(f'data-fb-paper="{paper}"', 1)[1].split("</span>", 1)[0]
    return dict(re.findall(r'data-label="(up|down)" aria-pressed="(true|false)"', group))


@pytest.fixture
def corpus(tmp_path):
    return build_db(tmp_path / "corpus")


def test_pages_over_http_with_and_without_a_token(corpus, tmp_path):
    db, shown = corpus
    with serving(create_app(str(db), write_token=None)) as port:  # a read-only deployment
        base = f"http://127.0.0.1:{port}"
        plain = get(f"{base}/profiles/ana/")
        paper_plain = get(f"{base}/papers/{quote(shown[0], safe=':')}")
    assert plain.count("<li data-paper=") == 3
    for html in (plain, paper_plain):
        assert "pl-fb" not in html and "data-fb" not in html and "👍" not in html
    assert "<button" not in plain and "app.js" not in plain  # the read-only page exactly as before
    store = Store(db, readonly=True)
    assert plain == profile_page(store, "ana", feed_href="/feeds/profiles/ana.atom")

    with serving(create_app(str(db), write_token=TOKEN)) as port:
        base = f"http://127.0.0.1:{port}"
        page = get(f"{base}/profiles/ana/")
        page_zh = get(f"{base}/profiles/ana/?lang=zh")
        page_zh_cookie = get(f"{base}/profiles/ana/", cookie="lang=zh")
        paper = get(f"{base}/papers/{quote(shown[1], safe=':')}")
        paper_zh = get(f"{base}/papers/{quote(shown[1], safe=':')}?lang=zh")
        # a cached paper page follows a new mark once the catalog sees the write (docs/daily.md)
        url = f"{base}/papers/{quote(shown[0], safe=':')}"
        assert pressed(get(url), shown[0]) == pressed(get(url), shown[0]) == {"up": "false", "down": "false"}
        post = urllib.request.Request(f"{base}/api/profiles/ana/feedback", method="POST",
                                      data=json.dumps({"paper": shown[0], "label": "up"}).encode(),
                                      headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"})
        with urllib.request.urlopen(post, timeout=30) as answer:
            assert json.load(answer)["label"] == "up"
        deadline = time.monotonic() + 10
        while pressed(get(url), shown[0])["up"] != "true":
            assert time.monotonic() < deadline, "the paper page kept the old mark"
            time.sleep(0.1)
    en, zh = labels("en"), labels("zh")
    assert page.count("<li data-paper=") == 3 and page.count('class="pl-fb"') == 3
    assert page.count("<button type=\"button\" data-label=") == 6
    assert '<script src="/static/app.js" defer></script>' in page and "data-fb-bar" in page
    assert pressed(page, shown[0]) == {"up": "false", "down": "false"}
    assert pressed(page, shown[1]) == {"up": "false", "down": "true"}  # the 👎 already in the store
    assert 'data-fb-url="/api/profiles/ana/feedback"' in page
    assert f'title="{en["fb_up"]}"' in page and escape(en["fb_intro"]) in page
    for html in (page_zh, page_zh_cookie):
        assert f'title="{zh["fb_up"]}"' in html and escape(zh["fb_intro"]) in html and escape(en["fb_intro"]) not in html
        messages = json.loads(unescape(re.search(r'data-fb-messages="([^"]*)"', html).group(1)))
        assert messages["denied"] == zh["fb_denied"] and messages["off"] == zh["fb_off"]
    assert TOKEN not in page  # the page never carries the token
    # the paper page: a row per profile, with the current mark
    assert en["fb_profiles"] in paper and 'href="/profiles/ana/"' in paper
    assert pressed(paper, shown[1]) == {"up": "false", "down": "true"}
    assert zh["fb_profiles"] in paper_zh and f'title="{zh["fb_down"]}"' in paper_zh

    # the static site never has the controls (no server to post to)
    site = tmp_path / "site"
    export_site(Store(db, readonly=True), site)
    exported = [site / "profiles" / "ana" / "index.html", *site.glob("papers/*/index.html")]
    assert len(exported) > 3
    for path in exported:
        text = path.read_text(encoding="utf-8")
        assert "pl-fb" not in text and "data-fb" not in text and "/api/profiles" not in text, path


# -- in a real browser ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    p = context.new_page()
    p.console_errors = []
    p.on("console", lambda m: m.type == "error" and p.console_errors.append(m.text))
    p.on("pageerror", lambda e: p.console_errors.append(str(e)))
    yield p
    context.close()


def marks(db: Path) -> dict[str, int]:
    store = Store(db, readonly=True)
    try:
        return store.profile_papers("ana")
    finally:
        store.close()


def group(page, paper: str):
    return page.locator(f'.pl-fb[data-fb-paper="{paper}"]')


@pytest.mark.browser
def test_thumbs_up_in_chromium_reaches_the_database(corpus, page):
    db, shown = corpus
    first, second = shown[0], shown[1]
    assert first not in marks(db) and marks(db)[second] == -1
    with serving(create_app(str(db), write_token=TOKEN), lifespan="auto") as port:
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/profiles/ana/")
        status = page.locator("[data-fb-status]")
        form = page.locator("[data-fb-token-form]")
        assert form.is_visible()  # app.js ran (the form is hidden without it)
        up = group(page, first).locator('button[data-label="up"]')
        assert up.get_attribute("aria-pressed") == "false"

        up.click()  # no token yet: asked for it, nothing posted
        assert status.text_content() == labels("en")["fb_need_token"]
        assert first not in marks(db)
        form.locator("input[name=token]").fill(TOKEN)
        form.locator("button[type=submit]").click()  # saved, and the pending 👍 goes out
        page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'", arg=up.element_handle())
        assert status.text_content() == labels("en")["fb_saved"]
        assert marks(db)[first] == 1  # in the database, through the API
        assert page.evaluate("window.localStorage.getItem('pl-write-token')") == TOKEN

        # 👍 on the paper marked 👎: the mark flips, both buttons follow, no reload
        other = group(page, second)
        other.locator('button[data-label="up"]').click()
        page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'",
                               arg=other.locator('button[data-label="up"]').element_handle())
        assert other.locator('button[data-label="down"]').get_attribute("aria-pressed") == "false"
        assert marks(db)[second] == 1

        # pressing a pressed button clears the mark
        up.click()
        page.wait_for_function("b => b.getAttribute('aria-pressed') === 'false'", arg=up.element_handle())
        assert status.text_content() == labels("en")["fb_cleared"] and first not in marks(db)

        # after a reload the server renders the stored marks
        page.reload()
        assert group(page, second).locator('button[data-label="up"]').get_attribute("aria-pressed") == "true"
        assert group(page, first).locator('button[data-label="up"]').get_attribute("aria-pressed") == "false"
        assert not page.console_errors, page.console_errors


@pytest.mark.browser
def test_wrong_token_and_writing_off_are_clear_messages(corpus, page):
    db, shown = corpus
    zh = labels("zh")
    with serving(create_app(str(db), write_token=TOKEN), lifespan="auto") as port:
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/profiles/ana/?lang=zh")
        page.evaluate("window.localStorage.setItem('pl-write-token', 'not-the-token')")
        status = page.locator("[data-fb-status]")
        up = group(page, shown[0]).locator('button[data-label="up"]')
        up.click()
        page.wait_for_function("s => s.textContent.length > 0", arg=status.element_handle())
        assert status.text_content() == zh["fb_denied"] and status.get_attribute("data-kind") == "error"
        assert up.get_attribute("aria-pressed") == "false" and shown[0] not in marks(db)
        assert page.evaluate("window.localStorage.getItem('pl-write-token')") is None  # asked for again

        # a 403 (writing switched off behind the page's back) says so
        page.route("**/api/profiles/**", lambda route: route.fulfill(
            status=403, content_type="application/json", body='{"error": "writing is off", "status": 403}'))
        page.evaluate(f"window.localStorage.setItem('pl-write-token', '{TOKEN}')")
        up.click()
        page.wait_for_function(f"s => s.textContent === {json.dumps(zh['fb_off'])}", arg=status.element_handle())
        assert up.get_attribute("aria-pressed") == "false" and shown[0] not in marks(db)

        # the paper page has the same controls; a 👎 there reaches the database too
        page.unroute("**/api/profiles/**")
        page.goto(f"{base}/papers/{quote(shown[2], safe=':')}")
        down = group(page, shown[2]).locator('button[data-label="down"]')
        down.click()
        page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'", arg=down.element_handle())
        assert marks(db)[shown[2]] == -1
        assert not [e for e in page.console_errors if "401" not in e and "403" not in e], page.console_errors


@pytest.mark.browser
def test_no_buttons_without_a_token(corpus, page):
    db, shown = corpus
    with serving(create_app(str(db), write_token=None), lifespan="auto") as port:
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/profiles/ana/")
        assert page.locator("li[data-paper]").count() == 3
        assert page.locator("button").count() == 0 and page.locator(".pl-fb").count() == 0
        assert page.locator("script").count() == 0  # the read-only page, as it always was
        page.goto(f"{base}/papers/{quote(shown[0], safe=':')}")
        assert page.locator(".pl-fb").count() == 0 and page.locator("[data-fb-bar]").count() == 0
