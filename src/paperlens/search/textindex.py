"""Keyword index for large collections: Tantivy (BM25 with block-max WAND) kept in sync with the store.

SQLite FTS5 ranks every match of a query, which is fine for thousands of papers but takes seconds
for a common term at a million; Tantivy skips blocks that cannot reach the top k. The store stays
the source of truth: the index is derived from it incrementally and can be deleted at any time."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from paperlens.core.fields import SUMMARY_FIELDS
from paperlens.search.document import fold, index_text, topic_names
from paperlens.store import Store, TextIndexRows

if TYPE_CHECKING:
    import numpy as np  # imported where head lists are used: below HEAD_TERM_MIN_DOCS a search needs none

    from paperlens.core.models import Paper

# bench/keyword_backends.py (docs/benchmarks.md): FTS5 ranks every match, so a common word took
# 17-104 ms at 20k papers and 130-590 ms at 100k; Tantivy took 0.1-7 ms after a first sync of 1-2 s.
# Small collections keep FTS5 alone: no second index to build or keep in step.
TANTIVY_THRESHOLD = 10_000
# Queries made only of words in at least this share of abstracts are answered from lists worked out at
# sync: ranking posting lists that hold nearly every paper costs tens of ms at a million papers, and
# block-max WAND cannot skip when every paper scores about the same.
HEAD_TERM_SHARE = 0.05
# Each head term keeps its best HEAD_TERM_DEPTH papers and their scores. Several head terms are answered
# with Fagin's threshold algorithm over these lists, proved exact or else run as a plain query. At 1M
# papers (docs/benchmarks.md) 20k-deep lists left up to 4,500 candidates to rescore for pairs of common words,
# 50k-deep ones at most ~1,000 (p95 324).
HEAD_TERM_DEPTH = 50_000
HEAD_TERM_MIN_DOCS = 200_000  # below this a common word takes ~0.1 ms anyway; skip the work at sync
HEAD_SCAN_START = 1024  # list prefix the threshold algorithm reads first; it reads 4x more until proved
# Deepest prefix read before giving up: at 1M papers a failed attempt cost up to 31 ms reading 50k deep,
# 10 ms reading 16k, which proved as many two-word queries (all of the bench's).
HEAD_SCAN_MAX = 16_384
# Deeper answers are not tried: for two of the 40 commonest words at 1M papers the lists gave p50/p95
# 1.8/5.0 ms for 10 results, 4.6/12 ms for 50, 9.4/21 ms for 200 (a third fell back), the plain query ~12/18 ms.
HEAD_MULTI_MAX_LIMIT = 50
HEAD_RESCORE_MAX = 2000  # Tantivy rescores ~10 us per candidate; beyond this the plain query is as quick
_HEAD_DIR = "paperlens-head"
_HEAD_FORMAT = 1
_SLACK = 1e-6  # our float64 sums of Tantivy's float32 scores may differ from its own by rounding
_WORD = re.compile(r"[^\W_]+")
# Boosts: a hit in a title, topic or keyword beats one in a long field. Chinese is pre-segmented
# (search/document.py), so Tantivy's default tokenizer splits it into the same words as a query.
_FIELDS = (("title", 3.0), ("topic", 2.5), ("keywords", 2.0), ("authors", 1.5), ("short", 1.0), ("abstract", 1.0),
           ("long", 0.8))
_SCHEMA = 5  # the fields above, from papers completed by their enrichments; another layout is built again


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("rowid", stored=True, indexed=True, fast=True)
    for name, _boost in _FIELDS:
        builder.add_text_field(name, stored=False)
    return builder.build()


def _beats(score: float, bound: float) -> bool:
    """score > bound, by more than the rounding of summing float32 scores in another order."""
    import numpy as np

    return score > bound + _SLACK * abs(bound) if np.isfinite(bound) else score > bound


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique, without its hashing: 0.5 ms instead of 18 ms for 150k rowids (numpy 2.4)."""
    import numpy as np

    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


