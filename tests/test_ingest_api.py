"""``POST /api/v1/failures`` through the real ASGI app: tokens made with ``/ragft token``,
failures counted in the decision's thread like Slack-logged ones, every error JSON."""

from __future__ import annotations

import asyncio
import json
import random
import re

from tests.slack_app import CHANNEL, FACILITATOR, text_of

OTHER_TEAM = "T0OTHER999"
TEAMMATE = "U0TEAMMATE2"
TOKEN = re.compile(r"ragft_[A-Za-z0-9_-]{20,}")


def _reply_text(slack, user: str = FACILITATOR) -> str:
    replies = slack.replies(user)
    assert replies, "no ephemeral reply"
    return text_of(replies[-1])


async def _decision(slack, title: str = "Support assistant for billing", **kw) -> int:
    await slack.command(f"start {title}", **kw)
    return (await slack.decision()).id


async def _token(slack, label: str = "zendesk", **kw) -> str:
    await slack.command(f"token create {label}", **kw)
    found = TOKEN.findall(_reply_text(slack, kw.get("user", FACILITATOR)))
    assert found, _reply_text(slack)
    return found[0]


async def post(slack, body, token: str | None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes | str) else json.dumps(body)
    return await slack.http.post("/api/v1/failures", content=content, headers=headers)


async def test_token_is_shown_once_and_failures_count_in_the_thread(slack):
    d = await _decision(slack)
    token = await _token(slack)
    body = {
        "failures": [
            {"decision": d, "explanation": "quoted last year's prices", "external_id": "z-1"},
            {"decision": d, "explanation": "sounds like a legal brief", "output": "Hereby…"},
            {"decision": d, "category": "behavior", "link": "https://traces.example/t/9"},
        ]
    }
    response = await post(slack, body, token)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    await slack.idle()
    q3 = text_of(await slack.message_of("failures"))
    assert "*Knowledge* 1 · *Behavior* 2" in q3

    # /ragft token list never shows the token; status shows where failures came from
    await slack.command("token list")
    listed = _reply_text(slack)
    assert "zendesk" in listed and f"<@{FACILITATOR}>" in listed and "last used" in listed
    assert token not in listed
    await slack.command(f"status {d}")
    status = _reply_text(slack)
    assert "3 from the API" in status and "last one" in status


async def test_auth_missing_unknown_and_revoked_tokens_get_401(slack):
    d = await _decision(slack)
    body = {"decision": d, "explanation": "wrong refund window"}
    for token in (None, "ragft_not-a-real-token-at-all-xxxxxxxx", "garbage"):
        response = await post(slack, body, token)
        assert response.status_code == 401
        assert "error" in response.json()
    token = await _token(slack, "ci")
    assert (await post(slack, body, token)).status_code == 200
    await slack.command("token revoke ci")
    assert "revoked" in _reply_text(slack)
    response = await post(slack, {**body, "explanation": "another"}, token)
    assert response.status_code == 401


async def test_only_facilitators_or_admins_make_tokens(slack):
    await _decision(slack)
    slack.fake.add_user(TEAMMATE)
    await slack.command("token create mine", user=TEAMMATE)
    assert "Only a facilitator" in _reply_text(slack, TEAMMATE)
    assert not TOKEN.search(_reply_text(slack, TEAMMATE))
    slack.fake.add_user("U0ADMIN0001", is_admin=True)
    await slack.command("token create admins", user="U0ADMIN0001")
    assert TOKEN.search(_reply_text(slack, "U0ADMIN0001"))


async def test_another_workspaces_decision_is_403_and_unknown_is_404(slack):
    theirs = await _decision(slack, "Their assistant", team_id=OTHER_TEAM, user="U0THEIRS001")
    ours = await _decision(slack, "Our assistant")
    token = await _token(slack)
    response = await post(slack, {"decision": theirs, "explanation": "leak?"}, token)
    assert response.status_code == 403
    assert "another workspace" in response.json()["error"]
    response = await post(slack, {"decision": 99999, "explanation": "nope"}, token)
    assert response.status_code == 404
    mixed = {
        "failures": [
            {"decision": ours, "explanation": "ok"},
            {"decision": theirs, "explanation": "x"},
        ]
    }
    assert (await post(slack, mixed, token)).status_code == 403
    response = await post(slack, {"decision": ours, "explanation": "stored now"}, token)
    assert response.json()["accepted"] == 1  # the refused request stored nothing


async def test_external_id_and_text_make_it_idempotent(slack):
    d = await _decision(slack)
    token = await _token(slack)
    one = {"decision": d, "explanation": "missed the March price change", "external_id": "t-7"}
    assert (await post(slack, one, token)).json()["accepted"] == 1
    for _ in range(3):
        again = await post(slack, {**one, "explanation": "edited text, same ticket"}, token)
        assert again.json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    same_text = {"decision": d, "explanation": "  Missed the March  price change. "}
    assert (await post(slack, same_text, token)).json()["duplicates"] == 1
    batch = {"failures": [{"decision": d, "explanation": f"case {i}"} for i in (1, 2, 1)]}
    assert (await post(slack, batch, token)).json() == {
        "accepted": 2,
        "duplicates": 1,
        "rejected": [],
    }


