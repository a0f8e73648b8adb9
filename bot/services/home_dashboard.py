"""The App Home's dashboard for one person: what needs them, the reviews coming up, and what
was decided, only from the channels Slack says they're in. Read-only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.lifecycle import DecisionStatus
from bot.domain.questions import (
    ANALYSIS_TARGET,
    ANSWER_LABELS,
    OWNER_ROLE_LABELS,
    REQUIRED_OWNER_ROLES,
    AnswerKey,
    OwnerRole,
)
from bot.domain.tallies import Tally
from bot.services import guards
from bot.services.state import DecisionState, build_state
from storage.models import Answer, Decision, OwnerAssignment
from storage.repositories import dashboard_repo, decision_repo

COMING_UP_DAYS = 30
LOAD_LIMIT = 200
"""Decisions of each kind (open, decided) read for one Home; the Home shows fewer."""
PERSONAL_ANSWERS = (AnswerKey.PROBLEM_TYPE, AnswerKey.KNOWLEDGE_CHANGE)
"""The questions everybody is asked to answer themselves (Q1 and Q2)."""


@dataclass(frozen=True)
class NeedsYou:
    state: DecisionState
    facilitating: bool
    owns: tuple[OwnerRole, ...]
    unanswered: tuple[AnswerKey, ...]
    """The questions this person hasn't answered."""
    missing: tuple[str, ...]
    """What the team still lacks, one short phrase per question."""


@dataclass(frozen=True)
class DecidedItem:
    state: DecisionState
    since: Tally
    """Failures logged since the decision."""


@dataclass(frozen=True)
class Dashboard:
    needs_you: list[NeedsYou]
    coming_up: list[DecidedItem]
    decided: list[DecidedItem]

    @property
    def empty(self) -> bool:
        return not (self.needs_you or self.coming_up or self.decided)


def missing_parts(state: DecisionState) -> tuple[str, ...]:
    parts = []
    for key in PERSONAL_ANSWERS:
        if state.choices[key].value is None:
            parts.append(f"Q{1 if key == AnswerKey.PROBLEM_TYPE else 2} {ANSWER_LABELS[key]}")
    analysed = state.failures.knowledge + state.failures.behavior + state.failures.unclear
    if analysed < ANALYSIS_TARGET:
        parts.append(f"Q3 failures ({analysed} of {ANALYSIS_TARGET} explained)")
    empty = [OWNER_ROLE_LABELS[r] for r in REQUIRED_OWNER_ROLES if state.owners.get(r) is None]
    if empty:
        parts.append("Q4 owners: " + ", ".join(empty))
    if state.labeled_examples is None:
        parts.append(f"Q4 {ANSWER_LABELS[AnswerKey.LABELED_EXAMPLES].lower()}")
    return tuple(parts)


def needs_you(state: DecisionState, user_id: str) -> NeedsYou | None:
    """Why an open decision needs this person, or None when it doesn't."""
    facilitating = state.decision.facilitator_id == user_id
    owns = tuple(role for role, owner in state.owners.items() if owner == user_id)
    unanswered = tuple(
        key
        for key in PERSONAL_ANSWERS
        if not any(user_id in voters for voters in state.choices[key].votes.values())
    )
    if not (facilitating or owns or unanswered):
        return None
    return NeedsYou(state, facilitating, owns, unanswered, missing_parts(state))


async def _states(
    session: AsyncSession, team_id: str, decisions: list[Decision], since_decided: bool
) -> list[tuple[DecisionState, dict[str, int]]]:
    ids = [d.id for d in decisions if d.id is not None]
    scope = {"session": session, "team_id": team_id, "decision_ids": ids}
    answers = await dashboard_repo.answers_of(**scope)
    owners = await dashboard_repo.owners_of(**scope)
    counts = await dashboard_repo.failure_counts_of(**scope, since_decided=False)
    since = (
        await dashboard_repo.failure_counts_of(**scope, since_decided=True) if since_decided else {}
    )
    answers_by: dict[int, list[Answer]] = defaultdict(list)
    for answer in answers:  # oldest first, kept in order
        answers_by[answer.decision_id].append(answer)
    owners_by: dict[int, list[OwnerAssignment]] = defaultdict(list)
    for owner in owners:
        owners_by[owner.decision_id].append(owner)
    found = []
    for d in decisions:
        assert d.id is not None
        state = build_state(d, answers_by[d.id], owners_by[d.id], counts.get(d.id, {}))
        found.append((state, since.get(d.id, {})))
    return found


def _tally(counts: dict[str, int]) -> Tally:
    return Tally(counts.get("knowledge", 0), counts.get("behavior", 0), counts.get("unclear", 0))


async def dashboard(
    *,
    session: AsyncSession,
    team_id: str,
    user_id: str,
    channel_ids: frozenset[str],
    now: datetime,
) -> Dashboard:
    async with session.begin():
        scope = {"session": session, "team_id": team_id, "channel_ids": channel_ids}
        open_ = list(
            await dashboard_repo.decisions_in_channels(
                **scope, statuses=[DecisionStatus.OPEN], limit=LOAD_LIMIT
            )
        )
        decided = list(
            await dashboard_repo.decisions_in_channels(
                **scope, statuses=[DecisionStatus.DECIDED], limit=LOAD_LIMIT
            )
        )
        open_states = await _states(session, team_id, open_, since_decided=False)
        decided_states = await _states(session, team_id, decided, since_decided=True)
    needs = [n for state, _ in open_states if (n := needs_you(state, user_id)) is not None]
    items = [DecidedItem(state, _tally(since)) for state, since in decided_states]
    horizon = now + timedelta(days=COMING_UP_DAYS)
    coming = sorted(
        (
            i
            for i in items
            if i.state.decision.next_review_at is not None
            and _aware(i.state.decision.next_review_at) <= horizon
        ),
        key=lambda i: _aware(i.state.decision.next_review_at),  # type: ignore[arg-type]
    )
    items.sort(key=lambda i: _aware(i.state.decision.decided_at or now), reverse=True)
    return Dashboard(needs_you=needs, coming_up=coming, decided=items)


def _aware(moment: datetime | None) -> datetime:
    """SQLite gives naive datetimes back; they are UTC."""
    assert moment is not None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def home_decision(
    *, session: AsyncSession, team_id: str, decision_id: int, channel_ids: frozenset[str]
) -> Decision:
    """A decision acted on from the Home: this workspace's, in a channel the person is in."""
    async with session.begin():
        decision = await guards.decision_in_team(
            session=session, team_id=team_id, decision_id=decision_id
        )
        guards.require_visible(decision, channel_ids)
        return decision


async def people_involved(*, session: AsyncSession, team_id: str, decision_id: int) -> list[str]:
    """Whose Home shows this decision prominently: the facilitator, whoever answered, the
    owners and whoever decided."""
    async with session.begin():
        decision = await decision_repo.get_decision(
            session=session, team_id=team_id, decision_id=decision_id
        )
        if decision is None:
            return []
        [(state, _)] = await _states(session, team_id, [decision], since_decided=False)
    people = [*state.participants, *(o for o in state.owners.values() if o)]
    if decision.decided_by:
        people.append(decision.decided_by)
    return list(dict.fromkeys(people))
