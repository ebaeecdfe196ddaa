"""Extractive six-field structured summary and a one-line TL;DR, built from the abstract's own sentences.

English abstracts go through the sentence-role model (`paperlens.enrich.models.roles`); Chinese abstracts through cue
words (本文/提出, 实验结果表明, 然而, ...), because the role model is trained on English only. Every
filled field is one or two of the abstract's sentences, verbatim; a field with no fitting sentence stays
empty and `reasons` says why. Nothing is generated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from paperlens.core.clean import detect_language
from paperlens.core.models import SUMMARY_FIELDS, Summary
from paperlens.enrich.models.roles import split_sentences

MAX_SENTENCES_PER_FIELD = 2
MAX_FIELD_CHARS = 420
TLDR_MAX_CHARS = 200
MIN_WORDS = 6


@dataclass
class Digest:
    language: str
    summary: Summary
    reasons: dict[str, str]
    tldr: str | None
    tldr_reason: str
    roles: list[tuple[str, str]] = field(default_factory=list)
    method: str = ""  # "role-model" or "zh-cues"

    def to_output(self) -> dict:
        return {
            "summary": {self.language: self.summary.model_dump()},
            "reasons": self.reasons,
            "roles": [[sentence, role] for sentence, role in self.roles],
            "method": self.method,
        }


# ---------------------------------------------------------------- cues

_PROPOSE_EN = re.compile(
    r"\b(we|this paper|this work|this article|this study|our work)\s+(also\s+)?"
    r"(propose[sd]?|introduce[sd]?|present[sd]?|develop(s|ed)?|contribute[sd]?|design(s|ed)?|devise[sd]?|"
    r"put forward|offer(s|ed)?)\b", re.I)
_OBSERVATION_EN = re.compile(
    r"\b(we (find|found|observe[d]?|discover(ed)?|identify|identified|show that|reveal(ed)?|notice[d]?)|"
    r"reveals?|analys[ie]s\b|analy[sz]e[sd]?|empirical(ly)? (study|evidence|finding)|findings?|"
    r"(show|shows|showed|demonstrate[sd]?|suggest[s]?|indicate[s]?) that)", re.I)
_EXPERIMENT_EN = re.compile(
    r"(\d|%|\bexperiment|\bbenchmark|\bdataset|\bdata set|\bcorpus|\bcorpora|\bevaluat|\boutperform|"
    r"\bstate[- ]of[- ]the[- ]art|\bsota\b|\baccuracy|\bbaseline|\bempirical|\bresults?\b|\bimprove)", re.I)
_GAP_EN = re.compile(
    r"\b(however|but|yet|although|despite|remains?|challeng\w*|limit\w*|fail\w*|lack\w*|struggl\w*|"
    r"suffer\w*|problem\w*|issue\w*|bottleneck\w*|difficult\w*|unclear|under-explored|unexplored|"
    r"overlook\w*|costly|expensive|insufficient|inefficien\w*|unknown)\b", re.I)
_CONCLUSION_EN = re.compile(
    r"\b(contribution|we believe|our (findings|results|work|study) (suggest|show|demonstrate|indicate|offer)|"
    r"pave[sd]? the way|shed(s|ding)? light|opens? (up )?(new )?(avenue|direction)|"
    r"(code|data|models?) (is|are) (publicly )?(available|released)|we release|insight)", re.I)

_PROPOSE_ZH = re.compile(r"(本文|我们|该文|文章|本研究|本工作).{0,12}?(提出|设计|构建|引入|开发|建立|给出)|提出了")
_EXPERIMENT_ZH = re.compile(r"实验结果|实验表明|结果表明|实验|数据集|基准|评测|准确率|\d+(\.\d+)?%|百分点|优于|提升")
_GAP_ZH = re.compile(r"^(然而|但是|但|不过|可是)|然而|问题|挑战|不足|局限|困难|较差|无法|难以")
_GAP_START_ZH = re.compile(r"^(然而|但是|但|不过|可是|尽管|虽然)")
_RESULT_ZH = re.compile(r"实验结果|实验表明|结果表明|实验证明|实验显示|在.{0,20}(数据集|基准)上")
_OBSERVATION_ZH = re.compile(r"发现|分析|观察|揭示|表明")
_CONCLUSION_ZH = re.compile(r"贡献|首次|为.{0,12}提供|有望|启发|开源")


# ---------------------------------------------------------------- helpers


_DISCOURSE_EN = re.compile(
    r"^(?:finally|first(?:ly)?|second(?:ly)?|third(?:ly)?|lastly|moreover|furthermore|additionally|in addition|"
    r"also|then|next|overall|in summary|in conclusion|to summari[sz]e|notably|specifically|importantly|"
    r"in particular|consequently|therefore|thus|hence|however|meanwhile|in this (?:paper|work|study|article)|"
    r"here|to this end|as a result|in contrast|instead|crucially|concretely|in practice|in turn|besides)"
    r"\s*,\s*", re.I)
_DISCOURSE_ZH = re.compile(r"^(?:最后|此外|另外|同时|首先|其次|然后|因此|总之|综上所述|具体而言|具体来说|在本文中|本文中)[，,]\s*")


def drop_discourse(sentence: str) -> str:
    """The sentence without a leading discourse word ("Finally, ...", "In this paper, ...", "此外，...")."""
    stripped = _DISCOURSE_ZH.sub("", _DISCOURSE_EN.sub("", sentence.strip()))
    if stripped == sentence.strip() or len(stripped) < 12:
        return sentence.strip()
    return stripped[0].upper() + stripped[1:] if stripped[:1].islower() else stripped


def _join(sentences: list[str], language: str) -> str:
    chosen: list[str] = []
    total = 0
    for sentence in (drop_discourse(s) for s in sentences[:MAX_SENTENCES_PER_FIELD]):
        if chosen and total + len(sentence) > MAX_FIELD_CHARS:
            break
        chosen.append(sentence)
        total += len(sentence)
    return ("" if language == "zh" else " ").join(chosen)


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text)) if not re.search(r"[\u4e00-\u9fff]", text) else len(text) // 2


_LEAD_IN = re.compile(
    r"^((to (address|tackle|solve|overcome|bridge|fill|mitigate|remedy|alleviate)|to this end|in this (paper|work|"
    r"article|study)|here|in response|motivated by|driven by|inspired by|based on)[^,]{0,80},\s*)+", re.I)


def trim_tldr(sentence: str, limit: int = TLDR_MAX_CHARS) -> str:
    """The sentence without a leading 'To address this, ...' clause, cut at a clause boundary to fit."""
    text = drop_discourse(sentence)
    stripped = _LEAD_IN.sub("", text)
    if stripped != text and len(stripped) > 30:
        text = stripped[0].upper() + stripped[1:]
    if len(text) <= limit:
        return text
    window = text[:limit]
    cut = max(window.rfind(mark) for mark in (", ", "; ", ": ", " — ", " - ", "，", "；", "：", ","))
    if cut >= limit * 0.4:
        return window[:cut].rstrip(" ,;:—-，；：") + "."
    cut = window.rfind(" ")
    return (window[:cut] if cut > limit * 0.4 else window).rstrip(" ,;:") + "…"


# ---------------------------------------------------------------- building


def _assign(sentences: list[str], roles: list[str], language: str,
            reserved: int | None = None) -> tuple[dict[str, list[int]], dict[str, str]]:
    """Pick sentence indices for each field; the reasons say which rule picked them. `reserved`: the TL;DR's
    sentence, which no field repeats. A role of "uncertain" (confidence below roles.CONFIDENT) fits no field."""
    zh = language == "zh"
    propose_re, exp_re, gap_re, obs_re, concl_re = (
        (_PROPOSE_ZH, _EXPERIMENT_ZH, _GAP_ZH, _OBSERVATION_ZH, _CONCLUSION_ZH) if zh
        else (_PROPOSE_EN, _EXPERIMENT_EN, _GAP_EN, _OBSERVATION_EN, _CONCLUSION_EN))
    n = len(sentences)
    used: set[int] = {reserved} if reserved is not None else set()
    picks: dict[str, list[int]] = {f: [] for f in SUMMARY_FIELDS}
    reasons: dict[str, str] = {}
    source = "Chinese cue words (the role model is English-only)" if zh else "sentence-role model"

    def take(name: str, candidates: list[int], reason: str) -> None:
        chosen = [i for i in candidates if i not in used][:MAX_SENTENCES_PER_FIELD]
        if chosen:
            picks[name] = chosen
            used.update(chosen)
            reasons[name] = f"{reason}: sentence{'s' if len(chosen) > 1 else ''} " \
                            f"{', '.join(str(i + 1) for i in chosen)} ({source})"

    propose = [i for i in range(n) if propose_re.search(sentences[i])]
    propose_idx = propose[0] if propose else None

    # Experiments: result sentences naming data, benchmarks or numbers.
    take("experiments", [i for i in range(n) if roles[i] == "result" and exp_re.search(sentences[i])
                         and i != propose_idx], "result sentences naming data, benchmarks or numbers")
    # Observation: findings/analysis phrasing outside the proposal sentence.
    take("observation", [i for i in range(n) if obs_re.search(sentences[i]) and i != propose_idx
                         and roles[i] in ("background", "objective", "result")],
         "sentences reporting a finding or analysis")
    # Problem: the gap the paper addresses, or an objective that is not the proposal itself.
    take("problem", [i for i in range(n) if i != propose_idx and (
        (roles[i] == "background" and gap_re.search(sentences[i]) and i > 0)
        or (roles[i] == "objective" and not propose_re.search(sentences[i])))],
        "objective sentences and background sentences naming a gap")
    # Motivation: the opening background.
    take("motivation", [i for i in range(n) if roles[i] == "background" and i != propose_idx],
         "background sentences")
    # Method: method sentences; the proposal sentence itself when no other describes the method.
    methods = [i for i in range(n) if roles[i] == "method" and i != propose_idx]
    if [i for i in methods if i not in used]:
        take("method", methods, "method sentences")
        if propose_idx is not None:
            take("contribution", [propose_idx], "the sentence stating what the paper proposes")
    elif propose_idx is not None:
        take("method", [propose_idx], "the sentence stating what the paper proposes (no other method sentence)")
    # Contribution: a stated proposal, else a concluding claim, else the last unused result.
    if not picks["contribution"]:
        concluding = [i for i in range(n) if concl_re.search(sentences[i])]
        results = [i for i in range(n - 1, -1, -1) if roles[i] == "result"]
        take("contribution", concluding or results, "concluding claim or last result sentence")

    empty_reasons = {
        "motivation": "no background sentence left",
        "problem": "no objective sentence and no background sentence naming a gap",
        "observation": "no sentence reports a finding or analysis",
        "method": "no method sentence and no 'we propose' sentence",
        "experiments": "no result sentence mentions data, benchmarks or numbers",
        "contribution": "no proposal, concluding claim or unused result sentence",
    }
    notes = []
    if reserved is not None:
        notes.append(f"sentence {reserved + 1} is the TL;DR")
    if "uncertain" in roles:
        notes.append(f"{roles.count('uncertain')} sentence(s) below the role model's confidence threshold")
    note = f"; {', '.join(notes)}" if notes else ""
    for name in SUMMARY_FIELDS:
        if not picks[name]:
            reasons[name] = f"empty: {empty_reasons[name]} ({source}{note})"
    return picks, reasons


def _zh_roles(sentences: list[str]) -> list[str]:
    roles = []
    for i, sentence in enumerate(sentences):
        if _PROPOSE_ZH.search(sentence):
            roles.append("method")
        elif i == 0 or _GAP_START_ZH.search(sentence):
            roles.append("background")
        elif _RESULT_ZH.search(sentence):
            roles.append("result")
        elif _GAP_ZH.search(sentence):
            roles.append("background")
        elif roles and roles[-1] in ("method", "result"):
            roles.append(roles[-1])
        else:
            roles.append("background")
    return roles


def _tldr(sentences: list[str], roles: list[str], language: str) -> tuple[str | None, str, int | None]:
    propose_re = _PROPOSE_ZH if language == "zh" else _PROPOSE_EN
    order = [
        ([i for i, s in enumerate(sentences) if propose_re.search(s)], "the 'we propose' sentence"),
        ([i for i, r in enumerate(roles) if r == "objective"], "the first objective sentence"),
        ([i for i, r in enumerate(roles) if r == "method"], "the first method sentence"),
        ([i for i, r in enumerate(roles) if r == "result"], "the first result sentence"),
    ]
    for candidates, why in order:
        if candidates:
            return (trim_tldr(sentences[candidates[0]]), f"{why} (sentence {candidates[0] + 1}), trimmed",
                    candidates[0])
    return None, "no proposal, objective, method or result sentence", None


def build_digest(abstract: str, language: str | None = None, roles: list[str] | None = None,
                 confidences: list[float] | None = None) -> Digest:
    """Structured summary + TL;DR from one abstract's own sentences; `roles` (and their `confidences`) may be
    given when they were already labelled (one per sentence of `split_sentences(abstract)`)."""
    language = language or detect_language(abstract)
    sentences = split_sentences(abstract or "")
    if language not in ("en", "zh"):
        reason = f"no sentence-role model for language {language!r}"
        return Digest(language, Summary(), {f: f"empty: {reason}" for f in SUMMARY_FIELDS}, None, reason)
    if not sentences:
        return Digest(language, Summary(), {f: "empty: no abstract" for f in SUMMARY_FIELDS}, None, "no abstract")
    if language == "zh":
        roles, method = _zh_roles(sentences), "zh-cues"
    elif roles is not None:
        if len(roles) != len(sentences):
            raise ValueError(f"{len(roles)} roles for {len(sentences)} sentences")
        method = "role-model"
    else:
        from paperlens.enrich.models.roles import label_abstracts_scored

        scored = label_abstracts_scored([sentences])[0]
        roles, confidences, method = [r for r, _ in scored], [c for _, c in scored], "role-model"
    pairs = list(zip(sentences, roles, strict=True))
    if confidences is not None:
        from paperlens.enrich.models.roles import CONFIDENT

        if len(confidences) != len(roles):
            raise ValueError(f"{len(confidences)} confidences for {len(roles)} roles")
        roles = [role if c >= CONFIDENT else "uncertain" for role, c in zip(roles, confidences, strict=True)]
    total_words = sum(_words(s) for s in sentences)
    if len(sentences) < 2:
        reason = f"only one sentence ({total_words} words): too short to separate roles"
        tldr = trim_tldr(sentences[0]) if total_words >= MIN_WORDS * 2 else None
        return Digest(language, Summary(), {f: f"empty: {reason}" for f in SUMMARY_FIELDS}, tldr,
                      "the only sentence, trimmed" if tldr else reason, pairs, method)
    tldr, tldr_reason, tldr_index = _tldr(sentences, roles, language)
    picks, reasons = _assign(sentences, roles, language, reserved=tldr_index)
    summary = Summary(**{name: _join([sentences[i] for i in idx], language) for name, idx in picks.items()})
    return Digest(language, summary, reasons, tldr, tldr_reason, pairs, method)
