"""Writers and readers at once: `paperlens ingest` and `paperlens enrich` run in subprocesses while a real
`paperlens serve` (uvicorn, 127.0.0.1, free port) answers reader threads. No reader may get an error or a
torn page: every home page's total equals the papers listed under its topics plus those without one, the
API agrees with itself, every search hit is a paper that exists, counts never go backwards, and no process
reports 'database is locked'."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from paperlens.enrich.llm import client as llm_client
from paperlens.store import Store

from .fake_llm import FakeLLM
from .llm_helpers import fake_env

ROOT = Path(__file__).resolve().parents[1]
TOPICS = [("Area A", "Sparse attention"), ("Area A", "Model merging"), ("Area B", "Reward models"),
          ("Area B", "Graph policies"), ("Area C", "Token pruning")]
WORDS = "sparse attention routing reward model merging token graph policy alignment walrus heron".split()


def _papers(start: int, count: int, rng: random.Random, relabel: int = 0) -> list[dict]:
    out = []
    for i in range(start, start + count):
        area, label = rng.choice(TOPICS)
        topic = None if i % 11 == 0 else {"area": area, "label": label}
        out.append({"id": f"conc:{i}", "title": f"Paper {i} on " + " ".join(rng.choice(WORDS) for _ in range(5)),
                    "abstract": f"Abstract {i}. " + " ".join(rng.choice(WORDS) for _ in range(40)),
                    "authors": [f"Author {i % 37}"], "keywords": [rng.choice(WORDS)], "year": 2020 + i % 6,
                    "topic": topic, "sources": [], "summary": {}})
    for i in rng.sample(range(start), min(relabel, start)):  # existing papers moved to another topic
        area, label = rng.choice(TOPICS)
        out.append({"id": f"conc:{i}", "title": f"Paper {i} relabelled", "abstract": f"Abstract {i} again.",
                    "topic": {"area": area, "label": label}, "sources": [], "summary": {}})
    return out


def _write_jsonl(path: Path, papers: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(p) for p in papers) + "\n", encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from paperlens.cli import main; main(prog_name='paperlens')", "--db", str(db),
            *args]


class Reader(threading.Thread):
    def __init__(self, port: int, seed: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.rng, self.stop = port, random.Random(seed), stop
        self.problems: list[str] = []
        self.requests = 0
        self.last_total = 0

    def get(self, conn: http.client.HTTPConnection, path: str) -> tuple[int, str]:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode("utf-8")
        self.requests += 1
        if response.status != 200:
            self.problems.append(f"{path}: HTTP {response.status} {body[:200]}")
        for header in ("content-security-policy", "x-content-type-options"):
            if not response.getheader(header):
                self.problems.append(f"{path}: no {header}")
        return response.status, body

    def check_home(self, conn) -> None:
        status, html = self.get(conn, "/")
        if status != 200:
            return
        total = int(re.search(r'id="total-papers">(\d+)<', html).group(1))
        listed = sum(int(n) for n in re.findall(r'class="topic-count" data-count="(\d+)"', html))
        no_topic = re.search(r'id="no-topic-count">(\d+)<', html)
        listed += int(no_topic.group(1)) if no_topic else 0
        if total != listed:
            self.problems.append(f"/: torn page: total {total} but topics list {listed}")
        if total < self.last_total:
            self.problems.append(f"/: total went back from {self.last_total} to {total}")
        self.last_total = max(self.last_total, total)

    def check_api(self, conn) -> None:
        status, body = self.get(conn, "/api/topics")
        if status == 200:
            data = json.loads(body)
            listed = sum(t["papers"] for t in data["topics"]) + data["without_topic"]
            if listed != data["papers"]:
                self.problems.append(f"/api/topics: torn: {data['papers']} papers but topics list {listed}")
        word = self.rng.choice(WORDS)
        status, body = self.get(conn, f"/api/search?q={quote(word)}&limit=5")
        if status == 200:
            for hit in json.loads(body)["results"]:
                if self.get(conn, f"/api/papers/{quote(hit['id'], safe=':')}")[0] != 200:
                    self.problems.append(f"search hit {hit['id']} is not a paper")
        self.get(conn, f"/search?q={quote(word)}")
        status, body = self.get(conn, "/api/papers?limit=20")
        if status == 200:
            data = json.loads(body)
            if len(data["papers"]) != min(20, data["total"]):
                self.problems.append(f"/api/papers: {len(data['papers'])} papers of total {data['total']}")

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            while not self.stop.is_set():
                self.check_home(conn)
                self.check_api(conn)
        except Exception as exc:  # noqa: BLE001 - any failure to read is a finding
            self.problems.append(f"reader crashed: {type(exc).__name__}: {exc}")
        finally:
            conn.close()


@pytest.mark.slow
def test_readers_see_no_errors_and_no_torn_pages_while_ingest_and_enrich_write(tmp_path):
    rng = random.Random(5)
    db = tmp_path / "live.db"
    first = _papers(0, 300, rng)
    store = Store(db)
    from paperlens.sources import read_records

    store.ingest(r for r in read_records(_write_jsonl(tmp_path / "first.jsonl", first)) if hasattr(r, "title"))
    store.close()
    more = _write_jsonl(tmp_path / "more.jsonl", _papers(300, 2500, rng, relabel=150))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server_log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen(_cli(db, "serve", "--port", str(port)), env=env, stdout=server_log,
                              stderr=subprocess.STDOUT)
    stop = threading.Event()
    readers: list[Reader] = []
    llm_client.PLAIN_JSON_ENDPOINTS.clear()
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        readers = [Reader(port, seed, stop) for seed in range(4)]
        for reader in readers:
            reader.start()
        with FakeLLM(latency=0.01) as fake:
            writer_env = {**env, **fake_env(fake.base_url)}
            ingest = subprocess.Popen(_cli(db, "ingest", "--batch-size", "50", "-q", str(more)), env=writer_env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            enrich = subprocess.Popen(_cli(db, "enrich", "--steps", "llm-summary", "--lang", "en", "--limit", "120",
                                           "--batch-size", "8"), env=writer_env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
            ingest_out, ingest_err = ingest.communicate(timeout=300)
            enrich_out, enrich_err = enrich.communicate(timeout=300)
        time.sleep(1.5)  # readers also see the final state
        stop.set()
        for reader in readers:
            reader.join(timeout=120)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
    server_log.seek(0)
    log = server_log.read()
    assert ingest.returncode == 0, ingest_err
    assert enrich.returncode == 0, enrich_err
    for text in (ingest_err, enrich_err, log):
        assert "database is locked" not in text and "Traceback" not in text, text[-2000:]
    counts = dict(re.findall(r"(\w+): (\d+)", ingest_out))
    assert counts["new"] == "2500" and int(counts["merged"]) + int(counts["unchanged"]) == 150, ingest_out
    assert "llm-summary: done 120, failed 0" in enrich_out
    problems = [p for reader in readers for p in reader.problems]
    assert not problems, problems[:10]
    assert all(reader.requests > 20 for reader in readers), [r.requests for r in readers]
    assert max(reader.last_total for reader in readers) == 2800


def _late_paper(pid: str):
    from paperlens.core.models import Paper, Topic

    return Paper(id=pid, title="A Late Paper About Walruses", abstract="Walruses arrive late, we measure how late.",
                 topic=Topic(area="Late area", label="Late topic"))


def test_a_request_sees_one_catalog_version_while_another_thread_rebuilds(tmp_path):
    from paperlens.web.catalog import Catalog

    from .web_corpus import build_web_db

    db = build_web_db(tmp_path, seeds=("000",))
    catalog = Catalog(Store(db, readonly=True))
    token = catalog.pin()  # what the app does at the start of every request
    before = catalog.stats["papers"]
    writer = Store(db)
    writer.ingest([_late_paper("test:late")])
    writer.close()

    def rebuild():  # another request, in another thread and context
        catalog._checked = 0.0
        assert catalog.refresh()

    thread = threading.Thread(target=rebuild)
    thread.start()
    thread.join()
    # the pinned request still sees one whole version: the old one
    assert catalog.stats["papers"] == len(catalog.papers) == before and "test:late" not in catalog.papers
    assert sum(len(t.ids) for t in catalog.topics.values()) + len(catalog.no_topic) == before
    assert "late-topic" not in catalog.topics
    catalog.unpin(token)
    assert catalog.stats["papers"] == len(catalog.papers) == before + 1 and "test:late" in catalog.papers
    assert sum(len(t.ids) for t in catalog.topics.values()) + len(catalog.no_topic) == before + 1


def test_catalog_is_built_from_one_database_snapshot(tmp_path, monkeypatch):
    from paperlens.web.catalog import Catalog

    from .web_corpus import build_web_db

    db = build_web_db(tmp_path, seeds=("000",))
    reader = Store(db, readonly=True)
    real_iter = reader.iter_paper_rows
    wrote = []

    def iter_with_a_commit_in_the_middle(*args, **kwargs):
        for n, row in enumerate(real_iter(*args, **kwargs)):
            if n == 1 and not wrote:  # another process commits while the catalog is being read
                writer = Store(db)
                writer.ingest([_late_paper("test:mid-read")])
                writer.close()
                wrote.append(True)
            yield row

    monkeypatch.setattr(reader, "iter_paper_rows", iter_with_a_commit_in_the_middle)
    catalog = Catalog(reader)
    assert wrote
    # the catalog and its signature describe the state before the commit, so the next check rebuilds
    assert "test:mid-read" not in catalog.papers
    assert catalog.signature != reader.data_signature()
    catalog._checked = 0.0
    assert catalog.refresh() and "test:mid-read" in catalog.papers


def test_an_update_in_the_same_second_as_the_last_one_is_not_missed(tmp_path, monkeypatch):
    import paperlens.store.connection as store_module
    from paperlens.core.models import Topic
    from paperlens.web.catalog import Catalog

    from .web_corpus import build_web_db

    monkeypatch.setattr(store_module, "utcnow", lambda: "2026-11-23T18:00:00Z")  # every write in one second
    db = build_web_db(tmp_path, seeds=("000",))
    writer = Store(db)
    writer.ingest([_late_paper("test:same-second")])
    catalog = Catalog(Store(db, readonly=True))
    assert catalog.papers["test:same-second"].topic.label == "Late topic"
    moved = _late_paper("test:same-second")
    moved.topic = Topic(area="Late area", label="Moved topic")
    moved.abstract = "Walruses arrive late, and now they are elsewhere."
    writer.ingest([moved])  # same count, same max rowid, same updated_at: only the commit tells
    writer.close()
    catalog._checked = 0.0
    assert catalog.refresh()
    assert catalog.papers["test:same-second"].abstract.endswith("elsewhere.")
