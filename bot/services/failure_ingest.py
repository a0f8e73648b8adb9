"""Failures from outside Slack: the ingestion API and ``ragft failures import``. Validated by
``bot.domain.ingest_schema``, categorised like the Q3 modal (a given category is a person's),
and saved through ``failure_logging.save_failures``, so they are deduplicated and counted exactly
like failures logged in Slack."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.failure_dedup import FailureSource, dedup_key
from bot.domain.failure_lines import ParsedFailure
from bot.domain.ingest_schema import FailureIn
from bot.domain.questions import CategorySource, FailureCategory
from bot.llm.client import LLM
from bot.services import guards
from bot.services.failure_logging import Categorised, categorise, save_failures
from storage.repositories import decision_repo, failure_repo


@dataclass
class Ingested:
    accepted: int = 0
    duplicates: int = 0
    decisions: set[int] = field(default_factory=set)
    """The decisions that got new failures."""


async def check_decisions(*, session: AsyncSession, team_id: str, decision_ids: set[int]) -> None:
    """NotFound for an unknown decision, NotAllowed for another workspace's (nothing stored)."""
    async with session.begin():
        teams = await decision_repo.teams_of(session=session, decision_ids=decision_ids)
        guards.token_owned_by(team_id, teams, decision_ids)


def _parsed(item: FailureIn) -> ParsedFailure:
    return ParsedFailure(
        explanation=item.explanation or "", output=item.output, permalink=item.link
    )


async def _new_only(
    session: AsyncSession, team_id: str, decision_id: int, items: Sequence[FailureIn]
) -> list[FailureIn]:
    """The items the decision doesn't have yet, so no model tokens go on duplicates."""
    keys = {id(item): dedup_key(item.explanation, item.output, item.link) for item in items}
    async with session.begin():
        known_keys, known_ids = await failure_repo.already_stored(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            keys=keys.values(),
            external_ids=[item.external_id for item in items if item.external_id],
        )
    return [
        item
        for item in items
        if keys[id(item)] not in known_keys and (item.external_id or "") not in known_ids
    ]


async def ingest_failures(
    *,
    session: AsyncSession,
    team_id: str,
    failures: Sequence[FailureIn],
    source: FailureSource,
    logged_by: str,
    llm: LLM | None,
) -> Ingested:
    """Store valid failures for this workspace's decisions; NotFound or NotAllowed, with nothing
    stored, when one names an unknown decision or another workspace's."""
    by_decision: dict[int, list[FailureIn]] = defaultdict(list)
    for item in failures:
        by_decision[item.decision].append(item)
    await check_decisions(session=session, team_id=team_id, decision_ids=set(by_decision))
    result = Ingested()
    for decision_id, items in by_decision.items():
        fresh = await _new_only(session, team_id, decision_id, items)
        result.duplicates += len(items) - len(fresh)
        to_categorise = [item for item in fresh if item.category is None]
        categorised = iter(await categorise([_parsed(item) for item in to_categorise], llm))
        ready: list[Categorised] = []
        for item in fresh:
            if item.category is None:
                ready.append(_with_id(next(categorised), item.external_id))
            else:
                ready.append(
                    Categorised(
                        _parsed(item),
                        FailureCategory(item.category),
                        CategorySource.HUMAN,
                        "",
                        external_id=item.external_id,
                    )
                )
        if not ready:
            continue
        logged = await save_failures(
            session=session,
            team_id=team_id,
            channel_id=None,
            decision_id=decision_id,
            user_id=logged_by[:32],
            failures=ready,
            source=source,
        )
        result.accepted += len(logged.stored)
        result.duplicates += logged.duplicates
        if logged.stored:
            result.decisions.add(decision_id)
    return result


def _with_id(item: Categorised, external_id: str | None) -> Categorised:
    return Categorised(
        item.failure,
        item.category,
        item.source,
        item.rationale,
        item.prompt_tokens,
        item.completion_tokens,
        external_id=external_id,
    )


async def arrivals(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> tuple[dict[str, int], datetime | None]:
    """Where a decision's failures came from, and when the last one arrived."""
    async with session.begin():
        return await failure_repo.arrivals(
            session=session, team_id=team_id, decision_id=decision_id
        )


async def workspaces(*, session: AsyncSession) -> list[str]:
    """The workspaces with decisions in this database (for the command line)."""
    async with session.begin():
        return await decision_repo.team_ids(session=session)
