"""Failures arriving from Slack (the Q3 modal, a thread mention, the shortcut, ``/ragft log``):
categorised with a visible working state when a model does it, saved through the service, and
the thread's tally refreshed. One path for all four."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.failure_lines import ParsedFailure
from bot.domain.questions import FAILURE_CATEGORY_LABELS, CategorySource, MessageKey
from bot.services import decision_records, failure_logging, guards
from bot.services.failure_logging import Categorised, Logged
from handlers.runtime import Runtime
from handlers.slack_calls import post_message
from handlers.thread import refresh
from handlers.ui import assistance_messages as ui
from handlers.ui.mrkdwn import safe
from storage.models import Decision

FAILURE_KEYS = [MessageKey.FAILURES, MessageKey.ROOT]


async def categorise_in_thread(
    runtime: Runtime, decision: Decision, user_id: str, failures: Sequence[ParsedFailure]
) -> list[Categorised]:
    """Categorise (see ``failure_logging.categorise``); with a model, the thread shows it
    working."""
    if runtime.llm is None:
        return failure_logging.categorise_offline(failures)
    ts = await post_message(
        runtime.client,
        channel=decision.channel_id,
        thread_ts=decision.thread_ts,
        text=ui.categorising_text(len(failures), user_id),
    )
    categorised = await failure_logging.categorise(failures, runtime.llm)
    offline = sum(1 for item in categorised if item.source != CategorySource.LLM)
    text = ui.categorised_text([item.category for item in categorised], offline, user_id)
    await runtime.client.chat_update(channel=decision.channel_id, ts=ts, text=text, blocks=[])
    return categorised


async def log_from_slack(
    runtime: Runtime,
    *,
    team_id: str,
    channel_id: str,
    decision_id: int | None,
    user_id: str,
    failures: Sequence[ParsedFailure],
    visible: bool = True,
    found: Decision | None = None,
) -> tuple[Decision, list[Categorised], int]:
    """Check the decision is this channel's (None: the channel's default for logging),
    categorise, save, and refresh the tally: the decision, the failures stored, and how many
    were duplicates of failures already logged (skipped).
    ``visible`` shows the model working in the thread (the Q3 modal and mentions). ``found``:
    the decision, just read in this channel by the caller (a mention's thread), not read again."""
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    if found is not None and found.id == decision_id and found.channel_id == channel_id:
        guards.require_loggable(found)
        decision = found
    else:
        decision = await runtime.call(decision_records.decision_for_logging, **where)
    assert decision.id is not None
    where["decision_id"] = decision.id
    if visible:
        categorised = await categorise_in_thread(runtime, decision, user_id, failures)
    else:
        categorised = await failure_logging.categorise(failures, runtime.llm)
    logged = await runtime.call(
        failure_logging.save_failures, **where, user_id=user_id, failures=categorised
    )
    if logged.stored:
        await refresh(runtime, team_id, decision.id, FAILURE_KEYS)
    return logged.decision, logged.stored, logged.duplicates


async def log_thread_mention(
    runtime: Runtime,
    *,
    team_id: str,
    event_id: str,
    channel_id: str,
    thread_ts: str,
    user_id: str,
    failure: ParsedFailure,
) -> tuple[bool, Logged | None]:
    """A failure mentioned in a thread, categorised offline: claimed, found and saved in one
    transaction (``failure_logging.save_thread_mention``), then the tally refreshed."""
    first_time, logged = await runtime.call(
        failure_logging.save_thread_mention,
        team_id=team_id,
        event_id=event_id,
        channel_id=channel_id,
        thread_ts=thread_ts,
        user_id=user_id,
        failures=failure_logging.categorise_offline([failure]),
    )
    if logged is not None and logged.stored:
        assert logged.decision.id is not None
        await refresh(runtime, team_id, logged.decision.id, FAILURE_KEYS)
    return first_time, logged


def skipped_text(duplicates: int) -> str:
    """ "3 duplicates skipped": what was already logged to the decision."""
    if not duplicates:
        return ""
    plural = "s" if duplicates != 1 else ""
    return f"{duplicates} duplicate{plural} skipped (already logged to this decision)."


def added_text(decision_id: int, categorised: Sequence[Categorised], duplicates: int = 0) -> str:
    if not categorised:
        return f"Nothing added to #{decision_id}: {skipped_text(duplicates)}"
    counts = {label: 0 for label in FAILURE_CATEGORY_LABELS.values()}
    for item in categorised:
        counts[FAILURE_CATEGORY_LABELS[item.category]] += 1
    summary = ", ".join(f"{n} {label.lower()}" for label, n in counts.items() if n)
    plural = "s" if len(categorised) != 1 else ""
    return (
        f"Added {len(categorised)} failure{plural} to #{decision_id}: {summary}. "
        + (f"{skipped_text(duplicates)} " if duplicates else "")
        + "Use *Review & correct* to change a category."
    )


def logged_text(decision: Decision, categorised: Sequence[Categorised], duplicates: int = 0) -> str:
    if not categorised:
        return (
            f"Already logged to #{decision.id} *{safe(decision.title, 200)}*: "
            f"{skipped_text(duplicates)}"
        )
    lines = [
        f"• *{FAILURE_CATEGORY_LABELS[item.category]}*: {safe(item.failure.explanation, 300)}"
        for item in categorised
    ]
    counts = "They count" if len(categorised) != 1 else "It counts"
    return (
        f"Logged to #{decision.id} *{safe(decision.title, 200)}*:\n"
        + "\n".join(lines)
        + f"\n{counts} in the next review and in `/ragft status`."
    )
