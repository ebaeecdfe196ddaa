"""What the keyword index holds for a paper, and how text becomes index terms, in both languages.

Chinese has no spaces, so a run of Han characters is segmented with jieba: the index takes jieba's
search mode (words and the shorter words inside them: 神经元 also gives 神经), a query its precise
mode, so a query word matches wherever the indexed text has it. Other text splits into lower-cased
words, as before. The index and every query, on the server and (through the words shipped with the
static site) in the browser, go through `index_terms` / `query_terms` here."""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from typing import TYPE_CHECKING

from paperlens.core.fields import SUMMARY_FIELDS
from paperlens.core.words import nfkc
from paperlens.search.simplify import simplified

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper

MAX_QUERY_CHARS = 2000
MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.U)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_JIEBA_LOCK = threading.Lock()
_ACCENTS = re.compile(r"[\u0300-\u036f]+")  # the combining accents of Latin, Greek and Cyrillic letters

# The index's columns, best first, and their BM25 weights: a hit in a title, topic or keyword beats
# one in a long field.
FIELDS = ("title", "topic", "keywords", "authors", "short", "long")
WEIGHTS = (8.0, 5.0, 4.0, 2.0, 2.0, 1.0)

STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or our that the their this to was we "
    "were which with via using based towards toward these those can not no than then"
    .split()
) | frozenset("的 了 和 与 及 或 在 是 对 为 中 等 并 将 其 以 于 而 被 也 由 从 到 这 该 之 上 下 个".split())


@functools.cache
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter on stderr
    with _JIEBA_LOCK:
        jieba.initialize()
    return jieba


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def fold(term: str) -> str:
    """`term` in NFKC without the accents of its letters ('schölkopf' -> 'scholkopf'), as SQLite's unicode61 tokenizer
    with remove_diacritics folds what it indexes; the Tantivy index and the words looked up in either index's
    vocabulary are folded with this."""
    if term.isascii():
        return term
    return unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFKD", term)))  # NFKC, less accents


def _split(text: str, for_index: bool, simplify: bool = False) -> list[str]:
    # NFKC first: full-width letters and digits (ＬＬＭ, ２０２４, common in Chinese text), ligatures (ﬁ) and
    # decomposed accents are the plain characters, in the index and in queries (as search.js does).
    text = nfkc(text)
    if simplify:
        text = simplified(text)
    out: list[str] = []
    for word in _WORD.findall(text):
        if not _HAN.search(word):
            out.append(word.lower())
            continue
        at = 0
        for run in _HAN.finditer(word):  # "GPT4模型": "gpt4", then the Han run segmented
            if run.start() > at:
                out.append(word[at:run.start()].lower())
            jieba = _jieba()
            pieces = jieba.cut_for_search(run.group()) if for_index else jieba.cut(run.group())
            out.extend(p for p in pieces if p.strip())
            at = run.end()
        if at < len(word):
            out.append(word[at:].lower())
    return out


def index_terms(text: str | None) -> list[str]:
    """The terms the index keeps for `text` (Chinese in jieba's search mode)."""
    return _split(text or "", for_index=True)


def index_text(text: str | None) -> str:
    """`text` as space-separated index terms: SQLite's unicode61 and Tantivy's default tokenizer split
    it back into exactly these terms."""
    if not text:
        return ""
    if has_han(text):  # traditional characters simplified, as queries are (the static site's words are not)
        return " ".join(_split(text, for_index=True, simplify=True))
    return nfkc(text)


def query_words(text: str) -> list[str]:
    """The words of a user query as typed, lower-cased, Chinese segmented (what results highlight)."""
    return _split(text[:MAX_QUERY_CHARS], for_index=False, simplify=True)[:MAX_TERMS]


def query_terms(text: str) -> list[str]:
    """The words of a user query, lower-cased, accents folded, Chinese segmented: what the indexes are asked
    for. FTS syntax characters never survive."""
    return [fold(word) for word in query_words(text)]


def content_terms(terms: list[str]) -> list[str]:
    """The terms without stopwords, or all of them when nothing else is left."""
    return [t for t in terms if t not in STOPWORDS] or terms


@functools.cache
def topic_names() -> dict[str, tuple[str, ...]]:
    """Topic label (any language) -> its names in every language, from the installed taxonomies."""
    from paperlens.enrich.models.taxonomy import list_taxonomies

    names: dict[str, tuple[str, ...]] = {}
    try:
        taxonomies = list_taxonomies()
    except Exception:  # noqa: BLE001 - a broken user taxonomy must not break search; labels index as given
        return names
    for taxonomy in taxonomies:
        for label in taxonomy.labels:
            both = tuple(dict.fromkeys(n for n in (label.id, label.zh, label.en) if n))
            for name in both:
                names.setdefault(name, both)
    return names


def search_document(paper: Paper) -> tuple[str, ...]:
    """The paper's text for each of FIELDS (Chinese pre-segmented), from the paper as completed by its
    enrichments: title; topic label in both languages; keywords; authors; TL;DR; abstract and the
    structured summaries of every language."""
    topic = ""
    if paper.topic and paper.topic.label:
        topic = " ; ".join(topic_names().get(paper.topic.label, (paper.topic.label,)))
    summaries = [getattr(s, name) for s in paper.summary.values() for name in SUMMARY_FIELDS if getattr(s, name)]
    return (
        index_text(paper.title), index_text(topic), index_text(" ; ".join(paper.keywords)),
        " ; ".join(paper.authors), index_text(paper.tldr or ""),
        index_text("\n".join([paper.abstract, *summaries])),
    )


def group_expression(groups: list[list[str]]) -> str:
    """FTS5: at least one term of every group (quoted terms only)."""
    return " AND ".join("(" + " OR ".join(f'"{t}"' for t in dict.fromkeys(group)) + ")" for group in groups)


def fts_expression(terms: list[str], mode: str = "and") -> str | None:
    """An FTS5 MATCH expression that only ever contains quoted terms (no operators from the user)."""
    if not terms:
        return None
    if mode == "or":
        content = [t for t in terms if t not in STOPWORDS] or terms
        return " OR ".join(f'"{t}"' for t in dict.fromkeys(content))
    return " ".join(f'"{t}"' for t in dict.fromkeys(terms))
