"""The web digest and the static site driven in real headless Chromium (system /usr/bin/chromium)."""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from paperlens.store import Store
from paperlens.web.render import safe_segment
from paperlens.web.site import export_site

from .conftest import chromium, serving
from .web_corpus import BILINGUAL, HOSTILE, build_web_db

pytestmark = pytest.mark.browser


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    return {"db": build_web_db(root), "small": build_web_db(root, seeds=("000", "001"), name="small.db"),
            "root": root}


@pytest.fixture(scope="module")
def server(corpus):
    from paperlens.web.app import create_app

    with serving(create_app(str(corpus["db"])), lifespan="auto") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def site(corpus):
    out = corpus["root"] / "site"
    export_site(Store(corpus["small"], readonly=True), out)
    handler = functools.partial(QuietHandler, directory=str(out))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"dir": out, "url": f"http://127.0.0.1:{httpd.server_address[1]}"}
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.dialogs = []
    p.on("dialog", lambda d: (p.dialogs.append(d.message), d.dismiss()))
    p.console_errors = []
    p.on("console", lambda m: m.type == "error" and p.console_errors.append(m.text))
    yield p
    context.close()


def test_home_counts_match_database(page, server, corpus):
    page.goto(server + "/")
    shown = {}
    for row in page.locator("li.topic-row").all():
        name = row.locator(".topic-name").inner_text()
        count_text = row.locator(".topic-count").inner_text()
        assert re.fullmatch(r"\d+ 篇", count_text)
        shown[name] = int(count_text.split()[0])
    conn = sqlite3.connect(corpus["db"])
    expected = dict(conn.execute(
        "SELECT topic_label, count(*) FROM papers WHERE topic_label IS NOT NULL GROUP BY 1").fetchall())
    assert shown == expected
    assert int(page.locator("#total-papers").inner_text()) == conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    assert not page.console_errors


def test_card_abstract_expands(page, server):
    page.goto(server + "/")
    page.locator("li.topic-row a").first.click()
    card = page.locator("article.card").first
    details = card.locator("details.abstract")
    body = details.locator("p")
    assert not body.is_visible()
    details.locator("summary").click()
    assert body.is_visible() and len(body.inner_text()) > 100
    assert details.evaluate("d => d.open")
    assert card.locator("ul.fields li").count() == 6
    assert card.locator(".ficon").first.inner_text() == "🎯"


def test_language_switch(page, server):
    page.goto(server + f"/papers/{BILINGUAL['id']}?lang=en")
    assert "English motivation of zebrafish tokenizers" in page.locator("ul.fields").inner_text()
    page.locator("#lang-switch").click()
    page.wait_for_load_state()
    fields = page.locator("ul.fields").inner_text()
    assert "斑马鱼分词的中文动机" in fields and "研究动机" in fields and "English motivation" not in fields
    # The choice sticks (cookie) on the next page without ?lang.
    page.goto(server + f"/papers/{BILINGUAL['id']}")
    assert "研究动机" in page.locator("ul.fields").inner_text()
    assert page.locator("nav").first.inner_text().startswith("速览")
    page.locator("#lang-switch").click()
    page.wait_for_load_state()
    assert "English motivation" in page.locator("ul.fields").inner_text()
    # A seed 002 paper (Chinese summary only) shows it with English labels and says so.
    page.goto(server + "/")
    page.locator("li.topic-row a").first.click()
    assert "Motivation" in page.locator("article.card ul.fields").first.inner_text()


def test_search_finds_abstract_phrase(page, server):
    page.goto(server + "/")
    page.fill("header input[name=q]", "quaint method for segmenting scripts")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    first = page.locator("li.result").first
    assert first.locator("h3 a").inner_text() == BILINGUAL["title"]
    assert first.locator("mark").count() >= 2
    first.locator("h3 a").click()
    page.wait_for_url(re.compile(r"/papers/"))
    assert page.locator("h1.paper-title").inner_text().startswith(BILINGUAL["title"])


def test_author_page_groups_by_year(page, server):
    page.goto(server + "/authors/qiaozhi-he")
    years = page.locator("section.year-group h2.year").all_inner_texts()
    assert years == ["2026", "2025"]
    assert page.locator("section.year-group").first.locator("article.pub").count() == 4
    page.locator("aside .coauthors a", has_text="Ada Lovelace").click()
    page.wait_for_url(re.compile(r"/authors/ada-lovelace"))


