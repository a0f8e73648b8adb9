"""The model, when one is configured: one AsyncOpenAI client per process, structured calls only.

Every call goes through ``LLM.parse``: ``client.chat.completions.parse`` with a pydantic
``response_format``, then a check of the parsed value. Whatever goes wrong (an API error after the
SDK's retries, a timeout, malformed or off-schema JSON, a reply cut off at the length limit, a
refusal) becomes one ``LLMError`` with a short reason that is safe to log and to show: it never
contains the API key or the request. Callers catch ``LLMError`` and fall back or explain.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import openai
import pydantic
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from bot.settings import Settings

log = logging.getLogger("ragft.llm")

DEFAULT_TIMEOUT = 20.0
"""Seconds per attempt. The SDK's own default is 600 s."""
DEFAULT_MAX_RETRIES = 2
"""Retries on connection errors, 408, 409, 429 and 5xx, with the SDK's backoff."""

T = TypeVar("T", bound=pydantic.BaseModel)


class LLMError(Exception):
    """The model gave no usable answer. ``str(error)`` is a short reason, safe to log and show."""


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Parsed(Generic[T]):
    value: T
    usage: Usage


def _reason(exc: Exception) -> str:
    """Why a call failed, without the exception's message (which may echo the request)."""
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    if isinstance(exc, openai.APIConnectionError):
        return "couldn't be reached"
    if isinstance(exc, openai.RateLimitError):
        return "is rate-limited (HTTP 429)"
    if isinstance(exc, openai.APIStatusError):
        return f"answered HTTP {exc.status_code}"
    if isinstance(exc, openai.LengthFinishReasonError):
        return "ran out of tokens before finishing its answer"
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return "stopped at its content filter"
    if isinstance(exc, pydantic.ValidationError):
        return "gave a malformed answer"
    if isinstance(exc, json.JSONDecodeError):
        return "sent a malformed response (not JSON)"
    return f"failed ({type(exc).__name__})"


class LLM:
    """The configured model. Build one per process with ``build_llm``."""

    def __init__(self, client: AsyncOpenAI, model: str) -> None:
        self.client = client
        self.model = model

    async def parse(
        self,
        *,
        purpose: str,
        system: str,
        user: str,
        schema: type[T],
        max_tokens: int,
        check: Callable[[T], str | None] | None = None,
    ) -> Parsed[T]:
        """One structured call. ``check`` returns why a parsed value is off-schema, or None."""
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        try:
            completion = await self.client.chat.completions.parse(
                model=self.model, messages=messages, response_format=schema, max_tokens=max_tokens
            )
        except (openai.OpenAIError, ValueError) as exc:  # ValueError: pydantic's, or not JSON
            raise self._failed(purpose, _reason(exc)) from exc
        if not completion.choices:
            raise self._failed(purpose, "sent no answer")
        message = completion.choices[0].message
        parsed = message.parsed
        if parsed is None:
            raise self._failed(
                purpose, "declined to answer" if message.refusal else "sent no answer"
            )
        if check is not None and (problem := check(parsed)):
            raise self._failed(purpose, f"gave an off-schema answer ({problem})")
        usage = completion.usage
        return Parsed(
            parsed,
            Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
        )

    def _failed(self, purpose: str, reason: str) -> LLMError:
        log.warning("model call for %s: the model %s", purpose, reason)
        return LLMError(f"the model {reason}")

    async def close(self) -> None:
        await self.client.close()


def build_llm(
    settings: Settings,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> LLM | None:
    """The process's one model client, or None when ``OPENAI_API_KEY`` isn't set."""
    if settings.openai_api_key is None:
        return None
    client = AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url or None,
        timeout=timeout,
        max_retries=max_retries,
    )
    return LLM(client, settings.openai_model)
