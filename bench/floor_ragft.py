"""The CPU of ragft's own transactions, in this process: what each kind of the mix spends in the
database through ragft's services, against the floor's one INSERT per transaction.

The floor (``bench.floor``) charges each transaction one statement. ragft's make more, each for
a reason: the guard's read of the decision (team, channel, still open), the audit row of an
answer, the reminder a new decision gets, the event claim that drops Slack's retries, the
leases and version reads of a round of updates. This measures those services as the server
calls them, on the same database and pool, as many at a time as the pool holds, so the floor
can be restated with them: what is left above that is ragft's code around the calls.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

from bench.common import cpu_per_call
from bot.domain.failure_lines import parse_failure_line
from bot.domain.questions import MessageKey
from bot.services import answering, decision_records, failure_logging, render_claims
from bot.settings import normalize_database_url
from storage.db import create_engine, session_factory
from storage.migrate import upgrade

TEAM, CHANNEL, USER = "T0FLOORRG", "C0FLOORRG", "U0FLOORRG"
CALLS = 300
SPREAD = 50
"""Clicks, mentions and rounds go round this many decisions, as the bench's go round its 12."""
ROUND_KEYS = (MessageKey.ROOT, MessageKey.PROBLEM_TYPE)
"""What one click's round updates: its question and the root."""


async def ragft_costs(url: str) -> dict[str, float]:
    """Milliseconds of CPU per call: ``command`` (start a decision and save where its five
    messages are), ``click`` (a first answer), ``mention`` (a failure logged in a thread, its
    event claimed) and ``round`` (claim after a write, state read, hand-back)."""
    engine = create_engine(normalize_database_url(url))
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        at_once = engine.pool.size()
        tag = uuid.uuid4().hex[:8]
        ids: list[int] = []
        users = itertools.count()
        events = itertools.count()
        where = {"team_id": TEAM, "channel_id": CHANNEL}

        async def command(i: int) -> None:
            async with sessions() as session:
                state = await decision_records.start_decision(
                    session=session, **where, title=f"Floor {tag} {i}", facilitator_id=USER
                )
            assert state.decision.id is not None
            ids.append(state.decision.id)
            async with sessions() as session:
                await decision_records.save_message_ts(
                    session=session,
                    team_id=TEAM,
                    decision_id=state.decision.id,
                    posted={key: f"{i}.{n}" for n, key in enumerate(MessageKey) if n < 5},
                    thread_ts=f"{tag}{len(ids)}.000",
                    shown_version=state.decision.version,
                )

        async def click(i: int) -> None:
            async with sessions() as session:
                await answering.record_choice(
                    session=session,
                    **where,
                    decision_id=ids[i % SPREAD],
                    question=MessageKey.PROBLEM_TYPE,
                    user_id=f"U{tag}{next(users)}",
                    value="knowledge",
                )

        async def mention(i: int) -> None:
            failure = parse_failure_line(f"fail: didn't know the refund policy of plan {i}")
            assert failure is not None
            async with sessions() as session:
                await failure_logging.save_thread_mention(
                    session=session,
                    **where,
                    event_id=f"Ev{tag}{next(events)}",
                    thread_ts=f"{tag}{1 + i % SPREAD}.000",
                    user_id=USER,
                    failures=failure_logging.categorise_offline([failure]),
                )

        async def click_and_round(i: int) -> None:
            await click(i)
            decision_id = ids[i % SPREAD]
            scope: dict[str, Any] = {"team_id": TEAM, "decision_id": decision_id}
            async with sessions() as session:
                claim = await render_claims.claim_renders(
                    session=session,
                    **scope,
                    keys=ROUND_KEYS,
                    holder="floor",
                    lease=timedelta(seconds=60),
                )
            assert claim is not None and claim.version is not None
            async with sessions() as session:
                await render_claims.release_renders(
                    session=session,
                    **scope,
                    holder="floor",
                    keys=list(claim.shown),
                    shown=dict.fromkeys(claim.behind(), claim.version),
                )

        costs = {"command": await cpu_per_call(command, CALLS, at_once)}
        costs["click"] = await cpu_per_call(click, CALLS, at_once)
        costs["mention"] = await cpu_per_call(mention, CALLS, at_once)
        costs["round"] = await cpu_per_call(click_and_round, CALLS, at_once) - costs["click"]
        return costs
    finally:
        await engine.dispose()
