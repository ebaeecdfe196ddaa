"""The catalog snapshot beside the database (`<db>.catalog`, web/snapshot.py): a server started from it
answers exactly what one that read every paper answers, catches up on what changed since it was saved,
and a damaged, stale or foreign file is ignored (with a warning where it is damaged), never a crash."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import paperlens.web.catalog as catalog_module
import paperlens.web.snapshot as snapshot_module
from paperlens.core.models import Paper, Topic
from paperlens.store import Store
from paperlens.web.app import create_app
from paperlens.web.catalog import Catalog
from paperlens.web.snapshot import snapshot_path

from .test_catalog import picture
from .web_corpus import BILINGUAL, build_web_db

SRC = Path(__file__).resolve().parents[1] / "src"

# One server process: makes the app (snapshot on unless PAPERLENS_CATALOG_SNAPSHOT=0), fetches the pages a
# test names from a cold start, waits for a snapshot being saved, and prints what it got as JSON.
SERVE_ONCE = textwrap.dedent("""
    import json, sys
    from fastapi.testclient import TestClient
    from paperlens.web.app import create_app
    from paperlens.search.query import searcher_for
    app = create_app(sys.argv[1])
    # Similar papers on a paper page come from the search indexes once they are built (in background
    # threads, a query waits 2 s), from FTS5 before: build them first, so a loaded machine cannot make the
    # pages differ (that is not the catalog's doing).
    searcher = searcher_for(app.state.catalog.store, background=True)
    searcher.background = False
    if searcher.text_index() is None:
        searcher.keyword_docs()
    if searcher.store.has_embeddings():
        searcher.vector_index()
    searcher.background = True
    client = TestClient(app)
    pages = {}
    for url in json.loads(sys.argv[2]):
        r = client.get(url)
        pages[url] = [r.status_code, r.content.decode("utf-8")]
    app.state.catalog.finish_saving()
    print(json.dumps({"from_snapshot": app.state.catalog.from_snapshot, "previewed": app.state.catalog.previewed,
                      "pages": pages}))
