"""English word forms shared by the store (keyword norms), the keyword model and the web's tags: one singular
rule and one keyword norm, so that 'Vision-Language Models', 'vision language models' and 'Vision Language
Model' are one tag everywhere; and the splitting of keyword fields in which a source glued several."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable


def nfkc(text: str) -> str:
    """`text` in NFKC (ASCII as it is, at no cost): ligatures ('ﬁne' -> 'fine'), full-width letters and digits
    ('ＬＬＭ', '２０２４') and decomposed accents become the characters they stand for."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def strip_accents(text: str) -> str:
    """`text` without the accents of its letters ('Müller' -> 'Muller', 'Jean César' -> 'Jean Cesar'):
    NFKD, less the combining marks."""
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def singular(word: str) -> str:
    """Crude English singular of one lower-case word ('models' -> 'model', 'policies' -> 'policy'); words of
    three letters or fewer, and endings that are not plurals (-ss, -us, -is, -ics), are left alone."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        return word[:-1]
    return word


_JOINERS = re.compile(r"[\s\-‐‑‒–—_/]+")


def keyword_norm(keyword: str) -> str:
    """Case-, hyphen- and plural-insensitive form used to match keywords: 'Vision-Language Models' and
    'vision language model' -> 'vision language model'; 'LLMs' -> 'llm'. NFKC-folded first: the ligature
    in 'ﬁne-tuning' and full-width 'ＬＬＭ' match 'fine tuning' and 'llm'."""
    words = [w for w in _JOINERS.split(nfkc(keyword).lower().strip()) if w]
    if words:
        words[-1] = singular(words[-1])
    return " ".join(words)


# A separator between keywords: ';' (ASCII or full width) anywhere, ',' unless between digits (1,000).
_GLUE = re.compile(r"\s*[;；]\s*|\s*[,，](?!(?<=\d,)\d)\s*")


def split_glued(keywords: Iterable[str]) -> list[str]:
    """Keyword fields in which a source glued several ('Test-Time Training;Textual Optimization', 'LLM, RLHF')
    as one keyword each; a bracket left unbalanced by the split ('SimPO)') is dropped."""
    out = []
    for keyword in keywords:
        for part in _GLUE.split(keyword):
            part = part.strip()
            if part.count("(") < part.count(")"):
                part = part.rstrip(")").strip()
            if part.count("(") > part.count(")"):
                part = part.lstrip("(").strip()
            if part:
                out.append(part)
    return out
