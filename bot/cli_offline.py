"""The ``ragft`` commands that need no database or Slack: ``recommend`` and ``classify``, and
the one error type every command raises for bad input."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import TextIO

from bot.domain.answers_json import AnswersError, parse_answers
from bot.domain.classifier import classify as classify_offline
from bot.domain.costs import estimate_for
from bot.domain.recommend_markdown import render_markdown
from bot.domain.rule import recommend
from bot.settings import ConfigError, Settings, load_settings

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input or configuration; the message is printed as one line."""


def read_input(path: str, stdin: TextIO) -> str:
    if path == "-":
        return stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not an answers file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CliError(f"{path}: cannot read the file ({reason})") from None


def cmd_recommend(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    raw = read_input(args.file, stdin)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"answers: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    try:
        answers = parse_answers(data)
    except AnswersError as exc:
        raise CliError(str(exc)) from None
    recommendation = recommend(answers)
    costs = estimate_for(answers)
    if args.format == "markdown":
        text = render_markdown(answers, recommendation, costs)
        out.write(text if text.endswith("\n") else text + "\n")
        return 0
    result = {"title": answers.title, **recommendation.to_dict(), "costs": costs.to_dict()}
    json.dump(result, out, indent=2, ensure_ascii=False)
    out.write("\n")
    return 0


def _write_classified(out: TextIO, text: str, category: str, source: str) -> None:
    record = {"text": text, "category": category, "source": source}
    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()


def cmd_classify(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    """The model answers when OPENAI_API_KEY is set (30 lines per request), unless --offline;
    a batch it can't answer usably falls back to the offline classifier, line by line."""
    from bot.llm.client import build_llm
    from bot.llm.tasks import BATCH_SIZE

    llm = None if args.offline else build_llm(cli_settings())
    if llm is None:
        for line in stdin:
            text = line.strip()
            if text:
                result = classify_offline(text)
                _write_classified(out, text, str(result.category), str(result.source))
        return 0

    from bot.domain.failure_lines import ParsedFailure
    from bot.services.failure_logging import categorise

    def flush(runner: asyncio.Runner, batch: list[str]) -> None:
        items = runner.run(categorise([ParsedFailure(text) for text in batch], llm))
        for item in items:
            _write_classified(out, item.failure.explanation, str(item.category), str(item.source))

    with asyncio.Runner() as runner:
        try:
            batch: list[str] = []
            for line in stdin:
                if text := line.strip():
                    batch.append(text)
                if len(batch) == BATCH_SIZE:
                    flush(runner, batch)
                    batch = []
            if batch:
                flush(runner, batch)
        finally:
            runner.run(llm.close())
    return 0


def cli_settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise CliError(str(exc)) from None
