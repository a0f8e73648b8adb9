"""The ingestion API served by a real ``ragft serve`` process, in both modes: HTTP, and Socket
Mode on ``--port`` (beside ``/healthz``)."""

from __future__ import annotations

import httpx
import pytest

from bot.services.api_tokens import new_token, token_hash
from storage.db import create_engine, session_factory
from storage.repositories import decision_repo, token_repo
from tests.test_shutdown import serving  # noqa: F401  (the fixture)

TEAM = "T0SERVE001"


async def _seed(db_url: str) -> tuple[int, str]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            decision = await decision_repo.create_decision(
                session=session, team_id=TEAM, channel_id="C1", title="Billing", facilitator_id="U1"
            )
            raw = new_token()
            await token_repo.add_token(
                session=session,
                team_id=TEAM,
                label="ci",
                token_hash=token_hash(raw),
                created_by="U1",
            )
            return decision.id, raw
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
async def test_serve_answers_the_api_in_both_modes(serving, db_url, socket_mode):  # noqa: F811
    decision_id, token = await _seed(db_url)
    server = serving(socket_mode=socket_mode)
    async with httpx.AsyncClient(base_url=server.base) as client:
        response = await client.post(
            "/api/v1/failures",
            json={"decision": decision_id, "explanation": "quoted last year's prices"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
        assert (await client.post("/api/v1/failures", json={})).status_code == 401
        document = await client.get("/api/v1/openapi.json")
        assert document.json()["openapi"] == "3.1.0"
        if socket_mode:  # only /healthz and /api/v1/* on the port
            assert (await client.post("/slack/events", content=b"{}")).status_code == 404
