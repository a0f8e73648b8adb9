import itertools
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.domain.costs import estimate
from bot.domain.questions import (
    VERDICT_LABELS,
    KnowledgeChange,
    OwnerRole,
    ProblemType,
    QuestionKey,
    Verdict,
)
from bot.domain.recommend_markdown import render_markdown
from bot.domain.rule import (
    CONDITION_LABELS,
    Answers,
    Condition,
    FailureCounts,
    Reason,
    Recommendation,
    recommend,
)

ALL_OWNERS = {
    OwnerRole.TRAINING_DATA: "U_DATA",
    OwnerRole.EVALUATION: "U_EVAL",
    OwnerRole.DEPLOYMENT_ROLLBACK: "U_DEPLOY",
}
PROVEN = FailureCounts(knowledge=2, behavior=15, unclear=3)


def ready(**overrides) -> Answers:
    """Answers where all three conditions hold and the verdict is fine_tuning."""
    base = Answers(
        title="Support bot tone",
        problem_type=ProblemType.BEHAVIOR,
        knowledge_change=KnowledgeChange.QUARTERLY,
        prompt_engineering_tried=True,
        failures=PROVEN,
        owners=dict(ALL_OWNERS),
        labeled_examples=1000,
    )
    return replace(base, **overrides)


def cond(answers: Answers, c: Condition):
    return recommend(answers).condition(c)


def texts(rec: Recommendation) -> str:
    return "\n".join([r.text for r in rec.reasons] + list(rec.next_steps))


# --- verdicts --------------------------------------------------------------------------------


def test_baseline_where_all_three_hold_is_fine_tuning():
    rec = recommend(ready())
    assert rec.verdict == Verdict.FINE_TUNING
    assert all(r.holds and r.known for r in rec.conditions)


def test_missing_answers_give_rag_without_error():
    rec = recommend(Answers())
    assert rec.verdict == Verdict.RAG
    assert not rec.analysis_complete
    assert not rec.inconclusive
    assert [r.holds for r in rec.conditions] == [False, False, False]


# --- analysis completeness: 19 vs 20 ---------------------------------------------------------


def test_19_analysed_is_incomplete_so_rag():
    rec = recommend(ready(failures=FailureCounts(knowledge=4, behavior=15, unclear=0)))
    assert not rec.analysis_complete
    assert rec.verdict == Verdict.RAG
    proven = rec.condition(Condition.BEHAVIORAL_FAILURES_PROVEN)
    assert not proven.holds
    assert not proven.known
    assert proven.why == "only 19 of 20 failures reviewed"


def test_20_analysed_is_complete_so_fine_tuning():
    rec = recommend(ready(failures=FailureCounts(knowledge=4, behavior=16, unclear=0)))
    assert rec.analysis_complete
    assert rec.verdict == Verdict.FINE_TUNING


def test_incomplete_analysis_is_never_inconclusive_even_if_all_unclear():
    rec = recommend(ready(failures=FailureCounts(unclear=19)))
    assert not rec.inconclusive
    assert rec.verdict == Verdict.RAG


# --- inconclusive: unclear exactly half vs more than half -----------------------------------


def test_unclear_exactly_half_of_20_is_not_inconclusive():
    rec = recommend(ready(failures=FailureCounts(knowledge=0, behavior=10, unclear=10)))
    assert not rec.inconclusive
    assert rec.verdict == Verdict.FINE_TUNING


def test_unclear_11_of_20_is_inconclusive():
    rec = recommend(ready(failures=FailureCounts(knowledge=0, behavior=9, unclear=11)))
    assert rec.inconclusive
    assert rec.verdict == Verdict.NOT_READY


def test_unclear_11_of_21_is_inconclusive():
    rec = recommend(ready(failures=FailureCounts(knowledge=0, behavior=10, unclear=11)))
    assert rec.failures.analysed == 21
    assert rec.inconclusive
    assert rec.verdict == Verdict.NOT_READY


def test_unclear_11_of_22_is_not_inconclusive():
    rec = recommend(ready(failures=FailureCounts(knowledge=0, behavior=11, unclear=11)))
    assert not rec.inconclusive
    assert rec.verdict == Verdict.FINE_TUNING


