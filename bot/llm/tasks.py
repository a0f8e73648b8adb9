"""What ragft asks the model: categorising failures, the perfect-context test, and drafting the
record's Context paragraph. Each is one structured call through ``LLM.parse``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from bot.llm import prompts
from bot.llm.client import LLM, LLMError, Parsed, Usage

BATCH_SIZE = 30
"""Failure explanations categorised per request."""
RATIONALE_LIMIT = 300
ANSWER_LIMIT = 1800
SUMMARY_LIMIT = 1500


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
