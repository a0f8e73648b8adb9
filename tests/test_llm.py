"""The model client and its structured calls, through the real openai SDK against a fake server."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import pytest

from bot.domain.failure_lines import ParsedFailure
from bot.llm.client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, LLMError, build_llm
from bot.llm.tasks import run_context_test, summarise_thread
from bot.services.failure_logging import Categorised, categorise
from bot.settings import DEFAULT_OPENAI_MODEL, Settings
from tests.fakes.openai_api import FakeOpenAI, Reply

KEY = "sk-test-do-not-log-0123456789"
FAST_RETRY = {"retry-after-ms": "5"}


def settings(fake: FakeOpenAI | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"openai_api_key": KEY, "openai_model": "gpt-test"}
    if fake is not None:
        values["openai_base_url"] = fake.base_url
    return Settings(_env_file=None, **{**values, **overrides})


def numbered(request: dict[str, Any]) -> list[tuple[int, str]]:
    user = request["messages"][-1]["content"]
    return [(int(m[1]), m[2]) for m in re.finditer(r"^(\d+)\. (.*)$", user, re.M)]


def categorise_reply(request: dict[str, Any]) -> dict[str, Any]:
    """A model that calls anything about prices knowledge, the rest behavior (answers shuffled)."""
    items = [
        {
            "index": i,
            "category": "knowledge" if "price" in text else "behavior",
            "rationale": f"model says: {text[:20]}\n(second line)",
        }
        for i, text in numbered(request)
    ]
    return {"items": items[::-1]}


def failures(*texts: str) -> list[ParsedFailure]:
    return [ParsedFailure(text) for text in texts]


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def llm(fake_openai):
    llm = build_llm(settings(fake_openai))
    assert llm is not None
    yield llm
    await llm.close()


async def test_one_client_from_settings_with_a_timeout_and_retries(fake_openai):
    assert build_llm(Settings(_env_file=None)) is None  # no key: everything falls back
    llm = build_llm(settings(fake_openai))
    assert llm is not None
    try:
        assert llm.model == "gpt-test"
        assert str(llm.client.base_url).rstrip("/") == fake_openai.base_url
        assert llm.client.timeout == DEFAULT_TIMEOUT == 20.0
        assert llm.client.max_retries == DEFAULT_MAX_RETRIES == 2
    finally:
        await llm.close()
    default = build_llm(Settings(_env_file=None, openai_api_key=KEY))
    assert default is not None and default.model == DEFAULT_OPENAI_MODEL == "gpt-4o-mini"
    await default.close()


async def test_request_shape_is_one_structured_call_with_only_the_explanations(llm, fake_openai):
    fake_openai.respond_with(categorise_reply)
    await categorise(failures("quoted last year's prices", "sounds like a legal brief"), llm)

    [request] = fake_openai.requests
    assert request["model"] == "gpt-test"
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert numbered(request) == [(0, "quoted last year's prices"), (1, "sounds like a legal brief")]
    schema = request["response_format"]
    assert schema["type"] == "json_schema"
    assert schema["json_schema"]["name"] == "CategorisedBatch"
    assert schema["json_schema"]["strict"] is True
    item = schema["json_schema"]["schema"]["$defs"]["CategorisedItem"]
    assert item["properties"]["category"]["enum"] == ["knowledge", "behavior", "unclear"]
    assert set(request) == {"model", "messages", "response_format", "max_tokens", "stream"}
    [headers] = fake_openai.request_headers
    assert headers["Authorization"] == f"Bearer {KEY}"


async def test_parsing_keeps_order_category_rationale_and_counts_tokens_once(llm, fake_openai):
    fake_openai.respond_with(categorise_reply)
    result = await categorise(
        failures("quoted last year's prices", "sounds like a legal brief", "wrong price again"),
        llm,
    )
    assert [(r.failure.explanation, r.category, r.source) for r in result] == [
        ("quoted last year's prices", "knowledge", "llm"),
        ("sounds like a legal brief", "behavior", "llm"),
        ("wrong price again", "knowledge", "llm"),
    ]
    assert result[0].rationale == "model says: quoted last year's p (second line)"  # one line
    assert result[0].prompt_tokens > 0 and result[0].completion_tokens > 0
    assert all(r.prompt_tokens == r.completion_tokens == 0 for r in result[1:])


async def test_31_explanations_are_two_requests_of_30_and_1(llm, fake_openai):
    fake_openai.respond_with(categorise_reply)
    texts = [f"failure {i} about price" for i in range(31)]
    result = await categorise(failures(*texts), llm)

    assert [len(numbered(r)) for r in fake_openai.requests] == [30, 1]
    assert [r.failure.explanation for r in result] == texts
    assert {r.source for r in result} == {"llm"}
    assert [i for i, r in enumerate(result) if r.prompt_tokens] == [0, 30]


async def test_a_429_is_retried_then_answered(llm, fake_openai):
    fake_openai.queue(Reply(status=429, headers=FAST_RETRY), Reply(status=429, headers=FAST_RETRY))
    fake_openai.respond_with(categorise_reply)
    [result] = await categorise(failures("quoted last year's prices"), llm)
    assert len(fake_openai.requests) == 3
    assert (result.category, result.source) == ("knowledge", "llm")


def offline(result: list[Categorised]) -> list[tuple[str, str]]:
    return [(r.category, r.source) for r in result]


@pytest.mark.parametrize("status", [429, 500])
async def test_retries_run_out_then_the_offline_classifier_answers(
    llm, fake_openai, caplog, status
):
    fake_openai.respond_with(Reply(status=status, headers=FAST_RETRY))
    with caplog.at_level(logging.WARNING):
        result = await categorise(failures("quoted last year's prices", "way too verbose"), llm)

    assert len(fake_openai.requests) == 1 + DEFAULT_MAX_RETRIES
    assert offline(result) == [("knowledge", "heuristic"), ("behavior", "heuristic")]
    assert result[0].rationale.startswith("Points to")  # the offline classifier's own reason
    assert f"HTTP {status}" in caplog.text and "offline" in caplog.text
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(content='{"items": [{"index": 0, "category": "knowl'), "malformed"),
        (Reply(content={"items": [{"index": 0, "category": "maybe", "rationale": "x"}]}), "malf"),
        (Reply(content={"items": []}), "off-schema"),
        (Reply(content={"items": [{"index": 7, "category": "behavior", "rationale": "x"}]}), "off"),
        (Reply(content={"items": [{"index": 0, "category": "behavior", "rationale": " "}]}), "off"),
        (Reply(content={"items": []}, finish_reason="length"), "ran out of tokens"),
        (Reply(content=None, refusal="I can't help with that."), "declined"),
        (Reply(body="<html>gateway</html>", status=200), "not JSON"),
    ],
)
async def test_a_malformed_or_off_schema_reply_falls_back(llm, fake_openai, caplog, reply, why):
    fake_openai.respond_with(reply)
    with caplog.at_level(logging.WARNING):
        result = await categorise(failures("quoted last year's prices"), llm)
    assert len(fake_openai.requests) == 1  # not retried: the same prompt would fail the same way
    assert offline(result) == [("knowledge", "heuristic")]
    assert why in caplog.text
    assert KEY not in caplog.text


async def test_each_batch_falls_back_on_its_own(llm, fake_openai):
    def reply(request: dict[str, Any]) -> Any:
        return "not json" if len(numbered(request)) == 30 else categorise_reply(request)

    fake_openai.respond_with(reply)
    result = await categorise(failures(*(f"old price {i}" for i in range(31))), llm)
    assert [r.source for r in result] == ["heuristic"] * 30 + ["llm"]


async def test_a_slow_model_times_out_and_falls_back(fake_openai):
    fake_openai.respond_with(Reply(delay=30, content={"items": []}))
    llm = build_llm(settings(fake_openai), timeout=0.3, max_retries=1)
    assert llm is not None
    started = time.perf_counter()
    try:
        result = await categorise(failures("quoted last year's prices"), llm)
    finally:
        await llm.close()
    assert time.perf_counter() - started < 5
    assert len(fake_openai.requests) == 2  # the first try and one retry, each cut at 0.3 s
    assert offline(result) == [("knowledge", "heuristic")]


async def test_without_a_model_categorise_is_the_offline_classifier():
    result = await categorise(failures("quoted last year's prices"), None)
    assert offline(result) == [("knowledge", "heuristic")]


def context_model(judge: Any = None) -> Any:
    def reply(request: dict[str, Any]) -> Any:
        name = request["response_format"]["json_schema"]["name"]
        user = request["messages"][-1]["content"]
        if name == "ModelAnswer":
            if "Reference information" in user:
                return {"answer": "Refunds within 30 days, prorated."}
            return {"answer": "I'm not sure; usually 14 days?"}
        if name == "Judgement":
            return judge or {"verdict": "right_with_context", "rationale": "Names the 30 days."}
        raise AssertionError(name)

    return reply


async def test_the_perfect_context_test_asks_twice_then_grades(llm, fake_openai):
    fake_openai.respond_with(context_model())
    result = await run_context_test(
        llm,
        question="Can I get a refund after 20 days?",
        context="Refund policy: 30 days, prorated.",
        expected="30 days",
    )
    assert result.answer_without == "I'm not sure; usually 14 days?"
    assert result.answer_with == "Refunds within 30 days, prorated."
    assert (result.judgement, result.rationale) == ("knowledge", "Names the 30 days.")
    assert len(fake_openai.requests) == 3
    by_kind = {
        (r["response_format"]["json_schema"]["name"], "Reference" in json.dumps(r)): r
        for r in fake_openai.requests
    }
    without, with_context = by_kind["ModelAnswer", False], by_kind["ModelAnswer", True]
    graded = by_kind["Judgement", False]
    assert "Refund policy" not in json.dumps(without)
    assert "Refund policy: 30 days, prorated." in with_context["messages"][-1]["content"]
    assert "30 days" in graded["messages"][-1]["content"]
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0


async def test_a_failed_grading_only_drops_the_suggestion(llm, fake_openai):
    fake_openai.respond_with(context_model(judge="{oops"))
    result = await run_context_test(llm, question="q", context="c", expected="e")
    assert result.answer_with and result.judgement is None and result.rationale is None


async def test_a_failed_answer_fails_the_test(llm, fake_openai):
    fake_openai.respond_with(Reply(status=400))
    with pytest.raises(LLMError, match="answered HTTP 400"):
        await run_context_test(llm, question="q", context="c", expected="e")


async def test_the_summary_is_one_paragraph_and_an_empty_one_is_an_error(llm, fake_openai):
    fake_openai.respond_with({"paragraph": "  The team found the prices page changes weekly.  "})
    drafted = await summarise_thread(
        llm, title="Billing bot", verdict="Start with RAG", messages=["prices change weekly"]
    )
    assert drafted.value == "The team found the prices page changes weekly."
    assert "- prices change weekly" in fake_openai.requests[-1]["messages"][-1]["content"]

    fake_openai.respond_with({"paragraph": " "})
    with pytest.raises(LLMError, match="off-schema"):
        await summarise_thread(llm, title="t", verdict="v", messages=["m"])
