"""The `llm-summary` step: a bilingual structured digest, TL;DR, keywords and topic from an LLM.

One request per paper and language. Every valid answer is written to the `llm_cache` table the moment it
arrives (keyed by content hash + prompt version + model + language), so a run killed at any point resumes
without sending a finished paper again. A paper whose language fails is failed, with the reason; no partial
or placeholder digest is stored."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any
from urllib.parse import urlsplit

from paperlens.core.clock import utcnow
from paperlens.core.models import SUMMARY_FIELDS, Paper, Summary, Topic
from paperlens.enrich.base import Step, StepResult
from paperlens.enrich.llm.client import Attempt, DigestClient, DigestOutcome, RateLimiter, Usage, client_class
from paperlens.enrich.llm.prompts import load_prompt
from paperlens.enrich.llm.schema import NO_TOPIC, Digest, parse_digest, taxonomy_area, taxonomy_labels
from paperlens.enrich.llm.settings import LANGUAGE_NAMES, LLMSettings
from paperlens.enrich.models.taxonomy import TaxonomyError

PROMPT_NAME = "llm-summary"


def parse_languages(value: str | list[str] | None) -> list[str] | None:
    if not value:
        return None
    langs = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    langs = list(dict.fromkeys(v for v in langs if v))
    unknown = [v for v in langs if v not in LANGUAGE_NAMES]
    if unknown:
        raise ValueError(f"unsupported language(s) {', '.join(unknown)}; supported: {', '.join(LANGUAGE_NAMES)}")
    return langs


class LLMSummaryStep(Step):
    name = "llm-summary"
    version = "1"
    priority = 50  # LLM answers beat local models' when views fill a paper
    default = False  # sends data to an endpoint and may cost money: opt-in
    order = 500

    def __init__(self, settings: LLMSettings | None = None, languages: list[str] | None = None,
                 topic_area: str | None = None):
        self.settings = settings or LLMSettings()
        self.settings.key_value()  # a missing key is a configuration error, said before any paper fails
        self.languages = languages or list(self.settings.languages)
        # the labels: PAPERLENS_LLM_TOPICS, else the active taxonomy's (an unknown taxonomy is a configuration
        # error, said now); a Ray worker is sent the driver's labels and area (remote_options)
        try:
            self.labels = taxonomy_labels(self.settings)
            self.topic_area = topic_area or taxonomy_area(self.settings)
        except TaxonomyError as exc:
            raise ValueError(str(exc)) from None
        self.prompt = load_prompt(PROMPT_NAME, self.settings.prompt_dir)
        labels_hash = hashlib.sha256("\n".join(self.labels).encode("utf-8")).hexdigest()[:6]
        # What the answers depend on besides the paper: the prompt text and the labels offered.
        self.prompt_version = f"{self.prompt.version}-t{labels_hash}"
        self.version = f"{type(self).version}+{self.prompt_version}+{','.join(self.languages)}"
        self.model = self.settings.model
        self.client_class = client_class(self.settings.client)  # an unknown client is a configuration error
        self.limiter = RateLimiter(self.settings.requests_per_minute)
        self.store = None
        self.last_client: DigestClient | None = None
        self._hints: dict[str, dict[str, dict[str, Any]]] = {}
        self._remote_state: dict[str, dict[str, list]] = {}

    @classmethod
    def create(cls, lang: str | list[str] | None = None, settings: LLMSettings | dict | None = None,
               topic_area: str | None = None, **_options) -> LLMSummaryStep:
        if isinstance(settings, dict):
            settings = LLMSettings.model_validate(settings)
        return cls(settings, parse_languages(lang), topic_area)

    def bind_store(self, store) -> None:
        self.store = store

    # -- cache ---------------------------------------------------------------------------------
    def cache_key(self, paper: Paper, lang: str) -> str:
        raw = f"{paper.content_hash()}|{self.prompt_version}|{self.settings.model}|{lang}"
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def _cached(self, papers: list[Paper]) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        keys = {self.cache_key(p, lang): (p.id, lang) for p in papers for lang in self.languages}
        if self.store is not None:
            for key, entry in self.store.llm_cache_get(list(keys)).items():
                found[keys[key]] = entry
        for paper in papers:
            for lang, entry in self._hints.get(paper.id, {}).items():
                if entry.get("key") == self.cache_key(paper, lang):
                    found[(paper.id, lang)] = entry
        return found

    def _record(self, paper: Paper, outcome: DigestOutcome) -> dict[str, Any] | None:
        """Write the ledger (and the cache entry for a valid answer) now, or keep it for the Ray driver."""
        s = self.settings
        usage = [{"paper_id": paper.id, "model": s.model, "lang": outcome.lang, "kind": a.kind, "status": a.status,
                  "input_tokens": a.input_tokens, "output_tokens": a.output_tokens,
                  "cost": s.cost(a.input_tokens, a.output_tokens)} for a in outcome.attempts]
        entry = None
        if outcome.digest is not None:
            entry = {"key": self.cache_key(paper, outcome.lang), "paper_id": paper.id,
                     "content_hash": paper.content_hash(), "prompt_version": self.prompt_version,
                     "model": s.model, "lang": outcome.lang, "response": outcome.digest.model_dump(),
                     "requests": outcome.usage.requests, "input_tokens": outcome.usage.input_tokens,
                     "output_tokens": outcome.usage.output_tokens,
                     "cost": s.cost(outcome.usage.input_tokens, outcome.usage.output_tokens), "created_at": utcnow()}
        if self.store is not None:
            self.store.llm_record([entry] if entry else [], usage)
        else:
            state = self._remote_state.setdefault(paper.id, {"cache": [], "usage": []})
            state["usage"].extend(usage)
            if entry:
                state["cache"].append(entry)
        return entry

    def store_answer(self, paper: Paper, lang: str, text: str, input_tokens: int = 0,
                     output_tokens: int = 0) -> Digest:
        """Validate an answer produced elsewhere (e.g. a batch vLLM job) and cache it like one of ours;
        the next `enrich` run then assembles the paper without a request. Raises ValueError if invalid."""
        digest = parse_digest(text, self.labels, lang)
        outcome = DigestOutcome(lang, digest, usage=Usage(1, input_tokens, output_tokens),
                                attempts=[Attempt("summary", "ok", input_tokens, output_tokens)])
        self._record(paper, outcome)
        return digest

    # -- running -------------------------------------------------------------------------------
    def run(self, papers: list[Paper]) -> list[StepResult]:
        return asyncio.run(self.run_async(papers))

    async def run_async(self, papers: list[Paper]) -> list[StepResult]:
        entries = self._cached(papers)
        errors: dict[tuple[str, str], str] = {}
        todo = [(p, lang) for p in papers for lang in self.languages if (p.id, lang) not in entries]
        if todo:
            async with self.client_class(self.settings, self.labels, self.limiter) as client:
                self.last_client = client

                async def one(paper: Paper, lang: str) -> None:
                    system, user = self.prompt.render(
                        language_name=LANGUAGE_NAMES[lang], title=paper.title.strip() or "(untitled)",
                        abstract=paper.abstract.strip() or "(no abstract)",
                        keywords=", ".join(paper.keywords) or "(none)", topics=" | ".join(self.labels))
                    outcome = await client.digest(system, user, lang)
                    entry = self._record(paper, outcome)
                    if entry is not None:
                        entries[(paper.id, lang)] = entry
                    else:
                        errors[(paper.id, lang)] = outcome.error or "no answer"

                await asyncio.gather(*(one(p, lang) for p, lang in todo))
        return [self._result(paper, entries, errors) for paper in papers]

    def _result(self, paper: Paper, entries, errors) -> StepResult:
        failed = [f"{lang}: {errors[(paper.id, lang)]}" for lang in self.languages if (paper.id, lang) in errors]
        if failed:
            return StepResult(paper.id, error="; ".join(failed), model=self.settings.model)
        per_lang = {lang: entries[(paper.id, lang)] for lang in self.languages}
        primary = per_lang["en"] if "en" in per_lang else per_lang[self.languages[0]]
        usage = {k: sum(e[k] for e in per_lang.values())
                 for k in ("requests", "input_tokens", "output_tokens", "cost")}
        output = {
            "summary": {lang: e["response"] for lang, e in per_lang.items()},
            "tldr": primary["response"]["tldr"],
            "keywords": primary["response"]["keywords"],
            "topic": primary["response"]["topic"],
            "title": primary["response"].get("title"),
            "topic_area": self.topic_area,
            "usage": usage,
            "provenance": {
                "model": self.settings.model, "endpoint": urlsplit(self.settings.base_url).netloc,
                "prompt_version": self.prompt_version, "prompt": self.prompt.path.name,
                "generated_at": max(e["created_at"] for e in per_lang.values()),
                "languages": list(self.languages),
            },
        }
        return StepResult(paper.id, output=output, model=self.settings.model)

    @classmethod
    def apply(cls, paper: Paper, output: dict[str, Any]) -> None:
        for lang, digest in (output.get("summary") or {}).items():
            current = paper.summary.get(lang) or Summary()
            for name in SUMMARY_FIELDS:
                if not getattr(current, name) and digest.get(name):
                    setattr(current, name, digest[name])
            paper.summary[lang] = current
        if not paper.tldr and output.get("tldr"):
            paper.tldr = output["tldr"]
        if not paper.keywords and output.get("keywords"):
            paper.keywords = list(output["keywords"])
        # NO_TOPIC: the model found none of the labels fitting; the paper keeps whatever topic it has
        if output.get("topic") and output["topic"] != NO_TOPIC and (paper.topic is None or not paper.topic.label):
            area = paper.topic.area if paper.topic and paper.topic.area else output.get("topic_area")
            paper.topic = Topic(area=area, label=output["topic"])
        if not paper.title and output.get("title"):  # replaces the title step's derived one (applied after this)
            paper.title = output["title"]
            made = output.get("provenance") or {}
            paper.extra["title_origin"] = f"written by an LLM ({made.get('model') or 'llm-summary step'})"
        if output.get("provenance"):
            paper.extra.setdefault("llm_summary", output["provenance"])

    # -- Ray: workers cannot reach SQLite, so the driver ships cached answers and writes results ----------
    def remote_options(self, options: dict[str, Any], workers: int = 1) -> dict[str, Any]:
        settings = self.settings.remote_dict()
        # each worker gets its share of the rate limit, so the cluster as a whole keeps to it
        settings["requests_per_minute"] = self.settings.requests_per_minute / max(1, workers)
        # the labels go with the settings: a worker on another machine may not have the driver's taxonomy
        settings["topics"] = list(self.labels)
        return {"settings": settings, "lang": list(self.languages), "topic_area": self.topic_area}

    def remote_hints(self, papers: list[Paper]) -> dict[str, Any]:
        hints: dict[str, dict[str, Any]] = {}
        for (pid, lang), entry in self._cached(papers).items():
            hints.setdefault(pid, {})[lang] = entry
        return hints

    def accept_hints(self, hints: dict[str, Any]) -> None:
        self._hints = hints

    def take_remote_state(self) -> dict[str, Any]:
        state, self._remote_state = self._remote_state, {}
        return state

    def absorb_remote_state(self, store, state: dict[str, Any]) -> None:
        for item in state.values():
            store.llm_record(item.get("cache", []), item.get("usage", []))

