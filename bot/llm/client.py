"""The model, when one is configured: one AsyncOpenAI client per process, structured calls only.

Every call goes through ``LLM.parse``: ``client.chat.completions.parse`` with a pydantic
``response_format``, then a check of the parsed value. Whatever goes wrong (an API error after the
SDK's retries, a timeout, malformed or off-schema JSON, a reply cut off at the length limit, a
refusal) becomes one ``LLMError`` with a short reason that is safe to log and to show: it never
contains the API key or the request. Callers catch ``LLMError`` and fall back or explain.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import openai
import pydantic
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from bot.llm import prompts
from bot.settings import Settings

log = logging.getLogger("ragft.llm")

DEFAULT_TIMEOUT = 20.0
"""Seconds per attempt. The SDK's own default is 600 s."""
DEFAULT_MAX_RETRIES = 2
"""Retries on connection errors, 408, 409, 429 and 5xx, with the SDK's backoff."""
BATCH_SIZE = 30
"""Failure explanations categorised per request."""
RATIONALE_LIMIT = 300
ANSWER_LIMIT = 1800
SUMMARY_LIMIT = 1500

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


def one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# Categorising failures ---------------------------------------------------------------------------


async def categorise_batch(
    llm: LLM, explanations: Sequence[str]
) -> Parsed[list[prompts.CategorisedItem]]:
    """Categorise up to BATCH_SIZE explanations in one request, in the given order."""
    if len(explanations) > BATCH_SIZE:
        raise ValueError(f"at most {BATCH_SIZE} explanations per request")
    expected = set(range(len(explanations)))

    def check(batch: prompts.CategorisedBatch) -> str | None:
        indexes = [item.index for item in batch.items]
        if sorted(indexes) != sorted(expected) or len(set(indexes)) != len(indexes):
            return f"{len(indexes)} items for {len(explanations)} explanations"
        if any(not item.rationale.strip() for item in batch.items):
            return "an item without a rationale"
        return None

    result = await llm.parse(
        purpose=f"categorising {len(explanations)} failures",
        system=prompts.CATEGORISE_SYSTEM,
        user=prompts.categorise_prompt(list(explanations)),
        schema=prompts.CategorisedBatch,
        max_tokens=80 * len(explanations) + 100,
        check=check,
    )
    items = sorted(result.value.items, key=lambda item: item.index)
    cleaned = [
        item.model_copy(update={"rationale": one_line(item.rationale, RATIONALE_LIMIT)})
        for item in items
    ]
    return Parsed(cleaned, result.usage)


# The perfect-context test ------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextTestResult:
    answer_without: str
    answer_with: str
    judgement: str | None
    """The model's suggestion: ``knowledge`` (right with context) or ``behavior``; None if the
    grading call failed."""
    rationale: str | None
    usage: Usage


def _has_answer(value: prompts.ModelAnswer) -> str | None:
    return None if value.answer.strip() else "an empty answer"


async def run_context_test(
    llm: LLM, *, question: str, context: str, expected: str
) -> ContextTestResult:
    """Ask twice, without and with the context, then ask the model to grade. Raises LLMError
    when either answer fails; a failed grading only drops the suggestion."""

    def ask(with_context: bool) -> Awaitable[Parsed[prompts.ModelAnswer]]:
        return llm.parse(
            purpose="the perfect-context test",
            system=prompts.ANSWER_WITH_CONTEXT_SYSTEM if with_context else prompts.ANSWER_SYSTEM,
            user=prompts.answer_prompt(question, context if with_context else None),
            schema=prompts.ModelAnswer,
            max_tokens=500,
            check=_has_answer,
        )

    results = await asyncio.gather(ask(False), ask(True), return_exceptions=True)
    usage = Usage()
    answers: list[str] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        usage.add(result.usage)
        answers.append(result.value.answer.strip()[:ANSWER_LIMIT])
    without, with_context = answers
    judgement = rationale = None
    try:
        graded = await llm.parse(
            purpose="grading the perfect-context test",
            system=prompts.JUDGE_SYSTEM,
            user=prompts.judge_prompt(question, expected, without, with_context),
            schema=prompts.Judgement,
            max_tokens=150,
        )
    except LLMError:
        pass  # the suggestion is optional; the team judges either way (already logged)
    else:
        usage.add(graded.usage)
        judgement = "knowledge" if graded.value.verdict == "right_with_context" else "behavior"
        rationale = one_line(graded.value.rationale, RATIONALE_LIMIT)
    return ContextTestResult(without, with_context, judgement, rationale, usage)


# Drafting the record's Context paragraph ---------------------------------------------------------


def _has_paragraph(value: prompts.ContextSummary) -> str | None:
    return None if value.paragraph.strip() else "an empty paragraph"


async def summarise_thread(
    llm: LLM, *, title: str, verdict: str, messages: Sequence[str]
) -> Parsed[str]:
    result = await llm.parse(
        purpose="drafting the Context paragraph",
        system=prompts.SUMMARY_SYSTEM,
        user=prompts.summary_prompt(title, verdict, list(messages)),
        schema=prompts.ContextSummary,
        max_tokens=400,
        check=_has_paragraph,
    )
    paragraph = result.value.paragraph.strip()
    if len(paragraph) > SUMMARY_LIMIT:
        paragraph = paragraph[: SUMMARY_LIMIT - 1].rstrip() + "…"
    return Parsed(paragraph, result.usage)
