"""`paperlens daily` end to end: a fake arXiv (API and listing feed) on 127.0.0.1 replaying responses made
here, a real SMTP server (aiosmtpd) on 127.0.0.1, the real store, enrichment and ranking."""

from __future__ import annotations

import email
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.daily.mail import SmtpSettings
from paperlens.daily.run import NO_NEW, announce_window
from tests.profile_corpus import made_up, write_bibtex, write_jsonl

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

TUESDAY, SATURDAY, WEDNESDAY = "2025-11-25", "2025-11-29", "2025-11-26"


def atom_entry(arxiv_id: str, paper: dict, category: str) -> str:
    authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in paper["authors"])
    return (f"<entry><id>http://arxiv.org/abs/{arxiv_id}v1</id><updated>2025-11-24T18:00:00Z</updated>"
            f"<published>2025-11-24T18:00:00Z</published><title>{escape(paper['title'])}</title>"
            f"<summary>{escape(paper['abstract'])}</summary>{authors}"
            f"<arxiv:primary_category xmlns:arxiv=\"http://arxiv.org/schemas/atom\" term=\"{category}\"/>"
            f"<category term=\"{category}\"/></entry>")


def atom_feed(entries: list[str]) -> str:
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
            "<title>ArXiv Query</title><id>http://arxiv.org/api/replay</id><updated>2025-11-25T00:00:00-05:00</updated>"
            f"<opensearch:totalResults xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\">{len(entries)}"
            "</opensearch:totalResults>" + "".join(entries) + "</feed>")


def rss_feed(items: list[tuple[str, dict]]) -> str:
    body = "".join(
        f"<item><title>{escape(p['title'])}</title><link>https://arxiv.org/abs/{aid}</link>"
        f"<description>arXiv:{aid}v1 Announce Type: new \nAbstract: {escape(p['abstract'])}</description>"
        f"<guid isPermaLink=\"false\">oai:arXiv.org:{aid}v1</guid><category>cs.LG</category>"
        f"<pubDate>Wed, 26 Nov 2025 00:00:00 -0500</pubDate><arxiv:announce_type>new</arxiv:announce_type>"
        f"<dc:creator>{escape(', '.join(p['authors']))}</dc:creator></item>" for aid, p in items)
    return ("<?xml version='1.0' encoding='UTF-8'?><rss xmlns:arxiv=\"http://arxiv.org/schemas/atom\" "
            "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" version=\"2.0\"><channel><title>cs.LG updates on arXiv.org"
            "</title><link>http://rss.arxiv.org/rss/cs.LG</link><description>cs.LG</description>" + body
            + "</channel></rss>")


class FakeArxiv:
    """Answers /api/query by the submittedDate window asked for, and /rss/CATS with the listing."""

    def __init__(self):
        self.days: dict[str, str] = {}  # submittedDate window start -> Atom response
        self.listing = rss_feed([])
        self.failing = 0  # answer this many requests with HTTP 503
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.requests.append(self.path)
                url = urlparse(self.path)
                if outer.failing:
                    outer.failing -= 1
                    self.send_error(503, "busy")
                    return
                if url.path == "/api/query":
                    query = parse_qs(url.query)["search_query"][0]
                    start = query.split("submittedDate:[", 1)[1].split(" ", 1)[0]
                    body = outer.days.get(start, atom_feed([]))
                elif url.path.startswith("/rss/"):
                    body = outer.listing
                else:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def arxiv():
    fake = FakeArxiv()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, f"127.0.0.1:{controller.port}"
    controller.stop()


