"""The paper record every source yields and every view reads."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from paperlens.core.fields import SUMMARY_FIELDS, SUMMARY_LABELS

__all__ = ["SUMMARY_FIELDS", "SUMMARY_LABELS", "Paper", "SourceRef", "Summary", "Topic"]

_json_string = json.encoder.encode_basestring  # a str as a JSON string literal, non-ASCII kept


class Topic(BaseModel):
    model_config = ConfigDict(extra="ignore")

    area: str | None = None
    label: str | None = None
    score: float | None = None


class Summary(BaseModel):
    model_config = ConfigDict(extra="ignore")

    motivation: str = ""
    problem: str = ""
    observation: str = ""
    method: str = ""
    experiments: str = ""
    contribution: str = ""

    def is_empty(self) -> bool:
        return not any(getattr(self, f) for f in SUMMARY_FIELDS)

    def filled(self) -> int:
        return sum(1 for f in SUMMARY_FIELDS if getattr(self, f))


class SourceRef(BaseModel):
    """Where a record came from: the adapter, the file and the line it started on."""

    model_config = ConfigDict(extra="ignore")

    source: str
    path: str | None = None
    line: int | None = None
    source_id: str | None = None


class Paper(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = ""
    title: str = ""
    authors: list[str] = Field(default_factory=list)
    authors_truncated: bool = False  # the source listed "et al." after the names
    org: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd, or yyyy-mm when the day is unknown
    year: int | None = None
    categories: list[str] = Field(default_factory=list)
    venue: str | None = None
    abstract: str = ""
    abstract_raw: str = ""
    keywords: list[str] = Field(default_factory=list)
    tldr: str | None = None
    code_url: str | None = None
    language: str = "en"
    topic: Topic | None = None
    summary: dict[str, Summary] = Field(default_factory=dict)
    sources: list[SourceRef] = Field(default_factory=list)
    arxiv_id: str | None = None
    doi: str | None = None
    openreview_id: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def content_hash(self) -> str:
        """Hash of the text enrichment reads: changes when title, abstract or keywords change."""
        # Byte for byte json.dumps([title, abstract, keywords, language], ensure_ascii=False), without
        # the encoder's overhead (this runs for every paper ingested).
        keywords = "[" + ", ".join(map(_json_string, self.keywords)) + "]"
        payload = f"[{_json_string(self.title)}, {_json_string(self.abstract)}, {keywords}, {_json_string(self.language)}]"
        return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    def export_dict(self) -> dict[str, Any]:
        """The stable JSONL export shape."""
        data = self.model_dump(mode="json")
        data["topic"] = self.topic.model_dump(mode="json") if self.topic and (self.topic.label or self.topic.area) else None
        return data
