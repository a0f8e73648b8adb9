import itertools
import json
import math
import random
from dataclasses import replace

import pytest

from bot.domain.answers_json import AnswersError, parse_answers
from bot.domain.cost_assumptions import (
    OVERRIDE_KEYS,
    CostAssumptions,
    CostOverrideError,
    Range,
    assumptions_for,
    check_overrides,
    format_dollars,
    overrides_from_json,
)
from bot.domain.cost_table import costs_markdown
from bot.domain.costs import (
    CostPath,
    LineKey,
    estimate,
    estimate_for,
    improvement_lines,
    summary_line,
)
from bot.domain.questions import KnowledgeChange
from bot.domain.rule import Answers, FailureCounts

RAG_LINES = [LineKey.INFERENCE, LineKey.REINDEXING, LineKey.VECTOR_DB, LineKey.CONTENT_MAINTENANCE]
FT_LINES = [
    LineKey.INFERENCE,
    LineKey.LABELING,
    LineKey.TRAINING,
    LineKey.RETRAINING,
    LineKey.EVALUATION,
    LineKey.HOSTING,
    LineKey.DEPLOYMENT,
    LineKey.MAINTENANCE,
]


def test_defaults_keep_the_framework_numbers():
    a = CostAssumptions()
    assert a.examples_needed == Range(10_000, 10_000)
    assert a.label_cost_per_example == Range(2, 8)
    assert a.fine_tuned_price_multiplier == Range(1.0, 1.0)
    e = estimate(a)
    assert e.fine_tuning.line(LineKey.LABELING).year_one == Range(20_000, 80_000)
    # The RAG part (everything but inference) is the framework's $2k-$5k a month.
    rag_part = sum((e.rag.line(k).year_one for k in RAG_LINES[1:]), Range(0, 0))
    assert rag_part == Range(24_000, 60_000)


def test_each_path_has_exactly_the_issue_lines():
    e = estimate()
    assert [line.key for line in e.rag.lines] == RAG_LINES
    assert [line.key for line in e.fine_tuning.lines] == FT_LINES
    # Hybrid: both, with one shared inference line.
    assert [line.key for line in e.hybrid.lines] == RAG_LINES + FT_LINES[1:]


def test_inference_at_the_teams_volume():
    a = assumptions_for(
        overrides={
            "queries_per_month": Range(10_000, 10_000),
            "tokens_per_query": Range(1_000, 1_000),
            "retrieved_context_tokens": Range(3_000, 3_000),
            "price_per_million_tokens": Range(1, 2),
            "fine_tuned_price_multiplier": Range(0.5, 0.5),
        }
    )
    e = estimate(a)
    # 10k queries × 12 months × 1k tokens = 120M tokens a year.
    assert e.fine_tuning.line(LineKey.INFERENCE).year_one == Range(60, 120)
    assert e.rag.line(LineKey.INFERENCE).year_one == Range(480, 960)
    assert e.hybrid.line(LineKey.INFERENCE).year_one == Range(240, 480)


def test_fine_tuning_at_ten_thousand_examples_owned_is_not_free():
    e = estimate(assumptions_for(labeled_examples=25_000))
    assert e.fine_tuning.line(LineKey.LABELING).year_one == Range(0, 0)
    assert e.fine_tuning.year_one.low > 30_000
    assert e.fine_tuning.year_one.format() != "$0"


def test_fine_tuning_lines_at_the_defaults():
    ft = estimate().fine_tuning
    assert ft.line(LineKey.TRAINING).year_one == Range(200, 4_000)
    assert ft.line(LineKey.RETRAINING).year_one == Range(2_000, 16_000)
    assert ft.line(LineKey.EVALUATION).year_one == Range(6_000, 24_000)
    assert ft.line(LineKey.HOSTING).year_one == Range(8_760, 35_040)
    assert ft.line(LineKey.DEPLOYMENT).year_one == Range(5_000, 20_000)
    assert ft.line(LineKey.MAINTENANCE).year_one == Range(15_000, 62_500)


def test_three_years_counts_one_time_lines_once():
    ft = estimate().fine_tuning
    once = ft.line(LineKey.LABELING).year_one + ft.line(LineKey.DEPLOYMENT).year_one
    recurring = ft.year_one.high - once.high
    assert ft.three_years.high == pytest.approx(once.high + 3 * recurring)


