"""Saving failures, however they arrive: the Q3 modal, a thread mention, the shortcut, /ragft log.

One path, so every failure refreshes the thread's tally and, once a decision is decided, asks the
next sweep to check the revisit-nudge rules.
"""

from __future__ import annotations

from bot.domain.failure_lines import ParsedFailure
from bot.domain.questions import QuestionKey
from bot.services import review_routine as routine
from bot.services import state as decisions
from handlers.runtime import Runtime
from handlers.thread import refresh
from storage.models import Decision, utcnow

FAILURE_KEYS = [QuestionKey.FAILURES, "root"]


async def save_failures(
    runtime: Runtime,
    team_id: str,
    decision_id: int,
    user_id: str,
    categorised: list[decisions.Categorised],
) -> Decision:
    async with runtime.sessions() as session, session.begin():
        await decisions.log_failures(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            user_id=user_id,
            failures=categorised,
        )
        await routine.note_failures(
            session=session, team_id=team_id, decision_id=decision_id, now=utcnow()
        )
        decision = await decisions.get_decision(
            session=session, team_id=team_id, decision_id=decision_id
        )
    await refresh(runtime, team_id, decision_id, FAILURE_KEYS)
    return decision


async def log_failures(
    runtime: Runtime, team_id: str, decision_id: int, user_id: str, items: list[ParsedFailure]
) -> tuple[Decision, list[decisions.Categorised]]:
    """Categorise (with the model when configured, else offline) and save."""
    categorised = await decisions.categorise(items, runtime.llm)
    decision = await save_failures(runtime, team_id, decision_id, user_id, categorised)
    return decision, categorised
