"""The read-ahead thread of ingest: same items in the same order, errors reach the caller, and a
caller that stops early stops the reader."""

from __future__ import annotations

import threading
import time

import pytest

from paperlens.ingest.pipeline import prefetch


def test_same_items_in_order():
    assert list(prefetch(iter(range(5000)), size=7)) == list(range(5000))
    assert list(prefetch(iter([]))) == []


def test_reader_error_is_raised_where_the_caller_reads():
    def items():
        yield from (1, 2, 3)
        raise ValueError("bad record source")

    got = []
    with pytest.raises(ValueError, match="bad record source"):
        for item in prefetch(items(), size=2):
            got.append(item)
    assert got == [1, 2, 3]


def test_stopping_early_stops_the_reader():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    stream = prefetch(endless(), size=3)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()
    time.sleep(0.3)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 5 + 3 + 2  # bounded read-ahead, then nothing more
    assert not any(t.name == "paperlens-reader" for t in threading.enumerate())
