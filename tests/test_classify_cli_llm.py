"""``ragft classify``: the model answers when OPENAI_API_KEY is set, the offline classifier with
``--offline`` or without a key, and ``source`` says which one answered each line."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from bot.cli import main
from tests.fakes.openai_api import FakeOpenAI

LINES = [f"quoted last year's price #{i}" for i in range(31)]


def model(request: dict[str, Any]) -> dict[str, Any]:
    """Calls every explanation behavior, so the model's answers are told from the classifier's."""
    found = re.findall(r"^(\d+)\. ", request["messages"][-1]["content"], re.M)
    return {
        "items": [{"index": int(i), "category": "behavior", "rationale": "model"} for i in found]
    }


@pytest.fixture
def fake_openai(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with FakeOpenAI() as fake:
        fake.respond_with(model)
        yield fake


def classify(monkeypatch, capsys, lines: list[str], *args: str) -> list[dict[str, str]]:
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n\n"))
    assert main(["classify", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def with_key(monkeypatch, fake: FakeOpenAI) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)


def test_with_a_key_the_model_answers_in_batches_of_30(monkeypatch, capsys, fake_openai):
    with_key(monkeypatch, fake_openai)
    out = classify(monkeypatch, capsys, LINES)
    sizes = [
        len(re.findall(r"^\d+\. ", r["messages"][-1]["content"], re.M))
        for r in fake_openai.requests
    ]
    assert sizes == [30, 1]
    assert [o["text"] for o in out] == LINES
    assert {(o["category"], o["source"]) for o in out} == {("behavior", "llm")}
    assert set(out[0]) == {"text", "category", "source"}


def test_offline_flag_never_calls_the_model(monkeypatch, capsys, fake_openai):
    with_key(monkeypatch, fake_openai)
    out = classify(monkeypatch, capsys, LINES[:2], "--offline")
    assert fake_openai.requests == []
    assert {(o["category"], o["source"]) for o in out} == {("knowledge", "heuristic")}


def test_without_a_key_the_offline_classifier_answers(monkeypatch, capsys, fake_openai):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    out = classify(monkeypatch, capsys, LINES[:2])
    assert fake_openai.requests == []
    assert [o["source"] for o in out] == ["heuristic", "heuristic"]


def test_a_batch_the_model_botches_falls_back_line_by_line(monkeypatch, capsys, fake_openai):
    fake_openai.queue("{malformed")  # the first batch of 30 only
    with_key(monkeypatch, fake_openai)
    out = classify(monkeypatch, capsys, LINES)
    assert len(fake_openai.requests) == 2
    assert [o["source"] for o in out] == ["heuristic"] * 30 + ["llm"]
    assert out[0]["category"] == "knowledge" and out[30]["category"] == "behavior"
    err = capsys.readouterr().err
    assert "sk-cli-test" not in err