def test_not_ready_takes_precedence_even_when_everything_else_holds():
    answers = ready(
        problem_type=ProblemType.BOTH,
        knowledge_change=KnowledgeChange.DAILY,
        failures=FailureCounts(knowledge=0, behavior=9, unclear=11),
        labeled_examples=50_000,
    )
    rec = recommend(answers)
    assert rec.verdict == Verdict.NOT_READY
    assert rec.condition(Condition.FAILS_WITH_PERFECT_CONTEXT).holds
    assert rec.condition(Condition.TEAM_CAN_OWN_FINE_TUNING).holds


def test_not_ready_even_with_a_knowledge_problem_and_no_team():
    answers = Answers(
        problem_type=ProblemType.KNOWLEDGE, failures=FailureCounts(knowledge=5, unclear=15)
    )
    assert recommend(answers).verdict == Verdict.NOT_READY


def test_inconclusive_makes_behavioral_failures_known_false():
    proven = cond(
        ready(failures=FailureCounts(knowledge=0, behavior=9, unclear=11)),
        Condition.BEHAVIORAL_FAILURES_PROVEN,
    )
    assert proven.known
    assert not proven.holds
    assert proven.why == "11 of 20 failures unexplained"


# --- behavior vs knowledge ------------------------------------------------------------------


def test_behavior_equal_to_knowledge_is_not_proven():
    rec = recommend(ready(failures=FailureCounts(knowledge=8, behavior=8, unclear=4)))
    proven = rec.condition(Condition.BEHAVIORAL_FAILURES_PROVEN)
    assert proven.known
    assert not proven.holds
    assert rec.verdict == Verdict.RAG


def test_behavior_one_more_than_knowledge_is_proven():
    rec = recommend(ready(failures=FailureCounts(knowledge=8, behavior=9, unclear=3)))
    assert rec.condition(Condition.BEHAVIORAL_FAILURES_PROVEN).holds
    assert rec.verdict == Verdict.FINE_TUNING


def test_knowledge_majority_is_not_proven():
    rec = recommend(ready(failures=FailureCounts(knowledge=15, behavior=5)))
    assert not rec.condition(Condition.BEHAVIORAL_FAILURES_PROVEN).holds
    assert rec.verdict == Verdict.RAG


# --- labeled examples: 999 vs 1000 -----------------------------------------------------------


def test_999_labeled_examples_is_not_enough():
    rec = recommend(ready(labeled_examples=999))
    team = rec.condition(Condition.TEAM_CAN_OWN_FINE_TUNING)
    assert not team.holds
    assert team.known
    assert team.why == "999 labeled examples (need 1,000)"
    assert rec.verdict == Verdict.RAG


def test_1000_labeled_examples_is_enough():
    assert cond(ready(labeled_examples=1000), Condition.TEAM_CAN_OWN_FINE_TUNING).holds


def test_unknown_labeled_examples_with_owners_is_known_false():
    team = cond(ready(labeled_examples=None), Condition.TEAM_CAN_OWN_FINE_TUNING)
    assert team.known
    assert not team.holds
    assert "labeled examples not counted" in team.why


# --- owners ----------------------------------------------------------------------------------


def without(role: OwnerRole, value: object = "missing") -> dict:
    owners = dict(ALL_OWNERS)
    if value == "missing":
        del owners[role]
    else:
        owners[role] = value
    return owners


@pytest.mark.parametrize(
    "owners",
    [
        pytest.param(without(OwnerRole.EVALUATION), id="missing-key"),
        pytest.param(without(OwnerRole.EVALUATION, None), id="none"),
        pytest.param(without(OwnerRole.EVALUATION, ""), id="empty-string"),
        pytest.param(without(OwnerRole.EVALUATION, "   "), id="whitespace"),
    ],
)
def test_no_evaluation_owner_means_team_cannot_own(owners):
    rec = recommend(ready(owners=owners))
    team = rec.condition(Condition.TEAM_CAN_OWN_FINE_TUNING)
    assert not team.holds
    assert team.known
    assert team.why == "no owner for evaluation"
    assert rec.verdict == Verdict.RAG
    assert any(r.answer == QuestionKey.OWNERS and "evaluation" in r.text for r in rec.reasons)


@pytest.mark.parametrize("role", [OwnerRole.TRAINING_DATA, OwnerRole.DEPLOYMENT_ROLLBACK])
def test_each_required_role_is_needed(role):
    assert not cond(ready(owners=without(role)), Condition.TEAM_CAN_OWN_FINE_TUNING).holds


