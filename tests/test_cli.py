"""The ``ragft`` console script, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAGFT = [str(Path(sys.executable).with_name("ragft"))]


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path = ROOT):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_"))}
    full_env.pop("DATABASE_URL", None)
    full_env.update(env or {})
    return subprocess.run(
        RAGFT + list(args), input=stdin, capture_output=True, text=True, env=full_env, cwd=cwd
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""


def test_help_lists_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ["recommend", "classify", "db"]:
        assert command in result.stdout


def test_recommend_example_file_gives_rag_with_reasons_and_costs():
    result = run("recommend", "examples/answers.json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "rag"
    assert out["conditions"] == {
        "fails_with_perfect_context": False,
        "behavioral_failures_proven": False,
        "team_can_own_fine_tuning": False,
    }
    assert out["reasons"] and all(isinstance(r, str) for r in out["reasons"])
    assert any("deployment" in r.lower() for r in out["reasons"])
    assert any("Ship RAG" in step for step in out["next_steps"])
    assert out["title"] == "Support assistant for billing questions"


def test_recommend_reads_stdin_and_reaches_fine_tuning():
    answers = json.loads((ROOT / "examples/behavior_gap.json").read_text())
    result = run("recommend", "-", stdin=json.dumps(answers))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "fine_tuning"
    assert all(out["conditions"].values())


def test_recommend_empty_object_is_rag_not_an_error():
    result = run("recommend", "-", stdin="{}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "rag"


def test_recommend_markdown_is_a_readable_summary_with_costs():
    result = run("recommend", "examples/answers.json", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("# Support assistant for billing questions")
    assert "Start with RAG" in text
    assert "| Line (year one) | RAG | Fine-tuning | Hybrid |" in text
    # 9,600 still to label at $2–$8; the other fine-tuning lines are costed too.
    assert "| Labeling the examples still needed | — | $19.2k–$76.8k | $19.2k–$76.8k |" in text
    assert "| Hosting the fine-tuned model | — |" in text
    assert "Retrieval addresses 64% of the failures you logged" in text
    assert "`queries_per_month`" in text


def test_recommend_gives_the_full_costs_and_takes_overrides():
    answers = json.loads((ROOT / "examples/answers.json").read_text())
    plain = json.loads(run("recommend", "-", stdin=json.dumps(answers)).stdout)["costs"]
    answers["costs"] = {
        "queries_per_month": {"low": 200_000, "high": 400_000},
        "tokens_per_query": 2_000,
    }
    result = run("recommend", "-", stdin=json.dumps(answers))
    assert result.returncode == 0, result.stderr
    costs = json.loads(result.stdout)["costs"]
    for path in ("rag", "fine_tuning", "hybrid"):
        p = costs[path]
        assert p["year_one"]["low"] <= p["year_one"]["high"]
        assert p["three_years"]["low"] >= p["year_one"]["low"]
        assert p["three_years"]["high"] >= p["year_one"]["high"]
        assert all({"name", "low", "high"} <= set(line) for line in p["lines"])
        inference = next(line for line in p["lines"] if line["name"] == "Inference")
        before = next(line for line in plain[path]["lines"] if line["name"] == "Inference")
        assert inference["low"] > before["low"]
    assert costs["fine_tuning"]["addresses_share"] == round(5 / 22, 4)
    assert costs["assumptions"]["queries_per_month"] == {"low": 200_000, "high": 400_000}
    assert costs["assumptions"]["tokens_per_query"] == {"low": 2_000, "high": 2_000}
    assert plain["assumptions"]["examples_needed"] == {"low": 10_000, "high": 10_000}
    no_failures = json.loads(run("recommend", "-", stdin="{}").stdout)["costs"]
    assert no_failures["rag"]["addresses_share"] is None


@pytest.mark.parametrize(
    ("costs", "key"),
    [
        ('{"queries_per_month": -10}', "costs.queries_per_month"),
        ('{"label_cost_per_example": {"low": 9, "high": 2}}', "costs.label_cost_per_example"),
        ('{"queries_per_mnth": 10}', "costs.queries_per_mnth"),
    ],
)
def test_recommend_bad_cost_overrides_exit_2_naming_the_key(costs: str, key: str):
    result = run("recommend", "-", stdin=f'{{"costs": {costs}}}')
    assert_one_line_error(result, key)


@pytest.mark.parametrize(
    ("stdin", "needles"),
    [
        ('{"problem_type": "knowlege"}', ["problem_type", "knowlege"]),
        ('{"knowledge_change": "hourly"}', ["knowledge_change"]),
        ('{"failures": {"knowledge": -1}}', ["failures.knowledge"]),
        ('{"failures": {"behavior": "3"}}', ["failures.behavior"]),
        ('{"labeled_examples": "lots"}', ["labeled_examples"]),
        ('{"labeled_examples": -5}', ["labeled_examples"]),
        ('{"prompt_engineering_tried": "yes"}', ["prompt_engineering_tried"]),
        ('{"owners": {"evaluation": 42}}', ["owners.evaluation"]),
        ('{"owners": ["U1"]}', ["owners"]),
        ('{"failures": 12}', ["failures"]),
        ('{"problem_typ": "knowledge"}', ["problem_typ"]),
        ("[1, 2, 3]", ["answers", "object"]),
        ('"knowledge"', ["answers", "object"]),
        ("{not json", ["answers", "JSON"]),
        ("", ["answers", "JSON"]),
    ],
)
def test_recommend_bad_input_names_the_field(stdin: str, needles: list[str]):
    assert_one_line_error(run("recommend", "-", stdin=stdin), *needles)


def test_recommend_missing_file(tmp_path: Path):
    missing = tmp_path / "nope.json"
    assert_one_line_error(run("recommend", str(missing)), str(missing), "no such file")


def test_recommend_directory_and_unreadable_file(tmp_path: Path):
    assert_one_line_error(run("recommend", str(tmp_path)), str(tmp_path))
    binary = tmp_path / "answers.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(run("recommend", str(binary)), str(binary))


def test_unknown_flag_and_missing_command_are_one_line_errors():
    assert_one_line_error(run("recommend", "examples/answers.json", "--format", "pdf"), "format")
    assert_one_line_error(run(), "COMMAND")
    assert_one_line_error(run("frobnicate"), "frobnicate")


def test_classify_writes_one_json_object_per_line():
    stdin = "it quoted last year's prices\n\nsounds like a legal brief\nthumbs down, no details\n"
    result = run("classify", "--offline", stdin=stdin)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [
        {"text": "it quoted last year's prices", "category": "knowledge", "source": "heuristic"},
        {"text": "sounds like a legal brief", "category": "behavior", "source": "heuristic"},
        {"text": "thumbs down, no details", "category": "unclear", "source": "heuristic"},
    ]


def test_classify_without_a_key_uses_the_offline_classifier():
    result = run("classify", stdin="ignores the instruction to answer in Spanish\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "text": "ignores the instruction to answer in Spanish",
        "category": "behavior",
        "source": "heuristic",
    }


def test_db_upgrade_creates_the_default_sqlite_file_and_is_idempotent(tmp_path: Path):
    first = run("db", "upgrade", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "ragft.db").exists()
    second = run("db", "upgrade", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert first.stdout.split()[-1] == second.stdout.split()[-1]


def test_db_upgrade_accepts_platform_style_urls(empty_db_url: str, tmp_path: Path):
    url = empty_db_url.replace("sqlite+aiosqlite", "sqlite").replace(
        "postgresql+psycopg", "postgres"
    )
    result = run("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/x", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"]
)
def test_bad_database_url_is_one_clear_line(tmp_path: Path, url: str):
    result = run("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert_one_line_error(result, "DATABASE_URL", "unsupported scheme")


def test_settings_errors_list_every_bad_value_and_never_print_secrets(tmp_path: Path):
    env = {
        "DATABASE_URL": "nonsense",
        "SLACK_BOT_TOKEN": "xoxp-user-token-secret",
        "SLACK_APP_TOKEN": "not-an-app-token-secret",
    }
    result = run("db", "upgrade", env=env, cwd=tmp_path)
    assert_one_line_error(result, "DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    assert "secret" not in result.stderr
