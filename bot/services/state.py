"""The decision service: what happens when a team answers, logs failures and decides.

Slack-free: the handlers call these with a session and render the returned state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.classifier import classify
from bot.domain.costs import CostAssumptions, CostEstimate, estimate
from bot.domain.errors import NotAllowed, NotFound, UserError
from bot.domain.failure_lines import ParsedFailure
from bot.domain.questions import (
    KNOWLEDGE_CHANGE_OPTIONS,
    PROBLEM_TYPE_OPTIONS,
    CategorySource,
    FailureCategory,
    OwnerRole,
    Verdict,
)
from bot.domain.rule import Answers, FailureCounts, Recommendation, recommend
from bot.domain.team_choice import TeamChoice, team_choice
from bot.llm.client import BATCH_SIZE, LLM, LLMError, categorise_batch
from storage.models import (
    Answer,
    ContextTest,
    Decision,
    DecisionStatus,
    FailureExample,
    OwnerAssignment,
)
from storage.repositories import context_test_repo as context_tests
from storage.repositories import decision_repo as repo
from storage.repositories.usage_repo import add_usage

log = logging.getLogger("ragft")

PROMPT_ENGINEERING = "prompt_engineering_tried"
LABELED_EXAMPLES = "labeled_examples"
MAX_LABELED_EXAMPLES = 100_000_000

CHOICE_VALUES: dict[str, frozenset[str]] = {
    "problem_type": frozenset(o.value for o in PROBLEM_TYPE_OPTIONS),
    "knowledge_change": frozenset(o.value for o in KNOWLEDGE_CHANGE_OPTIONS),
    PROMPT_ENGINEERING: frozenset({"yes", "no"}),
}
SETTLEABLE = ("problem_type", "knowledge_change")


@dataclass(frozen=True)
class DecisionState:
    decision: Decision
    choices: dict[str, TeamChoice]
    failures: FailureCounts
    owners: dict[OwnerRole, str | None]
    labeled_examples: int | None
    labeled_examples_by: str | None
    answers: Answers
    recommendation: Recommendation
    costs: CostEstimate
    context_tests: tuple[ContextTest, ...] = ()
    """Perfect-context tests run by the bot for this decision, oldest first (Q1 evidence)."""

    @property
    def id(self) -> int:
        assert self.decision.id is not None
        return self.decision.id

    @property
    def is_open(self) -> bool:
        return self.decision.status == DecisionStatus.OPEN

    @property
    def participants(self) -> list[str]:
        users = [self.decision.facilitator_id]
        for choice in self.choices.values():
            for voters in choice.votes.values():
                users.extend(voters)
        return list(dict.fromkeys(users))


def build_state(
    decision: Decision,
    answers: Iterable[Answer],
    owners: Iterable[OwnerAssignment],
    counts: dict[str, int],
    tests: Iterable[ContextTest] = (),
) -> DecisionState:
    by_question: dict[str, dict[str, str]] = {}
    labeled: tuple[int, str] | None = None
    for answer in answers:  # oldest first, so the latest answer wins below
        if answer.question == LABELED_EXAMPLES:
            labeled = (int(answer.value), answer.user_id)
        else:
            by_question.setdefault(answer.question, {})[answer.user_id] = answer.value
    settled = {
        "problem_type": decision.settled_problem_type,
        "knowledge_change": decision.settled_knowledge_change,
    }
    choices = {
        key: team_choice(by_question.get(key, {}), settled.get(key)) for key in CHOICE_VALUES
    }
    owner_map: dict[OwnerRole, str | None] = {role: None for role in OwnerRole}
    for owner in owners:
        owner_map[OwnerRole(owner.role)] = owner.user_id
    failures = FailureCounts(
        knowledge=counts.get(FailureCategory.KNOWLEDGE, 0),
        behavior=counts.get(FailureCategory.BEHAVIOR, 0),
        unclear=counts.get(FailureCategory.UNCLEAR, 0),
    )
    pe = choices[PROMPT_ENGINEERING].value
    engine_answers = Answers(
        title=decision.title,
        problem_type=choices["problem_type"].value,
        knowledge_change=choices["knowledge_change"].value,
        prompt_engineering_tried=None if pe is None else pe == "yes",
        failures=failures,
        owners=owner_map,
        labeled_examples=labeled[0] if labeled else None,
    )
    return DecisionState(
        decision=decision,
        choices=choices,
        failures=failures,
        owners=owner_map,
        labeled_examples=labeled[0] if labeled else None,
        labeled_examples_by=labeled[1] if labeled else None,
        answers=engine_answers,
        recommendation=recommend(engine_answers),
        costs=estimate(CostAssumptions(examples_available=labeled[0] if labeled else 0)),
        context_tests=tuple(tests),
    )


async def get_decision(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    for_update: bool = False,
    for_share: bool = False,
) -> Decision:
    decision = await repo.get_decision(
        session=session,
        team_id=team_id,
        decision_id=decision_id,
        for_update=for_update,
        for_share=for_share,
    )
    if decision is None:
        raise NotFound(f"There's no decision #{decision_id} in this workspace.")
    return decision


async def get_channel_decision(
    *, session: AsyncSession, team_id: str, channel_id: str, decision_id: int
) -> Decision:
    """A decision named by id in a channel: only that channel's, so an id can't reach into
    another channel (a private one, say) of the same workspace."""
    decision = await repo.get_decision(session=session, team_id=team_id, decision_id=decision_id)
    if decision is None or decision.channel_id != channel_id:
        raise NotFound(
            f"There's no decision #{decision_id} in this channel. `/ragft list` shows this "
            "channel's decisions."
        )
    return decision


async def load_state(*, session: AsyncSession, team_id: str, decision_id: int) -> DecisionState:
    decision = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    scope = {"session": session, "team_id": team_id, "decision_id": decision_id}
    return build_state(
        decision,
        await repo.list_answers(**scope),
        await repo.list_owners(**scope),
        await repo.failure_counts(**scope),
        await context_tests.list_tests(**scope),
    )


async def _open_decision(
    *, session: AsyncSession, team_id: str, decision_id: int, for_update: bool = False
) -> Decision:
    """The decision, if it is still open. Answers take a shared lock and deciding an exclusive
    one, so a click racing a Decide either lands before the verdict or is told it's frozen, and
    two Decide clicks can't both decide."""
    decision = await get_decision(
        session=session,
        team_id=team_id,
        decision_id=decision_id,
        for_update=for_update,
        for_share=not for_update,
    )
    if decision.status != DecisionStatus.OPEN:
        raise NotAllowed(
            f"Decision #{decision_id} is already {decision.status}, so its answers are frozen. "
            "Start a new one with `/ragft <title>` to revisit it."
        )
    return decision


