"""``app_uninstalled``, ``team_access_revoked`` and ``tokens_revoked``: a workspace that
removes ragft leaves nothing.

Uninstalling deletes every row stored for the workspace (for an org-wide install: for every
workspace of the org ragft has seen and that has no installation of its own) and the
installation with its tokens, in one transaction (bot/services/workspace_data.py). An org-wide
install removed from some of the org's workspaces (``team_access_revoked``) deletes theirs.
Revoking tokens deletes the revoked tokens (Bolt's own revocation listener, in distribution
mode) and every installation row still holding the bot's token; the decisions stay until the
app is uninstalled. Logs carry counts, never content.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners

from bot.services import workspace_data
from handlers import event_payloads
from handlers.runtime import Runtime, runtime_of

log = logging.getLogger("ragft")


async def app_uninstalled(body: dict[str, Any], context: AsyncBoltContext) -> None:
    who = event_payloads.uninstall_of(body)
    if who is None:
        log.warning("app_uninstalled without a workspace or org: ignored")
        return
    rt = runtime_of(context)
    if who.is_enterprise_install and who.enterprise_id is not None:
        teams = [who.team_id] if who.team_id else []
        await rt.call(
            workspace_data.purge_enterprise, enterprise_id=who.enterprise_id, team_ids=teams
        )
    elif who.team_id is not None:
        await rt.call(workspace_data.purge_workspace, team_id=who.team_id)
    if rt.workspaces is not None:
        rt.workspaces.forget(*(t for t in (who.team_id,) if t))


async def team_access_revoked(body: dict[str, Any], context: AsyncBoltContext) -> None:
    """The org-wide install was removed from some workspaces of the org: their data goes."""
    revoked = event_payloads.team_access_revoked_of(body)
    if not revoked.team_ids:
        log.warning("team_access_revoked without workspaces: ignored")
        return
    rt = runtime_of(context)
    await rt.call(workspace_data.purge_revoked_workspaces, team_ids=list(revoked.team_ids))
    if rt.workspaces is not None:
        rt.workspaces.forget(*revoked.team_ids)


async def tokens_revoked(
    body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
) -> None:
    who = event_payloads.uninstall_of(body)
    rt = runtime_of(context)
    if who is None or rt.workspaces is None:  # single workspace: the token lives in the env
        log.info("tokens_revoked: no stored tokens to delete")
        return
    store = rt.workspaces.distribution.installation_store
    await AsyncTokenRevocationListeners(store).handle_tokens_revoked_events(event, context)
    if who.revoked_bot:  # Bolt deletes the bot rows; the installation rows hold the token too
        team_id = None if who.is_enterprise_install else who.team_id
        await store.async_delete_bot(enterprise_id=who.enterprise_id, team_id=team_id)
        await store.async_delete_installation(enterprise_id=who.enterprise_id, team_id=team_id)
    rt.workspaces.forget(*(t for t in (who.team_id,) if t))
    log.info("tokens_revoked: deleted the revoked tokens of %s", who.team_id or who.enterprise_id)


def register(app: AsyncApp, runtime: Runtime) -> None:
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
    app.event("team_access_revoked")(team_access_revoked)
