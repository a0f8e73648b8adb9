"""The quarterly error analysis the team does: a review period's failures read 10 at a time, each
category confirmed or changed by a person (through the same path as Review & correct, so it
counts as human-set and feeds the review's conditions and the revisit nudges), a note naming
its failure mode, and saturation after each batch.

Public calls own their transaction and check everything through ``guards``."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.errors import NotAllowed, NotFound, UserError
from bot.domain.failure_modes import (
    BATCH_SIZE,
    ModeCount,
    Note,
    batch_count,
    batch_of,
    group_modes,
    new_modes_in,
    reading_order,
    saturation,
    top_modes,
)
from bot.domain.lifecycle import ReminderKind, ReminderStatus
from bot.domain.questions import FailureCategory
from bot.services import guards
from bot.services.analysis_views import BatchDone, BatchView, Changed, ReadItem, Started
from bot.services.failure_logging import correct_failure_in
from bot.services.review_routine import queue_revisit_check
from storage.models import AnalysisSession, Decision, FailureExample
from storage.repositories import analysis_repo, failure_repo, reminder_repo

NOTE_LIMIT = 300


async def _period_start(
    session: AsyncSession, decision: Decision, period_end: datetime
) -> datetime:
    """The review that ended at ``period_end`` covered failures since the review before it (or
    the decision). A period no review was sent for is a stale or forged button."""
    assert decision.id is not None and decision.decided_at is not None
    sent = await reminder_repo.list_for_decision(
        session=session,
        team_id=decision.team_id,
        decision_id=decision.id,
        statuses=[ReminderStatus.SENT],
    )
    ends = [
        datetime.fromisoformat(r.payload["period_end"])
        for r in sent
        if r.kind == ReminderKind.QUARTERLY_REVIEW and "period_end" in r.payload
    ]
    if period_end not in ends:
        raise NotFound("That review is out of date, so there's nothing to analyse from it.")
    return max([decision.decided_at, *(e for e in ends if e < period_end)])


async def _view(session: AsyncSession, analysis: AnalysisSession, batch: int) -> BatchView:
    assert analysis.id is not None
    decision = await guards.decision_in_team(
        session=session, team_id=analysis.team_id, decision_id=analysis.decision_id
    )
    start = batch * BATCH_SIZE
    ids = analysis.failure_ids[start : start + BATCH_SIZE]
    failures = await analysis_repo.failures_by_id(
        session=session, team_id=analysis.team_id, failure_ids=ids, fresh=True
    )
    readings = {
        r.failure_id: r
        for r in await analysis_repo.list_readings(
            session=session, team_id=analysis.team_id, analysis_id=analysis.id
        )
    }
    items = [
        ReadItem(start + n, failures[fid], readings.get(fid))
        for n, fid in enumerate(ids)
        if fid in failures
    ]
    return BatchView(analysis=analysis, decision=decision, batch=batch, items=items)


async def start_analysis(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    decision_id: int,
    period_end: datetime,
    user_id: str,
    seed: int | None = None,
) -> Started:
    """Start reading the failures of the review that ended at ``period_end``: all of them (up
    to SAMPLE_LIMIT) in a random order, the ones no person categorised first. One analysis per
    review: a second click gets the one under way."""
    async with session.begin():
        decision = await guards.in_channel(session, team_id, channel_id, decision_id, lock=True)
        guards.require_decided(decision, "analyse")
        existing = await analysis_repo.session_for_period(
            session=session, team_id=team_id, decision_id=decision_id, period_end=period_end
        )
        if existing is not None:
            latest = min(existing.batches_shown, batch_count(len(existing.failure_ids))) - 1
            return Started(await _view(session, existing, latest), False)
        start = await _period_start(session, decision, period_end)
        failures = [
            f
            for f in await failure_repo.list_failures(
                session=session, team_id=team_id, decision_id=decision_id, since=start
            )
            if f.logged_at <= period_end and f.id is not None
        ]
        if not failures:
            raise UserError(
                "No failures were logged in this review's period, so there's nothing to read "
                "yet. Log them as they happen, then start the analysis at the next review."
            )
        seed = secrets.randbelow(2**31) if seed is None else seed
        order = reading_order(((f.id or 0, f.category_source) for f in failures), seed)
        analysis = await analysis_repo.create_session(
            session=session,
            team_id=team_id,
            decision_id=decision_id,
            period_start=start,
            period_end=period_end,
            seed=seed,
            failure_ids=order,
            created_by=user_id,
        )
        return Started(await _view(session, analysis, 0), True)


async def batch_view(
    *, session: AsyncSession, team_id: str, analysis_id: int, batch: int
) -> BatchView:
    """A batch as it stands, for re-rendering its message (the bot's own work: by team)."""
    async with session.begin():
        analysis = await analysis_repo.get_session(
            session=session, team_id=team_id, analysis_id=analysis_id
        )
        if analysis is None:
            raise NotFound("That error analysis no longer exists.")
        return await _view(session, analysis, batch)


async def _reading(
    session: AsyncSession,
    scope: tuple[str, str, int],
    failure_id: int,
    user_id: str,
    **change: str | None,
) -> tuple[AnalysisSession, Decision, FailureExample]:
    team_id, channel_id, analysis_id = scope
    analysis, decision = await guards.analysis_in_channel(session, team_id, channel_id, analysis_id)
    guards.require_in_sample(analysis, failure_id)
    _, history = await analysis_repo.record_reading(
        session=session,
        team_id=team_id,
        analysis_id=analysis_id,
        failure_id=failure_id,
        read_by=user_id,
        **change,
    )
    # Read after the reading's lock: the category the last reader left.
    found = await analysis_repo.failures_by_id(
        session=session, team_id=team_id, failure_ids=[failure_id], fresh=True
    )
    if failure_id not in found:
        raise NotFound("That failure no longer exists.")
    history.old_category = found[failure_id].category
    session.add(history)
    return analysis, decision, found[failure_id]


def _changed(analysis: AnalysisSession, failure_id: int) -> Changed:
    assert analysis.id is not None
    batch = batch_of(analysis.failure_ids.index(failure_id))
    return Changed(analysis.team_id, analysis.id, batch, analysis.decision_id)


async def read_failure(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    analysis_id: int,
    failure_id: int,
    category: str,
    user_id: str,
    now: datetime,
) -> Changed:
    """A reader confirms or changes a failure's category. Either way a person has now set it:
    it counts as human-set, the review's conditions use it, and the next sweep re-checks the
    revisit nudges."""
    if category not in set(FailureCategory):
        raise UserError(f"`{category}` isn't a failure category.")
    async with session.begin():
        scope = (team_id, channel_id, analysis_id)
        analysis, decision, _ = await _reading(
            session, scope, failure_id, user_id, category=category
        )
        assert decision.id is not None
        await correct_failure_in(session, team_id, decision.id, failure_id, category, user_id)
        await queue_revisit_check(session=session, decision=decision, now=now)
        return _changed(analysis, failure_id)


async def note_failure(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    analysis_id: int,
    failure_id: int,
    note: str,
    user_id: str,
) -> Changed:
    """The failure mode in the team's words; an empty note clears it."""
    text = " ".join(note.split())
    if len(text) > NOTE_LIMIT:
        raise UserError(f"Keep the note under {NOTE_LIMIT} characters: name the failure mode.")
    async with session.begin():
        scope = (team_id, channel_id, analysis_id)
        analysis, _, _ = await _reading(session, scope, failure_id, user_id, note=text or None)
        return _changed(analysis, failure_id)


async def note_of(
    *, session: AsyncSession, team_id: str, channel_id: str, analysis_id: int, failure_id: int
) -> tuple[FailureExample, str | None]:
    """A failure of the analysis and its current note, for the note form."""
    async with session.begin():
        analysis, _ = await guards.analysis_in_channel(session, team_id, channel_id, analysis_id)
        guards.require_in_sample(analysis, failure_id)
        found = await analysis_repo.failures_by_id(
            session=session, team_id=team_id, failure_ids=[failure_id]
        )
        if failure_id not in found:
            raise NotFound("That failure no longer exists.")
        readings = await analysis_repo.list_readings(
            session=session, team_id=team_id, analysis_id=analysis_id
        )
        note = next((r.note for r in readings if r.failure_id == failure_id), None)
        return found[failure_id], note


async def _notes(session: AsyncSession, analysis: AnalysisSession) -> tuple[list[Note], int]:
    """The analysis's notes, and how many failures have a category from a reader."""
    assert analysis.id is not None
    readings = await analysis_repo.list_readings(
        session=session, team_id=analysis.team_id, analysis_id=analysis.id
    )
    failures = await analysis_repo.failures_by_id(
        session=session, team_id=analysis.team_id, failure_ids=[r.failure_id for r in readings]
    )
    position = {fid: n for n, fid in enumerate(analysis.failure_ids)}
    notes = [
        Note(
            text=r.note,
            category=r.category or failures[r.failure_id].category,
            batch=batch_of(position[r.failure_id]),
        )
        for r in readings
        if r.note and r.failure_id in failures and r.failure_id in position
    ]
    return notes, sum(1 for r in readings if r.category)


async def next_batch(
    *,
    session: AsyncSession,
    team_id: str,
    channel_id: str,
    analysis_id: int,
    batch: int,
    user_id: str,
) -> BatchDone:
    """A batch is read: what it added, and the next one (the first click moves it on)."""
    async with session.begin():
        analysis, _ = await guards.analysis_in_channel(
            session, team_id, channel_id, analysis_id, lock=True
        )
        guards.require_current_batch(analysis, batch)
        current = await _view(session, analysis, batch)
        left = sum(1 for item in current.items if not item.read)
        if left:
            raise NotAllowed(
                f"{left} of this batch's failures still need a category: confirm or change "
                "each one, then move on."
            )
        notes, read = await _notes(session, analysis)
        modes = group_modes(notes)
        analysis.batches_shown = batch + 2  # past the end once the last batch is closed
        session.add(analysis)
        await session.flush()
        following = None if current.is_last else await _view(session, analysis, batch + 1)
        return BatchDone(
            decision=current.decision,
            saturation=saturation(modes, batch),
            new=new_modes_in(modes, batch),
            top=top_modes(modes),
            read=read,
            total=current.total,
            next=following,
        )


async def save_batch_ts(
    *, session: AsyncSession, team_id: str, analysis_id: int, batch: int, ts: str
) -> None:
    async with session.begin():
        analysis = await analysis_repo.get_session(
            session=session, team_id=team_id, analysis_id=analysis_id, for_update=True
        )
        if analysis is None:
            return
        analysis.message_ts = {**analysis.message_ts, str(batch): ts}
        session.add(analysis)


async def failure_modes_found(
    *, session: AsyncSession, team_id: str, decision_id: int
) -> list[ModeCount]:
    """Every failure mode the team's analyses of this decision named, most frequent first."""
    async with session.begin():
        notes: list[Note] = []
        for analysis in await analysis_repo.list_sessions(
            session=session, team_id=team_id, decision_id=decision_id
        ):
            notes.extend((await _notes(session, analysis))[0])
        found = group_modes(notes)
        return [ModeCount(m.label, m.category, m.count) for m in top_modes(found, len(found))]
