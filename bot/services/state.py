"""A decision's state as everything shows it: the team's answers, failures, owners, the rule's
recommendation and the costs, loaded in one place.

Once decided, a decision is shown as it was at the decision: its frozen snapshot replaces the
live answers, failures, owners, conditions, verdict and costs. What happened since is kept
apart (``since_decision``, ``rule_now``), for the places that label it so."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.cost_assumptions import overrides_from_json
from bot.domain.costs import CostEstimate, estimate_for
from bot.domain.decision_snapshot import Amendment, DecisionSnapshot, take_snapshot
from bot.domain.lifecycle import DecisionStatus
from bot.domain.questions import CHOICE_LABELS, AnswerKey, FailureCategory, OwnerRole
from bot.domain.record_facts import RecordFacts
from bot.domain.rule import Answers, FailureCounts, Recommendation, recommend
from bot.domain.team_choice import TeamChoice, team_choice
from bot.services.guards import decision_in_team
from storage.models import ContextTest, Decision
from storage.repositories import context_test_repo, failure_repo, record_repo, state_rows_repo


@dataclass(frozen=True)
class DecisionState:
    decision: Decision
    choices: dict[AnswerKey, TeamChoice]
    failures: FailureCounts
    owners: dict[OwnerRole, str | None]
    labeled_examples: int | None
    labeled_examples_by: str | None
    answers: Answers
    recommendation: Recommendation
    costs: CostEstimate
    context_tests: tuple[ContextTest, ...] = ()
    """Perfect-context tests run by the bot for this decision, oldest first (Q1 evidence)."""
    snapshot: DecisionSnapshot | None = None
    """What the decision was made on (None while open, and for decisions decided before ragft
    kept snapshots)."""
    amendments: tuple[Amendment, ...] = ()
    """Changes of the outcome or the costs after the decision, oldest first."""
    since_decision: FailureCounts | None = None
    """Failures logged since the decision (None without a snapshot)."""
    live_recommendation: Recommendation | None = None
    """What the rule says on today's data, when that differs from ``recommendation`` (the
    recommendation at the decision)."""

    @property
    def id(self) -> int:
        assert self.decision.id is not None
        return self.decision.id

    @property
    def is_open(self) -> bool:
        return self.decision.status == DecisionStatus.OPEN

    @property
    def outcome(self) -> str | None:
        """What the team chose (a ``Verdict`` value, never not ready): the facilitator's choice
        (latest amendment included), else the rule's verdict once decided; None while open."""
        return self.decision.final_choice or self.decision.verdict

    @property
    def chose_differently(self) -> bool:
        """The outcome isn't the rule's verdict."""
        return bool(self.decision.final_choice) and self.decision.final_choice != (
            self.decision.verdict
        )

    @property
    def rule_now(self) -> Recommendation:
        """What the rule says on today's data (for places labelled "since the decision")."""
        return self.live_recommendation or self.recommendation

    @property
    def participants(self) -> list[str]:
        if self.snapshot is not None:
            return list(self.snapshot.participants)
        users = [self.decision.facilitator_id]
        for choice in self.choices.values():
            for voters in choice.votes.values():
                users.extend(voters)
        return list(dict.fromkeys(users))

    def record(self) -> RecordFacts:
        d = self.decision
        return RecordFacts(
            id=self.id,
            title=d.title,
            status=d.status,
            created_at=d.created_at,
            facilitator_id=d.facilitator_id,
            decided_at=d.decided_at,
            decided_by=d.decided_by,
            verdict=d.verdict,
            final_choice=d.final_choice,
            final_choice_reason=d.final_choice_reason,
            outcome=self.outcome,
            amendments=self.amendments,
            since_decision=self.since_decision,
            context_summary=d.context_summary,
            next_review_at=d.next_review_at,
            choices=self.choices,
            failures=self.failures,
            owners=self.owners,
            labeled_examples=self.labeled_examples,
            labeled_examples_by=self.labeled_examples_by,
            participants=self.participants,
            recommendation=self.recommendation,
            costs=self.costs,
        )


