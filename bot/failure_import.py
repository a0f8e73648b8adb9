"""``ragft failures import FILE|- --decision N [--team T]``: failures from a CSV (with a header)
or JSONL file, under the API's rules (validation, deduplication, ``external_id`` idempotency,
categorising). Bad rows are reported by line number and never stop the valid ones."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.failure_dedup import FailureSource
from bot.domain.ingest_schema import FailureIn, validate_item
from bot.llm.client import LLM

COLUMNS = ("explanation", "output", "link", "category", "external_id")
CHUNK = 1000
"""Rows stored per transaction (and per progress step)."""
SHOWN_IN_SUMMARY = 5


class ImportFileError(Exception):
    """The file can't be imported at all (missing, unreadable, not CSV or JSONL)."""


@dataclass
class Rows:
    valid: list[tuple[int, FailureIn]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_text(path: str, stdin: TextIO) -> str:
    if path == "-":
        try:
            return stdin.read()
        except UnicodeDecodeError:
            raise ImportFileError("stdin: not UTF-8 text") from None
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a directory, not a CSV or JSONL file") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{path}: not UTF-8 text, so not CSV or JSONL") from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


def _kind(path: str, text: str) -> str:
    lowered = path.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return "jsonl" if first.startswith("{") else "csv"


def _row(decision: int, values: dict[str, Any]) -> FailureIn | str:
    given = values.pop("decision", decision)
    if given != decision:
        return f"decision {given!r} isn't --decision {decision}"
    return validate_item({**values, "decision": decision})


def _csv_rows(name: str, text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ImportFileError(f"{name}: not a CSV file ({exc})") from None
    header = [column.strip().lower() for column in header]
    unknown = [column for column in header if column not in COLUMNS]
    if unknown or not ({"explanation", "category"} & set(header)):
        raise ImportFileError(
            f"{name}: the CSV header must name the columns {','.join(COLUMNS)} "
            f"(got {','.join(header)[:100] or 'nothing'})"
        )
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"not valid CSV ({exc})"
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            yield line, f"{len(cells)} cells, but the header has {len(header)} columns"
            continue
        yield line, {column: cell for column, cell in zip(header, cells, strict=True) if cell}


def _jsonl_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            yield number, "not valid JSON"
            continue
        if not isinstance(value, dict):
            yield number, "not a JSON object"
            continue
        yield number, {key: item for key, item in value.items() if item not in (None, "")}


def parse_rows(name: str, text: str, decision: int) -> Rows:
    """Every row, valid or rejected with its line number. ImportFileError for a file that is
    neither CSV with the header nor JSONL."""
    kind = _kind(name, text)
    rows = Rows()
    source = _jsonl_rows(text) if kind == "jsonl" else _csv_rows(name, text)
    for line, values in source:
        checked = values if isinstance(values, str) else _row(decision, values)
        if isinstance(checked, str):
            rows.rejected.append((line, checked))
        else:
            rows.valid.append((line, checked))
    unreadable = all(error == "not valid JSON" for _, error in rows.rejected)
    if kind == "jsonl" and not rows.valid and rows.rejected and unreadable:
        raise ImportFileError(f"{name}: neither JSONL nor a CSV with a header")
    return rows


def summary(imported: int, duplicates: int, rejected: list[tuple[int, str]]) -> str:
    """``imported 4,812, 188 duplicates, 3 rejected: line 17: explanation is empty; …``"""
    plural = "" if duplicates == 1 else "s"
    text = f"imported {imported:,}, {duplicates:,} duplicate{plural}, {len(rejected):,} rejected"
    if rejected:
        shown = "; ".join(f"line {line}: {error}" for line, error in rejected[:SHOWN_IN_SUMMARY])
        more = len(rejected) - SHOWN_IN_SUMMARY
        text += f": {shown}" + (f"; and {more:,} more (listed above)" if more > 0 else "")
    return text


class Progress:
    """A progress bar on stderr, only when stderr is a terminal."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.stream, self.enabled = total, stream, enabled and total > 0

    def show(self, done: int) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * done // self.total
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        self.stream.write(f"\rimporting [{bar}] {done:,}/{self.total:,}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def chunks(rows: list[tuple[int, FailureIn]]) -> Iterator[list[FailureIn]]:
    for start in range(0, len(rows), CHUNK):
        yield [item for _, item in rows[start : start + CHUNK]]


async def import_rows(
    *,
    database_url: str,
    team: str | None,
    decision: int,
    rows: Rows,
    llm: LLM | None,
    progress: Progress,
) -> tuple[int, int]:
    """(imported, duplicates); ImportFileError for an unknown decision or workspace."""
    from bot.domain.errors import UserError
    from bot.services import failure_ingest
    from storage.db import session_factory
    from storage.migrate import open_database

    engine = await open_database(database_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            team_id = await _team(session, team)
            try:
                await failure_ingest.check_decisions(
                    session=session, team_id=team_id, decision_ids={decision}
                )
            except UserError:
                raise ImportFileError(
                    f"--decision {decision}: there's no decision #{decision} in workspace {team_id}"
                ) from None
        imported = duplicates = done = 0
        progress.show(0)
        for chunk in chunks(rows.valid):
            async with sessions() as session:
                result = await failure_ingest.ingest_failures(
                    session=session,
                    team_id=team_id,
                    failures=chunk,
                    source=FailureSource.IMPORT,
                    logged_by="import",
                    llm=llm,
                )
            imported += result.accepted
            duplicates += result.duplicates
            done += len(chunk)
            progress.show(done)
        return imported, duplicates
    finally:
        progress.close()
        await engine.dispose()


async def _team(session: AsyncSession, team: str | None) -> str:
    from bot.services import failure_ingest

    teams = await failure_ingest.workspaces(session=session)
    if team is not None:
        if team not in teams:
            raise ImportFileError(f"--team {team}: no such workspace in this database")
        return team
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise ImportFileError("the database holds no decisions yet: start one in Slack first")
    raise ImportFileError(
        f"the database holds {len(teams)} workspaces: name one with --team ({', '.join(teams)})"
    )