@pytest.fixture
def setup(tmp_path, arxiv, monkeypatch):
    """A store with a background of 30 papers per topic, a graph-papers profile, and Tuesday's
    announcements: 6 graph and 6 speech papers in cs.LG."""
    db = tmp_path / "daily.db"
    runner = CliRunner()
    background = write_jsonl(tmp_path / "background.jsonl", made_up("graphs", 30, 1) + made_up("speech", 30, 2))
    assert runner.invoke(main, ["--db", str(db), "ingest", str(background)]).exit_code == 0
    library = write_bibtex(tmp_path / "library.bib", made_up("graphs", 8, 3, start=100))
    added = runner.invoke(main, ["--db", str(db), "profile", "add", "ana", str(library), "--category", "cs.LG",
                                 "--email", "ana@example.org", "--author", "Ann Speechc"])
    assert added.exit_code == 0, added.output
    day = made_up("graphs", 6, 4, start=200) + made_up("speech", 6, 5, start=300)
    topics = {}
    entries = []
    for n, paper in enumerate(day):
        aid = f"2511.{20000 + n}"
        topics[f"arxiv:{aid}"] = paper["topic"]
        entries.append(atom_entry(aid, paper, "cs.LG"))
    arxiv.days[announce_window(__import__("datetime").date.fromisoformat(TUESDAY))[0]] = atom_feed(entries)
    monkeypatch.setenv("PAPERLENS_SMTP_FROM", "digest@example.org")
    return db, topics, day


def daily(db, arxiv, *extra):
    args = ["--db", str(db), "daily", "--api-url", arxiv.base + "/api/query", "--feed-url", arxiv.base + "/rss",
            "--delay", "0", "--backoff", "0", "--steps", "embed,tldr", *extra]
    return CliRunner().invoke(main, args)


def test_daily_ranks_summarises_sends_once(setup, arxiv, smtp, tmp_path):
    db, topics, _ = setup
    inbox, address = smtp
    site = tmp_path / "site"
    first = daily(db, arxiv, "--date", TUESDAY, "--smtp", address, "--limit", "5", "--site", str(site))
    assert first.exit_code == 0, first.output
    assert "ana 2025-11-25: sent 5 papers to ana@example.org" in first.output
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert inbox.envelopes[0] == ("digest@example.org", ["ana@example.org"])
    assert message["Subject"] == "paperlens ana · 2025-11-25: 5 new papers"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    ids = [line.split("abs/", 1)[1].strip() for line in text.splitlines() if "https://arxiv.org/abs/" in line]
    assert len(ids) == 5
    # ranked: the library is about graphs; the followed speech author comes in too
    ranked_topics = [topics[f"arxiv:{i}"] for i in ids]
    assert ranked_topics.count("graphs") >= 4, ranked_topics
    assert "why: close to " in text and "followed author Ann Speechc" in text
    # summarised: each paper carries the tl;dr the enrichment made
    assert text.count("TL;DR: ") == 5 and html.count("<b>TL;DR:</b>") == 5
    assert "Ranked for profile 'ana'" in text and "Problems" not in text
    # published: the profile's page and feed in the site
    assert (site / "profiles" / "ana" / "index.html").read_text(encoding="utf-8").count("<li data-paper=") == 5
    assert (site / "feeds" / "profiles" / "ana.atom").read_text(encoding="utf-8").count("<entry>") == 5
    requests = len(arxiv.requests)

    again = daily(db, arxiv, "--date", TUESDAY, "--smtp", address, "--limit", "5")
    assert again.exit_code == 0, again.output
    assert "the 2025-11-25 digest was sent at" in again.output
    assert len(inbox.messages) == 1 and len(arxiv.requests) == requests  # nothing fetched or sent twice


def test_weekend_and_empty_days_send_nothing(setup, arxiv, smtp):
    db, _, _ = setup
    inbox, address = smtp
    weekend = daily(db, arxiv, "--date", SATURDAY, "--smtp", address)
    assert weekend.exit_code == 0, weekend.output
    assert f"ana 2025-11-29: {NO_NEW}" in weekend.output and not arxiv.requests and not inbox.messages
    holiday = daily(db, arxiv, "--date", WEDNESDAY, "--smtp", address)  # the replay has nothing that day
    assert holiday.exit_code == 0 and f"ana 2025-11-26: {NO_NEW}" in holiday.output
    assert len(arxiv.requests) == 1 and not inbox.messages