def test_reindexing_follows_the_q2_change_rate():
    runs = {
        change: estimate(assumptions_for(knowledge_change=change))
        .rag.line(LineKey.REINDEXING)
        .year_one.high
        for change in KnowledgeChange
    }
    assert runs["daily"] > runs["weekly"] > runs["monthly"] > runs["quarterly"] > runs["stable"]
    unanswered = estimate().rag.line(LineKey.REINDEXING).year_one.high
    assert unanswered == runs["weekly"]


def test_addresses_share_counts_unclear_failures_in_the_denominator():
    e = estimate(failures=FailureCounts(knowledge=11, behavior=7, unclear=2))
    assert e.rag.addresses_share == pytest.approx(0.55)
    assert e.fine_tuning.addresses_share == pytest.approx(0.35)
    assert e.hybrid.addresses_share == pytest.approx(0.90)
    lines = improvement_lines(e)
    ft = e.fine_tuning.year_one.format()
    assert lines[0].startswith(
        f"Fine-tuning addresses at most 35% of the failures you logged, at {ft} in year one ("
    )
    assert lines[1].startswith("Retrieval addresses 55% of the failures you logged")
    assert "per addressed failure" in lines[1]
    assert "at most 35%" in summary_line(e) and "retrieval 55%" in summary_line(e)


def test_cost_per_addressed_failure_at_the_teams_volume():
    a = assumptions_for(
        overrides={"queries_per_month": Range(1_000, 1_000), "failure_rate": Range(0.1, 0.1)}
    )
    e = estimate(a, FailureCounts(knowledge=1, behavior=1))
    # 1,000 × 12 × 10% = 1,200 failures a year, half of them behavioral: 600 addressed.
    per = e.fine_tuning.cost_per_addressed_failure
    assert per == Range(e.fine_tuning.year_one.low / 600, e.fine_tuning.year_one.high / 600)


def test_no_failures_no_share():
    e = estimate(failures=FailureCounts())
    assert all(p.addresses_share is None for p in e.paths)
    assert all(p.cost_per_addressed_failure is None for p in e.paths)
    assert "No failures logged" in improvement_lines(e)[0]
    only_unclear = estimate(failures=FailureCounts(unclear=4))
    assert only_unclear.hybrid.addresses_share == 0
    assert only_unclear.hybrid.cost_per_addressed_failure is None


def test_to_dict_is_the_contract():
    answers = Answers(
        knowledge_change=KnowledgeChange.DAILY,
        failures=FailureCounts(knowledge=3, behavior=1),
        labeled_examples=400,
        cost_overrides={"queries_per_month": Range(5_000, 20_000)},
    )
    d = estimate_for(answers).to_dict()
    assert json.loads(json.dumps(d)) == d
    for path in ("rag", "fine_tuning", "hybrid"):
        p = d[path]
        assert set(p) >= {"year_one", "three_years", "lines", "addresses_share"}
        assert p["year_one"]["low"] <= p["year_one"]["high"]
        assert p["three_years"]["low"] >= p["year_one"]["low"]
        assert p["three_years"]["high"] >= p["year_one"]["high"]
        for line in p["lines"]:
            assert set(line) >= {"name", "low", "high"}
    assert d["rag"]["addresses_share"] == 0.75
    assert d["assumptions"]["queries_per_month"] == {"low": 5_000, "high": 20_000}
    assert d["assumptions"]["reindex_runs_per_month"] == {"low": 30, "high": 30}
    assert set(d["assumptions"]) == set(OVERRIDE_KEYS)
    assert d["overridden"] == ["queries_per_month"]
    assert d["from_answers"] == {"labeled_examples": 400, "knowledge_change": "daily"}


def test_markdown_table_shows_every_line_and_the_totals():
    text = "\n".join(costs_markdown(estimate(failures=FailureCounts(knowledge=1))))
    assert "| Line (year one) | RAG | Fine-tuning | Hybrid |" in text
    assert "| Labeling the examples still needed | — | $20k–$80k | $20k–$80k |" in text
    assert "| **3 years** |" in text and "`queries_per_month`" in text