def _require_facilitator(decision: Decision, user_id: str, action: str) -> None:
    if user_id != decision.facilitator_id:
        raise NotAllowed(
            f"Only the facilitator, <@{decision.facilitator_id}>, can {action}. "
            "Your answers still count: pick an option above."
        )


async def record_choice(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    question: str,
    user_id: str,
    value: str,
) -> repo.AnswerChange:
    if value not in CHOICE_VALUES.get(question, frozenset()):
        raise UserError(f"`{value}` isn't an answer to {question}.")
    await _open_decision(session=session, team_id=team_id, decision_id=decision_id)
    return await repo.record_answer(
        session=session,
        team_id=team_id,
        decision_id=decision_id,
        question=question,
        user_id=user_id,
        value=value,
    )


async def settle(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    question: str,
    user_id: str,
    value: str | None,
) -> Decision:
    """The facilitator settles the team's answer; ``None`` lets the majority decide again."""
    if question not in SETTLEABLE or (value is not None and value not in CHOICE_VALUES[question]):
        raise UserError(f"`{value}` can't settle {question}.")
    decision = await _open_decision(session=session, team_id=team_id, decision_id=decision_id)
    _require_facilitator(decision, user_id, "settle the team's answer")
    setattr(decision, f"settled_{question}", value)
    session.add(decision)
    await session.flush()
    return decision


async def assign_owner(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    role: OwnerRole,
    owner_id: str | None,
    user_id: str,
) -> None:
    await _open_decision(session=session, team_id=team_id, decision_id=decision_id)
    await repo.assign_owner(
        session=session,
        team_id=team_id,
        decision_id=decision_id,
        role=role,
        user_id=owner_id or None,
        assigned_by=user_id,
    )


def parse_labeled_examples(raw: str | None) -> int:
    text = (raw or "").replace(",", "").replace("_", "").strip()
    if not text.isdigit() or int(text) > MAX_LABELED_EXAMPLES:
        raise UserError("Enter the number of labeled examples as a whole number, like 1200.")
    return int(text)


async def set_labeled_examples(
    *, session: AsyncSession, team_id: str, decision_id: int, user_id: str, count: int
) -> None:
    await _open_decision(session=session, team_id=team_id, decision_id=decision_id)
    await repo.record_answer(
        session=session,
        team_id=team_id,
        decision_id=decision_id,
        question=LABELED_EXAMPLES,
        user_id=user_id,
        value=str(count),
    )


@dataclass(frozen=True)
class Categorised:
    failure: ParsedFailure
    category: FailureCategory
    source: CategorySource
    rationale: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    """Tokens the model spent on this item's batch, carried by the batch's first item only, so
    ``log_failures`` can add them up without counting a request twice."""


