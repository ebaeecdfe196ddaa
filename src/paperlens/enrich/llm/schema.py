"""The JSON an LLM must return for one paper and language, and how it is checked.

Anything that is not a real answer (empty, "N/A", "未提及", "[method]", ...) is rejected, so a
placeholder can never be stored as a summary."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from paperlens.core.models import SUMMARY_FIELDS

TEXT_FIELDS = ("tldr", *SUMMARY_FIELDS)

# The topic recorded when a reply's topic is null, missing or not one of the offered labels: a paper outside
# the taxonomy is normal, so the rest of the answer is kept and the paper gets no topic label from it.
NO_TOPIC = "none of these"

_PLACEHOLDERS = {
    "", "n/a", "na", "none", "null", "nil", "todo", "tbd", "tba", "...", "…", "-", "--", "unknown", "not mentioned",
    "not specified", "not available", "not provided", "not applicable", "placeholder", "lorem ipsum", "same as above",
    "无", "暂无", "未提及", "未知", "不详", "略", "无相关信息", "未说明", "待补充",
}
_TEMPLATE_LIKE = re.compile(r"^(\[[^\]]*\]|<[^>]*>|\{[^}]*\}|lorem ipsum.*)$", re.IGNORECASE | re.DOTALL)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
# More than any answer within max_output_tokens holds: a longer field is not a summary (a 10 MB 'method' was
# stored and shown on every page of the paper).
MAX_FIELD_CHARS = 4000


def taxonomy_labels(settings=None, taxonomy: str | None = None) -> list[str]:
    """Topic labels the model chooses from: the settings' list (PAPERLENS_LLM_TOPICS), else the label ids
    of the active taxonomy (`taxonomy`, or PAPERLENS_TAXONOMY, default llm-2026), the ones the topic step
    classifies into."""
    if settings is not None and getattr(settings, "topics", None):
        return list(settings.topics)
    from paperlens.enrich.models.taxonomy import load_taxonomy

    return load_taxonomy(taxonomy).label_ids


def taxonomy_area(settings=None, taxonomy: str | None = None) -> str | None:
    """The area the labels belong to: the active taxonomy's, or none for labels from settings."""
    if settings is not None and getattr(settings, "topics", None):
        return None
    from paperlens.enrich.models.taxonomy import load_taxonomy

    return load_taxonomy(taxonomy).area_label


def is_placeholder(text: str) -> bool:
    stripped = text.strip()
    bare = stripped.strip(" .。!！?？:：;；\"'`").lower()
    return bare in _PLACEHOLDERS or bool(_TEMPLATE_LIKE.match(stripped))


def _norm_label(label: str) -> str:
    return re.sub(r"\s+", "", label).lower()


class Digest(BaseModel):
    """One language's answer. Validate with context={"labels": [...], "lang": "zh"}."""

    model_config = ConfigDict(extra="ignore")

    tldr: str
    motivation: str
    problem: str
    observation: str
    method: str
    experiments: str
    contribution: str
    keywords: list[str] = Field(min_length=1, max_length=12)
    topic: str = NO_TOPIC  # one of the labels, or NO_TOPIC
    title: str | None = None  # a short title, used only for a paper no source gave one (issue 18)
    topic_reply: str | None = None  # what the model answered when it was not a label (kept for review)

    @field_validator(*TEXT_FIELDS)
    @classmethod
    def _real_text(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if is_placeholder(value):
            raise ValueError(f"placeholder text {value!r} is not an answer")
        lang = (info.context or {}).get("lang")
        if lang == "zh" and not _CJK.search(value):
            raise ValueError("must be written in Chinese")
        # an English answer may name a Chinese term or dataset, but is not mostly Chinese
        if lang == "en" and len(_CJK.findall(value)) > len(_LATIN.findall(value)):
            raise ValueError("must be written in English")
        if len(value) > MAX_FIELD_CHARS:
            raise ValueError(f"{len(value)} characters; a summary field has at most {MAX_FIELD_CHARS}")
        return value

    @field_validator("title")
    @classmethod
    def _real_title(cls, value: str | None) -> str | None:
        value = (value or "").strip().strip("\"'“”")
        return None if not value or is_placeholder(value) or len(value) > 200 else value

    @field_validator("keywords")
    @classmethod
    def _real_keywords(cls, value: list[str]) -> list[str]:
        cleaned = [k.strip() for k in value if isinstance(k, str) and not is_placeholder(k)]
        cleaned = list(dict.fromkeys(k for k in cleaned if len(k) <= 80))
        if not cleaned:
            raise ValueError("no usable keywords")
        return cleaned

    @model_validator(mode="before")
    @classmethod
    def _known_topic(cls, data: Any, info: ValidationInfo) -> Any:
        """A label is matched loosely (case, spaces); anything else (null, missing, an unknown label, not a
        string) becomes NO_TOPIC, with a non-empty string answer kept as topic_reply."""
        if not isinstance(data, dict):
            return data
        labels = (info.context or {}).get("labels") or []
        value = data.get("topic")
        if value == NO_TOPIC and "topic_reply" in data:  # our own cached answer, validated again
            return data
        by_norm = {_norm_label(label): label for label in labels}
        found = by_norm.get(_norm_label(value)) if isinstance(value, str) else None
        reply = value.strip()[:200] or None if isinstance(value, str) and found is None else None
        return {**data, "topic": found or NO_TOPIC, "topic_reply": reply}


def json_schema(labels: list[str]) -> dict[str, Any]:
    """Strict JSON schema for `response_format`."""
    properties: dict[str, Any] = {name: {"type": "string"} for name in TEXT_FIELDS}
    properties["keywords"] = {"type": "array", "items": {"type": "string"}}
    properties["topic"] = {"type": "string", "enum": list(labels)}
    properties["title"] = {"type": ["string", "null"]}
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def load_json_object(text: str | None) -> dict[str, Any]:
    """The JSON object in a model's reply (a Markdown fence or text around it dropped), or ValueError."""
    if not text or not text.strip():
        raise ValueError("empty reply")
    body = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", body, re.DOTALL)
    if fenced:
        body = fenced.group(1).strip()
    if not body.startswith("{") and "{" in body:
        body = body[body.index("{"):body.rindex("}") + 1] if "}" in body else body
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def parse_digest(text: str | None, labels: list[str], lang: str) -> Digest:
    """The validated digest in a model's reply, or ValueError saying what is wrong with it."""
    data = load_json_object(text)
    try:
        return Digest.model_validate(data, context={"labels": labels, "lang": lang})
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in exc.errors()[:6]]
        raise ValueError("; ".join(problems)) from None