class AnswerLike(Protocol):
    """An ``Answer`` row, or just its columns that make the state."""

    @property
    def question(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def value(self) -> str: ...


class OwnerLike(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def user_id(self) -> str | None: ...


def build_state(
    decision: Decision,
    answers: Iterable[AnswerLike],
    owners: Iterable[OwnerLike],
    counts: dict[str, int],
    tests: Iterable[ContextTest] = (),
    snapshot: DecisionSnapshot | None = None,
    amendments: Iterable[Amendment] = (),
    since: dict[str, int] | None = None,
) -> DecisionState:
    by_question: dict[str, dict[str, str]] = {}
    labeled: tuple[int, str] | None = None
    for answer in answers:  # oldest first, so the latest answer wins below
        if answer.question == AnswerKey.LABELED_EXAMPLES:
            labeled = (int(answer.value), answer.user_id)
        else:
            by_question.setdefault(answer.question, {})[answer.user_id] = answer.value
    settled = {
        AnswerKey.PROBLEM_TYPE: decision.settled_problem_type,
        AnswerKey.KNOWLEDGE_CHANGE: decision.settled_knowledge_change,
    }
    choices = {
        key: team_choice(by_question.get(key, {}), settled.get(key)) for key in CHOICE_LABELS
    }
    owner_map: dict[OwnerRole, str | None] = {role: None for role in OwnerRole}
    for owner in owners:
        owner_map[OwnerRole(owner.role)] = owner.user_id
    failures = FailureCounts(
        knowledge=counts.get(FailureCategory.KNOWLEDGE, 0),
        behavior=counts.get(FailureCategory.BEHAVIOR, 0),
        unclear=counts.get(FailureCategory.UNCLEAR, 0),
    )
    pe = choices[AnswerKey.PROMPT_ENGINEERING].value
    engine_answers = Answers(
        title=decision.title,
        problem_type=choices[AnswerKey.PROBLEM_TYPE].value,
        knowledge_change=choices[AnswerKey.KNOWLEDGE_CHANGE].value,
        prompt_engineering_tried=None if pe is None else pe == "yes",
        failures=failures,
        owners=owner_map,
        labeled_examples=labeled[0] if labeled else None,
    )
    live = DecisionState(
        decision=decision,
        choices=choices,
        failures=failures,
        owners=owner_map,
        labeled_examples=labeled[0] if labeled else None,
        labeled_examples_by=labeled[1] if labeled else None,
        answers=engine_answers,
        recommendation=recommend(engine_answers),
        costs=estimate_for(engine_answers, overrides_from_json(decision.cost_overrides)),
        context_tests=tuple(tests),
    )
    if snapshot is None:
        return live
    return at_the_decision(live, snapshot, tuple(amendments), _counts(since or {}))


def _counts(counts: dict[str, int]) -> FailureCounts:
    return FailureCounts(
        knowledge=counts.get(FailureCategory.KNOWLEDGE, 0),
        behavior=counts.get(FailureCategory.BEHAVIOR, 0),
        unclear=counts.get(FailureCategory.UNCLEAR, 0),
    )


def at_the_decision(
    live: DecisionState,
    snapshot: DecisionSnapshot,
    amendments: tuple[Amendment, ...] = (),
    since: FailureCounts | None = None,
) -> DecisionState:
    """The state shown for a decided decision: the snapshot, with today's data kept apart."""
    frozen_owners = {role: snapshot.owners.get(role) for role in OwnerRole}
    return DecisionState(
        decision=live.decision,
        choices=snapshot.team_choices(),
        failures=snapshot.failures,
        owners=frozen_owners,
        labeled_examples=snapshot.labeled_examples,
        labeled_examples_by=snapshot.labeled_examples_by,
        answers=live.answers,
        recommendation=snapshot.recommendation(),
        costs=snapshot.cost_estimate(),
        context_tests=live.context_tests,
        snapshot=snapshot,
        amendments=amendments,
        since_decision=since,
        live_recommendation=live.recommendation,
    )


def snapshot_now(
    state: DecisionState, *, decided_by: str, decided_at: datetime
) -> DecisionSnapshot:
    """Freeze the live state: what the decision is being made on."""
    return take_snapshot(
        choices=state.choices,
        failures=state.failures,
        owners=state.owners,
        labeled_examples=state.labeled_examples,
        labeled_examples_by=state.labeled_examples_by,
        recommendation=state.recommendation,
        costs=state.costs,
        participants=state.participants,
        decided_by=decided_by,
        decided_at=decided_at,
    )


async def load_state(*, session: AsyncSession, team_id: str, decision_id: int) -> DecisionState:
    """The state of a decision already checked (or found) by the caller."""
    decision = await decision_in_team(session=session, team_id=team_id, decision_id=decision_id)
    return await state_of(session=session, decision=decision)


async def state_of(*, session: AsyncSession, decision: Decision) -> DecisionState:
    assert decision.id is not None
    scope = {"session": session, "team_id": decision.team_id, "decision_id": decision.id}
    # Only deciding stores a snapshot, and it sets decided_at then: an undecided decision has none.
    raw = await record_repo.get_snapshot(**scope) if decision.decided_at is not None else None
    snapshot = DecisionSnapshot.model_validate(raw) if raw else None
    amendments: list[Amendment] = []
    since = None
    if snapshot is not None:
        since = await failure_repo.failure_counts(**scope, since=snapshot.decided_at)
        amendments = [
            Amendment(
                amended_by=a.amended_by,
                amended_at=a.amended_at,
                from_outcome=a.from_outcome,
                to_outcome=a.to_outcome,
                reason=a.reason,
                kind=a.kind,
            )
            for a in await record_repo.list_amendments(**scope)
        ]
    rows = await state_rows_repo.state_rows(**scope)
    tests = await context_test_repo.list_tests(**scope) if rows.context_tests else ()
    return build_state(
        decision,
        rows.answers,
        rows.owners,
        rows.failure_counts,
        tests,
        snapshot=snapshot,
        amendments=amendments,
        since=since,
    )