class HeadList:
    """One head term's best papers: rowids sorted (for lookups) with their scores, and the score order."""

    def __init__(self, rows: np.ndarray, scores: np.ndarray, order: np.ndarray, complete: bool):
        self.rows, self.scores, self.order = rows, scores, order  # rows[order[i]]: the i-th best paper
        self.complete = complete  # holds every paper with the word, so a paper missing here lacks it

    @classmethod
    def from_ranking(cls, rows: np.ndarray, scores: np.ndarray, complete: bool) -> HeadList:
        import numpy as np

        by_row = np.argsort(rows, kind="stable")
        order = np.empty(len(rows), dtype=np.int32)
        order[by_row] = np.arange(len(rows), dtype=np.int32)
        return cls(rows[by_row], scores[by_row], order, complete)

    def __len__(self) -> int:
        return len(self.rows)

    def best(self, n: int) -> list[tuple[int, float]]:
        at = self.order[:n]
        return list(zip(self.rows[at].tolist(), self.scores[at].tolist(), strict=True))

    def score_at(self, rank: int) -> float:
        return float(self.scores[self.order[rank]])

    def lookup(self, rowids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, score) for sorted rowids; score is 0 where not found."""
        import numpy as np

        at = np.searchsorted(self.rows, rowids)
        at[at == len(self.rows)] = 0
        found = self.rows[at] == rowids
        return found, np.where(found, self.scores[at].astype(np.float64), 0.0)


def tantivy_fields(paper: Paper) -> dict[str, str]:
    """A paper's Tantivy document (Chinese pre-segmented): what search_document gives the FTS5 index, with the
    abstract and the structured summaries in fields of their own."""
    topic = ""
    if paper.topic and paper.topic.label:
        topic = " ; ".join(topic_names().get(paper.topic.label, (paper.topic.label,)))
    summaries = " ".join(getattr(s, name) for s in paper.summary.values() for name in SUMMARY_FIELDS
                         if getattr(s, name))
    # Accents folded (search/document.fold), as the FTS5 index folds them and queries are: Tantivy's default
    # tokenizer only lower-cases, so 'Scholkopf' found nothing of Schölkopf's.
    fields = {"title": index_text(paper.title), "abstract": index_text(paper.abstract),
              "keywords": index_text(" ; ".join(paper.keywords)), "authors": " ; ".join(paper.authors),
              "topic": index_text(topic), "short": index_text(paper.tldr or ""), "long": index_text(summaries)}
    return {name: fold(value) for name, value in fields.items()}


class TantivyIndex:
    """Tantivy index in `<db>.tantivy/`, with a sidecar recording how far it has synced."""

    def __init__(self, store: Store, directory: Path | None = None):
        import tantivy

        self.store = store
        self.rows = TextIndexRows(store)
        self.directory = directory or Path(f"{store.path}.tantivy")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.meta_path = self.directory / "paperlens-sync.json"
        if self.meta_path.exists() and json.loads(self.meta_path.read_text()).get("schema") != _SCHEMA:
            import shutil

            shutil.rmtree(self.directory)  # derived: built again from the store
            self.directory.mkdir(parents=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(self.directory))
        self._lock = threading.Lock()
        self._head: dict[str, HeadList] = {}  # head term -> its best papers
        self.head_stats = {"proved": 0, "fallback": 0}  # multi-term head queries, for the bench
        self.head_source = ""  # "computed" or "loaded" after a sync that set up head lists

    def _sync_meta(self) -> dict:
        if self.meta_path.exists():
            return json.loads(self.meta_path.read_text())
        return {}

    def _synced_until(self) -> str:
        meta = self._sync_meta()  # both stamps: enrichment changes the documents too
        return f"{meta.get('papers', '')}|{meta.get('enrichments', '')}"

    def sync(self, batch: int = 2000) -> int:
        """Add papers written or enriched since the last sync (a changed one replaces its old document).
        Documents are the papers as completed by their enrichments (search/document.py), like the FTS5
        index's, so summaries, TL;DRs, keywords and topics that enrichment added are found too."""
        with self._lock:
            meta = self._sync_meta()
            fresh = not meta.get("built")
            with self.store.read_snapshot():
                papers_at, enriched_at = self.store.update_stamps()
                # The store's write generation (and stamps and last rowid, against a file replaced by
                # another) as at the last sync: nothing was written since, so no paper needs reading.
                seen = {"generation": self.store.write_generation(), "max_rowid": self.rows.max_rowid()}
                unchanged = (not fresh and seen["generation"] is not None
                             and all(meta.get(key) == value for key, value in seen.items())
                             and (meta.get("papers"), meta.get("enrichments")) == (papers_at, enriched_at))
                if not unchanged:
                    added, writer, new_boundary = self._read_changes(meta, fresh, papers_at, enriched_at, batch)
            if unchanged:
                if not self._head:
                    self._head = self._load_or_compute_head()
                return 0
            if writer is not None:
                writer.commit()
                writer.wait_merging_threads()
            self.index.reload()
            self.meta_path.write_text(json.dumps({"papers": papers_at, "enrichments": enriched_at, "built": True,
                                                  "boundary": new_boundary, "schema": _SCHEMA, **seen}))
            if added or not self._head:
                self._head = self._load_or_compute_head()
            return added

    def _read_changes(self, meta: dict, fresh: bool, papers_at: str, enriched_at: str, batch: int):
        """(papers added, the writer that holds them or None, the digests of those at the last stamps)."""
        import tantivy

        from paperlens.enrich.views import apply_enrichments

        # Stamps have one-second resolution, so papers written or enriched at the last stamps are read
        # again; the digests of those already indexed tell which are unchanged (re-adding them changed
        # the segments at every sync, and with them the saved head lists).
        boundary: dict[str, str] = meta.get("boundary", {})
        writer = None
        added = 0
        if fresh:
            rowids = None
        else:
            rowids = sorted(self.store.changed_rowids(meta.get("papers", ""), meta.get("enrichments", "")))
        at_stamps = {str(r) for r in self.store.changed_rowids(papers_at or "~", enriched_at or "~")}
        new_boundary: dict[str, str] = {}
        for rowid, paper, enrichments in self.store.iter_paper_rows(rowids, batch=batch):
            fields = tantivy_fields(apply_enrichments(paper, enrichments, copy=False))
            digest = hashlib.blake2b(json.dumps(fields, ensure_ascii=False).encode(),
                                     digest_size=8).hexdigest()
            if str(rowid) in at_stamps:
                new_boundary[str(rowid)] = digest
            if boundary.get(str(rowid)) == digest:
                continue
            if writer is None:
                writer = self.index.writer(heap_size=200_000_000, num_threads=2)
            if not fresh:
                writer.delete_documents_by_term("rowid", rowid)
            writer.add_document(tantivy.Document(rowid=rowid, **fields))
            added += 1
        return added, writer, new_boundary

    # -- head terms -------------------------------------------------------------------------------
    def _head_state(self) -> dict:
        """What the head lists were worked out from: any change to the index's segments (new papers,
        deletions, merges) changes the scores, so saved lists only count for the same state."""
        segments = json.loads((self.directory / "meta.json").read_text()).get("segments")
        return json.loads(json.dumps({
            "format": _HEAD_FORMAT, "segments": segments, "num_docs": self.index.searcher().num_docs,
            "synced_until": self._synced_until(), "share": HEAD_TERM_SHARE, "depth": HEAD_TERM_DEPTH,
            "min_docs": HEAD_TERM_MIN_DOCS, "fields": _FIELDS}))

    def _load_or_compute_head(self) -> dict[str, HeadList]:
        state = self._head_state()
        loaded = self._load_head(state)
        if loaded is not None:
            self.head_source = "loaded"
            return loaded
        head = self._head_results()
        self.head_source = "computed"
        if head:
            try:
                self._save_head(head, state)
            except OSError:  # a read-only directory: keep them in memory, work them out again next time
                return head
            # Mapped from the saved files, the lists no query touches take no memory.
            return self._load_head(state) or head
        return head

    def _load_head(self, state: dict) -> dict[str, HeadList] | None:
        folder = self.directory / _HEAD_DIR
        try:
            meta = json.loads((folder / "head.json").read_text())
            if meta.get("state") != state:
                return None
            import numpy as np

            # Memory-mapped: only the lists that queries touch are read in.
            arrays = {name: np.load(folder / f"{meta['token']}-{name}.npy", mmap_mode="r")
                      for name in ("rows", "scores", "order")}
        except (OSError, ValueError, KeyError):
            return None
        head = {}
        for term, start, end, complete in meta["terms"]:
            head[term] = HeadList(arrays["rows"][start:end], arrays["scores"][start:end],
                                  arrays["order"][start:end], complete)
        return head

    def _save_head(self, head: dict[str, HeadList], state: dict) -> None:
        folder = self.directory / _HEAD_DIR
        folder.mkdir(exist_ok=True)
        import numpy as np

        token = uuid.uuid4().hex
        terms, start = [], 0
        for term, ranked in head.items():
            terms.append((term, start, start + len(ranked), ranked.complete))
            start += len(ranked)
        for name in ("rows", "scores", "order"):
            np.save(folder / f"{token}-{name}.npy", np.concatenate([getattr(h, name) for h in head.values()]))
        scratch = folder / f"{token}.json"
        scratch.write_text(json.dumps({"state": state, "token": token, "terms": terms}))
        os.replace(scratch, folder / "head.json")  # readers see the old lists or the new, never half
        for stale in folder.glob("*.npy"):
            if not stale.name.startswith(token):
                stale.unlink(missing_ok=True)  # a reader that mapped it keeps its copy until it lets go

    def _head_results(self, sample: int = 3000) -> dict[str, HeadList]:
        """Best HEAD_TERM_DEPTH papers of each word found in at least HEAD_TERM_SHARE of abstracts.
        Candidates come from a random sample of stored abstracts; Tantivy's document frequency decides."""
        searcher = self.index.searcher()
        total = searcher.num_docs
        top = self.rows.max_rowid()
        if total < HEAD_TERM_MIN_DOCS or not top:
            return {}
        import numpy as np

        rng = random.Random(0)
        rowids = sorted({rng.randint(1, top) for _ in range(sample)})
        counts: dict[str, int] = {}
        for abstract in self.rows.abstracts(rowids):
            for word in set(_WORD.findall(abstract.lower())):
                counts[word] = counts.get(word, 0) + 1
        candidates = [w for w, n in counts.items() if n >= HEAD_TERM_SHARE * len(rowids) / 2]
        row_type = np.int32 if top < 2**31 else np.int64
        head = {}
        for word in candidates:
            if searcher.doc_freq("abstract", word) >= HEAD_TERM_SHARE * total:
                hits = searcher.search(self._query([word]), HEAD_TERM_DEPTH, count=False).hits
                rows = np.array(searcher.fast_field_values("rowid", [address for _, address in hits]), dtype=row_type)
                scores = np.array([score for score, _ in hits], dtype=np.float32)
                head[word] = HeadList.from_ranking(rows, scores, complete=len(hits) < HEAD_TERM_DEPTH)
        return head

    # -- queries ----------------------------------------------------------------------------------
    def search(self, terms: list[str], limit: int, mode: str = "and") -> list[tuple[int, float]]:
        """(papers.rowid, score) for the query terms (already lower-cased words; never parsed)."""
        if not terms or limit <= 0:
            return []
        unique = list(dict.fromkeys(terms))
        head = [self._head.get(term) for term in unique]
        if all(ranked is not None for ranked in head):
            if len(head) == 1 and (limit <= len(head[0]) or head[0].complete):
                return head[0].best(limit)
            if len(head) > 1 and mode == "and" and limit <= HEAD_MULTI_MAX_LIMIT:
                found = self._search_head_terms(unique, head, limit)
                self.head_stats["fallback" if found is None else "proved"] += 1
                if found is not None:
                    return found
        return self._search(unique, limit, mode)

    def _search_head_terms(self, terms: list[str], head: list[HeadList], limit: int) -> list[tuple[int, float]] | None:
        """Best `limit` papers with every one of several head terms, or None when the lists cannot prove
        them. Fagin's threshold algorithm: a paper's score is the sum of its per-word scores. Reading
        each list to some depth, a paper beyond every prefix scores at most the sum of the scores where
        the prefixes end; papers seen in some lists but not all score at most their known part plus the
        last score of each list missing them. Tantivy rescores the papers that may still reach the top
        (its own sums, ties and order), and the answer stands when its last score beats both bounds."""
        import numpy as np

        longest = min(max(len(ranked) for ranked in head), HEAD_SCAN_MAX)
        depth = HEAD_SCAN_START
        while True:
            depth = min(depth, longest)
            seen = _sorted_unique(np.concatenate([ranked.rows[ranked.order[:depth]] for ranked in head]))
            exact = np.zeros(len(seen))
            upper = np.zeros(len(seen))
            in_all = np.ones(len(seen), dtype=bool)
            unseen_bound = 0.0
            for ranked in head:
                found, scores = ranked.lookup(seen)
                missing = -np.inf if ranked.complete else ranked.score_at(len(ranked) - 1)
                exact += scores
                upper += np.where(found, scores, missing)
                in_all &= found
                read = min(depth, len(ranked))
                # A paper past a complete list's end lacks the word: it cannot match at all.
                unseen_bound += -np.inf if ranked.complete and read == len(ranked) else ranked.score_at(read - 1)
            matched = exact[in_all]
            kth = np.partition(matched, len(matched) - limit)[len(matched) - limit] if len(matched) >= limit else -np.inf
            if _beats(kth, unseen_bound):
                rescore = seen[upper >= kth - _SLACK * abs(kth)]
                if len(rescore) <= HEAD_RESCORE_MAX:
                    break
            if depth == longest:
                return None
            depth *= 4
        import tantivy

        within = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "rowid", rowid)) for rowid in rescore.tolist()])
        # Boosted by 0 the restriction adds exactly nothing to the scores of the words.
        found = self._run(self._query(terms, restrict=tantivy.Query.boost_query(within, 0.0)), limit)
        if len(found) < limit or not _beats(found[-1][1], unseen_bound):  # Tantivy's own sums this time
            return None
        return found

    def _query(self, terms: list[str], mode: str = "and", restrict=None):
        import tantivy

        per_term = []
        for term in dict.fromkeys(terms):
            fields = [(tantivy.Occur.Should, tantivy.Query.boost_query(
                tantivy.Query.term_query(self.schema, name, term), boost)) for name, boost in _FIELDS]
            per_term.append(tantivy.Query.boolean_query(fields))
        occur = tantivy.Occur.Must if mode == "and" else tantivy.Occur.Should
        clauses = [(occur, q) for q in per_term]
        if restrict is not None:
            clauses.append((tantivy.Occur.Must, restrict))
        return tantivy.Query.boolean_query(clauses)

    def _run(self, query, limit: int) -> list[tuple[int, float]]:
        searcher = self.index.searcher()
        hits = searcher.search(query, limit, count=False).hits
        rowids = searcher.fast_field_values("rowid", [address for _, address in hits])
        return [(rowid, float(score)) for rowid, (score, _) in zip(rowids, hits, strict=True)]

    def _search(self, terms: list[str], limit: int, mode: str) -> list[tuple[int, float]]:
        return self._run(self._query(terms, mode), limit)

    def known_terms(self, terms: list[str]) -> set[str]:
        """The terms that occur in some document (any field)."""
        searcher = self.index.searcher()
        return {t for t in dict.fromkeys(terms) if any(searcher.doc_freq(name, t) for name, _ in _FIELDS)}

    def count(self, terms: list[str]) -> int:
        """How many papers hold every one of the terms."""
        if not terms:
            return 0
        return self.index.searcher().search(self._query(list(dict.fromkeys(terms)), "and"), 1, count=True).count

    def terms_with_prefix(self, prefix: str, limit: int = 50_000) -> list[tuple[str, int]]:
        """(term, documents) of the index terms that start with `prefix`, in any field (a term in several
        fields counts the documents of the field where it is commonest), for spelling suggestions."""
        searcher = self.index.searcher()
        counts: dict[str, int] = {}
        for name, _boost in _FIELDS:
            for term, n in searcher.terms_with_prefix(name, prefix, limit=limit):
                if n > counts.get(term, 0):
                    counts[term] = n
        return list(counts.items())

    def search_groups(self, groups: list[list[str]], limit: int, mode: str = "and") -> list[tuple[int, float]]:
        """(rowid, score) of papers with a term of every group ("and") or of any ("or")."""
        import tantivy

        if not groups or limit <= 0:
            return []
        occur = tantivy.Occur.Must if mode == "and" else tantivy.Occur.Should
        clauses = [(occur, self._query(list(group), "or")) for group in groups]
        return self._run(tantivy.Query.boolean_query(clauses), limit)
