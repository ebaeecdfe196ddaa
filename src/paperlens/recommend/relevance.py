"""LLM relevance judgements for a reader profile's own prompt (issue 17; zotero-arxiv-daily #53).

With `--llm`, a profile that has a relevance prompt (`paperlens profile set NAME --prompt TEXT`) gets its
top candidates (3 x the limit by default) judged by the configured OpenAI-compatible endpoint: one request
per paper, a JSON answer `{"relevance": 0-10, "reason": "one line"}`, validated. The judged score moves
the model score by `weight` per point away from the neutral 5 (default 1: a 10/10 adds 5, a 0/10 takes
5 away). The model score is a sum of z-scores over the candidates (rank.py), so one point of relevance is
worth about half to one standard deviation of the model: a clear judgement re-orders the judged window, a
followed author's +10 still pins. A paper whose judgement failed (invalid answer, HTTP error)
keeps its model score and gets no LLM reason: no placeholder score or text is ever made up.

Valid answers go to the LLM cache (store.llm_record), keyed by the relevance prompt version + the reader's
prompt + the paper's content hash + the model, so a rerun the same day sends nothing again; every request,
failed ones included, is in the usage ledger (kind "relevance"). The template is
paperlens/prompts/llm-relevance.v1.md (PAPERLENS_LLM_PROMPT_DIR may replace it); the reader's text is data
inside it, capped at MAX_PROMPT_CHARS, and the system prompt says it is not instructions."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from paperlens.core.clock import utcnow
from paperlens.core.models import Paper
from paperlens.enrich.llm.schema import is_placeholder, load_json_object
from paperlens.recommend.rank import Ranked

PROMPT_NAME = "llm-relevance"
KIND = "relevance"  # the usage ledger's kind for these requests
MAX_PROMPT_CHARS = 2000  # the reader's text (profile settings refuse longer; older ones are cut here)
MAX_TITLE_CHARS = 500
MAX_ABSTRACT_CHARS = 4000
MAX_REASON_CHARS = 300
NEUTRAL = 5  # a judgement of 5 leaves the model score as it is
DEFAULT_WEIGHT = 1.0  # score points per relevance point away from NEUTRAL
DEFAULT_FACTOR = 3  # judge the top FACTOR x limit candidates

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"relevance": {"type": "integer"}, "reason": {"type": "string"}},
    "required": ["relevance", "reason"],
    "additionalProperties": False,
}
PLAIN_HINT = ("Reply with the JSON object only: no Markdown fences, no text before or after it. Keys: relevance "
              "(an integer from 0 to 10), reason (one sentence).")
_TAG = re.compile(r"</?\s*reader_interests\s*>", re.IGNORECASE)


class Judgement(BaseModel):
    """A valid answer: an integer 0-10 and a real one-line reason."""

    model_config = ConfigDict(extra="ignore")

    relevance: int
    reason: str

    @field_validator("relevance", mode="before")
    @classmethod
    def _integer(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise ValueError(f"must be an integer from 0 to 10, not {value!r}")
        if not 0 <= value <= 10:
            raise ValueError(f"must be from 0 to 10, not {value!r}")
        return int(value)

    @field_validator("reason", mode="before")
    @classmethod
    def _one_line(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string")
        text = " ".join(value.split())
        if is_placeholder(text):
            raise ValueError(f"placeholder text {text!r} is not a reason")
        if len(text) > MAX_REASON_CHARS:
            raise ValueError(f"not one line ({len(text)} characters; at most {MAX_REASON_CHARS})")
        return text


def parse_judgement(text: str | None) -> Judgement:
    """The validated judgement in a model's reply, or ValueError saying what is wrong with it."""
    data = load_json_object(text)
    try:
        return Judgement.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg'].removeprefix('Value error, ')}"
                    for e in exc.errors()[:4]]
        raise ValueError("; ".join(problems)) from None


def reader_text(prompt: str) -> str:
    """The reader's prompt as it goes into the template: capped, with no delimiter tag of its own."""
    text = _TAG.sub(" ", prompt or "").strip()
    return text[:MAX_PROMPT_CHARS].strip()


@dataclass
class JudgeReport:
    """What the relevance step did for one ranking."""

    model: str | None = None
    candidates: int = 0  # papers judged (or tried)
    judged: int = 0  # valid judgements used, cached ones included
    cached: int = 0
    requests: int = 0  # requests sent in this run (retries included)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (paper id, why)
    skipped: str | None = None  # why nothing was judged

    def problem(self) -> str | None:
        """One line for the digest's problems when judgements failed, else None."""
        if not self.failed:
            return None
        pid, error = self.failed[0]
        return (f"llm-relevance: {len(self.failed)} of {self.candidates} judgement(s) failed, ranked by the "
                f"model alone ({pid}: {error})")

    def note(self) -> str | None:
        if self.skipped:
            return self.skipped
        if not self.candidates:
            return None
        return (f"Re-ranked by LLM relevance to the profile's prompt ({self.model}): {self.judged} of "
                f"{self.candidates} candidates judged ({self.cached} from the cache), {len(self.failed)} failed.")

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "candidates": self.candidates, "judged": self.judged, "cached": self.cached,
                "requests": self.requests, "failed": [{"id": pid, "error": err} for pid, err in self.failed],
                "skipped": self.skipped}


