"""What ragft asks the model, and the pydantic shapes the answers must have.

Only text the team typed goes into these prompts (failure explanations, the perfect-context
test's three fields, the thread's human messages, the decision title): never Slack ids, tokens
or metadata. README.md, section "OpenAI (optional)", documents this.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

# Categorising failures ---------------------------------------------------------------------------

CATEGORISE_SYSTEM = """\
You help a product team decide between retrieval-augmented generation (RAG) and fine-tuning for \
an LLM feature. They give you numbered plain-language explanations of why outputs failed. \
Categorise each one:
- knowledge: the model lacked or had stale facts (prices, policies, versions, internal data); \
giving it the right information in the prompt would fix it.
- behavior: the model had the facts but responded the wrong way (tone, format, length, language, \
ignored instructions, persona, over-caution).
- unclear: the explanation does not say enough to tell, or points to both equally.
Return every item exactly once, with its index, its category and a one-line rationale \
(at most 20 words) that quotes the words that decided it."""


class CategorisedItem(BaseModel):
    index: int
    category: Literal["knowledge", "behavior", "unclear"]
    rationale: str


class CategorisedBatch(BaseModel):
    items: list[CategorisedItem]


def categorise_prompt(explanations: list[str]) -> str:
    lines = [f"{i}. {' '.join(text.split())}" for i, text in enumerate(explanations)]
    return "Failure explanations:\n" + "\n".join(lines)


# The perfect-context test ------------------------------------------------------------------------

ANSWER_SYSTEM = (
    "Answer the user's question as well as you can, in at most 150 words. "
    "Put the whole answer in the `answer` field."
)
ANSWER_WITH_CONTEXT_SYSTEM = (
    "Answer the user's question using the reference information provided, in at most 150 words. "
    "Put the whole answer in the `answer` field."
)


class ModelAnswer(BaseModel):
    answer: str


def answer_prompt(question: str, context: str | None) -> str:
    if context is None:
        return question
    return f"Reference information:\n{context}\n\nQuestion:\n{question}"


JUDGE_SYSTEM = """\
You grade a perfect-context test. A model answered a question twice: without and with the \
missing information in its prompt. Given what a right answer must contain, decide:
- right_with_context: the answer WITH the information contains what a right answer must contain.
- still_wrong: even with the information, the answer misses it or gets it wrong.
Give a one-line rationale (at most 25 words)."""


class Judgement(BaseModel):
    verdict: Literal["right_with_context", "still_wrong"]
    rationale: str


def judge_prompt(question: str, expected: str, without: str, with_context: str) -> str:
    return (
        f"Question:\n{question}\n\n"
        f"A right answer must contain:\n{expected}\n\n"
        f"Answer without the information:\n{without}\n\n"
        f"Answer with the information:\n{with_context}"
    )


# Drafting the record's Context paragraph ---------------------------------------------------------

SUMMARY_SYSTEM = """\
You write the "Context" paragraph of a decision record. A product team discussed whether to use \
RAG or fine-tuning for an LLM feature in a chat thread. Summarise, in one neutral paragraph of \
at most 120 words, what the team discussed: the problem, the evidence they cited, the concerns \
and any disagreement. Use only what the messages say; do not invent facts or name people."""


class ContextSummary(BaseModel):
    paragraph: str


def summary_prompt(title: str, verdict: str, messages: list[str]) -> str:
    body = "\n".join(f"- {m}" for m in messages)
    return f"Decision: {title}\nThe rule's verdict: {verdict}\n\nThe thread's messages:\n{body}"
