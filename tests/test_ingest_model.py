"""With a model configured, failures sent to the API are categorised by it in batches of 30,
like the Q3 modal; a category the sender gives is a person's and never sent to the model."""

from __future__ import annotations

from sqlmodel import select

from storage.models import FailureExample
from tests.test_ingest_api import _decision, _token, post
from tests.test_slack_ai import ai_slack, fake_openai  # noqa: F401  (fixtures)


async def test_api_failures_are_categorised_by_the_model_30_at_a_time(ai_slack, fake_openai):  # noqa: F811
    d = await _decision(ai_slack)
    token = await _token(ai_slack)
    failures = [
        {"decision": d, "explanation": f"quoted the old price for plan {i}"} for i in range(45)
    ]
    failures += [{"decision": d, "explanation": "sounds rude", "category": "behavior"}]
    response = await post(ai_slack, {"failures": failures}, token)
    assert response.json() == {"accepted": 46, "duplicates": 0, "rejected": []}
    assert len(fake_openai.requests) == 2  # 30 + 15; the human-set one isn't sent
    sent = "".join(r["messages"][-1]["content"] for r in fake_openai.requests)
    assert "sounds rude" not in sent
    async with ai_slack.sessions() as session:
        rows = (await session.exec(select(FailureExample))).all()
    sources = sorted({(r.category_source, r.source) for r in rows})
    assert sources == [("human", "api"), ("llm", "api")]

    again = await post(ai_slack, {"failures": failures}, token)
    assert again.json()["duplicates"] == 46
    assert len(fake_openai.requests) == 2  # duplicates cost no model tokens
