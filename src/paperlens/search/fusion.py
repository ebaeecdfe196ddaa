"""Reciprocal-rank fusion of a search's ranked lists (keyword, semantic, translated) into one ranking whose
pages are slices of it (hybrid.HybridSearcher.search_results). Pure: lists in, scores and order out."""

from __future__ import annotations

RRF_K = 60
TRANSLATED_WEIGHT = 2.0
PARTIAL_TRANSLATED_WEIGHT = 0.5
ID_MATCH_SCORE = 1.0  # fused score of the paper a query names by its id: above any fusion of ranks (at most 4/61)

Ranking = list[tuple[str, float]]


def fuse(keyword: Ranking, semantic: Ranking, translated: Ranking, *, matched: int, limit: int, min_depth: int,
         named: str | None = None) -> tuple[list[str], dict[str, float], dict[str, list[int | None]]]:
    """(ids best first, fused score by id, [keyword, semantic, translated] rank by id). `matched`: papers with
    every keyword; `named`: a paper the query names by its id, which comes first."""
    fused: dict[str, float] = {}
    ranks: dict[str, list[int | None]] = {}
    # A query that is one paper's identifier (an arXiv id, DOI or URL pasted whole) names that paper:
    # it comes first, whatever the words of the id match elsewhere.
    if named is not None:
        fused[named] = ID_MATCH_SCORE
        ranks[named] = [None, None, None]
    # A paper written only in the other language has no semantic rank to add (the embedder reads one
    # language), so its translated rank counts for both. Ranks are fused down to min_depth, which every
    # page's lists reach, so the fused order is the same whichever page is asked for.
    # The keyword list has papers with only some of the words after those with all of them when a page
    # needs them (offset + limit past the matches): they are fused only when the first page of this size
    # had them too, else they follow with the deeper papers.
    fuse_to = (min_depth if matched < limit else min(min_depth, matched), min_depth, min_depth)
    for which, ranking, weight in ((0, keyword, 1.0), (1, semantic, 1.0), (2, translated, TRANSLATED_WEIGHT)):
        for rank, (pid, score) in enumerate(ranking, start=1):
            ranks.setdefault(pid, [None, None, None])[which] = rank
            if rank > fuse_to[which]:
                continue
            # Translated papers with only some of a long query's words count for less (score < 0).
            share = weight if score >= 0 or which != 2 else PARTIAL_TRANSLATED_WEIGHT
            fused[pid] = fused.get(pid, 0.0) + share / (RRF_K + rank)
    ordered = sorted(fused, key=lambda pid: -fused[pid])
    # Papers ranked only deeper (the lists of a deep page are longer) follow by their best rank in any list:
    # a longer list adds papers after these, never between them, so pages are slices of one ranking. Fusing
    # every rank of lists as deep as the page changed the order from page 6 on, repeating and skipping papers.
    floor = fused[ordered[-1]] if ordered else ID_MATCH_SCORE
    best = {pid: min((rank, which) for which, rank in enumerate(at) if rank is not None)
            for pid, at in ranks.items() if pid not in fused}
    for pid in sorted(best, key=best.__getitem__):
        fused[pid] = min(floor, 1.0 / (RRF_K + best[pid][0]))  # scores keep falling down the list
        ordered.append(pid)
    return ordered, fused, ranks
