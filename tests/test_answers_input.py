import pytest

from bot.domain.answers_json import AnswersError, parse_answers
from bot.domain.questions import KnowledgeChange, OwnerRole, ProblemType, Verdict
from bot.domain.rule import Answers, FailureCounts, recommend

FULL = {
    "title": "Support bot tone",
    "problem_type": "behavior",
    "knowledge_change": "quarterly",
    "prompt_engineering_tried": True,
    "failures": {"knowledge": 2, "behavior": 15, "unclear": 3},
    "owners": {
        "training_data": "U_DATA",
        "evaluation": "U_EVAL",
        "deployment_rollback": "U_DEPLOY",
        "maintenance": None,
    },
    "labeled_examples": 1200,
}


def error(data: object) -> AnswersError:
    with pytest.raises(AnswersError) as info:
        parse_answers(data)
    assert type(info.value) is AnswersError
    return info.value


def test_empty_object_is_all_missing():
    assert parse_answers({}) == Answers()


def test_full_answers_parse():
    a = parse_answers(FULL)
    assert a.title == "Support bot tone"
    assert a.problem_type is ProblemType.BEHAVIOR
    assert a.knowledge_change is KnowledgeChange.QUARTERLY
    assert a.prompt_engineering_tried is True
    assert a.failures == FailureCounts(knowledge=2, behavior=15, unclear=3)
    assert a.owners == {
        OwnerRole.TRAINING_DATA: "U_DATA",
        OwnerRole.EVALUATION: "U_EVAL",
        OwnerRole.DEPLOYMENT_ROLLBACK: "U_DEPLOY",
    }
    assert a.labeled_examples == 1200
    assert recommend(a).verdict == Verdict.FINE_TUNING


def test_null_is_treated_as_missing():
    data = dict.fromkeys(FULL)
    assert parse_answers(data) == Answers()


def test_partial_failures_default_to_zero():
    a = parse_answers({"failures": {"behavior": 4, "unclear": None}})
    assert a.failures == FailureCounts(knowledge=0, behavior=4, unclear=0)


def test_blank_owner_means_nobody():
    a = parse_answers({"owners": {"evaluation": "  ", "training_data": "U1"}})
    assert a.owners == {OwnerRole.TRAINING_DATA: "U1"}


def test_blank_title_is_missing():
    assert parse_answers({"title": "   "}).title is None


def test_exact_enum_error_message():
    err = error({"problem_type": "knowlege"})
    assert str(err) == (
        "problem_type: must be one of knowledge, behavior, both, untested (got 'knowlege')"
    )
    assert err.field == "problem_type"
    assert isinstance(err, ValueError)


@pytest.mark.parametrize("data", [[], "answers", 3, None, True, [("title", "x")]])
def test_not_an_object(data):
    err = error(data)
    assert err.field == "answers"
    assert "must be a JSON object" in err.message


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        # unknown keys (typos)
        ({"problem_typ": "behavior"}, "problem_typ", "did you mean 'problem_type'?"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"failures": {"behaviour": 3}}, "failures.behaviour", "did you mean 'behavior'?"),
        ({"owners": {"eval": "U1"}}, "owners.eval", "unknown field"),
        # unknown enum values
        ({"knowledge_change": "hourly"}, "knowledge_change", "must be one of daily, weekly"),
        ({"problem_type": "Behavior"}, "problem_type", "(got 'Behavior')"),
        ({"problem_type": 1}, "problem_type", "must be one of"),
        # negative counts
        ({"failures": {"behavior": -1}}, "failures.behavior", "must be zero or more"),
        ({"labeled_examples": -5}, "labeled_examples", "must be zero or more"),
        # wrong types
        ({"failures": {"knowledge": True}}, "failures.knowledge", "must be a whole number"),
        ({"failures": {"unclear": 3.0}}, "failures.unclear", "must be a whole number (got 3.0)"),
        ({"failures": {"unclear": "3"}}, "failures.unclear", "must be a whole number"),
        ({"labeled_examples": False}, "labeled_examples", "(got false)"),
        ({"labeled_examples": 1000.0}, "labeled_examples", "must be a whole number"),
        ({"prompt_engineering_tried": "yes"}, "prompt_engineering_tried", "true or false"),
        ({"prompt_engineering_tried": 1}, "prompt_engineering_tried", "true or false"),
        ({"title": 42}, "title", "must be a string"),
        ({"owners": {"evaluation": 123}}, "owners.evaluation", "must be a string"),
        ({"owners": {"evaluation": ["U1"]}}, "owners.evaluation", "must be a string"),
        ({"failures": [1, 2, 3]}, "failures", "must be a JSON object (got array)"),
        ({"owners": "U1"}, "owners", "must be a JSON object (got string)"),
    ],
)
def test_bad_input_names_the_field(data, field, message):
    err = error(data)
    assert err.field == field
    assert str(err).startswith(f"{field}: ")
    assert message in str(err)


def test_long_values_are_shortened_in_messages():
    err = error({"problem_type": "x" * 500})
    assert len(str(err)) < 150


def test_non_string_keys_are_reported_not_crashed():
    assert error({1: "x"}).field == "1"