def test_feed_shows_chips_badges_etal_org(page, server):
    page.goto(server + "/feed")
    items = page.locator("article.item")
    assert items.count() == 30
    assert page.locator("article.item .chip", has_text="cs.CL").count() > 0
    assert page.locator("article.item .badge.code").count() > 0
    assert page.locator("article.item .etal").count() > 0
    assert "· tencent-ai" in page.locator("article.item .org").all_inner_texts()
    dates = items.locator(".date").all_inner_texts()
    assert dates[0] == "Nov 2, 2026"  # newest first
    page.locator("nav.pager a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator("article.item").count() == 30


def test_trends_renders_svg(page, server):
    page.goto(server + "/trends")
    svg = page.locator("svg.chart").first
    assert svg.is_visible()
    assert svg.locator("rect").count() > 3
    box = svg.bounding_box()
    assert box["width"] > 300 and box["height"] > 150


def test_hostile_abstract_is_text_in_server(page, server):
    page.goto(server + f"/papers/{HOSTILE['id']}")
    text = page.locator("p.abstract-full").inner_text()
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text
    assert page.locator("h1.paper-title").inner_text().startswith("Hostile <b>Markup</b>")
    page.goto(server + f"/topics/{quote(HOSTILE['topic']['label'], safe='')}")
    for summary in page.locator("details.abstract summary").all():
        summary.click()
    page.goto(server + "/search?q=hostile+markup")
    assert "<script>alert(1)</script>" in page.locator("li.result").first.inner_text()
    assert page.dialogs == []
    assert page.locator("img").count() == 0


def test_static_site_and_client_search(page, site):
    page.goto(site["url"] + "/index.html")
    assert page.locator("li.topic-row").count() == 1
    page.locator("li.topic-row a").first.click()
    assert page.locator("article.card").count() == 2
    page.goto(site["url"] + "/search/index.html?q=zebrafish+tokenizers")
    first = page.locator("#static-results li.result").first
    first.wait_for()
    assert first.locator("h3 a").inner_text() == BILINGUAL["title"]
    assert first.locator("mark").count() >= 1
    # Prefix search while typing, and an abstract word.
    page.fill(".bigsearch input[name=q]", "segmentat")
    page.wait_for_function("document.querySelector('#static-results h3 a') && "
                           "document.querySelector('#static-results h3 a').textContent.includes('Zebrafish')")
    # The results and the status line are updated one after the other: wait for the status too.
    page.wait_for_function(r"/^\d+ results? \([\d.]+ ms\)/.test(document.querySelector('#search-status').textContent)")
    status = page.locator("#search-status").inner_text()
    assert re.match(r"(1 result|\d+ results) \([\d.]+ ms\)", status)
    page.locator("#static-results h3 a").first.click()
    page.wait_for_url(re.compile(r"/papers/.+/index\.html$"))
    assert page.locator("h1.paper-title").inner_text().startswith(BILINGUAL["title"])
    # Static language switch: both summaries rendered, one shown.
    assert page.locator("ul.fields.l-en").is_visible() and not page.locator("ul.fields.l-zh").is_visible()
    page.locator("#lang-switch").click()
    assert page.locator("ul.fields.l-zh").is_visible() and not page.locator("ul.fields.l-en").is_visible()
    page.locator("a.tag", has_text="#zebrafish").click()
    assert "zebrafish" in page.locator("h1").inner_text()
    assert not page.console_errors


def test_static_site_hostile_text_and_file_url(page, site):
    paper = site["dir"] / "papers" / safe_segment(HOSTILE["id"]) / "index.html"
    for url in (site["url"] + f"/papers/{safe_segment(HOSTILE['id'])}/index.html", paper.as_uri()):
        page.goto(url)
        text = page.locator("p.abstract-full").inner_text()
        assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(1)>" in text
    page.goto((site["dir"] / "search" / "index.html").as_uri() + "?q=hostile")
    first = page.locator("#static-results li.result").first
    first.wait_for()
    assert "<script>alert(1)</script>" in first.inner_text()
    assert page.dialogs == []
    assert page.locator("img").count() == 0