class RelevanceJudge:
    """Judges papers against a reader's prompt through the configured LLM client. Made from the
    environment (PAPERLENS_LLM_*, docs/llm.md); when that cannot work (no API key for api.openai.com, an
    unknown client, bad settings) `unavailable` says why and nothing is sent."""

    def __init__(self, settings=None, *, weight: float = DEFAULT_WEIGHT, factor: int = DEFAULT_FACTOR,
                 top: int | None = None):
        from paperlens.enrich.llm.client import RateLimiter, client_class
        from paperlens.enrich.llm.prompts import load_prompt
        from paperlens.enrich.llm.settings import LLMSettings

        self.weight, self.factor, self.top = weight, factor, top
        self.unavailable: str | None = None
        self.settings = None
        try:
            self.settings = settings if settings is not None else LLMSettings()
            self.settings.key_value()
            self.client_class = client_class(self.settings.client)
            if not hasattr(self.client_class, "ask_json"):
                raise ValueError(f"the LLM client {self.settings.client!r} cannot ask for a relevance judgement "
                                 "(it has no ask_json)")
            self.prompt = load_prompt(PROMPT_NAME, self.settings.prompt_dir)
        except (ValueError, FileNotFoundError) as exc:  # pydantic's ValidationError is a ValueError
            self.unavailable = f"LLM relevance skipped: {' '.join(str(exc).split())[:300]}"
            return
        self.model = self.settings.model
        self.limiter = RateLimiter(self.settings.requests_per_minute)

    def pool(self, limit: int) -> int:
        """How many of the top candidates are judged for a ranking of `limit`."""
        return max(1, self.top if self.top is not None else self.factor * limit)

    def cache_key(self, reader: str, paper: Paper) -> str:
        prompt_hash = hashlib.sha256(reader.encode("utf-8")).hexdigest()[:16]
        raw = f"{KIND}|{self.prompt.version}|{prompt_hash}|{paper.content_hash()}|{self.model}"
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def render(self, reader: str, paper: Paper) -> tuple[str, str]:
        return self.prompt.render(
            prompt_limit=str(MAX_PROMPT_CHARS), reader_prompt=reader,
            title=" ".join(paper.title.split())[:MAX_TITLE_CHARS] or "(untitled)",
            abstract=paper.abstract.strip()[:MAX_ABSTRACT_CHARS] or "(no abstract)")

    def judge(self, store, prompt: str, papers: Sequence[Paper],
              report: JudgeReport | None = None) -> dict[str, Judgement]:
        """Valid judgements by paper id, from the cache or asked now; failures go to `report.failed`."""
        report = report if report is not None else JudgeReport()
        if self.unavailable:
            report.skipped = self.unavailable
            return {}
        reader = reader_text(prompt)
        report.model, report.candidates = self.model, len(papers)
        keys = {paper.id: self.cache_key(reader, paper) for paper in papers}
        cached = store.llm_cache_get(list(keys.values()))
        found: dict[str, Judgement] = {}
        todo = []
        for paper in papers:
            entry = cached.get(keys[paper.id])
            try:
                found[paper.id] = Judgement.model_validate(entry["response"])
            except (TypeError, ValidationError):  # not cached (or an entry that no longer validates): ask
                todo.append(paper)
        report.cached = len(found)
        if todo:
            asyncio.run(self._ask(store, reader, todo, keys, found, report))
        report.judged = len(found)
        return found

    async def _ask(self, store, reader: str, papers: list[Paper], keys: dict[str, str],
                   found: dict[str, Judgement], report: JudgeReport) -> None:
        s = self.settings
        async with self.client_class(s, [], self.limiter) as client:

            async def one(paper: Paper) -> None:
                system, user = self.render(reader, paper)
                outcome = await client.ask_json(system, user, parse_judgement, kind=KIND,
                                                schema_name="paper_relevance", schema=SCHEMA, plain_hint=PLAIN_HINT)
                report.requests += outcome.usage.requests
                usage = [{"paper_id": paper.id, "model": s.model, "lang": None, "kind": a.kind, "status": a.status,
                          "input_tokens": a.input_tokens, "output_tokens": a.output_tokens,
                          "cost": s.cost(a.input_tokens, a.output_tokens)} for a in outcome.attempts]
                entries = []
                if outcome.value is not None:
                    found[paper.id] = outcome.value
                    entries.append({
                        "key": keys[paper.id], "paper_id": paper.id, "content_hash": paper.content_hash(),
                        "prompt_version": f"{PROMPT_NAME}-{self.prompt.version}", "model": s.model, "lang": "",
                        "response": outcome.value.model_dump(), "requests": outcome.usage.requests,
                        "input_tokens": outcome.usage.input_tokens, "output_tokens": outcome.usage.output_tokens,
                        "cost": s.cost(outcome.usage.input_tokens, outcome.usage.output_tokens),
                        "created_at": utcnow()})
                else:
                    report.failed.append((paper.id, outcome.error or "no answer"))
                store.llm_record(entries, usage)  # the moment it arrives: a killed run keeps what it got

            await asyncio.gather(*(one(p) for p in papers))
        order = {p.id: i for i, p in enumerate(papers)}
        report.failed.sort(key=lambda item: order[item[0]])

    def rerank(self, store, prompt: str, ranked: Sequence[Ranked], limit: int) -> tuple[list[Ranked], JudgeReport]:
        """Judge the top `pool(limit)` of `ranked` (best first) and order all by model score + weight x
        (relevance - 5), the others by their model score; the best `limit`, each judged one with its LLM
        reason first."""
        report = JudgeReport()
        window = list(ranked[:self.pool(limit)])
        papers = store.get_many([r.id for r in window])
        judgements = self.judge(store, prompt, papers, report)
        out = []
        for r in window:
            j = judgements.get(r.id)
            if j is None:
                out.append(r)
                continue
            reason = f"LLM relevance {j.relevance}/10: {j.reason} ({self.model})"
            out.append(replace(r, score=r.score + self.weight * (j.relevance - NEUTRAL), reasons=[reason, *r.reasons]))
        out += ranked[len(window):]
        out.sort(key=lambda r: (-r.score, r.id))
        return out[:limit], report

