"""``ragft export --out DIR [--team T] [--format …]``: a workspace's decided, superseded and
withdrawn decisions as ADR files. People are named through the workspace's bot token
(``SLACK_BOT_TOKEN``, or its installation in distribution mode); without one, or when Slack
can't be reached, they are "teammate N"."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from bot.domain.adr_formats import AdrFormat, render_adr
from bot.domain.errors import UserError
from bot.export_dir import AdrFile, ExportDirError, prepare, write_files
from bot.services import adr_records
from bot.services.adr_records import AdrSource
from bot.settings import Settings
from handlers.adr_delivery import SlackDirectory, adr_facts
from handlers.reminder_delivery import sweep_runtime
from storage.db import session_factory
from storage.migrate import open_database


def only_workspace(teams: list[str]) -> str:
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise UserError("the database holds no decisions yet")
    raise UserError(
        f"the database holds {len(teams)} workspaces ({', '.join(teams)}): choose one with --team T"
    )


async def _files(
    directory: SlackDirectory | None, sources: list[AdrSource], adr_format: AdrFormat
) -> list[AdrFile]:
    files = []
    for source in sources:
        facts = await adr_facts(directory, source)
        files.append(AdrFile(source.record.id, facts.file_name, render_adr(facts, adr_format)))
    return files


async def export_command(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    try:
        target = prepare(args.out)
    except ExportDirError as exc:
        raise UserError(str(exc)) from None
    adr_format = AdrFormat(args.format)
    engine = await open_database(settings.database_url.get_secret_value())
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            team = args.team or only_workspace(await adr_records.workspaces(session=session))
            sources = await adr_records.workspace_sources(session=session, team_id=team)
        named = settings.distribution or settings.slack_bot_token is not None
        files: list[AdrFile] | None = None
        if named:
            runtime = sweep_runtime(settings, sessions)
            try:
                async with runtime.for_team(team) as client:
                    files = await _files(SlackDirectory(client), sources, adr_format)
            except UserError:  # not installed there: nobody can be named
                named = False
        if files is None:
            files = await _files(None, sources, adr_format)
    finally:
        await engine.dispose()
    try:
        report = write_files(target, files)
    except ExportDirError as exc:
        raise UserError(str(exc)) from None
    if not named:
        print("ragft: no Slack token, so people are written as “teammate N”", file=sys.stderr)
    for name in report.written:
        out.write(f"wrote {target / name}\n")
    for name in report.removed:
        out.write(f"removed {target / name} (the decision was renamed)\n")
    for name in report.skipped:
        print(f"ragft: skipped {target / name}: a file ragft didn't write", file=sys.stderr)
    out.write(
        f"{len(files)} ADR files ({adr_format}) in {target}: {len(report.written)} written, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed\n"
    )
    return 0
