"""Reader profiles on the web: a page per profile (its digests, newest first) and an Atom feed of the
papers its digests published. Served by the app (/profiles/NAME/, /feeds/profiles/NAME.atom) and written
as static files by `paperlens daily --site DIR` (DIR/profiles/NAME/index.html, DIR/feeds/profiles/NAME.atom)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from paperlens.store import Store
from paperlens.web.feeds import atom_feed

MAX_DIGESTS = 30


def _updated(digests: list[dict]) -> str:
    stamps = [d["sent_at"] for d in digests if d.get("sent_at")]
    return max(stamps) if stamps else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def published_ids(store: Store, name: str, limit: int = 100) -> list[str]:
    out: list[str] = []
    for digest in store.profile_digests(name, limit=MAX_DIGESTS):
        if digest["status"] == "sent":
            out += [pid for pid in digest["papers"] if pid not in out]
    return out[:limit]


def profile_feed(store: Store, name: str, base_url: str, paper_url=None) -> bytes:
    """The Atom feed of what the profile's digests published (newest digest first)."""
    from paperlens.enrich.views import apply_enrichments

    base = base_url.rstrip("/")
    ids = published_ids(store, name)
    papers = {p.id: p for p in store.get_many(ids)}
    enrichments = store.enrichments_for_many(list(papers))
    ordered = [apply_enrichments(papers[i], enrichments.get(i, {})) for i in ids if i in papers]
    paper_url = paper_url or (lambda pid: f"{base}/papers/{quote(pid, safe=':')}")
    return atom_feed(f"paperlens · {name}", f"{base}/feeds/profiles/{quote(name)}.atom",
                     f"{base}/profiles/{quote(name)}/", ordered, _updated(store.profile_digests(name)), paper_url)


def profile_page(store: Store, name: str, feed_href: str, home_href: str = "/") -> str:
    """One page: every sent digest of the profile, newest first, each paper with its reasons."""
    digests = [d for d in store.profile_digests(name, limit=MAX_DIGESTS) if d["status"] == "sent"]
    parts = ["<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
             f"<title>paperlens · {escape(name)}</title>",
             f"<link rel=\"alternate\" type=\"application/atom+xml\" href=\"{escape(feed_href, quote=True)}\">",
             "</head><body style=\"font-family:system-ui,sans-serif;max-width:50em;margin:auto;line-height:1.45\">",
             f"<p><a href=\"{escape(home_href, quote=True)}\">paperlens</a> · "
             f"<a href=\"{escape(feed_href, quote=True)}\">Atom feed</a></p>",
             f"<h1>Daily digest: {escape(name)}</h1>"]
    if not digests:
        parts.append("<p>No digest yet.</p>")
    for digest in digests:
        record = store.digest_get(name, digest["day"], digest["channel"], digest["recipient"]) or {}
        items = (record.get("body") or {}).get("items", [])
        parts.append(f"<section><h2>{escape(digest['day'])}</h2><ol>")
        for item in items:
            parts.append(f"<li data-paper=\"{escape(item['id'], quote=True)}\"><strong>{escape(item['title'])}</strong>"
                         f"<br><small>{escape('; '.join(item['reasons']))}</small></li>")
        parts.append("</ol>")
        problems = (record.get("body") or {}).get("problems") or []
        if problems:
            parts.append("<p><small>Problems in this run: " + escape("; ".join(problems)) + "</small></p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


def write_profile_site(store: Store, out_dir: str | Path, names: list[str] | None = None,
                       base_url: str = "") -> list[Path]:
    """DIR/profiles/NAME/index.html and DIR/feeds/profiles/NAME.atom for each profile; the files written."""
    from paperlens.web.site import SiteWriter

    writer = SiteWriter(out_dir)
    written = []
    for name in names or store.profile_names():
        page = profile_page(store, name, feed_href=f"../../feeds/profiles/{quote(name)}.atom", home_href="../../")
        writer.write(["profiles", name, "index.html"], page)
        written.append(writer.path("profiles", name, "index.html"))
        paper_url = (lambda pid: f"{base_url.rstrip('/')}/papers/{quote(pid, safe=':')}/") if base_url else \
            (lambda pid: f"https://arxiv.org/abs/{pid.split(':', 1)[1]}" if pid.startswith("arxiv:")
             else f"urn:paperlens:{quote(pid, safe=':')}")
        writer.write(["feeds", "profiles", f"{name}.atom"], profile_feed(store, name, base_url or ".", paper_url))
        written.append(writer.path("feeds", "profiles", f"{name}.atom"))
    return written
