"""BibTeX export: one entry per paper, every value escaped so the file parses back to the same text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO

from paperlens.core.models import Paper
from paperlens.core.words import strip_accents

# Latin letters that do not decompose into a letter and an accent.
_ASCII_LETTERS = str.maketrans({"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o",
                                "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
                                "þ": "th", "Þ": "TH", "ı": "i", "ŋ": "ng", "Ŋ": "NG"})


def ascii_fold(text: str) -> str:
    """Accents dropped, as Zotero and JabRef do in the keys they make ('Schölkopf' -> 'Scholkopf',
    'Łukasz' -> 'Lukasz'); letters without a Latin form (Han, Greek) are dropped by the caller."""
    return text if text.isascii() else strip_accents(text.translate(_ASCII_LETTERS))


def bibtex_key(paper: Paper) -> str:
    last = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else "anon"
    last = re.sub(r"[^A-Za-z]", "", ascii_fold(last)) or "anon"
    word = next((w for w in re.findall(r"[A-Za-z]{4,}", ascii_fold(paper.title))), "paper")
    return f"{last.lower()}{paper.year or ''}{word.lower()}"


# Every character LaTeX or BibTeX gives a meaning to is written as its escape: a value can neither end
# the field early (a '}' or a trailing '\\'), nor open a new one, nor unbalance the braces BibTeX counts.
_BIB_ESCAPE = str.maketrans({
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#", "_": r"\_",
    "$": r"\$", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
})
# In a URL these are percent-encoded, as a URL may carry them.
_URL_ESCAPE = str.maketrans({c: f"%{ord(c):02X}" for c in '{}\\"\t\n\r\f\v '})
# In a DOI or id (read back verbatim: they must come back the same) braces and backslashes are commands.
_IDENT_ESCAPE = str.maketrans({"{": r"\textbraceleft{}", "}": r"\textbraceright{}", "\\": r"\textbackslash{}"})
# Braces that do not pair up are written as commands, so BibTeX (which counts \{ too) stays balanced.
_LONE_BRACES = str.maketrans({"{": r"\textbraceleft{}", "}": r"\textbraceright{}"})
_CATEGORY = re.compile(r"[A-Za-z][\w.\-]*")
_PROTECT = re.compile(r"(?<![\\\w])(\w+)")


def _bib(value: str) -> str:
    if ("{" in value or "}" in value) and not _braces_pair_up(value):
        # BibTeX counts \{ as a brace too: braces that do not pair up are written as commands
        return "".join(_LONE_BRACES.get(ord(ch)) or _BIB_ESCAPE.get(ord(ch), ch) for ch in value)
    return value.translate(_BIB_ESCAPE)


def _braces_pair_up(value: str) -> bool:
    depth = 0
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _ident(value: str) -> str:
    """A DOI or id as one token: no space, and nothing that could end the field or open another."""
    return "".join(value.split()).translate(_IDENT_ESCAPE)


def _url(value: str) -> str:
    return "".join(ch for ch in value.translate(_URL_ESCAPE) if ch.isprintable())


def _protect_word(match: re.Match[str]) -> str:
    word = match.group(1)
    return "{" + word + "}" if any(ch.isupper() for ch in word[1:]) else word


def bib_title(title: str) -> str:
    """Escaped, with braces only around the words whose case a style must not change (BERT, GPT-4, iPhone)."""
    return _PROTECT.sub(_protect_word, _bib(title))


def _bib_name(name: str) -> str:
    # a comma or a word 'and' inside one name would split or reorder it: keep it whole
    escaped = _bib(name)
    return "{" + escaped + "}" if "," in name or re.search(r"\sand\s", name, re.I) else escaped


def _bib_keyword(keyword: str) -> str:
    return "{" + _bib(keyword) + "}" if "," in keyword or ";" in keyword else _bib(keyword)


def paper_bibtex(paper: Paper, key: str | None = None) -> str:
    kind = "inproceedings" if paper.venue and not paper.arxiv_id else "article"
    fields: list[tuple[str, str]] = []
    if paper.title:
        fields.append(("title", bib_title(paper.title)))
    if paper.authors:
        names = " and ".join(map(_bib_name, paper.authors)) + (" and others" if paper.authors_truncated else "")
        fields.append(("author", names))
    if paper.year:
        fields.append(("year", str(int(paper.year))))
    if paper.date and re.fullmatch(r"\d{4}-\d{2}(?:-\d{2})?", paper.date):
        fields.append(("date", paper.date))
    if paper.venue:
        fields.append(("booktitle" if kind == "inproceedings" else "journal", _bib(paper.venue)))
    if paper.arxiv_id:
        fields += [("eprint", _ident(paper.arxiv_id)), ("archivePrefix", "arXiv")]
        if paper.categories and _CATEGORY.fullmatch(paper.categories[0]):
            fields.append(("primaryClass", paper.categories[0]))
    others = [c for c in paper.categories[1:] if _CATEGORY.fullmatch(c)]
    if others and paper.arxiv_id and _CATEGORY.fullmatch(paper.categories[0]):
        fields.append(("x-paperlens-categories", ", ".join(others)))  # BibTeX has a field for one only
    elif not paper.arxiv_id and any(_CATEGORY.fullmatch(c) for c in paper.categories):
        # no eprint, so no primaryClass: every category here (they were lost on the way back)
        fields.append(("x-paperlens-categories", ", ".join(c for c in paper.categories if _CATEGORY.fullmatch(c))))
    if paper.doi:
        fields.append(("doi", _ident(paper.doi)))
    other_url = paper.extra.get("url") if isinstance(paper.extra.get("url"), str) else None
    if paper.openreview_id:
        url = f"https://openreview.net/forum?id={paper.openreview_id}"
    else:
        url = other_url or paper.code_url
    if url:
        fields.append(("url", _url(url)))
    if paper.code_url and url != paper.code_url:
        fields.append(("x-paperlens-code", _url(paper.code_url)))
    if paper.keywords:
        fields.append(("keywords", ", ".join(map(_bib_keyword, paper.keywords))))
    if paper.abstract:
        fields.append(("abstract", _bib(paper.abstract)))
    fields.append(("x-paperlens-id", _ident(paper.id)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key or bibtex_key(paper)},\n{body}\n}}\n"


def write_bibtex(papers: Iterable[Paper], out: TextIO) -> int:
    seen: dict[str, int] = {}
    used: set[str] = set()  # every key written: 'smith2026deep' + 'a' is also 'Deepa ...'s own key
    n = 0
    for paper in papers:
        base = bibtex_key(paper)
        key = base
        while key.lower() in used:  # BibTeX keys are case-insensitive
            seen[base] = seen.get(base, 1) + 1
            key = f"{base}{chr(ord('a') + seen[base] - 2)}" if seen[base] < 28 else f"{base}-{seen[base]}"
        used.add(key.lower())
        out.write(paper_bibtex(paper, key) + "\n")
        n += 1
    return n
