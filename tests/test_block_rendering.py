"""The thread's messages are built as plain dicts (handlers/ui/blocks.py); every block must still
be what slack_sdk's models accept and render, for every kind of decision state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.decision_snapshot import Amendment
from bot.domain.questions import MessageKey, OwnerRole
from bot.services.state import DecisionState, at_the_decision, build_state, snapshot_now
from handlers.ui import blocks
from handlers.ui.cost_modal import cost_summary
from handlers.ui.question_messages import question_message
from handlers.ui.root_message import root_message
from handlers.ui.verdict_message import verdict_message
from storage.models import Answer, ContextTest, Decision, OwnerAssignment
from tests.fakes.slack_api import FakeSlack

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FACILITATOR = "U0FAC00001"


def _decision(**fields) -> Decision:
    base = {
        "id": 7,
        "team_id": "T1",
        "channel_id": "C1",
        "title": "Billing <bot> & friends " + "x" * 200,
        "facilitator_id": FACILITATOR,
        "created_at": T0,
    }
    return Decision(**{**base, **fields})


def _answer(question: str, user: str, value: str, n: int) -> Answer:
    at = T0 + timedelta(seconds=n)
    return Answer(
        id=n, team_id="T1", decision_id=7, question=question, user_id=user, value=value,
        updated_at=at,
    )  # fmt: skip


def _test(status: str, **fields) -> ContextTest:
    return ContextTest(
        id=1, team_id="T1", decision_id=7, requested_by="U0REQ00001", question="Where is it?",
        context="c", expected="e", status=status, created_at=T0, **fields,
    )  # fmt: skip


VOTES = [
    _answer("problem_type", "U0AAA00001", "knowledge", 1),
    _answer("problem_type", "U0BBB00001", "behavior", 2),
    _answer("knowledge_change", "U0AAA00001", "daily", 3),
    _answer("prompt_engineering_tried", "U0AAA00001", "yes", 4),
    _answer("labeled_examples", "U0AAA00001", "1500", 5),
]
OWNERS = [
    OwnerAssignment(team_id="T1", decision_id=7, role=r, user_id="U0OWN00001", assigned_by="x")
    for r in OwnerRole
]
JUDGED = _test("done", model_judgement="knowledge", team_judgement="knowledge", judged_by="U1")


def _states() -> list[DecisionState]:
    states = [
        build_state(_decision(), [], [], {}),
        build_state(_decision(), VOTES[:1], OWNERS[:1], {"knowledge": 3, "unclear": 1}),
        build_state(_decision(), VOTES, OWNERS, {"knowledge": 15, "behavior": 8}, [JUDGED]),
        build_state(_decision(settled_problem_type="behavior"), VOTES, [], {}, [_test("running")]),
        build_state(_decision(cost_overrides={"x": 1}), VOTES[1:], [], {}, [_test("done")]),
    ]
    decided_at = T0 + timedelta(days=1)
    amendment = Amendment(
        amended_by=FACILITATOR, amended_at=decided_at, from_outcome="rag",
        to_outcome="fine_tuning", reason="r", kind="outcome",
    )  # fmt: skip
    for final, status in [(None, "decided"), ("fine_tuning", "decided"), (None, "abandoned")]:
        decided = _decision(
            status=status, verdict="rag", final_choice=final, final_choice_reason="because",
            decided_by=FACILITATOR, decided_at=decided_at, next_review_at=T0 + timedelta(90),
        )  # fmt: skip
        live = build_state(decided, VOTES, OWNERS, {"behavior": 2})
        snapshot = snapshot_now(states[2], decided_by=FACILITATOR, decided_at=decided_at)
        states.append(at_the_decision(live, snapshot, (amendment,), live.failures))
    return states


def _messages(state: DecisionState) -> list[blocks.Message]:
    keys = [k for k in MessageKey if k not in (MessageKey.ROOT, MessageKey.VERDICT)]
    return [
        root_message(state),
        verdict_message(state),
        *(question_message(state, k) for k in keys),
    ]


@pytest.mark.parametrize("state", _states(), ids=lambda s: f"{s.decision.status}-{s.id}")
def test_every_thread_block_is_valid_and_renders_the_same_through_slack_sdk(state):
    for message in _messages(state):
        assert message.blocks
        for block in message.blocks:
            parsed = Block.parse(block)
            assert parsed is not None, block
            parsed.validate_json()
            assert parsed.to_dict() == block


def test_the_dict_helpers_match_slack_sdks_models():
    pairs = [
        (blocks.md("*hi*"), MarkdownTextObject(text="*hi*")),
        (blocks.section("s"), SectionBlock(text=MarkdownTextObject(text="s"))),
        (
            blocks.section("s", block_id="b", accessory=blocks.button("B", "a", "v", "primary")),
            SectionBlock(
                text=MarkdownTextObject(text="s"),
                block_id="b",
                accessory=ButtonElement(text="B", action_id="a", value="v", style="primary"),
            ),
        ),
        (blocks.context("c"), ContextBlock(elements=[MarkdownTextObject(text="c")])),
        (blocks.header("h"), HeaderBlock(text="h")),
        (blocks.divider(), DividerBlock()),
        (
            blocks.actions("b", [blocks.button("B", "a", "v")]),
            ActionsBlock(
                block_id="b", elements=[ButtonElement(text="B", action_id="a", value="v")]
            ),
        ),
        (
            blocks.static_select("p", "a", [blocks.option("o", "v")]),
            StaticSelectElement(
                placeholder="p", action_id="a", options=[Option(text="o", value="v")]
            ),
        ),
        (
            blocks.user_select("p", "a", "U1"),
            UserSelectElement(placeholder="p", action_id="a", initial_user="U1"),
        ),
        (blocks.user_select("p", "a"), UserSelectElement(placeholder="p", action_id="a")),
    ]
    for ours, model in pairs:
        assert ours == model.to_dict()
    assert cost_summary(_states()[0])["accessory"]["type"] == "button"


async def test_the_fake_slack_refuses_blocks_slack_sdk_would_refuse():
    too_long = blocks.header("h" * 151)  # Slack caps a header at 150 characters
    with FakeSlack() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.url)
        with pytest.raises(SlackApiError) as refused:
            await client.chat_postMessage(channel="C1", text="t", blocks=[too_long])
        assert refused.value.response["error"] == "invalid_blocks"
        posted = await client.chat_postMessage(channel="C1", text="t", blocks=[blocks.header("h")])
        with pytest.raises(SlackApiError):
            await client.chat_update(channel="C1", ts=posted["ts"], text="t", blocks=[too_long])


def test_a_crowded_question_counts_the_voters_it_cannot_name():
    """300 voters over three answers don't fit one section: each line names whom it can and
    counts the rest ("and N more"); nobody is dropped silently by the 3,000-character cut."""
    values = ("knowledge", "behavior", "both")
    crowd = [_answer("problem_type", f"U0V{i:07d}", values[i % 3], i) for i in range(300)]
    message = question_message(build_state(_decision(), crowd, [], {}), MessageKey.PROBLEM_TYPE)
    votes = next(
        b["text"]["text"] for b in message.blocks if "(100): " in b.get("text", {}).get("text", "")
    )
    assert len(votes) <= 3000 and not votes.endswith("…")
    for line in votes.splitlines()[:3]:
        named = line.count("<@U0V")
        assert line.endswith(f"and {100 - named} more"), line
        assert 0 < named < 100
