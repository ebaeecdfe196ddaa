"""How a catalog (catalog.py) starts from its snapshot file (snapshot.py) and keeps it up to date.

* No usable file: the catalog is built from the papers, as without one, and saved.
* A file whose head matches the database as it is (nothing written since it was saved) and a `home`
  function (the server's): the catalog starts *partial*. Its first version is a preview holding only
  what the home page shows (saved in the head) and answers `/` at once, whatever the catalog's size; the
  rest (briefs, listings, counts) is loaded from the same open file by `wait_full`: on the first request
  for anything else (which waits for it; middleware.PinCatalog), on any use of a field the preview
  lacks, or when the server has answered its first request (create_app).
* A file from an earlier state of the database: its body is loaded at once and the papers written or
  enriched since are patched in (catalog._next_version, the catch-up it does while serving).

Either way the result equals a catalog built from the papers (tests/test_catalog_snapshot.py checks
pages for byte equality). New versions are saved again in the background (SnapshotFile.save)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from paperlens.web import snapshot

log = logging.getLogger(__name__)


class SnapshotStart:
    """Catalog's part that deals with its snapshot file (a mixin: catalog.py holds the rest)."""

    def _start(self, file: snapshot.SnapshotFile | None, home: Callable | None) -> None:
        self._snapshot = file
        self._home = home
        self.from_snapshot = False  # whether this catalog started from its snapshot file
        self.previewed = False  # whether it answered the home page from the file's head first
        self._partial = False
        self._loaded = threading.Event()
        self._loaded.set()
        self._loading: threading.Thread | None = None
        self._loading_lock = threading.Lock()
        head = file.load_head(self.store) if file is not None else None
        if head is not None and home is not None and head.get("unchanged") and head.get("home"):
            self._current = self._preview(head)
            self._head = head
            self._partial = self.previewed = self.from_snapshot = True
            self._loaded.clear()
            return
        start = self._from_body(head) if head is not None else None
        self._current = self._next_version(start)
        self._save_snapshot()

    @property
    def partial(self) -> bool:
        """Whether only the home page's preview is in place (the rest being loaded, or to be)."""
        return self._partial

    def _preview(self, head: dict):
        version, version.memo = self._blank_version()  # the catalog's own classes (catalog.py)
        version.preview_home = snapshot.home_lists(head["home"])  # what pages.home_lists gives
        version.version = 0
        version.signature = tuple(self.store.data_signature())
        version.stamps = tuple(head["stamps"])
        version.patched, version.reread = False, set()
        return version

    def _from_body(self, head: dict):
        """The version in the file's body (checked against the database by load_head), or None."""
        parts = self._snapshot.load_body(head)
        if parts is None:
            return None
        version = self._version(*parts)
        version.patched, version.reread = False, set()
        version.stamps, version.signature, version.version = tuple(head["stamps"]), tuple(head["signature"]), 0
        version.read_at = version.saved_read_at = str(head.get("read_at") or "")
        self._build_seconds = float(head.get("build_seconds", 0.0))
        self.from_snapshot = True
        return version

    def wait_full(self) -> None:
        """Have the whole catalog in place: load the rest of a partial one (once, in its own thread, which
        also patches in anything written since), and wait for it."""
        if not self._partial:
            return
        with self._loading_lock:
            if self._loading is None:
                self._building = True  # no refresh meanwhile: the load catches up itself
                self._loading = threading.Thread(target=self._load_rest, name="paperlens-catalog-load", daemon=True)
                self._loading.start()
        self._loaded.wait()

    def _load_rest(self) -> None:
        try:
            try:
                self._current = self._next_version(self._from_body(self._head))
            except Exception:  # a bad file must not stop the server: build from the papers
                log.exception("catalog snapshot: loading failed; building the catalog from the papers")
                self._current = self._next_version(None)
        except Exception:
            log.exception("catalog: the build failed")
        finally:
            self._partial = False
            self._building = False
            self._loaded.set()
            self.store.close_thread()
        self._save_snapshot()

    def _save_snapshot(self) -> None:
        if self._snapshot is not None and not self._partial:
            self._snapshot.save(self._current, self.store, self._build_seconds, self._home)

    def finish_saving(self, timeout: float = 60.0) -> None:
        """Wait for a snapshot save under way (at shutdown, so a quick restart still finds it)."""
        if self._snapshot is not None:
            self._snapshot.finish(timeout)
