"""A short, readable title for a paper whose sources gave none, from the abstract's own words.

Topic digests and abstract lists (the sample's 002 and 003 pages) carry no titles. Nothing is generated:
the title is the method's name and what it is, as the abstract's proposal sentence says it ("we propose
GuardSpace, a guardrail framework for preserving safety alignment ..." -> "GuardSpace: A guardrail framework
for preserving safety alignment"), else that sentence's object ("we propose a training-free method that
..."), else the opening of the objective or first sentence. Always whole words, at most MAX_WORDS of them,
never ending on a function word."""

from __future__ import annotations

import re

from paperlens.core.clean import latex_to_text
from paperlens.enrich.models.roles import split_sentences

MAX_WORDS = 12
MIN_WORDS = 3
MAX_CHARS = 110

_PROPOSE = re.compile(
    r"\b(?:we|this (?:paper|work|article|study)|our (?:work|paper)|here,? we)\s+(?:also\s+|further\s+|then\s+)?"
    r"(?:propose[sd]?|introduce[sd]?|present[sd]?|develop(?:s|ed)?|design(?:s|ed)?|devise[sd]?|build[s]?|"
    r"put forward|contribute[sd]?|offer[s]?)\s+(?P<rest>.+)", re.I)
_STUDY = re.compile(
    r"^(?:in this (?:paper|work|study|article),?\s*)?(?:we|this (?:paper|work|article|study))\s+"
    r"(?:systematically\s+|empirically\s+|comprehensively\s+)?"
    r"(?:study|studies|investigate[s]?|explore[s]?|examine[s]?|analy[sz]e[s]?|revisit[s]?|address(?:es)?|tackle[s]?|"
    r"focus(?:es)? on|consider[s]?|evaluate[s]?|benchmark[s]?|ask whether|question whether)\s+(?P<rest>.+)", re.I)
# A method name: one token with a capital or digit after its first letter (GuardSpace, PretrainRL, Memory-R1,
# LoRA, GPT-4o), optionally followed by one more capitalised token ("Deep Think").
_NAME = re.compile(r"^(?P<name>(?:[A-Z][\w\-.+]*[A-Z0-9][\w\-.+]*|[A-Z]{2,}[\w\-.+]*|[a-z]+[A-Z][\w\-.+]*)"
                   r"(?:[ -][A-Z][\w\-.+]*)?)")
_ARTICLE = re.compile(r"^(?:a|an|the)\s+", re.I)
_HYPE = re.compile(r"^(?:(?:novel|new|simple(?: yet| but)? effective|simple|effective|efficient|general|unified|"
                   r"principled|lightweight|scalable|powerful|first|generalizable|plug-and-play|innovative)"
                   r"(?:,?\s+and\s+|,\s*|\s+))+", re.I)  # only the leading run of praise words
_CALLED = re.compile(r"^(?P<desc>.{3,}?),?\s+(?:called|named|dubbed|termed|coined)\s+(?P<name>[^\s,.;:()]+)", re.I)
_STOP_AT = re.compile(r"(?:\band (?:then )?(?:propose|introduce|present|show|find|develop)\b|,|;|:|\s\(|\s—|\s–|\s-\s|\.\s|\.$|\bwhich\b|\bwhere\b|\bwhereby\b|\bthereby\b|"
                      r"\bby (?:leveraging|using|introducing|combining)\b|\bthrough\b|\bcomposed of\b|\bconsisting of\b|"
                      r"\bthat (?:is|are|can|achieves?)\b)")
_TRAILING = {"a", "an", "the", "of", "and", "or", "to", "in", "with", "for", "on", "by", "from", "as", "via",
             "that", "which", "its", "their", "our", "is", "are", "be", "can", "into", "at", "than", "while",
             "both", "this", "these", "such", "we", "it", "using", "based", "toward", "towards"}


