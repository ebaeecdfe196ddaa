"""Search quality on a labelled collection: known-item search (title -> MRR, abstract sentence ->
recall@10) and topical precision@10 with author keywords as queries."""

from __future__ import annotations

import random
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paperlens.core.models import SUMMARY_FIELDS, Paper
from paperlens.eval import ICLR_2026, EvalError
from paperlens.search.hybrid import HybridSearcher
from paperlens.store import Store, keyword_norm

DEFAULT_DATA = ICLR_2026

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class SearchEval:
    mode: str
    title_mrr: float
    title_recall10: float
    sentence_recall10: float
    sentence_mrr: float
    keyword_p10: float
    queries: int
    ms_per_query: float

    def as_dict(self) -> dict:
        return dict(vars(self))


def evaluate_search(store: Store, *, samples: int = 300, keyword_queries: int = 150, seed: int = 13,
                    modes: tuple[str, ...] = ("keyword", "semantic", "hybrid")) -> list[SearchEval]:
    rng = random.Random(seed)
    papers = [p for p in store.iter_papers() if p.title and p.abstract]
    picked = rng.sample(papers, min(samples, len(papers)))
    sentence_queries = []
    for paper in picked:
        sentences = [s for s in _SENTENCE.split(paper.abstract) if len(s.split()) >= 8]
        if sentences:
            sentence_queries.append((paper.id, rng.choice(sentences)))
    by_keyword: dict[str, set[str]] = defaultdict(set)
    shown: dict[str, str] = {}
    for paper in papers:
        for kw in paper.keywords:
            norm = keyword_norm(kw)
            by_keyword[norm].add(paper.id)
            shown.setdefault(norm, kw)
    frequent = sorted(k for k, ids in by_keyword.items() if len(ids) >= 10)
    topical = rng.sample(frequent, min(keyword_queries, len(frequent)))
    searcher = HybridSearcher(store)
    results = []
    for mode in modes:
        start, n = time.perf_counter(), 0
        title_rr, title_hit = [], []
        for paper in picked:
            rank = _rank(searcher.search(paper.title, limit=100, mode=mode), paper.id)
            title_rr.append(1.0 / rank if rank else 0.0)
            title_hit.append(bool(rank and rank <= 10))
            n += 1
        sent_rr, sent_hit = [], []
        for pid, sentence in sentence_queries:
            rank = _rank(searcher.search(sentence, limit=100, mode=mode), pid)
            sent_rr.append(1.0 / rank if rank else 0.0)
            sent_hit.append(bool(rank and rank <= 10))
            n += 1
        precisions = []
        for norm in topical:
            hits = searcher.search(shown[norm], limit=10, mode=mode)
            precisions.append(sum(h.id in by_keyword[norm] for h in hits) / 10)
            n += 1
        elapsed = time.perf_counter() - start
        results.append(SearchEval(
            mode=mode, title_mrr=_mean(title_rr), title_recall10=_mean(title_hit), sentence_recall10=_mean(sent_hit),
            sentence_mrr=_mean(sent_rr), keyword_p10=_mean(precisions), queries=n,
            ms_per_query=1000 * elapsed / max(n, 1)))
    return results


def _rank(hits, pid: str) -> int | None:
    for i, hit in enumerate(hits, start=1):
        if hit.id == pid:
            return i
    return None


def _mean(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def evaluate_search_on(data: Path = DEFAULT_DATA, workdir: Path | None = None, *, samples: int = 300,
                       keyword_queries: int = 150, modes: tuple[str, ...] = ("keyword", "semantic", "hybrid"),
                       progress: Callable[[str], None] = lambda message: None) -> tuple[int, list[SearchEval]]:
    """Build the collection from `data` (a folder of ICLR-style CSV files, or one file) in `workdir`
    (a temporary folder when None; an existing database there is reused), embed it with the default
    `embed` step, and evaluate. Returns the number of papers and one SearchEval per mode; `progress`
    gets a line after the ingest and after the embedding."""
    from paperlens.enrich.registry import load_steps
    from paperlens.enrich.runner import run_step
    from paperlens.ingest.pipeline import ingest_paths

    if not data.exists():
        raise EvalError(f"{data}: not found (the ICLR 2026 set lives in ../shared/data/iclr2026)")
    files = sorted(data.glob("*.csv")) if data.is_dir() else [data]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) if workdir is None else workdir
        workdir.mkdir(parents=True, exist_ok=True)
        store = Store(workdir / "eval-search.db")
        try:
            if store.count() == 0:
                report = ingest_paths(store, files)
                progress(f"ingested {report.valid} papers ({report.rejected} rejected)")
            step = load_steps()["embed"].create()
            embedded = run_step(store, step, batch_size=128)
            progress(f"embedded {embedded.done} papers ({embedded.skipped} already done)")
            results = evaluate_search(store, samples=samples, keyword_queries=keyword_queries, modes=modes)
            return store.count(), results
        finally:
            store.close()


def report_lines(papers: int, results: list[SearchEval]) -> list[str]:
    """The table `paperlens eval search` prints."""
    lines = [f"papers: {papers}",
             f"{'mode':10s} {'title MRR':>10s} {'title R@10':>11s} {'sent. R@10':>11s} {'sent. MRR':>10s} "
             f"{'kw P@10':>8s} {'ms/query':>9s}"]
    for r in results:
        lines.append(f"{r.mode:10s} {r.title_mrr:10.3f} {r.title_recall10:11.3f} {r.sentence_recall10:11.3f} "
                     f"{r.sentence_mrr:10.3f} {r.keyword_p10:8.3f} {r.ms_per_query:9.1f}")
    return lines