""")


def serve_once(db: Path, urls: list[str], snapshot: bool = True) -> dict:
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
           "PAPERLENS_CATALOG_SNAPSHOT": "1" if snapshot else "0"}
    out = subprocess.run([sys.executable, "-c", SERVE_ONCE, str(db), json.dumps(urls)], env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def db(tmp_path):
    return build_web_db(tmp_path)


def _urls(db: Path) -> list[str]:
    catalog = Catalog(Store(db, readonly=True))
    topic = next(iter(catalog.topics))
    author = next(iter(catalog.authors))
    return ["/", f"/topics/{topic}", f"/topics/{topic}?year=2026", "/api/papers?year=2026&limit=100",
            "/api/search?q=tokenizers", "/search?q=walrus", f"/papers/{BILINGUAL['id']}", f"/authors/{author}",
            "/trends", "/feed", "/api/topics", f"/api/papers/{BILINGUAL['id']}"]


def test_pages_from_a_cold_start_on_the_snapshot_are_byte_identical_to_a_fresh_build(db):
    urls = _urls(db)
    # Once first, so every run below finds the search index beside the database (similar papers on a
    # paper page come from it once it is there, from FTS5 before: that is not the catalog's doing).
    serve_once(db, urls, snapshot=False)
    fresh = serve_once(db, urls, snapshot=False)
    assert not snapshot_path(db).exists()  # off: nothing saved
    first = serve_once(db, urls)  # no file yet: built from the papers, then saved
    assert not first["from_snapshot"] and snapshot_path(db).exists()
    cold = serve_once(db, urls)  # a new process, started from the file
    assert cold["from_snapshot"] and not fresh["from_snapshot"]
    assert cold["previewed"]  # `/` (asked first) was answered from the file's head, the rest loaded after
    for url in urls:
        assert cold["pages"][url][0] == 200, url
        assert cold["pages"][url] == fresh["pages"][url], url
        assert first["pages"][url] == fresh["pages"][url], url
    assert BILINGUAL["title"] in cold["pages"]["/api/search?q=tokenizers"][1]


def test_a_paper_ingested_or_enriched_after_the_snapshot_shows_after_a_restart(db):
    first = Catalog(Store(db, readonly=True), snapshot=snapshot_path(db))
    first.finish_saving()
    assert snapshot_path(db).exists()
    target = next(pid for pid in first.no_topic)
    writer = Store(db)
    writer.ingest([Paper(id="test:after-snapshot", title="Walruses After The Snapshot", abstract="Late walruses.",
                         year=2031, date="2031-02-03", authors=["Wally Walrus"], keywords=["late walruses"],
                         topic=Topic(area="Marine", label="Pinnipeds"))])
    writer.save_enrichments([
        {"paper_id": target, "step": "topic", "version": "t", "content_hash": "", "status": "ok",
         "output": {"area": None, "label": "Topic after the snapshot", "score": 0.9}, "model": "test"}])
    writer.close()

    restarted = Catalog(Store(db, readonly=True), snapshot=snapshot_path(db))
    assert restarted.from_snapshot and restarted.patched
    assert "test:after-snapshot" in restarted.papers and restarted.newest[0] == "test:after-snapshot"
    assert restarted.briefs[target].topic == (None, "Topic after the snapshot")
    assert picture(restarted) == picture(Catalog(Store(db, readonly=True)))

    app = create_app(str(db))  # the server, started from the same file
    assert app.state.catalog.from_snapshot
    client = TestClient(app)
    assert "Walruses After The Snapshot" in client.get("/").text
    assert client.get("/papers/test:after-snapshot").status_code == 200
    assert "Topic after the snapshot" in client.get(f"/papers/{target}").text


def test_a_new_version_is_saved_again_so_the_next_start_holds_it(db, monkeypatch):
    monkeypatch.setattr(catalog_module, "SNAPSHOT_EVERY_S", 0.0)
    catalog = Catalog(Store(db, readonly=True), snapshot=snapshot_path(db))
    catalog.finish_saving()
    writer = Store(db)
    writer.ingest([Paper(id="test:saved-again", title="Saved Again Walruses", abstract="Walruses saved.")])
    writer.close()
    catalog._checked = 0.0
    catalog.refresh()
    catalog.wait_built()
    catalog.finish_saving()
    body = snapshot_module.decode(snapshot_path(db).read_bytes())
    assert "test:saved-again" in {item[0] for item in body["briefs"]}


@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage", "empty"])
def test_a_damaged_snapshot_is_ignored_with_a_warning_and_saved_again(db, caplog, damage):
    path = snapshot_path(db)
    Catalog(Store(db, readonly=True), snapshot=path).finish_saving()
    data = path.read_bytes()
    if damage == "truncated":
        data = data[:len(data) // 2]
    elif damage == "flipped":
        middle = len(data) // 2
        data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
    elif damage == "garbage":
        data = b"\x00\xff" * 5000
    else:
        data = b""
    path.write_bytes(data)
    with caplog.at_level(logging.WARNING, logger="paperlens.web.snapshot"):
        catalog = Catalog(Store(db, readonly=True), snapshot=path)
    assert not catalog.from_snapshot
    assert any("ignored" in r.getMessage() for r in caplog.records)
    assert picture(catalog) == picture(Catalog(Store(db, readonly=True)))
    catalog.finish_saving()  # built again from the papers, and saved over the damaged file
    assert Catalog(Store(db, readonly=True), snapshot=path).from_snapshot


def test_a_snapshot_from_other_code_or_another_database_is_not_used(tmp_path, monkeypatch):
    one = tmp_path / "one"
    other = tmp_path / "other"
    one.mkdir()
    other.mkdir()
    db = build_web_db(one, seeds=("000", "001"))
    other_db = build_web_db(other, seeds=("002", "003"))
    Catalog(Store(db, readonly=True), snapshot=snapshot_path(db)).finish_saving()
    saved = snapshot_path(db).read_bytes()

    snapshot_path(other_db).write_bytes(saved)  # a file copied beside another database
    catalog = Catalog(Store(other_db, readonly=True), snapshot=snapshot_path(other_db))
    assert not catalog.from_snapshot
    assert picture(catalog) == picture(Catalog(Store(other_db, readonly=True)))

    monkeypatch.setattr(snapshot_module, "FORMAT", snapshot_module.FORMAT + 1)  # the layout changed
    monkeypatch.setattr(snapshot_module, "_FINGERPRINT", None)
    snapshot_path(db).write_bytes(saved)
    catalog = Catalog(Store(db, readonly=True), snapshot=snapshot_path(db))
    assert not catalog.from_snapshot
    catalog.finish_saving()
    assert snapshot_path(db).read_bytes() != saved  # saved again in the new layout


def test_a_directory_that_cannot_be_written_still_serves_from_memory(db, monkeypatch, caplog):
    real_access = snapshot_module.os.access
    monkeypatch.setattr(snapshot_module.os, "access",
                        lambda path, mode: False if mode & snapshot_module.os.W_OK else real_access(path, mode))
    with caplog.at_level(logging.WARNING, logger="paperlens.web.snapshot"):
        app = create_app(str(db))
        app.state.catalog.finish_saving()
    assert not snapshot_path(db).exists()
    assert any("no write access" in r.getMessage() for r in caplog.records)
    assert TestClient(app).get("/").status_code == 200


def test_a_failing_save_is_warned_and_serving_goes_on(db, monkeypatch, caplog):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot_module.tempfile, "mkstemp", full_disk)
    with caplog.at_level(logging.WARNING, logger="paperlens.web.snapshot"):
        app = create_app(str(db))
        app.state.catalog.finish_saving()
    assert not snapshot_path(db).exists()
    assert any("could not be saved" in r.getMessage() for r in caplog.records)
    assert TestClient(app).get("/").status_code == 200


def test_a_write_stamped_before_the_snapshot_was_read_but_committed_after_is_not_missed(db, monkeypatch):
    import paperlens.store.connection as store_module

    first = Catalog(Store(db, readonly=True), snapshot=snapshot_path(db))
    first.finish_saving()
    read_at = snapshot_module.decode(snapshot_path(db).read_bytes())["read_at"]
    assert read_at
    # a writer stamped its rows a few seconds before the snapshot was read, and committed after it
    earlier = catalog_module._earlier(read_at, 5)
    assert catalog_module.LATE_COMMIT_S > 5
    monkeypatch.setattr(store_module, "utcnow", lambda: earlier)
    writer = Store(db)
    writer.ingest([Paper(id="test:late-after-snapshot", title="Late Snapshot Walruses", abstract="Walruses, late.")])
    writer.close()
    restarted = Catalog(Store(db, readonly=True), snapshot=snapshot_path(db))
    assert restarted.from_snapshot
    assert "test:late-after-snapshot" in restarted.papers
    assert picture(restarted) == picture(Catalog(Store(db, readonly=True)))


def test_the_home_page_is_answered_from_the_head_before_the_rest_is_loaded(db, monkeypatch):
    fresh = TestClient(create_app(str(db))).get("/").content  # no file yet: built from the papers, saved
    loads = []
    release = threading.Event()
    real = snapshot_module.SnapshotFile.load_body

    def held(self, head):  # the rest loads only when the test lets it (or after 20 s)
        loads.append(1)
        release.wait(20)
        return real(self, head)

    monkeypatch.setattr(snapshot_module.SnapshotFile, "load_body", held)
    app = create_app(str(db))
    catalog = app.state.catalog
    assert catalog.partial and catalog.previewed
    client = TestClient(app)
    assert client.get("/").content == fresh
    assert catalog.partial  # `/` came from the head alone: the rest is still held back
    release.set()
    topic = next(iter(Catalog(Store(db, readonly=True)).topics))
    assert client.get(f"/topics/{topic}").status_code == 200  # waited for the rest
    assert loads == [1] and not catalog.partial
    assert picture(catalog) == picture(Catalog(Store(db, readonly=True)))


def test_a_snapshot_newer_than_the_database_is_not_used_after_a_restore_from_a_copy(db):
    import shutil

    backup = db.with_name("backup.db")
    Store(db).close()  # checkpointed: the copy below is the whole database
    shutil.copy(db, backup)
    writer = Store(db)
    writer.ingest([Paper(id="test:after-backup", title="Walruses After The Backup", abstract="Newer walruses.")])
    writer.close()
    Catalog(Store(db, readonly=True), snapshot=snapshot_path(db)).finish_saving()
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, db)  # the database rolled back to the copy; the snapshot still knows the newer paper
    restarted = Catalog(Store(db, readonly=True), snapshot=snapshot_path(db))
    assert not restarted.from_snapshot
    assert "test:after-backup" not in restarted.papers
    assert picture(restarted) == picture(Catalog(Store(db, readonly=True)))