def categorise_offline(failures: Iterable[ParsedFailure]) -> list[Categorised]:
    results = []
    for failure in failures:
        verdict = classify(failure.explanation)
        results.append(
            Categorised(
                failure, verdict.category, CategorySource(verdict.source), verdict.rationale
            )
        )
    return results


async def categorise(failures: Iterable[ParsedFailure], llm: LLM | None) -> list[Categorised]:
    """Categorise with the model when one is configured, BATCH_SIZE explanations per request.

    A batch the model can't answer usably (API error after retries, timeout, malformed or
    off-schema reply) falls back to the offline classifier; the fallback is logged. Without a
    model this is ``categorise_offline``.
    """
    items = list(failures)
    if llm is None:
        return categorise_offline(items)
    results: list[Categorised] = []
    for start in range(0, len(items), BATCH_SIZE):
        batch = items[start : start + BATCH_SIZE]
        try:
            parsed = await categorise_batch(llm, [f.explanation for f in batch])
        except LLMError:
            log.warning("categorised %d failures offline instead", len(batch))
            results.extend(categorise_offline(batch))
            continue
        usage = parsed.usage
        for i, (failure, item) in enumerate(zip(batch, parsed.value, strict=True)):
            results.append(
                Categorised(
                    failure,
                    FailureCategory(item.category),
                    CategorySource.LLM,
                    item.rationale,
                    prompt_tokens=usage.prompt_tokens if i == 0 else 0,
                    completion_tokens=usage.completion_tokens if i == 0 else 0,
                )
            )
    return results


async def log_failures(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    user_id: str,
    failures: list[Categorised],
    at: datetime | None = None,
) -> list[FailureExample]:
    await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    await add_usage(
        session=session,
        team_id=team_id,
        decision_id=decision_id,
        prompt_tokens=sum(item.prompt_tokens for item in failures),
        completion_tokens=sum(item.completion_tokens for item in failures),
    )
    return await repo.add_failures(
        session=session,
        team_id=team_id,
        decision_id=decision_id,
        logged_by=user_id,
        at=at,
        failures=[
            repo.NewFailure(
                explanation=item.failure.explanation,
                output=item.failure.output,
                permalink=item.failure.permalink,
                category=item.category,
                category_source=item.source,
                rationale=item.rationale,
            )
            for item in failures
        ],
    )


async def correct_failure(
    *, session: AsyncSession, team_id: str, failure_id: int, category: str, user_id: str
) -> FailureExample:
    if category not in set(FailureCategory):
        raise UserError(f"`{category}` isn't a failure category.")
    failure = await repo.correct_failure_category(
        session=session,
        team_id=team_id,
        failure_id=failure_id,
        category=category,
        corrected_by=user_id,
    )
    if failure is None:
        raise NotFound("That failure no longer exists.")
    return failure


async def decide(
    *, session: AsyncSession, team_id: str, decision_id: int, user_id: str, is_admin: bool
) -> DecisionState:
    decision = await _open_decision(
        session=session, team_id=team_id, decision_id=decision_id, for_update=True
    )
    if user_id != decision.facilitator_id and not is_admin:
        raise NotAllowed(
            f"Thanks! Only the facilitator, <@{decision.facilitator_id}>, or a workspace admin "
            "can make the call. Nothing has changed; keep adding your answers."
        )
    state = await load_state(session=session, team_id=team_id, decision_id=decision_id)
    await repo.mark_decided(
        session=session,
        decision=decision,
        verdict=state.recommendation.verdict,
        decided_by=user_id,
    )
    return await load_state(session=session, team_id=team_id, decision_id=decision_id)


async def record_final_choice(
    *,
    session: AsyncSession,
    team_id: str,
    decision_id: int,
    user_id: str,
    choice: str,
    reason: str | None,
) -> Decision:
    """Accept the verdict (choice == verdict) or record a different choice with its reason."""
    decision = await get_decision(session=session, team_id=team_id, decision_id=decision_id)
    if decision.status != DecisionStatus.DECIDED:
        raise NotAllowed(f"Decision #{decision_id} has no verdict to accept yet.")
    if user_id != decision.facilitator_id:
        raise NotAllowed(
            f"Only the facilitator, <@{decision.facilitator_id}>, can accept or change the verdict."
        )
    if choice not in set(Verdict):
        raise UserError(f"`{choice}` isn't a choice.")
    if choice != decision.verdict and not (reason or "").strip():
        raise UserError("Say why you're choosing differently from the verdict.")
    decision.final_choice = choice
    decision.final_choice_reason = (reason or "").strip() or None
    session.add(decision)
    await session.flush()
    return decision
