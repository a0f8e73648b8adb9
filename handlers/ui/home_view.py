"""The App Home tab: Needs you, Coming up, Decided, each entry with its actions, within
Slack's 100 blocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
)

from bot.domain.questions import ANSWER_LABELS, OWNER_ROLE_LABELS, VERDICT_LABELS, Verdict
from bot.domain.tallies import percent
from bot.services.home_dashboard import Dashboard, DecidedItem, NeedsYou
from bot.services.state import DecisionState
from handlers.ui.blocks import as_dicts, button, context, section
from handlers.ui.ids import ActionId, action_id
from handlers.ui.mrkdwn import MODAL_BLOCKS, fit, safe, slack_date

Permalink = Callable[[DecisionState], str | None]
"""The link to a decision's thread, or None when it has none."""

EMPTY = (
    "*No decisions here yet.* Start one in a channel with `/ragft <title>`, e.g. "
    "`/ragft Support assistant for billing questions`: ragft posts the four questions in a "
    "thread, your team answers together, and the decision shows up here."
)
MORE = "…and {n} more: see `/ragft list` in the channel."
NOTHING = {
    "needs": "Nothing needs you right now.",
    "coming": "No reviews in the next 30 days.",
    "decided": "Nothing decided yet in your channels.",
}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _date(moment: datetime | None) -> str:
    return slack_date(_utc(moment)) if moment else "not set"


def _title(state: DecisionState) -> str:
    return f"*#{state.id} {safe(state.decision.title, 200)}* · <#{state.decision.channel_id}>"


def _outcome(state: DecisionState) -> str:
    outcome = state.outcome
    return VERDICT_LABELS[Verdict(outcome)] if outcome in set(Verdict) else "not recorded"


def _actions(state: DecisionState, link: str | None, rerun: bool) -> ActionsBlock:
    value = str(state.id)
    elements: list[ButtonElement] = []
    if link:
        elements.append(
            ButtonElement(
                text="Open thread",
                action_id=action_id(ActionId.HOME_OPEN_THREAD, state.id),
                url=link,
                value=value,
            )
        )
    elements.append(button("Export", action_id(ActionId.HOME_EXPORT, state.id), value))
    elements.append(button("Log a failure", action_id(ActionId.HOME_LOG_FAILURE, state.id), value))
    if rerun:
        elements.append(button("Re-run", action_id(ActionId.HOME_RERUN, state.id), value))
    return ActionsBlock(elements=elements)


def _needs_entry(item: NeedsYou, link: str | None) -> list[Block]:
    why = []
    if item.facilitating:
        why.append("you facilitate")
    if item.owns:
        why.append("you own " + ", ".join(OWNER_ROLE_LABELS[r] for r in item.owns))
    if item.unanswered:
        why.append(
            "you haven't answered " + ", ".join(ANSWER_LABELS[k].lower() for k in item.unanswered)
        )
    missing = "; ".join(item.missing) or "nothing: it's ready to decide"
    reasons = "; ".join(why)
    reasons = reasons[:1].upper() + reasons[1:]
    text = f"{_title(item.state)}\n{fit(reasons, 600)}\n*Missing:* {fit(missing, 1500)}"
    return [section(text), _actions(item.state, link, rerun=False)]


def _coming_entry(item: DecidedItem, link: str | None, now: datetime) -> list[Block]:
    due = item.state.decision.next_review_at
    late = " (overdue)" if due is not None and _utc(due) < now else ""
    text = f"{_title(item.state)}\nReview {_date(due)}{late} · {_outcome(item.state)}"
    return [section(text), _actions(item.state, link, rerun=True)]


def _decided_entry(item: DecidedItem, link: str | None) -> list[Block]:
    d = item.state.decision
    since = item.since
    text = (
        f"{_title(item.state)}\n*{_outcome(item.state)}* · decided {_date(d.decided_at)} · "
        f"next review {_date(d.next_review_at)}\n"
        f"Failures since: {since.analysed} · behavioral share {percent(since.behavior_share)}"
    )
    return [section(text), _actions(item.state, link, rerun=True)]


def _allot(sizes: list[int], budget: int, per_entry: int) -> list[int]:
    """How many entries of each section fit: one at a time, in turn, while room is left."""
    shown = [0] * len(sizes)
    while budget >= per_entry:
        progressed = False
        for i, size in enumerate(sizes):
            if shown[i] < size and budget >= per_entry:
                shown[i] += 1
                budget -= per_entry
                progressed = True
        if not progressed:
            break
    return shown


def home_view(dashboard: Dashboard, permalink: Permalink, now: datetime) -> dict[str, Any]:
    head: list[Block] = [
        HeaderBlock(text="Your RAG-or-fine-tuning decisions"),
        context(f"From the channels you're in · updated {slack_date(now)}"),
    ]
    if dashboard.empty:
        return _view([*head, section(EMPTY)])
    sections: list[tuple[str, str, list[list[Block]]]] = [
        (
            "Needs you",
            "needs",
            [_needs_entry(i, permalink(i.state)) for i in dashboard.needs_you],
        ),
        (
            "Coming up",
            "coming",
            [_coming_entry(i, permalink(i.state), now) for i in dashboard.coming_up],
        ),
        (
            "Decided",
            "decided",
            [_decided_entry(i, permalink(i.state)) for i in dashboard.decided],
        ),
    ]
    # Each section: a header, then its entries, then one line (nothing to show, or "N more");
    # dividers between sections.
    fixed = len(head) + 2 * len(sections) + (len(sections) - 1)
    shown = _allot([len(e) for _, _, e in sections], MODAL_BLOCKS - fixed, per_entry=2)
    blocks = list(head)
    for n, ((title, key, entries), count) in enumerate(zip(sections, shown, strict=True)):
        if n:
            blocks.append(DividerBlock())
        blocks.append(HeaderBlock(text=title))
        for entry in entries[:count]:
            blocks.extend(entry)
        if not entries:
            blocks.append(context(NOTHING[key]))
        elif count < len(entries):
            blocks.append(context(MORE.format(n=len(entries) - count)))
    return _view(blocks)


def cant_list_view(error: str) -> dict[str, Any]:
    """When Slack won't say which channels the person is in, nothing can be shown."""
    return _view(
        [
            HeaderBlock(text="Your RAG-or-fine-tuning decisions"),
            section(
                "I can't see which channels you're in, so I can't show your decisions here "
                f"(Slack said `{safe(error, 80)}`). Ask whoever installed ragft to reinstall "
                "it from the current manifest, which asks for `channels:read`, `groups:read`, "
                "`im:read` and `mpim:read`. In a channel, `/ragft list` still works."
            ),
        ]
    )


def _view(blocks: list[Block]) -> dict[str, Any]:
    if len(blocks) > MODAL_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack allows {MODAL_BLOCKS} in a Home tab")
    return {"type": "home", "blocks": as_dicts(blocks)}
