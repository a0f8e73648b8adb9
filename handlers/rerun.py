"""*Re-run the diagnostic*: a new decision prefilled from this one, its thread posted, and a
pointer in the old thread. The same from a review's button and from the App Home."""

from __future__ import annotations

from bot.services import decision_records, review_routine
from handlers.runtime import Runtime
from handlers.slack_calls import post_message
from handlers.thread import post_thread
from handlers.ui.mrkdwn import mention
from storage.models import Decision


async def rerun_diagnostic(
    rt: Runtime, *, team_id: str, channel_id: str, decision_id: int, user_id: str
) -> Decision:
    """The new decision, once its thread is posted."""
    where = {"team_id": team_id, "channel_id": channel_id, "decision_id": decision_id}
    new = await rt.call(review_routine.rerun, **where, user_id=user_id)
    assert new.id is not None
    team = {"team_id": team_id}
    await post_thread(rt, await rt.call(decision_records.current_state, **team, decision_id=new.id))
    new = await rt.call(decision_records.current_decision, **team, decision_id=new.id)
    old = await rt.call(decision_records.current_decision, **team, decision_id=decision_id)
    link = (await rt.client.chat_getPermalink(channel=new.channel_id, message_ts=new.thread_ts))[
        "permalink"
    ]
    await post_message(
        rt.client,
        channel=old.channel_id,
        thread_ts=old.thread_ts,
        text=f"🔁 {mention(user_id)} re-ran the diagnostic as <{link}|decision #{new.id}>, "
        "prefilled with this one's answers. Once it's decided, it replaces this one.",
    )
    return new