# --- overrides ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("costs", "field", "says"),
    [
        ({"queries_per_month": -1}, "costs.queries_per_month", "zero or more"),
        ({"label_cost_per_example": {"low": 9, "high": 8}}, "costs.label_cost_per_example", "low"),
        ({"queries_per_mnth": 1}, "costs.queries_per_mnth", "did you mean 'queries_per_month'"),
        ({"examples_needed": "10000"}, "costs.examples_needed", "number"),
        ({"examples_needed": {"low": 1}}, "costs.examples_needed", "high"),
        ({"examples_needed": {"low": 1, "hi": 2}}, "costs.examples_needed.hi", "unknown"),
        ({"deprecation_retrains_per_year": 0.5}, "costs.deprecation_retrains_per_year", "least 1"),
        ({"failure_rate": True}, "costs.failure_rate", "number"),
    ],
)
def test_bad_overrides_name_the_key(costs, field, says):
    with pytest.raises(AnswersError) as caught:
        parse_answers({"costs": costs})
    assert caught.value.field == field
    assert says in str(caught.value)


def test_overrides_take_a_number_or_a_range_and_null_is_missing():
    answers = parse_answers(
        {"costs": {"queries_per_month": 5_000, "price_per_million_tokens": {"low": 1, "high": 3}}}
        | {"labeled_examples": 2}
    )
    assert answers.cost_overrides == {
        "queries_per_month": Range(5_000, 5_000),
        "price_per_million_tokens": Range(1, 3),
    }
    assert parse_answers({"costs": {"failure_rate": None}}).cost_overrides == {}


def test_domain_checks_reject_bad_values_too():
    with pytest.raises(CostOverrideError, match=r"^vector_db_monthly: must be a finite"):
        check_overrides({"vector_db_monthly": Range(float("nan"), 1)})
    with pytest.raises(CostOverrideError, match=r"^tokens_per_query: must be zero or more"):
        CostAssumptions(tokens_per_query=Range(-1, 1))


def test_stored_overrides_drop_what_is_no_longer_valid():
    stored = {
        "queries_per_month": {"low": 1, "high": 2},
        "retired_key": {"low": 1, "high": 2},
        "failure_rate": {"low": 3, "high": 1},
        "tokens_per_query": 5,
    }
    assert overrides_from_json(stored) == {"queries_per_month": Range(1, 2)}
    assert overrides_from_json(None) == {}


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "$0"), (2.5, "$2.50"), (750, "$750"), (4_500, "$4.5k"), (1_250_000, "$1.2M")],
)
def test_format_dollars(amount, text):
    assert format_dollars(amount) == text


# --- sanity properties, over many random inputs ------------------------------------------------


def _random_range(rng: random.Random, key: str) -> Range:
    fractions = {"failure_rate": 1.0, "maintenance_engineer_fraction": 1.0}
    top = fractions.get(key, 10 ** rng.randint(0, 6))
    low = rng.uniform(1.0 if key == "deprecation_retrains_per_year" else 0.0, top)
    high = low + rng.choice([0.0, rng.uniform(0, top)])
    return Range(low, min(high, fractions.get(key, high)))


def _random_case(rng: random.Random):
    overrides = {k: _random_range(rng, k) for k in OVERRIDE_KEYS if rng.random() < 0.6}
    if rng.random() < 0.3:
        overrides.pop("reindex_runs_per_month", None)
    change = rng.choice([None, *KnowledgeChange])
    owned = rng.choice([0, rng.randint(0, 50_000)])
    failures = FailureCounts(rng.randint(0, 40), rng.randint(0, 40), rng.randint(0, 40))
    return overrides, change, owned, failures


def _costs(overrides, change, owned, failures):
    a = assumptions_for(knowledge_change=change, labeled_examples=owned, overrides=overrides)
    return estimate(a, failures)


CASES = [_random_case(random.Random(seed)) for seed in range(300)]


@pytest.mark.parametrize("case", CASES[:100])
def test_more_queries_raise_every_paths_inference(case):
    overrides, change, owned, failures = case
    overrides = {**overrides, "tokens_per_query": Range(500, 800)}
    overrides["price_per_million_tokens"] = Range(0.1, 0.2)
    overrides.pop("fine_tuned_price_multiplier", None)
    base = overrides.get("queries_per_month", Range(100, 100))
    more = Range(base.low * 2 + 1, base.high * 2 + 1)
    before = _costs({**overrides, "queries_per_month": base}, change, owned, failures)
    after = _costs({**overrides, "queries_per_month": more}, change, owned, failures)
    for b, a in zip(before.paths, after.paths, strict=True):
        assert a.line(LineKey.INFERENCE).year_one.low > b.line(LineKey.INFERENCE).year_one.low
        assert a.line(LineKey.INFERENCE).year_one.high > b.line(LineKey.INFERENCE).year_one.high


