"""The web digest over HTTP (in-process ASGI client): pages, API, feeds, exports, safety, errors."""

from __future__ import annotations

import re
import sqlite3
import time
from urllib.parse import quote

import feedparser
import pytest
from fastapi.testclient import TestClient

from paperlens.store import Store
from paperlens.web.app import create_app
from paperlens.web.render import highlight, safe_segment
from paperlens.web.site import SiteWriter, bucket, export_site, tokens

from .web_corpus import BILINGUAL, HOSTILE, build_web_db

NASTY_QUERIES = [
    "", " ", '"', '""', '"unbalanced', "AND", "OR", "NOT", "a AND OR b", "NEAR(a b)", "NEAR", "*", "^", ":",
    "title:attention", "abstract:* OR", "(((", ")", "-", "+", "{}", "col:x*", "\\", "'; DROP TABLE papers; --",
    "x" * 10_000, "注意力 机制", "\x00\x01", "a" * 300 + " " + "b " * 5000, "%", "_", "^attention*",
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_web_db(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def client(db):
    with TestClient(create_app(str(db))) as c:
        yield c


def topic_slugs(html: str) -> list[str]:
    return re.findall(r'href="/topics/([^"?]+)"', html)


def test_home_counts_match_database(client, db):
    html = client.get("/").text
    conn = sqlite3.connect(db)
    expected = dict(((label, n) for label, n in conn.execute(
        "SELECT topic_label, count(*) FROM papers WHERE topic_label IS NOT NULL GROUP BY 1")))
    shown = dict((name, int(n)) for name, n in re.findall(
        r'<span class="topic-name">([^<]+)</span><span class="topic-count" data-count="(\d+)">\d+ 篇', html))
    assert shown == expected
    total = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    assert f'<b id="total-papers">{total}</b>' in html


def test_security_headers_on_every_response(client):
    # twice each: the second "/" is a page-cache hit, answered before the middleware that adds them
    for url in ("/", "/static/style.css", "/api/topics", "/papers/nope", "/feed?page=-1") * 2:
        r = client.get(url)
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"]
        assert len(r.headers.get_list("content-security-policy")) == 1


def test_pages_have_no_inline_scripts(client):
    for url in ("/", "/feed", "/trends", "/search?q=memory", "/authors/qiaozhi-he", "/docs"):
        html = client.get(url).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, (url, tag)
        assert " on" + "click=" not in html


@pytest.mark.parametrize("url,status", [
    ("/feed?page=-1", 400), ("/feed?page=0", 400), ("/feed?page=abc", 400), ("/feed?page=99999", 404),
    ("/api/papers?limit=1000000000", 400), ("/api/papers?limit=abc", 400), ("/api/papers?offset=-5", 400),
    ("/api/papers?year=abc", 400), ("/api/search?q=x&limit=0", 400), ("/topics/no-such-topic", 404),
    ("/papers/no:such:paper", 404), ("/authors/nobody-at-all", 404), ("/tags/never-a-keyword", 404),
    ("/api/papers/nope", 404), ("/api/authors/nobody", 404), ("/feeds/topics/nope.atom", 404),
    ("/search?year=abc&q=x", 400), ("/feed?per_page=100000", 400), ("/export/bogus/x.bib", 404),
])
def test_bad_input_gives_clear_4xx(client, url, status):
    r = client.get(url)
    assert r.status_code == status, (url, r.text[:300])
    if url.startswith("/api/"):
        assert r.json()["error"]


def test_topic_sort_filter_and_pagination(client):
    slug = quote(BILINGUAL["topic"]["label"], safe="")
    r = client.get(f"/topics/{slug}?sort=title")
    assert r.status_code == 200
    titles = re.findall(r'<h3 class="title"><a href="/papers/[^"]+">([^<]+)</a>', r.text)
    assert titles == sorted(titles, key=str.casefold) and len(titles) == 2
    r = client.get(f"/topics/{slug}?kw=zebrafish")
    assert "Zebrafish Tokenizers" in r.text and "Hostile" not in r.text
    # a filtered list offers to clear the filters, in words (a label key once printed a Python method)
    assert re.search(r'<a class="clear" href="[^"]+">Clear</a>', r.text) and "built-in method" not in r.text
    assert ">清除</a>" in client.get(f"/topics/{slug}?kw=zebrafish&lang=zh").text
    assert client.get(f"/topics/{slug}?sort=bogus").status_code == 400
    big = topic_slugs(client.get("/").text)[0]
    first = client.get(f"/topics/{big}?per_page=10")
    second = client.get(f"/topics/{big}?per_page=10&page=2")
    ids1 = set(re.findall(r'id="p-([^"]+)"', first.text))
    ids2 = set(re.findall(r'id="p-([^"]+)"', second.text))
    assert len(ids1) == 10 and len(ids2) == 10 and not ids1 & ids2
    assert 'rel="next"' in first.text


def test_language_switch_sets_cookie_and_changes_fields(client):
    pid = BILINGUAL["id"]
    en = client.get(f"/papers/{pid}?lang=en")
    assert "English motivation of zebrafish tokenizers" in en.text and "Motivation" in en.text
    assert en.cookies.get("lang") == "en"
    zh = client.get(f"/papers/{pid}?lang=zh")
    assert "斑马鱼分词的中文动机" in zh.text and "研究动机" in zh.text
    assert "English motivation" not in zh.text
    client.cookies.set("lang", "zh")
    assert "斑马鱼分词的中文动机" in client.get(f"/papers/{pid}").text
    client.cookies.clear()


def test_paper_page_shows_everything_and_alias_redirects(client):
    pid = BILINGUAL["id"]
    r = client.get(f"/papers/{pid}")
    assert r.status_code == 200
    for piece in ("@article{", "x-paperlens-id", "https://github.com/example/zebrafish", "Provenance",
                  "Similar papers", "/authors/ada-lovelace", "#zebrafish"):
        assert piece in r.text, piece
    alias = client.get("/papers/openreview:ZebraF1sh", follow_redirects=False)
    assert alias.status_code == 301 and alias.headers["location"] == f"/papers/{pid}"
    seed_paper = re.findall(r'href="(/papers/h:[^"]+)"', client.get("/feed").text)[0]
    page = client.get(seed_paper).text
    assert re.search(r"src/paperlens/sample/00\d_[0-9a-f]+\.txt:\d+", page)


def test_hostile_abstract_is_text_everywhere(client):
    pid = HOSTILE["id"]
    pages = [client.get(f"/papers/{pid}").text, client.get("/search?q=hostile+markup").text,
             client.get("/feed").text, client.get(f"/topics/{quote(HOSTILE['topic']['label'], safe='')}").text]
    for html in pages:
        assert "<script>alert(1)</script>" not in html
        assert "<img src=x" not in html and "<svg onload" not in html and "<b>Markup</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[0]
    api = client.get(f"/api/papers/{pid}").json()
    assert api["abstract"] == HOSTILE["abstract"]


def test_highlight_escapes_then_marks():
    out = str(highlight("<b>attention</b> & amp", ["attention", "amp", "b"]))
    assert "<b>" not in out and "&lt;" in out
    assert "<mark>attention</mark>" in out
    assert "&amp;" in out  # the entity itself is never split by a mark


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_search_never_fails(client, query):
    r = client.get("/search", params={"q": query})
    assert r.status_code == 200
    api = client.get("/api/search", params={"q": query, "limit": 5})
    assert api.status_code == 200 and isinstance(api.json()["results"], list)


def test_search_terms_are_safe(db):
    from paperlens.search.hybrid import HybridSearcher, fts_expression, query_terms

    searcher = HybridSearcher(Store(db, readonly=True))
    for query in NASTY_QUERIES:
        total, rows = searcher.search_page(query, limit=3, mode="keyword")
        assert total >= len(rows)
    assert all(re.fullmatch(r"\w+", t) for q in NASTY_QUERIES for t in query_terms(q))
    assert fts_expression(query_terms("a AND b")) == '"a" "and" "b"'


def test_search_ranks_abstract_phrase_and_api_shape(client):
    phrase = "segmenting scripts of mixed alphabets"
    html = client.get("/search", params={"q": phrase}).text
    first = re.search(r'<li class="result">.*?href="/papers/([^"]+)"', html, re.S).group(1)
    assert first == BILINGUAL["id"]
    assert "<mark>" in html
    data = client.get("/api/search", params={"q": phrase, "limit": 3}).json()
    top = data["results"][0]
    assert top["id"] == BILINGUAL["id"] and top["title"] == BILINGUAL["title"] and top["score"] > 0
    assert len(data["results"]) <= 3


def test_api_endpoints(client):
    topics = client.get("/api/topics").json()
    assert sum(t["papers"] for t in topics["topics"]) + topics["without_topic"] == topics["papers"]
    page = client.get("/api/papers", params={"limit": 5, "offset": 2}).json()
    assert len(page["papers"]) == 5 and page["total"] == topics["papers"]
    year = client.get("/api/papers", params={"year": 2025, "limit": 500}).json()
    assert year["papers"] and all(p["year"] == 2025 for p in year["papers"])
    slug = topics["topics"][0]["slug"]
    in_topic = client.get("/api/papers", params={"topic": slug, "limit": 500}).json()
    assert in_topic["total"] == topics["topics"][0]["papers"]
    author = client.get("/api/authors/qiaozhi-he").json()
    assert author["name"] == "Qiaozhi He" and any(c["slug"] == "ada-lovelace" for c in author["coauthors"])
    assert client.get(f"/api/papers/{BILINGUAL['id']}").json()["summary"]["en"]["problem"] == "English problem"
    spec = client.get("/openapi.json").json()
    assert "/api/search" in spec["paths"] and "/api/papers/{pid}" in spec["paths"]
    docs = client.get("/docs").text
    assert "/api/search" in docs and "cdn" not in docs.lower()


def test_atom_feeds_are_valid(client):
    slug = topic_slugs(client.get("/").text)[0]
    for url in (f"/feeds/topics/{slug}.atom", "/feeds/authors/qiaozhi-he.atom",
                "/feeds/search.atom?q=%3Cscript%3E+hostile", "/feeds/search.atom?q="):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(r.content)
        assert not feed.bozo, (url, feed.bozo_exception)
        assert feed.version == "atom10"
    hostile = feedparser.parse(client.get("/feeds/search.atom?q=hostile").content)
    assert any("<script>alert(1)</script>" in e.summary for e in hostile.entries)  # text, parsed back
    author = feedparser.parse(client.get("/feeds/authors/qiaozhi-he.atom").content)
    assert len(author.entries) == 5


def test_bibtex_exports(client):
    slug = topic_slugs(client.get("/").text)[0]
    for url in (f"/topics/{slug}?format=bibtex", "/authors/qiaozhi-he?format=bibtex",
                "/search?q=attention&format=bibtex", "/tags/tokenization?format=bibtex",
                "/export/authors/qiaozhi-he.bib"):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-bibtex"), url
        assert r.text.count("@") >= 1
    assert client.get("/authors/qiaozhi-he?format=bibtex").text.count("x-paperlens-id") == 5


def test_author_page_groups_by_year(client):
    html = client.get("/authors/qiaozhi-he").text
    years = re.findall(r'<section class="year-group" data-year="(\d*)">', html)
    assert years == ["2026", "2025"]
    assert 'href="/authors/ada-lovelace"' in html


def test_feed_page_shows_chip_badge_etal_org(client):
    html = client.get("/feed").text
    assert '<span class="chip">cs.CL</span>' in html
    assert "Code</a>" in html or '<span class="badge code">Code</span>' in html
    assert "et al." in html and "· tencent-ai" in html


def test_trends_svg(client):
    html = client.get("/trends").text
    assert html.count("<svg") == 2 and "<rect" in html


def test_safe_segment_and_writer_stay_inside(tmp_path):
    for value in ("..", "../../etc/passwd", "/abs/path", "a/b", "h:0123", "", ".hidden", "x" * 500, "名字 空格"):
        seg = safe_segment(value)
        assert seg and "/" not in seg and seg not in (".", "..") and not seg.startswith(".")
        assert len(seg) <= 90
    assert safe_segment("a:b") != safe_segment("a-b")
    writer = SiteWriter(tmp_path / "site")
    for bad in (["..", "x"], ["a/../../x"], ["/etc/passwd"], [""]):
        with pytest.raises(ValueError):
            writer.write(bad, "x")


def test_search_tokens_match_js_rules():
    # Chinese is segmented as the server's index does (jieba's search mode: the word and the words in it).
    assert tokens("Zebrafish-Tokenizers, α-β x 2026 注意力") == ["zebrafish", "tokenizers", "2026", "注意", "注意力"]
    assert 0 <= bucket("zebrafish") < 512 and bucket("zebrafish") == bucket("zebra") != bucket("zeta")


def test_static_export_writes_only_inside(tmp_path):
    small = build_web_db(tmp_path, seeds=("000", "001"))
    out = tmp_path / "site"
    n = export_site(Store(small, readonly=True), out)
    assert n == Store(small, readonly=True).count() == 26
    files = [p for p in out.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(out.resolve()) for p in files)
    assert (out / "index.html").exists() and (out / "search" / "meta.js").exists()
    assert not list(tmp_path.glob("*.html"))
    paper = next(out.glob(f"papers/{safe_segment(HOSTILE['id'])}/index.html")).read_text()
    assert "<script>alert(1)</script>" not in paper and "&lt;script&gt;alert(1)&lt;/script&gt;" in paper
    for html_file in (out / "index.html", out / "search" / "index.html"):
        text = html_file.read_text()
        assert 'href="/' not in text and 'src="/' not in text  # relative links only


def test_pages_follow_database_changes(tmp_path):
    from paperlens.core.models import Paper

    small = build_web_db(tmp_path, seeds=("000",))
    with TestClient(create_app(str(small))) as c:
        before = int(re.search(r'id="total-papers">(\d+)<', c.get("/").text).group(1))
        writer = Store(small)
        writer.ingest([Paper(id="test:late-arrival", title="A Late Arrival Paper About Walruses",
                             abstract="Walruses arrive late to every party and we measure exactly how late.")])
        writer.close()
        time.sleep(1.1)  # the catalog checks the database at most once a second
        assert int(re.search(r'id="total-papers">(\d+)<', c.get("/").text).group(1)) == before + 1
        assert "Walruses" in c.get("/search?q=walruses").text


WEIRD_VALUES = ["-1", "abc", str(10**30), "\x00' OR 1=1 --", "<script>ø../../etc/passwd"]


def test_no_parameter_makes_a_500(client):
    slug = topic_slugs(client.get("/").text)[0]
    listing = ["page", "per_page", "year", "sort", "code", "kw", "venue", "format", "lang"]
    params_of = {
        "/": ["lang", "page"], f"/topics/{slug}": listing, "/tags/tokenization": listing,
        "/authors/qiaozhi-he": ["format", "lang"], f"/papers/{BILINGUAL['id']}": ["format", "lang"],
        "/feed": ["page", "per_page"], "/search": ["q", "page", "per_page", "year", "code", "format"],
        "/trends": ["lang"], "/api/papers": ["limit", "offset", "topic", "year"],
        "/api/search": ["q", "limit", "offset", "year", "code"], "/feeds/search.atom": ["q", "year", "code"],
    }
    for path, names in params_of.items():
        for name in names:
            for value in WEIRD_VALUES:
                r = client.get(path, params={name: value, "q": "attention"} if name != "q" else {name: value})
                assert r.status_code in (200, 400, 404), (path, name, value, r.status_code)
    for path in ["/papers/%00", "/papers/..%2F..%2Fetc", "/topics/%2e%2e", "/authors/" + "a" * 5000,
                 "/tags/%20", "/papers/" + "x:" * 2000, "/export/topics/..%2Fx.bib"]:
        assert client.get(path).status_code in (400, 404), path


def test_head_requests(client):
    for url in ("/", "/feed", "/trends"):
        r = client.head(url)
        assert r.status_code == 200 and r.content == b""


def test_similar_papers_use_stored_embeddings(tmp_path):
    import numpy as np

    small = build_web_db(tmp_path, seeds=("000",))
    conn = sqlite3.connect(small)
    ids = [r[0] for r in conn.execute("SELECT id FROM papers ORDER BY id")]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(ids), 8)).astype(np.float32)
    target, twin = ids.index(BILINGUAL["id"]), ids.index(HOSTILE["id"])
    vectors[twin] = vectors[target] + 0.01  # the nearest neighbour by construction
    conn.executemany("INSERT INTO embeddings VALUES (?, 'test-model', 8, ?, '')",
                     [(pid, vec.tobytes()) for pid, vec in zip(ids, vectors, strict=True)])
    conn.commit()
    conn.close()
    with TestClient(create_app(str(small))) as c:
        html = c.get(f"/papers/{BILINGUAL['id']}").text
        section = html.split('class="panel similar"', 1)[1]
        assert "nearest by embedding (test-model)" in section
        first = re.search(r'href="/papers/([^"]+)"', section).group(1)
        assert first == HOSTILE["id"]