def test_maintenance_owner_is_optional():
    owners = {**ALL_OWNERS, OwnerRole.MAINTENANCE: None}
    assert recommend(ready(owners=owners)).verdict == Verdict.FINE_TUNING


def test_missing_deployment_owner_reason_wording():
    rec = recommend(ready(owners=without(OwnerRole.DEPLOYMENT_ROLLBACK)))
    assert (
        Reason(
            "No one owns deployment and rollback; fine-tuning needs an owner for every model "
            "version you ship.",
            QuestionKey.OWNERS,
        )
        in rec.reasons
    )


def test_several_gaps_are_all_named():
    owners = {OwnerRole.TRAINING_DATA: "U1"}
    team = cond(ready(owners=owners, labeled_examples=800), Condition.TEAM_CAN_OWN_FINE_TUNING)
    assert team.why == (
        "no owner for evaluation or deployment & rollback; 800 labeled examples (need 1,000)"
    )


def test_owners_keyed_by_plain_strings_work():
    owners = {"training_data": "U1", "evaluation": "U2", "deployment_rollback": "U3"}
    assert recommend(ready(owners=owners)).verdict == Verdict.FINE_TUNING


# --- hybrid vs fine_tuning -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "verdict"),
    [
        (KnowledgeChange.DAILY, Verdict.HYBRID),
        (KnowledgeChange.WEEKLY, Verdict.HYBRID),
        (KnowledgeChange.MONTHLY, Verdict.HYBRID),
        (KnowledgeChange.QUARTERLY, Verdict.FINE_TUNING),
        (KnowledgeChange.STABLE, Verdict.FINE_TUNING),
        (None, Verdict.FINE_TUNING),
    ],
)
def test_knowledge_change_decides_hybrid_vs_fine_tuning(change, verdict):
    assert recommend(ready(knowledge_change=change)).verdict == verdict


def test_both_problem_type_is_hybrid_even_when_knowledge_is_stable():
    rec = recommend(ready(problem_type=ProblemType.BOTH, knowledge_change=KnowledgeChange.STABLE))
    assert rec.verdict == Verdict.HYBRID


def test_fast_changing_knowledge_alone_does_not_make_hybrid_without_the_conditions():
    rec = recommend(ready(knowledge_change=KnowledgeChange.WEEKLY, labeled_examples=10))
    assert rec.verdict == Verdict.RAG


# --- problem type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem_type", "holds", "known"),
    [
        (None, False, False),
        (ProblemType.UNTESTED, False, False),
        (ProblemType.KNOWLEDGE, False, True),
        (ProblemType.BEHAVIOR, True, True),
        (ProblemType.BOTH, True, True),
    ],
)
def test_fails_with_perfect_context(problem_type, holds, known):
    result = cond(ready(problem_type=problem_type), Condition.FAILS_WITH_PERFECT_CONTEXT)
    assert (result.holds, result.known) == (holds, known)


@pytest.mark.parametrize("problem_type", [None, ProblemType.UNTESTED, ProblemType.KNOWLEDGE])
def test_without_a_behavior_problem_the_verdict_is_rag(problem_type):
    assert recommend(ready(problem_type=problem_type)).verdict == Verdict.RAG


def test_plain_strings_are_accepted_for_enum_answers():
    answers = ready(problem_type="both", knowledge_change="stable")
    assert answers.problem_type is ProblemType.BOTH
    assert answers.knowledge_change is KnowledgeChange.STABLE
    assert recommend(answers).verdict == Verdict.HYBRID


# --- known flags for the team condition -----------------------------------------------------


@pytest.mark.parametrize(
    ("owners", "labeled", "known"),
    [
        ({}, None, False),
        ({OwnerRole.EVALUATION: "  "}, None, False),
        ({}, 0, True),
        ({OwnerRole.MAINTENANCE: "U9"}, None, True),
        ({OwnerRole.EVALUATION: "U2"}, None, True),
    ],
)
def test_team_condition_known_flag(owners, labeled, known):
    team = cond(
        Answers(owners=owners, labeled_examples=labeled), Condition.TEAM_CAN_OWN_FINE_TUNING
    )
    assert team.known is known
    assert not team.holds


# --- the rule against an independent restatement ----------------------------------------------


