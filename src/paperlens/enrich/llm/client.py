"""Requests to an OpenAI-compatible chat endpoint: bounded concurrency, a requests-per-minute limiter,
retries with exponential backoff and jitter (honouring Retry-After), JSON-schema output with a remembered
fallback to plain JSON instructions, and one repair request for an invalid answer."""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI

from paperlens.core.plugins import Registry
from paperlens.enrich.llm.schema import Digest, json_schema, parse_digest
from paperlens.enrich.llm.settings import LLMSettings

# Endpoints (base URL, model) that rejected `response_format` with a JSON schema: later requests use plain
# JSON instructions straight away.
PLAIN_JSON_ENDPOINTS: set[tuple[str, str]] = set()
_PLAIN_LOCK = threading.Lock()

PLAIN_JSON_HINT = ("Reply with the JSON object only: no Markdown fences, no text before or after it. "
                   "Keys: tldr, motivation, problem, observation, method, experiments, contribution (strings), "
                   "keywords (array of strings), topic (one of the given labels).")


# LLM client classes by name, from the plugin registry (`register_llm_clients`, docs/plugins.md): "openai"
# (DigestClient, below) is registered by enrich/default_plugins.py; PAPERLENS_LLM_CLIENT picks one.
LLM_CLIENTS: Registry = Registry("llm_clients")


def client_class(name: str) -> type:
    """The registered client class called `name`, or ValueError naming the known ones."""
    if name not in LLM_CLIENTS:
        raise ValueError(f"unknown LLM client {name!r} (PAPERLENS_LLM_CLIENT); known: {', '.join(LLM_CLIENTS)}")
    return LLM_CLIENTS[name]


class RequestFailed(Exception):
    """A request that cannot succeed (bad request, auth) or that kept failing after every retry."""


class ResponseTooLarge(Exception):
    """An answer whose body (as decoded) is larger than PAPERLENS_LLM_MAX_RESPONSE_BYTES; not read further."""

    def __init__(self, limit: int, declared: int | None = None):
        self.limit, self.declared = limit, declared
        size = f"{declared} bytes (Content-Length)" if declared is not None else f"more than {limit} bytes"
        super().__init__(f"the endpoint's answer is {size}, over PAPERLENS_LLM_MAX_RESPONSE_BYTES={limit}; "
                         f"not read further")


