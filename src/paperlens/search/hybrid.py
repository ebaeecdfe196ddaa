"""Hybrid search: keyword (BM25 over FTS5) and semantic (embedding) rankings fused by reciprocal
rank fusion, with filters and highlighted snippets; and similar papers with a short "why"."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from paperlens.core.clean import slugify
from paperlens.core.highlight import highlight, paper_snippet
from paperlens.search.document import (
    FIELDS,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    STOPWORDS,
    WEIGHTS,
    content_terms,
    fts_expression,
    group_expression,
    has_han,
    query_terms,
    query_words,
    search_document,
)
from paperlens.search.fusion import fuse
from paperlens.search.results import SearchFilters, SearchHit, SearchPage
from paperlens.search.textindex import TANTIVY_THRESHOLD, TantivyIndex
from paperlens.store import KeywordIndexDB, Store, TextIndexRows, keyword_norm

if TYPE_CHECKING:
    from paperlens.search.vectorindex import VectorIndex

__all__ = ["MAX_QUERY_CHARS", "MAX_TERMS", "STOPWORDS", "HybridSearcher", "SearchFilters", "SearchHit",
           "fts_expression", "highlight", "query_terms"]
# In background mode a query waits this long for an index build or catch-up before it answers from what
# is ready: enough for thousands of papers, far too little for a first index of a million.
BACKGROUND_WAIT_S = 2.0
CATCH_UP_WAIT_S = 0.2
# Cosine below which a neighbour is noise, not a result. Measured on the enriched sample (685 papers,
# minilm-static-256): a paper's own title scores 0.62 at the 5th percentile, a sentence of its abstract
# 0.54; the best neighbour of an unrelated English query ("football world cup", "how to bake bread",
# "lorem ipsum dolor") 0.10-0.35, of one-letter words ("a b c") 0.46. Strings of no word ("xyzzyqwert"
# 0.58, "qqqq wwww" 0.49) overlap real queries, so they are stopped by the word check in search_results.
SEMANTIC_FLOOR = 0.5
LONG_QUERY_GROUPS = 4  # translated queries of more words also take papers with only some of them
COUNT_CAP = 100_000  # keyword matches are counted up to this many


def __getattr__(name: str):
    """`hybrid.VectorIndex`, imported when first asked for: a keyword search needs no numpy."""
    if name == "VectorIndex":
        from paperlens.search.vectorindex import VectorIndex

        return VectorIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        self._docs: KeywordIndexDB | None = None  # the bilingual keyword index, once built
        self._docs_lock = threading.Lock()
        self._docs_counter: int | None = None
        self.translation: dict[str, bool] = {}  # routes for translate_query (the evaluation compares them)

    def warm(self) -> None:
        """Start building the indexes a query will need (background mode: returns at once)."""
        def run():
            from paperlens.search.crosslingual import cedict_tables, load_lexicon
            from paperlens.search.document import topic_names
            from paperlens.search.simplify import simplified_table

            # The word lists the first query would otherwise load (about a second for CC-CEDICT).
            topic_names()
            load_lexicon()
            cedict_tables()
            simplified_table()
            if self.text_index() is None:
                self.keyword_docs()
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

        from paperlens.search.vectorindex import open_index

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
                base = self.index_dir or Path(self.store.path).parent
                index = open_index(dim or self.store.embedding_dim(model), count,
                                   lambda: self.store.iter_embeddings(model),
                                   base / f"{Path(self.store.path).name}.{slugify(model)}.usearch")
            index.add_batches(self.store.iter_embeddings(model, after_rowid=index.max_key))
            if index.dirty and index.ann:
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

    def keyword_docs(self) -> KeywordIndexDB | None:
        """The bilingual keyword index (store/searchindex.py) brought up to date with the store (a commit
        since the last look, PRAGMA data_version, means a sync of the papers it changed); None while a
        background build of the first one runs."""
        counter = self.store.change_counter()
        if self._docs is not None and counter == self._docs_counter:
            return self._docs
        if self.background:
            # The first build may take the usual wait; a catch-up only a moment (a few papers take
            # milliseconds), so requests during a stream of writes are not held up by each commit.
            wait = BACKGROUND_WAIT_S if self._docs is None else CATCH_UP_WAIT_S
            self._in_background("docs", lambda: self._sync_docs(counter), wait=wait)
            return self._docs  # as last synced (None before the first build: FTS5 in the database answers)
        self._sync_docs(counter)
        return self._docs

    def _docs_path(self) -> Path:
        base = self.index_dir or Path(self.store.path).parent
        return base / f"{Path(self.store.path).name}.search.sqlite"

    def _sync_docs(self, counter: int | None) -> None:
        """Index the papers written or enriched since the last sync (all of them the first time)."""
        from paperlens.enrich.views import apply_enrichments

        with self._docs_lock:
            db = self._docs
            if db is None:
                db = KeywordIndexDB.open(self._docs_path(), FIELDS, WEIGHTS)
                if db.fallback:
                    warnings.warn(f"keyword index kept in memory, built again by each process ({db.fallback})",
                                  stacklevel=2)
            state = db.state()
            with self.store.read_snapshot():
                papers_at, enriched_at = self.store.update_stamps()
                generation = self.store.write_generation()
                now = {"papers": papers_at, "enrichments": enriched_at, "built": "1",
                       "generation": "" if generation is None else str(generation)}
                # Nothing written since the last sync (the store's write generation has not moved): no
                # paper to read again, where the stamps alone would have this process redo the last second's.
                unchanged = generation is not None and all(state.get(key) == value for key, value in now.items())
                batch: list[tuple[int, tuple[str, ...]]] = []
                if not unchanged:
                    rowids = (sorted(self.store.changed_rowids(state["papers"], state["enrichments"]))
                              if state.get("built") else None)
                    for rowid, paper, enrichments in self.store.iter_paper_rows(rowids):
                        batch.append((rowid, search_document(apply_enrichments(paper, enrichments, copy=False))))
                        if len(batch) >= 2000:
                            db.replace(batch)
                            batch = []
            if not unchanged:
                db.replace(batch, now)
            self._docs_counter = counter
            self._docs = db

    def keyword(self, text: str, k: int, filters: SearchFilters | None = None,
                need: int | None = None) -> list[tuple[str, float]]:
        """Papers with every word, best first; when fewer than `need` (default k) have them all, papers
        with any of the content words follow."""
        return self.keyword_ranking(text, k, filters, need, count=False)[0]

    def keyword_ranking(self, text: str, k: int, filters: SearchFilters | None = None,
                        need: int | None = None, count: bool = True) -> tuple[list[tuple[str, float]], int]:
        """(ranking as `keyword` gives it, how many papers have every content word; counted up to
        COUNT_CAP, and only where the index can count: else the length of the ranking; not counted past
        the ranking without `count`)."""
        need = k if need is None else need
        terms = query_terms(text)
        expression = fts_expression(terms)
        if expression is None:
            return [], 0
        filters = filters if filters is not None and filters.active() else None
        index = self.text_index()
        if index is not None:
            return self._keyword_tantivy(index, terms, k, filters, need, count)
        docs = self.keyword_docs()
        if docs is not None:
            return self._keyword_docs(docs, terms, k, filters, need, count)
        found = self.store.fts_search(expression, k, filters)
        if len(found) < need and len(terms) > 1:
            seen = {pid for pid, _ in found}
            found += [hit for hit in self.store.fts_search(fts_expression(terms, "or"), k, filters)
                      if hit[0] not in seen]
        return found[:k], len(found[:k])

    def _keyword_docs(self, docs: KeywordIndexDB, terms: list[str], k: int, filters,
                      need: int, count: bool = True) -> tuple[list[tuple[str, float]], int]:
        return self._keyword_index(
            terms, k, filters, need, count,
            search=lambda words, depth, mode: docs.search(fts_expression(words, mode), depth),
            count_all=lambda words: docs.count_matches(fts_expression(words), COUNT_CAP),
            known=lambda words: set(docs.doc_freq(words)))

    def _keyword_tantivy(self, index, terms: list[str], k: int, filters,
                         need: int, count: bool = True) -> tuple[list[tuple[str, float]], int]:
        return self._keyword_index(terms, k, filters, need, count, search=index.search,
                                   count_all=lambda words: min(index.count(words), COUNT_CAP),
                                   known=index.known_terms)

    def _keyword_index(self, terms: list[str], k: int, filters, need: int, count: bool, *, search, count_all,
                       known) -> tuple[list[tuple[str, float]], int]:
        """Either keyword index (`search(words, depth, "and"|"or")` -> (rowid, score), `count_all(words)`,
        `known(words)` -> the words it holds): papers with every content word, how many (counted past the
        depth only with `count`), then those with some of the words."""
        depth = max(k, 1000) if filters else k
        # Stopwords are left out when other words remain: at a million papers "the" matches nearly all
        # of them, and ranking that posting list costs more than the rest of the query.
        content = content_terms(terms)
        found = search(content, depth, "and")
        matched = len(found) if len(found) < depth or not count else count_all(content)
        # Papers with some of the words follow, unless a word occurs nowhere (a misspelling: "did you
        # mean" answers that, not the papers of the other words).
        if (len(found) < (depth if filters else need) and len(content) > 1
                and len(known(content)) == len(set(content))):
            seen = {rowid for rowid, _ in found}
            found += [hit for hit in search(content, depth, "or") if hit[0] not in seen]
        ids = self.store.rowid_ids([rowid for rowid, _ in found])
        ranked = [(ids[rowid], score) for rowid, score in found if rowid in ids]
        if filters:
            allowed = self.store.filter_ids([pid for pid, _ in ranked], filters)
            ranked = [hit for hit in ranked if hit[0] in allowed]
            matched = min(matched, len(ranked))
        return ranked[:k], matched

    # -- both -------------------------------------------------------------------------------------
    def search(self, text: str, *, limit: int = 20, offset: int = 0, filters: SearchFilters | None = None,
               mode: str = "hybrid") -> list[SearchHit]:
        return self.search_page(text, limit=limit, offset=offset, filters=filters, mode=mode)[1]

    def search_page(self, text: str, *, limit: int = 20, offset: int = 0, filters: SearchFilters | None = None,
                    mode: str = "hybrid", min_depth: int = 200) -> tuple[int, list[SearchHit]]:
        """(how many papers matched, the requested page of them)."""
        found = self.search_results(text, limit=limit, offset=offset, filters=filters, mode=mode,
                                    min_depth=min_depth)
        return found.total, found.hits

    def search_results(self, text: str, *, limit: int = 20, offset: int = 0, filters: SearchFilters | None = None,
                       mode: str = "hybrid", min_depth: int = 200) -> SearchPage:
        """The page of results with how many papers matched and, when none did, a close spelling.

        Keyword matches (every content word, in either language), papers found through the query's
        translation into the other language, and semantic neighbours at least SEMANTIC_FLOOR close are
        fused by reciprocal rank. A query none of whose words occurs in the collection gets no semantic
        results: the static embedder builds its vector from word pieces, and such vectors sit as close to
        real papers as real queries do (see SEMANTIC_FLOOR). `total` counts the papers that matched,
        not the length of the fused candidate lists."""
        if mode not in ("hybrid", "keyword", "semantic"):
            raise ValueError(f"unknown search mode {mode!r}")
        text = (text or "")[:MAX_QUERY_CHARS]
        terms = content_terms(query_terms(text))
        if not text.strip() or not terms:
            return SearchPage(0, [], terms)
        filters = filters or SearchFilters()
        depth = max(min_depth, (offset + limit) * 2)
        keyword: list[tuple[str, float]] = []
        matched = 0
        if mode in ("hybrid", "keyword"):
            keyword, matched = self.keyword_ranking(text, depth, filters, need=offset + limit)
        translated: list[tuple[str, float]] = []
        other_terms: list[str] = []  # the translations that found them, highlighted in their snippets
        if mode in ("hybrid", "keyword"):
            translated, groups = self.translated_ranking(text, depth, filters)
            other_terms = [t for group in groups for t in group]
        semantic: list[tuple[str, float]] = []
        if mode in ("hybrid", "semantic") and (keyword or translated or self.known_terms(terms)):
            semantic = [(pid, sim) for pid, sim in self.semantic(text, depth) if sim >= SEMANTIC_FLOOR]
            if semantic and filters.active():
                allowed = self.store.filter_ids([pid for pid, _ in semantic], filters)
                semantic = [hit for hit in semantic if hit[0] in allowed]
        named = self.named_paper(text, filters)
        ordered, fused, ranks = fuse(keyword, semantic, translated, matched=matched, limit=limit,
                                     min_depth=min_depth, named=named)
        in_keyword = {pid for pid, _ in keyword}
        total = max(matched, len(in_keyword)) + sum(1 for pid in ordered if pid not in in_keyword)
        page = ordered[offset:offset + limit]
        papers = self._resolved(page)
        shown_terms = [t for t in query_words(text) if t not in STOPWORDS]  # as typed, accents and all
        hits = []
        for pid in page:
            paper = papers.get(pid)
            if paper is None:
                continue
            hits.append(SearchHit(
                id=pid, title=paper.title, score=round(fused[pid], 6),
                snippet=paper_snippet(paper, shown_terms + (other_terms if ranks[pid][2] else [])),
                keyword_rank=ranks[pid][0], vector_rank=ranks[pid][1], translated_rank=ranks[pid][2],
                year=paper.year, topic=paper.topic.label if paper.topic else None, authors=paper.authors,
            ))
        suggestion = self.did_you_mean(text) if mode != "semantic" and named is None else None
        return SearchPage(total, hits, shown_terms, suggestion)

    def named_paper(self, text: str, filters: SearchFilters) -> str | None:
        """The stored paper a query of one token names by an id in any form (ids.parse_any_id: 'arXiv:0704.0001',
        '0704.0001v2', an arXiv or doi.org URL, a DOI in any case, a paper's own id), if it passes the filters."""
        raw = text.strip()
        if not raw or len(raw) > 300 or len(raw.split()) != 1 or not raw.isprintable():
            return None  # control characters or lone surrogates (undecodable argv) name no paper
        pid = self.store.resolve_id(raw)
        if pid is None or (filters.active() and pid not in self.store.filter_ids([pid], filters)):
            return None
        return pid

    def _resolved(self, ids: list[str]) -> dict:
        from paperlens.enrich.views import apply_enrichments, has_outputs

        enrichments = self.store.enrichments_for_many(ids)
        if not any(has_outputs(found) for found in enrichments.values()):
            # Nothing to complete them with: their stored fields as they are, without the pydantic models.
            return {p.id: p for p in self.store.paper_views(ids)}
        return {p.id: apply_enrichments(p, enrichments.get(p.id, {}), copy=False) for p in self.store.get_many(ids)}

    # -- vocabulary -------------------------------------------------------------------------------
    def known_terms(self, terms: list[str]) -> set[str]:
        """The terms that occur somewhere in the collection's keyword index."""
        index = self.text_index()
        if index is not None:
            return index.known_terms(terms)
        docs = self.keyword_docs()
        if docs is None:
            return set(terms)  # no index to ask yet: assume they do
        return set(docs.doc_freq(terms))

    def did_you_mean(self, text: str) -> str | None:
        """The query with each word that occurs nowhere replaced by the closest index term (difflib ratio
        >= 0.8, same first letter, length within 2; the commoner on a tie), or None when no word has one."""
        import difflib

        index = self.text_index()
        docs = self.keyword_docs() if index is None else None
        terms = query_terms(text)
        if (index is None and docs is None) or not terms:
            return None
        known = self.known_terms(terms)
        if index is not None:  # Tantivy answers this collection: its term dictionary
            vocabulary = index.terms_with_prefix
        else:
            vocabulary = lambda letter: docs.terms_between(letter, letter + "\uffff", limit=50_000)  # noqa: E731
        out, changed = [], False
        for term in terms:
            best = term
            if term not in known and len(term) >= 4 and not term.isdigit():
                candidates = {t: n for t, n in vocabulary(term[0]) if abs(len(t) - len(term)) <= 2}
                close = difflib.get_close_matches(term, list(candidates), n=5, cutoff=0.8)
                if close:
                    best = max(close, key=lambda t: (difflib.SequenceMatcher(None, term, t).ratio(), candidates[t]))
                    changed = True
            out.append(best)
        return " ".join(out) if changed else None

    # -- the other language -----------------------------------------------------------------------
    def translated(self, text: str, k: int, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        return self.translated_ranking(text, k, filters)[0]

    def translated_ranking(self, text: str, k: int, filters: SearchFilters | None = None
                           ) -> tuple[list[tuple[str, float]], list[list[str]]]:
        """(papers holding a translation (paperlens.search.crosslingual) of every translatable word of the
        query, best first; the groups of translations)."""
        from paperlens.search.crosslingual import translate_query

        index = self.text_index()
        docs = self.keyword_docs() if index is None else None
        if index is None and docs is None:
            return [], []
        known = index.known_terms if index is not None else (lambda words: set(docs.doc_freq(words)))
        groups = translate_query(query_terms(text), known=known, **self.translation)
        if not groups:
            return [], []
        filters = filters if filters is not None and filters.active() else None
        # Always filtered (to the other language, below): as deep as a filtered keyword search, else the
        # first page missed the other language's papers that sat below k of this one's, and a deeper page
        # found them and ranked them first (its order differed from the first page's).
        depth = max(k, 1000)
        if index is not None:
            found = index.search_groups(groups, depth)
        else:
            found = docs.search(group_expression(groups), depth)
        if len(found) < depth and len(groups) > LONG_QUERY_GROUPS:
            # A long query (a sentence) rarely has a translation of every word in one paper: papers
            # with some follow, ranked by BM25.
            seen = {rowid for rowid, _ in found}
            rest = (index.search_groups(groups, depth, "or") if index is not None
                    else docs.search(group_expression([[t for g in groups for t in g]]), depth))
            found += [(rowid, -1.0 / (1.0 + abs(score))) for rowid, score in rest if rowid not in seen]
        ids = self.store.rowid_ids([rowid for rowid, _ in found])
        ranked = [(ids[rowid], score) for rowid, score in found if rowid in ids]
        # Only papers written in the other language: those in the query's own are the keyword side's
        # to rank (a translated English title would otherwise find the Chinese summaries of its neighbours).
        other = "en" if has_han(text) else "zh"
        if filters is not None and filters.language and filters.language != other:
            return [], groups
        wanted = SearchFilters(**{**vars(filters or SearchFilters()), "language": other})
        allowed = self.store.filter_ids([pid for pid, _ in ranked], wanted)
        ranked = [hit for hit in ranked if hit[0] in allowed]
        return ranked[:k], groups

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