def expected_verdict(a: Answers) -> Verdict:
    f = a.failures
    n = f.knowledge + f.behavior + f.unclear
    complete = n >= 20
    if complete and 2 * f.unclear > n:
        return Verdict.NOT_READY
    fails = a.problem_type in ("behavior", "both")
    proven = complete and f.behavior > f.knowledge
    roles = ("training_data", "evaluation", "deployment_rollback")
    owned = all((a.owners.get(r) or "").strip() for r in roles)
    team = owned and a.labeled_examples is not None and a.labeled_examples >= 1000
    if fails and proven and team:
        hybrid = a.problem_type == "both" or a.knowledge_change in ("daily", "weekly", "monthly")
        return Verdict.HYBRID if hybrid else Verdict.FINE_TUNING
    return Verdict.RAG


def test_rule_matches_restatement_over_a_grid():
    counts = [0, 1, 9, 10, 11, 20]
    failures = [FailureCounts(k, b, u) for k, b, u in itertools.product(counts, repeat=3)]
    seen = set()
    for f, pt, kc, owners, labeled in itertools.product(
        failures,
        [None, *ProblemType],
        [None, KnowledgeChange.MONTHLY, KnowledgeChange.QUARTERLY],
        [ALL_OWNERS, without(OwnerRole.TRAINING_DATA, " ")],
        [None, 999, 1000],
    ):
        answers = Answers(
            problem_type=pt,
            knowledge_change=kc,
            failures=f,
            owners=owners,
            labeled_examples=labeled,
        )
        verdict = recommend(answers).verdict
        assert verdict == expected_verdict(answers), answers
        seen.add(verdict)
    assert seen == set(Verdict)


# --- reasons and next steps ------------------------------------------------------------------


def test_every_reason_is_tied_to_an_answer():
    for answers in (Answers(), ready(), ready(failures=FailureCounts(unclear=20))):
        rec = recommend(answers)
        assert rec.reasons
        assert all(isinstance(r.answer, QuestionKey) for r in rec.reasons)


@pytest.mark.parametrize("problem_type", [None, ProblemType.UNTESTED])
def test_untested_problem_type_asks_for_the_perfect_context_test(problem_type):
    rec = recommend(Answers(problem_type=problem_type))
    assert any(s.startswith("Run the perfect-context test") for s in rec.next_steps)


def test_incomplete_analysis_says_how_many_more_failures():
    rec = recommend(Answers(failures=FailureCounts(knowledge=5, behavior=7)))
    step = next(s for s in rec.next_steps if s.startswith("Collect at least 20 failing outputs"))
    assert "8 more" in step
    assert rec.to_dict()["analysis"]["needed"] == 8


def test_complete_analysis_does_not_ask_for_more_failures():
    assert "Collect at least" not in texts(recommend(ready()))


@pytest.mark.parametrize("tried", [False, None])
def test_behavior_problem_without_prompt_engineering_suggests_it_first(tried):
    rec = recommend(ready(prompt_engineering_tried=tried))
    assert any("try prompt engineering first" in s for s in rec.next_steps)


def test_prompt_engineering_step_dropped_once_tried():
    assert "prompt engineering" not in texts(recommend(ready(prompt_engineering_tried=True)))


def test_prompt_engineering_step_not_shown_for_knowledge_problems():
    rec = recommend(Answers(problem_type=ProblemType.KNOWLEDGE))
    assert "prompt engineering" not in texts(rec)


def test_rag_next_steps_ship_rag_and_revisit():
    rec = recommend(Answers(problem_type=ProblemType.KNOWLEDGE))
    assert rec.next_steps[0] == "Ship RAG. Log failures aggressively. Review them quarterly."
    assert "Revisit fine-tuning when the data shows a behavioral gap." in rec.next_steps


@pytest.mark.parametrize("change", [KnowledgeChange.DAILY, KnowledgeChange.WEEKLY])
def test_fast_changing_knowledge_gives_a_retrieval_reason(change):
    rec = recommend(Answers(knowledge_change=change))
    reason = next(r for r in rec.reasons if r.answer == QuestionKey.KNOWLEDGE_CHANGE)
    assert "weekly-or-faster change means retrieval" in reason.text
    assert "stale" in reason.text


def test_not_ready_reason_and_next_steps():
    rec = recommend(ready(failures=FailureCounts(knowledge=0, behavior=9, unclear=11)))
    assert rec.reasons[0].text.startswith("11 of 20 failures can't be explained;")
    assert rec.reasons[0].answer == QuestionKey.FAILURES
    steps = " ".join(rec.next_steps)
    assert "Re-read the 11 unexplained failures" in steps
    assert "add logging" in steps