def bounded_http_client(max_bytes: int, **kwargs: Any):
    """The SDK's default async httpx client, reading each response body (decompressed, so a gzip bomb counts
    at its real size) to at most `max_bytes`: the SDK reads a body whole into memory, so an endpoint answering
    a gigabyte crashed the run. Past the limit the connection is closed and ResponseTooLarge raised."""
    openai = _openai()

    class BoundedClient(openai.DefaultAsyncHttpxClient):
        async def send(self, request, *, stream: bool = False, **send_kwargs):
            response = await super().send(request, stream=True, **send_kwargs)
            if stream:  # a streamed answer is read (and bounded) by whoever asked for it
                return response
            try:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise ResponseTooLarge(max_bytes, int(declared))
                parts, size = [], 0
                async for part in response.aiter_bytes():
                    size += len(part)
                    if size > max_bytes:
                        raise ResponseTooLarge(max_bytes)
                    parts.append(part)
            finally:
                await response.aclose()
            # the body as read, without the encoding headers of the compressed one (it is decoded already)
            headers = [(k, v) for k, v in response.headers.multi_items()
                       if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
            bounded = type(response)(response.status_code, headers=headers, content=b"".join(parts),
                                     request=request, extensions=response.extensions, history=response.history)
            bounded.elapsed = response.elapsed
            return bounded

    return BoundedClient(**kwargs)


@dataclass
class Usage:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens


@dataclass
class Attempt:
    """One request that reached the endpoint, for the usage ledger."""

    kind: str  # "summary" or "repair"
    status: str  # "ok", "invalid" or "error"
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class DigestOutcome:
    lang: str
    digest: Digest | None = None
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    attempts: list[Attempt] = field(default_factory=list)
    truncated: bool = False  # an answer stopped at max_output_tokens


@dataclass
class JsonOutcome:
    """The answer to one `ask_json` request: the parsed value, or the reason there is none."""

    value: Any = None
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    attempts: list[Attempt] = field(default_factory=list)
    truncated: bool = False


class RateLimiter:
    """Spaces request starts evenly so at most `per_minute` start in any minute (0: no limit)."""

    def __init__(self, per_minute: float):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


def retry_after_seconds(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    if headers.get("retry-after-ms"):
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, when.timestamp() - time.time()) if when else None


def max_retry_after(settings: LLMSettings) -> float:
    """The longest Retry-After honoured; a longer one fails the request at once instead of sleeping."""
    return max(settings.backoff_max, 1.0) * 2


def _openai():  # imported on first use: the step's module (and so every command) loads without the SDK
    import openai

    return openai


def _transient(exc: Exception) -> bool:
    openai = _openai()
    if isinstance(exc, openai.APITimeoutError | openai.APIConnectionError | TimeoutError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


def _rejects_schema(exc: openai.BadRequestError) -> bool:
    text = f"{exc.message} {exc.body}".lower()
    return any(word in text for word in ("response_format", "json_schema", "json schema", "structured output"))


def _describe(exc: Exception) -> str:
    openai = _openai()
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"[:300]
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "request timed out"
    return f"{type(exc).__name__}: {exc}"[:300]


class DigestClient:
    """Asks one endpoint for digests. Use inside one event loop: `async with DigestClient(...) as c`."""

    def __init__(self, settings: LLMSettings, labels: list[str], limiter: RateLimiter | None = None):
        self.settings = settings
        self.labels = labels
        self.schema = json_schema(labels)
        self.limiter = limiter or RateLimiter(settings.requests_per_minute)
        self.endpoint = (settings.base_url.rstrip("/"), settings.model)
        self.in_flight = 0
        self.max_in_flight = 0
        self._client: AsyncOpenAI | None = None
        self._semaphore: asyncio.Semaphore | None = None

    async def __aenter__(self) -> DigestClient:
        # Our own retry loop (below) does backoff and Retry-After; the SDK's would double it.
        # Bodies are read to at most PAPERLENS_LLM_MAX_RESPONSE_BYTES (bounded_http_client).
        self._client = _openai().AsyncOpenAI(
            base_url=self.settings.base_url, api_key=self.settings.key_value(), timeout=self.settings.timeout,
            max_retries=0, http_client=bounded_http_client(self.settings.max_response_bytes,
                                                           timeout=self.settings.timeout))
        self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._client is not None:
            await self._client.close()

    def uses_schema(self) -> bool:
        mode = self.settings.json_mode
        if mode == "auto":
            with _PLAIN_LOCK:
                return self.endpoint not in PLAIN_JSON_ENDPOINTS
        return mode == "schema"

    async def digest(self, system: str, user: str, lang: str) -> DigestOutcome:
        """A validated digest, after at most one repair request; or the reason there is none."""
        outcome = DigestOutcome(lang)

        def messages(plain: bool) -> list[dict[str, str]]:
            return [{"role": "system", "content": system},
                    {"role": "user", "content": f"{user}\n\n{PLAIN_JSON_HINT}" if plain else user}]

        try:
            text = await self._complete(messages, outcome, "summary")
        except RequestFailed as exc:
            outcome.error = str(exc)
            return outcome
        try:
            outcome.digest = parse_digest(text, self.labels, lang)
            outcome.attempts[-1].status = "ok"
            return outcome
        except ValueError as exc:
            outcome.attempts[-1].status = "invalid"
            first_problem = str(exc)

        def repair(plain: bool) -> list[dict[str, str]]:
            return [*messages(plain), {"role": "assistant", "content": text or ""},
                    {"role": "user", "content": f"That answer is invalid: {first_problem}. Reply again with the "
                                                f"corrected JSON object only, every field a real answer."}]

        try:
            fixed = await self._complete(repair, outcome, "repair")
        except RequestFailed as exc:
            outcome.error = f"invalid output ({first_problem}); repair request failed: {exc}"
            return outcome
        try:
            outcome.digest = parse_digest(fixed, self.labels, lang)
            outcome.attempts[-1].status = "ok"
        except ValueError as exc:
            outcome.attempts[-1].status = "invalid"
            cut = f" (answers cut off at max_output_tokens={self.settings.max_output_tokens})" \
                if outcome.truncated else ""
            outcome.error = f"invalid output after one repair request{cut}: {exc}"
        return outcome

    async def ask_json(self, system: str, user: str, parse: Callable[[str | None], Any], *, kind: str,
                       schema_name: str, schema: dict[str, Any], plain_hint: str) -> JsonOutcome:
        """One request for another JSON answer than a digest (e.g. the relevance judgement, recommend/
        relevance.py), with the same concurrency, rate limit, retries and JSON-schema fallback; `parse`
        validates the reply (ValueError: invalid). No repair request: an invalid answer is an error."""
        outcome = JsonOutcome()

        def messages(plain: bool) -> list[dict[str, str]]:
            return [{"role": "system", "content": system},
                    {"role": "user", "content": f"{user}\n\n{plain_hint}" if plain else user}]

        try:
            text = await self._complete(messages, outcome, kind, response_schema=(schema_name, schema))
        except RequestFailed as exc:
            outcome.error = str(exc)
            return outcome
        try:
            outcome.value = parse(text)
            outcome.attempts[-1].status = "ok"
        except ValueError as exc:
            outcome.attempts[-1].status = "invalid"
            cut = f" (cut off at max_output_tokens={self.settings.max_output_tokens})" if outcome.truncated else ""
            outcome.error = f"invalid output{cut}: {exc}"
        return outcome

    async def _complete(self, build: Callable[[bool], list[dict[str, str]]], outcome: DigestOutcome | JsonOutcome,
                        kind: str, response_schema: tuple[str, dict[str, Any]] | None = None) -> str | None:
        assert self._client is not None and self._semaphore is not None, "use `async with DigestClient(...)`"
        openai = _openai()
        retries = 0
        while True:
            use_schema = False
            try:
                async with self._semaphore:
                    # decided once a slot is free, so waiting requests see a fallback learnt meanwhile
                    use_schema = self.uses_schema()
                    extra: dict[str, Any] = {}
                    if use_schema:
                        name, schema = response_schema or ("paper_digest", self.schema)
                        extra["response_format"] = {"type": "json_schema", "json_schema": {
                            "name": name, "strict": True, "schema": schema}}
                    await self.limiter.wait()
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                    outcome.usage.requests += 1
                    try:
                        # The SDK's timeout is per read: an endpoint that drips a byte now and then would hold
                        # the run forever. PAPERLENS_LLM_TIMEOUT bounds the whole request.
                        response = await asyncio.wait_for(self._client.chat.completions.create(
                            model=self.settings.model, messages=build(not use_schema),
                            temperature=self.settings.temperature, max_tokens=self.settings.max_output_tokens,
                            **extra), timeout=self.settings.timeout)
                    finally:
                        self.in_flight -= 1
            except openai.BadRequestError as exc:
                if use_schema and self.settings.json_mode == "auto" and _rejects_schema(exc):
                    with _PLAIN_LOCK:
                        PLAIN_JSON_ENDPOINTS.add(self.endpoint)
                    outcome.attempts.append(Attempt(kind, "error"))
                    continue
                outcome.attempts.append(Attempt(kind, "error"))
                raise RequestFailed(_describe(exc)) from None
            except Exception as exc:
                outcome.attempts.append(Attempt(kind, "error"))
                if isinstance(exc, ResponseTooLarge):  # the same endpoint would answer the same again
                    raise RequestFailed(str(exc)) from None
                if isinstance(exc, json.JSONDecodeError):  # the SDK parses a JSON content type unchecked
                    raise RequestFailed(f"the endpoint's answer is not a chat completion (not JSON: {exc})") from None
                if not _transient(exc):
                    if isinstance(exc, openai.OpenAIError):
                        raise RequestFailed(_describe(exc)) from None
                    raise
                retries += 1
                wait = retry_after_seconds(exc)
                longest = max_retry_after(self.settings)
                if wait is not None and wait > longest:
                    # Sleeping it (or even a capped share of it, each retry) held one paper for most of an
                    # hour; failed now, a later run (--retry-failed) asks again.
                    raise RequestFailed(f"the endpoint asked to wait {wait:.0f} s before retrying (Retry-After), "
                                        f"longer than the {longest:.0f} s allowed (2 x PAPERLENS_LLM_BACKOFF_MAX, "
                                        f"at least 2 s): {_describe(exc)}") from None
                if retries > self.settings.max_retries:
                    raise RequestFailed(f"gave up after {retries} attempts: {_describe(exc)}") from None
                if wait is None:
                    base = min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (retries - 1))
                    wait = base * (0.5 + random.random() / 2)  # jitter spreads out clients that failed together
                await asyncio.sleep(wait)
                continue
            problem = _not_a_completion(response)
            if problem:  # an HTML page, another API's JSON: the SDK hands it over unchecked
                outcome.attempts.append(Attempt(kind, "error"))
                raise RequestFailed(f"the endpoint's answer is not a chat completion ({problem})")
            usage = response.usage
            attempt = Attempt(kind, "ok", _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens"))
            outcome.attempts.append(attempt)
            outcome.usage.input_tokens += attempt.input_tokens
            outcome.usage.output_tokens += attempt.output_tokens
            if not response.choices:
                return None
            choice = response.choices[0]
            if choice.finish_reason == "length":  # say why the JSON is broken, not just that it is
                outcome.truncated = True
            return choice.message.content


def _not_a_completion(response: Any) -> str | None:
    """What is wrong with a reply that is not a chat completion, or None."""
    if isinstance(response, str | bytes):
        text = response.decode("utf-8", "replace") if isinstance(response, bytes) else response
        return f"not JSON: {' '.join(text.split())[:80]!r}"
    choices = getattr(response, "choices", None)
    if choices is None:
        return "no 'choices'"
    if not isinstance(choices, list):
        return "'choices' is not a list"
    if not choices:
        return None
    message = getattr(choices[0], "message", None)
    if message is None or not isinstance(getattr(message, "content", None), str | None):
        return "its first choice has no message text"
    return None


def _tokens(usage: Any, name: str) -> int:
    value = getattr(usage, name, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
