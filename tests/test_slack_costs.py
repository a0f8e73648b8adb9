"""The verdict's cost line, the Costs modal, and the facilitator's per-decision assumptions."""

from __future__ import annotations

from handlers.ui.ids import ActionId, CallbackId
from tests.fakes import signing
from tests.slack_app import FACILITATOR, text_of
from tests.test_slack_thread import MARCO, start

QUERIES = "cost|queries_per_month"
LABEL_COST = "cost|label_cost_per_example"
RETRAINS = "cost|deprecation_retrains_per_year"


def inputs(**typed: str) -> dict:
    return {f"cost|{key}": {f"cost|{key}": signing.text_value(v)} for key, v in typed.items()}


async def decided(slack) -> int:
    decision_id = await start(slack)
    await slack.decide(decision_id)
    return decision_id


async def open_costs(slack, decision_id: int, user: str = FACILITATOR) -> dict:
    await slack.click(ActionId.COSTS, str(decision_id), user=user)
    return slack.fake.calls_to("views.open")[-1].args["view"]


def input_ids(view: dict) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


async def test_the_verdict_carries_a_one_line_cost_summary_and_a_costs_button(slack):
    await decided(slack)
    verdict = await slack.message_of("verdict")
    shown = text_of(verdict)
    assert (
        "*Cost* Year one: RAG $24.9k–$75.8k · Fine-tuning $57.3k–$247k · Hybrid $81.9k–$317k."
        in shown
    )
    [cost] = [b for b in verdict["blocks"] if "Year one:" in b.get("text", {}).get("text", "")]
    assert cost["accessory"]["text"]["text"] == "Costs"
    assert cost["accessory"]["action_id"] == ActionId.COSTS


async def test_anyone_sees_the_table_only_the_facilitator_gets_the_inputs(slack):
    decision_id = await decided(slack)
    slack.fake.add_user(MARCO)
    view = await open_costs(slack, decision_id, user=MARCO)
    assert view["callback_id"] == CallbackId.COSTS and "submit" not in view
    assert input_ids(view) == []
    shown = text_of(view)
    assert "*Fine-tuning*: $57.3k–$247k in year one" in shown
    assert "• Hosting the fine-tuned model: $8.8k–$35k" in shown
    assert "• Labeling the examples still needed: $20k–$80k" in shown
    assert f"Only the facilitator, <@{FACILITATOR}>, can change" in shown

    view = await open_costs(slack, decision_id)
    assert view["submit"]["text"] == "Save"
    assert QUERIES in input_ids(view) and len(input_ids(view)) == 21
    [queries] = [b for b in view["blocks"] if b.get("block_id") == QUERIES]
    assert queries["element"]["initial_value"] == "100000"
    assert "default 100000" in queries["hint"]["text"]


async def export(slack, decision_id: int) -> str:
    await slack.command(f"export {decision_id}")
    return slack.fake.uploads[-1]["content"]


async def status(slack, decision_id: int) -> str:
    await slack.command(f"status {decision_id}")
    return text_of(slack.replies(FACILITATOR)[-1])


def costs_amended(shown: str) -> list[str]:
    return [line for line in shown.splitlines() if "Costs amended" in line]


