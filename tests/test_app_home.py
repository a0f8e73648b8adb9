"""The App Home tab, as people see it: signed ``app_home_opened`` events and Home buttons into
the real app, the fake Slack Web API, real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools

from sqlmodel import select

from bot.services import decision_records
from handlers.channel_membership import TtlCache
from handlers.ui.ids import ActionId, CallbackId, InputId
from storage.models import FailureExample
from tests.fakes import signing
from tests.slack_app import CHANNEL, FACILITATOR, TEAM, text_of

PRIYA, MARCO = "U0PRIYA001", "U0MARCO002"
PRIVATE = "G0PRIVATE1"
OTHER_TEAM = "T0OTHERWS1"
_events = itertools.count(1)


async def open_home(slack, user: str = FACILITATOR, *, team: str = TEAM, tab: str = "home"):
    event = signing.app_home_opened(user_id=user, tab=tab)
    await slack.post(signing.event(event, event_id=f"Ev0HOME{next(_events):05d}", team_id=team))


def publishes(slack, user: str) -> list:
    return [c for c in slack.fake.calls_to("views.publish") if c.args["user_id"] == user]


def home_text(slack, user: str = FACILITATOR) -> str:
    [*_, last] = publishes(slack, user)
    assert last.response["ok"], last.response
    return text_of({"blocks": last.args["view"]["blocks"]})


def home_buttons(slack, user: str = FACILITATOR) -> list[dict]:
    view = publishes(slack, user)[-1].args["view"]
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def home_click(slack, action: ActionId, decision_id: int, *, user: str = FACILITATOR):
    home = slack.fake.home_views.get(user) or {"id": "V0HOME0001", "type": "home"}
    payload = signing.block_action(
        action_id=f"{action}|{decision_id}", value=str(decision_id), user_id=user, view=home
    )
    return await slack.post(signing.interactive(payload))  # no response_url from a Home tab


async def start(slack, title: str, *, user: str = FACILITATOR, channel: str = CHANNEL, **kw):
    await slack.command(f"start {title}", user=user, channel=channel, **kw)
    return (await slack.decision()).id


async def test_an_empty_home_teaches_how_to_start(slack):
    await open_home(slack)
    [published] = publishes(slack, FACILITATOR)
    assert published.response["ok"] and published.args["view"]["type"] == "home"
    assert "/ragft <title>" in home_text(slack)

    await open_home(slack, tab="messages")  # the Messages tab: nothing to publish
    assert len(publishes(slack, FACILITATOR)) == 1


async def test_needs_you_coming_up_and_decided(slack):
    for user in (PRIYA, MARCO):
        slack.fake.add_user(user)
    open_id = await start(slack, "Refund bot <!channel>")
    await slack.answer(open_id, "problem_type", "knowledge", user=PRIYA)
    await slack.pick_user(open_id, "evaluation", MARCO)

    decided_id = await start(slack, "Billing assistant")
    await slack.decide(decided_id)
    await slack.click(ActionId.SNOOZE, str(decided_id))  # next review in a week
    await slack.command(f"log {decided_id} too verbose and ignored the format")
    await slack.command(f"log {decided_id} didn't know the new refund policy")

    await open_home(slack)
    shown = home_text(slack)
    needs, rest = shown.split("Coming up")
    coming, decided = rest.split("Decided")
    assert f"#{open_id} Refund bot &lt;!channel&gt;" in needs and f"<#{CHANNEL}>" in needs
    assert "You facilitate" in needs
    assert "Q1" not in needs.split("Missing:")[1]  # the team has an answer to Q1
    assert "Q2 How often the knowledge changes" in needs
    assert "Q3 failures (0 of 20 explained)" in needs
    assert "Q4 owners: Training-data pipeline, Deployment & rollback" in needs
    assert f"#{decided_id} Billing assistant" in coming and "Review " in coming
    assert f"#{decided_id} Billing assistant" in decided and "*Start with RAG*" in decided
    assert "Failures since: 2 · behavioral share 50%" in decided
    assert "next review <!date^" in decided

    await open_home(slack, PRIYA)  # answered Q1, not Q2; facilitates nothing
    priya = home_text(slack, PRIYA).split("Coming up")[0]
    assert f"#{open_id}" in priya
    assert "You haven't answered how often the knowledge changes" in priya
    await open_home(slack, MARCO)  # owns a role and answered nothing
    marco = home_text(slack, MARCO).split("Coming up")[0]
    assert "You own Evaluation" in marco

    links = [b for b in home_buttons(slack) if b.get("url")]
    decision = await slack.decision(decided_id)
    p = decision.thread_ts.replace(".", "")
    assert f"https://example-team.slack.com/archives/{CHANNEL}/p{p}" in {b["url"] for b in links}
    labels = {b["text"]["text"] for b in home_buttons(slack)}
    assert {"Open thread", "Export", "Log a failure", "Re-run"} <= labels
    slack.fake.clear()
    response = await home_click(slack, ActionId.HOME_OPEN_THREAD, decided_id)
    assert response.status_code == 200 and not slack.fake.calls  # Slack opens the link itself


async def test_only_the_users_workspace_and_channels_they_are_in(slack):
    slack.fake.add_user(MARCO)
    slack.fake.set_channel(PRIVATE, is_private=True, members=[FACILITATOR, "U0BOT00001"])
    secret = await start(slack, "Secret project", channel=PRIVATE)
    public = await start(slack, "Public project", user=MARCO)
    await slack.command("Other workspace project", team_id=OTHER_TEAM)

    await open_home(slack, MARCO)
    marco = home_text(slack, MARCO)
    assert f"#{public} Public project" in marco
    assert "Secret project" not in marco and "Other workspace" not in marco

    await open_home(slack)
    mine = home_text(slack)
    assert f"#{secret} Secret project" in mine and "Other workspace" not in mine

    # A non-member's click on the private decision (a forged or stale button) does nothing.
    slack.fake.clear()
    await home_click(slack, ActionId.HOME_EXPORT, secret, user=MARCO)
    await home_click(slack, ActionId.HOME_LOG_FAILURE, secret, user=MARCO)
    assert not slack.fake.uploads and not slack.fake.calls_to("views.open")
    told = [c.args for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == MARCO]
    assert len(told) == 2 and all(f"no decision #{secret}" in t["text"] for t in told)
    assert all("Secret" not in t["text"] for t in told)


async def test_membership_is_asked_of_slack_paged_and_cached_briefly(slack):
    channels = [f"C0MANY{n:04d}" for n in range(230)]
    for channel in channels:
        slack.fake.set_channel(channel, members=[FACILITATOR])
    far = await start(slack, "On the second page", channel=channels[-1])
    await open_home(slack)
    await open_home(slack)
    assert f"#{far} On the second page" in home_text(slack)
    asked = slack.fake.calls_to("users.conversations")
    assert len(asked) == 2  # two pages, once: the second open used the cache
    assert asked[0].args["user"] == FACILITATOR and "private_channel" in asked[0].args["types"]


async def test_without_the_scopes_to_list_channels_the_home_says_so(slack):
    await start(slack, "Billing assistant")
    slack.fake.fail_next("users.conversations", error="missing_scope")
    await open_home(slack)
    shown = home_text(slack)
    assert "can't see which channels you're in" in shown and "missing_scope" in shown
    assert "Billing assistant" not in shown


def test_the_membership_cache_is_bounded_and_drops_idle_keys():
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(ttl=10, max_size=3, clock=lambda: now[0])
    cache.put("a", 1)
    now[0] = 5
    cache.put("b", 2)
    now[0] = 11  # a is idle past its TTL: gone, even before anyone asks
    cache.put("c", 3)
    assert len(cache) == 2 and cache.get("a") is None and cache.get("b") == 2
    for key in "defg":
        cache.put(key, 0)
    assert len(cache) == 3 and cache.live_keys() == ["e", "f", "g"]


async def test_many_decisions_stay_within_100_blocks(slack):
    slack.fake.set_channel(CHANNEL)  # nothing was posted there: tell the fake it exists
    async with slack.sessions() as session:
        for n in range(130):
            await decision_records.start_decision(
                session=session,
                team_id=TEAM,
                channel_id=CHANNEL,
                title=f"Decision number {n}",
                facilitator_id=FACILITATOR,
            )
    await open_home(slack)
    [published] = publishes(slack, FACILITATOR)
    assert published.response["ok"]
    blocks = published.args["view"]["blocks"]
    assert len(blocks) <= 100
    shown = sum(1 for b in blocks if b["type"] == "actions")
    assert shown >= 40
    assert f"…and {130 - shown} more: see `/ragft list` in the channel." in home_text(slack)


async def test_home_buttons_export_log_and_rerun(slack):
    slack.fake.add_user(PRIYA)
    decision_id = await start(slack, "Billing assistant")
    await slack.decide(decision_id)
    decision = await slack.decision(decision_id)
    await open_home(slack, PRIYA)
    labels = {b["text"]["text"] for b in home_buttons(slack, PRIYA)}
    assert {"Export", "Log a failure", "Re-run"} <= labels

    await home_click(slack, ActionId.HOME_EXPORT, decision_id, user=PRIYA)
    [upload] = slack.fake.uploads
    assert upload["channel_id"] == CHANNEL and upload["thread_ts"] == decision.thread_ts
    assert "Billing assistant" in upload["content"]
    assert f"exported by <@{PRIYA}>" in upload["initial_comment"]

    await home_click(slack, ActionId.HOME_LOG_FAILURE, decision_id, user=PRIYA)
    [opened] = slack.fake.calls_to("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == CallbackId.LOG_FAILURE
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks[InputId.DECISION]["element"]["initial_option"]["value"] == str(decision_id)
    values = {
        InputId.DECISION: {InputId.DECISION: signing.select_value(str(decision_id))},
        InputId.OUTPUT: {InputId.OUTPUT: signing.text_value("")},
        InputId.EXPLANATION: {InputId.EXPLANATION: signing.text_value("wrong tone, too long")},
    }
    submit = signing.view_submission(
        callback_id=CallbackId.LOG_FAILURE,
        values=values,
        private_metadata=view["private_metadata"],
        user_id=PRIYA,
    )
    await slack.post(signing.interactive(submit))
    async with slack.sessions() as session:
        [failure] = (await session.exec(select(FailureExample))).all()
    assert (failure.decision_id, failure.logged_by) == (decision_id, PRIYA)
    assert f"Logged to #{decision_id}" in slack.ephemerals(PRIYA)[-1]["text"]

    await home_click(slack, ActionId.HOME_RERUN, decision_id, user=PRIYA)
    new = await slack.decision()
    assert new.id != decision_id and new.supersedes_id == decision_id
    assert new.facilitator_id == PRIYA and new.thread_ts
    pointer = slack.fake.messages(CHANNEL, thread_ts=decision.thread_ts)[-1]
    assert "re-ran the diagnostic as" in pointer["text"]
    assert f"decision #{new.id}" in pointer["text"]
    assert f"#{new.id} Billing assistant" in home_text(slack, PRIYA).split("Coming up")[0]


async def test_changes_republish_for_who_is_involved_coalesced(slack):
    for user in (PRIYA, MARCO):
        slack.fake.add_user(user)
    slack.runtime.home.delay = 1.0
    decision_id = await start(slack, "Billing assistant")
    await open_home(slack)  # the facilitator looks; Marco never opens his Home
    assert "Q1 Knowledge or behavior" in home_text(slack)
    before = len(publishes(slack, FACILITATOR))

    clicks = [
        slack.answer(decision_id, "problem_type", value, user=PRIYA, settle=False)
        for value in ("knowledge", "behavior", "knowledge", "behavior", "knowledge")
    ] + [slack.answer(decision_id, "knowledge_change", "weekly", user=MARCO, settle=False)]
    await asyncio.gather(*clicks)
    await slack.idle()

    after = len(publishes(slack, FACILITATOR)) - before
    assert 1 <= after <= 2, after
    shown = home_text(slack)
    assert "Q1 Knowledge or behavior" not in shown and "Q2 How often" not in shown
    assert not publishes(slack, MARCO) and not publishes(slack, PRIYA)