@pytest.mark.parametrize("case", CASES[100:200])
def test_more_owned_examples_lower_labeling_never_below_zero(case):
    overrides, change, _, failures = case
    overrides = {**overrides, "label_cost_per_example": Range(2, 8)}
    overrides["examples_needed"] = Range(5_000, 12_000)
    previous = None
    for owned in (0, 1_000, 4_999, 8_000, 12_000, 50_000):
        line = _costs(overrides, change, owned, failures).fine_tuning.line(LineKey.LABELING)
        assert line.year_one.low >= 0 and line.year_one.high >= 0
        if previous is not None:
            assert line.year_one.high <= previous.high and line.year_one.low <= previous.low
        previous = line.year_one
    assert previous == Range(0, 0)
    assert _costs(overrides, change, 1_000, failures).fine_tuning.line(
        LineKey.LABELING
    ).year_one.high < (
        _costs(overrides, change, 0, failures).fine_tuning.line(LineKey.LABELING).year_one.high
    )


@pytest.mark.parametrize("case", CASES[200:260])
def test_a_faster_change_rate_raises_reindexing(case):
    overrides, _, owned, failures = case
    overrides = {k: v for k, v in overrides.items() if k != "reindex_runs_per_month"}
    overrides["reindex_cost_per_run"] = Range(1, 2)
    slow_to_fast = ["stable", "quarterly", "monthly", "weekly", "daily"]
    costs = [
        _costs(overrides, change, owned, failures).rag.line(LineKey.REINDEXING).year_one
        for change in slow_to_fast
    ]
    for slower, faster in itertools.pairwise(costs):
        assert faster.low > slower.low and faster.high > slower.high


@pytest.mark.parametrize("case", CASES)
def test_no_line_is_negative_or_nan_and_ranges_are_ordered(case):
    e = _costs(*case)
    d = e.to_dict()
    for path in CostPath:
        p = getattr(e, path)
        for line in p.lines:
            for value in (line.year_one.low, line.year_one.high):
                assert value >= 0 and not math.isnan(value)
            assert line.year_one.low <= line.year_one.high
        assert p.year_one.low <= p.year_one.high
        assert p.three_years.low >= p.year_one.low and p.three_years.high >= p.year_one.high
        share = d[path]["addresses_share"]
        assert share is None or 0 <= share <= 1
    non_labeling = [line for line in e.fine_tuning.lines if line.key != LineKey.LABELING]
    floor = sum((line.year_one for line in non_labeling), Range(0, 0))
    assert e.fine_tuning.year_one.low >= floor.low - 1e-6
    assert e.fine_tuning.year_one.high >= floor.high - 1e-6


def test_the_assumptions_cover_every_override_key():
    a = CostAssumptions()
    assert set(a.to_dict()) == set(OVERRIDE_KEYS)
    assert replace(a, queries_per_month=Range(1, 1)).queries_per_month == Range(1, 1)


def test_readme_cost_table_lists_every_key_with_its_default():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("## Costs", 1)[1]
    for key in OVERRIDE_KEYS:
        assert f"| `{key}` |" in table, key
    assert "$57.3k–$247k" in table and "$24.9k–$75.8k" in table


@pytest.mark.parametrize(
    ("costs", "says"),
    [
        ({"failure_rate": 1.5}, "at most 1"),
        ({"queries_per_month": 10**400}, "finite"),
        ({"queries_per_month": {"low": 1, "high": 1e13}}, "at most"),
    ],
)
def test_overrides_are_bounded_so_nothing_overflows(costs, says):
    with pytest.raises(AnswersError, match=says):
        parse_answers({"costs": costs})


def test_the_largest_overrides_still_give_finite_costs():
    a = assumptions_for(
        overrides={k: Range(1, 1e12) for k in OVERRIDE_KEYS}
        | {"failure_rate": Range(1, 1), "maintenance_engineer_fraction": Range(1, 1)}
    )
    d = estimate(a, FailureCounts(1, 1, 1)).to_dict()
    assert all(math.isfinite(d[p]["three_years"]["high"]) for p in ("rag", "fine_tuning", "hybrid"))
