import json

import pytest

from bot.domain.costs import CostAssumptions, Range, assumption_lines, estimate, format_dollars


def test_defaults_are_the_framework_numbers():
    a = CostAssumptions()
    assert (a.examples_needed, a.label_cost_low, a.label_cost_high) == (10_000, 2.0, 8.0)
    assert (a.rag_monthly_low, a.rag_monthly_high, a.months) == (2_000.0, 5_000.0, 12)
    assert a.examples_available == 0


def test_default_labeling_is_20k_to_80k():
    e = estimate()
    assert e.labeling == Range(20_000, 80_000)
    assert e.labeling.format() == "$20k–$80k"
    assert e.fine_tuning_first_year == e.labeling


def test_default_rag_first_year_is_24k_to_60k():
    e = estimate()
    assert e.rag_running == Range(24_000, 60_000)
    assert e.rag_first_year.format() == "$24k–$60k"


def test_hybrid_is_labeling_plus_rag():
    assert estimate().hybrid_first_year == Range(44_000, 140_000)


def test_examples_available_reduce_labeling():
    e = estimate(CostAssumptions(examples_available=4_000))
    assert e.labeling == Range(12_000, 48_000)
    assert e.rag_first_year == Range(24_000, 60_000)
    assert e.hybrid_first_year == Range(36_000, 108_000)


def test_more_examples_available_than_needed_costs_nothing_to_label():
    e = estimate(CostAssumptions(examples_available=25_000))
    assert e.labeling == Range(0, 0)
    assert e.fine_tuning_first_year.format() == "$0"


def test_overrides():
    e = estimate(
        CostAssumptions(
            examples_needed=5_000,
            label_cost_low=1.0,
            label_cost_high=3.0,
            rag_monthly_low=500.0,
            rag_monthly_high=1_500.0,
            months=6,
        )
    )
    assert e.labeling == Range(5_000, 15_000)
    assert e.rag_first_year == Range(3_000, 9_000)
    assert e.hybrid_first_year == Range(8_000, 24_000)


def test_table_rows():
    assert estimate().as_table_rows() == [
        ("RAG", "$24k–$60k"),
        ("Fine-tuning", "$20k–$80k"),
        ("Hybrid", "$44k–$140k"),
    ]


def test_to_dict_is_json_ready_and_notes_compute_is_excluded():
    d = estimate(CostAssumptions(examples_available=1_000)).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["assumptions"]["examples_available"] == 1_000
    assert d["examples_to_label"] == 9_000
    assert d["labeling"] == {"low": 18_000, "high": 72_000, "text": "$18k–$72k"}
    for key in ("rag_running", "fine_tuning_first_year", "rag_first_year", "hybrid_first_year"):
        assert set(d[key]) == {"low", "high", "text"}
    assert any("compute" in note and "not included" in note for note in d["notes"])


def test_assumption_lines_mention_the_numbers():
    lines = " ".join(assumption_lines(CostAssumptions(examples_available=800)))
    assert "10,000 labeled examples" in lines
    assert "800 already available" in lines
    assert "9,200 to label" in lines
    assert "$2–$8 each" in lines
    assert "$2k–$5k a month for 12 months" in lines


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "$0"),
        (2, "$2"),
        (2.5, "$2.50"),
        (750, "$750"),
        (999.6, "$1k"),
        (4_500, "$4.5k"),
        (20_000, "$20k"),
        (62_500, "$62.5k"),
        (140_000, "$140k"),
        (1_250_000, "$1.2M"),
    ],
)
def test_format_dollars(amount, text):
    assert format_dollars(amount) == text


def test_equal_range_formats_as_one_amount():
    assert Range(4_500, 4_500).format() == "$4.5k"
    assert Range(0, 0).format() == "$0"


@pytest.mark.parametrize(
    "field",
    [
        "examples_needed",
        "label_cost_low",
        "label_cost_high",
        "rag_monthly_low",
        "rag_monthly_high",
        "months",
        "examples_available",
    ],
)
def test_negative_values_are_rejected_naming_the_field(field):
    with pytest.raises(ValueError, match=f"^{field}: must be zero or more"):
        CostAssumptions(**{field: -1})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"label_cost_low": 9.0}, "label_cost_low"),
        ({"rag_monthly_low": 6_000.0}, "rag_monthly_low"),
    ],
)
def test_low_above_high_is_rejected(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}: must not exceed"):
        CostAssumptions(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"months": 1.5}, "months"),
        ({"examples_needed": "10000"}, "examples_needed"),
        ({"examples_available": True}, "examples_available"),
        ({"label_cost_low": None}, "label_cost_low"),
        ({"rag_monthly_high": float("nan")}, "rag_monthly_high"),
        ({"rag_monthly_high": float("inf")}, "rag_monthly_high"),
    ],
)
def test_wrong_types_and_non_finite_values_are_rejected(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}: "):
        CostAssumptions(**kwargs)


def test_zero_values_are_allowed():
    e = estimate(CostAssumptions(label_cost_low=0.0, rag_monthly_low=0.0, months=0))
    assert e.rag_first_year == Range(0, 0)
    assert e.labeling == Range(0, 80_000)
