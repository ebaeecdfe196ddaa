"""Hybrid search: keyword (BM25 over FTS5) and semantic (embedding) rankings fused by reciprocal
rank fusion, with filters and highlighted snippets; and similar papers with a short "why"."""

from __future__ import annotations

import html
import re
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from paperlens.core.clean import slugify
from paperlens.search.textindex import TANTIVY_THRESHOLD, TantivyIndex
from paperlens.search.vectorindex import ANN_THRESHOLD, VectorIndex
from paperlens.store import Store, TextIndexRows, keyword_norm

MAX_QUERY_CHARS = 2000
MAX_TERMS = 32
RRF_K = 60
# In background mode a query waits this long for an index build or catch-up before it answers from what
# is ready: enough for thousands of papers, far too little for a first index of a million.
BACKGROUND_WAIT_S = 2.0
SEMANTIC_FLOOR = 0.35  # cosine below which a neighbour is noise, not a result
_TOKEN = re.compile(r"\w+", re.U)
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or our that the their this to was we "
    "were which with via using based towards toward these those can not no than then"
    .split()
)


@dataclass
class SearchFilters:
    topic: str | None = None  # topic label or its slug
    year_from: int | None = None
    year_to: int | None = None
    venue: str | None = None  # substring, case-insensitive
    category: str | None = None  # e.g. cs.CL
    author: str | None = None  # name or slug
    has_code: bool | None = None
    language: str | None = None  # en or zh

    def active(self) -> bool:
        return any(v is not None for v in vars(self).values())


@dataclass
class SearchHit:
    id: str
    title: str
    score: float
    snippet: str = ""  # HTML-escaped, matches wrapped in <mark>
    keyword_rank: int | None = None
    vector_rank: int | None = None
    year: int | None = None
    topic: str | None = None
    authors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


def query_terms(text: str) -> list[str]:
    """The words of a user query, lower-cased; FTS syntax characters never survive."""
    return [t.lower() for t in _TOKEN.findall(text[:MAX_QUERY_CHARS])][:MAX_TERMS]


def fts_expression(terms: list[str], mode: str = "and") -> str | None:
    """An FTS5 MATCH expression that only ever contains quoted terms (no operators from the user)."""
    if not terms:
        return None
    if mode == "or":
        content = [t for t in terms if t not in STOPWORDS] or terms
        return " OR ".join(f'"{t}"' for t in dict.fromkeys(content))
    return " ".join(f'"{t}"' for t in dict.fromkeys(terms))


