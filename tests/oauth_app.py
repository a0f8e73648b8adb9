"""ragft in distribution mode, driven like a browser and like Slack: the OAuth install through
the fake Slack's authorize page, then signed requests from any workspace."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy import text
from sqlmodel import col, select

from bot.settings import Settings
from handlers.app import create_app
from handlers.asgi import create_asgi_app
from storage.models import Decision
from tests.fakes import signing
from tests.fakes.slack_api import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, FakeSlack
from tests.slack_app import SlackApp


class DistributedApp(SlackApp):
    """``SlackApp`` with ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET`` instead of a bot token."""

    def __init__(self, fake: FakeSlack, engine, sessions, **settings: Any) -> None:
        self.fake = fake
        self.sessions = sessions
        self.settings = Settings(
            _env_file=None,
            slack_client_id=OAUTH_CLIENT_ID,
            slack_client_secret=OAUTH_CLIENT_SECRET,
            slack_signing_secret=signing.SIGNING_SECRET,
            slack_api_url=fake.url,
            slack_authorize_url=fake.authorize_url,
            database_url="sqlite:///unused.db",
            **settings,
        )
        assert self.settings.slack_bot_token is None
        self.app, self.runtime = create_app(settings=self.settings, sessions=sessions)
        self.asgi = create_asgi_app(
            self.app, engine, signing_secret=signing.SIGNING_SECRET, runtime=self.runtime
        )
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.asgi), base_url="http://ragft.test"
        )

    async def install(self, team_id: str | None, **where: Any) -> httpx.Response:
        """Add to Slack, as a person would: the install page, Slack's authorize page (the fake
        approves into ``team_id``), back to the redirect URL with the state cookie."""
        page = await self.http.get("/slack/install")
        assert page.status_code == 200, page.text
        authorize = self.add_to_slack_link(page.text)
        cookie = page.headers["set-cookie"].split(";")[0]
        self.fake.install_into(team_id, **where)
        async with httpx.AsyncClient() as browser:
            approved = await browser.get(authorize, follow_redirects=False)
        assert approved.status_code == 302, approved.text
        back = urlsplit(approved.headers["location"])
        assert back.path == "/slack/oauth_redirect"
        return await self.http.get(f"{back.path}?{back.query}", headers={"cookie": cookie})

    @staticmethod
    def add_to_slack_link(page: str) -> str:
        [href] = re.findall(r'href="([^"]*oauth/v2/authorize[^"]*)"', page)
        return html.unescape(href)

    async def decide_in(self, team_id: str, title: str, **kw: Any) -> Decision:
        """``/ragft <title>`` then *Decide*, in ``team_id``."""
        await self.command(f"start {title}", team_id=team_id, **kw)
        decision = await self.latest(team_id)

        await self.decide(decision.id, team_id=team_id)
        return await self.latest(team_id)

    async def latest(self, team_id: str) -> Decision:
        async with self.sessions() as session:
            query = (
                select(Decision)
                .where(Decision.team_id == team_id)
                .order_by(col(Decision.id).desc())
            )
            return (await session.exec(query)).first()


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def tables_with_team_id(sync) -> list[str]:
    inspector = sa.inspect(sync)
    return [
        name
        for name in inspector.get_table_names()
        if "team_id" in {c["name"] for c in inspector.get_columns(name)}
    ]


async def rows_per_table(sessions, team_id: str) -> dict[str, int]:
    """How many rows each table holds for ``team_id`` (tables that have a team_id)."""
    async with sessions() as session:
        connection = await session.connection()
        names = await connection.run_sync(tables_with_team_id)
        counts = {}
        for name in names:
            counts[name] = (
                await session.execute(
                    text(f'SELECT count(*) FROM "{name}" WHERE team_id = :t'), {"t": team_id}
                )
            ).scalar_one()
        return counts


async def installations(sessions, **where: str | None) -> int:
    async with sessions() as session:
        query = "SELECT count(*) FROM slack_installations"
        clauses = [
            f"{column} IS NULL" if value is None else f"{column} = :{column}"
            for column, value in where.items()
        ]
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        params = {k: v for k, v in where.items() if v is not None}
        return (await session.execute(text(query), params)).scalar_one()


def grid_command(
    *, text: str, team_id: str, enterprise_id: str, response_url: str, **kw: Any
) -> signing.Signed:
    """A slash command from a workspace of an Enterprise Grid org with an org-wide install."""
    body, _ = signing.slash_command(text=text, team_id=team_id, response_url=response_url, **kw)
    fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    fields.update(
        enterprise_id=enterprise_id, enterprise_name="Example Org", is_enterprise_install="true"
    )
    raw = urlencode(fields).encode()
    return raw, {"Content-Type": signing.FORM, **signing.sign(raw)}


def grid_event(event: dict[str, Any], *, event_id: str, team_id: str, enterprise_id: str):
    """An Events API request from an org-wide install."""
    import json

    body, _ = signing.event(event, event_id=event_id, team_id=team_id)
    envelope = json.loads(body)
    envelope["enterprise_id"] = enterprise_id
    envelope["is_enterprise_install"] = True
    envelope["authorizations"][0].update(
        {"enterprise_id": enterprise_id, "team_id": None, "is_enterprise_install": True}
    )
    raw = json.dumps(envelope).encode()
    return raw, {"Content-Type": "application/json", **signing.sign(raw)}