async def test_the_facilitator_changes_the_assumptions_for_the_decision(slack):
    decision_id = await decided(slack)
    typed = inputs(queries_per_month="200,000", label_cost_per_example="$3 - $9")
    response = await slack.submit(CallbackId.COSTS, typed, decision_id)
    assert response.status_code == 200 and response.text == ""
    decision = await slack.decision()
    assert decision.cost_overrides == {
        "queries_per_month": {"low": 200_000, "high": 200_000},
        "label_cost_per_example": {"low": 3, "high": 9},
    }
    # The decided record's costs follow, and the history says what they were before.
    change = "queries per month 100,000 → 200,000; cost per labeled example $2–$8 → $3–$9."
    shown = text_of(await slack.message_of("verdict"))
    assert "RAG $25.9k–$91.5k" in shown  # inference doubles with the volume
    assert "assumptions changed for this decision" in shown
    by = f"💲 *Costs amended* by <@{FACILITATOR}> on <!date^"
    [line] = costs_amended(shown)
    assert line.startswith(by) and line.endswith(f": {change}")
    [line] = costs_amended(await status(slack, decision_id))
    assert line.startswith(by) and line.endswith(f": {change}")
    assert change in text_of(await slack.message_of("root"))
    record = await export(slack, decision_id)
    today = decision.decided_at.strftime("%Y-%m-%d")
    assert f"  - Costs amended by jdoe on {today}: {change}" in record
    assert "| **Year one** | **$25.9k–$91.5k** |" in record

    view = await open_costs(slack, decision_id)
    [queries] = [b for b in view["blocks"] if b.get("block_id") == QUERIES]
    assert queries["element"]["initial_value"] == "200000"
    assert "• Labeling the examples still needed: $30k–$90k" in text_of(view)

    # Saving the same values again changes nothing, so the history doesn't grow.
    typed = inputs(queries_per_month="200000", label_cost_per_example="3-9")
    await slack.submit(CallbackId.COSTS, typed, decision_id)
    assert len(costs_amended(await status(slack, decision_id))) == 1

    # Typing a default back (or leaving it empty) removes the override: a second amendment.
    typed = inputs(queries_per_month="100000", label_cost_per_example="")
    await slack.submit(CallbackId.COSTS, typed, decision_id)
    assert (await slack.decision()).cost_overrides == {}
    shown = text_of(await slack.message_of("verdict"))
    assert "RAG $24.9k–$75.8k" in shown
    back = "queries per month 200,000 → 100,000; cost per labeled example $3–$9 → $2–$8."
    assert [change in line for line in costs_amended(shown)] == [True, False]
    assert back in costs_amended(shown)[1]
    record = await export(slack, decision_id)
    assert record.index(change) < record.index(back)
    assert "| **Year one** | **$24.9k–$75.8k** |" in record


async def test_saving_on_an_open_decision_is_no_amendment_the_decision_freezes_it(slack):
    decision_id = await start(slack)
    typed = inputs(queries_per_month="200000", price_per_million_tokens="0.5-5")
    await slack.submit(CallbackId.COSTS, typed, decision_id)
    assert (await slack.decision()).cost_overrides["queries_per_month"] == {
        "low": 200_000,
        "high": 200_000,
    }
    await slack.decide(decision_id)
    verdict = text_of(await slack.message_of("verdict"))
    assert "assumptions changed for this decision" in verdict
    assert costs_amended(verdict) == []
    assert costs_amended(await status(slack, decision_id)) == []
    assert "Costs amended" not in await export(slack, decision_id)

    # A change after the decision amends from what was frozen, the open decision's values.
    typed = inputs(queries_per_month="300000", price_per_million_tokens="0.5-5")
    await slack.submit(CallbackId.COSTS, typed, decision_id)
    [line] = costs_amended(text_of(await slack.message_of("verdict")))
    assert line.endswith(": queries per month 200,000 → 300,000.")
    assert "price per 1M tokens" not in await export(slack, decision_id)


async def test_bad_values_get_an_inline_error_and_nothing_is_saved(slack):
    decision_id = await decided(slack)
    typed = inputs(
        queries_per_month="-5",
        label_cost_per_example="9-2",
        deprecation_retrains_per_year="0",
        tokens_per_query="lots",
    )
    response = await slack.submit(CallbackId.COSTS, typed, decision_id)
    body = response.json()
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert errors[QUERIES] == "Must be zero or more (got -5)."
    assert errors[LABEL_COST] == "Low must not exceed high (got 9 > 2)."
    assert errors[RETRAINS] == "Must be at least 1 (got 0)."
    assert "a range like 2-8" in errors["cost|tokens_per_query"]
    assert (await slack.decision()).cost_overrides == {}


async def test_only_the_facilitator_may_save(slack):
    decision_id = await decided(slack)
    slack.fake.add_user(MARCO)
    typed = inputs(queries_per_month="5")
    response = await slack.submit(CallbackId.COSTS, typed, decision_id, user=MARCO)
    errors = response.json()["errors"]
    assert "Only the facilitator" in errors[QUERIES]
    assert (await slack.decision()).cost_overrides == {}


async def test_another_channel_or_workspace_sees_no_costs(slack):
    decision_id = await decided(slack)
    opened = len(slack.fake.calls_to("views.open"))
    await slack.click(ActionId.COSTS, str(decision_id), channel_id="C0OTHER0001")
    await slack.click(ActionId.COSTS, str(decision_id), team_id="T0OTHER0001")
    assert len(slack.fake.calls_to("views.open")) == opened
    told = [r["text"] for r in slack.replies(FACILITATOR)]
    assert any(f"no decision #{decision_id} in this channel" in t for t in told)