def test_failed_fetch_is_resumable_and_failed_send_is_not_half_sent(setup, arxiv, smtp):
    db, _, _ = setup
    inbox, address = smtp
    arxiv.failing = 10
    failed = daily(db, arxiv, "--date", TUESDAY, "--smtp", address, "--retries", "1")
    assert failed.exit_code == 1 and "fetch failed, nothing sent (rerun to resume)" in failed.output
    assert len(arxiv.requests) == 2 and not inbox.messages  # one try and one retry
    arxiv.failing = 0
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    unsent = daily(db, arxiv, "--date", TUESDAY, "--smtp", dead)
    assert unsent.exit_code == 1 and "not sent (kept for the next run)" in unsent.output
    sent = daily(db, arxiv, "--date", TUESDAY, "--smtp", address)
    assert sent.exit_code == 0 and "sent 12 papers to ana@example.org" in sent.output, sent.output
    assert len(inbox.messages) == 1  # the digest recorded before the failed send, sent now, once
    assert daily(db, arxiv, "--date", TUESDAY, "--smtp", address).exit_code == 0 and len(inbox.messages) == 1


def test_listing_feed_and_no_repeats(setup, arxiv, smtp, tmp_path):
    db, _, day = setup
    inbox, address = smtp
    first = daily(db, arxiv, "--date", TUESDAY, "--smtp", address, "--limit", "3")
    assert first.exit_code == 0, first.output
    sent_text = inbox.messages[0].get_body(("plain",)).get_content()
    # Wednesday's listing announces two new papers and repeats two of Tuesday's (cross-lists, revisions)
    fresh = made_up("graphs", 2, 9, start=400)
    repeated = [line.split("abs/", 1)[1].strip() for line in sent_text.splitlines() if "arxiv.org/abs/" in line][:2]
    old = {f"2511.{20000 + n}": p for n, p in enumerate(day)}
    arxiv.listing = rss_feed([("2511.30000", fresh[0]), ("2511.30001", fresh[1])]
                             + [(aid, old[aid]) for aid in repeated])
    second = daily(db, arxiv, "--date", WEDNESDAY, "--source", "listing", "--smtp", address, "--limit", "10")
    assert second.exit_code == 0, second.output
    assert any(r.startswith("/rss/cs.LG") for r in arxiv.requests)
    text = inbox.messages[1].get_body(("plain",)).get_content()
    assert "2511.30000" in text and "2511.30001" in text
    assert not any(aid in text for aid in repeated)  # never sent twice


