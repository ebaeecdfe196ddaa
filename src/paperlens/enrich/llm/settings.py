"""LLM settings from the environment: `PAPERLENS_LLM_*`, falling back to the usual `OPENAI_*`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _env(name: str, *fallbacks: str) -> AliasChoices:
    return AliasChoices(f"PAPERLENS_LLM_{name}", *fallbacks)


def _split(value):
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class LLMSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Which registered LLM client sends the requests (`register_llm_clients`, docs/plugins.md).
    client: str = Field("openai", validation_alias=_env("CLIENT", "client"))
    base_url: str = Field(DEFAULT_BASE_URL, validation_alias=_env("BASE_URL", "OPENAI_BASE_URL", "base_url"))
    model: str = Field("gpt-4o-mini", validation_alias=_env("MODEL", "OPENAI_MODEL", "model"))
    api_key: SecretStr | None = Field(None, validation_alias=_env("API_KEY", "OPENAI_API_KEY", "api_key"))
    # Requests in flight at once (per process / per Ray actor).
    concurrency: int = Field(8, ge=1, le=1024, validation_alias=_env("CONCURRENCY", "concurrency"))
    # Request starts per minute; 0 means no limit (e.g. a local vLLM server).
    requests_per_minute: float = Field(
        600, ge=0, validation_alias=_env("REQUESTS_PER_MINUTE", "requests_per_minute"))
    timeout: float = Field(60.0, gt=0, validation_alias=_env("TIMEOUT", "timeout"))
    # The most bytes of one answer (its body as decoded) read into memory; a larger one fails its paper.
    max_response_bytes: int = Field(4 * 1024 * 1024, ge=1024,
                                    validation_alias=_env("MAX_RESPONSE_BYTES", "max_response_bytes"))
    max_retries: int = Field(5, ge=0, validation_alias=_env("MAX_RETRIES", "max_retries"))
    backoff_base: float = Field(1.0, ge=0, validation_alias=_env("BACKOFF_BASE", "backoff_base"))
    backoff_max: float = Field(60.0, ge=0, validation_alias=_env("BACKOFF_MAX", "backoff_max"))
    languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["zh", "en"], validation_alias=_env("LANGUAGES", "languages"))
    temperature: float = Field(0.2, ge=0, le=2, validation_alias=_env("TEMPERATURE", "temperature"))
    max_output_tokens: int = Field(1500, ge=64, validation_alias=_env("MAX_OUTPUT_TOKENS", "max_output_tokens"))
    # "auto": JSON schema response_format, falling back to plain JSON instructions when rejected.
    json_mode: Literal["auto", "schema", "plain"] = Field("auto", validation_alias=_env("JSON_MODE", "json_mode"))
    price_input_per_1m: float = Field(0.0, ge=0, validation_alias=_env("PRICE_INPUT_PER_1M", "price_input_per_1m"))
    price_output_per_1m: float = Field(
        0.0, ge=0, validation_alias=_env("PRICE_OUTPUT_PER_1M", "price_output_per_1m"))
    # A directory whose `llm-summary.vN.md` files replace the built-in prompts.
    prompt_dir: Path | None = Field(None, validation_alias=_env("PROMPT_DIR", "prompt_dir"))
    # Topic labels the model picks from; empty means the active taxonomy's.
    topics: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias=_env("TOPICS", "topics"))

    _split_languages = field_validator("languages", "topics", mode="before")(_split)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one language is needed, e.g. zh,en")
        unknown = [v for v in value if v not in LANGUAGE_NAMES]
        if unknown:
            raise ValueError(f"unsupported language(s) {', '.join(unknown)}; supported: {', '.join(LANGUAGE_NAMES)}")
        return list(dict.fromkeys(value))

    def key_value(self) -> str:
        """The API key; local servers (vLLM, Ollama) accept any, the OpenAI API does not."""
        if self.api_key is not None and self.api_key.get_secret_value():
            return self.api_key.get_secret_value()
        if self.base_url.rstrip("/") == DEFAULT_BASE_URL:
            raise ValueError("no API key: set PAPERLENS_LLM_API_KEY (or OPENAI_API_KEY), or point "
                             "PAPERLENS_LLM_BASE_URL at a local OpenAI-compatible server")
        return "unused"

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_input_per_1m + output_tokens * self.price_output_per_1m) / 1_000_000

    def remote_dict(self) -> dict:
        """Everything a worker on another machine needs, the key included (Ray ships it to its actors)."""
        data = self.model_dump(mode="json")
        data["api_key"] = self.api_key.get_secret_value() if self.api_key else None
        return data


LANGUAGE_NAMES = {"zh": "Simplified Chinese (简体中文)", "en": "English"}