_MARKDOWN = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__|(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_ACRONYM = re.compile(r"\s\((?:[^()]{1,40})\)")  # "Reinforcement learning (RL) has ..." -> "Reinforcement learning has ..."
_CUT_BEFORE = {"that", "which", "to", "for", "with", "by", "in", "on", "via", "using", "and", "without", "from",
               "through", "across", "under", "while", "when"}
_VAGUE_START = re.compile(r"^(?:this|these|those|that|it|them|such|the (?:question|problem|issue|gap|challenge)s?)\b",
                          re.I)


_LEAD_CLAUSE = re.compile(r"^(?:in|over|since|recently|with|despite|although|while|as|for|during|today|nowadays)\b"
                          r"[^,]{0,60},\s*", re.I)
_OURS = re.compile(r"\b(?:we|our|us)\b", re.I)


def _words(text: str) -> list[str]:
    return text.split()


def plain(text: str) -> str:
    """The text without LaTeX, markdown emphasis (**DEFEAT**, *single*) and parenthesised acronyms."""
    if "\\" in text or "$" in text:
        text = latex_to_text(text)
    text = _MARKDOWN.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    text = text.replace("**", "")
    return _ACRONYM.sub("", text)


def _trim(phrase: str, max_words: int = MAX_WORDS) -> str:
    """The phrase up to its first clause boundary, at most `max_words` whole words, with no dangling
    function word at the end."""
    phrase = phrase.strip().strip("\"'“”‘’")
    stop = _STOP_AT.search(phrase, 12) if len(phrase) > 12 else None
    if stop:
        phrase = phrase[:stop.start()]
    words = _words(phrase)
    if len(words) > max_words:
        # too long: end before the last preposition or relative word within the limit, so a phrase ends whole
        cuts = [i for i in range(MIN_WORDS, max_words + 1) if i < len(words) and words[i].lower() in _CUT_BEFORE]
        words = words[:cuts[-1]] if cuts else words[:max_words]
    while len(" ".join(words)) > MAX_CHARS and len(words) > MIN_WORDS:
        words.pop()
    while words and words[-1].lower().strip(",;:") in _TRAILING:
        words.pop()
    text = " ".join(words).rstrip(" ,;:.-—–")
    # an opening bracket without its closing one reads as a cut
    if text.count("(") > text.count(")"):
        text = text[:text.rfind("(")].rstrip(" ,;:")
    return text


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text and not text[:2].isupper() else text


_CONJUNCTION = re.compile(r"^(?:and|or|yet|but)\s+", re.I)  # left by "scalable and cost-efficient" losing "scalable"
_KIND_OF = re.compile(r"^(?:kind|type|sort|class) of\s+", re.I)
_LEADING_VERB = re.compile(r"^and\s+\w+\s+", re.I)  # "we propose and evaluate X"
_RELATIVE_START = re.compile(r"^(?:which|that|who|where|to|and|or|but|it|its)\b", re.I)
_LONE_NAME = re.compile(r"^(?P<name>[A-Z][\w\-.+]{2,}),\s+(?=(?:a|an|the)\s)")


def _balanced_quotes(text: str) -> str:
    for pair in ('""', "“”"):
        if text.count(pair[0]) + (text.count(pair[1]) if pair[1] != pair[0] else 0) % 2 or \
                (pair[0] != pair[1] and text.count(pair[0]) != text.count(pair[1])):
            text = text.replace(pair[0], "").replace(pair[1], "")
    return text.strip()


def _from_proposal(rest: str) -> str | None:
    rest = _LEADING_VERB.sub("", rest.strip())
    rest = _CONJUNCTION.sub("", _KIND_OF.sub("", _HYPE.sub("", _ARTICLE.sub("", rest), count=2)))
    called = _CALLED.match(rest)
    if called:  # "a framework for X, called NAME"
        name = called.group("name").strip("\"'“”")
        desc = _trim(_HYPE.sub("", _ARTICLE.sub("", called.group("desc")), count=2), MAX_WORDS - 1)
        return f"{name}: {_capitalise(desc)}" if desc and len(_words(desc)) >= 2 else None
    named = _NAME.match(rest) or _LONE_NAME.match(rest)
    if named:
        name = named.group("name").rstrip(".,;:")
        after = rest[named.end():].lstrip()
        after = re.sub(r"^\([^)]{0,80}\)\s*", "", after)  # "NAME (Long Name), a ..."
        if after.startswith(","):
            after = after[1:].strip()
            after = _CONJUNCTION.sub("", _KIND_OF.sub("", _HYPE.sub("", _ARTICLE.sub("", after), count=2)))
            desc = _trim(after, MAX_WORDS - len(_words(name)))
            if desc and len(_words(desc)) >= 2 and not _RELATIVE_START.match(desc):
                return f"{name}: {_capitalise(desc)}"
        return None
    phrase = _trim(rest)
    if _VAGUE_START.match(phrase) or _RELATIVE_START.match(phrase) or _OURS.search(phrase):
        return None
    # "a framework, NAME, that ..." -> "NAME: Framework"
    inner = re.match(r"^(?P<desc>[^,]{3,80}),\s*(?P<name>[A-Z][\w\-.+]*[A-Z0-9][\w\-.+]*)\s*,", rest)
    if inner:
        return f"{inner.group('name')}: {_capitalise(_trim(inner.group('desc'), MAX_WORDS - 1))}"
    return _capitalise(phrase) if len(_words(phrase)) >= MIN_WORDS else None


def derive_title(abstract: str, language: str = "en") -> tuple[str, str] | None:
    """(title, how it was found) from an English abstract, or None when the abstract gives nothing usable."""
    if not abstract or not abstract.strip():
        return None
    if language == "zh":
        return _derive_zh(abstract)
    if language != "en":
        return None
    found = _derive_en(abstract)
    return (_balanced_quotes(found[0]), found[1]) if found else None


_PROPOSE_ZH = re.compile(r"(?:提出|设计|构建|引入|开发)了?(?:一种|一个|一套|新的|全新的)*(?P<rest>[^，,。；;：:]{4,40})")


def _derive_zh(abstract: str) -> tuple[str, str] | None:
    """Chinese abstracts: what the proposal sentence says is proposed ("提出了一种X框架" -> "X框架")."""
    match = _PROPOSE_ZH.search(plain(abstract))
    if match:
        return match.group("rest").strip(), "the proposal sentence"
    return None


def _derive_en(abstract: str) -> tuple[str, str] | None:
    sentences = [plain(s) for s in split_sentences(abstract)]
    for sentence in sentences:
        match = _PROPOSE.search(sentence)
        if match:
            title = _from_proposal(match.group("rest"))
            if title:
                return title, "the proposal sentence"
    for sentence in sentences:
        match = _STUDY.match(sentence.strip())
        if match:
            phrase = _trim(match.group("rest"))
            if len(_words(phrase)) >= MIN_WORDS and not _VAGUE_START.match(phrase) and not _OURS.search(phrase):
                return _capitalise(phrase), "the study's stated aim"
    for sentence in sentences[:2]:
        sentence = _LEAD_CLAUSE.sub("", sentence)
        phrase = _trim(sentence)
        if len(_words(phrase)) >= MIN_WORDS + 1 and not _OURS.search(phrase):
            return _capitalise(phrase), "the first sentence's opening words"
    return None
