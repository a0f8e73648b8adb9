"""The ADR renderers and their pieces (pure): file names, YAML quoting, names for ids, the
export arguments, and each format's layout on a record full of hostile text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import yaml

from bot.domain.adr_facts import AdrFacts, AdrRef, People, file_name, people_of, slug, yaml_string
from bot.domain.adr_formats import AdrFormat, parse_export, render_adr
from bot.domain.command_parser import decision_ref, parse_command
from bot.domain.costs import estimate_for
from bot.domain.decision_snapshot import Amendment
from bot.domain.errors import UserError
from bot.domain.failure_modes import ModeCount
from bot.domain.questions import CHOICE_LABELS, AnswerKey, OwnerRole, Verdict
from bot.domain.record_facts import RecordFacts
from bot.domain.rule import Answers, FailureCounts, recommend
from bot.domain.team_choice import team_choice

ALICE, BOB, GHOST = "U0ALICE001", "U0BOB00002", "U0GHOST003"
AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
HOSTILE = 'x: "y" # z\n---\n- [a](b) <img src=x> \\ \u2028 \x07 \ufeff 🦜 ## h'


def record(**overrides) -> RecordFacts:
    failures = FailureCounts(knowledge=4, behavior=12, unclear=2)
    owners = {role: None for role in OwnerRole} | {OwnerRole.EVALUATION: BOB}
    answers = Answers(title="t", problem_type="behavior", failures=failures, owners=owners)
    votes = {
        AnswerKey.PROBLEM_TYPE: {ALICE: "behavior", GHOST: "knowledge"},
        AnswerKey.KNOWLEDGE_CHANGE: {BOB: "stable"},
    }
    values = {
        "id": 7,
        "title": "Support bot: RAG <or> fine-tune?",
        "status": "decided",
        "created_at": AT,
        "facilitator_id": ALICE,
        "decided_at": AT,
        "decided_by": ALICE,
        "verdict": "hybrid",
        "final_choice": "fine_tuning",
        "final_choice_reason": f"<@{GHOST}> insisted\n## Not a heading",
        "context_summary": HOSTILE,
        "next_review_at": AT,
        "choices": {k: team_choice(votes.get(k, {})) for k in CHOICE_LABELS},
        "failures": failures,
        "owners": owners,
        "labeled_examples": 3000,
        "labeled_examples_by": BOB,
        "participants": [ALICE, GHOST, BOB],
        "recommendation": recommend(answers),
        "costs": estimate_for(answers),
        "outcome": "fine_tuning",
        "failure_modes": [ModeCount("Wrong | tone <b>", "behavior", 5)],
        "amendments": [Amendment(amended_by=ALICE, amended_at=AT, from_outcome=Verdict.HYBRID,
                                 to_outcome=Verdict.FINE_TUNING, reason="because [x](y)")],
    }  # fmt: skip
    return RecordFacts(**(values | overrides))


def facts(names=None, **overrides) -> AdrFacts:
    rec = record(**overrides.pop("record", {}))
    names = {ALICE: 'Alice "A" #1', BOB: "- Bob: *the* builder"} if names is None else names
    return AdrFacts(record=rec, people=People(names, people_of(rec)), **overrides)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Billing assistant: RAG or fine-tune?", "billing-assistant-rag-or-fine-tune"),
        ("Ünïcödé   tïtle", "unicode-title"),
        ("???", "decision"),
        ("word " * 40, "word-" * 11 + "word"),
        ("Ask <@U0ZZZZZZZ9> about <#C0CHAN0001|billing>", "ask-about"),
    ],
)
def test_slugs_are_kebab_ascii_and_short(title, expected):
    assert slug(title) == expected
    assert len(slug(title)) <= 60


def test_file_names_pad_the_id_to_four_digits():
    assert file_name(7, "A b") == "0007-a-b.md"
    assert file_name(12345, "A") == "12345-a.md"
    assert AdrRef(12, "New one").stem == "0012-new-one"


@pytest.mark.parametrize("value", [HOSTILE, "", "plain", "null", "yes", "'", '"', "\\n", "a\tb"])
def test_yaml_strings_round_trip_exactly(value):
    assert yaml.safe_load(f"k: {yaml_string(value)}") == {"k": value}


def test_people_are_named_or_numbered_teammates_never_ids():
    people = People({ALICE: "Alice"}, [ALICE, GHOST, BOB])
    assert [people.name(u) for u in (ALICE, GHOST, BOB, GHOST)] == [
        "Alice", "teammate 1", "teammate 2", "teammate 1"
    ]  # fmt: skip
    said = people.humanize(f"ask <@{GHOST}|ghost> or {BOB}; WEEKLY12 stays")
    assert said == "ask teammate 1 or teammate 2; WEEKLY12 stays"


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("", (None, "madr")),
        ("12", (12, "madr")),
        ("#12 log4brains", (12, "log4brains")),
        ("ADR-TOOLS 3", (3, "adr-tools")),
        ("madr", (None, "madr")),
    ],
)
def test_export_arguments(rest, expected):
    assert parse_export(rest, decision_ref) == expected
    command = parse_command(f"export {rest}")
    assert (command.decision_id, command.export_format) == expected


@pytest.mark.parametrize("rest", ["docx", "12 13", "madr log4brains", "12 madr extra"])
def test_bad_export_arguments_name_the_formats(rest):
    with pytest.raises(UserError, match="`madr`, `log4brains`, `adr-tools`"):
        parse_command(f"export {rest}")


USER_ID = re.compile(r"U0[A-Z0-9]{6,}")


@pytest.mark.parametrize("adr_format", list(AdrFormat))
def test_every_format_escapes_user_text_and_names_no_ids(adr_format):
    out = render_adr(facts(), adr_format)
    body = out.split("\n---\n", 1)[1] if adr_format is AdrFormat.MADR else out
    assert not USER_ID.search(out)
    assert not re.search(r"(?<!\\)<(img|b>|or>)", body)
    assert "[a](b)" not in body and "[x](y)" not in body
    assert "\n## Not a heading" not in body and "\\## Not a heading" in body
    assert "Why: teammate 1 insisted" in body
    assert 'Alice "A" \\#1' not in body and 'Alice "A" #1' in body  # mid-line: no escape
    assert "\\- Bob: \\*the\\* builder" not in body and "- Bob: \\*the\\* builder" in body
    assert next(line for line in out.splitlines() if line.startswith("## ")) == "## Status"
    assert out.rstrip().endswith("<!-- ragft:decision 7 -->")


def test_madr_front_matter_is_valid_yaml_with_the_madr_keys():
    rendered = render_adr(
        facts(
            channel="#ai-support: \"quoted\" ''",
            permalink="https://x.slack.com/archives/C1/p1",
            superseded_by=AdrRef(12, "Newer"),
            record={"status": "superseded"},
        )
    )
    meta = yaml.safe_load(rendered.split("---\n")[1])
    assert meta["status"] == "superseded by ADR-0012"
    assert str(meta["date"]) == "2026-11-03"
    assert meta["decision-makers"] == ['Alice "A" #1']
    assert meta["consulted"] == ['Alice "A" #1', "teammate 1", "- Bob: *the* builder"]
    assert meta["informed"] == ["#ai-support: \"quoted\" ''"]
    assert meta["slack-thread"] == "https://x.slack.com/archives/C1/p1"
    assert "## Status\n\nSuperseded by [Newer](0012-newer.md)\n" in rendered


def test_log4brains_reads_the_bullets_between_the_title_and_the_first_h2():
    rendered = render_adr(
        facts(supersedes=AdrRef(3, "Old"), record={"status": "withdrawn"}), AdrFormat.LOG4BRAINS
    )
    head = rendered.split("\n## ", 1)[0].splitlines()
    assert head[0] == "# Support bot: RAG \\<or\\> fine-tune?"
    assert [line.split(":")[0] for line in head if line] [1:] == [
        "- Status", "- Date", "- Deciders", "- Tags"
    ]  # fmt: skip
    assert "- Status: rejected" in head
    assert "Supersedes [Old](0003-old.md)" in rendered


def test_log4brains_deciders_keep_one_person_per_comma():
    """log4brains splits ``- Deciders:`` on commas, so a name's own comma must not be one."""
    rendered = render_adr(facts(names={ALICE: "Smith, Alice"}), AdrFormat.LOG4BRAINS)
    [deciders] = [line for line in rendered.splitlines() if line.startswith("- Deciders:")]
    assert deciders.removeprefix("- Deciders: ").split(", ")[0] == "Smith Alice"


def test_adr_tools_numbers_the_title_and_the_links():
    rendered = render_adr(facts(supersedes=AdrRef(3, "Old")), AdrFormat.ADR_TOOLS)
    lines = rendered.splitlines()
    assert lines[0] == "# 7. Support bot: RAG \\<or\\> fine-tune?"
    assert lines[2] == "Date: 2026-11-03"
    assert lines[4:9] == ["## Status", "", "Accepted", "", "Supersedes [3. Old](0003-old.md)"]
    assert "## Context" in lines and "## Decision" in lines