# -- cross-lingual ---------------------------------------------------------------------------------
@dataclass
class CrossLingualEval:
    direction: str  # "zh->en" or "en->zh"
    route: str
    recall10: float
    mrr: float
    queries: int
    documents: int

    def as_dict(self) -> dict:
        return dict(vars(self))


def seed_pairs() -> list[Paper]:
    """The 002 seed papers with a Chinese summary and an English abstract."""
    from paperlens.core.paths import PACKAGE_DIR
    from paperlens.sources import read_records

    out = []
    for path in sorted((PACKAGE_DIR / "sample").glob("002_*.txt")):
        out += [p for p in read_records(path) if isinstance(p, Paper) and "zh" in p.summary and p.abstract]
    return out


def _zh_text(paper: Paper) -> str:
    summary = paper.summary["zh"]
    return "".join(getattr(summary, name) for name in SUMMARY_FIELDS)


# What each route of cross-lingual search uses (HybridSearcher.translation, and whether the semantic
# side searches the query's word-by-word translation).
ROUTES = {
    "learned": {"use_learned": True, "use_cedict": False},
    "cedict": {"use_learned": False, "use_cedict": True},
    "learned+cedict": {"use_learned": True, "use_cedict": True},
}


def evaluate_crosslingual(workdir, *, seed: int = 13, routes: tuple[str, ...] = tuple(ROUTES),
                          embed: bool = True) -> list[CrossLingualEval]:
    """zh->en: a held-out seed paper's Chinese problem statement (解决问题) finds the paper in a collection
    where every seed paper has only its English abstract; en->zh: a sentence of its English abstract
    finds it where every paper has only its Chinese summary. Held-out papers (crosslingual.held_out)
    are those the word list was not built from; all 651 seed papers are in each collection.
    Routes: keyword search through each translation source; with `embed`, also the semantic side alone
    on the Chinese query as is ("embed-zh": the static English embedder reading the stored zh fields'
    language) and on its word-by-word translation ("embed-translated")."""
    from paperlens.enrich.registry import load_steps
    from paperlens.enrich.runner import run_step
    from paperlens.search.crosslingual import held_out, translate_query
    from paperlens.search.document import query_terms

    rng = random.Random(seed)
    papers = seed_pairs()
    english, chinese = [], []
    for paper in papers:
        english.append(Paper(id=paper.id, title=paper.title, abstract=paper.abstract, keywords=paper.keywords,
                             authors=paper.authors, year=paper.year, language="en"))
        chinese.append(Paper(id=paper.id, title=paper.title, abstract="", summary={"zh": paper.summary["zh"]},
                             authors=paper.authors, year=paper.year, language="zh"))
    stores = {}
    for name, rows in (("en", english), ("zh", chinese)):
        store = Store(workdir / f"crosslingual-{name}.db")
        if store.count() == 0:
            store.ingest(rows)
        stores[name] = store
    if embed:
        run_step(stores["en"], load_steps()["embed"].create(), batch_size=128)
    queries_zh, queries_en = [], []
    for paper in papers:
        if not held_out(paper.id):
            continue
        problem = paper.summary["zh"].problem or _zh_text(paper)[:120]
        queries_zh.append((paper.id, problem))
        sentences = [s for s in _SENTENCE.split(paper.abstract) if len(s.split()) >= 8]
        if sentences:
            queries_en.append((paper.id, rng.choice(sentences)))
    results = []
    for direction, store, queries in (("zh->en", stores["en"], queries_zh), ("en->zh", stores["zh"], queries_en)):
        searcher = HybridSearcher(store)
        for route in routes:
            searcher.translation = ROUTES[route]
            ranks = [_rank(searcher.search(q, limit=100, mode="keyword"), pid) for pid, q in queries]
            results.append(_cross(direction, route, ranks, store))
        if embed and direction == "zh->en":
            searcher.translation = ROUTES["learned+cedict"]
            docs = searcher.keyword_docs()
            known = (lambda words, docs=docs: set(docs.doc_freq(words))) if docs is not None else None
            for route in ("embed-zh", "embed-translated"):
                ranks = []
                for pid, q in queries:
                    text = q
                    if route == "embed-translated":
                        groups = translate_query(query_terms(q), known=known, **ROUTES["learned+cedict"])
                        text = " ".join(group[0] for group in groups)
                    found = searcher.semantic(text, 100) if text.strip() else []
                    ranks.append(next((i for i, (hit, _s) in enumerate(found, start=1) if hit == pid), None))
                results.append(_cross(direction, route, ranks, store))
    for store in stores.values():
        store.close()
    return results


def _cross(direction: str, route: str, ranks: list[int | None], store: Store) -> CrossLingualEval:
    return CrossLingualEval(direction=direction, route=route,
                            recall10=_mean(bool(r and r <= 10) for r in ranks),
                            mrr=_mean(1.0 / r if r else 0.0 for r in ranks), queries=len(ranks),
                            documents=store.count())
