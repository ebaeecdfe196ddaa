"""Keyword tags in the style of author keywords ("reinforcement learning", "LLM", "model merging").

Candidates come from a phrase vocabulary (author tags of the 002 seed digest plus a hand-written CS list),
abbreviations ("Foo Bar (FB)") and stopword-bounded n-grams of the title and abstract; a logistic-regression
ranker scores them and near-identical picks (plural, hyphen, abbreviation) are merged.

Matching is case-, plural- and hyphen-insensitive: `phrase_key("Large Language-Models") == phrase_key("large
language model")`.

Training and evaluation (vocabulary building, the ranker's fit, the seed papers, hit@k) are in
keywords_train.py."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from paperlens.core.paths import PACKAGE_DATA
from paperlens.core.words import nfkc, singular  # the one singular rule and NFKC fold

DATA_DIR = PACKAGE_DATA / "keywords"
MODEL_FILE = DATA_DIR / "model.json"
MAX_VOCAB_WORDS = 6
MAX_NGRAM_WORDS = 4

STOPWORDS = frozenset("""
a about above across after again against all almost along also although always am among an and another any
are around as at be became because been before being below between both but by can could did do does doing
done down due during each either else enough especially even ever every few for from further furthermore
had has have having he her here hers herself him himself his how however i if in into is it its itself just
least less let like made main make makes many may me might more moreover most much must my near nearly
neither no nor not now of off often on once one only onto or other others otherwise our ours ourselves out
over own per perhaps rather same several she should show shows shown showed since so some such than that the
their theirs them themselves then there thereby therefore these they this those though three through thus to
together too toward towards two under until up upon us use used uses using very via was we well were what
whatever when where whereas whether which while who whom whose why will with within without would yet you
your yours e.g i.e et al based new novel propose proposes proposed present presents presented paper work
approach approaches method methods achieve achieves achieved demonstrate demonstrates experiment experiments
experimental result results outperform outperforms introduce introduces introduced existing furthermore
significantly significant state-of-the-art sota various different specific effectively effective efficient
efficiently key first second third however extensive consistently comprehensive remains remain often
including include includes across leading leverage leverages leveraging address addresses enable enables
enabling improve improves improved improving approach framework frameworks task tasks problem problems
study studies show across can while thereby code available github https http www com org need needs
towards beyond unlocking rethinking revisiting understanding via
""".split())

# Connectors allowed inside (never at the edge of) a free n-gram, as in "mixture of experts".
INNER_WORDS = frozenset({"of", "for", "with", "from", "to", "and", "in", "on"})

# A word: letters and digits of any script ([^\W_]: 'naïve', 'café', 'Schrödinger', '学习'), with inner
# apostrophes and hyphens; or a break. Text is NFKC-folded first (fold_text), so a ligature ('ﬁ') is two letters.
_ALNUM = r"[^\W_]"
_WORD_RE = re.compile(rf"{_ALNUM}(?:{_ALNUM}|['’\-])*{_ALNUM}|{_ALNUM}|[.,;:!?()\[\]\"“”/]")
_KEY_PART = re.compile(rf"{_ALNUM}+")
_BREAKS = set(".,;:!?()[]\"“”/")
_ABBR_RE = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-]{0,12}?)\s*\)")


@lru_cache(maxsize=65536)
def _word_key(word: str) -> str:
    parts = _KEY_PART.findall(nfkc(word).lower())
    return "".join(singular(p) for p in parts)


def phrase_key(phrase: str) -> str:
    """Case-, plural-, hyphen- and space-insensitive key: 'Pre-trained Models' == 'pretrained model'."""
    return "".join(singular(p) for p in _KEY_PART.findall(nfkc(phrase).lower()))


def split_tags(tags: Iterable[str]) -> list[str]:
    """Some authors put several keywords in one field: 'LLM; reasoning; RL' -> three tags."""
    return [part.strip() for tag in tags for part in re.split(r"[;；]", tag) if part.strip()]


def split_tag(tag: str) -> list[str]:
    """'Large Language Models (LLMs)' -> ['Large Language Models', 'LLMs']."""
    match = re.match(r"^\s*(.+?)\s*\(([^()]+)\)\s*$", tag)
    if match:
        return [match.group(1), match.group(2)]
    return [tag.strip()] if tag.strip() else []


def is_acronym(word: str) -> bool:
    return 2 <= len(word) <= 10 and sum(1 for c in word if c.isupper()) >= 2 and " " not in word


def clean_style(phrase: str) -> str:
    """Lower case except acronyms and mixed-case names (LLM, LoRA, GPT-4)."""
    words = []
    for word in phrase.split():
        parts = word.split("-")
        # Keep a part's case when it is an acronym or mixed-case name; "Fine-Tuning" -> "fine-tuning".
        parts = [part[:-1] if re.fullmatch(r"[A-Z]{2,}s", part) else part for part in parts]  # LLMs -> LLM
        words.append("-".join(part if any(c.isupper() for c in part[1:]) else part.lower() for part in parts))
    return re.sub(r"\s+", " ", " ".join(words)).strip(" -")


def _abbr_letters(abbr: str) -> str:
    core = abbr[:-1] if abbr.endswith("s") and sum(c.isupper() for c in abbr[:-1]) >= 2 else abbr
    return "".join(c.lower() for c in core if c.isupper() or c.isdigit())


def _subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(c in it for c in small)


@dataclass
class Token:
    text: str
    key: str
    lower: str
    chunk: int
    index: int
    edge_ok: bool = True  # may start or end a free n-gram
    inner_ok: bool = True  # may sit inside a free n-gram


@lru_cache(maxsize=4096)
def tokenize(text: str) -> tuple[Token, ...]:
    tokens: list[Token] = []
    chunk = 0
    for match in _WORD_RE.finditer(text):
        word = match.group(0)
        if word in _BREAKS:
            chunk += 1
            continue
        lower = word.lower()
        inner_ok = (lower not in STOPWORDS or lower in INNER_WORDS) and len(word) <= 40 and any(
            c.isalpha() for c in word)
        edge_ok = inner_ok and lower not in STOPWORDS and lower not in INNER_WORDS
        tokens.append(Token(word, _word_key(word), lower, chunk, len(tokens), edge_ok, inner_ok))
    return tuple(tokens)


def find_definitions(text: str) -> list[tuple[str, str]]:
    """Abbreviations the text defines: [('large language models', 'LLMs'), ...]."""
    found = []
    for match in _ABBR_RE.finditer(text):
        abbr = match.group(1)
        letters = _abbr_letters(abbr)
        if len(letters) < 2:
            continue
        before = [t for t in _WORD_RE.findall(text[max(0, match.start() - 200):match.start()])]
        words: list[str] = []
        for word in reversed(before):
            if word in _BREAKS:
                break
            words.insert(0, word)
            subwords = [w for w in re.split(r"[-\s]", words[0].lower()) if w]
            content = [w for part in words for w in re.split(r"[-\s]", part.lower())
                       if w and w not in INNER_WORDS and w != "the"]
            if len(content) > len(letters) + 2:
                break
            if subwords and subwords[0][0] == letters[0] and len(content) >= max(1, len(letters) - 1):
                initials = "".join(w[0] for w in content)
                long_letters = "".join(_KEY_PART.findall(" ".join(words).lower()))
                if _subsequence(letters, long_letters) and (
                        initials == letters or len(content) <= len(letters) + 1):
                    found.append((" ".join(words), abbr))
                    break
    return found


class Candidate:
    """One distinct phrase (by key) of a paper, with where it occurs."""

    __slots__ = ("key", "spans", "tokens", "count", "first", "n_words", "in_vocab", "defined", "expanded",
                 "capitalised", "in_first_sentence", "forms")

    def __init__(self, key: str, n_words: int = 1, in_vocab: bool = False, expanded: bool = False):
        self.key = key
        self.spans: list[tuple[int, int]] = []
        self.tokens: Sequence[Token] = ()
        self.forms: Counter = Counter()  # surfaces not backed by token spans (definitions, expansions)
        self.count = 0.0
        self.first = 1.0
        self.n_words = n_words
        self.in_vocab = in_vocab
        self.defined = False  # one side of an abbreviation the text defines
        self.expanded = expanded  # added through the abbreviation map, not seen as such in the text
        self.capitalised = 0
        self.in_first_sentence = False

    def surface(self) -> str:
        if self.spans:
            i, j = self.spans[0]
            return " ".join(t.text for t in self.tokens[i:j])
        return self.forms.most_common(1)[0][0] if self.forms else ""

    def common_surface(self) -> str:
        forms = Counter(" ".join(t.text for t in self.tokens[i:j]) for i, j in self.spans) + self.forms
        return forms.most_common(1)[0][0] if forms else ""


FEATURES = (
    "in_vocab", "vocab_tag_df", "vocab_tag_rate", "handwritten", "general_df", "count", "first_position",
    "in_first_sentence", "words_1", "words_2", "words_3", "words_4plus", "acronym", "defined", "expanded",
    "capitalised", "has_equivalent", "free_ngram_stop_tail",
    # The same signals for phrases outside the vocabulary, which behave differently.
    "free_count", "free_first_position", "free_general_df", "free_words_1", "free_acronym", "free_defined",
)


class KeywordModel:
    """Vocabulary, abbreviation map, general n-gram frequencies and ranker weights; all plain JSON."""

    def __init__(self, vocab: dict[str, dict], abbreviations: dict[str, list[str]], general_df: dict[str, int],
                 general_docs: int, weights: dict | None = None, base_rate: float = 0.05,
                 meta: dict | None = None):
        self.vocab = vocab  # key -> {"form", "tag_df", "occ", "tagged_occ", "handwritten"}
        self.abbreviations = abbreviations  # key -> equivalent keys (short <-> long)
        self.general_df = general_df
        self.general_docs = max(1, general_docs)
        self.weights = weights
        self.base_rate = base_rate
        self.meta = meta or {}
        self._max_vocab_words = MAX_VOCAB_WORDS

    # ---- persistence
    @classmethod
    def load(cls, path: str | Path | None = None) -> KeywordModel:
        data = json.loads(Path(path or MODEL_FILE).read_text(encoding="utf-8"))
        return cls(data["vocab"], data["abbreviations"], data["general_df"], data["general_docs"],
                   data["weights"], data.get("base_rate", 0.05), data.get("meta"))

    def save(self, path: str | Path | None = None) -> None:
        payload = {"vocab": self.vocab, "abbreviations": self.abbreviations, "general_df": self.general_df,
                   "general_docs": self.general_docs, "weights": self.weights, "base_rate": self.base_rate,
                   "meta": self.meta}
        Path(path or MODEL_FILE).write_text(json.dumps(payload, ensure_ascii=False, sort_keys=True,
                                                       separators=(",", ":")), encoding="utf-8")

    # ---- candidates
    def _prefixes(self) -> frozenset[str]:
        if getattr(self, "_prefix_cache", None) is None:
            self._prefix_cache = frozenset(key[:i] for key in self.vocab for i in range(1, len(key) + 1))
        return self._prefix_cache

    def vocabulary_keys_in(self, text: str) -> set[str]:
        return {key for key in _all_keys(text) if key in self.vocab}

    def candidates(self, title: str, abstract: str) -> list[Candidate]:
        title, abstract = nfkc(title), nfkc(abstract)
        text = f"{title}. {abstract}" if title.strip() else abstract
        tokens = tokenize(text)
        title_tokens = len(tokenize(title)) if title.strip() else 0
        total = max(1, len(tokens))
        first_sentence_end = next((t.index for t in tokens if t.chunk > 0 and title_tokens == 0), total)
        if title_tokens:
            first_sentence_end = title_tokens
        spans: dict[str, list[tuple[int, int]]] = {}
        vocab = self.vocab
        n = len(tokens)
        prefixes = self._prefixes()
        for i in range(n):
            key = ""
            chunk = tokens[i].chunk
            free = tokens[i].edge_ok  # a free n-gram may still start here
            for j in range(i, min(n, i + self._max_vocab_words)):
                tok = tokens[j]
                if tok.chunk != chunk:
                    break
                key += tok.key
                free = free and tok.inner_ok and (j - i) < MAX_NGRAM_WORDS
                if key in vocab or (free and tok.edge_ok and (j > i or len(tok.text) >= 3)):
                    spans.setdefault(key, []).append((i, j + 1))
                if not free and key not in prefixes:
                    break
        found: dict[str, Candidate] = {}
        for key, where in spans.items():
            cand = found[key] = Candidate(key, n_words=where[0][1] - where[0][0], in_vocab=key in vocab)
            cand.spans, cand.tokens = where, tokens
            # A title mention weighs as two abstract mentions and counts as the earliest position.
            cand.count = sum(2.0 if i < title_tokens else 1.0 for i, _ in where)
            cand.first = where[0][0] / total
            cand.in_first_sentence = where[0][0] < first_sentence_end
            cand.capitalised = sum(1 for i, _ in where if i > 0 and tokens[i].text[:1].isupper()
                                   and tokens[i - 1].chunk == tokens[i].chunk)
        for long_form, abbr in find_definitions(text):
            for phrase in (long_form, abbr):
                key = phrase_key(phrase)
                cand = found.get(key)
                if cand is None:
                    cand = found[key] = Candidate(key, n_words=len(phrase.split()), in_vocab=key in self.vocab)
                    cand.forms[phrase] += 1
                    cand.count = 1.0
                    cand.first = 0.5
                cand.defined = True
        for key in list(found):
            for other in self.abbreviations.get(key, ()):
                if other not in found and other in self.vocab:
                    cand = found[other] = Candidate(other, n_words=len(self.vocab[other]["form"].split()),
                                                    in_vocab=True, expanded=True)
                    cand.forms[self.vocab[other]["form"]] += 1
                    cand.first = found[key].first
                    cand.count = found[key].count
                    cand.in_first_sentence = found[key].in_first_sentence
        return list(found.values())

    def features(self, cands: Sequence[Candidate]) -> np.ndarray:
        keys_present = {c.key for c in cands}
        vocab, general_df, abbreviations = self.vocab, self.general_df, self.abbreviations
        entries = [vocab.get(c.key) for c in cands]
        words = np.array([c.n_words for c in cands])
        heads = [c.tokens[c.spans[0][0]].text if c.spans and c.n_words == 1 else c.surface() for c in cands]
        tails = [c.tokens[c.spans[0][1] - 1].lower if c.spans else "" for c in cands]
        base = self.base_rate * 2
        cols = [
            [1.0 if e else 0.0 for e in entries],
            [math.log1p(e["tag_df"]) if e else 0.0 for e in entries],
            [(e["tagged_occ"] + base) / (e["occ"] + 2) if e else 0.0 for e in entries],
            [1.0 if e and e.get("handwritten") else 0.0 for e in entries],
            [math.log1p(general_df.get(c.key, 0)) / math.log(self.general_docs + 1) for c in cands],
            [math.log1p(c.count) for c in cands],
            [c.first for c in cands],
            [1.0 if c.in_first_sentence else 0.0 for c in cands],
            words == 1, words == 2, words == 3, words >= 4,
            [1.0 if is_acronym(h) else 0.0 for h in heads],
            [1.0 if c.defined else 0.0 for c in cands],
            [1.0 if c.expanded else 0.0 for c in cands],
            [math.log1p(c.capitalised) for c in cands],
            [1.0 if any(o in keys_present for o in abbreviations.get(c.key, ())) else 0.0 for c in cands],
            [1.0 if not e and t in _WEAK_TAILS else 0.0 for e, t in zip(entries, tails, strict=True)],
        ]
        free = 1.0 - np.asarray(cols[0])
        for index in (5, 6, 4, 8, 12, 13):
            cols.append(free * np.asarray(cols[index], dtype=np.float64))
        return np.asarray(cols, dtype=np.float64).reshape(len(FEATURES), len(cands)).T

    def score(self, cands: Sequence[Candidate]) -> np.ndarray:
        if not cands:
            return np.zeros(0)
        X = self.features(cands)
        w = self.weights
        z = (X - np.asarray(w["mean"])) / np.asarray(w["scale"])
        logits = z @ np.asarray(w["coef"]) + w["intercept"]
        return 1.0 / (1.0 + np.exp(-logits))

    def display(self, cand: Candidate) -> str:
        entry = self.vocab.get(cand.key)
        if entry:
            return entry["form"]
        return clean_style(cand.common_surface())

    def extract(self, title: str, abstract: str, k: int = 5) -> list[tuple[str, float]]:
        title, abstract = nfkc(title or ""), nfkc(abstract or "")
        if _is_chinese(title + abstract):
            return self._extract_chinese(title, abstract, k)
        cands = self.candidates(title, abstract)
        if not cands:
            return []
        scores = self.score(cands)
        order = np.argsort(-scores, kind="stable")
        picked: list[tuple[str, float]] = []
        taken: set[str] = set()
        picked_words: list[tuple[tuple[str, ...], bool]] = []
        for idx in order:
            cand = cands[idx]
            equivalents = {cand.key, *self.abbreviations.get(cand.key, ())}
            if equivalents & taken:
                continue
            phrase = self.display(cand)
            if not phrase or len(phrase) < 2:
                continue
            words = tuple(_word_key(w) for w in re.split(r"[\s\-]+", phrase) if _word_key(w))
            if all(w in _GENERIC_KEYS for w in words):
                continue
            if any(_near_duplicate(words, cand.in_vocab, other, other_vocab) for other, other_vocab in picked_words):
                continue
            taken |= equivalents
            picked_words.append((words, cand.in_vocab))
            picked.append((phrase, round(float(scores[idx]), 4)))
            if len(picked) >= k:
                break
        return picked

    def _extract_chinese(self, title: str, abstract: str, k: int) -> list[tuple[str, float]]:
        """Chinese text: TF-IDF nouns from jieba, with English phrases of the vocabulary it mentions first."""
        import logging

        import jieba
        import jieba.analyse

        jieba.setLogLevel(logging.WARNING)
        text = f"{title}。{abstract}"
        picked: list[tuple[str, float]] = []
        taken: set[str] = set()
        latin = " ".join(re.findall(r"[A-Za-z][A-Za-z0-9\- ]*[A-Za-z0-9]", text))
        if latin:
            cands = [c for c in self.candidates("", latin) if c.in_vocab]
            if cands:
                scores = self.score(cands)
                for idx in np.argsort(-scores, kind="stable")[:k]:
                    if cands[idx].key not in taken:
                        taken |= {cands[idx].key, *self.abbreviations.get(cands[idx].key, ())}
                        picked.append((self.display(cands[idx]), round(float(scores[idx]), 4)))
        for word, weight in jieba.analyse.extract_tags(text, topK=k * 3, withWeight=True,
                                                      allowPOS=("n", "nz", "vn", "nt", "nr", "ns", "eng")):
            if len(picked) >= k:
                break
            if len(word) < 2 or re.fullmatch(r"[\W\d_]+", word) or word in _ZH_GENERIC or phrase_key(word) in taken:
                continue
            taken.add(phrase_key(word) or word)
            picked.append((word, round(min(1.0, float(weight)), 4)))
        return picked[:k]


# Chinese words too generic to tag a paper with (method, problem, model, experiment, ...).
_ZH_GENERIC = frozenset("方法 问题 模型 研究 实验 结果 性能 任务 能力 框架 本文 我们 数据 效果 现有 工作 领域 方面 技术 "
                        "场景 过程 方式 基础 机制 策略 目标 信息 作用 影响 提升 显著 有效".split())

DEDUP_MODE = "free"
_INNER_KEYS = frozenset(INNER_WORDS | {"the", "a", "an"})
_GENERIC_KEYS = frozenset(_word_key(w) for w in ("model", "method", "approach", "framework", "data", "task",
                                                 "performance", "result", "system", "problem", "paper",
                                                 "generation", "network", "technique", "algorithm", "large"))


def _contains(big: tuple[str, ...], small: tuple[str, ...]) -> bool:
    n = len(small)
    return any(big[i:i + n] == small for i in range(len(big) - n + 1))


def _near_duplicate(words: tuple[str, ...], in_vocab: bool, other: tuple[str, ...], other_vocab: bool) -> bool:
    """Substring picks ("topic models" after "neural topic models") say the same thing twice; two author-style
    vocabulary phrases may still nest ("reasoning", "LLM reasoning"), as authors often tag both."""
    if DEDUP_MODE == "none":
        return False
    nested = _contains(words, other) or _contains(other, words)
    if DEDUP_MODE == "all":
        return nested
    if in_vocab and other_vocab:
        # "diffusion" after "diffusion models" repeats it; "reasoning" and "LLM reasoning" are both tags.
        if not nested:
            return False
        longer, shorter = (words, other) if len(words) > len(other) else (other, words)
        extra = list(longer)
        for w in shorter:
            if w in extra:
                extra.remove(w)
        return all(w in _GENERIC_KEYS for w in extra)
    if nested:
        return True
    # A free n-gram sharing a content word with a pick overlaps it ("neural topic" after "embedding-based
    # neural", "models for text-to-image" after "text-to-image generation").
    return not in_vocab and bool((set(words) & set(other)) - _INNER_KEYS)


_WEAK_TAILS = frozenset({"model", "models", "method", "methods", "performance", "results", "approach",
                         "framework", "data", "tasks", "task", "way", "ability", "abilities", "capabilities",
                         "settings", "setting", "manner", "process", "strategy", "strategies"})


def ngram_keys(text: str, max_words: int) -> set[str]:
    """Keys of every n-gram of a text, up to `max_words` words and within a clause."""
    tokens = tokenize(text)
    keys = set()
    for i in range(len(tokens)):
        key = ""
        for j in range(i, min(len(tokens), i + max_words)):
            if tokens[j].chunk != tokens[i].chunk:
                break
            key += tokens[j].key
            keys.add(key)
    return keys


@lru_cache(maxsize=4096)
def _all_keys(text: str) -> frozenset[str]:
    """Keys of every n-gram (up to MAX_VOCAB_WORDS words, within a clause) of a text."""
    return frozenset(ngram_keys(text, MAX_VOCAB_WORDS))


def _is_chinese(text: str) -> bool:
    from paperlens.core.clean import detect_language

    if not re.search("[\u4e00-\u9fff]", text):
        return False
    return detect_language(text) == "zh"


@lru_cache(maxsize=1)
def default_model() -> KeywordModel:
    return KeywordModel.load()


def extract_keywords(title: str, abstract: str, k: int = 5) -> list[str]:
    """The top `k` keyword tags for a paper, best first."""
    return [phrase for phrase, _ in default_model().extract(title, abstract, k)]
