"""The sweep in distribution mode: each reminder is delivered, and its follow-up run, with the
bot token of the workspace it belongs to (``Runtime.for_team``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.domain.lifecycle import ReminderKind
from bot.reminders.sweeper import Deliver, Outcome, Progress
from handlers.oauth_setup import build_distribution
from handlers.runtime import Runtime
from handlers.workspace_clients import WorkspaceClients
from storage.repositories.reminder_repo import Claimed


def with_workspaces(runtime: Runtime) -> None:
    """Give a sweep runtime the installation store, in distribution mode."""
    if not runtime.settings.distribution or runtime.workspaces is not None:
        return
    engine = runtime.sessions.kw["bind"]
    distribution = build_distribution(runtime.settings, engine, runtime.default_client)
    runtime.workspaces = WorkspaceClients(
        distribution=distribution, base=runtime.default_client, sessions=runtime.sessions
    )


class InItsWorkspace:
    """A deliverer run inside ``runtime.for_team(claim.team_id)``, its ``then`` too."""

    def __init__(self, runtime: Runtime, deliver: Deliver) -> None:
        self.runtime = runtime
        self.deliver = deliver

    async def __call__(self, claim: Claimed, progress: Progress, now: datetime) -> Outcome:
        async with self.runtime.for_team(claim.team_id):
            outcome = await self.deliver(claim, progress, now)
        then = outcome.then
        if then is not None:

            async def then_in_workspace() -> None:
                async with self.runtime.for_team(claim.team_id):
                    await then()

            outcome.then = then_in_workspace
        return outcome


def in_its_workspace(
    runtime: Runtime, registry: Mapping[ReminderKind, Deliver]
) -> dict[ReminderKind, Deliver]:
    if runtime.workspaces is None and not runtime.settings.distribution:
        return dict(registry)
    return {kind: InItsWorkspace(runtime, deliver) for kind, deliver in registry.items()}
