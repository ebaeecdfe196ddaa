"""Shared setup for the LLM enrichment tests: papers in a real store and settings for the fake server."""

from __future__ import annotations

from paperlens.core.models import Paper, SourceRef
from paperlens.enrich.llm.settings import LLMSettings


def make_papers(titles: list[str], prefix: str = "p", **fields) -> list[Paper]:
    return [Paper(id=f"{prefix}{i:03d}", title=title, abstract=f"We study {title}. It works well on benchmarks.",
                  sources=[SourceRef(source="test", line=i + 1)], **fields) for i, title in enumerate(titles)]


def fake_settings(base_url: str, **overrides) -> LLMSettings:
    values = {"base_url": base_url, "model": "fake-model", "api_key": "test-key", "timeout": 10,
              "backoff_base": 0.05, "backoff_max": 0.2, "requests_per_minute": 0, "concurrency": 4}
    values.update(overrides)
    return LLMSettings(**values)


def fake_env(base_url: str, **overrides) -> dict[str, str]:
    env = {"PAPERLENS_LLM_BASE_URL": base_url, "PAPERLENS_LLM_MODEL": "fake-model",
           "PAPERLENS_LLM_API_KEY": "test-key", "PAPERLENS_LLM_REQUESTS_PER_MINUTE": "0",
           "PAPERLENS_LLM_CONCURRENCY": "4", "PAPERLENS_LLM_TIMEOUT": "20"}
    env.update(overrides)
    return env