async def test_partial_rejection_stores_the_valid_items(slack):
    d = await _decision(slack)
    token = await _token(slack)
    body = {
        "failures": [
            {"decision": d, "explanation": "good one"},
            {"decision": d, "explanation": "   "},
            {"decision": d, "explanation": "bad link", "link": "javascript:alert(1)"},
            {"decision": d, "explanation": "x", "category": "vibes"},
            "not an object",
            {"decision": "1", "explanation": "string id"},
            {"decision": d, "explanation": "typo", "explaination": "oops"},
            {"decision": d, "explanation": "another good one", "category": "knowledge"},
        ]
    }
    response = await post(slack, body, token)
    assert response.status_code == 200
    reply = response.json()
    assert reply["accepted"] == 2 and reply["duplicates"] == 0
    errors = {r["index"]: r["error"] for r in reply["rejected"]}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6]
    assert "explanation is empty" in errors[1]
    assert "http or https" in errors[2]
    assert "category" in errors[3]
    assert "JSON object" in errors[4]
    assert "decision" in errors[5]
    assert "explaination" in errors[6]


async def test_shapes_and_size_limits(slack):
    d = await _decision(slack)
    token = await _token(slack)
    for body in (b"[1, 2]", b"not json", b'"text"', b'{"failures": {}}', b"\xff\xfe"):
        response = await post(slack, body, token)
        assert response.status_code == 422, body
        assert "error" in response.json()
    too_many = {"failures": [{"decision": d, "explanation": f"f{i}"} for i in range(1001)]}
    response = await post(slack, too_many, token)
    assert response.status_code == 413 and "1000" in response.json()["error"]
    huge = json.dumps({"decision": d, "explanation": "x", "output": "y" * (9 * 1024 * 1024)})
    response = await post(slack, huge, token)
    assert response.status_code == 413
    exactly = {"failures": [{"decision": d, "explanation": f"f{i}"} for i in range(1000)]}
    assert (await post(slack, exactly, token)).json()["accepted"] == 1000


async def test_rate_limit_answers_429_with_retry_after(slack):
    d = await _decision(slack)
    token = await _token(slack)
    other = await _token(slack, "second")
    body = {"decision": d, "category": "unclear"}
    responses = await asyncio.gather(*(post(slack, body, token) for _ in range(40)))
    codes = [r.status_code for r in responses]
    assert codes.count(200) >= 10 and 429 in codes
    limited = next(r for r in responses if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert "too many requests" in limited.json()["error"]
    assert (await post(slack, body, other)).status_code == 200  # per token


async def test_openapi_document_describes_the_endpoint(slack):
    response = await slack.http.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    operation = doc["paths"]["/api/v1/failures"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "403", "404", "413", "422", "429"}
    failure = doc["components"]["schemas"]["Failure"]
    assert failure["required"] == ["decision"]
    assert set(failure["properties"]) == {
        "decision",
        "explanation",
        "output",
        "link",
        "category",
        "external_id",
    }
    reply = doc["components"]["schemas"]["IngestReply"]
    assert set(reply["properties"]) == {"accepted", "duplicates", "rejected"}
    assert (await slack.http.get("/api/v1/failures")).status_code == 405
    assert (await slack.http.get("/api/v1/nothing")).json()["error"].startswith("no such")


def _malformed(rng: random.Random, d: int) -> bytes:
    atoms = [
        None, True, 0, -1, 1.5, 2**64, "", "x" * 3000, [], {}, "\u0000", "💥", float("nan"),
        {"decision": d}, [{"decision": d}], d, "https://x", {"$ref": "#"},
    ]  # fmt: skip
    keys = ["decision", "explanation", "output", "link", "category", "external_id", "failures", ""]
    choice = rng.randrange(8)
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if choice == 1:
        return b"[" * rng.randrange(1, 5000)
    if choice == 2:
        return json.dumps(rng.choice(atoms)).encode()
    item = {rng.choice(keys): rng.choice(atoms) for _ in range(rng.randrange(1, 6))}
    if choice == 3:
        return json.dumps({"failures": rng.choice(atoms)}).encode()
    if choice == 4:
        return json.dumps({"failures": [item, rng.choice(atoms)]}).encode()
    if choice == 5:
        return json.dumps(item).encode()[: rng.randrange(1, 40)]
    if choice == 6:
        return json.dumps({"decision": d, **item}).encode()
    return json.dumps({"failures": [{"decision": d, **item}] * 3, "extra": 1}).encode()


async def test_fuzz_of_200_malformed_bodies_gets_no_5xx_and_no_traceback(slack):
    d = await _decision(slack)
    token = await _token(slack)
    api = slack.http
    rng = random.Random(12)
    for i in range(200):
        body = _malformed(rng, d)
        await asyncio.sleep(0.1 if i % 15 == 14 else 0)  # stay under the rate limit
        response = await api.post(
            "/api/v1/failures",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        if response.status_code == 429:
            await asyncio.sleep(int(response.headers["Retry-After"]))
            continue
        assert response.status_code < 500, (body[:200], response.text)
        assert "Traceback" not in response.text
        assert set(response.json()) in ({"error"}, {"accepted", "duplicates", "rejected"})
    assert CHANNEL


async def test_concurrent_senders_of_the_same_failures_store_each_once(slack):
    d = await _decision(slack)
    tokens = [await _token(slack, f"sender-{i}") for i in range(4)]
    body = {"failures": [{"decision": d, "explanation": f"timeout on case {i}"} for i in range(50)]}
    replies = await asyncio.gather(*(post(slack, body, token) for token in tokens))
    results = [r.json() for r in replies]
    assert all(r.status_code == 200 for r in replies), results
    assert sum(r["accepted"] for r in results) == 50
    assert sum(r["duplicates"] for r in results) == 150