def test_digest_on_demand_writes_html(setup, arxiv, tmp_path):
    db, _, _ = setup
    assert daily(db, arxiv, "--date", TUESDAY).exit_code == 0  # no --smtp: published to the feed only
    out = tmp_path / "digest.html"
    result = CliRunner().invoke(main, ["--db", str(db), "digest", "ana", "--since", "2025-01-01", "--out", str(out),
                                       "--limit", "4"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.count("<li ") == 4



class PickyInbox(Inbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's
        if address.startswith("gone@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_digest_refused_for_one_recipient_is_not_sent_again_to_the_others(setup, arxiv):
    # The server took the mail for ana and refused gone@: the digest stayed 'pending' and every rerun
    # mailed ana the same digest again ("not sent (kept for the next run)", while it had been).
    db, _, _ = setup
    inbox = PickyInbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        assert CliRunner().invoke(main, ["--db", str(db), "profile", "set", "ana", "--email",
                                         "gone@example.org"]).exit_code == 0
        runs = [daily(db, arxiv, "--date", TUESDAY, "--smtp", f"127.0.0.1:{controller.port}", "--limit", "3")
                for _ in range(3)]
    finally:
        controller.stop()
    assert [e[1] for e in inbox.envelopes] == [["ana@example.org"]]
    first = runs[0]
    assert first.exit_code == 1 and "sent 3 papers to ana@example.org" in first.output, first.output
    assert "refused gone@example.org (550 no such user)" in first.output
    assert all("was sent at" in run.output for run in runs[1:]), runs[1].output

def test_digest_out_in_a_missing_folder_is_one_sentence(setup, arxiv, tmp_path):
    # it was a FileNotFoundError traceback (export -o says "cannot write")
    db, _, _ = setup
    assert daily(db, arxiv, "--date", TUESDAY).exit_code == 0
    out = tmp_path / "missing" / "digest.html"
    result = CliRunner().invoke(main, ["--db", str(db), "digest", "ana", "--since", "2025-01-01", "--out", str(out)])
    assert result.exit_code == 1 and f"{out}: cannot write (No such file or directory)" in result.output, result.output

def test_digest_to_an_address_with_a_line_break_is_a_usage_error(setup, arxiv, tmp_path):
    # '--to "x@y.z\nBcc: ..."' ended in a ValueError traceback from the email package (header injection refused
    # only by accident); it is now refused as the profile's --email is, before anything is ranked.
    db, _, _ = setup
    result = CliRunner().invoke(main, ["--db", str(db), "digest", "ana", "--to", "x@example.org\nBcc: e@example.org",
                                       "--smtp", "127.0.0.1:1", "--since", "2025-01-01"])
    assert result.exit_code == 2, result.output
    assert "not an email address" in result.output

def test_smtp_settings_from_the_environment():
    env = {"PAPERLENS_SMTP_USER": "me@example.org", "PAPERLENS_SMTP_PASSWORD": "pw"}
    assert SmtpSettings.parse("smtp.example.org:465", env).security == "ssl"
    tls = SmtpSettings.parse("smtp.example.org:587", env)
    assert (tls.security, tls.user, tls.sender) == ("starttls", "me@example.org", "me@example.org")
    assert SmtpSettings.parse("127.0.0.1:2525", {}).security == "none"
    with pytest.raises(Exception, match="PAPERLENS_SMTP_SECURITY"):
        SmtpSettings.parse("smtp.example.org:25", {"PAPERLENS_SMTP_SECURITY": "tls1"})


def test_profile_page_feed_and_feedback_in_the_web_app(setup, arxiv, tmp_path):
    from fastapi.testclient import TestClient

    from paperlens.store import Store
    from paperlens.web.app import create_app

    db, _, _ = setup
    assert daily(db, arxiv, "--date", TUESDAY, "--limit", "3").exit_code == 0
    with TestClient(create_app(str(db), write_token="s3cret")) as client:
        page = client.get("/profiles/ana/")
        assert page.status_code == 200 and page.text.count("<li data-paper=") == 3
        feed = client.get("/feeds/profiles/ana.atom")
        assert feed.status_code == 200 and feed.text.count("<entry>") == 3, feed.text[-600:]
        assert client.get("/profiles/nobody/").status_code == 404
        assert 'href="ana/"' in client.get("/profiles/").text
        first = page.text.split('data-paper="', 1)[1].split('"', 1)[0]
        body = {"paper": first, "label": "down"}
        assert client.post("/api/profiles/ana/feedback", json=body).status_code == 401
        wrong = client.post("/api/profiles/ana/feedback", json=body, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        done = client.post("/api/profiles/ana/feedback", json=body, headers={"authorization": "Bearer s3cret"})
        assert done.status_code == 200, done.text
        bad = client.post("/api/profiles/ana/feedback", json={"paper": first, "label": "meh"},
                          headers={"authorization": "Bearer s3cret"})
        assert bad.status_code == 400
    with TestClient(create_app(str(db), write_token=None)) as client:  # read-only deployment: no writes
        assert client.post("/api/profiles/ana/feedback", json=body).status_code == 403
    store = Store(db)
    assert store.profile_counts("ana")["disliked"] == 1
    store.close()
    site = tmp_path / "site"
    assert CliRunner().invoke(main, ["--db", str(db), "export", "--format", "site", "-o", str(site)]).exit_code == 0
    assert 'href="ana/index.html"' in (site / "profiles" / "index.html").read_text(encoding="utf-8")
    assert (site / "profiles" / "ana" / "index.html").exists() and (site / "feeds" / "profiles" / "ana.atom").exists()


def test_llm_summaries_and_a_failed_llm_call_in_the_footer(tmp_path, arxiv, smtp, monkeypatch):
    """--llm: the digest carries the LLM's structured summary; a paper the LLM fails on is reported in the
    footer and the exit code, and a rerun retries it without sending the digest again."""
    from tests.fake_llm import FakeLLM
    from tests.llm_helpers import fake_env

    inbox, address = smtp
    db = tmp_path / "llm.db"
    runner = CliRunner()
    library = write_bibtex(tmp_path / "library.bib", made_up("graphs", 6, 3, start=100))
    assert runner.invoke(main, ["--db", str(db), "profile", "add", "ana", str(library), "--category", "cs.LG",
                                "--email", "ana@example.org"]).exit_code == 0
    day = made_up("graphs", 4, 4, start=200)
    day[1]["title"] += " [[down]]"  # the fake LLM answers 503 for this one, always
    arxiv.days[announce_window(__import__("datetime").date.fromisoformat(TUESDAY))[0]] = atom_feed(
        [atom_entry(f"2511.{20000 + n}", p, "cs.LG") for n, p in enumerate(day)])
    with FakeLLM() as llm:
        for key, value in fake_env(llm.base_url, PAPERLENS_LLM_MAX_RETRIES="1", PAPERLENS_LLM_BACKOFF_BASE="0.01",
                                   PAPERLENS_LLM_BACKOFF_MAX="0.02").items():
            monkeypatch.setenv(key, value)
        args = ["--date", TUESDAY, "--smtp", address, "--llm", "--lang", "en"]
        first = daily(db, arxiv, *args)
        assert first.exit_code == 1, first.output
        assert "problem: llm-summary: 1 paper(s) failed" in first.output and len(inbox.messages) == 1
        text = inbox.messages[0].get_body(("plain",)).get_content()
        assert text.count("Method: ") == 3  # the three the LLM summarised
        assert "Problems in this run" in text and "llm-summary: 1 paper(s) failed" in text
        asked = len(llm.requests)
        rerun = daily(db, arxiv, *args)
        assert "the 2025-11-25 digest was sent at" in rerun.output and len(inbox.messages) == 1
        again = llm.requests[asked:]
        assert again and {r["title"] for r in again} == {day[1]["title"]}  # only the failed one is tried again


def test_two_profiles_share_one_fetch_and_get_their_own_ranking(setup, arxiv, smtp, tmp_path):
    db, topics, _ = setup
    inbox, address = smtp
    library = write_bibtex(tmp_path / "speech.bib", made_up("speech", 8, 6, start=500))
    added = CliRunner().invoke(main, ["--db", str(db), "profile", "add", "bo", str(library), "--category", "cs.LG",
                                      "--email", "bo@example.org"])
    assert added.exit_code == 0, added.output
    result = daily(db, arxiv, "--date", TUESDAY, "--smtp", address, "--limit", "4")
    assert result.exit_code == 0, result.output
    assert len([r for r in arxiv.requests if r.startswith("/api/query")]) == 1  # one request for both
    by_rcpt = {rcpts[0]: message for (_, rcpts), message in zip(inbox.envelopes, inbox.messages, strict=True)}
    for who, topic in (("ana@example.org", "graphs"), ("bo@example.org", "speech")):
        text = by_rcpt[who].get_body(("plain",)).get_content()
        ids = [line.split("abs/", 1)[1].strip() for line in text.splitlines() if "https://arxiv.org/abs/" in line]
        ranked = [topics[f"arxiv:{i}"] for i in ids]
        assert ranked.count(topic) >= 3, (who, ranked)


def test_llm_relevance_reranks_the_digest_reports_failures_and_costs_no_second_call(tmp_path, arxiv, smtp,
                                                                                    monkeypatch):
    """--llm with a profile prompt: the top candidates are judged; a 10/10 leads the digest with its reason, a
    malformed answer keeps the paper's model rank and is a problem in the footer and the exit code, and
    the judgements of a dry run are the real run's (no second request), a rerun sends nothing."""
    from paperlens.enrich.llm import client as llm_client
    from tests.fake_llm import FakeLLM
    from tests.llm_helpers import fake_env

    llm_client.PLAIN_JSON_ENDPOINTS.clear()
    inbox, address = smtp
    db = tmp_path / "rel.db"
    runner = CliRunner()
    library = write_bibtex(tmp_path / "library.bib", made_up("graphs", 6, 3, start=100))
    assert runner.invoke(main, ["--db", str(db), "profile", "add", "ana", str(library), "--category", "cs.LG",
                                "--email", "ana@example.org", "--prompt", "Molecule graphs, please."]).exit_code == 0
    day = made_up("graphs", 6, 4, start=200)
    arxiv.days[announce_window(__import__("datetime").date.fromisoformat(TUESDAY))[0]] = atom_feed(
        [atom_entry(f"2511.{20000 + n}", p, "cs.LG") for n, p in enumerate(day)])
    with FakeLLM() as llm:
        for key, value in fake_env(llm.base_url).items():
            monkeypatch.setenv(key, value)
        args = ["--date", TUESDAY, "--smtp", address, "--llm", "--lang", "en", "--limit", "4"]
        plain = daily(db, arxiv, "--date", TUESDAY, "--limit", "6", "--dry-run")  # no --llm: the model's order
        order = [line.split(". ", 1)[1] for line in plain.output.splitlines() if line[:2] in {f"{n}." for n in "123456"}]
        assert sorted(order) == sorted(p["title"] for p in day)
        llm.relevance_by_title.update({order[3]: 10, order[0]: "malformed"})
        dry = daily(db, arxiv, *args, "--dry-run")
        judged = [r for r in llm.requests if r["kind"] == "relevance"]
        assert len(judged) == 6 and all("Molecule graphs, please." in r["user"] for r in judged)  # 3 x 4 > 6

        first = daily(db, arxiv, *args)
        assert first.exit_code == 1, first.output  # the failed judgement is a problem, like a failed summary
        again = [r["title"] for r in llm.requests if r["kind"] == "relevance"][len(judged):]
        assert again == [order[0]]  # the dry run's valid answers came from the cache; the failed one is asked again
        text = inbox.messages[0].get_body(("plain",)).get_content()
        titles = [line.split(". ", 1)[1] for line in text.splitlines() if line[:2] in {"1.", "2.", "3.", "4."}]
        assert titles[0] == order[3]  # 4th by the model, first by the LLM's 10/10
        assert titles[1] == order[0]  # the malformed answer: kept its model rank (first of the rest)
        why = [line for line in text.splitlines() if line.startswith("   why: ")]
        assert why[0].startswith(f"   why: LLM relevance 10/10: judged 10 for {order[3][:40]} (fake-model)")
        assert "LLM relevance" not in why[1] and why[2].startswith("   why: LLM relevance 5/10: ")
        assert "Re-ranked by LLM relevance to the profile's prompt (fake-model): 5 of 6 candidates judged" in text
        assert "llm-relevance: 1 of 6 judgement(s) failed" in text and "Problems in this run" in text
        assert "problem: llm-relevance: 1 of 6 judgement(s) failed" in first.output
        assert dry.output.count("LLM relevance 10/10") == 1

        asked = len(llm.requests)
        rerun = daily(db, arxiv, *args)
        assert "the 2025-11-25 digest was sent at" in rerun.output and len(inbox.messages) == 1
        assert not [r for r in llm.requests[asked:] if r["kind"] == "relevance"]  # nothing judged twice


def test_llm_relevance_without_an_endpoint_is_skipped_once(setup, arxiv, smtp, monkeypatch, tmp_path):
    db, _, _ = setup
    inbox, address = smtp
    for name in ("PAPERLENS_LLM_BASE_URL", "OPENAI_BASE_URL", "PAPERLENS_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    library = write_bibtex(tmp_path / "speech.bib", made_up("speech", 8, 6, start=500))
    for who, lib in (("ana", None), ("bo", library)):
        args = ["--db", str(db), "profile", "add", who, *([str(lib), "--category", "cs.LG"] if lib else []),
                "--prompt", "speech and graphs"]
        assert CliRunner().invoke(main, args).exit_code == 0
    plain = daily(db, arxiv, "--date", TUESDAY, "--limit", "5", "--dry-run")
    result = daily(db, arxiv, "--date", TUESDAY, "--limit", "5", "--llm", "--dry-run")
    assert result.stderr.count("LLM relevance skipped: no API key") == 1  # two profiles with a prompt, said once
    ranked = [line for line in plain.stdout.splitlines() if line[:2] in {"1.", "2.", "3.", "4.", "5."}
              or line.startswith("   why: ")]
    assert len(ranked) == 20 and "LLM relevance" not in plain.stdout
    # the same digests, ranked by the model alone (the llm-summary step's own "no API key" is their problem)
    assert [line for line in result.stdout.splitlines() if line in ranked] == ranked
    assert "Re-ranked by LLM" not in result.stdout and not inbox.messages
