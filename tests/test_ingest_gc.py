"""Ingest runs the garbage collector rarely while it writes, and puts its setting back after."""

from __future__ import annotations

import gc
import threading

from paperlens.core.child import BULK_GC_THRESHOLD, few_collections
from paperlens.ingest.pipeline import ingest_paths
from paperlens.store import Store

from .conftest import FIXTURES


def test_ingest_collects_rarely_and_restores(tmp_path):
    before = gc.get_threshold()
    seen = []
    store = Store(tmp_path / "x.db")
    report = ingest_paths(store, [FIXTURES / "arxiv_snapshot.jsonl"], parallel=False,
                          on_batch=lambda _: seen.append(gc.get_threshold()))
    assert report.new and seen
    assert all(t == BULK_GC_THRESHOLD for t in seen)
    assert gc.get_threshold() == before


def test_overlapping_users_restore_once_all_left():
    before = gc.get_threshold()
    inside, leave = threading.Event(), threading.Event()

    def other():
        with few_collections():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(10)
    with few_collections():
        assert gc.get_threshold() == BULK_GC_THRESHOLD
    assert gc.get_threshold() == BULK_GC_THRESHOLD  # the other is still inside
    leave.set()
    thread.join()
    assert gc.get_threshold() == before
