"""Static site at scale: build time and client-side search time for N synthetic papers in Chromium.

    PYTHONPATH=src python bench/site_search.py [--papers 50000] [--full-site]

Synthetic papers (seeded random words, no real data) are ingested into a temporary DB. Without
--full-site only the search index is built (the part a query touches); with it the whole site.
Search time is measured in headless Chromium (/usr/bin/chromium) through the site's own search.js,
served by a local static HTTP server: the first query (loads its shards) and warm queries."""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from paperlens.core.models import Paper, Topic
from paperlens.store import Store
from paperlens.web.catalog import Catalog
from paperlens.web.render import STATIC, StaticLinks, make_env, safe_segment
from paperlens.web.site import SiteWriter, build_search_index, export_site

CHROMIUM = "/usr/bin/chromium"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def synthetic_papers(n: int, seed: int = 7):
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "zen", "dra", "qu", "pel", "tor", "mun", "ex",
                 "ion", "gra", "fi", "bet", "cor"]
    vocab = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(30000)})
    weights = [1 / (i + 1) for i in range(len(vocab))]  # Zipf-like, as real text
    names = [f"{rng.choice(vocab).title()} {rng.choice(vocab).title()}" for _ in range(20000)]
    topics = [f"topic {rng.choice(vocab)}" for _ in range(40)]
    for i in range(n):
        words = rng.choices(vocab, weights=weights, k=170)
        yield Paper(id=f"syn:{i:06d}", title=" ".join(words[:9]).capitalize(), abstract=" ".join(words[9:]) + ".",
                    authors=rng.sample(names, 4), keywords=rng.sample(vocab[:3000], 4), year=2020 + i % 7,
                    date=f"{2020 + i % 7}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    topic=Topic(area="synthetic", label=rng.choice(topics)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", type=int, default=50000)
    parser.add_argument("--full-site", action="store_true")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--db", type=Path, help="reuse the synthetic DB of an earlier run")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pl-site-"))
    if args.db and args.db.exists():
        store = Store(args.db)
    else:
        t0 = time.perf_counter()
        store = Store(args.db or tmp / "syn.db")
        store.ingest(synthetic_papers(args.papers), batch_size=2000)
        print(f"ingested {args.papers} synthetic papers in {time.perf_counter() - t0:.1f}s", flush=True)
    print(f"papers: {store.count()}", flush=True)
    out = tmp / "site"
    if args.full_site:
        t0 = time.perf_counter()
        export_site(store, out, on_progress=print)
        print(f"full site: {time.perf_counter() - t0:.1f}s")
    else:
        t0 = time.perf_counter()
        catalog = Catalog(store)
        t_catalog = time.perf_counter() - t0
        writer = SiteWriter(out)
        topic = {pid: t.label for t in catalog.topics.values() for pid in t.ids}
        docs = [(f"papers/{safe_segment(pid)}/index.html", catalog.papers[pid], topic.get(pid))
                for pid in catalog.newest]
        t0 = time.perf_counter()
        meta = build_search_index(docs, writer)
        t_index = time.perf_counter() - t0
        env = make_env()
        from paperlens.web.i18n import labels

        writer.write(["search", "index.html"], env.get_template("search.html").render(
            q="", lang="en", t=labels("en"), L=StaticLinks(1), request_path="", catalog=catalog))
        for name in ("search.js", "app.js", "style.css", "favicon.svg"):
            writer.write(["static", name], (STATIC / name).read_bytes())
        print(f"catalog {t_catalog:.1f}s; search index: {t_index:.1f}s, {meta['terms']} terms")
    index_files = list((out / "search").rglob("*.js"))
    sizes = sorted(p.stat().st_size for p in index_files)
    print(f"index: {len(index_files)} files, {sum(sizes) / 1e6:.1f} MB total, largest {sizes[-1] / 1e3:.0f} kB, "
          f"median {statistics.median(sizes) / 1e3:.0f} kB")
    handler = functools.partial(QuietHandler, directory=str(out))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    rng = random.Random(1)
    sample = [p for p in synthetic_papers(min(args.papers, 2000), seed=7)]
    queries = []
    for _ in range(args.queries):
        p = rng.choice(sample)
        words = p.abstract.split()
        kind = rng.randrange(3)
        queries.append(" ".join(words[5:7]) if kind == 0 else p.title.split()[0][:4] if kind == 1
                       else " ".join(p.title.lower().split()[2:5]))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/search/index.html")
        page.wait_for_function("() => !!(window.PL_SEARCH && window.PL_SEARCH.search)")
        timings = []
        for q in queries:
            result = page.evaluate("""async q => { const t = performance.now(); const r = await PL_SEARCH.search(q, 50);
                                       return [performance.now() - t, r.total, r.hits.length]; }""", q)
            timings.append(result)
        again = [page.evaluate("""async q => { const t = performance.now(); await PL_SEARCH.search(q, 50);
                                   return performance.now() - t; }""", q) for q in queries]
        browser.close()
    first = [t[0] for t in timings]
    print(f"queries: {len(queries)} (two abstract words / a title-word prefix / three title words); "
          f"results per query median {statistics.median(t[1] for t in timings):.0f}")
    print(f"JS search, first run of each query (loads shards over HTTP): median {statistics.median(first):.1f} ms, "
          f"p95 {statistics.quantiles(first, n=20)[18]:.1f} ms, max {max(first):.1f} ms")
    print(f"JS search, repeated (shards cached): median {statistics.median(again):.1f} ms, "
          f"p95 {statistics.quantiles(again, n=20)[18]:.1f} ms, max {max(again):.1f} ms")
    httpd.shutdown()


if __name__ == "__main__":
    main()