class HybridSearcher:
    """One per database; holds the vector index and embedder between queries."""

    def __init__(self, store: Store, embedder=None, index_dir: Path | None = None, background: bool = False):
        """`background=True` (the web server): index builds and catch-ups run in their own threads, and
        queries meanwhile answer from what is ready (the index as last synced; before the first keyword
        index is ready SQLite FTS5, before the first vector index keyword results alone), so no request
        waits minutes for a million papers to be indexed. Otherwise (CLI, library) a query waits."""
        self.store = store
        self._embedder = embedder
        self._indexes: dict[str, VectorIndex] = {}
        self._vectors_checked: dict[str, float] = {}
        self._lock = threading.Lock()
        self.index_dir = index_dir
        self.background = background
        self._building: dict[str, threading.Event] = {}  # what background threads build now, set when done
        self._text_index: TantivyIndex | None = None
        self._text_lock = threading.Lock()
        self._text_checked = 0.0
        self._text_state: tuple = ()
        self._text_counter: int | None = None
        self._text_warned = False

    def warm(self) -> None:
        """Start building the indexes a query will need (background mode: returns at once)."""
        def run():
            self.text_index()
            if self.store.has_embeddings():
                self.vector_index()

        if self.background:
            threading.Thread(target=run, name="paperlens-warm", daemon=True).start()
        else:
            run()

    def _in_background(self, what: str, work, wait: float = BACKGROUND_WAIT_S) -> bool:
        """Run `work` in a thread and wait up to `wait` seconds for it: small collections are indexed
        within that, so their queries see the result at once. When one for `what` is already running
        (and so has taken longer than that), do not wait. True when the work is done."""
        with self._lock:
            if what in self._building:
                return False
            done = self._building[what] = threading.Event()

        def run():
            try:
                work()
            finally:
                self.store.close_thread()  # this thread ends here: its SQLite connection goes with it
                with self._lock:
                    self._building.pop(what, None)
                done.set()

        threading.Thread(target=run, name=f"paperlens-index-{what}", daemon=True).start()
        return done.wait(wait)

    # -- semantic side ----------------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from paperlens.enrich.models.embed import get_embedder

            self._embedder = get_embedder()
        return self._embedder

    def vector_index(self, model: str | None = None, dim: int | None = None) -> VectorIndex | None:
        """The index over stored embeddings of `model` (default: the query embedder's), refreshed with
        rows added since it was last used."""
        import time

        if model is None:
            model, dim = self.embedder.name, self.embedder.dim
        if self.background:
            index = self._indexes.get(model)
            if index is not None and time.monotonic() - self._vectors_checked.get(model, 0.0) < 5:
                return index
            if self._in_background(f"vectors:{model}", lambda: self._refresh_vector_index(model, dim)):
                return self._indexes.get(model)
            return index  # as it was until the thread is done (None before the first build)
        return self._refresh_vector_index(model, dim)

    def _refresh_vector_index(self, model: str, dim: int | None) -> VectorIndex | None:
        import time

        with self._vector_lock(model):
            index = self._indexes.get(model)
            now = time.monotonic()
            if index is not None and now - self._vectors_checked.get(model, 0.0) < 5:
                return index  # new vectors are picked up at most a few seconds late
            self._vectors_checked[model] = now
            count = self.store.embedding_count(model)
            if count == 0:
                return None
            if index is None:
                dim = dim or self.store.embedding_dim(model)
                ann = count > ANN_THRESHOLD
                path = None
                if ann:
                    base = self.index_dir or Path(self.store.path).parent
                    path = base / f"{Path(self.store.path).name}.{slugify(model)}.usearch"
                index = VectorIndex(dim, ann=ann, path=path)
            added = index.add_batches(self.store.iter_embeddings(model, after_rowid=index.max_key))
            if added and index.ann:
                try:
                    index.save()
                except (OSError, RuntimeError) as exc:  # a read-only directory: the index lives in memory only
                    warnings.warn(f"vector index beside {self.store.path} not saved ({exc})", stacklevel=2)
            self._indexes[model] = index  # published once it holds what is stored
            return index

    def _vector_lock(self, model: str) -> threading.Lock:
        with self._lock:
            return self.__dict__.setdefault("_vector_locks", {}).setdefault(model, threading.Lock())

    def semantic(self, text: str, k: int) -> list[tuple[str, float]]:
        if not self.store.has_embeddings():  # do not load a model for a database without vectors
            return []
        index = self.vector_index()
        if index is None or not text.strip():
            return []
        query = self.embedder.encode([text[:MAX_QUERY_CHARS]])[0]
        keys, scores = index.search(query, k)
        ids = self.store.embedding_ids([int(k) for k in keys])
        return [(ids[int(key)], float(s)) for key, s in zip(keys, scores, strict=True) if int(key) in ids]

    # -- keyword side ---------------------------------------------------------------------------
    def text_index(self):
        """The Tantivy index once the collection is large (or PAPERLENS_KEYWORD_INDEX=tantivy), synced at
        most every few seconds; None means SQLite FTS5 answers."""
        import os
        import time

        choice = os.environ.get("PAPERLENS_KEYWORD_INDEX", "auto")
        if choice == "fts5":
            return None
        now = time.monotonic()
        if self._text_checked and now - self._text_checked < 5:
            return self._text_index
        self._text_checked = now
        counter = self.store.change_counter()
        if counter == self._text_counter:
            return self._text_index  # no commit since the last look
        self._text_counter = counter
        # Papers are never deleted, so max(rowid) is their count; both are index lookups, no scan.
        # One aggregate per statement: together SQLite would scan the table for them.
        rows = TextIndexRows(self.store)
        state = (rows.max_rowid(), rows.max_updated_at())
        if choice != "tantivy" and state[0] <= TANTIVY_THRESHOLD:
            self._text_index = None
            return None
        if tuple(state) == self._text_state:
            return self._text_index
        if self.background:
            if not self._in_background("text", lambda: self._sync_text_index(tuple(state))):
                self._text_counter = None  # still syncing: look again next time, it may miss this commit
            return self._text_index  # as last synced (None, so FTS5, before the first sync is done)
        self._sync_text_index(tuple(state))
        return self._text_index

    def _sync_text_index(self, state: tuple) -> None:
        with self._text_lock:
            try:
                index = self._text_index or TantivyIndex(self.store)
                if state != self._text_state:
                    index.sync()
                    self._text_state = state
                self._text_index = index  # published once synced: queries meanwhile use the last one
            except (OSError, ValueError, RuntimeError) as exc:  # e.g. a read-only directory: FTS5 answers
                if not self._text_warned:
                    warnings.warn(f"keyword index beside {self.store.path} unavailable ({exc}); using SQLite FTS5",
                                  stacklevel=2)
                    self._text_warned = True
                self._text_index = None

    def keyword(self, text: str, k: int, filters: SearchFilters | None = None,
                need: int | None = None) -> list[tuple[str, float]]:
        """Papers with every word, best first; when fewer than `need` (default k) have them all, papers
        with any of the content words follow."""
        need = k if need is None else need
        terms = query_terms(text)
        expression = fts_expression(terms)
        if expression is None:
            return []
        filters = filters if filters is not None and filters.active() else None
        index = self.text_index()
        if index is not None:
            return self._keyword_tantivy(index, terms, k, filters, need)
        found = self.store.fts_search(expression, k, filters)
        if len(found) < need and len(terms) > 1:
            seen = {pid for pid, _ in found}
            found += [hit for hit in self.store.fts_search(fts_expression(terms, "or"), k, filters)
                      if hit[0] not in seen]
        return found[:k]

    def _keyword_tantivy(self, index, terms: list[str], k: int, filters, need: int) -> list[tuple[str, float]]:
        depth = max(k, 1000) if filters else k
        # Stopwords are left out when other words remain: at a million papers "the" matches nearly all
        # of them, and ranking that posting list costs more than the rest of the query.
        content = [t for t in terms if t not in STOPWORDS] or terms
        found = index.search(content, depth, "and")
        if len(found) < (depth if filters else need) and len(content) > 1:
            seen = {rowid for rowid, _ in found}
            found += [hit for hit in index.search(content, depth, "or") if hit[0] not in seen]
        ids = self.store.rowid_ids([rowid for rowid, _ in found])
        ranked = [(ids[rowid], score) for rowid, score in found if rowid in ids]
        if filters:
            allowed = self.store.filter_ids([pid for pid, _ in ranked], filters)
            ranked = [hit for hit in ranked if hit[0] in allowed]
        return ranked[:k]

    # -- both -------------------------------------------------------------------------------------
    def search(self, text: str, *, limit: int = 20, offset: int = 0, filters: SearchFilters | None = None,
               mode: str = "hybrid") -> list[SearchHit]:
        return self.search_page(text, limit=limit, offset=offset, filters=filters, mode=mode)[1]

    def search_page(self, text: str, *, limit: int = 20, offset: int = 0, filters: SearchFilters | None = None,
                    mode: str = "hybrid", min_depth: int = 200) -> tuple[int, list[SearchHit]]:
        """(how many results were ranked, the requested page of them). Each side ranks at least
        `min_depth` candidates, or more when the page is deeper, so the count grows as one pages on."""
        if mode not in ("hybrid", "keyword", "semantic"):
            raise ValueError(f"unknown search mode {mode!r}")
        text = (text or "")[:MAX_QUERY_CHARS]
        if not text.strip():
            return 0, []
        filters = filters or SearchFilters()
        depth = max(min_depth, (offset + limit) * 2)
        keyword = self.keyword(text, depth, filters, need=offset + limit) if mode in ("hybrid", "keyword") else []
        semantic = self.semantic(text, depth) if mode in ("hybrid", "semantic") else []
        fused: dict[str, float] = {}
        ranks: dict[str, list[int | None]] = {}
        for which, ranking in ((0, keyword), (1, semantic)):
            for rank, (pid, _score) in enumerate(ranking, start=1):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank)
                ranks.setdefault(pid, [None, None])[which] = rank
        ordered = sorted(fused, key=lambda pid: -fused[pid])
        if filters.active():
            allowed = self.store.filter_ids(ordered, filters)
            ordered = [pid for pid in ordered if pid in allowed]
        if mode == "semantic" or (mode == "hybrid" and not keyword):
            # Vectors always have neighbours; keep only the close ones when no word matched at all.
            close = {pid for pid, score in semantic if score >= SEMANTIC_FLOOR}
            ordered = [pid for pid in ordered if pid in close or ranks[pid][0] is not None]
        page = ordered[offset:offset + limit]
        rows = self.store.paper_rows(page)
        terms = [t for t in query_terms(text) if t not in STOPWORDS]
        hits = []
        for pid in page:
            row = rows.get(pid)
            if row is None:
                continue
            hits.append(SearchHit(
                id=pid, title=row["title"], score=round(fused[pid], 6), snippet=highlight(row["abstract"], terms),
                keyword_rank=ranks[pid][0], vector_rank=ranks[pid][1], year=row["year"], topic=row["topic_label"],
                authors=row["authors"],
            ))
        return len(ordered), hits

    def similar(self, pid: str, k: int = 10) -> list[dict]:
        """Embedding neighbours of a paper, re-ranked a little by shared keywords, authors and topic."""
        paper = self.store.get(pid)
        if paper is None:
            return []
        # The paper's own stored vector, whatever model made it: no model needs loading for this.
        model, vector = self.store.embedding_of(paper.id)
        index = self.vector_index(model, len(vector)) if vector is not None else None
        candidates: list[tuple[str, float]] = []
        if vector is not None and index is not None:
            keys, scores = index.search(vector, k * 3 + 1)
            ids = self.store.embedding_ids([int(x) for x in keys])
            candidates = [(ids[int(key)], float(s)) for key, s in zip(keys, scores, strict=True) if int(key) in ids]
        else:  # no embeddings yet: fall back to the words of the title and keywords
            text = " ".join([paper.title, *paper.keywords]) or paper.abstract[:300]
            candidates = [(p, 0.0) for p, _ in self.keyword(text, k * 3 + 1)]
        candidates = [(p, s) for p, s in candidates if p != paper.id]
        others = {p.id: p for p in self.store.get_many([p for p, _ in candidates])}
        mine_kw = {keyword_norm(x) for x in paper.keywords}
        mine_authors = {slugify(a) for a in paper.authors}
        scored = []
        for other_id, sim in candidates:
            other = others.get(other_id)
            if other is None:
                continue
            shared_kw = [x for x in other.keywords if keyword_norm(x) in mine_kw]
            shared_authors = [a for a in other.authors if slugify(a) in mine_authors]
            same_topic = bool(paper.topic and other.topic and paper.topic.label and
                              paper.topic.label == other.topic.label)
            bonus = 0.02 * len(shared_kw) + 0.03 * len(shared_authors) + (0.01 if same_topic else 0.0)
            why = []
            if same_topic:
                why.append(f"same topic: {paper.topic.label}")
            if shared_kw:
                why.append("shared keywords: " + ", ".join(shared_kw[:4]))
            if shared_authors:
                why.append("shared authors: " + ", ".join(shared_authors[:3]))
            if sim and not why:
                why.append(f"similar abstract (cosine {sim:.2f})")
            scored.append({"id": other.id, "title": other.title, "score": round(sim + bonus, 4),
                           "similarity": round(sim, 4), "why": "; ".join(why) or "similar words"})
        scored.sort(key=lambda item: -item["score"])
        return scored[:k]


def highlight(text: str, terms: list[str], width: int = 260) -> str:
    """An HTML-safe snippet around the first match with every query term wrapped in <mark>."""
    if not text:
        return ""
    lowered = text.lower()
    positions = [lowered.find(t) for t in terms if t and lowered.find(t) >= 0]
    start = max(0, min(positions) - 60) if positions else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    piece = text[start:start + width]
    prefix, suffix = ("…" if start else ""), ("…" if start + width < len(text) else "")
    if not terms:
        return prefix + html.escape(piece) + suffix
    # Split the raw text on matches, then escape each part: marks never land inside an entity.
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)) + r")",
                         re.I)
    parts = pattern.split(piece)
    out = [f"<mark>{html.escape(part)}</mark>" if i % 2 else html.escape(part) for i, part in enumerate(parts)]
    return prefix + "".join(out) + suffix
