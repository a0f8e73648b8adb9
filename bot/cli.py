"""The ``ragft`` console script. Bad input: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn, TextIO, TypeVar

from bot.cli_offline import EXIT_BAD_INPUT, CliError, cli_settings, cmd_classify, cmd_recommend
from bot.settings import Settings

T = TypeVar("T")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see `{self.prog} --help`)")


def cmd_db_upgrade(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from storage.migrate import current_revision, open_database

    settings = _settings()

    async def run() -> str | None:
        engine = await open_database(settings.database_url.get_secret_value())
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = _with_database(run)
    out.write(f"Database {settings.database_url} is at revision {revision}.\n")
    return 0


def _with_database(run: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(run())``; a database that can't be reached or migrated, or that refuses
    the work (a purge that another table's foreign key blocks, say), is one line, exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import DatabaseUnavailable, describe, reason

    try:
        return asyncio.run(run())
    except DatabaseUnavailable as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError as exc:
        url = _settings().database_url.get_secret_value()
        raise CliError(f"{describe(url)} failed: {reason(exc, url)}") from None


def cmd_serve(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    import logging

    from handlers import serve

    settings = _settings()
    mode = "socket" if settings.slack_app_token is not None and not args.http else "http"
    problem = serve.missing_credentials_message(settings, mode, http_requested=args.http)
    if problem:
        raise CliError(problem)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve.quiet_debug_formatting()
    if mode == "socket":
        _with_database(lambda: serve.serve_socket(settings, args.host, args.port))
    else:
        _with_database(lambda: serve.serve_http(settings, args.host, args.port or settings.port))
    return 0


def parse_now(value: str | None) -> datetime | None:
    """``--now``: ISO-8601; without an offset it means UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CliError(
            f"--now: {value!r} is not an ISO-8601 time, e.g. 2027-03-01T10:00:00+00:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_sweep(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """One reminder sweep, as if at ``--now``; one line per reminder sent."""
    now = parse_now(args.now)
    settings = _settings()
    if settings.slack_bot_token is None and not settings.distribution:
        raise CliError(
            "sweep posts to Slack: set SLACK_BOT_TOKEN (xoxb-…, from OAuth & Permissions → "
            "Bot User OAuth Token) in the environment or .env"
        )

    from bot.reminders.sweeper import Sweeper
    from handlers.reminder_delivery import build_deliverer, sweep_runtime
    from storage.db import session_factory
    from storage.migrate import open_database

    async def run():
        engine = await open_database(settings.database_url.get_secret_value())
        try:
            sessions = session_factory(engine)
            sweeper = Sweeper(
                sessions,
                build_deliverer(sweep_runtime(settings, sessions)),
                retention=settings.retention,
            )
            return await sweeper.sweep(now)
        finally:
            await engine.dispose()

    report = _with_database(run)
    for line in report.sent:
        out.write(f"sent {line}\n")
    if report.erased:
        out.write(
            f"erased the outputs and links of {report.erased} failures older than "
            f"{settings.ragft_retention_days} days\n"
        )
    for line in report.retrying + report.failed:
        print(f"ragft: {line}", file=sys.stderr)
    return 0


def cmd_failures_import(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """Progress on stderr when it is a terminal; one summary line on stdout at the end."""
    from bot import failure_import as imp
    from bot.llm.client import build_llm

    if args.decision < 1:
        raise CliError(f"--decision: {args.decision} is not a decision number")
    try:
        rows = imp.parse_rows(args.file, imp.read_text(args.file, stdin), args.decision)
    except imp.ImportFileError as exc:
        raise CliError(str(exc)) from None
    settings = _settings()
    llm = None if args.offline else build_llm(settings)
    progress = imp.Progress(len(rows.valid), sys.stderr, sys.stderr.isatty())

    async def run() -> tuple[int, int]:
        try:
            return await imp.import_rows(
                database_url=settings.database_url.get_secret_value(),
                team=args.team,
                decision=args.decision,
                rows=rows,
                llm=llm,
                progress=progress,
            )
        finally:
            if llm is not None:
                await llm.close()

    try:
        imported, duplicates = _with_database(run)
    except imp.ImportFileError as exc:
        raise CliError(str(exc)) from None
    for line, error in rows.rejected:
        print(f"ragft: line {line}: {error}", file=sys.stderr)
    out.write(imp.summary(imported, duplicates, rows.rejected) + "\n")
    return 0


def cmd_purge(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """Delete everything stored for one workspace, or (an ``E…`` id) for an org-wide install
    and its workspaces without an install of their own; asks first unless ``--yes``."""
    import re

    from bot.services import workspace_data
    from storage.db import session_factory
    from storage.migrate import open_database

    team = args.team.strip()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{1,31}", team):
        raise CliError(
            f"--team: {args.team!r} is not a Slack team id such as T0ABCDEF12 "
            "(or an org id such as E0ABCDEF12)"
        )
    org = team.startswith("E")
    what = f"org {team} (its org-wide install)" if org else f"workspace {team}"
    preview, purge = (
        (workspace_data.preview_purge_enterprise, workspace_data.purge_enterprise)
        if org
        else (workspace_data.preview_purge, workspace_data.purge_workspace)
    )
    settings = _settings()

    async def run(service: Callable[..., Coroutine[Any, Any, dict[str, int]]]) -> dict[str, int]:
        engine = await open_database(settings.database_url.get_secret_value())
        try:
            async with session_factory(engine)() as session:
                key = {"enterprise_id": team} if org else {"team_id": team}
                return await service(session=session, **key)
        finally:
            await engine.dispose()

    if not args.yes:
        counts = workspace_data.nonzero(_with_database(lambda: run(preview)))
        if not counts:
            out.write(f"Nothing is stored for {what}.\n")
            return 0
        out.write(f"This deletes everything stored for {what}:\n")
        for table, count in counts.items():
            out.write(f"  {table}: {count} rows\n")
        if not stdin.isatty():
            raise CliError(f"not deleting without confirmation: pass --yes to purge {team}")
        out.write("Delete all of it? This can't be undone. [y/N] ")
        out.flush()
        if stdin.readline().strip().lower() not in ("y", "yes"):
            out.write("Nothing deleted.\n")
            return 1
    deleted = workspace_data.nonzero(_with_database(lambda: run(purge)))
    summary = ", ".join(f"{table} {count}" for table, count in deleted.items()) or "nothing"
    out.write(f"Deleted {what}: {summary}.\n")
    return 0


def cmd_export(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """Every decided, superseded or withdrawn decision of a workspace as ADR files in DIR."""
    from bot.domain.errors import UserError
    from handlers.adr_workspace import export_command

    settings = _settings()
    try:
        return _with_database(lambda: export_command(settings, args, out))
    except UserError as exc:
        raise CliError(str(exc)) from None


def _settings() -> Settings:
    return cli_settings()


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ragft")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ragft",
        description="Decide between RAG and fine-tuning, and keep the decision honest.",
    )
    parser.add_argument("--version", action="version", version=f"ragft {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    rec = commands.add_parser(
        "recommend", help="turn a JSON answers file into a verdict with reasons"
    )
    rec.add_argument("file", metavar="FILE", help="answers JSON file, or - for stdin")
    rec.add_argument("--format", choices=["json", "markdown"], default="json")
    rec.set_defaults(handler=cmd_recommend)

    cls = commands.add_parser(
        "classify", help="categorise failure explanations read from stdin, one per line"
    )
    cls.add_argument(
        "--offline", action="store_true", help="use the offline classifier even with an API key"
    )
    cls.set_defaults(handler=cmd_classify)

    srv = commands.add_parser(
        "serve", help="run the Slack bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)"
    )
    srv.add_argument("--http", action="store_true", help="serve HTTP even with SLACK_APP_TOKEN")
    srv.add_argument("--host", default="0.0.0.0", help="HTTP host (default 0.0.0.0)")
    srv.add_argument(
        "--port",
        type=int,
        default=None,
        help="HTTP port (default $PORT, else 3000); in Socket Mode, serve /healthz there",
    )
    srv.set_defaults(handler=cmd_serve)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_commands.required = True
    db_commands.add_parser("upgrade", help="upgrade the database to the newest migration")
    db.set_defaults(handler=cmd_db_upgrade)

    swp = commands.add_parser(
        "sweep", help="send the reminders that are due (reviews, revisit nudges) once, now"
    )
    swp.add_argument(
        "--now", metavar="ISO-8601", help="sweep as if at this time, e.g. 2027-03-01T10:00Z"
    )
    swp.set_defaults(handler=cmd_sweep)

    fail = commands.add_parser("failures", help="failures logged outside Slack")
    fail_commands = fail.add_subparsers(
        dest="failures_command", metavar="ACTION", parser_class=_Parser
    )
    fail_commands.required = True
    imp = fail_commands.add_parser(
        "import", help="import failures from a CSV (with a header) or JSONL file"
    )
    imp.add_argument("file", metavar="FILE", help="CSV or JSONL file, or - for stdin")
    imp.add_argument(
        "--decision", type=int, required=True, metavar="N", help="the decision's number"
    )
    imp.add_argument("--team", metavar="T", help="the workspace (needed when there are several)")
    imp.add_argument(
        "--offline", action="store_true", help="use the offline classifier even with an API key"
    )
    imp.set_defaults(handler=cmd_failures_import)
    prg = commands.add_parser("purge", help="delete everything stored for one workspace")
    prg.add_argument("--team", required=True, metavar="T", help="the workspace's team id")
    prg.add_argument("--yes", action="store_true", help="delete without asking")
    prg.set_defaults(handler=cmd_purge)
    exp = commands.add_parser(
        "export", help="write a workspace's decisions as ADR files (NNNN-kebab-title.md)"
    )
    exp.add_argument("--out", required=True, metavar="DIR", help="directory to write into")
    exp.add_argument("--team", metavar="T", help="workspace id (optional with one workspace)")
    exp.add_argument("--format", choices=["madr", "log4brains", "adr-tools"], default="madr")
    exp.set_defaults(handler=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.handler(args, sys.stdout, sys.stdin)
    except CliError as exc:
        print(f"ragft: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `ragft recommend … | head`: the reader left; that's fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