def test_fine_tuning_next_steps_cover_data_evaluation_and_rollback():
    steps = " ".join(recommend(ready()).next_steps).lower()
    for phrase in ("labeled dataset", "evaluation harness", "rollback plan"):
        assert phrase in steps


def test_hybrid_next_steps_lead_with_split():
    rec = recommend(ready(knowledge_change=KnowledgeChange.MONTHLY))
    assert rec.next_steps[0] == "Fine-tune for behavior, retrieve the changing knowledge."
    assert "rollback plan" in " ".join(rec.next_steps).lower()


def test_rag_with_behavior_problem_says_what_blocks_fine_tuning():
    rec = recommend(ready(owners={}, labeled_examples=200))
    step = next(s for s in rec.next_steps if s.startswith("Before reconsidering fine-tuning"))
    assert "training-data pipeline, evaluation and deployment & rollback" in step
    assert "1,000 labeled examples" in step


# --- Recommendation API and to_dict ----------------------------------------------------------


def test_conditions_are_all_three_in_order():
    rec = recommend(Answers())
    assert [r.condition for r in rec.conditions] == list(Condition)
    assert set(CONDITION_LABELS) == set(Condition)


def test_condition_lookup():
    rec = recommend(ready())
    for c in Condition:
        assert rec.condition(c).condition == c


def test_to_dict_contract_shape():
    d = recommend(ready(failures=FailureCounts(knowledge=3, behavior=12, unclear=5))).to_dict()
    assert {"verdict", "conditions", "reasons", "next_steps"} <= d.keys()
    assert d["verdict"] == "fine_tuning"
    assert d["conditions"] == {
        "fails_with_perfect_context": True,
        "behavioral_failures_proven": True,
        "team_can_own_fine_tuning": True,
    }
    assert all(isinstance(r, str) for r in d["reasons"])
    assert all(isinstance(s, str) for s in d["next_steps"])
    assert d["verdict_label"] == VERDICT_LABELS[Verdict.FINE_TUNING]
    assert set(d["condition_details"]) == set(d["conditions"])
    for detail in d["condition_details"].values():
        assert set(detail) == {"holds", "known", "why"}
    assert [r["text"] for r in d["reason_details"]] == d["reasons"]
    assert {r["answer"] for r in d["reason_details"]} <= {q.value for q in QuestionKey}
    assert d["analysis"] == {
        "analysed": 20,
        "knowledge": 3,
        "behavior": 12,
        "unclear": 5,
        "complete": True,
        "inconclusive": False,
        "needed": 0,
    }
    assert json.loads(json.dumps(d)) == d


def test_to_dict_plain_types_for_json():
    d = recommend(Answers()).to_dict()
    assert type(d["verdict"]) is str
    assert all(type(k) is str for k in d["conditions"])
    assert d["analysis"]["needed"] == 20


# --- summary rendering -----------------------------------------------------------------------


def test_summary_markdown_has_all_sections():
    answers = ready(owners=without(OwnerRole.EVALUATION, ""), labeled_examples=None)
    rec = recommend(answers)
    md = render_markdown(answers, rec, estimate())
    assert md.startswith("# Support bot tone\n")
    assert VERDICT_LABELS[rec.verdict] in md
    assert "✓ **Fails even with perfect context**" in md
    assert "✗ **Team can own fine-tuning**" in md
    assert "- Evaluation: — nobody —" in md
    assert "| Knowledge | Behavior | Unclear |" in md
    assert "| Labeling the examples still needed | — | $20k–$80k | $20k–$80k |" in md
    assert "| Ongoing maintenance | — |" in md and "| **3 years** |" in md
    for text in rec.next_steps:
        assert text in md


def test_summary_of_empty_answers_shows_unknowns():
    md = render_markdown(Answers(), recommend(Answers()), estimate())
    assert md.startswith("# Untitled decision\n")
    assert md.count("- ? **") == 3


# --- import isolation ------------------------------------------------------------------------


def test_core_modules_do_not_import_slack_db_or_openai():
    code = (
        "import sys\n"
        "import bot.domain.rule, bot.domain.costs\n"
        "import bot.domain.recommend_markdown, bot.domain.answers_json\n"
        "banned = ('slack_bolt', 'slack_sdk', 'sqlmodel', 'sqlalchemy', 'openai')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    assert out.strip() == "[]"
